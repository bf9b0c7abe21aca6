//  scheduler's booking execution: a tour request runs through its steps
//  (hold, calendar event, WhatsApp confirmation), or the self-service
//  Calendly link, or the alternatives on WhatsApp when no agent is free;
//  a calendar that fails by no fault of the customer's hands the request
//  to a Calendly link (when configured); tour.reminder and tour.canceled
//  send their WhatsApp once (the messages themselves:
//  scheduler_whatsapp_io.c). Each step commits before the next, so a
//  redelivery resumes where the last one stopped.
#include "scheduler_internal.h"

//  sched_fallback_due (the core) reads these codes without the runtime.
_Static_assert (ZHUB_REASON_TRANSPORT == 1001 && ZHUB_REASON_TIMEOUT == 1002,
                "sched_fallback_due's reason codes");

//  Writes b as it is now, with publish (NULL: nothing) in the same
//  transaction. true, or false with a retry in *out.
static bool
s_keep_with (scheduler_t *self, const sched_booking_t *b, const zhub_msg_t *publish,
             zhub_outcome_t *out)
{
    sched_save_t save = {.booking = b, .publish = publish};
    if (sched_store_save (self->db, &save) == ZHUB_OK)
        return true;
    zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the booking");
    return false;
}

static bool
s_keep (scheduler_t *self, const sched_booking_t *b, zhub_outcome_t *out)
{
    return s_keep_with (self, b, NULL, out);
}

//  Sends the alternatives of an "unavailable" answer on WhatsApp once.
static void
s_send_alternatives (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, sched_booking_t *b,
                     zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    if (!b->confirmed) {
        if (!scheduler_whatsapp_send (ctx, msg, b, SCHED_WA_ALTERNATIVES, out))
            return;
        b->confirmed = true;
        if (!s_keep (self, b, out))
            return;
    }
    zhub_outcome_ok (out, "unavailable");
    snprintf (out->reason, sizeof out->reason, "alternatives=%zu", b->alternative_count);
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
    //  Only the answer is kept (a redelivery answers the same), with the
    //  event.
    sched_booking_t none = {0};
    char id[40];
    sched_booking_id (req->event_id, id, sizeof id);
    none.booking_id = id;
    none.status = "unavailable";
    none.bird_id = req->bird_id;
    //  what the WhatsApp answer needs, also on a redelivery
    none.phone = req->phone;
    none.conversation_id = req->conversation_id;
    none.location = req->location;
    for (size_t i = 0; i < count && i < SCHED_MAX_ALTERNATIVES; i++)
        none.alternatives[none.alternative_count++] = alts[i].start;
    sched_save_t save = {.booking = &none, .publish = unavailable};
    if (sched_store_save (self->db, &save) == ZHUB_OK)
        s_send_alternatives (ctx, msg, &none, out);
    else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
    zhub_msg_destroy (&unavailable);
}

//  Whether a failed calendar step (*out) hands this request to the
//  Calendly link: Calendly configured (an event type and a token), and
//  sched_fallback_due on this delivery. The group's max deliveries, when
//  set lower, wins: the last delivery falls back rather than dead-letter.
static bool
s_fallback_now (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, const zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    const char *token = self->calendly_config.token;
    uint32_t after = self->cfg.fallback_after;
    uint32_t max = ctx->config->max_deliveries;
    if (after && max && max < after)
        after = max;
    return out->rc == ZHUB_RETRY && self->cfg.calendly_event_type && token && *token
           && sched_fallback_due (out->code, out->defer, ev->attempt, after);
}

static void s_self_service (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                            const sched_request_t *req, sched_booking_t *existing, const char *id,
                            const char *fallback, zhub_outcome_t *out);

//  The calendar failed (*out): a Calendly link instead, said in the log.
static void
s_fallback (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, const sched_request_t *req,
            const char *id, zhub_outcome_t *out)
{
    char why[sizeof out->reason], quoted[300];
    snprintf (why, sizeof why, "%s", out->reason);
    zhub_warn ("calendar_down", "id=%s booking=%s attempt=%u reason=%s note=\"sending a Calendly "
               "link instead\"", ev->msg->id, id, ev->attempt,
               zhub_log_quote (why, quoted, sizeof quoted));
    s_self_service (ctx, ev->msg, req, NULL, id, why, out);
}

//  Steps 2 and 3 for a held (or scheduled, unconfirmed) booking.
static void
s_finish (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, sched_booking_t *b,
          const sched_request_t *req, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    const zhub_msg_t *msg = ev->msg;
    if (!strcmp (b->status, "pending")) {
        if (!scheduler_create_event (ctx, msg, b, req, out)) {
            bool fallback = s_fallback_now (ctx, ev, out);
            if (out->rc == ZHUB_REJECT || fallback) {
                //  free the slot for others
                sched_save_t release = {.booking = b, .release = true};
                sched_store_save (self->db, &release);
            }
            if (fallback)
                s_fallback (ctx, ev, req, b->booking_id, out);
            return;
        }
        s_set_str (&b->status, "scheduled");
        char reason[256];
        zhub_msg_t *scheduled = sched_tour_msg ("tour.scheduled", b, "booked", msg->traceparent,
                                                zhub_now_ms (), reason, sizeof reason);
        if (!scheduled) {
            zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
            return;
        }
        //  Graph's change notifications name the event, not our booking:
        //  keep the way back (Google's event id is the booking id itself).
        char *event_key =
            !strcmp (b->platform, "graph") ? zhub_sprintf ("graph:%s", b->event_id) : NULL;
        sched_save_t save = {.booking = b, .publish = scheduled, .arm = true, .link = event_key};
        zhub_rc_t rc = sched_store_save (self->db, &save);
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
        if (!scheduler_whatsapp_send (ctx, msg, b, SCHED_WA_CONFIRMATION, out))
            return;
        b->confirmed = true;
        if (!s_keep (self, b, out))
            return;
    }
    zhub_outcome_ok (out, "scheduled");
    snprintf (out->reason, sizeof out->reason, "booking=%s agent=%s", b->booking_id, b->agent_id);
}

