//  Private to the broker's server: the state the loop's files share (the
//  server struct, the ops a turn collects, the peers it knows) and the
//  functions they call in each other. Not part of the broker's API; only
//  broker_server*.c include it.
#ifndef BROKER_SERVER_INTERNAL_H
#define BROKER_SERVER_INTERNAL_H

#include "broker_server.h"
#include "broker_dlq.h"
#include "broker_group.h"
#include "broker_log.h"
#include "broker_map.h"
#include "broker_state.h"
#include "broker_stats.h"
#include "zhub_log.h"
#include "zhub_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define S_SCHEMA_VERSION 1
#define S_DISPATCH_MAX 256    //  deliveries handed out per dispatch round
#define S_DISPATCH_ROUNDS 8   //  rounds per group per turn
#define S_EXPIRE_MAX 256      //  expired deliveries handled per group per turn
#define S_POLL_MAX_MS 200     //  longest sleep (a stop flag set by a thread is seen within it)
#define S_FORGET_INTERVALS 10 //  silent heartbeat intervals before a member is forgotten
#define S_FLOOR_FLUSH_MS 1000 //  floors moved by scanning alone are stored this often
#define S_IDLE_SWEEP_MS 60000 //  dedup sweep when no other write comes along
#define S_LINGER_MS 1000

typedef struct {
    uint8_t id[256]; //  ZeroMQ routing id
    size_t id_size;
    char label[96]; //  printable routing id, for logs and STATS
    int64_t last_seen_ms;
    bool gone; //  unreachable: freed at the end of the turn
} s_client_t;

//  PONG and STATS_REPLY wait for the turn's commit too: a PONG then
//  promises that every ACK/NACK the peer sent before its PING is stored.
typedef enum {
    OP_PUBLISH,
    OP_JOIN,
    OP_ACK,
    OP_ACK_COVERED, //  an ACK below the group's new floor, stored by that floor
    OP_RETRY,
    OP_DEAD,
    OP_GROUP,
    OP_PONG,
    OP_STATS,
    OP_GROUP_OK, //  GROUP_SET / GROUP_RESET answered after the commit
    OP_RESET     //  the group moved: new record, per-message state cleared
} s_kind_t;

typedef struct {
    s_kind_t kind;
    s_client_t *client; //  PUBLISH, JOIN, PONG, STATS, GROUP_OK: who gets the answer
    uint64_t seq;       //  PUBLISH, JOIN, STATS, GROUP_OK
    zhub_msg_t *msg;    //  PUBLISH: decoded envelope
    uint8_t *raw;       //  PUBLISH: envelope bytes as received
    size_t raw_size;
    char *group;       //  all but PUBLISH
    uint64_t offset;   //  ACK, RETRY, DEAD; GROUP_OK, RESET: the group's new floor
    uint32_t attempts; //  RETRY, DEAD
    int64_t due_ms;    //  RETRY
    uint32_t code;     //  RETRY, DEAD
    char *reason;      //  RETRY, DEAD
    const char *cause; //  DEAD: "terminal" or "max_deliveries"
    uint8_t *record;   //  GROUP: the group record to store
    size_t record_size;
    uint64_t from_floor, to_floor; //  GROUP
    //  results of the transaction (rewritten by each run of it)
    uint64_t result_offset;
    bool duplicate;
    bool dlq_failed;
} s_op_t;

struct broker_server_t {
    broker_config_t config;
    zhub_store_t *store;
    broker_log_t *log;
    broker_state_t state;
    broker_groups_t *groups;
    void *ctx, *sock;
    void *tap;                  //  XPUB mirroring committed messages (NULL: off)
    uint64_t tap_subscriptions; //  distinct subscriptions the tap has now
    uint64_t tapped;            //  messages sent on the tap since start
    char endpoint[256], tap_endpoint[256];
    uint64_t trim_next;         //  where the next retention walk continues (0: the first record)
    uint64_t trim_next_pending; //  set by the transaction, taken after its commit
    uint64_t trimmed;           //  records trimmed since start
    int64_t trim_min_age_ms;    //  the smallest age limit over the retention rules
    bool trim_bytes;            //  some rule limits bytes
    bool trim_on;               //  some rule limits anything
    broker_map_t *clients;      //  routing id -> s_client_t
    int64_t started_ms, next_sweep_ms, last_sweep_ms, next_client_check_ms, next_floor_flush_ms;
    s_op_t *ops;
    size_t op_count, op_cap;
    broker_log_batch_t batch;
    int64_t now; //  wall clock of the current turn
    bool sweep;  //  sweep dedup in this turn's transaction
    uint64_t published, duplicates, rejected;
    zhub_table_t erasures;   //  GDPR erase requests (broker_server_erase.c)
    bool erase_pending;      //  the erasures table may hold a request
    bool erase_compact;      //  a request finished in this turn: compact after the commit
    uint64_t erase_redacted; //  records the finished request redacted
    uint64_t erased;         //  requests finished since start
};

