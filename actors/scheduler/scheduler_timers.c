//  scheduler's timers, the I/O side. A timer is a message to ourselves,
//  held by the broker until it is due (scheduler_timer.h); it is armed by
//  putting it into the outbox in the very transaction that makes it
//  needed (a booking, a refreshed token, a renewed watch), so it can
//  neither be lost nor armed twice across a crash. Here: arming, the
//  routes that handle them when they come due, and, once, moving the
//  timers an older scheduler kept in its "timers" table onto the bus.
//
//  A timer arrives once it is due. Whether it still counts is decided by
//  the state it is about, read again (a reminder: the booking still
//  scheduled at the start it was armed for; reconcile, token: the due time
//  the meta table names), so a timer made stale by a later change is acked
//  without doing anything ("stale").
#include "scheduler_internal.h"
#include "scheduler_timer.h"

zhub_rc_t
scheduler_timer_arm (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const sched_timer_t *t,
                     int64_t held_from)
{
    char reason[256], quoted[300];
    zhub_msg_t *msg = sched_timer_msg (t, held_from, zhub_now_ms (), reason, sizeof reason);
    if (!msg) {
        //  our own data: a bug, and the change that needs the timer waits
        zhub_error ("timer_refused", "due=%lld reason=%s", (long long)t->due,
                    zhub_log_quote (reason, quoted, sizeof quoted));
        return ZHUB_REJECT;
    }
    zhub_rc_t rc = zhub_actor_outbox_put (ctx, txn, msg);
    zhub_msg_destroy (&msg);
    return rc;
}

//  -------------------------------------------------------------------
//  What every timer route does first

typedef struct {
    zhub_actor_ctx_t *ctx;
    const sched_timer_t *timer;
    int64_t held_from;
} s_hop_t;

static zhub_rc_t
s_hop_fn (zhub_txn_t *txn, void *arg)
{
    s_hop_t *h = arg;
    return scheduler_timer_arm (h->ctx, txn, h->timer, h->held_from);
}

//  Reads the timer of kind that ev carries into *t. true when it is due
//  and the caller is to act on it; false with *out set when it was not one
//  (rejected) or arrived at the end of a hop (held again, as the next hop
//  of the same timer).
static bool
s_timer (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, sched_timer_kind_t kind,
         sched_timer_t *t, zhub_outcome_t *out)
{
    char reason[256];
    if (sched_timer_parse (kind, ev->data, t, reason, sizeof reason) != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        return false;
    }
    if (!sched_timer_early (t, ev->msg))
        return true;
    t->hop++;
    s_hop_t hop = {.ctx = ctx, .timer = t, .held_from = ev->msg->deliver_at_ms};
    if (zhub_store_write (ctx->store, s_hop_fn, &hop) == ZHUB_OK)
        zhub_outcome_ok (out, "held_again");
    else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot hold the timer again");
    sched_timer_clear (t);
    return false;
}

static void
s_fired (const sched_timer_t *t, const char *kind, int64_t now)
{
    zhub_info ("timer_fired", "kind=%s due=%lld late_ms=%lld", kind, (long long)t->due,
               (long long)(now - t->due));
}

//  -------------------------------------------------------------------
//  scheduler.timer.reminder: tour.reminder, whose own route sends the
//  WhatsApp (scheduler_booking.c)

typedef struct {
    zhub_actor_ctx_t *ctx;
    zhub_msg_t *publish;
} s_publish_t;

static zhub_rc_t
s_publish_fn (zhub_txn_t *txn, void *arg)
{
    s_publish_t *p = arg;
    return zhub_actor_outbox_put (p->ctx, txn, p->publish);
}

void
scheduler_handle_timer_reminder (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                 zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    sched_timer_t t;
    if (!s_timer (ctx, ev, SCHED_TIMER_REMINDER, &t, out))
        return;
    sched_booking_t b;
    zhub_rc_t rc = scheduler_load_booking (ctx->store, self, t.booking_id, &b);
    if (rc == ZHUB_ERROR)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the booking");
    else if (rc == ZHUB_NOTFOUND)
        zhub_outcome_ok (out, "unknown_booking"); //  erased since
    else if (strcmp (b.status, "scheduled") || b.start != t.start)
        zhub_outcome_ok (out, "stale"); //  canceled, or moved: the new start has its own
    else {
        int64_t now = zhub_now_ms ();
        char reason[256];
        s_publish_t publish = {
            .ctx = ctx,
            .publish = sched_reminder_msg (&b, t.index, t.due, now, reason, sizeof reason)};
        if (!publish.publish)
            zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        else if (zhub_store_write (ctx->store, s_publish_fn, &publish) != ZHUB_OK)
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot queue tour.reminder");
        else {
            s_fired (&t, "reminder", now);
            zhub_outcome_ok (out, "reminder_due");
        }
        zhub_msg_destroy (&publish.publish);
    }
    if (rc == ZHUB_OK)
        sched_booking_clear (&b);
    sched_timer_clear (&t);
}

