//  Runs the scheduler (see scheduler_io.h for the tables). A tour request
//  goes through three committed steps, so a redelivery resumes where the
//  last one stopped and never books twice:
//
//    1. hold     the slot is taken in LMDB (booking "pending" + hold), after
//                checking the holds again inside that write transaction;
//    2. event    the calendar event is created with our booking id as its
//                idempotency key (Google: event "id", a retry answers 409;
//                Graph: "transactionId"); the booking becomes "scheduled",
//                reminders are armed and tour.scheduled goes to the outbox,
//                all in one transaction;
//    3. confirm  the WhatsApp confirmation goes out through Bird and the
//                booking is marked confirmed.
//
//  Timers live in LMDB and are fired by the actor runtime's tick: a due
//  timer is deleted in the same transaction that queues what it causes
//  (tour.reminder, contact.reconcile) in the outbox, so it fires once. The
//  reminder's WhatsApp is then sent by this actor's own tour.reminder
//  handler, with the bus's retries and a sent-flag in the booking.
#include "scheduler_io.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_GOOGLE = 0, S_GRAPH = 1 };
static const char *s_provider_name[] = {"google", "graph"};

//  -------------------------------------------------------------------
//  Configuration

int
scheduler_config (scheduler_t *self, const zhub_actor_config_t *actor, char *err, size_t err_size)
{
    memset (self, 0, sizeof *self);
    json_t *mapping = zhub_actor_mapping_load (err, err_size);
    if (!mapping)
        return -1;
    int rc =
        sched_config_from_json (json_object_get (mapping, "scheduler"), &self->cfg, err, err_size);
    json_decref (mapping);
    if (rc)
        return -1;
    if (sched_use_time_zone (self->cfg.time_zone)) {
        snprintf (err, err_size, "scheduler config: unknown time_zone %.64s", self->cfg.time_zone);
        sched_config_clear (&self->cfg);
        return -1;
    }
    const char *key = zhub_env_str ("ZHUB_SECRET_KEY", "");
    if (*key) {
        if (sched_key_parse (key, self->key)) {
            snprintf (err, err_size, "ZHUB_SECRET_KEY must be 64 hex digits (32 bytes)");
            sched_config_clear (&self->cfg);
            return -1;
        }
        self->have_key = true;
    }
    self->google_client_id = zhub_env_str ("ZHUB_GOOGLE_CLIENT_ID", "");
    self->google_client_secret = zhub_env_str ("ZHUB_GOOGLE_CLIENT_SECRET", "");
    self->google_refresh_token = zhub_env_str ("ZHUB_GOOGLE_REFRESH_TOKEN", "");
    self->graph_client_id = zhub_env_str ("ZHUB_GRAPH_CLIENT_ID", "");
    self->graph_client_secret = zhub_env_str ("ZHUB_GRAPH_CLIENT_SECRET", "");
    const char *public_url = zhub_env_str ("ZHUB_PUBLIC_URL", "");
    self->public_url = *public_url ? public_url : NULL;
    const char *channel_token = zhub_env_str ("ZHUB_GOOGLE_CHANNEL_TOKEN", "");
    self->channel_token = *channel_token ? channel_token : NULL;
    if (zhub_env_duration_ms ("ZHUB_OAUTH_REFRESH_MARGIN", 300000, &self->refresh_margin_ms)) {
        snprintf (err, err_size, "ZHUB_OAUTH_REFRESH_MARGIN must be a duration");
        sched_config_clear (&self->cfg);
        return -1;
    }
    if (!self->have_key && (*self->google_refresh_token || *self->graph_client_secret)) {
        snprintf (err, err_size,
                  "ZHUB_SECRET_KEY is required to keep OAuth tokens (64 hex digits)");
        sched_config_clear (&self->cfg);
        return -1;
    }
    zhub_http_config_t http = {.connect_timeout_ms = actor->http_connect_timeout_ms,
                               .total_timeout_ms = actor->http_timeout_ms};
    self->http = zhub_http_new (&http);
    zhub_google_config_t google = {.base_url = zhub_env_str ("ZHUB_GOOGLE_BASE_URL", NULL),
                                   .token_url = zhub_env_str ("ZHUB_GOOGLE_TOKEN_URL", NULL)};
    zhub_graph_config_t graph = {.base_url = zhub_env_str ("ZHUB_GRAPH_BASE_URL", NULL),
                                 .token_url = zhub_env_str ("ZHUB_GRAPH_TOKEN_URL", NULL),
                                 .tenant = zhub_env_str ("ZHUB_GRAPH_TENANT_ID", NULL)};
    self->google = zhub_google_new (&google, self->http);
    self->graph = zhub_graph_new (&graph, self->http);
    zhub_calendly_config_t calendly = {.base_url = zhub_env_str ("ZHUB_CALENDLY_BASE_URL", NULL),
                                       .token = zhub_env_str ("ZHUB_CALENDLY_TOKEN", NULL)};
    self->calendly = zhub_calendly_new (&calendly, self->http);
    char masked[3][32];
    zhub_info ("config",
               "time_zone=%s agents=%zu business_hours=%02d:%02d-%02d:%02d self_service=%s "
               "reminders=%zu reconcile_every_ms=%lld secret_key=%s google_refresh_token=%s "
               "graph_client_secret=%s",
               self->cfg.time_zone, self->cfg.agent_count, self->cfg.open_min / 60,
               self->cfg.open_min % 60, self->cfg.close_min / 60, self->cfg.close_min % 60,
               self->cfg.self_service ? "yes" : "no", self->cfg.reminder_count,
               (long long)self->cfg.reconcile_every_ms,
               zhub_env_mask (key, masked[0], sizeof masked[0]),
               zhub_env_mask (self->google_refresh_token, masked[1], sizeof masked[1]),
               zhub_env_mask (self->graph_client_secret, masked[2], sizeof masked[2]));
    return 0;
}

void
scheduler_clear (scheduler_t *self)
{
    zhub_google_destroy (&self->google);
    zhub_graph_destroy (&self->graph);
    zhub_calendly_destroy (&self->calendly);
    zhub_http_destroy (&self->http);
    for (int i = 0; i < 2; i++)
        if (self->access[i]) {
            sodium_memzero (self->access[i], strlen (self->access[i]));
            free (self->access[i]);
        }
    sodium_memzero (self->key, sizeof self->key);
    sched_config_clear (&self->cfg);
}

//  -------------------------------------------------------------------
//  Store helpers

typedef struct {
    zhub_table_t table;
    const void *key;
    size_t key_size;
    char *value;
    size_t size;
} s_get_t;

static zhub_rc_t
s_get_fn (zhub_txn_t *txn, void *arg)
{
    s_get_t *get = arg;
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, get->table, get->key, get->key_size, &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    get->value = zhub_malloc (size + 1);
    memcpy (get->value, value, size);
    get->value[size] = 0;
    get->size = size;
    return ZHUB_OK;
}

static zhub_rc_t
s_get (zhub_store_t *store, zhub_table_t table, const void *key, size_t key_size, char **value,
       size_t *size)
{
    s_get_t get = {.table = table, .key = key, .key_size = key_size};
    zhub_rc_t rc = zhub_store_read (store, s_get_fn, &get);
    *value = get.value;
    *size = get.size;
    return rc;
}

static zhub_rc_t
s_load_booking (zhub_store_t *store, scheduler_t *self, const char *id, sched_booking_t *b)
{
    char *text;
    size_t size;
    zhub_rc_t rc = s_get (store, self->bookings, id, strlen (id), &text, &size);
    if (rc != ZHUB_OK)
        return rc;
    rc = sched_booking_decode (text, size, b) ? ZHUB_ERROR : ZHUB_OK;
    free (text);
    return rc;
}

static uint8_t *
s_hold_key (const char *agent_id, int64_t start, size_t *size)
{
    size_t n = strlen (agent_id);
    uint8_t *key = zhub_malloc (n + 9);
    memcpy (key, agent_id, n);
    key[n] = 0;
    zhub_store_key_u64 (key + n + 1, (uint64_t)start);
    *size = n + 9;
    return key;
}

static uint8_t *
s_timer_key (int64_t due, const char *name, size_t *size)
{
    size_t n = strlen (name);
    uint8_t *key = zhub_malloc (n + 8);
    zhub_store_key_u64 (key, (uint64_t)(due < 0 ? 0 : due));
    memcpy (key + 8, name, n);
    *size = n + 8;
    return key;
}

