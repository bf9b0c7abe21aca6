//  The console on the admin listener: the page (GET /console/, its files
//  compiled in, console_assets.h) and its JSON API under /v1/console/,
//  every endpoint of which needs an admin bearer token, checked as
//  /v1/status checks it (server_auth.c):
//
//    GET  /v1/console/snapshot                 console_data.h's snapshot
//    GET  /v1/console/decisions                contact-sync's recent decisions
//    GET  /v1/console/results                  the latest sync runs (zhub sync results)
//    GET  /v1/console/letters/<n>              one dead letter in full
//    GET  /v1/console/letters/<n>/preview      the dry run of its replay
//    POST /v1/console/letters/<n>/replay       replay it (a bus command)
//    POST /v1/console/letters/<n>/purge        purge it (a bus command)
//
//  The page itself holds no data and no secret, so it is served without a
//  token; it asks the operator for one and sends it in the Authorization
//  header (never in a URL: EventSource cannot send headers, which is why
//  the page polls). The page is served with a Content-Security-Policy
//  that allows only its own files and its own origin.
#include "server_internal.h"
#include "console_assets.h"
#include "console_letters.h"

#define s_CSP                                                                                      \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

bool
zhub_gateway_server_console_path (const char *url)
{
    return !strcmp (url, "/console") || !strncmp (url, "/console/", 9)
           || !strncmp (url, "/v1/console/", 12);
}

static enum MHD_Result
s_asset (struct MHD_Connection *conn, s_request_t *req, const zhub_console_asset_t *asset)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (asset->size, (void *)asset->data, MHD_RESPMEM_PERSISTENT);
    if (!response)
        return MHD_NO;
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, asset->content_type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header (response, "Content-Security-Policy", s_CSP);
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (response, "X-Frame-Options", "DENY");
    MHD_add_response_header (response, "Referrer-Policy", "no-referrer");
    enum MHD_Result rc = MHD_queue_response (conn, MHD_HTTP_OK, response);
    MHD_destroy_response (response);
    if (rc == MHD_YES) {
        req->status = MHD_HTTP_OK;
        req->responded = true;
    }
    return rc;
}

static zhub_console_t *
s_console (zhub_gateway_server_t *self)
{
    if (!self->console) {
        const zhub_gateway_config_t *config = self->config;
        self->console_config =
            (zhub_console_config_t){.broker = config->broker,
                                    .bus = &config->bus,
                                    .data_dir = config->console_data_dir,
                                    .targets = &config->console_targets,
                                    .stats_timeout_ms = (int)config->ready_timeout_ms};
        self->console = zhub_console_new (&self->console_config);
    }
    return self->console;
}

static enum MHD_Result
s_method (struct MHD_Connection *conn, s_request_t *req, const char *method, const char *allowed)
{
    bool get = !strcmp (allowed, "GET");
    if (get ? !strcmp (method, "GET") || !strcmp (method, "HEAD") : !strcmp (method, allowed))
        return MHD_YES;
    return zhub_gateway_server_error (conn, req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                      get ? "use GET" : "use POST", NULL, MHD_HTTP_HEADER_ALLOW,
                                      get ? "GET, HEAD" : allowed);
}

//  /v1/console/letters/<n>[/<action>]: n a letter number (1..2^63).
static bool
s_letter_path (const char *rest, uint64_t *seq, char *action, size_t action_size)
{
    char *end;
    if (*rest < '1' || *rest > '9')
        return false;
    unsigned long long value = strtoull (rest, &end, 10);
    if (value > INT64_MAX)
        return false;
    *seq = value;
    *action = 0;
    if (!*end)
        return true;
    if (*end != '/' || strlen (end + 1) >= action_size)
        return false;
    snprintf (action, action_size, "%s", end + 1);
    return !strcmp (action, "preview") || !strcmp (action, "replay") || !strcmp (action, "purge");
}

