//  deal-sync's pure core: events in, decisions out. Each case is what a
//  user would check on the deal: the stage HubSpot receives (or not), the
//  properties, the audit entry.
#include "deal_sync.h"
#include "zhub_test.h"

#include <sodium.h>

//  The default pipeline as the stand-in (and HubSpot's docs) list it.
static json_t *
s_pipelines (void)
{
    static const char *ids[] = {"appointmentscheduled",
                                "qualifiedtobuy",
                                "presentationscheduled",
                                "decisionmakerboughtin",
                                "contractsent",
                                "closedwon",
                                "closedlost"};
    json_t *stages = json_array ();
    for (int i = 0; i < 7; i++)
        json_array_append_new (stages,
                               json_pack ("{s:s, s:i, s:{s:s}}", "id", ids[i], "displayOrder", i,
                                          "metadata", "isClosed", i >= 5 ? "true" : "false"));
    return json_pack ("{s:[{s:s, s:o}]}", "results", "id", "default", "stages", stages);
}

static void
s_config (deal_sync_config_t *config)
{
    deal_sync_config_default (config);
    json_t *pipelines = s_pipelines ();
    char err[256];
    CHECK (deal_sync_config_check (config, pipelines, err, sizeof err) == 0);
    json_decref (pipelines);
}

static void
test_default_map_and_config_file (void)
{
    deal_sync_config_t config;
    deal_sync_config_default (&config);
    CHECK_STR (config.pipeline, "default");
    CHECK_STR (config.stages[DEAL_AI_LEAD], "qualifiedtobuy");
    CHECK_STR (config.stages[DEAL_AI_QUALIFIED], "appointmentscheduled");
    CHECK_STR (config.stages[DEAL_AI_TOUR_SCHEDULED], "appointmentscheduled");
    CHECK_STR (config.stages[DEAL_AI_TOUR_COMPLETED], "decisionmakerboughtin");
    CHECK_STR (config.stages[DEAL_AI_APPLICATION], "contractsent");
    CHECK_STR (config.stages[DEAL_AI_LEASE_SIGNED], "closedwon");
    CHECK_STR (config.stages[DEAL_AI_UNQUALIFIED], "closedlost");
    char err[256] = "";
    json_t *file = json_loads (
        "{\"deal\": {\"pipeline\": \"rentals\", \"stages\": {\"lead\": \"new\"}}}", 0, NULL);
    CHECK (deal_sync_config_apply (&config, file, err, sizeof err) == 0);
    CHECK_STR (config.pipeline, "rentals");
    CHECK_STR (config.stages[DEAL_AI_LEAD], "new");
    CHECK_STR (config.stages[DEAL_AI_QUALIFIED], "appointmentscheduled");
    json_decref (file);
    file = json_loads ("{\"deal\": {\"stages\": {\"maybe\": \"x\"}}}", 0, NULL);
    CHECK (deal_sync_config_apply (&config, file, err, sizeof err) == -1);
    CHECK (strstr (err, "maybe") != NULL);
    json_decref (file);
    file = json_loads ("{\"deal\": {\"stages\": {\"lead\": 3}}}", 0, NULL);
    CHECK (deal_sync_config_apply (&config, file, err, sizeof err) == -1);
    json_decref (file);
    //  The pipelines API does not know pipeline "rentals".
    json_t *pipelines = s_pipelines ();
    CHECK (deal_sync_config_check (&config, pipelines, err, sizeof err) == -1);
    CHECK (strstr (err, "rentals") != NULL);
    deal_sync_config_clear (&config);
    json_decref (pipelines);
}

static void
test_unknown_stage_id_fails_the_check (void)
{
    deal_sync_config_t config;
    deal_sync_config_default (&config);
    free (config.stages[DEAL_AI_APPLICATION]);
    config.stages[DEAL_AI_APPLICATION] = zhub_strdup ("applicationsent");
    json_t *pipelines = s_pipelines ();
    char err[256];
    CHECK (deal_sync_config_check (&config, pipelines, err, sizeof err) == -1);
    CHECK (strstr (err, "applicationsent") != NULL);
    json_decref (pipelines);
    deal_sync_config_clear (&config);
}

