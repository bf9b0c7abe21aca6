//  contact-sync's state in LMDB: the one place that knows its tables, their
//  key and value formats and its transactions. The actor writes through
//  it; the CLI (`zhub audit`, the dead-letter preview) reads through its
//  read side, with the store opened read-only beside the running actor.
//
//  Tables (env $ZHUB_DATA_DIR/contact-sync/):
//    contacts       bird contact id -> state (JSON, contact_state_encode)
//    hubspot_ids    hubspot record id -> bird contact id
//    audit          "<bird id>|<16 hex ms>|<event id>|<n>" -> audit entry
//                   (JSON): every field decision, oldest first per contact;
//                   after an erase, "erased:<request>|<16 hex ms>|<event
//                   id>|<n>|<person>" -> its tombstone (no personal value),
//                   and "erased:<request>|<16 hex ms>|<event id>|erase" ->
//                   the erase's own entry
//    pending        bird id -> HubSpot write still to send (batching): JSON
//                   {properties, changed[], since, cause_id, traceparent?,
//                   cause_envelope (base64 of the envelope that queued it,
//                   for its dead letter should HubSpot refuse the write),
//                   audit[]? (the field decisions, committed with the write),
//                   deferred? {code, reason, at (wall ms), flushes}: why the
//                   last flush left it queued}
//    pending_order  "<16 hex ms queued>|<bird id>" -> "": the intents oldest
//                   first, so a flush takes the longest-waiting ones
//    links          bird id -> HubSpot id still to write onto the Bird contact
//    meta           "reconcile_watermark", "reconcile_drift_total" (decimal)
//    sync_results   what each batch flush and reconciliation did: the
//                   runtime's record table (zhub_sync_results.h owns its key
//                   and value formats and its retention)
//
//  Every write is one transaction; what it publishes goes into the
//  runtime's outbox in the same transaction (zhub_actor_outbox_put), so a
//  state change and the event announcing it are never separated.
#ifndef CONTACT_SYNC_STORE_H
#define CONTACT_SYNC_STORE_H

#include "contact_sync.h"
#include "zhub_actor.h"
#include "zhub_store.h"
#include "zhub_sync_results.h"

typedef struct {
    zhub_store_t *store; //  borrowed (the actor's), or owned when opened read-only
    bool owned;
    uint32_t opened; //  read-only: the tables found (a store may predate some)
    zhub_table_t contacts, hubspot_ids, audit, pending, pending_order, links, meta;
    zhub_sync_results_t results; //  its table is one of the above, opened with them
} contact_sync_store_t;

//  -------------------------------------------------------------------
//  Opening

//  Opens (creating) the tables in the actor's store (borrowed), and gives
//  every queued write its place in pending_order (stores written before
//  that table existed). The sync results are kept with policy (NULL: the
//  runtime's defaults). 0, or -1.
int contact_sync_store_open (contact_sync_store_t *self, zhub_store_t *store,
                             const zhub_sync_results_policy_t *policy);

//  The read side for another process: opens $data_dir/contact-sync
//  read-only. ZHUB_OK; ZHUB_NOTFOUND when contact-sync never ran there
//  (nothing is created); ZHUB_ERROR with err. A table the store does not
//  have yet reads as empty.
zhub_rc_t contact_sync_store_open_readonly (contact_sync_store_t *self, const char *data_dir,
                                            char *err, size_t err_size);

//  Closes what open_readonly opened; NULL-safe, idempotent.
void contact_sync_store_close (contact_sync_store_t *self);

//  -------------------------------------------------------------------
//  The read side

//  The state of a contact by its Bird id or by its HubSpot id (the id
//  map). ZHUB_OK with *state, ZHUB_NOTFOUND, or ZHUB_ERROR.
zhub_rc_t contact_sync_store_load_bird (const contact_sync_store_t *self, const char *bird_id,
                                        contact_state_t *state);
zhub_rc_t contact_sync_store_load_hubspot (const contact_sync_store_t *self, const char *hubspot_id,
                                           contact_state_t *state);

