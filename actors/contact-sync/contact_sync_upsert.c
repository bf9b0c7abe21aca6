//  One batch upsert of queued contacts, and which of them HubSpot's answer
//  settles. HubSpot answers a batch with 200 when every input succeeded,
//  207 Multi-Status when some did not (results[] for those that did,
//  errors[] for the others, and an error says which input it is about only
//  for some categories), or a 4xx for the whole call. A contact whose
//  record came back goes on through the table (WRITE × OK) as if it had
//  been written alone; every other one is sent again alone by the flush,
//  since the answer to a call with one input is about that input. What is
//  then refused for good is dead-lettered on its own, with HubSpot's error
//  for it — the message that queued it was acked long ago, so contact-sync
//  publishes the dead letter (dlq.contact-sync) itself, from the envelope
//  the intent kept.
#include "contact_sync_io.h"
#include "zhub_dlq.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Gives the open items the records a batch answer holds for them
//  (matched on bird_contact_id; HubSpot does not promise the input order).
static void
s_read_records (const json_t *answer, contact_item_t *items, size_t count)
{
    size_t i;
    json_t *result;
    json_array_foreach (json_object_get (answer, "results"), i, result)
    {
        const char *bird = json_string_value (
            json_object_get (json_object_get (result, "properties"), "bird_contact_id"));
        for (size_t k = 0; bird && k < count; k++)
            if (!items[k].record && !strcmp (bird, items[k].intent.bird_id))
                items[k].record = json_incref (result);
    }
}

bool
contact_sync_upsert_items (zhub_actor_ctx_t *ctx, contact_item_t *items, size_t count, long *status)
{
    contact_sync_t *self = ctx->state;
    //  each contact's input as its plan would send it alone
    json_t *inputs = json_array ();
    for (size_t i = 0; i < count; i++) {
        items[i].fate = CONTACT_ITEM_OPEN;
        json_array_append (inputs,
                           json_array_get (json_object_get (items[i].plan.call.body, "inputs"), 0));
    }
    json_t *body = json_pack ("{s:o}", "inputs", inputs);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_hubspot_contacts_upsert (self->hubspot, body, items[0].intent.traceparent, &resp);
    json_decref (body);
    *status = resp.status;
    bool answered = true;
    if (resp.status >= 200 && resp.status < 300)
        s_read_records (resp.json, items, count);
    else {
        zhub_outcome_t out = {0};
        zhub_retry_classify (&resp, "hubspot batch upsert contacts", zhub_now_ms (), &out);
        if (out.rc == ZHUB_RETRY) {
            for (size_t i = 0; i < count; i++) {
                items[i].fate = CONTACT_ITEM_DEFERRED;
                items[i].failure = out;
            }
            answered = false;
        }
    }
    size_t open = 0;
    for (size_t i = 0; answered && i < count; i++)
        open += !items[i].record;
    if (open)
        zhub_warn ("batch_partial", "count=%zu failed=%zu status=%ld note=\"%s\"", count, open,
                   resp.status, "sending the failed contacts one by one");
    zhub_http_response_reset (&resp);
    return answered;
}

//  -------------------------------------------------------------------
//  Dead letters of refused contacts

//  The envelope of the message that queued the intent, or, for an intent
//  queued before it was kept, one made up to name the contact and what was
//  to be written. Fresh bytes.
static uint8_t *
s_cause_envelope (const contact_intent_t *intent, size_t *size)
{
    if (intent->cause_envelope) {
        uint8_t *bytes =
            zhub_malloc (intent->cause_envelope_size ? intent->cause_envelope_size : 1);
        memcpy (bytes, intent->cause_envelope, intent->cause_envelope_size);
        *size = intent->cause_envelope_size;
        return bytes;
    }
    const char *cause = intent->cause_id;
    zhub_msg_t *msg = zhub_msg_new ();
    char *id = zhub_sprintf ("intent:%s", cause && *cause ? cause : intent->bird_id);
    zhub_msg_set (&msg->id, id);
    free (id);
    zhub_msg_set (&msg->source, CONTACT_SYNC_SOURCE);
    zhub_msg_set (&msg->type, "contact.hubspot_write");
    char *subject = zhub_sprintf ("contact:%s", intent->bird_id);
    zhub_msg_set (&msg->subject, subject);
    free (subject);
    msg->time_ms = zhub_now_ms ();
    json_t *data = json_pack ("{s:s, s:O}", "bird_contact_id", intent->bird_id, "properties",
                              intent->properties);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    uint8_t *bytes = NULL;
    char err[128];
    if (zhub_msg_encode (msg, &bytes, size, err, sizeof err))
        bytes = NULL;
    zhub_msg_destroy (&msg);
    return bytes;
}

zhub_msg_t *
contact_sync_dead_letter (const contact_item_t *item)
{
    size_t envelope_size = 0;
    uint8_t *envelope = s_cause_envelope (&item->intent, &envelope_size);
    if (!envelope)
        return NULL;
    int64_t now = zhub_now_ms ();
    zhub_dlq_attempt_t attempt = {
        .time_ms = now, .code = item->failure.code, .reason = item->failure.reason};
    zhub_dlq_spec_t spec = {.group = CONTACT_SYNC_GROUP,
                            .source = CONTACT_SYNC_SOURCE,
                            .envelope = envelope,
                            .envelope_size = envelope_size,
                            .attempts = &attempt,
                            .attempt_count = 1,
                            .reason_code = item->failure.code,
                            .cause = "terminal",
                            .now_ms = now};
    zhub_msg_t *dead = zhub_dlq_build (&spec);
    free (envelope);
    return dead;
}
