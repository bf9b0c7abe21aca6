//  The C client (proto/zhub_client.c) against a real broker loop running
//  in a thread of this process on a loopback port: confirmed publish,
//  dedup, rejection, consume/ack/nack, stats, re-join after the broker
//  restarts, and a signal interrupting recv.
#include "zhub_client.h"
#include "zhub_log.h"
#include "zhub_test.h"
#include "zhub_test_broker.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static char s_dir[64];
static char s_endpoint[256];

static zhub_test_broker_t *
s_broker_start (const char *endpoint)
{
    broker_config_t config;
    broker_config_defaults (&config);
    config.endpoint = endpoint;
    config.data_dir = s_dir;
    config.ack_deadline_ms = 2000;
    config.backoff_ms[0] = 100;
    config.backoff_count = 1;
    zhub_test_broker_t *broker = zhub_test_broker_start (&config);
    if (broker)
        snprintf (s_endpoint, sizeof s_endpoint, "%s", broker_server_endpoint (broker->server));
    return broker;
}

static zhub_msg_t *
s_msg (const char *id, const char *type, const char *subject)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "test");
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->subject, subject);
    msg->time_ms = zhub_now_ms ();
    return msg;
}

static zhub_rc_t
s_publish (zhub_client_t *client, const char *id, const char *type, zhub_puback_t *ack)
{
    zhub_msg_t *msg = s_msg (id, type, NULL);
    char err[256];
    zhub_rc_t rc = zhub_client_publish (client, msg, 3000, ack, err, sizeof err);
    zhub_msg_destroy (&msg);
    return rc;
}

static void
test_publish_is_confirmed_deduplicated_or_refused (void)
{
    zhub_client_t *client = zhub_client_new (s_endpoint, "producer", NULL);
    CHECK (client != NULL);
    zhub_puback_t ack = {0};
    CHECK (s_publish (client, "p-1", "client.test", &ack) == ZHUB_OK);
    uint64_t first = ack.offset;
    CHECK (first >= 1 && !ack.duplicate);
    CHECK (s_publish (client, "p-1", "client.test", &ack) == ZHUB_OK);
    CHECK (ack.duplicate && ack.offset == first);

    //  invalid envelopes never leave the client
    zhub_msg_t *bad = s_msg ("p-2", "not a topic", NULL);
    char err[256] = "";
    CHECK (zhub_client_publish (client, bad, 3000, NULL, err, sizeof err) == ZHUB_REJECT);
    CHECK (strstr (err, "type") != NULL);
    zhub_msg_destroy (&bad);

    zhub_msg_t *msgs[3] = {s_msg ("m-1", "client.many", NULL), s_msg ("m-2", "client.many", NULL),
                           s_msg ("m-1", "client.many", NULL)};
    zhub_rc_t results[3];
    CHECK (zhub_client_publish_many (client, msgs, 3, 3000, results) == ZHUB_OK);
    CHECK (results[0] == ZHUB_OK && results[1] == ZHUB_OK && results[2] == ZHUB_OK);
    for (int i = 0; i < 3; i++)
        zhub_msg_destroy (&msgs[i]);
    CHECK (zhub_client_ping (client, 3000) == ZHUB_OK);
    json_t *stats = NULL;
    CHECK (zhub_client_stats (client, 3000, &stats) == ZHUB_OK);
    CHECK (json_integer_value (json_object_get (json_object_get (stats, "log"), "size")) == 3);
    json_decref (stats);
    zhub_client_destroy (&client);
    CHECK (client == NULL);
    zhub_client_destroy (&client);
}

