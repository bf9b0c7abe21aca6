//  zhub-dead-letter's I/O (see dead_letter_io.h). Each handler does one
//  write transaction; a replay is written into the actor's outbox in the
//  same transaction that records it, so "recorded as replayed" and
//  "published" cannot come apart in a crash. Commands carry their own id,
//  and a letter remembers the last command applied to it, so a command
//  redelivered after a crash is not applied twice.
//
//  Two small threads run beside the actor loop: libmicrohttpd's for
//  /metrics and one that sends alerts (it owns its own zhub_http client;
//  one curl handle per thread). They share only the counters, under lock.
#include "dead_letter_io.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
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
    const char *listen = zhub_env_str ("ZHUB_DEAD_LETTER_METRICS_LISTEN", "");
    self->webhook_url = *url ? zhub_strdup (url) : NULL;
    self->metrics_listen = *listen ? zhub_strdup (listen) : NULL;
    pthread_mutex_init (&self->lock, NULL);
    dead_letter_alert_init (&self->alert, self->alert_burst_ms, self->alert_interval_ms);
    return 0;
}

void
dead_letter_config_log (const dead_letter_actor_t *self)
{
    char masked[64];
    zhub_info ("config",
               "alert_webhook=%s alert_burst_ms=%lld alert_interval_ms=%lld "
               "metrics_listen=%s",
               zhub_env_mask (self->webhook_url, masked, sizeof masked),
               (long long)self->alert_burst_ms, (long long)self->alert_interval_ms,
               self->metrics_listen ? self->metrics_listen : "off");
}

int
dead_letter_open (zhub_actor_ctx_t *ctx)
{
    dead_letter_actor_t *self = ctx->state;
    char err[128];
    self->letters = dead_letter_store_new (ctx->store, err, sizeof err);
    if (!self->letters)
        zhub_error ("store_failed", "reason=\"%s\"", err);
    return self->letters ? 0 : -1;
}

void
dead_letter_close (zhub_actor_ctx_t *ctx)
{
    dead_letter_actor_t *self = ctx->state;
    dead_letter_store_destroy (&self->letters);
}

//  -------------------------------------------------------------------
//  Keeping a dead letter

static void
s_count_group (dead_letter_actor_t *self, const char *group)
{
    for (size_t i = 0; i < self->group_count; i++)
        if (!strcmp (self->groups[i].name, group)) {
            self->groups[i].count++;
            return;
        }
    if (self->group_count < DEAD_LETTER_METRIC_GROUPS) {
        snprintf (self->groups[self->group_count].name, sizeof self->groups[0].name, "%s", group);
        self->groups[self->group_count++].count = 1;
    } else
        self->other_groups++;
}

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
        pthread_mutex_lock (&self->lock);
        s_count_group (self, dl.group);
        if (self->webhook_url)
            dead_letter_alert_note (&self->alert, dl.group, zhub_now_ms ());
        pthread_mutex_unlock (&self->lock);
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
    pthread_mutex_lock (&self->lock);
    if (!strcmp (cmd->result, "replayed"))
        self->replays++;
    else if (!strcmp (cmd->result, "edited"))
        self->edits++;
    self->purged += purged;
    pthread_mutex_unlock (&self->lock);
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
    pthread_mutex_lock (&self->lock);
    self->forgotten += removed;
    pthread_mutex_unlock (&self->lock);
}

//  -------------------------------------------------------------------
//  Metrics

