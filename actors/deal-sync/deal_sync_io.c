//  Runs deal-sync's decisions against HubSpot and Bird. The pure core
//  decides; this file makes the calls, classifies failures once
//  (zhub_retry) and commits. Every write is idempotent — the deal is an
//  upsert on its unique zhub_deal_key, the association a PUT, the Bird
//  write a PATCH of attributes — so a crash between a call and the commit
//  redoes the same effects on redelivery, never doubles them. The commit
//  (state, id maps, audit entries and deal.stage_changed in the outbox)
//  is one LMDB transaction after the last call succeeded.
#include "deal_sync_io.h"
#include "zhub_events.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
deal_sync_open (zhub_actor_ctx_t *ctx)
{
    deal_sync_t *self = ctx->state;
    self->hubspot = zhub_hubspot_new (&self->hubspot_config, ctx->http);
    self->bird = zhub_bird_new (&self->bird_config, ctx->http);
    return deal_sync_tables_open (ctx->store, &self->tables);
}

void
deal_sync_close (zhub_actor_ctx_t *ctx)
{
    deal_sync_t *self = ctx->state;
    zhub_hubspot_destroy (&self->hubspot);
    zhub_bird_destroy (&self->bird);
}

static void
s_set (char **field, const char *value)
{
    char *copy = zhub_strdup (value);
    free (*field);
    *field = copy;
}

//  -------------------------------------------------------------------
//  Calls

bool
deal_sync_answered (const char *what, const zhub_msg_t *msg, zhub_http_response_t *resp,
                    bool not_found_ok, zhub_outcome_t *out)
{
    zhub_debug ("call", "id=%s api=hubspot what=\"%s\" status=%ld ms=%lld",
                msg && msg->id ? msg->id : "-", what, resp->status, (long long)resp->elapsed_ms);
    if (resp->status >= 200 && resp->status < 300)
        return true;
    if (!(not_found_ok && zhub_hubspot_not_found (resp)))
        zhub_retry_classify (resp, what, zhub_now_ms (), out);
    return false;
}

//  The trace context a call made for msg passes on.
static const char *
s_trace (const zhub_msg_t *msg)
{
    return msg ? msg->traceparent : NULL;
}

int
deal_sync_check_pipelines (zhub_actor_ctx_t *ctx, char *err, size_t err_size)
{
    deal_sync_t *self = ctx->state;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    int rc = -1;
    for (int attempt = 1; attempt <= DEAL_SYNC_START_ATTEMPTS && !zhub_actor_stopping ();
         attempt++) {
        zhub_outcome_t out = {0};
        zhub_hubspot_deal_pipelines (self->hubspot, NULL, &resp);
        if (deal_sync_answered ("hubspot get deal pipelines", NULL, &resp, false, &out)) {
            rc = deal_sync_config_check (&self->core, resp.json, err, err_size);
            break;
        }
        if (out.rc != ZHUB_RETRY) {
            snprintf (err, err_size, "%s", out.reason);
            break;
        }
        zhub_warn ("pipelines_unavailable", "attempt=%d status=%ld", attempt, resp.status);
        struct timespec pause = {1, 0};
        nanosleep (&pause, NULL);
    }
    if (rc && !*err)
        snprintf (err, err_size, "HubSpot's pipelines API did not answer");
    zhub_http_response_reset (&resp);
    return rc;
}

bool
deal_sync_ready (zhub_actor_ctx_t *ctx, char *why, size_t why_size)
{
    size_t count, n = 0;
    const zhub_hubspot_property_t *all = zhub_hubspot_properties (&count);
    zhub_hubspot_property_t needs[DEAL_MAX_PIPELINE_STAGES];
    for (size_t i = 0; i < count && n < DEAL_MAX_PIPELINE_STAGES; i++)
        if (!strcmp (all[i].object, "deals"))
            needs[n++] = all[i];
    return zhub_hubspot_properties_check (((deal_sync_t *)ctx->state)->hubspot, "deals", needs, n,
                                          why, why_size)
           == 0;
}

//  -------------------------------------------------------------------
//  contact.synced: learn the HubSpot contact id

