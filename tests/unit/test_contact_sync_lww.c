//  contact-sync's conflict rules and mapped fields, as data: a state with
//  per-field versions and an event with a time in, the write (or no
//  write) and the audit entries out.
#include "contact_sync.h"
#include "zhub_test.h"

#define BIRD_ID "b-lww-1"

static json_t *
s_json (const char *text)
{
    json_error_t error;
    json_t *json = json_loads (text, 0, &error);
    if (!json)
        fprintf (stderr, "  bad test JSON: %s\n", error.text);
    return json;
}

//  A contact synced both ways: phone +5215512345678 on both sides, the
//  phone's version at 2000 from `side`.
static void
s_state (contact_state_t *state, const char *side)
{
    memset (state, 0, sizeof *state);
    state->bird_id = zhub_strdup (BIRD_ID);
    state->hubspot_id = zhub_strdup ("501");
    state->hubspot.firstname = zhub_strdup ("Ana");
    state->hubspot.lastname = zhub_strdup ("López");
    state->hubspot.phone = zhub_strdup ("+525512345678");
    state->bird.display_name = zhub_strdup ("Ana López");
    state->bird.phone = zhub_strdup ("+525512345678");
    state->versions = json_pack ("{s:{s:i, s:s}}", "phone", "ms", 2000, "side", side);
}

//  A complete Bird record (a contact event) with a new phone, at time_ms.
static void
s_bird_event (contact_event_t *event, const char *phone, int64_t time_ms)
{
    char text[512];
    snprintf (text, sizeof text,
              "{\"event\":\"contact.updated\",\"payload\":{\"contact\":{\"id\":\"" BIRD_ID
              "\",\"computedDisplayName\":\"Ana López\",\"featuredIdentifiers\":"
              "[{\"key\":\"phonenumber\",\"value\":\"%s\"}],\"attributes\":"
              "{\"property_interest\":\"Torre Reforma 4B\"}}}}",
              phone);
    json_t *data = s_json (text);
    char reason[256];
    zhub_msg_t msg = {.type = (char *)"webhook.bird.contact.updated"};
    CHECK (contact_sync_parse_bird (&msg, data, event, reason, sizeof reason) == ZHUB_OK);
    CHECK (event->complete);
    event->time_ms = time_ms;
    event->event_id = zhub_strdup ("ev-bird");
    json_decref (data);
}

static const json_t *
s_last_audit (const contact_plan_t *plan)
{
    return json_array_get (plan->audit, json_array_size (plan->audit) - 1);
}

static const char *
s_audit_str (const contact_plan_t *plan, const char *key)
{
    return json_string_value (json_object_get (s_last_audit (plan), key));
}

static void
test_older_bird_change_loses_to_newer_hubspot_value (void)
{
    contact_sync_config_t config = {0};
    contact_state_t state;
    s_state (&state, "hubspot");
    contact_event_t event;
    s_bird_event (&event, "+5215599990000", 1000);
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, &state, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    CHECK (plan.call.op == CONTACT_OP_NONE);
    CHECK (json_array_size (plan.audit) == 1);
    CHECK_STR (s_audit_str (&plan, "field"), "phone");
    CHECK_STR (s_audit_str (&plan, "decision"), "older_than_current");
    CHECK_STR (s_audit_str (&plan, "winner"), "hubspot");
    CHECK_STR (s_audit_str (&plan, "old"), "+525512345678");
    CHECK_STR (s_audit_str (&plan, "new"), "+525599990000");
    CHECK_STR (s_audit_str (&plan, "bird_time"), "1970-01-01T00:00:01.000Z");
    CHECK_STR (s_audit_str (&plan, "hubspot_time"), "1970-01-01T00:00:02.000Z");
    CHECK_STR (s_audit_str (&plan, "event_id"), "ev-bird");
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    contact_state_clear (&state);
}

