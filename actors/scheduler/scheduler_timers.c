//  scheduler's timers: the actor runtime's tick fires due timers from
//  LMDB. A timer is deleted in the same transaction that queues what it
//  causes (tour.reminder, contact.reconcile, token refresh) in the
//  outbox, so it fires once. Subscription renewals are handed to
//  scheduler_watch_io.c, which does the same with its own records.
#include "scheduler_internal.h"

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

//  Timers are keyed by due time: the first one not due yet ends the walk.
static zhub_walk_t
s_due_take (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_due_t *d = arg;
    if (d->count >= SCHED_TIMERS_PER_TICK || key_size < 8)
        return ZHUB_WALK_STOP;
    int64_t due = (int64_t)zhub_store_u64 (key);
    if (due > d->now)
        return ZHUB_WALK_STOP;
    d->keys[d->count] = zhub_malloc (key_size);
    memcpy (d->keys[d->count], key, key_size);
    d->key_sizes[d->count] = key_size;
    d->what[d->count] = json_loadb (value, value_size, 0, NULL);
    d->due[d->count++] = due;
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_due_fn (zhub_txn_t *txn, void *arg)
{
    s_due_t *d = arg;
    return zhub_txn_walk (txn, d->self->timers, s_due_take, d);
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
        && (rc = scheduler_put_timer (txn, f->self, f->next_due, f->next_name, f->next_what))
               != ZHUB_OK)
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
        if (id && scheduler_load_booking (ctx->store, self, id, &b) == ZHUB_OK) {
            char reason[256], quoted[300];
            if (!strcmp (b.status, "scheduled")
                && !(fire.publish =
                         sched_reminder_msg (&b, index, due, now, reason, sizeof reason)))
                zhub_error ("reminder_refused", "booking=%s reason=%s", b.booking_id,
                            zhub_log_quote (reason, quoted, sizeof quoted));
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
    } else if (kind && (!strcmp (kind, "subscription") || !strcmp (kind, "watch"))) {
        //  A Google channel or Graph subscription to renew: its record and
        //  next timer are one transaction of its own (scheduler_watch_io.c).
        scheduler_watch_fire (ctx, key, key_size, due, what);
        return;
    } else if (kind && !strcmp (kind, "token")) {
        const char *provider = json_string_value (json_object_get (what, "provider"));
        int p = provider && !strcmp (provider, "graph") ? S_GRAPH : S_GOOGLE;
        zhub_outcome_t out;
        memset (&out, 0, sizeof out);
        //  A successful refresh writes the next token timer itself.
        if (scheduler_token_refresh (ctx->store, self, p, &out) != ZHUB_OK) {
            zhub_warn ("token_refresh_failed", "provider=%s code=%u", scheduler_provider_name[p],
                       out.code);
            snprintf (name, sizeof name, "token:%s", scheduler_provider_name[p]);
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
