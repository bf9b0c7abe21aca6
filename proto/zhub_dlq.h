//  The dead letter (PROTOCOL.md §8, "Dead letters"): the message published
//  on dlq.<group> when a message failed for good in a group. The broker
//  builds one when a group NACKs terminally or runs out of deliveries; an
//  actor that acked a message and learns later that its effect failed for
//  good (contact-sync's batched HubSpot writes) builds the same letter, so
//  zhub-dead-letter and `zhub dlq` treat both alike. Pure.
#ifndef ZHUB_DLQ_H
#define ZHUB_DLQ_H

#include "zhub_msg.h"

//  One failure of the history, oldest first.
typedef struct {
    int64_t time_ms;
    uint32_t code;      //  HTTP status or zhub_reason_t
    const char *reason; //  may be NULL
} zhub_dlq_attempt_t;

typedef struct {
    const char *group;       //  the group it failed in
    const char *source;      //  envelope source: "zhub/broker", "zhub/contact-sync"
    const uint8_t *envelope; //  the original envelope's msgpack bytes (spliced in as they are)
    size_t envelope_size;
    bool has_offset; //  the broker knows the original's log offset
    uint64_t offset;
    const zhub_dlq_attempt_t *attempts;
    size_t attempt_count;
    uint32_t reason_code; //  the code of the last failure
    const char *cause;    //  "terminal" or "max_deliveries"
    int64_t now_ms;       //  when it was dead-lettered
} zhub_dlq_spec_t;

//  The dead letter's id: "dlq:<group>:<original id>", or, when that would
//  exceed ZHUB_MSG_MAX_ID, "dlq:<group>:h:<hex BLAKE2b-128 of the id>".
//  Deterministic, so a dead letter written twice is deduplicated.
char *zhub_dlq_id (const char *group, const char *original_id);

//  Builds the dead letter: type dlq.<group>, the original's subject and
//  traceparent, data {group, offset (when known), cause, reason_code,
//  attempts[{time, code, reason}], message}. Returns NULL when the
//  envelope cannot be decoded.
zhub_msg_t *zhub_dlq_build (const zhub_dlq_spec_t *spec);

#endif
