//  The actor runtime's outbox against a real broker loop running in a
//  thread of this process on a loopback port: what a handler committed
//  to the outbox reaches the bus whole, even an envelope as large as a
//  broker configured for its largest messages (ZHUB_BROKER_MAX_MESSAGE up
//  to ZHUB_MSG_MAX_SIZE) takes, read back within zhub_msg_stored_limits.
#include "zhub_actor.h"
#include "zhub_client.h"
#include "zhub_log.h"
#include "zhub_test.h"
#include "zhub_test_broker.h"

#include <sys/stat.h>

static char s_dir[64];

//  A broker that takes messages up to ZHUB_MSG_MAX_SIZE, its store under
//  s_dir/broker.
static zhub_test_broker_t *
s_broker_start (void)
{
    broker_config_t config;
    broker_config_defaults (&config);
    config.endpoint = "tcp://127.0.0.1:*";
    char dir[128];
    snprintf (dir, sizeof dir, "%s/broker", s_dir);
    mkdir (dir, 0700);
    config.data_dir = dir;
    config.max_message = ZHUB_MSG_MAX_SIZE;
    return zhub_test_broker_start (&config);
}

typedef struct {
    zhub_actor_ctx_t *ctx;
    const zhub_msg_t *msg;
} s_put_t;

static zhub_rc_t
s_put (zhub_txn_t *txn, void *arg)
{
    s_put_t *put = arg;
    return zhub_actor_outbox_put (put->ctx, txn, put->msg);
}

//  data {"blob": <size bytes of text>}
static zhub_msg_t *
s_large_msg (const char *id, size_t size)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "zhub/test");
    zhub_msg_set (&msg->type, "outbox.large");
    msg->time_ms = zhub_now_ms ();
    char *blob = zhub_calloc (1, size + 1);
    memset (blob, 'x', size);
    json_t *data = json_pack ("{s:s}", "blob", blob);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    free (blob);
    return msg;
}

//  An envelope of 1.5 MiB (over the 1 MiB of zhub_mpack_default_limits,
//  under ZHUB_MSG_MAX_SIZE) committed to the outbox is published, not
//  dropped as undecodable, and arrives byte for byte.
static void
test_an_outbox_entry_over_1_mib_is_published_whole (const char *endpoint)
{
    setenv ("ZHUB_BROKER", endpoint, 1);
    setenv ("ZHUB_BUS_SECURITY", "plain", 1); //  the test broker is on loopback
    setenv ("ZHUB_DATA_DIR", s_dir, 1);
    zhub_actor_config_t config;
    char err[256];
    CHECK (zhub_actor_config_load (&config, "outbox-test", err, sizeof err) == 0);
    zhub_actor_spec_t spec = {0};
    zhub_actor_t *actor = zhub_actor_new (&config, &spec, err, sizeof err);
    CHECK (actor != NULL);
    if (!actor) {
        fprintf (stderr, "  zhub_actor_new: %s\n", err);
        zhub_actor_config_clear (&config);
        return;
    }
    zhub_client_t *consumer = zhub_client_new (endpoint, "outbox-consumer", NULL);
    const char *topics[] = {"outbox.>"};
    zhub_join_t join = {.group = "outbox-readers", .topics = topics, .topic_count = 1};
    CHECK (zhub_client_join (consumer, &join, 3000) == ZHUB_OK);

    zhub_msg_t *msg = s_large_msg ("large-1", 1536 * 1024);
    uint8_t *sent;
    size_t sent_size;
    CHECK (zhub_msg_encode (msg, &sent, &sent_size, err, sizeof err) == 0);
    CHECK (sent_size > zhub_mpack_default_limits.max_size && sent_size < ZHUB_MSG_MAX_SIZE);
    s_put_t put = {.ctx = zhub_actor_ctx (actor), .msg = msg};
    CHECK (zhub_store_write (zhub_actor_ctx (actor)->store, s_put, &put) == ZHUB_OK);
    //  confirmed by the broker: nothing left pending
    CHECK (zhub_actor_outbox_flush (actor) == 0);

    zhub_delivery_t *delivery = NULL;
    CHECK (zhub_client_recv (consumer, &delivery, 5000) == ZHUB_OK);
    CHECK (delivery != NULL);
    if (delivery) {
        CHECK_STR (delivery->msg->id, "large-1");
        uint8_t *got;
        size_t got_size;
        CHECK (zhub_msg_encode (delivery->msg, &got, &got_size, err, sizeof err) == 0);
        CHECK (got_size == sent_size && !memcmp (got, sent, sent_size));
        free (got);
        zhub_client_ack (consumer, delivery);
        zhub_delivery_destroy (&delivery);
    }
    free (sent);
    zhub_msg_destroy (&msg);
    zhub_client_destroy (&consumer);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
}

int
main (void)
{
    setenv ("ZHUB_LOG_LEVEL", "warn", 1);
    zhub_log_init ("test-actor-outbox");
    snprintf (s_dir, sizeof s_dir, "/tmp/zhub-test-outbox-XXXXXX");
    if (!mkdtemp (s_dir)) {
        perror ("mkdtemp");
        return 77;
    }
    zhub_test_broker_t *broker = s_broker_start ();
    if (!broker)
        return 1;
    char endpoint[256];
    snprintf (endpoint, sizeof endpoint, "%s", broker_server_endpoint (broker->server));
    zhub_test_case_failed = 0;
    test_an_outbox_entry_over_1_mib_is_published_whole (endpoint);
    printf ("%s test_an_outbox_entry_over_1_mib_is_published_whole\n",
            zhub_test_case_failed ? "FAIL" : "ok  ");
    zhub_test_failures += zhub_test_case_failed;
    zhub_test_broker_stop (&broker);
    zhub_test_rm_tree (s_dir);
    TEST_EXIT ();
}
