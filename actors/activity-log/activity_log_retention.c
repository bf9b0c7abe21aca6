//  activity-log's conversation cache retention: conversations, parked
//  events and engagement records older than ZHUB_ACTIVITY_RETENTION go.
#include "activity_log_io.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    activity_log_t *self;
    int64_t now_ms;
    int deleted;
} s_sweep_t;

static zhub_rc_t
s_sweep_fn (zhub_txn_t *txn, void *arg)
{
    s_sweep_t *sweep = arg;
    activity_log_t *self = sweep->self;
    sweep->deleted = 0;
    const void *key, *value;
    size_t key_size, value_size;
    //  conversations
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->conversations);
    if (!cursor)
        return ZHUB_ERROR;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        json_t *obj = json_loadb (value, value_size, 0, NULL);
        int64_t updated = json_integer_value (json_object_get (obj, "updated"));
        json_decref (obj);
        if (activity_expired (updated, sweep->now_ms, self->retention_ms)) {
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
    //  engagement ids of single events (bookings stay: a tour far ahead
    //  may still move)
    cursor = zhub_cursor_open (txn, self->engagements);
    if (!cursor)
        return ZHUB_ERROR;
    rc = zhub_cursor_seek (cursor, "evt:", 4, &key, &key_size, &value, &value_size);
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
    //  parked events (their key carries the time they were parked)
    cursor = zhub_cursor_open (txn, self->parked);
    if (!cursor)
        return ZHUB_ERROR;
    rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        int64_t at = key_size >= 8
                         ? (int64_t)(zhub_store_u64 ((const uint8_t *)key + key_size - 8) >> 16)
                         : 0;
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
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

int
activity_log_prune (zhub_store_t *store, activity_log_t *self, int64_t now_ms)
{
    if (!self->retention_ms)
        return 0;
    s_sweep_t sweep = {.self = self, .now_ms = now_ms};
    return zhub_store_write (store, s_sweep_fn, &sweep) == ZHUB_OK ? sweep.deleted : -1;
}

