//  zhub-dead-letter's pure core (see dead_letter.h). Records are msgpack
//  maps written with a fixed key order; the envelopes inside them are kept
//  as the exact bytes the broker handed over, so a replay of an unedited
//  letter carries the original payload bit for bit (uint64 ids included).
//  Only edits go through jansson, which is where the one caveat lives: an
//  edited data map loses integers above INT64_MAX (they become reals).
#include "dead_letter.h"
#include "zhub_id.h"
#include "zhub_json.h"
#include "zhub_mpack.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Stored records may hold a 1 MiB envelope twice plus its history.
static const zhub_mpack_limits_t s_record_limits = {
    .max_size = 8u << 20, .max_depth = 8, .max_items = 64};

void
dead_letter_clear (dead_letter_t *self)
{
    if (!self)
        return;
    free (self->dlq_id);
    free (self->group);
    free (self->topic);
    free (self->original_id);
    free (self->subject);
    free (self->cause);
    free (self->reason);
    free (self->attempts);
    free (self->message);
    free (self->original);
    free (self->last_replay_id);
    free (self->last_command);
    free (self->last_result);
    memset (self, 0, sizeof *self);
}

static uint8_t *
s_pack_object (const msgpack_object *obj, size_t *size)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_object (&pk, *obj);
    uint8_t *copy = zhub_malloc (sbuf.size ? sbuf.size : 1);
    memcpy (copy, sbuf.data, sbuf.size);
    *size = sbuf.size;
    msgpack_sbuffer_destroy (&sbuf);
    return copy;
}

static char *
s_str_or_empty (const msgpack_object *obj)
{
    char *text = zhub_mpack_strdup (obj);
    return text ? text : zhub_strdup ("");
}

zhub_rc_t
dead_letter_from_msg (const zhub_msg_t *msg, int64_t now_ms, dead_letter_t *out, char *err,
                      size_t err_size)
{
    memset (out, 0, sizeof *out);
    msgpack_unpacked result;
    char why[128];
    if (zhub_mpack_decode (msg->data, msg->data_size, NULL, &result, why, sizeof why)) {
        snprintf (err, err_size, "data: %s", why);
        return ZHUB_REJECT;
    }
    const msgpack_object *data = &result.data;
    const msgpack_object *group = zhub_mpack_get (data, "group");
    const msgpack_object *message = zhub_mpack_get (data, "message");
    const msgpack_object *attempts = zhub_mpack_get (data, "attempts");
    zhub_msg_t *original = NULL;
    zhub_rc_t rc = ZHUB_REJECT;
    if (!group || group->type != MSGPACK_OBJECT_STR || !group->via.str.size) {
        snprintf (err, err_size, "data.group missing");
        goto done;
    }
    if (!message || message->type != MSGPACK_OBJECT_MAP) {
        snprintf (err, err_size, "data.message missing or not a map");
        goto done;
    }
    if (!attempts || attempts->type != MSGPACK_OBJECT_ARRAY) {
        snprintf (err, err_size, "data.attempts missing or not an array");
        goto done;
    }
    original = zhub_msg_from_object (message, why, sizeof why);
    if (!original) {
        snprintf (err, err_size, "data.message: %s", why);
        goto done;
    }
    out->dlq_id = zhub_strdup (msg->id);
    out->group = zhub_mpack_strdup (group);
    if (!out->group) {
        snprintf (err, err_size, "data.group is not text");
        goto done;
    }
    out->topic = zhub_strdup (original->type);
    out->original_id = zhub_strdup (original->id);
    out->subject = zhub_strdup (original->subject ? original->subject : "");
    out->cause = s_str_or_empty (zhub_mpack_get (data, "cause"));
    uint64_t number = 0;
    if (zhub_mpack_uint (zhub_mpack_get (data, "reason_code"), &number) == 0
        && number <= UINT32_MAX)
        out->reason_code = (uint32_t)number;
    if (zhub_mpack_uint (zhub_mpack_get (data, "offset"), &number) == 0)
        out->offset = number;
    if (attempts->via.array.size > 0) {
        const msgpack_object *last = &attempts->via.array.ptr[attempts->via.array.size - 1];
        out->reason = zhub_mpack_strdup (zhub_mpack_get (last, "reason"));
    }
    if (!out->reason)
        out->reason = zhub_strdup ("");
    out->dead_at_ms = msg->time_ms ? msg->time_ms : now_ms;
    out->stored_at_ms = now_ms;
    out->attempts = s_pack_object (attempts, &out->attempts_size);
    out->message = s_pack_object (message, &out->message_size);
    rc = ZHUB_OK;
done:
    if (rc != ZHUB_OK)
        dead_letter_clear (out);
    zhub_msg_destroy (&original);
    msgpack_unpacked_destroy (&result);
    return rc;
}

