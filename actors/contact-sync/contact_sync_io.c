//  Executes contact-sync's plans. The pure core decides; this file only
//  makes the calls it names, feeds the answers back, classifies failures
//  once (zhub_retry) and commits. The commit — state, id map and the
//  contact.synced event in the outbox — is one LMDB transaction after the
//  last API call succeeded; the runtime acks after it. A crash before the
//  commit redoes idempotent upserts on redelivery; after it, the state
//  says "already synced" and the outbox still holds the event.
#include "contact_sync_io.h"
#include "contact_sync_results.h"
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
    if (zhub_store_table (ctx->store, "contacts", &self->contacts)
        || zhub_store_table (ctx->store, "hubspot_ids", &self->hubspot_ids)
        || zhub_store_table (ctx->store, "audit", &self->audit)
        || zhub_store_table (ctx->store, "meta", &self->meta)
        || zhub_store_table (ctx->store, "pending", &self->pending)
        || zhub_store_table (ctx->store, "pending_order", &self->pending_order)
        || zhub_store_table (ctx->store, "links", &self->links))
        return -1;
    if (contact_sync_results_open (ctx))
        return -1;
    return contact_sync_pending_reorder (ctx);
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
    return zhub_hubspot_properties_check (((contact_sync_t *)ctx->state)->hubspot, "contacts", needs, count, why, why_size)
           == 0;
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
    const json_t *audit;  //  entries to append, or NULL
    const char *audit_id; //  the contact they belong to
} s_commit_t;

//  Appends the plan's audit entries, stamped with the commit time; keys
//  keep one contact's entries together and in time order.
static zhub_rc_t
s_append_audit (zhub_txn_t *txn, const contact_sync_t *self, const json_t *audit,
                const char *bird_id, const char *event_id)
{
    char stamp[40];
    int64_t now = zhub_now_ms ();
    zhub_time_format (now, stamp, sizeof stamp);
    size_t i;
    json_t *entry;
    json_array_foreach (audit, i, entry)
    {
        json_t *copy = json_deep_copy (entry);
        json_object_set_new (copy, "time", json_string (stamp));
        json_object_set_new (copy, "bird_contact_id", json_string (bird_id));
        char *text = json_dumps (copy, JSON_COMPACT | JSON_SORT_KEYS);
        char *key = zhub_sprintf ("%s|%016llx|%s|%zu", bird_id, (unsigned long long)now,
                                  event_id ? event_id : "", i);
        zhub_rc_t rc = zhub_txn_put (txn, self->audit, key, strlen (key), text, strlen (text));
        free (key);
        free (text);
        json_decref (copy);
        if (rc != ZHUB_OK)
            return rc;
    }
    return ZHUB_OK;
}

