//  scheduler's timers, the routes. A timer is a message to ourselves, held
//  by the broker until it is due (scheduler_timer.h); the store arms it in
//  the very transaction that makes it needed (a booking, a refreshed
//  token, a renewed watch: scheduler_store.h), so it can neither be lost
//  nor armed twice across a crash. Here: what each does when it comes
//  due, and at start, moving the timers an older scheduler kept in its
//  table onto the bus and starting the reconcile chain.
//
//  Whether a timer still counts is decided by the state it is about, read
//  again (a reminder: the booking still scheduled at the start it was
//  armed for; reconcile, token, watch: the due time the store names), so a
//  timer made stale by a later change is acked without doing anything
//  ("stale").
#include "scheduler_internal.h"

//  Reads the timer of kind that ev carries into *t. true when it is due
//  and the caller is to act on it; false with *out set when it was not one
//  (rejected) or arrived at the end of a hop (held again, as the next hop
//  of the same timer).
static bool
s_timer (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, sched_timer_kind_t kind,
         sched_timer_t *t, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    char reason[256];
    if (sched_timer_parse (kind, ev->data, t, reason, sizeof reason) != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        return false;
    }
    if (!sched_timer_early (t, ev->msg))
        return true;
    t->hop++;
    zhub_rc_t rc = sched_store_timer_put (self->db, t, ev->msg->deliver_at_ms);
    if (rc == ZHUB_OK)
        zhub_outcome_ok (out, "held_again");
    else if (rc == ZHUB_REJECT)
        zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "the timer breaks the catalogue");
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

void
scheduler_handle_timer_reminder (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                 zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    sched_timer_t t;
    if (!s_timer (ctx, ev, SCHED_TIMER_REMINDER, &t, out))
        return;
    sched_booking_t b;
    zhub_rc_t rc = sched_store_booking (self->db, t.booking_id, &b);
    if (rc == ZHUB_ERROR)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the booking");
    else if (rc == ZHUB_NOTFOUND)
        zhub_outcome_ok (out, "unknown_booking"); //  erased since
    else if (strcmp (b.status, "scheduled") || b.start != t.start)
        zhub_outcome_ok (out, "stale"); //  canceled, or moved: the new start has its own
    else {
        int64_t now = zhub_now_ms ();
        char reason[256];
        zhub_msg_t *reminder = sched_reminder_msg (&b, t.index, t.due, now, reason, sizeof reason);
        if (!reminder)
            zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        else if (sched_store_publish (self->db, reminder) != ZHUB_OK)
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot queue tour.reminder");
        else {
            s_fired (&t, "reminder", now);
            zhub_outcome_ok (out, "reminder_due");
        }
        zhub_msg_destroy (&reminder);
    }
    sched_booking_clear (&b);
    sched_timer_clear (&t);
}

//  -------------------------------------------------------------------
//  scheduler.timer.reconcile: contact.reconcile, and the next timer

void
scheduler_handle_timer_reconcile (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                  zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    sched_timer_t t;
    if (!s_timer (ctx, ev, SCHED_TIMER_RECONCILE, &t, out))
        return;
    int64_t now = zhub_now_ms ();
    zhub_msg_t *reconcile = sched_reconcile_msg (t.due, t.since, now);
    zhub_rc_t rc =
        sched_store_reconcile_fire (self->db, &t, reconcile, now, self->cfg.reconcile_every_ms);
    if (rc == ZHUB_OK) {
        s_fired (&t, "reconcile", now);
        zhub_outcome_ok (out, "reconcile_due");
    } else if (rc == ZHUB_NOTFOUND)
        zhub_outcome_ok (out, "stale"); //  not the chain's (handled already)
    else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot queue contact.reconcile");
    zhub_msg_destroy (&reconcile);
    sched_timer_clear (&t);
}

//  -------------------------------------------------------------------
//  scheduler.timer.token: refresh an OAuth token before it expires

void
scheduler_handle_timer_token (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                              zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    sched_timer_t t;
    if (!s_timer (ctx, ev, SCHED_TIMER_TOKEN, &t, out))
        return;
    int p = t.platform == SCHED_GRAPH ? S_GRAPH : S_GOOGLE;
    if (sched_store_token_due (self->db, t.platform) != t.due) {
        zhub_outcome_ok (out, "stale"); //  refreshed since, with a timer of its own
        sched_timer_clear (&t);
        return;
    }
    zhub_outcome_t refresh;
    memset (&refresh, 0, sizeof refresh);
    //  A successful refresh arms the next timer itself.
    if (scheduler_token_refresh (self, p, &refresh) == ZHUB_OK) {
        s_fired (&t, "token", zhub_now_ms ());
        zhub_outcome_ok (out, "token_refreshed");
    } else {
        //  Tried again by a timer, not by the bus: no attempts used up.
        zhub_warn ("token_refresh_failed", "provider=%s code=%u", scheduler_provider_name[p],
                   refresh.code);
        zhub_rc_t rc = sched_store_token_retry (self->db, t.platform, t.due,
                                                zhub_now_ms () + SCHED_TOKEN_RETRY_MS);
        if (rc == ZHUB_OK || rc == ZHUB_NOTFOUND)
            zhub_outcome_ok (out, rc == ZHUB_OK ? "token_retry_armed" : "stale");
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

int
scheduler_timers_open (zhub_actor_ctx_t *ctx)
{
    scheduler_t *self = ctx->state;
    size_t moved, dropped;
    if (sched_store_timers_migrate (self->db, zhub_now_ms (), &moved, &dropped) != ZHUB_OK)
        return -1;
    if (moved || dropped)
        zhub_info ("timers_moved", "to=bus moved=%zu dropped=%zu", moved, dropped);
    bool armed;
    if (sched_store_reconcile_start (self->db, zhub_now_ms (), self->cfg.reconcile_every_ms, &armed)
        != ZHUB_OK)
        return -1;
    if (armed)
        zhub_info ("reconcile_armed", "every_ms=%lld", (long long)self->cfg.reconcile_every_ms);
    return 0;
}
