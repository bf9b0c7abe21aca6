//  Bus keys: the permission checks (pure), the key files (czmq zcert) and a
//  client's authentication settings (plain only on local endpoints).
#include "zhub_bus_auth.h"
#include "zhub_keys.h"
#include "zhub_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static zhub_key_t
s_key (const char *publish, const char *consume, bool admin)
{
    zhub_key_t key = {0};
    snprintf (key.name, sizeof key.name, "k");
    key.publish_count = (size_t)zhub_key_parse_patterns (publish, key.publish, 32);
    key.consume_count = (size_t)zhub_key_parse_patterns (consume, key.consume, 32);
    key.admin = admin;
    return key;
}

static void
test_pattern_within (void)
{
    CHECK (zhub_pattern_within ("contact.synced", "contact.>"));
    CHECK (zhub_pattern_within ("contact.*", "contact.>"));
    CHECK (zhub_pattern_within ("contact.>", "contact.>"));
    CHECK (zhub_pattern_within ("contact.a.>", "contact.>"));
    CHECK (zhub_pattern_within ("contact.*.x", "contact.*.*"));
    CHECK (zhub_pattern_within ("x.y", ">"));
    CHECK (zhub_pattern_within (">", ">"));
    //  wider than the outer pattern: refused
    CHECK (!zhub_pattern_within ("contact.>", "contact.*"));
    CHECK (!zhub_pattern_within (">", "contact.>"));
    CHECK (!zhub_pattern_within ("*.synced", "contact.*"));
    CHECK (!zhub_pattern_within ("contact", "contact.>"));
    CHECK (!zhub_pattern_within ("contact.a.b", "contact.*"));
    CHECK (!zhub_pattern_within ("contact.a", "contact.a.b"));
    CHECK (!zhub_pattern_within ("contacts.a", "contact.>"));
}

static void
test_publish_needs_a_pattern_and_admin_topics_the_flag (void)
{
    zhub_key_t gateway = s_key ("webhook.>", "", false);
    CHECK (zhub_key_may_publish (&gateway, "webhook.hubspot.contact.creation"));
    CHECK (!zhub_key_may_publish (&gateway, "contact.erase"));
    CHECK (!zhub_key_may_publish (&gateway, "webhook"));
    zhub_key_t wide = s_key (">", "", false);
    //  a pattern alone is not enough for the operator's topics
    CHECK (zhub_topic_is_admin ("contact.erase"));
    CHECK (zhub_topic_is_admin ("dead-letter.command.purge"));
    CHECK (!zhub_topic_is_admin ("contact.forget"));
    CHECK (!zhub_key_may_publish (&wide, "contact.erase"));
    CHECK (!zhub_key_may_publish (&wide, "dead-letter.command.replay"));
    CHECK (zhub_key_may_publish (&wide, "contact.forget"));
    zhub_key_t admin = s_key (">", ">", true);
    CHECK (zhub_key_may_publish (&admin, "contact.erase"));
    zhub_key_clear (&gateway);
    zhub_key_clear (&wide);
    zhub_key_clear (&admin);
}

static void
test_consume_and_tap_stay_within_the_patterns (void)
{
    zhub_key_t sync = s_key ("contact.>", "webhook.bird.>, contact.erase, contact.*", false);
    CHECK (zhub_key_may_consume (&sync, "webhook.bird.>"));
    CHECK (zhub_key_may_consume (&sync, "webhook.bird.contact.*"));
    CHECK (zhub_key_may_consume (&sync, "contact.erase"));
    CHECK (zhub_key_may_consume (&sync, "contact.synced"));
    CHECK (!zhub_key_may_consume (&sync, "webhook.>"));
    CHECK (!zhub_key_may_consume (&sync, ">"));
    CHECK (!zhub_key_may_consume (&sync, "contact.>"));
    //  the tap filters by prefix: only a prefix all of whose topics the key
    //  may consume
    CHECK (zhub_key_may_tap (&sync, (const uint8_t *)"webhook.bird.", 13));
    CHECK (zhub_key_may_tap (&sync, (const uint8_t *)"webhook.bird.contact", 20));
    CHECK (!zhub_key_may_tap (&sync, (const uint8_t *)"webhook.bird", 12)); //  webhook.birdx
    CHECK (!zhub_key_may_tap (&sync, (const uint8_t *)"webhook.", 8));
    CHECK (!zhub_key_may_tap (&sync, (const uint8_t *)"", 0));
    CHECK (!zhub_key_may_tap (&sync, (const uint8_t *)"contact.", 8)); //  contact.a.b
    CHECK (!zhub_key_may_tap (&sync, (const uint8_t *)"contact.erase", 13));
    zhub_key_t all = s_key ("", ">", false);
    CHECK (zhub_key_may_tap (&all, (const uint8_t *)"", 0));
    CHECK (zhub_key_may_consume (&all, "dlq.>"));
    zhub_key_t star = s_key ("", "*.contact.>", false);
    CHECK (zhub_key_may_tap (&star, (const uint8_t *)"hubspot.contact.", 16));
    CHECK (!zhub_key_may_tap (&star, (const uint8_t *)"hubspot.deal.", 13));
    zhub_key_clear (&sync);
    zhub_key_clear (&all);
    zhub_key_clear (&star);
}

