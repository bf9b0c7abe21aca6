//  The gateway's one config loader. Everything comes from ZHUB_* variables
//  (12-factor: the same binary runs locally, in a container or under
//  systemd); a bad value stops the process at start with the variable's
//  name, never later.
#include "config.h"
#include "providers/bird.h"
#include "providers/generic.h"
#include "providers/hubspot.h"
#include "zhub_client.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

extern char **environ;

//  Rows of the secret table: source, variable.
static const char *const s_secret_rows[ZHUB_SECRET_COUNT][2] = {
    [ZHUB_SECRET_HUBSPOT] = {"hubspot", "ZHUB_HUBSPOT_APP_SECRET"},
    [ZHUB_SECRET_BIRD] = {"bird", "ZHUB_BIRD_SIGNING_KEY"},
    [ZHUB_SECRET_CALENDLY] = {"calendly", "ZHUB_CALENDLY_SIGNING_KEY"},
    [ZHUB_SECRET_WHATSAPP] = {"whatsapp", "ZHUB_WHATSAPP_APP_SECRET"},
    [ZHUB_SECRET_WHATSAPP_VERIFY] = {"whatsapp", "ZHUB_WHATSAPP_VERIFY_TOKEN"},
    [ZHUB_SECRET_GOOGLE] = {"google", "ZHUB_GOOGLE_CHANNEL_TOKEN"},
    [ZHUB_SECRET_GRAPH] = {"graph", "ZHUB_GRAPH_CLIENT_STATE"},
};

//  The token lists: kind, variable (tokens.h has the syntax).
static const struct {
    zhub_token_kind_t kind;
    const char *variable;
} s_token_rows[] = {
    {ZHUB_TOKEN_EVENTS, ZHUB_EVENTS_TOKEN_VARIABLE},
    {ZHUB_TOKEN_ADMIN, ZHUB_ADMIN_TOKEN_VARIABLE},
};

//  Reads the token lists and their _PREVIOUS twins. Returns 0, or -1 with
//  one line on stderr naming the variable and the entry (never the token).
static int
s_tokens_load (zhub_gateway_config_t *self)
{
    for (size_t i = 0; i < sizeof s_token_rows / sizeof s_token_rows[0]; i++)
        for (int previous = 0; previous < 2; previous++) {
            const char *variable = s_token_rows[i].variable;
            char *twin = zhub_sprintf ("%s_PREVIOUS", variable);
            const char *text = zhub_env_str (previous ? twin : variable, NULL);
            free (twin);
            char err[512];
            if (zhub_tokens_parse (&self->tokens, s_token_rows[i].kind, variable, text,
                                   previous != 0, err, sizeof err)) {
                fprintf (stderr, "zhub: %s\n", err);
                return -1;
            }
        }
    return 0;
}

static char *
s_secret (const char *name)
{
    const char *value = zhub_env_str (name, NULL);
    return value && *value ? zhub_strdup (value) : NULL;
}

static char *
s_secret_previous (const char *name)
{
    char *variable = zhub_sprintf ("%s_PREVIOUS", name);
    char *value = s_secret (variable);
    free (variable);
    return value;
}

void
zhub_gateway_config_set_secret (zhub_gateway_config_t *self, zhub_secret_id_t id, const char *value,
                                const char *previous)
{
    zhub_gateway_secret_t *secret = &self->secrets[id];
    secret->source = s_secret_rows[id][0];
    secret->variable = s_secret_rows[id][1];
    free (secret->value);
    free (secret->previous);
    secret->value = value ? zhub_strdup (value) : NULL;
    secret->previous = previous ? zhub_strdup (previous) : NULL;
}

