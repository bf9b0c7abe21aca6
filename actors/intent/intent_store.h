//  The intent router's store: its tables and key formats, in the actor's
//  LMDB environment ($ZHUB_DATA_DIR/intent/). Every function runs inside a
//  transaction the caller opened (zhub_store_write / _read).
//
//  Tables:
//    decisions  conversation.message envelope id -> JSON {contact, intent,
//               confidence, language, decided_by, ai_error?, at}: each
//               message is decided once (a redelivery publishes nothing
//               new, and an AI classifier is not asked twice)
//    seen       contact NUL workflow type -> be64 unix ms: the latest
//               tour.requested, escalation.triggered or contact.opted_out
//               another producer (an AI agent) published for the contact
#ifndef INTENT_STORE_H
#define INTENT_STORE_H

#include "intent.h"
#include "zhub_forget.h"
#include "zhub_store.h"

typedef struct {
    zhub_table_t decisions, seen;
} intent_tables_t;

int intent_tables_open (zhub_store_t *store, intent_tables_t *tables);

//  ZHUB_OK when the message was decided before, ZHUB_NOTFOUND, ZHUB_ERROR.
zhub_rc_t intent_decision_get (const intent_tables_t *tables, zhub_txn_t *txn, const char *message,
                               intent_verdict_t *verdict, char *decided_by, size_t decided_by_size);

zhub_rc_t intent_decision_put (const intent_tables_t *tables, zhub_txn_t *txn, const char *message,
                               const char *contact, const intent_verdict_t *verdict,
                               const char *decided_by, const char *ai_error, int64_t at_ms);

//  The latest time another producer published workflow for contact
//  (ZHUB_NOTFOUND: never), and keeping a newer one.
zhub_rc_t intent_seen_get (const intent_tables_t *tables, zhub_txn_t *txn, const char *contact,
                           const char *workflow, int64_t *at_ms);
zhub_rc_t intent_seen_put (const intent_tables_t *tables, zhub_txn_t *txn, const char *contact,
                           const char *workflow, int64_t at_ms);

//  Retention: what is older than before_ms goes; erase: what names the
//  person goes. Both add the count to *removed.
zhub_rc_t intent_store_sweep (const intent_tables_t *tables, zhub_txn_t *txn, int64_t before_ms,
                              size_t *removed);
zhub_rc_t intent_store_forget (const intent_tables_t *tables, zhub_txn_t *txn,
                               const zhub_forget_t *forget, size_t *removed);

#endif
