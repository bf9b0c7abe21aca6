//  deal-sync's state in LMDB: its tables, their keys and values, and every
//  transaction over them. The actor writes through the functions below;
//  the CLI opens the same environment read-only
//  (deal_sync_store_open_readonly) and uses the read side: `zhub dlq`'s
//  preview the deal record, `zhub audit` the audit trail. Nobody else knows
//  a key format or a value's fields.
//
//  Tables (env $ZHUB_DATA_DIR/deal-sync/):
//    contacts   Bird contact id -> HubSpot contact id (from contact.synced)
//    deals      deal key "<bird id>/<pipeline>" (deal_sync_key) -> the
//               deal's record as JSON {v, deal_id, hubspot_contact_id,
//               bird_id, stage, stage_ms, associated}
//    deal_ids   HubSpot deal id -> deal key
//    audit      "<bird id>|<16 hex ms>|<event id>" -> audit entry
//               (deal_sync_audit_entry), so one contact's entries are
//               adjacent and in time order
//
//  None of it is the only copy of a fact another replica needs: a replica
//  that lacks a contact id asks HubSpot (by bird_contact_id), a deal is
//  found by its unique zhub_deal_key, and a deal's Bird contact is read
//  from that key (or the deal's association).
#ifndef DEAL_SYNC_STORE_H
#define DEAL_SYNC_STORE_H

#include "deal_sync.h"
#include "zhub_actor.h"
#include "zhub_strlist.h"

#include <jansson.h>

typedef struct {
    zhub_table_t contacts, deals, deal_ids, audit;
} deal_sync_tables_t;

//  What deal-sync keeps of one deal (the deals table's value).
typedef struct {
    char *deal_id;
    char *contact_id;
    char *bird_id;
    char *stage;      //  the stage as we last wrote or saw it
    int64_t stage_ms; //  when that stage was set (event time)
    bool associated;  //  the deal is associated with contact_id in HubSpot
} deal_state_t;

//  Frees what state holds and empties it; NULL-safe.
void deal_state_clear (deal_state_t *state);

//  Opens the tables (creating them on a writable store). 0, or -1.
int deal_sync_tables_open (zhub_store_t *store, deal_sync_tables_t *tables);

//  -------------------------------------------------------------------
//  The read side (the actor's, and the CLI's)

//  deal-sync's store under data_dir, opened read-only from another process
//  (the CLI, beside a running actor: LMDB has many readers and one
//  writer), with its tables. ZHUB_OK with *store; ZHUB_NOTFOUND when
//  deal-sync never ran there (no store: nothing stored); ZHUB_ERROR with
//  the reason in err.
zhub_rc_t deal_sync_store_open_readonly (const char *data_dir, zhub_store_t **store,
                                         deal_sync_tables_t *tables, char *err, size_t err_size);

//  The HubSpot contact id deal-sync learned for bird_id, as a fresh string
//  in *contact_id. ZHUB_OK, ZHUB_NOTFOUND or ZHUB_ERROR (*contact_id NULL).
zhub_rc_t deal_sync_store_contact (zhub_store_t *store, const deal_sync_tables_t *tables,
                                   const char *bird_id, char **contact_id);

//  The record of the deal under key (deal_sync_key) into *state (the
//  caller clears it). ZHUB_OK; ZHUB_NOTFOUND; ZHUB_REJECT when the value
//  there is no record (it does not read: the actor goes on as for a deal
//  it has no record of); ZHUB_ERROR when the store cannot be read.
zhub_rc_t deal_sync_store_deal (zhub_store_t *store, const deal_sync_tables_t *tables,
                                const char *key, deal_state_t *state);

//  The same by HubSpot deal id, in one snapshot: ZHUB_OK with *key (the
//  deal's key, fresh) and *state (the caller clears both); ZHUB_NOTFOUND
//  (*key NULL) when deal-sync has no record of that deal (or one that does
//  not read); ZHUB_ERROR.
zhub_rc_t deal_sync_store_deal_by_id (zhub_store_t *store, const deal_sync_tables_t *tables,
                                      const char *deal_id, char **key, deal_state_t *state);

//  Appends the audit entries of the Bird contact bird_id to entries (a
//  JSON array), oldest first; values that are not JSON objects are
//  skipped. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t deal_sync_store_audit (zhub_store_t *store, const deal_sync_tables_t *tables,
                                 const char *bird_id, json_t *entries);

//  -------------------------------------------------------------------
//  The write side (the actor's)

//  One commit: what an event taught deal-sync, in one write transaction
//  with the event it publishes. Every part is optional.
typedef struct {
    const char *bird_id;       //  contacts: bird_id -> contact_id, when both are set
    const char *contact_id;    //
    const char *key;           //  deals: key -> state, and deal_ids: state->deal_id -> key,
    const deal_state_t *state; //  when both are set
    const char *audit;         //  an audit entry about bird_id (deal_sync_audit_entry), at
    int64_t audit_ms;          //  audit_ms, caused by the message event_id
    const char *event_id;      //
    const zhub_msg_t *publish; //  queued in the runtime's outbox (zhub_actor_outbox_put)
} deal_sync_change_t;

//  Writes change in one transaction on ctx->store. ZHUB_OK or ZHUB_ERROR
//  (nothing written, nothing queued).
zhub_rc_t deal_sync_store_commit (zhub_actor_ctx_t *ctx, const deal_sync_tables_t *tables,
                                  const deal_sync_change_t *change);

//  The audit key "<bird id>|<16 hex of time_ms>|<event id>" (fresh).
char *deal_sync_audit_key (const char *bird_id, int64_t time_ms, const char *event_id);

//  -------------------------------------------------------------------
//  Forgetting a person (contact.forget, a GDPR erase)
//
//  Every table holds ids only, compared as whole values with the person's
//  identifiers (zhub_forget_is), widened by what the tables tie to them: a
//  Bird id whose contact is their HubSpot id, the deals of those ids.

//  Deletes in txn (a zhub_store_write callback's, which the store may run
//  again from scratch): the contacts entries under one of the person's ids
//  or pointing at one (their Bird and HubSpot ids join the person's); the
//  deals whose key, Bird id or HubSpot contact id is the person's, and the
//  deal_ids entries of those deals; the audit entries of the person's
//  Bird ids or of those deals. *removed gets the number of entries deleted
//  (0 the second time). ZHUB_OK or ZHUB_ERROR.
zhub_rc_t deal_sync_store_erase (zhub_txn_t *txn, const deal_sync_tables_t *tables,
                                 const zhub_forget_t *who, size_t *removed);

//  The HubSpot ids of the person's deals, found as the erase finds them
//  (reading only), added to deal_ids. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t deal_sync_store_deals_of (zhub_store_t *store, const deal_sync_tables_t *tables,
                                    const zhub_forget_t *who, zhub_strlist_t *deal_ids);

#endif
