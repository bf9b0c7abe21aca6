//  Broker configuration from the environment. Invalid values stop the
//  broker at start with the variable named, instead of surprising anyone
//  later.
#include "broker_config.h"
#include "zhub_client.h"
#include "zhub_env.h"
#include "zhub_log.h"
#include "zhub_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DEFAULT_BACKOFF "1s,5s,30s,2m,10m"
#define S_MAX_DELAY_MS ZHUB_BACKOFF_MAX_STEP_MS

void
broker_config_defaults (broker_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->endpoint = ZHUB_BROKER_DEFAULT;
    config->data_dir = "./.zhub-data";
    config->dedup_window_ms = 8LL * 86400000;
    config->max_deliveries = 5;
    config->ack_deadline_ms = 30000;
    broker_config_parse_backoff (S_DEFAULT_BACKOFF, config->backoff_ms, &config->backoff_count);
    config->window = 4096;
    config->max_message = 1024 * 1024;
    config->batch_max = 1024;
    config->scan_max = 4096;
    config->heartbeat_ms = ZHUB_HEARTBEAT_MS;
    config->send_hwm = 100000;
    config->sweep_interval_ms = 1000;
    config->sweep_max = 1000;
    config->history_max = 32;
    config->max_map_size = (size_t)64 << 30;
    snprintf (config->retention_default.pattern, sizeof config->retention_default.pattern, ">");
    config->retention_default.max_age_ms = 7LL * 86400000;
    config->trim_max = 20000;
    broker_config_default_tap (config->endpoint, config->tap, sizeof config->tap);
    //  an in-process broker (tests) is plain unless told otherwise; the
    //  environment's default is curve (broker_config_load_access)
    config->security = ZHUB_BUS_PLAIN;
    snprintf (config->keys_dir, sizeof config->keys_dir, "%s/broker/keys", config->data_dir);
    config->broadcast_count = 2;
    snprintf (config->broadcast[0], sizeof config->broadcast[0], "contact.forget");
    snprintf (config->broadcast[1], sizeof config->broadcast[1], "contact.erase");
}

int
broker_config_default_tap (const char *endpoint, char *out, size_t size)
{
    return zhub_tap_endpoint_for (endpoint, out, size);
}

int
broker_config_parse_bytes (const char *text, uint64_t *out)
{
    char *end;
    if (!text || *text < '0' || *text > '9')
        return -1;
    unsigned long long value = strtoull (text, &end, 10);
    uint64_t unit = 1;
    if (*end == 'k' || *end == 'K')
        unit = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        unit = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        unit = 1024ULL * 1024 * 1024, end++;
    if ((*end == 'b' || *end == 'B') && unit > 1)
        end++; //  "64MB", "1GiB" are read the way people write them
    else if (*end == 'i' && end[1] == 'B' && unit > 1)
        end += 2;
    if (*end || value > UINT64_MAX / unit)
        return -1;
    *out = value * unit;
    return 0;
}

