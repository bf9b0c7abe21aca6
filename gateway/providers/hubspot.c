//  HubSpot webhooks. A request carries up to three signatures; v3 is the
//  only one with a timestamp, so when its headers are present it alone
//  decides (falling back to v1 on a v3 failure would let a replayed
//  request through). v1/v2 are checked only for requests that carry no v3.
//
//  A body is a JSON array of events. Each event becomes one message whose
//  id is built from the fields that identify the event, because HubSpot
//  says eventId alone "is not guaranteed to be unique" and it re-sends the
//  same notification on retries: the broker's dedup then collapses them.
#include "hubspot.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define s_HDR_V3 "X-HubSpot-Signature-v3"
#define s_HDR_SIG "X-HubSpot-Signature"
#define s_HDR_VERSION "X-HubSpot-Signature-Version"
#define s_HDR_TIMESTAMP "X-HubSpot-Request-Timestamp"

//  HubSpot's decode table for v3 URIs.
static const struct {
    const char *escape;
    char plain;
} s_decode_table[] = {{"3A", ':'}, {"2F", '/'}, {"3F", '?'},  {"40", '@'},
                      {"21", '!'}, {"24", '$'}, {"27", '\''}, {"28", '('},
                      {"29", ')'}, {"2A", '*'}, {"2C", ','},  {"3B", ';'}};

char *
zhub_hubspot_v3_uri (const char *uri)
{
    size_t size = strlen (uri);
    char *out = zhub_malloc (size + 1);
    size_t used = 0;
    for (size_t i = 0; i < size; i++) {
        char plain = 0;
        if (uri[i] == '%' && i + 2 < size) {
            for (size_t k = 0; k < sizeof s_decode_table / sizeof s_decode_table[0]; k++)
                if (toupper ((unsigned char)uri[i + 1]) == s_decode_table[k].escape[0]
                    && toupper ((unsigned char)uri[i + 2]) == s_decode_table[k].escape[1])
                    plain = s_decode_table[k].plain;
        }
        if (plain) {
            out[used++] = plain;
            i += 2;
        } else
            out[used++] = uri[i];
    }
    out[used] = 0;
    return out;
}

int
zhub_hubspot_signature (const char *version, const char *secret, const char *method,
                        const char *uri, const char *body, size_t body_size, const char *timestamp,
                        char *out, size_t out_size)
{
    if (!strcmp (version, "v3")) {
        char *signed_uri = zhub_hubspot_v3_uri (uri);
        const void *parts[] = {method, signed_uri, body, timestamp};
        size_t sizes[] = {strlen (method), strlen (signed_uri), body_size, strlen (timestamp)};
        zhub_provider_hmac_b64 (secret, parts, sizes, 4, out, out_size);
        free (signed_uri);
        return 0;
    }
    bool v1 = !strcmp (version, "v1");
    if (!v1 && strcmp (version, "v2"))
        return -1;
    //  v1 and v2 are plain SHA-256 (not HMAC) of the secret and the rest.
    crypto_hash_sha256_state state;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init (&state);
    crypto_hash_sha256_update (&state, (const unsigned char *)secret, strlen (secret));
    if (!v1) {
        crypto_hash_sha256_update (&state, (const unsigned char *)method, strlen (method));
        crypto_hash_sha256_update (&state, (const unsigned char *)uri, strlen (uri));
    }
    crypto_hash_sha256_update (&state, (const unsigned char *)body, body_size);
    crypto_hash_sha256_final (&state, digest);
    sodium_memzero (&state, sizeof state);
    sodium_bin2hex (out, out_size, digest, sizeof digest);
    return 0;
}

