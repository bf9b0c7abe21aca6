//  Reading HubSpot's answers, written once for every actor: ids that come
//  as strings or integers, a "not found" that really is HubSpot's, and the
//  207 Multi-Status of the batch endpoints, where one call holds both
//  successes and failures. Pure: the calls stay in the actors, which
//  decide what a failed input means for them (retry it alone, dead-letter
//  it); what HubSpot said about it is read here.
#include "hubspot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_MAX_ID 256

char *
zhub_hubspot_id (const json_t *value)
{
    if (json_is_string (value) && json_string_length (value) > 0
        && json_string_length (value) <= S_MAX_ID)
        return zhub_strdup (json_string_value (value));
    if (json_is_integer (value) && json_integer_value (value) >= 0)
        return zhub_sprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (value));
    return NULL;
}

static const char *
s_category (const json_t *error)
{
    const char *category = json_string_value (json_object_get (error, "category"));
    return category ? category : "";
}

bool
zhub_hubspot_not_found (const zhub_http_response_t *resp)
{
    return resp && resp->status == 404 && json_is_object (resp->json)
           && !strcmp (s_category (resp->json), "OBJECT_NOT_FOUND");
}

//  True when context[key] (a list of strings, or one string) holds id.
static bool
s_context_names (const json_t *context, const char *key, const char *id)
{
    const json_t *value = json_object_get (context, key);
    if (json_is_string (value))
        return !strcmp (json_string_value (value), id);
    size_t i;
    const json_t *item;
    json_array_foreach (value, i, item)
    {
        if (json_is_string (item) && !strcmp (json_string_value (item), id))
            return true;
    }
    return false;
}

const json_t *
zhub_hubspot_batch_error (const json_t *answer, const char *id, size_t inputs)
{
    const json_t *errors = json_object_get (answer, "errors");
    size_t i;
    const json_t *error;
    json_array_foreach (errors, i, error)
    {
        const json_t *context = json_object_get (error, "context");
        if (id
            && (s_context_names (context, "ids", id) || s_context_names (context, "id", id)
                || s_context_names (context, "objectWriteTraceId", id)))
            return error;
    }
    return inputs == 1 ? json_array_get (errors, 0) : NULL;
}

long
zhub_hubspot_error_status (const json_t *error)
{
    const char *status = json_string_value (json_object_get (error, "status"));
    if (status && *status) {
        char *end;
        long number = strtol (status, &end, 10);
        if (!*end && number >= 400 && number < 600)
            return number;
    }
    if (json_is_integer (json_object_get (error, "status"))) {
        json_int_t number = json_integer_value (json_object_get (error, "status"));
        if (number >= 400 && number < 600)
            return (long)number;
    }
    static const struct {
        const char *category;
        long status;
    } map[] = {
        {"VALIDATION_ERROR", 400}, {"INVALID_AUTHENTICATION", 401},
        {"MISSING_SCOPES", 403},   {"OBJECT_NOT_FOUND", 404},
        {"CONFLICT", 409},         {"OBJECT_ALREADY_EXISTS", 409},
        {"RATE_LIMITS", 429},      {"INTERNAL_ERROR", 500},
    };
    const char *category = s_category (error);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp (category, map[i].category))
            return map[i].status;
    return 400;
}

void
zhub_hubspot_batch_classify (const json_t *error, const char *what, zhub_outcome_t *out)
{
    long status = zhub_hubspot_error_status (error);
    const char *message = json_string_value (json_object_get (error, "message"));
    const char *category = s_category (error);
    bool transient = status == 408 || status == 423 || status == 429 || status >= 500;
    if (transient)
        zhub_outcome_retry (out, -1, (uint32_t)status, "%s: %s %.160s", what,
                            *category ? category : "error", message ? message : "");
    else
        zhub_outcome_reject (out, (uint32_t)status, "%s: %s %.160s", what,
                             *category ? category : "error", message ? message : "");
}

zhub_rc_t
zhub_hubspot_batch_read_one (const zhub_http_response_t *resp, const char *property,
                             const char *value, const json_t **record)
{
    *record = NULL;
    if (!resp || resp->status < 200 || resp->status >= 300 || !json_is_object (resp->json))
        return ZHUB_ERROR;
    size_t i;
    const json_t *result;
    json_array_foreach (json_object_get (resp->json, "results"), i, result)
    {
        const char *held =
            json_string_value (json_object_get (json_object_get (result, "properties"), property));
        if (held && !strcasecmp (held, value)) {
            *record = result;
            return ZHUB_OK;
        }
    }
    //  One value was asked for: a result that does not hold it is not
    //  an answer we understand, and certainly not "none".
    if (json_array_size (json_object_get (resp->json, "results")) > 0)
        return ZHUB_ERROR;
    const json_t *error;
    json_array_foreach (json_object_get (resp->json, "errors"), i, error)
    {
        if (strcmp (s_category (error), "OBJECT_NOT_FOUND"))
            return ZHUB_ERROR;
    }
    return ZHUB_NOTFOUND;
}