static enum MHD_Result
s_letter (struct MHD_Connection *conn, s_request_t *req, const char *rest, const char *method)
{
    uint64_t seq;
    char action[16], err[512] = "";
    if (!s_letter_path (rest, &seq, action, sizeof action))
        return zhub_gateway_server_error (conn, req, MHD_HTTP_NOT_FOUND, "not_found",
                                          "no such path", NULL, NULL, NULL);
    bool command = !strcmp (action, "replay") || !strcmp (action, "purge");
    enum MHD_Result allowed = s_method (conn, req, method, command ? "POST" : "GET");
    if (req->responded)
        return allowed;
    zhub_console_t *console = s_console (req->server);
    const char *data_dir = req->server->config->console_data_dir;
    json_t *body = NULL;
    zhub_rc_t rc;
    if (!*action)
        rc = zhub_console_letter (data_dir, seq, &body);
    else if (!strcmp (action, "preview"))
        rc = zhub_console_letter_preview (data_dir, seq, &body, err, sizeof err);
    else {
        zhub_client_t *client = zhub_console_client (console);
        rc = client ? zhub_console_letter_command (client, data_dir, seq, action, req->who,
                                                   (int)req->server->config->publish_timeout_ms,
                                                   &body, err, sizeof err)
                    : ZHUB_RETRY;
        if (rc == ZHUB_OK)
            zhub_info ("console_command", "who=%s action=%s letter=%llu command=%s", req->who,
                       action, (unsigned long long)seq,
                       json_string_value (json_object_get (body, "command")));
    }
    if (rc == ZHUB_OK)
        return zhub_gateway_server_reply (conn, req, command ? MHD_HTTP_ACCEPTED : MHD_HTTP_OK,
                                          body, NULL, NULL);
    if (rc == ZHUB_NOTFOUND)
        return zhub_gateway_server_error (conn, req, MHD_HTTP_NOT_FOUND, "not_found",
                                          "no such dead letter", "no_letter", NULL, NULL);
    if (rc == ZHUB_RETRY)
        return zhub_gateway_server_error (conn, req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                          "the broker did not confirm the command",
                                          "broker_unreachable", NULL, NULL);
    return zhub_gateway_server_error (conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR, "failed",
                                      *err ? err : "the dead letter could not be read", NULL, NULL,
                                      NULL);
}

enum MHD_Result
zhub_gateway_server_console (struct MHD_Connection *conn, s_request_t *req, const char *url,
                             const char *method)
{
    zhub_gateway_server_t *self = req->server;
    if (strncmp (url, "/v1/", 4)) {
        enum MHD_Result allowed = s_method (conn, req, method, "GET");
        if (req->responded)
            return allowed;
        const char *name =
            !strcmp (url, "/console") || !strcmp (url, "/console/") ? "index.html" : url + 9;
        const zhub_console_asset_t *asset = zhub_console_asset (name);
        return asset ? s_asset (conn, req, asset)
                     : zhub_gateway_server_error (conn, req, MHD_HTTP_NOT_FOUND, "not_found",
                                                  "no such path", NULL, NULL, NULL);
    }
    enum MHD_Result auth = zhub_gateway_server_admin_auth (conn, req);
    if (req->responded || auth != MHD_YES)
        return auth;
    const char *rest = url + strlen ("/v1/console/");
    if (!strncmp (rest, "letters/", 8))
        return s_letter (conn, req, rest + 8, method);
    bool snapshot = !strcmp (rest, "snapshot"), decisions = !strcmp (rest, "decisions");
    bool results = !strcmp (rest, "results");
    if (!snapshot && !decisions && !results)
        return zhub_gateway_server_error (conn, req, MHD_HTTP_NOT_FOUND, "not_found",
                                          "no such path", NULL, NULL, NULL);
    enum MHD_Result allowed = s_method (conn, req, method, "GET");
    if (req->responded)
        return allowed;
    if (decisions)
        return zhub_gateway_server_reply (conn, req, MHD_HTTP_OK,
                                          zhub_console_decisions (s_console (self)), NULL, NULL);
    if (results)
        return zhub_gateway_server_reply (conn, req, MHD_HTTP_OK,
                                          zhub_console_sync_results (s_console (self)), NULL, NULL);
    char *metrics = zhub_gateway_metrics_render (
        self->metrics, self->spool ? zhub_gateway_spool_depth (self->spool) : 0,
        self->spool != NULL, atomic_load (&self->broker_up));
    json_t *body =
        zhub_console_snapshot (s_console (self), metrics, atomic_load (&self->broker_up));
    free (metrics);
    return zhub_gateway_server_reply (conn, req, MHD_HTTP_OK, body, NULL, NULL);
}
