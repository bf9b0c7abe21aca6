//  contact-sync core: the entry points of a plan — an event, a fetched
//  record, a 409 conflict, a written answer, a queued write resumed — and
//  the table that chooses among them by the answer to the last call
//  (contact_sync.h, The plan as a state machine). Each direction's
//  planning is its own file (contact_sync_plan_bird.c, _plan_hubspot.c);
//  what they and this file build a plan with is contact_sync_plan_build.c,
//  below all three.
#include "contact_sync_internal.h"

//  True when every identifier the event carries is one we already synced:
//  a message from a known contact brings nothing new worth a fetch.
static bool
s_event_known (const contact_event_t *event, const contact_state_t *state,
               const contact_sync_config_t *config)
{
    if (!state || !state->hubspot_id)
        return false;
    if (event->display_name && !contact_sync_same (event->display_name, state->bird.display_name))
        return false;
    for (size_t i = 0; i < event->phone_count; i++) {
        char phone[CONTACT_PHONE_MAX + 1];
        if (contact_phone_normalize (event->phones[i], config->default_calling_code, phone,
                                     sizeof phone, NULL, 0)
                != ZHUB_OK
            || !contact_sync_same (phone, state->bird.phone))
            return false;
    }
    for (size_t i = 0; i < event->email_count; i++) {
        char email[CONTACT_EMAIL_MAX + 1];
        if (contact_email_normalize (event->emails[i], email, sizeof email, NULL, 0) != ZHUB_OK
            || !contact_sync_same (email, state->bird.email))
            return false;
    }
    //  A conversation status we have not passed on yet is news.
    for (size_t i = 0; i < config->field_count; i++) {
        const contact_field_map_t *field = &config->fields[i];
        char *value = field->to_hubspot ? contact_sync_bird_field_value (event, field) : NULL;
        bool news =
            value && *value
            && !contact_sync_same (value, contact_sync_field_known (state, field->hubspot, "bird"));
        free (value);
        if (news)
            return false;
    }
    return true;
}

static bool
s_synced_property (const char *name, const contact_sync_config_t *config)
{
    const contact_field_map_t *field = contact_sync_field_of (config, name);
    return !strcmp (name, "firstname") || !strcmp (name, "lastname") || !strcmp (name, "phone")
           || !strcmp (name, "email") || (field && field->to_bird);
}

//  A propertyChange whose new value is the one we wrote (or last read):
//  our own write coming back.
static bool
s_property_echo (const contact_event_t *event, const contact_state_t *state,
                 const contact_sync_config_t *config)
{
    if (!state || !event->property_name)
        return false;
    const char *known = contact_sync_known_hubspot (state, event->property_name);
    const char *value = event->property_value;
    char normal[CONTACT_EMAIL_MAX + 2];
    if (!contact_sync_empty (value) && !strcmp (event->property_name, "phone")
        && contact_phone_normalize (value, config->default_calling_code, normal, sizeof normal,
                                    NULL, 0)
               == ZHUB_OK)
        value = normal;
    else if (!contact_sync_empty (value) && !strcmp (event->property_name, "email")
             && contact_email_normalize (value, normal, sizeof normal, NULL, 0) == ZHUB_OK)
        value = normal;
    return contact_sync_same (value, known);
}

void
contact_sync_plan_event (const contact_event_t *event, const contact_state_t *state,
                         const contact_sync_config_t *config, contact_plan_t *plan)
{
    contact_plan_clear (plan);
    if (event->origin == CONTACT_FROM_BIRD) {
        plan->direction = DIR_BIRD_TO_HUBSPOT;
        if (state && state->unlinked) {
            contact_sync_plan_reason (plan, CONTACT_PLAN_SKIP, 0,
                                      "bird contact %s is unlinked from HubSpot (%s): not synced",
                                      event->bird_id, state->unlinked);
            return;
        }
        if (event->complete) {
            contact_sync_plan_bird_to_hubspot (event, state, config, plan);
            return;
        }
        if (s_event_known (event, state, config)) {
            contact_sync_plan_reason (plan, CONTACT_PLAN_SKIP, 0, "bird contact %s already synced",
                                      event->bird_id);
            return;
        }
        contact_sync_plan_call (plan, CONTACT_PLAN_FETCH, CONTACT_OP_BIRD_GET, event->bird_id, NULL,
                                "bird get contact");
        return;
    }
    plan->direction = DIR_HUBSPOT_TO_BIRD;
    if (event->property_name && !s_synced_property (event->property_name, config)) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_IGNORE, 0, "property %.64s is not synced",
                                  event->property_name);
        return;
    }
    if (s_property_echo (event, state, config)) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_SKIP, 0,
                                  "hubspot contact %s: %s already synced (echo)", event->hubspot_id,
                                  event->property_name);
        return;
    }
    contact_sync_plan_call (plan, CONTACT_PLAN_FETCH, CONTACT_OP_HUBSPOT_GET, event->hubspot_id,
                            NULL, "hubspot get contact");
    plan->call.properties = zhub_strdup (config->hubspot_properties ? config->hubspot_properties
                                                                    : CONTACT_HUBSPOT_PROPERTIES);
}