static zhub_rc_t
s_put_timer (zhub_txn_t *txn, scheduler_t *self, int64_t due, const char *name, json_t *what)
{
    size_t size;
    uint8_t *key = s_timer_key (due, name, &size);
    char *text = json_dumps (what, JSON_COMPACT);
    zhub_rc_t rc = zhub_txn_put (txn, self->timers, key, size, text, strlen (text));
    free (text);
    free (key);
    return rc;
}

//  Every hold of one agent, added to busy.
typedef struct {
    scheduler_t *self;
    const char *agent_id;
    sched_busy_t *busy;
    int64_t duration_guess; //  holds store start only; the booking knows the end
    zhub_store_t *store;
} s_holds_t;

static zhub_rc_t
s_holds_fn (zhub_txn_t *txn, void *arg)
{
    s_holds_t *h = arg;
    size_t prefix;
    uint8_t *start_key = s_hold_key (h->agent_id, 0, &prefix);
    prefix -= 8;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, h->self->holds);
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc =
        cursor ? zhub_cursor_seek (cursor, start_key, prefix, &key, &key_size, &value, &value_size)
               : ZHUB_ERROR;
    while (rc == ZHUB_OK && key_size == prefix + 8 && !memcmp (key, start_key, prefix)) {
        //  value: booking id; the booking holds the end
        const void *bval;
        size_t bsize;
        if (zhub_txn_get (txn, h->self->bookings, value, value_size, &bval, &bsize) == ZHUB_OK) {
            sched_booking_t b;
            if (sched_booking_decode (bval, bsize, &b) == 0) {
                if (strcmp (b.status, "canceled"))
                    sched_busy_add (h->busy, b.start, b.end);
                sched_booking_clear (&b);
            }
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    free (start_key);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

static uint64_t
s_meta_u64 (zhub_txn_t *txn, scheduler_t *self, const char *name)
{
    const void *value;
    size_t size;
    if (zhub_txn_get (txn, self->meta, name, strlen (name), &value, &size) == ZHUB_OK && size == 8)
        return zhub_store_u64 (value);
    return 0;
}

static zhub_rc_t
s_meta_put_u64 (zhub_txn_t *txn, scheduler_t *self, const char *name, uint64_t v)
{
    uint8_t bytes[8];
    zhub_store_key_u64 (bytes, v);
    return zhub_txn_put (txn, self->meta, name, strlen (name), bytes, 8);
}

typedef struct {
    scheduler_t *self;
    const char *name;
    uint64_t value;
} s_meta_t;

static zhub_rc_t
s_meta_fn (zhub_txn_t *txn, void *arg)
{
    s_meta_t *m = arg;
    return s_meta_put_u64 (txn, m->self, m->name, m->value);
}

//  -------------------------------------------------------------------
//  OAuth2 tokens

typedef struct {
    scheduler_t *self;
    int provider;
    const char *access, *refresh;
    int64_t expires_at;
    int64_t timer_due;
} s_token_put_t;

static zhub_rc_t
s_token_put_fn (zhub_txn_t *txn, void *arg)
{
    s_token_put_t *t = arg;
    json_t *obj = json_pack ("{s:s, s:I}", "access_token", t->access, "expires_at",
                             (json_int_t)t->expires_at);
    if (t->refresh)
        json_object_set_new (obj, "refresh_token", json_string (t->refresh));
    char *text = json_dumps (obj, JSON_COMPACT);
    json_decref (obj);
    uint8_t *box;
    size_t size;
    sched_seal (t->self->key, text, &box, &size);
    sodium_memzero (text, strlen (text));
    free (text);
    const char *name = s_provider_name[t->provider];
    zhub_rc_t rc = zhub_txn_put (txn, t->self->tokens, name, strlen (name), box, size);
    free (box);
    if (rc != ZHUB_OK)
        return rc;
    //  One refresh timer per provider: drop the one armed before.
    char timer[32], meta[40];
    snprintf (timer, sizeof timer, "token:%s", name);
    snprintf (meta, sizeof meta, "token_due:%s", name);
    uint64_t old_due = s_meta_u64 (txn, t->self, meta);
    if (old_due) {
        size_t key_size;
        uint8_t *key = s_timer_key ((int64_t)old_due, timer, &key_size);
        rc = zhub_txn_del (txn, t->self->timers, key, key_size);
        free (key);
        if (rc == ZHUB_ERROR)
            return rc;
    }
    json_t *what = json_pack ("{s:s, s:s}", "kind", "token", "provider", name);
    rc = s_put_timer (txn, t->self, t->timer_due, timer, what);
    json_decref (what);
    if (rc != ZHUB_OK)
        return rc;
    return s_meta_put_u64 (txn, t->self, meta, (uint64_t)t->timer_due);
}

//  The stored token JSON of provider (unsealed), or NULL.
static json_t *
s_token_load (zhub_store_t *store, scheduler_t *self, int provider)
{
    const char *name = s_provider_name[provider];
    char *box;
    size_t size;
    if (!self->have_key || s_get (store, self->tokens, name, strlen (name), &box, &size) != ZHUB_OK)
        return NULL;
    char *text = sched_unseal (self->key, (const uint8_t *)box, size);
    free (box);
    if (!text) {
        zhub_warn ("token_unreadable", "provider=%s note=\"sealed with another key\"", name);
        return NULL;
    }
    json_t *obj = json_loads (text, 0, NULL);
    sodium_memzero (text, strlen (text));
    free (text);
    return obj;
}

//  Gets a fresh token from the provider and stores it. ZHUB_OK, or
//  RETRY / REJECT with *out set.
static zhub_rc_t
s_token_refresh (zhub_store_t *store, scheduler_t *self, int provider, zhub_outcome_t *out)
{
    if (!self->have_key) {
        zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "%s: no ZHUB_SECRET_KEY to keep tokens",
                             s_provider_name[provider]);
        return ZHUB_REJECT;
    }
    json_t *stored = s_token_load (store, self, provider);
    const char *refresh = json_string_value (json_object_get (stored, "refresh_token"));
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    if (provider == S_GOOGLE) {
        if (!refresh || !*refresh)
            refresh = self->google_refresh_token;
        zhub_google_token_refresh (self->google, self->google_client_id, self->google_client_secret,
                                   refresh, &resp);
    } else
        zhub_graph_token (self->graph, self->graph_client_id, self->graph_client_secret, &resp);
    const char *access = json_string_value (json_object_get (resp.json, "access_token"));
    const json_t *ttl = json_object_get (resp.json, "expires_in");
    zhub_rc_t rc = ZHUB_OK;
    if (resp.status == 200 && access && json_is_integer (ttl) && json_integer_value (ttl) > 0) {
        int64_t now = zhub_now_ms (), expires = now + json_integer_value (ttl) * 1000;
        int64_t due = expires - self->refresh_margin_ms;
        if (due < now + 1000)
            due = now + (expires - now) / 2;
        //  Google may hand out a new refresh token; keep the newest.
        const char *new_refresh = json_string_value (json_object_get (resp.json, "refresh_token"));
        s_token_put_t put = {.self = self,
                             .provider = provider,
                             .access = access,
                             .refresh = new_refresh ? new_refresh : refresh,
                             .expires_at = expires,
                             .timer_due = due};
        if (zhub_store_write (store, s_token_put_fn, &put) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot store the token");
            rc = ZHUB_RETRY;
        } else {
            if (self->access[provider]) {
                sodium_memzero (self->access[provider], strlen (self->access[provider]));
                free (self->access[provider]);
            }
            self->access[provider] = zhub_strdup (access);
            self->expires[provider] = expires;
            zhub_info ("token_refreshed", "provider=%s expires_in_s=%lld",
                       s_provider_name[provider], (long long)json_integer_value (ttl));
        }
    } else if (resp.status == 200) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "%s token answer without a token",
                            s_provider_name[provider]);
        rc = ZHUB_RETRY;
    } else {
        char what[48];
        snprintf (what, sizeof what, "%s token refresh", s_provider_name[provider]);
        zhub_retry_classify (&resp, what, zhub_now_ms (), out);
        rc = out->rc;
    }
    //  The answer held the token: wipe it before freeing.
    if (resp.body)
        sodium_memzero (resp.body, resp.body_size);
    zhub_http_response_reset (&resp);
    json_decref (stored);
    return rc;
}

