//  WhatsApp Cloud API webhooks. One POST may carry several entries, each
//  with several changes, each with several messages or statuses: every one
//  becomes its own message so that each is acknowledged, retried and
//  ordered on its own. Ids come from Meta's own ids (the wamid; a status
//  adds its state, since "sent", "delivered" and "read" of one message are
//  three events), so Meta's retries — up to 7 days — collapse in the dedup
//  window. The subject is the customer's WhatsApp id, so that everything
//  about one person is delivered in order. A change of another field
//  (templates, account updates) is passed on whole under
//  webhook.whatsapp.<field> with a hash of its content as id.
#include "whatsapp.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define s_HDR_SIG "X-Hub-Signature-256"

void
zhub_whatsapp_signature (const char *app_secret, const char *body, size_t body_size, char *out,
                         size_t out_size)
{
    char hex[65];
    const void *parts[] = {body};
    size_t sizes[] = {body_size};
    zhub_provider_hmac_hex (app_secret, strlen (app_secret), parts, sizes, 1, hex, sizeof hex);
    snprintf (out, out_size, "sha256=%s", hex);
}

static zhub_rc_t
s_handshake (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, zhub_handshake_t *reply)
{
    if (strcmp (hook->method, "GET"))
        return ZHUB_NOTFOUND;
    char *mode = zhub_provider_query (hook->url, "hub.mode");
    char *token = zhub_provider_query (hook->url, "hub.verify_token");
    char *challenge = zhub_provider_query (hook->url, "hub.challenge");
    reply->content_type = "text/plain";
    bool plain = challenge && *challenge && strlen (challenge) <= ZHUB_WHATSAPP_CHALLENGE_MAX;
    for (const char *p = challenge; plain && *p; p++)
        plain = *p > ' ' && *p <= '~';
    if (!mode || strcmp (mode, "subscribe") || !token || !plain) {
        reply->status = 400;
        reply->body =
            zhub_strdup ("expected hub.mode=subscribe, hub.verify_token, hub.challenge\n");
    } else if (!zhub_provider_secret_match (token, strlen (token), opts->token,
                                            opts->token_previous)) {
        //  No token configured matches nothing: the endpoint cannot be claimed.
        reply->status = 403;
        reply->body = zhub_strdup ("verify token mismatch\n");
    } else {
        reply->status = 200;
        reply->body = zhub_strdup (challenge);
    }
    free (mode);
    if (token)
        sodium_memzero (token, strlen (token));
    free (token);
    free (challenge);
    return ZHUB_OK;
}

static zhub_rc_t
s_verify (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, char *why, size_t why_size)
{
    if (!opts->secret || !*opts->secret)
        return zhub_provider_reject (why, why_size, "secret_unset");
    const char *given = zhub_webhook_header (hook, s_HDR_SIG);
    if (!given)
        return zhub_provider_reject (why, why_size, "missing_signature");
    char expected[80];
    zhub_whatsapp_signature (opts->secret, hook->body, hook->body_size, expected, sizeof expected);
    return zhub_provider_check_signature (expected, given, why, why_size);
}

//  Packs {"entry_id","field","metadata","contact","<kind>": item} as data:
//  one message or status with what a consumer needs to make sense of it.
static void
s_set_data (zhub_msg_t *msg, const msgpack_object *entry_id, const char *field,
            const msgpack_object *metadata, const msgpack_object *contact, const char *kind,
            const msgpack_object *item)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2 + (entry_id ? 1 : 0) + (metadata ? 1 : 0) + (contact ? 1 : 0));
    if (entry_id) {
        zhub_mpack_pack_str (&pk, "entry_id");
        msgpack_pack_object (&pk, *entry_id);
    }
    zhub_mpack_pack_kv_str (&pk, "field", field);
    if (metadata) {
        zhub_mpack_pack_str (&pk, "metadata");
        msgpack_pack_object (&pk, *metadata);
    }
    if (contact) {
        zhub_mpack_pack_str (&pk, "contact");
        msgpack_pack_object (&pk, *contact);
    }
    zhub_mpack_pack_str (&pk, kind);
    msgpack_pack_object (&pk, *item);
    zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
}

