//  The shared actor runtime: what every actor process (contact-sync,
//  deal-sync, activity-log, scheduler, dead-letter) does the same way.
//
//    config   read once from the environment into zhub_actor_config_t,
//             validated, logged with secrets masked;
//    setup    opens the actor's LMDB environment ($ZHUB_DATA_DIR/<name>/),
//             the one HTTP client (each actor builds the connectors it
//             uses on it, in its open hook: the runtime knows no API),
//             and a bus client; waits until the actor's own readiness check
//             passes (what it writes exists where it writes it), consuming
//             nothing meanwhile; joins the consumer group <name> with the
//             group settings from the config; logs `event=ready`;
//    loop     receives a delivery, finds the handler whose topic pattern
//             matches (one handler per route), decodes the message's data
//             once and hands the handler the parsed event, periodic work
//             runs on the tick; turns the handler's zhub_outcome_t into ACK,
//             NACK with a delay, or terminal NACK; one log line per
//             message (id, topic, attempt, outcome, duration);
//    outbox   results the handler wants published are written into the
//             store's "outbox" table in the same transaction as its state
//             (zhub_actor_outbox_put), then published with confirm before
//             the ACK; what the broker did not confirm stays in the outbox
//             and is published again later. So a state change and the event
//             announcing it are never separated by a crash;
//    stop     SIGTERM/SIGINT: the message being handled is finished (and
//             acked), then zhub_actor_run returns 0.
#ifndef ZHUB_ACTOR_H
#define ZHUB_ACTOR_H

#include "zhub_client.h"
#include "zhub_listen.h"
#include "zhub_metrics.h"
#include "zhub_common.h"
#include "zhub_forget.h"
#include "zhub_http.h"
#include "zhub_retry.h"
#include "zhub_store.h"

#define ZHUB_ACTOR_MAX_BACKOFF 16          //  steps in ZHUB_BACKOFF
#define ZHUB_ACTOR_RECV_TIMEOUT_MS 500     //  how often the loop looks at stop and outbox
#define ZHUB_ACTOR_JOIN_TIMEOUT_MS 3000    //  per JOIN attempt (retried until it works)
#define ZHUB_ACTOR_PUBLISH_TIMEOUT_MS 5000 //  per confirmed publish
#define ZHUB_ACTOR_OUTBOX_BATCH 64         //  outbox entries published per round
#define ZHUB_ACTOR_BATCH_MS 20             //  a store batch takes no new message after this
#define ZHUB_ACTOR_READY_RETRY_MS 5000     //  ZHUB_READY_RETRY: readiness checked again after

//  -------------------------------------------------------------------
//  Configuration (zhub_actor_config.c; no bus, no I/O beyond getenv)

typedef struct {
    char *name;     //  process, group and store folder: "contact-sync"
    char *broker;   //  ZHUB_BROKER
    zhub_bus_auth_t bus; //  ZHUB_BUS_SECURITY, ZHUB_BUS_CERT, ZHUB_BROKER_PUBLIC_KEY
    //  ZHUB_INSTANCE: this replica's stable id (PROTOCOL.md 7.8); default
    //  <host>-<8 hex of the data dir's path>, stable while both are
    char *instance;
    char *data_dir; //  ZHUB_DATA_DIR (default ./.zhub-data)
    //  Group settings sent in the JOIN (0 / empty = the broker's defaults)
    uint32_t max_deliveries;                    //  ZHUB_MAX_DELIVERIES
    int64_t ack_deadline_ms;                    //  ZHUB_ACK_DEADLINE (duration: "30s")
    int64_t backoff_ms[ZHUB_ACTOR_MAX_BACKOFF]; //  ZHUB_BACKOFF ("1s,5s,30s")
    size_t backoff_count;
    uint32_t credit; //  ZHUB_CREDIT: deliveries in flight (default 1)
    //  The HTTP client's limits (each API's own settings are its
    //  connector's: zhub_hubspot_config_load, zhub_bird_config_load, ...)
    int64_t http_connect_timeout_ms; //  ZHUB_HTTP_CONNECT_TIMEOUT (default 5s)
    int64_t http_timeout_ms;         //  ZHUB_HTTP_TIMEOUT (default 20s)
    int64_t ready_retry_ms;          //  ZHUB_READY_RETRY (default 5s): see spec.ready
    //  ZHUB_ACTOR_ADMIN_LISTEN: /healthz, /readyz, /metrics (zhub_actor_admin.h);
    //  unset = no listener (ports differ per process: the launchers set them)
    zhub_listen_t admin_listen;
    bool admin_on;
} zhub_actor_config_t;