char *
dead_letter_metrics_text (dead_letter_actor_t *self)
{
    size_t stored = dead_letter_store_count (self->letters);
    size_t size = 1536 + (size_t)DEAD_LETTER_METRIC_GROUPS * 200, used = 0;
    char *text = zhub_malloc (size);
    pthread_mutex_lock (&self->lock);
    used += (size_t)snprintf (text + used, size - used,
                              "# HELP zhub_dead_letters_total Dead letters kept since the "
                              "process started, by the group that gave up.\n"
                              "# TYPE zhub_dead_letters_total counter\n");
    for (size_t i = 0; i < self->group_count; i++)
        used += (size_t)snprintf (text + used, size - used,
                                  "zhub_dead_letters_total{group=\"%s\"} %llu\n",
                                  self->groups[i].name, (unsigned long long)self->groups[i].count);
    if (self->other_groups)
        used += (size_t)snprintf (text + used, size - used,
                                  "zhub_dead_letters_total{group=\"other\"} %llu\n",
                                  (unsigned long long)self->other_groups);
    snprintf (text + used, size - used,
              "# HELP zhub_dead_letters_stored Dead letters in the store now.\n"
              "# TYPE zhub_dead_letters_stored gauge\n"
              "zhub_dead_letters_stored %zu\n"
              "# TYPE zhub_dead_letter_replays_total counter\n"
              "zhub_dead_letter_replays_total %llu\n"
              "# TYPE zhub_dead_letter_edits_total counter\n"
              "zhub_dead_letter_edits_total %llu\n"
              "# TYPE zhub_dead_letter_purged_total counter\n"
              "zhub_dead_letter_purged_total %llu\n"
              "# TYPE zhub_dead_letter_forgotten_total counter\n"
              "zhub_dead_letter_forgotten_total %llu\n"
              "# TYPE zhub_dead_letter_alerts_sent_total counter\n"
              "zhub_dead_letter_alerts_sent_total %llu\n"
              "# TYPE zhub_dead_letter_alerts_failed_total counter\n"
              "zhub_dead_letter_alerts_failed_total %llu\n",
              stored, (unsigned long long)self->replays, (unsigned long long)self->edits,
              (unsigned long long)self->purged, (unsigned long long)self->forgotten,
              (unsigned long long)self->alerts_sent, (unsigned long long)self->alerts_failed);
    pthread_mutex_unlock (&self->lock);
    return text;
}

static enum MHD_Result
s_on_request (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
              const char *version, const char *upload_data, size_t *upload_data_size,
              void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    dead_letter_actor_t *self = cls;
    unsigned status = MHD_HTTP_OK;
    char *body;
    if (strcmp (method, "GET")) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        body = zhub_strdup ("method not allowed\n");
    } else if (!strcmp (url, "/metrics"))
        body = dead_letter_metrics_text (self);
    else if (!strcmp (url, "/healthz"))
        body = zhub_strdup ("ok\n");
    else {
        status = MHD_HTTP_NOT_FOUND;
        body = zhub_strdup ("not found\n");
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                             "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response (conn, status, response);
    MHD_destroy_response (response);
    return rc;
}

static int
s_listen_addr (const char *text, struct sockaddr_in *addr)
{
    const char *colon = strrchr (text, ':');
    if (!colon || colon == text || colon - text > 63)
        return -1;
    char host[64];
    memcpy (host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return -1;
    memset (addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons ((uint16_t)port);
    if (!strcmp (host, "localhost"))
        snprintf (host, sizeof host, "127.0.0.1");
    return inet_pton (AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
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
            if (ok)
                self->alerts_sent++;
            else
                self->alerts_failed++;
            pthread_mutex_unlock (&self->lock);
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
    if (self->metrics_listen) {
        struct sockaddr_in addr;
        if (s_listen_addr (self->metrics_listen, &addr)) {
            snprintf (err, err_size, "ZHUB_DEAD_LETTER_METRICS_LISTEN=%s is not ipv4:port",
                      self->metrics_listen);
            return -1;
        }
        self->daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                                         s_on_request, self, MHD_OPTION_SOCK_ADDR, &addr,
                                         MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
        if (!self->daemon) {
            snprintf (err, err_size, "cannot listen on %s", self->metrics_listen);
            return -1;
        }
    }
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
    if (self->daemon) {
        MHD_stop_daemon (self->daemon);
        self->daemon = NULL;
    }
    free (self->webhook_url);
    free (self->metrics_listen);
    self->webhook_url = self->metrics_listen = NULL;
}
