//  The Google and Graph connectors' settings, checked as the services
//  would take them
//  (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
//  https://learn.microsoft.com/graph/deployments): Graph's tenant is
//  required and is never a multi-tenant alias, the token URL takes
//  {tenant}, the base URLs carry (Graph) or do not carry (Google) the
//  API's version path, the scope is a ".default" one; and a call the
//  client must not make (no tenant, a nextLink to another host) fails
//  without reaching the network.
#include "google.h"
#include "graph.h"
#include "zhub_retry.h"
#include "zhub_test.h"

#include <curl/curl.h>

static int
s_graph_check (const char *tenant, const char *base, const char *token, const char *scope,
               char *err, size_t size)
{
    zhub_graph_config_t config = {
        .tenant = tenant, .base_url = base, .token_url = token, .scope = scope};
    err[0] = 0;
    return zhub_graph_config_check (&config, err, size);
}

static void
test_graph_settings_are_checked_as_the_identity_platform_takes_them (void)
{
    char err[256];
    const char *tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    CHECK (s_graph_check (tenant, NULL, NULL, NULL, err, sizeof err) == 0);
    CHECK (s_graph_check ("contoso.onmicrosoft.com", "https://graph.microsoft.us/v1.0/",
                          "https://login.microsoftonline.us/{tenant}/oauth2/v2.0/token",
                          "https://graph.microsoft.us/.default", err, sizeof err)
           == 0);
    //  a custom token URL without {tenant} is taken as it is
    CHECK (s_graph_check (tenant, NULL, "http://127.0.0.1:9/t/oauth2/v2.0/token", NULL, err,
                          sizeof err)
           == 0);
    CHECK (s_graph_check (NULL, NULL, NULL, NULL, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_GRAPH_TENANT_ID is required") == err);
    CHECK (s_graph_check ("", NULL, NULL, NULL, err, sizeof err) == -1);
    const char *aliases[] = {"common", "organizations", "consumers", "Common"};
    for (size_t i = 0; i < 4; i++) {
        CHECK (s_graph_check (aliases[i], NULL, NULL, NULL, err, sizeof err) == -1);
        CHECK (strstr (err, "cannot come from common, organizations or consumers") != NULL);
    }
    CHECK (s_graph_check ("a/b", NULL, NULL, NULL, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_GRAPH_TENANT_ID must be a tenant id") == err);
    //  the base URL carries the version: paths are appended to it
    CHECK (s_graph_check (tenant, "https://graph.microsoft.com", NULL, NULL, err, sizeof err)
           == -1);
    CHECK_STR (err, "ZHUB_GRAPH_BASE_URL must include the API version, e.g. "
                    "https://graph.microsoft.com/v1.0");
    CHECK (s_graph_check (tenant, "https://graph.microsoft.com/beta", NULL, NULL, err, sizeof err)
           == -1);
    CHECK (s_graph_check (tenant, "graph.microsoft.com/v1.0", NULL, NULL, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_GRAPH_BASE_URL must be an http(s) URL") == err);
    CHECK (s_graph_check (tenant, NULL, "https://login.microsoftonline.com/{tenant}/{tenant}/t",
                          NULL, err, sizeof err)
           == -1);
    CHECK (strstr (err, "ZHUB_GRAPH_TOKEN_URL") == err);
    CHECK (s_graph_check (tenant, NULL, "https://login.microsoftonline.com/{tenant_id}/t", NULL,
                          err, sizeof err)
           == -1);
    CHECK (s_graph_check (tenant, NULL, NULL, "https://graph.microsoft.com/Calendars.Read", err,
                          sizeof err)
           == -1);
    CHECK (strstr (err, "ZHUB_GRAPH_SCOPE") == err);
    CHECK (s_graph_check (tenant, NULL, NULL, "/.default", err, sizeof err) == -1);
}

static void
test_graph_token_url_takes_the_tenant (void)
{
    zhub_http_t *http = zhub_http_new (NULL);
    zhub_graph_config_t config = {.tenant = "contoso.onmicrosoft.com"};
    zhub_graph_t *graph = zhub_graph_new (&config, http);
    CHECK_STR (zhub_graph_token_url (graph),
               "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    zhub_graph_destroy (&graph);
    config.token_url = "http://127.0.0.1:9/{tenant}/oauth2/v2.0/token";
    graph = zhub_graph_new (&config, http);
    CHECK_STR (zhub_graph_token_url (graph),
               "http://127.0.0.1:9/contoso.onmicrosoft.com/oauth2/v2.0/token");
    zhub_graph_destroy (&graph);
    config.token_url = "http://127.0.0.1:9/fixed/oauth2/v2.0/token";
    graph = zhub_graph_new (&config, http);
    CHECK_STR (zhub_graph_token_url (graph), "http://127.0.0.1:9/fixed/oauth2/v2.0/token");
    zhub_graph_destroy (&graph);
    //  no tenant: no token URL, and a token request is a configuration fault
    config = (zhub_graph_config_t){0};
    graph = zhub_graph_new (&config, http);
    CHECK (zhub_graph_token_url (graph) == NULL);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    CHECK (zhub_graph_token (graph, "id", "secret", &resp) == -1);
    CHECK (resp.status == 0 && resp.transport_error == CURLE_URL_MALFORMAT);
    zhub_outcome_t out;
    zhub_retry_classify (&resp, "graph token", 0, &out);
    CHECK (out.rc == ZHUB_REJECT && out.code == ZHUB_REASON_BAD_URL);
    CHECK (strstr (out.reason, "ZHUB_GRAPH_TENANT_ID") != NULL);
    zhub_http_response_reset (&resp);
    zhub_graph_destroy (&graph);
    zhub_http_destroy (&http);
}

//  The Bearer token only goes where the base URL points.
static void
test_graph_next_link_is_followed_only_under_the_base_url (void)
{
    zhub_http_t *http = zhub_http_new (NULL);
    zhub_graph_config_t config = {.tenant = "t", .base_url = "http://127.0.0.1:9/v1.0"};
    zhub_graph_t *graph = zhub_graph_new (&config, http);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    const char *foreign[] = {"https://evil.example/v1.0/subscriptions?$skiptoken=x",
                             "http://127.0.0.1:9/v1.0x/subscriptions", "http://127.0.0.1:9/v1.0",
                             "http://127.0.0.1:99/v1.0/subscriptions", NULL};
    for (int i = 0; foreign[i]; i++) {
        CHECK (zhub_graph_next_page (graph, foreign[i], "token", NULL, &resp) == -1);
        CHECK (resp.transport_error == CURLE_URL_MALFORMAT);
    }
    zhub_http_response_reset (&resp);
    zhub_graph_destroy (&graph);
    zhub_http_destroy (&http);
}

static void
test_google_base_url_is_the_host_root (void)
{
    char err[256] = "";
    zhub_google_config_t config = {0};
    CHECK (zhub_google_config_check (&config, err, sizeof err) == 0);
    config.base_url = "http://127.0.0.1:9100/";
    CHECK (zhub_google_config_check (&config, err, sizeof err) == 0);
    config.base_url = "https://www.googleapis.com/calendar/v3/";
    CHECK (zhub_google_config_check (&config, err, sizeof err) == -1);
    CHECK_STR (err, "ZHUB_GOOGLE_BASE_URL is the host root (https://www.googleapis.com): zhub "
                    "adds /calendar/v3 itself");
    config.base_url = "www.googleapis.com";
    CHECK (zhub_google_config_check (&config, err, sizeof err) == -1);
    config.base_url = NULL;
    config.token_url = "oauth2.googleapis.com/token";
    CHECK (zhub_google_config_check (&config, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_GOOGLE_TOKEN_URL") == err);
}

//  Google's body for a 403, as in https://developers.google.com/calendar/api/guides/errors.
static void
s_google_403 (zhub_http_response_t *resp, const char *domain, const char *reason,
              const char *message)
{
    zhub_http_response_reset (resp);
    resp->status = 403;
    resp->json =
        json_pack ("{s:{s:[{s:s, s:s, s:s}], s:i, s:s}}", "error", "errors", "domain", domain,
                   "reason", reason, "message", message, "code", 403, "message", message);
}

//  Google answers some rate limits with 403 instead of 429: the connector
//  tells them apart (the retry policy then backs off as after a 429); a
//  403 for anything else is for good.
static void
test_google_403_rate_limits_are_told_from_other_403s (void)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    s_google_403 (&resp, "usageLimits", "rateLimitExceeded", "Rate Limit Exceeded");
    CHECK (zhub_google_rate_limited (&resp));
    s_google_403 (&resp, "usageLimits", "userRateLimitExceeded", "User Rate Limit Exceeded");
    CHECK (zhub_google_rate_limited (&resp));
    s_google_403 (&resp, "calendar", "forbiddenForNonOrganizer",
                  "Shared properties can only be changed by the organizer of the event.");
    CHECK (!zhub_google_rate_limited (&resp));
    s_google_403 (&resp, "global", "insufficientPermissions", "Insufficient Permission");
    CHECK (!zhub_google_rate_limited (&resp));
    s_google_403 (&resp, "usageLimits", "dailyLimitExceeded", "Daily Limit Exceeded");
    CHECK (!zhub_google_rate_limited (&resp));
    //  the reason only counts on a 403 (a 400 with that word is still bad input)
    s_google_403 (&resp, "usageLimits", "rateLimitExceeded", "Rate Limit Exceeded");
    resp.status = 400;
    CHECK (!zhub_google_rate_limited (&resp));
    zhub_http_response_reset (&resp);
}

int
main (void)
{
    RUN (test_graph_settings_are_checked_as_the_identity_platform_takes_them);
    RUN (test_graph_token_url_takes_the_tenant);
    RUN (test_graph_next_link_is_followed_only_under_the_base_url);
    RUN (test_google_base_url_is_the_host_root);
    RUN (test_google_403_rate_limits_are_told_from_other_403s);
    TEST_EXIT ();
}