//  An envelope nests at most ZHUB_MSG_MAX_DEPTH (30) levels: its dead
//  letter, two levels deeper, must still be decodable (msgpack-c unpacks 32
//  at most).
static void
test_publish_nested_deeper_than_30_levels_is_refused (void)
{
    zhub_client_t *client = zhub_client_new (s_endpoint, "deep", NULL);
    for (int arrays = 28; arrays <= 29; arrays++) {
        //  data {"x": [[...[]...]]}: the envelope is level 1, data 2, each
        //  array holding one more a level (the empty one at the end holds
        //  nothing: msgpack-c does not stack it, nor do we count it)
        uint8_t data[64];
        size_t size = 0;
        data[size++] = 0x81;
        data[size++] = 0xa1;
        data[size++] = 'x';
        for (int i = 0; i < arrays; i++)
            data[size++] = 0x91;
        data[size++] = 0x90;
        zhub_msg_t *msg = s_msg (arrays == 28 ? "deep-30" : "deep-31", "client.deep", NULL);
        zhub_msg_set_data (msg, data, size);
        char err[256] = "";
        zhub_rc_t rc = zhub_client_publish (client, msg, 3000, NULL, err, sizeof err);
        if (arrays == 28)
            CHECK (rc == ZHUB_OK); //  30 levels
        else {
            CHECK (rc == ZHUB_REJECT); //  31 levels
            CHECK (strstr (err, "deep") != NULL || strstr (err, "nest") != NULL);
        }
        zhub_msg_destroy (&msg);
    }
    zhub_client_destroy (&client);
}

static void
test_consumer_receives_acks_and_nacks (void)
{
    zhub_client_t *producer = zhub_client_new (s_endpoint, "producer", NULL);
    zhub_client_t *consumer = zhub_client_new (s_endpoint, "consumer", NULL);
    const char *topics[] = {"consume.>"};
    zhub_join_t join = {.group = "consumers", .topics = topics, .topic_count = 1, .credit = 2};
    CHECK (zhub_client_join (consumer, &join, 3000) == ZHUB_OK);
    zhub_join_t invalid = {.group = "bad group", .topics = topics, .topic_count = 1};
    CHECK (zhub_client_join (consumer, &invalid, 3000) == ZHUB_REJECT);

    CHECK (s_publish (producer, "c-1", "consume.one", NULL) == ZHUB_OK);
    zhub_delivery_t *delivery = NULL;
    CHECK (zhub_client_recv (consumer, &delivery, 3000) == ZHUB_OK);
    CHECK (delivery && delivery->attempt == 1);
    if (delivery) {
        CHECK_STR (delivery->msg->id, "c-1");
        CHECK_STR (delivery->group, "consumers");
        CHECK (zhub_client_nack (consumer, delivery, 0, false, 503, "later") == 0);
        zhub_delivery_destroy (&delivery);
    }
    CHECK (zhub_client_recv (consumer, &delivery, 3000) == ZHUB_OK);
    CHECK (delivery && delivery->attempt == 2);
    if (delivery) {
        CHECK (zhub_client_ack (consumer, delivery) == 0);
        zhub_delivery_destroy (&delivery);
    }
    int64_t started = zhub_mono_ms ();
    CHECK (zhub_client_recv (consumer, &delivery, 300) == ZHUB_NOTFOUND);
    CHECK (zhub_mono_ms () - started >= 290);
    zhub_client_destroy (&producer);
    zhub_client_destroy (&consumer);
}