static void
test_pattern_lists_are_checked (void)
{
    char *out[40];
    CHECK (zhub_key_parse_patterns ("", out, 32) == 0);
    CHECK (zhub_key_parse_patterns (" a.b , c.> ", out, 32) == 2);
    CHECK_STR (out[0], "a.b");
    CHECK_STR (out[1], "c.>");
    free (out[0]);
    free (out[1]);
    CHECK (zhub_key_parse_patterns ("a..b", out, 32) == -1);
    CHECK (zhub_key_parse_patterns ("a.>.b", out, 32) == -1);
    CHECK (zhub_key_parse_patterns ("a b", out, 32) == -1);
    CHECK (zhub_key_parse_patterns ("a,b,c", out, 2) == -1);
    CHECK (zhub_key_name_valid ("contact-sync_2"));
    CHECK (!zhub_key_name_valid ("../etc"));
    CHECK (!zhub_key_name_valid (""));
}

static void
test_key_files_round_trip_and_bad_files_are_refused (void)
{
    char dir[] = "/tmp/zhub-keys-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char secret[200], public_path[200], err[600], public_key[ZHUB_KEY_Z85_SIZE];
    snprintf (secret, sizeof secret, "%s/gw.key_secret", dir);
    snprintf (public_path, sizeof public_path, "%s/gw.key", dir);
    zhub_key_t wanted = s_key ("webhook.>", "", false);
    snprintf (wanted.name, sizeof wanted.name, "gateway");
    CHECK (zhub_key_create (&wanted, secret, public_path, public_key, err, sizeof err) == 0);
    //  the secret stays private
    struct stat st;
    CHECK (stat (secret, &st) == 0 && (st.st_mode & 077) == 0);
    //  never overwritten
    CHECK (zhub_key_create (&wanted, secret, public_path, public_key, err, sizeof err) == -1);
    CHECK (strstr (err, "exists already") != NULL);
    zhub_key_t loaded;
    CHECK (zhub_key_load (public_path, &loaded, err, sizeof err) == 0);
    CHECK_STR (loaded.name, "gateway");
    CHECK_STR (loaded.public_key, public_key);
    CHECK (loaded.publish_count == 1 && !strcmp (loaded.publish[0], "webhook.>"));
    CHECK (loaded.consume_count == 0 && !loaded.admin);
    zhub_key_clear (&loaded);
    //  a secret file is not an allow-list entry; a public one is not a client's key
    CHECK (zhub_key_load (secret, &loaded, err, sizeof err) == -1);
    CHECK (strstr (err, "holds a secret key") != NULL);
    char pub[ZHUB_KEY_Z85_SIZE], sec[ZHUB_KEY_Z85_SIZE];
    CHECK (zhub_key_load_secret (public_path, pub, sec, err, sizeof err) == -1);
    CHECK (zhub_key_load_secret (secret, pub, sec, err, sizeof err) == 0);
    CHECK_STR (pub, public_key);
    //  the broker's public key: as text or as a file
    CHECK (zhub_key_read_public (public_key, pub, err, sizeof err) == 0);
    CHECK (zhub_key_read_public (public_path, pub, err, sizeof err) == 0);
    CHECK_STR (pub, public_key);
    CHECK (zhub_key_read_public ("not-a-key", pub, err, sizeof err) == -1);
    //  a hand-edited file with a bad pattern is refused as a whole
    char bad[200];
    snprintf (bad, sizeof bad, "%s/bad.key", dir);
    FILE *file = fopen (bad, "w");
    fprintf (
        file,
        "metadata\n    name = \"bad\"\n    publish = \"a..b\"\ncurve\n    public-key = \"%s\"\n",
        public_key);
    fclose (file);
    CHECK (zhub_key_load (bad, &loaded, err, sizeof err) == -1);
    CHECK (strstr (err, "comma-separated topic patterns") != NULL);
    zhub_key_clear (&wanted);
    unlink (bad);
    unlink (secret);
    unlink (public_path);
    rmdir (dir);
}

