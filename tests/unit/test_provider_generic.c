//  Standard Webhooks provider: the official vector (python, js and go
//  libraries' test), the invalid signatures those tests use, the secret
//  padding cases, several signatures in one header, unknown versions
//  skipped, the 5-minute tolerance both ways, missing headers, rotation;
//  and the message: id from webhook-id, topic from the body's type.
#include "generic.h"
#include "test_provider_util.h"

static json_t *s_vectors;

static const char *
s_sign (const char *key)
{
    return json_string_value (json_object_get (json_object_get (s_vectors, "sign"), key));
}

static zhub_rc_t
s_check (const char *id, const char *stamp, const char *signature, const char *body, int64_t now_ms,
         const char *secret, const char *previous, zhub_msg_list_t *list, char *why)
{
    t_headers_t headers = {0};
    if (id)
        t_add (&headers, "webhook-id", id);
    if (stamp)
        t_add (&headers, "webhook-timestamp", stamp);
    if (signature)
        t_add (&headers, "webhook-signature", signature);
    zhub_webhook_t hook =
        t_hook ("POST", "https://x/v1/webhooks/generic/crm", &headers, body, strlen (body), now_ms);
    hook.route_name = "crm";
    zhub_verify_opts_t opts = t_opts (&zhub_provider_generic, secret, previous);
    return t_run (&zhub_provider_generic, &hook, &opts, list, why, 256);
}

static void
test_official_vector_verifies (void)
{
    const char *secret = s_sign ("secret"), *id = s_sign ("msg_id");
    const char *body = s_sign ("payload"), *expected = s_sign ("expected_webhook_signature");
    char stamp[24], computed[64], why[256];
    snprintf (stamp, sizeof stamp, "%lld",
              (long long)json_integer_value (
                  json_object_get (json_object_get (s_vectors, "sign"), "timestamp")));
    CHECK (
        zhub_generic_signature (secret, id, stamp, body, strlen (body), computed, sizeof computed)
        == 0);
    CHECK_STR (computed, expected);
    int64_t now = 1614265330LL * 1000;
    zhub_msg_list_t list = {0};
    CHECK (s_check (id, stamp, expected, body, now, secret, NULL, &list, why) == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1) {
        CHECK_STR (list.items[0]->id, "generic:crm:msg_p5jXN8AQM9LWM0D4loKWxJek");
        CHECK_STR (list.items[0]->type, "webhook.crm");
        CHECK_STR (list.items[0]->source, "generic/crm");
        CHECK (list.items[0]->time_ms == now);
        json_t *data = t_data (list.items[0]);
        CHECK (json_integer_value (json_object_get (data, "test")) == 2432232314LL);
        json_decref (data);
    }
    zhub_msg_list_clear (&list);
    //  several signatures, unknown versions skipped, the right one anywhere
    char many[256];
    snprintf (many, sizeof many, "v1a,abcd v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= %s",
              expected);
    CHECK (s_check (id, stamp, many, body, now, secret, NULL, &list, why) == ZHUB_OK);
    zhub_msg_list_clear (&list);
    //  rotation
    CHECK (s_check (id, stamp, expected, body, now,
                    "whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0LTEyMzQ=", secret, &list, why)
           == ZHUB_OK);
    zhub_msg_list_clear (&list);
    //  the padding cases all decode
    json_t *pads = json_object_get (s_vectors, "secret_padding_cases");
    unsigned char key[128];
    CHECK (zhub_generic_secret_key (json_string_value (json_object_get (pads, "no_padding_needed")),
                                    key, sizeof key)
           == 24);
    CHECK (zhub_generic_secret_key (json_string_value (json_object_get (pads, "needs_one_pad")),
                                    key, sizeof key)
           > 0);
    CHECK (zhub_generic_secret_key (json_string_value (json_object_get (pads, "needs_two_pads")),
                                    key, sizeof key)
           > 0);
    CHECK (zhub_generic_secret_key ("whsec_not base64!", key, sizeof key) < 0);
}

