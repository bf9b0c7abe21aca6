//  `zhub doctor`'s checks of Bird and the calendars, live, through the
//  actors' connectors: Bird's access key and workspace (a contact list of
//  one), the scheduler's WhatsApp channel (get a channel), the gateway's
//  signing key; Google's and Microsoft's token endpoints (a refresh, a
//  client-credentials token), Calendly's token (the current user), and the
//  key that seals the scheduler's OAuth tokens. A service is checked only
//  when configured; otherwise its line says "not configured".
#include "bird.h"
#include "calendly.h"
#include "doctor_checks.h"
#include "google.h"
#include "graph.h"
#include "zhub_env.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  -------------------------------------------------------------------
//  Bird

//  List contacts, one: any workspace-scoped GET the key must be allowed
//  anyway (contact-sync reads contacts). https://docs.bird.com/api/contacts-api
static bool
s_bird_key (zhub_doctor_ctx_t *ctx, zhub_bird_t *bird, const char *workspace)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_bird_request (bird, "GET", "/contacts?limit=1", NULL, NULL, &resp);
    char why[400];
    zhub_doctor_describe ("Bird", &resp, why, sizeof why);
    bool ok = resp.status == 200;
    if (ok)
        zhub_doctor_add (ctx->report, "bird.access-key", ZHUB_DOCTOR_OK,
                         "accepted in workspace %.100s", workspace);
    else if (resp.status == 401)
        zhub_doctor_add (ctx->report, "bird.access-key", ZHUB_DOCTOR_FAIL,
                         "Bird does not accept ZHUB_BIRD_API_KEY (%s): copy a current access key "
                         "(Organization settings > Access keys)",
                         why);
    else if (resp.status == 403)
        zhub_doctor_add (ctx->report, "bird.access-key", ZHUB_DOCTOR_FAIL,
                         "the access key may not read contacts in workspace %.100s (%s): give its "
                         "access role the contacts and channel messages of the workspace",
                         workspace, why);
    else if (resp.status == 404)
        zhub_doctor_add (ctx->report, "bird.access-key", ZHUB_DOCTOR_FAIL,
                         "Bird knows no workspace %.100s (%s): check ZHUB_BIRD_WORKSPACE_ID",
                         workspace, why);
    else
        zhub_doctor_add (ctx->report, "bird.access-key", ZHUB_DOCTOR_FAIL,
                         "%s; try again, and check ZHUB_BIRD_BASE_URL", why);
    zhub_http_response_reset (&resp);
    return ok;
}

//  Get a channel: GET /workspaces/{ws}/channels/{id}, whose "status" is
//  "active" for a channel that sends
//  (https://docs.bird.com/api/channels-api/api-reference/channels-management).
static void
s_bird_channel (zhub_doctor_ctx_t *ctx, zhub_bird_t *bird, const char *channel)
{
    char *escaped = zhub_http_escape (channel);
    char *path = zhub_sprintf ("/channels/%s", escaped);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_bird_request (bird, "GET", path, NULL, NULL, &resp);
    const char *status = json_string_value (json_object_get (resp.json, "status"));
    const char *platform = json_string_value (json_object_get (resp.json, "platformId"));
    char why[400];
    zhub_doctor_describe ("Bird", &resp, why, sizeof why);
    if (resp.status == 200 && status && !strcmp (status, "active"))
        zhub_doctor_add (ctx->report, "bird.channel", ZHUB_DOCTOR_OK,
                         "%.100s (%s) is active: booking confirmations and reminders go out "
                         "through it",
                         channel, platform ? platform : "?");
    else if (resp.status == 200)
        zhub_doctor_add (ctx->report, "bird.channel", ZHUB_DOCTOR_FAIL,
                         "channel %.100s is %s, not active: Bird would not send the scheduler's "
                         "WhatsApp messages",
                         channel, status ? status : "of unknown status");
    else if (resp.status == 404)
        zhub_doctor_add (ctx->report, "bird.channel", ZHUB_DOCTOR_FAIL,
                         "the workspace has no channel %.100s (%s): fix the mapping file's "
                         "scheduler.bird_channel_id",
                         channel, why);
    else
        zhub_doctor_add (ctx->report, "bird.channel", ZHUB_DOCTOR_FAIL,
                         "reading channel %.100s: %s", channel, why);
    zhub_http_response_reset (&resp);
    free (path);
    free (escaped);
}

//  True when the scheduler has something to send WhatsApp about.
static bool
s_scheduler_books (const sched_config_t *sched)
{
    return sched && (sched->agent_count > 0 || sched->self_service);
}

