//  Fixtures for the tests of contact-sync's pure core (the plan): sample
//  loading, JSON comparison, and the Bird sample synced end to end. Shared
//  by test_contact_sync_plan.c (Bird to HubSpot) and
//  test_contact_sync_plan_hubspot.c (HubSpot to Bird, other events).
#ifndef ZHUB_TEST_CONTACT_PLAN_H
#define ZHUB_TEST_CONTACT_PLAN_H

#include "contact_sync.h"
#include "zhub_test.h"

#define BIRD_ID "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"

static const contact_sync_config_t s_config = {.default_calling_code = NULL};

static inline json_t *
s_sample (const char *name)
{
    char path[512];
    snprintf (path, sizeof path, "%s/samples/%s", zhub_test_fixtures_dir (), name);
    json_error_t error;
    json_t *json = json_load_file (path, 0, &error);
    if (!json)
        fprintf (stderr, "  cannot read %s: %s\n", path, error.text);
    return json;
}

static inline json_t *
s_json (const char *text)
{
    json_error_t error;
    json_t *json = json_loads (text, 0, &error);
    if (!json)
        fprintf (stderr, "  bad test JSON: %s\n", error.text);
    return json;
}

//  Reads data as contact-sync's route for topic reads a contact to sync
//  (contact_sync.h, Routes): the HubSpot route's parser is called for any
//  type, so that what it is not for shows.
static inline zhub_rc_t
s_parse (const char *topic, const json_t *data, contact_event_t *event, char *reason,
         size_t reason_size)
{
    zhub_msg_t msg = {.type = (char *)topic};
    switch (contact_sync_route (topic)) {
        case CONTACT_ROUTE_BIRD:
            return contact_sync_parse_bird (&msg, data, event, reason, reason_size);
        case CONTACT_ROUTE_HUBSPOT:
            return contact_sync_parse_hubspot (&msg, data, event, reason, reason_size);
        case CONTACT_ROUTE_CONVERSATION:
            return contact_sync_parse_conversation (&msg, data, event, reason, reason_size);
        default: memset (event, 0, sizeof *event); return ZHUB_NOTFOUND;
    }
}

//  The same for a whole message, its data decoded once as the runtime
//  does; the event takes the envelope's id and time.
static inline zhub_rc_t
s_parse_msg (const zhub_msg_t *msg, contact_event_t *event, char *reason, size_t reason_size)
{
    json_t *data = zhub_msg_data_json (msg);
    zhub_rc_t rc = s_parse (msg->type, data, event, reason, reason_size);
    json_decref (data);
    if (rc == ZHUB_OK) {
        event->time_ms = msg->time_ms;
        free (event->event_id);
        event->event_id = zhub_strdup (msg->id);
    }
    return rc;
}

//  The Bird sample (samples/bird-message-created.json) read as its route
//  reads it.
static inline void
s_bird_sample_event (contact_event_t *event)
{
    json_t *sample = s_sample ("bird-message-created.json");
    char reason[256];
    CHECK (s_parse ("webhook.bird.whatsapp.inbound", sample, event, reason, sizeof reason)
           == ZHUB_OK);
    json_decref (sample);
}

//  The path of the plan's call, as its connector sends it ("" for none).
static inline const char *
s_path (const contact_plan_t *plan)
{
    static char text[512];
    char *path = contact_sync_call_path (&plan->call);
    snprintf (text, sizeof text, "%s", path ? path : "");
    free (path);
    return text;
}

//  True when the plan's body equals the JSON text (key order ignored).
static inline bool
s_body_is (const contact_plan_t *plan, const char *text)
{
    json_t *expected = s_json (text);
    bool same = expected && plan->call.body && json_equal (expected, plan->call.body);
    if (!same) {
        char *got = plan->call.body ? json_dumps (plan->call.body, JSON_SORT_KEYS) : NULL;
        fprintf (stderr, "  body: %s\n  want: %s\n", got ? got : "(none)", text);
        free (got);
    }
    json_decref (expected);
    return same;
}

static inline bool
s_changed_is (const contact_plan_t *plan, const char *const *names, size_t count)
{
    if (plan->changed_count != count)
        return false;
    for (size_t i = 0; i < count; i++)
        if (strcmp (plan->changed[i], names[i]))
            return false;
    return true;
}

//  After a HubSpot write that gave a new HubSpot id: the id goes onto the
//  Bird contact (attribute hubspot_contact_id), then the plan is done.
static inline void
s_link_step (contact_plan_t *plan)
{
    CHECK (plan->kind == CONTACT_PLAN_WRITE);
    CHECK (plan->call.op == CONTACT_OP_BIRD_LINK);
    CHECK_STR (plan->call.method, "PATCH");
    CHECK (!strncmp (s_path (plan), "/contacts/", 10));
    const json_t *attributes = json_object_get (plan->call.body, "attributes");
    CHECK_STR (json_string_value (json_object_get (attributes, "hubspot_contact_id")),
               plan->next.hubspot_id);
    json_t *answer = json_pack ("{s:s}", "id", plan->next.bird_id);
    contact_sync_plan_written (plan, answer);
    json_decref (answer);
}

//  The Bird contact GET /workspaces/{ws}/contacts/{id} returns for the
//  sender of samples/bird-message-created.json, as the Bird peer renders it.
#define S_BIRD_CONTACT                                                                             \
    "{\"id\":\"" BIRD_ID "\",\"computedDisplayName\":\"José María Pérez\","                     \
    "\"featuredIdentifiers\":[{\"key\":\"phonenumber\",\"value\":\"+3511111111\"},"                \
    "{\"key\":\"emailaddress\",\"value\":\"Jose.Maria@Example.com\"}],"                            \
    "\"identifierCount\":2,\"attributes\":{\"phonenumber\":[\"+3511111111\"],"                     \
    "\"emailaddress\":[\"Jose.Maria@Example.com\"],\"displayName\":\"José María Pérez\"}}"

//  Runs the Bird sample through parse, fetch and write; leaves the
//  committed state in *state.
static inline void
s_sync_bird_sample (contact_state_t *state)
{
    json_t *sample = s_sample ("bird-message-created.json");
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "bird-msg-404544c5");
    zhub_msg_set (&msg->type, "webhook.bird.whatsapp.inbound");
    CHECK (zhub_msg_set_data_json (msg, sample) == 0);
    contact_event_t event;
    char reason[256];
    CHECK (s_parse_msg (msg, &event, reason, sizeof reason) == ZHUB_OK);
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, NULL, &s_config, &plan);
    json_t *answer = s_json (S_BIRD_CONTACT);
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    json_t *written =
        s_json ("{\"status\":\"COMPLETE\",\"results\":[{\"id\":\"501\",\"new\":true}]}");
    contact_sync_plan_written (&plan, written);
    s_link_step (&plan);
    CHECK (plan.kind == CONTACT_PLAN_DONE);
    contact_state_copy (state, &plan.next);
    json_decref (written);
    json_decref (answer);
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    zhub_msg_destroy (&msg);
    json_decref (sample);
}

#endif
