//  scheduler's WhatsApp I/O: sends the confirmations, reminders,
//  Calendly links, alternatives and cancellations through Bird's channel
//  messages (the cancellation on the scheduler's own tour.canceled, so
//  that every way a booking ends, Calendly, Google or Graph, says it once), as free text only
//  while the contact's 24-hour window is open and as the configured template
//  otherwise (the decision and the bodies are scheduler_whatsapp.c's), and
//  learns when each contact last wrote from Bird's whatsapp.inbound
//  webhooks on the bus (kept in the store's inbound table: one small table
//  in one place; the conversation bridge, when it comes, takes this over
//  and the scheduler then asks it instead). Bird's reports of
//  our messages failing (whatsapp.outbound with a failed status) are logged
//  against the booking, so a message that could not go is not silent.
#include "scheduler_internal.h"
#include "scheduler_whatsapp.h"

bool
scheduler_whatsapp_send (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const sched_booking_t *b,
                         sched_wa_kind_t kind, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    const char *name = sched_wa_kind_name (kind);
    if (!self->cfg.bird_channel_id) {
        zhub_warn ("whatsapp_skipped", "id=%s booking=%s kind=%s note=\"no bird_channel_id\"",
                   msg->id, b->booking_id, name);
        return true;
    }
    int64_t now = zhub_now_ms ();
    //  0 when they never wrote (or it cannot be read): then the template
    //  goes, which is always allowed
    int64_t last = b->bird_id ? sched_store_inbound (self->db, b->bird_id) : 0;
    bool templated;
    char why[200];
    json_t *body = sched_whatsapp_body (kind, b, &self->cfg, sched_wa_window_open (last, now),
                                        &templated, why, sizeof why);
    if (!body) {
        //  Sending free text would be accepted by Bird and then fail: a
        //  missing template is an operator's fix, not worth a retry.
        char quoted[240];
        zhub_warn ("whatsapp_skipped", "id=%s booking=%s kind=%s reason=%s", msg->id, b->booking_id,
                   name, zhub_log_quote (why, quoted, sizeof quoted));
        return true;
    }
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_bird_channel_message_send (self->bird, self->cfg.bird_channel_id, body, msg->traceparent,
                                    &resp);
    bool ok = resp.status >= 200 && resp.status < 300;
    if (ok)
        zhub_info ("whatsapp_sent", "id=%s booking=%s kind=%s form=%s last_inbound_ms=%lld",
                   msg->id, b->booking_id, name, templated ? "template" : "text", (long long)last);
    else
        zhub_retry_classify (&resp, "bird send whatsapp", now, out);
    zhub_http_response_reset (&resp);
    json_decref (body);
    return ok;
}

void
scheduler_whatsapp_config_log (const scheduler_t *self)
{
    const sched_wa_config_t *wa = &self->cfg.whatsapp;
    char missing[96] = "";
    for (int k = 0; k < SCHED_WA_KINDS; k++) {
        //  Reminders go a day or hours ahead: mostly outside the window;
        //  so may cancellations. Confirmations, links and alternatives
        //  follow a chat, but not always.
        bool link = self->cfg.self_service
                    || (self->cfg.fallback_after && self->cfg.calendly_event_type);
        bool wanted = k == SCHED_WA_LINK       ? link
                      : k == SCHED_WA_REMINDER ? self->cfg.reminder_count > 0
                                               : true;
        if (wanted && !wa->templates[k].project_id)
            snprintf (missing + strlen (missing), sizeof missing - strlen (missing), "%s%s",
                      *missing ? "," : "", sched_wa_kind_name ((sched_wa_kind_t)k));
    }
    char texts[96] = "";
    for (int k = 0; k < SCHED_WA_KINDS; k++)
        if (wa->texts[k])
            snprintf (texts + strlen (texts), sizeof texts - strlen (texts), "%s%s",
                      *texts ? "," : "", sched_wa_kind_name ((sched_wa_kind_t)k));
    zhub_info ("config",
               "bird_channel_id=%s whatsapp_locale=%s whatsapp_templates_missing=%s "
               "whatsapp_texts_configured=%s calendly_fallback_after=%u",
               self->cfg.bird_channel_id ? self->cfg.bird_channel_id : "unset", wa->locale,
               *missing ? missing : "none", *texts ? texts : "none",
               self->cfg.calendly_event_type && self->calendly_config.token
                       && *self->calendly_config.token
                   ? self->cfg.fallback_after
                   : 0);
    if (self->cfg.bird_channel_id && *missing)
        zhub_warn ("whatsapp_templates_missing",
                   "kinds=%s note=\"outside a contact's 24-hour window these are not sent\"",
                   missing);
}

