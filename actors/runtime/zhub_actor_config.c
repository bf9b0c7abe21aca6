//  The actors' configuration, read once from the environment, and the log
//  helpers that go with it. Kept apart from the loop (zhub_actor.c) so that
//  it links without the bus client and unit tests reach it directly.
#include "zhub_actor.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
zhub_actor_parse_backoff (const char *text, int64_t *out, size_t max, size_t *count)
{
    *count = 0;
    if (!text || !*text)
        return 0;
    char *copy = zhub_strdup (text);
    char *save = NULL;
    int rc = 0;
    for (char *step = strtok_r (copy, ",", &save); step; step = strtok_r (NULL, ",", &save)) {
        while (*step == ' ')
            step++;
        size_t len = strlen (step);
        while (len && step[len - 1] == ' ')
            step[--len] = 0;
        int64_t ms;
        if (*count == max || !*step || zhub_parse_duration_ms (step, &ms)) {
            rc = -1;
            break;
        }
        out[(*count)++] = ms;
    }
    free (copy);
    if (rc)
        *count = 0;
    return rc;
}

static bool
s_http_url (const char *url)
{
    return !strncmp (url, "http://", 7) || !strncmp (url, "https://", 8);
}

int
zhub_actor_config_load (zhub_actor_config_t *config, const char *name, char *err, size_t err_size)
{
    memset (config, 0, sizeof *config);
    config->name = zhub_strdup (name);
    config->broker = zhub_strdup (zhub_env_str ("ZHUB_BROKER", ZHUB_BROKER_DEFAULT));
    config->data_dir = zhub_strdup (zhub_env_str ("ZHUB_DATA_DIR", "./.zhub-data"));
    config->hubspot_base_url =
        zhub_strdup (zhub_env_str ("ZHUB_HUBSPOT_BASE_URL", ZHUB_HUBSPOT_BASE_URL_DEFAULT));
    config->hubspot_token = zhub_strdup (zhub_env_str ("ZHUB_HUBSPOT_TOKEN", ""));
    config->bird_base_url =
        zhub_strdup (zhub_env_str ("ZHUB_BIRD_BASE_URL", ZHUB_BIRD_BASE_URL_DEFAULT));
    config->bird_api_key = zhub_strdup (zhub_env_str ("ZHUB_BIRD_API_KEY", ""));
    config->bird_workspace_id = zhub_strdup (zhub_env_str ("ZHUB_BIRD_WORKSPACE_ID", ""));

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
    if (!bad
        && zhub_actor_parse_backoff (zhub_env_str ("ZHUB_BACKOFF", ""), config->backoff_ms,
                                     ZHUB_ACTOR_MAX_BACKOFF, &config->backoff_count))
        bad = "ZHUB_BACKOFF must be up to 16 durations separated by commas (e.g. 1s,5s,30s)";
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
    if (!bad && (config->http_connect_timeout_ms <= 0 || config->http_timeout_ms <= 0))
        bad = "ZHUB_HTTP_CONNECT_TIMEOUT and ZHUB_HTTP_TIMEOUT must be above 0";
    if (!bad && !s_http_url (config->hubspot_base_url))
        bad = "ZHUB_HUBSPOT_BASE_URL must start with http:// or https://";
    if (!bad && !s_http_url (config->bird_base_url))
        bad = "ZHUB_BIRD_BASE_URL must start with http:// or https://";
    //  Bird names workspaces by UUID and answers anything else with an
    //  error on every call (https://docs.bird.com/api: workspaceId is
    //  "string · uuid" in every path); unset stays allowed for actors that
    //  never call Bird.
    if (!bad && *config->bird_workspace_id && !zhub_is_uuid (config->bird_workspace_id))
        bad = "ZHUB_BIRD_WORKSPACE_ID must be a Bird workspace id, a UUID such as "
              "a1405560-c8d3-4b1a-877d-3f449ad95352";
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
    free (config->hubspot_base_url);
    free (config->hubspot_token);
    free (config->bird_base_url);
    free (config->bird_api_key);
    free (config->bird_workspace_id);
    memset (config, 0, sizeof *config);
}

void
zhub_actor_config_log (const zhub_actor_config_t *config)
{
    char token[32], key[32], backoff[256] = "default";
    size_t used = 0;
    for (size_t i = 0; i < config->backoff_count && used < sizeof backoff - 24; i++)
        used += snprintf (backoff + used, sizeof backoff - used, "%s%lldms", i ? "," : "",
                          (long long)config->backoff_ms[i]);
    zhub_info ("config",
               "group=%s broker=%s data_dir=%s max_deliveries=%u ack_deadline_ms=%lld "
               "backoff=%s credit=%u hubspot_base_url=%s hubspot_token=%s bird_base_url=%s "
               "bird_api_key=%s bird_workspace_id=%s http_connect_timeout_ms=%lld "
               "http_timeout_ms=%lld ready_retry_ms=%lld",
               config->name, config->broker, config->data_dir, config->max_deliveries,
               (long long)config->ack_deadline_ms, backoff, config->credit,
               config->hubspot_base_url, zhub_env_mask (config->hubspot_token, token, sizeof token),
               config->bird_base_url, zhub_env_mask (config->bird_api_key, key, sizeof key),
               *config->bird_workspace_id ? config->bird_workspace_id : "unset",
               (long long)config->http_connect_timeout_ms, (long long)config->http_timeout_ms,
               (long long)config->ready_retry_ms);
}

const char *
zhub_actor_log_quote (const char *text, char *buf, size_t size)
{
    if (size < 3) {
        if (size)
            buf[0] = 0;
        return buf;
    }
    size_t w = 0;
    buf[w++] = '"';
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        if (w + 2 >= size)
            break;
        unsigned char c = *p;
        buf[w++] = (c == '"') ? '\'' : (c == '\\' || c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    buf[w++] = '"';
    buf[w] = 0;
    return buf;
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
