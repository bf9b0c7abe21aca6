//  `zhub doctor`'s pure parts: the public URL verdict, the scopes and
//  property shapes zhub needs in HubSpot (the list `zhub hubspot setup`
//  also uses), the sentence made of a provider's refusal, and the report in
//  text and JSON.
#include "doctor.h"
#include "hubspot.h"
#include "hubspot_needs.h"
#include "zhub_test.h"

static zhub_doctor_status_t
s_url (const char *url)
{
    char detail[ZHUB_DOCTOR_DETAIL_MAX];
    return zhub_doctor_public_url (url, detail, sizeof detail);
}

static void
test_public_url_is_https_unless_loopback (void)
{
    CHECK (s_url (NULL) == ZHUB_DOCTOR_FAIL);
    CHECK (s_url ("") == ZHUB_DOCTOR_FAIL);
    CHECK (s_url ("https://hooks.example.com") == ZHUB_DOCTOR_OK);
    CHECK (s_url ("https://hooks.example.com:8443/zhub") == ZHUB_DOCTOR_OK);
    CHECK (s_url ("http://127.0.0.1:8080") == ZHUB_DOCTOR_OK);
    CHECK (s_url ("http://localhost:8080/") == ZHUB_DOCTOR_OK);
    CHECK (s_url ("http://[::1]:8080") == ZHUB_DOCTOR_OK);
    CHECK (s_url ("http://hooks.example.com") == ZHUB_DOCTOR_FAIL);
    CHECK (s_url ("http://127.0.0.1.example.com") == ZHUB_DOCTOR_FAIL);
    CHECK (s_url ("http://10.0.0.5:8080") == ZHUB_DOCTOR_FAIL);
    CHECK (s_url ("ftp://hooks.example.com") == ZHUB_DOCTOR_FAIL);
    CHECK (s_url ("https://") == ZHUB_DOCTOR_FAIL);
    CHECK (s_url ("https://hooks.example.com/?a=b") == ZHUB_DOCTOR_FAIL);
    CHECK (s_url ("hooks.example.com") == ZHUB_DOCTOR_FAIL);
    char detail[ZHUB_DOCTOR_DETAIL_MAX];
    zhub_doctor_public_url ("http://hooks.example.com", detail, sizeof detail);
    CHECK (strstr (detail, "https") != NULL);
}

static void
test_missing_scopes_are_named (void)
{
    json_t *all =
        json_pack ("[s,s,s,s,s,s]", "crm.objects.contacts.read", "crm.objects.contacts.write",
                   "crm.objects.deals.read", "crm.objects.deals.write",
                   "crm.schemas.contacts.write", "crm.schemas.deals.write");
    char out[300];
    CHECK (zhub_hubspot_missing_scopes (all, true, out, sizeof out) == 0);
    CHECK_STR (out, "");
    json_t *runtime =
        json_pack ("[s,s,s,s]", "crm.objects.contacts.read", "crm.objects.contacts.write",
                   "crm.objects.deals.read", "crm.objects.deals.write");
    CHECK (zhub_hubspot_missing_scopes (runtime, false, out, sizeof out) == 0);
    CHECK (zhub_hubspot_missing_scopes (runtime, true, out, sizeof out) == 2);
    CHECK_STR (out, "crm.schemas.contacts.write, crm.schemas.deals.write");
    json_t *some = json_pack ("[s,s]", "crm.objects.contacts.read", "crm.objects.deals.read");
    CHECK (zhub_hubspot_missing_scopes (some, false, out, sizeof out) == 2);
    CHECK_STR (out, "crm.objects.contacts.write, crm.objects.deals.write");
    //  a short buffer is cut, the count is not
    char small[10];
    CHECK (zhub_hubspot_missing_scopes (some, false, small, sizeof small) == 2);
    CHECK (strlen (small) < sizeof small);
    json_decref (all);
    json_decref (runtime);
    json_decref (some);
}

static void
test_property_shape_is_type_and_uniqueness (void)
{
    const zhub_hubspot_property_t *key = zhub_hubspot_property_find ("contacts", "bird_contact_id");
    const zhub_hubspot_property_t *score =
        zhub_hubspot_property_find ("deals", "qualification_score");
    CHECK (key && key->unique && !strcmp (key->object, "contacts"));
    CHECK (score && !score->unique && !strcmp (score->type, "number"));
    char detail[200];
    json_t *good = json_pack ("{s:s, s:b}", "type", "string", "hasUniqueValue", 1);
    json_t *not_unique = json_pack ("{s:s, s:b}", "type", "string", "hasUniqueValue", 0);
    json_t *text = json_pack ("{s:s}", "type", "string");
    CHECK (zhub_hubspot_property_compare (key, good, detail, sizeof detail)
           == ZHUB_HUBSPOT_PROPERTY_OK);
    CHECK (zhub_hubspot_property_compare (key, not_unique, detail, sizeof detail)
           == ZHUB_HUBSPOT_PROPERTY_MISMATCH);
    CHECK (strstr (detail, "unique=false") && strstr (detail, "unique=true"));
    CHECK (zhub_hubspot_property_compare (score, text, detail, sizeof detail)
           == ZHUB_HUBSPOT_PROPERTY_MISMATCH);
    CHECK (strstr (detail, "type=string") && strstr (detail, "type=number"));
    json_decref (good);
    json_decref (not_unique);
    json_decref (text);
}

