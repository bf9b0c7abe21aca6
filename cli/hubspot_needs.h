//  The scopes zhub needs on a HubSpot private app's token, written once for
//  the command that checks them (`zhub doctor`). The custom properties the
//  sync actors write are the connector's table (zhub_hubspot_properties in
//  actors/connectors/hubspot.h), which `zhub hubspot setup` creates and the
//  actors check before they consume. Pure data and pure comparisons.
#ifndef ZHUB_HUBSPOT_NEEDS_H
#define ZHUB_HUBSPOT_NEEDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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

//  The scopes of zhub_hubspot_scopes missing from granted (a JSON array of
//  strings, as the token-info endpoint answers), setup-only ones included
//  when with_setup: written to out comma-separated ("" when none). Returns
//  how many are missing.
size_t zhub_hubspot_missing_scopes (const json_t *granted, bool with_setup, char *out,
                                    size_t out_size);

#endif
