//  scheduler's side of a GDPR erase: contact.forget deletes every booking
//  that names the person and what points at it (holds, Calendly invitee
//  and Graph event links), the time they last wrote on WhatsApp, and
//  queues contact.forgotten, in one write transaction; the runtime then
//  compacts the store so the deleted bytes leave the file too. The OAuth
//  tokens, the round-robin position and the sync tokens are not about
//  anyone and stay. The person's reminder timers wait in the broker and
//  name only the booking, which they no longer find when they arrive.
//
//  With "upstream" (zhub erase contact --upstream) the calendar events we
//  made for the person (their name and phone are in them) are deleted in
//  Google or Graph first, without notifying anyone; a call that fails
//  retries the whole message with nothing deleted here yet, and an event
//  already gone (404, 410) counts as deleted. Calendly bookings live in
//  Calendly: we only sent a link, and keep nothing of them to delete.
//
//  Idempotent: a second contact.forget for the same person finds nothing,
//  removes 0 and answers contact.forgotten again under the same id (the
//  broker's dedup drops the repeat).
#include "scheduler_internal.h"

//  Deletes one event; true when it is gone (now or before), else false
//  with *out set.
static bool
s_delete_event (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const sched_booking_t *event,
                zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    bool google = !strcmp (event->platform, "google");
    int provider = google ? S_GOOGLE : S_GRAPH;
    const char *token = scheduler_token (self, provider, out);
    if (!token)
        return false;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    if (google)
        zhub_google_event_delete (self->google, event->calendar_id, event->event_id, token,
                                  msg->traceparent, &resp);
    else
        zhub_graph_event_delete (self->graph, event->calendar_id, event->event_id, token,
                                 msg->traceparent, &resp);
    bool gone =
        resp.status == 404 || resp.status == 410
        || scheduler_answer_ok (self, provider, &resp,
                                google ? "google events.delete" : "graph delete event", out);
    if (gone)
        zhub_info ("event_deleted", "id=%s booking=%s platform=%s status=%ld", msg->id,
                   event->booking_id, event->platform, resp.status);
    zhub_http_response_reset (&resp);
    return gone;
}

//  zhub_actor_upstream_fn: every calendar event of the person's bookings
//  deleted. true, or false with *out set (nothing deleted here yet).
static bool
s_delete_events (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const zhub_forget_t *f,
                 zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    sched_booking_t *events;
    size_t count;
    if (sched_store_events_of (self->db, f, &events, &count) != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the bookings");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < count; i++)
        ok = s_delete_event (ctx, msg, &events[i], out);
    for (size_t i = 0; i < count; i++)
        sched_booking_clear (&events[i]);
    free (events);
    return ok;
}

//  The store's erase as the runtime's erase step.
static zhub_rc_t
s_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *f, size_t *removed)
{
    scheduler_t *self = ctx->state;
    return sched_store_forget (self->db, txn, f, removed);
}

void
scheduler_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    zhub_actor_forget_upstream (ctx, ev->msg, SCHEDULER_GROUP, s_delete_events, s_erase, out);
}
