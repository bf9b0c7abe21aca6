//  The provider table and the few helpers every provider needs: HMAC in
//  base64, strict digit parsing for signature timestamps, and the faithful
//  JSON -> msgpack conversion of a body. Kept here so that each provider
//  file holds only what is particular to that provider.
#include "provider.h"
#include "bird.h"
#include "hubspot.h"
#include "zhub_json.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  One line per provider; /v1/webhooks/<name> routes here.
static const zhub_provider_t *const s_providers[] = {
    &zhub_provider_hubspot,
    &zhub_provider_bird,
};

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
    if (zhub_json_text_to_mpack (hook->body, hook->body_size, &pk, NULL, err, sizeof err)) {
        snprintf (why, why_size, "malformed JSON: %s", err);
        return -1;
    }
    //  We produced these bytes ourselves, so the limits only need to be
    //  generous: every JSON value takes at least one byte of text.
    zhub_mpack_limits_t limits = {
        .max_size = sbuf->size, .max_depth = 64, .max_items = hook->body_size + 1};
    if (zhub_mpack_decode ((const uint8_t *)sbuf->data, sbuf->size, &limits, result, err,
                           sizeof err)) {
        snprintf (why, why_size, "body cannot be represented: %s", err);
        return -1;
    }
    return 0;
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
