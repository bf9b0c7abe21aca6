//  The actor loop. One thread, one delivery at a time: an actor's work is
//  dominated by HTTP round trips to rate-limited APIs, so concurrency
//  inside one process would buy little and cost ordering; scale is by more
//  replicas in the same group. The order inside one delivery is fixed and
//  is what makes redelivery harmless:
//
//    handler (API calls, then one LMDB commit of state + outbox)
//      -> publish the outbox with confirm -> ACK or NACK
//
//  A crash before the commit redoes the calls (they are idempotent
//  upserts); a crash after it finds the event still in the outbox.
#include "zhub_actor.h"
#include "zhub_admin.h"
#include "zhub_log.h"
#include "zhub_url.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct zhub_actor_t {
    const zhub_actor_config_t *config;
    const zhub_actor_spec_t *spec;
    zhub_store_t *store;
    zhub_table_t outbox;
    zhub_http_t *http;
    zhub_metrics_t *metrics;
    zhub_admin_t *admin; //  NULL: no admin listener
    zhub_client_t *client;
    zhub_actor_ctx_t ctx;
    int64_t outbox_next_try; //  mono ms: when to try a pending outbox again
    bool compact_after;      //  the handler asked for zhub_actor_compact_after
    bool opened;             //  spec->open succeeded: spec->close is due
    int64_t store_metrics_next; //  mono ms of the next store figures
};

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int sig)
{
    (void)sig;
    s_stop = 1;
}

void
zhub_actor_handle_signals (void)
{
    //  No SA_RESTART: a blocking poll in the bus client must return EINTR
    //  so the loop sees the flag at once.
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
}

bool
zhub_actor_stopping (void)
{
    return s_stop != 0;
}

//  -------------------------------------------------------------------
//  Metrics (the list is in zhub_actor.h)

static void
s_metrics_declare (zhub_metrics_t *m)
{
    zhub_metrics_declare (m, "zhub_actor_messages_total", ZHUB_COUNTER,
                          "Deliveries handled, by route and outcome.", NULL, 0);
    zhub_metrics_declare (m, "zhub_actor_handle_seconds", ZHUB_HISTOGRAM,
                          "Time from a delivery to its answer, by route.",
                          zhub_metrics_latency_buckets, zhub_metrics_latency_bucket_count);
    zhub_metrics_declare (m, "zhub_actor_sync_latency_seconds", ZHUB_HISTOGRAM,
                          "Event time to effect done, for messages handled ok, by route.",
                          zhub_metrics_latency_buckets, zhub_metrics_latency_bucket_count);
    zhub_metrics_declare (m, "zhub_actor_outbox_pending", ZHUB_GAUGE,
                          "Results committed and not yet published.", NULL, 0);
    zhub_metrics_declare (m, "zhub_actor_waiting", ZHUB_GAUGE,
                          "Work held back to be done (queued or deferred writes).", NULL, 0);
    zhub_metrics_declare (m, "zhub_actor_ready", ZHUB_GAUGE,
                          "1 when the actor is ready and joined its group.", NULL, 0);
    zhub_metrics_declare (m, "zhub_actor_http_requests_total", ZHUB_COUNTER,
                          "Outbound HTTP calls, by peer host and status class.", NULL, 0);
    zhub_metrics_declare (m, "zhub_store_used_bytes", ZHUB_GAUGE,
                          "Bytes of the process's LMDB store in use.", NULL, 0);
    zhub_metrics_declare (m, "zhub_store_limit_bytes", ZHUB_GAUGE,
                          "The size the process's LMDB store may grow to.", NULL, 0);
    zhub_metrics_declare (m, "zhub_actor_http_seconds", ZHUB_HISTOGRAM,
                          "Outbound HTTP call duration, by peer host.",
                          zhub_metrics_latency_buckets, zhub_metrics_latency_bucket_count);
    zhub_metrics_declare (m, "zhub_actor_breaker_open", ZHUB_GAUGE,
                          "1 while calls to the peer host are held by its open circuit.", NULL, 0);
    zhub_metrics_declare (m, "zhub_actor_peer_budget_remaining", ZHUB_GAUGE,
                          "Calls left in the peer's rate window, as its last answer said.", NULL,
                          0);
    zhub_metrics_declare (m, "zhub_actor_peer_budget_max", ZHUB_GAUGE,
                          "The size of the peer's rate window, as its last answer said.", NULL, 0);
    zhub_metrics_declare (m, "zhub_actor_peer_last_error_status", ZHUB_GAUGE,
                          "HTTP status of the peer's last failed call (0: no answer).", NULL, 0);
    zhub_metrics_declare (m, "zhub_actor_peer_last_error_seconds", ZHUB_GAUGE,
                          "Unix time of the peer's last failed call.", NULL, 0);
    zhub_metrics_set (m, "zhub_actor_ready", NULL, 0);
    zhub_metrics_set (m, "zhub_actor_outbox_pending", NULL, 0);
    zhub_metrics_set (m, "zhub_actor_waiting", NULL, 0);
}

