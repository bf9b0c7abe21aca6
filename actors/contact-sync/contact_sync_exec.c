//  contact-sync's one executor: it drives a plan through the table of
//  contact.h (The plan as a state machine). The pure core decides; this
//  file only makes the call a FETCH or WRITE names, through the typed
//  connector function of its op, classifies a failure once (zhub_retry),
//  feeds the answer to contact_sync_plan_answer, and commits the plan where
//  it rests. A message handled at once, a write queued for the batch, a
//  reconciled contact and each contact of the batch flush go through it;
//  what differs is said in contact_run_t, not in a second executor.
//
//  The commit — state, id map, audit entries and contact.synced in the
//  outbox — is one transaction after the last call succeeded; the runtime
//  acks after it. A crash before the commit redoes idempotent upserts on
//  redelivery; after it, the state says "already synced" and the outbox
//  still holds the event.
#include "contact_sync_io.h"
#include "zhub_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
s_api_name (contact_api_t api)
{
    return api == CONTACT_API_HUBSPOT ? "hubspot" : "bird";
}

//  Makes the plan's call. Returns true when it answered 2xx; otherwise
//  fills *out from the one classification (except a 409 on a HubSpot
//  upsert, which the table resolves). The upsert is a batch call of one
//  input: a 207 Multi-Status without its record is that input refused,
//  and HubSpot's error for it is the outcome (a conflict resolved like a
//  409).
static bool
s_call (contact_sync_t *self, const contact_run_t *run, const contact_call_t *call,
        zhub_http_response_t *resp, zhub_outcome_t *out)
{
    const char *trace = run->traceparent;
    //  Each op through its typed connector function (contact_op_t).
    switch (call->op) {
        case CONTACT_OP_BIRD_GET: zhub_bird_contact_get (self->bird, call->id, trace, resp); break;
        case CONTACT_OP_BIRD_WRITE:
            if (call->id)
                zhub_bird_contact_update (self->bird, call->id, call->body, trace, resp);
            else
                zhub_bird_contact_upsert (self->bird, call->key, call->value, call->body, trace,
                                          resp);
            break;
        case CONTACT_OP_BIRD_LINK:
            zhub_bird_contact_update (self->bird, call->id, call->body, trace, resp);
            break;
        case CONTACT_OP_HUBSPOT_GET:
            zhub_hubspot_contact_get (self->hubspot, call->id, call->properties, trace, resp);
            break;
        case CONTACT_OP_HUBSPOT_UPSERT:
            zhub_hubspot_contacts_upsert (self->hubspot, call->body, trace, resp);
            break;
        case CONTACT_OP_HUBSPOT_UPDATE:
        case CONTACT_OP_HUBSPOT_LINK:
            zhub_hubspot_contact_update (self->hubspot, call->id, call->body, trace, resp);
            break;
        case CONTACT_OP_NONE:
            zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "a plan call without an op");
            return false;
    }
    zhub_debug ("call", "id=%s api=%s what=\"%s\" status=%ld ms=%lld", run->event_id,
                s_api_name (call->api), call->what, resp->status, (long long)resp->elapsed_ms);
    const json_t *error = call->op == CONTACT_OP_HUBSPOT_UPSERT && resp->status == 207
                                  && !json_array_size (json_object_get (resp->json, "results"))
                              ? zhub_hubspot_batch_error (resp->json, NULL, 1)
                              : NULL;
    if (error) {
        zhub_hubspot_batch_classify (error, call->what, out);
        if (out->code == 409) {
            //  the conflict, as a plain 409 would have said it
            json_t *conflict = json_deep_copy (error);
            json_decref (resp->json);
            resp->json = conflict;
            resp->status = 409;
        }
        return false;
    }
    if (resp->status >= 200 && resp->status < 300)
        return true;
    if (resp->status == 409 && call->op == CONTACT_OP_HUBSPOT_UPSERT)
        return false;
    zhub_retry_classify (resp, call->what, zhub_now_ms (), out);
    return false;
}