//  The contacts[] entry whose wa_id is wa_id, or NULL.
static const msgpack_object *
s_contact (const msgpack_object *contacts, const char *wa_id)
{
    if (!contacts || contacts->type != MSGPACK_OBJECT_ARRAY || !wa_id)
        return NULL;
    for (uint32_t i = 0; i < contacts->via.array.size; i++)
        if (zhub_mpack_str_eq (zhub_mpack_get (&contacts->via.array.ptr[i], "wa_id"), wa_id))
            return &contacts->via.array.ptr[i];
    return NULL;
}

static int64_t
s_time (const msgpack_object *item, int64_t fallback)
{
    char *text = zhub_provider_str (item, "timestamp");
    int64_t seconds;
    int64_t time_ms = fallback;
    if (text && !zhub_provider_parse_digits (text, &seconds) && seconds < INT64_MAX / 1000)
        time_ms = seconds * 1000;
    free (text);
    return time_ms;
}

//  One item of value.messages[] or value.statuses[] -> one message.
static int
s_item (const zhub_webhook_t *hook, const msgpack_object *entry_id, const msgpack_object *value,
        bool status, const msgpack_object *item, zhub_msg_list_t *list, char *why, size_t why_size)
{
    char *wamid = zhub_provider_str (item, "id");
    char *who = zhub_provider_str (item, status ? "recipient_id" : "from");
    char *state = status ? zhub_provider_str (item, "status") : NULL;
    int rc = -1;
    if (!wamid || !*wamid || !who || !*who || (status && (!state || !*state))) {
        snprintf (why, why_size, "a WhatsApp %s without id, %s%s", status ? "status" : "message",
                  status ? "recipient_id" : "from", status ? " or status" : "");
        goto done;
    }
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->source, "whatsapp");
    zhub_msg_set (&msg->type, status ? "webhook.whatsapp.status" : "webhook.whatsapp.message");
    char *text = status ? zhub_sprintf ("whatsapp:%s:%s", wamid, state)
                        : zhub_sprintf ("whatsapp:%s", wamid);
    zhub_msg_set (&msg->id, text);
    free (text);
    text = zhub_sprintf ("whatsapp:%s", who);
    zhub_msg_set (&msg->subject, text);
    free (text);
    msg->time_ms = s_time (item, hook->now_ms);
    s_set_data (msg, entry_id, "messages", zhub_mpack_get (value, "metadata"),
                s_contact (zhub_mpack_get (value, "contacts"), who), status ? "status" : "message",
                item);
    rc = zhub_provider_push_valid (list, &msg, why, why_size) == ZHUB_OK ? 0 : -1;
done:
    free (wamid);
    free (who);
    free (state);
    return rc;
}

//  A change without messages or statuses: passed on whole.
static int
s_other_change (const zhub_webhook_t *hook, const msgpack_object *entry_id, const char *field,
                const msgpack_object *change, zhub_msg_list_t *list, char *why, size_t why_size)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_object (&pk, *change);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, (const unsigned char *)sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    char hex[2 * sizeof digest + 1], entry[72] = "";
    sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
    zhub_provider_id_part (entry_id, entry, sizeof entry);

    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->source, "whatsapp");
    char *text = zhub_sprintf ("webhook.whatsapp.%s", field);
    zhub_msg_set (&msg->type, text);
    free (text);
    text = zhub_sprintf ("whatsapp:%s:%s", field, hex);
    zhub_msg_set (&msg->id, text);
    free (text);
    text = zhub_sprintf ("whatsapp:account:%s", entry[0] ? entry : "-");
    zhub_msg_set (&msg->subject, text);
    free (text);
    msg->time_ms = hook->now_ms;
    s_set_data (msg, entry_id, field, NULL, NULL, "change", change);
    return zhub_provider_push_valid (list, &msg, why, why_size) == ZHUB_OK ? 0 : -1;
}