//  -------------------------------------------------------------------
//  Stored form

static void
s_pack_bin (msgpack_packer *pk, const char *key, const uint8_t *bytes, size_t size)
{
    zhub_mpack_pack_str (pk, key);
    if (!bytes) {
        msgpack_pack_nil (pk);
        return;
    }
    msgpack_pack_bin (pk, size);
    msgpack_pack_bin_body (pk, bytes, size);
}

static void
s_pack_u64 (msgpack_packer *pk, const char *key, uint64_t value)
{
    zhub_mpack_pack_str (pk, key);
    msgpack_pack_uint64 (pk, value);
}

static void
s_pack_i64 (msgpack_packer *pk, const char *key, int64_t value)
{
    zhub_mpack_pack_str (pk, key);
    msgpack_pack_int64 (pk, value);
}

int
dead_letter_encode (const dead_letter_t *self, uint8_t **buf, size_t *size)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 21);
    s_pack_u64 (&pk, "seq", self->seq);
    zhub_mpack_pack_kv_str (&pk, "dlq_id", self->dlq_id);
    zhub_mpack_pack_kv_str (&pk, "group", self->group);
    zhub_mpack_pack_kv_str (&pk, "topic", self->topic);
    zhub_mpack_pack_kv_str (&pk, "original_id", self->original_id);
    zhub_mpack_pack_kv_str (&pk, "subject", self->subject);
    zhub_mpack_pack_kv_str (&pk, "cause", self->cause);
    s_pack_u64 (&pk, "reason_code", self->reason_code);
    zhub_mpack_pack_kv_str (&pk, "reason", self->reason);
    s_pack_i64 (&pk, "dead_at", self->dead_at_ms);
    s_pack_i64 (&pk, "stored_at", self->stored_at_ms);
    s_pack_u64 (&pk, "offset", self->offset);
    s_pack_bin (&pk, "attempts", self->attempts, self->attempts_size);
    s_pack_bin (&pk, "message", self->message, self->message_size);
    s_pack_bin (&pk, "original", self->original, self->original_size);
    s_pack_u64 (&pk, "revision", self->revision);
    s_pack_u64 (&pk, "replays", self->replays);
    s_pack_i64 (&pk, "last_replay_ms", self->last_replay_ms);
    zhub_mpack_pack_kv_str (&pk, "last_replay_id", self->last_replay_id);
    zhub_mpack_pack_kv_str (&pk, "last_command", self->last_command);
    zhub_mpack_pack_kv_str (&pk, "last_result", self->last_result);
    *buf = zhub_malloc (sbuf.size);
    memcpy (*buf, sbuf.data, sbuf.size);
    *size = sbuf.size;
    msgpack_sbuffer_destroy (&sbuf);
    return 0;
}

static uint8_t *
s_get_bin (const msgpack_object *map, const char *key, size_t *size)
{
    const msgpack_object *obj = zhub_mpack_get (map, key);
    *size = 0;
    if (!obj || obj->type != MSGPACK_OBJECT_BIN)
        return NULL;
    uint8_t *copy = zhub_malloc (obj->via.bin.size ? obj->via.bin.size : 1);
    memcpy (copy, obj->via.bin.ptr, obj->via.bin.size);
    *size = obj->via.bin.size;
    return copy;
}

