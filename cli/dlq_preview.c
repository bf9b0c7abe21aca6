//  The mapping preview of a dead letter (see dlq_preview.h). The mapping
//  rules are not copied here: each actor's pure core is linked in and fed
//  the configuration it would build at start (its defaults, then its
//  section of the mapping file) and what it stored. This file only routes a
//  message the way the actor's handlers do and turns the actor's answer —
//  contact-sync's plan, deal-sync's decision — into a preview an operator
//  reads before replaying.
#include "dlq_preview.h"
#include "deal_sync.h"
#include "zhub_retry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_REASON_MAX 512

//  -------------------------------------------------------------------
//  Building the answer

static void s_set (json_t *preview, const char *key, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_set (json_t *preview, const char *key, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char text[S_REASON_MAX];
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    json_object_set_new (preview, key, json_string (text));
}

static void s_note (json_t *preview, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_note (json_t *preview, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char text[S_REASON_MAX];
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    json_t *notes = json_object_get (preview, "notes");
    if (!notes) {
        notes = json_array ();
        json_object_set_new (preview, "notes", notes);
    }
    json_array_append_new (notes, json_string (text));
}

static void
s_outcome (json_t *preview, const char *outcome)
{
    json_object_set_new (preview, "outcome", json_string (outcome));
}

//  One change: field, from (known: the value or null; unknown: left out),
//  to (a JSON value, copied).
static void
s_change (json_t *preview, const char *field, bool known, const char *from, const json_t *to)
{
    json_t *changes = json_object_get (preview, "changes");
    if (!changes) {
        changes = json_array ();
        json_object_set_new (preview, "changes", changes);
    }
    json_t *change = json_pack ("{s:s, s:O}", "field", field, "to", to);
    if (known)
        json_object_set_new (change, "from", from ? json_string (from) : json_null ());
    json_array_append_new (changes, change);
}

static void
s_kept (json_t *preview, const char *field, const char *decision, const char *winner)
{
    json_t *kept = json_object_get (preview, "kept");
    if (!kept) {
        kept = json_array ();
        json_object_set_new (preview, "kept", kept);
    }
    json_t *entry = json_pack ("{s:s, s:s}", "field", field, "decision", decision);
    if (winner)
        json_object_set_new (entry, "winner", json_string (winner));
    json_array_append_new (kept, entry);
}

static void
s_not_mapped (json_t *preview, const char *reason)
{
    s_outcome (preview, "not_mapped");
    json_object_set_new (preview, "reason", json_string (reason));
    s_set (preview, "summary", "no mapping applies: %s", reason);
}

static void
s_reject (json_t *preview, const char *group, uint32_t code, const char *reason)
{
    s_outcome (preview, "reject");
    json_object_set_new (preview, "reason", json_string (reason));
    json_object_set_new (preview, "code", json_integer (code));
    s_set (preview, "summary", "%s would reject it again (code %u): %s", group, code, reason);
}

//  The actor's configuration does not build from this mapping: the actor
//  would not start, so nothing is replayed into it either.
static void
s_bad_mapping (json_t *preview, const char *group, const zhub_dlq_preview_input_t *input,
               const char *err)
{
    const char *reason = input->mapping_error ? input->mapping_error : err;
    s_outcome (preview, "bad_mapping");
    json_object_set_new (preview, "reason", json_string (reason));
    s_set (preview, "summary", "%s would refuse to start: %s", group, reason);
}

//  -------------------------------------------------------------------
//  contact-sync

static void
s_contact_plan (json_t *preview, const contact_plan_t *plan, const contact_state_t *state,
                const contact_event_t *event)
{
    const char *api = plan->call.api == CONTACT_API_HUBSPOT ? "HubSpot" : "Bird";
    switch (plan->kind) {
        case CONTACT_PLAN_IGNORE:
            s_outcome (preview, "ignore");
            json_object_set_new (preview, "reason", json_string (plan->reason));
            s_set (preview, "summary", "contact-sync would ignore it: %s", plan->reason);
            break;
        case CONTACT_PLAN_SKIP:
        case CONTACT_PLAN_DONE:
            s_outcome (preview, "skip");
            json_object_set_new (preview, "reason", json_string (plan->reason));
            s_set (preview, "summary", "contact-sync would write nothing: %s", plan->reason);
            break;
        case CONTACT_PLAN_REJECT:
            s_reject (preview, CONTACT_SYNC_GROUP, plan->code, plan->reason);
            break;
        case CONTACT_PLAN_FETCH:
            s_outcome (preview, "fetch");
            s_set (preview, "summary",
                   "contact-sync would first read the contact from %s; what it writes then "
                   "depends on that answer",
                   api);
            break;
        case CONTACT_PLAN_WRITE:
        case CONTACT_PLAN_QUEUED:
            s_outcome (preview, "write");
            s_set (preview, "summary", "contact-sync would write to %s", api);
            break;
    }
    if (plan->kind == CONTACT_PLAN_FETCH || plan->kind == CONTACT_PLAN_WRITE) {
        //  the call as its connector sends it
        char *path = contact_sync_call_path (&plan->call);
        json_t *call =
            json_pack ("{s:s, s:s, s:s, s:s}", "api",
                       plan->call.api == CONTACT_API_HUBSPOT ? "hubspot" : "bird", "method",
                       plan->call.method, "path", path ? path : "", "what", plan->call.what);
        free (path);
        if (plan->call.body)
            json_object_set (call, "body", plan->call.body);
        json_object_set_new (preview, "call", call);
    }
    if (plan->kind == CONTACT_PLAN_WRITE && plan->hubspot_properties) {
        const char *bird_id = event->bird_id;
        if (state && state->hubspot_id)
            s_set (preview, "target", "HubSpot contact %s (bird_contact_id %s)", state->hubspot_id,
                   bird_id);
        else
            s_set (preview, "target", "HubSpot contact with bird_contact_id %s (created if none)",
                   bird_id);
        const char *name;
        json_t *value;
        json_object_foreach (plan->hubspot_properties, name, value)
        {
            if (!strcmp (name, "bird_contact_id"))
                continue; //  the upsert's key, named in target
            s_change (preview, name, state != NULL,
                      state ? contact_sync_known_hubspot (state, name) : NULL, value);
        }
    }
    //  Field decisions that lost: last writer wins on the events' times,
    //  and a replay keeps the original event's time.
    size_t i;
    json_t *entry;
    json_array_foreach (plan->audit, i, entry)
    {
        const char *decision = json_string_value (json_object_get (entry, "decision"));
        const char *field = json_string_value (json_object_get (entry, "field"));
        if (decision && field && strcmp (decision, "applied"))
            s_kept (preview, field, decision,
                    json_string_value (json_object_get (entry, "winner")));
    }
}

static void
s_contact_sync (json_t *preview, const zhub_msg_t *msg, const zhub_dlq_preview_input_t *input)
{
    //  The configuration contact-sync builds at start (main.c).
    contact_sync_config_t config = {.default_calling_code = input->calling_code};
    contact_sync_config_defaults (&config);
    char err[S_REASON_MAX] = "";
    bool bad = input->mapping_error || input->calling_code_error;
    if (!bad && contact_sync_config_apply (&config, input->mapping, err, sizeof err))
        bad = true;
    if (bad) {
        s_bad_mapping (preview, CONTACT_SYNC_GROUP, input,
                       input->calling_code_error ? input->calling_code_error : err);
        contact_sync_config_clear (&config);
        return;
    }
    //  Read by contact-sync's own route and parsers (contact_sync.h, Routes).
    char reason[S_REASON_MAX] = "";
    json_t *data = zhub_msg_data_json (msg);
    contact_event_t event = {0};
    zhub_rc_t rc = ZHUB_NOTFOUND;
    const char *not_mapped = NULL;
    switch (contact_sync_route (msg->type)) {
        case CONTACT_ROUTE_BIRD:
            rc = contact_sync_parse_bird (msg, data, &event, reason, sizeof reason);
            break;
        case CONTACT_ROUTE_CONVERSATION:
            rc = contact_sync_parse_conversation (msg, data, &event, reason, sizeof reason);
            break;
        case CONTACT_ROUTE_HUBSPOT:
            switch (contact_sync_hubspot_kind (msg->type, data)) {
                case CONTACT_HUBSPOT_CONTACT:
                    rc = contact_sync_parse_hubspot (msg, data, &event, reason, sizeof reason);
                    break;
                case CONTACT_HUBSPOT_LIFECYCLE:
                    not_mapped = "a HubSpot merge or deletion re-links ids; it maps no fields";
                    break;
                case CONTACT_HUBSPOT_PRIVACY:
                    not_mapped = "an erase removes the person; it maps no fields";
                    break;
            }
            break;
        case CONTACT_ROUTE_ERASE:
            not_mapped = "an erase removes the person; it maps no fields";
            break;
        case CONTACT_ROUTE_RECONCILE:
            not_mapped = "contact.reconcile runs every contact changed in HubSpot since its "
                         "watermark through the mapping when it runs; there is no single "
                         "change to preview";
            break;
        case CONTACT_ROUTE_NONE:
            snprintf (reason, sizeof reason, "no contact in %s", msg->type);
            break;
    }
    json_decref (data);
    if (not_mapped) {
        s_not_mapped (preview, not_mapped);
        contact_sync_config_clear (&config);
        return;
    }
    if (rc == ZHUB_NOTFOUND) {
        s_outcome (preview, "ignore");
        json_object_set_new (preview, "reason", json_string (reason));
        s_set (preview, "summary", "contact-sync would ignore it: %s", reason);
    } else if (rc != ZHUB_OK)
        s_reject (preview, CONTACT_SYNC_GROUP, ZHUB_REASON_INVALID_INPUT, reason);
    else {
        contact_state_t state = {0};
        zhub_rc_t found = ZHUB_NOTFOUND;
        const zhub_dlq_lookup_t *lookup = input->lookup;
        if (lookup && lookup->contact)
            found = event.origin == CONTACT_FROM_BIRD
                        ? lookup->contact (lookup->arg, event.bird_id, NULL, &state)
                        : lookup->contact (lookup->arg, NULL, event.hubspot_id, &state);
        json_object_set_new (preview, "stored",
                             json_string (found == ZHUB_OK         ? "found"
                                          : found == ZHUB_NOTFOUND ? "none"
                                                                   : "unreadable"));
        if (found == ZHUB_ERROR)
            s_note (preview, "contact-sync's store could not be read: previewed as for a contact "
                             "it has never synced");
        else if (found == ZHUB_NOTFOUND)
            s_note (preview, "contact-sync has no record of this contact: it would sync it as "
                             "new");
        contact_plan_t plan;
        contact_plan_init (&plan);
        contact_sync_plan_event (&event, found == ZHUB_OK ? &state : NULL, &config, &plan);
        s_contact_plan (preview, &plan, found == ZHUB_OK ? &state : NULL, &event);
        contact_plan_clear (&plan);
        contact_state_clear (&state);
    }
    contact_event_clear (&event);
    contact_sync_config_clear (&config);
}

//  -------------------------------------------------------------------
//  deal-sync

static void
s_deal_ai (json_t *preview, const deal_sync_config_t *config, const deal_ai_event_t *event,
           const zhub_dlq_preview_input_t *input)
{
    char *key = deal_sync_key (event->bird_id, config->pipeline);
    const zhub_dlq_lookup_t *lookup = input->lookup;
    zhub_rc_t found = ZHUB_NOTFOUND;
    deal_current_t current = {0};
    if (lookup && lookup->deal)
        found = lookup->deal (lookup->arg, key, &current);
    const char *deal_id = current.id;
    bool have = found == ZHUB_OK && deal_id;
    json_object_set_new (preview, "stored",
                         json_string (have                  ? "found"
                                      : found == ZHUB_ERROR ? "unreadable"
                                                            : "none"));
    deal_decision_t decision;
    deal_sync_decide (config, event, have ? &current : NULL, &decision);
    s_outcome (preview, "write");
    s_set (preview, "summary", "deal-sync would write to the HubSpot deal %s", key);
    if (have)
        s_set (preview, "target", "HubSpot deal %s (zhub_deal_key %s)", deal_id, key);
    else
        s_set (preview, "target", "HubSpot deal with zhub_deal_key %s (created if none)", key);
    const char *name;
    json_t *value;
    json_object_foreach (decision.properties, name, value)
    {
        bool stage = !strcmp (name, "dealstage");
        s_change (preview, name, stage && have, stage ? current.stage : NULL, value);
    }
    if (decision.skipped && decision.to)
        s_kept (preview, "dealstage", decision.skipped, NULL);
    if (found == ZHUB_ERROR)
        s_note (preview, "deal-sync's store could not be read: previewed as for a deal it has "
                         "never seen");
    s_note (preview, "deal-sync reads the deal from HubSpot first: a stage a person set there "
                     "after this event keeps it (human_newer)");
    deal_decision_clear (&decision);
    deal_current_clear (&current);
    free (key);
}

static void
s_deal_crm (json_t *preview, const deal_sync_config_t *config, const deal_crm_change_t *change)
{
    if (deal_sync_change_is_integration (change->change_source)) {
        s_outcome (preview, "skip");
        s_set (preview, "reason", "deal %s: a change by %s, not by a person (an echo)",
               change->deal_id, change->change_source);
        s_set (preview, "summary", "deal-sync would write nothing: a change by %s is an echo",
               change->change_source);
        return;
    }
    const char *ai_stage = deal_sync_ai_stage_of (config, change->stage);
    s_outcome (preview, "write");
    s_set (preview, "summary", "deal-sync would update the Bird contact of deal %s",
           change->deal_id);
    s_set (preview, "target", "the Bird contact of HubSpot deal %s", change->deal_id);
    json_t *value = json_string (change->stage);
    s_change (preview, "hubspot_deal_stage", false, NULL, value);
    json_decref (value);
    value = json_string (change->deal_id);
    s_change (preview, "hubspot_deal_id", false, NULL, value);
    json_decref (value);
    if (ai_stage) {
        value = json_string (ai_stage);
        s_change (preview, "ai_deal_stage", false, NULL, value);
        json_decref (value);
    } else
        s_note (preview, "no AI stage maps to %s in this stage map: ai_deal_stage stays as it is",
                change->stage);
    s_note (preview, "the stage deal-sync wrote itself, or one older than the stage it holds, is "
                     "skipped when it runs");
}

static void
s_deal_sync (json_t *preview, const zhub_msg_t *msg, const zhub_dlq_preview_input_t *input)
{
    //  The configuration deal-sync builds at start (main.c); the stage ids
    //  are checked against HubSpot's pipelines there, not here.
    deal_sync_config_t config;
    deal_sync_config_default (&config);
    char err[S_REASON_MAX] = "";
    bool bad =
        input->mapping_error || deal_sync_config_apply (&config, input->mapping, err, sizeof err);
    if (bad) {
        s_bad_mapping (preview, DEAL_SYNC_GROUP, input, err);
        deal_sync_config_clear (&config);
        return;
    }
    //  Decoded once, then read as deal-sync's route for its type reads it.
    char reason[S_REASON_MAX] = "";
    json_t *data = zhub_msg_data_json (msg);
    deal_ai_event_t event;
    deal_crm_change_t change;
    memset (&event, 0, sizeof event);
    memset (&change, 0, sizeof change);
    zhub_rc_t rc;
    if (!strcmp (msg->type, DEAL_CRM_TOPIC)) {
        rc = deal_sync_parse_crm (msg->type, data, &change, reason, sizeof reason);
        if (rc == ZHUB_OK)
            s_deal_crm (preview, &config, &change);
        else if (rc == ZHUB_NOTFOUND) {
            s_outcome (preview, "ignore");
            json_object_set_new (preview, "reason", json_string (reason));
            s_set (preview, "summary", "deal-sync would ignore it: %s", reason);
        }
    } else {
        rc = deal_sync_parse_ai (msg, data, &event, reason, sizeof reason);
        if (rc == ZHUB_OK)
            s_deal_ai (preview, &config, &event, input);
        else if (rc == ZHUB_NOTFOUND) {
            char text[S_REASON_MAX];
            snprintf (text, sizeof text, "deal-sync maps no stages or fields for %s", msg->type);
            s_not_mapped (preview, text);
        }
    }
    if (rc == ZHUB_REJECT)
        s_reject (preview, DEAL_SYNC_GROUP, ZHUB_REASON_INVALID_INPUT, reason);
    json_decref (data);
    deal_ai_event_clear (&event);
    deal_crm_change_clear (&change);
    deal_sync_config_clear (&config);
}

//  -------------------------------------------------------------------
//  The entry point

json_t *
zhub_dlq_preview (const char *group, const zhub_msg_t *msg, const zhub_dlq_preview_input_t *input)
{
    json_t *preview = json_pack ("{s:s}", "group", group ? group : "");
    json_t *empty = json_object ();
    zhub_dlq_preview_input_t in = input ? *input : (zhub_dlq_preview_input_t){0};
    if (!in.mapping)
        in.mapping = empty;
    if (!group || !msg || !msg->type)
        s_not_mapped (preview, "not a message");
    else if (!strcmp (group, CONTACT_SYNC_GROUP))
        s_contact_sync (preview, msg, &in);
    else if (!strcmp (group, DEAL_SYNC_GROUP))
        s_deal_sync (preview, msg, &in);
    else if (!strcmp (group, "scheduler"))
        s_not_mapped (preview, "the scheduler's section of the mapping (agents, calendars, hours) "
                               "is not previewed; the replay runs under the file zhub-scheduler "
                               "read at start");
    else {
        char text[S_REASON_MAX];
        snprintf (text, sizeof text,
                  "%s uses no mapping: the replay runs the same code on the same message", group);
        s_not_mapped (preview, text);
    }
    json_decref (empty);
    return preview;
}

//  -------------------------------------------------------------------
//  As text

static void s_append (char **text, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_append (char **text, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char *line = NULL;
    if (vasprintf (&line, fmt, args) < 0)
        line = NULL;
    va_end (args);
    char *longer = zhub_sprintf ("%s%s", *text, line ? line : "");
    free (line);
    free (*text);
    *text = longer;
}

static char *
s_value (const json_t *value)
{
    if (json_is_null (value))
        return zhub_strdup ("(none known)");
    char *text = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
    return text ? text : zhub_strdup ("?");
}

char *
zhub_dlq_preview_text (const json_t *preview)
{
    const json_t *mapping = json_object_get (preview, "mapping");
    const char *summary = json_string_value (json_object_get (preview, "summary"));
    const json_t *call = json_object_get (preview, "call");
    const json_t *changes = json_object_get (preview, "changes");
    const json_t *kept = json_object_get (preview, "kept");
    const char *outcome = json_string_value (json_object_get (preview, "outcome"));
    char *text = zhub_strdup ("");
    //  "no mapping applies" and "would refuse to start" name no mapping to
    //  be under (the reason names the file that does not load).
    bool under = outcome && strcmp (outcome, "not_mapped") && strcmp (outcome, "bad_mapping");
    if (under && json_is_string (mapping))
        s_append (&text, "under the mapping in %s, ", json_string_value (mapping));
    else if (under && json_is_null (mapping))
        s_append (&text, "under the built-in mapping (ZHUB_MAPPING_FILE unset), ");
    else if (under)
        s_append (&text, "under the current mapping, ");
    s_append (&text, "%s%s\n", summary ? summary : "?",
              call || json_array_size (changes) ? ":" : "");
    if (call) {
        const char *method = json_string_value (json_object_get (call, "method"));
        const char *path = json_string_value (json_object_get (call, "path"));
        const char *what = json_string_value (json_object_get (call, "what"));
        s_append (&text, "  %s %s (%s)\n", method ? method : "?", path ? path : "?",
                  what ? what : "?");
    }
    if (json_array_size (changes)) {
        const char *target = json_string_value (json_object_get (preview, "target"));
        if (target)
            s_append (&text, "  %s:\n", target);
        size_t i;
        json_t *change;
        json_array_foreach (changes, i, change)
        {
            const json_t *from = json_object_get (change, "from");
            char *to = s_value (json_object_get (change, "to"));
            char *was = from ? s_value (from) : NULL;
            s_append (&text, "    %s: %s%s%s\n",
                      json_string_value (json_object_get (change, "field")), was ? was : "",
                      was ? " -> " : "", to);
            free (to);
            free (was);
        }
    }
    size_t i;
    json_t *entry;
    json_array_foreach (kept, i, entry)
    {
        const char *winner = json_string_value (json_object_get (entry, "winner"));
        s_append (&text, "  not written: %s (%s%s%s)\n",
                  json_string_value (json_object_get (entry, "field")),
                  json_string_value (json_object_get (entry, "decision")),
                  winner ? "; the winner is " : "", winner ? winner : "");
    }
    json_array_foreach (json_object_get (preview, "notes"), i, entry)
        s_append (&text, "  note: %s\n", json_string_value (entry));
    return text;
}