//  Reads the configuration of actor `name` from the environment. Returns
//  0, or -1 with the offending variable named in err (config is then
//  cleared).
int zhub_actor_config_load (zhub_actor_config_t *config, const char *name, char *err,
                            size_t err_size);

//  Frees what the config holds; NULL-safe and idempotent.
void zhub_actor_config_clear (zhub_actor_config_t *config);

//  Logs the configuration (`event=config`), secrets masked.
void zhub_actor_config_log (const zhub_actor_config_t *config);

//  The operators' mapping file (field map, stage map): JSON named by
//  $ZHUB_MAPPING_FILE, read once at start; each actor reads its own
//  section ("contact", "deal") and keeps its built-in defaults for what the
//  file leaves out. Returns a new JSON object (an empty one when the
//  variable is unset), or NULL with the file and the reason in err.
json_t *zhub_actor_mapping_load (char *err, size_t err_size);

//  -------------------------------------------------------------------
//  The loop (zhub_actor.c)

typedef struct zhub_actor_t zhub_actor_t;

//  What a handler gets: the shared resources and the delivery at hand.
typedef struct {
    zhub_actor_t *actor;
    const zhub_actor_config_t *config;
    zhub_store_t *store;
    zhub_http_t *http;               //  the one HTTP client: connectors are built on it
    zhub_metrics_t *metrics;         //  the process's metrics (GET /metrics): actors add their own
    void *state;                     //  the actor's own (zhub_actor_spec_t.state)
    const zhub_delivery_t *delivery; //  NULL outside a handler
    //  In a tick: true when the last receive waited for nothing (no backlog),
    //  so slow background work can run without holding up messages.
    bool idle;
    //  A tick may set this to the monotonic ms at which it wants to run
    //  again (a flush window closing): the loop waits no longer for a
    //  message. Cleared before every tick; 0 = no wish.
    int64_t tick_due_ms;
} zhub_actor_ctx_t;

//  The delivery at hand, decoded once by the runtime before its handler is
//  called: the envelope, and its data as JSON.
typedef struct {
    const zhub_msg_t *msg; //  the envelope
    const json_t *data;    //  msg's data as a JSON object, or NULL when it cannot be
                           //  represented as JSON (binary values): a handler that
                           //  needs it rejects the message
    uint32_t attempt;      //  1 on the first delivery
} zhub_actor_event_t;

//  Handles one message and says how it went (see zhub_retry.h). Must not
//  ack or nack itself; must not block beyond its HTTP timeouts.
typedef void (zhub_actor_handler_fn) (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                      zhub_outcome_t *out);

typedef struct {
    const char *pattern; //  topic pattern, e.g. "webhook.bird.>"
    zhub_actor_handler_fn *handler;
} zhub_actor_route_t;

