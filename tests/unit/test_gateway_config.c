//  The gateway's configuration (defaults, validation of every variable)
//  and the pure helpers of the request path: content type, Content-Length,
//  the URL a provider signed, traceparent.
#include "config.h"
#include "request.h"
#include "zhub_test.h"

static const char *s_vars[] = {"ZHUB_GATEWAY_LISTEN",
                               "ZHUB_ADMIN_LISTEN",
                               "ZHUB_PUBLIC_URL",
                               "ZHUB_BROKER",
                               "ZHUB_HUBSPOT_APP_SECRET",
                               "ZHUB_BIRD_SIGNING_KEY",
                               "ZHUB_GATEWAY_BODY_LIMIT",
                               "ZHUB_GATEWAY_DISCARD_LIMIT",
                               "ZHUB_GATEWAY_PUBLISH_TIMEOUT",
                               "ZHUB_GATEWAY_RETRY_AFTER",
                               "ZHUB_GATEWAY_READY_TIMEOUT",
                               "ZHUB_GATEWAY_CONNECTION_TIMEOUT",
                               "ZHUB_GATEWAY_CONNECTION_LIMIT",
                               "ZHUB_GATEWAY_PER_IP_LIMIT",
                               "ZHUB_GATEWAY_CONNECTION_MEMORY",
                               "ZHUB_GATEWAY_PUBLISHERS",
                               "ZHUB_HUBSPOT_SIGNATURE_MAX_AGE",
                               "ZHUB_BIRD_SIGNATURE_MAX_AGE",
                               "ZHUB_GATEWAY_MAX_CLOCK_SKEW",
                               "ZHUB_EVENTS_TOKEN",
                               "ZHUB_EVENTS_TOKEN_PREVIOUS",
                               "ZHUB_ADMIN_TOKEN",
                               "ZHUB_ADMIN_TOKEN_PREVIOUS"};

static void
s_clear_env (void)
{
    for (size_t i = 0; i < sizeof s_vars / sizeof s_vars[0]; i++)
        unsetenv (s_vars[i]);
    //  the bus's keys are test_zhub_keys.c's; here the broker is on loopback
    setenv ("ZHUB_BUS_SECURITY", "plain", 1);
}

static void
test_defaults_serve_a_local_run (void)
{
    s_clear_env ();
    zhub_gateway_config_t config;
    CHECK (zhub_gateway_config_load (&config) == 0);
    CHECK_STR (config.listen.host, "127.0.0.1");
    CHECK (config.listen.port == 8080);
    CHECK (config.admin.port == 8081);
    CHECK_STR (config.public_url, "http://127.0.0.1:8080");
    CHECK (config.public_url_default);
    CHECK_STR (config.broker, "tcp://127.0.0.1:7450");
    CHECK (config.secrets[ZHUB_SECRET_HUBSPOT].value == NULL
           && config.secrets[ZHUB_SECRET_BIRD].value == NULL);
    CHECK (config.body_limit == 1024 * 1024);
    CHECK (config.discard_limit == 4 * 1024 * 1024);
    CHECK (config.publish_timeout_ms == 3000);
    CHECK (config.connection_timeout_ms == 10000);
    CHECK (config.hubspot_max_age_ms == 5 * 60 * 1000);
    CHECK (config.bird_max_age_ms == 9 * 3600 * 1000LL);
    CHECK (config.max_clock_skew_ms == 5 * 60 * 1000);
    zhub_verify_opts_t opts;
    zhub_gateway_config_verify_opts (&config, zhub_provider_find ("bird"), NULL, &opts);
    CHECK (opts.secret == NULL && opts.max_age_ms == 9 * 3600 * 1000LL);
    zhub_gateway_config_free (&config);
}

