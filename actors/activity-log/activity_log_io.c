//  activity-log's conversation events and ids: the handlers of the events
//  that become engagements (parked until their contact's HubSpot id is
//  known) and of the events that teach those ids. Each engagement is
//  created with one HubSpot call and then recorded, with its
//  activity.logged event in the runtime's outbox, in one LMDB transaction;
//  a redelivered event finds the record and makes no second call. The
//  window between HubSpot's answer and our commit (a crash right there)
//  can still leave a duplicate: HubSpot has no idempotency key for
//  engagement creation.
//
//  A conversation.message goes on to the transcript note
//  (activity_log_transcript.c, below this file) once its contact is known.
#include "activity_log_actor.h"
#include "activity_log_transcript.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  -------------------------------------------------------------------
//  Contact and deal ids

//  The HubSpot ids of the event's contact: the event's own, the id map, or
//  HubSpot itself (the contact whose unique bird_contact_id is the Bird id).
//  ZHUB_OK with ids->contact_id; ZHUB_NOTFOUND when HubSpot does not know
//  the contact yet; ZHUB_RETRY / ZHUB_REJECT with *out filled.
static zhub_rc_t
s_resolve (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const activity_event_t *ev,
           activity_log_ids_t *ids, zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    if (activity_log_store_ids (ctx->store, &self->tables, ev->bird_id, ids) == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the id map");
        return ZHUB_RETRY;
    }
    if (ev->hubspot_contact_id || ev->hubspot_deal_id) {
        if (ev->hubspot_contact_id
            && (!ids->contact_id || strcmp (ids->contact_id, ev->hubspot_contact_id))) {
            free (ids->contact_id);
            ids->contact_id = zhub_strdup (ev->hubspot_contact_id);
        }
        if (ev->hubspot_deal_id) {
            free (ids->deal_id);
            ids->deal_id = zhub_strdup (ev->hubspot_deal_id);
        }
        activity_log_store_learn (ctx->store, &self->tables, ev->bird_id, ev->hubspot_contact_id,
                                  ev->hubspot_deal_id);
    }
    if (ids->contact_id)
        return ZHUB_OK;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_hubspot_contact_get_by (self->hubspot, "bird_contact_id", ev->bird_id, NULL,
                                 msg->traceparent, &resp);
    zhub_rc_t rc = ZHUB_NOTFOUND;
    const char *id = json_string_value (json_object_get (resp.json, "id"));
    if (resp.status == 200 && id) {
        ids->contact_id = zhub_strdup (id);
        if (activity_log_store_learn (ctx->store, &self->tables, ev->bird_id, id, NULL)
            != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot write the id map");
            rc = ZHUB_RETRY;
        } else
            rc = ZHUB_OK;
    } else if (resp.status == 404 || resp.status == 400)
        rc = ZHUB_NOTFOUND; //  unknown, or the portal has no bird_contact_id property
    else {
        zhub_retry_classify (&resp, "hubspot read contact by bird_contact_id", zhub_now_ms (), out);
        rc = out->rc == ZHUB_OK ? ZHUB_NOTFOUND : out->rc;
    }
    zhub_http_response_reset (&resp);
    return rc;
}

//  -------------------------------------------------------------------
//  Engagements

//  Creates the engagement of kind for ev unless key says it exists.
//  Returns true when done (created now or before); false with *out set.
static bool
s_engage (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const activity_event_t *ev,
          activity_kind_t kind, const char *key, const activity_log_ids_t *ids,
          const char *owner_id, zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    char *existing;
    if (activity_log_store_engagement (ctx->store, &self->tables, key, &existing) == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read engagement ids");
        return false;
    }
    if (existing) {
        free (existing);
        return true;
    }
    json_t *body = activity_engagement_body (ev, kind, ids->contact_id, ids->deal_id, owner_id);
    if (!body) {
        zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "no %s for %s", activity_kind_name (kind),
                             ev->type);
        return false;
    }
    char what[64];
    snprintf (what, sizeof what, "hubspot create %s", activity_kind_name (kind));
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_hubspot_engagement_create (self->hubspot, activity_log_object (kind), body,
                                    msg->traceparent, &resp);
    bool ok = activity_log_answered (msg, what, &resp, out);
    json_decref (body);
    const char *id = ok ? json_string_value (json_object_get (resp.json, "id")) : NULL;
    if (ok && !id) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "%s: answer without an id", what);
        ok = false;
    }
    if (ok) {
        int64_t now = zhub_now_ms ();
        char *made = zhub_hubspot_engagement_path (activity_log_object (kind), id);
        zhub_msg_t *logged = activity_log_logged_msg (msg, ev, kind, id, now);
        activity_log_change_t change = {.hubspot_id = id,
                                        .engagement_key = key,
                                        .at_ms = now,
                                        .made_bird = ev->bird_id,
                                        .made_path = made,
                                        .publish = {logged}};
        if (activity_log_store_commit (ctx, &self->tables, &change) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot record the %s",
                                activity_kind_name (kind));
            ok = false;
        } else
            zhub_info ("engagement", "id=%s kind=%s hubspot_id=%s event=%s", msg->id,
                       activity_kind_name (kind), id, ev->type);
        zhub_msg_destroy (&logged);
        free (made);
    }
    zhub_http_response_reset (&resp);
    return ok;
}

