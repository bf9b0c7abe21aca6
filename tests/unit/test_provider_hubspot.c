//  HubSpot provider: every official signature vector (v1, v2, v3) through
//  the real verify path, the v3 URI decode table, timestamp windows,
//  tampering, and the split of sample batches into messages with stable,
//  distinct ids. Vectors and samples are read from tests/fixtures
//  at test time, so the tests follow the data.
#include "hubspot.h"
#include "zhub_test.h"

#include <jansson.h>
#include <sodium.h>
#include <strings.h>

#define SECRET "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"

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

static json_t *
s_load_json (const char *relative)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", zhub_test_fixtures_dir (), relative);
    json_error_t error;
    json_t *json = json_load_file (path, 0, &error);
    if (!json)
        fprintf (stderr, "  cannot load %s: %s\n", path, error.text);
    return json;
}

//  The exact bytes of a sample file (signed bodies must not be re-serialised).
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

static zhub_rc_t
s_verify (s_headers_t *headers, const char *method, const char *url, const char *body,
          int64_t now_ms, const char *secret, char *why)
{
    zhub_webhook_t hook = {.method = method,
                           .url = url,
                           .header = s_header,
                           .header_ctx = headers,
                           .body = body,
                           .body_size = strlen (body),
                           .now_ms = now_ms};
    zhub_verify_opts_t opts = {.secret = secret,
                               .max_age_ms = ZHUB_HUBSPOT_MAX_AGE_MS,
                               .max_future_ms = ZHUB_HUBSPOT_MAX_FUTURE_MS};
    return zhub_provider_hubspot.verify (&hook, &opts, why, 64);
}

static zhub_rc_t
s_parse (const char *body, size_t size, zhub_msg_list_t *list, char *why)
{
    zhub_webhook_t hook = {.method = "POST", .url = "http://x/", .body = body, .body_size = size};
    return zhub_provider_hubspot.parse (&hook, list, why, 256);
}

static void
test_every_official_vector_verifies (void)
{
    json_t *file = s_load_json ("vectors/hubspot-signature-vectors.json");
    CHECK (file != NULL);
    json_t *vectors = json_object_get (file, "vectors");
    CHECK (json_array_size (vectors) == 7);
    size_t index;
    json_t *v;
    int versions[4] = {0};
    json_array_foreach (vectors, index, v)
    {
        const char *version = json_string_value (json_object_get (v, "version"));
        const char *secret = json_string_value (json_object_get (v, "clientSecret"));
        const char *body = json_string_value (json_object_get (v, "requestBody"));
        const char *expected = json_string_value (json_object_get (v, "expected"));
        const char *method = json_string_value (json_object_get (v, "method"));
        const char *uri = json_string_value (json_object_get (v, "uri"));
        const char *stamp = json_string_value (json_object_get (v, "timestamp"));
        const char *id = json_string_value (json_object_get (v, "id"));
        method = method ? method : "POST";
        uri = uri ? uri : "https://www.example.com/webhook_uri";
        versions[version[1] - '0']++;

        //  the computation itself
        char computed[80];
        CHECK (zhub_hubspot_signature (version, secret, method, uri, body, strlen (body), stamp,
                                       computed, sizeof computed)
               == 0);
        if (strcmp (computed, expected))
            fprintf (stderr, "  %s: computed %s\n", id, computed);
        CHECK_STR (computed, expected);

        //  and the request path: headers as HubSpot sends them
        s_headers_t headers = {0};
        int64_t now = 1700000000000;
        char why[64] = "";
        if (!strcmp (version, "v3")) {
            s_add (&headers, "x-hubspot-signature-v3", expected); //  any case
            s_add (&headers, "X-HubSpot-Request-Timestamp", stamp);
            now = strtoll (stamp, NULL, 10) + 1000;
        } else {
            s_add (&headers, "X-HubSpot-Signature", expected);
            s_add (&headers, "X-HUBSPOT-SIGNATURE-VERSION", version);
        }
        zhub_rc_t rc = s_verify (&headers, method, uri, body, now, secret, why);
        if (rc != ZHUB_OK)
            fprintf (stderr, "  %s: %s\n", id, why);
        CHECK (rc == ZHUB_OK);
        //  the wrong secret fails the same request
        CHECK (s_verify (&headers, method, uri, body, now, "other-secret", why) == ZHUB_REJECT);
        CHECK_STR (why, "signature_mismatch");
    }
    CHECK (versions[1] == 2 && versions[2] == 3 && versions[3] == 2);
    json_decref (file);
}

