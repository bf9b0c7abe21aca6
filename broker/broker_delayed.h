//  Delayed delivery (PROTOCOL.md 6.3): messages published with a
//  `deliverat` in the future are held here, durably, and appended to the
//  log when their time comes; only then do groups see them. Like NATS's
//  scheduled messages (ADR-51): the log itself stays in time order, and a
//  message held back never blocks the messages of its subject behind it.
//  Two tables of the broker's LMDB environment:
//    delayed      be64 deliver-at (unix ms) + id -> envelope bytes
//    delayed_ids  id -> be64 deliver-at (dedup while held)
//  Store access only, inside the caller's transaction.
#ifndef BROKER_DELAYED_H
#define BROKER_DELAYED_H

#include "broker_log.h"
#include "zhub_forget.h"

typedef struct {
    zhub_table_t queue, ids;
} broker_delayed_t;

//  Opens the two tables. 0 or -1.
int broker_delayed_open (broker_delayed_t *self, zhub_store_t *store);

//  Holds msg (decoded from raw) until msg->deliver_at_ms. A message whose
//  id is held already, or is in the log's dedup window, is not held again:
//  *duplicate is set and *offset is the original's offset (0 when it is
//  still held). Returns ZHUB_OK or ZHUB_ERROR.
zhub_rc_t broker_delayed_hold (broker_delayed_t *self, broker_log_t *log, zhub_txn_t *txn,
                               const zhub_msg_t *msg, const uint8_t *raw, size_t raw_size,
                               int64_t now_ms, bool *duplicate, uint64_t *offset);

//  Appends to the log, oldest first, up to max held messages whose time
//  has come (deliver-at <= now_ms), and forgets them here. The log's dedup
//  applies: a message whose id was stored meanwhile is dropped as a
//  duplicate. An entry that cannot be decoded is dropped (*dropped counts
//  both). *next_due gets the earliest deliver-at still held after this
//  (INT64_MAX when none). Returns ZHUB_OK or ZHUB_ERROR.
zhub_rc_t broker_delayed_release (broker_delayed_t *self, broker_log_t *log,
                                  broker_log_batch_t *batch, zhub_txn_t *txn, int64_t now_ms,
                                  uint32_t max, uint32_t *released, uint32_t *dropped,
                                  int64_t *next_due);

//  The earliest deliver-at held (INT64_MAX when none) and how many are
//  held. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t broker_delayed_peek (broker_delayed_t *self, zhub_txn_t *txn, int64_t *next_due,
                               uint64_t *count);

//  Redacts every held message that mentions the person (a GDPR erase),
//  as the log's records are redacted (broker_erase.h); adds to *redacted.
//  ZHUB_OK or ZHUB_ERROR.
zhub_rc_t broker_delayed_redact (broker_delayed_t *self, zhub_txn_t *txn, const zhub_forget_t *who,
                                 uint64_t *redacted);

#endif
