//  The connectors' shared request path (see zhub_connector.h). It exists so
//  that URL joining, the Authorization line, secret wiping and the choice
//  between pacer and direct call are the same code for every API; it knows
//  no API's paths.
#include "zhub_connector.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

//  Wipes and frees a string that held a secret. NULL-safe.
static void
s_free_secret (char *text)
{
    if (text)
        sodium_memzero (text, strlen (text));
    free (text);
}

//  Through the pacer when the host has one, else straight to the client.
static int
s_send (zhub_connector_t *self, const zhub_http_call_t *call, bool search,
        zhub_http_response_t *resp)
{
    return self->pacer ? zhub_pacer_call (self->pacer, self->http, call, search, resp)
                       : zhub_http_request (self->http, call, resp);
}

void
zhub_connector_init (zhub_connector_t *self, zhub_http_t *http,
                     const zhub_connector_config_t *config)
{
    *self = (zhub_connector_t){.http = http};
    self->base_url = zhub_strdup (config->base_url && *config->base_url ? config->base_url
                                                                        : config->default_base_url);
    size_t size = strlen (self->base_url);
    while (size && self->base_url[size - 1] == '/')
        self->base_url[--size] = 0;
    if (config->auth_scheme && config->secret && *config->secret)
        self->auth_header =
            zhub_sprintf ("Authorization: %s %s", config->auth_scheme, config->secret);
    if (config->paced) {
        self->pacer = zhub_malloc (sizeof *self->pacer);
        zhub_pacer_init (self->pacer);
    }
}

void
zhub_connector_fini (zhub_connector_t *self)
{
    if (!self)
        return;
    s_free_secret (self->auth_header);
    free (self->base_url);
    free (self->pacer);
    *self = (zhub_connector_t){0};
}

int
zhub_connector_request (zhub_connector_t *self, const zhub_connector_call_t *call,
                        zhub_http_response_t *resp)
{
    char *url = call->path ? zhub_sprintf ("%s%s", self->base_url, call->path) : NULL;
    char *token_auth =
        call->access_token ? zhub_sprintf ("Authorization: Bearer %s", call->access_token) : NULL;
    const char *auth = call->access_token ? token_auth : self->auth_header;
    const char *headers[2];
    size_t count = 0;
    if (auth)
        headers[count++] = auth;
    if (call->extra_header)
        headers[count++] = call->extra_header;
    zhub_http_call_t http_call = {.method = call->method,
                                  .url = url ? url : call->url,
                                  .headers = headers,
                                  .header_count = count,
                                  .body = call->body,
                                  .traceparent = call->traceparent,
                                  .timeout_ms = call->timeout_ms};
    int rc = s_send (self, &http_call, call->search, resp);
    s_free_secret (token_auth);
    free (url);
    return rc;
}

int
zhub_connector_token (zhub_connector_t *self, const char *url, const zhub_connector_field_t *fields,
                      size_t count, zhub_http_response_t *resp)
{
    char *form = zhub_strdup ("");
    for (size_t i = 0; i < count; i++) {
        char *value = zhub_http_escape (fields[i].value ? fields[i].value : "");
        char *longer = zhub_sprintf ("%s%s%s=%s", form, i ? "&" : "", fields[i].name, value);
        s_free_secret (value);
        s_free_secret (form);
        form = longer;
    }
    zhub_http_call_t call = {.method = "POST", .url = url, .form = form};
    int rc = s_send (self, &call, false, resp);
    s_free_secret (form);
    return rc;
}
