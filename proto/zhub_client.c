//  The bus client: one DEALER socket, request/answer matched by seq. Calls
//  that wait for an answer (publish, join, ping, stats) keep whatever else
//  arrives meanwhile: deliveries are queued for zhub_client_recv, PONGs
//  are checked for lost memberships, stale answers (to calls that already
//  timed out) are dropped. Heartbeats ride on the calls themselves: recv
//  sends PING when the client has been quiet for ZHUB_HEARTBEAT_MS, and
//  every PONG lists the groups the broker knows us in, so a broker that
//  restarted (and forgot us) gets our JOINs again within a second.
#include "zhub_client.h"
#include "zhub_json.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define S_LINGER_MS 1000
#define S_RECONNECT_MAX_MS 1000
#define S_SEND_TIMEOUT_MS ZHUB_HEARTBEAT_MS //  for ACK, NACK, PING, re-JOIN

//  STATS_REPLY's figures (PROTOCOL.md 5.11): nested at most 5 deep
//  (groups, a group, members, a member); up to 10,000 topics counted twice
//  and every group with its members.
static const zhub_mpack_limits_t s_stats_limits = {
    .max_size = ZHUB_FRAME_MAX_SIZE, .max_depth = 8, .max_items = 1000000};

struct zhub_client_t {
    void *ctx, *sock;
    char *name;
    char *endpoint;
    char *instance; //  sent in HELLO when set
    char routing_id[128];
    uint64_t next_seq;
    zhub_frame_t **queue; //  DELIVER frames waiting for recv (FIFO)
    size_t queue_head, queue_count, queue_cap;
    zhub_frame_t **joins; //  remembered JOIN frames, one per group
    size_t join_count;
    int64_t last_send_ms; //  monotonic
    bool hello_sent;
};

typedef enum { S_FRAME = 0, S_TIMEOUT, S_FAULT } s_wait_t;

static int s_send_raw (zhub_client_t *self, const zhub_frame_t *frame, int timeout_ms);

void
zhub_delivery_destroy (zhub_delivery_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_delivery_t *self = *self_p;
    free (self->group);
    zhub_msg_destroy (&self->msg);
    free (self);
    *self_p = NULL;
}

static void
s_set_err (char *err, size_t err_size, const char *reason)
{
    if (err && err_size)
        snprintf (err, err_size, "%s", reason ? reason : "");
}

