//  What must survive a broker restart about consumer groups, in the
//  broker's LMDB environment:
//    groups  name -> {v, patterns[], max_deliveries, ack_deadline_ms,
//            backoff_ms[], floor, created_ms}; floor = every offset below
//            it is done for the group
//    gmsg    name \0 be64 offset -> {done, attempts, next_due_ms,
//            history[] of {time_ms, code, reason}}: written when a
//            message at or above the floor is acked, fails or is
//            dead-lettered; deleted once the floor passes it
//
//  So after a restart: offsets below the floor are skipped, a done entry
//  is skipped, an entry with attempts waits for next_due_ms (durable
//  delayed retry), anything else is delivered again (at least once).
//  Functions taking a txn run inside the caller's transaction.
#ifndef BROKER_STATE_H
#define BROKER_STATE_H

#include "broker_group.h"
#include "zhub_store.h"

typedef struct {
    zhub_store_t *store;
    zhub_table_t groups, gmsg;
} broker_state_t;

typedef struct {
    int64_t time_ms;
    uint32_t code;
    char *reason; //  owned; may be NULL
} broker_attempt_t;

typedef struct {
    bool done;
    uint32_t attempts;
    int64_t next_due_ms;
    broker_attempt_t *history; //  oldest first; owned
    size_t history_count;
} broker_msg_state_t;

//  Reasons are cut to this many bytes in the history.
#define BROKER_REASON_MAX 512

int broker_state_open (broker_state_t *self, zhub_store_t *store);

//  A group's record (settings and current floor) in a fresh buffer.
void broker_state_encode_group (const broker_group_t *group, uint8_t **buf, size_t *size);

//  Decodes a group record into settings (caller frees with
//  broker_settings_free), floor and creation time. Returns 0 or -1.
int broker_state_decode_group (const uint8_t *buf, size_t size, broker_settings_t *settings,
                               uint64_t *floor, int64_t *created_ms);

//  Writes the group record and deletes message state for offsets in
//  [from_floor, to_floor) (now below the floor, so done).
zhub_rc_t broker_state_put_group (broker_state_t *self, zhub_txn_t *txn, const char *name,
                                  const uint8_t *record, size_t record_size, uint64_t from_floor,
                                  uint64_t to_floor);

//  Deletes every per-message state record of the group (a reset: the
//  messages from the new floor on count as never seen).
zhub_rc_t broker_state_clear_group (broker_state_t *self, zhub_txn_t *txn, const char *name);

//  Creates every stored group in groups (needs_write cleared). Returns
//  ZHUB_OK or ZHUB_ERROR when a record is unreadable.
zhub_rc_t broker_state_load_groups (broker_state_t *self, broker_groups_t *groups);

//  Reads the state of (group, offset). with_history false skips the
//  history. ZHUB_OK, ZHUB_NOTFOUND (never failed nor acked) or ZHUB_ERROR.
zhub_rc_t broker_state_get (broker_state_t *self, zhub_txn_t *txn, const char *group,
                            uint64_t offset, broker_msg_state_t *state, bool with_history);

//  Writes the state of (group, offset); keeps at most history_max of the
//  newest history records.
zhub_rc_t broker_state_put (broker_state_t *self, zhub_txn_t *txn, const char *group,
                            uint64_t offset, const broker_msg_state_t *state, size_t history_max);

//  Appends a record to state's history (reason copied and cut).
void broker_msg_state_add (broker_msg_state_t *state, int64_t time_ms, uint32_t code,
                           const char *reason);

//  Frees the history; the struct can be reused.
void broker_msg_state_clear (broker_msg_state_t *state);

#endif