void
deal_sync_handle_synced (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    deal_sync_t *self = ctx->state;
    zhub_contact_synced_t synced;
    char reason[256] = "";
    //  Nothing to learn from a contact.synced that breaks the catalogue or
    //  lacks an id: ignored, never dead-lettered (it is contact-sync's
    //  announcement, not work for us).
    if (zhub_contact_synced_parse_data (ev->msg, ev->data, &synced, reason, sizeof reason)
        != ZHUB_OK) {
        zhub_outcome_ok (out, "ignored");
        snprintf (out->reason, sizeof out->reason, "%s", reason);
        zhub_contact_synced_clear (&synced);
        return;
    }
    const char *bird = synced.bird_contact_id, *contact = synced.hubspot_contact_id;
    if (!contact || strlen (bird) > ZHUB_MSG_MAX_ID || strlen (contact) > ZHUB_MSG_MAX_ID) {
        zhub_outcome_ok (out, "ignored");
        snprintf (out->reason, sizeof out->reason, "contact.synced without both ids");
        zhub_contact_synced_clear (&synced);
        return;
    }
    deal_sync_change_t change = {.bird_id = bird, .contact_id = contact};
    if (deal_sync_store_commit (ctx, &self->tables, &change) == ZHUB_OK) {
        zhub_outcome_ok (out, "learned");
        snprintf (out->reason, sizeof out->reason, "bird=%s hubspot=%s", bird, contact);
    } else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot store the contact id");
    zhub_contact_synced_clear (&synced);
}

//  -------------------------------------------------------------------
//  AI events -> the deal

//  The HubSpot contact id of a Bird contact: ours, else HubSpot's (by the
//  unique bird_contact_id). NULL with *out set: RETRY (not synced yet, or
//  a transient failure) or REJECT.
static char *
s_contact_id (zhub_actor_ctx_t *ctx, const char *bird_id, const char *known, const zhub_msg_t *msg,
              zhub_http_response_t *resp, zhub_outcome_t *out)
{
    if (known)
        return zhub_strdup (known);
    char *id = NULL;
    zhub_hubspot_contact_get_by (((deal_sync_t *)ctx->state)->hubspot, "bird_contact_id", bird_id,
                                 "bird_contact_id", s_trace (msg), resp);
    if (deal_sync_answered ("hubspot get contact by bird id", msg, resp, true, out)) {
        const json_t *value = json_object_get (resp->json, "id");
        if (json_is_string (value))
            id = zhub_strdup (json_string_value (value));
        else
            zhub_outcome_reject (out, ZHUB_REASON_BAD_ANSWER,
                                 "hubspot get contact by bird id: no id in the answer");
    } else if (zhub_hubspot_not_found (resp)) {
        uint32_t attempt = ctx->delivery ? ctx->delivery->attempt : 1;
        zhub_outcome_retry (out, (int64_t)DEAL_SYNC_WAIT_CONTACT_MS * (attempt ? attempt : 1),
                            ZHUB_REASON_NOT_READY, "bird contact %s is not synced to HubSpot yet",
                            bird_id);
    }
    return id;
}

//  The deal of key as HubSpot has it: ZHUB_OK with *current, ZHUB_NOTFOUND
//  only when HubSpot clearly says there is none, else ZHUB_ERROR with *out
//  set. The key goes in the body of a batch read (idProperty), never into
//  the URL path: it holds a "/", which HubSpot's front end refuses in a
//  path segment even when escaped (%2F), and a lookup that fails must
//  never pass for "no deal yet" — the upsert would then send a new deal's
//  properties and move an existing deal backwards.
static zhub_rc_t
s_read_deal (zhub_actor_ctx_t *ctx, const char *key, const zhub_msg_t *msg,
             zhub_http_response_t *resp, deal_current_t *current, zhub_outcome_t *out)
{
    json_t *body = json_pack ("{s:s, s:[{s:s}], s:[s, s, s], s:[s]}", "idProperty",
                              DEAL_KEY_PROPERTY, "inputs", "id", key, "properties", "dealstage",
                              "pipeline", DEAL_KEY_PROPERTY, "propertiesWithHistory", "dealstage");
    const char *what = "hubspot read deal by key";
    zhub_hubspot_deals_read (((deal_sync_t *)ctx->state)->hubspot, body, s_trace (msg), resp);
    bool answered = deal_sync_answered (what, msg, resp, false, out);
    json_decref (body);
    if (!answered)
        return ZHUB_ERROR;
    const json_t *record;
    zhub_rc_t rc = zhub_hubspot_batch_read_one (resp, DEAL_KEY_PROPERTY, key, &record);
    if (rc == ZHUB_OK && deal_sync_read_deal (record, current)) {
        zhub_outcome_reject (out, ZHUB_REASON_BAD_ANSWER, "%s: the deal has no id", what);
        return ZHUB_ERROR;
    }
    if (rc == ZHUB_ERROR) {
        const json_t *error = zhub_hubspot_batch_error (resp->json, key, 1);
        if (error)
            zhub_hubspot_batch_classify (error, what, out);
        else
            zhub_outcome_reject (out, ZHUB_REASON_BAD_ANSWER, "%s: HTTP %ld without the deal", what,
                                 resp->status);
    }
    return rc;
}

