//  bench/loop: what the broker's loop would cost on czmq's zloop instead of
//  its own zmq_poll loop (docs/adr/0006). One ROUTER server thread answers
//  every frame a DEALER client pipelines (64 in flight), and keeps a set of
//  deadlines like the broker's groups do: each turn it asks for the
//  earliest one and sleeps no longer than that. `poll` does that with
//  zmq_poll and a computed timeout (the broker today); `zloop` with a reader
//  and a timer re-armed each turn (zloop_timer_end + zloop_timer), the only
//  way zloop offers to wake at a deadline that moves.
//    loop_bench poll|zloop [messages]
#include <czmq.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW 64
#define DEADLINES 1024

static int64_t
s_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct {
    void *sock;
    int64_t deadlines[DEADLINES]; //  ms, mono: renewed as frames are answered
    size_t next;
    long answered, target;
    zloop_t *loop;
    int timer_id;
} server_t;

static int64_t
s_earliest (server_t *self)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < DEADLINES; i++)
        if (self->deadlines[i] < best)
            best = self->deadlines[i];
    return best;
}

//  Answers every frame waiting; renews one deadline per frame.
static void
s_drain (server_t *self)
{
    while (true) {
        zmq_msg_t id, body;
        zmq_msg_init (&id);
        if (zmq_msg_recv (&id, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&id);
            return;
        }
        zmq_msg_init (&body);
        zmq_msg_recv (&body, self->sock, 0);
        zmq_msg_send (&id, self->sock, ZMQ_SNDMORE);
        zmq_msg_send (&body, self->sock, 0);
        self->deadlines[self->next++ % DEADLINES] = s_mono_us () / 1000 + 30000;
        self->answered++;
    }
}

static void
s_run_poll (server_t *self)
{
    while (self->answered < self->target) {
        int64_t now = s_mono_us () / 1000, wake = s_earliest (self);
        int timeout = wake - now > 200 ? 200 : (int) (wake - now);
        zmq_pollitem_t items[1] = {{self->sock, 0, ZMQ_POLLIN, 0}};
        zmq_poll (items, 1, timeout < 0 ? 0 : timeout);
        s_drain (self);
    }
}

static int s_on_timer (zloop_t *loop, int timer_id, void *arg);

static void
s_rearm (server_t *self)
{
    if (self->timer_id >= 0)
        zloop_timer_end (self->loop, self->timer_id);
    int64_t wait = s_earliest (self) - s_mono_us () / 1000;
    self->timer_id = zloop_timer (self->loop, wait < 1 ? 1 : wait > 200 ? 200 : (size_t) wait, 1,
                                  s_on_timer, self);
}

static int
s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    server_t *self = arg;
    self->timer_id = -1;
    s_rearm (self);
    return 0;
}

static int
s_on_reader (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    server_t *self = arg;
    s_drain (self);
    s_rearm (self);
    return self->answered >= self->target ? -1 : 0;
}

static void
s_run_zloop (server_t *self)
{
    self->loop = zloop_new ();
    self->timer_id = -1;
    zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
    zloop_poller (self->loop, &item, s_on_reader, self);
    s_rearm (self);
    zloop_start (self->loop);
    zloop_destroy (&self->loop);
}

typedef struct {
    void *ctx;
    const char *endpoint;
    long messages;
} client_args_t;

static void *
s_client (void *arg)
{
    client_args_t *args = arg;
    void *sock = zmq_socket (args->ctx, ZMQ_DEALER);
    zmq_connect (sock, args->endpoint);
    char payload[1024];
    memset (payload, 'x', sizeof payload);
    long sent = 0, received = 0;
    while (received < args->messages) {
        while (sent < args->messages && sent - received < WINDOW)
            if (zmq_send (sock, payload, sizeof payload, 0) >= 0)
                sent++;
        char buf[2048];
        if (zmq_recv (sock, buf, sizeof buf, 0) >= 0)
            received++;
    }
    zmq_close (sock);
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc < 2 || (strcmp (argv[1], "poll") && strcmp (argv[1], "zloop"))) {
        fprintf (stderr, "usage: loop_bench poll|zloop [messages]\n");
        return 2;
    }
    long messages = argc > 2 ? atol (argv[2]) : 200000;
    void *ctx = zmq_ctx_new ();
    server_t server = {.sock = zmq_socket (ctx, ZMQ_ROUTER), .target = messages};
    for (size_t i = 0; i < DEADLINES; i++)
        server.deadlines[i] = s_mono_us () / 1000 + 30000 + (int64_t) i;
    zmq_bind (server.sock, "inproc://loop-bench");
    client_args_t args = {ctx, "inproc://loop-bench", messages};
    pthread_t client;
    int64_t started = s_mono_us ();
    pthread_create (&client, NULL, s_client, &args);
    if (!strcmp (argv[1], "poll"))
        s_run_poll (&server);
    else
        s_run_zloop (&server);
    pthread_join (client, NULL);
    int64_t took = s_mono_us () - started;
    printf ("%s messages=%ld seconds=%.3f msgs_per_s=%.0f\n", argv[1], messages, took / 1e6,
            messages / (took / 1e6));
    zmq_close (server.sock);
    zmq_ctx_term (ctx);
    return 0;
}