static void
test_v3_uri_is_decoded_with_hubspots_table (void)
{
    json_t *file = s_load_json ("vectors/self-computed-vectors.json");
    json_t *v = json_object_get (json_object_get (file, "vectors"), "hubspot_v3_query_decode");
    CHECK (v != NULL);
    const char *raw = json_string_value (json_object_get (v, "rawUri"));
    const char *decoded_expected =
        json_string_value (json_object_get (v, "signedUri(after decode table; %20 left as is)"));
    const char *body = json_string_value (json_object_get (v, "body"));
    const char *stamp = json_string_value (json_object_get (v, "X-HubSpot-Request-Timestamp"));
    const char *good = json_string_value (json_object_get (v, "X-HubSpot-Signature-v3"));
    const char *undecoded =
        json_string_value (json_object_get (v, "signature_if_uri_NOT_decoded(wrong)"));
    const char *secret = json_string_value (json_object_get (v, "clientSecret"));

    char *decoded = zhub_hubspot_v3_uri (raw);
    CHECK_STR (decoded, decoded_expected);
    free (decoded);

    int64_t now = strtoll (stamp, NULL, 10) + 2000;
    char why[64];
    s_headers_t headers = {0};
    s_add (&headers, "X-HubSpot-Signature-v3", good);
    s_add (&headers, "X-HubSpot-Request-Timestamp", stamp);
    CHECK (s_verify (&headers, "POST", raw, body, now, secret, why) == ZHUB_OK);

    s_headers_t wrong = {0};
    s_add (&wrong, "X-HubSpot-Signature-v3", undecoded);
    s_add (&wrong, "X-HubSpot-Request-Timestamp", stamp);
    CHECK (s_verify (&wrong, "POST", raw, body, now, secret, why) == ZHUB_REJECT);
    CHECK_STR (why, "signature_mismatch");
    json_decref (file);
}

static void
test_decode_table_leaves_other_escapes_alone (void)
{
    char *out = zhub_hubspot_v3_uri ("https://h/p%3a%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B"
                                     "?a=%20%26%3D%25%2%");
    CHECK_STR (out, "https://h/p::/?@!$'()*,;?a=%20%26%3D%25%2%");
    free (out);
}

//  A v3-signed request at a given time.
static zhub_rc_t
s_v3_at (int64_t stamp_ms, int64_t now_ms, const char *body_sent, char *why)
{
    const char *uri = "https://hooks.example.com/v1/webhooks/hubspot";
    const char *body = "[{\"eventId\":1}]";
    char stamp[32], signature[80];
    snprintf (stamp, sizeof stamp, "%lld", (long long)stamp_ms);
    zhub_hubspot_signature ("v3", SECRET, "POST", uri, body, strlen (body), stamp, signature,
                            sizeof signature);
    s_headers_t headers = {0};
    s_add (&headers, "X-HubSpot-Signature-v3", signature);
    s_add (&headers, "X-HubSpot-Request-Timestamp", stamp);
    return s_verify (&headers, "POST", uri, body_sent ? body_sent : body, now_ms, SECRET, why);
}

static void
test_stale_and_future_timestamps_are_refused (void)
{
    int64_t now = 1700000000000;
    char why[64];
    CHECK (s_v3_at (now, now, NULL, why) == ZHUB_OK);
    CHECK (s_v3_at (now - 299000, now, NULL, why) == ZHUB_OK);
    CHECK (s_v3_at (now - 301000, now, NULL, why) == ZHUB_REJECT);
    CHECK_STR (why, "timestamp_stale");
    CHECK (s_v3_at (now + 299000, now, NULL, why) == ZHUB_OK);
    CHECK (s_v3_at (now + 301000, now, NULL, why) == ZHUB_REJECT);
    CHECK_STR (why, "timestamp_future");
}