static zhub_rc_t
s_verify (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, char *why, size_t why_size)
{
    if (!opts->secret || !*opts->secret)
        return zhub_provider_reject (why, why_size, "secret_unset");
    const char *v3 = zhub_webhook_header (hook, s_HDR_V3);
    if (v3) {
        const char *stamp = zhub_webhook_header (hook, s_HDR_TIMESTAMP);
        if (zhub_provider_check_time (hook, opts, stamp, 1, why, why_size) != ZHUB_OK)
            return ZHUB_REJECT;
        char expected[80];
        zhub_hubspot_signature ("v3", opts->secret, hook->method, hook->url, hook->body,
                                hook->body_size, stamp, expected, sizeof expected);
        return zhub_provider_check_signature (expected, v3, why, why_size);
    }
    const char *signature = zhub_webhook_header (hook, s_HDR_SIG);
    if (!signature)
        return zhub_provider_reject (why, why_size, "missing_signature");
    const char *version = zhub_webhook_header (hook, s_HDR_VERSION);
    if (!version)
        return zhub_provider_reject (why, why_size, "missing_signature_version");
    char wanted[8];
    snprintf (wanted, sizeof wanted, "%s", version);
    for (char *p = wanted; *p; p++)
        *p = (char)tolower ((unsigned char)*p);
    if (strcmp (wanted, "v1") && strcmp (wanted, "v2"))
        return zhub_provider_reject (why, why_size, "unknown_signature_version");
    char expected[80], given[80];
    zhub_hubspot_signature (wanted, opts->secret, hook->method, hook->url, hook->body,
                            hook->body_size, NULL, expected, sizeof expected);
    //  Hex is case-insensitive; HubSpot sends lower case.
    size_t given_size = strlen (signature);
    if (given_size >= sizeof given)
        return zhub_provider_reject (why, why_size, "signature_mismatch");
    for (size_t i = 0; i <= given_size; i++)
        given[i] = (char)tolower ((unsigned char)signature[i]);
    return zhub_provider_check_signature (expected, given, why, why_size);
}

//  The object kind a subscription type names: "contact.propertyChange" ->
//  "contact". Generic object.* events name their kind by objectTypeId.
static void
s_object_kind (const char *type, const msgpack_object *event, char *kind, size_t size)
{
    const char *dot = strchr (type, '.');
    size_t len = dot ? (size_t)(dot - type) : strlen (type);
    snprintf (kind, size, "%.*s", (int)len, type);
    if (strcmp (kind, "object"))
        return;
    static const struct {
        const char *type_id, *kind;
    } known[] = {{"0-1", "contact"}, {"0-2", "company"}, {"0-3", "deal"}, {"0-5", "ticket"}};
    const msgpack_object *type_id = zhub_mpack_get (event, "objectTypeId");
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (zhub_mpack_str_eq (type_id, known[i].type_id))
            snprintf (kind, size, "%s", known[i].kind);
}

