//  Holding messages to the catalogue (see zhub_catalogue.h): the check of
//  data and subject against an entry, the kinds as docs/events.md writes
//  them, and zhub_event_new. Sits above the table (zhub_catalogue.c) and
//  reads it only through zhub_catalogue_find. Data is checked as msgpack,
//  the form it travels in; JSON is packed first, so a JSON object and the
//  message built from it meet the same rules (but for BYTES, which JSON
//  can only carry as text).
#include "zhub_catalogue.h"
#include "zhub_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A count field's max: the largest integer a JSON reader keeps exactly.
#define S_COUNT_MAX 9007199254740991.0

static zhub_rc_t s_reason (char *reason, size_t reason_size, zhub_rc_t rc, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static zhub_rc_t
s_reason (char *reason, size_t reason_size, zhub_rc_t rc, const char *format, ...)
{
    if (reason && reason_size) {
        va_list args;
        va_start (args, format);
        vsnprintf (reason, reason_size, format, args);
        va_end (args);
    }
    return rc;
}

//  -------------------------------------------------------------------
//  Kinds as text

static const char *
s_kind_name (zhub_field_kind_t kind, bool plural)
{
    switch (kind) {
        case ZHUB_FIELD_STRING: return plural ? "strings" : "string";
        case ZHUB_FIELD_ID: return plural ? "ids" : "id";
        case ZHUB_FIELD_INTEGER: return plural ? "integers" : "integer";
        case ZHUB_FIELD_NUMBER: return plural ? "numbers" : "number";
        case ZHUB_FIELD_BOOLEAN: return plural ? "booleans" : "boolean";
        case ZHUB_FIELD_TIME: return plural ? "times" : "time";
        case ZHUB_FIELD_ENUM: return "enum";
        case ZHUB_FIELD_OBJECT: return plural ? "objects" : "object";
        case ZHUB_FIELD_ARRAY: return "array";
        case ZHUB_FIELD_BYTES: return "bytes (msgpack bin)";
    }
    return "?";
}

void
zhub_field_describe (const zhub_field_t *field, char *out, size_t out_size)
{
    if (!out || !out_size)
        return;
    out[0] = 0;
    size_t used = 0;
#define S_PUT(...)                                                                                 \
    do {                                                                                           \
        int n = snprintf (out + used, out_size - used, __VA_ARGS__);                               \
        used = n < 0 || (size_t)n >= out_size - used ? out_size - 1 : used + (size_t)n;            \
    } while (0)
    switch (field->kind) {
        case ZHUB_FIELD_ENUM:
            S_PUT ("one of");
            for (size_t i = 0; field->values && field->values[i]; i++)
                S_PUT ("%s `%s`", i ? "," : "", field->values[i]);
            break;
        case ZHUB_FIELD_ARRAY:
            S_PUT ("array of %s", s_kind_name (field->item, true));
            if (field->bounded)
                S_PUT (" (%g..%g)", field->min, field->max);
            break;
        case ZHUB_FIELD_STRING:
            S_PUT ("string");
            if (field->bounded)
                S_PUT (" (%g..%g bytes)", field->min, field->max);
            break;
        case ZHUB_FIELD_INTEGER:
        case ZHUB_FIELD_NUMBER:
            S_PUT ("%s", s_kind_name (field->kind, false));
            if (field->bounded && field->max >= S_COUNT_MAX)
                S_PUT (" >= %g", field->min);
            else if (field->bounded)
                S_PUT (" %g..%g", field->min, field->max);
            break;
        default: S_PUT ("%s", s_kind_name (field->kind, false)); break;
    }
#undef S_PUT
}

//  -------------------------------------------------------------------
//  Checking

static bool
s_in (const zhub_field_t *field, double value)
{
    return !field->bounded || (value >= field->min && value <= field->max);
}

static bool
s_time_ok (const msgpack_object *value)
{
    char text[64];
    int64_t ms;
    if (value->type != MSGPACK_OBJECT_STR || value->via.str.size >= sizeof text)
        return false;
    memcpy (text, value->via.str.ptr, value->via.str.size);
    text[value->via.str.size] = 0;
    return strlen (text) == value->via.str.size && zhub_time_parse (text, &ms) == 0;
}

static bool
s_enum_ok (const zhub_field_t *field, const msgpack_object *value)
{
    for (size_t i = 0; field->values && field->values[i]; i++)
        if (zhub_mpack_str_eq (value, field->values[i]))
            return true;
    return false;
}

//  True when value is of kind (bounds of field applied to it when bounds
//  is set). json: the data came as JSON, where bytes can only be text.
static bool
s_value_ok (const zhub_field_t *field, zhub_field_kind_t kind, bool bounds,
            const msgpack_object *value, bool json)
{
    const zhub_field_t unbounded = {.bounded = false};
    const zhub_field_t *range = bounds ? field : &unbounded;
    switch (kind) {
        case ZHUB_FIELD_STRING:
            return value->type == MSGPACK_OBJECT_STR && s_in (range, value->via.str.size);
        case ZHUB_FIELD_ID:
            return (value->type == MSGPACK_OBJECT_STR && value->via.str.size > 0
                    && value->via.str.size <= ZHUB_MSG_MAX_ID)
                   || value->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
        case ZHUB_FIELD_INTEGER:
            if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                return s_in (range, (double)value->via.u64);
            return value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER
                   && s_in (range, (double)value->via.i64);
        case ZHUB_FIELD_NUMBER:
            if (value->type == MSGPACK_OBJECT_FLOAT32 || value->type == MSGPACK_OBJECT_FLOAT64)
                return isfinite (value->via.f64) && s_in (range, value->via.f64);
            return s_value_ok (field, ZHUB_FIELD_INTEGER, bounds, value, json);
        case ZHUB_FIELD_BOOLEAN: return value->type == MSGPACK_OBJECT_BOOLEAN;
        case ZHUB_FIELD_TIME: return s_time_ok (value);
        case ZHUB_FIELD_ENUM: return s_enum_ok (field, value);
        case ZHUB_FIELD_OBJECT: return value->type == MSGPACK_OBJECT_MAP;
        case ZHUB_FIELD_BYTES:
            return value->type == MSGPACK_OBJECT_BIN || (json && value->type == MSGPACK_OBJECT_STR);
        case ZHUB_FIELD_ARRAY:
            if (value->type != MSGPACK_OBJECT_ARRAY || !s_in (range, value->via.array.size))
                return false;
            for (uint32_t i = 0; i < value->via.array.size; i++)
                if (!s_value_ok (field, field->item, false, &value->via.array.ptr[i], json))
                    return false;
            return true;
    }
    return false;
}

static bool
s_named (const msgpack_object *key, const char *name)
{
    return zhub_mpack_str_eq (key, name);
}

static zhub_rc_t
s_check_map (const zhub_event_spec_t *spec, const char *type, const msgpack_object *map, bool json,
             char *reason, size_t reason_size)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return s_reason (reason, reason_size, ZHUB_REJECT, "%s: data must be a map", type);
    for (const zhub_field_t *field = spec->fields; field->name; field++) {
        const msgpack_object *value = zhub_mpack_get (map, field->name);
        if (!value || value->type == MSGPACK_OBJECT_NIL) {
            if (field->required)
                return s_reason (reason, reason_size, ZHUB_REJECT, "%s: data.%s is missing", type,
                                 field->name);
            continue;
        }
        if (!s_value_ok (field, field->kind, true, value, json)) {
            char kind[200];
            zhub_field_describe (field, kind, sizeof kind);
            const char *article = field->kind == ZHUB_FIELD_ENUM || field->kind == ZHUB_FIELD_BYTES
                                      ? ""
                                  : strchr ("aeiou", kind[0]) ? "an "
                                                              : "a ";
            return s_reason (reason, reason_size, ZHUB_REJECT, "%s: data.%s must be %s%s", type,
                             field->name, article, kind);
        }
    }
    for (uint32_t i = 0; spec->closed && i < map->via.map.size; i++) {
        const msgpack_object *key = &map->via.map.ptr[i].key;
        bool known = false;
        for (const zhub_field_t *field = spec->fields; !known && field->name; field++)
            known = s_named (key, field->name);
        if (!known) {
            char *name = zhub_mpack_strdup (key);
            s_reason (reason, reason_size, ZHUB_REJECT, "%s: data.%.64s is not part of %s", type,
                      name ? name : "(a key that is not text)", spec->type);
            free (name);
            return ZHUB_REJECT;
        }
    }
    return ZHUB_OK;
}

