//  A small recursive-descent JSON reader that emits msgpack as it goes.
//  jansson cannot be used for webhook bodies: it refuses integers beyond
//  int64 and would force a second tree. Depth is bounded by the limits, so
//  recursion cannot run away on hostile input.
#include "zhub_json.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *text;
    size_t size, pos, depth, max_depth;
    msgpack_packer *pk;
    char *err;
    size_t err_size;
    //  scratch buffer for decoded strings
    char *buf;
    size_t buf_size;
} s_reader_t;

static int
s_fail (s_reader_t *r, const char *reason)
{
    if (r->err && r->err_size)
        snprintf (r->err, r->err_size, "%s at byte %zu", reason, r->pos);
    return -1;
}

static void
s_skip_ws (s_reader_t *r)
{
    while (r->pos < r->size) {
        char c = r->text[r->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        r->pos++;
    }
}

static int s_value (s_reader_t *r);

static int
s_hex4 (s_reader_t *r, unsigned *out)
{
    if (r->size - r->pos < 4)
        return s_fail (r, "truncated \\u escape");
    unsigned value = 0;
    for (int i = 0; i < 4; i++) {
        char c = r->text[r->pos++];
        value <<= 4;
        if (c >= '0' && c <= '9')
            value |= c - '0';
        else if (c >= 'a' && c <= 'f')
            value |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            value |= c - 'A' + 10;
        else
            return s_fail (r, "bad hex digit in \\u escape");
    }
    *out = value;
    return 0;
}

static void
s_put (s_reader_t *r, size_t *len, const char *bytes, size_t n)
{
    if (*len + n > r->buf_size) {
        size_t grown = r->buf_size ? r->buf_size * 2 : 256;
        while (grown < *len + n)
            grown *= 2;
        char *buf = realloc (r->buf, grown);
        if (!buf)
            abort ();
        r->buf = buf;
        r->buf_size = grown;
    }
    memcpy (r->buf + *len, bytes, n);
    *len += n;
}

static void
s_put_utf8 (s_reader_t *r, size_t *len, unsigned cp)
{
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char) cp;
        n = 1;
    }
    else if (cp < 0x800) {
        out[0] = (char) (0xc0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3f));
        n = 2;
    }
    else if (cp < 0x10000) {
        out[0] = (char) (0xe0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char) (0x80 | (cp & 0x3f));
        n = 3;
    }
    else {
        out[0] = (char) (0xf0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        n = 4;
    }
    s_put (r, len, out, n);
}

//  Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid
//  (overlong forms, surrogates and code points above U+10FFFF rejected).
static size_t
s_utf8_len (const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t n;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1f;
        min = 0x80;
    }
    else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0f;
        min = 0x800;
    }
    else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07;
        min = 0x10000;
    }
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static int
s_string (s_reader_t *r)
{
    r->pos++;   //  opening quote
    size_t len = 0;
    while (true) {
        if (r->pos >= r->size)
            return s_fail (r, "unterminated string");
        unsigned char c = (unsigned char) r->text[r->pos];
        if (c == '"') {
            r->pos++;
            break;
        }
        if (c < 0x20)
            return s_fail (r, "control character in string");
        //  A run of plain ASCII goes over in one copy (most of a webhook).
        size_t run = r->pos;
        while (run < r->size) {
            unsigned char b = (unsigned char) r->text[run];
            if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\')
                break;
            run++;
        }
        if (run > r->pos) {
            s_put (r, &len, r->text + r->pos, run - r->pos);
            r->pos = run;
            continue;
        }
        if (c == '\\') {
            if (++r->pos >= r->size)
                return s_fail (r, "unterminated escape");
            char e = r->text[r->pos++];
            const char *simple = NULL;
            switch (e) {
                case '"': simple = "\""; break;
                case '\\': simple = "\\"; break;
                case '/': simple = "/"; break;
                case 'b': simple = "\b"; break;
                case 'f': simple = "\f"; break;
                case 'n': simple = "\n"; break;
                case 'r': simple = "\r"; break;
                case 't': simple = "\t"; break;
                case 'u': break;
                default: return s_fail (r, "bad escape");
            }
            if (simple) {
                s_put (r, &len, simple, 1);
                continue;
            }
            unsigned cp;
            if (s_hex4 (r, &cp))
                return -1;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return s_fail (r, "lone low surrogate");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned low;
                if (r->size - r->pos < 2 || r->text[r->pos] != '\\' || r->text[r->pos + 1] != 'u')
                    return s_fail (r, "lone high surrogate");
                r->pos += 2;
                if (s_hex4 (r, &low))
                    return -1;
                if (low < 0xdc00 || low > 0xdfff)
                    return s_fail (r, "bad surrogate pair");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            }
            s_put_utf8 (r, &len, cp);
            continue;
        }
        size_t n = s_utf8_len ((const unsigned char *) r->text + r->pos, r->size - r->pos);
        if (!n)
            return s_fail (r, "invalid UTF-8");
        s_put (r, &len, r->text + r->pos, n);
        r->pos += n;
    }
    msgpack_pack_str (r->pk, len);
    if (len)
        msgpack_pack_str_body (r->pk, r->buf, len);
    return 0;
}

