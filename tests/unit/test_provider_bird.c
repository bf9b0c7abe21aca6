//  Bird provider: the self-computed signature vector through the real
//  verify path, the 8-hour retry window (and the future limit), tampering,
//  and the envelope turned into one message: topic, id (request id or hash,
//  stable across retries, new on a status change), subject, time.
#include "bird.h"
#include "zhub_test.h"

#include <jansson.h>
#include <sodium.h>
#include <strings.h>

typedef struct {
    const char *names[8];
    const char *values[8];
    int count;
} s_headers_t;

static const char *
s_header (void *ctx, const char *name)
{
    s_headers_t *h = ctx;
    for (int i = 0; i < h->count; i++)
        if (!strcasecmp (h->names[i], name))
            return h->values[i];
    return NULL;
}

static void
s_add (s_headers_t *h, const char *name, const char *value)
{
    h->names[h->count] = name;
    h->values[h->count++] = value;
}

static char *
s_load_bytes (const char *relative, size_t *size)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", zhub_test_fixtures_dir (), relative);
    FILE *file = fopen (path, "rb");
    if (!file) {
        fprintf (stderr, "  cannot open %s\n", path);
        *size = 0;
        return NULL;
    }
    fseek (file, 0, SEEK_END);
    long length = ftell (file);
    fseek (file, 0, SEEK_SET);
    char *bytes = malloc ((size_t)length + 1);
    *size = fread (bytes, 1, (size_t)length, file);
    bytes[*size] = 0;
    fclose (file);
    return bytes;
}

static json_t *
s_vector (void)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/vectors/self-computed-vectors.json", zhub_test_fixtures_dir ());
    json_t *file = json_load_file (path, 0, NULL);
    CHECK (file != NULL);
    json_t *bird = json_incref (json_object_get (json_object_get (file, "vectors"), "bird"));
    json_decref (file);
    return bird;
}

static zhub_rc_t
s_verify (s_headers_t *headers, const char *url, const char *body, int64_t now_ms, const char *key,
          char *why)
{
    zhub_webhook_t hook = {.method = "POST",
                           .url = url,
                           .header = s_header,
                           .header_ctx = headers,
                           .body = body,
                           .body_size = strlen (body),
                           .now_ms = now_ms};
    zhub_verify_opts_t opts = {.secret = key,
                               .max_age_ms = zhub_provider_bird.default_max_age_ms,
                               .max_future_ms = zhub_provider_bird.default_max_future_ms};
    return zhub_provider_bird.verify (&hook, &opts, why, 64);
}

static zhub_rc_t
s_parse (s_headers_t *headers, const char *body, size_t size, int64_t now_ms, zhub_msg_list_t *list,
         char *why)
{
    zhub_webhook_t hook = {.method = "POST",
                           .url = "https://x/v1/webhooks/bird",
                           .header = s_header,
                           .header_ctx = headers,
                           .body = body,
                           .body_size = size,
                           .now_ms = now_ms};
    return zhub_provider_bird.parse (&hook, list, why, 256);
}

static void
test_self_computed_vector_verifies (void)
{
    json_t *v = s_vector ();
    const char *key = json_string_value (json_object_get (v, "signingKey"));
    const char *stamp = json_string_value (json_object_get (v, "messagebird-request-timestamp"));
    const char *url = json_string_value (json_object_get (v, "url"));
    const char *body = json_string_value (json_object_get (v, "body"));
    const char *expected = json_string_value (json_object_get (v, "messagebird-signature"));
    char computed[64];
    zhub_bird_signature (key, stamp, url, body, strlen (body), computed, sizeof computed);
    CHECK_STR (computed, expected);

    s_headers_t headers = {0};
    s_add (&headers, "MessageBird-Signature", expected); //  any case
    s_add (&headers, "messagebird-request-timestamp", stamp);
    int64_t now = strtoll (stamp, NULL, 10) * 1000 + 1500;
    char why[64] = "";
    CHECK (s_verify (&headers, url, body, now, key, why) == ZHUB_OK);
    //  another URL (e.g. a wrong ZHUB_PUBLIC_URL) does not verify
    CHECK (s_verify (&headers, "https://domain.com/webhook/bird?x=1", body, now, key, why)
           == ZHUB_REJECT);
    CHECK_STR (why, "signature_mismatch");
    CHECK (s_verify (&headers, url, body, now, "otherKey", why) == ZHUB_REJECT);
    json_decref (v);
}