void
zhub_doctor_bird (zhub_doctor_ctx_t *ctx)
{
    const char *key = zhub_env_str ("ZHUB_BIRD_API_KEY", "");
    const char *workspace = zhub_env_str ("ZHUB_BIRD_WORKSPACE_ID", "");
    const char *signing = zhub_env_str ("ZHUB_BIRD_SIGNING_KEY", "");
    const char *channel = ctx->sched ? ctx->sched->bird_channel_id : NULL;
    const char *base = zhub_env_str ("ZHUB_BIRD_BASE_URL", ZHUB_BIRD_BASE_URL_DEFAULT);
    if (!*key) {
        zhub_doctor_add (ctx->report, "bird.access-key", ZHUB_DOCTOR_SKIP,
                         "not configured (ZHUB_BIRD_API_KEY is not set)");
        if (channel || s_scheduler_books (ctx->sched))
            zhub_doctor_add (ctx->report, "bird.channel", ZHUB_DOCTOR_FAIL,
                             "the scheduler sends WhatsApp through Bird, but ZHUB_BIRD_API_KEY "
                             "is not set");
        else
            zhub_doctor_add (ctx->report, "bird.channel", ZHUB_DOCTOR_SKIP, "not configured");
        zhub_doctor_add (ctx->report, "bird.signing-key", ZHUB_DOCTOR_SKIP, "not configured");
        return;
    }
    bool key_ok = false;
    zhub_bird_t *bird = NULL;
    if (!*workspace)
        zhub_doctor_add (ctx->report, "bird.access-key", ZHUB_DOCTOR_FAIL,
                         "ZHUB_BIRD_WORKSPACE_ID is not set: every Bird call names the workspace "
                         "(Organization settings > Workspaces)");
    else if (strncmp (base, "https://", 8) && strncmp (base, "http://", 7))
        zhub_doctor_add (ctx->report, "bird.access-key", ZHUB_DOCTOR_FAIL,
                         "ZHUB_BIRD_BASE_URL %.200s is not an http(s) URL (the default "
                         "is " ZHUB_BIRD_BASE_URL_DEFAULT ")",
                         base);
    else {
        zhub_bird_config_t config = {.base_url = base, .api_key = key, .workspace_id = workspace};
        bird = zhub_bird_new (&config, ctx->http);
        key_ok = s_bird_key (ctx, bird, workspace);
    }
    if (!ctx->sched)
        zhub_doctor_add (ctx->report, "bird.channel", ZHUB_DOCTOR_SKIP,
                         "the mapping file's scheduler section does not load (see mapping)");
    else if (!channel && s_scheduler_books (ctx->sched))
        zhub_doctor_add (ctx->report, "bird.channel", ZHUB_DOCTOR_FAIL,
                         "the scheduler books tours but scheduler.bird_channel_id is not set in "
                         "the mapping file: nobody gets a WhatsApp confirmation or reminder");
    else if (!channel)
        zhub_doctor_add (ctx->report, "bird.channel", ZHUB_DOCTOR_SKIP,
                         "not configured (no scheduler.bird_channel_id, no agents)");
    else if (!key_ok)
        zhub_doctor_add (ctx->report, "bird.channel", ZHUB_DOCTOR_SKIP,
                         "the access key check failed");
    else
        s_bird_channel (ctx, bird, channel);
    zhub_bird_destroy (&bird);
    if (*signing)
        zhub_doctor_add (ctx->report, "bird.signing-key", ZHUB_DOCTOR_OK,
                         "set (%zu bytes); Bird webhooks are checked with it", strlen (signing));
    else
        zhub_doctor_add (ctx->report, "bird.signing-key", ZHUB_DOCTOR_FAIL,
                         "ZHUB_BIRD_SIGNING_KEY is not set: the gateway answers 401 to every Bird "
                         "webhook; set the signing key of the webhook subscription");
}

//  -------------------------------------------------------------------
//  Calendars

//  The names of the variables among count that are unset, comma-separated
//  into out; returns how many.
static size_t
s_unset (const char *const *names, size_t count, char *out, size_t size)
{
    size_t unset = 0, used = 0;
    out[0] = 0;
    for (size_t i = 0; i < count; i++)
        if (!*zhub_env_str (names[i], "")) {
            int n = snprintf (out + used, size - used, "%s%s", unset ? ", " : "", names[i]);
            if (n > 0 && (size_t)n < size - used)
                used += (size_t)n;
            unset++;
        }
    return unset;
}

