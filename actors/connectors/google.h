//  The Google Calendar client (www.googleapis.com/calendar/v3), built on
//  zhub_http, and Google's OAuth2 token endpoint. Calls take the access
//  token (sent as `Authorization: Bearer`, never logged); getting and
//  refreshing it is the caller's business (the scheduler keeps tokens
//  encrypted in its store). Paths per https://developers.google.com/calendar/api/v3/reference. It does not
//  interpret answers: callers read resp->status / resp->json and classify
//  failures with zhub_retry. Every call returns zhub_http_request's 0 / -1.
#ifndef ZHUB_GOOGLE_H
#define ZHUB_GOOGLE_H

#include "zhub_http.h"

//  The base URL is the host root (the discovery document's rootUrl);
//  every path below starts with ZHUB_GOOGLE_SERVICE_PATH.
#define ZHUB_GOOGLE_BASE_URL_DEFAULT "https://www.googleapis.com"
#define ZHUB_GOOGLE_SERVICE_PATH "/calendar/v3"
#define ZHUB_GOOGLE_TOKEN_URL_DEFAULT "https://oauth2.googleapis.com/token"

typedef struct zhub_google_t zhub_google_t;

typedef struct {
    const char *base_url;  //  NULL = ZHUB_GOOGLE_BASE_URL_DEFAULT
    const char *token_url; //  NULL = ZHUB_GOOGLE_TOKEN_URL_DEFAULT
} zhub_google_config_t;

//  0, or -1 with one sentence naming the setting in err: the base URL is
//  http(s) and does not already end in /calendar/v3 (zhub adds it: a base
//  URL with it would call /calendar/v3/calendar/v3/...); the token URL is
//  http(s). Pure.
int zhub_google_config_check (const zhub_google_config_t *config, char *err, size_t err_size);

//  Creates a client over http (borrowed: it must outlive this client).
zhub_google_t *zhub_google_new (const zhub_google_config_t *config, zhub_http_t *http);

//  NULL-safe; nulls *self_p.
void zhub_google_destroy (zhub_google_t **self_p);

//  Any call: path starts with "/" ("/calendar/v3/freeBusy"), query
//  included and escaped. body may be NULL.
//  True when resp is one of Google's rate limits sent as a 403 (see
//  google.c); every call through this connector marks such an answer
//  throttled for the retry policy. Pure.
bool zhub_google_rate_limited (const zhub_http_response_t *resp);

int zhub_google_request (zhub_google_t *self, const char *method, const char *path,
                         const json_t *body, const char *access_token, const char *traceparent,
                         zhub_http_response_t *resp);

//  POST /calendar/v3/freeBusy with {"timeMin","timeMax","items":[{"id"}]}.
int zhub_google_freebusy (zhub_google_t *self, const json_t *body, const char *access_token,
                          const char *traceparent, zhub_http_response_t *resp);

//  POST /calendar/v3/calendars/{calendar}/events?sendUpdates=all. A body
//  with our own "id" makes a retry answer 409 instead of a second event.
int zhub_google_event_insert (zhub_google_t *self, const char *calendar_id, const json_t *body,
                              const char *access_token, const char *traceparent,
                              zhub_http_response_t *resp);

//  GET /calendar/v3/calendars/{calendar}/events/{event}.
int zhub_google_event_get (zhub_google_t *self, const char *calendar_id, const char *event_id,
                           const char *access_token, const char *traceparent,
                           zhub_http_response_t *resp);

//  DELETE /calendar/v3/calendars/{calendar}/events/{event}?sendUpdates=none
//  (204; 410 when it was deleted before, 404 when it never was). Nobody is
//  e-mailed: used by an erase, whose person must not hear from us again.
int zhub_google_event_delete (zhub_google_t *self, const char *calendar_id, const char *event_id,
                              const char *access_token, const char *traceparent,
                              zhub_http_response_t *resp);

//  GET /calendar/v3/calendars/{calendar}/events?{query} (query already
//  escaped, e.g. "updatedMin=…&showDeleted=true").
int zhub_google_events_list (zhub_google_t *self, const char *calendar_id, const char *query,
                             const char *access_token, const char *traceparent,
                             zhub_http_response_t *resp);

//  POST /calendar/v3/calendars/{calendar}/events/watch with {"id","type":
//  "web_hook","address","token","expiration"}: push notifications to
//  address until expiration (channels do not renew themselves).
int zhub_google_events_watch (zhub_google_t *self, const char *calendar_id, const json_t *body,
                              const char *access_token, const char *traceparent,
                              zhub_http_response_t *resp);

//  POST /calendar/v3/channels/stop with {"id","resourceId"} (204): the
//  channel sends nothing more.
int zhub_google_channel_stop (zhub_google_t *self, const json_t *body, const char *access_token,
                              const char *traceparent, zhub_http_response_t *resp);

//  POST token_url, form grant_type=refresh_token: the answer holds
//  access_token and expires_in (seconds); "invalid_grant" means the refresh
//  token is gone for good.
int zhub_google_token_refresh (zhub_google_t *self, const char *client_id,
                               const char *client_secret, const char *refresh_token,
                               zhub_http_response_t *resp);

#endif