int
broker_config_parse_retention (const char *text, broker_retention_t *rules, size_t max)
{
    if (!text)
        return -1;
    char buf[4096];
    if (strlen (text) >= sizeof buf)
        return -1;
    snprintf (buf, sizeof buf, "%s", text);
    size_t n = 0;
    char *save = NULL;
    for (char *item = strtok_r (buf, ",", &save); item; item = strtok_r (NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        char *eq = strchr (item, '=');
        if (!eq || eq == item || n == max || (size_t)(eq - item) >= sizeof rules[n].pattern)
            return -1;
        *eq = 0;
        char *limits = eq + 1, *slash = strchr (limits, '/');
        if (slash)
            *slash = 0;
        broker_retention_t *rule = &rules[n];
        memset (rule, 0, sizeof *rule);
        snprintf (rule->pattern, sizeof rule->pattern, "%s", item);
        size_t len = strlen (rule->pattern);
        while (len && rule->pattern[len - 1] == ' ')
            rule->pattern[--len] = 0;
        if (!zhub_topic_valid (rule->pattern) && strchr (rule->pattern, '*') == NULL
            && strchr (rule->pattern, '>') == NULL)
            return -1;
        if (strcmp (limits, "0")
            && (zhub_parse_duration_ms (limits, &rule->max_age_ms) || rule->max_age_ms < 0))
            return -1;
        if (slash && broker_config_parse_bytes (slash + 1, &rule->max_bytes))
            return -1;
        n++;
    }
    return (int)n;
}

const broker_retention_t *
broker_config_retention_for (const broker_config_t *config, const char *topic)
{
    for (size_t i = 0; i < config->retention_count; i++)
        if (zhub_topic_match (config->retention[i].pattern, topic))
            return &config->retention[i];
    return &config->retention_default;
}

int
broker_config_parse_backoff (const char *text, int64_t *steps, size_t *count)
{
    int n = zhub_parse_backoff (text, steps, ZHUB_FRAME_MAX_BACKOFF);
    if (n <= 0)
        return -1;
    *count = (size_t)n;
    return 0;
}

static int
s_fail (char *err, size_t err_size, const char *what)
{
    snprintf (err, err_size, "invalid %s", what);
    return -1;
}

int
broker_config_load (broker_config_t *config, char *err, size_t err_size)
{
    broker_config_defaults (config);
    config->endpoint = zhub_env_str ("ZHUB_BROKER", config->endpoint);
    config->data_dir = zhub_env_str ("ZHUB_DATA_DIR", config->data_dir);
    int64_t value;
    if (zhub_env_duration_ms ("ZHUB_DEDUP_WINDOW", config->dedup_window_ms, &value) || value < 1000)
        return s_fail (err, err_size, "ZHUB_DEDUP_WINDOW (at least 1s)");
    config->dedup_window_ms = value;
    if (zhub_env_int ("ZHUB_BROKER_MAX_DELIVERIES", config->max_deliveries, 1, 1000, &value))
        return s_fail (err, err_size, "ZHUB_BROKER_MAX_DELIVERIES (1..1000)");
    config->max_deliveries = (uint32_t)value;
    if (zhub_env_duration_ms ("ZHUB_BROKER_ACK_DEADLINE", config->ack_deadline_ms, &value)
        || value < 100 || value > S_MAX_DELAY_MS)
        return s_fail (err, err_size, "ZHUB_BROKER_ACK_DEADLINE (100ms..366d)");
    config->ack_deadline_ms = value;
    const char *backoff = zhub_env_str ("ZHUB_BROKER_BACKOFF", NULL);
    if (backoff
        && broker_config_parse_backoff (backoff, config->backoff_ms, &config->backoff_count))
        return s_fail (err, err_size, "ZHUB_BROKER_BACKOFF (e.g. 1s,5s,30s, at most 16 steps)");
    if (zhub_env_int ("ZHUB_BROKER_WINDOW", config->window, 16, 1000000, &value))
        return s_fail (err, err_size, "ZHUB_BROKER_WINDOW (16..1000000)");
    config->window = (uint32_t)value;
    //  A dead letter wraps the original envelope plus its history and must
    //  still fit in one frame, hence the ceiling well under the frame size.
    if (zhub_env_int ("ZHUB_BROKER_MAX_MESSAGE", (int64_t)config->max_message, 1024,
                      ZHUB_MSG_MAX_SIZE, &value))
        return s_fail (err, err_size, "ZHUB_BROKER_MAX_MESSAGE (1024..2097152 bytes)");
    config->max_message = (size_t)value;
    if (zhub_env_int ("ZHUB_BROKER_MAX_MAP_SIZE", (int64_t)config->max_map_size, 1 << 20, INT64_MAX,
                      &value))
        return s_fail (err, err_size, "ZHUB_BROKER_MAX_MAP_SIZE (bytes, at least 1 MiB)");
    config->max_map_size = (size_t)value;
    if (strncmp (config->endpoint, "tcp://", 6) && strncmp (config->endpoint, "ipc://", 6)
        && strncmp (config->endpoint, "inproc://", 9))
        return s_fail (err, err_size, "ZHUB_BROKER (tcp://host:port or ipc://path)");
    if (zhub_env_duration_ms ("ZHUB_BROKER_RETENTION", config->retention_default.max_age_ms, &value)
        || value < 0)
        return s_fail (err, err_size, "ZHUB_BROKER_RETENTION (a duration, 0 = keep forever)");
    config->retention_default.max_age_ms = value;
    const char *bytes = zhub_env_str ("ZHUB_BROKER_RETENTION_BYTES", NULL);
    if (bytes && broker_config_parse_bytes (bytes, &config->retention_default.max_bytes))
        return s_fail (err, err_size,
                       "ZHUB_BROKER_RETENTION_BYTES (bytes, e.g. 10g; 0 = no limit)");
    const char *rules = zhub_env_str ("ZHUB_BROKER_RETENTION_TOPICS", NULL);
    if (rules) {
        int count =
            broker_config_parse_retention (rules, config->retention, BROKER_RETENTION_RULES);
        if (count < 0)
            return s_fail (err, err_size,
                           "ZHUB_BROKER_RETENTION_TOPICS (pattern=AGE[/BYTES],..., at most 32)");
        config->retention_count = (size_t)count;
    }
    broker_config_default_tap (config->endpoint, config->tap, sizeof config->tap);
    const char *admin = zhub_env_str ("ZHUB_BROKER_ADMIN_LISTEN", "");
    config->admin_on = *admin != 0;
    if (config->admin_on && zhub_listen_parse (admin, &config->admin))
        return s_fail (err, err_size, "ZHUB_BROKER_ADMIN_LISTEN (host:port, e.g. 0.0.0.0:9100)");
    const char *tap = zhub_env_str ("ZHUB_BROKER_TAP", NULL);
    if (tap) {
        config->tap_explicit = true;
        if (!strcmp (tap, "off") || !*tap)
            config->tap[0] = 0;
        else if (strlen (tap) >= sizeof config->tap
                 || (strncmp (tap, "tcp://", 6) && strncmp (tap, "ipc://", 6)
                     && strncmp (tap, "inproc://", 9)))
            return s_fail (err, err_size, "ZHUB_BROKER_TAP (tcp://host:port, ipc://path or off)");
        else
            snprintf (config->tap, sizeof config->tap, "%s", tap);
    }
    const char *broadcast = zhub_env_str ("ZHUB_BROKER_BROADCAST", NULL);
    if (broadcast) {
        char *patterns[BROKER_BROADCAST_MAX];
        int count = !strcmp (broadcast, "off")
                        ? 0
                        : zhub_key_parse_patterns (broadcast, patterns, BROKER_BROADCAST_MAX);
        if (count < 0)
            return s_fail (err, err_size,
                           "ZHUB_BROKER_BROADCAST (comma-separated topic patterns, at most 16, "
                           "or off)");
        config->broadcast_count = (size_t)count;
        for (int i = 0; i < count; i++) {
            snprintf (config->broadcast[i], sizeof config->broadcast[i], "%s", patterns[i]);
            free (patterns[i]);
        }
    }
    return broker_config_load_access (config, err, err_size);
}

int
broker_config_load_access (broker_config_t *config, char *err, size_t err_size)
{
    snprintf (config->keys_dir, sizeof config->keys_dir, "%s",
              zhub_env_str ("ZHUB_BUS_KEYS", ""));
    if (!config->keys_dir[0])
        snprintf (config->keys_dir, sizeof config->keys_dir, "%s/broker/keys", config->data_dir);
    const char *security = zhub_env_str ("ZHUB_BUS_SECURITY", "curve");
    if (!strcmp (security, "plain")) {
        const char *endpoints[] = {config->endpoint, config->tap};
        for (size_t i = 0; i < 2; i++)
            if (endpoints[i][0] && !zhub_endpoint_is_local (endpoints[i])) {
                snprintf (err, err_size,
                          "ZHUB_BUS_SECURITY=plain is only for endpoints on this machine "
                          "(loopback, ipc); %s is not: use curve",
                          endpoints[i]);
                return -1;
            }
        config->security = ZHUB_BUS_PLAIN;
        return 0;
    }
    if (strcmp (security, "curve"))
        return s_fail (err, err_size, "ZHUB_BUS_SECURITY (curve or plain)");
    config->security = ZHUB_BUS_CURVE;
    const char *cert = zhub_env_str ("ZHUB_BROKER_CERT", NULL);
    if (!cert) {
        snprintf (err, err_size,
                  "ZHUB_BROKER_CERT is not set: the bus uses CURVE (ZHUB_BUS_SECURITY=curve, the "
                  "default) and the broker needs its secret certificate (zhub keys new --broker); "
                  "for a local run on loopback set ZHUB_BUS_SECURITY=plain");
        return -1;
    }
    char reason[400];
    if (zhub_key_load_secret (cert, config->public_key, config->secret_key, reason,
                              sizeof reason)) {
        snprintf (err, err_size, "ZHUB_BROKER_CERT %s", reason);
        return -1;
    }
    return 0;
}

void
broker_config_log (const broker_config_t *config)
{
    char backoff[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < config->backoff_count && used < sizeof backoff; i++)
        used += snprintf (backoff + used, sizeof backoff - used, "%s%lldms", i ? "," : "",
                          (long long)config->backoff_ms[i]);
    zhub_info ("config",
               "endpoint=%s data_dir=%s dedup_window_ms=%lld max_deliveries=%u "
               "ack_deadline_ms=%lld backoff=%s window=%u max_message=%zu batch_max=%u "
               "max_map_size=%zu tap=%s retention_ms=%lld retention_bytes=%llu retention_rules=%zu "
               "admin_listen=%s",
               config->endpoint, config->data_dir, (long long)config->dedup_window_ms,
               config->max_deliveries, (long long)config->ack_deadline_ms, backoff, config->window,
               config->max_message, config->batch_max, config->max_map_size,
               config->tap[0] ? config->tap : "off",
               (long long)config->retention_default.max_age_ms,
               (unsigned long long)config->retention_default.max_bytes, config->retention_count,
               config->admin_on ? config->admin.text : "off");
    char broadcast[600] = "";
    size_t at = 0;
    for (size_t i = 0; i < config->broadcast_count && at < sizeof broadcast; i++)
        at += snprintf (broadcast + at, sizeof broadcast - at, "%s%s", i ? "," : "",
                        config->broadcast[i]);
    zhub_info ("config_access", "security=%s public_key=%s keys_dir=%s broadcast=%s",
               config->security == ZHUB_BUS_CURVE ? "curve" : "plain",
               config->security == ZHUB_BUS_CURVE ? config->public_key : "-", config->keys_dir,
               broadcast[0] ? broadcast : "off");
}
