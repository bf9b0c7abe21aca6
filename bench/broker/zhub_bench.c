//  Load generator for zhub-broker, used by bench/broker/run (not a test).
//  Speaks the protocol of proto/PROTOCOL.md directly where the benchmark
//  needs to see each message (publishers keep a sliding window of
//  PUBLISH frames and time each PUBACK), and through zhub_client for the
//  consumers (JOIN with credit, recv, ACK), as an actor would.
//  nats_bench.c and redis_bench.c do the same against the peers.
//
//    zhub_bench pub ENDPOINT PUBLISHERS COUNT SIZE WINDOW [SUBJECTS]  -> JSON line
//    zhub_bench sub ENDPOINT CONSUMERS COUNT CREDIT                   -> JSON line
#include "bench_util.h"
#include "zhub_client.h"
#include "zhub_frame.h"
#include "zhub_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

//  How every connection of this run authenticates (ZHUB_BUS_SECURITY and
//  the key files, read once in main): the same for publishers and consumers.
static zhub_bus_auth_t s_auth;

static const char *s_usage =
    "usage: zhub_bench pub ENDPOINT PUBLISHERS COUNT SIZE WINDOW [SUBJECTS]\n"
    "       zhub_bench sub ENDPOINT CONSUMERS COUNT CREDIT\n";

typedef struct {
    const char *endpoint;
    int index, count, size, window, subjects;
    int64_t *latency_us; //  one per message
    int errors;
    void *ctx;
} s_pub_t;

//  Takes one PUBACK (or ERROR) off the socket: flags 0 waits (up to the
//  socket's 10 s receive timeout), ZMQ_DONTWAIT does not. Returns 1 when a
//  confirmation was counted, 0 for anything else, -1 when nothing came.
static int
s_take_reply (s_pub_t *p, void *sock, int flags, const int64_t *sent_at, int *done)
{
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    if (zmq_msg_recv (&reply, sock, flags) < 0) {
        zmq_msg_close (&reply);
        return -1;
    }
    zhub_frame_t *frame = zhub_frame_decode (zmq_msg_data (&reply), zmq_msg_size (&reply), NULL, 0);
    zmq_msg_close (&reply);
    int counted = 0;
    if (frame && (frame->cmd == ZHUB_CMD_PUBACK || frame->cmd == ZHUB_CMD_ERROR) && frame->seq >= 1
        && frame->seq <= (uint64_t)p->count) {
        if (frame->cmd == ZHUB_CMD_ERROR)
            p->errors++;
        p->latency_us[(*done)++] = bench_now_us () - sent_at[frame->seq - 1];
        counted = 1;
    }
    zhub_frame_destroy (&frame);
    return counted;
}

static void *
s_publisher (void *arg)
{
    s_pub_t *p = arg;
    int pid = (int)getpid ();
    void *sock = zmq_socket (p->ctx, ZMQ_DEALER);
    char id[64];
    snprintf (id, sizeof id, "bench-pub-%d-%d", pid, p->index);
    zmq_setsockopt (sock, ZMQ_ROUTING_ID, id, strlen (id));
    int timeout_ms = 10000;
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zhub_bus_auth_apply (&s_auth, sock);
    zmq_connect (sock, p->endpoint);
    //  data {"pad": "xxx..."}: the same SIZE-byte payload in every message,
    //  as the other clients send one buffer
    char *pad = malloc ((size_t)p->size + 1);
    memset (pad, 'x', (size_t)p->size);
    pad[p->size] = 0;
    msgpack_sbuffer data;
    msgpack_sbuffer_init (&data);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &data, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    zhub_mpack_pack_kv_str (&pk, "pad", pad);
    int64_t *sent_at = calloc ((size_t)p->count + 1, sizeof (int64_t));
    int next = 0, done = 0;
    while (done < p->count) {
        while (next - done < p->window && next < p->count) {
            zhub_msg_t *msg = zhub_msg_new ();
            char text[64];
            snprintf (text, sizeof text, "b%d-%d-%d", pid, p->index, next);
            zhub_msg_set (&msg->id, text);
            zhub_msg_set (&msg->source, "bench");
            zhub_msg_set (&msg->type, "bench.msg");
            //  ordering keys: messages of one subject are delivered one at a time
            snprintf (text, sizeof text, "s:%d-%d", p->index, next % p->subjects);
            zhub_msg_set (&msg->subject, text);
            zhub_msg_set_data (msg, (const uint8_t *)data.data, data.size);
            uint8_t *env;
            size_t env_size;
            zhub_msg_encode (msg, &env, &env_size, NULL, 0);
            zhub_msg_destroy (&msg);
            zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_PUBLISH);
            frame->seq = (uint64_t)next + 1;
            frame->msg = env;
            frame->msg_size = env_size;
            uint8_t *buf;
            size_t size;
            zhub_frame_encode (frame, &buf, &size);
            zhub_frame_destroy (&frame);
            sent_at[next] = bench_now_us ();
            zmq_send (sock, buf, size, 0);
            free (buf);
            next++;
        }
        //  one confirmation (waiting), then whatever else has arrived
        if (s_take_reply (p, sock, 0, sent_at, &done) < 0) {
            fprintf (stderr, "publisher %d: no answer in 10 s\n", p->index);
            p->errors++;
            break;
        }
        while (s_take_reply (p, sock, ZMQ_DONTWAIT, sent_at, &done) >= 0)
            ;
    }
    msgpack_sbuffer_destroy (&data);
    free (sent_at);
    free (pad);
    zmq_close (sock);
    return NULL;
}