//  Every call the HTTP client makes: the peer is the URL's host (the
//  configured base URLs: a bounded set).
static void
s_http_observed (const char *url, const zhub_http_response_t *resp, void *arg)
{
    zhub_metrics_t *m = arg;
    zhub_url_t parsed;
    const char *host = url && zhub_url_parse (url, &parsed) == 0 ? parsed.host : "-";
    const char *class = resp->status >= 500   ? "5xx"
                        : resp->status >= 400 ? "4xx"
                        : resp->status >= 300 ? "3xx"
                        : resp->status >= 200 ? "2xx"
                                              : "transport";
    char labels[320] = "";
    zhub_metrics_label (labels, sizeof labels, "peer", host);
    zhub_metrics_observe (m, "zhub_actor_http_seconds", labels, (double)resp->elapsed_ms / 1000.0);
    //  The last failure by peer (not by class: one pair of series per host),
    //  for the console and for whoever reads a dashboard while it happens.
    if (resp->status < 200 || resp->status >= 400) {
        zhub_metrics_set (m, "zhub_actor_peer_last_error_status", labels, (double)resp->status);
        //  whole seconds: the registry writes integral values exactly
        zhub_metrics_set (m, "zhub_actor_peer_last_error_seconds", labels,
                          (double)(zhub_now_ms () / 1000));
    }
    zhub_metrics_label (labels, sizeof labels, "class", class);
    zhub_metrics_count (m, "zhub_actor_http_requests_total", labels, 1);
}

//  What a pacer knows of a host after a call through it: the breaker's
//  state always, the rate budget once the provider has said it.
static void
s_peer_observed (const char *url, const zhub_http_peer_state_t *state, void *arg)
{
    zhub_metrics_t *m = arg;
    zhub_url_t parsed;
    const char *host = url && zhub_url_parse (url, &parsed) == 0 ? parsed.host : "-";
    char labels[320] = "";
    zhub_metrics_label (labels, sizeof labels, "peer", host);
    zhub_metrics_set (m, "zhub_actor_breaker_open", labels, state->circuit_open ? 1 : 0);
    if (state->budget_remaining >= 0)
        zhub_metrics_set (m, "zhub_actor_peer_budget_remaining", labels,
                          (double)state->budget_remaining);
    if (state->budget_max >= 0)
        zhub_metrics_set (m, "zhub_actor_peer_budget_max", labels, (double)state->budget_max);
}

//  The store's use against its ceiling, at most every few seconds.
static void
s_store_metrics (zhub_actor_t *self)
{
    int64_t now = zhub_mono_ms ();
    if (now < self->store_metrics_next)
        return;
    self->store_metrics_next = now + 5000;
    zhub_store_stats_t stats;
    zhub_store_stats (self->store, &stats);
    zhub_metrics_set (self->metrics, "zhub_store_used_bytes", NULL, (double)stats.used_bytes);
    zhub_metrics_set (self->metrics, "zhub_store_limit_bytes", NULL, (double)stats.max_map_size);
}

void
zhub_actor_set_waiting (zhub_actor_ctx_t *ctx, double count)
{
    zhub_metrics_set (ctx->metrics, "zhub_actor_waiting", NULL, count);
}

int
zhub_admin_port_of (zhub_actor_t *self)
{
    return self->admin ? zhub_admin_port (self->admin) : 0;
}