static void
test_tampered_body_is_refused (void)
{
    json_t *v = s_vector ();
    const char *key = json_string_value (json_object_get (v, "signingKey"));
    const char *stamp = json_string_value (json_object_get (v, "messagebird-request-timestamp"));
    const char *url = json_string_value (json_object_get (v, "url"));
    char *body = zhub_strdup (json_string_value (json_object_get (v, "body")));
    s_headers_t headers = {0};
    s_add (&headers, "messagebird-signature",
           json_string_value (json_object_get (v, "messagebird-signature")));
    s_add (&headers, "messagebird-request-timestamp", stamp);
    int64_t now = strtoll (stamp, NULL, 10) * 1000;
    char why[64];
    body[strlen (body) - 3] = 'X';
    CHECK (s_verify (&headers, url, body, now, key, why) == ZHUB_REJECT);
    CHECK_STR (why, "signature_mismatch");
    free (body);
    json_decref (v);
}

//  A request signed at stamp_s and checked at now_ms.
static zhub_rc_t
s_signed_at (int64_t stamp_s, int64_t now_ms, char *why)
{
    const char *url = "https://hooks.example.com/v1/webhooks/bird";
    const char *body = "{\"service\":\"channels\",\"event\":\"sms.inbound\",\"payload\":{}}";
    char stamp[32], signature[64];
    snprintf (stamp, sizeof stamp, "%lld", (long long)stamp_s);
    zhub_bird_signature ("k", stamp, url, body, strlen (body), signature, sizeof signature);
    s_headers_t headers = {0};
    s_add (&headers, "messagebird-signature", signature);
    s_add (&headers, "messagebird-request-timestamp", stamp);
    return s_verify (&headers, url, body, now_ms, "k", why);
}

static void
test_retries_for_8_hours_pass_and_older_or_future_do_not (void)
{
    int64_t now_s = 1719823259;
    int64_t now = now_s * 1000;
    char why[64];
    CHECK (s_signed_at (now_s, now, why) == ZHUB_OK);
    //  Bird retries over 8 hours with the original timestamp
    CHECK (s_signed_at (now_s - 8 * 3600, now, why) == ZHUB_OK);
    CHECK (s_signed_at (now_s - 9 * 3600 + 10, now, why) == ZHUB_OK);
    CHECK (s_signed_at (now_s - 9 * 3600 - 10, now, why) == ZHUB_REJECT);
    CHECK_STR (why, "timestamp_stale");
    CHECK (s_signed_at (now_s + 290, now, why) == ZHUB_OK);
    CHECK (s_signed_at (now_s + 310, now, why) == ZHUB_REJECT);
    CHECK_STR (why, "timestamp_future");
}

static void
test_missing_headers_and_key_are_refused (void)
{
    char why[64];
    s_headers_t none = {0};
    CHECK (s_verify (&none, "https://x/", "{}", 1, "k", why) == ZHUB_REJECT);
    CHECK_STR (why, "missing_signature");
    s_headers_t no_stamp = {0};
    s_add (&no_stamp, "messagebird-signature", "abc=");
    CHECK (s_verify (&no_stamp, "https://x/", "{}", 1, "k", why) == ZHUB_REJECT);
    CHECK_STR (why, "missing_timestamp");
    s_headers_t ms_stamp = {0};
    s_add (&ms_stamp, "messagebird-signature", "abc=");
    s_add (&ms_stamp, "messagebird-request-timestamp", "1719823259.5");
    CHECK (s_verify (&ms_stamp, "https://x/", "{}", 1, "k", why) == ZHUB_REJECT);
    CHECK_STR (why, "malformed_timestamp");
    CHECK (s_verify (&ms_stamp, "https://x/", "{}", 1, NULL, why) == ZHUB_REJECT);
    CHECK_STR (why, "secret_unset");
}

