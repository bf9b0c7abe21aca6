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
    self->store = ctx->store;
    return dead_letter_tables_open (ctx->store, &self->tables);
}

//  -------------------------------------------------------------------
//  Keeping a dead letter

typedef struct {
    const dead_letter_tables_t *tables;
    dead_letter_t *dl;
    bool added;
} s_add_t;

static zhub_rc_t
s_add (zhub_txn_t *txn, void *arg)
{
    s_add_t *add = arg;
    return dead_letter_store_add (add->tables, txn, add->dl, &add->added);
}

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
    s_add_t add = {.tables = &self->tables, .dl = &dl};
    zhub_rc_t rc = zhub_store_write (ctx->store, s_add, &add);
    if (rc != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot store the dead letter");
        dead_letter_clear (&dl);
        return;
    }
    if (add.added) {
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
    zhub_outcome_ok (out, add.added ? "stored" : "duplicate");
    dead_letter_clear (&dl);
}

//  -------------------------------------------------------------------
//  Operator commands

//  One command, read from its data by its handler, applied in one write
//  transaction by s_replay, s_edit or s_purge.
typedef struct {
    dead_letter_actor_t *self;
    zhub_actor_ctx_t *ctx;
    const zhub_msg_t *msg;      //  the command
    uint64_t letter;            //  replay, edit
    bool again;                 //  replay: a new generation
    const msgpack_object *edit; //  edit: its data map (the message is bytes: no JSON form)
    const json_t *letters;      //  purge: the letters' numbers
    const char *result;         //  for the log line
    char err[256];
    uint32_t generation;
    uint64_t purged;
} s_command_t;

//  Records that the command was applied (so a redelivery is a no-op).
static void
s_mark (dead_letter_t *dl, const char *command_id, const char *result)
{
    zhub_msg_set (&dl->last_command, command_id);
    zhub_msg_set (&dl->last_result, result);
}

static zhub_rc_t
s_replay (zhub_txn_t *txn, void *arg)
{
    s_command_t *cmd = arg;
    dead_letter_t dl;
    zhub_rc_t rc = dead_letter_store_get (&cmd->self->tables, txn, cmd->letter, &dl);
    if (rc == ZHUB_NOTFOUND) {
        cmd->result = "not_found";
        return ZHUB_OK;
    }
    if (rc != ZHUB_OK)
        return rc;
    if (dl.last_command && !strcmp (dl.last_command, cmd->msg->id)) {
        cmd->result = "already_applied";
        dead_letter_clear (&dl);
        return ZHUB_OK;
    }
    cmd->generation = dead_letter_replay_generation (&dl, cmd->again);
    zhub_msg_t *replay = dead_letter_replay_msg (&dl, cmd->generation, cmd->err, sizeof cmd->err);
    if (!replay) {
        cmd->result = "unreplayable";
        s_mark (&dl, cmd->msg->id, "unreplayable");
        rc = dead_letter_store_update (&cmd->self->tables, txn, &dl);
        dead_letter_clear (&dl);
        return rc;
    }
    rc = zhub_actor_outbox_put (cmd->ctx, txn, replay);
    if (rc == ZHUB_OK) {
        dl.replays = cmd->generation;
        dl.last_replay_ms = zhub_now_ms ();
        zhub_msg_set (&dl.last_replay_id, replay->id);
        s_mark (&dl, cmd->msg->id, "replayed");
        rc = dead_letter_store_update (&cmd->self->tables, txn, &dl);
        cmd->result = "replayed";
    }
    zhub_msg_destroy (&replay);
    dead_letter_clear (&dl);
    return rc;
}

static zhub_rc_t
s_edit (zhub_txn_t *txn, void *arg)
{
    s_command_t *cmd = arg;
    const msgpack_object *message = zhub_mpack_get (cmd->edit, "message");
    uint64_t revision = 0;
    if (!message || message->type != MSGPACK_OBJECT_BIN
        || zhub_mpack_uint (zhub_mpack_get (cmd->edit, "revision"), &revision)) {
        cmd->result = "invalid";
        snprintf (cmd->err, sizeof cmd->err, "edit needs revision and message (bin)");
        return ZHUB_OK;
    }
    dead_letter_t dl;
    zhub_rc_t rc = dead_letter_store_get (&cmd->self->tables, txn, cmd->letter, &dl);
    if (rc == ZHUB_NOTFOUND) {
        cmd->result = "not_found";
        return ZHUB_OK;
    }
    if (rc != ZHUB_OK)
        return rc;
    if (dl.last_command && !strcmp (dl.last_command, cmd->msg->id)) {
        cmd->result = "already_applied";
        dead_letter_clear (&dl);
        return ZHUB_OK;
    }
    const uint8_t *bytes = (const uint8_t *)message->via.bin.ptr;
    size_t size = message->via.bin.size;
    zhub_msg_t *edited = zhub_msg_decode (bytes, size, NULL, cmd->err, sizeof cmd->err);
    if (!edited || strcmp (edited->type, dl.topic)) {
        cmd->result = "invalid";
        if (edited)
            snprintf (cmd->err, sizeof cmd->err, "an edit may not change the topic");
    } else if (revision != dl.revision) {
        //  Someone edited it since the operator looked: refuse rather than
        //  silently drop their change.
        cmd->result = "stale";
    } else {
        if (!dl.original) {
            dl.original = dl.message;
            dl.original_size = dl.message_size;
        } else
            free (dl.message);
        dl.message = zhub_malloc (size);
        memcpy (dl.message, bytes, size);
        dl.message_size = size;
        dl.revision++;
        cmd->result = "edited";
    }
    zhub_msg_destroy (&edited);
    s_mark (&dl, cmd->msg->id, cmd->result);
    rc = dead_letter_store_update (&cmd->self->tables, txn, &dl);
    dead_letter_clear (&dl);
    return rc;
}

