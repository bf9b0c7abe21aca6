//  Bird webhooks. One request is one event. Its id must survive Bird's
//  retries (8 hours of them) so that the bus dedup collapses them. Nothing
//  documents that messagebird-request-id stays the same across retries, so
//  the id is a hash of what identifies the event (service, event, payload
//  id, updatedAt, status): a retry resends the same body and collapses, and
//  a status change of the same message is a new event.
//
//  The subject is the Bird contact the event is about, when the payload
//  names one (the shapes differ per service, so this is best effort), so
//  that everything about one person is delivered in order.
#include "bird.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define s_HDR_SIG "messagebird-signature"
#define s_HDR_TIMESTAMP "messagebird-request-timestamp"

void
zhub_bird_signature (const char *key, const char *timestamp, const char *url, const char *body,
                     size_t body_size, char *out, size_t out_size)
{
    unsigned char body_hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (body_hash, (const unsigned char *)body, body_size);
    const void *parts[] = {timestamp, "\n", url, "\n", body_hash};
    size_t sizes[] = {strlen (timestamp), 1, strlen (url), 1, sizeof body_hash};
    zhub_provider_hmac_b64 (key, parts, sizes, 5, out, out_size);
}

static zhub_rc_t
s_verify (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, char *why, size_t why_size)
{
    if (!opts->secret || !*opts->secret)
        return zhub_provider_reject (why, why_size, "secret_unset");
    const char *signature = zhub_webhook_header (hook, s_HDR_SIG);
    if (!signature)
        return zhub_provider_reject (why, why_size, "missing_signature");
    const char *stamp = zhub_webhook_header (hook, s_HDR_TIMESTAMP);
    if (zhub_provider_check_time (hook, opts, stamp, 1000, why, why_size) != ZHUB_OK)
        return ZHUB_REJECT;
    char expected[64];
    zhub_bird_signature (opts->secret, stamp, hook->url, hook->body, hook->body_size, expected,
                         sizeof expected);
    return zhub_provider_check_signature (expected, signature, why, why_size);
}

//  The Bird contact the payload is about, into buf; false when none.
static bool
s_contact_of (const char *service, const char *event, const msgpack_object *payload, char *buf,
              size_t size)
{
    //  channels <platform>.inbound: the sender is the contact
    const msgpack_object *sender = zhub_mpack_get (payload, "sender");
    if (!zhub_provider_id_part (zhub_mpack_get (zhub_mpack_get (sender, "contact"), "id"), buf,
                                size))
        return true;
    //  channels <platform>.outbound: the first receiver contact
    const msgpack_object *contacts =
        zhub_mpack_get (zhub_mpack_get (payload, "receiver"), "contacts");
    if (contacts && contacts->type == MSGPACK_OBJECT_ARRAY && contacts->via.array.size > 0
        && !zhub_provider_id_part (zhub_mpack_get (&contacts->via.array.ptr[0], "id"), buf, size))
        return true;
    //  contact events: the payload is the contact
    if ((!strcmp (service, "contacts") || !strncmp (event, "contact.", 8))
        && !zhub_provider_id_part (zhub_mpack_get (payload, "id"), buf, size))
        return true;
    //  conversations: the first featured participant that is a contact
    const msgpack_object *people = zhub_mpack_get (payload, "featuredParticipants");
    if (people && people->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < people->via.array.size; i++) {
            const msgpack_object *person = &people->via.array.ptr[i];
            if (!zhub_mpack_str_eq (zhub_mpack_get (person, "type"), "contact"))
                continue;
            if (!zhub_provider_id_part (zhub_mpack_get (zhub_mpack_get (person, "contact"), "id"),
                                        buf, size)
                || !zhub_provider_id_part (zhub_mpack_get (person, "id"), buf, size))
                return true;
        }
    return false;
}

static void
s_hash_str (crypto_hash_sha256_state *state, const msgpack_object *obj)
{
    if (obj && obj->type == MSGPACK_OBJECT_STR)
        crypto_hash_sha256_update (state, (const unsigned char *)obj->via.str.ptr,
                                   obj->via.str.size);
    else if (obj
             && (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER
                 || obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)) {
        char text[32];
        zhub_provider_id_part (obj, text, sizeof text);
        crypto_hash_sha256_update (state, (const unsigned char *)text, strlen (text));
    }
    crypto_hash_sha256_update (state, (const unsigned char *)"\n", 1);
}

