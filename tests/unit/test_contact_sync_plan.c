//  contact-sync's pure core, as data (Bird to HubSpot; the state record): a message (the providers'
//  samples where they exist) and a state in, the call HubSpot or Bird would receive and the state
//  to commit out. No sockets, no store.
#include "zhub_retry.h"
#include "zhub_test_contact_plan.h"

static void
test_bird_message_fetches_the_contact (void)
{
    json_t *sample = s_sample ("bird-message-created.json");
    CHECK (sample != NULL);
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "bird-msg-404544c5");
    zhub_msg_set (&msg->type, "webhook.bird.whatsapp.inbound");
    CHECK (zhub_msg_set_data_json (msg, sample) == 0);
    contact_event_t event;
    char reason[256];
    CHECK (s_parse_msg (msg, &event, reason, sizeof reason) == ZHUB_OK);
    CHECK (event.origin == CONTACT_FROM_BIRD);
    CHECK_STR (event.kind, "whatsapp.inbound");
    CHECK_STR (event.bird_id, BIRD_ID);
    CHECK (event.phone_count == 1);
    CHECK_STR (event.phones[0], "+3511111111");
    CHECK (!event.complete);

    //  The message names the contact but not its name or e-mail: read it.
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, NULL, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_FETCH);
    CHECK (plan.call.api == CONTACT_API_BIRD);
    CHECK_STR (plan.call.method, "GET");
    CHECK_STR (s_path (&plan), "/contacts/" BIRD_ID);
    CHECK (plan.call.body == NULL);
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    zhub_msg_destroy (&msg);
    json_decref (sample);
}

