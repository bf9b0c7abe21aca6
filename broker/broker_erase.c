//  What an erase matches and how a record is redacted. Matching walks the
//  decoded msgpack rather than the raw bytes so that a short HubSpot id
//  matches only a whole value, never a few bytes inside an unrelated one.
#include "broker_erase.h"

#include "zhub_mpack.h"
#include "zhub_msg.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define S_SUBSTRING_MIN 5
#define S_MAX_DEPTH 16

static void
s_add (broker_needles_t *needles, const char *text, size_t size)
{
    if (!size || needles->count == BROKER_ERASE_MAX_NEEDLES)
        return;
    for (size_t i = 0; i < needles->count; i++)
        if (strlen (needles->items[i]) == size && !memcmp (needles->items[i], text, size))
            return;
    char *copy = zhub_malloc (size + 1);
    memcpy (copy, text, size);
    copy[size] = 0;
    needles->items[needles->count++] = copy;
}

static void
s_add_obj (broker_needles_t *needles, const msgpack_object *obj)
{
    if (!obj || obj->type != MSGPACK_OBJECT_STR)
        return;
    const char *text = obj->via.str.ptr;
    size_t size = obj->via.str.size;
    s_add (needles, text, size);
    if (size > 1 && text[0] == '+')
        s_add (needles, text + 1, size - 1);
}

int
broker_needles_from_data (const uint8_t *data, size_t size, broker_needles_t *needles)
{
    memset (needles, 0, sizeof *needles);
    zhub_mpack_limits_t limits = {.max_size = size, .max_depth = 4, .max_items = 256};
    msgpack_unpacked result;
    if (zhub_mpack_decode (data, size, &limits, &result, NULL, 0))
        return -1;
    const msgpack_object *map = &result.data;
    int rc = -1;
    if (map->type == MSGPACK_OBJECT_MAP) {
        needles->request = zhub_mpack_strdup (zhub_mpack_get (map, "request"));
        const msgpack_object *list = zhub_mpack_get (map, "identifiers");
        if (list && list->type == MSGPACK_OBJECT_ARRAY)
            for (uint32_t i = 0; i < list->via.array.size; i++)
                s_add_obj (needles, &list->via.array.ptr[i]);
        const char *fields[] = {"bird_contact_id", "hubspot_contact_id", "phone", "email"};
        for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
            s_add_obj (needles, zhub_mpack_get (map, fields[i]));
        rc = needles->count ? 0 : -1;
    }
    msgpack_unpacked_destroy (&result);
    if (rc)
        broker_needles_clear (needles);
    return rc;
}

void
broker_needles_clear (broker_needles_t *needles)
{
    for (size_t i = 0; i < needles->count; i++)
        free (needles->items[i]);
    free (needles->request);
    memset (needles, 0, sizeof *needles);
}

int
broker_needles_encode (const broker_needles_t *needles, uint8_t **buf, size_t *size)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    zhub_mpack_pack_kv_str (&pk, "request", needles->request ? needles->request : "");
    zhub_mpack_pack_str (&pk, "identifiers");
    msgpack_pack_array (&pk, needles->count);
    for (size_t i = 0; i < needles->count; i++)
        zhub_mpack_pack_str (&pk, needles->items[i]);
    *buf = (uint8_t *)sbuf.data;
    *size = sbuf.size;
    return 0;
}

int
broker_needles_decode (const uint8_t *buf, size_t size, broker_needles_t *needles)
{
    return broker_needles_from_data (buf, size, needles);
}

static bool
s_contains (const char *hay, size_t hay_size, const char *needle, bool fold)
{
    size_t size = strlen (needle);
    for (size_t i = 0; size && i + size <= hay_size; i++) {
        size_t j = 0;
        while (j < size
               && (fold ? tolower ((unsigned char)hay[i + j]) == tolower ((unsigned char)needle[j])
                        : hay[i + j] == needle[j]))
            j++;
        if (j == size)
            return true;
    }
    return false;
}

