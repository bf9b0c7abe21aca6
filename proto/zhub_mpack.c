//  A bounds-checking walk over msgpack bytes, done before msgpack-c is
//  allowed to allocate anything. Iterative, with an explicit stack, so a
//  deeply nested input cannot exhaust the C stack either.
#include "zhub_mpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const zhub_mpack_limits_t zhub_mpack_default_limits = {
    .max_size = 1024 * 1024, .max_depth = 32, .max_items = 100000};

#define S_MAX_STACK 256

static uint64_t
s_be (const uint8_t *p, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v = (v << 8) | p[i];
    return v;
}

static int
s_fail (char *err, size_t err_size, const char *reason, size_t at)
{
    if (err && err_size)
        snprintf (err, err_size, "%s at byte %zu", reason, at);
    return -1;
}

int
zhub_mpack_check (const uint8_t *buf, size_t size, const zhub_mpack_limits_t *limits,
                  char *err, size_t err_size)
{
    if (!limits)
        limits = &zhub_mpack_default_limits;
    if (!buf || size == 0)
        return s_fail (err, err_size, "empty input", 0);
    if (size > limits->max_size)
        return s_fail (err, err_size, "input exceeds size limit", limits->max_size);
    size_t max_depth = limits->max_depth < S_MAX_STACK ? limits->max_depth : S_MAX_STACK;

    //  stack[d] = number of objects still expected at depth d
    uint64_t stack[S_MAX_STACK + 1];
    size_t depth = 0, items = 0, pos = 0;
    stack[0] = 1;

    while (true) {
        while (depth > 0 && stack[depth] == 0)
            depth--;
        if (depth == 0 && stack[0] == 0)
            break;
        stack[depth]--;
        if (pos >= size)
            return s_fail (err, err_size, "truncated input", pos);
        if (++items > limits->max_items)
            return s_fail (err, err_size, "too many items", pos);

        uint8_t b = buf[pos++];
        uint64_t skip = 0, children = 0;
        int width = 0;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            ;
        else if (b >= 0xa0 && b <= 0xbf)
            skip = b & 0x1f;
        else if (b >= 0x90 && b <= 0x9f)
            children = b & 0x0f;
        else if (b >= 0x80 && b <= 0x8f)
            children = (uint64_t) (b & 0x0f) * 2;
        else {
            switch (b) {
                case 0xc4: case 0xd9: width = 1; break;
                case 0xc5: case 0xda: width = 2; break;
                case 0xc6: case 0xdb: width = 4; break;
                case 0xc7: width = 1; skip = 1; break;
                case 0xc8: width = 2; skip = 1; break;
                case 0xc9: width = 4; skip = 1; break;
                case 0xca: skip = 4; break;
                case 0xcb: skip = 8; break;
                case 0xcc: case 0xd0: skip = 1; break;
                case 0xcd: case 0xd1: skip = 2; break;
                case 0xce: case 0xd2: skip = 4; break;
                case 0xcf: case 0xd3: skip = 8; break;
                case 0xd4: skip = 2; break;
                case 0xd5: skip = 3; break;
                case 0xd6: skip = 5; break;
                case 0xd7: skip = 9; break;
                case 0xd8: skip = 17; break;
                case 0xdc: case 0xdd: case 0xde: case 0xdf: break;
                default: return s_fail (err, err_size, "reserved type byte", pos - 1);
            }
            if (b >= 0xdc) {
                int count_width = (b == 0xdc || b == 0xde) ? 2 : 4;
                if (size - pos < (size_t) count_width)
                    return s_fail (err, err_size, "truncated container header", pos);
                children = s_be (buf + pos, count_width);
                if (b >= 0xde)
                    children *= 2;
                pos += count_width;
            }
            else if (width) {
                if (size - pos < (size_t) width)
                    return s_fail (err, err_size, "truncated length", pos);
                skip += s_be (buf + pos, width);
                pos += width;
            }
        }
        if (skip > size - pos)
            return s_fail (err, err_size, "declared length exceeds input", pos);
        pos += skip;
        if (children) {
            //  every child takes at least one byte: reject counts the input
            //  cannot possibly hold before anything allocates for them
            if (children > size - pos)
                return s_fail (err, err_size, "declared count exceeds input", pos);
            if (depth + 1 > max_depth)
                return s_fail (err, err_size, "nesting too deep", pos);
            stack[++depth] = children;
        }
    }
    if (pos != size)
        return s_fail (err, err_size, "trailing bytes", pos);
    return 0;
}

int
zhub_mpack_decode (const uint8_t *buf, size_t size, const zhub_mpack_limits_t *limits,
                   msgpack_unpacked *result, char *err, size_t err_size)
{
    msgpack_unpacked_init (result);
    zhub_mpack_limits_t held = limits ? *limits : zhub_mpack_default_limits;
    if (held.max_depth > ZHUB_MPACK_MAX_DEPTH)
        held.max_depth = ZHUB_MPACK_MAX_DEPTH; //  say why, rather than "decode failed"
    if (zhub_mpack_check (buf, size, &held, err, err_size))
        return -1;
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (result, (const char *) buf, size, &offset);
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != size) {
        msgpack_unpacked_destroy (result);
        msgpack_unpacked_init (result);
        return s_fail (err, err_size, "msgpack decode failed", offset);
    }
    return 0;
}

const msgpack_object *
zhub_mpack_get (const msgpack_object *obj, const char *key)
{
    if (!obj || obj->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t key_len = strlen (key);
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == key_len
            && memcmp (k->via.str.ptr, key, key_len) == 0)
            return &obj->via.map.ptr[i].val;
    }
    return NULL;
}

char *
zhub_mpack_strdup (const msgpack_object *obj)
{
    if (!obj || obj->type != MSGPACK_OBJECT_STR)
        return NULL;
    if (memchr (obj->via.str.ptr, 0, obj->via.str.size))
        return NULL;
    char *out = malloc (obj->via.str.size + 1);
    if (!out)
        return NULL;
    memcpy (out, obj->via.str.ptr, obj->via.str.size);
    out[obj->via.str.size] = 0;
    return out;
}

bool
zhub_mpack_str_eq (const msgpack_object *obj, const char *text)
{
    size_t len = strlen (text);
    return obj && obj->type == MSGPACK_OBJECT_STR && obj->via.str.size == len
           && memcmp (obj->via.str.ptr, text, len) == 0;
}

int
zhub_mpack_int (const msgpack_object *obj, int64_t *out)
{
    if (!obj)
        return -1;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (obj->via.u64 > INT64_MAX)
            return -1;
        *out = (int64_t) obj->via.u64;
        return 0;
    }
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = obj->via.i64;
        return 0;
    }
    return -1;
}

int
zhub_mpack_uint (const msgpack_object *obj, uint64_t *out)
{
    if (!obj || obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -1;
    *out = obj->via.u64;
    return 0;
}

void
zhub_mpack_pack_str (msgpack_packer *pk, const char *text)
{
    if (!text) {
        msgpack_pack_nil (pk);
        return;
    }
    size_t len = strlen (text);
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, text, len);
}

void
zhub_mpack_pack_kv_str (msgpack_packer *pk, const char *key, const char *value)
{
    zhub_mpack_pack_str (pk, key);
    zhub_mpack_pack_str (pk, value);
}
