//  The actors' configuration: group settings from the environment (what
//  the JOIN carries), base URLs, secrets masked in the log helper.
#include "bird.h"
#include "hubspot.h"
#include "zhub_actor.h"
#include "zhub_env.h"
#include "zhub_test.h"

#include <stdlib.h>

static void
test_backoff_schedule (void)
{
    //  the one parser (zhub_parse_backoff), as the broker reads it too
    int64_t steps[ZHUB_ACTOR_MAX_BACKOFF];
    CHECK (zhub_parse_backoff ("1s,5s, 30s ,200ms", steps, ZHUB_ACTOR_MAX_BACKOFF) == 4);
    CHECK (steps[0] == 1000 && steps[1] == 5000 && steps[2] == 30000 && steps[3] == 200);
    CHECK (zhub_parse_backoff ("", steps, ZHUB_ACTOR_MAX_BACKOFF) == 0);
    CHECK (zhub_parse_backoff ("1s,,2s", steps, ZHUB_ACTOR_MAX_BACKOFF) == -1); //  no empty step
    CHECK (zhub_parse_backoff ("1s,soon", steps, ZHUB_ACTOR_MAX_BACKOFF) == -1);
    CHECK (zhub_parse_backoff ("1,2,3", steps, 2) == -1);
    CHECK (zhub_parse_backoff ("1s,367d", steps, ZHUB_ACTOR_MAX_BACKOFF) == -1);
    //  and ZHUB_BACKOFF is read with it
    setenv ("ZHUB_BACKOFF", "1s,,2s", 1);
    zhub_actor_config_t config;
    char err[256] = "";
    CHECK (zhub_actor_config_load (&config, "contact-sync", err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_BACKOFF") != NULL);
    unsetenv ("ZHUB_BACKOFF");
}

static void
s_clear_env (void)
{
    const char *names[] = {
        "ZHUB_BROKER",           "ZHUB_DATA_DIR",          "ZHUB_MAX_DELIVERIES",
        "ZHUB_ACK_DEADLINE",     "ZHUB_BACKOFF",           "ZHUB_CREDIT",
        "ZHUB_HUBSPOT_BASE_URL", "ZHUB_HUBSPOT_TOKEN",     "ZHUB_BIRD_BASE_URL",
        "ZHUB_BIRD_API_KEY",     "ZHUB_BIRD_WORKSPACE_ID", "ZHUB_HTTP_CONNECT_TIMEOUT",
        "ZHUB_HTTP_TIMEOUT"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv (names[i]);
    //  the bus's keys are test_zhub_keys.c's; here the broker is on loopback
    setenv ("ZHUB_BUS_SECURITY", "plain", 1);
}

static void
test_defaults (void)
{
    s_clear_env ();
    zhub_actor_config_t config;
    char err[256];
    CHECK (zhub_actor_config_load (&config, "contact-sync", err, sizeof err) == 0);
    CHECK_STR (config.name, "contact-sync");
    CHECK_STR (config.broker, ZHUB_BROKER_DEFAULT);
    CHECK_STR (config.data_dir, "./.zhub-data");
    CHECK (config.max_deliveries == 0 && config.ack_deadline_ms == 0 && config.backoff_count == 0);
    CHECK (config.credit == 1);
    CHECK (config.http_connect_timeout_ms == ZHUB_HTTP_CONNECT_TIMEOUT_MS);
    CHECK (config.http_timeout_ms == ZHUB_HTTP_TOTAL_TIMEOUT_MS);
    zhub_actor_config_clear (&config);
    zhub_actor_config_clear (&config);
    //  the APIs' settings are their connectors'
    zhub_hubspot_config_t hubspot;
    zhub_bird_config_t bird;
    CHECK (zhub_hubspot_config_load (&hubspot, err, sizeof err) == 0);
    CHECK_STR (hubspot.base_url, "https://api.hubapi.com");
    CHECK_STR (hubspot.token, "");
    CHECK (zhub_bird_config_load (&bird, err, sizeof err) == 0);
    CHECK_STR (bird.base_url, "https://api.bird.com");
    CHECK_STR (bird.workspace_id, "");
}

static void
test_group_settings_from_env (void)
{
    s_clear_env ();
    setenv ("ZHUB_MAX_DELIVERIES", "3", 1);
    setenv ("ZHUB_ACK_DEADLINE", "2s", 1);
    setenv ("ZHUB_BACKOFF", "100ms,1s", 1);
    setenv ("ZHUB_HTTP_TIMEOUT", "3s", 1);
    zhub_actor_config_t config;
    char err[256];
    CHECK (zhub_actor_config_load (&config, "contact-sync", err, sizeof err) == 0);
    CHECK (config.max_deliveries == 3);
    CHECK (config.ack_deadline_ms == 2000);
    CHECK (config.backoff_count == 2 && config.backoff_ms[0] == 100
           && config.backoff_ms[1] == 1000);
    CHECK (config.http_timeout_ms == 3000);
    zhub_actor_config_clear (&config);
    setenv ("ZHUB_HUBSPOT_BASE_URL", "http://127.0.0.1:9/", 1);
    zhub_hubspot_config_t hubspot;
    CHECK (zhub_hubspot_config_load (&hubspot, err, sizeof err) == 0);
    CHECK_STR (hubspot.base_url, "http://127.0.0.1:9/");
    setenv ("ZHUB_BIRD_WORKSPACE_ID", "a1405560-c8d3-4b1a-877d-3f449ad95352", 1);
    zhub_bird_config_t bird;
    CHECK (zhub_bird_config_load (&bird, err, sizeof err) == 0);
    CHECK_STR (bird.workspace_id, "a1405560-c8d3-4b1a-877d-3f449ad95352");
}

static void
test_invalid_values_name_the_variable (void)
{
    const char *bad[][2] = {{"ZHUB_MAX_DELIVERIES", "many"},
                            {"ZHUB_ACK_DEADLINE", "soon"},
                            {"ZHUB_BACKOFF", "1s,x"},
                            {"ZHUB_HUBSPOT_BASE_URL", "ftp://example.com"},
                            {"ZHUB_BIRD_BASE_URL", "api.bird.com"},
                            {"ZHUB_BIRD_WORKSPACE_ID", "local-workspace"},
                            {"ZHUB_BIRD_WORKSPACE_ID", "a1405560c8d34b1a877d3f449ad95352"},
                            {"ZHUB_HTTP_TIMEOUT", "0"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_clear_env ();
        setenv (bad[i][0], bad[i][1], 1);
        zhub_actor_config_t config;
        zhub_hubspot_config_t hubspot;
        zhub_bird_config_t bird;
        char err[256] = "";
        //  refused by the runtime's loader or by the connector's that owns it
        if (!strncmp (bad[i][0], "ZHUB_HUBSPOT_", 13))
            CHECK (zhub_hubspot_config_load (&hubspot, err, sizeof err) == -1);
        else if (!strncmp (bad[i][0], "ZHUB_BIRD_", 10))
            CHECK (zhub_bird_config_load (&bird, err, sizeof err) == -1);
        else {
            CHECK (zhub_actor_config_load (&config, "contact-sync", err, sizeof err) == -1);
            CHECK (config.name == NULL);
        }
        CHECK (strstr (err, bad[i][0]) != NULL);
    }
    s_clear_env ();
}

int
main (void)
{
    RUN (test_backoff_schedule);
    RUN (test_defaults);
    RUN (test_group_settings_from_env);
    RUN (test_invalid_values_name_the_variable);
    TEST_EXIT ();
}
