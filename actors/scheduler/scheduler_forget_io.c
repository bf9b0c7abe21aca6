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
#include "zhub_strlist.h"

//  The person being erased and the ids of their bookings, gathered as
//  those go (a person has a handful at most).
typedef struct {
    const zhub_forget_t *f;
    zhub_strlist_t bookings;
} s_ids_t;

//  bookings: the ones that name the person go, and their ids join arg's
//  list; a record that does not decode stays. This and s_points_at are
//  zhub_store_row_fn with an s_ids_t as arg.
static bool
s_names_person (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)key;
    (void)key_size;
    s_ids_t *ids = arg;
    sched_booking_t b;
    if (sched_booking_decode (value, size, &b))
        return false;
    bool doomed = sched_booking_refers_to (&b, ids->f);
    if (doomed)
        zhub_strlist_add (&ids->bookings, b.booking_id);
    sched_booking_clear (&b);
    return doomed;
}

//  holds and invitees: the value is the booking id.
static bool
s_points_at (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)key;
    (void)key_size;
    const s_ids_t *ids = arg;
    return zhub_strlist_has_bytes (&ids->bookings, value, size);
}

zhub_rc_t
scheduler_forget_records (zhub_txn_t *txn, scheduler_t *self, const zhub_forget_t *f,
                          size_t *removed)
{
    *removed = 0;
    s_ids_t ids = {.f = f};
    zhub_rc_t rc = zhub_txn_delete_where (txn, self->bookings, s_names_person, &ids, removed);
    //  Nothing booked for the person: nothing can point at it either.
    if (rc == ZHUB_OK && ids.bookings.count
        && (zhub_txn_delete_where (txn, self->holds, s_points_at, &ids, removed) != ZHUB_OK
            || zhub_txn_delete_where (txn, self->invitees, s_points_at, &ids, removed) != ZHUB_OK))
        rc = ZHUB_ERROR;
    zhub_strlist_clear (&ids.bookings);
    //  When the person last wrote on WhatsApp (keyed by their Bird id).
    if (rc == ZHUB_OK && scheduler_whatsapp_forget (txn, self, f, removed) != ZHUB_OK)
        rc = ZHUB_ERROR;
    return rc;
}

//  The calendar events of the person's bookings, read before they go.
typedef struct {
    scheduler_t *self;
    const zhub_forget_t *f;
    sched_booking_t *events; //  platform, calendar_id, event_id, booking_id only
    size_t count;
} s_events_t;

static zhub_walk_t
s_collect_event (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)key;
    (void)key_size;
    s_events_t *found = arg;
    sched_booking_t b;
    if (sched_booking_decode (value, size, &b))
        return ZHUB_WALK_NEXT;
    if (sched_booking_refers_to (&b, found->f) && b.event_id && b.calendar_id && b.platform
        && (!strcmp (b.platform, "google") || !strcmp (b.platform, "graph"))) {
        found->events = zhub_realloc (found->events, (found->count + 1) * sizeof *found->events);
        found->events[found->count++] =
            (sched_booking_t){.booking_id = zhub_strdup (b.booking_id),
                              .platform = zhub_strdup (b.platform),
                              .calendar_id = zhub_strdup (b.calendar_id),
                              .event_id = zhub_strdup (b.event_id)};
    }
    sched_booking_clear (&b);
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_read_events (zhub_txn_t *txn, void *arg)
{
    s_events_t *found = arg;
    return zhub_txn_walk (txn, found->self->bookings, s_collect_event, found);
}

static void
s_events_clear (s_events_t *found)
{
    for (size_t i = 0; i < found->count; i++)
        sched_booking_clear (&found->events[i]);
    free (found->events);
    found->events = NULL;
    found->count = 0;
}

//  Deletes one event; true when it is gone (now or before), else false
//  with *out set.
static bool
s_delete_event (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const sched_booking_t *event,
                zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    bool google = !strcmp (event->platform, "google");
    int provider = google ? S_GOOGLE : S_GRAPH;
    const char *token = scheduler_token (ctx, self, provider, out);
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
    s_events_t found = {.self = ctx->state, .f = f};
    if (zhub_store_read (ctx->store, s_read_events, &found) != ZHUB_OK) {
        s_events_clear (&found);
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the bookings");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < found.count; i++)
        ok = s_delete_event (ctx, msg, &found.events[i], out);
    s_events_clear (&found);
    return ok;
}

//  scheduler_forget_records as the runtime's erase step.
static zhub_rc_t
s_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *f, size_t *removed)
{
    return scheduler_forget_records (txn, ctx->state, f, removed);
}

void
scheduler_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    zhub_actor_forget_upstream (ctx, ev->msg, SCHEDULER_GROUP, s_delete_events, s_erase, out);
}
