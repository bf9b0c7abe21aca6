//  The scheduler's store, the part about its timers (see
//  scheduler_store.h): the watch records and their renewal timers, the
//  reconcile chain, and the timers table of older versions. Built on
//  scheduler_store.c's helpers; every check of "is this the timer that
//  counts" is made inside the write transaction that acts on it.
#include "scheduler_store_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RECONCILE_DUE "reconcile_due"

//  -------------------------------------------------------------------
//  Watches

//  The record under name, read inside txn. ZHUB_OK, ZHUB_NOTFOUND,
//  ZHUB_ERROR (a record that does not decode counts as none).
static zhub_rc_t
s_watch_get (const sched_store_t *self, zhub_txn_t *txn, const char *name, sched_watch_t *rec)
{
    memset (rec, 0, sizeof *rec);
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, self->watches, name, strlen (name), &value, &size);
    if (rc == ZHUB_OK && sched_watch_decode (value, size, rec))
        rc = ZHUB_NOTFOUND;
    return rc;
}

//  Writes the record and, when it names one, arms its timer.
static zhub_rc_t
s_watch_put (const sched_store_t *self, zhub_txn_t *txn, const char *name, const sched_watch_t *rec)
{
    char *text = sched_watch_encode (rec);
    zhub_rc_t rc = zhub_txn_put (txn, self->watches, name, strlen (name), text, strlen (text));
    free (text);
    if (rc != ZHUB_OK || rec->timer_due <= 0)
        return rc;
    sched_timer_t timer = {.kind = SCHED_TIMER_WATCH,
                           .platform = rec->platform,
                           .target = rec->target,
                           .due = rec->timer_due};
    return sched_store_arm (self, txn, &timer, zhub_now_ms ());
}

typedef struct {
    const sched_store_t *self;
    const char *name;
    sched_watch_t *rec;
} s_watch_read_t;

static zhub_rc_t
s_watch_read_fn (zhub_txn_t *txn, void *arg)
{
    s_watch_read_t *r = arg;
    return s_watch_get (r->self, txn, r->name, r->rec);
}

zhub_rc_t
sched_store_watch (sched_store_t *self, const char *name, sched_watch_t *rec)
{
    s_watch_read_t read = {.self = self, .name = name, .rec = rec};
    zhub_rc_t rc = zhub_store_read (self->store, s_watch_read_fn, &read);
    if (rc != ZHUB_OK)
        sched_watch_clear (rec);
    return rc;
}

typedef struct {
    const sched_store_t *self;
    sched_platform_t platform;
    const char *target, *address, *name;
    int64_t now, fired;
    const sched_watch_t *rec;
    bool drop;
    bool armed;
} s_watch_t;

static zhub_rc_t
s_watch_arm_fn (zhub_txn_t *txn, void *arg)
{
    s_watch_t *w = arg;
    sched_watch_t rec;
    zhub_rc_t rc = s_watch_get (w->self, txn, w->name, &rec);
    bool found = rc == ZHUB_OK;
    w->armed = false;
    if (rc == ZHUB_ERROR)
        return rc;
    int64_t due = sched_watch_arm_due (found ? &rec : NULL, w->address, w->now);
    rc = ZHUB_OK;
    if (due >= 0) {
        //  the timer armed before, if any, no longer counts
        if (!found) {
            rec.platform = w->platform;
            rec.target = zhub_strdup (w->target);
        }
        rec.timer_due = due;
        rc = s_watch_put (w->self, txn, w->name, &rec);
        w->armed = true;
    }
    sched_watch_clear (&rec);
    return rc;
}