static void
test_sample_becomes_one_message_about_the_sender (void)
{
    size_t size;
    char *body = s_load_bytes ("samples/bird-message-created.json", &size);
    s_headers_t none = {0};
    zhub_msg_list_t list = {0};
    char why[256] = "";
    CHECK (s_parse (&none, body, size, 1, &list, why) == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1) {
        zhub_msg_t *m = list.items[0];
        CHECK_STR (m->type, "webhook.bird.whatsapp.inbound");
        CHECK_STR (m->source, "bird");
        CHECK_STR (m->subject, "contact:d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4");
        CHECK (strncmp (m->id, "bird:", 5) == 0 && strlen (m->id) == 5 + 64);
        int64_t updated;
        zhub_time_parse ("2023-12-13T19:34:02.063Z", &updated);
        CHECK (m->time_ms == updated);
        json_t *data = zhub_msg_data_json (m);
        CHECK_STR (json_string_value (json_object_get (data, "event")), "whatsapp.inbound");
        CHECK_STR (json_string_value (json_object_get (
                       json_object_get (json_object_get (json_object_get (data, "payload"), "body"),
                                        "text"),
                       "text")),
                   "Test");
        json_decref (data);
    }
    zhub_msg_list_clear (&list);
    free (body);
}

//  A retry may carry a new messagebird-request-id (nothing says it is
//  stable): the id must come from the event, so the retry still collapses.
static void
test_retry_with_new_request_id_keeps_the_event_id (void)
{
    size_t size;
    char *body = s_load_bytes ("samples/bird-message-created.json", &size);
    char *ids[2] = {NULL, NULL};
    const char *request_ids[2] = {"7f0c2a3e-1111-4222-8333-944455556666",
                                  "0b9d7c1e-2222-4333-8444-a55566667777"};
    for (int i = 0; i < 2; i++) {
        s_headers_t headers = {0};
        s_add (&headers, "messagebird-request-id", request_ids[i]);
        zhub_msg_list_t list = {0};
        char why[256];
        CHECK (s_parse (&headers, body, size, 1, &list, why) == ZHUB_OK);
        CHECK (list.count == 1);
        if (list.count == 1)
            ids[i] = zhub_strdup (list.items[0]->id);
        zhub_msg_list_clear (&list);
    }
    CHECK (ids[0] && ids[1] && !strcmp (ids[0], ids[1]));
    CHECK (ids[0] && strlen (ids[0]) == 5 + 64 && !strncmp (ids[0], "bird:", 5));
    free (ids[0]);
    free (ids[1]);
    free (body);
}

static char *
s_first_id (const char *body)
{
    s_headers_t none = {0};
    zhub_msg_list_t list = {0};
    char why[256];
    char *id = NULL;
    if (s_parse (&none, body, strlen (body), 1, &list, why) == ZHUB_OK && list.count == 1)
        id = zhub_strdup (list.items[0]->id);
    zhub_msg_list_clear (&list);
    return id;
}

static void
test_hash_ids_stable_on_retry_and_new_on_status_change (void)
{
    const char *sent =
        "{\"service\":\"channels\",\"event\":\"whatsapp.outbound\",\"payload\":"
        "{\"id\":\"m1\",\"status\":\"sent\",\"updatedAt\":\"2024-01-01T00:00:00Z\"}}";
    //  the same event, other formatting (a retry is byte-identical anyway)
    const char *again =
        "{\"service\": \"channels\", \"event\": \"whatsapp.outbound\", \"payload\":"
        "{\"updatedAt\":\"2024-01-01T00:00:00Z\",\"status\":\"sent\",\"id\":\"m1\"}}";
    const char *delivered =
        "{\"service\":\"channels\",\"event\":\"whatsapp.outbound\",\"payload\":"
        "{\"id\":\"m1\",\"status\":\"delivered\",\"updatedAt\":\"2024-01-01T00:00:05Z\"}}";
    const char *status_only =
        "{\"service\":\"channels\",\"event\":\"whatsapp.outbound\",\"payload\":"
        "{\"id\":\"m1\",\"status\":\"delivered\",\"updatedAt\":\"2024-01-01T00:00:00Z\"}}";
    const char *other =
        "{\"service\":\"channels\",\"event\":\"whatsapp.outbound\",\"payload\":"
        "{\"id\":\"m2\",\"status\":\"sent\",\"updatedAt\":\"2024-01-01T00:00:00Z\"}}";
    char *a = s_first_id (sent), *b = s_first_id (again), *c = s_first_id (delivered),
         *d = s_first_id (status_only), *e = s_first_id (other);
    CHECK (a && b && c && d && e);
    if (a && b && c && d && e) {
        CHECK_STR (a, b);
        CHECK (strcmp (a, c) && strcmp (a, d) && strcmp (a, e) && strcmp (c, d));
    }
    free (a);
    free (b);
    free (c);
    free (d);
    free (e);
}

