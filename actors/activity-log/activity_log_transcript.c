//  activity-log's transcript note: conversation.message (activity_log_io.c
//  hands it over once the contact is known) and the
//  activity.transcript.flush timer (its route's handler is here).
//
//  The transcript note is coalesced: messages go into the conversation
//  cache at once, but the note is written at most once per interval. When
//  a write has to wait, a timer message (activity.transcript.flush, subject
//  "transcript:<conversation>") is queued in the outbox with deliverat set
//  to when the write is due: the broker holds it durably until then
//  (PROTOCOL.md 6.3) and delivers it once, so the timer survives our
//  restarts and spends no delivery attempt. Its handler writes the note.
#include "activity_log_transcript.h"
#include "zhub_log.h"

#include <stdlib.h>

//  Writes the transcript note now (create or update) and commits conv.
//  Returns true when done; false with *out set (conv is committed dirty
//  either way, so the lines are not lost).
static bool
s_transcript_write (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const activity_event_t *ev,
                    activity_conv_t *conv, const activity_log_ids_t *ids, zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    char *html = activity_transcript_html (conv);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool ok = false, created = false;
    if (conv->note_id) {
        json_t *body = json_pack ("{s:{s:s}}", "properties", "hs_note_body", html);
        zhub_hubspot_engagement_update (self->hubspot, ZHUB_HUBSPOT_NOTE, conv->note_id, body,
                                        msg->traceparent, &resp);
        ok = activity_log_answered (msg, "hubspot update transcript note", &resp, out);
        json_decref (body);
        if (!ok && resp.status == 404) {
            //  Someone deleted the note in HubSpot: start a new one.
            free (conv->note_id);
            conv->note_id = NULL;
        }
    }
    if (!conv->note_id && ids && ids->contact_id) {
        //  The note carries the conversation.message summary with the time of
        //  the first message.
        activity_event_t first = *ev;
        first.kind = ACTIVITY_EV_STARTED;
        first.time_ms = conv->count ? conv->lines[0].sent_ms : ev->time_ms;
        json_t *body =
            activity_engagement_body (&first, ACTIVITY_NOTE, ids->contact_id, ids->deal_id, NULL);
        json_object_set_new (json_object_get (body, "properties"), "hs_note_body",
                             json_string (html));
        zhub_http_response_reset (&resp);
        zhub_hubspot_engagement_create (self->hubspot, ZHUB_HUBSPOT_NOTE, body, msg->traceparent,
                                        &resp);
        ok = activity_log_answered (msg, "hubspot create transcript note", &resp, out);
        json_decref (body);
        const char *id = ok ? json_string_value (json_object_get (resp.json, "id")) : NULL;
        if (ok && !id) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "note answer without an id");
            ok = false;
        }
        if (ok) {
            conv->note_id = zhub_strdup (id);
            created = true;
        }
    } else if (!conv->note_id) {
        zhub_outcome_ok (out, "no_contact");
        ok = false;
    }
    free (html);
    int64_t now = zhub_now_ms ();
    if (ok) {
        conv->dirty = false;
        conv->flushed_ms = now;
        conv->flush_due_ms = 0;
    }
    activity_log_change_t change = {.conv = conv};
    char *made = NULL;
    zhub_msg_t *logged = NULL;
    if (created) {
        made = zhub_hubspot_engagement_path (ZHUB_HUBSPOT_NOTE, conv->note_id);
        logged = activity_log_logged_msg (msg, ev, ACTIVITY_NOTE, conv->note_id, now);
        change.hubspot_id = conv->note_id;
        change.made_bird = conv->bird_id ? conv->bird_id : ev->bird_id;
        change.made_path = made;
        change.publish[0] = logged;
    }
    zhub_http_response_reset (&resp);
    zhub_rc_t rc = activity_log_store_commit (ctx, &self->tables, &change);
    zhub_msg_destroy (&logged);
    free (made);
    if (rc != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the conversation");
        return false;
    }
    return ok;
}

//  Arms conv's transcript timer for due: the flush message, held by the
//  broker until due, to queue with conv's commit (the caller destroys it
//  after). NULL, logged, when the catalogue refuses it: conv keeps no
//  timer, and the next message arms one.
static zhub_msg_t *
s_arm (const zhub_msg_t *msg, activity_conv_t *conv, int64_t due, int64_t now)
{
    char reason[256] = "", quoted[300];
    zhub_msg_t *flush = activity_flush_msg (conv, due, now, reason, sizeof reason);
    if (flush)
        conv->flush_due_ms = due;
    else
        zhub_warn ("event_refused", "id=%s type=%s reason=%s", msg->id, ACTIVITY_FLUSH_TOPIC,
                   zhub_log_quote (reason, quoted, sizeof quoted));
    return flush;
}