zhub_client_t *
zhub_client_new (const char *endpoint, const char *name, const zhub_bus_auth_t *auth)
{
    if (!endpoint) {
        endpoint = getenv ("ZHUB_BROKER");
        if (!endpoint || !*endpoint)
            endpoint = ZHUB_BROKER_DEFAULT;
    }
    zhub_client_t *self = zhub_calloc (1, sizeof *self);
    self->name = zhub_strdup (name && *name ? name : "client");
    self->endpoint = zhub_strdup (endpoint);

    //  <name>-<pid>-<random>: unique per instance, readable in broker logs.
    //  64 random bits: the routing id is what a connection is known by, so
    //  another key must not be able to guess it (the broker also drops a
    //  routing id's memberships when a different key talks through it)
    char safe[65];
    size_t used = 0;
    for (const char *p = self->name; *p && used < sizeof safe - 1; p++)
        safe[used++] = (*p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ? *p : '_';
    safe[used] = 0;
    uint8_t random[8];
    randombytes_buf (random, sizeof random);
    used = (size_t)snprintf (self->routing_id, sizeof self->routing_id, "%s-%d-", safe,
                             (int)getpid ());
    for (size_t i = 0; i < sizeof random && used + 3 <= sizeof self->routing_id; i++)
        used += (size_t)snprintf (self->routing_id + used, sizeof self->routing_id - used, "%02x",
                                  random[i]);

    //  libzmq's threads start with the first socket and inherit this
    //  thread's signal mask: keep SIGINT/SIGTERM away from them, so the
    //  caller's thread gets the signal and its zmq_poll returns EINTR.
    sigset_t stop_signals, previous;
    sigemptyset (&stop_signals);
    sigaddset (&stop_signals, SIGTERM);
    sigaddset (&stop_signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop_signals, &previous);
    self->ctx = zmq_ctx_new ();
    self->sock = self->ctx ? zmq_socket (self->ctx, ZMQ_DEALER) : NULL;
    pthread_sigmask (SIG_SETMASK, &previous, NULL);
    if (!self->sock) {
        zhub_client_destroy (&self);
        return NULL;
    }
    int one = 1, linger = S_LINGER_MS, ivl = ZHUB_HEARTBEAT_MS, timeout = 3 * ZHUB_HEARTBEAT_MS;
    int ttl = 10 * ZHUB_HEARTBEAT_MS, reconnect_max = S_RECONNECT_MAX_MS;
    int64_t max_size = ZHUB_FRAME_MAX_SIZE;
    zmq_setsockopt (self->sock, ZMQ_ROUTING_ID, self->routing_id, strlen (self->routing_id));
    zmq_setsockopt (self->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt (self->sock, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout);
    zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_TTL, &ttl, sizeof ttl);
    zmq_setsockopt (self->sock, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof reconnect_max);
    if (zhub_bus_auth_apply (auth, self->sock) || zmq_connect (self->sock, endpoint)) {
        zhub_client_destroy (&self);
        return NULL;
    }
    self->last_send_ms = zhub_mono_ms ();
    return self;
}

void
zhub_client_destroy (zhub_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_client_t *self = *self_p;
    //  hand in-flight deliveries back at once rather than after their ack
    //  deadline; the linger below gives these frames time to leave
    for (size_t i = 0; i < self->join_count && self->sock && self->hello_sent; i++) {
        zhub_frame_t *leave = zhub_frame_new (ZHUB_CMD_LEAVE);
        leave->group = zhub_strdup (self->joins[i]->group);
        s_send_raw (self, leave, 0);
        zhub_frame_destroy (&leave);
    }
    if (self->sock)
        zmq_close (self->sock);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    for (size_t i = 0; i < self->queue_count; i++)
        zhub_frame_destroy (&self->queue[(self->queue_head + i) % self->queue_cap]);
    free (self->queue);
    for (size_t i = 0; i < self->join_count; i++)
        zhub_frame_destroy (&self->joins[i]);
    free (self->joins);
    free (self->name);
    free (self->endpoint);
    free (self->instance);
    free (self);
    *self_p = NULL;
}

//  Sends one frame, waiting up to timeout_ms for the socket to accept it
//  (with ZMQ_IMMEDIATE it does not while no connection is up). Returns 0,
//  or -1 (errno EAGAIN: not accepted in time; EINTR: interrupted;
//  EMSGSIZE: the frame is over ZHUB_FRAME_MAX_SIZE).
static int
s_send_raw (zhub_client_t *self, const zhub_frame_t *frame, int timeout_ms)
{
    uint8_t *buf;
    size_t size;
    if (zhub_frame_encode (frame, &buf, &size)) {
        errno = EINVAL;
        return -1;
    }
    //  the broker drops a connection that sends an oversized message, so
    //  never send one
    if (size > ZHUB_FRAME_MAX_SIZE) {
        free (buf);
        errno = EMSGSIZE;
        return -1;
    }
    //  Straight away when the pipe has room (the usual case: no poll, no
    //  extra system calls); else wait for room up to timeout_ms.
    int rc = zmq_send (self->sock, buf, size, ZMQ_DONTWAIT) < 0 ? -1 : 0;
    if (rc && errno == EAGAIN && timeout_ms > 0) {
        zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLOUT, 0};
        rc = zmq_poll (&item, 1, timeout_ms);
        if (rc == 0) {
            errno = EAGAIN;
            rc = -1;
        }
        if (rc > 0)
            rc = zmq_send (self->sock, buf, size, ZMQ_DONTWAIT) < 0 ? -1 : 0;
        else if (rc < 0 && errno == EAGAIN) {
            //  No connection came up in all that time. libzmq retries a
            //  broker that is down by itself, but not one that refused our
            //  key (CURVE, ZAP 400): connect anew, so that a key allowed
            //  later (zhub keys new) is tried again
            zmq_disconnect (self->sock, self->endpoint);
            zmq_connect (self->sock, self->endpoint);
            errno = EAGAIN;
        }
    }
    int error = errno;
    free (buf);
    if (rc == 0)
        self->last_send_ms = zhub_mono_ms ();
    errno = error;
    return rc < 0 ? -1 : 0;
}