//  ZHUB_GENERIC_SECRET_<NAME>[_PREVIOUS] for every NAME in the environment.
static int
s_generic_load (zhub_gateway_config_t *self)
{
    static const char prefix[] = "ZHUB_GENERIC_SECRET_";
    for (char **env = environ; env && *env; env++) {
        if (strncmp (*env, prefix, sizeof prefix - 1))
            continue;
        const char *name = *env + sizeof prefix - 1;
        const char *eq = strchr (name, '=');
        size_t size = eq ? (size_t)(eq - name) : 0;
        if (size > 9 && !strncmp (name + size - 9, "_PREVIOUS", 9))
            continue; //  read with its current twin below
        char route[ZHUB_GENERIC_NAME_MAX + 1];
        if (size == 0 || size > ZHUB_GENERIC_NAME_MAX) {
            fprintf (stderr, "zhub: %.*s: the sender name must be 1..%d characters\n",
                     (int)(eq ? eq - *env : 40), *env, ZHUB_GENERIC_NAME_MAX);
            return -1;
        }
        for (size_t i = 0; i < size; i++) {
            char c = name[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
                fprintf (stderr, "zhub: %.*s: the sender name must be [A-Z0-9_]\n",
                         (int)(eq - *env), *env);
                return -1;
            }
            route[i] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
        }
        route[size] = 0;
        char *variable = zhub_sprintf ("%.*s", (int)(eq - *env), *env);
        char *value = s_secret (variable), *previous = s_secret_previous (variable);
        unsigned char key[128];
        bool bad = (value && zhub_generic_secret_key (value, key, sizeof key) < 0)
                   || (previous && zhub_generic_secret_key (previous, key, sizeof key) < 0);
        if (bad)
            fprintf (stderr, "zhub: %s is not a whsec_<base64> secret\n", variable);
        free (variable);
        if (bad) {
            free (value);
            free (previous);
            return -1;
        }
        self->generic =
            zhub_realloc (self->generic, (self->generic_count + 1) * sizeof *self->generic);
        self->generic[self->generic_count++] = (zhub_gateway_generic_t){
            .name = zhub_strdup (route), .value = value, .previous = previous};
    }
    return 0;
}

const zhub_gateway_generic_t *
zhub_gateway_config_generic (const zhub_gateway_config_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->generic_count; i++)
        if (!strcmp (self->generic[i].name, name))
            return &self->generic[i];
    return NULL;
}

//  scheme://host[:port][/prefix]: no query, no fragment; trailing '/' cut.
static int
s_public_url (const char *text, char **out)
{
    bool http = !strncasecmp (text, "http://", 7), https = !strncasecmp (text, "https://", 8);
    const char *host = text + (http ? 7 : 8);
    if ((!http && !https) || !*host || *host == '/' || strpbrk (text, "?# \t\r\n"))
        return -1;
    char *url = zhub_strdup (text);
    size_t size = strlen (url);
    while (size > 0 && url[size - 1] == '/')
        url[--size] = 0;
    *out = url;
    return 0;
}

//  The default number of HTTP worker threads: one per CPU.
static int64_t
s_cpus (void)
{
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    return cpus > 0 && cpus < 256 ? cpus : 2;
}