//  Appends to entries (a JSON array) the audit entries of a contact (by
//  its Bird id) or, with erase, the tombstones of an erase request, in key
//  order (oldest first). ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_audit (const contact_sync_store_t *self, const char *id, bool erase,
                                    json_t *entries);

//  The HubSpot id still to write onto a Bird contact: ZHUB_OK with a fresh
//  *hubspot_id, ZHUB_NOTFOUND, or ZHUB_ERROR.
zhub_rc_t contact_sync_store_link (const contact_sync_store_t *self, const char *bird_id,
                                   char **hubspot_id);

//  Appends to records (a JSON array) up to limit (0: all) sync results,
//  newest first (zhub_sync_results_list). ZHUB_OK or ZHUB_ERROR; none
//  when the store predates the table.
zhub_rc_t contact_sync_store_results (const contact_sync_store_t *self, size_t limit,
                                      json_t *records);

//  -------------------------------------------------------------------
//  Writing a contact

//  One contact's change, committed as one: its state, the id map, its
//  audit entries, what to publish, and the batch's records of it.
typedef struct {
    const contact_state_t *next; //  the state to keep, or NULL (audit only)
    const contact_state_t *prev; //  the state it replaces: ids it no longer has are
                                 //  dropped from the id map (NULL: none)
    const char *bird_id;         //  whose audit entries (NULL: next's)
    const json_t *audit;         //  entries to append (stamped with the commit time), or NULL
    const char *event_id;        //  the cause, in the audit keys
    const zhub_msg_t *publish;   //  into the outbox, or NULL
    bool settle_intent;          //  the contact's queued HubSpot write is done: drop it
    const char *link_hubspot_id; //  a HubSpot id to write onto the Bird contact later, or NULL
} contact_sync_commit_t;

//  Commits count changes in one transaction. ZHUB_OK, or ZHUB_ERROR (none
//  is committed).
zhub_rc_t contact_sync_store_commit (contact_sync_store_t *self, zhub_actor_ctx_t *ctx,
                                     const contact_sync_commit_t *commits, size_t count);

//  A HubSpot merge or deletion: drops the count_gone HubSpot ids from the
//  id map, then keeps the count states (re-linked, or unlinked) with their
//  id-map entries and each its audit entry (audit[i], or NULL). ZHUB_OK or
//  ZHUB_ERROR.
zhub_rc_t contact_sync_store_relink (contact_sync_store_t *self, const char *const *gone,
                                     size_t count_gone, const contact_state_t *states,
                                     json_t *const *audit, size_t count, const char *event_id);

//  -------------------------------------------------------------------
//  Batched HubSpot writes (intents)

//  An intent: what the pending table holds for one contact.
typedef struct {
    char *bird_id;
    json_t *properties;      //  what HubSpot should end up with (later values win)
    json_t *changed;         //  the field names written, each once (an array)
    json_t *audit;           //  the plans' field decisions, to commit once written, or NULL
    int64_t since;           //  when the first change was queued (wall ms)
    char *cause_id;          //  the message that queued it first ("" when unknown)
    char *traceparent;       //  its trace, or NULL
    uint8_t *cause_envelope; //  its envelope, or NULL (an intent queued before it was kept)
    size_t cause_envelope_size;
    //  Why the last flush left it queued (deferred_flushes 0: none did)
    int64_t deferred_flushes; //  how many flushes deferred it
    int64_t deferred_at;      //  wall ms of the last
    unsigned deferred_code;   //  HTTP status or reason code
    char *deferred_reason;    //  one line, or NULL
} contact_intent_t;

void contact_intent_clear (contact_intent_t *intent);

//  A contact's queued HubSpot write, by its Bird id. ZHUB_OK with *intent
//  (the caller clears it), ZHUB_NOTFOUND, or ZHUB_ERROR.
zhub_rc_t contact_sync_store_intent (const contact_sync_store_t *self, const char *bird_id,
                                     contact_intent_t *intent);

//  Queues the plan's HubSpot write for the contact plan->next names: merged
//  into its intent (a new one is stamped now_ms, with cause's id, trace and
//  envelope; the plan's audit entries are added to it), the contact's
//  state moved to plan->next in the same transaction; *pending (if not
//  NULL) the intents queued once it is in. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_queue (contact_sync_store_t *self, const contact_plan_t *plan,
                                    const zhub_msg_t *cause, int64_t now_ms, size_t *pending);