static int
s_number (s_reader_t *r)
{
    size_t start = r->pos;
    bool negative = false, integral = true;
    if (r->text[r->pos] == '-') {
        negative = true;
        r->pos++;
    }
    if (r->pos >= r->size)
        return s_fail (r, "truncated number");
    if (r->text[r->pos] == '0')
        r->pos++;
    else if (r->text[r->pos] >= '1' && r->text[r->pos] <= '9')
        while (r->pos < r->size && r->text[r->pos] >= '0' && r->text[r->pos] <= '9')
            r->pos++;
    else
        return s_fail (r, "bad number");
    if (r->pos < r->size && r->text[r->pos] == '.') {
        integral = false;
        r->pos++;
        size_t digits = r->pos;
        while (r->pos < r->size && r->text[r->pos] >= '0' && r->text[r->pos] <= '9')
            r->pos++;
        if (r->pos == digits)
            return s_fail (r, "bad fraction");
    }
    if (r->pos < r->size && (r->text[r->pos] == 'e' || r->text[r->pos] == 'E')) {
        integral = false;
        r->pos++;
        if (r->pos < r->size && (r->text[r->pos] == '+' || r->text[r->pos] == '-'))
            r->pos++;
        size_t digits = r->pos;
        while (r->pos < r->size && r->text[r->pos] >= '0' && r->text[r->pos] <= '9')
            r->pos++;
        if (r->pos == digits)
            return s_fail (r, "bad exponent");
    }
    char literal[400];
    size_t len = r->pos - start;
    if (len >= sizeof literal)
        return s_fail (r, "number too long");
    memcpy (literal, r->text + start, len);
    literal[len] = 0;
    if (integral) {
        errno = 0;
        if (negative) {
            long long value = strtoll (literal, NULL, 10);
            if (!errno) {
                msgpack_pack_int64 (r->pk, value);
                return 0;
            }
        }
        else {
            unsigned long long value = strtoull (literal, NULL, 10);
            if (!errno) {
                msgpack_pack_uint64 (r->pk, value);
                return 0;
            }
        }
    }
    double value = strtod (literal, NULL);
    if (!isfinite (value))
        return s_fail (r, "number out of range");
    msgpack_pack_double (r->pk, value);
    return 0;
}

static int
s_literal (s_reader_t *r, const char *word)
{
    size_t len = strlen (word);
    if (r->size - r->pos < len || memcmp (r->text + r->pos, word, len))
        return s_fail (r, "unexpected token");
    r->pos += len;
    return 0;
}