static void
test_tampered_body_is_refused (void)
{
    int64_t now = 1700000000000;
    char why[64];
    CHECK (s_v3_at (now, now, "[{\"eventId\":2}]", why) == ZHUB_REJECT);
    CHECK_STR (why, "signature_mismatch");
    //  v1 too
    s_headers_t headers = {0};
    s_add (&headers, "X-HubSpot-Signature",
           "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de");
    s_add (&headers, "X-HubSpot-Signature-Version", "v1");
    size_t size;
    char *body = s_load_bytes ("samples/hubspot-contact-creation.json", &size);
    CHECK (body && size == strlen (body));
    CHECK (s_verify (&headers, "POST", "https://x/", body, now, SECRET, why) == ZHUB_OK);
    body[10] ^= 1;
    CHECK (s_verify (&headers, "POST", "https://x/", body, now, SECRET, why) == ZHUB_REJECT);
    free (body);
}

static void
test_missing_headers_and_secret_are_refused (void)
{
    char why[64];
    s_headers_t none = {0};
    CHECK (s_verify (&none, "POST", "https://x/", "[]", 1, SECRET, why) == ZHUB_REJECT);
    CHECK_STR (why, "missing_signature");
    s_headers_t no_stamp = {0};
    s_add (&no_stamp, "X-HubSpot-Signature-v3", "abc=");
    CHECK (s_verify (&no_stamp, "POST", "https://x/", "[]", 1, SECRET, why) == ZHUB_REJECT);
    CHECK_STR (why, "missing_timestamp");
    s_headers_t bad_stamp = {0};
    s_add (&bad_stamp, "X-HubSpot-Signature-v3", "abc=");
    s_add (&bad_stamp, "X-HubSpot-Request-Timestamp", "-12");
    CHECK (s_verify (&bad_stamp, "POST", "https://x/", "[]", 1, SECRET, why) == ZHUB_REJECT);
    CHECK_STR (why, "malformed_timestamp");
    s_headers_t v1_no_version = {0};
    s_add (&v1_no_version, "X-HubSpot-Signature", "00");
    CHECK (s_verify (&v1_no_version, "POST", "https://x/", "[]", 1, SECRET, why) == ZHUB_REJECT);
    CHECK_STR (why, "missing_signature_version");
    s_headers_t v9 = {0};
    s_add (&v9, "X-HubSpot-Signature", "00");
    s_add (&v9, "X-HubSpot-Signature-Version", "v9");
    CHECK (s_verify (&v9, "POST", "https://x/", "[]", 1, SECRET, why) == ZHUB_REJECT);
    CHECK_STR (why, "unknown_signature_version");
    //  no secret configured: nothing verifies, whatever is sent
    s_headers_t any = {0};
    s_add (&any, "X-HubSpot-Signature-v3", "abc=");
    s_add (&any, "X-HubSpot-Request-Timestamp", "1");
    CHECK (s_verify (&any, "POST", "https://x/", "[]", 1, NULL, why) == ZHUB_REJECT);
    CHECK_STR (why, "secret_unset");
    CHECK (s_verify (&any, "POST", "https://x/", "[]", 1, "", why) == ZHUB_REJECT);
    CHECK_STR (why, "secret_unset");
}

static void
test_v3_decides_when_present (void)
{
    //  A valid v1 signature does not rescue a request whose v3 is stale:
    //  v1 carries no timestamp, so accepting it would accept replays.
    size_t size;
    char *body = s_load_bytes ("samples/hubspot-contact-creation.json", &size);
    const char *uri = "https://x/";
    int64_t now = 1700000000000;
    char stamp[32], signature[80], why[64];
    snprintf (stamp, sizeof stamp, "%lld", (long long)(now - 3600000));
    zhub_hubspot_signature ("v3", SECRET, "POST", uri, body, size, stamp, signature,
                            sizeof signature);
    s_headers_t headers = {0};
    s_add (&headers, "X-HubSpot-Signature",
           "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de");
    s_add (&headers, "X-HubSpot-Signature-Version", "v1");
    s_add (&headers, "X-HubSpot-Signature-v3", signature);
    s_add (&headers, "X-HubSpot-Request-Timestamp", stamp);
    CHECK (s_verify (&headers, "POST", uri, body, now, SECRET, why) == ZHUB_REJECT);
    CHECK_STR (why, "timestamp_stale");
    free (body);
}

