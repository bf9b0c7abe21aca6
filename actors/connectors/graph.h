//  The Microsoft Graph client (graph.microsoft.com/v1.0), built on
//  zhub_http, and the Microsoft identity platform's token endpoint. Calls
//  take the access token (sent as `Authorization: Bearer`, never logged).
//  Paths per https://learn.microsoft.com/graph/api/resources/event. It does not interpret answers.
//  Every call returns zhub_http_request's 0 / -1.
#ifndef ZHUB_GRAPH_H
#define ZHUB_GRAPH_H

#include "zhub_http.h"

#define ZHUB_GRAPH_BASE_URL_DEFAULT "https://graph.microsoft.com/v1.0"
//  %s = tenant id
#define ZHUB_GRAPH_TOKEN_URL_FORMAT "https://login.microsoftonline.com/%s/oauth2/v2.0/token"

typedef struct zhub_graph_t zhub_graph_t;

typedef struct {
    const char *base_url;  //  NULL = ZHUB_GRAPH_BASE_URL_DEFAULT
    const char *token_url; //  NULL = ZHUB_GRAPH_TOKEN_URL_FORMAT with tenant
    const char *tenant;    //  for the default token URL; NULL = "common"
} zhub_graph_config_t;

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

//  POST token_url, form grant_type=client_credentials with
//  scope=https://graph.microsoft.com/.default: the answer holds
//  access_token and expires_in (seconds).
int zhub_graph_token (zhub_graph_t *self, const char *client_id, const char *client_secret,
                      zhub_http_response_t *resp);

#endif
