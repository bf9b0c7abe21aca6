//  HubSpot CRM client: URL building and the Bearer header, nothing more.
//  Kept thin on purpose so that what reaches HubSpot is decided by the
//  actors' pure cores (and visible in their tests), not hidden here.
#include "hubspot.h"
#include "zhub_pacer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_hubspot_t {
    zhub_http_t *http;
    char *base_url;
    zhub_pacer_t pacer; //  rate budget and circuit breaker of this host
    char *auth_header;  //  "Authorization: Bearer …" or NULL
};

zhub_hubspot_t *
zhub_hubspot_new (const zhub_hubspot_config_t *config, zhub_http_t *http)
{
    zhub_hubspot_t *self = zhub_calloc (1, sizeof *self);
    self->http = http;
    zhub_pacer_init (&self->pacer);
    const char *base = config && config->base_url && *config->base_url
                           ? config->base_url
                           : ZHUB_HUBSPOT_BASE_URL_DEFAULT;
    self->base_url = zhub_strdup (base);
    size_t size = strlen (self->base_url);
    while (size && self->base_url[size - 1] == '/')
        self->base_url[--size] = 0;
    if (config && config->token && *config->token)
        self->auth_header = zhub_sprintf ("Authorization: Bearer %s", config->token);
    return self;
}

void
zhub_hubspot_destroy (zhub_hubspot_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_hubspot_t *self = *self_p;
    free (self->base_url);
    free (self->auth_header);
    free (self);
    *self_p = NULL;
}

int
zhub_hubspot_request (zhub_hubspot_t *self, const char *method, const char *path,
                      const json_t *body, const char *traceparent, zhub_http_response_t *resp)
{
    char *url = zhub_sprintf ("%s%s", self->base_url, path);
    const char *headers[1] = {self->auth_header};
    zhub_http_call_t call = {.method = method,
                             .url = url,
                             .headers = headers,
                             .header_count = self->auth_header ? 1 : 0,
                             .body = body,
                             .traceparent = traceparent};
    int rc =
        zhub_pacer_call (&self->pacer, self->http, &call, strstr (path, "/search") != NULL, resp);
    free (url);
    return rc;
}

int
zhub_hubspot_contact_get (zhub_hubspot_t *self, const char *id, const char *properties,
                          const char *traceparent, zhub_http_response_t *resp)
{
    char *eid = zhub_http_escape (id);
    char *path = properties
                     ? zhub_sprintf ("/crm/v3/objects/contacts/%s?properties=%s", eid, properties)
                     : zhub_sprintf ("/crm/v3/objects/contacts/%s", eid);
    int rc = zhub_hubspot_request (self, "GET", path, NULL, traceparent, resp);
    free (path);
    free (eid);
    return rc;
}

int
zhub_hubspot_contacts_upsert (zhub_hubspot_t *self, const json_t *body, const char *traceparent,
                              zhub_http_response_t *resp)
{
    return zhub_hubspot_request (self, "POST", "/crm/v3/objects/contacts/batch/upsert", body,
                                 traceparent, resp);
}

int
zhub_hubspot_contact_update (zhub_hubspot_t *self, const char *id, const json_t *body,
                             const char *traceparent, zhub_http_response_t *resp)
{
    char *eid = zhub_http_escape (id);
    char *path = zhub_sprintf ("/crm/v3/objects/contacts/%s", eid);
    int rc = zhub_hubspot_request (self, "PATCH", path, body, traceparent, resp);
    free (path);
    free (eid);
    return rc;
}

int
zhub_hubspot_contact_gdpr_delete (zhub_hubspot_t *self, const char *object_id,
                                  const char *id_property, const char *traceparent,
                                  zhub_http_response_t *resp)
{
    json_t *body = json_pack ("{s:s}", "objectId", object_id ? object_id : "");
    if (id_property)
        json_object_set_new (body, "idProperty", json_string (id_property));
    int rc = zhub_hubspot_request (self, "POST", "/crm/v3/objects/contacts/gdpr-delete", body,
                                   traceparent, resp);
    json_decref (body);
    return rc;
}

const zhub_pacer_t *
zhub_hubspot_pacer (const zhub_hubspot_t *self)
{
    return &self->pacer;
}
