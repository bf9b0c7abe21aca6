//  The actors' configuration, read once from the environment, and the log
//  helpers that go with it. Kept apart from the loop (zhub_actor.c) so that
//  it links without the bus client and unit tests reach it directly.
#include "zhub_actor.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  ZHUB_INSTANCE, or the host name and a hash of the data dir's full path:
//  each replica keeps its own store, so that pair tells replicas apart and
//  stays the same across restarts of one.
static char *
s_instance (const char *data_dir)
{
    const char *set = zhub_env_str ("ZHUB_INSTANCE", NULL);
    if (set)
        return zhub_strdup (set);
    char host[65] = "host", path[2 * PATH_MAX + 2];
    gethostname (host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    for (char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '_'))
            *p = '_';
    host[40] = 0;
    //  absolute without resolving anything, so the first run (before the
    //  folder exists) and the later ones agree
    char cwd[PATH_MAX] = "";
    if (data_dir[0] != '/' && !getcwd (cwd, sizeof cwd))
        cwd[0] = 0;
    snprintf (path, sizeof path, "%s%s%s", cwd, cwd[0] ? "/" : "", data_dir);
    uint8_t hash[4];
    crypto_generichash (hash, sizeof hash, (const uint8_t *)path, strlen (path), NULL, 0);
    return zhub_sprintf ("%s-%02x%02x%02x%02x", host, hash[0], hash[1], hash[2], hash[3]);
}

int
zhub_actor_config_load (zhub_actor_config_t *config, const char *name, char *err, size_t err_size)
{
    memset (config, 0, sizeof *config);
    config->name = zhub_strdup (name);
    config->broker = zhub_strdup (zhub_env_str ("ZHUB_BROKER", ZHUB_BROKER_DEFAULT));
    config->data_dir = zhub_strdup (zhub_env_str ("ZHUB_DATA_DIR", "./.zhub-data"));
    config->instance = s_instance (config->data_dir);

    int64_t max_deliveries = 0, credit = 1;
    const char *bad = NULL;
    if (zhub_env_int ("ZHUB_MAX_DELIVERIES", 0, 0, 1000, &max_deliveries))
        bad = "ZHUB_MAX_DELIVERIES must be an integer in [0, 1000]";
    if (!bad && zhub_env_int ("ZHUB_CREDIT", 1, 1, 1000, &credit))
        bad = "ZHUB_CREDIT must be an integer in [1, 1000]";
    config->max_deliveries = (uint32_t)max_deliveries;
    config->credit = (uint32_t)credit;
    if (!bad && zhub_env_duration_ms ("ZHUB_ACK_DEADLINE", 0, &config->ack_deadline_ms))
        bad = "ZHUB_ACK_DEADLINE must be a duration (e.g. 30s)";
    int steps = zhub_parse_backoff (zhub_env_str ("ZHUB_BACKOFF", ""), config->backoff_ms,
                                    ZHUB_ACTOR_MAX_BACKOFF);
    config->backoff_count = steps > 0 ? (size_t)steps : 0;
    if (!bad && steps < 0)
        bad = "ZHUB_BACKOFF must be up to 16 durations of at most 366d separated by commas "
              "(e.g. 1s,5s,30s)";
    if (!bad
        && zhub_env_duration_ms ("ZHUB_HTTP_CONNECT_TIMEOUT", ZHUB_HTTP_CONNECT_TIMEOUT_MS,
                                 &config->http_connect_timeout_ms))
        bad = "ZHUB_HTTP_CONNECT_TIMEOUT must be a duration";
    if (!bad
        && zhub_env_duration_ms ("ZHUB_HTTP_TIMEOUT", ZHUB_HTTP_TOTAL_TIMEOUT_MS,
                                 &config->http_timeout_ms))
        bad = "ZHUB_HTTP_TIMEOUT must be a duration";
    if (!bad
        && (zhub_env_duration_ms ("ZHUB_READY_RETRY", ZHUB_ACTOR_READY_RETRY_MS,
                                  &config->ready_retry_ms)
            || config->ready_retry_ms < 100))
        bad = "ZHUB_READY_RETRY must be a duration of at least 100ms";
    const char *admin = zhub_env_str ("ZHUB_ACTOR_ADMIN_LISTEN", "");
    config->admin_on = *admin != 0;
    if (!bad && config->admin_on && zhub_listen_parse (admin, &config->admin_listen))
        bad = "ZHUB_ACTOR_ADMIN_LISTEN must be host:port (e.g. 0.0.0.0:9100)";
    if (!bad && (config->http_connect_timeout_ms <= 0 || config->http_timeout_ms <= 0))
        bad = "ZHUB_HTTP_CONNECT_TIMEOUT and ZHUB_HTTP_TIMEOUT must be above 0";
    if (!bad && !zhub_key_name_valid (config->instance))
        bad = "ZHUB_INSTANCE must be 1..64 of [A-Za-z0-9_-]";
    const char *endpoints[] = {config->broker};
    if (!bad && zhub_bus_auth_load (&config->bus, endpoints, 1, err, err_size)) {
        zhub_actor_config_clear (config);
        return -1;
    }
    if (bad) {
        snprintf (err, err_size, "%s", bad);
        zhub_actor_config_clear (config);
        return -1;
    }
    return 0;
}

void
zhub_actor_config_clear (zhub_actor_config_t *config)
{
    if (!config)
        return;
    free (config->name);
    free (config->broker);
    free (config->data_dir);
    free (config->instance);
    sodium_memzero (&config->bus, sizeof config->bus);
    memset (config, 0, sizeof *config);
}

void
zhub_actor_config_log (const zhub_actor_config_t *config)
{
    char backoff[256] = "default", bus[200];
    size_t used = 0;
    for (size_t i = 0; i < config->backoff_count && used < sizeof backoff - 24; i++)
        used += snprintf (backoff + used, sizeof backoff - used, "%s%lldms", i ? "," : "",
                          (long long)config->backoff_ms[i]);
    zhub_info ("config",
               "group=%s broker=%s data_dir=%s max_deliveries=%u ack_deadline_ms=%lld "
               "backoff=%s credit=%u http_connect_timeout_ms=%lld http_timeout_ms=%lld "
               "ready_retry_ms=%lld admin_listen=%s instance=%s bus=%s",
               config->name, config->broker, config->data_dir, config->max_deliveries,
               (long long)config->ack_deadline_ms, backoff, config->credit,
               (long long)config->http_connect_timeout_ms, (long long)config->http_timeout_ms,
               (long long)config->ready_retry_ms,
               config->admin_on ? config->admin_listen.text : "off", config->instance,
               zhub_bus_auth_describe (&config->bus, bus, sizeof bus));
}

json_t *
zhub_actor_mapping_load (char *err, size_t err_size)
{
    const char *path = zhub_env_str ("ZHUB_MAPPING_FILE", "");
    if (!*path)
        return json_object ();
    json_error_t error;
    json_t *root = json_load_file (path, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        snprintf (err, err_size, "ZHUB_MAPPING_FILE %s: line %d: %s", path, error.line, error.text);
        return NULL;
    }
    if (!json_is_object (root)) {
        snprintf (err, err_size, "ZHUB_MAPPING_FILE %s: the top level must be an object", path);
        json_decref (root);
        return NULL;
    }
    return root;
}
