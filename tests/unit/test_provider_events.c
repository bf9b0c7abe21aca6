//  CloudEvents provider (/v1/events): bearer token in constant time with
//  rotation; structured and binary content modes; the type used as the
//  topic as it is (catalogue events such as conversation.started); the
//  sender's id kept so its retries collapse; webhook.> and dlq.> refused.
#include "events.h"
#include "test_provider_util.h"

static zhub_rc_t
s_run (t_headers_t *headers, const char *body, const char *token, const char *previous,
       zhub_msg_list_t *list, char *why)
{
    zhub_webhook_t hook = t_hook ("POST", "https://x/v1/events", headers, body,
                                  body ? strlen (body) : 0, 1700000000000LL);
    zhub_verify_opts_t opts = t_opts (&zhub_provider_events, token, previous);
    return t_run (&zhub_provider_events, &hook, &opts, list, why, 256);
}

static const char *s_structured =
    "{\"specversion\":\"1.0\",\"id\":\"evt-1\",\"source\":\"bird/flows\","
    "\"type\":\"conversation.started\",\"subject\":\"contact:c-1\","
    "\"time\":\"2026-01-02T03:04:05Z\",\"datacontenttype\":\"application/json\","
    "\"data\":{\"conversation_id\":\"conv-1\",\"bird_contact_id\":\"c-1\",\"channel\":\"whatsapp\"}"
    "}";

static void
test_structured_mode (void)
{
    t_headers_t headers = {0};
    t_add (&headers, "Content-Type", "application/cloudevents+json; charset=utf-8");
    t_add (&headers, "Authorization", "Bearer tok");
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (s_run (&headers, s_structured, "tok", NULL, &list, why) == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1) {
        zhub_msg_t *msg = list.items[0];
        CHECK_STR (msg->id, "evt-1");
        CHECK_STR (msg->type, "conversation.started");
        CHECK_STR (msg->source, "bird/flows");
        CHECK_STR (msg->subject, "contact:c-1");
        int64_t t;
        zhub_time_parse ("2026-01-02T03:04:05Z", &t);
        CHECK (msg->time_ms == t);
        json_t *data = t_data (msg);
        CHECK_STR (json_string_value (json_object_get (data, "conversation_id")), "conv-1");
        json_decref (data);
    }
    zhub_msg_list_clear (&list);
    CHECK (s_run (&headers, s_structured, "new", "tok", &list, why) == ZHUB_OK);
    zhub_msg_list_clear (&list);
    CHECK (s_run (&headers, s_structured, "other", NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "signature_mismatch");
    CHECK (s_run (&headers, s_structured, NULL, NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "secret_unset");
    headers.values[1] = "Basic dG9rOg==";
    CHECK (s_run (&headers, s_structured, "tok", NULL, &list, why) == ZHUB_REJECT);
    headers.count = 1;
    CHECK (s_run (&headers, s_structured, "tok", NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "missing_signature");
    CHECK (list.count == 0);
}

static void
test_binary_mode (void)
{
    t_headers_t headers = {0};
    t_add (&headers, "Content-Type", "application/json");
    t_add (&headers, "Authorization", "Bearer tok");
    t_add (&headers, "ce-specversion", "1.0");
    t_add (&headers, "ce-id", "evt-2");
    t_add (&headers, "ce-source", "svc");
    t_add (&headers, "ce-type", "tour.requested");
    t_add (&headers, "ce-subject", "contact:c-9");
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (s_run (&headers, "{\"duration_min\":30}", "tok", NULL, &list, why) == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1) {
        CHECK_STR (list.items[0]->type, "tour.requested");
        CHECK_STR (list.items[0]->id, "evt-2");
        CHECK (list.items[0]->time_ms == 1700000000000LL);
    }
    zhub_msg_list_clear (&list);
    CHECK (s_run (&headers, NULL, "tok", NULL, &list, why) == ZHUB_OK); //  no data: {}
    zhub_msg_list_clear (&list);
    CHECK (s_run (&headers, "[1]", "tok", NULL, &list, why) == ZHUB_REJECT);
    headers.values[5] = "webhook.hubspot.contact.creation"; //  a forged provider event
    CHECK (s_run (&headers, "{}", "tok", NULL, &list, why) == ZHUB_REJECT);
    headers.values[5] = "dlq.contact-sync";
    CHECK (s_run (&headers, "{}", "tok", NULL, &list, why) == ZHUB_REJECT);
    headers.values[5] = "not a topic";
    CHECK (s_run (&headers, "{}", "tok", NULL, &list, why) == ZHUB_REJECT);
    headers.values[5] = "tour.requested";
    headers.values[2] = "0.3";
    CHECK (s_run (&headers, "{}", "tok", NULL, &list, why) == ZHUB_REJECT);
    CHECK (list.count == 0);
    CHECK (zhub_provider_events.content_type_ok ("application/cloudevents+json"));
    CHECK (zhub_provider_events.content_type_ok ("application/json; charset=utf-8"));
    CHECK (!zhub_provider_events.content_type_ok ("application/cloudevents-batch+json"));
    CHECK (!zhub_provider_events.content_type_ok ("text/plain"));
    const char *route = "x";
    CHECK (zhub_provider_route ("/v1/events", &route) == &zhub_provider_events && !route);
}

static void
test_structured_events_that_cannot_be_published_are_refused (void)
{
    t_headers_t headers = {0};
    t_add (&headers, "Content-Type", "application/cloudevents+json");
    t_add (&headers, "Authorization", "Bearer tok");
    static const char *bad[] = {
        "{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"s\"}",
        "{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"s\",\"type\":\"t\",\"data\":\"x\"}",
        "{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"s\",\"type\":\"t\",\"data_base64\":"
        "\"eA==\"}",
        "{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"s\",\"type\":\"t\",\"time\":"
        "\"yesterday\"}",
        "{\"id\":\"a\",\"source\":\"s\",\"type\":\"t\"}",
        "[]",
    };
    char why[256];
    zhub_msg_list_t list = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK (s_run (&headers, bad[i], "tok", NULL, &list, why) == ZHUB_REJECT);
        CHECK (list.count == 0);
    }
}

int
main (void)
{
    RUN (test_structured_mode);
    RUN (test_binary_mode);
    RUN (test_structured_events_that_cannot_be_published_are_refused);
    TEST_EXIT ();
}
