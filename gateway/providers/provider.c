//  The provider table and the few helpers every provider needs: HMAC in
//  base64, the timestamp window and the constant-time comparison that end
//  a verify, the faithful JSON -> msgpack conversion of a body, and the
//  validate-and-push that ends each message. Kept here so that each
//  provider file holds only what is particular to that provider.
#include "provider.h"
#include "bird.h"
#include "calendly.h"
#include "events.h"
#include "generic.h"
#include "google.h"
#include "graph.h"
#include "hubspot.h"
#include "whatsapp.h"
#include "zhub_json.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  One line per provider; /v1/webhooks/<name> routes here.
static const zhub_provider_t *const s_providers[] = {
    &zhub_provider_hubspot, &zhub_provider_bird,  &zhub_provider_calendly, &zhub_provider_whatsapp,
    &zhub_provider_google,  &zhub_provider_graph, &zhub_provider_generic,  &zhub_provider_events,
};

size_t
zhub_provider_count (void)
{
    return sizeof s_providers / sizeof s_providers[0];
}

const zhub_provider_t *
zhub_provider_at (size_t index)
{
    return index < zhub_provider_count () ? s_providers[index] : NULL;
}

const zhub_provider_t *
zhub_provider_find (const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof s_providers / sizeof s_providers[0]; i++)
        if (!strcmp (s_providers[i]->name, name))
            return s_providers[i];
    return NULL;
}

