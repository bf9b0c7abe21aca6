//  Group and per-message state records. msgpack maps, like everything else
//  on disk and on the wire, with a version field on group records so a
//  later broker can read what an earlier one wrote.
#include "broker_state.h"

#include <stdlib.h>
#include <string.h>

int
broker_state_open (broker_state_t *self, zhub_store_t *store)
{
    self->store = store;
    if (zhub_store_table (store, "groups", &self->groups)
        || zhub_store_table (store, "gmsg", &self->gmsg))
        return -1;
    return 0;
}

void
broker_state_encode_group (const broker_group_t *group, uint8_t **buf, size_t *size)
{
    const broker_settings_t *s = &group->settings;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 8);
    zhub_mpack_pack_str (&pk, "v");
    msgpack_pack_uint32 (&pk, 1);
    zhub_mpack_pack_str (&pk, "patterns");
    msgpack_pack_array (&pk, s->pattern_count);
    for (size_t i = 0; i < s->pattern_count; i++)
        zhub_mpack_pack_str (&pk, s->patterns[i]);
    zhub_mpack_pack_str (&pk, "max_deliveries");
    msgpack_pack_uint32 (&pk, s->max_deliveries);
    zhub_mpack_pack_str (&pk, "ack_deadline_ms");
    msgpack_pack_int64 (&pk, s->ack_deadline_ms);
    zhub_mpack_pack_str (&pk, "backoff_ms");
    msgpack_pack_array (&pk, s->backoff_count);
    for (size_t i = 0; i < s->backoff_count; i++)
        msgpack_pack_int64 (&pk, s->backoff_ms[i]);
    zhub_mpack_pack_str (&pk, "max_in_flight");
    msgpack_pack_uint32 (&pk, s->max_in_flight);
    zhub_mpack_pack_str (&pk, "floor");
    msgpack_pack_uint64 (&pk, group->floor);
    zhub_mpack_pack_str (&pk, "created_ms");
    msgpack_pack_int64 (&pk, group->created_ms);
    *buf = (uint8_t *)sbuf.data;
    *size = sbuf.size;
}

int
broker_state_decode_group (const uint8_t *buf, size_t size, broker_settings_t *settings,
                           uint64_t *floor, int64_t *created_ms)
{
    memset (settings, 0, sizeof *settings);
    msgpack_unpacked result;
    if (zhub_mpack_decode (buf, size, NULL, &result, NULL, 0))
        return -1;
    const msgpack_object *map = &result.data;
    const msgpack_object *patterns = zhub_mpack_get (map, "patterns");
    const msgpack_object *backoff = zhub_mpack_get (map, "backoff_ms");
    uint64_t max_deliveries;
    int rc = -1;
    if (!patterns || patterns->type != MSGPACK_OBJECT_ARRAY || !backoff
        || backoff->type != MSGPACK_OBJECT_ARRAY || backoff->via.array.size > ZHUB_FRAME_MAX_BACKOFF
        || zhub_mpack_uint (zhub_mpack_get (map, "max_deliveries"), &max_deliveries)
        || zhub_mpack_int (zhub_mpack_get (map, "ack_deadline_ms"), &settings->ack_deadline_ms)
        || zhub_mpack_uint (zhub_mpack_get (map, "floor"), floor)
        || zhub_mpack_int (zhub_mpack_get (map, "created_ms"), created_ms))
        goto done;
    settings->max_deliveries = (uint32_t)max_deliveries;
    //  added after the first records were written: absent means no cap
    uint64_t max_in_flight = 0;
    const msgpack_object *cap = zhub_mpack_get (map, "max_in_flight");
    if (cap && zhub_mpack_uint (cap, &max_in_flight))
        goto done;
    settings->max_in_flight = max_in_flight > 1000000 ? 1000000 : (uint32_t)max_in_flight;
    for (uint32_t i = 0; i < backoff->via.array.size; i++)
        if (zhub_mpack_int (&backoff->via.array.ptr[i],
                            &settings->backoff_ms[settings->backoff_count++]))
            goto done;
    settings->patterns = zhub_calloc (patterns->via.array.size + 1, sizeof (char *));
    for (uint32_t i = 0; i < patterns->via.array.size; i++) {
        char *pattern = zhub_mpack_strdup (&patterns->via.array.ptr[i]);
        if (!pattern)
            goto done;
        settings->patterns[settings->pattern_count++] = pattern;
    }
    rc = 0;
done:
    if (rc)
        broker_settings_free (settings);
    msgpack_unpacked_destroy (&result);
    return rc;
}