static void
test_operator_sets_and_resets_a_group (void)
{
    zhub_client_t *producer = zhub_client_new (s_endpoint, "producer", NULL);
    zhub_client_t *consumer = zhub_client_new (s_endpoint, "consumer", NULL);
    zhub_client_t *admin = zhub_client_new (s_endpoint, "admin", NULL);
    const char *topics[] = {"replay.>"};
    zhub_join_t join = {.group = "replayers", .topics = topics, .topic_count = 1, .credit = 4};
    CHECK (zhub_client_join (consumer, &join, 3000) == ZHUB_OK);
    char err[128] = "";
    int64_t backoff[] = {50, 60};
    zhub_group_settings_t settings = {
        .max_deliveries = 2, .backoff_ms = backoff, .backoff_count = 2, .max_in_flight = 3};
    CHECK (zhub_client_group_set (admin, "replayers", &settings, 3000, err, sizeof err) == ZHUB_OK);
    CHECK (zhub_client_group_set (admin, "nobody", &settings, 3000, err, sizeof err)
           == ZHUB_NOTFOUND);
    zhub_group_settings_t bad = {.ack_deadline_ms = 5};
    CHECK (zhub_client_group_set (admin, "replayers", &bad, 3000, err, sizeof err) == ZHUB_REJECT);
    json_t *stats = NULL;
    CHECK (zhub_client_stats (admin, 3000, &stats) == ZHUB_OK);
    json_t *group = json_object_get (json_object_get (stats, "groups"), "replayers");
    CHECK (json_integer_value (json_object_get (group, "max_deliveries")) == 2);
    CHECK (json_integer_value (json_object_get (group, "max_in_flight")) == 3);
    json_decref (stats);

    zhub_puback_t first = {0};
    CHECK (s_publish (producer, "r-1", "replay.one", &first) == ZHUB_OK);
    CHECK (s_publish (producer, "r-2", "replay.one", NULL) == ZHUB_OK);
    for (int i = 0; i < 2; i++) {
        zhub_delivery_t *delivery = NULL;
        CHECK (zhub_client_recv (consumer, &delivery, 3000) == ZHUB_OK);
        if (delivery)
            zhub_client_ack (consumer, delivery);
        zhub_delivery_destroy (&delivery);
    }
    CHECK (zhub_client_ping (consumer, 3000) == ZHUB_OK);
    uint64_t floor = 0;
    CHECK (
        zhub_client_group_reset (admin, "replayers", first.offset, 0, 3000, &floor, err, sizeof err)
        == ZHUB_OK);
    CHECK (floor == first.offset);
    zhub_delivery_t *again = NULL;
    CHECK (zhub_client_recv (consumer, &again, 3000) == ZHUB_OK);
    CHECK (again && !strcmp (again->msg->id, "r-1") && again->attempt == 1);
    zhub_delivery_destroy (&again);
    CHECK (zhub_client_group_reset (admin, "nobody", 1, 0, 3000, &floor, err, sizeof err)
           == ZHUB_NOTFOUND);
    zhub_client_destroy (&producer);
    zhub_client_destroy (&consumer);
    zhub_client_destroy (&admin);
}

static void
test_destroy_hands_in_flight_deliveries_back_at_once (void)
{
    zhub_client_t *producer = zhub_client_new (s_endpoint, "producer", NULL);
    zhub_client_t *first = zhub_client_new (s_endpoint, "first", NULL);
    const char *topics[] = {"handback.>"};
    zhub_join_t join = {.group = "handback", .topics = topics, .topic_count = 1};
    CHECK (zhub_client_join (first, &join, 3000) == ZHUB_OK);
    CHECK (s_publish (producer, "hb-1", "handback.x", NULL) == ZHUB_OK);
    zhub_delivery_t *delivery = NULL;
    CHECK (zhub_client_recv (first, &delivery, 3000) == ZHUB_OK);
    zhub_delivery_destroy (&delivery);
    zhub_client_destroy (&first); //  no ack: LEAVE hands it back

    zhub_client_t *second = zhub_client_new (s_endpoint, "second", NULL);
    CHECK (zhub_client_join (second, &join, 3000) == ZHUB_OK);
    int64_t started = zhub_mono_ms ();
    CHECK (zhub_client_recv (second, &delivery, 3000) == ZHUB_OK);
    //  well before the 2 s ack deadline, and not counted as a failure
    CHECK (zhub_mono_ms () - started < 1000);
    CHECK (delivery && delivery->attempt == 1);
    if (delivery)
        zhub_client_ack (second, delivery);
    zhub_delivery_destroy (&delivery);
    zhub_client_destroy (&second);
    zhub_client_destroy (&producer);
}

