//  The gateway's one config loader. Everything comes from ZHUB_* variables
//  (12-factor: the same binary runs locally, in a container or under
//  systemd); a bad value stops the process at start with the variable's
//  name, never later.
#include "config.h"
#include "providers/bird.h"
#include "providers/hubspot.h"
#include "zhub_client.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
zhub_listen_parse (const char *text, zhub_listen_t *out)
{
    memset (out, 0, sizeof *out);
    if (!text || strlen (text) >= sizeof out->text)
        return -1;
    snprintf (out->text, sizeof out->text, "%s", text);
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr (text, ']');
        if (!close || close[1] != ':' || close == text + 1)
            return -1;
        snprintf (out->host, sizeof out->host, "%.*s", (int)(close - text - 1), text + 1);
        colon = close + 1;
    } else {
        colon = strrchr (text, ':');
        if (!colon || colon == text || memchr (text, ':', colon - text))
            return -1; //  a bare IPv6 address needs brackets
        snprintf (out->host, sizeof out->host, "%.*s", (int)(colon - text), text);
    }
    const char *port = colon + 1;
    if (!*port || strlen (port) > 5)
        return -1;
    int value = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (*p - '0');
    }
    if (value > 65535)
        return -1;
    out->port = value;
    return 0;
}

static char *
s_secret (const char *name)
{
    const char *value = zhub_env_str (name, NULL);
    return value ? zhub_strdup (value) : NULL;
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
    char *fallback = zhub_sprintf ("http://%s", self->listen.text);
    const char *public_url = zhub_env_str ("ZHUB_PUBLIC_URL", fallback);
    self->public_url_default = public_url == fallback;
    int rc = s_public_url (public_url, &self->public_url);
    if (rc)
        fprintf (stderr, "zhub: ZHUB_PUBLIC_URL=%s is not an http(s) URL without query\n",
                 public_url);
    free (fallback);
    if (rc)
        return -1;
    self->broker = zhub_strdup (zhub_env_str ("ZHUB_BROKER", ZHUB_BROKER_DEFAULT));
    self->hubspot_app_secret = s_secret ("ZHUB_HUBSPOT_APP_SECRET");
    self->bird_signing_key = s_secret ("ZHUB_BIRD_SIGNING_KEY");

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
        || zhub_env_int ("ZHUB_GATEWAY_CONNECTION_LIMIT", ZHUB_GATEWAY_CONNECTION_LIMIT_DEFAULT, 1,
                         65536, &self->connection_limit)
        || zhub_env_int ("ZHUB_GATEWAY_PER_IP_LIMIT", ZHUB_GATEWAY_PER_IP_LIMIT_DEFAULT, 0, 65536,
                         &self->per_ip_limit)
        || zhub_env_int ("ZHUB_GATEWAY_CONNECTION_MEMORY", ZHUB_GATEWAY_CONNECTION_MEMORY_DEFAULT,
                         8192, 16 * 1024 * 1024, &self->connection_memory)
        || zhub_env_int ("ZHUB_GATEWAY_IDLE_CLIENTS", ZHUB_GATEWAY_IDLE_CLIENTS_DEFAULT, 0, 1024,
                         &self->idle_clients)
        || zhub_env_duration_ms ("ZHUB_HUBSPOT_SIGNATURE_MAX_AGE", ZHUB_HUBSPOT_MAX_AGE_MS,
                                 &self->hubspot_max_age_ms)
        || zhub_env_duration_ms ("ZHUB_BIRD_SIGNATURE_MAX_AGE", ZHUB_BIRD_MAX_AGE_MS,
                                 &self->bird_max_age_ms)
        || zhub_env_duration_ms ("ZHUB_GATEWAY_MAX_CLOCK_SKEW",
                                 ZHUB_GATEWAY_MAX_CLOCK_SKEW_DEFAULT_MS, &self->max_clock_skew_ms))
        return -1;
    self->body_limit = (size_t)body_limit;
    //  Timeouts of zero would mean "never" to MHD and "fail at once" to the
    //  client; neither is what anyone wants.
    if (self->publish_timeout_ms < 1 || self->ready_timeout_ms < 1
        || self->connection_timeout_ms < 1000) {
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
    free (self->hubspot_app_secret);
    free (self->bird_signing_key);
    memset (self, 0, sizeof *self);
}

void
zhub_gateway_config_log (const zhub_gateway_config_t *self)
{
    char hubspot[48], bird[48];
    zhub_info ("config",
               "listen=%s admin=%s public_url=%s broker=%s hubspot_app_secret=%s "
               "bird_signing_key=%s body_limit=%zu publish_timeout_ms=%lld retry_after_s=%lld "
               "ready_timeout_ms=%lld connection_timeout_ms=%lld connection_limit=%lld "
               "per_ip_limit=%lld connection_memory=%lld idle_clients=%lld hubspot_max_age_ms=%lld "
               "bird_max_age_ms=%lld max_clock_skew_ms=%lld",
               self->listen.text, self->admin.text, self->public_url, self->broker,
               zhub_env_mask (self->hubspot_app_secret, hubspot, sizeof hubspot),
               zhub_env_mask (self->bird_signing_key, bird, sizeof bird), self->body_limit,
               (long long)self->publish_timeout_ms, (long long)self->retry_after_s,
               (long long)self->ready_timeout_ms, (long long)self->connection_timeout_ms,
               (long long)self->connection_limit, (long long)self->per_ip_limit,
               (long long)self->connection_memory, (long long)self->idle_clients,
               (long long)self->hubspot_max_age_ms, (long long)self->bird_max_age_ms,
               (long long)self->max_clock_skew_ms);
}

void
zhub_gateway_config_verify_opts (const zhub_gateway_config_t *self, const zhub_provider_t *provider,
                                 zhub_verify_opts_t *opts)
{
    memset (opts, 0, sizeof *opts);
    opts->max_age_ms = provider->default_max_age_ms;
    opts->max_future_ms = self->max_clock_skew_ms;
    if (!strcmp (provider->name, "hubspot")) {
        opts->secret = self->hubspot_app_secret;
        opts->max_age_ms = self->hubspot_max_age_ms;
    } else if (!strcmp (provider->name, "bird")) {
        opts->secret = self->bird_signing_key;
        opts->max_age_ms = self->bird_max_age_ms;
    }
}
