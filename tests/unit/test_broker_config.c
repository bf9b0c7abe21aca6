//  Broker configuration: defaults, the environment over them, and values
//  that must stop the broker at start.
#include "broker_config.h"
#include "zhub_test.h"

#include <unistd.h>

static void
s_clear (void)
{
    const char *names[] = {"ZHUB_BROKER",
                           "ZHUB_DATA_DIR",
                           "ZHUB_DEDUP_WINDOW",
                           "ZHUB_BROKER_MAX_DELIVERIES",
                           "ZHUB_BROKER_ACK_DEADLINE",
                           "ZHUB_BROKER_BACKOFF",
                           "ZHUB_BROKER_WINDOW",
                           "ZHUB_BROKER_MAX_MESSAGE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv (names[i]);
    unsetenv ("ZHUB_BROKER_TAP");
    unsetenv ("ZHUB_BROKER_MAX_MAP_SIZE");
    unsetenv ("ZHUB_BROKER_CERT");
    unsetenv ("ZHUB_BROKER_BROADCAST");
    //  these tests are about the other settings; the broker is on loopback
    setenv ("ZHUB_BUS_SECURITY", "plain", 1);
}

static void
test_defaults_match_the_documentation (void)
{
    s_clear ();
    broker_config_t config;
    char err[256];
    CHECK (broker_config_load (&config, err, sizeof err) == 0);
    CHECK_STR (config.endpoint, "tcp://127.0.0.1:7450");
    CHECK (config.dedup_window_ms == 8LL * 86400000);
    CHECK (config.max_deliveries == 5 && config.ack_deadline_ms == 30000);
    CHECK (config.backoff_count == 5);
    CHECK (config.backoff_ms[0] == 1000 && config.backoff_ms[3] == 120000
           && config.backoff_ms[4] == 600000);
    CHECK (config.max_message == 1024 * 1024 && config.window == 4096);
}

static void
test_environment_overrides_defaults (void)
{
    s_clear ();
    setenv ("ZHUB_BROKER", "tcp://127.0.0.1:9999", 1);
    setenv ("ZHUB_DEDUP_WINDOW", "1h", 1);
    setenv ("ZHUB_BROKER_MAX_DELIVERIES", "3", 1);
    setenv ("ZHUB_BROKER_ACK_DEADLINE", "1500ms", 1);
    setenv ("ZHUB_BROKER_BACKOFF", "200ms, 1s ,2m", 1);
    broker_config_t config;
    char err[256];
    CHECK (broker_config_load (&config, err, sizeof err) == 0);
    CHECK_STR (config.endpoint, "tcp://127.0.0.1:9999");
    CHECK (config.dedup_window_ms == 3600000 && config.max_deliveries == 3);
    CHECK (config.ack_deadline_ms == 1500);
    CHECK (config.backoff_count == 3 && config.backoff_ms[0] == 200 && config.backoff_ms[1] == 1000
           && config.backoff_ms[2] == 120000);
    s_clear ();
}

static void
test_invalid_values_are_refused_with_the_variable_named (void)
{
    struct {
        const char *name, *value;
    } cases[] = {
        {"ZHUB_BROKER_MAX_DELIVERIES", "0"},
        {"ZHUB_BROKER_MAX_DELIVERIES", "many"},
        {"ZHUB_BROKER_ACK_DEADLINE", "5"},
        {"ZHUB_BROKER_ACK_DEADLINE", "soon"},
        {"ZHUB_BROKER_BACKOFF", "1s,,x"},
        {"ZHUB_DEDUP_WINDOW", "10ms"},
        {"ZHUB_BROKER", "http://x"},
        {"ZHUB_BROKER_MAX_MAP_SIZE", "1000"},
        {"ZHUB_BROKER_MAX_MESSAGE", "99999999"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_clear ();
        setenv (cases[i].name, cases[i].value, 1);
        broker_config_t config;
        char err[256] = "";
        int rc = broker_config_load (&config, err, sizeof err);
        CHECK (rc == -1);
        if (rc == 0 || !strstr (err, cases[i].name))
            fprintf (stderr, "  %s=%s: rc=%d err=%s\n", cases[i].name, cases[i].value, rc, err);
    }
    s_clear ();
}

static void
test_backoff_schedule_parsing (void)
{
    int64_t steps[ZHUB_FRAME_MAX_BACKOFF];
    size_t count = 0;
    CHECK (broker_config_parse_backoff ("1s", steps, &count) == 0 && count == 1
           && steps[0] == 1000);
    CHECK (broker_config_parse_backoff ("", steps, &count) == -1);
    CHECK (broker_config_parse_backoff ("1s,-2s", steps, &count) == -1);
    CHECK (broker_config_parse_backoff ("1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s", steps,
                                        &count)
           == -1);
}

//  Plain is refused unless every endpoint stays on this machine; curve is
//  the default and needs the broker's certificate.
static void
test_plain_only_on_local_endpoints_and_curve_needs_a_certificate (void)
{
    s_clear ();
    broker_config_t config;
    char err[600];
    setenv ("ZHUB_BROKER", "tcp://0.0.0.0:7450", 1);
    CHECK (broker_config_load (&config, err, sizeof err) == -1);
    CHECK (strstr (err, "plain is only for endpoints on this machine") != NULL);
    setenv ("ZHUB_BROKER", "tcp://10.0.0.5:7450", 1);
    CHECK (broker_config_load (&config, err, sizeof err) == -1);
    //  a tap open to the network is refused as well
    setenv ("ZHUB_BROKER", "tcp://127.0.0.1:7450", 1);
    setenv ("ZHUB_BROKER_TAP", "tcp://*:7451", 1);
    CHECK (broker_config_load (&config, err, sizeof err) == -1);
    CHECK (strstr (err, "tcp://*:7451") != NULL);
    unsetenv ("ZHUB_BROKER_TAP");
    CHECK (broker_config_load (&config, err, sizeof err) == 0);
    CHECK (config.security == ZHUB_BUS_PLAIN);
    setenv ("ZHUB_BROKER", "ipc:///tmp/zhub-test.sock", 1);
    CHECK (broker_config_load (&config, err, sizeof err) == 0);

    //  curve, the default: no certificate, no start
    unsetenv ("ZHUB_BUS_SECURITY");
    setenv ("ZHUB_BROKER", "tcp://0.0.0.0:7450", 1);
    CHECK (broker_config_load (&config, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_BROKER_CERT is not set") != NULL);
    char dir[] = "/tmp/zhub-broker-config-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char secret[300], public_path[300], public_key[ZHUB_KEY_Z85_SIZE];
    snprintf (secret, sizeof secret, "%s/broker.key_secret", dir);
    snprintf (public_path, sizeof public_path, "%s/broker.key", dir);
    CHECK (zhub_key_create (NULL, secret, public_path, public_key, err, sizeof err) == 0);
    setenv ("ZHUB_BROKER_CERT", public_path, 1); //  the public file will not do
    CHECK (broker_config_load (&config, err, sizeof err) == -1);
    CHECK (strstr (err, "not a secret certificate") != NULL);
    setenv ("ZHUB_BROKER_CERT", secret, 1);
    CHECK (broker_config_load (&config, err, sizeof err) == 0);
    CHECK (config.security == ZHUB_BUS_CURVE);
    CHECK_STR (config.public_key, public_key);
    setenv ("ZHUB_BUS_SECURITY", "none", 1);
    CHECK (broker_config_load (&config, err, sizeof err) == -1);
    unlink (secret);
    unlink (public_path);
    rmdir (dir);
    s_clear ();
}

static void
test_broadcast_topics (void)
{
    s_clear ();
    broker_config_t config;
    char err[300];
    CHECK (broker_config_load (&config, err, sizeof err) == 0);
    CHECK (config.broadcast_count == 2);
    CHECK_STR (config.broadcast[0], "contact.forget");
    CHECK_STR (config.broadcast[1], "contact.erase");
    setenv ("ZHUB_BROKER_BROADCAST", "cache.invalidate.>, contact.forget", 1);
    CHECK (broker_config_load (&config, err, sizeof err) == 0);
    CHECK (config.broadcast_count == 2);
    CHECK_STR (config.broadcast[0], "cache.invalidate.>");
    setenv ("ZHUB_BROKER_BROADCAST", "off", 1);
    CHECK (broker_config_load (&config, err, sizeof err) == 0);
    CHECK (config.broadcast_count == 0);
    setenv ("ZHUB_BROKER_BROADCAST", "contact..forget", 1);
    CHECK (broker_config_load (&config, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_BROKER_BROADCAST") != NULL);
    s_clear ();
}

int
main (void)
{
    RUN (test_defaults_match_the_documentation);
    RUN (test_environment_overrides_defaults);
    RUN (test_invalid_values_are_refused_with_the_variable_named);
    RUN (test_backoff_schedule_parsing);
    RUN (test_plain_only_on_local_endpoints_and_curve_needs_a_certificate);
    RUN (test_broadcast_topics);
    TEST_EXIT ();
}
