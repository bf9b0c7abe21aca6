//  zhub-dead-letter's I/O (see dead_letter_io.h). Each handler does one
//  write transaction; a replay is written into the actor's outbox in the
//  same transaction that records it, so "recorded as replayed" and
//  "published" cannot come apart in a crash. Commands carry their own id,
//  and a letter remembers the last command applied to it, so a command
//  redelivered after a crash is not applied twice.
//
//  The figures go into the runtime's metrics registry, served on the
//  actor's admin listener (ZHUB_ACTOR_ADMIN_LISTEN) like every actor's.
//  One small thread runs beside the actor loop and sends alerts (it owns
//  its own zhub_http client; one curl handle per thread); it shares the
//  alert state with the loop under lock.
#include "dead_letter_io.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  -------------------------------------------------------------------
//  Configuration

int
dead_letter_config_load (dead_letter_actor_t *self, char *err, size_t err_size)
{
    const char *url = zhub_env_str ("ZHUB_ALERT_WEBHOOK_URL", "");
    if (*url && strncmp (url, "http://", 7) && strncmp (url, "https://", 8)) {
        snprintf (err, err_size, "ZHUB_ALERT_WEBHOOK_URL must be an http(s) URL");
        return -1;
    }
    if (zhub_env_duration_ms ("ZHUB_ALERT_BURST", DEAD_LETTER_ALERT_BURST_MS,
                              &self->alert_burst_ms)) {
        snprintf (err, err_size, "ZHUB_ALERT_BURST must be a duration such as 10s");
        return -1;
    }
    if (zhub_env_duration_ms ("ZHUB_ALERT_INTERVAL", DEAD_LETTER_ALERT_INTERVAL_MS,
                              &self->alert_interval_ms)) {
        snprintf (err, err_size, "ZHUB_ALERT_INTERVAL must be a duration such as 5m");
        return -1;
    }
    self->webhook_url = *url ? zhub_strdup (url) : NULL;
    pthread_mutex_init (&self->lock, NULL);
    dead_letter_alert_init (&self->alert, self->alert_burst_ms, self->alert_interval_ms);
    return 0;
}

void
dead_letter_config_log (const dead_letter_actor_t *self)
{
    char masked[64];
    zhub_info ("config", "alert_webhook=%s alert_burst_ms=%lld alert_interval_ms=%lld",
               zhub_env_mask (self->webhook_url, masked, sizeof masked),
               (long long)self->alert_burst_ms, (long long)self->alert_interval_ms);
}

//  -------------------------------------------------------------------
//  Metrics (the runtime's registry; docs/operations.md lists them)

static void
s_metrics_declare (zhub_metrics_t *m)
{
    zhub_metrics_declare (m, "zhub_dead_letters_total", ZHUB_COUNTER,
                          "Dead letters kept since the process started, by the group that gave up.",
                          NULL, 0);
    zhub_metrics_declare (m, "zhub_dead_letters_stored", ZHUB_GAUGE,
                          "Dead letters in the store now.", NULL, 0);
    zhub_metrics_declare (m, "zhub_dead_letter_replays_total", ZHUB_COUNTER,
                          "Dead letters replayed by an operator's command.", NULL, 0);
    zhub_metrics_declare (m, "zhub_dead_letter_edits_total", ZHUB_COUNTER,
                          "Dead letters edited by an operator's command.", NULL, 0);
    zhub_metrics_declare (m, "zhub_dead_letter_purged_total", ZHUB_COUNTER,
                          "Dead letters purged by an operator's command.", NULL, 0);
    zhub_metrics_declare (m, "zhub_dead_letter_forgotten_total", ZHUB_COUNTER,
                          "Dead letters deleted by contact.forget (GDPR erase).", NULL, 0);
    zhub_metrics_declare (m, "zhub_dead_letter_alerts_sent_total", ZHUB_COUNTER,
                          "Alert webhook posts answered 2xx.", NULL, 0);
    zhub_metrics_declare (m, "zhub_dead_letter_alerts_failed_total", ZHUB_COUNTER,
                          "Alert webhook posts that failed (retried after the interval).", NULL, 0);
    //  the unlabelled counters from the start, so a rate has a first point
    static const char *const zero[] = {
        "zhub_dead_letter_replays_total",     "zhub_dead_letter_edits_total",
        "zhub_dead_letter_purged_total",      "zhub_dead_letter_forgotten_total",
        "zhub_dead_letter_alerts_sent_total", "zhub_dead_letter_alerts_failed_total"};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        zhub_metrics_touch (m, zero[i], "");
}

