//  The custom HubSpot properties zhub's sync writes, in one table: `zhub
//  hubspot setup` creates them from it, and contact-sync and deal-sync
//  check them from it before they consume anything. A property that is
//  missing or has the wrong shape makes every write fail (HubSpot answers
//  400 PROPERTY_DOESNT_EXIST, or an upsert on a key that is not unique is
//  refused), so it is better found once, at start, with one clear line,
//  than in a dead letter per message.
#include "hubspot.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const zhub_hubspot_property_t s_properties[] = {
    {"contacts", "bird_contact_id", "Bird contact id", "string", "text", true,
     "The Bird contact this HubSpot contact is synced with (zhub)"},
    {"contacts", "ai_conversation_status", "AI conversation status", "string", "text", false,
     "Status of the AI agent's WhatsApp conversation (zhub)"},
    {"contacts", "urbanhub_property_interest", "UrbanHub property interest", "string", "text",
     false, "Property the contact asked the AI agent about (zhub)"},
    {"deals", "zhub_deal_key", "zhub deal key", "string", "text", true,
     "Bird contact id / pipeline: one open deal per contact and pipeline (zhub)"},
    {"deals", "ai_agent_type", "AI agent type", "string", "text", false,
     "qualifier, warmer, scheduler or followup (zhub)"},
    {"deals", "conversation_id", "Conversation id", "string", "text", false,
     "The Bird conversation behind this deal (zhub)"},
    {"deals", "qualification_score", "Qualification score", "number", "number", false,
     "0-100, from the AI qualification (zhub)"},
    {"deals", "property_interest", "Property interest", "string", "text", false,
     "Property the lead is interested in (zhub)"},
    {"deals", "tour_scheduled_date", "Tour scheduled date", "datetime", "date", false,
     "Start of the scheduled tour (zhub)"},
    {"deals", "last_ai_interaction", "Last AI interaction", "datetime", "date", false,
     "Time of the latest AI event on this deal (zhub)"},
};

const zhub_hubspot_property_t *
zhub_hubspot_properties (size_t *count)
{
    *count = sizeof s_properties / sizeof s_properties[0];
    return s_properties;
}

const zhub_hubspot_property_t *
zhub_hubspot_property_find (const char *object, const char *name)
{
    for (size_t i = 0; i < sizeof s_properties / sizeof s_properties[0]; i++)
        if (!strcmp (s_properties[i].object, object) && !strcmp (s_properties[i].name, name))
            return &s_properties[i];
    return NULL;
}

zhub_hubspot_property_state_t
zhub_hubspot_property_compare (const zhub_hubspot_property_t *need, const json_t *held,
                               char *detail, size_t detail_size)
{
    if (detail_size)
        *detail = 0;
    if (!json_is_object (held))
        return ZHUB_HUBSPOT_PROPERTY_MISSING;
    if (!need->type)
        return ZHUB_HUBSPOT_PROPERTY_OK;
    bool unique = json_is_true (json_object_get (held, "hasUniqueValue"));
    const char *type = json_string_value (json_object_get (held, "type"));
    if (unique != need->unique || !type || strcmp (type, need->type)) {
        snprintf (detail, detail_size, "exists as type=%s unique=%s; zhub needs type=%s unique=%s",
                  type ? type : "?", unique ? "true" : "false", need->type,
                  need->unique ? "true" : "false");
        return ZHUB_HUBSPOT_PROPERTY_MISMATCH;
    }
    return ZHUB_HUBSPOT_PROPERTY_OK;
}

static const json_t *
s_held (const json_t *answer, const char *name)
{
    size_t i;
    const json_t *definition;
    json_array_foreach (json_object_get (answer, "results"), i, definition)
    {
        const char *held = json_string_value (json_object_get (definition, "name"));
        if (held && !strcmp (held, name))
            return definition;
    }
    return NULL;
}

//  method on /crm/v3/properties/{object}[/{name}], each escaped as a path
//  segment.
static int
s_properties_call (zhub_hubspot_t *self, const char *method, const char *object, const char *name,
                   const json_t *body, const char *traceparent, zhub_http_response_t *resp)
{
    char *eo = zhub_http_escape (object);
    char *en = name ? zhub_http_escape (name) : NULL;
    char *path = zhub_sprintf ("/crm/v3/properties/%s%s%s", eo, en ? "/" : "", en ? en : "");
    int rc = zhub_hubspot_request (self, method, path, body, traceparent, resp);
    free (path);
    free (en);
    free (eo);
    return rc;
}

int
zhub_hubspot_properties_get (zhub_hubspot_t *self, const char *object, const char *traceparent,
                             zhub_http_response_t *resp)
{
    return s_properties_call (self, "GET", object, NULL, NULL, traceparent, resp);
}

int
zhub_hubspot_property_get (zhub_hubspot_t *self, const char *object, const char *name,
                           const char *traceparent, zhub_http_response_t *resp)
{
    assert (name);
    return s_properties_call (self, "GET", object, name, NULL, traceparent, resp);
}

int
zhub_hubspot_property_create (zhub_hubspot_t *self, const char *object, const json_t *body,
                              const char *traceparent, zhub_http_response_t *resp)
{
    return s_properties_call (self, "POST", object, NULL, body, traceparent, resp);
}

int
zhub_hubspot_properties_check (zhub_hubspot_t *self, const char *object,
                               const zhub_hubspot_property_t *needs, size_t count, char *why,
                               size_t why_size)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    int rc = 0;
    zhub_hubspot_properties_get (self, object, NULL, &resp);
    if (resp.status != 200 || !json_is_array (json_object_get (resp.json, "results"))) {
        const char *message = json_string_value (json_object_get (resp.json, "message"));
        if (resp.status == 0)
            snprintf (why, why_size, "HubSpot did not answer GET /crm/v3/properties/%s: %s", object,
                      resp.error);
        else
            snprintf (why, why_size,
                      "HubSpot answered GET /crm/v3/properties/%s with HTTP %ld%s%.120s", object,
                      resp.status, message ? ": " : "", message ? message : "");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const zhub_hubspot_property_t *need = &needs[i];
        char detail[200];
        zhub_hubspot_property_state_t state = zhub_hubspot_property_compare (
            need, s_held (resp.json, need->name), detail, sizeof detail);
        bool ours = zhub_hubspot_property_find (need->object, need->name) != NULL;
        if (state == ZHUB_HUBSPOT_PROPERTY_MISSING) {
            snprintf (why, why_size,
                      ours ? "HubSpot property %s.%s is missing: run `zhub hubspot setup`"
                           : "HubSpot property %s.%s (in the mapping file) is missing: create "
                             "it in HubSpot",
                      need->object, need->name);
            rc = 1;
        } else if (state == ZHUB_HUBSPOT_PROPERTY_MISMATCH) {
            snprintf (why, why_size,
                      "HubSpot property %s.%s %s: HubSpot cannot change that in place; delete "
                      "it (or rename it) and run `zhub hubspot setup`",
                      need->object, need->name, detail);
            rc = 1;
        }
    }
    zhub_http_response_reset (&resp);
    return rc;
}
