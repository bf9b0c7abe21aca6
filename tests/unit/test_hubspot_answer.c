//  Reading HubSpot's answers: ids of either JSON type, HubSpot's own "not
//  found" told apart from any other 404, the 207 Multi-Status of the batch
//  endpoints, and property definitions against what the sync writes.
//  Answers are shaped like the spec's (and the stand-in's)
//  BatchResponse...WithErrors, Error and Property bodies.
#include "hubspot.h"
#include "zhub_test.h"

static zhub_http_response_t
s_answer (long status, const char *body)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    resp.status = status;
    resp.json = body ? json_loads (body, 0, NULL) : NULL;
    return resp;
}

static void
test_ids_come_as_strings_or_integers (void)
{
    json_t *answer =
        json_loads ("{\"a\":\"501\",\"b\":501,\"c\":\"\",\"d\":-1,\"e\":1.5,\"f\":null}", 0, NULL);
    char *id = zhub_hubspot_id (json_object_get (answer, "a"));
    CHECK_STR (id, "501");
    free (id);
    id = zhub_hubspot_id (json_object_get (answer, "b"));
    CHECK_STR (id, "501");
    free (id);
    CHECK (zhub_hubspot_id (json_object_get (answer, "c")) == NULL);
    CHECK (zhub_hubspot_id (json_object_get (answer, "d")) == NULL);
    CHECK (zhub_hubspot_id (json_object_get (answer, "e")) == NULL);
    CHECK (zhub_hubspot_id (json_object_get (answer, "f")) == NULL);
    CHECK (zhub_hubspot_id (json_object_get (answer, "missing")) == NULL);
    json_decref (answer);
}

static void
test_only_hubspots_own_404_means_absent (void)
{
    zhub_http_response_t resp =
        s_answer (404, "{\"status\":\"error\",\"message\":\"Object not found.  objectId are "
                       "usually numeric.\",\"category\":\"OBJECT_NOT_FOUND\"}");
    CHECK (zhub_hubspot_not_found (&resp));
    zhub_http_response_reset (&resp);
    //  a front end's page, an unrouted path: not HubSpot saying "none"
    resp = s_answer (404, NULL);
    CHECK (!zhub_hubspot_not_found (&resp));
    zhub_http_response_reset (&resp);
    resp = s_answer (404, "{\"status\":\"error\",\"category\":\"VALIDATION_ERROR\"}");
    CHECK (!zhub_hubspot_not_found (&resp));
    zhub_http_response_reset (&resp);
    resp = s_answer (400, "{\"category\":\"OBJECT_NOT_FOUND\"}");
    CHECK (!zhub_hubspot_not_found (&resp));
    zhub_http_response_reset (&resp);
}

static const char *s_multi =
    "{\"status\":\"COMPLETE\",\"results\":[{\"id\":\"501\",\"properties\":{\"k\":\"b-1\"}}],"
    "\"numErrors\":2,\"errors\":["
    "{\"status\":\"error\",\"category\":\"VALIDATION_ERROR\",\"message\":\"Property values were "
    "not valid\",\"errors\":[{\"code\":\"INVALID_EMAIL\",\"context\":{\"propertyName\":["
    "\"email\"]}}],\"context\":{}},"
    "{\"status\":\"error\",\"category\":\"OBJECT_NOT_FOUND\",\"message\":\"Could not get some "
    "CONTACT objects\",\"context\":{\"ids\":[\"b-9\"]}}]}";

static void
test_batch_errors_name_their_input_only_when_hubspot_says_which (void)
{
    json_t *answer = json_loads (s_multi, 0, NULL);
    const json_t *error = zhub_hubspot_batch_error (answer, "b-9", 3);
    CHECK_STR (json_string_value (json_object_get (error, "category")), "OBJECT_NOT_FOUND");
    //  the validation error names a property, not an input
    CHECK (zhub_hubspot_batch_error (answer, "b-2", 3) == NULL);
    //  one input: every error is about it
    error = zhub_hubspot_batch_error (answer, "b-2", 1);
    CHECK_STR (json_string_value (json_object_get (error, "category")), "VALIDATION_ERROR");
    json_t *none = json_loads ("{\"status\":\"COMPLETE\",\"results\":[]}", 0, NULL);
    CHECK (zhub_hubspot_batch_error (none, "b-1", 1) == NULL);
    json_decref (none);
    json_decref (answer);
}

static void
test_batch_error_classification (void)
{
    json_t *answer = json_loads (s_multi, 0, NULL);
    zhub_outcome_t out;
    zhub_hubspot_batch_classify (json_array_get (json_object_get (answer, "errors"), 0),
                                 "hubspot upsert contact", &out);
    CHECK (out.rc == ZHUB_REJECT && out.code == 400);
    CHECK (strstr (out.reason, "hubspot upsert contact: VALIDATION_ERROR Property values") != NULL);
    zhub_hubspot_batch_classify (json_array_get (json_object_get (answer, "errors"), 1), "x", &out);
    CHECK (out.rc == ZHUB_REJECT && out.code == 404);
    json_decref (answer);
    json_t *errors = json_loads ("[{\"category\":\"RATE_LIMITS\",\"message\":\"slow down\"},"
                                 "{\"status\":\"503\",\"category\":\"WHATEVER\"},"
                                 "{\"category\":\"SOMETHING_NEW\"},"
                                 "{\"category\":\"CONFLICT\"}]",
                                 0, NULL);
    zhub_hubspot_batch_classify (json_array_get (errors, 0), "x", &out);
    CHECK (out.rc == ZHUB_RETRY && out.code == 429);
    zhub_hubspot_batch_classify (json_array_get (errors, 1), "x", &out);
    CHECK (out.rc == ZHUB_RETRY && out.code == 503);
    CHECK (zhub_hubspot_error_status (json_array_get (errors, 2)) == 400);
    CHECK (zhub_hubspot_error_status (json_array_get (errors, 3)) == 409);
    json_decref (errors);
}