int
dead_letter_decode (const uint8_t *buf, size_t size, dead_letter_t *out)
{
    memset (out, 0, sizeof *out);
    msgpack_unpacked result;
    if (zhub_mpack_decode (buf, size, &s_record_limits, &result, NULL, 0))
        return -1;
    const msgpack_object *map = &result.data;
    uint64_t number = 0;
    int64_t signed_number = 0;
    if (map->type != MSGPACK_OBJECT_MAP || zhub_mpack_uint (zhub_mpack_get (map, "seq"), &out->seq))
        goto fail;
    out->dlq_id = zhub_mpack_strdup (zhub_mpack_get (map, "dlq_id"));
    out->group = zhub_mpack_strdup (zhub_mpack_get (map, "group"));
    out->topic = zhub_mpack_strdup (zhub_mpack_get (map, "topic"));
    out->original_id = zhub_mpack_strdup (zhub_mpack_get (map, "original_id"));
    out->subject = s_str_or_empty (zhub_mpack_get (map, "subject"));
    out->cause = s_str_or_empty (zhub_mpack_get (map, "cause"));
    out->reason = s_str_or_empty (zhub_mpack_get (map, "reason"));
    if (!out->dlq_id || !out->group || !out->topic || !out->original_id)
        goto fail;
    if (zhub_mpack_uint (zhub_mpack_get (map, "reason_code"), &number) == 0)
        out->reason_code = (uint32_t)number;
    if (zhub_mpack_int (zhub_mpack_get (map, "dead_at"), &signed_number) == 0)
        out->dead_at_ms = signed_number;
    if (zhub_mpack_int (zhub_mpack_get (map, "stored_at"), &signed_number) == 0)
        out->stored_at_ms = signed_number;
    zhub_mpack_uint (zhub_mpack_get (map, "offset"), &out->offset);
    out->attempts = s_get_bin (map, "attempts", &out->attempts_size);
    out->message = s_get_bin (map, "message", &out->message_size);
    out->original = s_get_bin (map, "original", &out->original_size);
    if (!out->message)
        goto fail;
    if (zhub_mpack_uint (zhub_mpack_get (map, "revision"), &number) == 0)
        out->revision = (uint32_t)number;
    if (zhub_mpack_uint (zhub_mpack_get (map, "replays"), &number) == 0)
        out->replays = (uint32_t)number;
    if (zhub_mpack_int (zhub_mpack_get (map, "last_replay_ms"), &signed_number) == 0)
        out->last_replay_ms = signed_number;
    out->last_replay_id = zhub_mpack_strdup (zhub_mpack_get (map, "last_replay_id"));
    out->last_command = zhub_mpack_strdup (zhub_mpack_get (map, "last_command"));
    out->last_result = zhub_mpack_strdup (zhub_mpack_get (map, "last_result"));
    msgpack_unpacked_destroy (&result);
    return 0;
fail:
    msgpack_unpacked_destroy (&result);
    dead_letter_clear (out);
    return -1;
}

static json_t *
s_time_json (int64_t ms)
{
    char text[40];
    zhub_time_format (ms, text, sizeof text);
    return json_string (text);
}

json_t *
dead_letter_envelope_json (const uint8_t *buf, size_t size)
{
    zhub_msg_t *msg = zhub_msg_decode (buf, size, NULL, NULL, 0);
    if (!msg)
        return NULL;
    json_t *data = zhub_msg_data_json (msg);
    json_t *json = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "id", msg->id, "source", msg->source,
                              "type", msg->type, "subject", msg->subject ? msg->subject : "",
                              "traceparent", msg->traceparent ? msg->traceparent : "");
    json_object_set_new (json, "time", s_time_json (msg->time_ms));
    json_object_set_new (json, "data", data ? data : json_object ());
    zhub_msg_destroy (&msg);
    return json;
}

json_t *
dead_letter_to_json (const dead_letter_t *self, bool full)
{
    json_t *json = json_object ();
    json_object_set_new (json, "id", json_integer ((json_int_t)self->seq));
    json_object_set_new (json, "dlq_id", json_string (self->dlq_id));
    json_object_set_new (json, "group", json_string (self->group));
    json_object_set_new (json, "topic", json_string (self->topic));
    json_object_set_new (json, "original_id", json_string (self->original_id));
    json_object_set_new (json, "subject", json_string (self->subject));
    json_object_set_new (json, "cause", json_string (self->cause));
    json_object_set_new (json, "reason_code", json_integer (self->reason_code));
    json_object_set_new (json, "reason", json_string (self->reason));
    json_object_set_new (json, "dead_at", s_time_json (self->dead_at_ms));
    json_object_set_new (json, "revision", json_integer (self->revision));
    json_object_set_new (json, "replays", json_integer (self->replays));
    json_object_set_new (json, "last_replay_id",
                         self->last_replay_id ? json_string (self->last_replay_id) : json_null ());
    if (!full)
        return json;
    json_object_set_new (json, "stored_at", s_time_json (self->stored_at_ms));
    json_object_set_new (json, "offset", json_integer ((json_int_t)self->offset));
    json_object_set_new (json, "last_replay_at",
                         self->last_replay_ms ? s_time_json (self->last_replay_ms) : json_null ());
    json_object_set_new (json, "last_command",
                         self->last_command ? json_string (self->last_command) : json_null ());
    json_object_set_new (json, "last_result",
                         self->last_result ? json_string (self->last_result) : json_null ());
    json_t *attempts = NULL;
    msgpack_unpacked result;
    if (self->attempts
        && zhub_mpack_decode (self->attempts, self->attempts_size, NULL, &result, NULL, 0) == 0) {
        attempts = zhub_json_from_mpack (&result.data);
        msgpack_unpacked_destroy (&result);
    }
    json_object_set_new (json, "attempts", attempts ? attempts : json_array ());
    json_t *message = dead_letter_envelope_json (self->message, self->message_size);
    json_object_set_new (json, "message", message ? message : json_null ());
    if (self->original) {
        json_t *original = dead_letter_envelope_json (self->original, self->original_size);
        json_object_set_new (json, "original_message", original ? original : json_null ());
    }
    return json;
}

