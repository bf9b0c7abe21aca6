//  The client library for the bus: one DEALER socket to the broker, used by
//  the gateway, the actors, the CLI and any other C service. Not thread-safe:
//  one client per thread.
//
//  Publishing is confirmed: zhub_client_publish returns ZHUB_OK only once
//  the broker answered PUBACK, i.e. the message is committed to the log.
//  Consuming: join a group, then zhub_client_recv deliveries and ack or
//  nack each one. Heartbeats and re-joining after a broker restart happen
//  inside the calls; see proto/PROTOCOL.md.
#ifndef ZHUB_CLIENT_H
#define ZHUB_CLIENT_H

#include "zhub_bus_auth.h"
#include "zhub_common.h"
#include "zhub_frame.h"
#include "zhub_msg.h"

#include <jansson.h>

typedef struct zhub_client_t zhub_client_t;

//  Default broker endpoint when $ZHUB_BROKER is not set.
#define ZHUB_BROKER_DEFAULT "tcp://127.0.0.1:7450"

//  The broker's tap (a PUB mirror of committed messages) when $ZHUB_BROKER_TAP
//  is not set: the broker endpoint's port + 1 (tcp://127.0.0.1:7451 by
//  default), or <path>.tap for ipc://<path>. Fills out and returns 0, or
//  -1 when the endpoint has no such neighbour.
int zhub_tap_endpoint_for (const char *broker_endpoint, char *out, size_t size);

//  Heartbeat interval: a client sends PING when it has sent nothing for
//  this long; the broker forgets a member silent for 10 intervals.
#define ZHUB_HEARTBEAT_MS 1000

typedef struct {
    uint64_t offset;     //  position in the broker's log
    bool duplicate;      //  the id was already stored (dedup window)
} zhub_puback_t;

typedef struct {
    const char *group;           //  consumer group name, e.g. "contact-sync"
    const char *const *topics;   //  subscription patterns ("webhook.bird.>")
    size_t topic_count;
    uint32_t credit;             //  max deliveries in flight to this member (0 = 1)
    //  Group settings, used when this join creates the group (0 = broker default)
    uint32_t max_deliveries;
    int64_t ack_deadline_ms;
    const int64_t *backoff_ms;
    size_t backoff_count;
    const char *start;           //  "earliest" (default) or "latest"
} zhub_join_t;

typedef struct {
    char *group;
    uint64_t tag;        //  quote it in ack/nack; fences late acks
    uint64_t offset;
    uint32_t attempt;    //  1 on the first delivery
    zhub_msg_t *msg;
} zhub_delivery_t;

void zhub_delivery_destroy (zhub_delivery_t **self_p);

//  Creates a client connected (asynchronously) to endpoint; name appears in
//  the broker's logs and stats. auth says how it authenticates: its CURVE
//  keys and the broker's public key, read once by the caller
//  (zhub_bus_auth_load); NULL or plain for none (a broker on loopback).
//  Sets ZMQ_MAXMSGSIZE, heartbeats, linger and ZMQ_IMMEDIATE. Returns NULL
//  when the endpoint is invalid or libzmq refused the keys. A broker that
//  refuses the keys is not seen here: the connection never comes up, so
//  calls time out (ZHUB_RETRY); a key it no longer allows gets ERROR 401
//  (ZHUB_RETRY: it may be allowed again), and what the key may not do
//  ERROR 403 (ZHUB_REJECT).
zhub_client_t *zhub_client_new (const char *endpoint, const char *name,
                                const zhub_bus_auth_t *auth);

//  The stable id of this replica of a consumer (PROTOCOL.md 7.8), sent in
//  HELLO: the broker delivers broadcast topics to every replica of a group
//  and keeps each one's place by this id across restarts. At most
//  ZHUB_FRAME_MAX_INSTANCE bytes of [A-Za-z0-9_-]; set it before the first
//  call that talks to the broker. Returns 0, or -1 for an invalid id.
int zhub_client_set_instance (zhub_client_t *self, const char *instance);

//  Closes the socket (waits up to 1 s for unsent frames); NULL-safe.
void zhub_client_destroy (zhub_client_t **self_p);

//  Publishes one message and waits for the broker's confirmation.
//  Returns ZHUB_OK (with *ack filled when ack is not NULL), ZHUB_RETRY when
//  the broker did not confirm in time or could not store (the message may
//  or may not be stored: publish again with the same id, dedup makes it
//  safe), ZHUB_REJECT when the broker refused the message as invalid (err
//  says why). err may be NULL.
zhub_rc_t zhub_client_publish (zhub_client_t *self, const zhub_msg_t *msg, int timeout_ms,
                               zhub_puback_t *ack, char *err, size_t err_size);

