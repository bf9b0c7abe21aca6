//  contact-sync's pure core, as data (HubSpot to Bird; the other events): a message (the providers'
//  samples where they exist) and a state in, the call HubSpot or Bird would receive and the state
//  to commit out. No sockets, no store.
#include "zhub_retry.h"
#include "zhub_test_contact_plan.h"

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
    CHECK (s_parse_msg (msg, &event, reason, sizeof reason) == ZHUB_OK);
    CHECK (event.origin == CONTACT_FROM_HUBSPOT);
    CHECK_STR (event.hubspot_id, "123");
    contact_plan_t plan;
    contact_plan_init (&plan);
    contact_sync_plan_event (&event, NULL, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_FETCH);
    CHECK (plan.call.api == CONTACT_API_HUBSPOT);
    CHECK_STR (plan.call.method, "GET");
    CHECK_STR (s_path (&plan), "/crm/v3/objects/contacts/123?properties=email,phone,firstname,"
                               "lastname,bird_contact_id");

    json_t *hubspot = s_json ("{\"id\":\"123\",\"properties\":{\"firstname\":\"Ana\","
                              "\"lastname\":\"López\",\"phone\":\"+52 1 55 1234 5678\","
                              "\"email\":\"Ana@Example.com\",\"bird_contact_id\":null}}");
    contact_sync_plan_fetched (&event, NULL, hubspot, &s_config, &plan);
    CHECK (plan.kind == CONTACT_PLAN_WRITE);
    CHECK (plan.call.api == CONTACT_API_BIRD);
    CHECK_STR (plan.call.method, "PATCH");
    CHECK_STR (s_path (&plan), "/contacts/identifiers/phonenumber/%2B525512345678");
    //  The name goes as attributes: Bird's update bodies have no top-level
    //  displayName.
    CHECK (s_body_is (&plan, "{\"attributes\":{\"displayName\":\"Ana López\","
                             "\"firstName\":\"Ana\",\"lastName\":\"López\","
                             "\"hubspot_contact_id\":\"123\"},"
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
    CHECK_STR (s_path (&plan), "/crm/v3/objects/contacts/123");
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
    CHECK (s_parse ("webhook.hubspot.contact.propertyChange", change, &echo, reason, sizeof reason)
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
    CHECK_STR (s_path (&plan), "/contacts/bird-9");
    CHECK (s_body_is (&plan, "{\"attributes\":{\"displayName\":\"Ana López Ruiz\","
                             "\"firstName\":\"Ana\",\"lastName\":\"López Ruiz\"}}"));
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
    CHECK (s_parse ("webhook.hubspot.contact.creation", creation, &event, reason, sizeof reason)
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
    CHECK (plan.call.op == CONTACT_OP_NONE);

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
    CHECK_STR (s_path (&plan), "/contacts/identifiers/phonenumber/%2B525512345678");
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
    CHECK_STR (s_path (&plan), "/contacts/identifiers/emailaddress/zoe%2Bcrm%40example.com");
    //  No last name in HubSpot: null removes one Bird may still hold.
    CHECK (s_body_is (&plan, "{\"attributes\":{\"displayName\":\"Zoë\",\"firstName\":\"Zoë\","
                             "\"lastName\":null,\"hubspot_contact_id\":\"77\"}}"));
    contact_plan_clear (&plan);
}

static void
test_hubspot_unsynced_property_is_ignored (void)
{
    json_t *change = s_sample ("hubspot-contact-propertyChange.json");
    contact_event_t event;
    char reason[256];
    CHECK (s_parse ("webhook.hubspot.contact.propertyChange", json_array_get (change, 0), &event,
                    reason, sizeof reason)
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
    json_t *answer = s_json (S_BIRD_CONTACT);
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
    CHECK_STR (s_path (&plan), "/crm/v3/objects/contacts/777");
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
    json_t *answer = s_json (S_BIRD_CONTACT);
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
    CHECK (s_parse ("conversation.started", started, &event, reason, sizeof reason) == ZHUB_OK);
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
    CHECK (s_parse ("webhook.bird.conversation.created", created, &event, reason, sizeof reason)
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
    CHECK (s_parse ("webhook.bird.contact.updated", contact, &event, reason, sizeof reason)
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
    CHECK (s_parse ("webhook.bird.whatsapp.status", empty, &event, reason, sizeof reason)
           == ZHUB_NOTFOUND);
    json_t *deletion = s_json ("{\"subscriptionType\":\"contact.deletion\",\"objectId\":5}");
    CHECK (s_parse ("webhook.hubspot.contact.deletion", deletion, &event, reason, sizeof reason)
           == ZHUB_NOTFOUND);
    json_t *no_id = s_json ("{\"subscriptionType\":\"contact.creation\"}");
    CHECK (s_parse ("webhook.hubspot.contact.creation", no_id, &event, reason, sizeof reason)
           == ZHUB_REJECT);
    CHECK (strstr (reason, "objectId") != NULL);
    json_t *odd_id = s_json ("{\"subscriptionType\":\"contact.creation\",\"objectId\":[1]}");
    CHECK (s_parse ("webhook.hubspot.contact.creation", odd_id, &event, reason, sizeof reason)
           == ZHUB_REJECT);
    json_t *started = s_json ("{\"conversation_id\":\"c1\"}");
    CHECK (s_parse ("conversation.started", started, &event, reason, sizeof reason) == ZHUB_REJECT);
    json_t *scalar = json_integer (3);
    CHECK (s_parse ("webhook.bird.x", scalar, &event, reason, sizeof reason) == ZHUB_REJECT);
    //  Wrong types where strings are expected: not a contact, no crash.
    json_t *weird = s_json ("{\"payload\":{\"sender\":{\"contact\":{\"id\":{},"
                            "\"identifierKey\":7}},\"featuredParticipants\":\"x\"}}");
    CHECK (s_parse ("webhook.bird.whatsapp.inbound", weird, &event, reason, sizeof reason)
           == ZHUB_NOTFOUND);
    json_decref (weird);
    json_decref (scalar);
    json_decref (started);
    json_decref (odd_id);
    json_decref (no_id);
    json_decref (deletion);
    json_decref (empty);
}

//  Each topic has one route (main.c routes it to its own handler), and a
//  HubSpot contact webhook one kind, read once from its type.
static void
test_each_topic_has_one_route (void)
{
    CHECK (contact_sync_route ("webhook.bird.whatsapp.inbound") == CONTACT_ROUTE_BIRD);
    CHECK (contact_sync_route ("webhook.bird.contact.updated") == CONTACT_ROUTE_BIRD);
    CHECK (contact_sync_route ("webhook.hubspot.contact.creation") == CONTACT_ROUTE_HUBSPOT);
    CHECK (contact_sync_route ("conversation.started") == CONTACT_ROUTE_CONVERSATION);
    CHECK (contact_sync_route ("contact.reconcile") == CONTACT_ROUTE_RECONCILE);
    CHECK (contact_sync_route ("contact.erase") == CONTACT_ROUTE_ERASE);
    CHECK (contact_sync_route ("webhook.hubspot.deal.creation") == CONTACT_ROUTE_NONE);
    CHECK (contact_sync_route ("contact.synced") == CONTACT_ROUTE_NONE);
    CHECK (contact_sync_route ("conversation.started.x") == CONTACT_ROUTE_NONE);
    CHECK (contact_sync_route (NULL) == CONTACT_ROUTE_NONE);

    static const struct {
        const char *topic, *data;
        contact_hubspot_kind_t kind;
    } cases[] = {
        {"webhook.hubspot.contact.creation", "{\"subscriptionType\":\"contact.creation\"}",
         CONTACT_HUBSPOT_CONTACT},
        {"webhook.hubspot.contact.propertyChange", "{\"eventType\":\"contact.propertyChange\"}",
         CONTACT_HUBSPOT_CONTACT},
        {"webhook.hubspot.contact.merge", "[{\"subscriptionType\":\"contact.merge\"}]",
         CONTACT_HUBSPOT_LIFECYCLE},
        //  the type from the topic when the event has none
        {"webhook.hubspot.contact.deletion", "{\"objectId\":5}", CONTACT_HUBSPOT_LIFECYCLE},
        {"webhook.hubspot.contact.privacyDeletion", "{\"objectId\":5}", CONTACT_HUBSPOT_PRIVACY},
        //  the event's own type wins over the topic
        {"webhook.hubspot.contact.creation", "{\"subscriptionType\":\"contact.privacyDeletion\"}",
         CONTACT_HUBSPOT_PRIVACY},
        {"webhook.hubspot.contact.associationChange", "{}", CONTACT_HUBSPOT_CONTACT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *data = s_json (cases[i].data);
        CHECK (contact_sync_hubspot_kind (cases[i].topic, data) == cases[i].kind);
        json_decref (data);
    }
    //  data the runtime could not decode: the topic says
    CHECK (contact_sync_hubspot_kind ("webhook.hubspot.contact.merge", NULL)
           == CONTACT_HUBSPOT_LIFECYCLE);
}

int
main (void)
{
    RUN (test_each_topic_has_one_route);
    RUN (test_hubspot_change_plans_bird_upsert);
    RUN (test_hubspot_invalid_records_are_dead_lettered);
    RUN (test_hubspot_email_only_upserts_by_email);
    RUN (test_hubspot_unsynced_property_is_ignored);
    RUN (test_hubspot_conflict_updates_the_existing_contact);
    RUN (test_write_answer_without_id_is_rejected);
    RUN (test_other_contact_bearing_events);
    RUN (test_messages_not_for_contact_sync);
    TEST_EXIT ();
}
