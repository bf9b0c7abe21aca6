//  What the scheduler publishes: tour.* messages (ids from the booking and
//  the cause, so one cause gives one message), the Calendly links, and the
//  Calendly invitee envelope that comes back. The WhatsApp messages are in
//  scheduler_whatsapp.c.
#include "scheduler_core_internal.h"
#include "zhub_catalogue.h"
#include "zhub_events.h"

#include <stdio.h>
#include <stdlib.h>

static char *
s_cut_id (char *id)
{
    if (strlen (id) > ZHUB_MSG_MAX_ID)
        id[ZHUB_MSG_MAX_ID] = 0;
    return id;
}

static zhub_msg_t *
s_msg (const char *type, char *id, const char *bird_id, const char *traceparent, int64_t now_ms)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, s_cut_id (id));
    zhub_msg_set (&msg->source, SCHEDULER_SOURCE);
    zhub_msg_set (&msg->type, type);
    char *subject = zhub_sprintf ("contact:%s", bird_id ? bird_id : "");
    zhub_msg_set (&msg->subject, s_cut_id (subject));
    free (subject);
    zhub_msg_set (&msg->traceparent, traceparent);
    msg->time_ms = now_ms;
    return msg;
}

//  A booking as the catalogue's tour event (the strings borrowed from b).
static zhub_tour_t
s_tour (const sched_booking_t *b)
{
    return (zhub_tour_t){.booking_id = b->booking_id,
                         .bird_contact_id = b->bird_id,
                         .start_ms = b->start,
                         .end_ms = b->end,
                         .platform = b->platform,
                         .calendar_event_id = b->event_id,
                         .confirmation_url = b->confirmation_url,
                         .agent_id = b->agent_id,
                         .conversation_id = b->conversation_id,
                         .location = b->location,
                         .reminder = -1,
                         .before_ms = -1};
}

static zhub_msg_t *
s_tour_msg (const char *type, const zhub_tour_t *t, const char *salt, const char *traceparent,
            int64_t now_ms, char *reason, size_t reason_size)
{
    char *id = zhub_sprintf ("%s-%s-%s", type, t->booking_id, salt ? salt : "");
    zhub_msg_t *msg =
        zhub_tour_msg (type, t, s_cut_id (id), traceparent, now_ms, reason, reason_size);
    free (id);
    return msg;
}

zhub_msg_t *
sched_tour_msg (const char *type, const sched_booking_t *b, const char *salt,
                const char *traceparent, int64_t now_ms, char *reason, size_t reason_size)
{
    zhub_tour_t t = s_tour (b);
    return s_tour_msg (type, &t, salt, traceparent, now_ms, reason, reason_size);
}

zhub_msg_t *
sched_reminder_msg (const sched_booking_t *b, int64_t index, int64_t due, int64_t now_ms,
                    char *reason, size_t reason_size)
{
    zhub_tour_t t = s_tour (b);
    t.reminder = index;
    t.before_ms = b->start - due;
    char salt[24];
    snprintf (salt, sizeof salt, "r%lld", (long long)index);
    return s_tour_msg (ZHUB_TOUR_REMINDER_TOPIC, &t, salt, NULL, now_ms, reason, reason_size);
}

