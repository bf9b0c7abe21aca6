//  The broker's erasures table: the GDPR erase requests (contact.forget)
//  it has stored and not yet carried out, and how far each has got. Only
//  this file knows the record format:
//    erasures  be64 offset of the contact.forget -> be64 next offset to
//              scan + be64 records redacted so far + the person
//              (zhub_forget_encode: contact.forget data)
//  Store access only; the steps that use it are broker_erase_step.c's.
#ifndef BROKER_ERASURES_H
#define BROKER_ERASURES_H

#include "zhub_forget.h"
#include "zhub_msg.h"
#include "zhub_store.h"

#include <stdbool.h>
#include <stdint.h>

//  A request as stored.
typedef struct {
    uint64_t forget; //  offset of its contact.forget
    uint64_t next;   //  next offset to scan
    uint64_t redacted;
    zhub_forget_t who;
} broker_erasure_t;

//  Notes the contact.forget msg, stored at offset, as a request whose scan
//  starts at first (the log's first retained offset). A message that names
//  nobody is logged and ignored (*noted false). Returns ZHUB_OK or
//  ZHUB_ERROR.
zhub_rc_t broker_erasures_note (zhub_txn_t *txn, zhub_table_t table, uint64_t offset,
                                uint64_t first, const zhub_msg_t *msg, bool *noted);

//  Reads the oldest request into *out (clear it with
//  broker_erasure_clear). Returns ZHUB_OK, ZHUB_NOTFOUND when there is
//  none, ZHUB_REJECT when its record cannot be read (out->forget is set,
//  so the caller can remove it), or ZHUB_ERROR.
zhub_rc_t broker_erasures_oldest (zhub_txn_t *txn, zhub_table_t table, broker_erasure_t *out);

//  Stores the request's new position (next, redacted).
zhub_rc_t broker_erasures_update (zhub_txn_t *txn, zhub_table_t table,
                                  const broker_erasure_t *erasure);

//  Removes the request whose contact.forget is at forget.
zhub_rc_t broker_erasures_remove (zhub_txn_t *txn, zhub_table_t table, uint64_t forget);

//  Frees what *erasure holds; idempotent.
void broker_erasure_clear (broker_erasure_t *erasure);

#endif