//  One event -> one message. Returns 0, or -1 with why filled.
static int
s_event_to_msg (const msgpack_object *event, size_t index, zhub_msg_t **msg_p, char *why,
                size_t why_size)
{
    if (event->type != MSGPACK_OBJECT_MAP) {
        snprintf (why, why_size, "event %zu is not an object", index);
        return -1;
    }
    const msgpack_object *type_obj = zhub_mpack_get (event, "subscriptionType");
    if (!type_obj)
        type_obj = zhub_mpack_get (event, "eventType");
    char *type = zhub_mpack_strdup (type_obj);
    if (!type || !*type) {
        free (type);
        snprintf (why, why_size, "event %zu has no subscriptionType or eventType", index);
        return -1;
    }
    //  The id: portalId:subscriptionId:eventId:objectId:occurredAt. Events
    //  without an objectId (associationChange) use fromObjectId-toObjectId.
    static const char *const required[] = {"portalId", "subscriptionId", "eventId", "occurredAt"};
    char parts[4][72];
    for (size_t i = 0; i < 4; i++)
        if (zhub_provider_id_part (zhub_mpack_get (event, required[i]), parts[i],
                                   sizeof parts[i])) {
            snprintf (why, why_size, "event %zu: %s is missing or not an integer", index,
                      required[i]);
            free (type);
            return -1;
        }
    int64_t occurred_at;
    if (zhub_mpack_int (zhub_mpack_get (event, "occurredAt"), &occurred_at)) {
        snprintf (why, why_size, "event %zu: occurredAt is not a time in ms", index);
        free (type);
        return -1;
    }
    char object[150] = "";
    const msgpack_object *object_id = zhub_mpack_get (event, "objectId");
    if (object_id && zhub_provider_id_part (object_id, object, sizeof object)) {
        snprintf (why, why_size, "event %zu: objectId is not an integer", index);
        free (type);
        return -1;
    }
    if (!object_id) {
        char from[72], to[72];
        if (!zhub_provider_id_part (zhub_mpack_get (event, "fromObjectId"), from, sizeof from)
            && !zhub_provider_id_part (zhub_mpack_get (event, "toObjectId"), to, sizeof to))
            snprintf (object, sizeof object, "%s-%s", from, to);
    }
    char kind[64];
    s_object_kind (type, event, kind, sizeof kind);

    zhub_msg_t *msg = zhub_msg_new ();
    char *text =
        zhub_sprintf ("hubspot:%s:%s:%s:%s:%s", parts[0], parts[1], parts[2], object, parts[3]);
    zhub_msg_set (&msg->id, text);
    free (text);
    zhub_msg_set (&msg->source, "hubspot");
    text = zhub_sprintf ("webhook.hubspot.%s", type);
    zhub_msg_set (&msg->type, text);
    free (text);
    //  The subject orders events about one object. An associationChange
    //  (no objectId) is ordered with its "from" object, which its type names.
    char from[72];
    if (!object_id
        && zhub_provider_id_part (zhub_mpack_get (event, "fromObjectId"), from, sizeof from) == 0)
        text = zhub_sprintf ("hubspot:%s:%s", kind, from);
    else if (object_id)
        text = zhub_sprintf ("hubspot:%s:%s", kind, object);
    else
        text = zhub_sprintf ("hubspot:%s", kind);
    zhub_msg_set (&msg->subject, text);
    free (text);
    msg->time_ms = occurred_at;
    zhub_provider_set_data (msg, event);
    free (type);

    char err[128];
    if (zhub_msg_validate (msg, err, sizeof err)) {
        snprintf (why, why_size, "event %zu: %s", index, err);
        zhub_msg_destroy (&msg);
        return -1;
    }
    *msg_p = msg;
    return 0;
}

static zhub_rc_t
s_parse (const zhub_webhook_t *hook, zhub_msg_list_t *out, char *why, size_t why_size)
{
    msgpack_sbuffer sbuf;
    msgpack_unpacked body;
    zhub_rc_t rc = ZHUB_REJECT;
    if (zhub_provider_json_body (hook, &sbuf, &body, why, why_size))
        goto done;
    if (body.data.type != MSGPACK_OBJECT_ARRAY) {
        snprintf (why, why_size, "body must be a JSON array of events");
        goto done;
    }
    const msgpack_object_array *events = &body.data.via.array;
    if (events->size > ZHUB_HUBSPOT_MAX_EVENTS) {
        snprintf (why, why_size, "%u events in one request; at most %d", events->size,
                  ZHUB_HUBSPOT_MAX_EVENTS);
        goto done;
    }
    zhub_msg_list_t list = {0};
    for (uint32_t i = 0; i < events->size; i++) {
        zhub_msg_t *msg = NULL;
        if (s_event_to_msg (&events->ptr[i], i, &msg, why, why_size)) {
            zhub_msg_list_clear (&list);
            goto done;
        }
        zhub_msg_list_push (&list, &msg);
    }
    zhub_msg_list_move (out, &list);
    rc = ZHUB_OK;
done:
    zhub_provider_json_body_destroy (&sbuf, &body);
    return rc;
}

const zhub_provider_t zhub_provider_hubspot = {
    .name = "hubspot",
    .default_max_age_ms = ZHUB_HUBSPOT_MAX_AGE_MS,
    .default_max_future_ms = ZHUB_HUBSPOT_MAX_FUTURE_MS,
    .verify = s_verify,
    .parse = s_parse,
};
