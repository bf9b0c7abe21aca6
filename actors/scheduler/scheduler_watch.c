//  Calendar change subscriptions, the pure part (see scheduler_watch.h).
//  Small functions over JSON and integers so that the bodies Google and
//  Graph get, and the moment a renewal is due, are tested as data.
#include "scheduler_watch.h"
#include "scheduler_core_internal.h"
#include "zhub_id.h"
#include "zhub_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *s_platform[] = {"google", "graph"};

//  -------------------------------------------------------------------
//  Settings

int
sched_watch_config_check (const sched_watch_config_t *w, char *err, size_t err_size)
{
    zhub_url_t url;
    bool url_ok = w->public_url && zhub_url_parse (w->public_url, &url) == 0;
    const char *bad = NULL, *why = NULL; //  why: about the public URL, which is named

    if (w->google_ttl_ms <= 0)
        bad = "ZHUB_GOOGLE_WATCH_TTL must be a duration above 0";
    else if (w->graph_ttl_ms <= 0 || w->graph_ttl_ms > SCHED_GRAPH_SUB_MAX_MS)
        bad = "ZHUB_GRAPH_SUBSCRIPTION_TTL must be a duration above 0 and at most 4230m";
    else if (w->margin_ms < 0)
        bad = "ZHUB_CALENDAR_RENEW_MARGIN must be a duration";
    else if (w->retry_ms <= 0)
        bad = "ZHUB_CALENDAR_WATCH_RETRY must be a duration above 0";
    else if (!url_ok)
        why = "must be an http:// or https:// URL without query";
    else if (w->client_state && strlen (w->client_state) > SCHED_GRAPH_CLIENT_STATE_MAX)
        bad = "ZHUB_GRAPH_CLIENT_STATE must be at most 128 characters (Graph's limit for "
              "clientState)";
    for (int p = SCHED_GOOGLE; !bad && !why && p <= SCHED_GRAPH; p++) {
        if (!w->used[p] || sched_watch_off_reason (w, (sched_platform_t)p))
            continue;
        bool local = zhub_url_is_loopback (&url);
        if (!url.https && !local)
            why = p == SCHED_GOOGLE ? "Google watch channels need https:// (http:// only on "
                                      "127.0.0.1, localhost or ::1)"
                                    : "Graph subscriptions need https:// (http:// only on "
                                      "127.0.0.1, localhost or ::1)";
        else if (local && !w->api_local[p])
            why = p == SCHED_GOOGLE
                      ? "this machine, where Google cannot deliver notifications: set the "
                        "gateway's public https:// URL, or ZHUB_CALENDAR_NOTIFICATIONS=off"
                      : "this machine, where Graph cannot deliver notifications: set the "
                        "gateway's public https:// URL, or ZHUB_CALENDAR_NOTIFICATIONS=off";
    }
    if (why)
        snprintf (err, err_size, "ZHUB_PUBLIC_URL=%.60s%s: %s", w->public_url ? w->public_url : "",
                  w->public_url_default ? " (the default, from ZHUB_GATEWAY_LISTEN)" : "", why);
    else if (bad)
        snprintf (err, err_size, "%s", bad);
    return bad || why ? -1 : 0;
}

const char *
sched_watch_off_reason (const sched_watch_config_t *w, sched_platform_t platform)
{
    if (!w->enabled)
        return "ZHUB_CALENDAR_NOTIFICATIONS is off";
    if (platform == SCHED_GOOGLE && !w->channel_token)
        return "ZHUB_GOOGLE_CHANNEL_TOKEN is not set";
    if (platform == SCHED_GRAPH && !w->client_state)
        return "ZHUB_GRAPH_CLIENT_STATE is not set";
    return NULL;
}

bool
sched_watch_wanted (const sched_config_t *cfg, sched_platform_t platform, const char *target)
{
    for (size_t i = 0; target && i < cfg->agent_count; i++)
        if (cfg->agents[i].platform == platform && !strcmp (cfg->agents[i].calendar_id, target))
            return true;
    return false;
}

char *
sched_watch_address (const char *public_url, sched_platform_t platform)
{
    size_t n = strlen (public_url);
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    return zhub_sprintf ("%.*s/v1/webhooks/%s", (int)n, public_url, s_platform[platform]);
}

void
sched_watch_name (sched_platform_t platform, const char *target, char *out, size_t out_size)
{
    char prefix[16];
    snprintf (prefix, sizeof prefix, "sub:%s:", s_platform[platform]);
    zhub_id_derive (out, out_size, prefix, target, 8);
}

void
sched_watch_uuid (const uint8_t random[16], char *out, size_t out_size)
{
    uint8_t b[16];
    memcpy (b, random, 16);
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); //  version 4
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); //  RFC 4122 variant
    snprintf (out, out_size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
              b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
              b[13], b[14], b[15]);
}

int64_t
sched_watch_renew_at (int64_t now, int64_t expires_at, int64_t margin_ms)
{
    int64_t left = expires_at - now;
    if (margin_ms > left / 2)
        margin_ms = left / 2;
    int64_t at = expires_at - margin_ms;
    return at < now + SCHED_WATCH_MIN_GAP_MS ? now + SCHED_WATCH_MIN_GAP_MS : at;
}

//  -------------------------------------------------------------------
//  The record

//  A string member, copied, or NULL. Unlike s_dup_str it keeps an empty
//  string: a record reads back as it was written.
static char *
s_dup (const json_t *obj, const char *key)
{
    const char *value = json_string_value (json_object_get (obj, key));
    return value ? zhub_strdup (value) : NULL;
}

