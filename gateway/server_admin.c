//  The admin daemon's endpoints: /healthz, /readyz (pings the broker),
//  /metrics, and /v1/status behind any of the admin bearer tokens; the
//  console's page and API (/console/, /v1/console/...) are handed to
//  server_console.c.
#include "server_internal.h"

//  The configured tokens of kind: name, whether from _PREVIOUS, and for
//  events tokens what they may publish. Never the token, nor its length.
static json_t *
s_token_list (const zhub_tokens_t *tokens, zhub_token_kind_t kind)
{
    json_t *list = json_array ();
    for (size_t i = 0; i < ZHUB_TOKENS_SLOTS; i++) {
        const zhub_token_t *token = &tokens->items[i];
        if (token->kind != kind)
            continue;
        json_t *entry = json_pack ("{s:s,s:b}", "name", token->name, "previous", token->previous);
        if (kind == ZHUB_TOKEN_EVENTS) {
            json_t *scope = json_array ();
            for (size_t k = 0; k < token->pattern_count; k++)
                json_array_append_new (scope, json_string (token->patterns[k]));
            json_object_set_new (entry, "may_publish",
                                 token->patterns ? scope : json_string ("default"));
            if (!token->patterns)
                json_decref (scope);
        }
        json_array_append_new (list, entry);
    }
    return list;
}

//  GET /v1/status: sources, which secrets are loaded (never their values),
//  spool, broker.
static enum MHD_Result
s_status (struct MHD_Connection *conn, s_request_t *req)
{
    enum MHD_Result auth = zhub_gateway_server_admin_auth (conn, req);
    if (req->responded || auth != MHD_YES)
        return auth;
    zhub_gateway_server_t *self = req->server;
    const zhub_gateway_config_t *config = self->config;
    json_t *sources = json_array ();
    for (size_t i = 0; i < zhub_provider_count (); i++) {
        const zhub_provider_t *provider = zhub_provider_at (i);
        if (!strcmp (provider->name, "generic"))
            continue;
        json_t *secrets = json_array ();
        for (int k = 0; k < ZHUB_SECRET_COUNT; k++)
            if (!strcmp (config->secrets[k].source, provider->name))
                json_array_append_new (
                    secrets, json_pack ("{s:s,s:b,s:b}", "variable", config->secrets[k].variable,
                                        "loaded", config->secrets[k].value != NULL, "previous",
                                        config->secrets[k].previous != NULL));
        bool events = !strcmp (provider->name, "events");
        const zhub_tokens_t *tokens = &config->tokens;
        if (events)
            json_array_append_new (
                secrets,
                json_pack ("{s:s,s:b,s:b}", "variable", ZHUB_EVENTS_TOKEN_VARIABLE, "loaded",
                           zhub_tokens_count (tokens, ZHUB_TOKEN_EVENTS, false) > 0, "previous",
                           zhub_tokens_count (tokens, ZHUB_TOKEN_EVENTS, true) > 0));
        char webhook[96];
        snprintf (webhook, sizeof webhook, "/v1/webhooks/%s", provider->name);
        json_t *source = json_pack ("{s:s,s:s,s:o}", "name", provider->name, "path",
                                    events ? "/v1/events" : webhook, "secrets", secrets);
        if (events)
            json_object_set_new (source, "tokens",
                                 s_token_list (&config->tokens, ZHUB_TOKEN_EVENTS));
        json_array_append_new (sources, source);
    }
    for (size_t i = 0; i < config->generic_count; i++) {
        char name[96], path[128], variable[128];
        snprintf (name, sizeof name, "generic/%s", config->generic[i].name);
        snprintf (path, sizeof path, "/v1/webhooks/generic/%s", config->generic[i].name);
        snprintf (variable, sizeof variable, "ZHUB_GENERIC_SECRET_%s", config->generic[i].name);
        for (char *p = variable; *p; p++)
            *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 'a' + 'A' : *p);
        json_array_append_new (sources,
                               json_pack ("{s:s,s:s,s:[{s:s,s:b,s:b}]}", "name", name, "path", path,
                                          "secrets", "variable", variable, "loaded",
                                          config->generic[i].value != NULL, "previous",
                                          config->generic[i].previous != NULL));
    }
    json_t *body = json_pack (
        "{s:o,s:{s:o},s:{s:b,s:I,s:I},s:{s:s,s:b}}", "sources", sources, "admin", "tokens",
        s_token_list (&config->tokens, ZHUB_TOKEN_ADMIN), "spool", "enabled", self->spool != NULL,
        "depth", (json_int_t)(self->spool ? zhub_gateway_spool_depth (self->spool) : 0), "limit",
        (json_int_t)config->spool_limit, "broker", "endpoint", config->broker, "connected",
        atomic_load (&self->broker_up));
    return zhub_gateway_server_reply (conn, req, MHD_HTTP_OK, body, NULL, NULL);
}