//  An AI event, read by its route's reader, moves the deal.
static void
s_handle_ai (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, deal_ai_reader_fn *read,
             zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    deal_sync_t *self = ctx->state;
    const deal_sync_config_t *config = &self->core;
    deal_ai_event_t event;
    char reason[256] = "";
    zhub_rc_t rc = read (msg, ev->data, &event, reason, sizeof reason);
    if (rc != ZHUB_OK) {
        if (rc == ZHUB_NOTFOUND) {
            zhub_outcome_ok (out, "ignored");
            snprintf (out->reason, sizeof out->reason, "%s", reason);
        } else
            zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        deal_ai_event_clear (&event);
        return;
    }
    char *key = deal_sync_key (event.bird_id, config->pipeline);
    char *known_contact = NULL;
    deal_state_t held = {0};
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    deal_current_t current = {0};
    bool have_current = false;
    deal_decision_t decision = {0};
    char *contact_id = NULL, *deal_id = NULL, *audit = NULL;
    zhub_msg_t *stage_msg = NULL;

    //  What we hold: the contact's HubSpot id, the deal's record (a record
    //  that does not read counts as none).
    zhub_rc_t held_rc = deal_sync_store_deal (ctx->store, &self->tables, key, &held);
    if (held_rc == ZHUB_ERROR
        || deal_sync_store_contact (ctx->store, &self->tables, event.bird_id, &known_contact)
               == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the deal state");
        goto done;
    }
    bool have_held = held_rc == ZHUB_OK;
    contact_id = s_contact_id (ctx, event.bird_id, known_contact, msg, &resp, out);
    if (!contact_id)
        goto done;

    //  The deal as HubSpot has it now, with who set its stage and when.
    zhub_rc_t found = s_read_deal (ctx, key, msg, &resp, &current, out);
    if (found != ZHUB_OK && found != ZHUB_NOTFOUND)
        goto done;
    have_current = found == ZHUB_OK;
    deal_sync_decide (config, &event, have_current ? &current : NULL, &decision);

    //  Write: an upsert on the unique key (creates at most one deal).
    json_t *body = json_pack ("{s:[{s:s, s:s, s:O}]}", "inputs", "id", key, "idProperty",
                              DEAL_KEY_PROPERTY, "properties", decision.properties);
    zhub_hubspot_deals_upsert (self->hubspot, body, msg->traceparent, &resp);
    bool written = deal_sync_answered ("hubspot upsert deal", msg, &resp, false, out);
    json_decref (body);
    if (!written)
        goto done;
    //  A batch call of one input: a 207 without the deal is that input
    //  refused, with HubSpot's error for it.
    const json_t *result = json_array_get (json_object_get (resp.json, "results"), 0);
    deal_id = zhub_hubspot_id (json_object_get (result, "id"));
    if (!deal_id) {
        const json_t *error = zhub_hubspot_batch_error (resp.json, key, 1);
        if (error)
            zhub_hubspot_batch_classify (error, "hubspot upsert deal", out);
        else
            zhub_outcome_reject (out, ZHUB_REASON_BAD_ANSWER, "hubspot upsert deal: no id");
        goto done;
    }

    //  Associate with the contact unless we know it is (idempotent PUT).
    bool associated = have_held && held.associated && held.deal_id
                      && !strcmp (held.deal_id, deal_id) && held.contact_id
                      && !strcmp (held.contact_id, contact_id);
    if (!associated) {
        zhub_hubspot_deal_associate_contact (self->hubspot, deal_id, contact_id, msg->traceparent,
                                             &resp);
        if (!deal_sync_answered ("hubspot associate deal with contact", msg, &resp, false, out))
            goto done;
    }

    //  Commit: state, contact id, audit entry, deal.stage_changed.
    deal_state_t next = {0};
    s_set (&next.deal_id, deal_id);
    s_set (&next.contact_id, contact_id);
    s_set (&next.bird_id, event.bird_id);
    s_set (&next.stage, decision.stage_moves ? decision.to : current.stage);
    next.stage_ms = decision.stage_moves ? event.time_ms : held.stage_ms;
    next.associated = true;
    if (decision.to)
        audit = deal_sync_audit_entry (&event, have_current ? &current : NULL, &decision, deal_id,
                                       msg->id, zhub_now_ms ());
    char why[256] = "";
    if (decision.stage_moves)
        stage_msg = deal_sync_stage_msg (msg, deal_id, contact_id, event.bird_id, decision.to,
                                         deal_ai_stage_name (event.stage), "ai", zhub_now_ms (),
                                         why, sizeof why);
    deal_sync_change_t change = {.bird_id = event.bird_id,
                                 .contact_id = contact_id,
                                 .key = key,
                                 .state = &next,
                                 .audit = audit,
                                 .audit_ms = zhub_now_ms (),
                                 .event_id = msg->id,
                                 .publish = stage_msg};
    if (decision.stage_moves && !stage_msg)
        //  what we would announce breaks the catalogue: said, never published
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", why);
    else if (deal_sync_store_commit (ctx, &self->tables, &change) == ZHUB_OK) {
        zhub_outcome_ok (out, decision.stage_moves ? "moved" : "updated");
        snprintf (out->reason, sizeof out->reason, "deal=%s stage=%s%s%s", deal_id,
                  next.stage ? next.stage : "", decision.skipped ? " skipped=" : "",
                  decision.skipped ? decision.skipped : "");
    } else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the deal state");
    deal_state_clear (&next);
done:
    zhub_msg_destroy (&stage_msg);
    free (audit);
    free (deal_id);
    free (contact_id);
    free (known_contact);
    deal_state_clear (&held);
    deal_decision_clear (&decision);
    deal_current_clear (&current);
    zhub_http_response_reset (&resp);
    free (key);
    deal_ai_event_clear (&event);
}