static void
test_stages_move_forward_only_except_to_closed (void)
{
    deal_sync_config_t config;
    s_config (&config);
    //  lead -> qualified is forward although HubSpot lists
    //  appointmentscheduled before qualifiedtobuy.
    CHECK (deal_sync_stage_forward (&config, "qualifiedtobuy", "appointmentscheduled"));
    CHECK (!deal_sync_stage_forward (&config, "appointmentscheduled", "qualifiedtobuy"));
    CHECK (deal_sync_stage_forward (&config, "appointmentscheduled", "contractsent"));
    CHECK (!deal_sync_stage_forward (&config, "contractsent", "decisionmakerboughtin"));
    CHECK (!deal_sync_stage_forward (&config, "contractsent", "contractsent"));
    CHECK (deal_sync_stage_forward (&config, "contractsent", "closedlost"));
    CHECK (deal_sync_stage_forward (&config, "qualifiedtobuy", "closedwon"));
    CHECK (!deal_sync_stage_forward (&config, "closedwon", "contractsent"));
    CHECK (!deal_sync_stage_forward (&config, "closedlost", "qualifiedtobuy"));
    CHECK (deal_sync_stage_forward (&config, NULL, "qualifiedtobuy"));
    //  A stage the map does not name: the pipeline's order decides.
    CHECK (deal_sync_stage_forward (&config, "presentationscheduled", "contractsent"));
    CHECK (!deal_sync_stage_forward (&config, "presentationscheduled", "appointmentscheduled"));
    CHECK_STR (deal_sync_ai_stage_of (&config, "appointmentscheduled"), "qualified");
    CHECK (deal_sync_ai_stage_of (&config, "presentationscheduled") == NULL);
    deal_sync_config_clear (&config);
}

//  Reads an event of topic about subject, its data decoded once (as the
//  runtime hands it over).
static zhub_rc_t
s_parse_about (const char *topic, const char *subject, const char *json, deal_ai_event_t *event)
{
    json_t *data = json_loads (json, 0, NULL);
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->type, topic);
    zhub_msg_set (&msg->subject, subject);
    msg->time_ms = 1700000000000;
    char reason[256];
    zhub_rc_t rc = deal_sync_parse_ai (msg, data, event, reason, sizeof reason);
    zhub_msg_destroy (&msg);
    json_decref (data);
    return rc;
}

static zhub_rc_t
s_parse (const char *topic, const char *json, deal_ai_event_t *event)
{
    return s_parse_about (topic, "contact:b-9", json, event);
}