//  Containers are packed after their elements are counted, so the elements
//  go to a nested buffer first; the count is known only at the end.
static int
s_container (s_reader_t *r, bool object)
{
    if (++r->depth > r->max_depth)
        return s_fail (r, "nesting too deep");
    r->pos++;
    msgpack_sbuffer inner;
    msgpack_sbuffer_init (&inner);
    msgpack_packer inner_pk, *outer_pk = r->pk;
    msgpack_packer_init (&inner_pk, &inner, msgpack_sbuffer_write);
    r->pk = &inner_pk;
    uint32_t count = 0;
    int rc = -1;
    s_skip_ws (r);
    if (r->pos < r->size && r->text[r->pos] == (object ? '}' : ']')) {
        r->pos++;
        rc = 0;
        goto done;
    }
    while (true) {
        s_skip_ws (r);
        if (object) {
            if (r->pos >= r->size || r->text[r->pos] != '"') {
                s_fail (r, "expected object key");
                goto done;
            }
            if (s_string (r))
                goto done;
            s_skip_ws (r);
            if (r->pos >= r->size || r->text[r->pos] != ':') {
                s_fail (r, "expected ':'");
                goto done;
            }
            r->pos++;
        }
        if (s_value (r))
            goto done;
        count++;
        s_skip_ws (r);
        if (r->pos >= r->size) {
            s_fail (r, "unterminated container");
            goto done;
        }
        char c = r->text[r->pos++];
        if (c == ',')
            continue;
        if (c == (object ? '}' : ']')) {
            rc = 0;
            break;
        }
        s_fail (r, object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto done;
    }
done:
    r->pk = outer_pk;
    if (rc == 0) {
        if (object)
            msgpack_pack_map (r->pk, count);
        else
            msgpack_pack_array (r->pk, count);
        if (inner.size)
            r->pk->callback (r->pk->data, inner.data, inner.size);
    }
    msgpack_sbuffer_destroy (&inner);
    r->depth--;
    return rc;
}

static int
s_value (s_reader_t *r)
{
    s_skip_ws (r);
    if (r->pos >= r->size)
        return s_fail (r, "unexpected end of input");
    char c = r->text[r->pos];
    switch (c) {
        case '{': return s_container (r, true);
        case '[': return s_container (r, false);
        case '"': return s_string (r);
        case 't':
            if (s_literal (r, "true"))
                return -1;
            msgpack_pack_true (r->pk);
            return 0;
        case 'f':
            if (s_literal (r, "false"))
                return -1;
            msgpack_pack_false (r->pk);
            return 0;
        case 'n':
            if (s_literal (r, "null"))
                return -1;
            msgpack_pack_nil (r->pk);
            return 0;
        default:
            if (c == '-' || (c >= '0' && c <= '9'))
                return s_number (r);
            return s_fail (r, "unexpected character");
    }
}

int
zhub_json_text_to_mpack (const char *text, size_t size, msgpack_packer *pk,
                         const zhub_json_limits_t *limits, char *err, size_t err_size)
{
    s_reader_t r = {.text = text,
                    .size = size,
                    .max_depth = limits && limits->max_depth ? limits->max_depth : ZHUB_MPACK_MAX_DEPTH,
                    .pk = pk,
                    .err = err,
                    .err_size = err_size};
    if (!text) {
        s_fail (&r, "no input");
        return -1;
    }
    int rc = s_value (&r);
    if (rc == 0) {
        s_skip_ws (&r);
        if (r.pos != r.size)
            rc = s_fail (&r, "trailing characters after JSON value");
    }
    free (r.buf);
    return rc;
}

void
zhub_json_pack (msgpack_packer *pk, const json_t *json)
{
    switch (json_typeof (json)) {
        case JSON_OBJECT: {
            msgpack_pack_map (pk, json_object_size (json));
            const char *key;
            json_t *value;
            json_object_foreach ((json_t *) json, key, value) {
                size_t len = strlen (key);
                msgpack_pack_str (pk, len);
                msgpack_pack_str_body (pk, key, len);
                zhub_json_pack (pk, value);
            }
            break;
        }
        case JSON_ARRAY: {
            msgpack_pack_array (pk, json_array_size (json));
            size_t index;
            json_t *value;
            json_array_foreach (json, index, value)
                zhub_json_pack (pk, value);
            break;
        }
        case JSON_STRING:
            msgpack_pack_str (pk, json_string_length (json));
            msgpack_pack_str_body (pk, json_string_value (json), json_string_length (json));
            break;
        case JSON_INTEGER: msgpack_pack_int64 (pk, json_integer_value (json)); break;
        case JSON_REAL: msgpack_pack_double (pk, json_real_value (json)); break;
        case JSON_TRUE: msgpack_pack_true (pk); break;
        case JSON_FALSE: msgpack_pack_false (pk); break;
        case JSON_NULL: msgpack_pack_nil (pk); break;
    }
}

json_t *
zhub_json_from_mpack (const msgpack_object *obj)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL: return json_null ();
        case MSGPACK_OBJECT_BOOLEAN: return json_boolean (obj->via.boolean);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (obj->via.u64 > INT64_MAX)
                return json_real ((double) obj->via.u64);
            return json_integer ((json_int_t) obj->via.u64);
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer (obj->via.i64);
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64: return json_real (obj->via.f64);
        case MSGPACK_OBJECT_STR: return json_stringn (obj->via.str.ptr, obj->via.str.size);
        case MSGPACK_OBJECT_BIN: {
            size_t len = sodium_base64_encoded_len (obj->via.bin.size, sodium_base64_VARIANT_ORIGINAL);
            char *b64 = malloc (len);
            if (!b64)
                return NULL;
            sodium_bin2base64 (b64, len, (const unsigned char *) obj->via.bin.ptr, obj->via.bin.size,
                               sodium_base64_VARIANT_ORIGINAL);
            json_t *out = json_string (b64);
            free (b64);
            return out;
        }
        case MSGPACK_OBJECT_ARRAY: {
            json_t *array = json_array ();
            for (uint32_t i = 0; i < obj->via.array.size; i++)
                json_array_append_new (array, zhub_json_from_mpack (&obj->via.array.ptr[i]));
            return array;
        }
        case MSGPACK_OBJECT_MAP: {
            json_t *object = json_object ();
            for (uint32_t i = 0; i < obj->via.map.size; i++) {
                const msgpack_object *key = &obj->via.map.ptr[i].key;
                char *name;
                if (key->type == MSGPACK_OBJECT_STR)
                    name = strndup (key->via.str.ptr, key->via.str.size);
                else {
                    json_t *k = zhub_json_from_mpack (key);
                    name = json_dumps (k, JSON_ENCODE_ANY | JSON_COMPACT);
                    json_decref (k);
                }
                if (name)
                    json_object_set_new (object, name, zhub_json_from_mpack (&obj->via.map.ptr[i].val));
                free (name);
            }
            return object;
        }
        default: return json_null ();
    }
}
