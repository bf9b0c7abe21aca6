//  contact-sync's I/O side: runs the pure core's plans against HubSpot and
//  Bird (through the runtime's connectors), keeps the state in LMDB, and
//  queues contact.synced in the runtime's outbox in the same transaction.
//
//  LMDB tables (env $ZHUB_DATA_DIR/contact-sync/):
//    contacts      bird contact id -> state (JSON, see contact_state_t)
//    hubspot_ids   hubspot record id -> bird contact id
//    audit         "<bird id>|<16 hex ms>|<event id>|<n>" -> audit entry (JSON):
//                  every field decision, read by `zhub audit contact <id>`;
//                  after an erase, "erased:<request>|..." -> tombstone (no
//                  personal value), read by `zhub audit erase <request>`
//    pending       bird id -> HubSpot write still to send (batching): JSON
//                  {properties, changed[], since, cause_id, traceparent?,
//                  cause_envelope (base64 of the envelope that queued it,
//                  for its dead letter should HubSpot refuse the write)}
//    pending_order "<16 hex ms queued>|<bird id>" -> "": the intents oldest
//                  first, so a flush takes the longest-waiting ones
//    links         bird id -> HubSpot id still to write onto the Bird contact
//    meta          reconciliation watermark and drift counter
#ifndef CONTACT_SYNC_IO_H
#define CONTACT_SYNC_IO_H

#include "bird.h"
#include "contact_sync.h"
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
    zhub_table_t contacts;
    zhub_table_t hubspot_ids;
    zhub_table_t audit;
    zhub_table_t meta;        //  "reconcile_watermark", "reconcile_drift_total" (decimal text)
    zhub_table_t pending;     //  bird id -> HubSpot write still to send (batching)
    zhub_table_t pending_order; //  "<16 hex since>|<bird id>" -> "": pending, oldest first
    zhub_table_t links;       //  bird id -> HubSpot id still to write onto the Bird contact
    int64_t batch_window_ms;  //  ZHUB_HUBSPOT_BATCH_WINDOW (default 200 ms); 0 = write at once
    int64_t flush_not_before; //  mono ms: after a failed flush
    //  What the tick needs without reading the store: intents queued since
    //  the last flush and when the first of them was (wall ms); -1 = unknown
    //  (at start: look in the store once).
    int64_t queued;
    int64_t queued_since;
    int64_t links_not_before; //  mono ms: the next Bird link write while busy
    //  Sync results (contact_sync_results.c): the retention main read, and
    //  the table
    zhub_sync_results_policy_t results_policy;
    zhub_sync_results_t results;
} contact_sync_t;

#define CONTACT_BATCH_MAX 100     //  HubSpot's batch limit
//  ZHUB_HUBSPOT_BATCH_WINDOW when unset: a write waits up to this long for
//  others to share its call; "0" turns batching off (one call per change)
#define CONTACT_BATCH_WINDOW_DEFAULT_MS 200
#define CONTACT_SYNC_BATCH_MESSAGES 32 //  default ZHUB_CREDIT, and messages per store commit
#define CONTACT_LINKS_PER_TICK 20 //  Bird link writes per idle tick, between batches
#define CONTACT_LINKS_BUSY_INTERVAL_MS 250 //  one link write at most this often under load

//  Batching (contact_sync_batch.c). Queues the plan's HubSpot upsert as an
//  intent (merged per contact) and commits the plan's state with it.
zhub_rc_t contact_sync_queue (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                              const contact_plan_t *plan);

//  Deletes a contact's intent and its place in the order; adds to *removed
//  what it deleted. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_pending_del (zhub_txn_t *txn, const contact_sync_t *self, const char *bird,
                                    size_t *removed);

//  Gives every intent its place in the order (stores written before the
//  order table existed). 0 or -1.
int contact_sync_pending_reorder (zhub_actor_ctx_t *ctx);

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
    char *bird_id;
    json_t *entry;    //  the intent (table pending), owned
    char *hubspot_id; //  DONE: the record id
    contact_item_fate_t fate;
    zhub_outcome_t failure; //  REFUSED, DEFERRED: HubSpot's error for this contact
    bool created;           //  DONE: HubSpot's upsert made a new record ("new": true)
    bool conflict;          //  HubSpot answered 409 (the e-mail is another contact's)
} contact_item_t;

//  Sends the items' intents in one batch upsert and settles each item:
//  DONE, REFUSED or DEFERRED. Items the batch's answer leaves without a
//  record (a 207 Multi-Status, a 4xx for the whole call) are sent again
//  one by one, since only the answer to a call with one input says which
//  input HubSpot refused and why; a 409 that names an existing contact
//  becomes an update of it (PATCH). Returns false when the whole call
//  failed transiently (every item DEFERRED); *status is the batch call's
//  HTTP status.
bool contact_sync_upsert_items (zhub_actor_ctx_t *ctx, contact_item_t *items, size_t count,
                                long *status);

//  In txn, for a REFUSED item: deletes its intent, withdraws the refused
//  values from the contact's state (contact_sync_withdraw) and queues in
//  the outbox its dead letter on dlq.contact-sync (proto/zhub_dlq.h: the
//  envelope that queued the intent, cause "terminal", reason_code and one
//  attempt with HubSpot's status and error). ZHUB_OK or ZHUB_ERROR.
zhub_rc_t contact_sync_refuse (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const contact_item_t *item);

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
void contact_sync_reconcile (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out);

#define CONTACT_RECONCILE_PAGE 100
#define CONTACT_RECONCILE_MAX_PAGES 100 //  per tick; the next tick goes on from the watermark
#define CONTACT_RECONCILE_CAP 10000     //  HubSpot's results per query

//  GDPR erase (contact_sync_erase_io.c): contact.erase and
//  webhook.hubspot.contact.privacyDeletion. Finds the person, deletes them
//  upstream when asked, removes every record about them, turns their
//  audit entries into tombstones (keys "erased:<request>|..."), queues
//  contact.forget and contact.forgotten in the same transaction and asks
//  the runtime to compact the store. Returns false (out untouched) when
//  msg is neither topic.
bool contact_sync_erase (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out);

//  zhub_actor_spec_t.ready: the HubSpot contact properties contact-sync
//  writes exist as it needs them: bird_contact_id (unique: the upsert
//  key) and the property of every mapped field written to HubSpot (its
//  shape checked when it is one `zhub hubspot setup` creates).
bool contact_sync_ready (zhub_actor_ctx_t *ctx, char *why, size_t why_size);

//  The handler for every contact-sync topic.
void contact_sync_handle (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out);

//  Reads the state of a contact by its Bird id or its HubSpot id.
//  ZHUB_OK with *state, ZHUB_NOTFOUND, or ZHUB_ERROR.
zhub_rc_t contact_sync_load_bird (zhub_store_t *store, const contact_sync_t *self,
                                  const char *bird_id, contact_state_t *state);
zhub_rc_t contact_sync_load_hubspot (zhub_store_t *store, const contact_sync_t *self,
                                     const char *hubspot_id, contact_state_t *state);

#endif