//  zhub_dead_letters_stored from the store, after every change to it.
static void
s_stored (dead_letter_actor_t *self)
{
    zhub_metrics_set (self->metrics, "zhub_dead_letters_stored", "",
                      (double)dead_letter_store_count (self->letters));
}

int
dead_letter_open (zhub_actor_ctx_t *ctx)
{
    dead_letter_actor_t *self = ctx->state;
    char err[128];
    self->letters = dead_letter_store_new (ctx->store, err, sizeof err);
    if (!self->letters) {
        zhub_error ("store_failed", "reason=\"%s\"", err);
        return -1;
    }
    self->metrics = ctx->metrics;
    s_metrics_declare (self->metrics);
    s_stored (self);
    return 0;
}

void
dead_letter_close (zhub_actor_ctx_t *ctx)
{
    dead_letter_actor_t *self = ctx->state;
    dead_letter_store_destroy (&self->letters);
}

//  -------------------------------------------------------------------
//  Keeping a dead letter

void
dead_letter_handle_dlq (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    dead_letter_actor_t *self = ctx->state;
    dead_letter_t dl;
    char err[256];
    if (dead_letter_from_msg (msg, zhub_now_ms (), &dl, err, sizeof err) != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "not a dead letter: %s", err);
        return;
    }
    bool added;
    if (dead_letter_store_keep (self->letters, &dl, &added) != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot store the dead letter");
        dead_letter_clear (&dl);
        return;
    }
    if (added) {
        char labels[ZHUB_METRICS_MAX_LABELS] = "";
        zhub_metrics_label (labels, sizeof labels, "group", dl.group);
        zhub_metrics_count (self->metrics, "zhub_dead_letters_total", labels, 1);
        s_stored (self);
        if (self->webhook_url) {
            pthread_mutex_lock (&self->lock);
            dead_letter_alert_note (&self->alert, dl.group, zhub_now_ms ());
            pthread_mutex_unlock (&self->lock);
        }
        char reason[300];
        zhub_warn ("dead_letter",
                   "seq=%llu group=%s topic=%s original_id=%s cause=%s "
                   "reason_code=%u reason=%s",
                   (unsigned long long)dl.seq, dl.group, dl.topic, dl.original_id, dl.cause,
                   dl.reason_code, zhub_log_quote (dl.reason, reason, sizeof reason));
    }
    zhub_outcome_ok (out, added ? "stored" : "duplicate");
    dead_letter_clear (&dl);
}

//  -------------------------------------------------------------------
//  Operator commands

//  dead_letter_outbox_fn over the actor's outbox (arg: the context).
static zhub_rc_t
s_outbox (zhub_txn_t *txn, const zhub_msg_t *msg, void *arg)
{
    return zhub_actor_outbox_put (arg, txn, msg);
}

//  dead_letter_change_fn of each command (arg: the command).
static bool
s_replay (dead_letter_t *dl, zhub_msg_t **publish, void *arg)
{
    return dead_letter_command_replay (dl, arg, publish);
}

static bool
s_edit (dead_letter_t *dl, zhub_msg_t **publish, void *arg)
{
    (void)publish;
    return dead_letter_command_edit (dl, arg);
}

