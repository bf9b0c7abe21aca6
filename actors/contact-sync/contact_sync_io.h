//  contact-sync's I/O side: runs the pure core's plans against HubSpot and
//  Bird (through the connectors' typed calls), keeps the state through its
//  store (contact_sync_store.h: tables, keys, transactions), and queues
//  contact.synced in the runtime's outbox in the same transaction.
#ifndef CONTACT_SYNC_IO_H
#define CONTACT_SYNC_IO_H

#include "bird.h"
#include "contact_sync.h"
#include "contact_sync_store.h"
#include "hubspot.h"
#include "zhub_actor.h"
#include "zhub_sync_results.h"

#define CONTACT_SYNC_MAX_STEPS 6 //  fetch, write, conflict retry, link: 4 suffice

typedef struct {
    contact_sync_config_t core;
    zhub_hubspot_config_t hubspot_config; //  read by main
    zhub_bird_config_t bird_config;
    zhub_hubspot_t *hubspot; //  built on the runtime's HTTP client in contact_sync_open
    zhub_bird_t *bird;
    contact_sync_store_t store; //  its tables, opened in contact_sync_open
    int64_t batch_window_ms;    //  ZHUB_HUBSPOT_BATCH_WINDOW (default 200 ms); 0 = write at once
    int64_t flush_not_before;   //  mono ms: after a failed flush
    //  What the tick needs without reading the store: intents queued since
    //  the last flush and when the first of them was (wall ms); -1 = unknown
    //  (at start: look in the store once).
    int64_t queued;
    int64_t queued_since;
    int64_t links_not_before; //  mono ms: the next Bird link write while busy
    //  Sync results (contact_sync_results.c): the retention main read
    //  (their table is the store's)
    zhub_sync_results_policy_t results_policy;
} contact_sync_t;

#define CONTACT_BATCH_MAX 100 //  HubSpot's batch limit
//  ZHUB_HUBSPOT_BATCH_WINDOW when unset: a write waits up to this long for
//  others to share its call; "0" turns batching off (one call per change)
#define CONTACT_BATCH_WINDOW_DEFAULT_MS 200
#define CONTACT_SYNC_BATCH_MESSAGES 32     //  default ZHUB_CREDIT, and messages per store commit
#define CONTACT_LINKS_PER_TICK 20          //  Bird link writes per idle tick, between batches
#define CONTACT_LINKS_BUSY_INTERVAL_MS 250 //  one link write at most this often under load

//  -------------------------------------------------------------------
//  The executor (contact_sync_exec.c): the table of contact_sync.h, driven

//  What a run answers for and how it goes: a message handled at once (its
//  id, trace and envelope; queue_upserts when the batch window is on), a
//  reconciled contact, or one contact of the batch flush (defer_links,
//  settle_intent, and the answer the batch call gave for it).
typedef struct {
    const char *event_id;     //  the cause's id: logs, a SKIP's audit keys
    const char *synced_of;    //  what contact.synced's id derives from
    const char *cause_id;     //  contact.synced's cause_id, or NULL
    const char *traceparent;  //  carried to every call and into contact.synced
    const zhub_msg_t *cause;  //  QUEUED: the envelope the intent keeps, for its dead letter
    bool queue_upserts;       //  the window is on: a HubSpot upsert waits for the flush
    bool defer_links;         //  a new HubSpot id goes onto the Bird contact later (links)
    bool settle_intent;       //  DONE also drops the contact's intent
    contact_answer_t first;   //  the answer to the plan's first call, made by the caller
    const json_t *first_json; //  (the flush's batch call); 0: none
    bool link_deferred;       //  out: a Bird link waits in the links table
    bool upsert_created;      //  out: HubSpot's upsert answer said the record is new
    bool upsert_conflict;     //  out: HubSpot answered 409 to the upsert (the sync results)
} contact_run_t;

//  Runs plan through the table until it rests (DONE, SKIP, IGNORE, REJECT
//  or QUEUED): makes each call (or takes run->first), feeds the answer to
//  contact_sync_plan_answer; state / *have as the plan started (looked up
//  again before a FETCH × OK of a HubSpot contact without one). Returns
//  false when a call failed: *out has the one classification (retry or
//  reject).
bool contact_sync_run (zhub_actor_ctx_t *ctx, contact_run_t *run, const contact_event_t *event,
                       contact_state_t *state, bool *have, contact_plan_t *plan,
                       zhub_outcome_t *out);

//  The commit of a DONE plan: next (stamped now), the id map (prev's stale
//  ids dropped), its audit entries and contact.synced (*synced, new: the
//  caller destroys it after the commit), and for the flush the intent
//  dropped and the deferred Bird link kept. ZHUB_OK, or ZHUB_REJECT with
//  *out set.
zhub_rc_t contact_sync_done (const contact_run_t *run, contact_plan_t *plan,
                             const contact_state_t *prev, contact_sync_commit_t *commit,
                             zhub_msg_t **synced, zhub_outcome_t *out);

//  A message's plan at rest: commits what it says (see the table) and sets
//  *out: ignored, skipped, rejected, queued or synced.
void contact_sync_finish (zhub_actor_ctx_t *ctx, const contact_run_t *run,
                          const contact_event_t *event, const contact_state_t *state, bool have,
                          contact_plan_t *plan, zhub_outcome_t *out);

//  contact_sync_run, then contact_sync_finish: a message's plan, to its end.
void contact_sync_execute (zhub_actor_ctx_t *ctx, const contact_run_t *run,
                           const contact_event_t *event, contact_state_t *state, bool *have,
                           contact_plan_t *plan, zhub_outcome_t *out);

