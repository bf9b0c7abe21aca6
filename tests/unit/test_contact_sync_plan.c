//  contact-sync's pure core, as data: a message (the providers' samples
//  where they exist) and a state in, the call HubSpot or Bird would
//  receive and the state to commit out. No sockets, no store.
#include "contact_sync.h"
#include "zhub_retry.h"
#include "zhub_test.h"

#define BIRD_ID "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"

static const contact_sync_config_t s_config = {.default_calling_code = NULL};

static json_t *
s_sample (const char *name)
{
    char path[512];
    snprintf (path, sizeof path, "%s/samples/%s", zhub_test_peers_dir (), name);
    json_error_t error;
    json_t *json = json_load_file (path, 0, &error);
    if (!json)
        fprintf (stderr, "  cannot read %s: %s\n", path, error.text);
    return json;
}

static json_t *
s_json (const char *text)
{
    json_error_t error;
    json_t *json = json_loads (text, 0, &error);
    if (!json)
        fprintf (stderr, "  bad test JSON: %s\n", error.text);
    return json;
}

//  True when the plan's body equals the JSON text (key order ignored).
static bool
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

static bool
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
static void
s_link_step (contact_plan_t *plan)
{
    CHECK (plan->kind == CONTACT_PLAN_WRITE);
    CHECK (plan->call.op == CONTACT_OP_BIRD_LINK);
    CHECK_STR (plan->call.method, "PATCH");
    CHECK (plan->call.path && !strncmp (plan->call.path, "/contacts/", 10));
    const json_t *attributes = json_object_get (plan->call.body, "attributes");
    CHECK_STR (json_string_value (json_object_get (attributes, "hubspot_contact_id")),
               plan->next.hubspot_id);
    json_t *answer = json_pack ("{s:s}", "id", plan->next.bird_id);
    contact_sync_plan_written (plan, answer);
    json_decref (answer);
}

//  The Bird contact GET /workspaces/{ws}/contacts/{id} returns for the
//  sender of samples/bird-message-created.json, as the Bird peer renders it.
static const char *s_bird_contact =
    "{\"id\":\"" BIRD_ID "\",\"computedDisplayName\":\"José María Pérez\","
    "\"featuredIdentifiers\":[{\"key\":\"phonenumber\",\"value\":\"+3511111111\"},"
    "{\"key\":\"emailaddress\",\"value\":\"Jose.Maria@Example.com\"}],"
    "\"identifierCount\":2,\"attributes\":{\"phonenumber\":[\"+3511111111\"],"
    "\"emailaddress\":[\"Jose.Maria@Example.com\"],\"displayName\":\"José María Pérez\"}}";

//  Runs the Bird sample through parse, fetch and write; leaves the
//  committed state in *state.
static void
s_sync_bird_sample (contact_state_t *state)
{
    json_t *sample = s_sample ("bird-message-created.json");
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "bird-msg-404544c5");
    zhub_msg_set (&msg->type, "webhook.bird.whatsapp.inbound");
    CHECK (zhub_msg_set_data_json (msg, sample) == 0);
    contact_event_t event;
    char reason[256];
    CHECK (contact_sync_parse (msg, &event, reason, sizeof reason) == ZHUB_OK);
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, NULL, &s_config, &plan);
    json_t *answer = s_json (s_bird_contact);
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
    CHECK (contact_sync_parse (msg, &event, reason, sizeof reason) == ZHUB_OK);
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
    CHECK_STR (plan.call.path, "/contacts/" BIRD_ID);
    CHECK (plan.call.body == NULL);
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    zhub_msg_destroy (&msg);
    json_decref (sample);
}

static void
test_bird_sample_maps_to_hubspot_upsert (void)
{
    json_t *sample = s_sample ("bird-message-created.json");
    contact_event_t event;
    char reason[256];
    CHECK (contact_sync_parse_json ("webhook.bird.whatsapp.inbound", sample, &event, reason,
                                    sizeof reason)
           == ZHUB_OK);
    contact_plan_t plan;
    contact_plan_init (&plan);
    json_t *answer = s_json (s_bird_contact);
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (plan.call.api == CONTACT_API_HUBSPOT);
    CHECK (plan.call.op == CONTACT_OP_HUBSPOT_UPSERT);
    CHECK_STR (plan.call.method, "POST");
    CHECK_STR (plan.call.path, "/crm/v3/objects/contacts/batch/upsert");
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
    zhub_msg_t *synced = contact_sync_synced_msg (input, &plan, 1700000000000);
    char err[128];
    CHECK (zhub_msg_validate (synced, err, sizeof err) == 0);
    CHECK_STR (synced->type, "contact.synced");
    CHECK_STR (synced->source, "zhub/contact-sync");
    CHECK_STR (synced->subject, "contact:" BIRD_ID);
    CHECK_STR (synced->traceparent, input->traceparent);
    char id[64];
    contact_sync_synced_id ("bird-msg-404544c5", id, sizeof id);
    CHECK_STR (synced->id, id);
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
    json_decref (sample);
}