//  A token valid for at least the margin. NULL with *out set on failure.
static const char *
s_token (zhub_store_t *store, scheduler_t *self, int provider, zhub_outcome_t *out)
{
    int64_t now = zhub_now_ms ();
    if (self->access[provider] && self->expires[provider] - now > 5000)
        return self->access[provider];
    json_t *stored = s_token_load (store, self, provider);
    const char *access = json_string_value (json_object_get (stored, "access_token"));
    int64_t expires = json_integer_value (json_object_get (stored, "expires_at"));
    if (access && expires - now > 5000) {
        free (self->access[provider]);
        self->access[provider] = zhub_strdup (access);
        self->expires[provider] = expires;
    }
    json_decref (stored);
    if (self->access[provider] && self->expires[provider] - now > 5000)
        return self->access[provider];
    return s_token_refresh (store, self, provider, out) == ZHUB_OK ? self->access[provider] : NULL;
}

//  A 401 from the API: the token is no good any more.
static void
s_token_drop (scheduler_t *self, int provider)
{
    self->expires[provider] = 0;
}

//  -------------------------------------------------------------------
//  Availability

static bool
s_answer_ok (scheduler_t *self, int provider, zhub_http_response_t *resp, const char *what,
             zhub_outcome_t *out)
{
    if (resp->status >= 200 && resp->status < 300)
        return true;
    if (resp->status == 401) {
        s_token_drop (self, provider);
        zhub_outcome_retry (out, 0, 401, "%s: token refused, refreshing", what);
        return false;
    }
    zhub_retry_classify (resp, what, zhub_now_ms (), out);
    return false;
}

//  Fills busy[] for the eligible agents over [from, to). true, or false
//  with *out set.
static bool
s_availability (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const bool *eligible, int64_t from,
                int64_t to, sched_busy_t *busy, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool ok = true;
    json_t *body = sched_google_freebusy_body (&self->cfg, eligible, from, to);
    if (body) {
        const char *token = s_token (ctx->store, self, S_GOOGLE, out);
        ok = token != NULL;
        if (ok) {
            zhub_google_freebusy (self->google, body, token, msg->traceparent, &resp);
            ok = s_answer_ok (self, S_GOOGLE, &resp, "google freeBusy", out);
        }
        if (ok && sched_google_busy_read (&self->cfg, resp.json, busy)) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "google freeBusy: unreadable");
            ok = false;
        }
        json_decref (body);
    }
    body = ok ? sched_graph_schedule_body (&self->cfg, eligible, from, to) : NULL;
    if (body) {
        const char *token = s_token (ctx->store, self, S_GRAPH, out);
        ok = token != NULL;
        if (ok) {
            zhub_http_response_reset (&resp);
            zhub_graph_get_schedule (self->graph, self->cfg.graph_user, body, token,
                                     msg->traceparent, &resp);
            ok = s_answer_ok (self, S_GRAPH, &resp, "graph getSchedule", out);
        }
        if (ok && sched_graph_busy_read (&self->cfg, resp.json, busy)) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "graph getSchedule: unreadable");
            ok = false;
        }
        json_decref (body);
    }
    zhub_http_response_reset (&resp);
    for (size_t i = 0; ok && i < self->cfg.agent_count; i++) {
        if (!eligible[i])
            continue;
        s_holds_t holds = {.self = self, .agent_id = self->cfg.agents[i].id, .busy = &busy[i]};
        if (zhub_store_read (ctx->store, s_holds_fn, &holds) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read holds");
            ok = false;
        }
    }
    return ok;
}

//  -------------------------------------------------------------------
//  Step 1: hold the slot

typedef struct {
    zhub_actor_ctx_t *ctx;
    scheduler_t *self;
    const sched_booking_t *booking;
    int64_t buffer_ms;
    bool taken; //  out: someone else holds an overlapping slot
    zhub_msg_t *publish;
} s_hold_t;

static zhub_rc_t
s_hold_fn (zhub_txn_t *txn, void *arg)
{
    s_hold_t *h = arg;
    scheduler_t *self = h->self;
    const sched_booking_t *b = h->booking;
    //  Check again inside the write: a concurrent request may have won.
    sched_busy_t busy = {0};
    s_holds_t holds = {.self = self, .agent_id = b->agent_id, .busy = &busy};
    if (s_holds_fn (txn, &holds) != ZHUB_OK)
        return ZHUB_ERROR;
    h->taken = !sched_agent_free (&busy, b->start, b->end, h->buffer_ms);
    sched_busy_clear (&busy);
    if (h->taken)
        return ZHUB_OK;
    size_t size;
    uint8_t *key = s_hold_key (b->agent_id, b->start, &size);
    zhub_rc_t rc =
        zhub_txn_put (txn, self->holds, key, size, b->booking_id, strlen (b->booking_id));
    free (key);
    char *text = sched_booking_encode (b);
    if (rc == ZHUB_OK)
        rc = zhub_txn_put (txn, self->bookings, b->booking_id, strlen (b->booking_id), text,
                           strlen (text));
    free (text);
    if (rc == ZHUB_OK)
        rc = s_meta_put_u64 (txn, self, "rr", s_meta_u64 (txn, self, "rr") + 1);
    return rc;
}

//  Commits a booking record (and an outbox message, and reminder timers
//  when arm is set).
typedef struct {
    zhub_actor_ctx_t *ctx;
    scheduler_t *self;
    const sched_booking_t *booking;
    zhub_msg_t *publish;
    bool arm;
    bool release;         //  delete the booking and its hold instead
    int64_t disarm_start; //  > 0: delete the reminders armed for a tour at this start
    const char *invitee;  //  index this Calendly invitee URI to the booking
    int64_t hold_from;    //  > 0: delete the agent's hold at this start
    bool hold_put;        //  hold the agent at the booking's (new) start
} s_save_t;

//  Deletes the reminder timers of booking b for a tour that started at start.
static zhub_rc_t
s_disarm (zhub_txn_t *txn, scheduler_t *self, const char *booking_id, int64_t start)
{
    for (size_t i = 0; i < self->cfg.reminder_count; i++) {
        char name[80];
        snprintf (name, sizeof name, "reminder:%s:%zu", booking_id, i);
        size_t size;
        uint8_t *key = s_timer_key (start - self->cfg.reminders_ms[i], name, &size);
        zhub_rc_t rc = zhub_txn_del (txn, self->timers, key, size);
        free (key);
        if (rc == ZHUB_ERROR)
            return rc;
    }
    return ZHUB_OK;
}

static zhub_rc_t
s_save_fn (zhub_txn_t *txn, void *arg)
{
    s_save_t *s = arg;
    scheduler_t *self = s->self;
    const sched_booking_t *b = s->booking;
    zhub_rc_t rc;
    if (s->release) {
        size_t size;
        uint8_t *key = s_hold_key (b->agent_id, b->start, &size);
        rc = zhub_txn_del (txn, self->holds, key, size);
        free (key);
        if (rc == ZHUB_ERROR)
            return rc;
        rc = zhub_txn_del (txn, self->bookings, b->booking_id, strlen (b->booking_id));
        return rc == ZHUB_ERROR ? rc : ZHUB_OK;
    }
    if (s->disarm_start > 0 && s_disarm (txn, self, b->booking_id, s->disarm_start) != ZHUB_OK)
        return ZHUB_ERROR;
    if ((s->hold_from > 0 || s->hold_put) && b->agent_id) {
        size_t size;
        uint8_t *key;
        if (s->hold_from > 0) {
            key = s_hold_key (b->agent_id, s->hold_from, &size);
            rc = zhub_txn_del (txn, self->holds, key, size);
            free (key);
            if (rc == ZHUB_ERROR)
                return rc;
        }
        if (s->hold_put) {
            key = s_hold_key (b->agent_id, b->start, &size);
            rc = zhub_txn_put (txn, self->holds, key, size, b->booking_id, strlen (b->booking_id));
            free (key);
            if (rc != ZHUB_OK)
                return rc;
        }
    }
    if (s->invitee
        && zhub_txn_put (txn, self->invitees, s->invitee, strlen (s->invitee), b->booking_id,
                         strlen (b->booking_id))
               != ZHUB_OK)
        return ZHUB_ERROR;
    char *text = sched_booking_encode (b);
    rc = zhub_txn_put (txn, self->bookings, b->booking_id, strlen (b->booking_id), text,
                       strlen (text));
    free (text);
    if (rc != ZHUB_OK)
        return rc;
    int64_t now = zhub_now_ms ();
    for (size_t i = 0; s->arm && i < self->cfg.reminder_count; i++) {
        int64_t due = b->start - self->cfg.reminders_ms[i];
        if (due <= now)
            continue; //  too late for this one
        char name[80];
        snprintf (name, sizeof name, "reminder:%s:%zu", b->booking_id, i);
        json_t *what = json_pack ("{s:s, s:s, s:i}", "kind", "reminder", "booking_id",
                                  b->booking_id, "index", (int)i);
        rc = s_put_timer (txn, self, due, name, what);
        json_decref (what);
        if (rc != ZHUB_OK)
            return rc;
    }
    if (s->publish)
        return zhub_actor_outbox_put (s->ctx, txn, s->publish);
    return ZHUB_OK;
}

