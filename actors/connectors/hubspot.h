//  The HubSpot CRM client (api.hubapi.com), one per actor, built on
//  zhub_http. It knows the base URL, the private-app token (sent as
//  `Authorization: Bearer`, never logged) and the paths of the endpoints
//  the actors use (https://developers.hubspot.com/docs/api/crm/understanding-the-crm,
//  github.com/HubSpot/HubSpot-public-api-spec-collection). Calls return
//  zhub_http_request's 0 / -1 and do not interpret answers; the pure
//  readers at the end (hubspot_answer.c) read what every caller must read
//  the same way — ids, HubSpot's own "not found", the 207 Multi-Status of
//  batch calls — and failures are classified with zhub_retry.
#ifndef ZHUB_HUBSPOT_H
#define ZHUB_HUBSPOT_H

#include "zhub_http.h"
#include "zhub_pacer.h"
#include "zhub_retry.h"

#define ZHUB_HUBSPOT_BASE_URL_DEFAULT "https://api.hubapi.com"

typedef struct zhub_hubspot_t zhub_hubspot_t;

typedef struct {
    const char *base_url; //  NULL = ZHUB_HUBSPOT_BASE_URL_DEFAULT; no trailing slash needed
    const char *token;    //  private-app token; NULL or "" sends no Authorization
} zhub_hubspot_config_t;

//  Reads ZHUB_HUBSPOT_BASE_URL (an absolute http(s) URL: the API's host,
//  no version path; default ZHUB_HUBSPOT_BASE_URL_DEFAULT) and
//  ZHUB_HUBSPOT_TOKEN (a secret) into *config; the strings point into the
//  environment. Returns 0, or -1 with the variable named in err. For the
//  actors that call HubSpot, once at start.
int zhub_hubspot_config_load (zhub_hubspot_config_t *config, char *err, size_t err_size);

//  Logs the configuration (`event=config`), the token masked.
void zhub_hubspot_config_log (const zhub_hubspot_config_t *config);

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

