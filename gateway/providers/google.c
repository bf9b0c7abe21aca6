//  Google Calendar push notifications. The id is the channel id and the
//  message number: Google numbers the messages of a channel, and a retry
//  of one message keeps its number, so retries collapse. The subject is
//  the watched resource, so that the syncs of one calendar are ordered
//  (and, with the scheduler's own bookkeeping, not run twice at once).
#include "google.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define s_HDR_TOKEN "X-Goog-Channel-Token"
#define s_ID_MAX 128 //  channel ids are at most 64; resource ids are opaque

//  Google sends "application/json; utf-8" with an empty body; the body is
//  never read, so its type does not matter.
static bool
s_any_type (const char *value)
{
    (void)value;
    return true;
}

static zhub_rc_t
s_verify (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, char *why, size_t why_size)
{
    if (!opts->secret || !*opts->secret)
        return zhub_provider_reject (why, why_size, "secret_unset");
    const char *token = zhub_webhook_header (hook, s_HDR_TOKEN);
    if (!token)
        return zhub_provider_reject (why, why_size, "missing_signature");
    return zhub_provider_check_signature (opts->secret, token, why, why_size);
}

//  A header that must be one plain token (it goes into ids and subjects).
static const char *
s_plain (const zhub_webhook_t *hook, const char *name)
{
    const char *value = zhub_webhook_header (hook, name);
    if (!value || strlen (value) > s_ID_MAX)
        return NULL;
    for (const char *p = value; *p; p++)
        if (*p <= ' ' || *p > '~')
            return NULL;
    return value;
}

static zhub_rc_t
s_parse (const zhub_webhook_t *hook, zhub_msg_list_t *out, char *why, size_t why_size)
{
    const char *channel = s_plain (hook, "X-Goog-Channel-ID");
    const char *resource = s_plain (hook, "X-Goog-Resource-ID");
    const char *state = s_plain (hook, "X-Goog-Resource-State");
    const char *number_text = zhub_webhook_header (hook, "X-Goog-Message-Number");
    const char *uri = zhub_webhook_header (hook, "X-Goog-Resource-URI");
    const char *expiration = zhub_webhook_header (hook, "X-Goog-Channel-Expiration");
    int64_t number;
    if (!channel || !resource || !state || !number_text
        || zhub_provider_parse_digits (number_text, &number)) {
        snprintf (why, why_size,
                  "X-Goog-Channel-ID, X-Goog-Resource-ID, X-Goog-Resource-State and a numeric "
                  "X-Goog-Message-Number are required");
        return ZHUB_REJECT;
    }
    if (!strcmp (state, "sync"))
        return ZHUB_OK; //  the channel works; nothing changed yet
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->source, "google");
    zhub_msg_set (&msg->type, ZHUB_GOOGLE_CHANGED_TOPIC);
    char *text = zhub_sprintf ("google:%s:%lld", channel, (long long)number);
    zhub_msg_set (&msg->id, text);
    free (text);
    text = zhub_sprintf ("google:resource:%s", resource);
    zhub_msg_set (&msg->subject, text);
    free (text);
    msg->time_ms = hook->now_ms;
    json_t *data = json_pack ("{s:s,s:s,s:s,s:I}", "channel_id", channel, "resource_id", resource,
                              "resource_state", state, "message_number", (json_int_t)number);
    if (uri && strlen (uri) < 2048)
        json_object_set_new (data, "resource_uri", json_string (uri));
    if (expiration && strlen (expiration) < 64)
        json_object_set_new (data, "channel_expiration", json_string (expiration));
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return zhub_provider_push_valid (out, &msg, why, why_size);
}

const zhub_provider_t zhub_provider_google = {
    .name = "google",
    .content_type_ok = s_any_type,
    .default_max_age_ms = ZHUB_GOOGLE_MAX_AGE_MS,
    .default_max_future_ms = ZHUB_GOOGLE_MAX_FUTURE_MS,
    .verify = s_verify,
    .parse = s_parse,
};