static zhub_rc_t
s_save (zhub_actor_ctx_t *ctx, const sched_booking_t *b, zhub_msg_t *publish, bool arm,
        bool release)
{
    s_save_t save = {.ctx = ctx,
                     .self = ctx->state,
                     .booking = b,
                     .publish = publish,
                     .arm = arm,
                     .release = release};
    return zhub_store_write (ctx->store, s_save_fn, &save);
}

//  -------------------------------------------------------------------
//  Step 2: the calendar event

static void
s_set_str (char **field, const char *value)
{
    free (*field);
    *field = value ? zhub_strdup (value) : NULL;
}

//  Creates the event; true with b->event_id / confirmation_url set.
static bool
s_create_event (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, sched_booking_t *b,
                const sched_request_t *req, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    int index = sched_agent_index (&self->cfg, b->agent_id);
    if (index < 0) {
        zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "agent %s left the configuration",
                             b->agent_id);
        return false;
    }
    const sched_agent_t *agent = &self->cfg.agents[index];
    int provider = agent->platform == SCHED_GOOGLE ? S_GOOGLE : S_GRAPH;
    const char *token = s_token (ctx->store, self, provider, out);
    if (!token)
        return false;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool ok;
    if (provider == S_GOOGLE) {
        json_t *body = sched_google_event_body (b, agent, req);
        zhub_google_event_insert (self->google, agent->calendar_id, body, token, msg->traceparent,
                                  &resp);
        json_decref (body);
        if (resp.status == 409) {
            //  Made by an earlier attempt of this very booking: read it back.
            zhub_http_response_reset (&resp);
            zhub_google_event_get (self->google, agent->calendar_id, b->booking_id, token,
                                   msg->traceparent, &resp);
        }
        ok = s_answer_ok (self, S_GOOGLE, &resp, "google events.insert", out);
        if (ok) {
            s_set_str (&b->event_id, json_string_value (json_object_get (resp.json, "id")));
            s_set_str (&b->confirmation_url,
                       json_string_value (json_object_get (resp.json, "htmlLink")));
        }
    } else {
        json_t *body = sched_graph_event_body (b, agent, req);
        zhub_graph_event_create (self->graph, agent->calendar_id, body, token, msg->traceparent,
                                 &resp);
        json_decref (body);
        ok = s_answer_ok (self, S_GRAPH, &resp, "graph create event", out);
        if (ok) {
            s_set_str (&b->event_id, json_string_value (json_object_get (resp.json, "id")));
            s_set_str (&b->confirmation_url,
                       json_string_value (json_object_get (resp.json, "webLink")));
        }
    }
    if (ok && !b->event_id) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "event answer without an id");
        ok = false;
    }
    zhub_http_response_reset (&resp);
    return ok;
}

//  -------------------------------------------------------------------
//  Step 3 and reminders: WhatsApp through Bird

static bool
s_whatsapp (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const sched_booking_t *b,
            const char *kind, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    if (!self->cfg.bird_channel_id) {
        zhub_warn ("whatsapp_skipped", "id=%s booking=%s kind=%s note=\"no bird_channel_id\"",
                   msg->id, b->booking_id, kind);
        return true;
    }
    char *text = sched_whatsapp_text (kind, b, &self->cfg);
    json_t *body = sched_bird_message (b, text);
    char *channel = zhub_http_escape (self->cfg.bird_channel_id);
    char *path = zhub_sprintf ("/channels/%s/messages", channel);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_bird_request (ctx->bird, "POST", path, body, msg->traceparent, &resp);
    bool ok = resp.status >= 200 && resp.status < 300;
    if (!ok)
        zhub_retry_classify (&resp, "bird send whatsapp", zhub_now_ms (), out);
    zhub_http_response_reset (&resp);
    free (path);
    free (channel);
    json_decref (body);
    free (text);
    return ok;
}

//  -------------------------------------------------------------------
//  tour.requested

static void
s_unavailable (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const sched_request_t *req,
               const sched_busy_t *busy, const bool *eligible, size_t rr, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    sched_slot_t alts[SCHED_MAX_ALTERNATIVES];
    int64_t from = req->preferred[0];
    int64_t now = zhub_now_ms ();
    if (from < now)
        from = now;
    size_t count = sched_alternatives (&self->cfg, from, req->duration_ms, busy, eligible, rr, alts,
                                       self->cfg.max_alternatives);
    zhub_msg_t *unavailable =
        sched_unavailable_msg (req, &self->cfg, alts, count, msg->traceparent, now);
    s_save_t save = {.ctx = ctx, .self = self, .publish = unavailable};
    //  Nothing to keep but the event: a booking record is not needed.
    sched_booking_t none = {0};
    char id[40];
    sched_booking_id (req->event_id, id, sizeof id);
    none.booking_id = id;
    none.status = "unavailable";
    none.bird_id = req->bird_id;
    save.booking = &none;
    if (zhub_store_write (ctx->store, s_save_fn, &save) == ZHUB_OK) {
        zhub_outcome_ok (out, "unavailable");
        snprintf (out->reason, sizeof out->reason, "alternatives=%zu", count);
    } else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
    zhub_msg_destroy (&unavailable);
}

//  Steps 2 and 3 for a held (or scheduled, unconfirmed) booking.
static void
s_finish (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, sched_booking_t *b,
          const sched_request_t *req, zhub_outcome_t *out)
{
    if (!strcmp (b->status, "pending")) {
        if (!s_create_event (ctx, msg, b, req, out)) {
            if (out->rc == ZHUB_REJECT)
                s_save (ctx, b, NULL, false, true); //  free the slot for others
            return;
        }
        s_set_str (&b->status, "scheduled");
        zhub_msg_t *scheduled =
            sched_tour_msg ("tour.scheduled", b, "booked", msg->traceparent, zhub_now_ms ());
        //  Graph's change notifications name the event, not our booking:
        //  keep the way back (Google's event id is the booking id itself).
        char *event_key =
            !strcmp (b->platform, "graph") ? zhub_sprintf ("graph:%s", b->event_id) : NULL;
        s_save_t save = {.ctx = ctx,
                         .self = ctx->state,
                         .booking = b,
                         .publish = scheduled,
                         .arm = true,
                         .invitee = event_key};
        zhub_rc_t rc = zhub_store_write (ctx->store, s_save_fn, &save);
        free (event_key);
        zhub_msg_destroy (&scheduled);
        if (rc != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the booking");
            return;
        }
        zhub_info ("booked", "id=%s booking=%s agent=%s platform=%s event=%s", msg->id,
                   b->booking_id, b->agent_id, b->platform, b->event_id);
    }
    if (!b->confirmed) {
        if (!s_whatsapp (ctx, msg, b, "confirmation", out))
            return;
        b->confirmed = true;
        if (s_save (ctx, b, NULL, false, false) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the booking");
            return;
        }
    }
    zhub_outcome_ok (out, "scheduled");
    snprintf (out->reason, sizeof out->reason, "booking=%s agent=%s", b->booking_id, b->agent_id);
}