static void
s_describe (long status, const char *body, char *out, size_t size)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    resp.status = status;
    resp.json = body ? json_loads (body, 0, NULL) : NULL;
    zhub_doctor_describe ("X", &resp, out, size);
    zhub_http_response_reset (&resp);
}

static void
test_a_refusal_reads_in_the_providers_own_words (void)
{
    char out[400];
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    snprintf (resp.error, sizeof resp.error, "Couldn't connect to server");
    zhub_doctor_describe ("HubSpot", &resp, out, sizeof out);
    CHECK_STR (out, "HubSpot did not answer: Couldn't connect to server");
    //  HubSpot
    s_describe (401,
                "{\"status\":\"error\",\"message\":\"bad token\",\"category\":"
                "\"INVALID_AUTHENTICATION\"}",
                out, sizeof out);
    CHECK_STR (out, "X answered HTTP 401 INVALID_AUTHENTICATION: bad token");
    //  OAuth2 token endpoints (Google, Microsoft)
    s_describe (400,
                "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been "
                "expired or revoked.\"}",
                out, sizeof out);
    CHECK_STR (out, "X answered HTTP 400 invalid_grant: Token has been expired or revoked.");
    //  Graph / Google APIs: an error object
    s_describe (403, "{\"error\":{\"code\":\"Forbidden\",\"message\":\"no\"}}", out, sizeof out);
    CHECK_STR (out, "X answered HTTP 403 Forbidden: no");
    //  Bird
    s_describe (404, "{\"code\":\"NotFound\",\"message\":\"gone\"}", out, sizeof out);
    CHECK_STR (out, "X answered HTTP 404 NotFound: gone");
    //  Calendly
    s_describe (401, "{\"title\":\"Unauthenticated\",\"message\":\"The access token is invalid\"}",
                out, sizeof out);
    CHECK_STR (out, "X answered HTTP 401 Unauthenticated: The access token is invalid");
    s_describe (502, NULL, out, sizeof out);
    CHECK_STR (out, "X answered HTTP 502");
}

static void
test_report_lines_and_json (void)
{
    zhub_doctor_report_t report = {0};
    zhub_doctor_add (&report, "broker", ZHUB_DOCTOR_OK, "answered in %d ms", 3);
    zhub_doctor_add (&report, "google", ZHUB_DOCTOR_SKIP, "not configured");
    CHECK (!zhub_doctor_failed (&report));
    zhub_doctor_add (&report, "hubspot.token", ZHUB_DOCTOR_FAIL, "lacks %s", "x");
    CHECK (zhub_doctor_failed (&report));
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    zhub_doctor_print (&report, out);
    fclose (out);
    CHECK_STR (text, "broker               ok answered in 3 ms\n"
                     "google               skip not configured\n"
                     "hubspot.token        FAIL lacks x\n");
    free (text);
    json_t *doc = zhub_doctor_json (&report);
    CHECK (json_is_false (json_object_get (doc, "ok")));
    json_t *checks = json_object_get (doc, "checks");
    CHECK (json_array_size (checks) == 3);
    CHECK_STR (json_string_value (json_object_get (json_array_get (checks, 2), "status")), "fail");
    CHECK_STR (json_string_value (json_object_get (json_array_get (checks, 1), "status")), "skip");
    CHECK_STR (json_string_value (json_object_get (json_array_get (checks, 0), "detail")),
               "answered in 3 ms");
    json_decref (doc);
    //  past the capacity, checks are dropped, not written past the end
    for (int i = 0; i < 2 * ZHUB_DOCTOR_MAX_CHECKS; i++)
        zhub_doctor_add (&report, "x", ZHUB_DOCTOR_OK, "-");
    CHECK (report.count == ZHUB_DOCTOR_MAX_CHECKS);
}

int
main (void)
{
    RUN (test_public_url_is_https_unless_loopback);
    RUN (test_missing_scopes_are_named);
    RUN (test_property_shape_is_type_and_uniqueness);
    RUN (test_a_refusal_reads_in_the_providers_own_words);
    RUN (test_report_lines_and_json);
    return zhub_test_failures ? 1 : 0;
}