int
zhub_gateway_config_load (zhub_gateway_config_t *self)
{
    memset (self, 0, sizeof *self);
    const char *listen = zhub_env_str ("ZHUB_GATEWAY_LISTEN", ZHUB_GATEWAY_LISTEN_DEFAULT);
    if (zhub_listen_parse (listen, &self->listen)) {
        fprintf (stderr, "zhub: ZHUB_GATEWAY_LISTEN=%s is not host:port\n", listen);
        return -1;
    }
    const char *admin = zhub_env_str ("ZHUB_ADMIN_LISTEN", ZHUB_ADMIN_LISTEN_DEFAULT);
    if (zhub_listen_parse (admin, &self->admin)) {
        fprintf (stderr, "zhub: ZHUB_ADMIN_LISTEN=%s is not host:port\n", admin);
        return -1;
    }
    char *public_url = zhub_env_public_url (&self->public_url_default);
    int rc = s_public_url (public_url, &self->public_url);
    if (rc)
        fprintf (stderr, "zhub: ZHUB_PUBLIC_URL=%s is not an http(s) URL without query\n",
                 public_url);
    free (public_url);
    if (rc)
        return -1;
    self->broker = zhub_strdup (zhub_env_str ("ZHUB_BROKER", ZHUB_BROKER_DEFAULT));
    char bus_err[600];
    const char *endpoints[] = {self->broker};
    if (zhub_bus_auth_load (&self->bus, endpoints, 1, bus_err, sizeof bus_err)) {
        fprintf (stderr, "zhub: %s\n", bus_err);
        return -1;
    }
    for (int i = 0; i < ZHUB_SECRET_COUNT; i++) {
        zhub_gateway_secret_t *secret = &self->secrets[i];
        secret->source = s_secret_rows[i][0];
        secret->variable = s_secret_rows[i][1];
        secret->value = s_secret (secret->variable);
        secret->previous = s_secret_previous (secret->variable);
    }
    if (s_tokens_load (self) || s_generic_load (self))
        return -1;
    const char *data_dir = zhub_env_str ("ZHUB_DATA_DIR", "./.zhub-data");
    const char *spool = zhub_env_str ("ZHUB_GATEWAY_SPOOL", "on");
    if (strcmp (spool, "on") && strcmp (spool, "off")) {
        fprintf (stderr, "zhub: ZHUB_GATEWAY_SPOOL=%s must be on or off\n", spool);
        return -1;
    }
    self->data_dir = strcmp (spool, "on") ? NULL : zhub_strdup (data_dir);
    self->console_data_dir = zhub_strdup (data_dir);
    char console_err[256];
    if (zhub_console_targets_parse (zhub_env_str ("ZHUB_CONSOLE_PROCESSES", ""),
                                    &self->console_targets, console_err, sizeof console_err)) {
        fprintf (stderr, "zhub: %s\n", console_err);
        return -1;
    }
    int64_t rate, burst;
    if (zhub_env_int ("ZHUB_GATEWAY_SPOOL_LIMIT", ZHUB_GATEWAY_SPOOL_LIMIT_DEFAULT, 1,
                      100 * 1000 * 1000, &self->spool_limit)
        || zhub_env_int ("ZHUB_GATEWAY_RATE", ZHUB_GATEWAY_RATE_DEFAULT, 1, 10 * 1000 * 1000, &rate)
        || zhub_env_int ("ZHUB_GATEWAY_BURST", ZHUB_GATEWAY_BURST_DEFAULT, 1, 10 * 1000 * 1000,
                         &burst))
        return -1;
    self->rate = (double)rate;
    self->burst = (double)burst;
    for (size_t i = 0; i < zhub_provider_count () && i < 16; i++) {
        char variable[64], upper[32];
        snprintf (upper, sizeof upper, "%s", zhub_provider_at (i)->name);
        for (char *p = upper; *p; p++)
            *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 'a' + 'A' : *p);
        snprintf (variable, sizeof variable, "ZHUB_GATEWAY_RATE_%s", upper);
        int64_t value;
        if (zhub_env_int (variable, 0, 0, 10 * 1000 * 1000, &value))
            return -1;
        self->source_rate[i] = (double)value;
    }

    int64_t body_limit;
    if (zhub_env_int ("ZHUB_GATEWAY_BODY_LIMIT", ZHUB_GATEWAY_BODY_LIMIT_DEFAULT, 1024,
                      64 * 1024 * 1024, &body_limit)
        || zhub_env_duration_ms ("ZHUB_GATEWAY_PUBLISH_TIMEOUT",
                                 ZHUB_GATEWAY_PUBLISH_TIMEOUT_DEFAULT_MS, &self->publish_timeout_ms)
        || zhub_env_int ("ZHUB_GATEWAY_RETRY_AFTER", ZHUB_GATEWAY_RETRY_AFTER_DEFAULT_S, 1, 3600,
                         &self->retry_after_s)
        || zhub_env_duration_ms ("ZHUB_GATEWAY_READY_TIMEOUT",
                                 ZHUB_GATEWAY_READY_TIMEOUT_DEFAULT_MS, &self->ready_timeout_ms)
        || zhub_env_duration_ms ("ZHUB_GATEWAY_CONNECTION_TIMEOUT",
                                 ZHUB_GATEWAY_CONNECTION_TIMEOUT_DEFAULT_MS,
                                 &self->connection_timeout_ms)
        || zhub_env_duration_ms ("ZHUB_GATEWAY_REQUEST_TIMEOUT",
                                 ZHUB_GATEWAY_REQUEST_TIMEOUT_DEFAULT_MS, &self->request_timeout_ms)
        || zhub_env_int ("ZHUB_GATEWAY_CONNECTION_LIMIT", ZHUB_GATEWAY_CONNECTION_LIMIT_DEFAULT, 1,
                         65536, &self->connection_limit)
        || zhub_env_int ("ZHUB_GATEWAY_PER_IP_LIMIT", ZHUB_GATEWAY_PER_IP_LIMIT_DEFAULT, 0, 65536,
                         &self->per_ip_limit)
        || zhub_env_int ("ZHUB_GATEWAY_CONNECTION_MEMORY", ZHUB_GATEWAY_CONNECTION_MEMORY_DEFAULT,
                         8192, 16 * 1024 * 1024, &self->connection_memory)
        || zhub_env_int ("ZHUB_GATEWAY_THREADS", s_cpus (), 1, 256, &self->threads)
        || zhub_env_int ("ZHUB_GATEWAY_PUBLISHERS", ZHUB_GATEWAY_PUBLISHERS_DEFAULT, 1, 64,
                         &self->publishers)
        || zhub_env_duration_ms ("ZHUB_HUBSPOT_SIGNATURE_MAX_AGE", ZHUB_HUBSPOT_MAX_AGE_MS,
                                 &self->hubspot_max_age_ms)
        || zhub_env_duration_ms ("ZHUB_BIRD_SIGNATURE_MAX_AGE", ZHUB_BIRD_MAX_AGE_MS,
                                 &self->bird_max_age_ms)
        || zhub_env_duration_ms ("ZHUB_GATEWAY_MAX_CLOCK_SKEW",
                                 ZHUB_GATEWAY_MAX_CLOCK_SKEW_DEFAULT_MS, &self->max_clock_skew_ms))
        return -1;
    self->body_limit = (size_t)body_limit;
    int64_t discard_limit;
    if (zhub_env_int ("ZHUB_GATEWAY_DISCARD_LIMIT", ZHUB_GATEWAY_DISCARD_FACTOR * body_limit, 0,
                      1024LL * 1024 * 1024, &discard_limit))
        return -1;
    if (discard_limit < body_limit) {
        fprintf (stderr,
                 "zhub: ZHUB_GATEWAY_DISCARD_LIMIT must be at least "
                 "ZHUB_GATEWAY_BODY_LIMIT (%lld)\n",
                 (long long)body_limit);
        return -1;
    }
    self->discard_limit = (size_t)discard_limit;
    //  Timeouts of zero would mean "never" to MHD and "fail at once" to the
    //  client; neither is what anyone wants.
    if (self->publish_timeout_ms < 1 || self->ready_timeout_ms < 1
        || self->connection_timeout_ms < 1000 || self->request_timeout_ms < 500) {
        fprintf (stderr, "zhub: timeouts must be positive (connection timeout at least 1s)\n");
        return -1;
    }
    return 0;
}