static int
s_send (zhub_client_t *self, const zhub_frame_t *frame, int timeout_ms)
{
    if (!self->hello_sent) {
        zhub_frame_t *hello = zhub_frame_new (ZHUB_CMD_HELLO);
        hello->version = ZHUB_PROTO_VERSION;
        hello->name = zhub_strdup (self->name);
        hello->instance = zhub_strdup (self->instance);
        int rc = s_send_raw (self, hello, timeout_ms);
        zhub_frame_destroy (&hello);
        if (rc)
            return -1; //  not connected: the frame would not go either
        self->hello_sent = true;
    }
    return s_send_raw (self, frame, timeout_ms);
}

//  Waits up to timeout_ms for one frame. Undecodable frames are dropped.
static s_wait_t
s_recv (zhub_client_t *self, int timeout_ms, zhub_frame_t **frame)
{
    int64_t deadline = zhub_mono_ms () + (timeout_ms < 0 ? 0 : timeout_ms);
    while (true) {
        //  A frame already queued is taken without polling (a burst of
        //  PUBACKs costs one poll, not one each); poll only when none is.
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->sock, ZMQ_DONTWAIT) < 0) {
            int error = errno;
            zmq_msg_close (&msg);
            if (error != EAGAIN)
                return S_FAULT; //  EINTR (a signal) or a dead context
            int64_t remaining = deadline - zhub_mono_ms ();
            zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
            int rc = zmq_poll (&item, 1, remaining > 0 ? (long)remaining : 0);
            if (rc < 0)
                return S_FAULT;
            if (rc == 0)
                return S_TIMEOUT;
            continue;
        }
        bool more = zmq_msg_more (&msg);
        *frame =
            more ? NULL : zhub_frame_decode (zmq_msg_data (&msg), zmq_msg_size (&msg), NULL, 0);
        zmq_msg_close (&msg);
        while (more) {
            zmq_msg_init (&msg);
            zmq_msg_recv (&msg, self->sock, 0);
            more = zmq_msg_more (&msg);
            zmq_msg_close (&msg);
        }
        if (*frame)
            return S_FRAME;
    }
}

static bool
s_pong_lists (const zhub_frame_t *pong, const char *group)
{
    for (size_t i = 0; i < pong->topic_count; i++)
        if (!strcmp (pong->topics[i], group))
            return true;
    return false;
}

//  A PONG that does not list a group we joined means the broker forgot us
//  (restart, or we were silent too long): join again, without waiting.
static void
s_on_pong (zhub_client_t *self, const zhub_frame_t *pong)
{
    for (size_t i = 0; i < self->join_count; i++) {
        zhub_frame_t *join = self->joins[i];
        if (s_pong_lists (pong, join->group))
            continue;
        join->seq = ++self->next_seq;
        s_send (self, join, S_SEND_TIMEOUT_MS);
    }
}

static void
s_queue_push (zhub_client_t *self, zhub_frame_t *frame)
{
    if (self->queue_count == self->queue_cap) {
        size_t cap = self->queue_cap ? self->queue_cap * 2 : 16;
        zhub_frame_t **queue = zhub_calloc (cap, sizeof (zhub_frame_t *));
        for (size_t i = 0; i < self->queue_count; i++)
            queue[i] = self->queue[(self->queue_head + i) % self->queue_cap];
        free (self->queue);
        self->queue = queue;
        self->queue_cap = cap;
        self->queue_head = 0;
    }
    self->queue[(self->queue_head + self->queue_count++) % self->queue_cap] = frame;
}

