//  The Calendly API v2 client (api.calendly.com), built on zhub_http: the
//  calls the scheduler's self-service mode needs. Auth is a personal access
//  token or OAuth token (`Authorization: Bearer`, never logged). Paths per
//  https://developer.calendly.com/api-docs. It does not interpret answers. Every call
//  returns zhub_http_request's 0 / -1.
#ifndef ZHUB_CALENDLY_H
#define ZHUB_CALENDLY_H

#include "zhub_http.h"

#define ZHUB_CALENDLY_BASE_URL_DEFAULT "https://api.calendly.com"

typedef struct zhub_calendly_t zhub_calendly_t;

typedef struct {
    const char *base_url; //  NULL = ZHUB_CALENDLY_BASE_URL_DEFAULT
    const char *token;    //  NULL or "" sends no Authorization
} zhub_calendly_config_t;

zhub_calendly_t *zhub_calendly_new (const zhub_calendly_config_t *config, zhub_http_t *http);
void zhub_calendly_destroy (zhub_calendly_t **self_p);

//  Any call; path starts with "/".
int zhub_calendly_request (zhub_calendly_t *self, const char *method, const char *path,
                           const json_t *body, const char *traceparent, zhub_http_response_t *resp);

//  POST /scheduling_links {"max_event_count":1,"owner":event_type_uri,
//  "owner_type":"EventType"}: a single-use link, resource.booking_url.
int zhub_calendly_scheduling_link (zhub_calendly_t *self, const char *event_type_uri,
                                   const char *traceparent, zhub_http_response_t *resp);

//  GET a resource by its full API URI (e.g. a scheduled event's "uri"),
//  which must start with the base URL. -1 with resp->error otherwise.
int zhub_calendly_get_uri (zhub_calendly_t *self, const char *uri, const char *traceparent,
                           zhub_http_response_t *resp);

#endif
