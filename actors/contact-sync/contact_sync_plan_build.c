//  contact-sync core: what a plan is built with, by both directions
//  (contact_sync_plan_bird.c, _plan_hubspot.c) and by the entry points
//  above them (contact_sync_plan.c): the plan's life cycle, its call and
//  the path it goes to, the reasons, the changed fields, field-level
//  last-writer-wins with its audit trail, the mapped fields' known values.
//  It calls none of those files.
#include "contact_sync_internal.h"

//  -------------------------------------------------------------------
//  Plans

void
contact_plan_init (contact_plan_t *plan)
{
    memset (plan, 0, sizeof *plan);
}

void
contact_sync_call_clear (contact_call_t *call)
{
    free (call->id);
    free (call->value);
    free (call->properties);
    if (call->body)
        json_decref (call->body);
    memset (call, 0, sizeof *call);
}

void
contact_plan_clear (contact_plan_t *plan)
{
    if (!plan)
        return;
    contact_sync_call_clear (&plan->call);
    contact_state_clear (&plan->next);
    if (plan->hubspot_properties)
        json_decref (plan->hubspot_properties);
    json_decref (plan->audit);
    memset (plan, 0, sizeof *plan);
}

void
contact_sync_plan_reason (contact_plan_t *plan, contact_plan_kind_t kind, uint32_t code,
                          const char *fmt, ...)
{
    contact_sync_call_clear (&plan->call);
    plan->kind = kind;
    plan->code = code;
    va_list args;
    va_start (args, fmt);
    vsnprintf (plan->reason, sizeof plan->reason, fmt, args);
    va_end (args);
}

//  Which API each op calls and with which method (what its typed
//  connector function sends).
static const struct {
    contact_api_t api;
    const char *method;
} s_ops[] = {
    [CONTACT_OP_BIRD_GET] = {CONTACT_API_BIRD, "GET"},
    [CONTACT_OP_BIRD_WRITE] = {CONTACT_API_BIRD, "PATCH"},
    [CONTACT_OP_HUBSPOT_GET] = {CONTACT_API_HUBSPOT, "GET"},
    [CONTACT_OP_HUBSPOT_UPSERT] = {CONTACT_API_HUBSPOT, "POST"},
    [CONTACT_OP_HUBSPOT_UPDATE] = {CONTACT_API_HUBSPOT, "PATCH"},
    [CONTACT_OP_HUBSPOT_LINK] = {CONTACT_API_HUBSPOT, "PATCH"},
    [CONTACT_OP_BIRD_LINK] = {CONTACT_API_BIRD, "PATCH"},
};

void
contact_sync_plan_call (contact_plan_t *plan, contact_plan_kind_t kind, contact_op_t op,
                        const char *id, json_t *body, const char *what)
{
    assert (op > CONTACT_OP_NONE && op < sizeof s_ops / sizeof s_ops[0]);
    contact_sync_call_clear (&plan->call);
    plan->kind = kind;
    plan->call = (contact_call_t){.api = s_ops[op].api,
                                  .op = op,
                                  .method = s_ops[op].method,
                                  .id = zhub_strdup (id),
                                  .body = body,
                                  .what = what};
}

char *
contact_sync_call_path (const contact_call_t *call)
{
    switch (call->op) {
        case CONTACT_OP_NONE: return NULL;
        case CONTACT_OP_BIRD_WRITE:
            if (!call->id)
                return zhub_bird_contact_identifier_path (call->key, call->value);
            return zhub_bird_contact_path (call->id);
        case CONTACT_OP_BIRD_GET:
        case CONTACT_OP_BIRD_LINK: return zhub_bird_contact_path (call->id);
        case CONTACT_OP_HUBSPOT_GET: return zhub_hubspot_contact_path (call->id, call->properties);
        case CONTACT_OP_HUBSPOT_UPSERT: return zhub_strdup (ZHUB_HUBSPOT_CONTACTS_UPSERT_PATH);
        case CONTACT_OP_HUBSPOT_UPDATE:
        case CONTACT_OP_HUBSPOT_LINK: return zhub_hubspot_contact_path (call->id, NULL);
    }
    return NULL;
}

void
contact_sync_plan_upsert (contact_plan_t *plan, const char *bird_id, json_t *properties)
{
    json_object_set_new (properties, "bird_contact_id", json_string (bird_id));
    json_decref (plan->hubspot_properties);
    plan->hubspot_properties = json_deep_copy (properties);
    json_t *body = json_pack ("{s:[{s:s, s:s, s:o}]}", "inputs", "id", bird_id, "idProperty",
                              "bird_contact_id", "properties", properties);
    contact_sync_plan_call (plan, CONTACT_PLAN_WRITE, CONTACT_OP_HUBSPOT_UPSERT, NULL, body,
                            "hubspot upsert contact");
}