//  Self-service: a single-use Calendly link, sent on WhatsApp. The
//  booking waits as "link_sent" until Calendly's invitee.created brings the
//  time the person chose (then tour.scheduled goes out).
static void
s_self_service (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const sched_request_t *req,
                sched_booking_t *existing, const char *id, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    sched_booking_t fresh = {0};
    sched_booking_t *b = existing;
    if (!b) {
        zhub_http_response_t resp;
        zhub_http_response_init (&resp);
        zhub_calendly_scheduling_link (self->calendly, self->cfg.calendly_event_type,
                                       msg->traceparent, &resp);
        const char *url = json_string_value (
            json_object_get (json_object_get (resp.json, "resource"), "booking_url"));
        if (resp.status < 200 || resp.status >= 300)
            zhub_retry_classify (&resp, "calendly scheduling link", zhub_now_ms (), out);
        else if (!url)
            zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "calendly link without a URL");
        else {
            b = &fresh;
            fresh.booking_id = zhub_strdup (id);
            fresh.request_id = zhub_strdup (req->event_id);
            fresh.bird_id = zhub_strdup (req->bird_id);
            fresh.conversation_id =
                req->conversation_id ? zhub_strdup (req->conversation_id) : NULL;
            fresh.location = req->location ? zhub_strdup (req->location) : NULL;
            fresh.phone = req->phone ? zhub_strdup (req->phone) : NULL;
            fresh.platform = zhub_strdup ("calendly");
            fresh.status = zhub_strdup ("link_sent");
            fresh.confirmation_url = sched_link_with_booking (url, id);
            if (s_save (ctx, b, NULL, false, false) != ZHUB_OK) {
                zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the booking");
                b = NULL;
            }
        }
        zhub_http_response_reset (&resp);
    }
    if (b && !b->confirmed) {
        char *text = sched_link_text (b);
        bool sent = true;
        if (self->cfg.bird_channel_id) {
            json_t *body = sched_bird_message (b, text);
            char *channel = zhub_http_escape (self->cfg.bird_channel_id);
            char *path = zhub_sprintf ("/channels/%s/messages", channel);
            zhub_http_response_t resp;
            zhub_http_response_init (&resp);
            zhub_bird_request (ctx->bird, "POST", path, body, msg->traceparent, &resp);
            sent = resp.status >= 200 && resp.status < 300;
            if (!sent)
                zhub_retry_classify (&resp, "bird send whatsapp", zhub_now_ms (), out);
            zhub_http_response_reset (&resp);
            free (path);
            free (channel);
            json_decref (body);
        }
        free (text);
        if (sent) {
            b->confirmed = true;
            if (s_save (ctx, b, NULL, false, false) != ZHUB_OK) {
                zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the booking");
                sent = false;
            }
        }
        if (sent)
            zhub_outcome_ok (out, "link_sent");
    } else if (b)
        zhub_outcome_ok (out, "link_sent");
    sched_booking_clear (&fresh);
}

static void
s_request (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    sched_request_t req;
    char reason[256];
    if (sched_parse_request (msg, &self->cfg, &req, reason, sizeof reason) != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        sched_request_clear (&req);
        return;
    }
    char id[40];
    sched_booking_id (req.event_id, id, sizeof id);
    sched_booking_t b;
    zhub_rc_t rc = s_load_booking (ctx->store, self, id, &b);
    if (rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the booking");
        sched_request_clear (&req);
        return;
    }
    if ((rc == ZHUB_OK && !strcmp (b.status, "link_sent"))
        || (rc == ZHUB_NOTFOUND && self->cfg.self_service)) {
        s_self_service (ctx, msg, &req, rc == ZHUB_OK ? &b : NULL, id, out);
        if (rc == ZHUB_OK)
            sched_booking_clear (&b);
        sched_request_clear (&req);
        return;
    }
    if (rc == ZHUB_OK) {
        //  A redelivery: resume where the last attempt stopped.
        if (!strcmp (b.status, "unavailable") || !strcmp (b.status, "canceled"))
            zhub_outcome_ok (out, b.status);
        else
            s_finish (ctx, msg, &b, &req, out);
        sched_booking_clear (&b);
        sched_request_clear (&req);
        return;
    }
    if (!self->cfg.agent_count) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "no agents configured");
        sched_request_clear (&req);
        return;
    }
    bool eligible[SCHED_MAX_AGENTS] = {false};
    int64_t max_buffer = 0;
    for (size_t i = 0; i < self->cfg.agent_count; i++) {
        eligible[i] = !req.agent_id || !strcmp (req.agent_id, self->cfg.agents[i].id);
        if (self->cfg.agents[i].buffer_ms > max_buffer)
            max_buffer = self->cfg.agents[i].buffer_ms;
    }
    //  A time already past cannot be booked: keep the others, and when none
    //  is left, the alternatives start from now.
    int64_t now = zhub_now_ms ();
    size_t kept = 0;
    for (size_t i = 0; i < req.preferred_count; i++)
        if (req.preferred[i] > now)
            req.preferred[kept++] = req.preferred[i];
    bool all_past = !kept;
    if (all_past) {
        req.preferred[0] = now; //  only to place the availability window
        kept = 1;
    }
    req.preferred_count = kept;
    int64_t first = req.preferred[0], last = req.preferred[0];
    for (size_t i = 1; i < req.preferred_count; i++) {
        first = req.preferred[i] < first ? req.preferred[i] : first;
        last = req.preferred[i] > last ? req.preferred[i] : last;
    }
    int64_t from = first - max_buffer;
    int64_t to = last + req.duration_ms;
    if (to < first + self->cfg.horizon_ms)
        to = first + self->cfg.horizon_ms;
    to += req.duration_ms + max_buffer;
    sched_busy_t busy[SCHED_MAX_AGENTS];
    memset (busy, 0, sizeof busy);
    for (int attempt = 0; attempt < 3; attempt++) {
        if (!s_availability (ctx, msg, eligible, from, to, busy, out))
            break;
        uint64_t rr = 0;
        char *value;
        size_t size;
        if (s_get (ctx->store, self->meta, "rr", 2, &value, &size) == ZHUB_OK) {
            rr = size == 8 ? zhub_store_u64 (value) : 0;
            free (value);
        }
        sched_slot_t slot;
        if (all_past
            || !sched_pick (&self->cfg, req.preferred, req.preferred_count, req.duration_ms, busy,
                            eligible, (size_t)(rr % self->cfg.agent_count), &slot)) {
            s_unavailable (ctx, msg, &req, busy, eligible, (size_t)(rr % self->cfg.agent_count),
                           out);
            break;
        }
        const sched_agent_t *agent = &self->cfg.agents[slot.agent];
        sched_booking_t held = {.booking_id = id,
                                .request_id = req.event_id,
                                .bird_id = req.bird_id,
                                .conversation_id = req.conversation_id,
                                .agent_id = agent->id,
                                .platform = agent->platform == SCHED_GOOGLE ? "google" : "graph",
                                .calendar_id = agent->calendar_id,
                                .location = req.location,
                                .phone = req.phone,
                                .status = "pending",
                                .start = slot.start,
                                .end = slot.end};
        s_hold_t hold = {.ctx = ctx, .self = self, .booking = &held, .buffer_ms = agent->buffer_ms};
        if (zhub_store_write (ctx->store, s_hold_fn, &hold) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot hold the slot");
            break;
        }
        if (hold.taken) {
            //  Lost the slot to a concurrent booking: look again.
            for (size_t i = 0; i < self->cfg.agent_count; i++)
                sched_busy_clear (&busy[i]);
            zhub_outcome_retry (out, 0, 0, "slot taken concurrently");
            continue;
        }
        sched_booking_t b2;
        if (s_load_booking (ctx->store, self, id, &b2) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the booking");
            break;
        }
        s_finish (ctx, msg, &b2, &req, out);
        sched_booking_clear (&b2);
        break;
    }
    for (size_t i = 0; i < self->cfg.agent_count; i++)
        sched_busy_clear (&busy[i]);
    sched_request_clear (&req);
}

//  -------------------------------------------------------------------
//  tour.reminder (our own timer's event): the WhatsApp reminder

static void
s_reminder (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    json_t *data = zhub_msg_data_json (msg);
    const char *id = json_string_value (json_object_get (data, "booking_id"));
    json_int_t index = json_integer_value (json_object_get (data, "reminder"));
    sched_booking_t b;
    zhub_rc_t rc = id ? s_load_booking (ctx->store, self, id, &b) : ZHUB_NOTFOUND;
    if (rc == ZHUB_ERROR)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the booking");
    else if (rc == ZHUB_NOTFOUND)
        zhub_outcome_ok (out, "unknown_booking");
    else {
        unsigned bit = 1u << (index & 7);
        if (strcmp (b.status, "scheduled"))
            zhub_outcome_ok (out, "not_scheduled");
        else if (b.reminders_sent & bit)
            zhub_outcome_ok (out, "already_sent");
        else if (s_whatsapp (ctx, msg, &b, "reminder", out)) {
            b.reminders_sent |= bit;
            if (s_save (ctx, &b, NULL, false, false) == ZHUB_OK)
                zhub_outcome_ok (out, "reminder_sent");
            else
                zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
        }
        sched_booking_clear (&b);
    }
    json_decref (data);
}