static zhub_rc_t
s_unknown (const char *type, char *reason, size_t reason_size)
{
    return s_reason (reason, reason_size, ZHUB_NOTFOUND, "%.255s is not in the catalogue",
                     type ? type : "(no type)");
}

static zhub_rc_t
s_check_bytes (const char *type, const uint8_t *data, size_t size, bool json, char *reason,
               size_t reason_size)
{
    const zhub_event_spec_t *spec = zhub_catalogue_find (type);
    if (!spec)
        return s_unknown (type, reason, reason_size);
    msgpack_unpacked result;
    char why[128];
    if (!data || zhub_mpack_decode (data, size, &zhub_msg_stored_limits, &result, why, sizeof why))
        return s_reason (reason, reason_size, ZHUB_REJECT, "%s: data is not msgpack (%s)", type,
                         data ? why : "none");
    zhub_rc_t rc = s_check_map (spec, type, &result.data, json, reason, reason_size);
    msgpack_unpacked_destroy (&result);
    return rc;
}

zhub_rc_t
zhub_event_check_data (const char *type, const uint8_t *data, size_t size, char *reason,
                       size_t reason_size)
{
    return s_check_bytes (type, data, size, false, reason, reason_size);
}

zhub_rc_t
zhub_event_check (const char *type, const json_t *data, char *reason, size_t reason_size)
{
    if (!zhub_catalogue_find (type))
        return s_unknown (type, reason, reason_size);
    if (!json_is_object (data))
        return s_reason (reason, reason_size, ZHUB_REJECT, "%s: data must be an object", type);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    zhub_json_pack (&pk, data);
    zhub_rc_t rc =
        s_check_bytes (type, (const uint8_t *)sbuf.data, sbuf.size, true, reason, reason_size);
    msgpack_sbuffer_destroy (&sbuf);
    return rc;
}

