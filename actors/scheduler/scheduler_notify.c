//  scheduler's calendar notifications: Calendly invitee.created/.canceled
//  and Graph change notifications (Google's push notifications are
//  scheduler_google_sync.c). Each one re-reads what changed and moves,
//  reschedules or cancels the booking it belongs to, so bookings stay true
//  to the calendars.
#include "scheduler_internal.h"

//  -------------------------------------------------------------------
//  Calendly: invitee.created / invitee.canceled keep bookings true

//  The booking a Calendly invitee belongs to, or NULL.
static char *
s_invitee_booking (scheduler_t *self, const sched_invitee_t *inv)
{
    sched_booking_t b;
    zhub_rc_t rc =
        inv->utm_content ? sched_store_booking (self->db, inv->utm_content, &b) : ZHUB_NOTFOUND;
    sched_booking_clear (&b);
    if (rc == ZHUB_OK)
        return zhub_strdup (inv->utm_content);
    const char *keys[] = {inv->old_invitee, inv->invitee_uri};
    char *id;
    for (size_t i = 0; i < 2; i++)
        if (keys[i] && sched_store_link (self->db, keys[i], &id) == ZHUB_OK)
            return id;
    return NULL;
}

void
scheduler_handle_invitee (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    const zhub_msg_t *msg = ev->msg;
    sched_invitee_t inv;
    char reason[256];
    if (sched_parse_invitee (ev->data, &inv, reason, sizeof reason) != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        sched_invitee_clear (&inv);
        return;
    }
    char *id = s_invitee_booking (self, &inv);
    sched_booking_t b = {0};
    if (!id || sched_store_booking (self->db, id, &b) != ZHUB_OK) {
        sched_booking_clear (&b);
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
                b.reminders_sent = 0; //  a new time gets its own reminders
                b.start = inv.start;
                b.end = inv.end;
                s_set_str (&b.event_id, inv.event_uri);
                s_set_str (&b.status, "scheduled");
                s_set_str (&b.platform, "calendly");
                zhub_msg_t *scheduled =
                    sched_tour_msg ("tour.scheduled", &b, salt, msg->traceparent, zhub_now_ms (),
                                    reason, sizeof reason);
                sched_save_t save = {
                    .booking = &b, .publish = scheduled, .arm = true, .link = inv.invitee_uri};
                if (!scheduled)
                    zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
                else if (sched_store_save (self->db, &save) == ZHUB_OK)
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
        s_set_str (&b.status, "canceled");
        zhub_msg_t *canceled = sched_tour_msg ("tour.canceled", &b, salt, msg->traceparent,
                                               zhub_now_ms (), reason, sizeof reason);
        sched_save_t save = {.booking = &b, .publish = canceled};
        if (!canceled)
            zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        else if (sched_store_save (self->db, &save) == ZHUB_OK)
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
//  Graph change notifications (webhook.graph.updated / .deleted)

//  What one notification means for the booking of its event: deleted, or
//  changed in some way the event itself says.
static void
s_graph_changed (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, bool deleted,
                 zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    const zhub_msg_t *msg = ev->msg;
    const json_t *data = ev->data;
    const char *event_id =
        json_string_value (json_object_get (json_object_get (data, "resourceData"), "id"));
    char *key = event_id ? zhub_sprintf ("graph:%s", event_id) : NULL;
    char *id = NULL;
    sched_booking_t b = {0};
    if (!key || sched_store_link (self->db, key, &id) != ZHUB_OK
        || sched_store_booking (self->db, id, &b) != ZHUB_OK) {
        sched_booking_clear (&b);
        zhub_outcome_ok (out, "not_ours");
        free (key);
        free (id);
        return;
    }
    int64_t start = 0, end = 0;
    sched_change_t change = SCHED_CHANGE_NONE;
    bool ok = true;
    if (!strcmp (b.status, "scheduled") && deleted)
        change = SCHED_CHANGE_CANCELED;
    else if (!strcmp (b.status, "scheduled")) {
        //  Notifications say that it changed, not how: read the event.
        const char *token = scheduler_token (self, S_GRAPH, out);
        ok = token != NULL;
        if (ok) {
            zhub_http_response_t resp;
            zhub_http_response_init (&resp);
            zhub_graph_event_get (self->graph, b.calendar_id ? b.calendar_id : "", event_id, token,
                                  msg->traceparent, &resp);
            if (resp.status == 404)
                change = SCHED_CHANGE_CANCELED;
            else if ((ok = scheduler_answer_ok (self, S_GRAPH, &resp, "graph get event", out)))
                change = sched_graph_change (resp.json, &b, &start, &end);
            zhub_http_response_reset (&resp);
        }
    }
    if (ok && change != SCHED_CHANGE_NONE) {
        char salt[80];
        snprintf (salt, sizeof salt, "m%.70s", msg->id);
        int64_t old_start = b.start;
        sched_save_t save = {.booking = &b, .hold_from = old_start};
        if (change == SCHED_CHANGE_CANCELED)
            s_set_str (&b.status, "canceled");
        else {
            b.start = start;
            b.end = end;
            b.reminders_sent = 0;
            save.arm = true;
            save.hold_put = true;
        }
        char reason[256];
        zhub_msg_t *publish =
            sched_tour_msg (change == SCHED_CHANGE_CANCELED ? "tour.canceled" : "tour.scheduled",
                            &b, salt, msg->traceparent, zhub_now_ms (), reason, sizeof reason);
        save.publish = publish;
        if (!publish)
            zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        else if (sched_store_save (self->db, &save) == ZHUB_OK)
            zhub_outcome_ok (out, change == SCHED_CHANGE_CANCELED ? "canceled" : "moved");
        else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
        zhub_msg_destroy (&publish);
    } else if (ok)
        zhub_outcome_ok (out, "no_change");
    sched_booking_clear (&b);
    free (key);
    free (id);
}

void
scheduler_handle_graph_updated (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out)
{
    s_graph_changed (ctx, ev, false, out);
}

void
scheduler_handle_graph_deleted (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out)
{
    s_graph_changed (ctx, ev, true, out);
}