//  The refresh grant (https://developers.google.com/identity/protocols/oauth2/web-server#offline):
//  200 with access_token, 400 invalid_grant for a refresh token that was
//  revoked or expired, 401 invalid_client for a wrong client.
static void
s_google (zhub_doctor_ctx_t *ctx)
{
    const char *names[] = {"ZHUB_GOOGLE_CLIENT_ID", "ZHUB_GOOGLE_CLIENT_SECRET",
                           "ZHUB_GOOGLE_REFRESH_TOKEN"};
    char unset[200], why[400];
    size_t missing = s_unset (names, 3, unset, sizeof unset);
    if (missing == 3) {
        zhub_doctor_add (ctx->report, "google", ZHUB_DOCTOR_SKIP,
                         "not configured (no ZHUB_GOOGLE_CLIENT_ID, _SECRET, _REFRESH_TOKEN)");
        return;
    }
    if (missing) {
        zhub_doctor_add (ctx->report, "google", ZHUB_DOCTOR_FAIL,
                         "%s not set: the scheduler needs the client id, its secret and a "
                         "refresh token",
                         unset);
        return;
    }
    zhub_google_config_t config = {.base_url = zhub_env_str ("ZHUB_GOOGLE_BASE_URL", NULL),
                                   .token_url = zhub_env_str ("ZHUB_GOOGLE_TOKEN_URL", NULL)};
    zhub_google_t *google = zhub_google_new (&config, ctx->http);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_google_token_refresh (google, zhub_env_str (names[0], ""), zhub_env_str (names[1], ""),
                               zhub_env_str (names[2], ""), &resp);
    const char *error = json_string_value (json_object_get (resp.json, "error"));
    zhub_doctor_describe ("Google's token endpoint", &resp, why, sizeof why);
    if (resp.status == 200 && json_string_value (json_object_get (resp.json, "access_token")))
        zhub_doctor_add (ctx->report, "google", ZHUB_DOCTOR_OK,
                         "the refresh token gives an access token");
    else if (error && !strcmp (error, "invalid_grant"))
        zhub_doctor_add (ctx->report, "google", ZHUB_DOCTOR_FAIL,
                         "%s; the refresh token was revoked or has expired; authorise the "
                         "calendar account again and set the new ZHUB_GOOGLE_REFRESH_TOKEN",
                         why);
    else if (error && (!strcmp (error, "invalid_client") || !strcmp (error, "unauthorized_client")))
        zhub_doctor_add (ctx->report, "google", ZHUB_DOCTOR_FAIL,
                         "%s; check ZHUB_GOOGLE_CLIENT_ID and ZHUB_GOOGLE_CLIENT_SECRET (the OAuth "
                         "client in Google Cloud > APIs & Services > Credentials)",
                         why);
    else
        zhub_doctor_add (ctx->report, "google", ZHUB_DOCTOR_FAIL, "%s", why);
    zhub_http_response_reset (&resp);
    zhub_google_destroy (&google);
}

//  The client-credentials grant
//  (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow):
//  200 with access_token; 400/401 with error and an AADSTS description.
static void
s_graph (zhub_doctor_ctx_t *ctx)
{
    const char *names[] = {"ZHUB_GRAPH_CLIENT_ID", "ZHUB_GRAPH_CLIENT_SECRET"};
    char unset[200], why[500];
    size_t missing = s_unset (names, 2, unset, sizeof unset);
    if (missing == 2) {
        zhub_doctor_add (ctx->report, "graph", ZHUB_DOCTOR_SKIP,
                         "not configured (no ZHUB_GRAPH_CLIENT_ID, _SECRET)");
        return;
    }
    if (missing) {
        zhub_doctor_add (ctx->report, "graph", ZHUB_DOCTOR_FAIL,
                         "%s not set: the scheduler needs the app registration's client id "
                         "and a client secret",
                         unset);
        return;
    }
    zhub_graph_config_t config = {.base_url = zhub_env_str ("ZHUB_GRAPH_BASE_URL", NULL),
                                  .token_url = zhub_env_str ("ZHUB_GRAPH_TOKEN_URL", NULL),
                                  .tenant = zhub_env_str ("ZHUB_GRAPH_TENANT_ID", NULL)};
    zhub_graph_t *graph = zhub_graph_new (&config, ctx->http);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_graph_token (graph, zhub_env_str (names[0], ""), zhub_env_str (names[1], ""), &resp);
    zhub_doctor_describe ("Microsoft's token endpoint", &resp, why, sizeof why);
    if (resp.status == 200 && json_string_value (json_object_get (resp.json, "access_token")))
        zhub_doctor_add (ctx->report, "graph", ZHUB_DOCTOR_OK,
                         "the app registration gets an access token");
    else if (resp.status == 400 || resp.status == 401)
        zhub_doctor_add (ctx->report, "graph", ZHUB_DOCTOR_FAIL,
                         "%s; check ZHUB_GRAPH_TENANT_ID (or ZHUB_GRAPH_TOKEN_URL), "
                         "ZHUB_GRAPH_CLIENT_ID and ZHUB_GRAPH_CLIENT_SECRET (Entra ID > App "
                         "registrations; secrets expire)",
                         why);
    else
        zhub_doctor_add (ctx->report, "graph", ZHUB_DOCTOR_FAIL, "%s", why);
    zhub_http_response_reset (&resp);
    zhub_graph_destroy (&graph);
}

