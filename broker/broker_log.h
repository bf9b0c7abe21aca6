//  The durable topic log and the dedup window, stored in the broker's LMDB
//  environment:
//    log        be64 offset -> record {topic, subject, id, time_ms,
//               stored_ms, msg: bin envelope bytes}; offsets start at 1
//    dedup      message id -> be64 offset + be64 expiry (unix ms)
//    dedup_exp  be64 expiry + id -> "" (to sweep expired ids in order)
//    topics     topic -> be64 message count + be64 envelope bytes of the
//               messages stored now (STATS, size retention; older records
//               hold the count alone)
//
//  Appends happen inside the caller's write transaction (group commit:
//  many publishes, one commit). Because the store may run a transaction
//  callback again after growing the map, appends work on a batch cursor
//  (broker_log_batch_t) that the callback resets at its start, and the
//  log's committed position moves only in broker_log_batch_commit, after
//  the commit succeeded.
#ifndef BROKER_LOG_H
#define BROKER_LOG_H

#include "zhub_msg.h"
#include "zhub_store.h"

typedef struct {
    zhub_store_t *store;
    zhub_table_t log, dedup, dedup_exp, topics;
    uint64_t first; //  first offset stored (0 when empty)
    uint64_t last;  //  last committed offset (0 when empty)
    int64_t dedup_window_ms;
} broker_log_t;

typedef struct {
    uint64_t next;    //  offset the next append gets
    uint64_t first;   //  trimming moved the first offset here (0: unchanged)
    uint64_t trimmed; //  records trimmed in this batch
} broker_log_batch_t;

typedef struct {
    char topic[ZHUB_MSG_MAX_TYPE + 1];
    char subject[ZHUB_MSG_MAX_ID + 1]; //  "" when the message has none
    char id[ZHUB_MSG_MAX_ID + 1];
    int64_t time_ms, stored_ms;
    const uint8_t *msg; //  envelope bytes; valid until the transaction ends
    size_t msg_size;
} broker_record_t;

//  Opens the tables and reads the log's extent. Returns NULL on failure.
broker_log_t *broker_log_new (zhub_store_t *store, int64_t dedup_window_ms);
void broker_log_destroy (broker_log_t **self_p);

//  Starts (or restarts, on a re-run callback) a batch of appends.
void broker_log_batch_begin (broker_log_t *self, broker_log_batch_t *batch);

//  Appends one validated message (msg decoded from raw), unless its id is
//  in the dedup window: then *duplicate is set and *offset is the original
//  offset. Returns ZHUB_OK, or ZHUB_ERROR (the callback must return it).
zhub_rc_t broker_log_append (broker_log_t *self, zhub_txn_t *txn, broker_log_batch_t *batch,
                             const zhub_msg_t *msg, const uint8_t *raw, size_t raw_size,
                             int64_t now_ms, uint64_t *offset, bool *duplicate);

//  Replaces the envelope of the record at offset (an erase redacting it);
//  record is the one read there, in the same transaction (its pointers
//  must not be used after this call). Offset, topic, id and times stay.
//  ZHUB_OK or ZHUB_ERROR.
zhub_rc_t broker_log_rewrite (broker_log_t *self, zhub_txn_t *txn, uint64_t offset,
                              const broker_record_t *record, const char *subject,
                              const uint8_t *raw, size_t raw_size);

//  The batch is committed: its offsets are now readable.
void broker_log_batch_commit (broker_log_t *self, const broker_log_batch_t *batch);

//  Reads the record at offset. ZHUB_OK, ZHUB_NOTFOUND, or ZHUB_ERROR when
//  the stored bytes are corrupt.
zhub_rc_t broker_log_read (broker_log_t *self, zhub_txn_t *txn, uint64_t offset,
                           broker_record_t *record);

//  Walks records from offset `from` on, calling fn for each until fn
//  returns false (the record is left for later) or max records were
//  visited. Returns the offset after the last record fn took (from when
//  none), or 0 on a store error. A corrupt
//  record is passed with record NULL so the caller can skip it.
typedef bool (broker_log_scan_fn) (uint64_t offset, const broker_record_t *record, void *arg);
uint64_t broker_log_scan (broker_log_t *self, zhub_txn_t *txn, uint64_t from, uint32_t max,
                          broker_log_scan_fn *fn, void *arg);

//  The first offset stored at or after time_ms (by the broker's clock when
//  it stored it), or last + 1 when every record is older. Binary search:
//  stored times rise with offsets (one writer, wall clock).
//  ZHUB_OK or ZHUB_ERROR.
zhub_rc_t broker_log_find_time (broker_log_t *self, zhub_txn_t *txn, int64_t time_ms,
                                uint64_t *offset);

//  Decodes a record's bytes (exposed for tests). Returns 0 or -1.
int broker_log_decode_record (const uint8_t *bytes, size_t size, broker_record_t *record);

//  Removes up to max dedup entries whose window ended before now. Returns
//  how many it removed, or -1 (ZHUB_ERROR: the callback must fail).
int broker_log_sweep (broker_log_t *self, zhub_txn_t *txn, int64_t now_ms, uint32_t max);

//  The offset stored under id while its dedup window lasts: ZHUB_OK,
//  ZHUB_NOTFOUND (unknown or expired) or ZHUB_ERROR.
zhub_rc_t broker_log_lookup_id (broker_log_t *self, zhub_txn_t *txn, const char *id, int64_t now_ms,
                                uint64_t *offset);

//  Calls fn for every topic with its message count and envelope bytes (at
//  most max topics).
typedef void (broker_log_topic_fn) (const char *topic, size_t topic_size, uint64_t count,
                                    uint64_t bytes, void *arg);
void broker_log_topics (broker_log_t *self, zhub_txn_t *txn, size_t max, broker_log_topic_fn *fn,
                        void *arg);

//  Trimming. Walks records from offset `from` on, at most max of them, and
//  deletes those fn says may go (fn gets the record and its topic's bytes
//  stored now); topic counts and bytes follow. fn returns 1 to delete, 0 to
//  keep, -1 to stop the walk (nothing later can go yet). The newest
//  committed record is never trimmed (the log's extent is read from it
//  after a restart, so offsets never repeat). *next gets where
//  the next walk continues (0: start over from the first record).
//  Returns ZHUB_OK or ZHUB_ERROR.
typedef int (broker_log_trim_fn) (uint64_t offset, const broker_record_t *record,
                                  uint64_t topic_bytes, void *arg);
zhub_rc_t broker_log_trim (broker_log_t *self, zhub_txn_t *txn, broker_log_batch_t *batch,
                           uint64_t from, uint32_t max, broker_log_trim_fn *fn, void *arg,
                           uint64_t *next);

#endif