//  "bird:" + hex SHA-256 of what names the event.
static char *
s_event_id (const zhub_webhook_t *hook, const msgpack_object *envelope,
            const msgpack_object *payload)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    const msgpack_object *payload_id = zhub_mpack_get (payload, "id");
    if (payload_id) {
        crypto_hash_sha256_state state;
        crypto_hash_sha256_init (&state);
        s_hash_str (&state, zhub_mpack_get (envelope, "service"));
        s_hash_str (&state, zhub_mpack_get (envelope, "event"));
        s_hash_str (&state, payload_id);
        s_hash_str (&state, zhub_mpack_get (payload, "updatedAt"));
        s_hash_str (&state, zhub_mpack_get (payload, "status"));
        crypto_hash_sha256_final (&state, digest);
    } else //  nothing names the event: the exact bytes do (a retry resends them)
        crypto_hash_sha256 (digest, (const unsigned char *)hook->body, hook->body_size);
    char hex[2 * sizeof digest + 1];
    sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
    return zhub_sprintf ("bird:%s", hex);
}

//  Event time: updatedAt (the moment this state of the object came to be,
//  e.g. a status change), else createdAt, else now.
static int64_t
s_event_time (const zhub_webhook_t *hook, const msgpack_object *payload)
{
    static const char *const fields[] = {"updatedAt", "createdAt"};
    for (size_t i = 0; i < 2; i++) {
        char *text = zhub_mpack_strdup (zhub_mpack_get (payload, fields[i]));
        int64_t time_ms;
        int rc = text ? zhub_time_parse (text, &time_ms) : -1;
        free (text);
        if (rc == 0)
            return time_ms;
    }
    return hook->now_ms;
}

static zhub_rc_t
s_parse (const zhub_webhook_t *hook, zhub_msg_list_t *out, char *why, size_t why_size)
{
    msgpack_sbuffer sbuf;
    msgpack_unpacked body;
    zhub_rc_t rc = ZHUB_REJECT;
    char *service = NULL, *event = NULL, *text = NULL;
    zhub_msg_t *msg = NULL;
    if (zhub_provider_json_body (hook, &sbuf, &body, why, why_size))
        goto done;
    const msgpack_object *envelope = &body.data;
    service = zhub_mpack_strdup (zhub_mpack_get (envelope, "service"));
    event = zhub_mpack_strdup (zhub_mpack_get (envelope, "event"));
    const msgpack_object *payload = zhub_mpack_get (envelope, "payload");
    if (envelope->type != MSGPACK_OBJECT_MAP || !service || !*service || !event || !*event
        || !payload || payload->type != MSGPACK_OBJECT_MAP) {
        snprintf (why, why_size,
                  "body must be an object with string service and event and an object payload");
        goto done;
    }
    msg = zhub_msg_new ();
    zhub_msg_set (&msg->source, "bird");
    text = zhub_sprintf ("webhook.bird.%s", event);
    zhub_msg_set (&msg->type, text);
    free (text);
    text = s_event_id (hook, envelope, payload);
    zhub_msg_set (&msg->id, text);
    free (text);
    char contact[128], payload_id[128];
    if (s_contact_of (service, event, payload, contact, sizeof contact))
        text = zhub_sprintf ("contact:%s", contact);
    else if (!zhub_provider_id_part (zhub_mpack_get (payload, "id"), payload_id, sizeof payload_id))
        text = zhub_sprintf ("bird:%s:%s", service, payload_id);
    else
        text = zhub_sprintf ("bird:%s", service);
    zhub_msg_set (&msg->subject, text);
    free (text);
    text = NULL;
    msg->time_ms = s_event_time (hook, payload);
    zhub_provider_set_data (msg, envelope);
    rc = zhub_provider_push_valid (out, &msg, why, why_size);
done:
    zhub_msg_destroy (&msg);
    free (service);
    free (event);
    zhub_provider_json_body_destroy (&sbuf, &body);
    return rc;
}

const zhub_provider_t zhub_provider_bird = {
    .name = "bird",
    .default_max_age_ms = ZHUB_BIRD_MAX_AGE_MS,
    .default_max_future_ms = ZHUB_BIRD_MAX_FUTURE_MS,
    .verify = s_verify,
    .parse = s_parse,
};