static void
test_bird_sample_maps_to_hubspot_upsert (void)
{
    contact_event_t event;
    s_bird_sample_event (&event);
    contact_plan_t plan;
    contact_plan_init (&plan);
    json_t *answer = s_json (S_BIRD_CONTACT);
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (plan.call.api == CONTACT_API_HUBSPOT);
    CHECK (plan.call.op == CONTACT_OP_HUBSPOT_UPSERT);
    CHECK_STR (plan.call.method, "POST");
    CHECK_STR (s_path (&plan), "/crm/v3/objects/contacts/batch/upsert");
    CHECK (s_body_is (&plan,
                      "{\"inputs\":[{\"id\":\"" BIRD_ID "\",\"idProperty\":\"bird_contact_id\","
                      "\"properties\":{\"firstname\":\"José\",\"lastname\":\"María Pérez\","
                      "\"phone\":\"+3511111111\",\"email\":\"jose.maria@example.com\","
                      "\"bird_contact_id\":\"" BIRD_ID "\"}}]}"));
    const char *changed[] = {"firstname", "lastname", "phone", "email"};
    CHECK (s_changed_is (&plan, changed, 4));
    CHECK_STR (plan.direction, "bird_to_hubspot");

    //  HubSpot's answer names the record: the state to commit has both ids
    //  and both sides' values.
    json_t *written = s_json ("{\"status\":\"COMPLETE\",\"results\":[{\"id\":\"501\","
                              "\"properties\":{},\"new\":true}]}");
    contact_sync_plan_written (&plan, written);
    s_link_step (&plan);
    CHECK (plan.kind == CONTACT_PLAN_DONE);
    CHECK_STR (plan.next.bird_id, BIRD_ID);
    CHECK_STR (plan.next.hubspot_id, "501");
    CHECK_STR (plan.next.hubspot.firstname, "José");
    CHECK_STR (plan.next.hubspot.lastname, "María Pérez");
    CHECK_STR (plan.next.hubspot.phone, "+3511111111");
    CHECK_STR (plan.next.hubspot.email, "jose.maria@example.com");
    CHECK_STR (plan.next.bird.display_name, "José María Pérez");
    CHECK_STR (plan.next.bird.phone, "+3511111111");

    //  The announcement.
    zhub_msg_t *input = zhub_msg_new ();
    zhub_msg_set (&input->id, "bird-msg-404544c5");
    zhub_msg_set (&input->traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    char err[128];
    zhub_msg_t *synced = contact_sync_synced_msg (&plan, input->id, input->id, input->traceparent,
                                                  1700000000000, err, sizeof err);
    CHECK (synced != NULL);
    if (!synced)
        return;
    CHECK (zhub_msg_validate (synced, err, sizeof err) == 0);
    CHECK_STR (synced->type, "contact.synced");
    CHECK_STR (synced->source, "zhub/contact-sync");
    CHECK_STR (synced->subject, "contact:" BIRD_ID);
    CHECK_STR (synced->traceparent, input->traceparent);
    //  "cs-" + 32 hex of SHA-256 of the cause's id
    CHECK_STR (synced->id, "cs-0814c0dc52b6b564139d5ffc3f1d2a10");
    json_t *data = zhub_msg_data_json (synced);
    json_t *expected =
        s_json ("{\"bird_contact_id\":\"" BIRD_ID "\",\"hubspot_contact_id\":\"501\","
                "\"changed\":[\"firstname\",\"lastname\",\"phone\",\"email\"],"
                "\"direction\":\"bird_to_hubspot\","
                "\"cause_id\":\"bird-msg-404544c5\"}");
    CHECK (json_equal (data, expected));
    json_decref (expected);
    json_decref (data);
    zhub_msg_destroy (&synced);
    zhub_msg_destroy (&input);
    json_decref (written);
    json_decref (answer);
    contact_plan_clear (&plan);
    contact_event_clear (&event);
}

//  The same cause always gives the same contact.synced id, so that a
//  redelivery cannot publish two events; another cause another id.
static void
test_synced_id_is_deterministic (void)
{
    contact_plan_t plan;
    contact_plan_init (&plan);
    plan.kind = CONTACT_PLAN_DONE;
    plan.next.bird_id = zhub_strdup (BIRD_ID);
    plan.next.hubspot_id = zhub_strdup ("123");
    plan.direction = "hubspot_to_bird";
    const char *causes[] = {"hubspot-62515-1-123", "hubspot-62515-1-123", "hubspot-62515-2-123"};
    char ids[3][64];
    for (size_t i = 0; i < 3; i++) {
        zhub_msg_t *msg =
            contact_sync_synced_msg (&plan, causes[i], causes[i], NULL, 1000, NULL, 0);
        CHECK (msg != NULL);
        snprintf (ids[i], sizeof ids[i], "%s", msg ? msg->id : "");
        zhub_msg_destroy (&msg);
    }
    CHECK_STR (ids[0], ids[1]);
    CHECK (strcmp (ids[0], ids[2]) != 0);
    CHECK (strncmp (ids[0], "cs-", 3) == 0 && strlen (ids[0]) == 35);
    contact_plan_clear (&plan);
}

static void
test_echo_same_values_no_call (void)
{
    contact_state_t state = {0};
    s_sync_bird_sample (&state);
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_event_t event;
    char reason[256];

    //  1. Another message from the same sender: nothing new, no fetch.
    json_t *sample = s_sample ("bird-message-created.json");
    CHECK (s_parse ("webhook.bird.whatsapp.inbound", sample, &event, reason, sizeof reason)
           == ZHUB_OK);
    contact_sync_plan_event (&event, &state, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    CHECK (plan.call.op == CONTACT_OP_NONE);
    contact_event_clear (&event);

    //  2. The full Bird record, unchanged (e.g. a redelivery): no write.
    json_t *answer = s_json (S_BIRD_CONTACT);
    CHECK (s_parse ("webhook.bird.whatsapp.inbound", sample, &event, reason, sizeof reason)
           == ZHUB_OK);
    contact_sync_plan_fetched (&event, &state, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    contact_event_clear (&event);

    //  3. Our own write coming back from HubSpot as propertyChange: no
    //     fetch, no write.
    json_t *change = s_json ("{\"subscriptionType\":\"contact.propertyChange\",\"objectId\":501,"
                             "\"propertyName\":\"phone\",\"propertyValue\":\"+3511111111\","
                             "\"changeSource\":\"INTEGRATION\"}");
    CHECK (s_parse ("webhook.hubspot.contact.propertyChange", change, &event, reason, sizeof reason)
           == ZHUB_OK);
    CHECK_STR (event.hubspot_id, "501");
    contact_sync_plan_event (&event, &state, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    contact_event_clear (&event);

    //  4. HubSpot's contact.creation for the record we created: it is
    //     read, and Bird already has every value -> no write to Bird.
    json_t *creation = s_json ("{\"subscriptionType\":\"contact.creation\",\"objectId\":501}");
    CHECK (s_parse ("webhook.hubspot.contact.creation", creation, &event, reason, sizeof reason)
           == ZHUB_OK);
    contact_sync_plan_event (&event, &state, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_FETCH);
    CHECK_STR (s_path (&plan),
               "/crm/v3/objects/contacts/501?properties=email,phone,firstname,lastname,"
               "bird_contact_id");
    json_t *hubspot = s_json ("{\"id\":\"501\",\"properties\":{\"firstname\":\"José\","
                              "\"lastname\":\"María Pérez\",\"phone\":\"+3511111111\","
                              "\"email\":\"jose.maria@example.com\",\"bird_contact_id\":\"" BIRD_ID
                              "\",\"hs_object_id\":\"501\"}}");
    contact_sync_plan_fetched (&event, &state, hubspot, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    CHECK (plan.call.op == CONTACT_OP_NONE);
    contact_event_clear (&event);

    json_decref (hubspot);
    json_decref (creation);
    json_decref (change);
    json_decref (answer);
    json_decref (sample);
    contact_plan_clear (&plan);
    contact_state_clear (&state);
}

static void
test_bird_change_writes_only_the_changed_field (void)
{
    contact_state_t state = {0};
    s_sync_bird_sample (&state);
    json_t *answer = s_json (S_BIRD_CONTACT);
    json_t *ids = json_object_get (answer, "featuredIdentifiers");
    json_object_set_new (json_array_get (ids, 1), "value", json_string ("jm.perez@example.mx"));
    json_object_del (answer, "attributes");
    contact_event_t event = {.origin = CONTACT_FROM_BIRD};
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_fetched (&event, &state, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (s_body_is (&plan,
                      "{\"inputs\":[{\"id\":\"" BIRD_ID "\",\"idProperty\":\"bird_contact_id\","
                      "\"properties\":{\"email\":\"jm.perez@example.mx\","
                      "\"bird_contact_id\":\"" BIRD_ID "\"}}]}"));
    const char *changed[] = {"email"};
    CHECK (s_changed_is (&plan, changed, 1));
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    json_decref (answer);
    contact_state_clear (&state);
}

static void
test_bird_second_number_does_not_flip_hubspot (void)
{
    contact_state_t state = {0};
    s_sync_bird_sample (&state);
    //  Bird lists a second number first; the one we synced is still there.
    json_t *answer = s_json ("{\"id\":\"" BIRD_ID "\",\"computedDisplayName\":\"José María Pérez\","
                             "\"featuredIdentifiers\":[{\"key\":\"phonenumber\","
                             "\"value\":\"+5215512345678\"},{\"key\":\"phonenumber\","
                             "\"value\":\"+3511111111\"},{\"key\":\"emailaddress\","
                             "\"value\":\"jose.maria@example.com\"}]}");
    contact_event_t event = {.origin = CONTACT_FROM_BIRD};
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_fetched (&event, &state, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    contact_plan_clear (&plan);
    json_decref (answer);
    contact_state_clear (&state);
}

static void
test_bird_name_to_one_word_clears_lastname (void)
{
    contact_state_t state = {0};
    s_sync_bird_sample (&state);
    json_t *answer = s_json ("{\"id\":\"" BIRD_ID "\",\"displayName\":\"Pepe\","
                             "\"featuredIdentifiers\":[{\"key\":\"phonenumber\","
                             "\"value\":\"+3511111111\"}]}");
    contact_event_t event = {.origin = CONTACT_FROM_BIRD};
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_fetched (&event, &state, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (s_body_is (&plan,
                      "{\"inputs\":[{\"id\":\"" BIRD_ID "\",\"idProperty\":\"bird_contact_id\","
                      "\"properties\":{\"firstname\":\"Pepe\",\"lastname\":\"\","
                      "\"bird_contact_id\":\"" BIRD_ID "\"}}]}"));
    contact_plan_clear (&plan);
    json_decref (answer);
    contact_state_clear (&state);
}

static void
test_bird_invalid_records_are_rejected (void)
{
    contact_event_t event = {.origin = CONTACT_FROM_BIRD};
    contact_plan_t plan;
    contact_plan_init (&plan);
    json_t *answer = s_json ("{\"id\":\"b1\",\"displayName\":\"Ana\",\"featuredIdentifiers\":"
                             "[{\"key\":\"emailaddress\",\"value\":\"ana-at-example\"}]}");
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_REJECT);
    CHECK (plan.code == ZHUB_REASON_INVALID_EMAIL);
    CHECK (strstr (plan.reason, "b1") != NULL);
    CHECK (plan.call.body == NULL);
    json_decref (answer);

    answer = s_json ("{\"id\":\"b2\",\"featuredIdentifiers\":"
                     "[{\"key\":\"phonenumber\",\"value\":\"5512345678\"}]}");
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_REJECT);
    CHECK (plan.code == ZHUB_REASON_INVALID_PHONE);
    json_decref (answer);

    //  One bad identifier among good ones: the good one is used.
    answer = s_json ("{\"id\":\"b3\",\"featuredIdentifiers\":"
                     "[{\"key\":\"phonenumber\",\"value\":\"n/a\"},"
                     "{\"key\":\"phonenumber\",\"value\":\"+52 1 55 1234 5678\"}]}");
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (s_body_is (&plan, "{\"inputs\":[{\"id\":\"b3\",\"idProperty\":\"bird_contact_id\","
                             "\"properties\":{\"phone\":\"+525512345678\","
                             "\"bird_contact_id\":\"b3\"}}]}"));
    json_decref (answer);

    //  The computed name is only the phone: not a name.
    answer = s_json ("{\"id\":\"b4\",\"computedDisplayName\":\"+525512345678\","
                     "\"featuredIdentifiers\":[{\"key\":\"phonenumber\","
                     "\"value\":\"+525512345678\"}]}");
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (s_body_is (&plan, "{\"inputs\":[{\"id\":\"b4\",\"idProperty\":\"bird_contact_id\","
                             "\"properties\":{\"phone\":\"+525512345678\","
                             "\"bird_contact_id\":\"b4\"}}]}"));
    json_decref (answer);
    contact_plan_clear (&plan);
}

static void
s_set_phone (contact_state_t *state, const char *phone)
{
    free (state->hubspot.phone);
    state->hubspot.phone = zhub_strdup (phone);
}

static void
test_state_round_trip (void)
{
    contact_state_t state = {0};
    s_sync_bird_sample (&state);
    state.updated_ms = 1700000000123;
    char *text = contact_state_encode (&state);
    contact_state_t back;
    CHECK (contact_state_decode (text, strlen (text), &back) == 0);
    CHECK_STR (back.bird_id, BIRD_ID);
    CHECK_STR (back.hubspot_id, "501");
    CHECK_STR (back.hubspot.firstname, "José");
    CHECK_STR (back.hubspot.lastname, "María Pérez");
    CHECK_STR (back.bird.display_name, "José María Pérez");
    CHECK_STR (back.bird.email, "jose.maria@example.com");
    CHECK (back.updated_ms == 1700000000123);
    contact_state_clear (&back);
    CHECK (contact_state_decode ("[]", 2, &back) == -1);
    CHECK (contact_state_decode ("not json", 8, &back) == -1);
    CHECK (contact_state_decode ("{}", 2, &back) == -1);
    free (text);
    contact_state_clear (&state);
}

//  HubSpot refused the write of the sample's values for good: the state
//  stops claiming either side holds them, so the same Bird record planned
//  again writes them all again (not "HubSpot already has these values").
static void
test_refused_write_is_withdrawn_from_the_state (void)
{
    contact_state_t state = {0};
    s_sync_bird_sample (&state);
    json_decref (state.fields);
    state.fields = json_pack ("{s:{s:s, s:s}}", "urbanhub_property_interest", "bird", "Torre 4B",
                              "hubspot", "Torre 4B");
    //  e-mail not in the refused write; the phone changed since (newer)
    s_set_phone (&state, "+3522222222");
    json_t *refused = s_json ("{\"firstname\":\"José\",\"lastname\":\"María Pérez\","
                              "\"phone\":\"+3511111111\",\"bird_contact_id\":\"" BIRD_ID "\","
                              "\"urbanhub_property_interest\":\"Torre 4B\"}");
    contact_sync_withdraw (&state, refused);
    CHECK (!state.hubspot.firstname && !state.hubspot.lastname && !state.bird.display_name);
    CHECK_STR (state.hubspot.phone, "+3522222222");
    CHECK_STR (state.hubspot.email, "jose.maria@example.com");
    CHECK_STR (state.bird.email, "jose.maria@example.com");
    CHECK (json_object_size (json_object_get (state.fields, "urbanhub_property_interest")) == 0);
    CHECK_STR (state.bird_id, BIRD_ID);
    CHECK_STR (state.hubspot_id, "501");

    //  the same Bird record again: the name is written again
    contact_event_t event = {.origin = CONTACT_FROM_BIRD,
                             .kind = zhub_strdup ("contact.updated"),
                             .bird_id = zhub_strdup (BIRD_ID),
                             .time_ms = 1700000000000};
    json_t *answer = s_json (S_BIRD_CONTACT);
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_fetched (&event, &state, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    const json_t *props = plan.hubspot_properties;
    CHECK_STR (json_string_value (json_object_get (props, "firstname")), "José");
    CHECK_STR (json_string_value (json_object_get (props, "lastname")), "María Pérez");
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    json_decref (answer);
    json_decref (refused);
    contact_state_clear (&state);
}

static void
test_conflict_names_the_existing_contact (void)
{
    char id[32];
    json_t *answer = s_json ("{\"status\":\"error\",\"message\":\"Contact already exists. "
                             "Existing ID: 601\",\"category\":\"CONFLICT\"}");
    CHECK (contact_sync_conflict_id (answer, id, sizeof id) == 0);
    CHECK_STR (id, "601");
    json_decref (answer);
    answer = s_json ("{\"message\":\"Property values were not valid\"}");
    CHECK (contact_sync_conflict_id (answer, id, sizeof id) == -1);
    CHECK_STR (id, "");
    json_decref (answer);
}

//  Every field a write changes is named, also when many mapped fields
//  change at once: four built in and every mapped one HubSpot is written.
static void
test_every_changed_field_is_named (void)
{
    contact_sync_config_t config = {0};
    contact_sync_config_defaults (&config);
    json_t *mapping =
        s_json ("{\"contact\":{\"fields\":[{\"bird\":\"attributes.a1\",\"hubspot\":\"a1\"},"
                "{\"bird\":\"attributes.a2\",\"hubspot\":\"a2\"},{\"bird\":\"attributes.a3\","
                "\"hubspot\":\"a3\"},{\"bird\":\"attributes.a4\",\"hubspot\":\"a4\"},"
                "{\"bird\":\"attributes.a5\",\"hubspot\":\"a5\"}]}}");
    char err[256];
    CHECK (contact_sync_config_apply (&config, mapping, err, sizeof err) == 0);
    json_t *data =
        s_json ("{\"event\":\"contact.updated\",\"payload\":{\"id\":\"c-9\","
                "\"computedDisplayName\":\"Ana López\",\"featuredIdentifiers\":["
                "{\"key\":\"phonenumber\",\"value\":\"+34612345678\"},{\"key\":\"emailaddress\","
                "\"value\":\"ana@example.com\"}],\"attributes\":{\"a1\":\"1\",\"a2\":\"2\","
                "\"a3\":\"3\",\"a4\":\"4\",\"a5\":\"5\",\"property_interest\":\"Torre 4B\"}}}");
    contact_event_t event;
    char reason[256];
    CHECK (s_parse ("webhook.bird.contact.updated", data, &event, reason, sizeof reason)
           == ZHUB_OK);
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, NULL, &config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    static const char *const names[] = {
        "firstname", "lastname", "phone", "email", "urbanhub_property_interest",
        "a1",        "a2",       "a3",    "a4",    "a5"};
    CHECK (s_changed_is (&plan, names, 10));
    //  and contact.synced names them all
    CHECK (json_object_size (plan.hubspot_properties) == 11); //  and bird_contact_id
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    json_decref (data);
    json_decref (mapping);
    contact_sync_config_clear (&config);
}

//  The table of contact_sync.h, row by row, and its catch-all.
static void
test_the_table_moves_a_plan_by_its_answer (void)
{
    contact_event_t event;
    s_bird_sample_event (&event);
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, NULL, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_FETCH);
    //  FETCH × CONFLICT: no row, the catch-all rejects
    contact_sync_plan_answer (&plan, CONTACT_ANSWER_CONFLICT, NULL, &event, NULL, &s_config);
    CHECK (plan.kind == CONTACT_PLAN_REJECT && plan.code == ZHUB_REASON_INTERNAL);
    CHECK (strstr (plan.reason, "no step") != NULL);
    //  FETCH × OK: the fetched record, planned
    contact_sync_plan_event (&event, NULL, &s_config, &plan);
    json_t *answer = s_json (S_BIRD_CONTACT);
    contact_sync_plan_answer (&plan, CONTACT_ANSWER_OK, answer, &event, NULL, &s_config);
    CHECK (plan.kind == CONTACT_PLAN_WRITE && plan.call.op == CONTACT_OP_HUBSPOT_UPSERT);
    //  WRITE upsert × QUEUED: the plan waits for the batch, whole
    contact_sync_plan_answer (&plan, CONTACT_ANSWER_QUEUED, NULL, &event, NULL, &s_config);
    CHECK (plan.kind == CONTACT_PLAN_QUEUED && plan.hubspot_properties && plan.changed_count == 4);
    //  WRITE upsert × CONFLICT: an update of the contact HubSpot names
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    json_t *conflict = s_json ("{\"status\":\"error\",\"category\":\"CONFLICT\","
                               "\"message\":\"Contact already exists. Existing ID: 777\"}");
    contact_sync_plan_answer (&plan, CONTACT_ANSWER_CONFLICT, conflict, &event, NULL, &s_config);
    CHECK (plan.kind == CONTACT_PLAN_WRITE && plan.call.op == CONTACT_OP_HUBSPOT_UPDATE);
    CHECK_STR (s_path (&plan), "/crm/v3/objects/contacts/777");
    //  WRITE × OK: the written record; a new HubSpot id goes onto Bird
    json_t *written = s_json ("{\"id\":\"777\",\"properties\":{}}");
    contact_sync_plan_answer (&plan, CONTACT_ANSWER_OK, written, &event, NULL, &s_config);
    CHECK (plan.kind == CONTACT_PLAN_WRITE && plan.call.op == CONTACT_OP_BIRD_LINK);
    //  WRITE Bird link × QUEUED: the tick writes it; the plan is done
    contact_sync_plan_answer (&plan, CONTACT_ANSWER_QUEUED, NULL, &event, NULL, &s_config);
    CHECK (plan.kind == CONTACT_PLAN_DONE);
    CHECK_STR (plan.next.hubspot_id, "777");
    //  a Bird write cannot wait: the catch-all
    contact_plan_clear (&plan);
    plan.kind = CONTACT_PLAN_WRITE;
    plan.call.op = CONTACT_OP_BIRD_WRITE;
    contact_sync_plan_answer (&plan, CONTACT_ANSWER_QUEUED, NULL, &event, NULL, &s_config);
    CHECK (plan.kind == CONTACT_PLAN_REJECT);
    json_decref (written);
    json_decref (conflict);
    json_decref (answer);
    contact_plan_clear (&plan);
    contact_event_clear (&event);
}

//  A queued write, resumed by the flush, is the WRITE the message planned:
//  the same call and body, the changes and decisions of every event merged
//  into it, and the same steps after.
static void
test_a_queued_write_resumes_as_the_write_it_was (void)
{
    contact_event_t event;
    s_bird_sample_event (&event);
    contact_plan_t planned, resumed;
    contact_plan_init (&planned);
    contact_plan_init (&resumed);
    json_t *answer = s_json (S_BIRD_CONTACT);
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &planned);
    CHECK (planned.kind == CONTACT_PLAN_WRITE);
    json_t *changed = json_pack ("[s, s, s, s]", "firstname", "lastname", "phone", "email");
    contact_sync_plan_queued (&planned.next, planned.hubspot_properties, changed, planned.audit,
                              &resumed);
    CHECK (resumed.kind == CONTACT_PLAN_WRITE && resumed.call.op == CONTACT_OP_HUBSPOT_UPSERT);
    CHECK (json_equal (resumed.call.body, planned.call.body));
    CHECK (json_equal (resumed.hubspot_properties, planned.hubspot_properties));
    CHECK (json_equal (resumed.audit, planned.audit));
    CHECK_STR (resumed.direction, "bird_to_hubspot");
    CHECK (s_changed_is (&resumed, planned.changed, planned.changed_count));
    CHECK_STR (resumed.next.bird_id, BIRD_ID);
    json_t *written =
        s_json ("{\"status\":\"COMPLETE\",\"results\":[{\"id\":\"501\",\"new\":true}]}");
    contact_sync_plan_answer (&resumed, CONTACT_ANSWER_OK, written, &event, NULL, &s_config);
    CHECK (resumed.kind == CONTACT_PLAN_WRITE && resumed.call.op == CONTACT_OP_BIRD_LINK);
    json_decref (written);
    json_decref (changed);
    json_decref (answer);
    contact_plan_clear (&planned);
    contact_plan_clear (&resumed);
    contact_event_clear (&event);
}

int
main (void)
{
    RUN (test_the_table_moves_a_plan_by_its_answer);
    RUN (test_a_queued_write_resumes_as_the_write_it_was);
    RUN (test_every_changed_field_is_named);
    RUN (test_bird_message_fetches_the_contact);
    RUN (test_bird_sample_maps_to_hubspot_upsert);
    RUN (test_synced_id_is_deterministic);
    RUN (test_echo_same_values_no_call);
    RUN (test_bird_change_writes_only_the_changed_field);
    RUN (test_bird_second_number_does_not_flip_hubspot);
    RUN (test_bird_name_to_one_word_clears_lastname);
    RUN (test_bird_invalid_records_are_rejected);
    RUN (test_state_round_trip);
    RUN (test_refused_write_is_withdrawn_from_the_state);
    RUN (test_conflict_names_the_existing_contact);
    TEST_EXIT ();
}