void
zhub_gateway_config_free (zhub_gateway_config_t *self)
{
    free (self->public_url);
    free (self->broker);
    for (int i = 0; i < ZHUB_SECRET_COUNT; i++) {
        free (self->secrets[i].value);
        free (self->secrets[i].previous);
    }
    for (size_t i = 0; i < self->generic_count; i++) {
        free (self->generic[i].name);
        free (self->generic[i].value);
        free (self->generic[i].previous);
    }
    free (self->generic);
    zhub_tokens_clear (&self->tokens);
    free (self->data_dir);
    sodium_memzero (&self->bus, sizeof self->bus);
    free (self->console_data_dir);
    memset (self, 0, sizeof *self);
}

void
zhub_gateway_config_log (const zhub_gateway_config_t *self)
{
    zhub_info (
        "config",
        "listen=%s admin=%s public_url=%s broker=%s body_limit=%zu discard_limit=%zu "
        "publish_timeout_ms=%lld "
        "retry_after_s=%lld ready_timeout_ms=%lld connection_timeout_ms=%lld "
        "connection_limit=%lld per_ip_limit=%lld connection_memory=%lld threads=%lld "
        "publishers=%lld "
        "hubspot_max_age_ms=%lld bird_max_age_ms=%lld max_clock_skew_ms=%lld rate=%.0f "
        "burst=%.0f spool=%s spool_limit=%lld request_timeout_ms=%lld",
        self->listen.text, self->admin.text, self->public_url, self->broker, self->body_limit,
        self->discard_limit, (long long)self->publish_timeout_ms, (long long)self->retry_after_s,
        (long long)self->ready_timeout_ms, (long long)self->connection_timeout_ms,
        (long long)self->connection_limit, (long long)self->per_ip_limit,
        (long long)self->connection_memory, (long long)self->threads, (long long)self->publishers,
        (long long)self->hubspot_max_age_ms, (long long)self->bird_max_age_ms,
        (long long)self->max_clock_skew_ms, self->rate, self->burst, self->data_dir ? "on" : "off",
        (long long)self->spool_limit, (long long)self->request_timeout_ms);
    char bus[200];
    zhub_info ("config_bus", "security=%s", zhub_bus_auth_describe (&self->bus, bus, sizeof bus));
    for (size_t i = 0; i < self->console_targets.count; i++)
        zhub_info ("config_console_process", "name=%s address=%s",
                   self->console_targets.items[i].name,
                   self->console_targets.items[i].address.text);
    //  One line per secret, masked: which are loaded, never their values.
    for (int i = 0; i < ZHUB_SECRET_COUNT; i++) {
        char value[48], previous[48];
        zhub_info ("config_secret", "variable=%s value=%s previous=%s", self->secrets[i].variable,
                   zhub_env_mask (self->secrets[i].value, value, sizeof value),
                   zhub_env_mask (self->secrets[i].previous, previous, sizeof previous));
    }
    //  One line per token: its name, length and scope, never the token.
    for (size_t i = 0; i < ZHUB_TOKENS_SLOTS; i++) {
        const zhub_token_t *token = &self->tokens.items[i];
        if (!token->kind)
            continue;
        char scope[1024], safe[ZHUB_TOKEN_NAME_MAX + 1];
        zhub_info ("config_token", "variable=%s%s name=%s value=set(%zu bytes) may_publish=%s",
                   token->variable, token->previous ? "_PREVIOUS" : "",
                   zhub_log_safe (token->name, safe, sizeof safe), token->size,
                   zhub_token_scope_text (token, scope, sizeof scope));
    }
    for (size_t i = 0; i < self->generic_count; i++) {
        char value[48], previous[48];
        zhub_info ("config_secret", "generic=%s value=%s previous=%s", self->generic[i].name,
                   zhub_env_mask (self->generic[i].value, value, sizeof value),
                   zhub_env_mask (self->generic[i].previous, previous, sizeof previous));
    }
}

