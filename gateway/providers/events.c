//  CloudEvents over HTTP (spec: cloudevents/spec http-protocol-binding).
//  The id, source, subject and time are the sender's own: a service that
//  retries a POST sends the same id and the broker's dedup collapses it,
//  exactly as if it had published on the bus. data must be a JSON object
//  (the envelope's data is always a map); data_base64 is refused. The
//  bearer token is one of a list (gateway/tokens.h); what the token may
//  publish is decided by the server once the event is parsed, and an
//  admin token's publish is recorded by zhub_events_audit_new.
#include "events.h"
#include "zhub_catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define s_STRUCTURED "application/cloudevents+json"

static bool
s_starts (const char *value, const char *prefix)
{
    while (value && (*value == ' ' || *value == '\t'))
        value++;
    size_t size = strlen (prefix);
    return value && !strncasecmp (value, prefix, size)
           && (value[size] == 0 || value[size] == ';' || value[size] == ' ');
}

static bool
s_structured (const zhub_webhook_t *hook)
{
    return s_starts (zhub_webhook_header (hook, "Content-Type"), s_STRUCTURED);
}

//  Structured mode, or binary mode with a JSON (or no) body.
static bool
s_content_type_ok (const char *value)
{
    return !value || s_starts (value, s_STRUCTURED) || s_starts (value, "application/json");
}

bool
zhub_events_type_allowed (const char *type)
{
    return type && zhub_topic_valid (type) && !zhub_tokens_reserved (type);
}

const zhub_token_t *
zhub_events_authenticate (const zhub_webhook_t *hook, const zhub_tokens_t *tokens, char *why,
                          size_t why_size)
{
    if (!tokens || tokens->count == 0) {
        zhub_provider_reject (why, why_size, "secret_unset");
        return NULL;
    }
    const char *auth = zhub_webhook_header (hook, "Authorization");
    if (!auth) {
        zhub_provider_reject (why, why_size, "missing_signature");
        return NULL;
    }
    if (strncasecmp (auth, "Bearer ", 7)) {
        zhub_provider_reject (why, why_size, "not_bearer");
        return NULL;
    }
    const char *given = auth + 7;
    const zhub_token_t *token = zhub_tokens_match (tokens, given, strlen (given));
    if (!token)
        zhub_provider_reject (why, why_size, "signature_mismatch");
    return token;
}

static zhub_rc_t
s_verify (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, char *why, size_t why_size)
{
    return zhub_events_authenticate (hook, opts->tokens, why, why_size) ? ZHUB_OK : ZHUB_REJECT;
}

//  A JSON string of text as it is when it is UTF-8, else with every byte
//  outside printable ASCII as '?' (a header may carry any bytes).
static json_t *
s_json_text (const char *text, size_t max)
{
    size_t size = strnlen (text, max);
    json_t *value = json_stringn (text, size);
    if (value)
        return value;
    char *copy = zhub_malloc (size + 1);
    for (size_t i = 0; i < size; i++)
        copy[i] = text[i] >= ' ' && text[i] <= '~' ? text[i] : '?';
    copy[size] = 0;
    value = json_string (copy);
    free (copy);
    return value;
}

zhub_msg_t *
zhub_events_audit_new (const zhub_token_t *token, const zhub_msg_t *msg, const char *peer,
                       const char *forwarded_for, int64_t now_ms, char *why, size_t why_size)
{
    char at[40];
    zhub_time_format (now_ms, at, sizeof at);
    json_t *data = json_object ();
    json_object_set_new (data, "who", json_string (token->name));
    json_object_set_new (data, "at", json_string (at));
    json_object_set_new (data, "type", json_string (msg->type));
    json_object_set_new (data, "id", s_json_text (msg->id, ZHUB_MSG_MAX_ID));
    if (msg->subject)
        json_object_set_new (data, "subject", s_json_text (msg->subject, ZHUB_MSG_MAX_ID));
    json_object_set_new (data, "source", s_json_text (msg->source, ZHUB_MSG_MAX_ID));
    json_object_set_new (data, "peer", s_json_text (peer && *peer ? peer : "unknown", 128));
    if (forwarded_for && *forwarded_for)
        json_object_set_new (data, "forwarded_for", s_json_text (forwarded_for, 256));
    const char *parts[] = {token->name, msg->id};
    char *id = zhub_provider_hash_id ("audit:", parts, 2);
    char *subject = zhub_sprintf ("admin:%s", token->name);
    zhub_msg_t *audit = zhub_event_new ("admin.audited", id, "zhub/gateway", subject, now_ms,
                                        msg->traceparent, data, why, why_size);
    free (subject);
    free (id);
    json_decref (data);
    return audit;
}