static zhub_frame_t *
s_queue_pop (zhub_client_t *self)
{
    if (!self->queue_count)
        return NULL;
    zhub_frame_t *frame = self->queue[self->queue_head];
    self->queue[self->queue_head] = NULL;
    self->queue_head = (self->queue_head + 1) % self->queue_cap;
    self->queue_count--;
    return frame;
}

//  A frame nobody is waiting for right now. Takes ownership.
static void
s_absorb (zhub_client_t *self, zhub_frame_t *frame)
{
    if (frame->cmd == ZHUB_CMD_DELIVER) {
        s_queue_push (self, frame);
        return;
    }
    if (frame->cmd == ZHUB_CMD_PONG)
        s_on_pong (self, frame);
    //  anything else is an answer to a call that gave up waiting, a JOINED
    //  for a re-join, or an ERROR for an ack: nothing to do
    zhub_frame_destroy (&frame);
}

typedef bool (s_match_fn) (const zhub_frame_t *frame, void *arg);

//  Waits until a frame that match() accepts arrives, absorbing the rest.
//  Returns ZHUB_OK with *out, ZHUB_RETRY at the deadline, ZHUB_ERROR when
//  interrupted.
static zhub_rc_t
s_await (zhub_client_t *self, int64_t deadline, s_match_fn *match, void *arg, zhub_frame_t **out)
{
    while (true) {
        int64_t remaining = deadline - zhub_mono_ms ();
        if (remaining <= 0)
            return ZHUB_RETRY;
        zhub_frame_t *frame = NULL;
        s_wait_t wait = s_recv (self, (int)remaining, &frame);
        if (wait == S_FAULT)
            return ZHUB_ERROR;
        if (wait == S_TIMEOUT)
            return ZHUB_RETRY;
        if (match (frame, arg)) {
            *out = frame;
            return ZHUB_OK;
        }
        s_absorb (self, frame);
    }
}

typedef struct {
    zhub_cmd_t cmd;
    uint64_t seq;
} s_answer_t;

//  The answer to request seq: the expected command or an ERROR with seq.
static bool
s_match_answer (const zhub_frame_t *frame, void *arg)
{
    s_answer_t *answer = arg;
    return (frame->cmd == answer->cmd || frame->cmd == ZHUB_CMD_ERROR) && frame->seq == answer->seq;
}

//  503 and 401 pass: the broker could not store it, or does not allow our
//  key now (it may be allowed again); nothing is lost by trying later.
static zhub_rc_t
s_error_rc (const zhub_frame_t *error)
{
    return error->code == ZHUB_ERR_STORAGE || error->code == ZHUB_ERR_UNAUTHORIZED ? ZHUB_RETRY
                                                                                   : ZHUB_REJECT;
}

zhub_rc_t
zhub_client_publish (zhub_client_t *self, const zhub_msg_t *msg, int timeout_ms, zhub_puback_t *ack,
                     char *err, size_t err_size)
{
    s_set_err (err, err_size, "");
    int64_t deadline = zhub_mono_ms () + timeout_ms;
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_PUBLISH);
    if (zhub_msg_encode (msg, &frame->msg, &frame->msg_size, err, err_size)) {
        zhub_frame_destroy (&frame);
        return ZHUB_REJECT;
    }
    frame->seq = ++self->next_seq;
    s_answer_t answer = {ZHUB_CMD_PUBACK, frame->seq};
    int rc = s_send (self, frame, timeout_ms);
    int error = errno;
    zhub_frame_destroy (&frame);
    if (rc) {
        s_set_err (err, err_size,
                   error == EMSGSIZE ? "message is over the frame size limit"
                                     : "broker not reachable");
        return error == EMSGSIZE ? ZHUB_REJECT : ZHUB_RETRY;
    }
    zhub_frame_t *reply = NULL;
    zhub_rc_t result = s_await (self, deadline, s_match_answer, &answer, &reply);
    if (result != ZHUB_OK) {
        s_set_err (err, err_size, "no confirmation from the broker in time");
        return ZHUB_RETRY;
    }
    if (reply->cmd == ZHUB_CMD_PUBACK) {
        if (ack) {
            ack->offset = reply->offset;
            ack->duplicate = reply->duplicate;
        }
    } else {
        result = s_error_rc (reply);
        s_set_err (err, err_size, reply->reason ? reply->reason : "refused by the broker");
    }
    zhub_frame_destroy (&reply);
    return result;
}

