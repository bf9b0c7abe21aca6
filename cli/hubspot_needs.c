//  The one list of what zhub needs in a HubSpot portal (hubspot_needs.h),
//  and the comparisons setup and doctor make against HubSpot's answers.
#include "hubspot_needs.h"

#include <stdio.h>
#include <string.h>

const zhub_hubspot_property_t zhub_hubspot_properties[] = {
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
const size_t zhub_hubspot_property_count =
    sizeof zhub_hubspot_properties / sizeof zhub_hubspot_properties[0];

const zhub_hubspot_scope_t zhub_hubspot_scopes[] = {
    {"crm.objects.contacts.read", "contact-sync reads contacts", false},
    {"crm.objects.contacts.write",
     "contact-sync writes and erases contacts; activity-log writes notes, tasks and meetings",
     false},
    {"crm.objects.deals.read", "deal-sync reads deals and the deal pipelines", false},
    {"crm.objects.deals.write", "deal-sync creates and moves deals", false},
    {"crm.schemas.contacts.write", "zhub hubspot setup creates the contact properties", true},
    {"crm.schemas.deals.write", "zhub hubspot setup creates the deal properties", true},
};
const size_t zhub_hubspot_scope_count = sizeof zhub_hubspot_scopes / sizeof zhub_hubspot_scopes[0];

bool
zhub_hubspot_property_matches (const zhub_hubspot_property_t *property, const json_t *answer,
                               char *detail, size_t detail_size)
{
    bool unique = json_is_true (json_object_get (answer, "hasUniqueValue"));
    const char *type = json_string_value (json_object_get (answer, "type"));
    if (unique == property->unique && type && !strcmp (type, property->type)) {
        if (detail_size)
            detail[0] = 0;
        return true;
    }
    snprintf (detail, detail_size, "exists as type=%s unique=%s; zhub needs type=%s unique=%s",
              type ? type : "?", unique ? "true" : "false", property->type,
              property->unique ? "true" : "false");
    return false;
}

static bool
s_granted (const json_t *granted, const char *scope)
{
    size_t i;
    const json_t *item;
    json_array_foreach (granted, i, item)
    {
        const char *text = json_string_value (item);
        if (text && !strcmp (text, scope))
            return true;
    }
    return false;
}

size_t
zhub_hubspot_missing_scopes (const json_t *granted, bool with_setup, char *out, size_t out_size)
{
    size_t missing = 0, used = 0;
    if (out_size)
        out[0] = 0;
    for (size_t i = 0; i < zhub_hubspot_scope_count; i++) {
        const zhub_hubspot_scope_t *scope = &zhub_hubspot_scopes[i];
        if ((scope->setup_only && !with_setup) || s_granted (granted, scope->scope))
            continue;
        if (used < out_size) {
            int n =
                snprintf (out + used, out_size - used, "%s%s", missing ? ", " : "", scope->scope);
            used += n > 0 ? (size_t)n : 0;
        }
        missing++;
    }
    return missing;
}