//  tour.scheduled / tour.canceled: one meeting per booking.
static void
s_tour (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const activity_event_t *ev,
        const activity_log_ids_t *ids, zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    char *key = activity_log_booking_key (ev->booking_id);
    char *meeting;
    if (activity_log_store_engagement (ctx->store, &self->tables, key, &meeting) == ZHUB_ERROR)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read engagement ids");
    else if (!meeting && ev->kind == ACTIVITY_EV_TOUR_CANCELED)
        zhub_outcome_ok (out, "unknown_booking");
    else if (!meeting) {
        if (s_engage (ctx, msg, ev, ACTIVITY_MEETING, key, ids, NULL, out))
            zhub_outcome_ok (out, "meeting");
    } else {
        //  A booking we logged before: moved or canceled.
        json_t *body = activity_meeting_update_body (ev);
        zhub_http_response_t resp;
        zhub_http_response_init (&resp);
        zhub_hubspot_engagement_update (self->hubspot, ZHUB_HUBSPOT_MEETING, meeting, body,
                                        msg->traceparent, &resp);
        if (activity_log_answered (msg, "hubspot update meeting", &resp, out))
            zhub_outcome_ok (out, ev->kind == ACTIVITY_EV_TOUR_CANCELED ? "meeting_canceled"
                                                                        : "meeting_moved");
        else if (resp.status == 404)
            zhub_outcome_ok (out, "meeting_gone"); //  deleted in HubSpot by a person
        zhub_http_response_reset (&resp);
        json_decref (body);
    }
    free (meeting);
    free (key);
}

//  -------------------------------------------------------------------
//  One conversation event, contact known or not

static void
s_process (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const activity_event_t *ev,
           zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    activity_log_ids_t ids = {0};
    zhub_rc_t rc = s_resolve (ctx, msg, ev, &ids, out);
    if (rc == ZHUB_NOTFOUND) {
        uint64_t seq = activity_log_park_seq (zhub_now_ms (), self->park_counter++);
        if (activity_log_store_park (ctx->store, &self->tables, ev->bird_id, seq, msg) == ZHUB_OK)
            zhub_outcome_ok (out, "parked");
        else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot park the event");
        activity_log_ids_clear (&ids);
        return;
    }
    if (rc != ZHUB_OK) {
        activity_log_ids_clear (&ids);
        return;
    }
    char *key = NULL;
    switch (ev->kind) {
        case ACTIVITY_EV_STARTED:
        case ACTIVITY_EV_CALENDAR_DOWN:
            key = activity_log_event_key (ev->event_id, ACTIVITY_NOTE);
            if (s_engage (ctx, msg, ev, ACTIVITY_NOTE, key, &ids, NULL, out))
                zhub_outcome_ok (out, "note");
            break;
        case ACTIVITY_EV_QUALIFIED:
            key = activity_log_event_key (ev->event_id, ACTIVITY_TASK);
            if (s_engage (ctx, msg, ev, ACTIVITY_TASK, key, &ids, NULL, out))
                zhub_outcome_ok (out, "task");
            break;
        case ACTIVITY_EV_ESCALATION: {
            key = activity_log_event_key (ev->event_id, ACTIVITY_NOTE);
            const char *owner = ev->owner_id ? ev->owner_id : self->owner_id;
            if (s_engage (ctx, msg, ev, ACTIVITY_NOTE, key, &ids, NULL, out)) {
                free (key);
                key = activity_log_event_key (ev->event_id, ACTIVITY_TASK);
                if (s_engage (ctx, msg, ev, ACTIVITY_TASK, key, &ids, owner, out))
                    zhub_outcome_ok (out, "note_and_task");
            }
            break;
        }
        case ACTIVITY_EV_TOUR_SCHEDULED:
        case ACTIVITY_EV_TOUR_CANCELED: s_tour (ctx, msg, ev, &ids, out); break;
        case ACTIVITY_EV_MESSAGE: activity_log_transcript_message (ctx, msg, ev, &ids, out); break;
        default: zhub_outcome_ok (out, "ignored"); break;
    }
    free (key);
    activity_log_ids_clear (&ids);
}

//  -------------------------------------------------------------------
//  Replaying parked events once the contact is known

