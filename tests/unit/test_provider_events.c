//  CloudEvents provider (/v1/events): the bearer token found among a list
//  (rotation: several at once, and the _PREVIOUS twin), which token it
//  was, structured and binary content modes; the type used as the topic
//  as it is (catalogue events such as conversation.started); the sender's
//  id kept so its retries collapse; webhook.>, dlq.> and admin.> refused;
//  the audit record of an admin token's publish.
#include "events.h"
#include "test_provider_util.h"
#include "zhub_catalogue.h"
#include "zhub_json.h"

//  The token list of ZHUB_EVENTS_TOKEN=token and _PREVIOUS=previous.
static zhub_tokens_t s_tokens;

static zhub_rc_t
s_run (t_headers_t *headers, const char *body, const char *token, const char *previous,
       zhub_msg_list_t *list, char *why)
{
    char err[512];
    zhub_tokens_clear (&s_tokens);
    if (zhub_tokens_parse (&s_tokens, ZHUB_TOKEN_EVENTS, "ZHUB_EVENTS_TOKEN", token, false, err,
                           sizeof err)
        || zhub_tokens_parse (&s_tokens, ZHUB_TOKEN_EVENTS, "ZHUB_EVENTS_TOKEN", previous, true,
                              err, sizeof err))
        fprintf (stderr, "  %s\n", err);
    zhub_webhook_t hook = t_hook ("POST", "https://x/v1/events", headers, body,
                                  body ? strlen (body) : 0, 1700000000000LL);
    zhub_verify_opts_t opts = t_opts (&zhub_provider_events, NULL, NULL);
    opts.tokens = &s_tokens;
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
    headers.values[5] = "admin.audited"; //  a forged audit record
    CHECK (s_run (&headers, "{}", "tok", NULL, &list, why) == ZHUB_REJECT);
    CHECK (strstr (why, "admin.>") != NULL);
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

//  Which token a request carries, among events and admin ones; the
//  reasons of a refusal are those the metrics count.
static void
test_authenticate_names_the_token (void)
{
    zhub_tokens_t tokens = {0};
    char err[512], why[64];
    CHECK (zhub_tokens_parse (&tokens, ZHUB_TOKEN_EVENTS, "ZHUB_EVENTS_TOKEN",
                              "bird@tok-new,tok-old", false, err, sizeof err)
           == 0);
    CHECK (zhub_tokens_parse (&tokens, ZHUB_TOKEN_ADMIN, "ZHUB_ADMIN_TOKEN", "ops@tok-admin", false,
                              err, sizeof err)
           == 0);
    t_headers_t headers = {0};
    t_add (&headers, "Authorization", "Bearer tok-new");
    zhub_webhook_t hook = t_hook ("POST", "https://x/v1/events", &headers, "", 0, 0);
    const zhub_token_t *token = zhub_events_authenticate (&hook, &tokens, why, sizeof why);
    CHECK (token && !strcmp (token->name, "bird") && token->kind == ZHUB_TOKEN_EVENTS);
    headers.values[0] = "bearer tok-old"; //  the scheme is case-insensitive (RFC 7235)
    token = zhub_events_authenticate (&hook, &tokens, why, sizeof why);
    CHECK (token && !strcmp (token->name, "events-2"));
    headers.values[0] = "Bearer tok-admin";
    token = zhub_events_authenticate (&hook, &tokens, why, sizeof why);
    CHECK (token && !strcmp (token->name, "ops") && token->kind == ZHUB_TOKEN_ADMIN);
    static const struct {
        const char *auth, *why;
    } refused[] = {{"Bearer tok-ne", "signature_mismatch"},
                   {"Bearer tok-new,tok-old", "signature_mismatch"},
                   {"Bearer bird@tok-new", "signature_mismatch"},
                   {"Bearer ", "signature_mismatch"},
                   {"Basic dG9rLW5ldzo=", "not_bearer"},
                   {"tok-new", "not_bearer"}};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        headers.values[0] = refused[i].auth;
        CHECK (zhub_events_authenticate (&hook, &tokens, why, sizeof why) == NULL);
        CHECK_STR (why, refused[i].why);
    }
    headers.count = 0;
    CHECK (zhub_events_authenticate (&hook, &tokens, why, sizeof why) == NULL);
    CHECK_STR (why, "missing_signature");
    zhub_tokens_clear (&tokens);
    CHECK (zhub_events_authenticate (&hook, &tokens, why, sizeof why) == NULL);
    CHECK_STR (why, "secret_unset");
    CHECK (zhub_events_authenticate (&hook, NULL, why, sizeof why) == NULL);
    CHECK_STR (why, "secret_unset");
}

