//  Calendly provider: the self-computed vector (Calendly publishes none)
//  through the real verify path, the 3-minute window both ways, tampering,
//  the wrong key, key rotation, missing or malformed headers, and the
//  documented sample turned into one message with a stable id and the
//  booking as subject.
#include "calendly.h"
#include "test_provider_util.h"

static json_t *
s_vector (void)
{
    json_t *file = t_json ("vectors/self-computed-vectors.json");
    json_t *v = json_incref (json_object_get (json_object_get (file, "vectors"), "calendly"));
    json_decref (file);
    return v;
}

static zhub_rc_t
s_check (const char *header, const char *body, int64_t now_ms, const char *key,
         const char *previous, zhub_msg_list_t *list, char *why)
{
    t_headers_t headers = {0};
    if (header)
        t_add (&headers, "Calendly-Webhook-Signature", header);
    zhub_webhook_t hook =
        t_hook ("POST", "https://x/v1/webhooks/calendly", &headers, body, strlen (body), now_ms);
    zhub_verify_opts_t opts = t_opts (&zhub_provider_calendly, key, previous);
    return t_run (&zhub_provider_calendly, &hook, &opts, list, why, 256);
}

static void
test_self_computed_vector_verifies (void)
{
    json_t *v = s_vector ();
    const char *key = json_string_value (json_object_get (v, "signingKey"));
    const char *body = json_string_value (json_object_get (v, "body"));
    const char *header = json_string_value (json_object_get (v, "Calendly-Webhook-Signature"));
    int64_t now = 1700000000LL * 1000 + 1000;
    char why[256], computed[128];
    zhub_calendly_signature (key, "1700000000", body, strlen (body), computed, sizeof computed);
    CHECK_STR (computed, header);
    zhub_msg_list_t list = {0};
    CHECK (s_check (header, body, now, key, NULL, &list, why) == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1)
        CHECK_STR (list.items[0]->type, "webhook.calendly.invitee.created");
    zhub_msg_list_clear (&list);
    //  wrong key, tampered body
    CHECK (s_check (header, body, now, "other-key", NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "signature_mismatch");
    char *tampered = zhub_strdup (body);
    tampered[strlen (tampered) - 3] = 'X';
    CHECK (s_check (header, tampered, now, key, NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "signature_mismatch");
    free (tampered);
    //  rotation: the old key still verifies while it is the previous one
    CHECK (s_check (header, body, now, "new-key", key, &list, why) == ZHUB_OK);
    zhub_msg_list_clear (&list);
    CHECK (s_check (header, body, now, "new-key", "older-key", &list, why) == ZHUB_REJECT);
    json_decref (v);
}

static void
test_timestamp_window_both_ways (void)
{
    json_t *v = s_vector ();
    const char *key = json_string_value (json_object_get (v, "signingKey"));
    const char *body = json_string_value (json_object_get (v, "body"));
    const char *header = json_string_value (json_object_get (v, "Calendly-Webhook-Signature"));
    int64_t t = 1700000000LL * 1000;
    char why[256];
    zhub_msg_list_t list = {0};
    CHECK (s_check (header, body, t + ZHUB_CALENDLY_MAX_AGE_MS, key, NULL, &list, why) == ZHUB_OK);
    zhub_msg_list_clear (&list);
    //  a replay of the same signed request later than the window
    CHECK (s_check (header, body, t + ZHUB_CALENDLY_MAX_AGE_MS + 1, key, NULL, &list, why)
           == ZHUB_REJECT);
    CHECK_STR (why, "timestamp_stale");
    CHECK (s_check (header, body, t - ZHUB_CALENDLY_MAX_FUTURE_MS - 1, key, NULL, &list, why)
           == ZHUB_REJECT);
    CHECK_STR (why, "timestamp_future");
    json_decref (v);
}

static void
test_missing_or_malformed_headers_are_refused (void)
{
    char why[256];
    zhub_msg_list_t list = {0};
    static const struct {
        const char *header, *reason;
    } cases[] = {
        {NULL, "missing_signature"},
        {"v1=abcd", "missing_timestamp"},
        {"t=1700000000", "missing_signature"},
        {"t=17e8,v1=abcd", "malformed_timestamp"},
        {"t=-1,v1=abcd", "malformed_timestamp"},
        {"t=,v1=abcd", "missing_timestamp"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK (s_check (cases[i].header, "{}", 1700000000000LL, "k", NULL, &list, why)
               == ZHUB_REJECT);
        CHECK_STR (why, cases[i].reason);
    }
    CHECK (s_check ("t=1,v1=a", "{}", 1000, NULL, NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "secret_unset");
    CHECK (list.count == 0);
}

static void
test_sample_becomes_one_message_with_a_stable_id (void)
{
    size_t size;
    char *body = t_load ("samples/calendly-invitee-created.json", &size);
    int64_t now = 1700000000LL * 1000;
    char header[128], why[256];
    zhub_calendly_signature ("k", "1700000000", body, size, header, sizeof header);
    t_headers_t headers = {0};
    t_add (&headers, "Calendly-Webhook-Signature", header);
    zhub_webhook_t hook = t_hook ("POST", "https://x/", &headers, body, size, now);
    zhub_verify_opts_t opts = t_opts (&zhub_provider_calendly, "k", NULL);
    zhub_msg_list_t first = {0}, again = {0};
    CHECK (t_run (&zhub_provider_calendly, &hook, &opts, &first, why, sizeof why) == ZHUB_OK);
    hook.now_ms += 60000; //  a retry a minute later, signed afresh
    CHECK (zhub_provider_calendly.parse (&hook, &again, why, sizeof why) == ZHUB_OK);
    CHECK (first.count == 1 && again.count == 1);
    if (first.count == 1 && again.count == 1) {
        zhub_msg_t *msg = first.items[0];
        CHECK (!strncmp (msg->id, "calendly:", 9) && strlen (msg->id) == 9 + 64);
        CHECK_STR (msg->id, again.items[0]->id);
        CHECK_STR (msg->source, "calendly");
        CHECK_STR (msg->subject, "calendly:event:GBGBDCAADAEDCRZ2");
        int64_t created;
        zhub_time_parse ("2020-11-23T17:51:19Z", &created);
        CHECK (msg->time_ms == created);
        json_t *data = t_data (msg);
        CHECK_STR (json_string_value (json_object_get (json_object_get (data, "payload"), "email")),
                   "test@example.com");
        json_decref (data);
    }
    zhub_msg_list_clear (&first);
    zhub_msg_list_clear (&again);
    //  the cancel of the same invitee is another event
    char *at = strstr (body, "invitee.created");
    char *canceled = zhub_sprintf ("%.*sinvitee.canceled%s", (int)(at - body), body, at + 15);
    hook.body = canceled;
    hook.body_size = strlen (canceled);
    CHECK (zhub_provider_calendly.parse (&hook, &again, why, sizeof why) == ZHUB_OK);
    if (again.count == 1) {
        CHECK_STR (again.items[0]->type, "webhook.calendly.invitee.canceled");
        CHECK_STR (again.items[0]->subject, "calendly:event:GBGBDCAADAEDCRZ2");
    }
    zhub_msg_list_clear (&again);
    free (canceled);
    free (body);
}

static void
test_bodies_that_cannot_be_events_are_refused (void)
{
    static const char *bad[] = {"[]",
                                "{}",
                                "{\"event\":\"x y\",\"payload\":{}}",
                                "{\"event\":\"invitee.created\"}",
                                "{\"event\":\"a\",\"payload\":1}",
                                "not json"};
    char why[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zhub_msg_list_t list = {0};
        zhub_webhook_t hook = t_hook ("POST", "https://x/", NULL, bad[i], strlen (bad[i]), 1);
        CHECK (zhub_provider_calendly.parse (&hook, &list, why, sizeof why) == ZHUB_REJECT);
        CHECK (list.count == 0);
    }
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    RUN (test_self_computed_vector_verifies);
    RUN (test_timestamp_window_both_ways);
    RUN (test_missing_or_malformed_headers_are_refused);
    RUN (test_sample_becomes_one_message_with_a_stable_id);
    RUN (test_bodies_that_cannot_be_events_are_refused);
    TEST_EXIT ();
}
