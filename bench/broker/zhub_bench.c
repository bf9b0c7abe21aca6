//  Load generator for zhub-broker, used by bench/broker/run (not a test).
//  Speaks the protocol of proto/PROTOCOL.md directly where the benchmark
//  needs to see each message (publishers keep a sliding window of
//  PUBLISH frames and time each PUBACK), and through zhub_client for the
//  consumers (JOIN with credit, recv, ACK), as an actor would.
//
//    zhub_bench pub ENDPOINT PUBLISHERS COUNT SIZE WINDOW [SUBJECTS]  -> JSON line
//    zhub_bench sub ENDPOINT CONSUMERS COUNT CREDIT          -> JSON line
#include "zhub_client.h"
#include "zhub_frame.h"
#include "zhub_msg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

//  How every connection of this run authenticates (ZHUB_BUS_SECURITY and
//  the key files, read once in main): the same for publishers and consumers.
static zhub_bus_auth_t s_auth;

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct {
    const char *endpoint;
    int index, count, size, window, subjects;
    int64_t *latency_us; //  one per message
    int errors;
    void *ctx;
} s_pub_t;

static void *
s_publisher (void *arg)
{
    s_pub_t *p = arg;
    void *sock = zmq_socket (p->ctx, ZMQ_DEALER);
    char id[64];
    snprintf (id, sizeof id, "bench-pub-%d-%d", (int)getpid (), p->index);
    zmq_setsockopt (sock, ZMQ_ROUTING_ID, id, strlen (id));
    zhub_bus_auth_apply (&s_auth, sock);
    zmq_connect (sock, p->endpoint);
    char *pad = malloc ((size_t)p->size + 1);
    memset (pad, 'x', (size_t)p->size);
    pad[p->size] = 0;
    int64_t *sent_at = calloc ((size_t)p->count + 1, sizeof (int64_t));
    int next = 0, done = 0, inflight = 0;
    while (done < p->count) {
        while (inflight < p->window && next < p->count) {
            zhub_msg_t *msg = zhub_msg_new ();
            char mid[64];
            snprintf (mid, sizeof mid, "b%d-%d-%d", (int)getpid (), p->index, next);
            zhub_msg_set (&msg->id, mid);
            zhub_msg_set (&msg->source, "bench");
            zhub_msg_set (&msg->type, "bench.msg");
            //  ordering keys: messages of one subject are delivered one at a time
            snprintf (mid, sizeof mid, "s:%d-%d", p->index, next % p->subjects);
            zhub_msg_set (&msg->subject, mid);
            //  data {"pad": "xxx..."}: a 1 KiB payload
            msgpack_sbuffer sbuf;
            msgpack_sbuffer_init (&sbuf);
            msgpack_packer pk;
            msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
            msgpack_pack_map (&pk, 1);
            zhub_mpack_pack_kv_str (&pk, "pad", pad);
            zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
            msgpack_sbuffer_destroy (&sbuf);
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
            sent_at[next] = s_now_us ();
            zmq_send (sock, buf, size, 0);
            free (buf);
            next++;
            inflight++;
        }
        zmq_msg_t reply;
        zmq_msg_init (&reply);
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 10000) <= 0) {
            fprintf (stderr, "publisher %d: no answer in 10 s\n", p->index);
            p->errors++;
            zmq_msg_close (&reply);
            break;
        }
        zmq_msg_recv (&reply, sock, 0);
        zhub_frame_t *frame =
            zhub_frame_decode (zmq_msg_data (&reply), zmq_msg_size (&reply), NULL, 0);
        zmq_msg_close (&reply);
        if (!frame)
            continue;
        if ((frame->cmd == ZHUB_CMD_PUBACK || frame->cmd == ZHUB_CMD_ERROR) && frame->seq >= 1
            && frame->seq <= (uint64_t)p->count) {
            if (frame->cmd == ZHUB_CMD_ERROR)
                p->errors++;
            p->latency_us[done++] = s_now_us () - sent_at[frame->seq - 1];
            inflight--;
        }
        zhub_frame_destroy (&frame);
    }
    free (sent_at);
    free (pad);
    zmq_close (sock);
    return NULL;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    const char *endpoint;
    int index, credit;
    int *remaining; //  shared
    pthread_mutex_t *lock;
    int got, errors;
} s_sub_t;

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
        zhub_client_destroy (&client);
        return NULL;
    }
    int idle = 0;
    while (true) {
        pthread_mutex_lock (c->lock);
        bool finished = *c->remaining <= 0;
        pthread_mutex_unlock (c->lock);
        if (finished || idle > 50)
            break;
        zhub_delivery_t *d = NULL;
        zhub_rc_t rc = zhub_client_recv (client, &d, 100);
        if (rc != ZHUB_OK) {
            idle++;
            continue;
        }
        idle = 0;
        zhub_client_ack (client, d);
        zhub_delivery_destroy (&d);
        c->got++;
        pthread_mutex_lock (c->lock);
        (*c->remaining)--;
        pthread_mutex_unlock (c->lock);
    }
    zhub_client_ping (client, 5000); //  every ACK stored
    zhub_client_destroy (&client);
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc < 7) {
        fprintf (stderr, "usage: zhub_bench pub|sub ENDPOINT N COUNT SIZE|CREDIT WINDOW\n");
        return 2;
    }
    const char *mode = argv[1], *endpoint = argv[2];
    int n = atoi (argv[3]), count = atoi (argv[4]), arg5 = atoi (argv[5]), window = atoi (argv[6]);
    char err[600];
    if (zhub_bus_auth_load (&s_auth, &endpoint, 1, err, sizeof err)) {
        fprintf (stderr, "zhub_bench: %s\n", err);
        return 2;
    }
    if (!strcmp (mode, "pub")) {
        void *ctx = zmq_ctx_new ();
        s_pub_t *pubs = calloc ((size_t)n, sizeof (s_pub_t));
        pthread_t *threads = calloc ((size_t)n, sizeof (pthread_t));
        int64_t *all = calloc ((size_t)count, sizeof (int64_t));
        int per = count / n;
        int subjects = argc > 7 ? atoi (argv[7]) : 10000;
        if (subjects < 1)
            subjects = 1;
        int64_t start = s_now_us ();
        for (int i = 0; i < n; i++) {
            pubs[i] =
                (s_pub_t){endpoint, i, per, arg5, window, subjects, all + (size_t)i * per, 0, ctx};
            pthread_create (&threads[i], NULL, s_publisher, &pubs[i]);
        }
        int errors = 0;
        for (int i = 0; i < n; i++) {
            pthread_join (threads[i], NULL);
            errors += pubs[i].errors;
        }
        double seconds = (double)(s_now_us () - start) / 1e6;
        int total = per * n;
        qsort (all, (size_t)total, sizeof (int64_t), s_cmp);
        printf ("{\"messages\":%d,\"seconds\":%.3f,\"rate\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
                "\"errors\":%d}\n",
                total, seconds, total / seconds, all[total / 2] / 1000.0,
                all[(int)(total * 0.99)] / 1000.0, errors);
        zmq_ctx_term (ctx);
        return errors ? 1 : 0;
    }
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int remaining = count;
    s_sub_t *subs = calloc ((size_t)n, sizeof (s_sub_t));
    pthread_t *threads = calloc ((size_t)n, sizeof (pthread_t));
    int64_t start = s_now_us ();
    for (int i = 0; i < n; i++) {
        subs[i] = (s_sub_t){endpoint, i, arg5, &remaining, &lock, 0, 0};
        pthread_create (&threads[i], NULL, s_consumer, &subs[i]);
    }
    int got = 0, errors = 0;
    for (int i = 0; i < n; i++) {
        pthread_join (threads[i], NULL);
        got += subs[i].got;
        errors += subs[i].errors;
    }
    double seconds = (double)(s_now_us () - start) / 1e6;
    printf ("{\"messages\":%d,\"seconds\":%.3f,\"rate\":%.0f,\"errors\":%d}\n", got, seconds,
            got / seconds, errors);
    (void)window;
    return got >= count ? 0 : 1;
}
