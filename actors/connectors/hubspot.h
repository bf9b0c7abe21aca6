//  The HubSpot CRM client (api.hubapi.com), one per actor, built on
//  zhub_http. It knows the base URL, the private-app token (sent as
//  `Authorization: Bearer`, never logged) and the paths of the endpoints
//  the actors use (https://developers.hubspot.com/docs/api/crm/understanding-the-crm and github.com/HubSpot/HubSpot-public-api-spec-collection). It does not interpret answers:
//  callers read resp->status / resp->json and classify failures with
//  zhub_retry. Every call returns zhub_http_request's 0 / -1.
#ifndef ZHUB_HUBSPOT_H
#define ZHUB_HUBSPOT_H

#include "zhub_http.h"
#include "zhub_pacer.h"

#define ZHUB_HUBSPOT_BASE_URL_DEFAULT "https://api.hubapi.com"

typedef struct zhub_hubspot_t zhub_hubspot_t;

typedef struct {
    const char *base_url; //  NULL = ZHUB_HUBSPOT_BASE_URL_DEFAULT; no trailing slash needed
    const char *token;    //  private-app token; NULL or "" sends no Authorization
} zhub_hubspot_config_t;

//  Creates a client over http (borrowed: it must outlive this client).
zhub_hubspot_t *zhub_hubspot_new (const zhub_hubspot_config_t *config, zhub_http_t *http);

//  NULL-safe; nulls *self_p.
void zhub_hubspot_destroy (zhub_hubspot_t **self_p);

//  Any call: path starts with "/" ("/crm/v3/objects/contacts/501"), query
//  included and already escaped. body may be NULL.
int zhub_hubspot_request (zhub_hubspot_t *self, const char *method, const char *path,
                          const json_t *body, const char *traceparent, zhub_http_response_t *resp);

//  GET /crm/v3/objects/contacts/{id}?properties={properties} (comma list).
int zhub_hubspot_contact_get (zhub_hubspot_t *self, const char *id, const char *properties,
                              const char *traceparent, zhub_http_response_t *resp);

//  POST /crm/v3/objects/contacts/batch/upsert with body
//  {"inputs":[{"id":…,"idProperty":…,"properties":{…}}]}.
int zhub_hubspot_contacts_upsert (zhub_hubspot_t *self, const json_t *body, const char *traceparent,
                                  zhub_http_response_t *resp);

//  PATCH /crm/v3/objects/contacts/{id} with body {"properties":{…}}.
int zhub_hubspot_contact_update (zhub_hubspot_t *self, const char *id, const json_t *body,
                                 const char *traceparent, zhub_http_response_t *resp);

//  POST /crm/v3/objects/contacts/gdpr-delete with body {"objectId": id}, or
//  {"objectId": email, "idProperty": "email"} when id_property is "email":
//  deletes the contact permanently, as the GDPR asks (204; 404 when HubSpot
//  knows no such contact, which an eraser counts as done). id_property NULL
//  = the record id.
int zhub_hubspot_contact_gdpr_delete (zhub_hubspot_t *self, const char *object_id,
                                      const char *id_property, const char *traceparent,
                                      zhub_http_response_t *resp);

//  The pacer of this client's host (rate budget, circuit breaker): its
//  figures are for logs and metrics. Every call goes through it.
const zhub_pacer_t *zhub_hubspot_pacer (const zhub_hubspot_t *self);

#endif
