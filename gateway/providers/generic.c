//  Standard Webhooks. The signed content is id + "." + timestamp + "." +
//  body; the header may carry several signatures (during the sender's own
//  key rotation) and unknown versions (v1a, ed25519) are skipped, as the
//  spec asks. webhook-id is stable across the sender's retries, so it makes
//  the message id and retries collapse in the dedup window.
//
//  The topic is webhook.<sender>.<type> when the body follows the spec's
//  recommended {"type","timestamp","data"} shape, else webhook.<sender>.
#include "generic.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define s_KEY_MAX 128 //  the spec says 24..64 bytes; leave room

int
zhub_generic_secret_key (const char *secret, unsigned char *key, size_t key_size)
{
    if (!secret)
        return -1;
    if (!strncmp (secret, "whsec_", 6))
        secret += 6;
    size_t size = strlen (secret);
    while (size > 0 && secret[size - 1] == '=')
        size--; //  padded or not, as the libraries accept both
    //  Decoded by hand rather than with sodium_base642bin: the reference
    //  libraries (Python's base64 with "==" appended) ignore leftover bits
    //  in the last character, and libsodium refuses them.
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t bits = 0;
    int count = 0;
    size_t used = 0;
    if (size == 0 || size % 4 == 1)
        return -1;
    for (size_t i = 0; i < size; i++) {
        const char *at = secret[i] ? strchr (alphabet, secret[i]) : NULL;
        if (!at)
            return -1;
        bits = (bits << 6) | (uint32_t)(at - alphabet);
        count += 6;
        if (count >= 8) {
            count -= 8;
            if (used == key_size)
                return -1;
            key[used++] = (unsigned char)(bits >> count);
            bits &= (1u << count) - 1;
        }
    }
    return (int)used;
}