static void
test_parse_the_three_ai_events (void)
{
    deal_ai_event_t event;
    CHECK (s_parse ("conversation.stage_changed",
                    "{\"bird_contact_id\":\"b-1\",\"conversation_id\":\"c-1\",\"stage\":"
                    "\"tour_completed\",\"agent_type\":\"warmer\",\"qualification_score\":87,"
                    "\"property_interest\":\"Depto 4B\"}",
                    &event)
           == ZHUB_OK);
    CHECK_STR (event.bird_id, "b-1");
    CHECK (event.stage == DEAL_AI_TOUR_COMPLETED);
    CHECK (event.score == 87);
    CHECK_STR (event.agent_type, "warmer");
    CHECK_STR (event.property_interest, "Depto 4B");
    deal_ai_event_clear (&event);

    CHECK (s_parse ("qualification.completed",
                    "{\"conversation_id\":\"c-1\",\"score\":12,\"qualified\":false}", &event)
           == ZHUB_OK);
    CHECK_STR (event.bird_id, "b-9"); //  from the subject
    CHECK (event.stage == DEAL_AI_UNQUALIFIED);
    CHECK (event.score == 12);
    deal_ai_event_clear (&event);

    CHECK (s_parse ("tour.scheduled",
                    "{\"bird_contact_id\":\"b-2\",\"booking_id\":\"bk\",\"start\":"
                    "\"2026-03-01T17:00:00Z\",\"end\":\"2026-03-01T17:30:00Z\"}",
                    &event)
           == ZHUB_OK);
    CHECK (event.stage == DEAL_AI_TOUR_SCHEDULED);
    CHECK_STR (event.tour_date, "2026-03-01T17:00:00Z");
    CHECK_STR (event.agent_type, "scheduler");
    deal_ai_event_clear (&event);

    //  Bad input is rejected with a status, never trusted.
    CHECK (s_parse ("conversation.stage_changed", "{\"stage\":\"won\"}", &event) == ZHUB_REJECT);
    deal_ai_event_clear (&event);
    CHECK (s_parse ("qualification.completed", "{\"score\":300,\"qualified\":true}", &event)
           == ZHUB_REJECT);
    deal_ai_event_clear (&event);
    CHECK (s_parse ("tour.scheduled", "{\"start\":\"tomorrow\"}", &event) == ZHUB_REJECT);
    deal_ai_event_clear (&event);
    CHECK (s_parse ("conversation.stage_changed", "[1]", &event) == ZHUB_REJECT);
    deal_ai_event_clear (&event);
    CHECK (s_parse ("conversation.message", "{}", &event) == ZHUB_NOTFOUND);
    deal_ai_event_clear (&event);
    CHECK (s_parse_about ("conversation.stage_changed", "conversation:x", "{\"stage\":\"lead\"}",
                          &event)
           == ZHUB_REJECT);
    deal_ai_event_clear (&event);
    //  the event's time is the envelope's
    CHECK (s_parse ("qualification.completed", "{\"qualified\":true}", &event) == ZHUB_OK);
    CHECK (event.time_ms == 1700000000000);
    deal_ai_event_clear (&event);
}

static void
s_event (deal_ai_event_t *event, int stage, int64_t time_ms)
{
    memset (event, 0, sizeof *event);
    event->bird_id = zhub_strdup ("b-1");
    event->stage = stage;
    event->score = -1;
    event->agent_type = zhub_strdup ("qualifier");
    event->conversation_id = zhub_strdup ("c-1");
    event->time_ms = time_ms;
}

static json_t *
s_deal_answer (const char *stage, const char *history_json)
{
    json_t *answer = json_pack ("{s:s, s:{s:s, s:s}}", "id", "901", "properties", "dealstage",
                                stage, DEAL_KEY_PROPERTY, "b-1/default");
    if (history_json)
        json_object_set_new (answer, "propertiesWithHistory",
                             json_pack ("{s:o}", "dealstage", json_loads (history_json, 0, NULL)));
    return answer;
}

static void
test_new_deal_is_created_with_stage_and_properties (void)
{
    deal_sync_config_t config;
    s_config (&config);
    deal_ai_event_t event;
    s_event (&event, DEAL_AI_LEAD, 1700000000000);
    event.score = 40;
    deal_decision_t decision;
    deal_sync_decide (&config, &event, NULL, &decision);
    CHECK (decision.create && decision.stage_moves);
    const json_t *p = decision.properties;
    CHECK_STR (json_string_value (json_object_get (p, "dealstage")), "qualifiedtobuy");
    CHECK_STR (json_string_value (json_object_get (p, "pipeline")), "default");
    CHECK_STR (json_string_value (json_object_get (p, "dealname")), "WhatsApp lead b-1");
    CHECK_STR (json_string_value (json_object_get (p, "ai_agent_type")), "qualifier");
    CHECK_STR (json_string_value (json_object_get (p, "conversation_id")), "c-1");
    //  HubSpot property values are strings, numbers included.
    CHECK_STR (json_string_value (json_object_get (p, "qualification_score")), "40");
    CHECK_STR (json_string_value (json_object_get (p, "last_ai_interaction")),
               "2023-11-14T22:13:20.000Z");
    char *key = deal_sync_key ("b-1", "default");
    CHECK_STR (key, "b-1/default");
    char *bird = deal_sync_key_bird_id (key, "default");
    CHECK_STR (bird, "b-1");
    free (bird);
    CHECK (deal_sync_key_bird_id (key, "rentals") == NULL);
    CHECK (deal_sync_key_bird_id ("/default", "default") == NULL);
    free (key);
    deal_decision_clear (&decision);
    deal_ai_event_clear (&event);
    deal_sync_config_clear (&config);
}