//  -------------------------------------------------------------------
//  Replays

char *
dead_letter_replay_id (const char *original_id, uint32_t generation)
{
    char head[24];
    snprintf (head, sizeof head, "replay:%u:", generation);
    return zhub_id_bounded (head, original_id);
}

uint32_t
dead_letter_replay_generation (const dead_letter_t *self, bool again)
{
    if (self->replays == 0 || again)
        return self->replays + 1;
    return self->replays;
}

zhub_msg_t *
dead_letter_replay_msg (const dead_letter_t *self, uint32_t generation, char *err, size_t err_size)
{
    char why[128];
    zhub_msg_t *msg = zhub_msg_decode (self->message, self->message_size, NULL, why, sizeof why);
    if (!msg) {
        snprintf (err, err_size, "stored message: %s", why);
        return NULL;
    }
    msgpack_unpacked result;
    if (zhub_mpack_decode (msg->data, msg->data_size, NULL, &result, why, sizeof why)
        || result.data.type != MSGPACK_OBJECT_MAP) {
        snprintf (err, err_size, "stored data is not a map");
        zhub_msg_destroy (&msg);
        return NULL;
    }
    const msgpack_object_map *map = &result.data.via.map;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < map->size; i++)
        if (!zhub_mpack_str_eq (&map->ptr[i].key, DEAD_LETTER_REPLAY_KEY))
            kept++;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, kept + 1);
    for (uint32_t i = 0; i < map->size; i++) {
        if (zhub_mpack_str_eq (&map->ptr[i].key, DEAD_LETTER_REPLAY_KEY))
            continue;
        msgpack_pack_object (&pk, map->ptr[i].key);
        msgpack_pack_object (&pk, map->ptr[i].val);
    }
    zhub_mpack_pack_str (&pk, DEAD_LETTER_REPLAY_KEY);
    msgpack_pack_map (&pk, 4);
    zhub_mpack_pack_kv_str (&pk, "of", msg->id);
    zhub_mpack_pack_str (&pk, "n");
    msgpack_pack_uint32 (&pk, generation);
    zhub_mpack_pack_kv_str (&pk, "dead_letter", self->dlq_id);
    zhub_mpack_pack_kv_str (&pk, "group", self->group);
    zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    msgpack_unpacked_destroy (&result);
    char *id = dead_letter_replay_id (msg->id, generation);
    free (msg->id);
    msg->id = id;
    return msg;
}

//  -------------------------------------------------------------------
//  Edits

static int
s_encode_into (zhub_msg_t *msg, uint8_t **out, size_t *out_size, char *err, size_t err_size)
{
    int rc = zhub_msg_encode (msg, out, out_size, err, err_size);
    zhub_msg_destroy (&msg);
    return rc;
}

//  Sets value at the dotted path under root (objects created on the way).
static int
s_json_set_path (json_t *root, const char *path, json_t *value, char *err, size_t err_size)
{
    char *copy = zhub_strdup (path), *save = NULL;
    json_t *node = root;
    int rc = -1;
    char *token = strtok_r (copy, ".", &save);
    if (!token) {
        snprintf (err, err_size, "empty path after data.");
        goto done;
    }
    while (true) {
        char *next = strtok_r (NULL, ".", &save);
        if (!next) {
            json_object_set (node, token, value);
            rc = 0;
            break;
        }
        json_t *child = json_object_get (node, token);
        if (!child) {
            child = json_object ();
            json_object_set_new (node, token, child);
        } else if (!json_is_object (child)) {
            snprintf (err, err_size, "data path '%s': '%s' is not an object", path, token);
            break;
        }
        node = child;
        token = next;
    }
done:
    free (copy);
    return rc;
}

