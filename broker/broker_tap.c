//  The tap: a best-effort mirror of committed messages for dashboards and
//  `zhub tail`. An XPUB socket, so the broker knows whether anyone listens
//  and reads nothing back when nobody does. Each message is two frames:
//  the topic (for ZeroMQ prefix subscriptions) and a msgpack map
//  {cmd: "TAP", offset, msg}. A subscriber that falls behind loses
//  messages (the socket's high-water mark); the broker never waits.
#include "broker_tap.h"

#include "zhub_mpack.h"

#include <zmq.h>

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
        if (zmq_msg_size (&msg) >= 1 && data[0] == 1)
            self->tap_subscriptions++;
        else if (zmq_msg_size (&msg) >= 1 && data[0] == 0 && self->tap_subscriptions)
            self->tap_subscriptions--;
        zmq_msg_close (&msg);
    }
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