static zhub_rc_t
s_purge (zhub_txn_t *txn, void *arg)
{
    s_command_t *cmd = arg;
    cmd->purged = 0;
    if (!json_is_array (cmd->letters)) {
        cmd->result = "invalid";
        snprintf (cmd->err, sizeof cmd->err, "purge needs letters (array)");
        return ZHUB_OK;
    }
    size_t i;
    const json_t *item;
    json_array_foreach (cmd->letters, i, item)
    {
        if (!json_is_integer (item) || json_integer_value (item) < 0)
            continue;
        uint64_t seq = (uint64_t)json_integer_value (item);
        dead_letter_t dl;
        zhub_rc_t rc = dead_letter_store_get (&cmd->self->tables, txn, seq, &dl);
        if (rc == ZHUB_NOTFOUND)
            continue;
        if (rc == ZHUB_OK)
            rc = dead_letter_store_remove (&cmd->self->tables, txn, &dl);
        dead_letter_clear (&dl);
        if (rc != ZHUB_OK)
            return rc;
        cmd->purged++;
    }
    cmd->result = "purged";
    return ZHUB_OK;
}

//  Applies cmd (its inputs read) with fn in one write transaction, logs
//  what it did and counts it.
static void
s_apply (zhub_actor_ctx_t *ctx, s_command_t *cmd, zhub_store_fn *fn, zhub_outcome_t *out)
{
    dead_letter_actor_t *self = ctx->state;
    const zhub_msg_t *msg = cmd->msg;
    if (zhub_store_write (ctx->store, fn, cmd) != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot apply the command");
        return;
    }
    char quoted[300];
    zhub_info ("dead_letter_command",
               "command_id=%s type=%s letter=%llu result=%s generation=%u "
               "purged=%llu detail=%s",
               msg->id, msg->type, (unsigned long long)cmd->letter, cmd->result, cmd->generation,
               (unsigned long long)cmd->purged, zhub_log_quote (cmd->err, quoted, sizeof quoted));
    pthread_mutex_lock (&self->lock);
    if (!strcmp (cmd->result, "replayed"))
        self->replays++;
    else if (!strcmp (cmd->result, "edited"))
        self->edits++;
    self->purged += cmd->purged;
    pthread_mutex_unlock (&self->lock);
    zhub_outcome_ok (out, cmd->result);
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
    s_command_t cmd = {.self = ctx->state, .ctx = ctx, .msg = ev->msg};
    if (!s_letter (ev->data, &cmd.letter)) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "no letter: %s", ev->msg->type);
        return;
    }
    cmd.again = json_is_true (json_object_get (ev->data, "again"));
    s_apply (ctx, &cmd, s_replay, out);
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
    s_command_t cmd = {.self = ctx->state, .ctx = ctx, .msg = msg, .edit = &result.data};
    if (zhub_mpack_uint (zhub_mpack_get (&result.data, "letter"), &cmd.letter))
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "no letter: %s", msg->type);
    else
        s_apply (ctx, &cmd, s_edit, out);
    msgpack_unpacked_destroy (&result);
}

void
dead_letter_handle_purge (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    if (!ev->data) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "command data: not a map");
        return;
    }
    s_command_t cmd = {.self = ctx->state,
                       .ctx = ctx,
                       .msg = ev->msg,
                       .letters = json_object_get (ev->data, "letters")};
    s_apply (ctx, &cmd, s_purge, out);
}

//  -------------------------------------------------------------------
//  Forgetting a person (contact.forget)

//  dead_letter_store_forget as the runtime's erase step.
static zhub_rc_t
s_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *f, size_t *removed)
{
    dead_letter_actor_t *self = ctx->state;
    return dead_letter_store_forget (&self->tables, txn, f, removed);
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

static zhub_rc_t
s_count (zhub_txn_t *txn, void *arg)
{
    void **args = arg;
    *(size_t *)args[1] = dead_letter_store_count (args[0], txn);
    return ZHUB_OK;
}

char *
dead_letter_metrics_text (dead_letter_actor_t *self)
{
    size_t stored = 0;
    void *args[2] = {&self->tables, &stored};
    zhub_store_read (self->store, s_count, args);
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