//  Queues the plan's HubSpot upsert as an intent (merged per contact) and
//  commits the plan's state with it; the tick's flush sends it.
zhub_rc_t contact_sync_queue (zhub_actor_ctx_t *ctx, const zhub_msg_t *cause,
                              const contact_plan_t *plan);

//  -------------------------------------------------------------------
//  The batch (contact_sync_batch.c, contact_sync_upsert.c)

//  zhub_actor_spec_t.tick: sends the intents in batches once the oldest
//  waited batch_window_ms or CONTACT_BATCH_MAX are ready.
void contact_sync_flush (zhub_actor_ctx_t *ctx);

//  One contact of a flush and what became of it (contact_sync_upsert.c).
typedef enum {
    CONTACT_ITEM_OPEN = 0, //  not settled yet
    CONTACT_ITEM_DONE,     //  HubSpot holds it: hubspot_id is its record
    CONTACT_ITEM_REFUSED,  //  refused for good: failure says why (dead-lettered)
    CONTACT_ITEM_DEFERRED  //  a transient failure: the intent stays for a later flush
} contact_item_fate_t;

typedef struct {
    contact_intent_t intent; //  the queued write (contact_sync_store.h), owned
    contact_plan_t plan;     //  its WRITE, resumed (contact_sync_plan_queued)
    contact_state_t state;   //  the contact's state the plan started from
    bool have;               //  ... when the store has one
    json_t *record;          //  OPEN: what the batch call answered for it, or NULL
    contact_item_fate_t fate;
    zhub_outcome_t failure; //  REFUSED, DEFERRED: HubSpot's error for this contact
    bool created;           //  DONE: HubSpot's upsert made a new record ("new": true)
    bool conflict;          //  HubSpot answered 409 (the e-mail is another contact's)
} contact_item_t;

//  Sends the items' plans' upserts in one batch call (count > 1) and gives
//  each item HubSpot answered for its record (matched on bird_contact_id:
//  HubSpot does not promise the input order). The others stay OPEN
//  without one: the flush sends each again alone, since only the answer to
//  a call with one input says which input HubSpot refused and why.
//  Returns false when the whole call failed transiently (every item
//  DEFERRED with the classification); *status is the call's HTTP status.
bool contact_sync_upsert_items (zhub_actor_ctx_t *ctx, contact_item_t *items, size_t count,
                                long *status);

//  The dead letter of a REFUSED item, on dlq.contact-sync
//  (proto/zhub_dlq.h): the envelope that queued the intent (or, for an
//  intent queued before it was kept, one made up to name the contact and
//  what was to be written), cause "terminal", reason_code and one attempt
//  with HubSpot's status and error. A new message, or NULL.
zhub_msg_t *contact_sync_dead_letter (const contact_item_t *item);

//  zhub_actor_spec_t.open: opens the tables. 0 or -1.
int contact_sync_open (zhub_actor_ctx_t *ctx);
void contact_sync_close (zhub_actor_ctx_t *ctx);

//  contact.reconcile: contacts modified in HubSpot since the watermark (or
//  data.since, RFC 3339) are read with the search API, page by page
//  (CONTACT_RECONCILE_PAGE a page, at most 5 searches a second — the
//  connector's pacer spaces them — a new query
//  from the last modified date before HubSpot's 10,000-result cap), and
//  each runs through the same HubSpot -> Bird plan as a webhook would. A
//  contact whose plan writes is drift: a change no webhook brought. The
//  tick logs `event=reconcile found= drift=`, adds drift to the stored
//  counter reconcile_drift_total and publishes contact.reconciled {found,
//  drift, drift_total, since, watermark}.
void contact_sync_on_reconcile (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out);

#define CONTACT_RECONCILE_PAGE 100
#define CONTACT_RECONCILE_MAX_PAGES 100 //  per tick; the next tick goes on from the watermark
#define CONTACT_RECONCILE_CAP 10000     //  HubSpot's results per query

//  GDPR erase (contact_sync_erase_io.c), read from contact.erase or
//  webhook.hubspot.contact.privacyDeletion (msg, for its id and trace).
//  Finds the person, deletes them upstream when asked, removes every
//  record about them, turns their audit entries into tombstones (keys
//  "erased:<request>|..."), queues contact.forget and contact.forgotten in
//  the same transaction and asks the runtime to compact the store. Sets
//  erase->hubspot_known on the way (contact_erase_t).
void contact_sync_erase (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, contact_erase_t *erase,
                         zhub_outcome_t *out);

//  zhub_actor_spec_t.ready: the HubSpot contact properties contact-sync
//  writes exist as it needs them: bird_contact_id (unique: the upsert
//  key) and the property of every mapped field written to HubSpot (its
//  shape checked when it is one `zhub hubspot setup` creates).
bool contact_sync_ready (zhub_actor_ctx_t *ctx, char *why, size_t why_size);

//  The handlers of contact-sync's routes (contact_sync.h, Routes), one each:
//  webhook.bird.>, webhook.hubspot.contact.> (a contact to sync, a merge
//  or deletion, or a privacy deletion: contact_sync_hubspot_kind),
//  conversation.started and contact.erase; contact.reconcile is
//  contact_sync_on_reconcile above.
zhub_actor_handler_fn contact_sync_on_bird;
zhub_actor_handler_fn contact_sync_on_hubspot;
zhub_actor_handler_fn contact_sync_on_conversation;
zhub_actor_handler_fn contact_sync_on_erase;

#endif
