//  One batch upsert of queued contacts and what HubSpot's answer means for
//  each of them. HubSpot answers a batch with 200 when every input
//  succeeded, 207 Multi-Status when some did not (results[] for those that
//  did, errors[] for the others, and an error says which input it is about
//  only for some categories), or a 4xx for the whole call. Every contact a
//  batch leaves without its record is therefore sent again alone: the
//  answer to a call with one input is about that input. What is then still
//  refused for good is dead-lettered on its own, with HubSpot's error for
//  it — the message that queued it was acked long ago, so contact-sync
//  publishes the dead letter (dlq.contact-sync) itself, from the envelope
//  the intent kept, and its state stops claiming HubSpot holds the values.
//  A 409 that names an existing contact (its e-mail is taken) becomes an
//  update of that contact, as on the unbatched path.
#include "contact_sync_io.h"
#include "zhub_dlq.h"
#include "zhub_log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_WHAT "hubspot upsert contact"

static json_t *
s_input (const contact_item_t *item)
{
    json_t *props = json_deep_copy (json_object_get (item->entry, "properties"));
    json_object_set_new (props, "bird_contact_id", json_string (item->bird_id));
    return json_pack ("{s:s, s:s, s:o}", "id", item->bird_id, "idProperty", "bird_contact_id",
                      "properties", props);
}

//  Reads the record ids of a batch answer into the open items (matched on
//  bird_contact_id; HubSpot does not promise the input order).
static void
s_read_ids (const json_t *answer, contact_item_t *items, size_t count)
{
    size_t i;
    json_t *result;
    json_array_foreach (json_object_get (answer, "results"), i, result)
    {
        char *id = zhub_hubspot_id (json_object_get (result, "id"));
        const char *bird = json_string_value (
            json_object_get (json_object_get (result, "properties"), "bird_contact_id"));
        for (size_t k = 0; id && k < count; k++)
            if ((bird && !strcmp (bird, items[k].bird_id)) || (!bird && count == 1)) {
                free (items[k].hubspot_id);
                items[k].hubspot_id = zhub_strdup (id);
                items[k].fate = CONTACT_ITEM_DONE;
                items[k].created = json_is_true (json_object_get (result, "new"));
            }
        free (id);
    }
}

//  One upsert call for the items; the answer stays in resp. 0 when HubSpot
//  answered 2xx (found ids read), 1 when it refused the call (4xx), -1 on a
//  transient failure.
static int
s_send (zhub_actor_ctx_t *ctx, contact_item_t *items, size_t count, zhub_http_response_t *resp)
{
    json_t *inputs = json_array ();
    for (size_t i = 0; i < count; i++)
        json_array_append_new (inputs, s_input (&items[i]));
    json_t *body = json_pack ("{s:o}", "inputs", inputs);
    zhub_hubspot_request (((contact_sync_t *)ctx->state)->hubspot, "POST", "/crm/v3/objects/contacts/batch/upsert", body,
                          json_string_value (json_object_get (items[0].entry, "traceparent")),
                          resp);
    json_decref (body);
    if (resp->status >= 200 && resp->status < 300) {
        s_read_ids (resp->json, items, count);
        return 0;
    }
    zhub_outcome_t out = {0};
    zhub_retry_classify (resp, "hubspot batch upsert contacts", zhub_now_ms (), &out);
    return out.rc == ZHUB_RETRY ? -1 : 1;
}

static void
s_fail (contact_item_t *item, const zhub_outcome_t *out)
{
    item->fate = out->rc == ZHUB_RETRY ? CONTACT_ITEM_DEFERRED : CONTACT_ITEM_REFUSED;
    item->failure = *out;
}

//  HubSpot said the item's e-mail belongs to contact existing_id: write
//  the intent onto that contact (PATCH), as the unbatched path does.
static void
s_update_existing (zhub_actor_ctx_t *ctx, contact_item_t *item, const char *existing_id,
                   zhub_http_response_t *resp)
{
    item->conflict = true;
    json_t *props = json_deep_copy (json_object_get (item->entry, "properties"));
    json_object_set_new (props, "bird_contact_id", json_string (item->bird_id));
    json_t *body = json_pack ("{s:o}", "properties", props);
    char *path = zhub_sprintf ("/crm/v3/objects/contacts/%s", existing_id);
    zhub_hubspot_request (((contact_sync_t *)ctx->state)->hubspot, "PATCH", path, body,
                          json_string_value (json_object_get (item->entry, "traceparent")), resp);
    free (path);
    json_decref (body);
    if (resp->status >= 200 && resp->status < 300) {
        char *id = zhub_hubspot_id (json_object_get (resp->json, "id"));
        free (item->hubspot_id);
        item->hubspot_id = id ? id : zhub_strdup (existing_id);
        item->fate = CONTACT_ITEM_DONE;
        return;
    }
    zhub_outcome_t out;
    zhub_retry_classify (resp, "hubspot update existing contact", zhub_now_ms (), &out);
    s_fail (item, &out);
}