const zhub_provider_t *
zhub_provider_route (const char *path, const char **route_name)
{
    *route_name = NULL;
    if (!path)
        return NULL;
    if (!strcmp (path, "/v1/events"))
        return &zhub_provider_events;
    static const char prefix[] = "/v1/webhooks/";
    if (strncmp (path, prefix, sizeof prefix - 1))
        return NULL;
    const char *name = path + sizeof prefix - 1;
    static const char generic[] = "generic/";
    if (!strncmp (name, generic, sizeof generic - 1)) {
        const char *sender = name + sizeof generic - 1;
        size_t size = strlen (sender);
        if (size == 0 || size > ZHUB_GENERIC_NAME_MAX)
            return NULL;
        for (const char *p = sender; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
                return NULL;
        *route_name = sender;
        return &zhub_provider_generic;
    }
    const zhub_provider_t *provider = zhub_provider_find (name);
    if (!provider || (provider->flags & ZHUB_PROVIDER_OWN_ROUTE))
        return NULL;
    return provider;
}

zhub_rc_t
zhub_provider_verify (const zhub_provider_t *provider, const zhub_webhook_t *hook,
                      const zhub_verify_opts_t *opts, char *why, size_t why_size)
{
    bool has_secret = opts->secret && *opts->secret;
    bool has_previous = opts->previous && *opts->previous;
    zhub_verify_opts_t one = *opts;
    if (!has_secret && has_previous)
        one.secret = opts->previous; //  only the old one is left: it alone counts
    zhub_rc_t rc = provider->verify (hook, &one, why, why_size);
    if (rc != ZHUB_REJECT || !has_secret || !has_previous || strcmp (why, "signature_mismatch"))
        return rc;
    one.secret = opts->previous;
    return provider->verify (hook, &one, why, why_size);
}

bool
zhub_provider_secret_match (const char *value, size_t value_size, const char *secret,
                            const char *previous)
{
    bool match = false;
    if (value && secret && *secret)
        match |= zhub_secure_equal (value, value_size, secret, strlen (secret));
    if (value && previous && *previous)
        match |= zhub_secure_equal (value, value_size, previous, strlen (previous));
    return match;
}

zhub_rc_t
zhub_provider_check_signature (const char *expected, const char *given, char *why, size_t why_size)
{
    if (!zhub_secure_equal (expected, strlen (expected), given, strlen (given)))
        return zhub_provider_reject (why, why_size, "signature_mismatch");
    return ZHUB_OK;
}

zhub_rc_t
zhub_provider_check_time (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts,
                          const char *stamp, int64_t unit_ms, char *why, size_t why_size)
{
    if (!stamp)
        return zhub_provider_reject (why, why_size, "missing_timestamp");
    int64_t units;
    if (zhub_provider_parse_digits (stamp, &units) || units > INT64_MAX / unit_ms)
        return zhub_provider_reject (why, why_size, "malformed_timestamp");
    if (units * unit_ms < hook->now_ms - opts->max_age_ms)
        return zhub_provider_reject (why, why_size, "timestamp_stale");
    if (units * unit_ms > hook->now_ms + opts->max_future_ms)
        return zhub_provider_reject (why, why_size, "timestamp_future");
    return ZHUB_OK;
}

void
zhub_provider_hmac_hex (const void *key, size_t key_size, const void *const *parts,
                        const size_t *sizes, size_t count, char *out, size_t out_size)
{
    crypto_auth_hmacsha256_state state;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init (&state, (const unsigned char *)key, key_size);
    for (size_t i = 0; i < count; i++)
        crypto_auth_hmacsha256_update (&state, parts[i], sizes[i]);
    crypto_auth_hmacsha256_final (&state, mac);
    sodium_bin2hex (out, out_size, mac, sizeof mac);
    sodium_memzero (&state, sizeof state);
}

char *
zhub_provider_hash_id (const char *prefix, const char *const *parts, size_t count)
{
    crypto_hash_sha256_state state;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init (&state);
    for (size_t i = 0; i < count; i++) {
        if (parts[i])
            crypto_hash_sha256_update (&state, (const unsigned char *)parts[i], strlen (parts[i]));
        crypto_hash_sha256_update (&state, (const unsigned char *)"\n", 1);
    }
    crypto_hash_sha256_final (&state, digest);
    char hex[2 * sizeof digest + 1];
    sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
    return zhub_sprintf ("%s%s", prefix, hex);
}

static int
s_hex_value (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  Decodes size bytes of form-encoded text; NULL on a bad escape or NUL.
static char *
s_form_decode (const char *text, size_t size)
{
    char *out = zhub_malloc (size + 1);
    size_t used = 0;
    for (size_t i = 0; i < size; i++) {
        char c = text[i];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            int hi = i + 2 < size ? s_hex_value (text[i + 1]) : -1;
            int lo = i + 2 < size ? s_hex_value (text[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free (out);
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        out[used++] = c;
    }
    out[used] = 0;
    return out;
}

char *
zhub_provider_query (const char *url, const char *key)
{
    const char *query = url ? strchr (url, '?') : NULL;
    if (!query)
        return NULL;
    size_t key_size = strlen (key);
    const char *p = query + 1;
    while (*p) {
        const char *end = p + strcspn (p, "&#");
        if ((size_t)(end - p) > key_size && !strncmp (p, key, key_size) && p[key_size] == '=')
            return s_form_decode (p + key_size + 1, (size_t)(end - p) - key_size - 1);
        if ((size_t)(end - p) == key_size && !strncmp (p, key, key_size))
            return zhub_strdup ("");
        if (*end != '&')
            break;
        p = end + 1;
    }
    return NULL;
}

char *
zhub_provider_str (const msgpack_object *map, const char *key)
{
    const msgpack_object *obj = map ? zhub_mpack_get (map, key) : NULL;
    if (!obj || obj->type != MSGPACK_OBJECT_STR)
        return NULL;
    return zhub_mpack_strdup (obj);
}

void
zhub_msg_list_push (zhub_msg_list_t *list, zhub_msg_t **msg_p)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 8;
        list->items = zhub_realloc (list->items, list->capacity * sizeof *list->items);
    }
    list->items[list->count++] = *msg_p;
    *msg_p = NULL;
}

void
zhub_msg_list_clear (zhub_msg_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        zhub_msg_destroy (&list->items[i]);
    free (list->items);
    list->items = NULL;
    list->count = list->capacity = 0;
}

void
zhub_msg_list_move (zhub_msg_list_t *to, zhub_msg_list_t *from)
{
    for (size_t i = 0; i < from->count; i++)
        zhub_msg_list_push (to, &from->items[i]);
    zhub_msg_list_clear (from); //  every item is NULL now: this frees the array
}

void
zhub_provider_hmac_b64 (const char *key, const void *const *parts, const size_t *sizes,
                        size_t count, char *out, size_t out_size)
{
    crypto_auth_hmacsha256_state state;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init (&state, (const unsigned char *)key, strlen (key));
    for (size_t i = 0; i < count; i++)
        crypto_auth_hmacsha256_update (&state, parts[i], sizes[i]);
    crypto_auth_hmacsha256_final (&state, mac);
    sodium_bin2base64 (out, out_size, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero (&state, sizeof state);
}

int
zhub_provider_parse_digits (const char *text, int64_t *out)
{
    if (!text || !*text || strlen (text) > 18)
        return -1; //  18 digits always fit int64; no timestamp needs more
    int64_t value = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (*p - '0');
    }
    *out = value;
    return 0;
}

int
zhub_provider_json_body (const zhub_webhook_t *hook, msgpack_sbuffer *sbuf,
                         msgpack_unpacked *result, char *why, size_t why_size)
{
    msgpack_sbuffer_init (sbuf);
    msgpack_unpacked_init (result);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sbuf, msgpack_sbuffer_write);
    char err[160];
    //  the body becomes an envelope's data: no deeper than the broker takes
    //  (a deeper one is refused here, with 400, not by the bus)
    zhub_json_limits_t json_limits = {.max_depth = ZHUB_MSG_DATA_MAX_DEPTH};
    if (zhub_json_text_to_mpack (hook->body, hook->body_size, &pk, &json_limits, err, sizeof err)) {
        snprintf (why, why_size, "malformed JSON: %s", err);
        return -1;
    }
    //  We produced these bytes ourselves: the depth is checked already, and
    //  every JSON value takes at least one byte of text. More items than an
    //  envelope may hold are refused here rather than by the bus.
    zhub_mpack_limits_t limits = {.max_size = sbuf->size,
                                  .max_depth = ZHUB_MSG_DATA_MAX_DEPTH,
                                  .max_items = hook->body_size + 1 < ZHUB_MSG_MAX_ITEMS
                                                   ? hook->body_size + 1
                                                   : ZHUB_MSG_MAX_ITEMS};
    if (zhub_mpack_decode ((const uint8_t *)sbuf->data, sbuf->size, &limits, result, err,
                           sizeof err)) {
        snprintf (why, why_size, "body cannot be represented: %s", err);
        return -1;
    }
    return 0;
}

void
zhub_provider_json_body_destroy (msgpack_sbuffer *sbuf, msgpack_unpacked *result)
{
    msgpack_unpacked_destroy (result);
    msgpack_sbuffer_destroy (sbuf);
}

zhub_rc_t
zhub_provider_push_valid (zhub_msg_list_t *out, zhub_msg_t **msg_p, char *why, size_t why_size)
{
    char err[128];
    if (zhub_msg_validate (*msg_p, err, sizeof err)) {
        snprintf (why, why_size, "%s", err);
        zhub_msg_destroy (msg_p);
        return ZHUB_REJECT;
    }
    zhub_msg_list_push (out, msg_p);
    return ZHUB_OK;
}

void
zhub_provider_set_data (zhub_msg_t *msg, const msgpack_object *obj)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_object (&pk, *obj);
    zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
}

int
zhub_provider_id_part (const msgpack_object *obj, char *buf, size_t size)
{
    if (!obj)
        return -1;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        snprintf (buf, size, "%llu", (unsigned long long)obj->via.u64);
        return 0;
    }
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        snprintf (buf, size, "%lld", (long long)obj->via.i64);
        return 0;
    }
    if (obj->type != MSGPACK_OBJECT_STR || obj->via.str.size == 0 || obj->via.str.size >= size)
        return -1;
    for (uint32_t i = 0; i < obj->via.str.size; i++) {
        char c = obj->via.str.ptr[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                     || c == '_' || c == '-' || c == '.';
        if (!plain)
            return -1;
    }
    memcpy (buf, obj->via.str.ptr, obj->via.str.size);
    buf[obj->via.str.size] = 0;
    return 0;
}

const char *
zhub_webhook_header (const zhub_webhook_t *hook, const char *name)
{
    const char *value = hook->header ? hook->header (hook->header_ctx, name) : NULL;
    return value && *value ? value : NULL;
}

zhub_rc_t
zhub_provider_reject (char *why, size_t why_size, const char *reason)
{
    snprintf (why, why_size, "%s", reason);
    return ZHUB_REJECT;
}