static bool
s_str_mentions (const char *text, size_t size, const broker_needles_t *needles)
{
    for (size_t i = 0; i < needles->count; i++) {
        const char *needle = needles->items[i];
        size_t needle_size = strlen (needle);
        if (needle_size >= S_SUBSTRING_MIN) {
            if (s_contains (text, size, needle, strchr (needle, '@') != NULL))
                return true;
        } else if (size == needle_size && !memcmp (text, needle, size))
            return true;
    }
    return false;
}

static bool
s_int_mentions (uint64_t value, const broker_needles_t *needles)
{
    char text[32];
    int size = snprintf (text, sizeof text, "%llu", (unsigned long long)value);
    for (size_t i = 0; i < needles->count; i++)
        if ((int)strlen (needles->items[i]) == size && !strcmp (needles->items[i], text))
            return true;
    return false;
}

static bool s_obj_mentions (const msgpack_object *obj, const broker_needles_t *needles, int depth);

static bool
s_bin_mentions (const char *bytes, size_t size, const broker_needles_t *needles, int depth)
{
    zhub_mpack_limits_t limits = {.max_size = size, .max_depth = S_MAX_DEPTH, .max_items = 1 << 16};
    msgpack_unpacked result;
    if (zhub_mpack_decode ((const uint8_t *)bytes, size, &limits, &result, NULL, 0))
        return s_str_mentions (bytes, size, needles); //  not msgpack: plain bytes
    bool found = s_obj_mentions (&result.data, needles, depth + 1);
    msgpack_unpacked_destroy (&result);
    return found;
}

static bool
s_obj_mentions (const msgpack_object *obj, const broker_needles_t *needles, int depth)
{
    if (depth > S_MAX_DEPTH)
        return false;
    switch (obj->type) {
        case MSGPACK_OBJECT_STR: return s_str_mentions (obj->via.str.ptr, obj->via.str.size, needles);
        case MSGPACK_OBJECT_BIN:
            return s_bin_mentions (obj->via.bin.ptr, obj->via.bin.size, needles, depth);
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return s_int_mentions (obj->via.u64, needles);
        case MSGPACK_OBJECT_ARRAY:
            for (uint32_t i = 0; i < obj->via.array.size; i++)
                if (s_obj_mentions (&obj->via.array.ptr[i], needles, depth + 1))
                    return true;
            return false;
        case MSGPACK_OBJECT_MAP:
            for (uint32_t i = 0; i < obj->via.map.size; i++)
                if (s_obj_mentions (&obj->via.map.ptr[i].val, needles, depth + 1))
                    return true;
            return false;
        default: return false;
    }
}

bool
broker_erase_mentions (const uint8_t *bytes, size_t size, const broker_needles_t *needles)
{
    return needles->count && s_bin_mentions ((const char *)bytes, size, needles, 0);
}

int
broker_erase_redact (const uint8_t *envelope, size_t size, const broker_needles_t *needles,
                     uint8_t **out, size_t *out_size)
{
    zhub_mpack_limits_t limits = {.max_size = size, .max_depth = 64, .max_items = 1 << 20};
    zhub_msg_t *msg = zhub_msg_decode (envelope, size, &limits, NULL, 0);
    if (!msg)
        return -1;
    //  {"zhub_erased": true}
    static const uint8_t erased[] = {0x81, 0xab, 'z', 'h', 'u', 'b', '_', 'e',
                                     'r',  'a',  's', 'e', 'd', 0xc3};
    zhub_msg_set_data (msg, erased, sizeof erased);
    if (msg->subject && s_str_mentions (msg->subject, strlen (msg->subject), needles))
        zhub_msg_set (&msg->subject, "erased");
    if (msg->traceparent)
        zhub_msg_set (&msg->traceparent, NULL);
    int rc = zhub_msg_encode (msg, out, out_size, NULL, 0);
    zhub_msg_destroy (&msg);
    return rc;
}