//  Logs what a command did (letter 0 for a purge) and counts it.
static void
s_done (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, uint64_t letter,
        const dead_letter_command_t *cmd, uint64_t purged, zhub_outcome_t *out)
{
    dead_letter_actor_t *self = ctx->state;
    char quoted[300];
    zhub_info ("dead_letter_command",
               "command_id=%s type=%s letter=%llu result=%s generation=%u "
               "purged=%llu detail=%s",
               msg->id, msg->type, (unsigned long long)letter, cmd->result, cmd->generation,
               (unsigned long long)purged, zhub_log_quote (cmd->err, quoted, sizeof quoted));
    if (!strcmp (cmd->result, "replayed"))
        zhub_metrics_count (self->metrics, "zhub_dead_letter_replays_total", "", 1);
    else if (!strcmp (cmd->result, "edited"))
        zhub_metrics_count (self->metrics, "zhub_dead_letter_edits_total", "", 1);
    if (purged) {
        zhub_metrics_count (self->metrics, "zhub_dead_letter_purged_total", "", (double)purged);
        s_stored (self);
    }
    zhub_outcome_ok (out, cmd->result);
}

//  Applies the change fn to the letter in one transaction (with the
//  replay queued in the outbox), then logs it.
static void
s_change (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, uint64_t letter, dead_letter_change_fn *fn,
          dead_letter_command_t *cmd, zhub_outcome_t *out)
{
    dead_letter_actor_t *self = ctx->state;
    zhub_rc_t rc = dead_letter_store_change (self->letters, letter, fn, cmd, s_outbox, ctx);
    if (rc == ZHUB_NOTFOUND)
        cmd->result = "not_found";
    else if (rc != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot apply the command");
        return;
    }
    s_done (ctx, msg, letter, cmd, 0, out);
}

//  The letter a replay or an edit names: data.letter, a number >= 0.
static bool
s_letter (const json_t *data, uint64_t *letter)
{
    const json_t *value = json_object_get (data, "letter");
    if (!json_is_integer (value) || json_integer_value (value) < 0)
        return false;
    *letter = (uint64_t)json_integer_value (value);
    return true;
}

void
dead_letter_handle_replay (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    uint64_t letter;
    if (!s_letter (ev->data, &letter)) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "no letter: %s", ev->msg->type);
        return;
    }
    dead_letter_command_t cmd = {.id = ev->msg->id,
                                 .again = json_is_true (json_object_get (ev->data, "again")),
                                 .now_ms = zhub_now_ms ()};
    s_change (ctx, ev->msg, letter, s_replay, &cmd, out);
}

void
dead_letter_handle_edit (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    //  The edited message travels as bytes, which have no JSON form (the
    //  runtime's ev->data is NULL): read the data as msgpack.
    const zhub_msg_t *msg = ev->msg;
    msgpack_unpacked result;
    char err[128];
    if (zhub_mpack_decode (msg->data, msg->data_size, NULL, &result, err, sizeof err)) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "command data: %s", err);
        return;
    }
    uint64_t letter;
    if (zhub_mpack_uint (zhub_mpack_get (&result.data, "letter"), &letter)) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "no letter: %s", msg->type);
        msgpack_unpacked_destroy (&result);
        return;
    }
    const msgpack_object *message = zhub_mpack_get (&result.data, "message");
    dead_letter_command_t cmd = {.id = msg->id, .now_ms = zhub_now_ms ()};
    if (!message || message->type != MSGPACK_OBJECT_BIN
        || zhub_mpack_uint (zhub_mpack_get (&result.data, "revision"), &cmd.revision)) {
        //  acked: a command the CLI never sends, said in the log
        cmd.result = "invalid";
        snprintf (cmd.err, sizeof cmd.err, "edit needs revision and message (bin)");
        s_done (ctx, msg, letter, &cmd, 0, out);
    } else {
        cmd.message = (const uint8_t *)message->via.bin.ptr;
        cmd.message_size = message->via.bin.size;
        s_change (ctx, msg, letter, s_edit, &cmd, out);
    }
    msgpack_unpacked_destroy (&result);
}