//  -------------------------------------------------------------------
//  scheduler.timer.reconcile: contact.reconcile, and the next timer

//  The due time of the reconcile timer armed last (meta "reconcile_due"),
//  0 when none is: the chain ended (reconcile_every 0) or never began.
#define S_RECONCILE_DUE "reconcile_due"

typedef struct {
    zhub_actor_ctx_t *ctx;
    scheduler_t *self;
    const sched_timer_t *timer; //  the one that fired, or NULL at start
    int64_t now;
    bool armed; //  out (at start): a chain was started
} s_reconcile_t;

//  Arms the next reconcile timer (since: since) and names it in meta.
static zhub_rc_t
s_reconcile_next (s_reconcile_t *r, zhub_txn_t *txn, int64_t since)
{
    sched_timer_t next = {.kind = SCHED_TIMER_RECONCILE,
                          .since = since,
                          .due = r->now + r->self->cfg.reconcile_every_ms};
    zhub_rc_t rc = scheduler_timer_arm (r->ctx, txn, &next, r->now);
    if (rc == ZHUB_OK)
        rc = scheduler_meta_put_u64 (txn, r->self, S_RECONCILE_DUE, (uint64_t)next.due);
    return rc;
}

static zhub_rc_t
s_reconcile_fn (zhub_txn_t *txn, void *arg)
{
    s_reconcile_t *r = arg;
    scheduler_t *self = r->self;
    uint64_t armed = scheduler_meta_u64 (txn, self, S_RECONCILE_DUE);
    if (!r->timer) {
        //  at start: a chain is running, or reconcile is off
        if (armed || self->cfg.reconcile_every_ms <= 0)
            return ZHUB_OK;
        r->armed = true;
        return s_reconcile_next (r, txn, r->now);
    }
    const sched_timer_t *t = r->timer;
    if (armed != (uint64_t)t->due)
        return ZHUB_NOTFOUND; //  not the chain's timer (handled already)
    char since[40], id[64];
    zhub_time_format (t->since, since, sizeof since);
    snprintf (id, sizeof id, "reconcile-%lld", (long long)t->due);
    zhub_msg_t *reconcile = zhub_msg_new ();
    zhub_msg_set (&reconcile->id, id);
    zhub_msg_set (&reconcile->source, SCHEDULER_SOURCE);
    zhub_msg_set (&reconcile->type, "contact.reconcile");
    zhub_msg_set (&reconcile->subject, "reconcile");
    reconcile->time_ms = r->now;
    json_t *data = json_pack ("{s:s}", "since", since);
    zhub_msg_set_data_json (reconcile, data);
    json_decref (data);
    zhub_rc_t rc = zhub_actor_outbox_put (r->ctx, txn, reconcile);
    zhub_msg_destroy (&reconcile);
    if (rc != ZHUB_OK)
        return rc;
    if (self->cfg.reconcile_every_ms > 0)
        return s_reconcile_next (r, txn, t->due);
    //  switched off: the chain ends here, and starts again when switched on
    rc = zhub_txn_del (txn, self->meta, S_RECONCILE_DUE, strlen (S_RECONCILE_DUE));
    return rc == ZHUB_NOTFOUND ? ZHUB_OK : rc;
}

void
scheduler_handle_timer_reconcile (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                  zhub_outcome_t *out)
{
    sched_timer_t t;
    if (!s_timer (ctx, ev, SCHED_TIMER_RECONCILE, &t, out))
        return;
    s_reconcile_t r = {.ctx = ctx, .self = ctx->state, .timer = &t, .now = zhub_now_ms ()};
    zhub_rc_t rc = zhub_store_write (ctx->store, s_reconcile_fn, &r);
    if (rc == ZHUB_OK) {
        s_fired (&t, "reconcile", r.now);
        zhub_outcome_ok (out, "reconcile_due");
    } else if (rc == ZHUB_NOTFOUND)
        zhub_outcome_ok (out, "stale");
    else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot queue contact.reconcile");
    sched_timer_clear (&t);
}

//  -------------------------------------------------------------------
//  scheduler.timer.token: refresh an OAuth token before it expires

zhub_rc_t
scheduler_token_timer_arm (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, int provider, int64_t due)
{
    scheduler_t *self = ctx->state;
    char meta[40];
    snprintf (meta, sizeof meta, "token_due:%s", scheduler_provider_name[provider]);
    sched_timer_t t = {.kind = SCHED_TIMER_TOKEN,
                       .platform = provider == S_GRAPH ? SCHED_GRAPH : SCHED_GOOGLE,
                       .due = due};
    zhub_rc_t rc = scheduler_timer_arm (ctx, txn, &t, zhub_now_ms ());
    return rc == ZHUB_OK ? scheduler_meta_put_u64 (txn, self, meta, (uint64_t)due) : rc;
}