zhub_actor_t *
zhub_actor_new (const zhub_actor_config_t *config, const zhub_actor_spec_t *spec, char *err,
                size_t err_size)
{
    zhub_actor_t *self = zhub_calloc (1, sizeof *self);
    self->config = config;
    self->spec = spec;
    zhub_store_config_t store_config = {.data_dir = config->data_dir,
                                        .process = config->name,
                                        .schema_version = spec->schema_version,
                                        .migrate = spec->migrate,
                                        .migrate_arg = spec->state};
    self->store = zhub_store_open (&store_config, err, err_size);
    if (!self->store)
        goto fail;
    if (zhub_store_table (self->store, "outbox", &self->outbox)) {
        snprintf (err, err_size, "cannot open the outbox table");
        goto fail;
    }
    zhub_http_config_t http_config = {.connect_timeout_ms = config->http_connect_timeout_ms,
                                      .total_timeout_ms = config->http_timeout_ms};
    self->http = zhub_http_new (&http_config);
    if (!self->http) {
        snprintf (err, err_size, "cannot initialise libcurl");
        goto fail;
    }
    self->metrics = zhub_metrics_new ();
    s_metrics_declare (self->metrics);
    zhub_http_observe (self->http, s_http_observed, self->metrics);
    zhub_http_observe_peers (self->http, s_peer_observed, self->metrics);
    if (config->admin_on) {
        char why[200];
        self->admin = zhub_admin_new (&config->admin_listen, self->metrics, why, sizeof why);
        if (!self->admin) {
            snprintf (err, err_size, "ZHUB_ACTOR_ADMIN_LISTEN: %s", why);
            goto fail;
        }
    }
    self->client = zhub_client_new (config->broker, config->name, &config->bus);
    if (self->client)
        zhub_client_set_instance (self->client, config->instance);
    if (!self->client) {
        snprintf (err, err_size, "invalid broker endpoint %s", config->broker);
        goto fail;
    }
    self->ctx = (zhub_actor_ctx_t){.actor = self,
                                   .config = config,
                                   .store = self->store,
                                   .http = self->http,
                                   .metrics = self->metrics,
                                   .state = spec->state};
    if (spec->open && spec->open (&self->ctx)) {
        snprintf (err, err_size, "cannot open the actor's tables");
        goto fail;
    }
    self->opened = true;
    return self;
fail:
    zhub_actor_destroy (&self);
    return NULL;
}

void
zhub_actor_destroy (zhub_actor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_actor_t *self = *self_p;
    zhub_client_destroy (&self->client);
    if (self->opened && self->spec->close)
        self->spec->close (&self->ctx);
    zhub_admin_destroy (&self->admin);
    zhub_http_destroy (&self->http);
    zhub_metrics_destroy (&self->metrics);
    zhub_store_destroy (&self->store);
    free (self);
    *self_p = NULL;
}

zhub_actor_ctx_t *
zhub_actor_ctx (zhub_actor_t *self)
{
    return &self->ctx;
}

//  -------------------------------------------------------------------
//  Outbox: key = big-endian sequence (publish order), value = envelope.

zhub_rc_t
zhub_actor_outbox_put (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_msg_t *msg)
{
    zhub_actor_t *self = ctx->actor;
    uint8_t *buf;
    size_t size;
    char err[128];
    if (zhub_msg_encode (msg, &buf, &size, err, sizeof err))
        return ZHUB_ERROR;
    uint64_t next = 1;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->outbox);
    if (!cursor) {
        free (buf);
        return ZHUB_ERROR;
    }
    const void *key, *value;
    size_t key_size, value_size;
    if (zhub_cursor_last (cursor, &key, &key_size, &value, &value_size) == ZHUB_OK && key_size == 8)
        next = zhub_store_u64 (key) + 1;
    zhub_cursor_destroy (&cursor);
    uint8_t k[8];
    zhub_store_key_u64 (k, next);
    zhub_rc_t rc = zhub_txn_put (txn, self->outbox, k, sizeof k, buf, size);
    free (buf);
    return rc;
}

typedef struct {
    zhub_table_t table;
    uint64_t keys[ZHUB_ACTOR_OUTBOX_BATCH];
    zhub_msg_t *msgs[ZHUB_ACTOR_OUTBOX_BATCH];
    size_t count;
    size_t total;
} s_outbox_batch_t;