static void
test_batch_read_of_one_unique_value (void)
{
    const json_t *record;
    zhub_http_response_t resp = s_answer (
        200,
        "{\"status\":\"COMPLETE\",\"results\":[{\"id\":\"7\",\"properties\":{\"zhub_deal_key\":"
        "\"B-1/default\"}}]}");
    CHECK (zhub_hubspot_batch_read_one (&resp, "zhub_deal_key", "b-1/default", &record) == ZHUB_OK);
    CHECK_STR (json_string_value (json_object_get (record, "id")), "7");
    //  a result that is not the one asked for: not understood, not "none"
    CHECK (zhub_hubspot_batch_read_one (&resp, "zhub_deal_key", "b-2/default", &record)
           == ZHUB_ERROR);
    zhub_http_response_reset (&resp);
    //  207 whose only error is OBJECT_NOT_FOUND: there is none
    resp = s_answer (207, "{\"status\":\"COMPLETE\",\"results\":[],\"numErrors\":1,\"errors\":[{"
                          "\"status\":\"error\",\"category\":\"OBJECT_NOT_FOUND\",\"context\":{"
                          "\"ids\":[\"b-1/default\"]}}]}");
    CHECK (zhub_hubspot_batch_read_one (&resp, "zhub_deal_key", "b-1/default", &record)
           == ZHUB_NOTFOUND);
    CHECK (record == NULL);
    zhub_http_response_reset (&resp);
    resp = s_answer (200, "{\"status\":\"COMPLETE\",\"results\":[]}");
    CHECK (zhub_hubspot_batch_read_one (&resp, "zhub_deal_key", "b-1/default", &record)
           == ZHUB_NOTFOUND);
    zhub_http_response_reset (&resp);
    //  anything else is no answer about the deal
    resp = s_answer (207, "{\"status\":\"COMPLETE\",\"results\":[],\"errors\":[{\"category\":"
                          "\"VALIDATION_ERROR\"}]}");
    CHECK (zhub_hubspot_batch_read_one (&resp, "zhub_deal_key", "b-1/default", &record)
           == ZHUB_ERROR);
    zhub_http_response_reset (&resp);
    resp = s_answer (400, "<html><h2>HTTP ERROR 400 Ambiguous URI path separator</h2></html>");
    CHECK (zhub_hubspot_batch_read_one (&resp, "zhub_deal_key", "b-1/default", &record)
           == ZHUB_ERROR);
    zhub_http_response_reset (&resp);
    resp = s_answer (404, "{\"category\":\"OBJECT_NOT_FOUND\"}");
    CHECK (zhub_hubspot_batch_read_one (&resp, "zhub_deal_key", "b-1/default", &record)
           == ZHUB_ERROR);
    zhub_http_response_reset (&resp);
}

//  The properties the sync writes, against the definitions HubSpot holds
//  (GET /crm/v3/properties/{objectType}).
static void
test_property_definitions_against_what_zhub_needs (void)
{
    const zhub_hubspot_property_t *key = zhub_hubspot_property_find ("deals", "zhub_deal_key");
    CHECK (key && key->unique && !strcmp (key->type, "string"));
    CHECK (zhub_hubspot_property_find ("deals", "dealstage") == NULL);
    size_t count, unique = 0;
    const zhub_hubspot_property_t *all = zhub_hubspot_properties (&count);
    for (size_t i = 0; i < count; i++)
        unique += all[i].unique;
    CHECK (count == 10 && unique == 2);

    char detail[200];
    json_t *held = json_loads ("{\"name\":\"zhub_deal_key\",\"type\":\"string\","
                               "\"hasUniqueValue\":true}",
                               0, NULL);
    CHECK (zhub_hubspot_property_compare (key, held, detail, sizeof detail)
           == ZHUB_HUBSPOT_PROPERTY_OK);
    json_object_set_new (held, "hasUniqueValue", json_false ());
    CHECK (zhub_hubspot_property_compare (key, held, detail, sizeof detail)
           == ZHUB_HUBSPOT_PROPERTY_MISMATCH);
    CHECK_STR (detail, "exists as type=string unique=false; zhub needs type=string unique=true");
    CHECK (zhub_hubspot_property_compare (key, NULL, detail, sizeof detail)
           == ZHUB_HUBSPOT_PROPERTY_MISSING);
    //  an operator's own field: only that it exists
    zhub_hubspot_property_t own = {.object = "contacts", .name = "budget"};
    CHECK (zhub_hubspot_property_compare (&own, held, detail, sizeof detail)
           == ZHUB_HUBSPOT_PROPERTY_OK);
    json_decref (held);
}

int
main (void)
{
    RUN (test_ids_come_as_strings_or_integers);
    RUN (test_only_hubspots_own_404_means_absent);
    RUN (test_batch_errors_name_their_input_only_when_hubspot_says_which);
    RUN (test_batch_error_classification);
    RUN (test_batch_read_of_one_unique_value);
    RUN (test_property_definitions_against_what_zhub_needs);
    TEST_EXIT ();
}