//  The token timer provider has armed last (meta "token_due:<provider>").
typedef struct {
    zhub_actor_ctx_t *ctx;
    int provider;
    int64_t fired; //  the timer that fired
    int64_t next;  //  > 0: arm this one instead (a failed refresh tried again)
    bool current;  //  out: fired is the one armed last
} s_token_t;

static zhub_rc_t
s_token_fn (zhub_txn_t *txn, void *arg)
{
    s_token_t *k = arg;
    char meta[40];
    snprintf (meta, sizeof meta, "token_due:%s", scheduler_provider_name[k->provider]);
    k->current = scheduler_meta_u64 (txn, k->ctx->state, meta) == (uint64_t)k->fired;
    if (!k->current || k->next <= 0)
        return ZHUB_OK;
    return scheduler_token_timer_arm (k->ctx, txn, k->provider, k->next);
}

void
scheduler_handle_timer_token (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                              zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    sched_timer_t t;
    if (!s_timer (ctx, ev, SCHED_TIMER_TOKEN, &t, out))
        return;
    int p = t.platform == SCHED_GRAPH ? S_GRAPH : S_GOOGLE;
    s_token_t check = {.ctx = ctx, .provider = p, .fired = t.due};
    if (zhub_store_read (ctx->store, s_token_fn, &check) != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the token's timer");
        sched_timer_clear (&t);
        return;
    }
    if (!check.current) {
        zhub_outcome_ok (out, "stale"); //  refreshed since, with a timer of its own
        sched_timer_clear (&t);
        return;
    }
    zhub_outcome_t refresh;
    memset (&refresh, 0, sizeof refresh);
    //  A successful refresh arms the next timer itself.
    if (scheduler_token_refresh (ctx, self, p, &refresh) == ZHUB_OK) {
        s_fired (&t, "token", zhub_now_ms ());
        zhub_outcome_ok (out, "token_refreshed");
    } else {
        zhub_warn ("token_refresh_failed", "provider=%s code=%u", scheduler_provider_name[p],
                   refresh.code);
        s_token_t retry = {.ctx = ctx,
                           .provider = p,
                           .fired = t.due,
                           .next = zhub_now_ms () + SCHED_TOKEN_RETRY_MS};
        if (zhub_store_write (ctx->store, s_token_fn, &retry) == ZHUB_OK)
            zhub_outcome_ok (out, "token_retry_armed");
        else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot arm the token's timer");
    }
    sched_timer_clear (&t);
}

//  -------------------------------------------------------------------
//  scheduler.timer.watch: renew a calendar's channel or subscription
//  (scheduler_watch_io.c)

void
scheduler_handle_timer_watch (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                              zhub_outcome_t *out)
{
    sched_timer_t t;
    if (!s_timer (ctx, ev, SCHED_TIMER_WATCH, &t, out))
        return;
    scheduler_watch_fire (ctx, &t, out);
    sched_timer_clear (&t);
}

//  -------------------------------------------------------------------
//  At start

//  Moves what an older scheduler kept in its "timers" table (key: u64 due
//  + name; value: {"kind", ...}) onto the bus, in one transaction: each
//  becomes the timer message it stands for, due when it was, and the
//  table is emptied. Reminders take the start of their booking (a timer
//  whose booking is gone or not scheduled is dropped); a token's or the
//  reconcile's meta entry names the latest one; older "watch" timers were
//  leftovers already.
typedef struct {
    zhub_actor_ctx_t *ctx;
    scheduler_t *self;
    zhub_txn_t *txn;
    int64_t now;
    size_t moved, dropped;
    int64_t token_due[2];
    int64_t reconcile_due;
} s_migrate_t;