//  Runs the contact's parked events in order. Returns true when all ran;
//  false with *out set when one must be retried (it stays parked).
static bool
s_replay (zhub_actor_ctx_t *ctx, const char *bird_id, zhub_outcome_t *out, size_t *replayed)
{
    activity_log_t *self = ctx->state;
    *replayed = 0;
    activity_log_parked_t *p = zhub_calloc (1, sizeof *p);
    bool ok = true;
    if (activity_log_store_parked (ctx->store, &self->tables, bird_id, p) != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read parked events");
        activity_log_parked_clear (p);
        free (p);
        return false;
    }
    size_t done = 0;
    for (; done < p->count && ok; done++) {
        zhub_outcome_t sub;
        memset (&sub, 0, sizeof sub);
        zhub_outcome_ok (&sub, "ok");
        activity_event_t ev;
        memset (&ev, 0, sizeof ev);
        char reason[256];
        zhub_rc_t rc = p->msgs[done] ? activity_parse (p->msgs[done], &ev, reason, sizeof reason)
                                     : ZHUB_REJECT;
        if (rc == ZHUB_OK) {
            s_process (ctx, p->msgs[done], &ev, &sub);
            if (sub.rc == ZHUB_RETRY || (sub.outcome && !strcmp (sub.outcome, "parked"))) {
                *out = sub;
                ok = false;
                activity_event_clear (&ev);
                break;
            }
            if (sub.rc == ZHUB_REJECT)
                zhub_error ("parked_rejected", "id=%s code=%u", p->msgs[done]->id, sub.code);
            (*replayed)++;
        }
        activity_event_clear (&ev);
    }
    //  Delete what ran (and what could not be read).
    size_t total = p->count;
    zhub_rc_t rc = activity_log_store_unpark (ctx->store, &self->tables, p, done);
    activity_log_parked_clear (p);
    free (p);
    if (rc != ZHUB_OK && ok) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot delete replayed events");
        ok = false;
    }
    //  A full batch: more may wait; the next contact.synced (or this one's
    //  redelivery) continues.
    if (ok && total == ACTIVITY_REPLAY_BATCH)
        zhub_outcome_retry (out, 0, 0, "more parked events");
    return ok && total < ACTIVITY_REPLAY_BATCH;
}

//  -------------------------------------------------------------------
//  The handlers (one per route, main.c)

//  A conversation event of kind (its route's): resolve the contact, then
//  write its engagement, or park it until the contact is known.
static void
s_conversation_event (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                      activity_event_kind_t kind, zhub_outcome_t *out)
{
    activity_event_t event;
    char reason[256] = "";
    if (activity_read (kind, ev->msg, ev->data, &event, reason, sizeof reason) != ZHUB_OK)
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
    else
        s_process (ctx, ev->msg, &event, out);
    activity_event_clear (&event);
}

void
activity_log_handle_started (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                             zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_STARTED, out);
}

void
activity_log_handle_message (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                             zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_MESSAGE, out);
}

void
activity_log_handle_qualification (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                   zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_QUALIFIED, out);
}

void
activity_log_handle_escalation (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_ESCALATION, out);
}

void
activity_log_handle_calendar_down (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                   zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_CALENDAR_DOWN, out);
}

void
activity_log_handle_tour_scheduled (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                    zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_TOUR_SCHEDULED, out);
}

void
activity_log_handle_tour_canceled (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                   zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_TOUR_CANCELED, out);
}

//  contact.synced, deal.stage_changed: learn the HubSpot ids, then replay
//  what was parked for the contact.
static void
s_learn (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, activity_event_kind_t kind,
         zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    activity_event_t event;
    char reason[256] = "";
    size_t replayed = 0;
    if (activity_read (kind, ev->msg, ev->data, &event, reason, sizeof reason) != ZHUB_OK)
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
    else if (!event.hubspot_contact_id && !event.hubspot_deal_id)
        zhub_outcome_ok (out, "no_ids");
    else if (activity_log_store_learn (ctx->store, &self->tables, event.bird_id,
                                       event.hubspot_contact_id, event.hubspot_deal_id)
             != ZHUB_OK)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot write the id map");
    else if (s_replay (ctx, event.bird_id, out, &replayed)) {
        zhub_outcome_ok (out, "learned");
        snprintf (out->reason, sizeof out->reason, "replayed=%zu", replayed);
    }
    activity_event_clear (&event);
}

void
activity_log_handle_contact_synced (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                    zhub_outcome_t *out)
{
    s_learn (ctx, ev, ACTIVITY_EV_CONTACT_SYNCED, out);
}

void
activity_log_handle_deal_stage (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out)
{
    s_learn (ctx, ev, ACTIVITY_EV_DEAL_STAGE, out);
}
