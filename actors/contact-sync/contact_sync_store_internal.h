//  contact-sync's store, internal: what its files share. They stand in
//  floors, each calling only those below it: contact_sync_store_pending.c
//  (the batch's tables), contact_sync_store.c (states, audit, commits),
//  contact_sync_store_erase.c (the erase). Only they include this.
#ifndef CONTACT_SYNC_STORE_INTERNAL_H
#define CONTACT_SYNC_STORE_INTERNAL_H

#include "contact_sync_store.h"

#include <assert.h>
#include <stddef.h>

//  True when the table (one of self's) is open: always for the actor; a
//  read-only store may predate it.
bool contact_sync_store_has (const contact_sync_store_t *self, const zhub_table_t *table);

//  In txn: the state under its Bird id.
zhub_rc_t contact_sync_store_put_state (zhub_txn_t *txn, const contact_sync_store_t *self,
                                        const contact_state_t *state);

//  In txn: one audit entry under key, as compact JSON with sorted keys.
zhub_rc_t contact_sync_store_audit_put (zhub_txn_t *txn, const contact_sync_store_t *self,
                                        const char *key, const json_t *entry);

//  contact_sync_store_pending.c

//  In txn: deletes a contact's intent and its place in the order; adds to
//  *removed (may be NULL) what it deleted. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_pending_del (zhub_txn_t *txn, const contact_sync_store_t *self,
                                          const char *bird, size_t *removed);

//  In txn: merges the plan's HubSpot write into the contact's intent (a
//  new one is stamped now_ms, with cause's id, trace and envelope).
zhub_rc_t contact_sync_store_intent_put (zhub_txn_t *txn, const contact_sync_store_t *self,
                                         const contact_plan_t *plan, const zhub_msg_t *cause,
                                         int64_t now_ms);

//  Gives every intent its place in the order (stores written before the
//  order table existed); *placed how many were filed. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_reorder (contact_sync_store_t *self, size_t *placed);

//  contact_sync_store.c

#endif