typedef struct {
    uint64_t first, count;
} s_range_t;

static bool
s_match_range (const zhub_frame_t *frame, void *arg)
{
    s_range_t *range = arg;
    return (frame->cmd == ZHUB_CMD_PUBACK || frame->cmd == ZHUB_CMD_ERROR)
           && frame->seq >= range->first && frame->seq < range->first + range->count;
}

zhub_rc_t
zhub_client_publish_many (zhub_client_t *self, zhub_msg_t *const *msgs, size_t count,
                          int timeout_ms, zhub_rc_t *results)
{
    int64_t deadline = zhub_mono_ms () + timeout_ms;
    s_range_t range = {self->next_seq + 1, count};
    self->next_seq += count;
    size_t waiting = 0;
    bool *open = zhub_calloc (count ? count : 1, sizeof (bool));
    for (size_t i = 0; i < count; i++) {
        results[i] = ZHUB_RETRY;
        zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_PUBLISH);
        frame->seq = range.first + i;
        if (zhub_msg_encode (msgs[i], &frame->msg, &frame->msg_size, NULL, 0))
            results[i] = ZHUB_REJECT;
        else {
            int64_t remaining = deadline - zhub_mono_ms ();
            if (s_send (self, frame, remaining > 0 ? (int)remaining : 0) == 0) {
                open[i] = true;
                waiting++;
            } else if (errno == EMSGSIZE)
                results[i] = ZHUB_REJECT;
        }
        zhub_frame_destroy (&frame);
    }
    while (waiting) {
        zhub_frame_t *reply = NULL;
        if (s_await (self, deadline, s_match_range, &range, &reply) != ZHUB_OK)
            break;
        size_t i = reply->seq - range.first;
        if (open[i]) {
            open[i] = false;
            waiting--;
            results[i] = reply->cmd == ZHUB_CMD_PUBACK ? ZHUB_OK : s_error_rc (reply);
        }
        zhub_frame_destroy (&reply);
    }
    free (open);
    zhub_rc_t overall = ZHUB_OK;
    for (size_t i = 0; i < count; i++) {
        if (results[i] == ZHUB_REJECT)
            overall = ZHUB_REJECT;
        else if (results[i] != ZHUB_OK && overall == ZHUB_OK)
            overall = ZHUB_RETRY;
    }
    return overall;
}

static void
s_remember_join (zhub_client_t *self, zhub_frame_t *join)
{
    for (size_t i = 0; i < self->join_count; i++) {
        if (!strcmp (self->joins[i]->group, join->group)) {
            zhub_frame_destroy (&self->joins[i]);
            self->joins[i] = join;
            return;
        }
    }
    self->joins = zhub_realloc (self->joins, (self->join_count + 1) * sizeof (zhub_frame_t *));
    self->joins[self->join_count++] = join;
}