static void
test_consumer_joins_again_after_the_broker_restarts (zhub_test_broker_t **broker)
{
    zhub_client_t *consumer = zhub_client_new (s_endpoint, "rejoiner", NULL);
    const char *topics[] = {"restart.>"};
    zhub_join_t join = {.group = "rejoin", .topics = topics, .topic_count = 1};
    CHECK (zhub_client_join (consumer, &join, 3000) == ZHUB_OK);
    char endpoint[256];
    snprintf (endpoint, sizeof endpoint, "%s", s_endpoint);
    zhub_test_broker_stop (broker);
    *broker = s_broker_start (endpoint);
    CHECK (*broker != NULL);
    zhub_client_t *producer = zhub_client_new (s_endpoint, "producer", NULL);
    CHECK (s_publish (producer, "after-restart", "restart.x", NULL) == ZHUB_OK);
    //  the new broker does not know the member; the client's PING/PONG
    //  notices and joins again
    zhub_delivery_t *delivery = NULL;
    CHECK (zhub_client_recv (consumer, &delivery, 5000) == ZHUB_OK);
    if (delivery) {
        CHECK_STR (delivery->msg->id, "after-restart");
        zhub_client_ack (consumer, delivery);
        zhub_delivery_destroy (&delivery);
    }
    zhub_client_destroy (&producer);
    zhub_client_destroy (&consumer);
}

static int64_t
s_stat (zhub_client_t *client, const char *section, const char *name)
{
    json_t *stats = NULL;
    if (zhub_client_stats (client, 3000, &stats) != ZHUB_OK)
        return -1;
    int64_t value = json_integer_value (json_object_get (json_object_get (stats, section), name));
    json_decref (stats);
    return value;
}

//  deliverat: held durably (across a restart), delivered once its time
//  came, never before; a held id is deduplicated; a later message of the
//  same subject is not blocked behind it; too far ahead is refused.
static void
test_delayed_publish_is_held_until_its_time (zhub_test_broker_t **broker)
{
    zhub_client_t *consumer = zhub_client_new (s_endpoint, "later-consumer", NULL);
    const char *topics[] = {"later.>"};
    zhub_join_t join = {.group = "later", .topics = topics, .topic_count = 1, .credit = 4};
    CHECK (zhub_client_join (consumer, &join, 3000) == ZHUB_OK);
    zhub_client_t *producer = zhub_client_new (s_endpoint, "later-producer", NULL);
    zhub_msg_t *held = s_msg ("d-1", "later.reminder", "contact:7");
    held->deliver_at_ms = zhub_now_ms () + 3000;
    zhub_puback_t ack = {.offset = 99};
    char err[256];
    CHECK (zhub_client_publish (producer, held, 3000, &ack, err, sizeof err) == ZHUB_OK);
    CHECK (ack.offset == 0 && !ack.duplicate);
    CHECK (zhub_client_publish (producer, held, 3000, &ack, err, sizeof err) == ZHUB_OK);
    CHECK (ack.offset == 0 && ack.duplicate);
    CHECK (s_stat (producer, "broker", "delayed") == 1);
    CHECK (s_stat (producer, "broker", "next_release_ms") == held->deliver_at_ms);

    zhub_msg_t *far = s_msg ("d-far", "later.reminder", NULL);
    far->deliver_at_ms = zhub_now_ms () + 400LL * 24 * 3600 * 1000;
    CHECK (zhub_client_publish (producer, far, 3000, NULL, err, sizeof err) == ZHUB_REJECT);
    CHECK (strstr (err, "deliverat") != NULL);
    zhub_msg_destroy (&far);

    //  the same subject, published now: delivered now, not after d-1
    CHECK (s_publish (producer, "d-now", "later.note", NULL) == ZHUB_OK);
    zhub_delivery_t *delivery = NULL;
    CHECK (zhub_client_recv (consumer, &delivery, 5000) == ZHUB_OK);
    if (delivery) {
        CHECK_STR (delivery->msg->id, "d-now");
        zhub_client_ack (consumer, delivery);
        zhub_delivery_destroy (&delivery);
    }
    zhub_client_destroy (&producer);

    //  held across a restart
    char endpoint[256];
    snprintf (endpoint, sizeof endpoint, "%s", s_endpoint);
    zhub_test_broker_stop (broker);
    *broker = s_broker_start (endpoint);
    CHECK (*broker != NULL);
    CHECK (zhub_client_recv (consumer, &delivery, 15000) == ZHUB_OK);
    if (delivery) {
        CHECK_STR (delivery->msg->id, "d-1");
        CHECK (delivery->msg->deliver_at_ms == held->deliver_at_ms);
        CHECK (zhub_now_ms () >= held->deliver_at_ms);
        zhub_client_ack (consumer, delivery);
        zhub_delivery_destroy (&delivery);
    }
    producer = zhub_client_new (s_endpoint, "later-producer", NULL);
    CHECK (s_stat (producer, "broker", "delayed") == 0);
    //  once in the log, the id is in the dedup window like any other
    CHECK (zhub_client_publish (producer, held, 3000, &ack, err, sizeof err) == ZHUB_OK);
    CHECK (ack.duplicate && ack.offset > 0);
    zhub_msg_destroy (&held);
    zhub_client_destroy (&producer);
    zhub_client_destroy (&consumer);
}

