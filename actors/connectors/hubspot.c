//  HubSpot CRM client: paths and the Bearer header on the shared request
//  path (zhub_connector), nothing more. Kept thin on purpose so that what
//  reaches HubSpot is decided by the actors' pure cores (and visible in
//  their tests), not hidden here.
#include "hubspot.h"
#include "zhub_connector.h"
#include "zhub_env.h"
#include "zhub_log.h"
#include "zhub_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_hubspot_t {
    zhub_connector_t core; //  base URL, Bearer header, pacer of this host
};

zhub_hubspot_t *
zhub_hubspot_new (const zhub_hubspot_config_t *config, zhub_http_t *http)
{
    zhub_hubspot_t *self = zhub_calloc (1, sizeof *self);
    zhub_connector_init (
        &self->core, http,
        &(zhub_connector_config_t){.base_url = config ? config->base_url : NULL,
                                   .default_base_url = ZHUB_HUBSPOT_BASE_URL_DEFAULT,
                                   .auth_scheme = "Bearer",
                                   .secret = config ? config->token : NULL,
                                   .paced = true});
    return self;
}

void
zhub_hubspot_destroy (zhub_hubspot_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_connector_fini (&(*self_p)->core);
    free (*self_p);
    *self_p = NULL;
}

int
zhub_hubspot_request (zhub_hubspot_t *self, const char *method, const char *path,
                      const json_t *body, const char *traceparent, zhub_http_response_t *resp)
{
    //  Search endpoints have their own limit (zhub_pacer.h).
    zhub_connector_call_t call = {.method = method,
                                  .path = path,
                                  .body = body,
                                  .traceparent = traceparent,
                                  .search = strstr (path, "/search") != NULL};
    return zhub_connector_request (&self->core, &call, resp);
}

char *
zhub_hubspot_contact_path (const char *id, const char *properties)
{
    char *eid = zhub_http_escape (id);
    char *path = properties
                     ? zhub_sprintf ("/crm/v3/objects/contacts/%s?properties=%s", eid, properties)
                     : zhub_sprintf ("/crm/v3/objects/contacts/%s", eid);
    free (eid);
    return path;
}

int
zhub_hubspot_contact_get (zhub_hubspot_t *self, const char *id, const char *properties,
                          const char *traceparent, zhub_http_response_t *resp)
{
    char *path = zhub_hubspot_contact_path (id, properties);
    int rc = zhub_hubspot_request (self, "GET", path, NULL, traceparent, resp);
    free (path);
    return rc;
}

int
zhub_hubspot_contacts_upsert (zhub_hubspot_t *self, const json_t *body, const char *traceparent,
                              zhub_http_response_t *resp)
{
    return zhub_hubspot_request (self, "POST", ZHUB_HUBSPOT_CONTACTS_UPSERT_PATH, body, traceparent,
                                 resp);
}

int
zhub_hubspot_contacts_search (zhub_hubspot_t *self, const json_t *body, const char *traceparent,
                              zhub_http_response_t *resp)
{
    return zhub_hubspot_request (self, "POST", ZHUB_HUBSPOT_CONTACTS_SEARCH_PATH, body, traceparent,
                                 resp);
}

int
zhub_hubspot_contact_update (zhub_hubspot_t *self, const char *id, const json_t *body,
                             const char *traceparent, zhub_http_response_t *resp)
{
    char *path = zhub_hubspot_contact_path (id, NULL);
    int rc = zhub_hubspot_request (self, "PATCH", path, body, traceparent, resp);
    free (path);
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

int
zhub_hubspot_token_info (zhub_hubspot_t *self, const char *token, zhub_http_response_t *resp)
{
    json_t *body = json_pack ("{s:s}", "tokenKey", token ? token : "");
    int rc = zhub_hubspot_request (self, "POST", "/oauth/v2/private-apps/get/access-token-info",
                                   body, NULL, resp);
    json_decref (body);
    return rc;
}

const zhub_pacer_t *
zhub_hubspot_pacer (const zhub_hubspot_t *self)
{
    return self->core.pacer;
}

//  -------------------------------------------------------------------
//  Configuration

int
zhub_hubspot_config_load (zhub_hubspot_config_t *config, char *err, size_t err_size)
{
    config->base_url = zhub_env_str ("ZHUB_HUBSPOT_BASE_URL", ZHUB_HUBSPOT_BASE_URL_DEFAULT);
    config->token = zhub_env_str ("ZHUB_HUBSPOT_TOKEN", "");
    zhub_url_t url;
    if (zhub_url_parse (config->base_url, &url)) {
        snprintf (err, err_size, "ZHUB_HUBSPOT_BASE_URL must be an http:// or https:// URL");
        return -1;
    }
    return 0;
}

void
zhub_hubspot_config_log (const zhub_hubspot_config_t *config)
{
    char token[32];
    zhub_info ("config", "hubspot_base_url=%s hubspot_token=%s", config->base_url,
               zhub_env_mask (config->token, token, sizeof token));
}