//  Commits conv with the timer flush (may be NULL), which it destroys.
//  ZHUB_OK, or a retry in *out.
static zhub_rc_t
s_commit_timer (zhub_actor_ctx_t *ctx, activity_conv_t *conv, zhub_msg_t *flush,
                zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    activity_log_change_t change = {.conv = conv, .publish = {flush}};
    zhub_rc_t rc = activity_log_store_commit (ctx, &self->tables, &change);
    zhub_msg_destroy (&flush);
    if (rc != ZHUB_OK)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the conversation");
    return rc;
}

void
activity_log_transcript_message (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                                 const activity_event_t *ev, const activity_log_ids_t *ids,
                                 zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    activity_conv_t conv;
    zhub_rc_t rc = activity_log_store_conv (ctx->store, &self->tables, ev->conversation_id, &conv);
    if (rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the conversation");
        return;
    }
    if (rc == ZHUB_NOTFOUND)
        activity_conv_init (&conv, ev->conversation_id, ev->bird_id);
    int64_t now = zhub_now_ms ();
    activity_conv_append (&conv, ev->event_id, ev->direction, ev->text, ev->sent_ms, now);
    int64_t due;
    switch (activity_transcript_decide (&conv, now, self->transcript_interval_ms, &due)) {
        case ACTIVITY_TRANSCRIPT_CREATE:
        case ACTIVITY_TRANSCRIPT_UPDATE:
            if (s_transcript_write (ctx, msg, ev, &conv, ids, out))
                zhub_outcome_ok (out, "transcript_written");
            break;
        case ACTIVITY_TRANSCRIPT_NOTHING:
        case ACTIVITY_TRANSCRIPT_DEFER: {
            //  One timer at a time, unless the one armed is long overdue (lost)
            zhub_msg_t *flush = NULL;
            if (conv.dirty
                && (!conv.flush_due_ms || conv.flush_due_ms + ACTIVITY_FLUSH_GRACE_MS < now))
                flush = s_arm (msg, &conv, due ? due : now, now);
            if (s_commit_timer (ctx, &conv, flush, out) == ZHUB_OK)
                zhub_outcome_ok (out, "transcript_deferred");
            break;
        }
    }
    activity_conv_clear (&conv);
}

//  activity.transcript.flush, delivered when its timer is due: writes the
//  note (or, when a write since made it early, leaves the rest to the
//  timer armed for it, arming one if none is). Never NACKs: the broker
//  held the message until due.
static void
s_flush (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const activity_event_t *ev,
         zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    activity_conv_t conv;
    zhub_rc_t rc = activity_log_store_conv (ctx->store, &self->tables, ev->conversation_id, &conv);
    if (rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the conversation");
        return;
    }
    if (rc == ZHUB_NOTFOUND) {
        zhub_outcome_ok (out, "conversation_gone");
        return;
    }
    //  The broker released this timer at its due time by its own clock;
    //  ours may be a little behind: the timer is due now at the latest.
    int64_t now = zhub_now_ms (), due;
    if (ev->due_ms > now)
        now = ev->due_ms;
    activity_transcript_action_t action =
        activity_transcript_decide (&conv, now, self->transcript_interval_ms, &due);
    if (action == ACTIVITY_TRANSCRIPT_DEFER) {
        //  The note was written since this timer was armed (a message found
        //  the interval over), and lines came after: the timer armed for
        //  those writes them, unless there is none (or it is long overdue).
        if (conv.flush_due_ms && conv.flush_due_ms != ev->due_ms
            && conv.flush_due_ms + ACTIVITY_FLUSH_GRACE_MS >= now)
            zhub_outcome_ok (out, "transcript_pending");
        else if (s_commit_timer (ctx, &conv, s_arm (msg, &conv, due, now), out) == ZHUB_OK)
            zhub_outcome_ok (out, "transcript_rearmed");
    } else if (action == ACTIVITY_TRANSCRIPT_NOTHING)
        zhub_outcome_ok (out, "transcript_current");
    else {
        activity_log_ids_t ids = {0};
        if (conv.bird_id)
            activity_log_store_ids (ctx->store, &self->tables, conv.bird_id, &ids);
        activity_event_t at = *ev;
        at.bird_id = conv.bird_id;
        at.type = "conversation.message";
        if (s_transcript_write (ctx, msg, &at, &conv, &ids, out))
            zhub_outcome_ok (out, "transcript_flushed");
        activity_log_ids_clear (&ids);
    }
    activity_conv_clear (&conv);
}

void
activity_log_handle_flush (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    activity_event_t event;
    char reason[256] = "";
    if (activity_read (ACTIVITY_EV_FLUSH, ev->msg, ev->data, &event, reason, sizeof reason)
        != ZHUB_OK)
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
    else
        s_flush (ctx, ev->msg, &event, out);
    activity_event_clear (&event);
}