int
dead_letter_edit_set (const uint8_t *buf, size_t size, const char *assignment, uint8_t **out,
                      size_t *out_size, char *err, size_t err_size)
{
    const char *eq = strchr (assignment, '=');
    if (!eq || eq == assignment) {
        snprintf (err, err_size, "expected PATH=VALUE, got '%s'", assignment);
        return -1;
    }
    char *path = zhub_strdup (assignment);
    path[eq - assignment] = 0;
    const char *text = eq + 1;
    char why[128];
    zhub_msg_t *msg = zhub_msg_decode (buf, size, NULL, why, sizeof why);
    int rc = -1;
    if (!msg) {
        snprintf (err, err_size, "stored message: %s", why);
        goto done;
    }
    if (!strcmp (path, "subject")) {
        zhub_msg_set (&msg->subject, text);
        rc = s_encode_into (msg, out, out_size, err, err_size);
        goto done;
    }
    if (strncmp (path, "data.", 5) != 0) {
        snprintf (err, err_size, "can only set data.<path> or subject, not '%s'", path);
        zhub_msg_destroy (&msg);
        goto done;
    }
    json_t *data = zhub_msg_data_json (msg);
    json_error_t jerr;
    json_t *value = json_loads (text, JSON_DECODE_ANY, &jerr);
    if (!value)
        value = json_string (text);
    if (!data || !value) {
        snprintf (err, err_size, "value is not valid UTF-8 text");
        json_decref (data);
        json_decref (value);
        zhub_msg_destroy (&msg);
        goto done;
    }
    if (s_json_set_path (data, path + 5, value, err, err_size) == 0) {
        zhub_msg_set_data_json (msg, data);
        rc = s_encode_into (msg, out, out_size, err, err_size);
    } else
        zhub_msg_destroy (&msg);
    json_decref (data);
    json_decref (value);
done:
    free (path);
    return rc;
}

static bool
s_is_map_header (uint8_t byte)
{
    return (byte >= 0x80 && byte <= 0x8f) || byte == 0xde || byte == 0xdf;
}

int
dead_letter_edit_data (const uint8_t *buf, size_t size, const char *json_text, size_t json_size,
                       uint8_t **out, size_t *out_size, char *err, size_t err_size)
{
    char why[160];
    zhub_msg_t *msg = zhub_msg_decode (buf, size, NULL, why, sizeof why);
    if (!msg) {
        snprintf (err, err_size, "stored message: %s", why);
        return -1;
    }
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    int rc = -1;
    if (zhub_json_text_to_mpack (json_text, json_size, &pk, NULL, why, sizeof why))
        snprintf (err, err_size, "not valid JSON: %s", why);
    else if (sbuf.size == 0 || !s_is_map_header ((uint8_t)sbuf.data[0]))
        snprintf (err, err_size, "the new data must be a JSON object");
    else {
        zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
        msgpack_sbuffer_destroy (&sbuf);
        return s_encode_into (msg, out, out_size, err, err_size);
    }
    msgpack_sbuffer_destroy (&sbuf);
    zhub_msg_destroy (&msg);
    return rc;
}

//  Growing text buffer for the diff.
typedef struct {
    char *text;
    size_t size, used;
} s_text_t;

static void
s_text_add (s_text_t *text, const char *sign, const char *path, const json_t *value)
{
    char *shown = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
    char *line = zhub_sprintf ("%s %s: %s\n", sign, path, shown ? shown : "?");
    free (shown);
    size_t n = strlen (line);
    if (text->used + n + 1 > text->size) {
        text->size = (text->used + n + 1) * 2;
        text->text = zhub_realloc (text->text, text->size);
    }
    memcpy (text->text + text->used, line, n + 1);
    text->used += n;
    free (line);
}

static void
s_diff (s_text_t *text, const char *path, const json_t *before, const json_t *after)
{
    if (json_is_object (before) && json_is_object (after)) {
        const char *key;
        json_t *value;
        json_object_foreach ((json_t *)before, key, value)
        {
            char *sub = zhub_sprintf ("%s.%s", path, key);
            json_t *other = json_object_get (after, key);
            if (!other)
                s_text_add (text, "-", sub, value);
            else
                s_diff (text, sub, value, other);
            free (sub);
        }
        json_object_foreach ((json_t *)after, key, value)
        {
            if (json_object_get (before, key))
                continue;
            char *sub = zhub_sprintf ("%s.%s", path, key);
            s_text_add (text, "+", sub, value);
            free (sub);
        }
        return;
    }
    if (json_equal (before, after))
        return;
    s_text_add (text, "-", path, before);
    s_text_add (text, "+", path, after);
}