typedef struct {
    const zhub_actor_route_t *routes; //  first match wins; they are also the JOIN topics
    size_t route_count;
    uint32_t schema_version; //  of the actor's store (0 = 1)
    zhub_rc_t (*migrate) (zhub_txn_t *txn, uint32_t from_version, void *arg);
    //  Called once the store and the HTTP client are open: open the actor's
    //  tables and build the connectors it uses on ctx->http. 0 or -1.
    int (*open) (zhub_actor_ctx_t *ctx);
    //  Called before the HTTP client and the store close: free what open
    //  made. NULL = nothing to free.
    void (*close) (zhub_actor_ctx_t *ctx);
    void *state; //  handed to handlers as ctx->state
    //  Called on the actor's thread after each message and whenever a
    //  receive waited ZHUB_ACTOR_RECV_TIMEOUT_MS for nothing: for an actor's
    //  own durable timers (the scheduler's). ctx->delivery is NULL; what it
    //  queues with zhub_actor_outbox_put is published right after. NULL = none.
    void (*tick) (zhub_actor_ctx_t *ctx);
    //  Readiness: can the actor do its work at all (the HubSpot properties
    //  it writes exist, with the right type)? Called before the group is
    //  joined, and again every ZHUB_READY_RETRY while it returns false;
    //  until it returns true the actor consumes nothing, so its messages
    //  wait in the broker instead of failing one by one into dead letters.
    //  why gets one line for operators (what is missing, what to run),
    //  logged as `event=not_ready` once, and again only when it changes.
    //  NULL = always ready.
    bool (*ready) (zhub_actor_ctx_t *ctx, char *why, size_t why_size);
    //  Group commit: up to this many deliveries that are already waiting
    //  (ZHUB_CREDIT > 1) are handled in one store batch (zhub_store_batch_*)
    //  and acked after its single commit, for at most ZHUB_ACTOR_BATCH_MS.
    //  Handlers must then not count on a write being durable before the
    //  message is acked (an external call after a write is redone after a
    //  crash, so it must be idempotent). 0 or 1 = one message per commit.
    uint32_t batch_max;
} zhub_actor_spec_t;

//  Opens the store, the HTTP client, the metrics registry with the
//  runtime's own metrics, the admin listener (when configured) and the bus
//  client, then calls the spec's open. The runtime's metrics:
//    zhub_actor_messages_total{route,outcome}   deliveries handled (outcome:
//        ok, retry, deferred, rejected)
//    zhub_actor_handle_seconds{route}           time from delivery to answer
//    zhub_actor_sync_latency_seconds{route}     event time (the envelope's
//        `time`, set by the provider or producer) to the effect done: every
//        message handled ok, when it has a time
//    zhub_actor_outbox_pending                  results committed, not yet
//        published
//    zhub_actor_waiting                         work an actor holds back
//        (zhub_actor_set_waiting), e.g. writes queued for a batch or a peer
//    zhub_actor_ready                           1 when joined and ready
//    zhub_actor_http_requests_total{peer,class} outbound calls (class 2xx,
//        3xx, 4xx, 5xx, transport) and zhub_actor_http_seconds{peer}
//    zhub_actor_peer_last_error_status{peer}    the HTTP status of the host's
//        and zhub_actor_peer_last_error_seconds{peer}  last failed call (4xx,
//        5xx; 0: no answer) and its unix time; absent until one fails
//    zhub_actor_breaker_open{peer}              1 while a paced host's circuit
//        is open (calls held)
//    zhub_actor_peer_budget_remaining{peer}     a paced host's rate window
//        and zhub_actor_peer_budget_max{peer}   as its last answer said it
//        (HubSpot's X-HubSpot-RateLimit-Remaining and -Max)
//  spec is borrowed and must outlive the actor. Returns NULL with a reason
//  in err.
zhub_actor_t *zhub_actor_new (const zhub_actor_config_t *config, const zhub_actor_spec_t *spec,
                              char *err, size_t err_size);

//  Closes everything; NULL-safe; nulls *self_p.
void zhub_actor_destroy (zhub_actor_t **self_p);

//  The context handlers get (also usable by main before run, e.g. to
//  replay the outbox or in tests).
zhub_actor_ctx_t *zhub_actor_ctx (zhub_actor_t *self);

//  Installs the SIGTERM/SIGINT handlers that ask zhub_actor_run to stop
//  after the current message. Call after zhub_actor_new.
void zhub_actor_handle_signals (void);

//  True once a stop was asked for.
bool zhub_actor_stopping (void);

//  Work the actor holds back and will do (writes queued for a batch,
//  deferred while a peer is down), shown as zhub_actor_waiting.
void zhub_actor_set_waiting (zhub_actor_ctx_t *ctx, double count);

//  The admin listener's port (0 when off): for tests and zhub up.
int zhub_actor_admin_port_of (zhub_actor_t *self);