static zhub_walk_t
s_outbox_take (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_outbox_batch_t *batch = arg;
    if (batch->count >= ZHUB_ACTOR_OUTBOX_BATCH)
        return ZHUB_WALK_STOP;
    char err[128], quoted[160];
    //  An entry is an envelope the actor put there to publish: read back
    //  within the limits of anything stored, so whatever a broker may take
    //  (up to ZHUB_MSG_MAX_SIZE) decodes.
    zhub_msg_t *msg = zhub_msg_decode (value, value_size, &zhub_msg_stored_limits, err, sizeof err);
    if (!msg)
        zhub_error ("outbox_undecodable", "size=%zu reason=%s", value_size,
                    zhub_log_quote (err, quoted, sizeof quoted));
    if (key_size == 8) {
        //  An undecodable entry (cannot happen unless the disk lies) is
        //  kept as NULL so that it gets removed instead of blocking.
        batch->keys[batch->count] = zhub_store_u64 (key);
        batch->msgs[batch->count++] = msg;
    } else
        zhub_msg_destroy (&msg);
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_outbox_read (zhub_txn_t *txn, void *arg)
{
    s_outbox_batch_t *batch = arg;
    batch->total = zhub_txn_count (txn, batch->table);
    return zhub_txn_walk (txn, batch->table, s_outbox_take, batch);
}

typedef struct {
    zhub_table_t table;
    const uint64_t *keys;
    size_t count;
} s_outbox_done_t;

static zhub_rc_t
s_outbox_delete (zhub_txn_t *txn, void *arg)
{
    s_outbox_done_t *done = arg;
    for (size_t i = 0; i < done->count; i++) {
        uint8_t k[8];
        zhub_store_key_u64 (k, done->keys[i]);
        if (zhub_txn_del (txn, done->table, k, sizeof k) == ZHUB_ERROR)
            return ZHUB_ERROR;
    }
    return ZHUB_OK;
}

int
zhub_actor_outbox_flush (zhub_actor_t *self)
{
    s_outbox_batch_t batch = {.table = self->outbox};
    if (zhub_store_read (self->store, s_outbox_read, &batch) != ZHUB_OK) {
        for (size_t i = 0; i < batch.count; i++)
            zhub_msg_destroy (&batch.msgs[i]);
        return -1;
    }
    //  Pipelined: the broker commits the whole batch in one transaction
    //  instead of one round trip per message. Entries go from the outbox up
    //  to the first one not confirmed; what follows it is published again
    //  later (same ids: the broker's dedup drops what it already has), so
    //  the order of the outbox is kept.
    zhub_msg_t *sendable[ZHUB_ACTOR_OUTBOX_BATCH];
    zhub_rc_t results[ZHUB_ACTOR_OUTBOX_BATCH];
    size_t slot[ZHUB_ACTOR_OUTBOX_BATCH], count = 0;
    for (size_t i = 0; i < batch.count; i++)
        if (batch.msgs[i]) {
            slot[count] = i;
            sendable[count++] = batch.msgs[i];
        }
    if (count)
        zhub_client_publish_many (self->client, sendable, count, ZHUB_ACTOR_PUBLISH_TIMEOUT_MS,
                                  results);
    size_t published = batch.count;
    for (size_t k = 0; k < count; k++) {
        zhub_msg_t *msg = sendable[k];
        char quoted[160];
        if (results[k] == ZHUB_RETRY) {
            zhub_warn ("publish_pending", "id=%s topic=%s", msg->id, msg->type);
            published = slot[k];
            break;
        }
        if (results[k] == ZHUB_REJECT)
            //  The broker will never take it; keeping it would block the
            //  outbox for good. Say so loudly and drop it.
            zhub_error ("publish_rejected", "id=%s topic=%s reason=%s", msg->id, msg->type,
                        zhub_log_quote ("refused by the broker", quoted, sizeof quoted));
        else
            zhub_debug ("published", "id=%s topic=%s", msg->id, msg->type);
    }
    s_outbox_done_t done = {.table = self->outbox, .keys = batch.keys, .count = published};
    int failed = published ? zhub_store_write (self->store, s_outbox_delete, &done) != ZHUB_OK : 0;
    for (size_t i = 0; i < batch.count; i++)
        zhub_msg_destroy (&batch.msgs[i]);
    if (failed)
        return -1;
    return (int)(batch.total - published);
}

zhub_rc_t
zhub_actor_publish (zhub_actor_t *self, const zhub_msg_t *msg, char *err, size_t err_size)
{
    return zhub_client_publish (self->client, msg, ZHUB_ACTOR_PUBLISH_TIMEOUT_MS, NULL, err,
                                err_size);
}

//  -------------------------------------------------------------------
//  The loop

static const zhub_actor_route_t *
s_route (const zhub_actor_spec_t *spec, const char *topic)
{
    for (size_t i = 0; i < spec->route_count; i++)
        if (zhub_topic_match (spec->routes[i].pattern, topic))
            return &spec->routes[i];
    return NULL;
}

static void
s_outbox_round (zhub_actor_t *self)
{
    if (zhub_mono_ms () < self->outbox_next_try)
        return;
    int pending = zhub_actor_outbox_flush (self);
    if (pending >= 0)
        zhub_metrics_set (self->metrics, "zhub_actor_outbox_pending", NULL, pending);
    //  Nothing pending: look again after the next handled message only.
    //  Pending: the broker is slow or away; try again in a second.
    self->outbox_next_try = pending ? zhub_mono_ms () + 1000 : 0;
}

void
zhub_actor_compact_after (zhub_actor_ctx_t *ctx)
{
    ctx->actor->compact_after = true;
}

//  After an erase: publish the outbox, then rewrite the store without the
//  freed pages. Returns 0, or -1 when either could not be done now.
static int
s_compact (zhub_actor_t *self)
{
    self->compact_after = false;
    if (zhub_actor_outbox_flush (self) != 0) {
        zhub_warn ("compact_deferred", "note=\"the outbox is not published yet\"");
        return -1;
    }
    zhub_store_stats_t before, after;
    zhub_store_stats (self->store, &before);
    char err[300];
    if (zhub_store_compact (self->store, err, sizeof err)) {
        zhub_error ("compact_failed", "reason=%s", zhub_log_quote (err, (char[320]){0}, 320));
        return -1;
    }
    zhub_store_stats (self->store, &after);
    zhub_info ("compacted", "used_before=%zu used_after=%zu", before.used_bytes, after.used_bytes);
    return 0;
}

//  Runs the handler of one delivery; says how it went in out.
static void
s_run_handler (zhub_actor_t *self, zhub_delivery_t *delivery, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = delivery->msg;
    const zhub_actor_route_t *route = s_route (self->spec, msg->type);
    zhub_actor_handler_fn *handler = route ? route->handler : NULL;
    if (!handler)
        zhub_outcome_ok (out, "ignored");
    else if (zhub_msg_is_erased (msg))
        //  redacted by an erase before we got to it (a retry, a replay):
        //  the person is gone, and nothing is left to act on
        zhub_outcome_ok (out, "erased");
    else {
        //  decoded once, here, for the handler and all it calls
        json_t *data = zhub_msg_data_json (msg);
        zhub_actor_event_t event = {.msg = msg, .data = data, .attempt = delivery->attempt};
        zhub_outcome_ok (out, "ok");
        self->ctx.delivery = delivery;
        handler (&self->ctx, &event, out);
        self->ctx.delivery = NULL;
        json_decref (data);
    }
}

//  ACK or NACK as the outcome says, and the message's log line.
static void
s_answer (zhub_actor_t *self, const zhub_delivery_t *delivery, zhub_outcome_t *out, int64_t started)
{
    const zhub_msg_t *msg = delivery->msg;
    int sent;
    if (out->rc == ZHUB_OK)
        sent = zhub_client_ack (self->client, delivery);
    else if (out->rc == ZHUB_RETRY && out->defer)
        sent = zhub_client_defer (self->client, delivery, out->delay_ms, out->code, out->reason);
    else if (out->rc == ZHUB_RETRY)
        sent =
            zhub_client_nack (self->client, delivery, out->delay_ms, false, out->code, out->reason);
    else
        sent = zhub_client_nack (self->client, delivery, -1, true, out->code, out->reason);

    char reason[300];
    long long ms = (long long)(zhub_mono_ms () - started);
    const char *label = out->outcome ? out->outcome : zhub_rc_name (out->rc);
    if (out->rc == ZHUB_OK)
        zhub_info ("handled", "id=%s topic=%s subject=%s attempt=%u outcome=%s ms=%lld note=%s",
                   msg->id, msg->type, msg->subject ? msg->subject : "", delivery->attempt, label,
                   ms, zhub_log_quote (out->reason, reason, sizeof reason));
    else
        zhub_log (out->rc == ZHUB_RETRY ? ZHUB_LOG_WARN : ZHUB_LOG_ERROR, "handled",
                  "id=%s topic=%s subject=%s attempt=%u outcome=%s ms=%lld delay_ms=%lld "
                  "code=%u reason=%s",
                  msg->id, msg->type, msg->subject ? msg->subject : "", delivery->attempt,
                  out->rc != ZHUB_RETRY ? "rejected"
                  : out->defer          ? "deferred"
                                        : "retry",
                  ms, (long long)out->delay_ms, out->code,
                  zhub_log_quote (out->reason, reason, sizeof reason));
    if (sent)
        zhub_warn ("ack_unsent", "id=%s note=\"the broker will redeliver after the deadline\"",
                   msg->id);
    //  by route (the pattern: a bounded set), never by topic or id
    const zhub_actor_route_t *route = s_route (self->spec, msg->type);
    char labels[320] = "";
    zhub_metrics_label (labels, sizeof labels, "route", route ? route->pattern : "-");
    zhub_metrics_observe (self->metrics, "zhub_actor_handle_seconds", labels, (double)ms / 1000.0);
    if (out->rc == ZHUB_OK && msg->time_ms > 0) {
        double lag = (double)(zhub_now_ms () - msg->time_ms) / 1000.0;
        zhub_metrics_observe (self->metrics, "zhub_actor_sync_latency_seconds", labels,
                              lag > 0 ? lag : 0);
    }
    zhub_metrics_label (labels, sizeof labels, "outcome",
                        out->rc == ZHUB_OK      ? "ok"
                        : out->rc != ZHUB_RETRY ? "rejected"
                        : out->defer            ? "deferred"
                                                : "retry");
    zhub_metrics_count (self->metrics, "zhub_actor_messages_total", labels, 1);
}

typedef struct {
    zhub_delivery_t *delivery;
    zhub_outcome_t out;
    int64_t started;
} s_handled_t;

//  Handles first and, in a store batch, the deliveries already waiting
//  behind it (up to spec->batch_max, for ZHUB_ACTOR_BATCH_MS); then
//  commits once, publishes the outbox, compacts when asked, and answers
//  every message. Nothing is acked before its effects are durable.
static void
s_handle (zhub_actor_t *self, zhub_delivery_t *first)
{
    uint32_t max = self->spec->batch_max > 1 ? self->spec->batch_max : 1;
    s_handled_t *handled = zhub_calloc (max, sizeof *handled);
    bool batched = max > 1 && zhub_store_batch_begin (self->store) == 0;
    int64_t began = zhub_mono_ms ();
    size_t count = 0;
    zhub_delivery_t *delivery = first;
    while (delivery) {
        handled[count].delivery = delivery;
        handled[count].started = zhub_mono_ms ();
        s_run_handler (self, delivery, &handled[count].out);
        count++;
        //  an erase compacts the store: that needs the batch committed
        if (!batched || count == max || self->compact_after || s_stop
            || zhub_mono_ms () - began >= ZHUB_ACTOR_BATCH_MS)
            break;
        delivery = NULL;
        if (zhub_client_recv (self->client, &delivery, 0) != ZHUB_OK)
            delivery = NULL;
    }
    zhub_debug ("batch", "messages=%zu", count);
    if (batched && zhub_store_batch_commit (self->store) != ZHUB_OK) {
        zhub_error ("batch_commit_failed", "messages=%zu", count);
        for (size_t i = 0; i < count; i++)
            zhub_outcome_retry (&handled[i].out, 1000, ZHUB_REASON_INTERNAL,
                                "the store could not commit");
    }
    //  Results committed by the handlers go out before the ACKs.
    self->outbox_next_try = 0;
    s_outbox_round (self);
    zhub_outcome_t *last = &handled[count - 1].out;
    if (self->compact_after && s_compact (self) && last->rc == ZHUB_OK)
        zhub_outcome_retry (last, 1000, ZHUB_REASON_INTERNAL, "store not compacted yet");
    for (size_t i = 0; i < count; i++) {
        s_answer (self, handled[i].delivery, &handled[i].out, handled[i].started);
        if (handled[i].delivery != first)
            zhub_delivery_destroy (&handled[i].delivery);
    }
    free (handled);
}

//  Until spec->ready passes (or a stop is asked for): nothing is consumed
//  meanwhile. The reason is logged when it first appears or changes.
static void
s_wait_ready (zhub_actor_t *self)
{
    char why[300] = "", said[300] = "", quoted[320];
    while (!s_stop) {
        *why = 0;
        if (self->admin)
            zhub_admin_beat (self->admin, zhub_mono_ms ());
        if (self->spec->ready (&self->ctx, why, sizeof why)) {
            if (*said)
                zhub_info ("ready_check_passed", "group=%s", self->config->name);
            return;
        }
        if (self->admin)
            zhub_admin_ready (self->admin, false, *why ? why : "not ready");
        if (strcmp (why, said)) {
            zhub_warn ("not_ready", "group=%s retry_ms=%lld reason=%s", self->config->name,
                       (long long)self->config->ready_retry_ms,
                       zhub_log_quote (*why ? why : "not ready", quoted, sizeof quoted));
            snprintf (said, sizeof said, "%s", *why ? why : "not ready");
        }
        int64_t until = zhub_mono_ms () + self->config->ready_retry_ms;
        while (!s_stop && zhub_mono_ms () < until) {
            struct timespec pause = {.tv_nsec = 50 * 1000 * 1000};
            nanosleep (&pause, NULL);
        }
    }
}

int
zhub_actor_run (zhub_actor_t *self)
{
    const zhub_actor_config_t *config = self->config;
    const char *topics[ZHUB_FRAME_MAX_TOPICS];
    size_t topic_count = 0;
    for (size_t i = 0; i < self->spec->route_count && topic_count < ZHUB_FRAME_MAX_TOPICS; i++)
        topics[topic_count++] = self->spec->routes[i].pattern;
    zhub_join_t join = {.group = config->name,
                        .topics = topics,
                        .topic_count = topic_count,
                        .credit = config->credit,
                        .max_deliveries = config->max_deliveries,
                        .ack_deadline_ms = config->ack_deadline_ms,
                        .backoff_ms = config->backoff_ms,
                        .backoff_count = config->backoff_count};
    if (self->admin)
        zhub_admin_ready (self->admin, false, "joining the group");
    if (self->spec->ready)
        s_wait_ready (self);
    if (self->admin)
        zhub_admin_ready (self->admin, false, "joining the group");
    bool announced_wait = false;
    while (!s_stop) {
        if (self->admin)
            zhub_admin_beat (self->admin, zhub_mono_ms ());
        zhub_rc_t rc = zhub_client_join (self->client, &join, ZHUB_ACTOR_JOIN_TIMEOUT_MS);
        if (rc == ZHUB_OK)
            break;
        if (rc == ZHUB_REJECT) {
            zhub_error ("join_refused", "group=%s broker=%s", config->name, config->broker);
            return -1;
        }
        if (!announced_wait)
            zhub_warn ("join_waiting", "group=%s broker=%s", config->name, config->broker);
        announced_wait = true;
    }
    if (s_stop)
        return 0;
    zhub_info ("ready", "group=%s topics=%zu broker=%s", config->name, topic_count, config->broker);
    if (self->admin)
        zhub_admin_ready (self->admin, true, NULL);
    zhub_metrics_set (self->metrics, "zhub_actor_ready", NULL, 1);

    s_outbox_round (self);
    while (!s_stop) {
        zhub_delivery_t *delivery = NULL;
        int timeout = ZHUB_ACTOR_RECV_TIMEOUT_MS;
        if (self->ctx.tick_due_ms) {
            int64_t until = self->ctx.tick_due_ms - zhub_mono_ms ();
            timeout = until <= 0 ? 0 : until < timeout ? (int)until : timeout;
        }
        if (self->admin)
            zhub_admin_beat (self->admin, zhub_mono_ms ());
        s_store_metrics (self);
        zhub_rc_t rc = zhub_client_recv (self->client, &delivery, timeout);
        self->ctx.idle = !(rc == ZHUB_OK && delivery);
        if (rc == ZHUB_OK && delivery) {
            s_handle (self, delivery);
            zhub_delivery_destroy (&delivery);
        } else if (rc == ZHUB_ERROR && !s_stop) {
            //  A socket fault: the client reconnects by itself; do not spin.
            zhub_debug ("recv_error", "errno=%d", errno);
            struct timespec pause = {.tv_nsec = 100 * 1000 * 1000};
            nanosleep (&pause, NULL);
        }
        if (self->spec->tick && !s_stop) {
            self->ctx.tick_due_ms = 0;
            self->spec->tick (&self->ctx);
            if (!self->outbox_next_try)
                self->outbox_next_try = 1; //  publish what the tick queued
        }
        if (self->outbox_next_try)
            s_outbox_round (self);
    }
    zhub_info ("stopping", "group=%s", config->name);
    if (self->admin)
        zhub_admin_ready (self->admin, false, "stopping");
    zhub_metrics_set (self->metrics, "zhub_actor_ready", NULL, 0);
    return 0;
}
