//  Held messages (see broker_delayed.h). The queue is keyed by deliver-at
//  first, so releasing is a walk from the first key that stops at the
//  first entry still in the future.
#include "broker_delayed.h"

#include "broker_erase.h"
#include "zhub_log.h"

#include <stdlib.h>
#include <string.h>

int
broker_delayed_open (broker_delayed_t *self, zhub_store_t *store)
{
    return zhub_store_table (store, "delayed", &self->queue)
                   || zhub_store_table (store, "delayed_ids", &self->ids)
               ? -1
               : 0;
}

static uint8_t *
s_key (int64_t due, const char *id, size_t *size)
{
    size_t id_size = strlen (id);
    uint8_t *key = zhub_malloc (8 + id_size);
    zhub_store_key_u64 (key, (uint64_t)due);
    memcpy (key + 8, id, id_size);
    *size = 8 + id_size;
    return key;
}

zhub_rc_t
broker_delayed_hold (broker_delayed_t *self, broker_log_t *log, zhub_txn_t *txn,
                     const zhub_msg_t *msg, const uint8_t *raw, size_t raw_size, int64_t now_ms,
                     bool *duplicate, uint64_t *offset)
{
    *duplicate = false;
    *offset = 0;
    const void *value;
    size_t value_size;
    zhub_rc_t rc = zhub_txn_get (txn, self->ids, msg->id, strlen (msg->id), &value, &value_size);
    if (rc == ZHUB_OK) {
        *duplicate = true;
        return ZHUB_OK;
    }
    if (rc == ZHUB_ERROR)
        return rc;
    rc = broker_log_lookup_id (log, txn, msg->id, now_ms, offset);
    if (rc == ZHUB_OK) {
        *duplicate = true;
        return ZHUB_OK;
    }
    if (rc == ZHUB_ERROR)
        return rc;
    size_t key_size;
    uint8_t *key = s_key (msg->deliver_at_ms, msg->id, &key_size);
    rc = zhub_txn_put (txn, self->queue, key, key_size, raw, raw_size);
    if (rc == ZHUB_OK)
        rc = zhub_txn_put (txn, self->ids, msg->id, strlen (msg->id), key, 8);
    free (key);
    return rc;
}

zhub_rc_t
broker_delayed_release (broker_delayed_t *self, broker_log_t *log, broker_log_batch_t *batch,
                        zhub_txn_t *txn, int64_t now_ms, uint32_t max, uint32_t *released,
                        uint32_t *dropped, int64_t *next_due)
{
    *released = *dropped = 0;
    *next_due = INT64_MAX;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->queue);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        int64_t due = key_size >= 8 ? (int64_t)zhub_store_u64 (key) : 0;
        if (due > now_ms || *released + *dropped >= max) {
            *next_due = due;
            break;
        }
        char err[128];
        zhub_msg_t *msg =
            zhub_msg_decode (value, value_size, &zhub_msg_stored_limits, err, sizeof err);
        if (msg) {
            uint64_t offset;
            bool duplicate = false;
            rc = broker_log_append (log, txn, batch, msg, value, value_size, now_ms, &offset,
                                    &duplicate);
            if (rc == ZHUB_OK)
                rc = zhub_txn_del (txn, self->ids, msg->id, strlen (msg->id)) == ZHUB_ERROR
                         ? ZHUB_ERROR
                         : ZHUB_OK;
            duplicate ? (*dropped)++ : (*released)++;
        } else {
            zhub_error ("delayed_dropped", "reason=\"%s\"", err);
            (*dropped)++;
        }
        zhub_msg_destroy (&msg);
        if (rc == ZHUB_OK)
            rc = zhub_cursor_del (cursor);
        if (rc == ZHUB_OK)
            rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
broker_delayed_peek (broker_delayed_t *self, zhub_txn_t *txn, int64_t *next_due, uint64_t *count)
{
    *next_due = INT64_MAX;
    *count = zhub_txn_count (txn, self->queue);
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->queue);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    if (rc == ZHUB_OK && key_size >= 8)
        *next_due = (int64_t)zhub_store_u64 (key);
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

typedef struct {
    const zhub_forget_t *who;
    //  rewrites wait until the walk is over (it must not write the table
    //  it walks)
    uint8_t **keys, **values;
    size_t *key_sizes, *value_sizes, count, cap;
} s_redact_t;

static zhub_walk_t
s_redact_one (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_redact_t *redact = arg;
    if (!zhub_forget_mentions_msgpack (redact->who, value, value_size))
        return ZHUB_WALK_NEXT;
    uint8_t *raw;
    size_t raw_size;
    if (broker_erase_redact (value, value_size, redact->who, &raw, &raw_size))
        return ZHUB_WALK_NEXT; //  undecodable: it is dropped when released
    if (redact->count == redact->cap) {
        redact->cap = redact->cap ? redact->cap * 2 : 8;
        redact->keys = zhub_realloc (redact->keys, redact->cap * sizeof (uint8_t *));
        redact->values = zhub_realloc (redact->values, redact->cap * sizeof (uint8_t *));
        redact->key_sizes = zhub_realloc (redact->key_sizes, redact->cap * sizeof (size_t));
        redact->value_sizes = zhub_realloc (redact->value_sizes, redact->cap * sizeof (size_t));
    }
    redact->keys[redact->count] = zhub_malloc (key_size);
    memcpy (redact->keys[redact->count], key, key_size);
    redact->key_sizes[redact->count] = key_size;
    redact->values[redact->count] = raw;
    redact->value_sizes[redact->count] = raw_size;
    redact->count++;
    return ZHUB_WALK_NEXT;
}

zhub_rc_t
broker_delayed_redact (broker_delayed_t *self, zhub_txn_t *txn, const zhub_forget_t *who,
                       uint64_t *redacted)
{
    s_redact_t redact = {.who = who};
    zhub_rc_t rc = zhub_txn_walk (txn, self->queue, s_redact_one, &redact);
    for (size_t i = 0; i < redact.count; i++) {
        if (rc == ZHUB_OK)
            rc = zhub_txn_put (txn, self->queue, redact.keys[i], redact.key_sizes[i],
                               redact.values[i], redact.value_sizes[i]);
        if (rc == ZHUB_OK)
            (*redacted)++;
        free (redact.keys[i]);
        free (redact.values[i]);
    }
    free (redact.keys);
    free (redact.values);
    free (redact.key_sizes);
    free (redact.value_sizes);
    return rc;
}
