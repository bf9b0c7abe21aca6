//  The dead-letter envelope: what the broker publishes on dlq.<group>
//  when a message failed for good in that group (terminal NACK or max
//  deliveries). Pure; see PROTOCOL.md, "Dead letters".
#ifndef BROKER_DLQ_H
#define BROKER_DLQ_H

#include "broker_state.h"
#include "zhub_msg.h"

//  Builds the dead letter for the original envelope bytes (as stored) that
//  failed in group at offset; attempts is the failure history, oldest
//  first; reason_code is the code of the last failure; cause says why it
//  ended ("terminal" or "max_deliveries"). Returns NULL when the original
//  cannot be decoded (never for what the broker stored itself).
zhub_msg_t *broker_dlq_build (const char *group, const uint8_t *envelope, size_t envelope_size,
                              uint64_t offset, const broker_attempt_t *attempts, size_t count,
                              uint32_t reason_code, const char *cause, int64_t now_ms);

//  The dead letter's id: "dlq:<group>:<original id>", or, when that would
//  exceed ZHUB_MSG_MAX_ID, "dlq:<group>:h:<hex BLAKE2b-128 of the id>".
//  Deterministic, so a dead letter written twice is deduplicated.
char *broker_dlq_id (const char *group, const char *original_id);

#endif