void
contact_sync_plan_fetched (const contact_event_t *event, const contact_state_t *state,
                           const json_t *answer, const contact_sync_config_t *config,
                           contact_plan_t *plan)
{
    contact_plan_clear (plan);
    if (!json_is_object (answer)) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_BAD_ANSWER,
                                  "the fetched contact is not a JSON object");
        return;
    }
    if (event->origin == CONTACT_FROM_HUBSPOT) {
        contact_sync_plan_hubspot_to_bird (event, state, answer, config, plan);
        return;
    }
    if (state && state->unlinked) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_SKIP, 0,
                                  "bird contact is unlinked from HubSpot (%s)", state->unlinked);
        return;
    }
    contact_event_t record = {.origin = CONTACT_FROM_BIRD, .time_ms = event->time_ms};
    if (!contact_sync_read_bird_contact (answer, &record)) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_BAD_ANSWER,
                                  "the fetched Bird contact has no id");
        contact_event_clear (&record);
        return;
    }
    //  What the event itself said, beyond the record: its id, its
    //  conversation's status.
    record.event_id = zhub_strdup (event->event_id);
    record.conversation_status = zhub_strdup (event->conversation_status);
    contact_sync_plan_bird_to_hubspot (&record, state, config, plan);
    contact_event_clear (&record);
}

int
contact_sync_conflict_id (const json_t *answer, char *id, size_t id_size)
{
    //  HubSpot: "Contact already exists. Existing ID: 501"
    const char *message = contact_sync_json_str (answer, "message");
    const char *mark = message ? strstr (message, "Existing ID: ") : NULL;
    if (!id_size)
        return -1;
    *id = 0;
    if (mark) {
        mark += strlen ("Existing ID: ");
        size_t n = 0;
        while (n < id_size - 1 && isdigit ((unsigned char)mark[n])) {
            id[n] = mark[n];
            n++;
        }
        id[n] = 0;
    }
    return *id ? 0 : -1;
}

zhub_rc_t
contact_sync_plan_conflict (contact_plan_t *plan, const json_t *answer)
{
    char id[32];
    contact_sync_conflict_id (answer, id, sizeof id);
    if (!*id || plan->call.op != CONTACT_OP_HUBSPOT_UPSERT || !plan->hubspot_properties) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_REJECT, 409,
                                  "hubspot upsert contact: HTTP 409 without an existing id");
        return ZHUB_REJECT;
    }
    json_t *body = json_pack ("{s:O}", "properties", plan->hubspot_properties);
    contact_sync_plan_call (plan, CONTACT_PLAN_WRITE, CONTACT_OP_HUBSPOT_UPDATE, id, body,
                            "hubspot update existing contact");
    return ZHUB_OK;
}

void
contact_sync_plan_written (contact_plan_t *plan, const json_t *answer)
{
    contact_op_t op = plan->call.op;
    char *id = NULL;
    if (op == CONTACT_OP_BIRD_LINK) {
        contact_sync_call_clear (&plan->call);
        plan->kind = CONTACT_PLAN_DONE;
        return;
    }
    if (op == CONTACT_OP_HUBSPOT_UPSERT) {
        const json_t *results = json_object_get (answer, "results");
        id = contact_sync_json_id (json_object_get (json_array_get (results, 0), "id"));
    } else
        id = contact_sync_json_id (json_object_get (answer, "id"));
    if (!id) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_BAD_ANSWER,
                                  "%s: the answer carries no record id", plan->call.what);
        return;
    }
    if (op == CONTACT_OP_BIRD_WRITE) {
        contact_sync_set (&plan->next.bird_id, id);
        if (plan->link_hubspot && plan->next.hubspot_id) {
            plan->link_hubspot = false;
            json_t *body = json_pack ("{s:{s:s}}", "properties", "bird_contact_id", id);
            contact_sync_plan_call (plan, CONTACT_PLAN_WRITE, CONTACT_OP_HUBSPOT_LINK,
                                    plan->next.hubspot_id, body, "hubspot link contact");
            free (id);
            return;
        }
    } else if (op == CONTACT_OP_HUBSPOT_UPSERT || op == CONTACT_OP_HUBSPOT_UPDATE) {
        //  A HubSpot id Bird does not know yet goes onto the Bird contact.
        bool new_link = plan->next.bird_id && !contact_sync_same (id, plan->next.hubspot_id);
        contact_sync_set (&plan->next.hubspot_id, id);
        if (new_link) {
            json_t *body = json_pack ("{s:{s:s}}", "attributes", "hubspot_contact_id", id);
            contact_sync_plan_call (plan, CONTACT_PLAN_WRITE, CONTACT_OP_BIRD_LINK,
                                    plan->next.bird_id, body, "bird link contact");
            free (id);
            return;
        }
    }
    free (id);
    contact_sync_call_clear (&plan->call);
    plan->kind = CONTACT_PLAN_DONE;
}