//  data decoded back to JSON, to compare fields.
static json_t *
s_data (const zhub_msg_t *msg)
{
    return zhub_msg_data_json (msg);
}

static void
test_guide_example_splits_into_messages (void)
{
    size_t size;
    char *body = s_load_bytes ("samples/hubspot-webhooks-guide-example.json", &size);
    zhub_msg_list_t list = {0};
    char why[256] = "";
    CHECK (s_parse (body, size, &list, why) == ZHUB_OK);
    CHECK (list.count == 2);
    if (list.count == 2) {
        zhub_msg_t *a = list.items[0], *b = list.items[1];
        CHECK_STR (a->id, "hubspot:33:25:3816279340:1246965:1462216307945");
        CHECK_STR (a->type, "webhook.hubspot.contact.propertyChange");
        CHECK_STR (a->subject, "hubspot:contact:1246965");
        CHECK_STR (a->source, "hubspot");
        CHECK (a->time_ms == 1462216307945);
        CHECK_STR (b->id, "hubspot:33:22:3816279480:1246978:1462216307945");
        CHECK_STR (b->type, "webhook.hubspot.contact.creation");
        CHECK_STR (b->subject, "hubspot:contact:1246978");
        json_t *data = s_data (a);
        CHECK_STR (json_string_value (json_object_get (data, "propertyValue")), "subscriber");
        CHECK (json_integer_value (json_object_get (data, "eventId")) == 3816279340LL);
        CHECK (json_object_size (data) == 11);
        json_decref (data);
        char err[128];
        CHECK (zhub_msg_validate (a, err, sizeof err) == 0);
    }
    zhub_msg_list_clear (&list);
    CHECK (list.count == 0 && list.items == NULL);
    free (body);
}

static void
test_subscription_type_sample_becomes_one_message (void)
{
    size_t size;
    char *body = s_load_bytes ("samples/hubspot-contact-propertyChange.json", &size);
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (s_parse (body, size, &list, why) == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1) {
        zhub_msg_t *m = list.items[0];
        CHECK_STR (m->id, "hubspot:891472211:686627:3029365631:847297356:1715203101896");
        CHECK_STR (m->type, "webhook.hubspot.contact.propertyChange");
        CHECK_STR (m->subject, "hubspot:contact:847297356");
        CHECK (m->time_ms == 1715203101896);
        json_t *data = s_data (m);
        CHECK_STR (json_string_value (json_object_get (data, "propertyValue")), "REDACTED");
        CHECK_STR (json_string_value (json_object_get (data, "sourceId")), "userId:882761034");
        json_decref (data);
    }
    zhub_msg_list_clear (&list);
    free (body);
}