//  Settles an item from the answer to a call that carried it alone (rc as
//  s_send returns).
static void
s_settle_alone (zhub_actor_ctx_t *ctx, contact_item_t *item, int rc, zhub_http_response_t *resp)
{
    if (item->fate == CONTACT_ITEM_DONE)
        return;
    zhub_outcome_t out;
    const json_t *error = NULL;
    if (rc == 0) {
        error = zhub_hubspot_batch_error (resp->json, item->bird_id, 1);
        if (error)
            zhub_hubspot_batch_classify (error, S_WHAT, &out);
        else
            zhub_outcome_reject (&out, ZHUB_REASON_BAD_ANSWER,
                                 S_WHAT ": HTTP %ld without the record", resp->status);
    } else
        zhub_retry_classify (resp, S_WHAT, zhub_now_ms (), &out);
    char existing[32];
    if (out.code == 409
        && !contact_sync_conflict_id (error ? error : resp->json, existing, sizeof existing)) {
        s_update_existing (ctx, item, existing, resp);
        return;
    }
    s_fail (item, &out);
}

bool
contact_sync_upsert_items (zhub_actor_ctx_t *ctx, contact_item_t *items, size_t count, long *status)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    for (size_t i = 0; i < count; i++)
        items[i].fate = CONTACT_ITEM_OPEN;
    int rc = s_send (ctx, items, count, &resp);
    *status = resp.status;
    if (rc < 0) {
        zhub_outcome_t out;
        zhub_retry_classify (&resp, "hubspot batch upsert contacts", zhub_now_ms (), &out);
        for (size_t i = 0; i < count; i++)
            s_fail (&items[i], &out);
        zhub_http_response_reset (&resp);
        return false;
    }
    if (count == 1)
        s_settle_alone (ctx, &items[0], rc, &resp);
    else {
        size_t open = 0;
        for (size_t i = 0; i < count; i++)
            open += items[i].fate != CONTACT_ITEM_DONE;
        if (open)
            zhub_warn ("batch_partial", "count=%zu failed=%zu status=%ld note=\"%s\"", count, open,
                       resp.status, "sending the failed contacts one by one");
        for (size_t i = 0; i < count; i++) {
            if (items[i].fate == CONTACT_ITEM_DONE)
                continue;
            int one = s_send (ctx, &items[i], 1, &resp);
            s_settle_alone (ctx, &items[i], one, &resp);
        }
    }
    zhub_http_response_reset (&resp);
    return true;
}

//  -------------------------------------------------------------------
//  Dead letters of refused contacts

//  The envelope of the message that queued the intent (kept base64 in
//  "cause_envelope"), or, for an intent queued before it was kept, one
//  made up to name the contact and what was to be written. Fresh bytes.
static uint8_t *
s_cause_envelope (const contact_item_t *item, size_t *size)
{
    const char *text = json_string_value (json_object_get (item->entry, "cause_envelope"));
    if (text) {
        size_t cap = strlen (text), length = 0;
        uint8_t *bytes = zhub_malloc (cap ? cap : 1);
        if (sodium_base642bin (bytes, cap, text, cap, NULL, &length, NULL,
                               sodium_base64_VARIANT_ORIGINAL)
            == 0) {
            *size = length;
            return bytes;
        }
        free (bytes);
    }
    const char *cause = json_string_value (json_object_get (item->entry, "cause_id"));
    zhub_msg_t *msg = zhub_msg_new ();
    char *id = zhub_sprintf ("intent:%s", cause && *cause ? cause : item->bird_id);
    zhub_msg_set (&msg->id, id);
    free (id);
    zhub_msg_set (&msg->source, CONTACT_SYNC_SOURCE);
    zhub_msg_set (&msg->type, "contact.hubspot_write");
    char *subject = zhub_sprintf ("contact:%s", item->bird_id);
    zhub_msg_set (&msg->subject, subject);
    free (subject);
    msg->time_ms = zhub_now_ms ();
    json_t *data = json_pack ("{s:s, s:O}", "bird_contact_id", item->bird_id, "properties",
                              json_object_get (item->entry, "properties"));
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    uint8_t *bytes = NULL;
    char err[128];
    if (zhub_msg_encode (msg, &bytes, size, err, sizeof err))
        bytes = NULL;
    zhub_msg_destroy (&msg);
    return bytes;
}

zhub_rc_t
contact_sync_refuse (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const contact_item_t *item)
{
    const contact_sync_t *self = ctx->state;
    const char *bird = item->bird_id;
    if (contact_sync_pending_del (txn, self, bird, NULL) != ZHUB_OK)
        return ZHUB_ERROR;
    //  The state no longer claims HubSpot holds what it refused.
    const void *value;
    size_t size;
    if (zhub_txn_get (txn, self->contacts, bird, strlen (bird), &value, &size) == ZHUB_OK) {
        contact_state_t state = {0};
        if (contact_state_decode (value, size, &state) == 0) {
            contact_sync_withdraw (&state, json_object_get (item->entry, "properties"));
            char *text = contact_state_encode (&state);
            zhub_rc_t rc =
                zhub_txn_put (txn, self->contacts, bird, strlen (bird), text, strlen (text));
            free (text);
            contact_state_clear (&state);
            if (rc != ZHUB_OK)
                return rc;
        }
    }
    size_t envelope_size = 0;
    uint8_t *envelope = s_cause_envelope (item, &envelope_size);
    if (!envelope)
        return ZHUB_ERROR;
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
    if (!dead)
        return ZHUB_ERROR;
    zhub_rc_t rc = zhub_actor_outbox_put (ctx, txn, dead);
    zhub_msg_destroy (&dead);
    return rc;
}