//  -------------------------------------------------------------------
//  Calendly: invitee.created / invitee.canceled keep bookings true

//  The booking a Calendly invitee belongs to, or NULL.
static char *
s_invitee_booking (zhub_store_t *store, scheduler_t *self, const sched_invitee_t *inv)
{
    char *value;
    size_t size;
    sched_booking_t b;
    if (inv->utm_content && s_load_booking (store, self, inv->utm_content, &b) == ZHUB_OK) {
        sched_booking_clear (&b);
        return zhub_strdup (inv->utm_content);
    }
    const char *keys[] = {inv->old_invitee, inv->invitee_uri};
    for (size_t i = 0; i < 2; i++)
        if (keys[i]
            && s_get (store, self->invitees, keys[i], strlen (keys[i]), &value, &size) == ZHUB_OK)
            return value;
    return NULL;
}

static void
s_invitee (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    json_t *data = zhub_msg_data_json (msg);
    sched_invitee_t inv;
    char reason[200];
    if (sched_parse_invitee (data, &inv, reason, sizeof reason) != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        sched_invitee_clear (&inv);
        json_decref (data);
        return;
    }
    json_decref (data);
    char *id = s_invitee_booking (ctx->store, self, &inv);
    sched_booking_t b;
    if (!id || s_load_booking (ctx->store, self, id, &b) != ZHUB_OK) {
        zhub_outcome_ok (out, "not_ours"); //  booked on the public page, not through us
        free (id);
        sched_invitee_clear (&inv);
        return;
    }
    bool was_scheduled = !strcmp (b.status, "scheduled");
    const char *salt = strrchr (inv.invitee_uri, '/');
    salt = salt ? salt + 1 : inv.invitee_uri;
    if (!strcmp (inv.event, "invitee.created")) {
        if (was_scheduled && b.event_id && !strcmp (b.event_id, inv.event_uri))
            zhub_outcome_ok (out, "duplicate");
        else {
            if (inv.start < 0 || inv.end < 0) {
                //  Older payloads name the event only: ask for its times.
                zhub_http_response_t resp;
                zhub_http_response_init (&resp);
                zhub_calendly_get_uri (self->calendly, inv.event_uri, msg->traceparent, &resp);
                const json_t *res = json_object_get (resp.json, "resource");
                int64_t s = -1, e = -1;
                zhub_time_parse (json_string_value (json_object_get (res, "start_time")), &s);
                zhub_time_parse (json_string_value (json_object_get (res, "end_time")), &e);
                if (resp.status == 200 && s >= 0 && e > s) {
                    inv.start = s;
                    inv.end = e;
                } else if (resp.status >= 200 && resp.status < 300)
                    zhub_outcome_reject (out, ZHUB_REASON_BAD_ANSWER,
                                         "calendly event without "
                                         "times");
                else
                    zhub_retry_classify (&resp, "calendly get scheduled event", zhub_now_ms (),
                                         out);
                zhub_http_response_reset (&resp);
            }
            if (inv.start >= 0 && inv.end > inv.start) {
                int64_t old_start = was_scheduled ? b.start : 0;
                b.reminders_sent = 0; //  a new time gets its own reminders
                b.start = inv.start;
                b.end = inv.end;
                s_set_str (&b.event_id, inv.event_uri);
                s_set_str (&b.status, "scheduled");
                s_set_str (&b.platform, "calendly");
                zhub_msg_t *scheduled =
                    sched_tour_msg ("tour.scheduled", &b, salt, msg->traceparent, zhub_now_ms ());
                s_save_t save = {.ctx = ctx,
                                 .self = self,
                                 .booking = &b,
                                 .publish = scheduled,
                                 .arm = true,
                                 .disarm_start = old_start,
                                 .invitee = inv.invitee_uri};
                if (zhub_store_write (ctx->store, s_save_fn, &save) == ZHUB_OK)
                    zhub_outcome_ok (out, was_scheduled ? "rescheduled" : "scheduled");
                else
                    zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
                zhub_msg_destroy (&scheduled);
            }
        }
    } else if (inv.rescheduled)
        zhub_outcome_ok (out, "reschedule_follows"); //  invitee.created moves the booking
    else if (!was_scheduled)
        zhub_outcome_ok (out, "not_scheduled");
    else {
        int64_t start = b.start;
        s_set_str (&b.status, "canceled");
        zhub_msg_t *canceled =
            sched_tour_msg ("tour.canceled", &b, salt, msg->traceparent, zhub_now_ms ());
        s_save_t save = {
            .ctx = ctx, .self = self, .booking = &b, .publish = canceled, .disarm_start = start};
        if (zhub_store_write (ctx->store, s_save_fn, &save) == ZHUB_OK)
            zhub_outcome_ok (out, "canceled");
        else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
        zhub_msg_destroy (&canceled);
    }
    sched_booking_clear (&b);
    free (id);
    sched_invitee_clear (&inv);
}

//  -------------------------------------------------------------------
//  Google push notifications: someone moved or deleted a tour's event

static void
s_google_changed (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    json_t *data = zhub_msg_data_json (msg);
    char *cal =
        sched_google_resource_calendar (json_string_value (json_object_get (data, "resource_uri")));
    const char *state = json_string_value (json_object_get (data, "resource_state"));
    bool ours = false;
    for (size_t i = 0; cal && i < self->cfg.agent_count; i++)
        ours |= self->cfg.agents[i].platform == SCHED_GOOGLE
                && !strcmp (self->cfg.agents[i].calendar_id, cal);
    if (!ours || (state && !strcmp (state, "sync"))) {
        zhub_outcome_ok (out, "not_ours");
        free (cal);
        json_decref (data);
        return;
    }
    json_decref (data);
    const char *token = s_token (ctx->store, self, S_GOOGLE, out);
    if (!token) {
        free (cal);
        return;
    }
    //  Everything changed since the last look (a minute of overlap: clocks
    //  differ), deleted events included.
    char meta[300];
    snprintf (meta, sizeof meta, "gsync:%.280s", cal);
    int64_t asked = zhub_now_ms (), since = 0;
    char *value;
    size_t size;
    if (s_get (ctx->store, self->meta, meta, strlen (meta), &value, &size) == ZHUB_OK) {
        since = size == 8 ? (int64_t)zhub_store_u64 (value) : 0;
        free (value);
    }
    if (!since)
        since = asked - self->cfg.horizon_ms;
    char when[40];
    zhub_time_format (since - 60000, when, sizeof when);
    char *escaped = zhub_http_escape (when);
    char *query = zhub_sprintf ("updatedMin=%s&showDeleted=true&singleEvents=true", escaped);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_google_events_list (self->google, cal, query, token, msg->traceparent, &resp);
    free (query);
    free (escaped);
    bool ok = s_answer_ok (self, S_GOOGLE, &resp, "google events.list", out);
    int changed = 0;
    size_t i;
    const json_t *item;
    json_array_foreach (ok ? json_object_get (resp.json, "items") : NULL, i, item)
    {
        const char *id = json_string_value (json_object_get (item, "id"));
        sched_booking_t b;
        if (!id || s_load_booking (ctx->store, self, id, &b) != ZHUB_OK)
            continue; //  not a tour of ours
        int64_t start = 0, end = 0;
        sched_change_t change = strcmp (b.status, "scheduled")
                                    ? SCHED_CHANGE_NONE
                                    : sched_google_change (item, &b, &start, &end);
        if (change != SCHED_CHANGE_NONE) {
            int64_t old_start = b.start;
            const char *updated = json_string_value (json_object_get (item, "updated"));
            char salt[64];
            snprintf (salt, sizeof salt, "g%s", updated ? updated : "");
            s_save_t save = {.ctx = ctx,
                             .self = self,
                             .booking = &b,
                             .disarm_start = old_start,
                             .hold_from = old_start};
            if (change == SCHED_CHANGE_CANCELED) {
                s_set_str (&b.status, "canceled");
                save.publish = sched_tour_msg ("tour.canceled", &b, salt, msg->traceparent, asked);
            } else {
                b.start = start;
                b.end = end;
                b.reminders_sent = 0;
                save.arm = true;
                save.hold_put = true;
                save.publish = sched_tour_msg ("tour.scheduled", &b, salt, msg->traceparent, asked);
            }
            if (zhub_store_write (ctx->store, s_save_fn, &save) != ZHUB_OK) {
                zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
                ok = false;
            } else
                changed++;
            zhub_msg_destroy (&save.publish);
        }
        sched_booking_clear (&b);
        if (!ok)
            break;
    }
    zhub_http_response_reset (&resp);
    if (ok) {
        s_meta_t put = {.self = self, .name = meta, .value = (uint64_t)asked};
        if (zhub_store_write (ctx->store, s_meta_fn, &put) != ZHUB_OK)
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
        else {
            zhub_outcome_ok (out, changed ? "bookings_updated" : "no_change");
            snprintf (out->reason, sizeof out->reason, "calendar=%.100s changed=%d", cal, changed);
        }
    }
    free (cal);
}