static void
test_ids_are_stable_across_retries_and_distinct_across_events (void)
{
    //  A retry is the same event with attemptNumber raised: same id.
    const char *first =
        "[{\"eventId\":7,\"subscriptionId\":1,\"portalId\":9,\"occurredAt\":5,"
        "\"subscriptionType\":\"deal.creation\",\"attemptNumber\":0,\"objectId\":3}]";
    const char *retry =
        "[{\"eventId\":7,\"subscriptionId\":1,\"portalId\":9,\"occurredAt\":5,"
        "\"subscriptionType\":\"deal.creation\",\"attemptNumber\":1,\"objectId\":3}]";
    //  eventId alone is not unique: same eventId, another object or time
    const char *other = "[{\"eventId\":7,\"subscriptionId\":1,\"portalId\":9,\"occurredAt\":5,"
                        "\"subscriptionType\":\"deal.creation\",\"objectId\":4},"
                        "{\"eventId\":7,\"subscriptionId\":1,\"portalId\":9,\"occurredAt\":6,"
                        "\"subscriptionType\":\"deal.creation\",\"objectId\":3},"
                        "{\"eventId\":7,\"subscriptionId\":2,\"portalId\":9,\"occurredAt\":5,"
                        "\"subscriptionType\":\"deal.creation\",\"objectId\":3},"
                        "{\"eventId\":7,\"subscriptionId\":1,\"portalId\":8,\"occurredAt\":5,"
                        "\"subscriptionType\":\"deal.creation\",\"objectId\":3}]";
    zhub_msg_list_t a = {0}, b = {0}, c = {0};
    char why[256];
    CHECK (s_parse (first, strlen (first), &a, why) == ZHUB_OK);
    CHECK (s_parse (retry, strlen (retry), &b, why) == ZHUB_OK);
    CHECK (s_parse (other, strlen (other), &c, why) == ZHUB_OK);
    CHECK (a.count == 1 && b.count == 1 && c.count == 4);
    if (a.count == 1 && b.count == 1 && c.count == 4) {
        CHECK_STR (a.items[0]->id, b.items[0]->id);
        CHECK_STR (a.items[0]->subject, "hubspot:deal:3");
        for (size_t i = 0; i < c.count; i++) {
            CHECK (strcmp (c.items[i]->id, a.items[0]->id) != 0);
            for (size_t j = i + 1; j < c.count; j++)
                CHECK (strcmp (c.items[i]->id, c.items[j]->id) != 0);
        }
    }
    zhub_msg_list_clear (&a);
    zhub_msg_list_clear (&b);
    zhub_msg_list_clear (&c);
}

static void
test_big_integers_and_unicode_survive (void)
{
    const char *body = "[{\"eventId\":18446744073709551615,\"subscriptionId\":1,\"portalId\":2,"
                       "\"occurredAt\":3,\"subscriptionType\":\"contact.propertyChange\","
                       "\"objectId\":4,\"propertyValue\":\"Zo\\u00eb \\ud83d\\ude00\"}]";
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (s_parse (body, strlen (body), &list, why) == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1) {
        CHECK_STR (list.items[0]->id, "hubspot:2:1:18446744073709551615:4:3");
        msgpack_unpacked r;
        CHECK (zhub_mpack_decode (list.items[0]->data, list.items[0]->data_size, NULL, &r, NULL, 0)
               == 0);
        const msgpack_object *id = zhub_mpack_get (&r.data, "eventId");
        CHECK (id && id->type == MSGPACK_OBJECT_POSITIVE_INTEGER
               && id->via.u64 == 18446744073709551615ULL);
        CHECK (zhub_mpack_str_eq (zhub_mpack_get (&r.data, "propertyValue"),
                                  "Zo\xc3\xab \xf0\x9f\x98\x80"));
        //  key order is kept
        CHECK (r.data.via.map.size == 7 && zhub_mpack_str_eq (&r.data.via.map.ptr[0].key, "eventId")
               && zhub_mpack_str_eq (&r.data.via.map.ptr[6].key, "propertyValue"));
        msgpack_unpacked_destroy (&r);
    }
    zhub_msg_list_clear (&list);
}

static void
test_other_object_kinds_and_association_changes (void)
{
    const char *body =
        "[{\"eventId\":1,\"subscriptionId\":1,\"portalId\":2,\"occurredAt\":3,"
        "\"subscriptionType\":\"object.propertyChange\",\"objectTypeId\":\"0-3\",\"objectId\":5},"
        "{\"eventId\":2,\"subscriptionId\":1,\"portalId\":2,\"occurredAt\":3,"
        "\"subscriptionType\":\"contact.associationChange\",\"associationType\":"
        "\"CONTACT_TO_DEAL\",\"fromObjectId\":11,\"toObjectId\":12,\"associationRemoved\":false}]";
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (s_parse (body, strlen (body), &list, why) == ZHUB_OK);
    CHECK (list.count == 2);
    if (list.count == 2) {
        CHECK_STR (list.items[0]->subject, "hubspot:deal:5");
        CHECK_STR (list.items[0]->type, "webhook.hubspot.object.propertyChange");
        CHECK_STR (list.items[1]->subject, "hubspot:contact:11");
        CHECK_STR (list.items[1]->id, "hubspot:2:1:2:11-12:3");
    }
    zhub_msg_list_clear (&list);
}