static void
test_backward_stage_is_not_written_but_properties_are (void)
{
    deal_sync_config_t config;
    s_config (&config);
    json_t *answer = s_deal_answer ("contractsent", NULL);
    deal_current_t current;
    CHECK (deal_sync_read_deal (answer, &current) == 0);
    CHECK_STR (current.key, "b-1/default");
    CHECK (current.human_ms == 0);
    deal_ai_event_t event;
    s_event (&event, DEAL_AI_QUALIFIED, 1700000000000);
    deal_decision_t decision;
    deal_sync_decide (&config, &event, &current, &decision);
    CHECK (!decision.create && !decision.stage_moves);
    CHECK_STR (decision.skipped, "not_forward");
    CHECK (json_object_get (decision.properties, "dealstage") == NULL);
    CHECK (json_object_get (decision.properties, "last_ai_interaction") != NULL);
    CHECK (json_object_get (decision.properties, "dealname") == NULL);
    deal_decision_clear (&decision);
    //  ...and to closed lost from anywhere.
    deal_ai_event_clear (&event);
    s_event (&event, DEAL_AI_UNQUALIFIED, 1700000000000);
    deal_sync_decide (&config, &event, &current, &decision);
    CHECK (decision.stage_moves);
    CHECK_STR (json_string_value (json_object_get (decision.properties, "dealstage")),
               "closedlost");
    deal_decision_clear (&decision);
    deal_ai_event_clear (&event);
    deal_current_clear (&current);
    json_decref (answer);
    deal_sync_config_clear (&config);
}

static void
test_newer_human_stage_wins_and_is_audited (void)
{
    deal_sync_config_t config;
    s_config (&config);
    //  A person moved the deal back to qualifiedtobuy at :30; the AI's
    //  "application" event is from :20.
    json_t *answer =
        s_deal_answer ("qualifiedtobuy",
                       "[{\"value\":\"qualifiedtobuy\",\"timestamp\":\"2023-11-14T22:13:30.000Z\","
                       "\"sourceType\":\"CRM_UI\",\"sourceId\":\"userId:1\"},"
                       "{\"value\":\"contractsent\",\"timestamp\":\"2023-11-14T22:13:10.000Z\","
                       "\"sourceType\":\"INTEGRATION\",\"sourceId\":\"54321\"}]");
    deal_current_t current;
    CHECK (deal_sync_read_deal (answer, &current) == 0);
    CHECK (current.human_ms == 1700000010000);
    CHECK_STR (current.human_source, "CRM_UI");
    deal_ai_event_t event;
    s_event (&event, DEAL_AI_APPLICATION, 1700000000000);
    deal_decision_t decision;
    deal_sync_decide (&config, &event, &current, &decision);
    CHECK (!decision.stage_moves);
    CHECK_STR (decision.skipped, "human_newer");
    char *entry = deal_sync_audit_entry (&event, &current, &decision, "901", "ev-1", 1700000020000);
    json_t *audit = json_loads (entry, 0, NULL);
    CHECK_STR (json_string_value (json_object_get (audit, "winner")), "hubspot");
    CHECK_STR (json_string_value (json_object_get (audit, "decision")), "human_newer");
    CHECK_STR (json_string_value (json_object_get (audit, "old")), "qualifiedtobuy");
    CHECK_STR (json_string_value (json_object_get (audit, "new")), "contractsent");
    CHECK_STR (json_string_value (json_object_get (audit, "hubspot_time")),
               "2023-11-14T22:13:30.000Z");
    CHECK_STR (json_string_value (json_object_get (audit, "ai_time")), "2023-11-14T22:13:20.000Z");
    CHECK_STR (json_string_value (json_object_get (audit, "event_id")), "ev-1");
    json_decref (audit);
    free (entry);
    deal_decision_clear (&decision);
    //  An AI event newer than the person's change moves the deal.
    deal_ai_event_clear (&event);
    s_event (&event, DEAL_AI_APPLICATION, 1700000040000);
    deal_sync_decide (&config, &event, &current, &decision);
    CHECK (decision.stage_moves);
    deal_decision_clear (&decision);
    deal_ai_event_clear (&event);
    deal_current_clear (&current);
    json_decref (answer);
    deal_sync_config_clear (&config);
}

