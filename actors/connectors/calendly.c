//  Calendly API calls (see calendly.h). Thin on purpose.
#include "calendly.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_calendly_t {
    zhub_http_t *http;
    char *base_url;
    char *auth_header;
};

zhub_calendly_t *
zhub_calendly_new (const zhub_calendly_config_t *config, zhub_http_t *http)
{
    zhub_calendly_t *self = zhub_calloc (1, sizeof *self);
    self->http = http;
    self->base_url = zhub_strdup (config && config->base_url && *config->base_url
                                      ? config->base_url
                                      : ZHUB_CALENDLY_BASE_URL_DEFAULT);
    size_t n = strlen (self->base_url);
    while (n > 0 && self->base_url[n - 1] == '/')
        self->base_url[--n] = 0;
    if (config && config->token && *config->token)
        self->auth_header = zhub_sprintf ("Authorization: Bearer %s", config->token);
    return self;
}

void
zhub_calendly_destroy (zhub_calendly_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_calendly_t *self = *self_p;
    if (self->auth_header)
        sodium_memzero (self->auth_header, strlen (self->auth_header));
    free (self->auth_header);
    free (self->base_url);
    free (self);
    *self_p = NULL;
}

static int
s_call (zhub_calendly_t *self, const char *method, const char *url, const json_t *body,
        const char *traceparent, zhub_http_response_t *resp)
{
    const char *headers[1] = {self->auth_header};
    zhub_http_call_t call = {.method = method,
                             .url = url,
                             .headers = headers,
                             .header_count = self->auth_header ? 1 : 0,
                             .body = body,
                             .traceparent = traceparent};
    return zhub_http_request (self->http, &call, resp);
}

int
zhub_calendly_request (zhub_calendly_t *self, const char *method, const char *path,
                       const json_t *body, const char *traceparent, zhub_http_response_t *resp)
{
    char *url = zhub_sprintf ("%s%s", self->base_url, path);
    int rc = s_call (self, method, url, body, traceparent, resp);
    free (url);
    return rc;
}

int
zhub_calendly_scheduling_link (zhub_calendly_t *self, const char *event_type_uri,
                               const char *traceparent, zhub_http_response_t *resp)
{
    json_t *body = json_pack ("{s:i, s:s, s:s}", "max_event_count", 1, "owner", event_type_uri,
                              "owner_type", "EventType");
    int rc = zhub_calendly_request (self, "POST", "/scheduling_links", body, traceparent, resp);
    json_decref (body);
    return rc;
}

int
zhub_calendly_get_uri (zhub_calendly_t *self, const char *uri, const char *traceparent,
                       zhub_http_response_t *resp)
{
    size_t n = strlen (self->base_url);
    if (!uri || strncmp (uri, self->base_url, n) || uri[n] != '/') {
        zhub_http_response_reset (resp);
        snprintf (resp->error, sizeof resp->error, "URI outside the Calendly API");
        resp->transport_error = 3; //  CURLE_URL_MALFORMAT
        return -1;
    }
    return s_call (self, "GET", uri, NULL, traceparent, resp);
}