//  Fills msg from the attributes; the caller sets data. Returns 0 or -1.
static int
s_attributes (zhub_msg_t *msg, const char *specversion, const char *id, const char *source,
              const char *type, const char *subject, const char *time, const char *traceparent,
              int64_t now_ms, char *why, size_t why_size)
{
    if (!specversion || strcmp (specversion, "1.0")) {
        snprintf (why, why_size, "specversion must be \"1.0\"");
        return -1;
    }
    if (!id || !*id || !source || !*source || !type) {
        snprintf (why, why_size, "id, source and type are required");
        return -1;
    }
    if (!zhub_events_type_allowed (type)) {
        snprintf (why, why_size,
                  "type must be a dotted topic outside webhook.>, dlq.> and admin.>");
        return -1;
    }
    int64_t time_ms = now_ms;
    if (time && zhub_time_parse (time, &time_ms)) {
        snprintf (why, why_size, "time must be RFC 3339");
        return -1;
    }
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, source);
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->subject, subject);
    msg->time_ms = time_ms;
    if (traceparent && strlen (traceparent) == 55)
        zhub_msg_set (&msg->traceparent, traceparent);
    return 0;
}

static void
s_empty_data (zhub_msg_t *msg)
{
    static const uint8_t empty_map = 0x80;
    zhub_msg_set_data (msg, &empty_map, 1);
}

static zhub_rc_t
s_parse (const zhub_webhook_t *hook, zhub_msg_list_t *out, char *why, size_t why_size)
{
    msgpack_sbuffer sbuf;
    msgpack_unpacked body;
    msgpack_sbuffer_init (&sbuf);
    msgpack_unpacked_init (&body);
    zhub_rc_t rc = ZHUB_REJECT;
    zhub_msg_t *msg = zhub_msg_new ();
    char *fields[7] = {0};
    bool has_body = hook->body_size > 0;
    if (has_body) {
        zhub_provider_json_body_destroy (&sbuf, &body);
        if (zhub_provider_json_body (hook, &sbuf, &body, why, why_size))
            goto done;
    }
    if (s_structured (hook)) {
        static const char *const names[] = {"specversion", "id",   "source",     "type",
                                            "subject",     "time", "traceparent"};
        if (!has_body || body.data.type != MSGPACK_OBJECT_MAP) {
            snprintf (why, why_size, "a structured event must be a JSON object");
            goto done;
        }
        for (int i = 0; i < 7; i++)
            fields[i] = zhub_provider_str (&body.data, names[i]);
        if (s_attributes (msg, fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
                          fields[6], hook->now_ms, why, why_size))
            goto done;
        const msgpack_object *data = zhub_mpack_get (&body.data, "data");
        if (zhub_mpack_get (&body.data, "data_base64")
            || (data && data->type != MSGPACK_OBJECT_MAP && data->type != MSGPACK_OBJECT_NIL)) {
            snprintf (why, why_size, "data must be a JSON object");
            goto done;
        }
        if (data && data->type == MSGPACK_OBJECT_MAP)
            zhub_provider_set_data (msg, data);
        else
            s_empty_data (msg);
    } else {
        if (s_attributes (
                msg, zhub_webhook_header (hook, "ce-specversion"),
                zhub_webhook_header (hook, "ce-id"), zhub_webhook_header (hook, "ce-source"),
                zhub_webhook_header (hook, "ce-type"), zhub_webhook_header (hook, "ce-subject"),
                zhub_webhook_header (hook, "ce-time"), zhub_webhook_header (hook, "traceparent"),
                hook->now_ms, why, why_size))
            goto done;
        if (has_body && body.data.type != MSGPACK_OBJECT_MAP) {
            snprintf (why, why_size, "data must be a JSON object");
            goto done;
        }
        if (has_body)
            zhub_provider_set_data (msg, &body.data);
        else
            s_empty_data (msg);
    }
    rc = zhub_provider_push_valid (out, &msg, why, why_size);
done:
    for (int i = 0; i < 7; i++)
        free (fields[i]);
    zhub_msg_destroy (&msg);
    zhub_provider_json_body_destroy (&sbuf, &body);
    return rc;
}

const zhub_provider_t zhub_provider_events = {
    .name = "events",
    .flags = ZHUB_PROVIDER_OWN_ROUTE,
    .content_type_ok = s_content_type_ok,
    .default_max_age_ms = ZHUB_EVENTS_MAX_AGE_MS,
    .default_max_future_ms = ZHUB_EVENTS_MAX_FUTURE_MS,
    .verify = s_verify,
    .parse = s_parse,
};