void
zhub_gateway_config_verify_opts (const zhub_gateway_config_t *self, const zhub_provider_t *provider,
                                 const char *route_name, zhub_verify_opts_t *opts)
{
    memset (opts, 0, sizeof *opts);
    opts->max_age_ms = provider->default_max_age_ms;
    opts->max_future_ms = self->max_clock_skew_ms;
    if (!strcmp (provider->name, "generic")) {
        const zhub_gateway_generic_t *sender = zhub_gateway_config_generic (self, route_name);
        opts->secret = sender ? sender->value : NULL;
        opts->previous = sender ? sender->previous : NULL;
        opts->max_future_ms = provider->default_max_future_ms; //  the spec's 5 minutes
        return;
    }
    for (int i = 0; i < ZHUB_SECRET_COUNT; i++)
        if (i != ZHUB_SECRET_WHATSAPP_VERIFY && !strcmp (self->secrets[i].source, provider->name)) {
            opts->secret = self->secrets[i].value;
            opts->previous = self->secrets[i].previous;
        }
    if (!strcmp (provider->name, "events"))
        opts->tokens = &self->tokens;
    if (!strcmp (provider->name, "hubspot"))
        opts->max_age_ms = self->hubspot_max_age_ms;
    else if (!strcmp (provider->name, "bird"))
        opts->max_age_ms = self->bird_max_age_ms;
    else if (!strcmp (provider->name, "whatsapp")) {
        opts->token = self->secrets[ZHUB_SECRET_WHATSAPP_VERIFY].value;
        opts->token_previous = self->secrets[ZHUB_SECRET_WHATSAPP_VERIFY].previous;
    }
}