static int
s_change (const zhub_webhook_t *hook, const msgpack_object *entry_id, const msgpack_object *change,
          zhub_msg_list_t *list, char *why, size_t why_size)
{
    char *field = zhub_provider_str (change, "field");
    const msgpack_object *value = zhub_mpack_get (change, "value");
    int rc = -1;
    if (!field || !*field || strchr (field, '.') || !zhub_topic_valid (field)
        || (value && value->type != MSGPACK_OBJECT_MAP)) {
        snprintf (why, why_size, "a change without a plain field name or with a non-object value");
        goto done;
    }
    const msgpack_object *messages = zhub_mpack_get (value, "messages");
    const msgpack_object *statuses = zhub_mpack_get (value, "statuses");
    bool any = false;
    const msgpack_object *lists[] = {messages, statuses};
    for (int k = 0; k < 2; k++) {
        if (!lists[k])
            continue;
        if (lists[k]->type != MSGPACK_OBJECT_ARRAY) {
            snprintf (why, why_size, "value.%s must be an array", k ? "statuses" : "messages");
            goto done;
        }
        for (uint32_t i = 0; i < lists[k]->via.array.size; i++) {
            if (s_item (hook, entry_id, value, k == 1, &lists[k]->via.array.ptr[i], list, why,
                        why_size))
                goto done;
            any = true;
        }
    }
    rc = any ? 0 : s_other_change (hook, entry_id, field, change, list, why, why_size);
done:
    free (field);
    return rc;
}

static zhub_rc_t
s_parse (const zhub_webhook_t *hook, zhub_msg_list_t *out, char *why, size_t why_size)
{
    msgpack_sbuffer sbuf;
    msgpack_unpacked body;
    zhub_rc_t rc = ZHUB_REJECT;
    zhub_msg_list_t list = {0};
    if (zhub_provider_json_body (hook, &sbuf, &body, why, why_size))
        goto done;
    const msgpack_object *entries = zhub_mpack_get (&body.data, "entry");
    if (body.data.type != MSGPACK_OBJECT_MAP || !entries || entries->type != MSGPACK_OBJECT_ARRAY) {
        snprintf (why, why_size, "body must be an object with an entry array");
        goto done;
    }
    for (uint32_t e = 0; e < entries->via.array.size; e++) {
        const msgpack_object *entry = &entries->via.array.ptr[e];
        const msgpack_object *changes = zhub_mpack_get (entry, "changes");
        if (entry->type != MSGPACK_OBJECT_MAP || !changes
            || changes->type != MSGPACK_OBJECT_ARRAY) {
            snprintf (why, why_size, "entry %u has no changes array", e);
            goto done;
        }
        const msgpack_object *entry_id = zhub_mpack_get (entry, "id");
        for (uint32_t c = 0; c < changes->via.array.size; c++)
            if (s_change (hook, entry_id, &changes->via.array.ptr[c], &list, why, why_size))
                goto done;
    }
    zhub_msg_list_move (out, &list);
    rc = ZHUB_OK;
done:
    zhub_msg_list_clear (&list);
    zhub_provider_json_body_destroy (&sbuf, &body);
    return rc;
}

const zhub_provider_t zhub_provider_whatsapp = {
    .name = "whatsapp",
    .flags = ZHUB_PROVIDER_ALLOW_GET,
    .handshake = s_handshake,
    .default_max_age_ms = ZHUB_WHATSAPP_MAX_AGE_MS,
    .default_max_future_ms = ZHUB_WHATSAPP_MAX_FUTURE_MS,
    .verify = s_verify,
    .parse = s_parse,
};
