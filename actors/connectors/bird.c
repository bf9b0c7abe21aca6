//  Bird client: paths under /workspaces/{ws} with the AccessKey header, on
//  the shared request path (zhub_connector), nothing more. Kept thin on
//  purpose so that what reaches Bird is decided by the actors' pure cores
//  (and visible in their tests).
#include "bird.h"
#include "zhub_connector.h"
#include "zhub_env.h"
#include "zhub_log.h"
#include "zhub_url.h"

#include <stdio.h>
#include <stdlib.h>

struct zhub_bird_t {
    zhub_connector_t core; //  base URL up to the workspace, AccessKey header, pacer of this host
};

zhub_bird_t *
zhub_bird_new (const zhub_bird_config_t *config, zhub_http_t *http)
{
    zhub_bird_t *self = zhub_calloc (1, sizeof *self);
    zhub_connector_init (&self->core, http,
                         &(zhub_connector_config_t){.base_url = config ? config->base_url : NULL,
                                                    .default_base_url = ZHUB_BIRD_BASE_URL_DEFAULT,
                                                    .auth_scheme = "AccessKey",
                                                    .secret = config ? config->api_key : NULL,
                                                    .paced = true});
    //  Every path lives under the workspace: make it part of the base.
    char *ws = zhub_http_escape (config && config->workspace_id ? config->workspace_id : "");
    char *base = zhub_sprintf ("%s/workspaces/%s", self->core.base_url, ws);
    free (ws);
    free (self->core.base_url);
    self->core.base_url = base;
    return self;
}

void
zhub_bird_destroy (zhub_bird_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_connector_fini (&(*self_p)->core);
    free (*self_p);
    *self_p = NULL;
}

int
zhub_bird_request (zhub_bird_t *self, const char *method, const char *path, const json_t *body,
                   const char *traceparent, zhub_http_response_t *resp)
{
    zhub_connector_call_t call = {
        .method = method, .path = path, .body = body, .traceparent = traceparent};
    return zhub_connector_request (&self->core, &call, resp);
}

char *
zhub_bird_contact_path (const char *id)
{
    char *eid = zhub_http_escape (id);
    char *path = zhub_sprintf ("/contacts/%s", eid);
    free (eid);
    return path;
}

char *
zhub_bird_contact_identifier_path (const char *key, const char *value)
{
    char *ekey = zhub_http_escape (key);
    char *evalue = zhub_http_escape (value);
    char *path = zhub_sprintf ("/contacts/identifiers/%s/%s", ekey, evalue);
    free (evalue);
    free (ekey);
    return path;
}

//  method on /contacts/{id}, the id escaped.
static int
s_contact_call (zhub_bird_t *self, const char *method, const char *id, const json_t *body,
                const char *traceparent, zhub_http_response_t *resp)
{
    char *path = zhub_bird_contact_path (id);
    int rc = zhub_bird_request (self, method, path, body, traceparent, resp);
    free (path);
    return rc;
}

int
zhub_bird_contact_get (zhub_bird_t *self, const char *id, const char *traceparent,
                       zhub_http_response_t *resp)
{
    return s_contact_call (self, "GET", id, NULL, traceparent, resp);
}

int
zhub_bird_contact_upsert (zhub_bird_t *self, const char *key, const char *value, const json_t *body,
                          const char *traceparent, zhub_http_response_t *resp)
{
    char *path = zhub_bird_contact_identifier_path (key, value);
    int rc = zhub_bird_request (self, "PATCH", path, body, traceparent, resp);
    free (path);
    return rc;
}

int
zhub_bird_contact_update (zhub_bird_t *self, const char *id, const json_t *body,
                          const char *traceparent, zhub_http_response_t *resp)
{
    return s_contact_call (self, "PATCH", id, body, traceparent, resp);
}

int
zhub_bird_contact_delete (zhub_bird_t *self, const char *id, const char *traceparent,
                          zhub_http_response_t *resp)
{
    return s_contact_call (self, "DELETE", id, NULL, traceparent, resp);
}

//  -------------------------------------------------------------------
//  Channel messages

int
zhub_bird_channel_message_send (zhub_bird_t *self, const char *channel_id, const json_t *body,
                                const char *traceparent, zhub_http_response_t *resp)
{
    char *channel = zhub_http_escape (channel_id);
    char *path = zhub_sprintf ("/channels/%s/messages", channel);
    int rc = zhub_bird_request (self, "POST", path, body, traceparent, resp);
    free (path);
    free (channel);
    return rc;
}

const zhub_pacer_t *
zhub_bird_pacer (const zhub_bird_t *self)
{
    return self->core.pacer;
}

//  -------------------------------------------------------------------
//  Configuration

int
zhub_bird_config_load (zhub_bird_config_t *config, char *err, size_t err_size)
{
    config->base_url = zhub_env_str ("ZHUB_BIRD_BASE_URL", ZHUB_BIRD_BASE_URL_DEFAULT);
    config->api_key = zhub_env_str ("ZHUB_BIRD_API_KEY", "");
    config->workspace_id = zhub_env_str ("ZHUB_BIRD_WORKSPACE_ID", "");
    zhub_url_t url;
    if (zhub_url_parse (config->base_url, &url)) {
        snprintf (err, err_size, "ZHUB_BIRD_BASE_URL must be an http:// or https:// URL");
        return -1;
    }
    if (*config->workspace_id && !zhub_is_uuid (config->workspace_id)) {
        snprintf (err, err_size,
                  "ZHUB_BIRD_WORKSPACE_ID must be a Bird workspace id, a UUID such as "
                  "a1405560-c8d3-4b1a-877d-3f449ad95352");
        return -1;
    }
    return 0;
}

void
zhub_bird_config_log (const zhub_bird_config_t *config)
{
    char key[32];
    zhub_info ("config", "bird_base_url=%s bird_api_key=%s bird_workspace_id=%s", config->base_url,
               zhub_env_mask (config->api_key, key, sizeof key),
               *config->workspace_id ? config->workspace_id : "unset");
}
