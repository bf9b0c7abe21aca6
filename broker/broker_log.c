//  Log and dedup storage. Dedup lives in the same transaction as the
//  append, so "stored" and "remembered as seen" can never disagree, and a
//  duplicate inside one batch is caught by the batch's own earlier put.
#include "broker_log.h"

#include <stdlib.h>
#include <string.h>

static zhub_store_fn s_read_extent;

broker_log_t *
broker_log_new (zhub_store_t *store, int64_t dedup_window_ms)
{
    broker_log_t *self = zhub_calloc (1, sizeof *self);
    self->store = store;
    self->dedup_window_ms = dedup_window_ms;
    if (zhub_store_table (store, "log", &self->log)
        || zhub_store_table (store, "dedup", &self->dedup)
        || zhub_store_table (store, "dedup_exp", &self->dedup_exp)
        || zhub_store_table (store, "topics", &self->topics)) {
        free (self);
        return NULL;
    }
    if (zhub_store_read (store, s_read_extent, self) != ZHUB_OK) {
        free (self);
        return NULL;
    }
    return self;
}

static zhub_rc_t
s_read_extent (zhub_txn_t *txn, void *arg)
{
    broker_log_t *self = arg;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->log);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key;
    size_t key_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, NULL, NULL);
    if (rc == ZHUB_OK && key_size == 8) {
        self->first = zhub_store_u64 (key);
        rc = zhub_cursor_last (cursor, &key, &key_size, NULL, NULL);
        if (rc == ZHUB_OK && key_size == 8)
            self->last = zhub_store_u64 (key);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

void
broker_log_destroy (broker_log_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

void
broker_log_batch_begin (broker_log_t *self, broker_log_batch_t *batch)
{
    batch->next = self->last + 1;
    batch->first = 0;
    batch->trimmed = 0;
}

static void
s_pack_str_n (msgpack_packer *pk, const char *text)
{
    if (text && *text)
        zhub_mpack_pack_str (pk, text);
    else
        msgpack_pack_nil (pk);
}

zhub_rc_t
broker_log_lookup_id (broker_log_t *self, zhub_txn_t *txn, const char *id, int64_t now_ms,
                      uint64_t *offset)
{
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, self->dedup, id, strlen (id), &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    if (size != 16)
        return ZHUB_NOTFOUND; //  not ours: treat as unseen, the put replaces it
    int64_t expiry = (int64_t)zhub_store_u64 ((const uint8_t *)value + 8);
    if (expiry <= now_ms)
        return ZHUB_NOTFOUND;
    *offset = zhub_store_u64 (value);
    return ZHUB_OK;
}

static zhub_rc_t
s_topic_get (broker_log_t *self, zhub_txn_t *txn, const char *topic, uint64_t *count,
             uint64_t *bytes)
{
    const void *value;
    size_t size;
    *count = *bytes = 0;
    zhub_rc_t rc = zhub_txn_get (txn, self->topics, topic, strlen (topic), &value, &size);
    if (rc == ZHUB_OK && size >= 8)
        *count = zhub_store_u64 (value);
    if (rc == ZHUB_OK && size >= 16)
        *bytes = zhub_store_u64 ((const uint8_t *)value + 8);
    return rc == ZHUB_ERROR ? rc : ZHUB_OK;
}

//  Adds (or with remove, takes away) one message of size bytes.
static zhub_rc_t
s_count_topic (broker_log_t *self, zhub_txn_t *txn, const char *topic, uint64_t size, bool remove)
{
    uint64_t count, bytes;
    if (s_topic_get (self, txn, topic, &count, &bytes) != ZHUB_OK)
        return ZHUB_ERROR;
    if (remove) {
        count = count ? count - 1 : 0;
        bytes = bytes > size ? bytes - size : 0;
    } else {
        count++;
        bytes += size;
    }
    uint8_t value[16];
    zhub_store_key_u64 (value, count);
    zhub_store_key_u64 (value + 8, bytes);
    return zhub_txn_put (txn, self->topics, topic, strlen (topic), value, 16);
}

//  A log record in a fresh buffer (the caller destroys sbuf).
static void
s_pack_record (msgpack_sbuffer *sbuf, const char *topic, const char *subject, const char *id,
               int64_t time_ms, int64_t stored_ms, const uint8_t *raw, size_t raw_size)
{
    msgpack_sbuffer_init (sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 6);
    zhub_mpack_pack_kv_str (&pk, "topic", topic);
    zhub_mpack_pack_str (&pk, "subject");
    s_pack_str_n (&pk, subject);
    zhub_mpack_pack_kv_str (&pk, "id", id);
    zhub_mpack_pack_str (&pk, "time_ms");
    msgpack_pack_int64 (&pk, time_ms);
    zhub_mpack_pack_str (&pk, "stored_ms");
    msgpack_pack_int64 (&pk, stored_ms);
    zhub_mpack_pack_str (&pk, "msg");
    msgpack_pack_bin (&pk, raw_size);
    msgpack_pack_bin_body (&pk, raw, raw_size);
}

zhub_rc_t
broker_log_rewrite (broker_log_t *self, zhub_txn_t *txn, uint64_t offset,
                    const broker_record_t *record, const char *subject, const uint8_t *raw,
                    size_t raw_size)
{
    //  the topic's byte count follows the new size
    if (s_count_topic (self, txn, record->topic, record->msg_size, true) != ZHUB_OK
        || s_count_topic (self, txn, record->topic, raw_size, false) != ZHUB_OK)
        return ZHUB_ERROR;
    msgpack_sbuffer sbuf;
    s_pack_record (&sbuf, record->topic, subject, record->id, record->time_ms, record->stored_ms,
                   raw, raw_size);
    uint8_t key[8];
    zhub_store_key_u64 (key, offset);
    zhub_rc_t rc = zhub_txn_put (txn, self->log, key, 8, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    return rc;
}

zhub_rc_t
broker_log_append (broker_log_t *self, zhub_txn_t *txn, broker_log_batch_t *batch,
                   const zhub_msg_t *msg, const uint8_t *raw, size_t raw_size, int64_t now_ms,
                   uint64_t *offset, bool *duplicate)
{
    zhub_rc_t rc = broker_log_lookup_id (self, txn, msg->id, now_ms, offset);
    if (rc == ZHUB_OK) {
        *duplicate = true;
        return ZHUB_OK;
    }
    if (rc == ZHUB_ERROR)
        return rc;
    *duplicate = false;
    *offset = batch->next;

    msgpack_sbuffer sbuf;
    s_pack_record (&sbuf, msg->type, msg->subject, msg->id, msg->time_ms, now_ms, raw, raw_size);
    uint8_t key[8];
    zhub_store_key_u64 (key, *offset);
    rc = zhub_txn_put (txn, self->log, key, 8, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    if (rc != ZHUB_OK)
        return rc;

    int64_t expiry = now_ms + self->dedup_window_ms;
    uint8_t value[16];
    zhub_store_key_u64 (value, *offset);
    zhub_store_key_u64 (value + 8, (uint64_t)expiry);
    size_t id_size = strlen (msg->id);
    if (zhub_txn_put (txn, self->dedup, msg->id, id_size, value, 16) != ZHUB_OK)
        return ZHUB_ERROR;
    uint8_t exp_key[8 + ZHUB_MSG_MAX_ID];
    memcpy (exp_key, value + 8, 8);
    memcpy (exp_key + 8, msg->id, id_size);
    if (zhub_txn_put (txn, self->dedup_exp, exp_key, 8 + id_size, "", 0) != ZHUB_OK)
        return ZHUB_ERROR;
    if (s_count_topic (self, txn, msg->type, raw_size, false) != ZHUB_OK)
        return ZHUB_ERROR;
    batch->next++;
    return ZHUB_OK;
}

void
broker_log_batch_commit (broker_log_t *self, const broker_log_batch_t *batch)
{
    if (batch->first)
        self->first = batch->first;
    if (batch->next - 1 > self->last) {
        if (self->first == 0)
            self->first = self->last + 1;
        self->last = batch->next - 1;
    }
}

static int
s_copy_str (const msgpack_object *obj, char *out, size_t out_size, bool required)
{
    out[0] = 0;
    if (!obj || obj->type == MSGPACK_OBJECT_NIL)
        return required ? -1 : 0;
    if (obj->type != MSGPACK_OBJECT_STR || obj->via.str.size >= out_size)
        return -1;
    memcpy (out, obj->via.str.ptr, obj->via.str.size);
    out[obj->via.str.size] = 0;
    return 0;
}

int
broker_log_decode_record (const uint8_t *bytes, size_t size, broker_record_t *record)
{
    //  the log's own record format (not an envelope): a flat map of six keys
    zhub_mpack_limits_t limits = {.max_size = size, .max_depth = 2, .max_items = 64};
    msgpack_unpacked result;
    if (zhub_mpack_decode (bytes, size, &limits, &result, NULL, 0))
        return -1;
    const msgpack_object *map = &result.data;
    const msgpack_object *msg = zhub_mpack_get (map, "msg");
    int rc = -1;
    if (s_copy_str (zhub_mpack_get (map, "topic"), record->topic, sizeof record->topic, true)
        || s_copy_str (zhub_mpack_get (map, "subject"), record->subject, sizeof record->subject,
                       false)
        || s_copy_str (zhub_mpack_get (map, "id"), record->id, sizeof record->id, true)
        || zhub_mpack_int (zhub_mpack_get (map, "time_ms"), &record->time_ms)
        || zhub_mpack_int (zhub_mpack_get (map, "stored_ms"), &record->stored_ms) || !msg
        || msg->type != MSGPACK_OBJECT_BIN)
        goto done;
    //  msgpack-c references bin bodies in the input buffer, so this points
    //  into the caller's bytes (the LMDB map), not into the unpacked zone
    record->msg = (const uint8_t *)msg->via.bin.ptr;
    record->msg_size = msg->via.bin.size;
    rc = 0;
done:
    msgpack_unpacked_destroy (&result);
    return rc;
}

zhub_rc_t
broker_log_read (broker_log_t *self, zhub_txn_t *txn, uint64_t offset, broker_record_t *record)
{
    uint8_t key[8];
    zhub_store_key_u64 (key, offset);
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, self->log, key, 8, &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    return broker_log_decode_record (value, size, record) ? ZHUB_ERROR : ZHUB_OK;
}

int
broker_log_sweep (broker_log_t *self, zhub_txn_t *txn, int64_t now_ms, uint32_t max)
{
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->dedup_exp);
    if (!cursor)
        return -1;
    int removed = 0;
    const void *key;
    size_t key_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, NULL, NULL);
    while (rc == ZHUB_OK && (uint32_t)removed < max) {
        if (key_size < 8 || (int64_t)zhub_store_u64 (key) > now_ms)
            break;
        //  the id may have been published again after its window ended,
        //  with a later expiry: only delete the dedup entry that is ours
        const uint8_t *exp_key = key;
        const void *value;
        size_t size;
        char id[ZHUB_MSG_MAX_ID + 1];
        size_t id_size = key_size - 8 < ZHUB_MSG_MAX_ID ? key_size - 8 : ZHUB_MSG_MAX_ID;
        memcpy (id, exp_key + 8, id_size);
        id[id_size] = 0;
        if (zhub_txn_get (txn, self->dedup, id, id_size, &value, &size) == ZHUB_OK && size == 16
            && memcmp ((const uint8_t *)value + 8, exp_key, 8) == 0) {
            if (zhub_txn_del (txn, self->dedup, id, id_size) == ZHUB_ERROR) {
                removed = -1;
                break;
            }
        }
        if (zhub_cursor_del (cursor) != ZHUB_OK) {
            removed = -1;
            break;
        }
        removed++;
        //  after a delete the cursor sits on the following entry
        rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, NULL, NULL);
    }
    zhub_cursor_destroy (&cursor);
    if (rc == ZHUB_ERROR)
        return -1;
    return removed;
}

void
broker_log_topics (broker_log_t *self, zhub_txn_t *txn, size_t max, broker_log_topic_fn *fn,
                   void *arg)
{
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->topics);
    if (!cursor)
        return;
    const void *key, *value;
    size_t key_size, size, count = 0;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &size);
    while (rc == ZHUB_OK && count++ < max) {
        if (size >= 8)
            fn (key, key_size, zhub_store_u64 (value),
                size >= 16 ? zhub_store_u64 ((const uint8_t *)value + 8) : 0, arg);
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &size);
    }
    zhub_cursor_destroy (&cursor);
}