static void
test_invalid_signatures_and_headers_are_refused (void)
{
    const char *secret = s_sign ("secret"), *id = s_sign ("msg_id");
    const char *body = s_sign ("payload"), *expected = s_sign ("expected_webhook_signature");
    int64_t now = 1614265330LL * 1000;
    char why[256];
    zhub_msg_list_t list = {0};
    json_t *invalid = json_object_get (s_vectors, "known_invalid_signatures_used_in_tests");
    size_t i;
    json_t *sig;
    json_array_foreach (invalid, i, sig)
    {
        CHECK (
            s_check (id, "1614265330", json_string_value (sig), body, now, secret, NULL, &list, why)
            == ZHUB_REJECT);
        CHECK_STR (why, "signature_mismatch");
    }
    //  tampered body, wrong secret, another id
    CHECK (s_check (id, "1614265330", expected, "{\"test\": 2432232315}", now, secret, NULL, &list,
                    why)
           == ZHUB_REJECT);
    CHECK (s_check (id, "1614265330", expected, body, now, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx",
                    NULL, &list, why)
           == ZHUB_REJECT);
    CHECK (s_check ("msg_other", "1614265330", expected, body, now, secret, NULL, &list, why)
           == ZHUB_REJECT);
    //  the tolerance is 5 minutes both ways (a replay later is refused)
    CHECK (s_check (id, "1614265330", expected, body, now + 300000, secret, NULL, &list, why)
           == ZHUB_OK);
    zhub_msg_list_clear (&list);
    CHECK (s_check (id, "1614265330", expected, body, now + 300001, secret, NULL, &list, why)
           == ZHUB_REJECT);
    CHECK_STR (why, "timestamp_stale");
    CHECK (s_check (id, "1614265330", expected, body, now - 300001, secret, NULL, &list, why)
           == ZHUB_REJECT);
    CHECK_STR (why, "timestamp_future");
    CHECK (s_check (NULL, "1614265330", expected, body, now, secret, NULL, &list, why)
           == ZHUB_REJECT);
    CHECK_STR (why, "missing_id");
    CHECK (s_check (id, NULL, expected, body, now, secret, NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "missing_timestamp");
    CHECK (s_check (id, "1614265330", NULL, body, now, secret, NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "missing_signature");
    CHECK (s_check (id, "16142653.0", expected, body, now, secret, NULL, &list, why)
           == ZHUB_REJECT);
    CHECK (s_check (id, "1614265330", expected, body, now, NULL, NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "secret_unset");
    CHECK (list.count == 0);
}

static void
test_typed_body_names_the_topic_and_subject (void)
{
    size_t size;
    char *body = t_load ("samples/standard-webhooks-example.json", &size);
    const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    char signature[64], why[256];
    zhub_generic_signature (secret, "msg_1", "1700000000", body, size, signature, sizeof signature);
    zhub_msg_list_t list = {0};
    CHECK (
        s_check ("msg_1", "1700000000", signature, body, 1700000000000LL, secret, NULL, &list, why)
        == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1) {
        CHECK_STR (list.items[0]->type, "webhook.crm.contact.created");
        CHECK_STR (list.items[0]->subject, "crm:1f81eb52-5198-4599-803e-771906343485");
        int64_t t;
        zhub_time_parse ("2022-11-03T20:26:10.344522Z", &t);
        CHECK (list.items[0]->time_ms == t);
    }
    zhub_msg_list_clear (&list);
    free (body);
    //  routes
    const char *route = NULL;
    CHECK (zhub_provider_route ("/v1/webhooks/generic/crm-2_x", &route) == &zhub_provider_generic);
    CHECK_STR (route, "crm-2_x");
    CHECK (zhub_provider_route ("/v1/webhooks/generic/CRM", &route) == NULL);
    CHECK (zhub_provider_route ("/v1/webhooks/generic/", &route) == NULL);
    CHECK (zhub_provider_route ("/v1/webhooks/generic/a/b", &route) == NULL);
    CHECK (zhub_provider_route ("/v1/webhooks/generic", &route) == NULL);
    CHECK (zhub_provider_route ("/v1/webhooks/events", &route) == NULL);
    CHECK (zhub_provider_route ("/v1/webhooks/hubspot", &route) == zhub_provider_find ("hubspot"));
    CHECK (route == NULL);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    s_vectors = t_json ("vectors/standard-webhooks-vectors.json");
    RUN (test_official_vector_verifies);
    RUN (test_invalid_signatures_and_headers_are_refused);
    RUN (test_typed_body_names_the_topic_and_subject);
    json_decref (s_vectors);
    TEST_EXIT ();
}
