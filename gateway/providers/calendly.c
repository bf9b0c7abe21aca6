//  Calendly webhooks. The signature header is a comma-separated list of
//  key=value items (t and v1; unknown keys are ignored so that a future v2
//  beside v1 does not break us). Calendly sends no event id, so the id is a
//  hash of what names the event: the event name, the invitee URI and the
//  envelope's created_at — a retry resends the same body, and a cancel of
//  the same invitee is another event. The subject is the scheduled event
//  (the booking), so that "created" and "canceled" of a booking, and the
//  pair a reschedule fires, are delivered in order.
#include "calendly.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define s_HDR_SIG "Calendly-Webhook-Signature"

void
zhub_calendly_signature (const char *key, const char *t, const char *body, size_t body_size,
                         char *out, size_t out_size)
{
    char hex[65];
    const void *parts[] = {t, ".", body};
    size_t sizes[] = {strlen (t), 1, body_size};
    zhub_provider_hmac_hex (key, strlen (key), parts, sizes, 3, hex, sizeof hex);
    snprintf (out, out_size, "t=%s,v1=%s", t, hex);
}

//  Finds "<key>=<value>" in a comma-separated list; copies the value.
static bool
s_item (const char *list, const char *key, char *out, size_t size)
{
    size_t key_size = strlen (key);
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t)(end - p) : strlen (p);
        if (len > key_size && !strncmp (p, key, key_size) && p[key_size] == '=') {
            size_t value_size = len - key_size - 1;
            if (value_size == 0 || value_size >= size)
                return false;
            memcpy (out, p + key_size + 1, value_size);
            out[value_size] = 0;
            return true;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

static zhub_rc_t
s_verify (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, char *why, size_t why_size)
{
    if (!opts->secret || !*opts->secret)
        return zhub_provider_reject (why, why_size, "secret_unset");
    const char *header = zhub_webhook_header (hook, s_HDR_SIG);
    if (!header)
        return zhub_provider_reject (why, why_size, "missing_signature");
    char t[24], v1[80];
    if (!s_item (header, "t", t, sizeof t))
        return zhub_provider_reject (why, why_size, "missing_timestamp");
    if (!s_item (header, "v1", v1, sizeof v1))
        return zhub_provider_reject (why, why_size, "missing_signature");
    if (zhub_provider_check_time (hook, opts, t, 1000, why, why_size) != ZHUB_OK)
        return ZHUB_REJECT;
    char expected[65];
    const void *parts[] = {t, ".", hook->body};
    size_t sizes[] = {strlen (t), 1, hook->body_size};
    zhub_provider_hmac_hex (opts->secret, strlen (opts->secret), parts, sizes, 3, expected,
                            sizeof expected);
    return zhub_provider_check_signature (expected, v1, why, why_size);
}

//  The last path segment of a URI ("https://…/scheduled_events/ABC" ->
//  "ABC") when it is a plain id; false otherwise.
static bool
s_last_segment (const char *uri, char *out, size_t size)
{
    if (!uri)
        return false;
    const char *slash = strrchr (uri, '/');
    const char *id = slash ? slash + 1 : uri;
    size_t len = strlen (id);
    if (len == 0 || len >= size)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '_'))
            return false;
    memcpy (out, id, len + 1);
    return true;
}

static zhub_rc_t
s_parse (const zhub_webhook_t *hook, zhub_msg_list_t *out, char *why, size_t why_size)
{
    msgpack_sbuffer sbuf;
    msgpack_unpacked body;
    zhub_rc_t rc = ZHUB_REJECT;
    char *event = NULL, *created_at = NULL, *invitee = NULL, *booking = NULL, *text = NULL;
    zhub_msg_t *msg = NULL;
    if (zhub_provider_json_body (hook, &sbuf, &body, why, why_size))
        goto done;
    const msgpack_object *envelope = &body.data;
    event = zhub_provider_str (envelope, "event");
    created_at = zhub_provider_str (envelope, "created_at");
    const msgpack_object *payload = zhub_mpack_get (envelope, "payload");
    if (envelope->type != MSGPACK_OBJECT_MAP || !event || !zhub_topic_valid (event) || !payload
        || payload->type != MSGPACK_OBJECT_MAP) {
        snprintf (why, why_size, "body must be an object with a dotted event and a payload");
        goto done;
    }
    invitee = zhub_provider_str (payload, "uri");
    //  The booking: payload.event (older shape) or payload.scheduled_event.uri
    booking = zhub_provider_str (payload, "event");
    if (!booking)
        booking = zhub_provider_str (zhub_mpack_get (payload, "scheduled_event"), "uri");

    msg = zhub_msg_new ();
    zhub_msg_set (&msg->source, "calendly");
    text = zhub_sprintf ("webhook.calendly.%s", event);
    zhub_msg_set (&msg->type, text);
    free (text);
    const char *parts[] = {event, invitee, created_at};
    text = zhub_provider_hash_id ("calendly:", parts, 3);
    zhub_msg_set (&msg->id, text);
    free (text);
    char id[128];
    if (s_last_segment (booking, id, sizeof id))
        text = zhub_sprintf ("calendly:event:%s", id);
    else if (s_last_segment (invitee, id, sizeof id))
        text = zhub_sprintf ("calendly:invitee:%s", id);
    else
        text = zhub_sprintf ("calendly");
    zhub_msg_set (&msg->subject, text);
    free (text);
    text = NULL;
    int64_t time_ms;
    msg->time_ms = created_at && !zhub_time_parse (created_at, &time_ms) ? time_ms : hook->now_ms;
    zhub_provider_set_data (msg, envelope);
    rc = zhub_provider_push_valid (out, &msg, why, why_size);
done:
    zhub_msg_destroy (&msg);
    free (event);
    free (created_at);
    free (invitee);
    free (booking);
    zhub_provider_json_body_destroy (&sbuf, &body);
    return rc;
}

const zhub_provider_t zhub_provider_calendly = {
    .name = "calendly",
    .default_max_age_ms = ZHUB_CALENDLY_MAX_AGE_MS,
    .default_max_future_ms = ZHUB_CALENDLY_MAX_FUTURE_MS,
    .verify = s_verify,
    .parse = s_parse,
};