static zhub_rc_t
s_commit_audit (zhub_txn_t *txn, void *arg)
{
    s_commit_t *commit = arg;
    return s_append_audit (txn, commit->self, commit->audit, commit->audit_id,
                           commit->synced ? commit->synced->id : NULL);
}

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
    if (commit->audit
        && s_append_audit (txn, commit->self, commit->audit, next->bird_id, commit->synced->id)
               != ZHUB_OK)
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
//  upsert, which the caller resolves). The upsert is a batch call of one
//  input: a 207 Multi-Status without its record is that input refused,
//  and HubSpot's error for it is the outcome (a CONFLICT the caller
//  resolves like a 409).
static bool
s_call (zhub_actor_ctx_t *ctx, const contact_call_t *call, const zhub_msg_t *msg,
        zhub_http_response_t *resp, zhub_outcome_t *out)
{
    if (call->api == CONTACT_API_HUBSPOT)
        zhub_hubspot_request (((contact_sync_t *)ctx->state)->hubspot, call->method, call->path, call->body, msg->traceparent,
                              resp);
    else
        zhub_bird_request (((contact_sync_t *)ctx->state)->bird, call->method, call->path, call->body, msg->traceparent, resp);
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
                    zhub_msg_t input = {.id = msg->id};
                    s_commit_t commit = {
                        .self = self, .audit = plan->audit, .audit_id = bird_id, .synced = &input};
                    if (zhub_store_write (ctx->store, s_commit_audit, &commit) != ZHUB_OK) {
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
                            contact_sync_load_bird (ctx->store, self, bird_id, state) == ZHUB_OK;
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
                s_commit_t commit = {.ctx = ctx,
                                     .self = self,
                                     .next = &plan->next,
                                     .prev = *have ? state : NULL,
                                     .synced = synced,
                                     .audit = plan->audit};
                if (zhub_store_write (ctx->store, s_commit, &commit) == ZHUB_OK) {
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

typedef struct {
    const contact_sync_t *self;
    const contact_lifecycle_t *event;
    contact_state_t *states;
    char **old_ids;
    size_t count;
    const zhub_msg_t *msg;
} s_lifecycle_t;

static zhub_rc_t
s_commit_lifecycle (zhub_txn_t *txn, void *arg)
{
    s_lifecycle_t *life = arg;
    const contact_lifecycle_t *event = life->event;
    //  Every HubSpot id the event names is gone (or re-pointed below).
    const char *ids[S_LIFECYCLE_MAX];
    size_t id_count = 0;
    if (event->merge) {
        for (size_t i = 0; i < event->merged_count; i++)
            ids[id_count++] = event->merged_ids[i];
        ids[id_count++] = event->primary_id;
    } else
        ids[id_count++] = event->object_id;
    for (size_t i = 0; i < id_count; i++)
        if (zhub_txn_del (txn, life->self->hubspot_ids, ids[i], strlen (ids[i])) == ZHUB_ERROR)
            return ZHUB_ERROR;
    json_t *audit = json_array ();
    zhub_rc_t rc = ZHUB_OK;
    char stamp[40];
    zhub_time_format (life->msg->time_ms, stamp, sizeof stamp);
    for (size_t i = 0; i < life->count && rc == ZHUB_OK; i++) {
        const contact_state_t *state = &life->states[i];
        char *text = contact_state_encode (state);
        rc = zhub_txn_put (txn, life->self->contacts, state->bird_id, strlen (state->bird_id), text,
                           strlen (text));
        free (text);
        if (rc == ZHUB_OK && state->hubspot_id)
            rc = zhub_txn_put (txn, life->self->hubspot_ids, state->hubspot_id,
                               strlen (state->hubspot_id), state->bird_id, strlen (state->bird_id));
        json_t *entry = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "actor", CONTACT_SYNC_GROUP,
                                   "object", "contact", "field", "hubspot_contact_id", "winner",
                                   "hubspot", "hubspot_time", stamp, "decision",
                                   !event->merge       ? "deleted_in_hubspot"
                                   : state->hubspot_id ? "merged"
                                                       : "unlinked_by_merge");
        if (life->old_ids[i])
            json_object_set_new (entry, "old", json_string (life->old_ids[i]));
        if (state->hubspot_id)
            json_object_set_new (entry, "new", json_string (state->hubspot_id));
        json_object_set_new (entry, "event_id", json_string (life->msg->id));
        json_array_append_new (audit, entry);
        if (rc == ZHUB_OK)
            rc = s_append_audit (txn, life->self, audit, state->bird_id, life->msg->id);
        json_array_clear (audit);
    }
    json_decref (audit);
    return rc;
}

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
        zhub_rc_t rc = contact_sync_load_hubspot (ctx->store, self, ids[i], &state);
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
        char *escaped = zhub_http_escape (states[i].bird_id);
        char *path = zhub_sprintf ("/contacts/%s", escaped);
        zhub_bird_request (((contact_sync_t *)ctx->state)->bird, "PATCH", path, body, msg->traceparent, &resp);
        free (path);
        free (escaped);
        json_decref (body);
        //  A Bird contact that is gone needs no attribute.
        if ((resp.status < 200 || resp.status >= 300) && resp.status != 404) {
            zhub_retry_classify (&resp, "bird update contact", zhub_now_ms (), out);
            ok = false;
        }
    }
    if (ok) {
        s_lifecycle_t life = {.self = self,
                              .event = event,
                              .states = states,
                              .old_ids = old_ids,
                              .count = count,
                              .msg = msg};
        if (zhub_store_write (ctx->store, s_commit_lifecycle, &life) == ZHUB_OK) {
            zhub_outcome_ok (out, event->merge ? "merged" : "unlinked");
            snprintf (out->reason, sizeof out->reason, "%zu bird contact(s) re-mapped", count);
        } else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the id map");
    }
    zhub_http_response_reset (&resp);
    for (size_t i = 0; i < count; i++) {
        contact_state_clear (&states[i]);
        free (old_ids[i]);
    }
}