static void
test_variables_override_and_secrets_are_kept (void)
{
    s_clear_env ();
    setenv ("ZHUB_GATEWAY_LISTEN", "[::1]:9000", 1);
    setenv ("ZHUB_PUBLIC_URL", "https://hooks.example.com/zhub/", 1);
    setenv ("ZHUB_HUBSPOT_APP_SECRET", "s3cret", 1);
    setenv ("ZHUB_GATEWAY_BODY_LIMIT", "2048", 1);
    setenv ("ZHUB_GATEWAY_PUBLISH_TIMEOUT", "1500ms", 1);
    setenv ("ZHUB_BIRD_SIGNATURE_MAX_AGE", "10h", 1);
    zhub_gateway_config_t config;
    CHECK (zhub_gateway_config_load (&config) == 0);
    CHECK_STR (config.listen.host, "::1");
    CHECK (config.listen.port == 9000);
    CHECK_STR (config.public_url, "https://hooks.example.com/zhub");
    CHECK (!config.public_url_default);
    CHECK_STR (config.secrets[ZHUB_SECRET_HUBSPOT].value, "s3cret");
    CHECK (config.body_limit == 2048);
    CHECK (config.discard_limit == 4 * 2048); //  follows the body limit
    CHECK (config.publish_timeout_ms == 1500);
    zhub_verify_opts_t opts;
    zhub_gateway_config_verify_opts (&config, zhub_provider_find ("hubspot"), NULL, &opts);
    CHECK_STR (opts.secret, "s3cret");
    zhub_gateway_config_verify_opts (&config, zhub_provider_find ("bird"), NULL, &opts);
    CHECK (opts.max_age_ms == 10 * 3600 * 1000LL);
    zhub_gateway_config_free (&config);
    s_clear_env ();
}

static void
test_bad_values_stop_the_start (void)
{
    static const char *bad[][2] = {
        {"ZHUB_GATEWAY_LISTEN", "8080"},        {"ZHUB_GATEWAY_LISTEN", "localhost:http"},
        {"ZHUB_GATEWAY_LISTEN", "::1:80"},      {"ZHUB_ADMIN_LISTEN", "127.0.0.1:70000"},
        {"ZHUB_PUBLIC_URL", "ftp://x"},         {"ZHUB_PUBLIC_URL", "https://x/?a=b"},
        {"ZHUB_PUBLIC_URL", "https://"},        {"ZHUB_GATEWAY_BODY_LIMIT", "1MB"},
        {"ZHUB_GATEWAY_BODY_LIMIT", "10"},      {"ZHUB_GATEWAY_PUBLISH_TIMEOUT", "soon"},
        {"ZHUB_GATEWAY_PUBLISH_TIMEOUT", "0"},  {"ZHUB_GATEWAY_CONNECTION_TIMEOUT", "10ms"},
        {"ZHUB_GATEWAY_PUBLISHERS", "0"},       {"ZHUB_BIRD_SIGNATURE_MAX_AGE", "8 hours"},
        {"ZHUB_GATEWAY_DISCARD_LIMIT", "1000"}, //  below the body limit
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_clear_env ();
        setenv (bad[i][0], bad[i][1], 1);
        zhub_gateway_config_t config;
        int rc = zhub_gateway_config_load (&config);
        if (rc == 0)
            fprintf (stderr, "  accepted %s=%s\n", bad[i][0], bad[i][1]);
        CHECK (rc == -1);
        zhub_gateway_config_free (&config);
    }
    s_clear_env ();
}

//  The token lists come from the two variables and their twins; a plain
//  token is one entry, as before lists existed.
static void
test_token_lists_are_read_with_their_twins (void)
{
    s_clear_env ();
    setenv ("ZHUB_EVENTS_TOKEN", "bird-flows@tok-new:conversation.>|tour.requested, tok-other", 1);
    setenv ("ZHUB_EVENTS_TOKEN_PREVIOUS", "tok-old", 1);
    setenv ("ZHUB_ADMIN_TOKEN", "admin-plain", 1);
    zhub_gateway_config_t config;
    CHECK (zhub_gateway_config_load (&config) == 0);
    CHECK (config.tokens.count == 4);
    const zhub_token_t *token = zhub_tokens_match (&config.tokens, "tok-new", 7);
    CHECK (token && !strcmp (token->name, "bird-flows") && token->pattern_count == 2);
    token = zhub_tokens_match (&config.tokens, "tok-old", 7);
    CHECK (token && token->previous && !strcmp (token->name, "events-previous-1"));
    token = zhub_tokens_match (&config.tokens, "admin-plain", 11);
    CHECK (token && token->kind == ZHUB_TOKEN_ADMIN && !strcmp (token->name, "admin-1"));
    zhub_verify_opts_t opts;
    zhub_gateway_config_verify_opts (&config, zhub_provider_find ("events"), NULL, &opts);
    CHECK (opts.tokens == &config.tokens);
    zhub_gateway_config_verify_opts (&config, zhub_provider_find ("bird"), NULL, &opts);
    CHECK (opts.tokens == NULL);
    zhub_gateway_config_free (&config);

    static const char *bad[][2] = {
        {"ZHUB_EVENTS_TOKEN", "a@tok,,b@tok2"},
        {"ZHUB_EVENTS_TOKEN", "a@tok:contact.erase"},
        {"ZHUB_EVENTS_TOKEN_PREVIOUS", "tok with space"},
        {"ZHUB_ADMIN_TOKEN", "ops@tok:tour.*"},
        {"ZHUB_ADMIN_TOKEN_PREVIOUS", "bird-flows@other"}, //  a name used twice
        {"ZHUB_ADMIN_TOKEN", "tok-new"},                   //  an events token again
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_clear_env ();
        setenv ("ZHUB_EVENTS_TOKEN", "bird-flows@tok-new", 1);
        setenv (bad[i][0], bad[i][1], 1);
        int rc = zhub_gateway_config_load (&config);
        if (rc == 0)
            fprintf (stderr, "  accepted %s=%s\n", bad[i][0], bad[i][1]);
        CHECK (rc == -1);
        zhub_gateway_config_free (&config);
    }
    s_clear_env ();
}