//  -------------------------------------------------------------------
//  Graph change notifications (webhook.graph.updated / .deleted)

static void
s_graph_changed (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    json_t *data = zhub_msg_data_json (msg);
    const char *event_id =
        json_string_value (json_object_get (json_object_get (data, "resourceData"), "id"));
    char *key = event_id ? zhub_sprintf ("graph:%s", event_id) : NULL;
    char *id = NULL;
    size_t size;
    sched_booking_t b;
    if (!key || s_get (ctx->store, self->invitees, key, strlen (key), &id, &size) != ZHUB_OK
        || s_load_booking (ctx->store, self, id, &b) != ZHUB_OK) {
        zhub_outcome_ok (out, "not_ours");
        free (key);
        free (id);
        json_decref (data);
        return;
    }
    bool deleted = !strcmp (msg->type, "webhook.graph.deleted");
    int64_t start = 0, end = 0;
    sched_change_t change = SCHED_CHANGE_NONE;
    bool ok = true;
    if (!strcmp (b.status, "scheduled") && deleted)
        change = SCHED_CHANGE_CANCELED;
    else if (!strcmp (b.status, "scheduled")) {
        //  Notifications say that it changed, not how: read the event.
        const char *token = s_token (ctx->store, self, S_GRAPH, out);
        ok = token != NULL;
        if (ok) {
            char *user = zhub_http_escape (b.calendar_id ? b.calendar_id : "");
            char *eid = zhub_http_escape (event_id);
            char *path = zhub_sprintf ("/users/%s/events/%s", user, eid);
            zhub_http_response_t resp;
            zhub_http_response_init (&resp);
            zhub_graph_request (self->graph, "GET", path, NULL, token,
                                "Prefer: outlook.timezone=\"UTC\"", msg->traceparent, &resp);
            if (resp.status == 404)
                change = SCHED_CHANGE_CANCELED;
            else if ((ok = s_answer_ok (self, S_GRAPH, &resp, "graph get event", out)))
                change = sched_graph_change (resp.json, &b, &start, &end);
            zhub_http_response_reset (&resp);
            free (path);
            free (eid);
            free (user);
        }
    }
    if (ok && change != SCHED_CHANGE_NONE) {
        char salt[80];
        snprintf (salt, sizeof salt, "m%.70s", msg->id);
        int64_t old_start = b.start;
        s_save_t save = {.ctx = ctx,
                         .self = self,
                         .booking = &b,
                         .disarm_start = old_start,
                         .hold_from = old_start};
        if (change == SCHED_CHANGE_CANCELED) {
            s_set_str (&b.status, "canceled");
            save.publish =
                sched_tour_msg ("tour.canceled", &b, salt, msg->traceparent, zhub_now_ms ());
        } else {
            b.start = start;
            b.end = end;
            b.reminders_sent = 0;
            save.arm = true;
            save.hold_put = true;
            save.publish =
                sched_tour_msg ("tour.scheduled", &b, salt, msg->traceparent, zhub_now_ms ());
        }
        if (zhub_store_write (ctx->store, s_save_fn, &save) == ZHUB_OK)
            zhub_outcome_ok (out, change == SCHED_CHANGE_CANCELED ? "canceled" : "moved");
        else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
        zhub_msg_destroy (&save.publish);
    } else if (ok)
        zhub_outcome_ok (out, "no_change");
    sched_booking_clear (&b);
    free (key);
    free (id);
    json_decref (data);
}

void
scheduler_handle (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out)
{
    if (!strcmp (msg->type, "webhook.graph.updated")
        || !strcmp (msg->type, "webhook.graph.deleted")) {
        s_graph_changed (ctx, msg, out);
        return;
    }
    if (!strcmp (msg->type, "webhook.google.calendar.changed")) {
        s_google_changed (ctx, msg, out);
        return;
    }
    if (!strncmp (msg->type, "webhook.calendly.invitee.", 25)) {
        s_invitee (ctx, msg, out);
        return;
    }
    if (!strcmp (msg->type, "tour.requested"))
        s_request (ctx, msg, out);
    else if (!strcmp (msg->type, "tour.reminder") && msg->source
             && !strcmp (msg->source, SCHEDULER_SOURCE))
        s_reminder (ctx, msg, out);
    else
        zhub_outcome_ok (out, "ignored");
}

//  -------------------------------------------------------------------
//  Timers

typedef struct {
    scheduler_t *self;
    int64_t now;
    uint8_t *keys[SCHED_TIMERS_PER_TICK];
    size_t key_sizes[SCHED_TIMERS_PER_TICK];
    json_t *what[SCHED_TIMERS_PER_TICK];
    int64_t due[SCHED_TIMERS_PER_TICK];
    size_t count;
} s_due_t;

