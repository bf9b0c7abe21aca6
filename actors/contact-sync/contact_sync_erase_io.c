//  contact-sync's I/O for a GDPR erase (contact.erase, and HubSpot's
//  contact.privacyDeletion read as one; the pure half is
//  contact_sync_erase.c, the store's half contact_sync_store_erase.c).
//  Three steps:
//
//    find      the states the identifier names (contact_sync_store_find);
//    upstream  with "upstream": HubSpot's GDPR delete and Bird's contact
//              delete, each 404 counting as done; a failure is classified
//              once (zhub_retry) and the whole erase is retried or
//              dead-lettered before anything local is touched;
//    commit    one write transaction (contact_sync_store_erase): every
//              record about the person goes, their audit entries become
//              tombstones, and contact.forget and contact.forgotten go into
//              the outbox. Then the runtime compacts the store
//              (zhub_actor_compact_after), so the freed pages no longer
//              hold the person's bytes.
//
//  Idempotent: a redelivery after the commit finds nobody and queues the
//  same two messages again under the same ids, which the broker's dedup
//  drops; the upstream deletes answer 404, which counts as done.
#include "contact_sync_io.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  -------------------------------------------------------------------
//  Upstream

//  Classifies one delete: 2xx and 404 are done. Returns true when done.
static bool
s_deleted (const zhub_http_response_t *resp, const char *what, zhub_outcome_t *out)
{
    if ((resp->status >= 200 && resp->status < 300) || resp->status == 404)
        return true;
    zhub_retry_classify (resp, what, zhub_now_ms (), out);
    return false;
}

//  HubSpot by record id, else by e-mail (a contact unlinked from HubSpot
//  may still be there under its address).
static bool
s_delete_hubspot (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const char *id, const char *email,
                  zhub_http_response_t *resp, zhub_outcome_t *out)
{
    if (!id && !email)
        return true;
    zhub_hubspot_contact_gdpr_delete (((contact_sync_t *)ctx->state)->hubspot, id ? id : email,
                                      id ? NULL : "email", msg->traceparent, resp);
    zhub_debug ("call", "id=%s api=hubspot what=\"hubspot gdpr delete contact\" status=%ld ms=%lld",
                msg->id, resp->status, (long long)resp->elapsed_ms);
    return s_deleted (resp, "hubspot gdpr delete contact", out);
}

static bool
s_delete_bird (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const char *id,
               zhub_http_response_t *resp, zhub_outcome_t *out)
{
    if (!id)
        return true;
    zhub_bird_contact_delete (((contact_sync_t *)ctx->state)->bird, id, msg->traceparent, resp);
    zhub_debug ("call", "id=%s api=bird what=\"bird delete contact\" status=%ld ms=%lld", msg->id,
                resp->status, (long long)resp->elapsed_ms);
    return s_deleted (resp, "bird delete contact", out);
}

static const char *
s_either (const char *a, const char *b)
{
    return a && *a ? a : b && *b ? b : NULL;
}

//  Deletes the persons in HubSpot and Bird. With nobody found, what the
//  identifier names on its own: an e-mail in HubSpot, a Bird id in Bird.
//  Returns true when everything is gone; otherwise *out says why.
static bool
s_upstream (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const contact_erase_t *erase,
            const contact_state_t *states, size_t count, zhub_outcome_t *out)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool ok = true;
    bool hubspot_named = erase->by == CONTACT_ERASE_BY_HUBSPOT
                         || (erase->by == CONTACT_ERASE_BY_DIGITS && erase->hubspot_known);
    for (size_t i = 0; i < count && ok; i++) {
        const contact_state_t *state = &states[i];
        const char *id = s_either (state->hubspot_id, hubspot_named ? erase->identifier : NULL);
        ok = s_delete_hubspot (ctx, msg, id, s_either (state->hubspot.email, state->bird.email),
                               &resp, out)
             && s_delete_bird (ctx, msg, state->bird_id, &resp, out);
    }
    if (!count && erase->by == CONTACT_ERASE_BY_EMAIL && *erase->email)
        ok = s_delete_hubspot (ctx, msg, NULL, erase->email, &resp, out);
    else if (!count && erase->by == CONTACT_ERASE_BY_BIRD)
        ok = s_delete_bird (ctx, msg, erase->identifier, &resp, out);
    zhub_http_response_reset (&resp);
    return ok;
}

//  -------------------------------------------------------------------
//  Commit

typedef struct {
    const zhub_msg_t *msg;
    const contact_erase_t *erase;
    const json_t *forget_data;
} s_announce_t;

//  contact.forget (every identifier known of the person) and
//  contact.forgotten (how many records went), built in the erase's
//  transaction.
static size_t
s_announce (size_t removed, zhub_msg_t **publish, size_t max, void *arg)
{
    const s_announce_t *announce = arg;
    if (max < 2)
        return 0;
    int64_t now = zhub_now_ms ();
    publish[0] =
        contact_sync_forget_msg (announce->msg, announce->erase, announce->forget_data, now);
    publish[1] = zhub_forget_answer (CONTACT_ERASE_ACTOR, announce->erase->request, removed,
                                     announce->msg->traceparent, now);
    return 2;
}

//  -------------------------------------------------------------------
//  The handler

void
contact_sync_erase (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, contact_erase_t *erase,
                    zhub_outcome_t *out)
{
    contact_sync_t *self = ctx->state;
    contact_state_t states[CONTACT_ERASE_MAX_PERSONS];
    size_t count = 0;
    if (contact_sync_store_find (&self->store, erase, states, &count) != ZHUB_OK)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the contact states");
    else if (!erase->upstream || s_upstream (ctx, msg, erase, states, count, out)) {
        json_t *forget_data = contact_sync_forget_data (erase, states, count);
        s_announce_t announce = {.msg = msg, .erase = erase, .forget_data = forget_data};
        size_t removed = 0;
        if (contact_sync_store_erase (&self->store, ctx, erase, states, count, msg->id, s_announce,
                                      &announce, &removed)
            == ZHUB_OK) {
            zhub_actor_compact_after (ctx);
            self->queued = -1; //  queued HubSpot writes may be gone: count again
            zhub_outcome_ok (out, count ? "erased" : "erased_nobody");
            //  No identifier in the log: the request id names the erase.
            snprintf (out->reason, sizeof out->reason,
                      "request=%s contacts=%zu removed=%zu upstream=%s", erase->request, count,
                      removed, erase->upstream ? "yes" : "no");
        } else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the erase");
        json_decref (forget_data);
    }
    for (size_t i = 0; i < count; i++)
        contact_state_clear (&states[i]);
}
