//  Google Calendar and OAuth2 calls (see google.h). Thin on purpose: paths
//  and auth here, meaning in the scheduler.
#include "google.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_google_t {
    zhub_http_t *http;
    char *base_url;
    char *token_url;
};

static char *
s_trim_slash (const char *url)
{
    char *copy = zhub_strdup (url);
    size_t n = strlen (copy);
    while (n > 0 && copy[n - 1] == '/')
        copy[--n] = 0;
    return copy;
}

zhub_google_t *
zhub_google_new (const zhub_google_config_t *config, zhub_http_t *http)
{
    zhub_google_t *self = zhub_calloc (1, sizeof *self);
    self->http = http;
    self->base_url = s_trim_slash (config && config->base_url && *config->base_url
                                       ? config->base_url
                                       : ZHUB_GOOGLE_BASE_URL_DEFAULT);
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
    free (self->base_url);
    free (self->token_url);
    free (self);
    *self_p = NULL;
}

int
zhub_google_request (zhub_google_t *self, const char *method, const char *path, const json_t *body,
                     const char *access_token, const char *traceparent, zhub_http_response_t *resp)
{
    char *url = zhub_sprintf ("%s%s", self->base_url, path);
    char *auth = access_token ? zhub_sprintf ("Authorization: Bearer %s", access_token) : NULL;
    const char *headers[1] = {auth};
    zhub_http_call_t call = {.method = method,
                             .url = url,
                             .headers = headers,
                             .header_count = auth ? 1 : 0,
                             .body = body,
                             .traceparent = traceparent};
    int rc = zhub_http_request (self->http, &call, resp);
    if (auth)
        sodium_memzero (auth, strlen (auth));
    free (auth);
    free (url);
    return rc;
}

int
zhub_google_freebusy (zhub_google_t *self, const json_t *body, const char *access_token,
                      const char *traceparent, zhub_http_response_t *resp)
{
    return zhub_google_request (self, "POST", "/calendar/v3/freeBusy", body, access_token,
                                traceparent, resp);
}

int
zhub_google_event_insert (zhub_google_t *self, const char *calendar_id, const json_t *body,
                          const char *access_token, const char *traceparent,
                          zhub_http_response_t *resp)
{
    char *cid = zhub_http_escape (calendar_id);
    char *path = zhub_sprintf ("/calendar/v3/calendars/%s/events?sendUpdates=all", cid);
    int rc = zhub_google_request (self, "POST", path, body, access_token, traceparent, resp);
    free (path);
    free (cid);
    return rc;
}

int
zhub_google_event_get (zhub_google_t *self, const char *calendar_id, const char *event_id,
                       const char *access_token, const char *traceparent,
                       zhub_http_response_t *resp)
{
    char *cid = zhub_http_escape (calendar_id), *eid = zhub_http_escape (event_id);
    char *path = zhub_sprintf ("/calendar/v3/calendars/%s/events/%s", cid, eid);
    int rc = zhub_google_request (self, "GET", path, NULL, access_token, traceparent, resp);
    free (path);
    free (eid);
    free (cid);
    return rc;
}

int
zhub_google_events_list (zhub_google_t *self, const char *calendar_id, const char *query,
                         const char *access_token, const char *traceparent,
                         zhub_http_response_t *resp)
{
    char *cid = zhub_http_escape (calendar_id);
    char *path = zhub_sprintf ("/calendar/v3/calendars/%s/events%s%s", cid, query ? "?" : "",
                               query ? query : "");
    int rc = zhub_google_request (self, "GET", path, NULL, access_token, traceparent, resp);
    free (path);
    free (cid);
    return rc;
}

int
zhub_google_events_watch (zhub_google_t *self, const char *calendar_id, const json_t *body,
                          const char *access_token, const char *traceparent,
                          zhub_http_response_t *resp)
{
    char *cid = zhub_http_escape (calendar_id);
    char *path = zhub_sprintf ("/calendar/v3/calendars/%s/events/watch", cid);
    int rc = zhub_google_request (self, "POST", path, body, access_token, traceparent, resp);
    free (path);
    free (cid);
    return rc;
}

int
zhub_google_channel_stop (zhub_google_t *self, const json_t *body, const char *access_token,
                          const char *traceparent, zhub_http_response_t *resp)
{
    return zhub_google_request (self, "POST", "/calendar/v3/channels/stop", body, access_token,
                                traceparent, resp);
}

int
zhub_google_token_refresh (zhub_google_t *self, const char *client_id, const char *client_secret,
                           const char *refresh_token, zhub_http_response_t *resp)
{
    char *id = zhub_http_escape (client_id ? client_id : "");
    char *secret = zhub_http_escape (client_secret ? client_secret : "");
    char *refresh = zhub_http_escape (refresh_token ? refresh_token : "");
    char *form = zhub_sprintf ("client_id=%s&client_secret=%s&refresh_token=%s"
                               "&grant_type=refresh_token",
                               id, secret, refresh);
    zhub_http_call_t call = {.method = "POST", .url = self->token_url, .form = form};
    int rc = zhub_http_request (self->http, &call, resp);
    sodium_memzero (form, strlen (form));
    free (form);
    free (refresh);
    free (secret);
    free (id);
    return rc;
}
