//  What zhub needs in a HubSpot portal, written once for the command that
//  creates it (`zhub hubspot setup`) and the one that checks it (`zhub
//  doctor`): the custom properties the sync actors write, with their type
//  and uniqueness, and the scopes of the private app's token. Pure data and
//  pure comparisons; no I/O.
#ifndef ZHUB_HUBSPOT_NEEDS_H
#define ZHUB_HUBSPOT_NEEDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *object; //  "contacts" / "deals"
    const char *name;
    const char *label;
    const char *type;  //  string, number, datetime
    const char *field; //  text, number, date
    bool unique;       //  hasUniqueValue: the upsert key
    const char *description;
} zhub_hubspot_property_t;

//  The custom properties the default mapping writes (contact-sync's and
//  deal-sync's), in the order setup creates them.
extern const zhub_hubspot_property_t zhub_hubspot_properties[];
extern const size_t zhub_hubspot_property_count;

typedef struct {
    const char *scope;
    const char *needed_by; //  in plain words, for messages
    bool setup_only;       //  only `zhub hubspot setup` needs it
} zhub_hubspot_scope_t;

//  The private app's scopes, after the security sections of HubSpot's CRM
//  API specs (github.com/HubSpot/HubSpot-public-api-spec-collection:
//  Contacts, Deals, Notes, Tasks, Meetings, Properties, Pipelines).
extern const zhub_hubspot_scope_t zhub_hubspot_scopes[];
extern const size_t zhub_hubspot_scope_count;

//  True when answer (a GET /crm/v3/properties/{object}/{name} answer)
//  has the type and uniqueness zhub needs; else false with what differs in
//  detail ("exists as type=string unique=false; zhub needs ...").
bool zhub_hubspot_property_matches (const zhub_hubspot_property_t *property, const json_t *answer,
                                    char *detail, size_t detail_size);

//  The scopes of zhub_hubspot_scopes missing from granted (a JSON array of
//  strings, as the token-info endpoint answers), setup-only ones included
//  when with_setup: written to out comma-separated ("" when none). Returns
//  how many are missing.
size_t zhub_hubspot_missing_scopes (const json_t *granted, bool with_setup, char *out,
                                    size_t out_size);

#endif