//  base64 of the HMAC into out (at least 45 bytes).
static int
s_mac (const char *secret, const char *id, const char *timestamp, const char *body,
       size_t body_size, char *out, size_t out_size)
{
    unsigned char key[s_KEY_MAX];
    int key_size = zhub_generic_secret_key (secret, key, sizeof key);
    if (key_size < 0)
        return -1;
    crypto_auth_hmacsha256_state state;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init (&state, key, (size_t)key_size);
    crypto_auth_hmacsha256_update (&state, (const unsigned char *)id, strlen (id));
    crypto_auth_hmacsha256_update (&state, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update (&state, (const unsigned char *)timestamp, strlen (timestamp));
    crypto_auth_hmacsha256_update (&state, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update (&state, (const unsigned char *)body, body_size);
    crypto_auth_hmacsha256_final (&state, mac);
    sodium_memzero (&state, sizeof state);
    sodium_memzero (key, sizeof key);
    sodium_bin2base64 (out, out_size, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

int
zhub_generic_signature (const char *secret, const char *id, const char *timestamp, const char *body,
                        size_t body_size, char *out, size_t out_size)
{
    char mac[48];
    if (s_mac (secret, id, timestamp, body, body_size, mac, sizeof mac))
        return -1;
    snprintf (out, out_size, "v1,%s", mac);
    return 0;
}

//  A webhook-id fit for a message id: printable, no spaces, bounded.
static bool
s_id_ok (const char *id)
{
    size_t size = strlen (id);
    if (size == 0 || size > ZHUB_GENERIC_ID_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (*p <= ' ' || *p > '~')
            return false;
    return true;
}

static zhub_rc_t
s_verify (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, char *why, size_t why_size)
{
    if (!opts->secret || !*opts->secret)
        return zhub_provider_reject (why, why_size, "secret_unset");
    const char *id = zhub_webhook_header (hook, "webhook-id");
    const char *stamp = zhub_webhook_header (hook, "webhook-timestamp");
    const char *signatures = zhub_webhook_header (hook, "webhook-signature");
    if (!signatures)
        return zhub_provider_reject (why, why_size, "missing_signature");
    if (!id)
        return zhub_provider_reject (why, why_size, "missing_id");
    if (!s_id_ok (id))
        return zhub_provider_reject (why, why_size, "malformed_id");
    if (zhub_provider_check_time (hook, opts, stamp, 1000, why, why_size) != ZHUB_OK)
        return ZHUB_REJECT;
    char expected[48];
    if (s_mac (opts->secret, id, stamp, hook->body, hook->body_size, expected, sizeof expected))
        return zhub_provider_reject (why, why_size, "secret_malformed");
    size_t expected_size = strlen (expected);
    bool match = false;
    const char *p = signatures;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn (p, " ");
        //  "v1,<base64>"; other versions are skipped
        if (len > 3 && !strncmp (p, "v1,", 3))
            match |= zhub_secure_equal (expected, expected_size, p + 3, len - 3);
        p += len;
    }
    return match ? ZHUB_OK : zhub_provider_reject (why, why_size, "signature_mismatch");
}

static zhub_rc_t
s_parse (const zhub_webhook_t *hook, zhub_msg_list_t *out, char *why, size_t why_size)
{
    msgpack_sbuffer sbuf;
    msgpack_unpacked body;
    zhub_rc_t rc = ZHUB_REJECT;
    char *type = NULL, *time_text = NULL, *text = NULL;
    zhub_msg_t *msg = NULL;
    const char *sender = hook->route_name;
    const char *id = zhub_webhook_header (hook, "webhook-id");
    const char *stamp = zhub_webhook_header (hook, "webhook-timestamp");
    if (zhub_provider_json_body (hook, &sbuf, &body, why, why_size))
        goto done;
    if (!sender || !id || !s_id_ok (id) || body.data.type != MSGPACK_OBJECT_MAP) {
        snprintf (why, why_size, "body must be a JSON object");
        goto done;
    }
    type = zhub_provider_str (&body.data, "type");
    msg = zhub_msg_new ();
    text = zhub_sprintf ("generic/%s", sender);
    zhub_msg_set (&msg->source, text);
    free (text);
    text = type && *type ? zhub_sprintf ("webhook.%s.%s", sender, type)
                         : zhub_sprintf ("webhook.%s", sender);
    if (!zhub_topic_valid (text)) {
        snprintf (why, why_size, "type must be dotted words of [A-Za-z0-9_-]");
        goto done;
    }
    zhub_msg_set (&msg->type, text);
    free (text);
    text = zhub_sprintf ("generic:%s:%s", sender, id);
    zhub_msg_set (&msg->id, text);
    free (text);
    char object[128];
    const msgpack_object *data = zhub_mpack_get (&body.data, "data");
    if (!zhub_provider_id_part (zhub_mpack_get (data, "id"), object, sizeof object))
        text = zhub_sprintf ("%s:%s", sender, object);
    else
        text = zhub_sprintf ("%s", sender);
    zhub_msg_set (&msg->subject, text);
    free (text);
    text = NULL;
    time_text = zhub_provider_str (&body.data, "timestamp");
    int64_t time_ms, stamp_s;
    if (time_text && !zhub_time_parse (time_text, &time_ms))
        msg->time_ms = time_ms;
    else if (stamp && !zhub_provider_parse_digits (stamp, &stamp_s) && stamp_s < INT64_MAX / 1000)
        msg->time_ms = stamp_s * 1000;
    else
        msg->time_ms = hook->now_ms;
    zhub_provider_set_data (msg, &body.data);
    rc = zhub_provider_push_valid (out, &msg, why, why_size);
done:
    free (text);
    zhub_msg_destroy (&msg);
    free (type);
    free (time_text);
    zhub_provider_json_body_destroy (&sbuf, &body);
    return rc;
}

const zhub_provider_t zhub_provider_generic = {
    .name = "generic",
    .flags = ZHUB_PROVIDER_OWN_ROUTE,
    .default_max_age_ms = ZHUB_GENERIC_MAX_AGE_MS,
    .default_max_future_ms = ZHUB_GENERIC_MAX_FUTURE_MS,
    .verify = s_verify,
    .parse = s_parse,
};