void
contact_sync_changed (contact_plan_t *plan, const char *field)
{
    for (size_t i = 0; i < plan->changed_count; i++)
        if (!strcmp (plan->changed[i], field))
            return;
    if (plan->changed_count < CONTACT_MAX_CHANGED)
        plan->changed[plan->changed_count++] = field;
}

//  Field-level last-writer-wins. A change of `field` from `side` at the
//  event's time may be written unless the value both sides agree on is
//  newer, or as new and from HubSpot (a tie goes to HubSpot). Either way
//  the decision is appended to plan->audit; a win also moves the field's
//  version in plan->next. old is the value the change replaces (the other
//  side's, as far as we know), new the changed value.
bool
contact_sync_lww (contact_plan_t *plan, const contact_state_t *known, const contact_event_t *event,
                  const char *field, const char *side, const char *old, const char *new)
{
    const json_t *version = known->versions ? json_object_get (known->versions, field) : NULL;
    const json_t *ms_value = json_object_get (version, "ms");
    int64_t current_ms = json_is_integer (ms_value) ? json_integer_value (ms_value) : -1;
    const char *current_side = contact_sync_json_str (version, "side");
    int64_t t = event->time_ms;
    const char *decision = "applied";
    if (current_ms > t)
        decision = "older_than_current";
    else if (current_ms == t && current_side && !strcmp (current_side, "hubspot")
             && strcmp (side, "hubspot"))
        decision = "tie_hubspot_wins";
    bool wins = !strcmp (decision, "applied");

    if (!plan->audit)
        plan->audit = json_array ();
    char stamp[40];
    json_t *entry = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "actor", CONTACT_SYNC_GROUP, "object",
                               "contact", "field", field, "decision", decision, "winner",
                               wins ? side : (current_side ? current_side : "hubspot"));
    contact_sync_put (entry, "old", old);
    contact_sync_put (entry, "new", new);
    contact_sync_put (entry, "event_id", event->event_id);
    contact_sync_put (entry, "bird_contact_id", known->bird_id ? known->bird_id : event->bird_id);
    zhub_time_format (t, stamp, sizeof stamp);
    json_object_set_new (entry, !strcmp (side, "bird") ? "bird_time" : "hubspot_time",
                         json_string (stamp));
    if (current_ms >= 0 && current_side && strcmp (current_side, side)) {
        zhub_time_format (current_ms, stamp, sizeof stamp);
        json_object_set_new (entry, !strcmp (current_side, "bird") ? "bird_time" : "hubspot_time",
                             json_string (stamp));
    }
    if (current_ms >= 0) {
        zhub_time_format (current_ms, stamp, sizeof stamp);
        json_object_set_new (entry, "current_time", json_string (stamp));
    }
    json_array_append_new (plan->audit, entry);
    if (wins) {
        if (!plan->next.versions)
            plan->next.versions = json_object ();
        json_object_set_new (plan->next.versions, field,
                             json_pack ("{s:I, s:s}", "ms", (json_int_t)t, "side", side));
    }
    return wins;
}

//  What one side holds of a mapped field, as far as we know (or NULL).
const char *
contact_sync_field_known (const contact_state_t *state, const char *hubspot, const char *side)
{
    return state && state->fields
               ? contact_sync_json_str (json_object_get (state->fields, hubspot), side)
               : NULL;
}

const char *
contact_sync_known_hubspot (const contact_state_t *state, const char *name)
{
    if (!strcmp (name, "firstname"))
        return state->hubspot.firstname;
    if (!strcmp (name, "lastname"))
        return state->hubspot.lastname;
    if (!strcmp (name, "phone"))
        return state->hubspot.phone;
    if (!strcmp (name, "email"))
        return state->hubspot.email;
    return contact_sync_field_known (state, name, "hubspot");
}

void
contact_sync_field_set (contact_state_t *state, const char *hubspot, const char *side,
                        const char *value)
{
    if (!state->fields)
        state->fields = json_object ();
    json_t *entry = json_object_get (state->fields, hubspot);
    if (!entry) {
        entry = json_object ();
        json_object_set_new (state->fields, hubspot, entry);
    }
    if (value)
        json_object_set_new (entry, side, json_string (value));
    else
        json_object_del (entry, side);
}

const char *
contact_sync_answer_bird_id (const json_t *answer)
{
    const char *id =
        contact_sync_json_str (json_object_get (answer, "properties"), "bird_contact_id");
    return contact_sync_empty (id) ? NULL : id;
}
