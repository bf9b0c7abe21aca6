//  Microsoft Graph calendar and token calls (see graph.h). Thin on purpose.
#include "graph.h"
#include "zhub_connector.h"
#include "zhub_url.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct zhub_graph_t {
    zhub_connector_t core; //  base URL; unpaced, tokens come with each call
    char *token_url;       //  tenant filled in; NULL without a tenant
    char *scope;
};

static const char *
s_or (const char *value, const char *fallback)
{
    return value && *value ? value : fallback;
}

int
zhub_graph_config_check (const zhub_graph_config_t *config, char *err, size_t err_size)
{
    const char *tenant = config->tenant;
    const char *base = s_or (config->base_url, ZHUB_GRAPH_BASE_URL_DEFAULT);
    const char *token = s_or (config->token_url, ZHUB_GRAPH_TOKEN_URL_DEFAULT);
    const char *scope = s_or (config->scope, ZHUB_GRAPH_SCOPE_DEFAULT);
    const char *placeholder = strstr (token, ZHUB_GRAPH_TENANT_PLACEHOLDER);
    size_t suffix = strlen (ZHUB_GRAPH_SCOPE_SUFFIX);
    zhub_url_t url;
    const char *bad = NULL;
    if (!tenant || !*tenant)
        bad = "ZHUB_GRAPH_TENANT_ID is required: the directory (tenant) id or a verified domain "
              "of the Microsoft Entra tenant that holds the mailboxes";
    else if (!strcasecmp (tenant, "common") || !strcasecmp (tenant, "organizations")
             || !strcasecmp (tenant, "consumers"))
        bad = "ZHUB_GRAPH_TENANT_ID must name one tenant (its id or domain): app-only tokens "
              "cannot come from common, organizations or consumers";
    else if (strspn (tenant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
             != strlen (tenant))
        bad = "ZHUB_GRAPH_TENANT_ID must be a tenant id (GUID) or a domain name";
    else if (zhub_url_parse (base, &url))
        bad = "ZHUB_GRAPH_BASE_URL must be an http(s) URL";
    else if (!zhub_url_path_ends_with (&url, ZHUB_GRAPH_BASE_URL_VERSION))
        bad = "ZHUB_GRAPH_BASE_URL must include the API version, e.g. "
              "https://graph.microsoft.com/v1.0";
    else if (zhub_url_parse (token, &url) || strpbrk (token, "{}") != placeholder
             || (placeholder && strstr (placeholder + 1, ZHUB_GRAPH_TENANT_PLACEHOLDER)))
        bad = "ZHUB_GRAPH_TOKEN_URL must be an http(s) URL, with {tenant} at most once where the "
              "tenant goes";
    else if (strlen (scope) <= suffix
             || strcmp (scope + strlen (scope) - suffix, ZHUB_GRAPH_SCOPE_SUFFIX))
        bad = "ZHUB_GRAPH_SCOPE must be the Graph resource with /.default, e.g. "
              "https://graph.microsoft.com/.default";
    if (bad) {
        snprintf (err, err_size, "%s", bad);
        return -1;
    }
    return 0;
}

//  template with its {tenant} replaced, or a copy when it has none; NULL
//  when it needs a tenant and there is none.
static char *
s_token_url (const char *template, const char *tenant)
{
    const char *at = strstr (template, ZHUB_GRAPH_TENANT_PLACEHOLDER);
    if (!at)
        return zhub_strdup (template);
    if (!tenant || !*tenant)
        return NULL;
    return zhub_sprintf ("%.*s%s%s", (int)(at - template), template, tenant,
                         at + strlen (ZHUB_GRAPH_TENANT_PLACEHOLDER));
}

zhub_graph_t *
zhub_graph_new (const zhub_graph_config_t *config, zhub_http_t *http)
{
    zhub_graph_t *self = zhub_calloc (1, sizeof *self);
    zhub_connector_init (
        &self->core, http,
        &(zhub_connector_config_t){.base_url = config ? config->base_url : NULL,
                                   .default_base_url = ZHUB_GRAPH_BASE_URL_DEFAULT});
    self->token_url =
        s_token_url (s_or (config ? config->token_url : NULL, ZHUB_GRAPH_TOKEN_URL_DEFAULT),
                     config ? config->tenant : NULL);
    self->scope = zhub_strdup (s_or (config ? config->scope : NULL, ZHUB_GRAPH_SCOPE_DEFAULT));
    return self;
}

const char *
zhub_graph_token_url (const zhub_graph_t *self)
{
    return self->token_url;
}

void
zhub_graph_destroy (zhub_graph_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_graph_t *self = *self_p;
    zhub_connector_fini (&self->core);
    free (self->token_url);
    free (self->scope);
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
zhub_graph_event_get (zhub_graph_t *self, const char *user, const char *event_id,
                      const char *access_token, const char *traceparent, zhub_http_response_t *resp)
{
    char *e = zhub_http_escape (event_id);
    char *tail = zhub_sprintf ("/events/%s", e);
    int rc = s_user_call (self, "GET", user, tail, NULL, access_token,
                          "Prefer: outlook.timezone=\"UTC\"", traceparent, resp);
    free (tail);
    free (e);
    return rc;
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

//  A call that cannot be made: an answer as curl gives for a bad URL, so
//  that zhub_retry rejects it (a configuration fault, not a passing one).
static int
s_refuse (zhub_http_response_t *resp, const char *why)
{
    zhub_http_response_reset (resp);
    resp->status = 0;
    resp->transport_error = CURLE_URL_MALFORMAT;
    snprintf (resp->error, sizeof resp->error, "%s", why);
    return -1;
}

int
zhub_graph_next_page (zhub_graph_t *self, const char *next_link, const char *access_token,
                      const char *traceparent, zhub_http_response_t *resp)
{
    size_t size = strlen (self->core.base_url);
    if (!next_link || strncmp (next_link, self->core.base_url, size) || next_link[size] != '/')
        return s_refuse (resp, "@odata.nextLink is not under the Graph base URL");
    zhub_connector_call_t call = {.method = "GET",
                                  .url = next_link,
                                  .access_token = access_token,
                                  .traceparent = traceparent};
    return zhub_connector_request (&self->core, &call, resp);
}

int
zhub_graph_token (zhub_graph_t *self, const char *client_id, const char *client_secret,
                  zhub_http_response_t *resp)
{
    if (!self->token_url)
        return s_refuse (resp, "no Graph token URL: ZHUB_GRAPH_TENANT_ID is not set");
    const zhub_connector_field_t fields[] = {
        {"client_id", client_id},
        {"client_secret", client_secret},
        {"scope", self->scope},
        {"grant_type", "client_credentials"},
    };
    return zhub_connector_token (&self->core, self->token_url, fields,
                                 sizeof fields / sizeof fields[0], resp);
}