void
deal_sync_handle_stage_changed (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out)
{
    s_handle_ai (ctx, ev, deal_sync_read_ai_stage, out);
}

void
deal_sync_handle_qualification (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out)
{
    s_handle_ai (ctx, ev, deal_sync_read_ai_stage, out);
}

void
deal_sync_handle_tour (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    s_handle_ai (ctx, ev, deal_sync_read_tour, out);
}

//  -------------------------------------------------------------------
//  A person's stage change -> deal.stage_changed and the Bird contact

//  The Bird contact of a deal we do not know locally: from its
//  zhub_deal_key (then *ours is true), else from its first associated
//  contact's bird_contact_id. Returns a fresh id or NULL; *failed is true
//  when a call failed (*out set), false when the deal simply belongs to
//  no Bird contact.
static char *
s_bird_of_deal (zhub_actor_ctx_t *ctx, const char *deal_id, const zhub_msg_t *msg,
                zhub_http_response_t *resp, char **contact_id, bool *ours, bool *failed,
                zhub_outcome_t *out)
{
    deal_sync_t *self = ctx->state;
    *failed = false;
    *ours = false;
    zhub_hubspot_deal_get (self->hubspot, deal_id, DEAL_KEY_PROPERTY, s_trace (msg), resp);
    if (!deal_sync_answered ("hubspot get deal", msg, resp, true, out)) {
        *failed = !zhub_hubspot_not_found (resp); //  a deleted deal concerns nobody
        return NULL;
    }
    char *bird =
        deal_sync_key_bird_id (json_string_value (json_object_get (
                                   json_object_get (resp->json, "properties"), DEAL_KEY_PROPERTY)),
                               self->core.pipeline);
    *ours = bird != NULL;
    zhub_hubspot_deal_contacts (self->hubspot, deal_id, s_trace (msg), resp);
    bool ok = deal_sync_answered ("hubspot get deal associations", msg, resp, true, out);
    if (!ok && !zhub_hubspot_not_found (resp)) {
        *failed = true;
        free (bird);
        return NULL;
    }
    //  toObjectId: an integer, or a string in newer rollouts of the spec.
    const json_t *first = json_array_get (json_object_get (resp->json, "results"), 0);
    if (ok)
        *contact_id = zhub_hubspot_id (json_object_get (first, "toObjectId"));
    if (!bird && *contact_id) {
        zhub_hubspot_contact_get (self->hubspot, *contact_id, "bird_contact_id", s_trace (msg),
                                  resp);
        ok = deal_sync_answered ("hubspot get contact", msg, resp, true, out);
        if (!ok && !zhub_hubspot_not_found (resp)) {
            *failed = true;
            return NULL;
        }
        const char *value = ok ? json_string_value (json_object_get (
                                json_object_get (resp->json, "properties"), "bird_contact_id"))
                               : NULL;
        if (value && *value)
            bird = zhub_strdup (value);
    }
    return bird;
}