uint64_t
broker_log_scan (broker_log_t *self, zhub_txn_t *txn, uint64_t from, uint32_t max,
                 broker_log_scan_fn *fn, void *arg)
{
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->log);
    if (!cursor)
        return 0;
    uint8_t start[8];
    zhub_store_key_u64 (start, from);
    const void *key, *value;
    size_t key_size, size;
    uint64_t next = from;
    uint32_t visited = 0;
    zhub_rc_t rc = zhub_cursor_seek (cursor, start, 8, &key, &key_size, &value, &size);
    while (rc == ZHUB_OK && visited < max && key_size == 8) {
        uint64_t offset = zhub_store_u64 (key);
        broker_record_t record;
        bool ok = broker_log_decode_record (value, size, &record) == 0;
        visited++;
        if (!fn (offset, ok ? &record : NULL, arg))
            break;
        next = offset + 1;
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &size);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? 0 : next;
}

//  The record at the first offset >= from: its offset and stored time.
static zhub_rc_t
s_at_or_after (broker_log_t *self, zhub_cursor_t *cursor, uint64_t from, uint64_t *offset,
               int64_t *stored_ms)
{
    (void)self;
    uint8_t start[8];
    zhub_store_key_u64 (start, from);
    const void *key, *value;
    size_t key_size, size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, start, 8, &key, &key_size, &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    broker_record_t record;
    if (key_size != 8 || broker_log_decode_record (value, size, &record))
        return ZHUB_ERROR;
    *offset = zhub_store_u64 (key);
    *stored_ms = record.stored_ms;
    return ZHUB_OK;
}