zhub_rc_t
zhub_client_join (zhub_client_t *self, const zhub_join_t *join, int timeout_ms)
{
    if (!join || !join->group || !join->topic_count || join->topic_count > ZHUB_FRAME_MAX_TOPICS
        || join->backoff_count > ZHUB_FRAME_MAX_BACKOFF)
        return ZHUB_REJECT;
    int64_t deadline = zhub_mono_ms () + timeout_ms;
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_JOIN);
    frame->group = zhub_strdup (join->group);
    for (size_t i = 0; i < join->topic_count; i++)
        zhub_frame_add_topic (frame, join->topics[i]);
    frame->credit = join->credit ? join->credit : 1;
    frame->max_deliveries = join->max_deliveries;
    frame->ack_deadline_ms = join->ack_deadline_ms;
    for (size_t i = 0; i < join->backoff_count; i++)
        frame->backoff_ms[i] = join->backoff_ms[i];
    frame->backoff_count = join->backoff_count;
    frame->start = zhub_strdup (join->start);
    frame->seq = ++self->next_seq;
    s_answer_t answer = {ZHUB_CMD_JOINED, frame->seq};
    if (s_send (self, frame, timeout_ms)) {
        zhub_frame_destroy (&frame);
        return ZHUB_RETRY;
    }
    zhub_frame_t *reply = NULL;
    zhub_rc_t rc = s_await (self, deadline, s_match_answer, &answer, &reply);
    if (rc != ZHUB_OK) {
        zhub_frame_destroy (&frame);
        return ZHUB_RETRY;
    }
    rc = reply->cmd == ZHUB_CMD_JOINED ? ZHUB_OK : s_error_rc (reply);
    zhub_frame_destroy (&reply);
    if (rc == ZHUB_OK)
        s_remember_join (self, frame);
    else
        zhub_frame_destroy (&frame);
    return rc;
}

static void
s_ping (zhub_client_t *self, int timeout_ms)
{
    zhub_frame_t *ping = zhub_frame_new (ZHUB_CMD_PING);
    if (s_send (self, ping, timeout_ms))
        self->last_send_ms = zhub_mono_ms (); //  not connected: try again in an interval
    zhub_frame_destroy (&ping);
}

//  Turns a DELIVER frame into a delivery; NULL when its envelope cannot be
//  decoded (the broker only stores valid envelopes, so this means a
//  broken peer: the message is refused for good so that it is seen in the
//  dead letters instead of blocking its subject).
static zhub_delivery_t *
s_delivery (zhub_client_t *self, zhub_frame_t *frame)
{
    char err[200];
    zhub_msg_t *msg =
        zhub_msg_decode (frame->msg, frame->msg_size, &zhub_msg_stored_limits, err, sizeof err);
    if (!msg) {
        zhub_frame_t *nack = zhub_frame_new (ZHUB_CMD_NACK);
        nack->tag = frame->tag;
        nack->terminal = true;
        nack->code = ZHUB_ERR_MALFORMED;
        nack->reason = zhub_sprintf ("client could not decode the envelope: %s", err);
        s_send (self, nack, S_SEND_TIMEOUT_MS);
        zhub_frame_destroy (&nack);
        return NULL;
    }
    zhub_delivery_t *delivery = zhub_calloc (1, sizeof *delivery);
    delivery->group = frame->group;
    frame->group = NULL;
    delivery->tag = frame->tag;
    delivery->offset = frame->offset;
    delivery->attempt = frame->attempt;
    delivery->msg = msg;
    return delivery;
}

zhub_rc_t
zhub_client_recv (zhub_client_t *self, zhub_delivery_t **delivery, int timeout_ms)
{
    int64_t deadline = zhub_mono_ms () + (timeout_ms < 0 ? 0 : timeout_ms);
    //  The socket is read at least once, even with no time to wait: a
    //  timeout of 0 must still see deliveries that have already arrived.
    bool socket_empty = false;
    while (true) {
        zhub_frame_t *frame = s_queue_pop (self);
        if (frame) {
            *delivery = s_delivery (self, frame);
            zhub_frame_destroy (&frame);
            if (*delivery)
                return ZHUB_OK;
            continue;
        }
        int64_t now = zhub_mono_ms ();
        if (now - self->last_send_ms >= ZHUB_HEARTBEAT_MS)
            s_ping (self, 0);
        if (now >= deadline && socket_empty)
            return ZHUB_NOTFOUND;
        int64_t wait = deadline - now;
        int64_t beat = self->last_send_ms + ZHUB_HEARTBEAT_MS - now;
        if (beat < wait)
            wait = beat > 0 ? beat : 0;
        s_wait_t result = s_recv (self, (int)wait, &frame);
        if (result == S_FAULT)
            return ZHUB_ERROR;
        if (result == S_FRAME)
            s_absorb (self, frame);
        else
            socket_empty = true;
    }
}

