//  Google Calendar and OAuth2 calls (see google.h). Thin on purpose: paths
//  and auth here, meaning in the scheduler.
#include "google.h"
#include "zhub_connector.h"
#include "zhub_url.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

int
zhub_google_config_check (const zhub_google_config_t *config, char *err, size_t err_size)
{
    const char *base =
        config->base_url && *config->base_url ? config->base_url : ZHUB_GOOGLE_BASE_URL_DEFAULT;
    const char *token =
        config->token_url && *config->token_url ? config->token_url : ZHUB_GOOGLE_TOKEN_URL_DEFAULT;
    zhub_url_t url;
    const char *bad = NULL;
    if (zhub_url_parse (base, &url))
        bad = "ZHUB_GOOGLE_BASE_URL must be an http(s) URL";
    else if (zhub_url_path_ends_with (&url, ZHUB_GOOGLE_SERVICE_PATH))
        bad = "ZHUB_GOOGLE_BASE_URL is the host root (https://www.googleapis.com): zhub adds "
              "/calendar/v3 itself";
    else if (zhub_url_parse (token, &url))
        bad = "ZHUB_GOOGLE_TOKEN_URL must be an http(s) URL";
    if (bad) {
        snprintf (err, err_size, "%s", bad);
        return -1;
    }
    return 0;
}

struct zhub_google_t {
    zhub_connector_t core; //  base URL; unpaced, tokens come with each call
    char *token_url;
};

zhub_google_t *
zhub_google_new (const zhub_google_config_t *config, zhub_http_t *http)
{
    zhub_google_t *self = zhub_calloc (1, sizeof *self);
    zhub_connector_init (
        &self->core, http,
        &(zhub_connector_config_t){.base_url = config ? config->base_url : NULL,
                                   .default_base_url = ZHUB_GOOGLE_BASE_URL_DEFAULT});
    self->token_url = zhub_strdup (config && config->token_url && *config->token_url
                                       ? config->token_url
                                       : ZHUB_GOOGLE_TOKEN_URL_DEFAULT);
    return self;
}

void
zhub_google_destroy (zhub_google_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_google_t *self = *self_p;
    zhub_connector_fini (&self->core);
    free (self->token_url);
    free (self);
    *self_p = NULL;
}

//  Google answers some rate limits with 403 instead of 429: the body's
//  error.errors[].reason is rateLimitExceeded or userRateLimitExceeded
//  (domain usageLimits), and Google asks for exponential backoff on both,
//  as on a 429 (https://developers.google.com/calendar/api/guides/errors,
//  "403: User rate limit exceeded", "403: Rate limit exceeded"). Any other
//  403 reason (forbiddenForNonOrganizer, insufficientPermissions,
//  dailyLimitExceeded...) stays what it is: permanent.
bool
zhub_google_rate_limited (const zhub_http_response_t *resp)
{
    if (resp->status != 403 || !resp->json)
        return false;
    const json_t *errors = json_object_get (json_object_get (resp->json, "error"), "errors");
    size_t i;
    const json_t *error;
    json_array_foreach (errors, i, error)
    {
        const char *reason = json_string_value (json_object_get (error, "reason"));
        if (reason
            && (!strcmp (reason, "rateLimitExceeded") || !strcmp (reason, "userRateLimitExceeded")))
            return true;
    }
    return false;
}

int
zhub_google_request (zhub_google_t *self, const char *method, const char *path, const json_t *body,
                     const char *access_token, const char *traceparent, zhub_http_response_t *resp)
{
    zhub_connector_call_t call = {.method = method,
                                  .path = path,
                                  .body = body,
                                  .access_token = access_token,
                                  .traceparent = traceparent};
    int rc = zhub_connector_request (&self->core, &call, resp);
    //  the retry policy backs off on it as after a 429
    if (zhub_google_rate_limited (resp))
        resp->throttled = true;
    return rc;
}

int
zhub_google_freebusy (zhub_google_t *self, const json_t *body, const char *access_token,
                      const char *traceparent, zhub_http_response_t *resp)
{
    return zhub_google_request (self, "POST", ZHUB_GOOGLE_SERVICE_PATH "/freeBusy", body,
                                access_token, traceparent, resp);
}

//  A call on /calendar/v3/calendars/{calendar}/events[/{event}][tail]:
//  the ids escaped, tail (a query or a further segment) as given.
static int
s_events_call (zhub_google_t *self, const char *method, const char *calendar_id,
               const char *event_id, const char *tail, const json_t *body, const char *access_token,
               const char *traceparent, zhub_http_response_t *resp)
{
    char *cid = zhub_http_escape (calendar_id);
    char *eid = event_id ? zhub_http_escape (event_id) : NULL;
    char *path = zhub_sprintf (ZHUB_GOOGLE_SERVICE_PATH "/calendars/%s/events%s%s%s", cid,
                               eid ? "/" : "", eid ? eid : "", tail ? tail : "");
    int rc = zhub_google_request (self, method, path, body, access_token, traceparent, resp);
    free (path);
    free (eid);
    free (cid);
    return rc;
}

int
zhub_google_event_insert (zhub_google_t *self, const char *calendar_id, const json_t *body,
                          const char *access_token, const char *traceparent,
                          zhub_http_response_t *resp)
{
    return s_events_call (self, "POST", calendar_id, NULL, "?sendUpdates=all", body, access_token,
                          traceparent, resp);
}

int
zhub_google_event_get (zhub_google_t *self, const char *calendar_id, const char *event_id,
                       const char *access_token, const char *traceparent,
                       zhub_http_response_t *resp)
{
    return s_events_call (self, "GET", calendar_id, event_id, NULL, NULL, access_token, traceparent,
                          resp);
}

int
zhub_google_event_delete (zhub_google_t *self, const char *calendar_id, const char *event_id,
                          const char *access_token, const char *traceparent,
                          zhub_http_response_t *resp)
{
    return s_events_call (self, "DELETE", calendar_id, event_id, "?sendUpdates=none", NULL,
                          access_token, traceparent, resp);
}

int
zhub_google_events_list (zhub_google_t *self, const char *calendar_id, const char *query,
                         const char *access_token, const char *traceparent,
                         zhub_http_response_t *resp)
{
    char *tail = query ? zhub_sprintf ("?%s", query) : NULL;
    int rc =
        s_events_call (self, "GET", calendar_id, NULL, tail, NULL, access_token, traceparent, resp);
    free (tail);
    return rc;
}

int
zhub_google_events_watch (zhub_google_t *self, const char *calendar_id, const json_t *body,
                          const char *access_token, const char *traceparent,
                          zhub_http_response_t *resp)
{
    return s_events_call (self, "POST", calendar_id, NULL, "/watch", body, access_token,
                          traceparent, resp);
}

int
zhub_google_channel_stop (zhub_google_t *self, const json_t *body, const char *access_token,
                          const char *traceparent, zhub_http_response_t *resp)
{
    return zhub_google_request (self, "POST", ZHUB_GOOGLE_SERVICE_PATH "/channels/stop", body,
                                access_token, traceparent, resp);
}

int
zhub_google_token_refresh (zhub_google_t *self, const char *client_id, const char *client_secret,
                           const char *refresh_token, zhub_http_response_t *resp)
{
    const zhub_connector_field_t fields[] = {
        {"client_id", client_id},
        {"client_secret", client_secret},
        {"refresh_token", refresh_token},
        {"grant_type", "refresh_token"},
    };
    return zhub_connector_token (&self->core, self->token_url, fields,
                                 sizeof fields / sizeof fields[0], resp);
}
