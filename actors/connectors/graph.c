//  Microsoft Graph calendar and token calls (see graph.h). Thin on purpose.
#include "graph.h"
#include "zhub_connector.h"

#include <stdlib.h>

struct zhub_graph_t {
    zhub_connector_t core; //  base URL; unpaced, tokens come with each call
    char *token_url;
};

zhub_graph_t *
zhub_graph_new (const zhub_graph_config_t *config, zhub_http_t *http)
{
    zhub_graph_t *self = zhub_calloc (1, sizeof *self);
    zhub_connector_init (
        &self->core, http,
        &(zhub_connector_config_t){.base_url = config ? config->base_url : NULL,
                                   .default_base_url = ZHUB_GRAPH_BASE_URL_DEFAULT});
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
    zhub_connector_fini (&self->core);
    free (self->token_url);
    free (self);
    *self_p = NULL;
}

int
zhub_graph_request (zhub_graph_t *self, const char *method, const char *path, const json_t *body,
                    const char *access_token, const char *extra_header, const char *traceparent,
                    zhub_http_response_t *resp)
{
    zhub_connector_call_t call = {.method = method,
                                  .path = path,
                                  .body = body,
                                  .access_token = access_token,
                                  .extra_header = extra_header,
                                  .traceparent = traceparent};
    return zhub_connector_request (&self->core, &call, resp);
}

//  A call on /users/{user}{tail}: the user escaped, tail as given.
static int
s_user_call (zhub_graph_t *self, const char *method, const char *user, const char *tail,
             const json_t *body, const char *access_token, const char *extra_header,
             const char *traceparent, zhub_http_response_t *resp)
{
    char *u = zhub_http_escape (user);
    char *path = zhub_sprintf ("/users/%s%s", u, tail);
    int rc = zhub_graph_request (self, method, path, body, access_token, extra_header, traceparent,
                                 resp);
    free (path);
    free (u);
    return rc;
}

int
zhub_graph_get_schedule (zhub_graph_t *self, const char *user, const json_t *body,
                         const char *access_token, const char *traceparent,
                         zhub_http_response_t *resp)
{
    return s_user_call (self, "POST", user, "/calendar/getSchedule", body, access_token,
                        "Prefer: outlook.timezone=\"UTC\"", traceparent, resp);
}

int
zhub_graph_event_delete (zhub_graph_t *self, const char *user, const char *event_id,
                         const char *access_token, const char *traceparent,
                         zhub_http_response_t *resp)
{
    char *e = zhub_http_escape (event_id);
    char *tail = zhub_sprintf ("/events/%s", e);
    int rc = s_user_call (self, "DELETE", user, tail, NULL, access_token, NULL, traceparent, resp);
    free (tail);
    free (e);
    return rc;
}

int
zhub_graph_event_create (zhub_graph_t *self, const char *user, const json_t *body,
                         const char *access_token, const char *traceparent,
                         zhub_http_response_t *resp)
{
    return s_user_call (self, "POST", user, "/calendar/events", body, access_token, NULL,
                        traceparent, resp);
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
    const zhub_connector_field_t fields[] = {
        {"client_id", client_id},
        {"client_secret", client_secret},
        {"scope", "https://graph.microsoft.com/.default"},
        {"grant_type", "client_credentials"},
    };
    return zhub_connector_token (&self->core, self->token_url, fields,
                                 sizeof fields / sizeof fields[0], resp);
}