//  The record of an admin token's publish: who, when, what, from where,
//  as the catalogue's admin.audited says; none of the event's data.
static void
test_the_audit_record_names_who_what_when_and_where (void)
{
    zhub_tokens_t tokens = {0};
    char err[512], why[256];
    CHECK (zhub_tokens_parse (&tokens, ZHUB_TOKEN_ADMIN, "ZHUB_ADMIN_TOKEN",
                              "ops-ana@tok-a,ops-luis@tok-l", false, err, sizeof err)
           == 0);
    const zhub_token_t *ana = zhub_tokens_match (&tokens, "tok-a", 5);
    const zhub_token_t *luis = zhub_tokens_match (&tokens, "tok-l", 5);
    CHECK (ana && luis);
    if (!ana || !luis)
        return;
    zhub_msg_t *erase = zhub_msg_new ();
    zhub_msg_set (&erase->id, "erase:r-1");
    zhub_msg_set (&erase->source, "ops/runbook");
    zhub_msg_set (&erase->type, "contact.erase");
    zhub_msg_set (&erase->subject, "erase:r-1");
    zhub_msg_set (&erase->traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    json_t *data = json_pack ("{s:s,s:s,s:b}", "request", "r-1", "identifier", "+5215512345678",
                              "upstream", 1);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    zhub_json_pack (&pk, data);
    zhub_msg_set_data (erase, (const uint8_t *)sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    json_decref (data);

    int64_t now = 1893492000123LL; //  2030-01-01T10:00:00.123Z
    zhub_msg_t *audit =
        zhub_events_audit_new (ana, erase, "10.0.0.5:51514", "203.0.113.7", now, why, sizeof why);
    CHECK (audit != NULL);
    if (audit) {
        CHECK_STR (audit->type, "admin.audited");
        CHECK_STR (audit->source, "zhub/gateway");
        CHECK_STR (audit->subject, "admin:ops-ana");
        CHECK (!strncmp (audit->id, "audit:", 6) && strlen (audit->id) == 6 + 64);
        CHECK (audit->time_ms == now);
        CHECK_STR (audit->traceparent, erase->traceparent);
        CHECK (zhub_event_check_msg (audit, why, sizeof why) == ZHUB_OK);
        json_t *got = zhub_msg_data_json (audit);
        json_t *want = json_pack ("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "who", "ops-ana", "at",
                                  "2030-01-01T10:00:00.123Z", "type", "contact.erase", "id",
                                  "erase:r-1", "subject", "erase:r-1", "source", "ops/runbook",
                                  "peer", "10.0.0.5:51514", "forwarded_for", "203.0.113.7");
        CHECK (json_equal (got, want));
        char *dump = json_dumps (got, JSON_COMPACT);
        CHECK (dump && !strstr (dump, "5512345678")); //  the person's identifier stays out
        free (dump);
        json_decref (got);
        json_decref (want);
    }
    //  the same request again: the same id (the broker keeps one); another
    //  admin's: another record
    zhub_msg_t *again =
        zhub_events_audit_new (ana, erase, "10.0.0.6:4000", NULL, now + 5000, why, sizeof why);
    zhub_msg_t *other =
        zhub_events_audit_new (luis, erase, "10.0.0.5:51514", NULL, now, why, sizeof why);
    CHECK (audit && again && other);
    if (audit && again && other) {
        CHECK_STR (again->id, audit->id);
        CHECK (strcmp (other->id, audit->id));
        json_t *got = zhub_msg_data_json (again);
        CHECK (json_object_get (got, "forwarded_for") == NULL);
        json_decref (got);
    }
    //  a header of any bytes still gives a valid record
    zhub_msg_t *odd = zhub_events_audit_new (ana, erase, NULL,
                                             "a\xff\x01"
                                             "z",
                                             now, why, sizeof why);
    CHECK (odd != NULL);
    if (odd) {
        json_t *got = zhub_msg_data_json (odd);
        CHECK_STR (json_string_value (json_object_get (got, "forwarded_for")), "a??z");
        CHECK_STR (json_string_value (json_object_get (got, "peer")), "unknown");
        json_decref (got);
    }
    zhub_msg_destroy (&odd);
    zhub_msg_destroy (&again);
    zhub_msg_destroy (&other);
    zhub_msg_destroy (&audit);
    zhub_msg_destroy (&erase);
    zhub_tokens_clear (&tokens);
}

int
main (void)
{
    RUN (test_structured_mode);
    RUN (test_binary_mode);
    RUN (test_structured_events_that_cannot_be_published_are_refused);
    RUN (test_authenticate_names_the_token);
    RUN (test_the_audit_record_names_who_what_when_and_where);
    zhub_tokens_clear (&s_tokens);
    TEST_EXIT ();
}