//  --------------------------------------------------------------------------
//  Small helpers

//  A log-safe copy of untrusted text: at most 64 bytes, anything that could
//  break a logfmt line replaced by '_' (spaces are kept for values the
//  caller quotes).
static inline const char *
s_text (const char *text, char *buf, size_t size, bool quoted)
{
    size_t used = 0;
    for (const char *p = text ? text : ""; *p && used + 1 < size && used < 64; p++) {
        unsigned char c = (unsigned char)*p;
        bool ok = (c > 0x20 || (quoted && c == 0x20)) && c < 0x7f && c != '"' && c != '\\';
        buf[used++] = ok ? (char)c : '_';
    }
    buf[used] = 0;
    if (used == 0 && size > 1)
        snprintf (buf, size, "-");
    return buf;
}

static inline const char *
s_safe (const char *text, char *buf, size_t size)
{
    return s_text (text, buf, size, false);
}

static inline const char *
s_quote (const char *text, char *buf, size_t size)
{
    return s_text (text, buf, size, true);
}

static inline s_op_t *
s_op_add (broker_server_t *self, s_kind_t kind)
{
    if (self->op_count == self->op_cap) {
        self->op_cap = self->op_cap ? self->op_cap * 2 : 64;
        self->ops = zhub_realloc (self->ops, self->op_cap * sizeof (s_op_t));
    }
    s_op_t *op = &self->ops[self->op_count++];
    memset (op, 0, sizeof *op);
    op->kind = kind;
    return op;
}

//  --------------------------------------------------------------------------
//  Shared between the server's files

//  broker_server_commit.c: frees the turn's ops
void broker_server_ops_clear (broker_server_t *self);
//  broker_server_peers.c
s_client_t *broker_server_client (broker_server_t *self, const uint8_t *id, size_t id_size);
int broker_server_send (broker_server_t *self, s_client_t *client, const zhub_frame_t *frame);
void broker_server_error (broker_server_t *self, s_client_t *client, uint64_t seq, uint32_t code,
                          const char *reason);
void broker_server_expire_clients (broker_server_t *self);
//  broker_server_commands.c
void broker_server_failure_op (broker_server_t *self, broker_group_t *group,
                               const broker_failure_t *failure, bool terminal, uint32_t code,
                               const char *reason);
int broker_server_recv_one (broker_server_t *self);
//  broker_server_commit.c
bool broker_server_writes (broker_server_t *self);
void broker_server_commit (broker_server_t *self);
//  broker_server_tap.c
//  GDPR erase (broker_server_erase.c): note a stored contact.forget; in the
//  sweep, advance the oldest request whose groups are past it; after the
//  commit, compact when a request finished.
zhub_rc_t broker_server_erase_add (broker_server_t *self, zhub_txn_t *txn, uint64_t offset,
                                   const zhub_msg_t *msg);
zhub_rc_t broker_server_erase_step (broker_server_t *self, zhub_txn_t *txn);
void broker_server_erase_after_commit (broker_server_t *self);

void broker_server_tap_subscriptions (broker_server_t *self);
void broker_server_tap_send (broker_server_t *self, uint64_t from, uint64_t to);
//  broker_server_deliver.c
void broker_server_timers (broker_server_t *self);
void broker_server_group_ops (broker_server_t *self);
void broker_server_fill (broker_server_t *self);
void broker_server_dispatch (broker_server_t *self);

#endif