static void
test_publish_without_a_broker_is_a_retry (void)
{
    zhub_client_t *client = zhub_client_new ("tcp://127.0.0.1:1", "nobody", NULL);
    CHECK (client != NULL);
    int64_t started = zhub_mono_ms ();
    CHECK (s_publish (client, "x", "a.b", NULL) == ZHUB_RETRY);
    CHECK (zhub_mono_ms () - started < 4000);
    CHECK (zhub_client_ping (client, 200) == ZHUB_RETRY);
    zhub_client_destroy (&client);
    CHECK (zhub_client_new ("nonsense://here", "x", NULL) == NULL);
}

static void
s_on_signal (int signum)
{
    (void)signum;
}

static void *
s_interrupt (void *arg)
{
    usleep (300 * 1000);
    pthread_kill (*(pthread_t *)arg, SIGUSR1);
    return NULL;
}

static void
test_a_signal_interrupts_recv (void)
{
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal; //  no SA_RESTART: zmq_poll returns EINTR
    sigaction (SIGUSR1, &action, NULL);
    zhub_client_t *client = zhub_client_new (s_endpoint, "interrupted", NULL);
    pthread_t self = pthread_self (), helper;
    pthread_create (&helper, NULL, s_interrupt, &self);
    zhub_delivery_t *delivery = NULL;
    int64_t started = zhub_mono_ms ();
    CHECK (zhub_client_recv (client, &delivery, 10000) == ZHUB_ERROR);
    CHECK (zhub_mono_ms () - started < 5000);
    pthread_join (helper, NULL);
    zhub_client_destroy (&client);
}

int
main (void)
{
    setenv ("ZHUB_LOG_LEVEL", "warn", 1);
    zhub_log_init ("test-broker-client");
    snprintf (s_dir, sizeof s_dir, "/tmp/zhub-test-client-XXXXXX");
    if (!mkdtemp (s_dir)) {
        perror ("mkdtemp");
        return 77;
    }
    zhub_test_broker_t *broker = s_broker_start ("tcp://127.0.0.1:*");
    if (!broker)
        return 1;
    RUN (test_publish_is_confirmed_deduplicated_or_refused);
    RUN (test_consumer_receives_acks_and_nacks);
    RUN (test_publish_nested_deeper_than_30_levels_is_refused);
    RUN (test_destroy_hands_in_flight_deliveries_back_at_once);
    RUN (test_operator_sets_and_resets_a_group);
    zhub_test_case_failed = 0;
    test_consumer_joins_again_after_the_broker_restarts (&broker);
    printf ("%s test_consumer_joins_again_after_the_broker_restarts\n",
            zhub_test_case_failed ? "FAIL" : "ok  ");
    zhub_test_failures += zhub_test_case_failed;
    zhub_test_case_failed = 0;
    test_delayed_publish_is_held_until_its_time (&broker);
    printf ("%s test_delayed_publish_is_held_until_its_time\n",
            zhub_test_case_failed ? "FAIL" : "ok  ");
    zhub_test_failures += zhub_test_case_failed;
    RUN (test_publish_without_a_broker_is_a_retry);
    RUN (test_a_signal_interrupts_recv);
    zhub_test_broker_stop (&broker);
    zhub_test_rm_tree (s_dir);
    TEST_EXIT ();
}