//  -------------------------------------------------------------------
//  The handler

void
contact_sync_handle (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    contact_sync_t *self = ctx->state;
    contact_event_t event;
    char reason[256] = "";
    if (contact_sync_erase (ctx, msg, out))
        return;
    if (!strncmp (msg->type, "webhook.hubspot.contact.", 24)) {
        contact_lifecycle_t life;
        json_t *data = zhub_msg_data_json (msg);
        zhub_rc_t life_rc =
            contact_sync_parse_lifecycle (msg->type, data, &life, reason, sizeof reason);
        json_decref (data);
        if (life_rc == ZHUB_REJECT) {
            zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
            return;
        }
        if (life_rc == ZHUB_OK) {
            s_handle_lifecycle (ctx, msg, &life, out);
            contact_lifecycle_clear (&life);
            return;
        }
    }
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
    s_execute (ctx, msg, &event, &state, &have, &plan, out);
    contact_plan_clear (&plan);
    contact_state_clear (&state);
    contact_event_clear (&event);
}

//  -------------------------------------------------------------------
//  Reconciliation

typedef struct {
    const contact_sync_t *self;
    int64_t watermark;
    int64_t drift_total;
    int64_t add; //  write: drift to add
    long found;
    int64_t since;
    zhub_msg_t *publish; //  contact.reconciled, its data filled in here
    zhub_actor_ctx_t *ctx;
} s_meta_t;

static int64_t
s_meta_int (zhub_txn_t *txn, const contact_sync_t *self, const char *key)
{
    const void *value;
    size_t size;
    char text[32];
    if (zhub_txn_get (txn, self->meta, key, strlen (key), &value, &size) != ZHUB_OK
        || size >= sizeof text)
        return 0;
    memcpy (text, value, size);
    text[size] = 0;
    return strtoll (text, NULL, 10);
}

static zhub_rc_t
s_meta_read (zhub_txn_t *txn, void *arg)
{
    s_meta_t *meta = arg;
    meta->watermark = s_meta_int (txn, meta->self, "reconcile_watermark");
    meta->drift_total = s_meta_int (txn, meta->self, "reconcile_drift_total");
    return ZHUB_OK;
}

static zhub_rc_t
s_meta_write (zhub_txn_t *txn, void *arg)
{
    s_meta_t *meta = arg;
    meta->drift_total = s_meta_int (txn, meta->self, "reconcile_drift_total") + meta->add;
    char text[32];
    snprintf (text, sizeof text, "%lld", (long long)meta->drift_total);
    zhub_rc_t rc =
        zhub_txn_put (txn, meta->self->meta, "reconcile_drift_total", 21, text, strlen (text));
    snprintf (text, sizeof text, "%lld", (long long)meta->watermark);
    if (rc == ZHUB_OK)
        rc = zhub_txn_put (txn, meta->self->meta, "reconcile_watermark", 19, text, strlen (text));
    if (rc == ZHUB_OK && meta->publish) {
        char since[40], mark[40];
        zhub_time_format (meta->since, since, sizeof since);
        zhub_time_format (meta->watermark, mark, sizeof mark);
        json_t *data = json_pack ("{s:I, s:I, s:I, s:s, s:s}", "found", (json_int_t)meta->found,
                                  "drift", (json_int_t)meta->add, "drift_total",
                                  (json_int_t)meta->drift_total, "since", since, "watermark", mark);
        zhub_msg_set_data_json (meta->publish, data);
        json_decref (data);
        rc = zhub_actor_outbox_put (meta->ctx, txn, meta->publish);
    }
    return rc;
}

