//  The intent router's decisions: the events a verdict calls for (each
//  kept to the catalogue), the hold that wraps the workflow event, the
//  AI classifier's answers it accepts and refuses.
#include "intent.h"
#include "zhub_test.h"
#include "zhub_tz.h"

#include <stdlib.h>

//  A conversation.message as the bridge publishes it.
static zhub_msg_t *
s_message (const char *text)
{
    zhub_conversation_message_t m = {.conversation_id = "zc0123",
                                     .bird_contact_id = "b-ana",
                                     .direction = "in",
                                     .text = (char *)text,
                                     .message_id = "404544c5-9920-45f1-8990-0855634ab7ac",
                                     .sender = "contact",
                                     .channel = "whatsapp",
                                     .phone = "+5215512345678"};
    CHECK (zhub_time_parse ("2030-01-10T15:00:00Z", &m.sent_ms) == 0);
    char reason[200];
    zhub_msg_t *msg = zhub_conversation_message_msg (&m, "cvm-1", "zhub/conversation", NULL,
                                                     m.sent_ms, reason, sizeof reason);
    CHECK (msg != NULL);
    return msg;
}

static json_t *
s_data (const zhub_msg_t *msg)
{
    return zhub_msg_data_json (msg);
}

//  Decides text by the rules at now, with hold_ms.
static zhub_rc_t
s_decide (const char *text, int64_t hold_ms, intent_plan_t *plan, intent_config_t *config)
{
    intent_config_default (config);
    config->hold_ms = hold_ms;
    config->tour_duration_min = 45;
    zhub_msg_t *msg = s_message (text);
    zhub_conversation_message_t m;
    char reason[200];
    CHECK (zhub_conversation_message_parse (msg, &m, reason, sizeof reason) == ZHUB_OK);
    char *normalized = intent_normalize (m.text);
    intent_verdict_t verdict;
    intent_classify (&config->rules, normalized, &verdict);
    free (normalized);
    zhub_rc_t rc = intent_decide (config, msg, &m, &verdict, "rules", NULL, m.sent_ms + 500, plan);
    zhub_conversation_message_clear (&m);
    zhub_msg_destroy (&msg);
    return rc;
}

static void
test_a_tour_request_gives_intent_detected_and_tour_requested_at_the_time_asked (void)
{
    CHECK (zhub_tz_use ("America/Mexico_City") == 0);
    intent_config_t config;
    intent_plan_t plan;
    CHECK (s_decide ("Hola, quiero agendar una visita mañana a las 11", 0, &plan, &config)
           == ZHUB_OK);
    char reason[200];
    CHECK (zhub_event_check_msg (plan.detected, reason, sizeof reason) == ZHUB_OK);
    json_t *detected = s_data (plan.detected);
    CHECK_STR (json_string_value (json_object_get (detected, "intent")), "tour_request");
    CHECK_STR (json_string_value (json_object_get (detected, "decided_by")), "rules");
    CHECK_STR (json_string_value (json_object_get (detected, "language")), "es");
    CHECK_STR (json_string_value (json_object_get (detected, "message_id")),
               "404544c5-9920-45f1-8990-0855634ab7ac");
    CHECK_STR (plan.detected->subject, "contact:b-ana");
    CHECK_STR (plan.detected->source, "zhub/intent");
    CHECK (plan.workflow && !strcmp (plan.workflow->type, "tour.requested"));
    CHECK (plan.workflow->deliver_at_ms == 0);
    CHECK (zhub_event_check_msg (plan.workflow, reason, sizeof reason) == ZHUB_OK);
    json_t *tour = s_data (plan.workflow);
    const json_t *times = json_object_get (tour, "preferred_times");
    CHECK (json_array_size (times) == 1);
    CHECK_STR (json_string_value (json_array_get (times, 0)), "2030-01-11T17:00:00Z");
    CHECK (json_object_get (tour, "flexible") == NULL);
    CHECK (json_integer_value (json_object_get (tour, "duration_min")) == 45);
    CHECK_STR (json_string_value (json_object_get (tour, "phone")), "+5215512345678");
    CHECK_STR (json_string_value (json_object_get (tour, "conversation_id")), "zc0123");
    json_decref (detected);
    json_decref (tour);
    intent_plan_clear (&plan);
    intent_config_clear (&config);
}