static zhub_rc_t
s_due_fn (zhub_txn_t *txn, void *arg)
{
    s_due_t *d = arg;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, d->self->timers);
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = cursor ? zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size)
                          : ZHUB_ERROR;
    while (rc == ZHUB_OK && d->count < SCHED_TIMERS_PER_TICK && key_size >= 8) {
        int64_t due = (int64_t)zhub_store_u64 (key);
        if (due > d->now)
            break;
        d->keys[d->count] = zhub_malloc (key_size);
        memcpy (d->keys[d->count], key, key_size);
        d->key_sizes[d->count] = key_size;
        d->what[d->count] = json_loadb (value, value_size, 0, NULL);
        d->due[d->count++] = due;
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

//  Deletes one fired timer and queues what it causes, in one transaction.
typedef struct {
    zhub_actor_ctx_t *ctx;
    scheduler_t *self;
    const uint8_t *key;
    size_t key_size;
    zhub_msg_t *publish;
    int64_t next_due; //  > 0: re-arm under next_name
    const char *next_name;
    json_t *next_what;
} s_fire_t;

static zhub_rc_t
s_fire_fn (zhub_txn_t *txn, void *arg)
{
    s_fire_t *f = arg;
    zhub_rc_t rc = zhub_txn_del (txn, f->self->timers, f->key, f->key_size);
    if (rc == ZHUB_NOTFOUND)
        return ZHUB_NOTFOUND; //  fired already (by another replica)
    if (rc != ZHUB_OK)
        return rc;
    if (f->next_due > 0
        && (rc = s_put_timer (txn, f->self, f->next_due, f->next_name, f->next_what)) != ZHUB_OK)
        return rc;
    if (f->publish)
        return zhub_actor_outbox_put (f->ctx, txn, f->publish);
    return ZHUB_OK;
}

static void
s_fire (zhub_actor_ctx_t *ctx, const uint8_t *key, size_t key_size, int64_t due, const json_t *what)
{
    scheduler_t *self = ctx->state;
    const char *kind = json_string_value (json_object_get (what, "kind"));
    int64_t now = zhub_now_ms ();
    s_fire_t fire = {.ctx = ctx, .self = self, .key = key, .key_size = key_size};
    char name[64];
    if (kind && !strcmp (kind, "reminder")) {
        const char *id = json_string_value (json_object_get (what, "booking_id"));
        json_int_t index = json_integer_value (json_object_get (what, "index"));
        sched_booking_t b;
        if (id && s_load_booking (ctx->store, self, id, &b) == ZHUB_OK) {
            if (!strcmp (b.status, "scheduled")) {
                char salt[24];
                snprintf (salt, sizeof salt, "r%lld", (long long)index);
                fire.publish = sched_tour_msg ("tour.reminder", &b, salt, NULL, now);
                json_t *data = zhub_msg_data_json (fire.publish);
                json_object_set_new (data, "reminder", json_integer (index));
                json_object_set_new (data, "before_ms", json_integer (b.start - due));
                zhub_msg_set_data_json (fire.publish, data);
                json_decref (data);
            }
            sched_booking_clear (&b);
        }
    } else if (kind && !strcmp (kind, "reconcile")) {
        char since[40], id[64];
        zhub_time_format (json_integer_value (json_object_get (what, "since")), since,
                          sizeof since);
        snprintf (id, sizeof id, "reconcile-%lld", (long long)due);
        fire.publish = zhub_msg_new ();
        zhub_msg_set (&fire.publish->id, id);
        zhub_msg_set (&fire.publish->source, SCHEDULER_SOURCE);
        zhub_msg_set (&fire.publish->type, "contact.reconcile");
        zhub_msg_set (&fire.publish->subject, "reconcile");
        fire.publish->time_ms = now;
        json_t *data = json_pack ("{s:s}", "since", since);
        zhub_msg_set_data_json (fire.publish, data);
        json_decref (data);
        if (self->cfg.reconcile_every_ms > 0) {
            fire.next_due = now + self->cfg.reconcile_every_ms;
            fire.next_name = "reconcile";
            fire.next_what =
                json_pack ("{s:s, s:I}", "kind", "reconcile", "since", (json_int_t)due);
        }
    } else if (kind && !strcmp (kind, "watch")) {
        //  (Re)open the push channel of one Google calendar.
        const char *cal = json_string_value (json_object_get (what, "calendar"));
        zhub_outcome_t out;
        memset (&out, 0, sizeof out);
        const char *token = cal ? s_token (ctx->store, self, S_GOOGLE, &out) : NULL;
        int64_t next = now + SCHED_WATCH_RETRY_MS;
        if (token && self->public_url) {
            unsigned char hash[crypto_hash_sha256_BYTES];
            crypto_hash_sha256 (hash, (const unsigned char *)cal, strlen (cal));
            char hex[17], id[64];
            sodium_bin2hex (hex, sizeof hex, hash, 8);
            snprintf (id, sizeof id, "zhub-%s-%lld", hex, (long long)due);
            char *address = zhub_sprintf ("%s/v1/webhooks/google", self->public_url);
            json_t *body =
                json_pack ("{s:s, s:s, s:s, s:I}", "id", id, "type", "web_hook", "address", address,
                           "expiration", (json_int_t)(now + SCHED_WATCH_TTL_MS));
            if (self->channel_token)
                json_object_set_new (body, "token", json_string (self->channel_token));
            zhub_http_response_t resp;
            zhub_http_response_init (&resp);
            zhub_google_events_watch (self->google, cal, body, token, NULL, &resp);
            if (resp.status >= 200 && resp.status < 300) {
                int64_t until = 0;
                const char *text = json_string_value (json_object_get (resp.json, "expiration"));
                if (text)
                    until = strtoll (text, NULL, 10);
                next = (until > now ? until : now + SCHED_WATCH_TTL_MS) - SCHED_WATCH_RENEW_MS;
                zhub_info ("watch_opened", "calendar=%s channel=%s", cal, id);
            } else
                zhub_warn ("watch_failed", "calendar=%s status=%ld", cal, resp.status);
            zhub_http_response_reset (&resp);
            json_decref (body);
            free (address);
        }
        snprintf (name, sizeof name, "watch:%.50s", cal ? cal : "");
        fire.next_due = next;
        fire.next_name = name;
        fire.next_what = json_deep_copy (what);
    } else if (kind && !strcmp (kind, "token")) {
        const char *provider = json_string_value (json_object_get (what, "provider"));
        int p = provider && !strcmp (provider, "graph") ? S_GRAPH : S_GOOGLE;
        zhub_outcome_t out;
        memset (&out, 0, sizeof out);
        //  A successful refresh writes the next token timer itself.
        if (s_token_refresh (ctx->store, self, p, &out) != ZHUB_OK) {
            zhub_warn ("token_refresh_failed", "provider=%s code=%u", s_provider_name[p], out.code);
            snprintf (name, sizeof name, "token:%s", s_provider_name[p]);
            fire.next_due = now + SCHED_TOKEN_RETRY_MS;
            fire.next_name = name;
            fire.next_what = json_deep_copy (what);
        } else {
            //  The refresh put a new timer under the same name; delete only
            //  this (older) key.
        }
    }
    zhub_rc_t rc = zhub_store_write (ctx->store, s_fire_fn, &fire);
    if (rc == ZHUB_OK)
        zhub_info ("timer_fired", "kind=%s due=%lld late_ms=%lld", kind ? kind : "?",
                   (long long)due, (long long)(now - due));
    else if (rc == ZHUB_ERROR)
        zhub_error ("timer_failed", "kind=%s due=%lld", kind ? kind : "?", (long long)due);
    zhub_msg_destroy (&fire.publish);
    json_decref (fire.next_what);
}

void
scheduler_tick (zhub_actor_ctx_t *ctx)
{
    scheduler_t *self = ctx->state;
    s_due_t *d = zhub_calloc (1, sizeof *d);
    d->self = self;
    d->now = zhub_now_ms ();
    if (zhub_store_read (ctx->store, s_due_fn, d) == ZHUB_OK)
        for (size_t i = 0; i < d->count; i++)
            s_fire (ctx, d->keys[i], d->key_sizes[i], d->due[i], d->what[i]);
    for (size_t i = 0; i < d->count; i++) {
        free (d->keys[i]);
        json_decref (d->what[i]);
    }
    free (d);
}

//  -------------------------------------------------------------------
//  Start

typedef struct {
    scheduler_t *self;
} s_arm_t;

static zhub_rc_t
s_arm_fn (zhub_txn_t *txn, void *arg)
{
    scheduler_t *self = ((s_arm_t *)arg)->self;
    //  The reconcile timer is armed once; "reconcile_armed" remembers it.
    if (self->cfg.reconcile_every_ms > 0 && !s_meta_u64 (txn, self, "reconcile_armed")) {
        int64_t now = zhub_now_ms ();
        json_t *what = json_pack ("{s:s, s:I}", "kind", "reconcile", "since", (json_int_t)now);
        zhub_rc_t rc =
            s_put_timer (txn, self, now + self->cfg.reconcile_every_ms, "reconcile", what);
        json_decref (what);
        if (rc != ZHUB_OK)
            return rc;
        if (s_meta_put_u64 (txn, self, "reconcile_armed", 1) != ZHUB_OK)
            return ZHUB_ERROR;
    }
    //  One push channel per Google calendar, opened once and then renewed
    //  by its own timer.
    for (size_t i = 0; self->public_url && i < self->cfg.agent_count; i++) {
        const sched_agent_t *agent = &self->cfg.agents[i];
        char meta[120], name[64];
        snprintf (meta, sizeof meta, "watch_armed:%.100s", agent->calendar_id);
        if (agent->platform != SCHED_GOOGLE || s_meta_u64 (txn, self, meta))
            continue;
        snprintf (name, sizeof name, "watch:%.50s", agent->calendar_id);
        json_t *what = json_pack ("{s:s, s:s}", "kind", "watch", "calendar", agent->calendar_id);
        zhub_rc_t rc = s_put_timer (txn, self, zhub_now_ms (), name, what);
        json_decref (what);
        if (rc != ZHUB_OK || s_meta_put_u64 (txn, self, meta, 1) != ZHUB_OK)
            return ZHUB_ERROR;
    }
    return ZHUB_OK;
}

int
scheduler_open (zhub_actor_ctx_t *ctx)
{
    scheduler_t *self = ctx->state;
    if (zhub_store_table (ctx->store, "bookings", &self->bookings)
        || zhub_store_table (ctx->store, "holds", &self->holds)
        || zhub_store_table (ctx->store, "timers", &self->timers)
        || zhub_store_table (ctx->store, "tokens", &self->tokens)
        || zhub_store_table (ctx->store, "meta", &self->meta)
        || zhub_store_table (ctx->store, "invitees", &self->invitees))
        return -1;
    s_arm_t arm = {self};
    return zhub_store_write (ctx->store, s_arm_fn, &arm) == ZHUB_OK ? 0 : -1;
}
