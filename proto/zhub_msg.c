//  Envelope codec. Encoding writes keys in a fixed order so that equal
//  messages encode to equal bytes; decoding goes through zhub_mpack_decode
//  so hostile bytes are bounded before anything is allocated for them.
#include "zhub_msg.h"
#include "zhub_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t s_empty_map[] = {0x80};

const zhub_mpack_limits_t zhub_msg_publish_limits = {
    .max_size = ZHUB_MSG_MAX_SIZE, .max_depth = ZHUB_MSG_MAX_DEPTH, .max_items = ZHUB_MSG_MAX_ITEMS};
const zhub_mpack_limits_t zhub_msg_stored_limits = {.max_size = ZHUB_MSG_STORED_MAX_SIZE,
                                                    .max_depth = ZHUB_MSG_STORED_MAX_DEPTH,
                                                    .max_items = ZHUB_MSG_STORED_MAX_ITEMS};

zhub_msg_t *
zhub_msg_new (void)
{
    zhub_msg_t *self = zhub_calloc (1, sizeof *self);
    zhub_msg_set_data (self, s_empty_map, sizeof s_empty_map);
    return self;
}

void
zhub_msg_destroy (zhub_msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_msg_t *self = *self_p;
    free (self->id);
    free (self->source);
    free (self->type);
    free (self->subject);
    free (self->traceparent);
    free (self->data);
    free (self);
    *self_p = NULL;
}

void
zhub_msg_set (char **field, const char *value)
{
    char *copy = zhub_strdup (value);
    free (*field);
    *field = copy;
}

void
zhub_msg_set_data (zhub_msg_t *self, const uint8_t *data, size_t size)
{
    uint8_t *copy = zhub_malloc (size);
    memcpy (copy, data, size);
    free (self->data);
    self->data = copy;
    self->data_size = size;
}

//  {"zhub_erased": true} in msgpack
static const uint8_t s_erased[] = {0x81, 0xab, 'z', 'h', 'u', 'b', '_',
                                   'e',  'r',  'a', 's', 'e', 'd', 0xc3};

void
zhub_msg_erase (zhub_msg_t *self)
{
    zhub_msg_set_data (self, s_erased, sizeof s_erased);
}

bool
zhub_msg_is_erased (const zhub_msg_t *self)
{
    return self->data_size == sizeof s_erased && !memcmp (self->data, s_erased, sizeof s_erased);
}

int
zhub_msg_set_data_json (zhub_msg_t *self, const json_t *json)
{
    if (!json_is_object (json))
        return -1;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    zhub_json_pack (&pk, json);
    zhub_msg_set_data (self, (const uint8_t *) sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    return 0;
}

json_t *
zhub_msg_data_json (const zhub_msg_t *self)
{
    msgpack_unpacked result;
    //  Any data the broker delivers, not only what fits the 1 MiB default.
    if (zhub_mpack_decode (self->data, self->data_size, &zhub_msg_stored_limits, &result, NULL, 0))
        return NULL;
    json_t *json = zhub_json_from_mpack (&result.data);
    msgpack_unpacked_destroy (&result);
    return json;
}

static bool
s_token_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
           || c == '-';
}

//  Shared by topics and patterns: wildcards are allowed only in patterns.
static bool
s_dotted_valid (const char *text, bool pattern)
{
    if (!text || !*text || strlen (text) > ZHUB_MSG_MAX_TYPE)
        return false;
    const char *p = text;
    while (true) {
        const char *start = p;
        if (pattern && (*p == '*' || *p == '>') && (p[1] == '.' || p[1] == 0)) {
            if (*p == '>' && p[1] != 0)
                return false;
            p++;
        }
        else
            while (s_token_char (*p))
                p++;
        if (p == start)
            return false;
        if (*p == 0)
            return true;
        if (*p != '.')
            return false;
        p++;
    }
}

bool
zhub_topic_valid (const char *text)
{
    return s_dotted_valid (text, false);
}

