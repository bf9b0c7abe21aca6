//  The scopes zhub needs on a HubSpot token (hubspot_needs.h), and the
//  comparison doctor makes against the token-info answer.
#include "hubspot_needs.h"

#include <stdio.h>
#include <string.h>

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