//  Publishes count messages pipelined and waits for every confirmation:
//  the broker can commit them in one transaction. results[i] gets each
//  message's outcome as above. Returns ZHUB_OK when all are confirmed,
//  ZHUB_REJECT when any was refused, else ZHUB_RETRY.
zhub_rc_t zhub_client_publish_many (zhub_client_t *self, zhub_msg_t *const *msgs, size_t count,
                                    int timeout_ms, zhub_rc_t *results);

//  Joins a consumer group and waits for JOINED. The client remembers the
//  join and repeats it when the broker no longer knows it (restart).
//  Returns ZHUB_OK, ZHUB_RETRY (no answer in time) or ZHUB_REJECT.
zhub_rc_t zhub_client_join (zhub_client_t *self, const zhub_join_t *join, int timeout_ms);

//  Waits up to timeout_ms for the next delivery, keeping heartbeats going.
//  Returns ZHUB_OK with *delivery (caller destroys it), ZHUB_NOTFOUND when
//  the time ran out, ZHUB_ERROR when interrupted (signal) or on a socket
//  fault.
zhub_rc_t zhub_client_recv (zhub_client_t *self, zhub_delivery_t **delivery, int timeout_ms);

//  Acknowledges a delivery: the group will not see that message again.
//  Returns 0, or -1 when the frame could not be sent.
int zhub_client_ack (zhub_client_t *self, const zhub_delivery_t *delivery);

//  Negative acknowledgement. delay_ms >= 0 overrides the group's backoff
//  (an actor passing on a Retry-After); -1 uses the schedule. terminal sends
//  the message straight to dlq.<group>. code and reason go into the
//  failure history. Returns 0, or -1 when the frame could not be sent.
int zhub_client_nack (zhub_client_t *self, const zhub_delivery_t *delivery, int64_t delay_ms,
                      bool terminal, uint32_t code, const char *reason);

//  A NACK that is no attempt (PROTOCOL.md 5.7, defer): redelivered after
//  delay_ms (-1: the broker's default) with the attempt count unchanged,
//  for a message that could not even be tried (its peer is down). Returns
//  what zhub_client_nack returns.
int zhub_client_defer (zhub_client_t *self, const zhub_delivery_t *delivery, int64_t delay_ms,
                       uint32_t code, const char *reason);

//  Round trip PING/PONG. Returns ZHUB_OK when the broker answered in time,
//  ZHUB_RETRY otherwise. Used for readiness checks.
zhub_rc_t zhub_client_ping (zhub_client_t *self, int timeout_ms);

//  Asks the broker for its figures (topics, groups, lag...). Returns ZHUB_OK
//  with *stats (caller decrefs), ZHUB_RETRY on timeout.
zhub_rc_t zhub_client_stats (zhub_client_t *self, int timeout_ms, json_t **stats);

//  Operator commands (zhub group set / reset). Settings to change; a zero
//  field keeps the group's current value.
typedef struct {
    uint32_t max_deliveries;     //  1..1000
    int64_t ack_deadline_ms;     //  >= 100
    const int64_t *backoff_ms;   //  the new schedule (count 0 = keep)
    size_t backoff_count;
    uint32_t max_in_flight;      //  cap on each member's credit; 1000000 removes the cap
} zhub_group_settings_t;

//  Changes a group's settings (GROUP_SET). Returns ZHUB_OK, ZHUB_NOTFOUND
//  (no such group), ZHUB_REJECT (invalid setting; err says why) or
//  ZHUB_RETRY (no answer in time, or the broker could not store it).
zhub_rc_t zhub_client_group_set (zhub_client_t *self, const char *group,
                                 const zhub_group_settings_t *settings, int timeout_ms, char *err,
                                 size_t err_size);

//  Moves a group to offset, or when offset is 0 to the first message
//  stored at or after time_ms (GROUP_RESET): it processes everything from
//  there again. *floor (may be NULL) gets the offset it now starts from.
//  Returns like zhub_client_group_set.
zhub_rc_t zhub_client_group_reset (zhub_client_t *self, const char *group, uint64_t offset,
                                   int64_t time_ms, int timeout_ms, uint64_t *floor, char *err,
                                   size_t err_size);

#endif