static void
test_content_type_accepts_json_only (void)
{
    CHECK (zhub_gateway_content_type_ok ("application/json"));
    CHECK (zhub_gateway_content_type_ok ("Application/JSON"));
    CHECK (zhub_gateway_content_type_ok ("application/json; charset=utf-8"));
    CHECK (zhub_gateway_content_type_ok ("application/json;charset=\"UTF-8\""));
    CHECK (zhub_gateway_content_type_ok ("application/json; boundary=x; charset=utf8"));
    CHECK (!zhub_gateway_content_type_ok (NULL));
    CHECK (!zhub_gateway_content_type_ok (""));
    CHECK (!zhub_gateway_content_type_ok ("text/plain"));
    CHECK (!zhub_gateway_content_type_ok ("application/jsonx"));
    CHECK (!zhub_gateway_content_type_ok ("application/json-patch+json"));
    CHECK (!zhub_gateway_content_type_ok ("application/json; charset=latin1"));
    CHECK (!zhub_gateway_content_type_ok ("application/x-www-form-urlencoded"));
}

static void
test_content_length_is_digits_only (void)
{
    size_t n;
    CHECK (zhub_gateway_parse_length ("0", &n) == 0 && n == 0);
    CHECK (zhub_gateway_parse_length ("1048577", &n) == 0 && n == 1048577);
    CHECK (zhub_gateway_parse_length ("", &n) == -1);
    CHECK (zhub_gateway_parse_length ("-1", &n) == -1);
    CHECK (zhub_gateway_parse_length ("12 ", &n) == -1);
    CHECK (zhub_gateway_parse_length ("99999999999999999999", &n) == -1);
}

static void
test_full_url_is_public_url_plus_raw_target (void)
{
    char *url =
        zhub_gateway_full_url ("https://hooks.example.com", "/v1/webhooks/hubspot?a=%3A&b=c%20d");
    CHECK_STR (url, "https://hooks.example.com/v1/webhooks/hubspot?a=%3A&b=c%20d");
    free (url);
    url = zhub_gateway_full_url ("https://hooks.example.com/zhub", "/v1/webhooks/bird");
    CHECK_STR (url, "https://hooks.example.com/zhub/v1/webhooks/bird");
    free (url);
    url = zhub_gateway_full_url ("https://h", "http://10.0.0.5:8080/v1/webhooks/bird?x=1");
    CHECK_STR (url, "https://h/v1/webhooks/bird?x=1");
    free (url);
}

static void
test_traceparent_format (void)
{
    CHECK (zhub_gateway_traceparent_ok ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    CHECK (!zhub_gateway_traceparent_ok ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
    CHECK (
        !zhub_gateway_traceparent_ok ("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"));
    CHECK (!zhub_gateway_traceparent_ok (NULL));
}

int
main (void)
{
    RUN (test_defaults_serve_a_local_run);
    RUN (test_variables_override_and_secrets_are_kept);
    RUN (test_bad_values_stop_the_start);
    RUN (test_token_lists_are_read_with_their_twins);
    RUN (test_content_type_accepts_json_only);
    RUN (test_content_length_is_digits_only);
    RUN (test_full_url_is_public_url_plus_raw_target);
    RUN (test_traceparent_format);
    TEST_EXIT ();
}