static void
test_subject_for_each_payload_shape (void)
{
    static const struct {
        const char *body, *subject;
    } cases[] = {
        {"{\"service\":\"channels\",\"event\":\"whatsapp.outbound\",\"payload\":{\"id\":\"m\","
         "\"receiver\":{\"contacts\":[{\"id\":\"c-out\",\"identifierValue\":\"+1\"}]}}}",
         "contact:c-out"},
        {"{\"service\":\"contacts\",\"event\":\"contact.updated\",\"payload\":{\"id\":\"c-9\"}}",
         "contact:c-9"},
        {"{\"service\":\"conversations\",\"event\":\"conversation.created\",\"payload\":"
         "{\"id\":\"conv-1\",\"featuredParticipants\":[{\"id\":\"u1\",\"type\":\"user\"},"
         "{\"id\":\"c-7\",\"type\":\"contact\",\"contact\":{\"identifierValue\":\"+1\"}}]}}",
         "contact:c-7"},
        {"{\"service\":\"conversations\",\"event\":\"conversation.updated\",\"payload\":"
         "{\"id\":\"conv-2\",\"featuredParticipants\":[{\"type\":\"flow\",\"id\":\"f\"}]}}",
         "bird:conversations:conv-2"},
        {"{\"service\":\"channels\",\"event\":\"sms.inbound\",\"payload\":{}}", "bird:channels"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_headers_t none = {0};
        zhub_msg_list_t list = {0};
        char why[256] = "";
        zhub_rc_t rc = s_parse (&none, cases[i].body, strlen (cases[i].body), 42000, &list, why);
        CHECK (rc == ZHUB_OK && list.count == 1);
        if (rc == ZHUB_OK && list.count == 1) {
            CHECK_STR (list.items[0]->subject, cases[i].subject);
            CHECK (list.items[0]->time_ms == 42000); //  no createdAt/updatedAt: now
        }
        zhub_msg_list_clear (&list);
    }
}

static void
test_malformed_envelopes_are_rejected (void)
{
    static const char *bad[] = {
        "",
        "[]",
        "{\"service\":\"channels\",\"event\":\"sms.inbound\"}",
        "{\"service\":\"channels\",\"payload\":{}}",
        "{\"event\":\"sms.inbound\",\"payload\":{}}",
        "{\"service\":\"channels\",\"event\":\"sms.inbound\",\"payload\":[]}",
        "{\"service\":\"channels\",\"event\":\"sms inbound\",\"payload\":{}}",
        "{\"service\":\"channels\",\"event\":\"\",\"payload\":{}}",
        "{\"service\":1,\"event\":\"sms.inbound\",\"payload\":{}}",
        "{\"service\":\"channels\",\"event\":\"sms.inbound\",\"payload\":{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_headers_t none = {0};
        zhub_msg_list_t list = {0};
        char why[256] = "";
        zhub_rc_t rc = s_parse (&none, bad[i], strlen (bad[i]), 1, &list, why);
        if (rc != ZHUB_REJECT)
            fprintf (stderr, "  accepted: %s\n", bad[i]);
        CHECK (rc == ZHUB_REJECT && list.count == 0 && why[0]);
        zhub_msg_list_clear (&list);
    }
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    RUN (test_self_computed_vector_verifies);
    RUN (test_tampered_body_is_refused);
    RUN (test_retries_for_8_hours_pass_and_older_or_future_do_not);
    RUN (test_missing_headers_and_key_are_refused);
    RUN (test_sample_becomes_one_message_about_the_sender);
    RUN (test_retry_with_new_request_id_keeps_the_event_id);
    RUN (test_hash_ids_stable_on_retry_and_new_on_status_change);
    RUN (test_subject_for_each_payload_shape);
    RUN (test_malformed_envelopes_are_rejected);
    TEST_EXIT ();
}