//  Self-service: a single-use Calendly link, sent on WhatsApp. The
//  booking waits as "link_sent" until Calendly's invitee.created brings the
//  time the person chose (then tour.scheduled goes out). With fallback
//  (the calendar's failure) the same, and tour.calendar_down goes out with
//  the booking that records the link as sent.
static void
s_self_service (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const sched_request_t *req,
                sched_booking_t *existing, const char *id, const char *fallback,
                zhub_outcome_t *out)
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
            fresh.fallback_reason = fallback ? zhub_strdup (fallback) : NULL;
            if (!s_keep (self, b, out))
                b = NULL;
        }
        zhub_http_response_reset (&resp);
    }
    if (b && !b->confirmed) {
        bool sent = scheduler_whatsapp_send (ctx, msg, b, SCHED_WA_LINK, out);
        zhub_msg_t *down = NULL;
        char reason[256];
        if (sent && b->fallback_reason) {
            down = sched_calendar_down_msg (b, msg->traceparent, zhub_now_ms (), reason,
                                            sizeof reason);
            if (!down) {
                zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
                sent = false;
            }
        }
        if (sent) {
            b->confirmed = true;
            sent = s_keep_with (self, b, down, out);
        }
        zhub_msg_destroy (&down);
        if (sent)
            zhub_outcome_ok (out, b->fallback_reason ? "calendar_down_link_sent" : "link_sent");
    } else if (b)
        zhub_outcome_ok (out, b->fallback_reason ? "calendar_down_link_sent" : "link_sent");
    sched_booking_clear (&fresh);
}

void
scheduler_handle_request (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    const zhub_msg_t *msg = ev->msg;
    sched_request_t req;
    char reason[256];
    if (sched_parse_request (msg, ev->data, &self->cfg, &req, reason, sizeof reason) != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        sched_request_clear (&req);
        return;
    }
    char id[40];
    sched_booking_id (req.event_id, id, sizeof id);
    sched_booking_t b;
    zhub_rc_t rc = sched_store_booking (self->db, id, &b);
    if (rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the booking");
        sched_request_clear (&req);
        return;
    }
    if ((rc == ZHUB_OK && !strcmp (b.status, "link_sent"))
        || (rc == ZHUB_NOTFOUND && self->cfg.self_service)) {
        s_self_service (ctx, msg, &req, rc == ZHUB_OK ? &b : NULL, id, NULL, out);
        if (rc == ZHUB_OK)
            sched_booking_clear (&b);
        sched_request_clear (&req);
        return;
    }
    if (rc == ZHUB_OK) {
        //  A redelivery: resume where the last attempt stopped.
        if (!strcmp (b.status, "unavailable"))
            s_send_alternatives (ctx, msg, &b, out);
        else if (!strcmp (b.status, "canceled"))
            zhub_outcome_ok (out, b.status);
        else
            s_finish (ctx, ev, &b, &req, out);
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
        if (!scheduler_availability (ctx, msg, eligible, from, to, busy, out)) {
            if (s_fallback_now (ctx, ev, out))
                s_fallback (ctx, ev, &req, id, out);
            break;
        }
        uint64_t rr = sched_store_rr (self->db);
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
        bool taken;
        if (sched_store_hold (self->db, &held, agent->buffer_ms, &taken) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot hold the slot");
            break;
        }
        if (taken) {
            //  Lost the slot to a concurrent booking: look again.
            for (size_t i = 0; i < self->cfg.agent_count; i++)
                sched_busy_clear (&busy[i]);
            zhub_outcome_retry (out, 0, 0, "slot taken concurrently");
            continue;
        }
        sched_booking_t b2;
        if (sched_store_booking (self->db, id, &b2) != ZHUB_OK) {
            sched_booking_clear (&b2);
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the booking");
            break;
        }
        s_finish (ctx, ev, &b2, &req, out);
        sched_booking_clear (&b2);
        break;
    }
    for (size_t i = 0; i < self->cfg.agent_count; i++)
        sched_busy_clear (&busy[i]);
    sched_request_clear (&req);
}

//  -------------------------------------------------------------------
//  tour.reminder (our own timer's event): the WhatsApp reminder

void
scheduler_handle_reminder (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    const zhub_msg_t *msg = ev->msg;
    //  Others may publish the topic: only our own timer's reminders count.
    if (!msg->source || strcmp (msg->source, SCHEDULER_SOURCE)) {
        zhub_outcome_ok (out, "ignored");
        return;
    }
    const char *id = json_string_value (json_object_get (ev->data, "booking_id"));
    json_int_t index = json_integer_value (json_object_get (ev->data, "reminder"));
    sched_booking_t b;
    zhub_rc_t rc = id ? sched_store_booking (self->db, id, &b) : ZHUB_NOTFOUND;
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
        else if (scheduler_whatsapp_send (ctx, msg, &b, SCHED_WA_REMINDER, out)) {
            b.reminders_sent |= bit;
            sched_save_t save = {.booking = &b};
            if (sched_store_save (self->db, &save) == ZHUB_OK)
                zhub_outcome_ok (out, "reminder_sent");
            else
                zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
        }
        sched_booking_clear (&b);
    }
}
