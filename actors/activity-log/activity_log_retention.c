//  activity-log's conversation cache retention: conversations, parked
//  events and engagement records older than ZHUB_ACTIVITY_RETENTION go.
#include "activity_log_io.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    activity_log_t *self;
    int64_t now_ms;
    size_t deleted;
} s_sweep_t;

//  conversations: by the time they were last updated. This and
//  s_parked_expired are zhub_store_row_fn with the sweep as arg.
static bool
s_conversation_expired (const void *key, size_t key_size, const void *value, size_t value_size,
                        void *arg)
{
    (void)key;
    (void)key_size;
    const s_sweep_t *sweep = arg;
    json_t *obj = json_loadb (value, value_size, 0, NULL);
    int64_t updated = json_integer_value (json_object_get (obj, "updated"));
    json_decref (obj);
    return activity_expired (updated, sweep->now_ms, sweep->self->retention_ms);
}

//  parked events: their key carries the time they were parked.
static bool
s_parked_expired (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)value;
    (void)value_size;
    const s_sweep_t *sweep = arg;
    int64_t at =
        key_size >= 8 ? (int64_t)(zhub_store_u64 ((const uint8_t *)key + key_size - 8) >> 16) : 0;
    return activity_expired (at, sweep->now_ms, sweep->self->retention_ms);
}

static zhub_rc_t
s_sweep_fn (zhub_txn_t *txn, void *arg)
{
    s_sweep_t *sweep = arg;
    activity_log_t *self = sweep->self;
    sweep->deleted = 0;
    if (zhub_txn_delete_where (txn, self->conversations, s_conversation_expired, sweep,
                               &sweep->deleted)
        != ZHUB_OK)
        return ZHUB_ERROR;
    //  engagement ids of single events (bookings stay: a tour far ahead
    //  may still move). A cursor, not zhub_txn_delete_where: it reads only
    //  the "evt:" keys and stops where they end, not every booking too.
    const void *key, *value;
    size_t key_size, value_size;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->engagements);
    if (!cursor)
        return ZHUB_ERROR;
    zhub_rc_t rc = zhub_cursor_seek (cursor, "evt:", 4, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK && key_size >= 4 && !memcmp (key, "evt:", 4)) {
        json_t *obj = json_loadb (value, value_size, 0, NULL);
        int64_t at = json_integer_value (json_object_get (obj, "at"));
        json_decref (obj);
        if (activity_expired (at, sweep->now_ms, self->retention_ms)) {
            if (zhub_cursor_del (cursor) != ZHUB_OK) {
                rc = ZHUB_ERROR;
                break;
            }
            sweep->deleted++;
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    if (rc == ZHUB_ERROR)
        return rc;
    return zhub_txn_delete_where (txn, self->parked, s_parked_expired, sweep, &sweep->deleted);
}

int
activity_log_prune (zhub_store_t *store, activity_log_t *self, int64_t now_ms)
{
    if (!self->retention_ms)
        return 0;
    s_sweep_t sweep = {.self = self, .now_ms = now_ms};
    return zhub_store_write (store, s_sweep_fn, &sweep) == ZHUB_OK ? (int)sweep.deleted : -1;
}