//  One search result through the HubSpot -> Bird plan. Returns 1 when it
//  wrote (drift), 0 when Bird already agreed, -1 when the contact failed
//  (*out says why; a transient failure stops the tick). Counted in run
//  (contact_sync_results.h).
static int
s_reconcile_one (zhub_actor_ctx_t *ctx, const zhub_msg_t *tick, const json_t *result,
                 zhub_outcome_t *out, zhub_sync_result_t *run)
{
    contact_sync_t *self = ctx->state;
    const char *id = json_string_value (json_object_get (result, "id"));
    const char *modified = json_string_value (
        json_object_get (json_object_get (result, "properties"), "lastmodifieddate"));
    if (!id)
        return 0;
    run->processed++;
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
    zhub_rc_t rc = contact_sync_load_hubspot (ctx->store, self, id, &state);
    const char *bird_id = contact_sync_answer_bird_id (result);
    if (rc == ZHUB_NOTFOUND && bird_id)
        rc = contact_sync_load_bird (ctx->store, self, bird_id, &state);
    int drift = -1;
    if (rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the contact state");
        run->failed++;
    } else {
        bool have = rc == ZHUB_OK;
        contact_plan_t plan;
        contact_plan_init (&plan);
        contact_sync_plan_fetched (&event, have ? &state : NULL, result, &self->core, &plan);
        bool writes = plan.kind == CONTACT_PLAN_WRITE;
        zhub_outcome_t one = {0};
        s_execute (ctx, &input, &event, &state, &have, &plan, &one);
        contact_sync_results_count_audit (run, plan.audit);
        if (one.rc == ZHUB_OK) {
            drift = writes ? 1 : 0;
            if (!writes)
                run->skipped++;
            else if (rc == ZHUB_NOTFOUND)
                run->created++;
            else
                run->updated++;
        } else {
            run->failed++;
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
contact_sync_reconcile (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    contact_sync_t *self = ctx->state;
    s_meta_t meta = {.self = self, .ctx = ctx};
    if (zhub_store_read (ctx->store, s_meta_read, &meta) != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the watermark");
        return;
    }
    json_t *data = zhub_msg_data_json (msg);
    const char *since_text = json_string_value (json_object_get (data, "since"));
    int64_t since = meta.watermark;
    if (since_text && zhub_time_parse (since_text, &since)) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "since is not an RFC 3339 time");
        json_decref (data);
        return;
    }
    json_decref (data);
    zhub_sync_result_t run;
    zhub_sync_result_init (&run, CONTACT_SYNC_GROUP, "reconcile", zhub_now_ms ());
    snprintf (run.run, sizeof run.run, "%s", msg->id ? msg->id : "");
    int64_t run_started = zhub_mono_ms ();
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
        zhub_hubspot_request (((contact_sync_t *)ctx->state)->hubspot, "POST", "/crm/v3/objects/contacts/search", body,
                              msg->traceparent, &resp);
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
            int one = s_reconcile_one (ctx, msg, result, out, &run);
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
    meta.watermark = watermark;
    meta.add = drift;
    meta.found = found;
    meta.since = since;
    zhub_msg_t *done = zhub_msg_new ();
    char id[64];
    contact_sync_synced_id (msg->id ? msg->id : "", id, sizeof id);
    id[0] = 'r'; //  "rs-...": the reconciled event of this tick
    zhub_msg_set (&done->id, id);
    zhub_msg_set (&done->source, CONTACT_SYNC_SOURCE);
    zhub_msg_set (&done->type, "contact.reconciled");
    zhub_msg_set (&done->subject, "reconcile");
    zhub_msg_set (&done->traceparent, msg->traceparent);
    done->time_ms = zhub_now_ms ();
    char since_stamp[40], mark_stamp[40];
    zhub_time_format (since, since_stamp, sizeof since_stamp);
    zhub_time_format (watermark, mark_stamp, sizeof mark_stamp);
    meta.publish = failed ? NULL : done;
    if (zhub_store_write (ctx->store, s_meta_write, &meta) != ZHUB_OK && !failed)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot store the watermark");
    //  contact.reconciled carries the running total, known only after the write.
    zhub_info ("reconcile",
               "id=%s found=%ld drift=%ld drift_total=%lld pages=%d since=%s "
               "watermark=%s complete=%s",
               msg->id, found, drift, (long long)meta.drift_total, pages, since_stamp, mark_stamp,
               failed ? "no" : "yes");
    zhub_msg_destroy (&done);
    run.complete = !failed;
    if (failed)
        snprintf (run.note, sizeof run.note, "cut short: %.140s", out->reason);
    run.duration_ms = zhub_mono_ms () - run_started;
    contact_sync_results_record (ctx, &run);
    if (!failed)
        snprintf (out->reason, sizeof out->reason, "found=%ld drift=%ld drift_total=%lld", found,
                  drift, (long long)meta.drift_total);
}