//  Get current user: GET /users/me
//  (https://developer.calendly.com/api-docs/calendly-api/users/get-user).
static void
s_calendly (zhub_doctor_ctx_t *ctx)
{
    const char *token = zhub_env_str ("ZHUB_CALENDLY_TOKEN", "");
    bool needed = ctx->sched && ctx->sched->self_service;
    if (!*token) {
        if (needed)
            zhub_doctor_add (ctx->report, "calendly", ZHUB_DOCTOR_FAIL,
                             "the scheduler is in self-service mode but ZHUB_CALENDLY_TOKEN is "
                             "not set: no booking link can be made");
        else
            zhub_doctor_add (ctx->report, "calendly", ZHUB_DOCTOR_SKIP,
                             "not configured (ZHUB_CALENDLY_TOKEN is not set)");
        return;
    }
    zhub_calendly_config_t config = {.base_url = zhub_env_str ("ZHUB_CALENDLY_BASE_URL", NULL),
                                     .token = token};
    zhub_calendly_t *calendly = zhub_calendly_new (&config, ctx->http);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_calendly_request (calendly, "GET", "/users/me", NULL, NULL, &resp);
    char why[400];
    zhub_doctor_describe ("Calendly", &resp, why, sizeof why);
    const json_t *user = json_object_get (resp.json, "resource");
    const char *email = json_string_value (json_object_get (user, "email"));
    if (resp.status == 200)
        zhub_doctor_add (ctx->report, "calendly", ZHUB_DOCTOR_OK, "the token is %.100s's",
                         email ? email : "a user");
    else if (resp.status == 401 || resp.status == 403)
        zhub_doctor_add (ctx->report, "calendly", ZHUB_DOCTOR_FAIL,
                         "Calendly does not accept ZHUB_CALENDLY_TOKEN (%s): make a new personal "
                         "access token (Integrations & apps > API and webhooks)",
                         why);
    else
        zhub_doctor_add (ctx->report, "calendly", ZHUB_DOCTOR_FAIL, "%s", why);
    zhub_http_response_reset (&resp);
    zhub_calendly_destroy (&calendly);
}

//  The scheduler refuses to start without a sealing key when it holds
//  OAuth credentials (scheduler_io.c).
static void
s_secret_key (zhub_doctor_ctx_t *ctx)
{
    const char *key = zhub_env_str ("ZHUB_SECRET_KEY", "");
    bool oauth = *zhub_env_str ("ZHUB_GOOGLE_REFRESH_TOKEN", "")
                 || *zhub_env_str ("ZHUB_GRAPH_CLIENT_SECRET", "");
    uint8_t parsed[SCHED_KEY_BYTES];
    bool valid = *key && sched_key_parse (key, parsed) == 0;
    sodium_memzero (parsed, sizeof parsed);
    if (*key && !valid)
        zhub_doctor_add (ctx->report, "scheduler.secret-key", ZHUB_DOCTOR_FAIL,
                         "ZHUB_SECRET_KEY must be 64 hex digits (32 bytes; `openssl rand -hex "
                         "32`): the scheduler refuses to start");
    else if (!*key && oauth)
        zhub_doctor_add (ctx->report, "scheduler.secret-key", ZHUB_DOCTOR_FAIL,
                         "ZHUB_SECRET_KEY is not set: the scheduler keeps OAuth tokens sealed "
                         "and refuses to start without it (`openssl rand -hex 32`)");
    else if (!*key)
        zhub_doctor_add (ctx->report, "scheduler.secret-key", ZHUB_DOCTOR_SKIP,
                         "not configured (no OAuth credentials to seal)");
    else
        zhub_doctor_add (ctx->report, "scheduler.secret-key", ZHUB_DOCTOR_OK,
                         "set (32 bytes); OAuth tokens are sealed with it");
}

void
zhub_doctor_calendars (zhub_doctor_ctx_t *ctx)
{
    s_google (ctx);
    s_graph (ctx);
    s_calendly (ctx);
    s_secret_key (ctx);
}
