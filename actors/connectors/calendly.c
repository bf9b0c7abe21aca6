//  Calendly API calls (see calendly.h). Thin on purpose.
#include "calendly.h"
#include "zhub_connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_calendly_t {
    zhub_connector_t core; //  base URL and Bearer header; unpaced
};

zhub_calendly_t *
zhub_calendly_new (const zhub_calendly_config_t *config, zhub_http_t *http)
{
    zhub_calendly_t *self = zhub_calloc (1, sizeof *self);
    zhub_connector_init (
        &self->core, http,
        &(zhub_connector_config_t){.base_url = config ? config->base_url : NULL,
                                   .default_base_url = ZHUB_CALENDLY_BASE_URL_DEFAULT,
                                   .auth_scheme = "Bearer",
                                   .secret = config ? config->token : NULL});
    return self;
}

void
zhub_calendly_destroy (zhub_calendly_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_connector_fini (&(*self_p)->core);
    free (*self_p);
    *self_p = NULL;
}

int
zhub_calendly_request (zhub_calendly_t *self, const char *method, const char *path,
                       const json_t *body, const char *traceparent, zhub_http_response_t *resp)
{
    zhub_connector_call_t call = {
        .method = method, .path = path, .body = body, .traceparent = traceparent};
    return zhub_connector_request (&self->core, &call, resp);
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
    size_t n = strlen (self->core.base_url);
    if (!uri || strncmp (uri, self->core.base_url, n) || uri[n] != '/') {
        zhub_http_response_reset (resp);
        snprintf (resp->error, sizeof resp->error, "URI outside the Calendly API");
        resp->transport_error = 3; //  CURLE_URL_MALFORMAT
        return -1;
    }
    zhub_connector_call_t call = {.method = "GET", .url = uri, .traceparent = traceparent};
    return zhub_connector_request (&self->core, &call, resp);
}