typedef struct {
    const char *endpoint;
    int index, credit;
    bench_left_t *left;
    int got, errors;
} s_sub_t;

//  Receives and acks until the consumers together have everything. The
//  ACKs are not answered: a PING's PONG comes only after the broker stored
//  every frame sent before it (PROTOCOL.md 5.10), so a consumer pings when
//  the work is done or it has nothing to do, and that confirms its acks.
static void *
s_consumer (void *arg)
{
    s_sub_t *c = arg;
    char name[64];
    snprintf (name, sizeof name, "bench-sub-%d", c->index);
    zhub_client_t *client = zhub_client_new (c->endpoint, name, &s_auth);
    const char *topics[] = {"bench.>"};
    zhub_join_t join = {.group = "bench",
                        .topics = topics,
                        .topic_count = 1,
                        .credit = (uint32_t)c->credit,
                        .ack_deadline_ms = 60000};
    if (zhub_client_join (client, &join, 5000) != ZHUB_OK) {
        c->errors++;
        bench_left_abort (c->left);
        zhub_client_destroy (&client);
        return NULL;
    }
    int unconfirmed = 0;
    int64_t last = bench_now_us ();
    while (bench_left_get (c->left) > 0) {
        zhub_delivery_t *d = NULL;
        zhub_rc_t rc = zhub_client_recv (client, &d, BENCH_POLL_MS);
        int left = 1;
        if (rc == ZHUB_OK) {
            if (zhub_client_ack (client, d))
                c->errors++;
            zhub_delivery_destroy (&d);
            c->got++;
            unconfirmed++;
            left = bench_left_take (c->left, 1);
            last = bench_now_us ();
        } else if (bench_now_us () - last > BENCH_GIVE_UP_MS * 1000) {
            c->errors++;
            bench_left_abort (c->left);
            break;
        }
        if (unconfirmed && (rc != ZHUB_OK || left <= 0)) {
            if (zhub_client_ping (client, 10000) != ZHUB_OK)
                c->errors++;
            bench_left_confirmed (c->left);
            unconfirmed = 0;
        }
    }
    if (unconfirmed) {
        if (zhub_client_ping (client, 10000) != ZHUB_OK)
            c->errors++;
        bench_left_confirmed (c->left);
    }
    zhub_client_destroy (&client);
    return NULL;
}

int
main (int argc, char **argv)
{
    bench_args_t a;
    char err[600];
    if (bench_args_parse (&a, argc, argv, s_usage))
        return 2;
    const char *endpoints[] = {a.endpoint};
    if (zhub_bus_auth_load (&s_auth, endpoints, 1, err, sizeof err)) {
        fprintf (stderr, "zhub_bench: %s\n", err);
        return 2;
    }
    int n = a.clients;
    if (!strcmp (a.mode, "pub")) {
        void *ctx = zmq_ctx_new ();
        s_pub_t *pubs = calloc ((size_t)n, sizeof (s_pub_t));
        pthread_t *threads = calloc ((size_t)n, sizeof (pthread_t));
        int64_t *all = calloc ((size_t)a.count, sizeof (int64_t));
        int per = a.count / n;
        int subjects = a.extra ? atoi (a.extra) : 10000;
        if (subjects < 1)
            subjects = 1;
        int64_t start = bench_now_us ();
        for (int i = 0; i < n; i++) {
            pubs[i] = (s_pub_t){
                a.endpoint, i, per, a.size, a.window, subjects, all + (size_t)i * per, 0, ctx};
            pthread_create (&threads[i], NULL, s_publisher, &pubs[i]);
        }
        int errors = 0;
        for (int i = 0; i < n; i++) {
            pthread_join (threads[i], NULL);
            errors += pubs[i].errors;
        }
        double seconds = (double)(bench_now_us () - start) / 1e6;
        bench_print_pub (all, per * n, seconds, errors);
        zmq_ctx_term (ctx);
        return errors ? 1 : 0;
    }
    if (strcmp (a.mode, "sub")) {
        fprintf (stderr, "%s", s_usage);
        return 2;
    }
    bench_left_t left;
    bench_left_init (&left, a.count);
    s_sub_t *subs = calloc ((size_t)n, sizeof (s_sub_t));
    pthread_t *threads = calloc ((size_t)n, sizeof (pthread_t));
    int64_t start = bench_now_us ();
    for (int i = 0; i < n; i++) {
        subs[i] = (s_sub_t){a.endpoint, i, a.credit, &left, 0, 0};
        pthread_create (&threads[i], NULL, s_consumer, &subs[i]);
    }
    int got = 0, errors = 0;
    for (int i = 0; i < n; i++) {
        pthread_join (threads[i], NULL);
        got += subs[i].got;
        errors += subs[i].errors;
    }
    bench_print_sub (got, (double)(left.confirmed_at - start) / 1e6, errors);
    return got >= a.count && !errors ? 0 : 1;
}