static void
test_malformed_bodies_are_rejected_with_nothing_out (void)
{
    static const char *bad[] = {
        "",
        "{\"eventId\":1}",
        "[{\"eventId\":1,\"subscriptionId\":1,\"portalId\":2,\"occurredAt\":3,",
        "[1]",
        "[{\"subscriptionId\":1,\"portalId\":2,\"occurredAt\":3,\"subscriptionType\":\"a.b\"}]",
        "[{\"eventId\":1,\"subscriptionId\":1,\"portalId\":2,\"occurredAt\":3}]",
        "[{\"eventId\":1,\"subscriptionId\":1,\"portalId\":2,\"occurredAt\":\"x\","
        "\"subscriptionType\":\"a.b\"}]",
        "[{\"eventId\":1,\"subscriptionId\":1,\"portalId\":2,\"occurredAt\":3,"
        "\"subscriptionType\":\"contact creation\"}]",
        "[{\"eventId\":1,\"subscriptionId\":1,\"portalId\":2,\"occurredAt\":3,"
        "\"subscriptionType\":\"a.b\",\"objectId\":{}}]",
        "[] []",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zhub_msg_list_t list = {0};
        char why[256] = "";
        zhub_rc_t rc = s_parse (bad[i], strlen (bad[i]), &list, why);
        if (rc != ZHUB_REJECT)
            fprintf (stderr, "  accepted: %s\n", bad[i]);
        CHECK (rc == ZHUB_REJECT);
        CHECK (list.count == 0);
        CHECK (why[0] != 0);
        zhub_msg_list_clear (&list);
    }
    //  the first good event is not kept when a later one is bad
    const char *mixed = "[{\"eventId\":1,\"subscriptionId\":1,\"portalId\":2,\"occurredAt\":3,"
                        "\"subscriptionType\":\"a.b\",\"objectId\":1},{}]";
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (s_parse (mixed, strlen (mixed), &list, why) == ZHUB_REJECT);
    CHECK (list.count == 0);
    CHECK (strstr (why, "event 1") != NULL);
}

//  A batch of n copies of one event.
static char *
s_batch (int n)
{
    const char *event = "{\"eventId\":1,\"subscriptionId\":1,\"portalId\":2,\"occurredAt\":3,"
                        "\"subscriptionType\":\"a.b\",\"objectId\":1}";
    char *body = malloc (3 + (size_t)n * (strlen (event) + 1));
    strcpy (body, "[");
    for (int i = 0; i < n; i++) {
        if (i)
            strcat (body, ",");
        strcat (body, event);
    }
    strcat (body, "]");
    return body;
}

static void
test_batches_over_100_events_are_rejected_and_empty_is_fine (void)
{
    zhub_msg_list_t list = {0};
    char why[256];
    char *body = s_batch (101);
    CHECK (s_parse (body, strlen (body), &list, why) == ZHUB_REJECT);
    CHECK (list.count == 0);
    free (body);
    body = s_batch (100);
    CHECK (s_parse (body, strlen (body), &list, why) == ZHUB_OK);
    CHECK (list.count == 100);
    zhub_msg_list_clear (&list);
    free (body);
    CHECK (s_parse ("[]", 2, &list, why) == ZHUB_OK);
    CHECK (list.count == 0);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    RUN (test_every_official_vector_verifies);
    RUN (test_v3_uri_is_decoded_with_hubspots_table);
    RUN (test_decode_table_leaves_other_escapes_alone);
    RUN (test_stale_and_future_timestamps_are_refused);
    RUN (test_tampered_body_is_refused);
    RUN (test_missing_headers_and_secret_are_refused);
    RUN (test_v3_decides_when_present);
    RUN (test_guide_example_splits_into_messages);
    RUN (test_subscription_type_sample_becomes_one_message);
    RUN (test_ids_are_stable_across_retries_and_distinct_across_events);
    RUN (test_big_integers_and_unicode_survive);
    RUN (test_other_object_kinds_and_association_changes);
    RUN (test_malformed_bodies_are_rejected_with_nothing_out);
    RUN (test_batches_over_100_events_are_rejected_and_empty_is_fine);
    TEST_EXIT ();
}