static void
test_crm_change_parse_and_echo_source (void)
{
    deal_crm_change_t change;
    char reason[128];
    json_t *data = json_loads ("{\"objectId\":901,\"propertyName\":\"dealstage\","
                               "\"propertyValue\":\"contractsent\",\"changeSource\":\"CRM_UI\","
                               "\"occurredAt\":1700000000000}",
                               0, NULL);
    CHECK (deal_sync_parse_crm ("webhook.hubspot.deal.propertyChange", data, &change, reason,
                                sizeof reason)
           == ZHUB_OK);
    CHECK_STR (change.deal_id, "901");
    CHECK_STR (change.stage, "contractsent");
    CHECK (change.time_ms == 1700000000000);
    CHECK (!deal_sync_change_is_integration (change.change_source));
    CHECK (deal_sync_change_is_integration ("INTEGRATION"));
    deal_crm_change_clear (&change);
    json_decref (data);
    data = json_loads ("{\"objectId\":901,\"propertyName\":\"amount\",\"propertyValue\":\"1\"}", 0,
                       NULL);
    CHECK (deal_sync_parse_crm ("webhook.hubspot.deal.propertyChange", data, &change, reason,
                                sizeof reason)
           == ZHUB_NOTFOUND);
    json_decref (data);
    data = json_loads ("{\"propertyName\":\"dealstage\"}", 0, NULL);
    CHECK (deal_sync_parse_crm ("webhook.hubspot.deal.propertyChange", data, &change, reason,
                                sizeof reason)
           == ZHUB_REJECT);
    json_decref (data);
}

static void
test_stage_message_is_deterministic (void)
{
    zhub_msg_t *input = zhub_msg_new ();
    zhub_msg_set (&input->id, "ev-1");
    zhub_msg_t *a = deal_sync_stage_msg (input, "901", "501", "b-1", "contractsent", "application",
                                         "ai", 1, NULL, 0);
    zhub_msg_t *b = deal_sync_stage_msg (input, "901", "501", "b-1", "contractsent", "application",
                                         "ai", 2, NULL, 0);
    CHECK_STR (a->id, b->id);
    CHECK (!strncmp (a->id, "ds-", 3));
    CHECK_STR (a->type, "deal.stage_changed");
    CHECK_STR (a->subject, "contact:b-1");
    json_t *data = zhub_msg_data_json (a);
    CHECK_STR (json_string_value (json_object_get (data, "by")), "ai");
    CHECK_STR (json_string_value (json_object_get (data, "hubspot_contact_id")), "501");
    CHECK_STR (json_string_value (json_object_get (data, "ai_stage")), "application");
    json_decref (data);
    zhub_msg_destroy (&a);
    zhub_msg_destroy (&b);
    zhub_msg_destroy (&input);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    RUN (test_default_map_and_config_file);
    RUN (test_unknown_stage_id_fails_the_check);
    RUN (test_stages_move_forward_only_except_to_closed);
    RUN (test_parse_the_three_ai_events);
    RUN (test_new_deal_is_created_with_stage_and_properties);
    RUN (test_backward_stage_is_not_written_but_properties_are);
    RUN (test_newer_human_stage_wins_and_is_audited);
    RUN (test_crm_change_parse_and_echo_source);
    RUN (test_stage_message_is_deterministic);
    TEST_EXIT ();
}