int
zhub_client_ack (zhub_client_t *self, const zhub_delivery_t *delivery)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_ACK);
    frame->tag = delivery->tag;
    int rc = s_send (self, frame, S_SEND_TIMEOUT_MS);
    zhub_frame_destroy (&frame);
    return rc;
}

static int
s_nack (zhub_client_t *self, const zhub_delivery_t *delivery, int64_t delay_ms, bool terminal,
        bool defer, uint32_t code, const char *reason)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_NACK);
    frame->tag = delivery->tag;
    frame->delay_ms = delay_ms < 0 ? -1 : delay_ms;
    frame->terminal = terminal;
    frame->defer = defer;
    frame->code = code;
    if (reason) {
        //  the broker refuses reasons over 4096 bytes; it keeps 512 anyway
        size_t len = strlen (reason);
        if (len > 4096)
            len = 4096;
        while (len > 0 && len < strlen (reason) && ((unsigned char)reason[len] & 0xc0) == 0x80)
            len--;
        frame->reason = zhub_malloc (len + 1);
        memcpy (frame->reason, reason, len);
        frame->reason[len] = 0;
    }
    int rc = s_send (self, frame, S_SEND_TIMEOUT_MS);
    zhub_frame_destroy (&frame);
    return rc;
}

int
zhub_client_nack (zhub_client_t *self, const zhub_delivery_t *delivery, int64_t delay_ms,
                  bool terminal, uint32_t code, const char *reason)
{
    return s_nack (self, delivery, delay_ms, terminal, false, code, reason);
}

int
zhub_client_defer (zhub_client_t *self, const zhub_delivery_t *delivery, int64_t delay_ms,
                   uint32_t code, const char *reason)
{
    return s_nack (self, delivery, delay_ms, false, true, code, reason);
}

static bool
s_match_pong (const zhub_frame_t *frame, void *arg)
{
    (void)arg;
    return frame->cmd == ZHUB_CMD_PONG;
}

zhub_rc_t
zhub_client_ping (zhub_client_t *self, int timeout_ms)
{
    int64_t deadline = zhub_mono_ms () + timeout_ms;
    zhub_frame_t *ping = zhub_frame_new (ZHUB_CMD_PING);
    int rc = s_send (self, ping, timeout_ms);
    zhub_frame_destroy (&ping);
    if (rc)
        return ZHUB_RETRY;
    zhub_frame_t *pong = NULL;
    if (s_await (self, deadline, s_match_pong, NULL, &pong) != ZHUB_OK)
        return ZHUB_RETRY;
    s_on_pong (self, pong);
    zhub_frame_destroy (&pong);
    return ZHUB_OK;
}

zhub_rc_t
zhub_client_stats (zhub_client_t *self, int timeout_ms, json_t **stats)
{
    int64_t deadline = zhub_mono_ms () + timeout_ms;
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_STATS);
    frame->seq = ++self->next_seq;
    s_answer_t answer = {ZHUB_CMD_STATS_REPLY, frame->seq};
    int rc = s_send (self, frame, timeout_ms);
    zhub_frame_destroy (&frame);
    if (rc)
        return ZHUB_RETRY;
    zhub_frame_t *reply = NULL;
    if (s_await (self, deadline, s_match_answer, &answer, &reply) != ZHUB_OK)
        return ZHUB_RETRY;
    zhub_rc_t result = ZHUB_RETRY;
    msgpack_unpacked unpacked;
    if (reply->cmd == ZHUB_CMD_STATS_REPLY
        && zhub_mpack_decode (reply->msg, reply->msg_size, &s_stats_limits, &unpacked, NULL, 0)
               == 0) {
        *stats = zhub_json_from_mpack (&unpacked.data);
        msgpack_unpacked_destroy (&unpacked);
        result = *stats ? ZHUB_OK : ZHUB_RETRY;
    }
    zhub_frame_destroy (&reply);
    return result;
}