static void
test_a_tour_request_without_a_time_is_flexible (void)
{
    CHECK (zhub_tz_use ("America/Mexico_City") == 0);
    intent_config_t config;
    intent_plan_t plan;
    CHECK (s_decide ("quiero ver el depa", 0, &plan, &config) == ZHUB_OK);
    json_t *tour = s_data (plan.workflow);
    CHECK (json_is_true (json_object_get (tour, "flexible")));
    CHECK_STR (json_string_value (json_array_get (json_object_get (tour, "preferred_times"), 0)),
               "2030-01-10T15:00:00Z"); //  when they asked
    json_decref (tour);
    intent_plan_clear (&plan);
    intent_config_clear (&config);
}

static void
test_a_request_for_a_person_escalates_with_high_priority (void)
{
    intent_config_t config;
    intent_plan_t plan;
    CHECK (s_decide ("quiero hablar con una persona", 0, &plan, &config) == ZHUB_OK);
    CHECK_STR (plan.workflow->type, "escalation.triggered");
    json_t *data = s_data (plan.workflow);
    CHECK_STR (json_string_value (json_object_get (data, "priority")), "high");
    CHECK (json_string_value (json_object_get (data, "reason")) != NULL);
    json_decref (data);
    intent_plan_clear (&plan);
    intent_config_clear (&config);
}

static void
test_baja_opts_out_on_its_channel (void)
{
    intent_config_t config;
    intent_plan_t plan;
    CHECK (s_decide ("baja", 0, &plan, &config) == ZHUB_OK);
    CHECK_STR (plan.workflow->type, "contact.opted_out");
    json_t *data = s_data (plan.workflow);
    CHECK_STR (json_string_value (json_object_get (data, "channel")), "whatsapp");
    json_decref (data);
    intent_plan_clear (&plan);
    intent_config_clear (&config);
}

static void
test_pricing_and_other_publish_only_intent_detected (void)
{
    intent_config_t config;
    intent_plan_t plan;
    CHECK (s_decide ("¿cuánto cuesta la renta?", 0, &plan, &config) == ZHUB_OK);
    CHECK (plan.detected && !plan.workflow);
    intent_plan_clear (&plan);
    intent_config_clear (&config);
    CHECK (s_decide ("hola", 0, &plan, &config) == ZHUB_OK);
    CHECK (plan.detected && !plan.workflow);
    intent_plan_clear (&plan);
    intent_config_clear (&config);
}