char *
dead_letter_diff (const uint8_t *before, size_t before_size, const uint8_t *after,
                  size_t after_size)
{
    json_t *a = dead_letter_envelope_json (before, before_size);
    json_t *b = dead_letter_envelope_json (after, after_size);
    char *result = NULL;
    if (a && b) {
        s_text_t text = {.text = zhub_strdup (""), .size = 1};
        //  The envelope fields an edit may touch, then data field by field.
        s_diff (&text, "subject", json_object_get (a, "subject"), json_object_get (b, "subject"));
        s_diff (&text, "data", json_object_get (a, "data"), json_object_get (b, "data"));
        result = text.text;
    }
    json_decref (a);
    json_decref (b);
    return result;
}

//  -------------------------------------------------------------------
//  Selection

static bool
s_all_digits (const char *text)
{
    if (!*text)
        return false;
    for (; *text; text++)
        if (!isdigit ((unsigned char)*text))
            return false;
    return true;
}

bool
dead_letter_match (const dead_letter_t *self, const dead_letter_filter_t *filter)
{
    if (filter->group && strcmp (filter->group, self->group))
        return false;
    if (filter->topic) {
        bool pattern = strchr (filter->topic, '*') || strchr (filter->topic, '>');
        if (pattern ? !zhub_topic_match (filter->topic, self->topic)
                    : strcmp (filter->topic, self->topic) != 0)
            return false;
    }
    if (filter->since_ms && self->dead_at_ms < filter->since_ms)
        return false;
    if (filter->before_ms && self->dead_at_ms >= filter->before_ms)
        return false;
    if (filter->reason && *filter->reason) {
        if (s_all_digits (filter->reason))
            return strtoul (filter->reason, NULL, 10) == self->reason_code;
        return strcasestr (self->reason, filter->reason)
               || strcasestr (self->cause, filter->reason);
    }
    return true;
}

//  -------------------------------------------------------------------
//  Alerts

void
dead_letter_alert_init (dead_letter_alert_t *self, int64_t burst_ms, int64_t interval_ms)
{
    memset (self, 0, sizeof *self);
    self->burst_ms = burst_ms;
    self->interval_ms = interval_ms;
}

void
dead_letter_alert_note (dead_letter_alert_t *self, const char *group, int64_t now_ms)
{
    if (self->pending == 0)
        self->burst_start_ms = now_ms;
    self->pending++;
    for (size_t i = 0; i < self->group_count; i++)
        if (!strcmp (self->groups[i].name, group)) {
            self->groups[i].count++;
            return;
        }
    if (self->group_count < DEAD_LETTER_ALERT_GROUPS) {
        snprintf (self->groups[self->group_count].name, sizeof self->groups[0].name, "%s", group);
        self->groups[self->group_count++].count = 1;
    } else
        self->other++;
}

bool
dead_letter_alert_due (const dead_letter_alert_t *self, int64_t now_ms)
{
    if (self->pending == 0 || now_ms < self->burst_start_ms + self->burst_ms)
        return false;
    return self->last_sent_ms == 0 || now_ms >= self->last_sent_ms + self->interval_ms;
}

char *
dead_letter_alert_text (const dead_letter_alert_t *self)
{
    char groups[1400] = "";
    size_t used = 0;
    for (size_t i = 0; i < self->group_count && used < sizeof groups; i++)
        used += (size_t)snprintf (groups + used, sizeof groups - used, "%s%s %llu", i ? ", " : "",
                                  self->groups[i].name, (unsigned long long)self->groups[i].count);
    if (self->other && used < sizeof groups)
        snprintf (groups + used, sizeof groups - used, ", other groups %llu",
                  (unsigned long long)self->other);
    return zhub_sprintf ("zhub: %llu new dead letter%s (%s). Review with `zhub dlq list`.",
                         (unsigned long long)self->pending, self->pending == 1 ? "" : "s", groups);
}

void
dead_letter_alert_sent (dead_letter_alert_t *self, bool ok, int64_t now_ms)
{
    self->last_sent_ms = now_ms;
    if (!ok)
        return;
    int64_t burst_ms = self->burst_ms, interval_ms = self->interval_ms;
    dead_letter_alert_init (self, burst_ms, interval_ms);
    self->last_sent_ms = now_ms;
}
