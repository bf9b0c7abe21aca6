//  contact-sync's handlers, one per route (main.c), and the work only one
//  of them does: a HubSpot merge or deletion re-links ids, contact.reconcile
//  searches what HubSpot changed. A contact to sync goes from its parser to
//  the plan and through the one executor (contact_sync_exec.c); the erase
//  is contact_sync_erase_io.c's. Also the actor's open, close and
//  readiness hooks.
#include "contact_sync_io.h"
#include "contact_sync_results.h"
#include "zhub_id.h"
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
    //  main loads the retention; a test that did not keeps the defaults
    const zhub_sync_results_policy_t *policy =
        self->results_policy.max_age_ms || self->results_policy.max_count ? &self->results_policy
                                                                          : NULL;
    if (contact_sync_store_open (&self->store, ctx->store, policy))
        return -1;
    contact_sync_results_open (ctx);
    return 0;
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

//  How a message's plan runs: named by the message, its upserts queued
//  for the batch when the window is on.
static contact_run_t
s_run_of (const contact_sync_t *self, const zhub_msg_t *msg)
{
    return (contact_run_t){.event_id = msg->id,
                           .synced_of = msg->id ? msg->id : "",
                           .cause_id = msg->id,
                           .traceparent = msg->traceparent,
                           .cause = msg,
                           .queue_upserts = self->batch_window_ms > 0};
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
    contact_run_t run = s_run_of (self, msg);
    contact_sync_execute (ctx, &run, event, &state, &have, &plan, out);
    contact_plan_clear (&plan);
    contact_state_clear (&state);
    contact_event_clear (event);
}

//  A route whose messages name a contact to sync, read by its parser.
typedef zhub_rc_t (s_parser_fn) (const zhub_msg_t *msg, const json_t *data, contact_event_t *event,
                                 char *reason, size_t reason_size);

static void
s_on_contact (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, s_parser_fn *parse,
              zhub_outcome_t *out)
{
    contact_event_t event;
    char reason[256] = "";
    zhub_rc_t rc = parse (ev->msg, ev->data, &event, reason, sizeof reason);
    s_sync (ctx, ev->msg, rc, &event, reason, out);
}

void
contact_sync_on_bird (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    s_on_contact (ctx, ev, contact_sync_parse_bird, out);
}

void
contact_sync_on_conversation (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                              zhub_outcome_t *out)
{
    s_on_contact (ctx, ev, contact_sync_parse_conversation, out);
}

void
contact_sync_on_hubspot (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    char reason[256] = "";
    switch (contact_sync_hubspot_kind (msg->type, ev->data)) {
        case CONTACT_HUBSPOT_CONTACT:
            s_on_contact (ctx, ev, contact_sync_parse_hubspot, out);
            return;
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
//  (*out says why; a transient failure stops the tick). Counted in tally
//  (contact_sync_results.h).
static int
s_reconcile_one (zhub_actor_ctx_t *ctx, const zhub_msg_t *tick, const json_t *result,
                 zhub_outcome_t *out, zhub_sync_result_t *tally)
{
    contact_sync_t *self = ctx->state;
    const char *id = json_string_value (json_object_get (result, "id"));
    const char *modified = json_string_value (
        json_object_get (json_object_get (result, "properties"), "lastmodifieddate"));
    if (!id)
        return 0;
    tally->processed++;
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
    if (rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the contact state");
        tally->failed++;
    } else {
        bool have = rc == ZHUB_OK;
        contact_plan_t plan;
        contact_plan_init (&plan);
        contact_sync_plan_fetched (&event, have ? &state : NULL, result, &self->core, &plan);
        bool writes = plan.kind == CONTACT_PLAN_WRITE;
        zhub_outcome_t one = {0};
        contact_run_t exec = s_run_of (self, &input);
        contact_sync_execute (ctx, &exec, &event, &state, &have, &plan, &one);
        contact_sync_results_count_audit (tally, plan.audit);
        if (one.rc == ZHUB_OK) {
            drift = writes ? 1 : 0;
            if (!writes)
                tally->skipped++;
            else if (rc == ZHUB_NOTFOUND)
                tally->created++;
            else
                tally->updated++;
        } else {
            tally->failed++;
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
    zhub_sync_result_t tally;
    zhub_sync_result_init (&tally, CONTACT_SYNC_GROUP, "reconcile", zhub_now_ms ());
    snprintf (tally.run, sizeof tally.run, "%s", msg->id ? msg->id : "");
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
            int one = s_reconcile_one (ctx, msg, result, out, &tally);
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
        zhub_id_derive (id, sizeof id, "rs-", msg->id ? msg->id : "", 16);
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
    tally.complete = !failed;
    if (failed)
        snprintf (tally.note, sizeof tally.note, "cut short: %.140s", out->reason);
    tally.duration_ms = zhub_mono_ms () - run_started;
    contact_sync_results_record (ctx, &tally);
    if (!failed)
        snprintf (out->reason, sizeof out->reason, "found=%ld drift=%ld drift_total=%lld", found,
                  drift, (long long)drift_total);
}
