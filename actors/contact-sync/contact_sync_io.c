//  Executes contact-sync's plans. The pure core decides; this file only
//  makes the calls it names, feeds the answers back, classifies failures
//  once (zhub_retry) and commits. The commit — state, id map and the
//  contact.synced event in the outbox — is one LMDB transaction after the
//  last API call succeeded; the runtime acks after it. A crash before the
//  commit redoes idempotent upserts on redelivery; after it, the state
//  says "already synced" and the outbox still holds the event.
#include "contact_sync_io.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
contact_sync_open (zhub_actor_ctx_t *ctx)
{
    contact_sync_t *self = ctx->state;
    if (zhub_store_table (ctx->store, "contacts", &self->contacts)
        || zhub_store_table (ctx->store, "hubspot_ids", &self->hubspot_ids))
        return -1;
    return 0;
}

//  -------------------------------------------------------------------
//  State

typedef struct {
    const contact_sync_t *self;
    const char *key;
    bool by_hubspot;
    contact_state_t *state;
} s_load_t;

static zhub_rc_t
s_load (zhub_txn_t *txn, void *arg)
{
    s_load_t *load = arg;
    const void *value;
    size_t size;
    const char *bird_id = load->key;
    char bird_key[ZHUB_MSG_MAX_ID + 1];
    zhub_rc_t rc;
    if (load->by_hubspot) {
        rc = zhub_txn_get (txn, load->self->hubspot_ids, load->key, strlen (load->key), &value,
                           &size);
        if (rc != ZHUB_OK)
            return rc;
        if (size > ZHUB_MSG_MAX_ID)
            return ZHUB_ERROR;
        memcpy (bird_key, value, size);
        bird_key[size] = 0;
        bird_id = bird_key;
    }
    rc = zhub_txn_get (txn, load->self->contacts, bird_id, strlen (bird_id), &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    return contact_state_decode (value, size, load->state) ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
contact_sync_load_bird (zhub_store_t *store, const contact_sync_t *self, const char *bird_id,
                        contact_state_t *state)
{
    s_load_t load = {.self = self, .key = bird_id, .state = state};
    if (!bird_id || !*bird_id || strlen (bird_id) > ZHUB_MSG_MAX_ID)
        return ZHUB_NOTFOUND;
    return zhub_store_read (store, s_load, &load);
}

zhub_rc_t
contact_sync_load_hubspot (zhub_store_t *store, const contact_sync_t *self, const char *hubspot_id,
                           contact_state_t *state)
{
    s_load_t load = {.self = self, .key = hubspot_id, .by_hubspot = true, .state = state};
    if (!hubspot_id || !*hubspot_id || strlen (hubspot_id) > ZHUB_MSG_MAX_ID)
        return ZHUB_NOTFOUND;
    return zhub_store_read (store, s_load, &load);
}

typedef struct {
    zhub_actor_ctx_t *ctx;
    const contact_sync_t *self;
    const contact_state_t *next;
    const contact_state_t *prev; //  the state the plan started from, or NULL
    const zhub_msg_t *synced;
} s_commit_t;

static zhub_rc_t
s_commit (zhub_txn_t *txn, void *arg)
{
    s_commit_t *commit = arg;
    const contact_state_t *next = commit->next, *prev = commit->prev;
    char *text = contact_state_encode (next);
    zhub_rc_t rc = zhub_txn_put (txn, commit->self->contacts, next->bird_id, strlen (next->bird_id),
                                 text, strlen (text));
    free (text);
    if (rc != ZHUB_OK)
        return rc;
    if (next->hubspot_id) {
        rc = zhub_txn_put (txn, commit->self->hubspot_ids, next->hubspot_id,
                           strlen (next->hubspot_id), next->bird_id, strlen (next->bird_id));
        if (rc != ZHUB_OK)
            return rc;
    }
    //  The contact moved to other ids: drop the stale entries.
    if (prev && prev->bird_id && strcmp (prev->bird_id, next->bird_id)
        && zhub_txn_del (txn, commit->self->contacts, prev->bird_id, strlen (prev->bird_id))
               == ZHUB_ERROR)
        return ZHUB_ERROR;
    if (prev && prev->hubspot_id
        && (!next->hubspot_id || strcmp (prev->hubspot_id, next->hubspot_id))
        && zhub_txn_del (txn, commit->self->hubspot_ids, prev->hubspot_id,
                         strlen (prev->hubspot_id))
               == ZHUB_ERROR)
        return ZHUB_ERROR;
    return zhub_actor_outbox_put (commit->ctx, txn, commit->synced);
}

//  -------------------------------------------------------------------
//  Calls

static const char *
s_api_name (contact_api_t api)
{
    return api == CONTACT_API_HUBSPOT ? "hubspot" : "bird";
}

//  Makes the plan's call. Returns true when it answered 2xx; otherwise
//  fills *out from the one classification (except a 409 on a HubSpot
//  upsert, which the caller resolves).
static bool
s_call (zhub_actor_ctx_t *ctx, const contact_call_t *call, const zhub_msg_t *msg,
        zhub_http_response_t *resp, zhub_outcome_t *out)
{
    if (call->api == CONTACT_API_HUBSPOT)
        zhub_hubspot_request (ctx->hubspot, call->method, call->path, call->body, msg->traceparent,
                              resp);
    else
        zhub_bird_request (ctx->bird, call->method, call->path, call->body, msg->traceparent, resp);
    zhub_debug ("call", "id=%s api=%s what=\"%s\" status=%ld ms=%lld", msg->id,
                s_api_name (call->api), call->what, resp->status, (long long)resp->elapsed_ms);
    if (resp->status >= 200 && resp->status < 300)
        return true;
    if (resp->status == 409 && call->op == CONTACT_OP_HUBSPOT_UPSERT)
        return false;
    zhub_retry_classify (resp, call->what, zhub_now_ms (), out);
    return false;
}

//  -------------------------------------------------------------------
//  The handler

void
contact_sync_handle (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out)
{
    contact_sync_t *self = ctx->state;
    contact_event_t event;
    char reason[256] = "";
    zhub_rc_t rc = contact_sync_parse (msg, &event, reason, sizeof reason);
    if (rc == ZHUB_NOTFOUND) {
        zhub_outcome_ok (out, "ignored");
        snprintf (out->reason, sizeof out->reason, "%s", reason);
        return;
    }
    if (rc != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        return;
    }
    contact_state_t state = {0};
    rc = event.origin == CONTACT_FROM_BIRD
             ? contact_sync_load_bird (ctx->store, self, event.bird_id, &state)
             : contact_sync_load_hubspot (ctx->store, self, event.hubspot_id, &state);
    if (rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the contact state");
        contact_event_clear (&event);
        return;
    }
    bool have = rc == ZHUB_OK;

    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, have ? &state : NULL, &self->core, &plan);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool finished = false;
    for (int step = 0; step < CONTACT_SYNC_MAX_STEPS && !finished; step++) {
        finished = true;
        switch (plan.kind) {
            case CONTACT_PLAN_IGNORE:
                zhub_outcome_ok (out, "ignored");
                snprintf (out->reason, sizeof out->reason, "%s", plan.reason);
                break;
            case CONTACT_PLAN_SKIP:
                zhub_outcome_ok (out, "skipped");
                snprintf (out->reason, sizeof out->reason, "%s", plan.reason);
                break;
            case CONTACT_PLAN_REJECT:
                zhub_outcome_reject (out, plan.code, "%s", plan.reason);
                break;
            case CONTACT_PLAN_FETCH:
                if (!s_call (ctx, &plan.call, msg, &resp, out))
                    break;
                if (!have && event.origin == CONTACT_FROM_HUBSPOT) {
                    //  Known by its Bird id (linked on the Bird side first)?
                    const char *bird_id = contact_sync_answer_bird_id (resp.json);
                    if (bird_id)
                        have =
                            contact_sync_load_bird (ctx->store, self, bird_id, &state) == ZHUB_OK;
                }
                contact_sync_plan_fetched (&event, have ? &state : NULL, resp.json, &self->core,
                                           &plan);
                finished = false;
                break;
            case CONTACT_PLAN_WRITE:
                if (s_call (ctx, &plan.call, msg, &resp, out))
                    contact_sync_plan_written (&plan, resp.json);
                else if (resp.status == 409 && plan.call.op == CONTACT_OP_HUBSPOT_UPSERT)
                    contact_sync_plan_conflict (&plan, resp.json);
                else
                    break;
                finished = false;
                break;
            case CONTACT_PLAN_DONE: {
                if (!plan.next.bird_id) {
                    zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "plan done without a bird id");
                    break;
                }
                plan.next.updated_ms = zhub_now_ms ();
                zhub_msg_t *synced = contact_sync_synced_msg (msg, &plan, zhub_now_ms ());
                s_commit_t commit = {.ctx = ctx,
                                     .self = self,
                                     .next = &plan.next,
                                     .prev = have ? &state : NULL,
                                     .synced = synced};
                if (zhub_store_write (ctx->store, s_commit, &commit) == ZHUB_OK) {
                    zhub_outcome_ok (out, "synced");
                    snprintf (out->reason, sizeof out->reason, "%s bird=%s hubspot=%s event=%s",
                              plan.direction, plan.next.bird_id,
                              plan.next.hubspot_id ? plan.next.hubspot_id : "", synced->id);
                } else
                    zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL,
                                        "cannot commit the contact state");
                zhub_msg_destroy (&synced);
                break;
            }
        }
    }
    if (!finished)
        zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "plan did not finish in %d steps",
                             CONTACT_SYNC_MAX_STEPS);
    zhub_http_response_reset (&resp);
    contact_plan_clear (&plan);
    contact_state_clear (&state);
    contact_event_clear (&event);
}