enum MHD_Result
zhub_gateway_server_admin_handler (void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    s_request_t *req = *con_cls;
    if (!req)
        return MHD_NO;
    if (!req->started) {
        req->started = true;
        snprintf (req->method, sizeof req->method, "%s", method);
        s_sanitise (url, req->path, sizeof req->path);
        return MHD_YES; //  decide once any body is in (admin requests have none)
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0; //  ignored
        return MHD_YES;
    }
    if (req->responded)
        return MHD_YES;
    zhub_gateway_server_t *self = req->server;
    if (zhub_gateway_server_console_path (url))
        return zhub_gateway_server_console (conn, req, url, method);
    bool healthz = !strcmp (url, "/healthz"), readyz = !strcmp (url, "/readyz");
    bool metrics = !strcmp (url, "/metrics"), status = !strcmp (url, "/v1/status");
    if (!healthz && !readyz && !metrics && !status)
        return zhub_gateway_server_error (conn, req, MHD_HTTP_NOT_FOUND, "not_found",
                                          "no such path", NULL, NULL, NULL);
    if (strcmp (method, "GET") && strcmp (method, "HEAD"))
        return zhub_gateway_server_error (conn, req, MHD_HTTP_METHOD_NOT_ALLOWED,
                                          "method_not_allowed", "use GET", NULL,
                                          MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (healthz)
        return zhub_gateway_server_reply (conn, req, MHD_HTTP_OK,
                                          json_pack ("{s:s}", "status", "ok"), NULL, NULL);
    if (metrics) {
        char *text = zhub_gateway_metrics_render (
            self->metrics, self->spool ? zhub_gateway_spool_depth (self->spool) : 0,
            self->spool != NULL, atomic_load (&self->broker_up));
        return zhub_gateway_server_text (conn, req, MHD_HTTP_OK,
                                         "text/plain; version=0.0.4; charset=utf-8", text);
    }
    if (status)
        return s_status (conn, req);
    if (!self->admin_client)
        self->admin_client = zhub_client_new (self->config->broker, "zhub-gateway-admin",
                                              &self->config->bus);
    bool ready =
        self->admin_client
        && zhub_client_ping (self->admin_client, (int)self->config->ready_timeout_ms) == ZHUB_OK;
    if (ready)
        return zhub_gateway_server_reply (
            conn, req, MHD_HTTP_OK, json_pack ("{s:s,s:s}", "status", "ready", "broker", "ok"),
            NULL, NULL);
    //  With the spool on, webhooks are still accepted while the broker is
    //  away; readiness says so rather than taking the gateway out of a
    //  load balancer for exactly the case the spool exists for.
    if (self->spool)
        return zhub_gateway_server_reply (
            conn, req, MHD_HTTP_OK,
            json_pack ("{s:s,s:s,s:I}", "status", "ready", "broker", "unreachable", "spool_depth",
                       (json_int_t)zhub_gateway_spool_depth (self->spool)),
            NULL, NULL);
    snprintf (req->reason, sizeof req->reason, "broker_unreachable");
    return zhub_gateway_server_reply (
        conn, req, MHD_HTTP_SERVICE_UNAVAILABLE,
        json_pack ("{s:s,s:s}", "status", "unavailable", "broker", "unreachable"), NULL, NULL);
}