static zhub_rc_t
s_migrate_one (s_migrate_t *m, int64_t due, const json_t *what)
{
    const char *kind = json_string_value (json_object_get (what, "kind"));
    sched_timer_t t = {.due = due};
    sched_booking_t b;
    bool have_booking = false;
    zhub_rc_t rc = ZHUB_OK;
    if (!kind)
        return ZHUB_NOTFOUND;
    if (!strcmp (kind, "reminder")) {
        const char *id = json_string_value (json_object_get (what, "booking_id"));
        const void *value;
        size_t size;
        if (!id
            || zhub_txn_get (m->txn, m->self->bookings, id, strlen (id), &value, &size) != ZHUB_OK
            || sched_booking_decode (value, size, &b))
            return ZHUB_NOTFOUND;
        have_booking = true;
        if (strcmp (b.status, "scheduled"))
            rc = ZHUB_NOTFOUND;
        t.kind = SCHED_TIMER_REMINDER;
        t.booking_id = b.booking_id;
        t.index = json_integer_value (json_object_get (what, "index"));
        t.start = b.start;
    } else if (!strcmp (kind, "reconcile")) {
        t.kind = SCHED_TIMER_RECONCILE;
        t.since = json_integer_value (json_object_get (what, "since"));
        if (due > m->reconcile_due)
            m->reconcile_due = due;
    } else if (!strcmp (kind, "token")) {
        const char *provider = json_string_value (json_object_get (what, "provider"));
        int p = provider && !strcmp (provider, "graph") ? S_GRAPH : S_GOOGLE;
        t.kind = SCHED_TIMER_TOKEN;
        t.platform = p == S_GRAPH ? SCHED_GRAPH : SCHED_GOOGLE;
        if (due > m->token_due[p])
            m->token_due[p] = due;
    } else if (!strcmp (kind, "subscription")) {
        const char *platform = json_string_value (json_object_get (what, "platform"));
        const char *target = json_string_value (json_object_get (what, "target"));
        if (!platform || !target)
            return ZHUB_NOTFOUND;
        t.kind = SCHED_TIMER_WATCH;
        t.platform = !strcmp (platform, "graph") ? SCHED_GRAPH : SCHED_GOOGLE;
        t.target = (char *)target;
    } else
        return ZHUB_NOTFOUND;
    if (rc == ZHUB_OK)
        rc = scheduler_timer_arm (m->ctx, m->txn, &t, m->now);
    if (have_booking)
        sched_booking_clear (&b);
    return rc;
}

static zhub_walk_t
s_migrate_take (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_migrate_t *m = arg;
    json_t *what = key_size > 8 ? json_loadb (value, value_size, 0, NULL) : NULL;
    zhub_rc_t rc = what ? s_migrate_one (m, (int64_t)zhub_store_u64 (key), what) : ZHUB_NOTFOUND;
    json_decref (what);
    if (rc == ZHUB_OK)
        m->moved++;
    else if (rc == ZHUB_NOTFOUND)
        m->dropped++;
    return rc == ZHUB_OK || rc == ZHUB_NOTFOUND ? ZHUB_WALK_NEXT : ZHUB_WALK_FAIL;
}

static bool
s_every_row (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)key, (void)key_size, (void)value, (void)size, (void)arg;
    return true;
}

static zhub_rc_t
s_migrate_fn (zhub_txn_t *txn, void *arg)
{
    s_migrate_t *m = arg;
    m->txn = txn;
    m->moved = m->dropped = 0;
    m->reconcile_due = m->token_due[0] = m->token_due[1] = 0;
    zhub_rc_t rc = ZHUB_OK;
    if (zhub_txn_count (txn, m->self->timers)) {
        rc = zhub_txn_walk (txn, m->self->timers, s_migrate_take, m);
        size_t removed = 0;
        if (rc == ZHUB_OK)
            rc = zhub_txn_delete_where (txn, m->self->timers, s_every_row, NULL, &removed);
    }
    for (int p = 0; rc == ZHUB_OK && p < 2; p++)
        if (m->token_due[p]) {
            char meta[40];
            snprintf (meta, sizeof meta, "token_due:%s", scheduler_provider_name[p]);
            rc = scheduler_meta_put_u64 (txn, m->self, meta, (uint64_t)m->token_due[p]);
        }
    if (rc == ZHUB_OK && m->reconcile_due)
        rc = scheduler_meta_put_u64 (txn, m->self, S_RECONCILE_DUE, (uint64_t)m->reconcile_due);
    //  the older flag of a started chain: meta "reconcile_due" says it now
    if (rc == ZHUB_OK) {
        rc = zhub_txn_del (txn, m->self->meta, "reconcile_armed", 15);
        rc = rc == ZHUB_NOTFOUND ? ZHUB_OK : rc;
    }
    return rc;
}

int
scheduler_timers_open (zhub_actor_ctx_t *ctx)
{
    scheduler_t *self = ctx->state;
    s_migrate_t migrate = {.ctx = ctx, .self = self, .now = zhub_now_ms ()};
    if (zhub_store_write (ctx->store, s_migrate_fn, &migrate) != ZHUB_OK)
        return -1;
    if (migrate.moved || migrate.dropped)
        zhub_info ("timers_moved", "to=bus moved=%zu dropped=%zu", migrate.moved, migrate.dropped);
    s_reconcile_t arm = {.ctx = ctx, .self = self, .now = zhub_now_ms ()};
    if (zhub_store_write (ctx->store, s_reconcile_fn, &arm) != ZHUB_OK)
        return -1;
    if (arm.armed)
        zhub_info ("reconcile_armed", "every_ms=%lld", (long long)self->cfg.reconcile_every_ms);
    return 0;
}