//  What is queued: up to max intents, oldest first, into intents (cleared
//  by the caller); *count how many, *pending how many are queued in all,
//  *next_since when the first one left out was queued (0: none). ZHUB_OK
//  or ZHUB_ERROR.
zhub_rc_t contact_sync_store_pending (const contact_sync_store_t *self, contact_intent_t *intents,
                                      size_t max, size_t *count, size_t *pending,
                                      int64_t *next_since);

//  A flush left these intents queued: notes on each why it waits (code and
//  reason[i]) and how many flushes deferred it so far. An intent settled or
//  erased meanwhile is passed over. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_note_deferred (contact_sync_store_t *self, const char *const *bird_ids,
                                            const unsigned *codes, const char *const *reasons,
                                            size_t count, int64_t now_ms);

//  -------------------------------------------------------------------
//  Sync results

//  Keeps one run's record (its own transaction), pruning when due (now_ms
//  wall, mono_ms monotonic). ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_result_put (contact_sync_store_t *self,
                                         const zhub_sync_result_t *result, int64_t now_ms,
                                         int64_t mono_ms);

//  Prunes the records the policy no longer keeps, when due; *removed how
//  many went. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_results_prune (contact_sync_store_t *self, int64_t now_ms,
                                            int64_t mono_ms, size_t *removed);

//  Up to max HubSpot ids still to write onto their Bird contacts: fresh
//  strings in bird[] and hubspot[]. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_links (const contact_sync_store_t *self, size_t max, char **bird,
                                    char **hubspot, size_t *count);

//  The links written: removed, unless a newer HubSpot id was queued for the
//  contact meanwhile. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_links_done (contact_sync_store_t *self, char *const *bird,
                                         char *const *hubspot, size_t count);

//  -------------------------------------------------------------------
//  Reconciliation

//  The watermark (unix ms; 0 = never) and the drift counted so far.
zhub_rc_t contact_sync_store_reconcile_read (const contact_sync_store_t *self, int64_t *watermark,
                                             int64_t *drift_total);

//  Stores the watermark and the new drift total, and queues reconciled (or
//  NULL) in the outbox. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_reconcile_write (contact_sync_store_t *self, zhub_actor_ctx_t *ctx,
                                              int64_t watermark, int64_t drift_total,
                                              const zhub_msg_t *reconciled);

//  -------------------------------------------------------------------
//  Erase (contact_sync_store_erase.c)

//  The persons an erase names (contact_erase_t.by): a Bird id; a HubSpot
//  id, through the id map or else the audit entry of a HubSpot deletion
//  that came first (contact_sync_audit_deleted_link); digits as a HubSpot
//  id when one is known (erase->hubspot_known is set), else as a phone;
//  an e-mail or phone by a scan of every state. At most
//  CONTACT_ERASE_MAX_PERSONS states into states, *count of them. ZHUB_OK
//  or ZHUB_ERROR.
zhub_rc_t contact_sync_store_find (const contact_sync_store_t *self, contact_erase_t *erase,
                                   contact_state_t *states, size_t *count);

//  Builds the messages an erase announces, knowing how many records it
//  removed: at most max into publish (new messages, which the store
//  destroys); returns how many.
typedef size_t (contact_sync_announce_fn) (size_t removed, zhub_msg_t **publish, size_t max,
                                           void *arg);

//  In one transaction: every record about the count persons goes (state,
//  id-map entries, stale ones included, queued HubSpot write and Bird
//  link), their audit entries become tombstones under the request, the
//  erase's own entry is added (contact_sync_erase_entry, event_id), and
//  what announce builds goes into the outbox. *removed gets the number of
//  records removed. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_store_erase (contact_sync_store_t *self, zhub_actor_ctx_t *ctx,
                                    const contact_erase_t *erase, const contact_state_t *states,
                                    size_t count, const char *event_id,
                                    contact_sync_announce_fn *announce, void *arg, size_t *removed);

#endif