static void
test_a_hold_wraps_the_workflow_event_until_its_time (void)
{
    intent_config_t config;
    intent_plan_t plan;
    CHECK (s_decide ("quiero hablar con una persona", 10000, &plan, &config) == ZHUB_OK);
    CHECK_STR (plan.workflow->type, "intent.workflow.due");
    char reason[200];
    CHECK (zhub_event_check_msg (plan.workflow, reason, sizeof reason) == ZHUB_OK);
    int64_t sent;
    zhub_time_parse ("2030-01-10T15:00:00Z", &sent);
    CHECK (plan.workflow->deliver_at_ms == sent + 500 + 10000);
    char *workflow, *contact;
    int64_t since;
    CHECK (intent_due_parse (plan.workflow, &workflow, &contact, &since, reason, sizeof reason)
           == ZHUB_OK);
    CHECK_STR (workflow, "escalation.triggered");
    CHECK_STR (contact, "b-ana");
    CHECK (since == sent);
    zhub_msg_t *released = intent_due_release (plan.workflow, sent + 20000, reason, sizeof reason);
    CHECK (released && !strcmp (released->type, "escalation.triggered"));
    CHECK (zhub_event_check_msg (released, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (released->subject, "contact:b-ana");
    //  the same due released again gives the same id (dedup keeps one)
    zhub_msg_t *again = intent_due_release (plan.workflow, sent + 30000, reason, sizeof reason);
    CHECK_STR (again->id, released->id);
    zhub_msg_destroy (&released);
    zhub_msg_destroy (&again);
    free (workflow);
    free (contact);
    intent_plan_clear (&plan);
    intent_config_clear (&config);
}

static void
test_the_ai_answer_is_read_or_refused (void)
{
    intent_verdict_t v = {.intent = INTENT_OTHER, .language = "es"};
    char reason[200];
    CHECK (intent_ai_verdict ("{\"intent\":\"pricing\",\"confidence\":0.83,\"language\":\"en\"}",
                              &v, reason, sizeof reason)
           == 0);
    CHECK (v.intent == INTENT_PRICING && v.confidence > 0.82 && v.confidence < 0.84);
    CHECK_STR (v.language, "en");
    //  a code fence around it is tolerated; no language keeps the rules'
    intent_verdict_t w = {.intent = INTENT_OTHER, .language = "es"};
    CHECK (intent_ai_verdict ("```json\n{\"intent\":\"human\",\"confidence\":1}\n```", &w, reason,
                              sizeof reason)
           == 0);
    CHECK (w.intent == INTENT_HUMAN);
    CHECK_STR (w.language, "es");
    const char *bad[] = {"I think it is a tour request",
                         "{\"intent\":\"buy\",\"confidence\":1}",
                         "{\"intent\":\"pricing\"}",
                         "{\"intent\":\"pricing\",\"confidence\":7}",
                         "{\"intent\":\"pricing\",\"confidence\":\"high\"}",
                         "{",
                         NULL};
    for (size_t i = 0; bad[i]; i++) {
        intent_verdict_t x = {.intent = INTENT_OTHER};
        reason[0] = 0;
        CHECK (intent_ai_verdict (bad[i], &x, reason, sizeof reason) == -1);
        CHECK (reason[0] != 0);
        CHECK (x.intent == INTENT_OTHER);
    }
}

static void
test_the_ai_decision_and_its_failure_are_recorded (void)
{
    intent_config_t config;
    intent_config_default (&config);
    config.hold_ms = 0;
    zhub_msg_t *msg = s_message ("hola");
    zhub_conversation_message_t m;
    char reason[200];
    CHECK (zhub_conversation_message_parse (msg, &m, reason, sizeof reason) == ZHUB_OK);
    intent_verdict_t v = {.intent = INTENT_PRICING, .confidence = 0.7, .language = "es"};
    intent_plan_t plan;
    CHECK (intent_decide (&config, msg, &m, &v, "ai", NULL, m.sent_ms, &plan) == ZHUB_OK);
    json_t *data = s_data (plan.detected);
    CHECK_STR (json_string_value (json_object_get (data, "decided_by")), "ai");
    CHECK (json_object_get (data, "ai_error") == NULL);
    json_decref (data);
    intent_plan_clear (&plan);
    CHECK (intent_decide (&config, msg, &m, &v, "rules", "timeout", m.sent_ms, &plan) == ZHUB_OK);
    data = s_data (plan.detected);
    CHECK_STR (json_string_value (json_object_get (data, "decided_by")), "rules");
    CHECK_STR (json_string_value (json_object_get (data, "ai_error")), "timeout");
    json_decref (data);
    intent_plan_clear (&plan);
    zhub_conversation_message_clear (&m);
    zhub_msg_destroy (&msg);
    intent_config_clear (&config);
}

static void
test_the_mapping_section_sets_zone_holidays_and_duration (void)
{
    intent_config_t config;
    intent_config_default (&config);
    json_error_t error;
    json_t *section = json_loads ("{\"time_zone\":\"America/Bogota\",\"holidays\":"
                                  "[\"2030-12-12\"],\"mexican_holidays\":false,"
                                  "\"tour_duration_min\":30}",
                                  0, &error);
    char err[200] = "";
    CHECK (intent_config_apply (&config, section, err, sizeof err) == 0);
    CHECK_STR (config.time_zone, "America/Bogota");
    CHECK (!config.holidays.mexican && config.holidays.extra_count == 1);
    CHECK (intent_is_holiday (&config.holidays, 2030, 12, 12));
    CHECK (config.tour_duration_min == 30);
    json_decref (section);
    const char *bad[] = {"{\"time_zone\":\"Mars/Olympus\"}", "{\"holidays\":[\"12/12/2030\"]}",
                         "{\"tour_duration_min\":2}", "{\"mexican_holidays\":\"yes\"}", NULL};
    for (size_t i = 0; bad[i]; i++) {
        json_t *s = json_loads (bad[i], 0, &error);
        CHECK (intent_config_apply (&config, s, err, sizeof err) == -1);
        json_decref (s);
    }
    intent_config_clear (&config);
}

int
main (void)
{
    RUN (test_a_tour_request_gives_intent_detected_and_tour_requested_at_the_time_asked);
    RUN (test_a_tour_request_without_a_time_is_flexible);
    RUN (test_a_request_for_a_person_escalates_with_high_priority);
    RUN (test_baja_opts_out_on_its_channel);
    RUN (test_pricing_and_other_publish_only_intent_detected);
    RUN (test_a_hold_wraps_the_workflow_event_until_its_time);
    RUN (test_the_ai_answer_is_read_or_refused);
    RUN (test_the_ai_decision_and_its_failure_are_recorded);
    RUN (test_the_mapping_section_sets_zone_holidays_and_duration);
    TEST_EXIT ();
}