//  name \0 be64 offset
static size_t
s_msg_key (uint8_t *key, const char *group, uint64_t offset)
{
    size_t len = strlen (group);
    memcpy (key, group, len);
    key[len] = 0;
    zhub_store_key_u64 (key + len + 1, offset);
    return len + 9;
}

zhub_rc_t
broker_state_put_group (broker_state_t *self, zhub_txn_t *txn, const char *name,
                        const uint8_t *record, size_t record_size, uint64_t from_floor,
                        uint64_t to_floor)
{
    if (zhub_txn_put (txn, self->groups, name, strlen (name), record, record_size) != ZHUB_OK)
        return ZHUB_ERROR;
    if (to_floor <= from_floor)
        return ZHUB_OK;
    uint8_t start[160], end[160];
    size_t start_size = s_msg_key (start, name, from_floor);
    s_msg_key (end, name, to_floor);
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->gmsg);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key;
    size_t key_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, start, start_size, &key, &key_size, NULL, NULL);
    while (rc == ZHUB_OK) {
        //  same group prefix and offset below the new floor
        if (key_size != start_size || memcmp (key, end, start_size) >= 0
            || memcmp (key, start, start_size - 8) != 0)
            break;
        if (zhub_cursor_del (cursor) != ZHUB_OK) {
            rc = ZHUB_ERROR;
            break;
        }
        rc = zhub_cursor_seek (cursor, start, start_size, &key, &key_size, NULL, NULL);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
broker_state_clear_group (broker_state_t *self, zhub_txn_t *txn, const char *name)
{
    uint8_t start[160];
    size_t prefix = s_msg_key (start, name, 0) - 8;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->gmsg);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key;
    size_t key_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, start, prefix + 8, &key, &key_size, NULL, NULL);
    while (rc == ZHUB_OK) {
        if (key_size != prefix + 8 || memcmp (key, start, prefix) != 0)
            break;
        if (zhub_cursor_del (cursor) != ZHUB_OK) {
            rc = ZHUB_ERROR;
            break;
        }
        rc = zhub_cursor_seek (cursor, start, prefix + 8, &key, &key_size, NULL, NULL);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

typedef struct {
    broker_state_t *self;
    broker_groups_t *groups;
} s_load_t;

static zhub_walk_t
s_load_group (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    s_load_t *load = arg;
    char name[256];
    broker_settings_t settings;
    uint64_t floor;
    int64_t created_ms;
    if (key_size >= sizeof name
        || broker_state_decode_group (value, size, &settings, &floor, &created_ms))
        return ZHUB_WALK_FAIL;
    memcpy (name, key, key_size);
    name[key_size] = 0;
    if (!broker_groups_find (load->groups, name)) {
        broker_group_t *group =
            broker_groups_create (load->groups, name, &settings, floor, created_ms);
        group->needs_write = false;
    }
    broker_settings_free (&settings);
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_load_groups (zhub_txn_t *txn, void *arg)
{
    s_load_t *load = arg;
    return zhub_txn_walk (txn, load->self->groups, s_load_group, load);
}

zhub_rc_t
broker_state_load_groups (broker_state_t *self, broker_groups_t *groups)
{
    s_load_t load = {self, groups};
    return zhub_store_read (self->store, s_load_groups, &load);
}

void
broker_msg_state_clear (broker_msg_state_t *state)
{
    for (size_t i = 0; i < state->history_count; i++)
        free (state->history[i].reason);
    free (state->history);
    memset (state, 0, sizeof *state);
}

void
broker_msg_state_add (broker_msg_state_t *state, int64_t time_ms, uint32_t code, const char *reason)
{
    state->history =
        zhub_realloc (state->history, (state->history_count + 1) * sizeof (broker_attempt_t));
    broker_attempt_t *attempt = &state->history[state->history_count++];
    attempt->time_ms = time_ms;
    attempt->code = code;
    attempt->reason = NULL;
    if (reason) {
        size_t len = strlen (reason);
        if (len > BROKER_REASON_MAX) {
            len = BROKER_REASON_MAX;
            //  do not cut a UTF-8 sequence in half
            while (len > 0 && ((unsigned char)reason[len] & 0xc0) == 0x80)
                len--;
        }
        attempt->reason = zhub_malloc (len + 1);
        memcpy (attempt->reason, reason, len);
        attempt->reason[len] = 0;
    }
}

zhub_rc_t
broker_state_get (broker_state_t *self, zhub_txn_t *txn, const char *group, uint64_t offset,
                  broker_msg_state_t *state, bool with_history)
{
    memset (state, 0, sizeof *state);
    uint8_t key[160];
    size_t key_size = s_msg_key (key, group, offset);
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, self->gmsg, key, key_size, &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    msgpack_unpacked result;
    if (zhub_mpack_decode (value, size, NULL, &result, NULL, 0))
        return ZHUB_ERROR;
    const msgpack_object *map = &result.data;
    const msgpack_object *done = zhub_mpack_get (map, "done");
    uint64_t attempts = 0;
    rc = ZHUB_ERROR;
    if (!done || done->type != MSGPACK_OBJECT_BOOLEAN
        || zhub_mpack_uint (zhub_mpack_get (map, "attempts"), &attempts)
        || zhub_mpack_int (zhub_mpack_get (map, "next_due_ms"), &state->next_due_ms))
        goto done;
    state->done = done->via.boolean;
    state->attempts = (uint32_t)attempts;
    const msgpack_object *history = zhub_mpack_get (map, "history");
    if (with_history && history && history->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < history->via.array.size; i++) {
            const msgpack_object *item = &history->via.array.ptr[i];
            int64_t time_ms = 0;
            uint64_t code = 0;
            zhub_mpack_int (zhub_mpack_get (item, "time_ms"), &time_ms);
            zhub_mpack_uint (zhub_mpack_get (item, "code"), &code);
            char *reason = zhub_mpack_strdup (zhub_mpack_get (item, "reason"));
            broker_msg_state_add (state, time_ms, (uint32_t)code, reason);
            free (reason);
        }
    }
    rc = ZHUB_OK;
done:
    msgpack_unpacked_destroy (&result);
    return rc;
}

zhub_rc_t
broker_state_put (broker_state_t *self, zhub_txn_t *txn, const char *group, uint64_t offset,
                  const broker_msg_state_t *state, size_t history_max)
{
    size_t skip = state->history_count > history_max ? state->history_count - history_max : 0;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 4);
    zhub_mpack_pack_str (&pk, "done");
    state->done ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
    zhub_mpack_pack_str (&pk, "attempts");
    msgpack_pack_uint32 (&pk, state->attempts);
    zhub_mpack_pack_str (&pk, "next_due_ms");
    msgpack_pack_int64 (&pk, state->next_due_ms);
    zhub_mpack_pack_str (&pk, "history");
    msgpack_pack_array (&pk, state->history_count - skip);
    for (size_t i = skip; i < state->history_count; i++) {
        const broker_attempt_t *attempt = &state->history[i];
        msgpack_pack_map (&pk, 3);
        zhub_mpack_pack_str (&pk, "time_ms");
        msgpack_pack_int64 (&pk, attempt->time_ms);
        zhub_mpack_pack_str (&pk, "code");
        msgpack_pack_uint32 (&pk, attempt->code);
        zhub_mpack_pack_kv_str (&pk, "reason", attempt->reason ? attempt->reason : "");
    }
    uint8_t key[160];
    size_t key_size = s_msg_key (key, group, offset);
    zhub_rc_t rc = zhub_txn_put (txn, self->gmsg, key, key_size, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    return rc;
}