zhub_msg_t *
sched_unavailable_msg (const sched_request_t *req, const sched_config_t *cfg,
                       const sched_slot_t *alts, size_t count, const char *traceparent,
                       int64_t now_ms)
{
    char booking[40];
    sched_booking_id (req->event_id, booking, sizeof booking);
    char *id = zhub_sprintf ("tour.unavailable-%s", booking);
    zhub_msg_t *msg = s_msg ("tour.unavailable", id, req->bird_id, traceparent, now_ms);
    free (id);
    json_t *data = json_object (), *list = json_array (), *asked = json_array ();
    for (size_t i = 0; i < count; i++) {
        json_t *alt = json_object ();
        s_set_time (alt, "start", alts[i].start);
        s_set_time (alt, "end", alts[i].end);
        s_set (alt, "agent_id", cfg->agents[alts[i].agent].id);
        json_array_append_new (list, alt);
    }
    for (size_t i = 0; i < req->preferred_count; i++) {
        char text[40];
        zhub_time_format (req->preferred[i], text, sizeof text);
        json_array_append_new (asked, json_string (text));
    }
    s_set (data, "booking_id", booking);
    s_set (data, "bird_contact_id", req->bird_id);
    s_set (data, "conversation_id", req->conversation_id);
    s_set (data, "location", req->location);
    s_set (data, "reason", "no agent is free at the preferred times");
    json_object_set_new (data, "requested", asked);
    json_object_set_new (data, "alternatives", list);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

zhub_msg_t *
sched_calendar_down_msg (const sched_booking_t *b, const char *traceparent, int64_t now_ms,
                         char *reason, size_t reason_size)
{
    json_t *data = json_object ();
    s_set (data, "booking_id", b->booking_id);
    s_set (data, "bird_contact_id", b->bird_id);
    s_set (data, "platform", sched_fallback_platform (b->fallback_reason));
    s_set (data, "reason", b->fallback_reason);
    s_set (data, "confirmation_url", b->confirmation_url);
    s_set (data, "conversation_id", b->conversation_id);
    s_set (data, "location", b->location);
    char *id = zhub_sprintf (ZHUB_TOUR_CALENDAR_DOWN_TOPIC "-%s", b->booking_id);
    char *subject = zhub_sprintf ("contact:%s", b->bird_id ? b->bird_id : "");
    zhub_msg_t *msg = zhub_event_new (ZHUB_TOUR_CALENDAR_DOWN_TOPIC, s_cut_id (id), SCHEDULER_SOURCE,
                                      s_cut_id (subject), now_ms, traceparent, data, reason,
                                      reason_size);
    free (id);
    free (subject);
    json_decref (data);
    return msg;
}

//  zhub_retry.h's ZHUB_REASON_TRANSPORT and _TIMEOUT (the core does not
//  link the runtime; scheduler_booking.c checks that they agree).
enum { S_REASON_TRANSPORT = 1001, S_REASON_TIMEOUT = 1002 };

bool
sched_fallback_due (uint32_t code, bool deferred, uint32_t attempt, uint32_t after)
{
    if (!after)
        return false;
    if (deferred)
        return true; //  the breaker is open: the runtime already judged the host down
    bool theirs = (code >= 500 && code < 600) || code == S_REASON_TRANSPORT
                  || code == S_REASON_TIMEOUT;
    return theirs && attempt >= after;
}

const char *
sched_fallback_platform (const char *reason)
{
    if (reason && !strncmp (reason, "google ", 7))
        return "google";
    if (reason && !strncmp (reason, "graph ", 6))
        return "graph";
    return NULL;
}

zhub_msg_t *
sched_reconcile_msg (int64_t due, int64_t since, int64_t now_ms)
{
    char id[64];
    snprintf (id, sizeof id, "reconcile-%lld", (long long)due);
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, SCHEDULER_SOURCE);
    zhub_msg_set (&msg->type, "contact.reconcile");
    zhub_msg_set (&msg->subject, "reconcile");
    msg->time_ms = now_ms;
    json_t *data = json_object ();
    s_set_time (data, "since", since);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

char *
sched_link_with_booking (const char *booking_url, const char *booking_id)
{
    return zhub_sprintf ("%s%cutm_source=zhub&utm_content=%s", booking_url,
                         strchr (booking_url, '?') ? '&' : '?', booking_id);
}

zhub_rc_t
sched_parse_invitee (const json_t *data, sched_invitee_t *inv, char *reason, size_t reason_size)
{
    memset (inv, 0, sizeof *inv);
    inv->start = inv->end = -1;
    const json_t *payload = json_object_get (data, "payload");
    inv->event = s_str (data, "event");
    inv->invitee_uri = s_str (payload, "uri");
    const json_t *scheduled = json_object_get (payload, "scheduled_event");
    inv->event_uri = s_str (scheduled, "uri");
    if (!inv->event_uri)
        inv->event_uri = s_str (payload, "event");
    inv->utm_content = s_str (json_object_get (payload, "tracking"), "utm_content");
    inv->old_invitee = s_str (payload, "old_invitee");
    inv->rescheduled = json_is_true (json_object_get (payload, "rescheduled"));
    inv->start = s_when (json_object_get (scheduled, "start_time"));
    inv->end = s_when (json_object_get (scheduled, "end_time"));
    if (!inv->event || !inv->invitee_uri || !inv->event_uri) {
        snprintf (reason, reason_size,
                  "calendly envelope without event, payload.uri or the "
                  "scheduled event");
        return ZHUB_REJECT;
    }
    return ZHUB_OK;
}

void
sched_invitee_clear (sched_invitee_t *inv)
{
    free (inv->event);
    free (inv->invitee_uri);
    free (inv->event_uri);
    free (inv->utm_content);
    free (inv->old_invitee);
    memset (inv, 0, sizeof *inv);
}