void
contact_sync_plan_queued (const contact_state_t *state, const json_t *properties,
                          const json_t *changed, const json_t *audit, contact_plan_t *plan)
{
    contact_plan_clear (plan);
    plan->direction = DIR_BIRD_TO_HUBSPOT;
    contact_state_copy (&plan->next, state);
    size_t i;
    json_t *name;
    json_array_foreach (changed, i, name)
    {
        if (json_string_value (name))
            contact_sync_changed (plan, json_string_value (name));
    }
    if (json_array_size (audit))
        plan->audit = json_deep_copy (audit);
    contact_sync_plan_upsert (plan, state->bird_id, json_deep_copy (properties));
}

//  -------------------------------------------------------------------
//  The table (contact_sync.h, The plan as a state machine)

typedef struct {
    const json_t *json;
    const contact_event_t *event;
    const contact_state_t *state;
    const contact_sync_config_t *config;
} s_answer_t;

static void
s_on_fetched (contact_plan_t *plan, const s_answer_t *a)
{
    contact_sync_plan_fetched (a->event, a->state, a->json, a->config, plan);
}

static void
s_on_written (contact_plan_t *plan, const s_answer_t *a)
{
    contact_sync_plan_written (plan, a->json);
}

static void
s_on_conflict (contact_plan_t *plan, const s_answer_t *a)
{
    contact_sync_plan_conflict (plan, a->json);
}

//  The upsert waits for the batch: the plan keeps what the intent needs.
static void
s_on_queued (contact_plan_t *plan, const s_answer_t *a)
{
    (void)a;
    plan->kind = CONTACT_PLAN_QUEUED;
}

static const struct {
    contact_plan_kind_t state;
    contact_op_t op; //  CONTACT_OP_NONE: any
    contact_answer_t answer;
    void (*step) (contact_plan_t *plan, const s_answer_t *a);
} s_table[] = {
    {CONTACT_PLAN_FETCH, CONTACT_OP_NONE, CONTACT_ANSWER_OK, s_on_fetched},
    {CONTACT_PLAN_WRITE, CONTACT_OP_NONE, CONTACT_ANSWER_OK, s_on_written},
    {CONTACT_PLAN_WRITE, CONTACT_OP_HUBSPOT_UPSERT, CONTACT_ANSWER_CONFLICT, s_on_conflict},
    {CONTACT_PLAN_WRITE, CONTACT_OP_HUBSPOT_UPSERT, CONTACT_ANSWER_QUEUED, s_on_queued},
    {CONTACT_PLAN_WRITE, CONTACT_OP_BIRD_LINK, CONTACT_ANSWER_QUEUED, s_on_written},
};

void
contact_sync_plan_answer (contact_plan_t *plan, contact_answer_t answer, const json_t *json,
                          const contact_event_t *event, const contact_state_t *state,
                          const contact_sync_config_t *config)
{
    assert (plan && event && config);
    s_answer_t a = {.json = json, .event = event, .state = state, .config = config};
    for (size_t i = 0; i < sizeof s_table / sizeof s_table[0]; i++)
        if (s_table[i].state == plan->kind && s_table[i].answer == answer
            && (s_table[i].op == CONTACT_OP_NONE || s_table[i].op == plan->call.op)) {
            s_table[i].step (plan, &a);
            return;
        }
    //  the catch-all row
    contact_sync_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_INTERNAL,
                              "no step for plan %d, op %d, answer %d", (int)plan->kind,
                              (int)plan->call.op, (int)answer);
}