//  One operator request answered by GROUP_OK or ERROR.
static zhub_rc_t
s_group_request (zhub_client_t *self, zhub_frame_t *frame, int timeout_ms, uint64_t *floor,
                 char *err, size_t err_size)
{
    int64_t deadline = zhub_mono_ms () + timeout_ms;
    frame->seq = ++self->next_seq;
    s_answer_t answer = {ZHUB_CMD_GROUP_OK, frame->seq};
    int rc = s_send (self, frame, timeout_ms);
    zhub_frame_destroy (&frame);
    if (rc) {
        s_set_err (err, err_size, "broker not reachable");
        return ZHUB_RETRY;
    }
    zhub_frame_t *reply = NULL;
    if (s_await (self, deadline, s_match_answer, &answer, &reply) != ZHUB_OK) {
        s_set_err (err, err_size, "no answer from the broker");
        return ZHUB_RETRY;
    }
    zhub_rc_t result = ZHUB_OK;
    if (reply->cmd == ZHUB_CMD_ERROR) {
        s_set_err (err, err_size, reply->reason);
        result = reply->code == ZHUB_ERR_NOT_JOINED ? ZHUB_NOTFOUND : s_error_rc (reply);
    } else if (floor)
        *floor = reply->offset;
    zhub_frame_destroy (&reply);
    return result;
}

zhub_rc_t
zhub_client_group_set (zhub_client_t *self, const char *group,
                       const zhub_group_settings_t *settings, int timeout_ms, char *err,
                       size_t err_size)
{
    if (!group || !settings || settings->backoff_count > ZHUB_FRAME_MAX_BACKOFF) {
        s_set_err (err, err_size, "invalid arguments");
        return ZHUB_REJECT;
    }
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_GROUP_SET);
    frame->group = zhub_strdup (group);
    frame->max_deliveries = settings->max_deliveries;
    frame->ack_deadline_ms = settings->ack_deadline_ms;
    for (size_t i = 0; i < settings->backoff_count; i++)
        frame->backoff_ms[i] = settings->backoff_ms[i];
    frame->backoff_count = settings->backoff_count;
    frame->max_in_flight = settings->max_in_flight;
    return s_group_request (self, frame, timeout_ms, NULL, err, err_size);
}

zhub_rc_t
zhub_client_group_reset (zhub_client_t *self, const char *group, uint64_t offset, int64_t time_ms,
                         int timeout_ms, uint64_t *floor, char *err, size_t err_size)
{
    if (!group) {
        s_set_err (err, err_size, "invalid arguments");
        return ZHUB_REJECT;
    }
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_GROUP_RESET);
    frame->group = zhub_strdup (group);
    frame->offset = offset;
    frame->time_ms = time_ms;
    return s_group_request (self, frame, timeout_ms, floor, err, err_size);
}

int
zhub_client_set_instance (zhub_client_t *self, const char *instance)
{
    //  the same alphabet and length as a key name
    if (!zhub_key_name_valid (instance))
        return -1;
    free (self->instance);
    self->instance = zhub_strdup (instance);
    return 0;
}

int
zhub_tap_endpoint_for (const char *endpoint, char *out, size_t size)
{
    out[0] = 0;
    if (!endpoint)
        return -1;
    if (!strncmp (endpoint, "ipc://", 6)) {
        snprintf (out, size, "%s.tap", endpoint);
        return 0;
    }
    const char *colon = strrchr (endpoint, ':');
    if (strncmp (endpoint, "tcp://", 6) || !colon || colon < endpoint + 6)
        return -1;
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (*end || port <= 0 || port >= 65535)
        return -1;
    snprintf (out, size, "%.*s:%ld", (int)(colon - endpoint), endpoint, port + 1);
    return 0;
}