void
deal_sync_handle_crm (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    deal_sync_t *self = ctx->state;
    deal_crm_change_t change;
    char reason[256] = "";
    zhub_rc_t rc = deal_sync_parse_crm (msg->type, ev->data, &change, reason, sizeof reason);
    if (rc != ZHUB_OK) {
        if (rc == ZHUB_NOTFOUND) {
            zhub_outcome_ok (out, "ignored");
            snprintf (out->reason, sizeof out->reason, "%s", reason);
        } else
            zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        return;
    }
    char *held_key = NULL;
    deal_state_t held = {0};
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    char *bird = NULL, *contact_id = NULL;
    zhub_msg_t *stage_msg = NULL;
    bool ours = false;
    zhub_rc_t held_rc =
        deal_sync_store_deal_by_id (ctx->store, &self->tables, change.deal_id, &held_key, &held);
    if (held_rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the deal state");
        goto done;
    }
    bool have_held = held_rc == ZHUB_OK;
    //  Our own writes come back as webhooks: not a person's change.
    if (deal_sync_change_is_integration (change.change_source)
        || (have_held && held.stage && !strcmp (held.stage, change.stage))) {
        zhub_outcome_ok (out, "skipped");
        snprintf (out->reason, sizeof out->reason, "deal %s: stage %s is our own write (echo)",
                  change.deal_id, change.stage);
        goto done;
    }
    //  HubSpot does not promise order: an older change than the one we hold loses.
    if (have_held && change.time_ms && change.time_ms < held.stage_ms) {
        zhub_outcome_ok (out, "skipped");
        snprintf (out->reason, sizeof out->reason, "deal %s: change older than the stage we hold",
                  change.deal_id);
        goto done;
    }
    if (have_held && held.bird_id) {
        bird = zhub_strdup (held.bird_id);
        contact_id = zhub_strdup (held.contact_id);
        ours = true;
    } else {
        bool failed;
        bird = s_bird_of_deal (ctx, change.deal_id, msg, &resp, &contact_id, &ours, &failed, out);
        if (failed)
            goto done;
        if (!bird) {
            zhub_outcome_ok (out, "ignored");
            snprintf (out->reason, sizeof out->reason, "deal %s belongs to no Bird contact",
                      change.deal_id);
            goto done;
        }
    }
    //  Tell the AI agent: the stage goes onto the Bird contact.
    const char *ai_stage = deal_sync_ai_stage_of (&self->core, change.stage);
    json_t *attributes = json_pack ("{s:s, s:s}", "hubspot_deal_stage", change.stage,
                                    "hubspot_deal_id", change.deal_id);
    if (ai_stage)
        json_object_set_new (attributes, "ai_deal_stage", json_string (ai_stage));
    json_t *body = json_pack ("{s:o}", "attributes", attributes);
    zhub_bird_contact_update (self->bird, bird, body, msg->traceparent, &resp);
    json_decref (body);
    zhub_debug ("call", "id=%s api=bird what=\"bird update contact\" status=%ld", msg->id,
                resp.status);
    if (resp.status < 200 || resp.status >= 300) {
        zhub_retry_classify (&resp, "bird update contact", zhub_now_ms (), out);
        goto done;
    }
    deal_state_t next = {0};
    s_set (&next.deal_id, change.deal_id);
    s_set (&next.contact_id, contact_id);
    s_set (&next.bird_id, bird);
    s_set (&next.stage, change.stage);
    next.stage_ms = change.time_ms;
    next.associated = have_held && held.associated;
    char *key = held_key ? zhub_strdup (held_key) : deal_sync_key (bird, self->core.pipeline);
    char why[256] = "";
    stage_msg = deal_sync_stage_msg (msg, change.deal_id, contact_id, bird, change.stage, ai_stage,
                                     "crm", zhub_now_ms (), why, sizeof why);
    //  Only a deal we own (its key is ours) is remembered under the key.
    deal_sync_change_t commit = {.key = key, .state = ours ? &next : NULL, .publish = stage_msg};
    if (!stage_msg)
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", why);
    else if (deal_sync_store_commit (ctx, &self->tables, &commit) == ZHUB_OK) {
        zhub_outcome_ok (out, "published");
        snprintf (out->reason, sizeof out->reason, "deal=%s stage=%s bird=%s by=crm",
                  change.deal_id, change.stage, bird);
    } else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the deal state");
    free (key);
    deal_state_clear (&next);
done:
    zhub_msg_destroy (&stage_msg);
    free (bird);
    free (contact_id);
    zhub_http_response_reset (&resp);
    free (held_key);
    deal_state_clear (&held);
    deal_crm_change_clear (&change);
}
