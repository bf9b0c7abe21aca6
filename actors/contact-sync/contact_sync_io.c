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
    self->hubspot = zhub_hubspot_new (&self->hubspot_config, ctx->http);
    self->bird = zhub_bird_new (&self->bird_config, ctx->http);
    return contact_sync_store_open (&self->store, ctx->store);
}

void
contact_sync_close (zhub_actor_ctx_t *ctx)
{
    contact_sync_t *self = ctx->state;
    zhub_hubspot_destroy (&self->hubspot);
    zhub_bird_destroy (&self->bird);
}

bool
contact_sync_ready (zhub_actor_ctx_t *ctx, char *why, size_t why_size)
{
    const contact_sync_t *self = ctx->state;
    zhub_hubspot_property_t needs[CONTACT_MAX_FIELDS + 1];
    size_t count = 0;
    needs[count++] = *zhub_hubspot_property_find ("contacts", "bird_contact_id");
    for (size_t i = 0; i < self->core.field_count; i++) {
        const contact_field_map_t *field = &self->core.fields[i];
        if (!field->to_hubspot)
            continue;
        const zhub_hubspot_property_t *known =
            zhub_hubspot_property_find ("contacts", field->hubspot);
        needs[count++] =
            known ? *known
                  : (zhub_hubspot_property_t){.object = "contacts", .name = field->hubspot};
    }
    return zhub_hubspot_properties_check (((contact_sync_t *)ctx->state)->hubspot, "contacts",
                                          needs, count, why, why_size)
           == 0;
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
//  upsert, which the caller resolves). The upsert is a batch call of one
//  input: a 207 Multi-Status without its record is that input refused,
//  and HubSpot's error for it is the outcome (a CONFLICT the caller
//  resolves like a 409).
static bool
s_call (zhub_actor_ctx_t *ctx, const contact_call_t *call, const zhub_msg_t *msg,
        zhub_http_response_t *resp, zhub_outcome_t *out)
{
    contact_sync_t *self = ctx->state;
    const char *trace = msg->traceparent;
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
    zhub_debug ("call", "id=%s api=%s what=\"%s\" status=%ld ms=%lld", msg->id,
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

//  Runs a plan to its end: makes each call it names, feeds the answer
//  back, and commits a DONE plan (state, id map, audit, contact.synced in
//  the outbox). *out says how it went.
static void
s_execute (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, contact_event_t *event,
           contact_state_t *state, bool *have, contact_plan_t *plan, zhub_outcome_t *out)
{
    contact_sync_t *self = ctx->state;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool finished = false;
    for (int step = 0; step < CONTACT_SYNC_MAX_STEPS && !finished; step++) {
        finished = true;
        switch (plan->kind) {
            case CONTACT_PLAN_IGNORE:
                zhub_outcome_ok (out, "ignored");
                snprintf (out->reason, sizeof out->reason, "%s", plan->reason);
                break;
            case CONTACT_PLAN_SKIP: {
                //  A change that lost to a newer one: nothing to write, but
                //  the decision goes to the audit trail.
                const char *bird_id = *have ? state->bird_id : event->bird_id;
                if (plan->audit && bird_id) {
                    contact_sync_commit_t commit = {
                        .bird_id = bird_id, .audit = plan->audit, .event_id = msg->id};
                    if (contact_sync_store_commit (&self->store, ctx, &commit, 1) != ZHUB_OK) {
                        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL,
                                            "cannot append to the audit trail");
                        break;
                    }
                }
                zhub_outcome_ok (out, "skipped");
                snprintf (out->reason, sizeof out->reason, "%s", plan->reason);
                break;
            }
            case CONTACT_PLAN_REJECT:
                zhub_outcome_reject (out, plan->code, "%s", plan->reason);
                break;
            case CONTACT_PLAN_FETCH:
                if (!s_call (ctx, &plan->call, msg, &resp, out))
                    break;
                if (!*have && event->origin == CONTACT_FROM_HUBSPOT) {
                    //  Known by its Bird id (linked on the Bird side first)?
                    const char *bird_id = contact_sync_answer_bird_id (resp.json);
                    if (bird_id)
                        *have =
                            contact_sync_store_load_bird (&self->store, bird_id, state) == ZHUB_OK;
                }
                contact_sync_plan_fetched (event, *have ? state : NULL, resp.json, &self->core,
                                           plan);
                finished = false;
                break;
            case CONTACT_PLAN_WRITE:
                if (self->batch_window_ms > 0 && plan->call.op == CONTACT_OP_HUBSPOT_UPSERT) {
                    //  Batching: the write becomes an intent, sent by the tick.
                    if (contact_sync_queue (ctx, msg, plan) == ZHUB_OK) {
                        zhub_outcome_ok (out, "queued");
                        snprintf (out->reason, sizeof out->reason,
                                  "bird=%s: HubSpot write queued for the next batch",
                                  plan->next.bird_id);
                    } else
                        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL,
                                            "cannot queue the HubSpot write");
                    break;
                }
                if (s_call (ctx, &plan->call, msg, &resp, out))
                    contact_sync_plan_written (plan, resp.json);
                else if (resp.status == 409 && plan->call.op == CONTACT_OP_HUBSPOT_UPSERT)
                    contact_sync_plan_conflict (plan, resp.json);
                else
                    break;
                finished = false;
                break;
            case CONTACT_PLAN_DONE: {
                if (!plan->next.bird_id) {
                    zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "plan done without a bird id");
                    break;
                }
                plan->next.updated_ms = zhub_now_ms ();
                zhub_msg_t *synced = contact_sync_synced_msg (msg, plan, zhub_now_ms ());
                contact_sync_commit_t commit = {.next = &plan->next,
                                                .prev = *have ? state : NULL,
                                                .audit = plan->audit,
                                                .event_id = synced->id,
                                                .publish = synced};
                if (contact_sync_store_commit (&self->store, ctx, &commit, 1) == ZHUB_OK) {
                    zhub_outcome_ok (out, "synced");
                    snprintf (out->reason, sizeof out->reason, "%s bird=%s hubspot=%s event=%s",
                              plan->direction, plan->next.bird_id,
                              plan->next.hubspot_id ? plan->next.hubspot_id : "", synced->id);
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
}

//  -------------------------------------------------------------------
//  Lifecycle: merge and deletion re-map the ids; Bird learns the new
//  HubSpot id (or loses it) through its hubspot_contact_id attribute.

#define S_LIFECYCLE_MAX (CONTACT_MAX_MERGED + 2)

static void
s_handle_lifecycle (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, contact_lifecycle_t *event,
                    zhub_outcome_t *out)
{
    contact_sync_t *self = ctx->state;
    const char *ids[S_LIFECYCLE_MAX];
    size_t id_count = 0;
    if (event->merge) {
        ids[id_count++] = event->primary_id;
        for (size_t i = 0; i < event->merged_count; i++)
            ids[id_count++] = event->merged_ids[i];
    } else
        ids[id_count++] = event->object_id;
    contact_state_t states[S_LIFECYCLE_MAX];
    char *old_ids[S_LIFECYCLE_MAX];
    size_t count = 0;
    memset (states, 0, sizeof states);
    for (size_t i = 0; i < id_count; i++) {
        contact_state_t state = {0};
        zhub_rc_t rc = contact_sync_store_load_hubspot (&self->store, ids[i], &state);
        if (rc == ZHUB_ERROR) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the contact state");
            for (size_t k = 0; k < count; k++) {
                contact_state_clear (&states[k]);
                free (old_ids[k]);
            }
            return;
        }
        bool seen = false;
        for (size_t k = 0; rc == ZHUB_OK && k < count; k++)
            seen |= !strcmp (states[k].bird_id, state.bird_id);
        if (rc == ZHUB_OK && !seen) {
            old_ids[count] = zhub_strdup (state.hubspot_id);
            states[count++] = state;
        } else
            contact_state_clear (&state);
    }
    if (!count) {
        zhub_outcome_ok (out, "ignored");
        snprintf (out->reason, sizeof out->reason, "no synced contact among the %s ids",
                  event->merge ? "merged" : "deleted");
        return;
    }
    if (event->merge)
        contact_sync_apply_merge (event, states, count);
    else
        contact_sync_apply_deletion (&states[0]);
    //  Bird's hubspot_contact_id attribute follows (idempotent PATCHes).
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++) {
        const char *now_id = states[i].hubspot_id;
        if (old_ids[i] && now_id && !strcmp (old_ids[i], now_id))
            continue;
        json_t *body = json_pack ("{s:{s:o}}", "attributes", "hubspot_contact_id",
                                  now_id ? json_string (now_id) : json_null ());
        zhub_bird_contact_update (self->bird, states[i].bird_id, body, msg->traceparent, &resp);
        json_decref (body);
        //  A Bird contact that is gone needs no attribute.
        if ((resp.status < 200 || resp.status >= 300) && resp.status != 404) {
            zhub_retry_classify (&resp, "bird update contact", zhub_now_ms (), out);
            ok = false;
        }
    }
    if (ok) {
        //  Every HubSpot id the event names is gone (or re-pointed by the
        //  states); each Bird contact's audit trail says what happened.
        json_t *audit[S_LIFECYCLE_MAX];
        for (size_t i = 0; i < count; i++)
            audit[i] =
                contact_sync_relink_entry (event, &states[i], old_ids[i], msg->time_ms, msg->id);
        if (contact_sync_store_relink (&self->store, ids, id_count, states, audit, count, msg->id)
            == ZHUB_OK) {
            zhub_outcome_ok (out, event->merge ? "merged" : "unlinked");
            snprintf (out->reason, sizeof out->reason, "%zu bird contact(s) re-mapped", count);
        } else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the id map");
        for (size_t i = 0; i < count; i++)
            json_decref (audit[i]);
    }
    zhub_http_response_reset (&resp);
    for (size_t i = 0; i < count; i++) {
        contact_state_clear (&states[i]);
        free (old_ids[i]);
    }
}

//  -------------------------------------------------------------------
//  The handlers, one per route (main.c)

//  A contact to sync, read by its route's parser: the plan, run to its end.
static void
s_sync (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_rc_t parsed, contact_event_t *event,
        const char *reason, zhub_outcome_t *out)
{
    contact_sync_t *self = ctx->state;
    if (parsed == ZHUB_NOTFOUND) {
        zhub_outcome_ok (out, "ignored");
        snprintf (out->reason, sizeof out->reason, "%s", reason);
        return;
    }
    if (parsed != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        return;
    }
    contact_state_t state = {0};
    zhub_rc_t rc = event->origin == CONTACT_FROM_BIRD
                       ? contact_sync_store_load_bird (&self->store, event->bird_id, &state)
                       : contact_sync_store_load_hubspot (&self->store, event->hubspot_id, &state);
    if (rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the contact state");
        contact_event_clear (event);
        return;
    }
    bool have = rc == ZHUB_OK;

    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (event, have ? &state : NULL, &self->core, &plan);
    s_execute (ctx, msg, event, &state, &have, &plan, out);
    contact_plan_clear (&plan);
    contact_state_clear (&state);
    contact_event_clear (event);
}

void
contact_sync_on_bird (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    contact_event_t event;
    char reason[256] = "";
    zhub_rc_t rc = contact_sync_parse_bird (ev->msg, ev->data, &event, reason, sizeof reason);
    s_sync (ctx, ev->msg, rc, &event, reason, out);
}

void
contact_sync_on_conversation (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                              zhub_outcome_t *out)
{
    contact_event_t event;
    char reason[256] = "";
    zhub_rc_t rc =
        contact_sync_parse_conversation (ev->msg, ev->data, &event, reason, sizeof reason);
    s_sync (ctx, ev->msg, rc, &event, reason, out);
}

void
contact_sync_on_hubspot (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    char reason[256] = "";
    switch (contact_sync_hubspot_kind (msg->type, ev->data)) {
        case CONTACT_HUBSPOT_CONTACT: {
            contact_event_t event;
            zhub_rc_t rc =
                contact_sync_parse_hubspot (msg, ev->data, &event, reason, sizeof reason);
            s_sync (ctx, msg, rc, &event, reason, out);
            return;
        }
        case CONTACT_HUBSPOT_LIFECYCLE: {
            contact_lifecycle_t life;
            if (contact_sync_parse_lifecycle (msg->type, ev->data, &life, reason, sizeof reason)
                != ZHUB_OK) {
                zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
                return;
            }
            s_handle_lifecycle (ctx, msg, &life, out);
            contact_lifecycle_clear (&life);
            return;
        }
        case CONTACT_HUBSPOT_PRIVACY: {
            contact_erase_t erase;
            if (contact_sync_parse_privacy (msg->type, ev->data, &erase, reason, sizeof reason)
                != ZHUB_OK) {
                zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
                return;
            }
            contact_sync_erase (ctx, msg, &erase, out);
            contact_erase_clear (&erase);
            return;
        }
    }
}

void
contact_sync_on_erase (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    contact_erase_t erase;
    char reason[256] = "";
    if (contact_sync_parse_erase (ev->data, &erase, reason, sizeof reason) != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        return;
    }
    contact_sync_erase (ctx, ev->msg, &erase, out);
    contact_erase_clear (&erase);
}

//  -------------------------------------------------------------------
//  Reconciliation

//  One search result through the HubSpot -> Bird plan. Returns 1 when it
//  wrote (drift), 0 when Bird already agreed, -1 when the contact failed
//  (*out says why; a transient failure stops the tick).
static int
s_reconcile_one (zhub_actor_ctx_t *ctx, const zhub_msg_t *tick, const json_t *result,
                 zhub_outcome_t *out)
{
    contact_sync_t *self = ctx->state;
    const char *id = json_string_value (json_object_get (result, "id"));
    const char *modified = json_string_value (
        json_object_get (json_object_get (result, "properties"), "lastmodifieddate"));
    if (!id)
        return 0;
    int64_t modified_ms = 0;
    if (modified)
        zhub_time_parse (modified, &modified_ms);
    contact_event_t event = {.origin = CONTACT_FROM_HUBSPOT,
                             .kind = zhub_strdup ("reconcile"),
                             .hubspot_id = zhub_strdup (id),
                             .time_ms = modified_ms};
    //  One id per repaired change: the tick, the contact and its version.
    zhub_msg_t input = {.id = zhub_sprintf ("%s:%s:%lld", tick->id, id, (long long)modified_ms),
                        .traceparent = tick->traceparent};
    event.event_id = zhub_strdup (input.id);
    contact_state_t state = {0};
    zhub_rc_t rc = contact_sync_store_load_hubspot (&self->store, id, &state);
    const char *bird_id = contact_sync_answer_bird_id (result);
    if (rc == ZHUB_NOTFOUND && bird_id)
        rc = contact_sync_store_load_bird (&self->store, bird_id, &state);
    int drift = -1;
    if (rc == ZHUB_ERROR)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the contact state");
    else {
        bool have = rc == ZHUB_OK;
        contact_plan_t plan;
        contact_plan_init (&plan);
        contact_sync_plan_fetched (&event, have ? &state : NULL, result, &self->core, &plan);
        bool writes = plan.kind == CONTACT_PLAN_WRITE;
        zhub_outcome_t one = {0};
        s_execute (ctx, &input, &event, &state, &have, &plan, &one);
        if (one.rc == ZHUB_OK)
            drift = writes ? 1 : 0;
        else {
            zhub_warn ("reconcile_contact", "hubspot=%s code=%u", id, one.code);
            if (one.rc == ZHUB_RETRY)
                *out = one;
            else
                drift = 0; //  an invalid record: dead ends here, the tick goes on
        }
        contact_plan_clear (&plan);
    }
    contact_state_clear (&state);
    contact_event_clear (&event);
    free (input.id);
    return drift;
}

void
contact_sync_on_reconcile (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    contact_sync_t *self = ctx->state;
    int64_t stored_watermark, drift_total;
    if (contact_sync_store_reconcile_read (&self->store, &stored_watermark, &drift_total)
        != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the watermark");
        return;
    }
    const char *since_text = json_string_value (json_object_get (ev->data, "since"));
    int64_t since = stored_watermark;
    if (since_text && zhub_time_parse (since_text, &since)) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "since is not an RFC 3339 time");
        return;
    }
    json_t *properties = json_array ();
    const char *list =
        self->core.hubspot_properties ? self->core.hubspot_properties : CONTACT_HUBSPOT_PROPERTIES;
    char *copy = zhub_strdup (list), *save = NULL;
    for (char *name = strtok_r (copy, ",", &save); name; name = strtok_r (NULL, ",", &save))
        json_array_append_new (properties, json_string (name));
    free (copy);
    json_array_append_new (properties, json_string ("lastmodifieddate"));

    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    int64_t query_from = since, watermark = since;
    long found = 0, drift = 0, after = 0;
    int pages = 0;
    bool failed = false;
    zhub_outcome_ok (out, "reconciled");
    while (pages < CONTACT_RECONCILE_MAX_PAGES && !failed) {
        char from[32];
        snprintf (from, sizeof from, "%lld", (long long)query_from);
        json_t *body =
            json_pack ("{s:[{s:[{s:s, s:s, s:s}]}], s:[{s:s, s:s}], s:O, s:i}", "filterGroups",
                       "filters", "propertyName", "lastmodifieddate", "operator", "GTE", "value",
                       from, "sorts", "propertyName", "lastmodifieddate", "direction", "ASCENDING",
                       "properties", properties, "limit", CONTACT_RECONCILE_PAGE);
        if (after > 0) {
            char text[32];
            snprintf (text, sizeof text, "%ld", after);
            json_object_set_new (body, "after", json_string (text));
        }
        //  Search has its own limit (5/s per token, no rate headers): the
        //  connector's pacer spaces search calls.
        zhub_hubspot_contacts_search (self->hubspot, body, msg->traceparent, &resp);
        json_decref (body);
        pages++;
        if (resp.status < 200 || resp.status >= 300) {
            zhub_retry_classify (&resp, "hubspot search contacts", zhub_now_ms (), out);
            failed = true;
            break;
        }
        const json_t *results = json_object_get (resp.json, "results");
        size_t i;
        json_t *result;
        int64_t last_modified = query_from;
        json_array_foreach (results, i, result)
        {
            found++;
            int one = s_reconcile_one (ctx, msg, result, out);
            if (one < 0 && out->rc == ZHUB_RETRY) {
                failed = true;
                break;
            }
            drift += one > 0;
            const char *modified = json_string_value (
                json_object_get (json_object_get (result, "properties"), "lastmodifieddate"));
            int64_t ms;
            if (modified && !zhub_time_parse (modified, &ms) && ms > last_modified)
                last_modified = ms;
        }
        if (failed)
            break;
        if (last_modified > watermark)
            watermark = last_modified;
        const char *next = json_string_value (json_object_get (
            json_object_get (json_object_get (resp.json, "paging"), "next"), "after"));
        if (!next)
            break;
        after = strtol (next, NULL, 10);
        //  Paging stops at 10,000 results: slice anew from the last date seen.
        if (after + CONTACT_RECONCILE_PAGE >= CONTACT_RECONCILE_CAP) {
            query_from = last_modified;
            after = 0;
        }
    }
    json_decref (properties);
    zhub_http_response_reset (&resp);
    //  Commit what was repaired even when a transient failure cut the tick
    //  short: the watermark only moves past what was handled.
    drift_total += drift;
    char since_stamp[40], mark_stamp[40];
    zhub_time_format (since, since_stamp, sizeof since_stamp);
    zhub_time_format (watermark, mark_stamp, sizeof mark_stamp);
    zhub_msg_t *done = NULL;
    if (!failed) {
        done = zhub_msg_new ();
        char id[64];
        contact_sync_synced_id (msg->id ? msg->id : "", id, sizeof id);
        id[0] = 'r'; //  "rs-...": the reconciled event of this tick
        zhub_msg_set (&done->id, id);
        zhub_msg_set (&done->source, CONTACT_SYNC_SOURCE);
        zhub_msg_set (&done->type, "contact.reconciled");
        zhub_msg_set (&done->subject, "reconcile");
        zhub_msg_set (&done->traceparent, msg->traceparent);
        done->time_ms = zhub_now_ms ();
        json_t *data = json_pack ("{s:I, s:I, s:I, s:s, s:s}", "found", (json_int_t)found, "drift",
                                  (json_int_t)drift, "drift_total", (json_int_t)drift_total,
                                  "since", since_stamp, "watermark", mark_stamp);
        zhub_msg_set_data_json (done, data);
        json_decref (data);
    }
    if (contact_sync_store_reconcile_write (&self->store, ctx, watermark, drift_total, done)
            != ZHUB_OK
        && !failed)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot store the watermark");
    zhub_info ("reconcile",
               "id=%s found=%ld drift=%ld drift_total=%lld pages=%d since=%s "
               "watermark=%s complete=%s",
               msg->id, found, drift, (long long)drift_total, pages, since_stamp, mark_stamp,
               failed ? "no" : "yes");
    zhub_msg_destroy (&done);
    if (!failed)
        snprintf (out->reason, sizeof out->reason, "found=%ld drift=%ld drift_total=%lld", found,
                  drift, (long long)drift_total);
}