zhub_rc_t
sched_store_watch_arm (sched_store_t *self, sched_platform_t platform, const char *target,
                       const char *address, int64_t now, bool *armed)
{
    char name[SCHED_WATCH_NAME_BYTES];
    sched_watch_name (platform, target, name, sizeof name);
    s_watch_t w = {.self = self,
                   .platform = platform,
                   .target = target,
                   .address = address,
                   .name = name,
                   .now = now};
    zhub_rc_t rc = zhub_store_write (self->store, s_watch_arm_fn, &w);
    *armed = rc == ZHUB_OK && w.armed;
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

static zhub_rc_t
s_watch_save_fn (zhub_txn_t *txn, void *arg)
{
    s_watch_t *w = arg;
    sched_watch_t now;
    zhub_rc_t rc = s_watch_get (w->self, txn, w->name, &now);
    bool current = rc == ZHUB_OK && now.timer_due == w->fired;
    sched_watch_clear (&now);
    if (rc == ZHUB_ERROR)
        return rc;
    if (!current)
        return ZHUB_NOTFOUND;
    if (w->drop) {
        rc = zhub_txn_del (txn, w->self->watches, w->name, strlen (w->name));
        return rc == ZHUB_NOTFOUND ? ZHUB_OK : rc;
    }
    return s_watch_put (w->self, txn, w->name, w->rec);
}

zhub_rc_t
sched_store_watch_save (sched_store_t *self, const char *name, int64_t fired,
                        const sched_watch_t *rec, bool drop)
{
    assert (name && (rec || drop));
    s_watch_t w = {.self = self, .name = name, .fired = fired, .rec = rec, .drop = drop};
    zhub_rc_t rc = zhub_store_write (self->store, s_watch_save_fn, &w);
    return rc == ZHUB_OK || rc == ZHUB_NOTFOUND ? rc : ZHUB_ERROR;
}

//  -------------------------------------------------------------------
//  The reconcile chain

typedef struct {
    const sched_store_t *self;
    const sched_timer_t *fired; //  NULL at start
    const zhub_msg_t *reconcile;
    int64_t now, every_ms;
    bool armed;
} s_reconcile_t;

//  Arms the next reconcile timer (since since) and names it in meta.
static zhub_rc_t
s_reconcile_next (s_reconcile_t *r, zhub_txn_t *txn, int64_t since)
{
    sched_timer_t next = {
        .kind = SCHED_TIMER_RECONCILE, .since = since, .due = r->now + r->every_ms};
    zhub_rc_t rc = sched_store_arm (r->self, txn, &next, r->now);
    return rc == ZHUB_OK ? sched_store_meta_put (r->self, txn, S_RECONCILE_DUE, (uint64_t)next.due)
                         : rc;
}

static zhub_rc_t
s_reconcile_fn (zhub_txn_t *txn, void *arg)
{
    s_reconcile_t *r = arg;
    uint64_t armed = sched_store_meta_u64 (r->self, txn, S_RECONCILE_DUE);
    r->armed = false;
    if (!r->fired) {
        //  at start: a chain is running, or reconcile is off
        if (armed || r->every_ms <= 0)
            return ZHUB_OK;
        r->armed = true;
        return s_reconcile_next (r, txn, r->now);
    }
    if (armed != (uint64_t)r->fired->due)
        return ZHUB_NOTFOUND; //  not the chain's timer (handled already)
    zhub_rc_t rc = zhub_actor_outbox_put (r->self->ctx, txn, r->reconcile);
    if (rc != ZHUB_OK)
        return rc;
    if (r->every_ms > 0)
        return s_reconcile_next (r, txn, r->fired->due);
    //  switched off: the chain ends here, and starts again when switched on
    return sched_store_meta_del (r->self, txn, S_RECONCILE_DUE);
}

zhub_rc_t
sched_store_reconcile_start (sched_store_t *self, int64_t now, int64_t every_ms, bool *armed)
{
    s_reconcile_t r = {.self = self, .now = now, .every_ms = every_ms};
    zhub_rc_t rc = zhub_store_write (self->store, s_reconcile_fn, &r);
    *armed = rc == ZHUB_OK && r.armed;
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

zhub_rc_t
sched_store_reconcile_fire (sched_store_t *self, const sched_timer_t *t,
                            const zhub_msg_t *reconcile, int64_t now, int64_t every_ms)
{
    assert (t && reconcile);
    s_reconcile_t r = {
        .self = self, .fired = t, .reconcile = reconcile, .now = now, .every_ms = every_ms};
    zhub_rc_t rc = zhub_store_write (self->store, s_reconcile_fn, &r);
    return rc == ZHUB_OK || rc == ZHUB_NOTFOUND ? rc : ZHUB_ERROR;
}

//  -------------------------------------------------------------------
//  The timers table of older versions

typedef struct {
    const sched_store_t *self;
    zhub_txn_t *txn;
    int64_t now;
    size_t moved, dropped;
    int64_t token_due[2];
    int64_t reconcile_due;
} s_migrate_t;

//  One older timer as the message it stands for. ZHUB_NOTFOUND: dropped.
static zhub_rc_t
s_migrate_one (s_migrate_t *m, int64_t due, const json_t *what)
{
    const char *kind = json_string_value (json_object_get (what, "kind"));
    sched_timer_t t = {.due = due};
    sched_booking_t b;
    memset (&b, 0, sizeof b);
    zhub_rc_t rc = ZHUB_OK;
    if (!kind)
        return ZHUB_NOTFOUND;
    if (!strcmp (kind, "reminder")) {
        const char *id = json_string_value (json_object_get (what, "booking_id"));
        if (!id)
            return ZHUB_NOTFOUND;
        rc = sched_store_booking_in (m->self, m->txn, id, &b);
        if (rc == ZHUB_OK && strcmp (b.status, "scheduled"))
            rc = ZHUB_NOTFOUND;
        else if (rc == ZHUB_ERROR)
            rc = ZHUB_NOTFOUND; //  a record that does not decode has no reminders
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
        t.kind = SCHED_TIMER_TOKEN;
        t.platform = provider && !strcmp (provider, "graph") ? SCHED_GRAPH : SCHED_GOOGLE;
        if (due > m->token_due[t.platform])
            m->token_due[t.platform] = due;
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
        rc = sched_store_arm (m->self, m->txn, &t, m->now);
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
    const sched_store_t *self = m->self;
    m->txn = txn;
    m->moved = m->dropped = 0;
    m->reconcile_due = m->token_due[0] = m->token_due[1] = 0;
    zhub_rc_t rc = ZHUB_OK;
    if (zhub_txn_count (txn, self->timers)) {
        rc = zhub_txn_walk (txn, self->timers, s_migrate_take, m);
        size_t removed = 0;
        if (rc == ZHUB_OK)
            rc = zhub_txn_delete_where (txn, self->timers, s_every_row, NULL, &removed);
    }
    const char *token_keys[2] = {"token_due:google", "token_due:graph"};
    for (int p = 0; rc == ZHUB_OK && p < 2; p++)
        if (m->token_due[p])
            rc = sched_store_meta_put (self, txn, token_keys[p], (uint64_t)m->token_due[p]);
    if (rc == ZHUB_OK && m->reconcile_due)
        rc = sched_store_meta_put (self, txn, S_RECONCILE_DUE, (uint64_t)m->reconcile_due);
    //  the older flag of a started chain: meta "reconcile_due" says it now
    if (rc == ZHUB_OK)
        rc = sched_store_meta_del (self, txn, "reconcile_armed");
    return rc;
}

zhub_rc_t
sched_store_timers_migrate (sched_store_t *self, int64_t now, size_t *moved, size_t *dropped)
{
    s_migrate_t m = {.self = self, .now = now};
    zhub_rc_t rc = zhub_store_write (self->store, s_migrate_fn, &m);
    *moved = rc == ZHUB_OK ? m.moved : 0;
    *dropped = rc == ZHUB_OK ? m.dropped : 0;
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}