//  -------------------------------------------------------------------
//  tour.canceled (our own): the WhatsApp cancellation, once per cancel

void
scheduler_handle_canceled (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                           zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    const zhub_msg_t *msg = ev->msg;
    if (!msg->source || strcmp (msg->source, SCHEDULER_SOURCE)) {
        zhub_outcome_ok (out, "ignored");
        return;
    }
    const char *id = json_string_value (json_object_get (ev->data, "booking_id"));
    sched_booking_t b;
    zhub_rc_t rc = id ? sched_store_booking (self->db, id, &b) : ZHUB_NOTFOUND;
    if (rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the booking");
        return;
    }
    if (rc == ZHUB_NOTFOUND) {
        zhub_outcome_ok (out, "unknown_booking"); //  erased since
        return;
    }
    if (strcmp (b.status, "canceled"))
        zhub_outcome_ok (out, "not_canceled"); //  booked again since
    else if (b.canceled_sent && !strcmp (b.canceled_sent, msg->id))
        zhub_outcome_ok (out, "already_sent");
    else if (scheduler_whatsapp_send (ctx, msg, &b, SCHED_WA_CANCELLATION, out)) {
        free (b.canceled_sent);
        b.canceled_sent = zhub_strdup (msg->id);
        sched_save_t save = {.booking = &b};
        if (sched_store_save (self->db, &save) == ZHUB_OK)
            zhub_outcome_ok (out, "cancellation_sent");
        else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
    }
    sched_booking_clear (&b);
}

//  -------------------------------------------------------------------
//  webhook.bird.whatsapp.inbound

void
scheduler_handle_whatsapp_inbound (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                   zhub_outcome_t *out)
{
    char *bird_id;
    int64_t at;
    if (sched_wa_inbound_read (ev->data, ev->msg->time_ms, &bird_id, &at) != ZHUB_OK) {
        zhub_outcome_ok (out, "ignored");
        return;
    }
    scheduler_t *self = ctx->state;
    bool newer;
    if (sched_store_inbound_put (self->db, bird_id, at, &newer) == ZHUB_OK)
        zhub_outcome_ok (out, newer ? "inbound_seen" : "inbound_older");
    else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot keep the inbound time");
    free (bird_id);
}

//  -------------------------------------------------------------------
//  webhook.bird.whatsapp.outbound: Bird's status reports of messages sent

void
scheduler_handle_whatsapp_outbound (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                    zhub_outcome_t *out)
{
    (void)ctx;
    const zhub_msg_t *msg = ev->msg;
    const json_t *payload = json_object_get (ev->data, "payload");
    const char *status = json_string_value (json_object_get (payload, "status"));
    const char *reference = json_string_value (json_object_get (payload, "reference"));
    //  Bird's failed states (https://docs.bird.com/api/channels-api/
    //  message-status-and-interactions): sending_failed, delivery_failed.
    bool failed = status && strstr (status, "failed");
    //  Ours carry the booking id ("bk" + 32 hex digits) as reference.
    if (failed && reference && !strncmp (reference, "bk", 2)) {
        char reason[200], details[240];
        zhub_warn ("whatsapp_failed", "id=%s booking=%s status=%s reason=%s details=%s", msg->id,
                   reference, status,
                   zhub_log_quote (json_string_value (json_object_get (payload, "reason")), reason,
                                   sizeof reason),
                   zhub_log_quote (json_string_value (json_object_get (payload, "details")),
                                   details, sizeof details));
        zhub_outcome_ok (out, "whatsapp_failed");
    } else
        zhub_outcome_ok (out, "ignored");
}