bool
zhub_topic_match (const char *pattern, const char *topic)
{
    if (!s_dotted_valid (pattern, true) || !zhub_topic_valid (topic))
        return false;
    const char *p = pattern, *t = topic;
    while (*p && *t) {
        if (*p == '>')
            return true;
        const char *t_end = strchr (t, '.');
        size_t t_len = t_end ? (size_t) (t_end - t) : strlen (t);
        if (*p == '*')
            p++;
        else {
            const char *p_end = strchr (p, '.');
            size_t p_len = p_end ? (size_t) (p_end - p) : strlen (p);
            if (p_len != t_len || memcmp (p, t, t_len))
                return false;
            p += p_len;
        }
        t += t_len;
        if (*p == '.')
            p++;
        else if (*p)
            return false;
        if (*t == '.')
            t++;
        if ((*p == 0) != (*t == 0))
            return false;
    }
    return *p == 0 && *t == 0;
}

static int
s_err (char *err, size_t err_size, const char *reason)
{
    if (err && err_size)
        snprintf (err, err_size, "%s", reason);
    return -1;
}

static bool
s_text_ok (const char *text, size_t max)
{
    return text && *text && strlen (text) <= max;
}

int
zhub_msg_validate (const zhub_msg_t *self, char *err, size_t err_size)
{
    if (!s_text_ok (self->id, ZHUB_MSG_MAX_ID))
        return s_err (err, err_size, "id is required (1..256 bytes)");
    if (!s_text_ok (self->source, ZHUB_MSG_MAX_ID))
        return s_err (err, err_size, "source is required (1..256 bytes)");
    if (!zhub_topic_valid (self->type))
        return s_err (err, err_size, "type must be a dotted topic of [A-Za-z0-9_-] tokens");
    if (self->subject && strlen (self->subject) > ZHUB_MSG_MAX_ID)
        return s_err (err, err_size, "subject is longer than 256 bytes");
    if (self->traceparent && strlen (self->traceparent) > 128)
        return s_err (err, err_size, "traceparent is longer than 128 bytes");
    if (!self->data || self->data_size == 0 || ((self->data[0] & 0xf0) != 0x80 && self->data[0] != 0xde
                                                && self->data[0] != 0xdf))
        return s_err (err, err_size, "data must be a map");
    return 0;
}

int
zhub_msg_encode (const zhub_msg_t *self, uint8_t **buf, size_t *size, char *err, size_t err_size)
{
    if (zhub_msg_validate (self, err, err_size))
        return -1;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 6 + (self->subject ? 1 : 0) + (self->traceparent ? 1 : 0)
                               + (self->deliver_at_ms > 0 ? 1 : 0));
    zhub_mpack_pack_kv_str (&pk, "specversion", "1.0");
    zhub_mpack_pack_kv_str (&pk, "id", self->id);
    zhub_mpack_pack_kv_str (&pk, "source", self->source);
    zhub_mpack_pack_kv_str (&pk, "type", self->type);
    if (self->subject)
        zhub_mpack_pack_kv_str (&pk, "subject", self->subject);
    zhub_mpack_pack_str (&pk, "time");
    msgpack_pack_int64 (&pk, self->time_ms);
    if (self->traceparent)
        zhub_mpack_pack_kv_str (&pk, "traceparent", self->traceparent);
    if (self->deliver_at_ms > 0) {
        zhub_mpack_pack_str (&pk, "deliverat");
        msgpack_pack_int64 (&pk, self->deliver_at_ms);
    }
    zhub_mpack_pack_str (&pk, "data");
    //  data is already msgpack: append its bytes as the value
    msgpack_sbuffer_write (&sbuf, (const char *) self->data, self->data_size);
    *buf = (uint8_t *) sbuf.data;
    *size = sbuf.size;
    return 0;
}

