//  The Microsoft Graph client (graph.microsoft.com/v1.0), built on
//  zhub_http, and the Microsoft identity platform's token endpoint. Calls
//  take the access token (sent as `Authorization: Bearer`, never logged).
//  Paths per https://learn.microsoft.com/graph/api/resources/event. It does not interpret answers.
//  Every call returns zhub_http_request's 0 / -1.
#ifndef ZHUB_GRAPH_H
#define ZHUB_GRAPH_H

#include "zhub_http.h"

//  The base URL includes the API version: paths below are appended to it.
#define ZHUB_GRAPH_BASE_URL_DEFAULT "https://graph.microsoft.com/v1.0"
#define ZHUB_GRAPH_BASE_URL_VERSION "/v1.0"
//  The identity platform's token endpoint; {tenant} is replaced by the
//  tenant (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
#define ZHUB_GRAPH_TENANT_PLACEHOLDER "{tenant}"
#define ZHUB_GRAPH_TOKEN_URL_DEFAULT                                                               \
    "https://login.microsoftonline.com/" ZHUB_GRAPH_TENANT_PLACEHOLDER "/oauth2/v2.0/token"
//  Client credentials ask for the resource's ".default" scope; national
//  clouds have their own resource (https://graph.microsoft.us/.default,
//  https://microsoftgraph.chinacloudapi.cn/.default;
//  https://learn.microsoft.com/graph/deployments).
#define ZHUB_GRAPH_SCOPE_DEFAULT "https://graph.microsoft.com/.default"
#define ZHUB_GRAPH_SCOPE_SUFFIX "/.default"

typedef struct zhub_graph_t zhub_graph_t;

typedef struct {
    const char *base_url;  //  NULL = ZHUB_GRAPH_BASE_URL_DEFAULT; ends in /v1.0
    const char *token_url; //  NULL = ZHUB_GRAPH_TOKEN_URL_DEFAULT; {tenant} replaced
    const char *tenant;    //  directory (tenant) id or verified domain
    const char *scope;     //  NULL = ZHUB_GRAPH_SCOPE_DEFAULT
} zhub_graph_config_t;

//  Checks a configuration as the Microsoft identity platform and Graph
//  would take it, so that a wrong one stops the process at start instead
//  of failing every call. 0, or -1 with one sentence naming the setting
//  (ZHUB_GRAPH_*) in err:
//    tenant     required, a GUID or a domain ([A-Za-z0-9.-]); not "common",
//               "organizations" or "consumers": app-only (client
//               credentials) tokens are issued by one tenant, and the
//               identity platform answers those aliases with AADSTS50059;
//    base_url   http(s), its path ending in /v1.0 (the version is part of
//               the base: zhub appends "/users/...", "/subscriptions");
//    token_url  http(s); {tenant} may appear, at most once;
//    scope      ends in "/.default".
//  Pure.
int zhub_graph_config_check (const zhub_graph_config_t *config, char *err, size_t err_size);

//  Creates a client over http (borrowed: it must outlive this client).
//  config should have passed zhub_graph_config_check; without a tenant,
//  a token URL that needs one is left unset and zhub_graph_token fails.
zhub_graph_t *zhub_graph_new (const zhub_graph_config_t *config, zhub_http_t *http);
void zhub_graph_destroy (zhub_graph_t **self_p);

//  Any call: path relative to the base ("/users/a@b.c/calendar/getSchedule").
//  extra_header is one more "Name: value" line (e.g. Prefer) or NULL.
int zhub_graph_request (zhub_graph_t *self, const char *method, const char *path,
                        const json_t *body, const char *access_token, const char *extra_header,
                        const char *traceparent, zhub_http_response_t *resp);

//  POST /users/{user}/calendar/getSchedule, answer times in UTC
//  (Prefer: outlook.timezone="UTC").
int zhub_graph_get_schedule (zhub_graph_t *self, const char *user, const json_t *body,
                             const char *access_token, const char *traceparent,
                             zhub_http_response_t *resp);

//  POST /users/{user}/calendar/events (201). A body with "transactionId"
//  makes a retry return the event made before instead of a second one.
int zhub_graph_event_create (zhub_graph_t *self, const char *user, const json_t *body,
                             const char *access_token, const char *traceparent,
                             zhub_http_response_t *resp);

//  GET /users/{user}/events/{event}, times in UTC (Prefer:
//  outlook.timezone="UTC"): 200 with the event, 404 when it is gone
//  (https://learn.microsoft.com/graph/api/event-get).
int zhub_graph_event_get (zhub_graph_t *self, const char *user, const char *event_id,
                          const char *access_token, const char *traceparent,
                          zhub_http_response_t *resp);

//  DELETE /users/{user}/events/{event} (204; 404 when it is gone already).
int zhub_graph_event_delete (zhub_graph_t *self, const char *user, const char *event_id,
                             const char *access_token, const char *traceparent,
                             zhub_http_response_t *resp);

//  Change-notification subscriptions. POST /subscriptions (201): Graph
//  first proves notificationUrl (validationToken handshake) and answers
//  400 when that fails. PATCH /subscriptions/{id} {"expirationDateTime"}
//  renews (404 once it expired or was deleted). GET /subscriptions lists
//  the application's subscriptions; DELETE /subscriptions/{id} (204).
int zhub_graph_subscription_create (zhub_graph_t *self, const json_t *body,
                                    const char *access_token, const char *traceparent,
                                    zhub_http_response_t *resp);
int zhub_graph_subscription_renew (zhub_graph_t *self, const char *id, const json_t *body,
                                   const char *access_token, const char *traceparent,
                                   zhub_http_response_t *resp);
int zhub_graph_subscription_delete (zhub_graph_t *self, const char *id, const char *access_token,
                                    const char *traceparent, zhub_http_response_t *resp);
int zhub_graph_subscriptions_list (zhub_graph_t *self, const char *access_token,
                                   const char *traceparent, zhub_http_response_t *resp);

//  GET the next page of a collection: the answer's "@odata.nextLink", an
//  absolute URL to use as given (https://learn.microsoft.com/graph/paging).
//  The Bearer token goes only to the configured Graph: a link that does
//  not start with the base URL and "/" is not followed (-1 with
//  resp->transport_error CURLE_URL_MALFORMAT).
int zhub_graph_next_page (zhub_graph_t *self, const char *next_link, const char *access_token,
                          const char *traceparent, zhub_http_response_t *resp);

//  POST token_url, form client_id, client_secret, scope (the configured
//  one) and grant_type=client_credentials: the answer holds access_token
//  and expires_in (seconds). With no token URL (no tenant configured):
//  -1 with resp->transport_error CURLE_URL_MALFORMAT, which zhub_retry
//  rejects as a configuration fault.
int zhub_graph_token (zhub_graph_t *self, const char *client_id, const char *client_secret,
                      zhub_http_response_t *resp);

//  The token URL in use (tenant filled in), or NULL. Borrowed.
const char *zhub_graph_token_url (const zhub_graph_t *self);

#endif