char *
sched_watch_encode (const sched_watch_t *w)
{
    json_t *obj = json_pack ("{s:s, s:I, s:I}", "platform", s_platform[w->platform], "expires_at",
                             (json_int_t)w->expires_at, "timer_due", (json_int_t)w->timer_due);
    s_set (obj, "target", w->target);
    s_set (obj, "id", w->id);
    s_set (obj, "resource_id", w->resource_id);
    s_set (obj, "address", w->address);
    char *text = json_dumps (obj, JSON_COMPACT);
    json_decref (obj);
    return text;
}

int
sched_watch_decode (const char *text, size_t size, sched_watch_t *w)
{
    memset (w, 0, sizeof *w);
    json_t *obj = json_loadb (text, size, 0, NULL);
    const char *platform = json_string_value (json_object_get (obj, "platform"));
    w->target = s_dup (obj, "target");
    if (!platform || !w->target || (strcmp (platform, "google") && strcmp (platform, "graph"))) {
        json_decref (obj);
        sched_watch_clear (w);
        return -1;
    }
    w->platform = !strcmp (platform, "google") ? SCHED_GOOGLE : SCHED_GRAPH;
    w->id = s_dup (obj, "id");
    w->resource_id = s_dup (obj, "resource_id");
    w->address = s_dup (obj, "address");
    w->expires_at = json_integer_value (json_object_get (obj, "expires_at"));
    w->timer_due = json_integer_value (json_object_get (obj, "timer_due"));
    json_decref (obj);
    return 0;
}

void
sched_watch_clear (sched_watch_t *w)
{
    free (w->target);
    free (w->id);
    free (w->resource_id);
    free (w->address);
    memset (w, 0, sizeof *w);
}

int64_t
sched_watch_arm_due (const sched_watch_t *w, const char *address, int64_t now)
{
    if (w && w->timer_due > 0 && w->address && address && !strcmp (w->address, address))
        return -1;
    return now;
}

//  -------------------------------------------------------------------
//  Google

json_t *
sched_google_watch_body (const char *channel_id, const char *address, const char *token,
                         int64_t expires_at)
{
    json_t *body = json_pack ("{s:s, s:s, s:s, s:I}", "id", channel_id, "type", "web_hook",
                              "address", address, "expiration", (json_int_t)expires_at);
    s_set (body, "token", token);
    return body;
}

json_t *
sched_google_stop_body (const char *channel_id, const char *resource_id)
{
    return json_pack ("{s:s, s:s}", "id", channel_id, "resourceId", resource_id);
}

int
sched_google_watch_read (const json_t *answer, int64_t asked, char **resource_id,
                         int64_t *expires_at)
{
    const char *resource = json_string_value (json_object_get (answer, "resourceId"));
    const json_t *expiration = json_object_get (answer, "expiration");
    if (!resource || !*resource)
        return -1;
    int64_t until = asked;
    if (json_is_integer (expiration))
        until = json_integer_value (expiration);
    else if (json_is_string (expiration)) {
        char *end;
        until = strtoll (json_string_value (expiration), &end, 10);
        if (*end || end == json_string_value (expiration))
            return -1;
    } else if (expiration)
        return -1;
    *resource_id = zhub_strdup (resource);
    *expires_at = until;
    return 0;
}

//  -------------------------------------------------------------------
//  Graph

char *
sched_graph_events_resource (const char *mailbox)
{
    return zhub_sprintf ("/users/%s/events", mailbox);
}

json_t *
sched_graph_subscription_body (const char *mailbox, const char *address, const char *client_state,
                               int64_t expires_at)
{
    char *resource = sched_graph_events_resource (mailbox);
    json_t *body =
        json_pack ("{s:s, s:s, s:s, s:o, s:s}", "changeType", SCHED_GRAPH_CHANGE_TYPES,
                   "notificationUrl", address, "resource", resource, "expirationDateTime",
                   s_rfc3339 (expires_at), "clientState", client_state);
    free (resource);
    return body;
}

json_t *
sched_graph_renew_body (int64_t expires_at)
{
    return json_pack ("{s:o}", "expirationDateTime", s_rfc3339 (expires_at));
}

int
sched_graph_subscription_read (const json_t *answer, int64_t asked, char **id, int64_t *expires_at)
{
    const char *sid = json_string_value (json_object_get (answer, "id"));
    const json_t *expiration = json_object_get (answer, "expirationDateTime");
    int64_t until = asked;
    if (!sid || !*sid)
        return -1;
    if (expiration && zhub_time_parse (json_string_value (expiration), &until))
        return -1;
    *id = zhub_strdup (sid);
    *expires_at = until;
    return 0;
}

//  "users/X/events" and "/Users/X/Events" name the same thing.
static bool
s_same_resource (const char *a, const char *b)
{
    while (*a == '/')
        a++;
    while (*b == '/')
        b++;
    return !strcasecmp (a, b);
}

const json_t *
sched_graph_subscription_find (const json_t *answer, const char *mailbox, const char *address)
{
    char *resource = sched_graph_events_resource (mailbox);
    const json_t *found = NULL;
    size_t i;
    const json_t *sub;
    json_array_foreach (json_object_get (answer, "value"), i, sub)
    {
        const char *res = json_string_value (json_object_get (sub, "resource"));
        const char *url = json_string_value (json_object_get (sub, "notificationUrl"));
        const char *id = json_string_value (json_object_get (sub, "id"));
        if (id && res && url && s_same_resource (res, resource) && !strcmp (url, address)) {
            found = sub;
            break;
        }
    }
    free (resource);
    return found;
}