zhub_msg_t *
zhub_msg_from_object (const msgpack_object *obj, char *err, size_t err_size)
{
    if (!obj || obj->type != MSGPACK_OBJECT_MAP) {
        s_err (err, err_size, "envelope must be a map");
        return NULL;
    }
    if (!zhub_mpack_str_eq (zhub_mpack_get (obj, "specversion"), "1.0")) {
        s_err (err, err_size, "specversion must be \"1.0\"");
        return NULL;
    }
    zhub_msg_t *self = zhub_calloc (1, sizeof *self);
    self->id = zhub_mpack_strdup (zhub_mpack_get (obj, "id"));
    self->source = zhub_mpack_strdup (zhub_mpack_get (obj, "source"));
    self->type = zhub_mpack_strdup (zhub_mpack_get (obj, "type"));
    const msgpack_object *subject = zhub_mpack_get (obj, "subject");
    if (subject && subject->type != MSGPACK_OBJECT_NIL) {
        self->subject = zhub_mpack_strdup (subject);
        if (!self->subject) {
            s_err (err, err_size, "subject must be a string");
            goto fail;
        }
    }
    const msgpack_object *trace = zhub_mpack_get (obj, "traceparent");
    if (trace && trace->type != MSGPACK_OBJECT_NIL) {
        self->traceparent = zhub_mpack_strdup (trace);
        if (!self->traceparent) {
            s_err (err, err_size, "traceparent must be a string");
            goto fail;
        }
    }
    const msgpack_object *time = zhub_mpack_get (obj, "time");
    if (time && time->type == MSGPACK_OBJECT_STR) {
        char *text = zhub_mpack_strdup (time);
        int rc = zhub_time_parse (text, &self->time_ms);
        free (text);
        if (rc) {
            s_err (err, err_size, "time is not RFC 3339");
            goto fail;
        }
    }
    else if (time && zhub_mpack_int (time, &self->time_ms)) {
        s_err (err, err_size, "time must be unix ms or RFC 3339");
        goto fail;
    }
    const msgpack_object *deliver_at = zhub_mpack_get (obj, "deliverat");
    if (deliver_at && deliver_at->type != MSGPACK_OBJECT_NIL
        && (zhub_mpack_int (deliver_at, &self->deliver_at_ms) || self->deliver_at_ms < 0)) {
        s_err (err, err_size, "deliverat must be unix ms (a non-negative integer)");
        goto fail;
    }
    const msgpack_object *data = zhub_mpack_get (obj, "data");
    if (!data || data->type == MSGPACK_OBJECT_NIL)
        zhub_msg_set_data (self, s_empty_map, sizeof s_empty_map);
    else if (data->type != MSGPACK_OBJECT_MAP) {
        s_err (err, err_size, "data must be a map");
        goto fail;
    }
    else {
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        msgpack_pack_object (&pk, *data);
        self->data = (uint8_t *) sbuf.data;
        self->data_size = sbuf.size;
    }
    if (zhub_msg_validate (self, err, err_size))
        goto fail;
    return self;
fail:
    zhub_msg_destroy (&self);
    return NULL;
}

zhub_msg_t *
zhub_msg_decode (const uint8_t *buf, size_t size, const zhub_mpack_limits_t *limits, char *err,
                 size_t err_size)
{
    msgpack_unpacked result;
    if (zhub_mpack_decode (buf, size, limits, &result, err, err_size))
        return NULL;
    zhub_msg_t *self = zhub_msg_from_object (&result.data, err, err_size);
    msgpack_unpacked_destroy (&result);
    return self;
}

zhub_msg_t *
zhub_msg_dup (const zhub_msg_t *self)
{
    zhub_msg_t *copy = zhub_calloc (1, sizeof *copy);
    copy->id = zhub_strdup (self->id);
    copy->source = zhub_strdup (self->source);
    copy->type = zhub_strdup (self->type);
    copy->subject = zhub_strdup (self->subject);
    copy->traceparent = zhub_strdup (self->traceparent);
    copy->time_ms = self->time_ms;
    copy->deliver_at_ms = self->deliver_at_ms;
    zhub_msg_set_data (copy, self->data, self->data_size);
    return copy;
}