static void
test_synced_id_is_deterministic (void)
{
    char a[64], b[64], c[64];
    contact_sync_synced_id ("hubspot-62515-1-123", a, sizeof a);
    contact_sync_synced_id ("hubspot-62515-1-123", b, sizeof b);
    contact_sync_synced_id ("hubspot-62515-2-123", c, sizeof c);
    CHECK_STR (a, b);
    CHECK (strcmp (a, c) != 0);
    CHECK (strncmp (a, "cs-", 3) == 0 && strlen (a) == 35);
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
    CHECK (contact_sync_parse_json ("webhook.bird.whatsapp.inbound", sample, &event, reason,
                                    sizeof reason)
           == ZHUB_OK);
    contact_sync_plan_event (&event, &state, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    CHECK (plan.call.path == NULL);
    contact_event_clear (&event);

    //  2. The full Bird record, unchanged (e.g. a redelivery): no write.
    json_t *answer = s_json (s_bird_contact);
    CHECK (contact_sync_parse_json ("webhook.bird.whatsapp.inbound", sample, &event, reason,
                                    sizeof reason)
           == ZHUB_OK);
    contact_sync_plan_fetched (&event, &state, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    contact_event_clear (&event);

    //  3. Our own write coming back from HubSpot as propertyChange: no
    //     fetch, no write.
    json_t *change = s_json ("{\"subscriptionType\":\"contact.propertyChange\",\"objectId\":501,"
                             "\"propertyName\":\"phone\",\"propertyValue\":\"+3511111111\","
                             "\"changeSource\":\"INTEGRATION\"}");
    CHECK (contact_sync_parse_json ("webhook.hubspot.contact.propertyChange", change, &event,
                                    reason, sizeof reason)
           == ZHUB_OK);
    CHECK_STR (event.hubspot_id, "501");
    contact_sync_plan_event (&event, &state, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    contact_event_clear (&event);

    //  4. HubSpot's contact.creation for the record we created: it is
    //     read, and Bird already has every value -> no write to Bird.
    json_t *creation = s_json ("{\"subscriptionType\":\"contact.creation\",\"objectId\":501}");
    CHECK (contact_sync_parse_json ("webhook.hubspot.contact.creation", creation, &event, reason,
                                    sizeof reason)
           == ZHUB_OK);
    contact_sync_plan_event (&event, &state, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_FETCH);
    CHECK_STR (plan.call.path,
               "/crm/v3/objects/contacts/501?properties=email,phone,firstname,lastname,"
               "bird_contact_id");
    json_t *hubspot = s_json ("{\"id\":\"501\",\"properties\":{\"firstname\":\"José\","
                              "\"lastname\":\"María Pérez\",\"phone\":\"+3511111111\","
                              "\"email\":\"jose.maria@example.com\",\"bird_contact_id\":\"" BIRD_ID
                              "\",\"hs_object_id\":\"501\"}}");
    contact_sync_plan_fetched (&event, &state, hubspot, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    CHECK (plan.call.path == NULL);
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
    json_t *answer = s_json (s_bird_contact);
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
test_hubspot_change_plans_bird_upsert (void)
{
    json_t *batch = s_sample ("hubspot-contact-creation.json");
    CHECK (json_is_array (batch));
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "hubspot-62515-12345-1-123");
    zhub_msg_set (&msg->type, "webhook.hubspot.contact.creation");
    CHECK (zhub_msg_set_data_json (msg, json_array_get (batch, 0)) == 0);
    contact_event_t event;
    char reason[256];
    CHECK (contact_sync_parse (msg, &event, reason, sizeof reason) == ZHUB_OK);
    CHECK (event.origin == CONTACT_FROM_HUBSPOT);
    CHECK_STR (event.hubspot_id, "123");
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, NULL, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_FETCH);
    CHECK (plan.call.api == CONTACT_API_HUBSPOT);
    CHECK_STR (plan.call.method, "GET");
    CHECK_STR (plan.call.path, "/crm/v3/objects/contacts/123?properties=email,phone,firstname,"
                               "lastname,bird_contact_id");

    json_t *hubspot = s_json ("{\"id\":\"123\",\"properties\":{\"firstname\":\"Ana\","
                              "\"lastname\":\"López\",\"phone\":\"+52 1 55 1234 5678\","
                              "\"email\":\"Ana@Example.com\",\"bird_contact_id\":null}}");
    contact_sync_plan_fetched (&event, NULL, hubspot, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (plan.call.api == CONTACT_API_BIRD);
    CHECK_STR (plan.call.method, "PATCH");
    CHECK_STR (plan.call.path, "/contacts/identifiers/phonenumber/%2B525512345678");
    CHECK (s_body_is (&plan, "{\"displayName\":\"Ana López\","
                             "\"attributes\":{\"hubspot_contact_id\":\"123\"},"
                             "\"addIdentifiers\":[{\"key\":\"emailaddress\","
                             "\"value\":\"ana@example.com\"}]}"));
    const char *changed[] = {"displayName", "phonenumber", "emailaddress", "hubspot_contact_id"};
    CHECK (s_changed_is (&plan, changed, 4));
    CHECK_STR (plan.direction, "hubspot_to_bird");

    //  Bird answers with its contact; HubSpot then learns the Bird id.
    json_t *bird = s_json ("{\"id\":\"bird-9\",\"computedDisplayName\":\"Ana López\"}");
    contact_sync_plan_written (&plan, bird);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (plan.call.op == CONTACT_OP_HUBSPOT_LINK);
    CHECK_STR (plan.call.method, "PATCH");
    CHECK_STR (plan.call.path, "/crm/v3/objects/contacts/123");
    CHECK (s_body_is (&plan, "{\"properties\":{\"bird_contact_id\":\"bird-9\"}}"));
    json_t *linked = s_json ("{\"id\":\"123\",\"properties\":{\"bird_contact_id\":\"bird-9\"}}");
    contact_sync_plan_written (&plan, linked);
    CHECK (plan.kind == CONTACT_PLAN_DONE);
    CHECK_STR (plan.next.bird_id, "bird-9");
    CHECK_STR (plan.next.hubspot_id, "123");
    CHECK_STR (plan.next.bird.display_name, "Ana López");
    CHECK_STR (plan.next.bird.phone, "+525512345678");
    CHECK_STR (plan.next.bird.email, "ana@example.com");
    CHECK_STR (plan.next.hubspot.phone, "+525512345678");

    //  The link coming back as a propertyChange is not a synced property.
    contact_state_t state = {0};
    contact_state_copy (&state, &plan.next);
    contact_event_t echo;
    json_t *change = s_json ("{\"subscriptionType\":\"contact.propertyChange\",\"objectId\":123,"
                             "\"propertyName\":\"bird_contact_id\",\"propertyValue\":\"bird-9\"}");
    CHECK (contact_sync_parse_json ("webhook.hubspot.contact.propertyChange", change, &echo, reason,
                                    sizeof reason)
           == ZHUB_OK);
    contact_sync_plan_event (&echo, &state, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_IGNORE);
    contact_event_clear (&echo);

    //  A human edits the last name in HubSpot: only the name goes to Bird,
    //  by the Bird id now known.
    json_t *edited = s_json ("{\"id\":\"123\",\"properties\":{\"firstname\":\"Ana\","
                             "\"lastname\":\"López Ruiz\",\"phone\":\"+525512345678\","
                             "\"email\":\"ana@example.com\",\"bird_contact_id\":\"bird-9\"}}");
    contact_sync_plan_fetched (&event, &state, edited, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK_STR (plan.call.path, "/contacts/bird-9");
    CHECK (s_body_is (&plan, "{\"displayName\":\"Ana López Ruiz\"}"));
    const char *renamed[] = {"displayName"};
    CHECK (s_changed_is (&plan, renamed, 1));
    CHECK (!plan.link_hubspot);
    json_t *bird_again = s_json ("{\"id\":\"bird-9\"}");
    contact_sync_plan_written (&plan, bird_again);
    CHECK (plan.kind == CONTACT_PLAN_DONE);

    json_decref (bird_again);
    json_decref (edited);
    json_decref (change);
    contact_state_clear (&state);
    json_decref (linked);
    json_decref (bird);
    json_decref (hubspot);
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    zhub_msg_destroy (&msg);
    json_decref (batch);
}

static void
s_hubspot_plan (const char *contact_json, const contact_sync_config_t *config, contact_plan_t *plan)
{
    contact_event_t event;
    char reason[256];
    json_t *creation = s_json ("{\"subscriptionType\":\"contact.creation\",\"objectId\":77}");
    CHECK (contact_sync_parse_json ("webhook.hubspot.contact.creation", creation, &event, reason,
                                    sizeof reason)
           == ZHUB_OK);
    json_t *contact = s_json (contact_json);
    contact_sync_plan_fetched (&event, NULL, contact, config, plan);
    json_decref (contact);
    json_decref (creation);
    contact_event_clear (&event);
}

static void
test_hubspot_invalid_records_are_dead_lettered (void)
{
    contact_plan_t plan;
    contact_plan_init (&plan);
    s_hubspot_plan ("{\"id\":\"77\",\"properties\":{\"firstname\":\"Ana\",\"phone\":null,"
                    "\"email\":\"\"}}",
                    &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_REJECT);
    CHECK (plan.code == ZHUB_REASON_NO_IDENTIFIER);
    CHECK (strstr (plan.reason, "no phone and no email") != NULL);

    s_hubspot_plan ("{\"id\":\"77\",\"properties\":{\"phone\":\"call me maybe\","
                    "\"email\":\"ana@example.com\"}}",
                    &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_REJECT);
    CHECK (plan.code == ZHUB_REASON_INVALID_PHONE);
    CHECK (plan.call.path == NULL);

    s_hubspot_plan ("{\"id\":\"77\",\"properties\":{\"phone\":\"+525512345678\","
                    "\"email\":\"ana@@example.com\"}}",
                    &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_REJECT);
    CHECK (plan.code == ZHUB_REASON_INVALID_EMAIL);

    //  A national number: rejected unless a default calling code is set.
    s_hubspot_plan ("{\"id\":\"77\",\"properties\":{\"phone\":\"55 1234 5678\"}}", &s_config,
                    &plan);
    CHECK (plan.kind == CONTACT_PLAN_REJECT);
    contact_sync_config_t mexico = {.default_calling_code = "52"};
    s_hubspot_plan ("{\"id\":\"77\",\"properties\":{\"phone\":\"55 1234 5678\"}}", &mexico, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK_STR (plan.call.path, "/contacts/identifiers/phonenumber/%2B525512345678");
    CHECK (s_body_is (&plan, "{\"attributes\":{\"hubspot_contact_id\":\"77\"}}"));
    contact_plan_clear (&plan);
}

static void
test_hubspot_email_only_upserts_by_email (void)
{
    contact_plan_t plan;
    contact_plan_init (&plan);
    s_hubspot_plan ("{\"id\":\"77\",\"properties\":{\"firstname\":\"Zoë\",\"lastname\":null,"
                    "\"email\":\"Zoe+crm@Example.com\"}}",
                    &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK_STR (plan.call.path, "/contacts/identifiers/emailaddress/zoe%2Bcrm%40example.com");
    CHECK (s_body_is (&plan, "{\"displayName\":\"Zoë\","
                             "\"attributes\":{\"hubspot_contact_id\":\"77\"}}"));
    contact_plan_clear (&plan);
}

static void
test_hubspot_unsynced_property_is_ignored (void)
{
    json_t *change = s_sample ("hubspot-contact-propertyChange.json");
    contact_event_t event;
    char reason[256];
    CHECK (contact_sync_parse_json ("webhook.hubspot.contact.propertyChange",
                                    json_array_get (change, 0), &event, reason, sizeof reason)
           == ZHUB_OK);
    CHECK_STR (event.property_name, "passport_number");
    CHECK_STR (event.hubspot_id, "847297356");
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, NULL, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_IGNORE);
    contact_plan_clear (&plan);
    contact_event_clear (&event);
    json_decref (change);
}

static void
test_hubspot_conflict_updates_the_existing_contact (void)
{
    json_t *answer = s_json (s_bird_contact);
    contact_event_t event = {.origin = CONTACT_FROM_BIRD};
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    json_t *conflict = s_json ("{\"status\":\"error\",\"message\":\"Contact already exists. "
                               "Existing ID: 777\",\"category\":\"CONFLICT\"}");
    CHECK (contact_sync_plan_conflict (&plan, conflict) == ZHUB_OK);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (plan.call.op == CONTACT_OP_HUBSPOT_UPDATE);
    CHECK_STR (plan.call.method, "PATCH");
    CHECK_STR (plan.call.path, "/crm/v3/objects/contacts/777");
    CHECK (s_body_is (&plan, "{\"properties\":{\"firstname\":\"José\",\"lastname\":\"María Pérez\","
                             "\"phone\":\"+3511111111\",\"email\":\"jose.maria@example.com\","
                             "\"bird_contact_id\":\"" BIRD_ID "\"}}"));
    json_t *updated = s_json ("{\"id\":\"777\",\"properties\":{}}");
    contact_sync_plan_written (&plan, updated);
    s_link_step (&plan);
    CHECK (plan.kind == CONTACT_PLAN_DONE);
    CHECK_STR (plan.next.hubspot_id, "777");

    //  A 409 that names no record cannot be resolved.
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    json_t *vague = s_json ("{\"status\":\"error\",\"message\":\"Conflict\"}");
    CHECK (contact_sync_plan_conflict (&plan, vague) == ZHUB_REJECT);
    CHECK (plan.kind == CONTACT_PLAN_REJECT);
    CHECK (plan.code == 409);
    json_decref (vague);
    json_decref (updated);
    json_decref (conflict);
    json_decref (answer);
    contact_plan_clear (&plan);
}

static void
test_write_answer_without_id_is_rejected (void)
{
    json_t *answer = s_json (s_bird_contact);
    contact_event_t event = {.origin = CONTACT_FROM_BIRD};
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_fetched (&event, NULL, answer, &s_config, &plan);
    json_t *odd = s_json ("{\"status\":\"COMPLETE\",\"results\":[]}");
    contact_sync_plan_written (&plan, odd);
    CHECK (plan.kind == CONTACT_PLAN_REJECT);
    CHECK (plan.code == ZHUB_REASON_BAD_ANSWER);
    contact_sync_plan_written (&plan, NULL);
    CHECK (plan.kind == CONTACT_PLAN_REJECT);
    json_decref (odd);
    json_decref (answer);
    contact_plan_clear (&plan);
}

static void
test_other_contact_bearing_events (void)
{
    contact_event_t event;
    char reason[256];
    contact_plan_t plan;
    contact_plan_init (&plan);
    //  Bus conversation.started: the id only -> fetch; known -> skip.
    json_t *started = s_json ("{\"conversation_id\":\"c1\",\"bird_contact_id\":\"" BIRD_ID "\","
                              "\"channel\":\"whatsapp\",\"agent_type\":\"qualifier\"}");
    CHECK (contact_sync_parse_json ("conversation.started", started, &event, reason, sizeof reason)
           == ZHUB_OK);
    CHECK_STR (event.bird_id, BIRD_ID);
    contact_sync_plan_event (&event, NULL, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_FETCH);
    contact_state_t state = {0};
    s_sync_bird_sample (&state);
    contact_sync_plan_event (&event, &state, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_SKIP);
    contact_event_clear (&event);

    //  conversation.created: the first contact participant.
    json_t *created = s_json ("{\"service\":\"conversations\",\"event\":\"conversation.created\","
                              "\"payload\":{\"id\":\"conv-1\",\"featuredParticipants\":["
                              "{\"id\":\"flow-1\",\"type\":\"flow\"},"
                              "{\"id\":\"c-42\",\"type\":\"contact\",\"contact\":{"
                              "\"identifierKey\":\"phonenumber\","
                              "\"identifierValue\":\"+525512345678\"}}]}}");
    CHECK (contact_sync_parse_json ("webhook.bird.conversation.created", created, &event, reason,
                                    sizeof reason)
           == ZHUB_OK);
    CHECK_STR (event.kind, "conversation.created");
    CHECK_STR (event.bird_id, "c-42");
    CHECK (event.phone_count == 1);
    contact_event_clear (&event);

    //  A contact event carrying the whole record: no fetch needed.
    json_t *contact = s_json ("{\"service\":\"contacts\",\"event\":\"contact.updated\","
                              "\"payload\":{\"id\":\"c-43\",\"computedDisplayName\":\"Ana López\","
                              "\"featuredIdentifiers\":[{\"key\":\"emailaddress\","
                              "\"value\":\"ana@example.com\"}]}}");
    CHECK (contact_sync_parse_json ("webhook.bird.contact.updated", contact, &event, reason,
                                    sizeof reason)
           == ZHUB_OK);
    CHECK (event.complete);
    contact_sync_plan_event (&event, NULL, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (s_body_is (&plan, "{\"inputs\":[{\"id\":\"c-43\",\"idProperty\":\"bird_contact_id\","
                             "\"properties\":{\"firstname\":\"Ana\",\"lastname\":\"López\","
                             "\"email\":\"ana@example.com\",\"bird_contact_id\":\"c-43\"}}]}"));
    contact_event_clear (&event);

    json_decref (contact);
    json_decref (created);
    json_decref (started);
    contact_state_clear (&state);
    contact_plan_clear (&plan);
}

static void
test_messages_not_for_contact_sync (void)
{
    contact_event_t event;
    char reason[256];
    json_t *empty = s_json ("{\"service\":\"channels\",\"event\":\"whatsapp.status\","
                            "\"payload\":{\"id\":\"m1\",\"status\":\"read\"}}");
    CHECK (contact_sync_parse_json ("webhook.bird.whatsapp.status", empty, &event, reason,
                                    sizeof reason)
           == ZHUB_NOTFOUND);
    json_t *deletion = s_json ("{\"subscriptionType\":\"contact.deletion\",\"objectId\":5}");
    CHECK (contact_sync_parse_json ("webhook.hubspot.contact.deletion", deletion, &event, reason,
                                    sizeof reason)
           == ZHUB_NOTFOUND);
    json_t *no_id = s_json ("{\"subscriptionType\":\"contact.creation\"}");
    CHECK (contact_sync_parse_json ("webhook.hubspot.contact.creation", no_id, &event, reason,
                                    sizeof reason)
           == ZHUB_REJECT);
    CHECK (strstr (reason, "objectId") != NULL);
    json_t *odd_id = s_json ("{\"subscriptionType\":\"contact.creation\",\"objectId\":[1]}");
    CHECK (contact_sync_parse_json ("webhook.hubspot.contact.creation", odd_id, &event, reason,
                                    sizeof reason)
           == ZHUB_REJECT);
    json_t *started = s_json ("{\"conversation_id\":\"c1\"}");
    CHECK (contact_sync_parse_json ("conversation.started", started, &event, reason, sizeof reason)
           == ZHUB_REJECT);
    json_t *scalar = json_integer (3);
    CHECK (contact_sync_parse_json ("webhook.bird.x", scalar, &event, reason, sizeof reason)
           == ZHUB_REJECT);
    //  Wrong types where strings are expected: not a contact, no crash.
    json_t *weird = s_json ("{\"payload\":{\"sender\":{\"contact\":{\"id\":{},"
                            "\"identifierKey\":7}},\"featuredParticipants\":\"x\"}}");
    CHECK (contact_sync_parse_json ("webhook.bird.whatsapp.inbound", weird, &event, reason,
                                    sizeof reason)
           == ZHUB_NOTFOUND);
    json_decref (weird);
    json_decref (scalar);
    json_decref (started);
    json_decref (odd_id);
    json_decref (no_id);
    json_decref (deletion);
    json_decref (empty);
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

int
main (void)
{
    RUN (test_bird_message_fetches_the_contact);
    RUN (test_bird_sample_maps_to_hubspot_upsert);
    RUN (test_synced_id_is_deterministic);
    RUN (test_echo_same_values_no_call);
    RUN (test_bird_change_writes_only_the_changed_field);
    RUN (test_bird_second_number_does_not_flip_hubspot);
    RUN (test_bird_name_to_one_word_clears_lastname);
    RUN (test_bird_invalid_records_are_rejected);
    RUN (test_hubspot_change_plans_bird_upsert);
    RUN (test_hubspot_invalid_records_are_dead_lettered);
    RUN (test_hubspot_email_only_upserts_by_email);
    RUN (test_hubspot_unsynced_property_is_ignored);
    RUN (test_hubspot_conflict_updates_the_existing_contact);
    RUN (test_write_answer_without_id_is_rejected);
    RUN (test_other_contact_bearing_events);
    RUN (test_messages_not_for_contact_sync);
    RUN (test_state_round_trip);
    TEST_EXIT ();
}