//  The subject against the entry's form (see zhub_event_spec_t).
static bool
s_subject_ok (const char *form, const char *subject)
{
    bool inside = false; //  within <...>, where "bird id" may have a space
    for (const char *p = form; *p; p++)
        if (*p == '<' || *p == '>')
            inside = *p == '<';
        else if (*p == ' ' && !inside)
            return true; //  a form in words
    subject = subject ? subject : "";
    const char *open = strchr (form, '<');
    if (!open)
        return !strcmp (form, subject);
    size_t prefix = (size_t)(open - form);
    return !strncmp (form, subject, prefix) && subject[prefix] != 0;
}

zhub_rc_t
zhub_event_check_msg (const zhub_msg_t *msg, char *reason, size_t reason_size)
{
    const zhub_event_spec_t *spec = msg ? zhub_catalogue_find (msg->type) : NULL;
    if (!spec)
        return s_unknown (msg ? msg->type : NULL, reason, reason_size);
    if (!s_subject_ok (spec->subject, msg->subject))
        return s_reason (reason, reason_size, ZHUB_REJECT, "%s: subject \"%.64s\" is not %s",
                         msg->type, msg->subject ? msg->subject : "", spec->subject);
    return zhub_event_check_data (msg->type, msg->data, msg->data_size, reason, reason_size);
}

zhub_msg_t *
zhub_event_new (const char *type, const char *id, const char *source, const char *subject,
                int64_t time_ms, const char *traceparent, const json_t *data, char *reason,
                size_t reason_size)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, source);
    zhub_msg_set (&msg->subject, subject);
    zhub_msg_set (&msg->traceparent, traceparent);
    msg->time_ms = time_ms;
    char why[256];
    if (zhub_msg_set_data_json (msg, data)) {
        s_reason (reason, reason_size, ZHUB_REJECT, "%.255s: data must be an object",
                  type ? type : "(no type)");
        zhub_msg_destroy (&msg);
    } else if (zhub_event_check_msg (msg, reason, reason_size) != ZHUB_OK)
        zhub_msg_destroy (&msg);
    else if (zhub_msg_validate (msg, why, sizeof why)) {
        s_reason (reason, reason_size, ZHUB_REJECT, "%s: %s", type, why);
        zhub_msg_destroy (&msg);
    }
    return msg;
}