bool
contact_sync_run (zhub_actor_ctx_t *ctx, contact_run_t *run, const contact_event_t *event,
                  contact_state_t *state, bool *have, contact_plan_t *plan, zhub_outcome_t *out)
{
    assert (ctx && run && event && state && have && plan && out);
    contact_sync_t *self = ctx->state;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool called = true;
    for (int step = 0; step < CONTACT_SYNC_MAX_STEPS; step++) {
        if (plan->kind != CONTACT_PLAN_FETCH && plan->kind != CONTACT_PLAN_WRITE)
            break;
        contact_op_t op = plan->call.op;
        contact_answer_t answer;
        const json_t *json = NULL;
        if (step == 0 && run->first) {
            //  the caller made the first call (the flush's batch call)
            answer = run->first;
            json = run->first_json;
        } else if (plan->kind == CONTACT_PLAN_WRITE
                   && ((op == CONTACT_OP_HUBSPOT_UPSERT && run->queue_upserts)
                       || (op == CONTACT_OP_BIRD_LINK && run->defer_links))) {
            answer = CONTACT_ANSWER_QUEUED;
            run->link_deferred |= op == CONTACT_OP_BIRD_LINK;
        } else if (s_call (self, run, &plan->call, &resp, out)) {
            answer = CONTACT_ANSWER_OK;
            json = resp.json;
        } else if (resp.status == 409 && op == CONTACT_OP_HUBSPOT_UPSERT) {
            answer = CONTACT_ANSWER_CONFLICT;
            json = resp.json;
        } else {
            called = false; //  *out has the classification
            break;
        }
        if (op == CONTACT_OP_HUBSPOT_UPSERT && answer == CONTACT_ANSWER_CONFLICT)
            run->upsert_conflict = true;
        else if (op == CONTACT_OP_HUBSPOT_UPSERT && answer == CONTACT_ANSWER_OK)
            run->upsert_created = json_is_true (
                json_object_get (json_array_get (json_object_get (json, "results"), 0), "new"));
        if (plan->kind == CONTACT_PLAN_FETCH && answer == CONTACT_ANSWER_OK && !*have
            && event->origin == CONTACT_FROM_HUBSPOT) {
            //  Known by its Bird id (linked on the Bird side first)?
            const char *bird_id = contact_sync_answer_bird_id (json);
            if (bird_id)
                *have = contact_sync_store_load_bird (&self->store, bird_id, state) == ZHUB_OK;
        }
        contact_sync_plan_answer (plan, answer, json, event, *have ? state : NULL, &self->core);
    }
    zhub_http_response_reset (&resp);
    if (called && (plan->kind == CONTACT_PLAN_FETCH || plan->kind == CONTACT_PLAN_WRITE)) {
        plan->kind = CONTACT_PLAN_REJECT;
        plan->code = ZHUB_REASON_INTERNAL;
        snprintf (plan->reason, sizeof plan->reason, "plan did not finish in %d steps",
                  CONTACT_SYNC_MAX_STEPS);
    }
    return called;
}

zhub_rc_t
contact_sync_done (const contact_run_t *run, contact_plan_t *plan, const contact_state_t *prev,
                   contact_sync_commit_t *commit, zhub_msg_t **synced, zhub_outcome_t *out)
{
    *synced = NULL;
    if (plan->kind != CONTACT_PLAN_DONE || !plan->next.bird_id) {
        zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "plan done without a bird id");
        return ZHUB_REJECT;
    }
    plan->next.updated_ms = zhub_now_ms ();
    char reason[256] = "";
    *synced = contact_sync_synced_msg (plan, run->synced_of, run->cause_id, run->traceparent,
                                       zhub_now_ms (), reason, sizeof reason);
    if (!*synced) {
        zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "%s", reason);
        return ZHUB_REJECT;
    }
    *commit = (contact_sync_commit_t){.next = &plan->next,
                                      .prev = prev,
                                      .audit = plan->audit,
                                      .event_id = (*synced)->id,
                                      .publish = *synced,
                                      .settle_intent = run->settle_intent,
                                      .link_hubspot_id =
                                          run->link_deferred ? plan->next.hubspot_id : NULL};
    return ZHUB_OK;
}