static void
test_tie_goes_to_hubspot (void)
{
    contact_sync_config_t config = {0};
    contact_state_t state;
    s_state (&state, "hubspot");
    contact_event_t event;
    s_bird_event (&event, "+5215599990000", 2000);
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, &state, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    CHECK_STR (s_audit_str (&plan, "decision"), "tie_hubspot_wins");
    CHECK_STR (s_audit_str (&plan, "winner"), "hubspot");
    contact_plan_clear (&plan);
    contact_state_clear (&state);
    //  The same time against a version Bird set: Bird's newer edit applies.
    s_state (&state, "bird");
    contact_sync_plan_event (&event, &state, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    contact_state_clear (&state);
}

static void
test_newer_bird_change_is_written_and_versioned (void)
{
    contact_sync_config_t config = {0};
    contact_state_t state;
    s_state (&state, "hubspot");
    contact_event_t event;
    s_bird_event (&event, "+5215599990000", 3000);
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, &state, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK_STR (json_string_value (json_object_get (plan.hubspot_properties, "phone")),
               "+525599990000");
    CHECK_STR (s_audit_str (&plan, "decision"), "applied");
    CHECK_STR (s_audit_str (&plan, "winner"), "bird");
    const json_t *version = json_object_get (plan.next.versions, "phone");
    CHECK (json_integer_value (json_object_get (version, "ms")) == 3000);
    CHECK_STR (json_string_value (json_object_get (version, "side")), "bird");
    //  The versions survive the store.
    char *text = contact_state_encode (&plan.next);
    contact_state_t back;
    CHECK (contact_state_decode (text, strlen (text), &back) == 0);
    CHECK (json_equal (back.versions, plan.next.versions));
    free (text);
    contact_state_clear (&back);
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    contact_state_clear (&state);
}

static void
test_older_hubspot_change_loses_to_newer_bird_value (void)
{
    contact_sync_config_t config = {0};
    contact_state_t state;
    s_state (&state, "bird");
    contact_event_t event = {.origin = CONTACT_FROM_HUBSPOT,
                             .hubspot_id = zhub_strdup ("501"),
                             .kind = zhub_strdup ("contact.propertyChange"),
                             .time_ms = 1500,
                             .event_id = zhub_strdup ("ev-hs")};
    json_t *answer =
        s_json ("{\"id\":\"501\",\"properties\":{\"firstname\":\"Ana\",\"lastname\":"
                "\"López\",\"phone\":\"+525500001111\",\"bird_contact_id\":\"" BIRD_ID "\"}}");
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_fetched (&event, &state, answer, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    CHECK_STR (s_audit_str (&plan, "decision"), "older_than_current");
    CHECK_STR (s_audit_str (&plan, "winner"), "bird");
    CHECK_STR (s_audit_str (&plan, "hubspot_time"), "1970-01-01T00:00:01.500Z");
    //  Newer than Bird's: it goes to Bird.
    event.time_ms = 2500;
    contact_sync_plan_fetched (&event, &state, answer, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK_STR (s_audit_str (&plan, "decision"), "applied");
    CHECK_STR (s_audit_str (&plan, "winner"), "hubspot");
    contact_plan_clear (&plan);
    json_decref (answer);
    contact_event_clear (&event);
    contact_state_clear (&state);
}

static void
test_mapped_fields_both_ways (void)
{
    contact_sync_config_t config = {0};
    contact_sync_config_defaults (&config);
    CHECK (config.field_count == 2);
    CHECK (strstr (config.hubspot_properties, "urbanhub_property_interest") != NULL);
    contact_state_t state;
    s_state (&state, "bird");
    //  A conversation status and a property interest from Bird.
    contact_event_t event;
    s_bird_event (&event, "+525512345678", 5000);
    event.conversation_status = zhub_strdup ("active");
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, &state, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK_STR (
        json_string_value (json_object_get (plan.hubspot_properties, "ai_conversation_status")),
        "active");
    CHECK_STR (
        json_string_value (json_object_get (plan.hubspot_properties, "urbanhub_property_interest")),
        "Torre Reforma 4B");
    CHECK (json_object_get (plan.hubspot_properties, "phone") == NULL);
    contact_state_t synced = {0};
    contact_state_copy (&synced, &plan.next);
    contact_plan_clear (&plan);
    contact_event_clear (&event);

    //  The same record again: an echo, nothing to write.
    s_bird_event (&event, "+525512345678", 6000);
    event.conversation_status = zhub_strdup ("active");
    contact_sync_plan_event (&event, &synced, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    contact_plan_clear (&plan);
    contact_event_clear (&event);

    //  A person changes the interest in HubSpot: it goes to Bird's attribute.
    contact_event_t change = {.origin = CONTACT_FROM_HUBSPOT,
                              .hubspot_id = zhub_strdup ("501"),
                              .property_name = zhub_strdup ("urbanhub_property_interest"),
                              .property_value = zhub_strdup ("Casa Roma 2"),
                              .time_ms = 7000};
    contact_sync_plan_event (&change, &synced, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_FETCH);
    char *path = contact_sync_call_path (&plan.call);
    CHECK (path && strstr (path, "urbanhub_property_interest") != NULL);
    free (path);
    json_t *answer = s_json ("{\"id\":\"501\",\"properties\":{\"firstname\":\"Ana\",\"lastname\":"
                             "\"López\",\"phone\":\"+525512345678\",\"urbanhub_property_interest\":"
                             "\"Casa Roma 2\",\"ai_conversation_status\":\"active\"}}");
    contact_sync_plan_fetched (&change, &synced, answer, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK_STR (json_string_value (json_object_get (json_object_get (plan.call.body, "attributes"),
                                                   "property_interest")),
               "Casa Roma 2");
    contact_state_t after = {0};
    contact_state_copy (&after, &plan.next);
    contact_plan_clear (&plan);
    //  ...and its echo from HubSpot is recognised without a fetch.
    contact_sync_plan_event (&change, &after, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    contact_plan_clear (&plan);
    //  ai_conversation_status is Bird -> HubSpot only: HubSpot's changes are ignored.
    free (change.property_name);
    change.property_name = zhub_strdup ("ai_conversation_status");
    contact_sync_plan_event (&change, &after, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_IGNORE);
    contact_plan_clear (&plan);
    json_decref (answer);
    contact_event_clear (&change);
    contact_state_clear (&after);
    contact_state_clear (&synced);
    contact_state_clear (&state);
    contact_sync_config_clear (&config);
}

static void
test_mapping_file_adds_and_rejects_fields (void)
{
    contact_sync_config_t config = {0};
    contact_sync_config_defaults (&config);
    char err[256] = "";
    json_t *file = s_json ("{\"contact\":{\"fields\":[{\"bird\":\"attributes.budget\","
                           "\"hubspot\":\"budget_mxn\",\"direction\":\"to_hubspot\"},"
                           "{\"bird\":\"attributes.interest\",\"hubspot\":"
                           "\"urbanhub_property_interest\"}]}}");
    CHECK (contact_sync_config_apply (&config, file, err, sizeof err) == 0);
    CHECK (config.field_count == 3);
    CHECK_STR (config.fields[1].bird, "attributes.interest"); //  replaced
    CHECK (config.fields[2].to_hubspot && !config.fields[2].to_bird);
    CHECK (strstr (config.hubspot_properties, "budget_mxn") != NULL);
    json_decref (file);
    static const char *bad[] = {
        "{\"contact\":{\"fields\":{}}}",
        "{\"contact\":{\"fields\":[{\"bird\":\"displayName\",\"hubspot\":\"x\"}]}}",
        "{\"contact\":{\"fields\":[{\"bird\":\"attributes.a\",\"hubspot\":\"Bad-Name\"}]}}",
        "{\"contact\":{\"fields\":[{\"bird\":\"attributes.a\",\"hubspot\":\"email\"}]}}",
        "{\"contact\":{\"fields\":[{\"bird\":\"attributes.a\",\"hubspot\":\"a\","
        "\"direction\":\"sideways\"}]}}",
        "{\"contact\":{\"fields\":[{\"bird\":\"conversation.status\",\"hubspot\":\"a\","
        "\"direction\":\"both\"}]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        file = s_json (bad[i]);
        *err = 0;
        CHECK (contact_sync_config_apply (&config, file, err, sizeof err) == -1);
        CHECK (*err != 0);
        json_decref (file);
    }
    CHECK (config.field_count == 3);
    contact_sync_config_clear (&config);
}

static void
test_merge_and_deletion_remap_ids (void)
{
    contact_lifecycle_t merge;
    char reason[128];
    json_t *data = s_json ("{\"subscriptionType\":\"contact.merge\",\"primaryObjectId\":501,"
                           "\"mergedObjectIds\":[502],\"newObjectId\":601}");
    CHECK (contact_sync_parse_lifecycle ("webhook.hubspot.contact.merge", data, &merge, reason,
                                         sizeof reason)
           == ZHUB_OK);
    CHECK (merge.merge && merge.merged_count == 1);
    CHECK_STR (merge.new_id, "601");
    json_decref (data);
    contact_state_t states[2] = {{0}, {0}};
    states[0].bird_id = zhub_strdup ("b-2");
    states[0].hubspot_id = zhub_strdup ("502");
    states[1].bird_id = zhub_strdup ("b-1");
    states[1].hubspot_id = zhub_strdup ("501");
    contact_sync_apply_merge (&merge, states, 2);
    CHECK_STR (states[1].hubspot_id, "601"); //  linked to the primary: kept
    CHECK (states[1].unlinked == NULL);
    CHECK (states[0].hubspot_id == NULL);
    CHECK_STR (states[0].unlinked, "merged into 601");
    //  An unlinked Bird contact is no longer synced to HubSpot.
    contact_sync_config_t config = {0};
    contact_event_t event;
    s_bird_event (&event, "+5215599990000", 9000);
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, &states[0], &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    //  ...and the unlink survives the store.
    char *text = contact_state_encode (&states[0]);
    contact_state_t back;
    CHECK (contact_state_decode (text, strlen (text), &back) == 0);
    CHECK_STR (back.unlinked, "merged into 601");
    free (text);
    contact_state_clear (&back);

    contact_lifecycle_t deletion;
    data = s_json ("{\"subscriptionType\":\"contact.deletion\",\"objectId\":601}");
    CHECK (contact_sync_parse_lifecycle ("webhook.hubspot.contact.deletion", data, &deletion,
                                         reason, sizeof reason)
           == ZHUB_OK);
    CHECK (!deletion.merge);
    CHECK_STR (deletion.object_id, "601");
    contact_sync_apply_deletion (&states[1]);
    CHECK (states[1].hubspot_id == NULL && states[1].unlinked != NULL);
    json_decref (data);
    //  Malformed and unrelated events.
    contact_lifecycle_clear (&merge);
    data = s_json ("{\"subscriptionType\":\"contact.merge\",\"primaryObjectId\":501}");
    CHECK (contact_sync_parse_lifecycle ("webhook.hubspot.contact.merge", data, &merge, reason,
                                         sizeof reason)
           == ZHUB_REJECT);
    json_decref (data);
    data = s_json ("{\"subscriptionType\":\"contact.creation\",\"objectId\":1}");
    CHECK (contact_sync_parse_lifecycle ("webhook.hubspot.contact.creation", data, &merge, reason,
                                         sizeof reason)
           == ZHUB_NOTFOUND);
    json_decref (data);
    contact_lifecycle_clear (&deletion);
    contact_lifecycle_clear (&merge);
    contact_state_clear (&states[0]);
    contact_state_clear (&states[1]);
}

int
main (void)
{
    RUN (test_older_bird_change_loses_to_newer_hubspot_value);
    RUN (test_tie_goes_to_hubspot);
    RUN (test_newer_bird_change_is_written_and_versioned);
    RUN (test_older_hubspot_change_loses_to_newer_bird_value);
    RUN (test_mapped_fields_both_ways);
    RUN (test_mapping_file_adds_and_rejects_fields);
    RUN (test_merge_and_deletion_remap_ids);
    TEST_EXIT ();
}