//  POST /crm/v3/objects/contacts/search with body {filterGroups, sorts,
//  properties, limit, after?}. Search has a limit of its own (5 calls a
//  second per token, no rate headers): the pacer spaces these calls.
int zhub_hubspot_contacts_search (zhub_hubspot_t *self, const json_t *body, const char *traceparent,
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

//  POST /oauth/v2/private-apps/get/access-token-info with body
//  {"tokenKey": token}: a private app's token, answered with {"userId",
//  "hubId", "appId", "scopes"} ("View private app access token
//  information", https://developers.hubspot.com/docs/apps/legacy-apps/private-apps/overview).
int zhub_hubspot_token_info (zhub_hubspot_t *self, const char *token, zhub_http_response_t *resp);

//  The pacer of this client's host (rate budget, circuit breaker): its
//  figures are for logs and metrics. Every call goes through it.
const zhub_pacer_t *zhub_hubspot_pacer (const zhub_hubspot_t *self);

//  The paths the contact calls above use (pure), for showing a call
//  before it is made (`zhub dlq replay --dry-run`):
//  zhub_hubspot_contact_path gives "/crm/v3/objects/contacts/{id}", id
//  escaped, with "?properties={properties}" when properties is not NULL
//  (a comma list, sent as given). A fresh string.
#define ZHUB_HUBSPOT_CONTACTS_UPSERT_PATH "/crm/v3/objects/contacts/batch/upsert"
#define ZHUB_HUBSPOT_CONTACTS_SEARCH_PATH "/crm/v3/objects/contacts/search"
char *zhub_hubspot_contact_path (const char *id, const char *properties);

//  -------------------------------------------------------------------
//  Reading HubSpot's answers (hubspot_answer.c; pure, no I/O)
//
//  Record ids and association ids: the spec types them as strings
//  (SimplePublicObject.id; MultiAssociatedObjectWithLabel.toObjectId in
//  the 2025-09 and later CRM Associations v4 rollouts) but other rollouts
//  of the same endpoints, and the live API, send JSON integers
//  (github.com/HubSpot/HubSpot-public-api-spec-collection,
//  PublicApiSpecs/CRM/Associations/Rollouts/50914/v4 vs /130902/2026-03).
//  A reader takes both.

//  A HubSpot id given as a non-empty string (at most 256 bytes) or a
//  non-negative integer, as a fresh string; NULL for anything else.
char *zhub_hubspot_id (const json_t *value);

//  True only for HubSpot's own "no such record": HTTP 404 with its JSON
//  error body, category OBJECT_NOT_FOUND. A 404 without it (a front end's
//  page, an unrouted path) is a failure like any other 4xx, never "absent".
bool zhub_hubspot_not_found (const zhub_http_response_t *resp);

//  Batch endpoints (POST /crm/v3/objects/{type}/batch/read|create|update|
//  upsert) answer 200/201 when every input succeeded and 207 Multi-Status
//  when some did not: results[] holds the inputs that succeeded, errors[]
//  one StandardError per failure {status, category, message, context,
//  errors[]}, numErrors their count (BatchResponseSimplePublicObjectWithErrors,
//  BatchResponseSimplePublicUpsertObjectWithErrors in the spec). An error
//  names its input only through its context when HubSpot says which
//  ("ids" for OBJECT_NOT_FOUND); callers must not assume the rest succeeded.

//  The error of answer's errors[] that names the input id (its context
//  lists id under "ids", "id" or "objectWriteTraceId"), or, when the batch
//  had one input (inputs == 1), the first error. NULL when none does.
const json_t *zhub_hubspot_batch_error (const json_t *answer, const char *id, size_t inputs);

//  The HTTP status an error of a batch answer stands for: its "status"
//  when that is a number, else from its category (VALIDATION_ERROR 400,
//  INVALID_AUTHENTICATION 401, MISSING_SCOPES 403, OBJECT_NOT_FOUND 404,
//  CONFLICT and OBJECT_ALREADY_EXISTS 409, RATE_LIMITS 429,
//  INTERNAL_ERROR 500); 400 when neither says.
long zhub_hubspot_error_status (const json_t *error);

//  The outcome of one failed input of a batch call, as zhub_retry_classify
//  gives for a whole call: RETRY for a transient status (429, 5xx), else
//  REJECT; code = that status, reason "<what>: <category> <message>".
void zhub_hubspot_batch_classify (const json_t *error, const char *what, zhub_outcome_t *out);

//  The answer of a batch/read by a unique property (idProperty) for ONE
//  value, property being among the properties the read asked for.
//  ZHUB_OK with *record (borrowed from resp) when a result holds the value
//  in property (compared without case, as HubSpot matches unique values);
//  ZHUB_NOTFOUND when HubSpot clearly says there is none (a 2xx with no
//  result whose errors, if any, are all OBJECT_NOT_FOUND); ZHUB_ERROR for
//  anything else (a non-2xx, another error category, a result without the
//  value): the caller classifies resp and must not take it for "absent".
zhub_rc_t zhub_hubspot_batch_read_one (const zhub_http_response_t *resp, const char *property,
                                       const char *value, const json_t **record);

//  -------------------------------------------------------------------
//  The custom properties zhub writes (hubspot_properties.c)
//
//  contact-sync and deal-sync write properties a portal does not have
//  until `zhub hubspot setup` creates them; the unique ones are their
//  upsert keys (hasUniqueValue). Without them every write fails, so the
//  actors check them before they consume anything (zhub_actor_spec_t.ready)
//  with GET /crm/v3/properties/{objectType} (Properties API v3).

typedef struct {
    const char *object; //  "contacts" / "deals"
    const char *name;
    const char *label;
    const char *type;  //  string, number, datetime; NULL: any (an operator's own field)
    const char *field; //  text, number, date
    bool unique;       //  hasUniqueValue (checked when type is set)
    const char *description;
} zhub_hubspot_property_t;

//  What the default mapping writes: contact-sync's on contacts, deal-sync's
//  on deals, the id properties unique. count gets the number of entries.
const zhub_hubspot_property_t *zhub_hubspot_properties (size_t *count);

//  The entry for object.name in that table, or NULL.
const zhub_hubspot_property_t *zhub_hubspot_property_find (const char *object, const char *name);

typedef enum {
    ZHUB_HUBSPOT_PROPERTY_OK = 0,
    ZHUB_HUBSPOT_PROPERTY_MISSING,
    ZHUB_HUBSPOT_PROPERTY_MISMATCH //  exists with another type or uniqueness
} zhub_hubspot_property_state_t;

//  Compares a property definition HubSpot holds (one of the properties
//  API's results; NULL when it has none) with what zhub needs. Pure. A
//  mismatch says what is there and what is needed in detail.
zhub_hubspot_property_state_t zhub_hubspot_property_compare (const zhub_hubspot_property_t *need,
                                                             const json_t *held, char *detail,
                                                             size_t detail_size);

//  The Properties API v3 calls
//  (https://developers.hubspot.com/docs/api/crm/properties); object and
//  name are escaped as path segments. Each returns what
//  zhub_hubspot_request returns.
//  GET /crm/v3/properties/{object}: {"results": [definition, ...]}.
int zhub_hubspot_properties_get (zhub_hubspot_t *self, const char *object, const char *traceparent,
                                 zhub_http_response_t *resp);
//  GET /crm/v3/properties/{object}/{name}: the definition, 404 when absent.
int zhub_hubspot_property_get (zhub_hubspot_t *self, const char *object, const char *name,
                               const char *traceparent, zhub_http_response_t *resp);
//  POST /crm/v3/properties/{object} with body {name, label, type,
//  fieldType, groupName, ...}: 201 created, 409 when it exists.
int zhub_hubspot_property_create (zhub_hubspot_t *self, const char *object, const json_t *body,
                                  const char *traceparent, zhub_http_response_t *resp);

//  Checks that the count properties needs (all of one object type) exist
//  as needed: one GET /crm/v3/properties/{object}. Returns 0 when they
//  all do; 1 when one does not, with a line for operators in why (which
//  property, what to do: `zhub hubspot setup`, or create an operator's
//  own field in HubSpot); -1 when HubSpot gave no usable answer (why says
//  what it answered).
int zhub_hubspot_properties_check (zhub_hubspot_t *self, const char *object,
                                   const zhub_hubspot_property_t *needs, size_t count, char *why,
                                   size_t why_size);

//  -------------------------------------------------------------------
//  Deals, engagements and contacts by a unique property: the calls of
//  deal-sync and activity-log (hubspot_crm.c). Ids are escaped here as
//  path segments; bodies are the actors' (their pure cores build them).
//  Each returns what zhub_hubspot_request returns.

//  GET /crm/v3/objects/contacts/{value}?idProperty={id_property}
//  [&properties={properties}]: the contact whose unique property
//  id_property (bird_contact_id) holds value. properties is a comma list,
//  already escaped, or NULL.
int zhub_hubspot_contact_get_by (zhub_hubspot_t *self, const char *id_property, const char *value,
                                 const char *properties, const char *traceparent,
                                 zhub_http_response_t *resp);

//  GET /crm/v3/pipelines/deals: every deal pipeline with its stages.
int zhub_hubspot_deal_pipelines (zhub_hubspot_t *self, const char *traceparent,
                                 zhub_http_response_t *resp);

//  GET /crm/v3/objects/deals/{id}[?properties={properties}] (a comma list,
//  already escaped, or NULL).
int zhub_hubspot_deal_get (zhub_hubspot_t *self, const char *id, const char *properties,
                           const char *traceparent, zhub_http_response_t *resp);

//  PATCH /crm/v3/objects/deals/{id} with body {"properties":{...}}.
int zhub_hubspot_deal_update (zhub_hubspot_t *self, const char *id, const json_t *body,
                              const char *traceparent, zhub_http_response_t *resp);

//  POST /crm/v3/objects/deals/batch/read with body {"idProperty", "inputs",
//  "properties", ...}: a deal key goes in the body, never in a path.
int zhub_hubspot_deals_read (zhub_hubspot_t *self, const json_t *body, const char *traceparent,
                             zhub_http_response_t *resp);

//  POST /crm/v3/objects/deals/batch/upsert with body
//  {"inputs":[{"id", "idProperty", "properties"}]}.
int zhub_hubspot_deals_upsert (zhub_hubspot_t *self, const json_t *body, const char *traceparent,
                               zhub_http_response_t *resp);

//  PUT /crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}:
//  the default association (idempotent).
int zhub_hubspot_deal_associate_contact (zhub_hubspot_t *self, const char *deal_id,
                                         const char *contact_id, const char *traceparent,
                                         zhub_http_response_t *resp);

//  GET /crm/v4/objects/deals/{deal}/associations/contacts: the deal's
//  contacts (results[].toObjectId).
int zhub_hubspot_deal_contacts (zhub_hubspot_t *self, const char *deal_id, const char *traceparent,
                                zhub_http_response_t *resp);

//  The engagement objects activity-log writes.
typedef enum {
    ZHUB_HUBSPOT_NOTE,   //  /crm/v3/objects/notes
    ZHUB_HUBSPOT_TASK,   //  /crm/v3/objects/tasks
    ZHUB_HUBSPOT_MEETING //  /crm/v3/objects/meetings
} zhub_hubspot_engagement_t;

//  POST /crm/v3/objects/{notes|tasks|meetings} with body
//  {"properties":{...},"associations":[...]}.
int zhub_hubspot_engagement_create (zhub_hubspot_t *self, zhub_hubspot_engagement_t kind,
                                    const json_t *body, const char *traceparent,
                                    zhub_http_response_t *resp);

//  PATCH /crm/v3/objects/{notes|tasks|meetings}/{id} with body {"properties":{...}}.
int zhub_hubspot_engagement_update (zhub_hubspot_t *self, zhub_hubspot_engagement_t kind,
                                    const char *id, const json_t *body, const char *traceparent,
                                    zhub_http_response_t *resp);

//  DELETE /crm/v3/objects/{notes|tasks|meetings}/{id}: 204; 404 when it is
//  gone already.
int zhub_hubspot_engagement_delete (zhub_hubspot_t *self, zhub_hubspot_engagement_t kind,
                                    const char *id, const char *traceparent,
                                    zhub_http_response_t *resp);

//  The engagement's address in the objects API, "/crm/v3/objects/notes/{id}"
//  (id as given; a fresh string): what activity-log records of every
//  engagement it made, to delete it later. Pure.
char *zhub_hubspot_engagement_path (zhub_hubspot_engagement_t kind, const char *id);

//  Reads such an address back: 0 with *kind and *id (a fresh string), or
//  -1 (*id NULL) for anything else. Pure.
int zhub_hubspot_engagement_path_parse (const char *path, zhub_hubspot_engagement_t *kind,
                                        char **id);

#endif
