//  Bird client: URL building under /workspaces/{ws} and the AccessKey
//  header, nothing more. Kept thin on purpose so that what reaches Bird is
//  decided by the actors' pure cores (and visible in their tests).
#include "bird.h"
#include "zhub_pacer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_bird_t {
    zhub_http_t *http;
    char *base_url;     //  base + "/workspaces/" + escaped workspace id
    zhub_pacer_t pacer; //  rate budget and circuit breaker of this host
    char *auth_header;  //  "Authorization: AccessKey …" or NULL
};

zhub_bird_t *
zhub_bird_new (const zhub_bird_config_t *config, zhub_http_t *http)
{
    zhub_bird_t *self = zhub_calloc (1, sizeof *self);
    self->http = http;
    zhub_pacer_init (&self->pacer);
    const char *base = config && config->base_url && *config->base_url ? config->base_url
                                                                       : ZHUB_BIRD_BASE_URL_DEFAULT;
    char *trimmed = zhub_strdup (base);
    size_t size = strlen (trimmed);
    while (size && trimmed[size - 1] == '/')
        trimmed[--size] = 0;
    char *ws = zhub_http_escape (config && config->workspace_id ? config->workspace_id : "");
    self->base_url = zhub_sprintf ("%s/workspaces/%s", trimmed, ws);
    free (ws);
    free (trimmed);
    if (config && config->api_key && *config->api_key)
        self->auth_header = zhub_sprintf ("Authorization: AccessKey %s", config->api_key);
    return self;
}

void
zhub_bird_destroy (zhub_bird_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_bird_t *self = *self_p;
    free (self->base_url);
    free (self->auth_header);
    free (self);
    *self_p = NULL;
}

int
zhub_bird_request (zhub_bird_t *self, const char *method, const char *path, const json_t *body,
                   const char *traceparent, zhub_http_response_t *resp)
{
    char *url = zhub_sprintf ("%s%s", self->base_url, path);
    const char *headers[1] = {self->auth_header};
    zhub_http_call_t call = {.method = method,
                             .url = url,
                             .headers = headers,
                             .header_count = self->auth_header ? 1 : 0,
                             .body = body,
                             .traceparent = traceparent};
    int rc = zhub_pacer_call (&self->pacer, self->http, &call, false, resp);
    free (url);
    return rc;
}

int
zhub_bird_contact_get (zhub_bird_t *self, const char *id, const char *traceparent,
                       zhub_http_response_t *resp)
{
    char *eid = zhub_http_escape (id);
    char *path = zhub_sprintf ("/contacts/%s", eid);
    int rc = zhub_bird_request (self, "GET", path, NULL, traceparent, resp);
    free (path);
    free (eid);
    return rc;
}

int
zhub_bird_contact_upsert (zhub_bird_t *self, const char *key, const char *value, const json_t *body,
                          const char *traceparent, zhub_http_response_t *resp)
{
    char *ekey = zhub_http_escape (key);
    char *evalue = zhub_http_escape (value);
    char *path = zhub_sprintf ("/contacts/identifiers/%s/%s", ekey, evalue);
    int rc = zhub_bird_request (self, "PATCH", path, body, traceparent, resp);
    free (path);
    free (evalue);
    free (ekey);
    return rc;
}

int
zhub_bird_contact_update (zhub_bird_t *self, const char *id, const json_t *body,
                          const char *traceparent, zhub_http_response_t *resp)
{
    char *eid = zhub_http_escape (id);
    char *path = zhub_sprintf ("/contacts/%s", eid);
    int rc = zhub_bird_request (self, "PATCH", path, body, traceparent, resp);
    free (path);
    free (eid);
    return rc;
}

int
zhub_bird_contact_delete (zhub_bird_t *self, const char *id, const char *traceparent,
                          zhub_http_response_t *resp)
{
    char *eid = zhub_http_escape (id);
    char *path = zhub_sprintf ("/contacts/%s", eid);
    int rc = zhub_bird_request (self, "DELETE", path, NULL, traceparent, resp);
    free (path);
    free (eid);
    return rc;
}

const zhub_pacer_t *
zhub_bird_pacer (const zhub_bird_t *self)
{
    return &self->pacer;
}