zhub_rc_t
contact_sync_queue (zhub_actor_ctx_t *ctx, const zhub_msg_t *cause, const contact_plan_t *plan)
{
    contact_sync_t *self = ctx->state;
    size_t pending = 0;
    zhub_rc_t rc = contact_sync_store_queue (&self->store, plan, cause, zhub_now_ms (), &pending);
    //  a held-back write is waiting work (zhub_actor_waiting, zhub status)
    if (rc == ZHUB_OK)
        zhub_actor_set_waiting (ctx, (double)pending);
    if (rc == ZHUB_OK && self->queued >= 0) {
        if (self->queued++ == 0)
            self->queued_since = zhub_now_ms ();
    }
    return rc;
}

void
contact_sync_finish (zhub_actor_ctx_t *ctx, const contact_run_t *run, const contact_event_t *event,
                     const contact_state_t *state, bool have, contact_plan_t *plan,
                     zhub_outcome_t *out)
{
    contact_sync_t *self = ctx->state;
    switch (plan->kind) {
        case CONTACT_PLAN_IGNORE:
            zhub_outcome_ok (out, "ignored");
            snprintf (out->reason, sizeof out->reason, "%s", plan->reason);
            return;
        case CONTACT_PLAN_SKIP: {
            //  A change that lost to a newer one: nothing to write, but the
            //  decision goes to the audit trail.
            const char *bird_id = have ? state->bird_id : event->bird_id;
            contact_sync_commit_t commit = {
                .bird_id = bird_id, .audit = plan->audit, .event_id = run->event_id};
            if (plan->audit && bird_id
                && contact_sync_store_commit (&self->store, ctx, &commit, 1) != ZHUB_OK) {
                zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL,
                                    "cannot append to the audit trail");
                return;
            }
            zhub_outcome_ok (out, "skipped");
            snprintf (out->reason, sizeof out->reason, "%s", plan->reason);
            return;
        }
        case CONTACT_PLAN_REJECT: zhub_outcome_reject (out, plan->code, "%s", plan->reason); return;
        case CONTACT_PLAN_QUEUED:
            //  Batching: the write becomes an intent, sent by the tick.
            if (contact_sync_queue (ctx, run->cause, plan) == ZHUB_OK) {
                zhub_outcome_ok (out, "queued");
                snprintf (out->reason, sizeof out->reason,
                          "bird=%s: HubSpot write queued for the next batch", plan->next.bird_id);
            } else
                zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL,
                                    "cannot queue the HubSpot write");
            return;
        case CONTACT_PLAN_DONE: {
            contact_sync_commit_t commit;
            zhub_msg_t *synced = NULL;
            if (contact_sync_done (run, plan, have ? state : NULL, &commit, &synced, out)
                != ZHUB_OK)
                return;
            if (contact_sync_store_commit (&self->store, ctx, &commit, 1) == ZHUB_OK) {
                zhub_outcome_ok (out, "synced");
                snprintf (out->reason, sizeof out->reason, "%s bird=%s hubspot=%s event=%s",
                          plan->direction, plan->next.bird_id,
                          plan->next.hubspot_id ? plan->next.hubspot_id : "", synced->id);
            } else
                zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL,
                                    "cannot commit the contact state");
            zhub_msg_destroy (&synced);
            return;
        }
        case CONTACT_PLAN_FETCH:
        case CONTACT_PLAN_WRITE: break;
    }
    zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "plan did not finish");
}

void
contact_sync_execute (zhub_actor_ctx_t *ctx, const contact_run_t *how, const contact_event_t *event,
                      contact_state_t *state, bool *have, contact_plan_t *plan, zhub_outcome_t *out)
{
    contact_run_t run = *how;
    if (contact_sync_run (ctx, &run, event, state, have, plan, out))
        contact_sync_finish (ctx, &run, event, state, *have, plan, out);
}