static void
test_clients_plain_only_on_local_endpoints (void)
{
    CHECK (zhub_endpoint_is_local ("tcp://127.0.0.1:7450"));
    CHECK (zhub_endpoint_is_local ("tcp://127.10.0.3:7450"));
    CHECK (zhub_endpoint_is_local ("tcp://localhost:7450"));
    CHECK (zhub_endpoint_is_local ("tcp://[::1]:7450"));
    CHECK (zhub_endpoint_is_local ("ipc:///run/zhub.sock"));
    CHECK (!zhub_endpoint_is_local ("tcp://*:7450"));
    CHECK (!zhub_endpoint_is_local ("tcp://0.0.0.0:7450"));
    CHECK (!zhub_endpoint_is_local ("tcp://10.1.2.3:7450"));
    CHECK (!zhub_endpoint_is_local ("tcp://broker.internal:7450"));
    CHECK (!zhub_endpoint_is_local ("tcp://128.0.0.1:7450"));

    zhub_bus_auth_t auth;
    char err[600];
    const char *remote[] = {"tcp://10.1.2.3:7450"}, *local[] = {"tcp://127.0.0.1:7450"};
    setenv ("ZHUB_BUS_SECURITY", "plain", 1);
    CHECK (zhub_bus_auth_load (&auth, remote, 1, err, sizeof err) == -1);
    CHECK (strstr (err, "tcp://10.1.2.3:7450") != NULL);
    CHECK (zhub_bus_auth_load (&auth, local, 1, err, sizeof err) == 0);
    CHECK (auth.security == ZHUB_BUS_PLAIN);
    //  curve is the default and needs both keys
    unsetenv ("ZHUB_BUS_SECURITY");
    unsetenv ("ZHUB_BUS_CERT");
    CHECK (zhub_bus_auth_load (&auth, local, 1, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_BUS_CERT is not set") != NULL);
    char dir[] = "/tmp/zhub-auth-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char secret[200], public_key[ZHUB_KEY_Z85_SIZE];
    snprintf (secret, sizeof secret, "%s/c.key_secret", dir);
    CHECK (zhub_key_create (NULL, secret, NULL, public_key, err, sizeof err) == 0);
    setenv ("ZHUB_BUS_CERT", secret, 1);
    CHECK (zhub_bus_auth_load (&auth, remote, 1, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_BROKER_PUBLIC_KEY") != NULL);
    setenv ("ZHUB_BROKER_PUBLIC_KEY", public_key, 1);
    CHECK (zhub_bus_auth_load (&auth, remote, 1, err, sizeof err) == 0);
    CHECK (auth.security == ZHUB_BUS_CURVE);
    CHECK_STR (auth.public_key, public_key);
    CHECK_STR (auth.server_key, public_key);
    unsetenv ("ZHUB_BUS_CERT");
    unsetenv ("ZHUB_BROKER_PUBLIC_KEY");
    unlink (secret);
    rmdir (dir);
}

int
main (void)
{
    RUN (test_pattern_within);
    RUN (test_publish_needs_a_pattern_and_admin_topics_the_flag);
    RUN (test_consume_and_tap_stay_within_the_patterns);
    RUN (test_pattern_lists_are_checked);
    RUN (test_key_files_round_trip_and_bad_files_are_refused);
    RUN (test_clients_plain_only_on_local_endpoints);
    TEST_EXIT ();
}