zhub_rc_t
broker_log_find_time (broker_log_t *self, zhub_txn_t *txn, int64_t time_ms, uint64_t *offset)
{
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->log);
    if (!cursor)
        return ZHUB_ERROR;
    //  invariant: every record below lo is older than time_ms; hi is a
    //  candidate answer (last + 1 when none qualifies)
    uint64_t lo = self->first ? self->first : 1, hi = self->last + 1;
    zhub_rc_t rc = ZHUB_OK;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2, at;
        int64_t stored;
        rc = s_at_or_after (self, cursor, mid, &at, &stored);
        if (rc == ZHUB_NOTFOUND || (rc == ZHUB_OK && at >= hi)) {
            hi = mid; //  nothing stored in [mid, hi): the answer is below
            rc = ZHUB_OK;
        } else if (rc != ZHUB_OK)
            break;
        else if (stored >= time_ms)
            hi = at;
        else
            lo = at + 1;
    }
    //  hi may fall in a trimmed gap: report the record that follows it
    uint64_t at;
    int64_t stored;
    if (rc == ZHUB_OK && hi <= self->last && s_at_or_after (self, cursor, hi, &at, &stored) == ZHUB_OK)
        hi = at;
    zhub_cursor_destroy (&cursor);
    *offset = hi;
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
broker_log_trim (broker_log_t *self, zhub_txn_t *txn, broker_log_batch_t *batch, uint64_t from,
                 uint32_t max, broker_log_trim_fn *fn, void *arg, uint64_t *next)
{
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->log);
    if (!cursor)
        return ZHUB_ERROR;
    uint8_t start[8];
    zhub_store_key_u64 (start, from);
    const void *key, *value;
    size_t key_size, size;
    uint32_t visited = 0;
    uint64_t first_kept = 0; //  the smallest offset that stays, seen in this walk
    bool walked_from_first = from <= self->first;
    *next = 0;
    zhub_rc_t rc = zhub_cursor_seek (cursor, start, 8, &key, &key_size, &value, &size);
    while (rc == ZHUB_OK && key_size == 8) {
        uint64_t offset = zhub_store_u64 (key);
        if (visited++ == max) {
            *next = offset;
            break;
        }
        //  the newest committed record always stays: after a restart the
        //  log's last offset is read from it, and offsets must never repeat
        if (offset >= self->last) {
            if (!first_kept)
                first_kept = offset;
            break;
        }
        broker_record_t record;
        if (broker_log_decode_record (value, size, &record)) {
            //  a corrupt record is kept for an operator to look at
            if (!first_kept)
                first_kept = offset;
            rc = zhub_cursor_next (cursor, &key, &key_size, &value, &size);
            continue;
        }
        uint64_t count, bytes;
        if (s_topic_get (self, txn, record.topic, &count, &bytes) != ZHUB_OK) {
            rc = ZHUB_ERROR;
            break;
        }
        int verdict = fn (offset, &record, bytes, arg);
        if (verdict < 0) {
            if (!first_kept)
                first_kept = offset;
            break;
        }
        if (verdict == 0) {
            if (!first_kept)
                first_kept = offset;
            rc = zhub_cursor_next (cursor, &key, &key_size, &value, &size);
            continue;
        }
        //  the topic must be copied out before the delete invalidates it
        char topic[ZHUB_MSG_MAX_TYPE + 1];
        snprintf (topic, sizeof topic, "%s", record.topic);
        size_t msg_size = record.msg_size;
        if (zhub_cursor_del (cursor) != ZHUB_OK
            || s_count_topic (self, txn, topic, msg_size, true) != ZHUB_OK) {
            rc = ZHUB_ERROR;
            break;
        }
        batch->trimmed++;
        //  seek past the deleted key (the record's bytes are gone with it)
        zhub_store_key_u64 (start, offset + 1);
        rc = zhub_cursor_seek (cursor, start, 8, &key, &key_size, &value, &size);
    }
    zhub_cursor_destroy (&cursor);
    if (rc == ZHUB_ERROR)
        return ZHUB_ERROR;
    //  the walk started at the first record and trimmed a prefix: the log
    //  now starts at the first record it kept (or after the last one)
    if (walked_from_first && batch->trimmed) {
        if (first_kept)
            batch->first = first_kept;
        else if (*next)
            batch->first = *next;
    }
    return ZHUB_OK;
}
