//  Microsoft Graph calendar and token calls (see graph.h). Thin on purpose.
#include "graph.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_graph_t {
    zhub_http_t *http;
    char *base_url;
    char *token_url;
};

zhub_graph_t *
zhub_graph_new (const zhub_graph_config_t *config, zhub_http_t *http)
{
    zhub_graph_t *self = zhub_calloc (1, sizeof *self);
    self->http = http;
    self->base_url =
        zhub_strdup (config && config->base_url && *config->base_url ? config->base_url
                                                                     : ZHUB_GRAPH_BASE_URL_DEFAULT);
    size_t n = strlen (self->base_url);
    while (n > 0 && self->base_url[n - 1] == '/')
        self->base_url[--n] = 0;
    if (config && config->token_url && *config->token_url)
        self->token_url = zhub_strdup (config->token_url);
    else
        self->token_url =
            zhub_sprintf (ZHUB_GRAPH_TOKEN_URL_FORMAT,
                          config && config->tenant && *config->tenant ? config->tenant : "common");
    return self;
}

void
zhub_graph_destroy (zhub_graph_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_graph_t *self = *self_p;
    free (self->base_url);
    free (self->token_url);
    free (self);
    *self_p = NULL;
}

int
zhub_graph_request (zhub_graph_t *self, const char *method, const char *path, const json_t *body,
                    const char *access_token, const char *extra_header, const char *traceparent,
                    zhub_http_response_t *resp)
{
    char *url = zhub_sprintf ("%s%s", self->base_url, path);
    char *auth = access_token ? zhub_sprintf ("Authorization: Bearer %s", access_token) : NULL;
    const char *headers[2];
    size_t count = 0;
    if (auth)
        headers[count++] = auth;
    if (extra_header)
        headers[count++] = extra_header;
    zhub_http_call_t call = {.method = method,
                             .url = url,
                             .headers = headers,
                             .header_count = count,
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
zhub_graph_get_schedule (zhub_graph_t *self, const char *user, const json_t *body,
                         const char *access_token, const char *traceparent,
                         zhub_http_response_t *resp)
{
    char *u = zhub_http_escape (user);
    char *path = zhub_sprintf ("/users/%s/calendar/getSchedule", u);
    int rc = zhub_graph_request (self, "POST", path, body, access_token,
                                 "Prefer: outlook.timezone=\"UTC\"", traceparent, resp);
    free (path);
    free (u);
    return rc;
}

int
zhub_graph_event_create (zhub_graph_t *self, const char *user, const json_t *body,
                         const char *access_token, const char *traceparent,
                         zhub_http_response_t *resp)
{
    char *u = zhub_http_escape (user);
    char *path = zhub_sprintf ("/users/%s/calendar/events", u);
    int rc = zhub_graph_request (self, "POST", path, body, access_token, NULL, traceparent, resp);
    free (path);
    free (u);
    return rc;
}

int
zhub_graph_subscription_create (zhub_graph_t *self, const json_t *body, const char *access_token,
                                const char *traceparent, zhub_http_response_t *resp)
{
    return zhub_graph_request (self, "POST", "/subscriptions", body, access_token, NULL,
                               traceparent, resp);
}

//  "/subscriptions/{id}" with the id escaped (Graph's are GUIDs, but the
//  id comes from an answer).
static int
s_subscription_call (zhub_graph_t *self, const char *method, const char *id, const json_t *body,
                     const char *access_token, const char *traceparent, zhub_http_response_t *resp)
{
    char *escaped = zhub_http_escape (id);
    char *path = zhub_sprintf ("/subscriptions/%s", escaped);
    int rc = zhub_graph_request (self, method, path, body, access_token, NULL, traceparent, resp);
    free (path);
    free (escaped);
    return rc;
}

int
zhub_graph_subscription_renew (zhub_graph_t *self, const char *id, const json_t *body,
                               const char *access_token, const char *traceparent,
                               zhub_http_response_t *resp)
{
    return s_subscription_call (self, "PATCH", id, body, access_token, traceparent, resp);
}

int
zhub_graph_subscription_delete (zhub_graph_t *self, const char *id, const char *access_token,
                                const char *traceparent, zhub_http_response_t *resp)
{
    return s_subscription_call (self, "DELETE", id, NULL, access_token, traceparent, resp);
}

int
zhub_graph_subscriptions_list (zhub_graph_t *self, const char *access_token,
                               const char *traceparent, zhub_http_response_t *resp)
{
    return zhub_graph_request (self, "GET", "/subscriptions", NULL, access_token, NULL, traceparent,
                               resp);
}

int
zhub_graph_token (zhub_graph_t *self, const char *client_id, const char *client_secret,
                  zhub_http_response_t *resp)
{
    char *id = zhub_http_escape (client_id ? client_id : "");
    char *secret = zhub_http_escape (client_secret ? client_secret : "");
    char *form = zhub_sprintf ("client_id=%s&client_secret=%s"
                               "&scope=https%%3A%%2F%%2Fgraph.microsoft.com%%2F.default"
                               "&grant_type=client_credentials",
                               id, secret);
    zhub_http_call_t call = {.method = "POST", .url = self->token_url, .form = form};
    int rc = zhub_http_request (self->http, &call, resp);
    sodium_memzero (form, strlen (form));
    free (form);
    free (secret);
    free (id);
    return rc;
}
