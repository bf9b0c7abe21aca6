//  The gateway's way onto the bus: a few publisher threads, each with its
//  own broker client, shared by every request thread. A request hands its
//  messages over and waits; a publisher takes everything queued at that
//  moment (many requests' messages) and publishes it pipelined in one go,
//  so the broker commits them in one transaction and one PUBACK round trip
//  serves many requests. This is group commit carried through the gateway:
//  with a client per request thread, every request paid its own round trip
//  and the threads of ZeroMQ contexts outnumbered the cores.
#ifndef ZHUB_GATEWAY_PUBLISHER_H
#define ZHUB_GATEWAY_PUBLISHER_H

#include "zhub_common.h"
#include "zhub_msg.h"

typedef struct zhub_publisher_t zhub_publisher_t;

//  Most messages one publisher sends in one batch.
#define ZHUB_PUBLISHER_BATCH_MAX 256

//  Starts threads publishers, each connected to endpoint. Returns NULL when
//  a thread cannot start.
zhub_publisher_t *zhub_publisher_new (const char *endpoint, int threads);

//  Stops the threads (each finishes its batch first); NULL-safe.
void zhub_publisher_destroy (zhub_publisher_t **self_p);

//  Publishes count messages (not taken over; they must stay valid until it
//  returns) and waits for their confirmations; results[i] as in
//  zhub_client_publish_many. Returns ZHUB_OK when all are confirmed,
//  ZHUB_REJECT when any was refused, else ZHUB_RETRY. The wait is bounded
//  by timeout_ms while the messages are queued and by the publisher's own
//  timeout (the same) once they are sent. Thread-safe.
zhub_rc_t zhub_publisher_publish (zhub_publisher_t *self, zhub_msg_t *const *msgs, size_t count,
                                  int timeout_ms, zhub_rc_t *results);

#endif