void
dead_letter_handle_purge (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    dead_letter_actor_t *self = ctx->state;
    if (!ev->data) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "command data: not a map");
        return;
    }
    dead_letter_command_t cmd = {.id = ev->msg->id, .result = "purged"};
    const json_t *letters = json_object_get (ev->data, "letters");
    if (!json_is_array (letters)) {
        cmd.result = "invalid";
        snprintf (cmd.err, sizeof cmd.err, "purge needs letters (array)");
        s_done (ctx, ev->msg, 0, &cmd, 0, out);
        return;
    }
    //  the numbers; anything else in the list is skipped
    uint64_t *seqs = zhub_calloc (json_array_size (letters) + 1, sizeof *seqs);
    size_t count = 0, i;
    const json_t *item;
    json_array_foreach (letters, i, item)
    {
        if (json_is_integer (item) && json_integer_value (item) >= 0)
            seqs[count++] = (uint64_t)json_integer_value (item);
    }
    uint64_t purged;
    if (dead_letter_store_purge (self->letters, seqs, count, &purged) != ZHUB_OK)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot apply the command");
    else
        s_done (ctx, ev->msg, 0, &cmd, purged, out);
    free (seqs);
}

//  -------------------------------------------------------------------
//  Forgetting a person (contact.forget)

//  dead_letter_store_forget as the runtime's erase step.
static zhub_rc_t
s_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *f, size_t *removed)
{
    dead_letter_actor_t *self = ctx->state;
    return dead_letter_store_forget (self->letters, txn, f, removed);
}

void
dead_letter_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    dead_letter_actor_t *self = ctx->state;
    size_t removed = zhub_actor_forget (ctx, msg, DEAD_LETTER_GROUP, s_erase, out);
    if (removed) {
        zhub_metrics_count (self->metrics, "zhub_dead_letter_forgotten_total", "", (double)removed);
        s_stored (self);
    }
}

//  -------------------------------------------------------------------
//  Alerts

static bool
s_post_alert (zhub_http_t *http, const char *url, const char *text)
{
    json_t *body = json_pack ("{s:s}", "text", text);
    zhub_http_call_t call = {.method = "POST", .url = url, .body = body};
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    int rc = zhub_http_request (http, &call, &resp);
    bool ok = rc == 0 && resp.status >= 200 && resp.status < 300;
    if (!ok)
        zhub_warn ("alert_failed", "status=%ld transport_error=%d", resp.status,
                   resp.transport_error);
    else
        zhub_info ("alert_sent", "status=%ld", resp.status);
    zhub_http_response_reset (&resp);
    json_decref (body);
    return ok;
}

static void *
s_alert_loop (void *arg)
{
    dead_letter_actor_t *self = arg;
    zhub_http_config_t config = {.total_timeout_ms = DEAD_LETTER_ALERT_TIMEOUT_MS,
                                 .connect_timeout_ms = DEAD_LETTER_ALERT_TIMEOUT_MS};
    zhub_http_t *http = zhub_http_new (&config);
    while (!self->stop && http) {
        char *text = NULL;
        pthread_mutex_lock (&self->lock);
        if (dead_letter_alert_due (&self->alert, zhub_now_ms ()))
            text = dead_letter_alert_text (&self->alert);
        pthread_mutex_unlock (&self->lock);
        if (text) {
            bool ok = s_post_alert (http, self->webhook_url, text);
            pthread_mutex_lock (&self->lock);
            dead_letter_alert_sent (&self->alert, ok, zhub_now_ms ());
            pthread_mutex_unlock (&self->lock);
            zhub_metrics_count (self->metrics,
                                ok ? "zhub_dead_letter_alerts_sent_total"
                                   : "zhub_dead_letter_alerts_failed_total",
                                "", 1);
            free (text);
        }
        usleep (50 * 1000);
    }
    zhub_http_destroy (&http);
    return NULL;
}

int
dead_letter_services_start (dead_letter_actor_t *self, char *err, size_t err_size)
{
    if (self->webhook_url) {
        if (pthread_create (&self->alert_thread, NULL, s_alert_loop, self)) {
            snprintf (err, err_size, "cannot start the alert thread");
            return -1;
        }
        self->alert_running = true;
    }
    return 0;
}

void
dead_letter_services_stop (dead_letter_actor_t *self)
{
    self->stop = true;
    if (self->alert_running) {
        pthread_join (self->alert_thread, NULL);
        self->alert_running = false;
    }
    free (self->webhook_url);
    self->webhook_url = NULL;
}
