//  scheduler's WhatsApp I/O: sends the confirmations, reminders and
//  self-service links through Bird's channel messages, as free text only
//  while the contact's 24-hour window is open and as the configured template
//  otherwise (the decision and the bodies are scheduler_whatsapp.c's), and
//  learns when each contact last wrote from Bird's whatsapp.inbound
//  webhooks on the bus:
//
//    inbound   Bird contact id -> u64 ms of the newest message they sent
//
//  One small table in one place: the conversation bridge, when it comes,
//  takes this over and the scheduler then asks it instead. Bird's reports of
//  our messages failing (whatsapp.outbound with a failed status) are logged
//  against the booking, so a message that could not go is not silent.
#include "scheduler_internal.h"
#include "scheduler_whatsapp.h"

//  The newest inbound time of a contact: 0 when they never wrote (or it
//  cannot be read: then the template goes, which is always allowed).
static int64_t
s_last_inbound (zhub_store_t *store, scheduler_t *self, const char *bird_id)
{
    char *value;
    size_t size;
    if (!bird_id
        || scheduler_get (store, self->inbound, bird_id, strlen (bird_id), &value, &size)
               != ZHUB_OK)
        return 0;
    int64_t at = size == 8 ? (int64_t)zhub_store_u64 (value) : 0;
    free (value);
    return at;
}

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
    int64_t last = s_last_inbound (ctx->store, self, b->bird_id);
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
    char missing[64] = "";
    for (int k = 0; k < SCHED_WA_KINDS; k++) {
        //  Reminders go a day or hours ahead: mostly outside the window.
        //  Confirmations and links follow a chat, but not always.
        bool wanted = k == SCHED_WA_LINK       ? self->cfg.self_service
                      : k == SCHED_WA_REMINDER ? self->cfg.reminder_count > 0
                                               : true;
        if (wanted && !wa->templates[k].project_id)
            snprintf (missing + strlen (missing), sizeof missing - strlen (missing), "%s%s",
                      *missing ? "," : "", sched_wa_kind_name ((sched_wa_kind_t)k));
    }
    zhub_info ("config", "bird_channel_id=%s whatsapp_locale=%s whatsapp_templates_missing=%s",
               self->cfg.bird_channel_id ? self->cfg.bird_channel_id : "unset", wa->locale,
               *missing ? missing : "none");
    if (self->cfg.bird_channel_id && *missing)
        zhub_warn ("whatsapp_templates_missing",
                   "kinds=%s note=\"outside a contact's 24-hour window these are not sent\"",
                   missing);
}

//  -------------------------------------------------------------------
//  webhook.bird.whatsapp.inbound

typedef struct {
    scheduler_t *self;
    const char *bird_id;
    int64_t at;
    bool newer; //  out: the stored time moved
} s_inbound_t;

static zhub_rc_t
s_inbound_fn (zhub_txn_t *txn, void *arg)
{
    s_inbound_t *in = arg;
    const void *value;
    size_t size;
    size_t key_size = strlen (in->bird_id);
    zhub_rc_t rc = zhub_txn_get (txn, in->self->inbound, in->bird_id, key_size, &value, &size);
    if (rc == ZHUB_ERROR)
        return rc;
    //  Webhooks may come late or twice: the newest message wins.
    if (rc == ZHUB_OK && size == 8 && (int64_t)zhub_store_u64 (value) >= in->at)
        return ZHUB_OK;
    uint8_t stamp[8];
    zhub_store_key_u64 (stamp, (uint64_t)in->at);
    in->newer = true;
    return zhub_txn_put (txn, in->self->inbound, in->bird_id, key_size, stamp, sizeof stamp);
}

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
    s_inbound_t in = {.self = ctx->state, .bird_id = bird_id, .at = at};
    if (zhub_store_write (ctx->store, s_inbound_fn, &in) == ZHUB_OK)
        zhub_outcome_ok (out, in.newer ? "inbound_seen" : "inbound_older");
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

//  -------------------------------------------------------------------
//  GDPR erase

//  inbound rows keyed by one of the person's ids.
static bool
s_is_person (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)value;
    (void)size;
    char *id = zhub_malloc (key_size + 1);
    memcpy (id, key, key_size);
    id[key_size] = 0;
    bool doomed = zhub_forget_is (arg, id);
    free (id);
    return doomed;
}

zhub_rc_t
scheduler_whatsapp_forget (zhub_txn_t *txn, scheduler_t *self, const zhub_forget_t *f,
                           size_t *removed)
{
    return zhub_txn_delete_where (txn, self->inbound, s_is_person, (void *)f, removed);
}