//  Waits for spec.ready (if any), joins the group, logs `event=ready
//  group=<name>`, then handles deliveries until a stop is asked for.
//  Returns 0 on a clean stop, -1 when the broker refused the JOIN.
int zhub_actor_run (zhub_actor_t *self);

//  Queues msg for publishing inside the handler's write transaction (call
//  it from a zhub_store_write callback on ctx->store). The runtime
//  publishes it once the transaction committed. Returns ZHUB_OK or
//  ZHUB_ERROR (return that from the callback).
zhub_rc_t zhub_actor_outbox_put (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_msg_t *msg);

//  Publishes what the outbox holds, in order, each with confirm; removes
//  what the broker confirmed. Returns the number still pending (0 when the
//  outbox is empty), or -1 on a store fault.
int zhub_actor_outbox_flush (zhub_actor_t *self);

//  Asks the runtime to compact the actor's store after this message's
//  outbox was published and before it is acked: an erase leaves the
//  person's bytes in freed pages, the outbox's included. When the outbox
//  cannot be published or the compaction fails, the message is retried
//  (NACK with a short delay), so the handler must be idempotent.
void zhub_actor_compact_after (zhub_actor_ctx_t *ctx);

//  Publishes one message now, with confirm (no outbox). Returns what
//  zhub_client_publish returns.
zhub_rc_t zhub_actor_publish (zhub_actor_t *self, const zhub_msg_t *msg, char *err,
                              size_t err_size);

//  -------------------------------------------------------------------
//  Forgetting a person (zhub_actor_forget.c)

//  Deletes in txn what the actor keeps about the person forget names
//  (contact.forget, a GDPR erase) and sets *removed to the number of
//  entries deleted. Runs inside a zhub_store_write callback, which the
//  store may run again from scratch (map grown): it must not keep state
//  across runs. Returns ZHUB_OK or ZHUB_ERROR (nothing is committed).
typedef zhub_rc_t (zhub_actor_erase_fn) (zhub_actor_ctx_t *ctx, zhub_txn_t *txn,
                                         const zhub_forget_t *forget, size_t *removed);

//  In one write transaction on ctx->store: erase, then the contact.forgotten
//  answer from actor (zhub_forget_answer with traceparent, may be NULL, and
//  now_ms) into the outbox. Returns ZHUB_OK with *removed set, or
//  ZHUB_ERROR with *removed 0 (nothing deleted, nothing queued).
zhub_rc_t zhub_actor_forget_write (zhub_actor_ctx_t *ctx, const char *actor,
                                   zhub_actor_erase_fn *erase, const zhub_forget_t *forget,
                                   const char *traceparent, int64_t now_ms, size_t *removed);

//  Handles a contact.forget for actor: rejects data zhub_forget_parse
//  refuses (ZHUB_REASON_INVALID_INPUT); otherwise zhub_actor_forget_write
//  (the message's traceparent, now), RETRY when that fails; on success asks
//  for a compaction before the ACK (zhub_actor_compact_after), logs
//  `forgotten id=… request=… removed=N` (never the identifiers) and sets
//  out OK, label "forgotten", note "removed=N". Idempotent: a redelivery
//  removes 0 and queues the same answer, which the broker's dedup drops.
//  Returns the number removed (0 unless out is OK).
size_t zhub_actor_forget (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const char *actor,
                          zhub_actor_erase_fn *erase, zhub_outcome_t *out);

//  The part of an erase outside our stores, for a contact.forget with
//  "upstream" (zhub erase contact --upstream): e.g. the scheduler deletes
//  the person's calendar events. Runs before anything is deleted here, so
//  that a failure (true not returned, *out set: usually a retry) leaves
//  the records it needs to try again. Must be idempotent (a redelivery
//  runs it again): what is already gone outside counts as done.
typedef bool (zhub_actor_upstream_fn) (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                                       const zhub_forget_t *forget, zhub_outcome_t *out);

//  zhub_actor_forget, with upstream run first when the message asks for it.
size_t zhub_actor_forget_upstream (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const char *actor,
                                   zhub_actor_upstream_fn *upstream, zhub_actor_erase_fn *erase,
                                   zhub_outcome_t *out);

#endif
