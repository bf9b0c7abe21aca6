//  The tap: a best-effort mirror of committed messages for dashboards and
//  `zhub tail`. An XPUB socket, so the broker knows whether anyone listens
//  and reads nothing back when nobody does. Each message is two frames:
//  the topic (for ZeroMQ prefix subscriptions) and a msgpack map
//  {cmd: "TAP", offset, msg}. A subscriber that falls behind loses
//  messages (the socket's high-water mark); the broker never waits.
//
//  The XPUB is manual (ZMQ_XPUB_MANUAL): a subscription takes effect only
//  when the broker applies it, and with CURVE it applies only those its
//  key may hold (zhub_key_may_tap: every topic under the prefix lies
//  within the key's consume patterns). A refused subscription gets nothing
//  and no answer; an XPUB has no way to tell a subscriber.
#include "broker_tap.h"

#include "zhub_log.h"
#include "zhub_mpack.h"

#include <stdio.h>
#include <unistd.h>
#include <zmq.h>

#define S_REBIND_TRIES 200   //  the old listener closes asynchronously
#define S_REBIND_PAUSE_US 5000

//  May the connection behind msg (its User-Id) hold this subscription?
static bool
s_may_subscribe (broker_server_t *self, zmq_msg_t *msg, const uint8_t *prefix, size_t size)
{
    if (self->config.security == ZHUB_BUS_PLAIN)
        return true;
    const char *user = zmq_msg_gets (msg, "User-Id");
    const zhub_key_t *key = user ? broker_keys_find (self->keys, user) : NULL;
    bool allowed = key && zhub_key_may_tap (key, prefix, size);
    if (!allowed) {
        char shown[80];
        snprintf (shown, sizeof shown, "%.*s", (int)(size < 60 ? size : 60), (const char *)prefix);
        char safe[100];
        zhub_info ("tap_refused", "key=%s prefix=%s", key ? key->name : "unknown",
                   zhub_log_quote (shown, safe, sizeof safe));
    }
    return allowed;
}

void
broker_tap_subscriptions (broker_server_t *self)
{
    while (true) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->tap, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            return;
        }
        const uint8_t *data = zmq_msg_data (&msg);
        size_t size = zmq_msg_size (&msg);
        //  applied to the connection this notice came from (the last one read)
        if (size >= 1 && data[0] == 1 && s_may_subscribe (self, &msg, data + 1, size - 1)) {
            zmq_setsockopt (self->tap, ZMQ_SUBSCRIBE, data + 1, size - 1);
            self->tap_subscriptions++;
        } else if (size >= 1 && data[0] == 0) {
            //  also sent for subscriptions never applied, and for those of
            //  connections that closed: the count is a close estimate
            zmq_setsockopt (self->tap, ZMQ_UNSUBSCRIBE, data + 1, size - 1);
            if (self->tap_subscriptions)
                self->tap_subscriptions--;
        }
        zmq_msg_close (&msg);
    }
}

void
broker_tap_rebind (broker_server_t *self)
{
    if (!self->tap)
        return;
    //  unbinding ends the listener and every connection it accepted
    zmq_unbind (self->tap, self->tap_endpoint);
    for (int i = 0; i < S_REBIND_TRIES; i++) {
        if (zmq_bind (self->tap, self->tap_endpoint) == 0) {
            zhub_info ("tap_rebound", "endpoint=%s reason=\"a key was revoked\"",
                       self->tap_endpoint);
            return;
        }
        usleep (S_REBIND_PAUSE_US);
    }
    zhub_error ("tap_rebind_failed", "endpoint=%s error=\"%s\"", self->tap_endpoint,
                zmq_strerror (errno));
}

typedef struct {
    broker_server_t *self;
    uint64_t from, to;
} s_tap_t;

static zhub_rc_t
s_tap_txn (zhub_txn_t *txn, void *arg)
{
    s_tap_t *tap = arg;
    broker_server_t *self = tap->self;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    for (uint64_t offset = tap->from; offset <= tap->to; offset++) {
        broker_record_t record;
        if (broker_log_read (self->log, txn, offset, &record) != ZHUB_OK)
            continue;
        msgpack_sbuffer_clear (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, 3);
        zhub_mpack_pack_kv_str (&pk, "cmd", "TAP");
        zhub_mpack_pack_str (&pk, "offset");
        msgpack_pack_uint64 (&pk, offset);
        zhub_mpack_pack_str (&pk, "msg");
        msgpack_pack_bin (&pk, record.msg_size);
        msgpack_pack_bin_body (&pk, record.msg, record.msg_size);
        if (zmq_send (self->tap, record.topic, strlen (record.topic), ZMQ_SNDMORE | ZMQ_DONTWAIT)
                < 0
            || zmq_send (self->tap, sbuf.data, sbuf.size, ZMQ_DONTWAIT) < 0)
            break; //  best effort: never wait for a listener
        self->tapped++;
    }
    msgpack_sbuffer_destroy (&sbuf);
    return ZHUB_OK;
}

void
broker_tap_send (broker_server_t *self, uint64_t from, uint64_t to)
{
    if (!self->tap)
        return;
    broker_tap_subscriptions (self);
    if (self->tap_subscriptions == 0)
        return;
    s_tap_t tap = {self, from, to};
    zhub_store_read (self->store, s_tap_txn, &tap);
}
