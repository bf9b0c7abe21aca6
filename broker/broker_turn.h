//  The broker's turn, at the bottom of the server's files. It holds what
//  every step of a turn shares: the server's state (broker_server_t), the
//  peers it answers (broker_client_t), the ops a turn collects, and ONE
//  table of op kinds. For each kind the table says whether it writes, how
//  it is applied inside the turn's single write transaction, and how it is
//  answered once that transaction committed or failed, so no step above
//  lists kinds again.
//
//  A turn, and the file that does each part (each above this one):
//    1. read    broker_commands.c: drain frames; answer at once what needs
//               no storage (HELLO, errors), decide acks and nacks in
//               memory, add ops;
//    2. timers  broker_deliver.c: expired ack deadlines into retry or
//               dead-letter ops; group records whose floors moved;
//    3. commit  broker_commit.c: every op applied (this table) plus the
//               maintenance phase (broker_sweep.c: dedup sweep, retention
//               trim, erase steps) in ONE write transaction, then the
//               answers (this table);
//    4. deliver broker_deliver.c: fill the windows from the log, send
//               DELIVER frames; broker_peers.c forgets silent peers.
//
//         op kind      writes  apply (in the transaction)     committed            failed
//         PUBLISH      yes     append; note a contact.forget  PUBACK               ERROR 503
//         HOLD         yes     hold until its deliverat       PUBACK (offset 0)    ERROR 503
//         RELEASE      yes     append the held that are due   next release time    -
//         JOIN         no      -                               JOINED               ERROR 503
//         ACK          yes     message state done             -                    -
//         ACK_COVERED  no      - (the group's floor covers it) -                   -
//         RETRY        yes     history + next due              -                    -
//         DEAD         yes     dead letter + state done        log stored/lost      rebuild windows
//         GROUP        yes     group record, floor             floor persisted      -
//         RESET        yes     clear group, new record         floor persisted      rebuild windows
//         PONG         no      -                               PONG                 - (ping times
//         out) STATS        no      -                               STATS_REPLY STATS_REPLY
//         GROUP_OK     no      -                               GROUP_OK             ERROR 503
//
//  A turn with no writing op and no maintenance due is answered without a
//  transaction, as "committed".
#ifndef BROKER_TURN_H
#define BROKER_TURN_H

#include "broker_config.h"
#include "broker_delayed.h"
#include "broker_group.h"
#include "broker_keys.h"
#include "broker_log.h"
#include "broker_map.h"
#include "broker_state.h"
#include "zhub_frame.h"
#include "zhub_msg.h"
#include "zhub_store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROKER_SCHEMA_VERSION 1
#define BROKER_DISPATCH_MAX 256    //  deliveries handed out per dispatch round
#define BROKER_DISPATCH_ROUNDS 8   //  rounds per group per turn
#define BROKER_EXPIRE_MAX 256      //  expired deliveries handled per group per turn
#define BROKER_POLL_MAX_MS 200     //  longest sleep (a stop flag set by a thread is seen within it)
#define BROKER_FORGET_INTERVALS 10 //  silent heartbeat intervals before a member is forgotten
#define BROKER_FLOOR_FLUSH_MS 1000 //  floors moved by scanning alone are stored this often
#define BROKER_IDLE_SWEEP_MS 60000 //  dedup sweep when no other write comes along
#define BROKER_LINGER_MS 1000
#define BROKER_TAP_HWM 10000    //  tap messages queued per subscriber before it loses some
#define BROKER_RELEASE_MAX 1024 //  held messages appended to the log per turn

//  A peer the broker has heard from, by ZeroMQ routing id.
typedef struct {
    uint8_t id[256];
    size_t id_size;
    char label[96]; //  printable routing id, for logs and STATS
    int64_t last_seen_ms;
    bool gone; //  unreachable: freed when silent peers are next forgotten
    //  Access (broker_access.h): the key this peer's connection proved
    //  (curve; "" for plain), what it may do (NULL for plain: everything),
    //  and a short id of the key that deliveries are fenced by
    char user[ZHUB_KEY_Z85_SIZE];
    char key_name[ZHUB_KEY_NAME_MAX + 1]; //  for logs: outlives the table's entry
    const zhub_key_t *key; //  valid while key_generation is the table's
    uint64_t key_generation;
    uint64_t owner;
    char *instance; //  HELLO's instance (broadcast delivery), owned; NULL: none
} broker_client_t;

typedef enum {
    BROKER_OP_PUBLISH,
    BROKER_OP_HOLD,
    BROKER_OP_RELEASE,
    BROKER_OP_JOIN,
    BROKER_OP_ACK,
    BROKER_OP_ACK_COVERED,
    BROKER_OP_RETRY,
    BROKER_OP_DEAD,
    BROKER_OP_GROUP,
    BROKER_OP_RESET,
    BROKER_OP_PONG,
    BROKER_OP_STATS,
    BROKER_OP_GROUP_OK,
    BROKER_OP_KINDS
} broker_op_kind_t;

//  One thing the turn does; which fields a kind uses is beside each field.
typedef struct {
    broker_op_kind_t kind;
    broker_client_t *client; //  PUBLISH, HOLD, JOIN, PONG, STATS, GROUP_OK: who gets the answer
    uint64_t seq;            //  PUBLISH, HOLD, JOIN, STATS, GROUP_OK
    zhub_msg_t *msg;         //  PUBLISH, HOLD: decoded envelope (owned)
    uint8_t *raw;            //  PUBLISH, HOLD: envelope bytes as received (owned)
    size_t raw_size;
    char *group;       //  all but PUBLISH, PONG, STATS (owned)
    uint64_t offset;   //  ACK, RETRY, DEAD; GROUP_OK, RESET: the group's new floor
    uint32_t attempts; //  RETRY, DEAD
    int64_t due_ms;    //  RETRY
    uint32_t code;     //  RETRY, DEAD
    char *reason;      //  RETRY, DEAD (owned)
    const char *cause; //  DEAD: "terminal" or "max_deliveries"
    uint8_t *record;   //  GROUP, RESET: the group record to store (owned)
    size_t record_size;
    uint64_t from_floor, to_floor; //  GROUP
    //  results of the transaction (rewritten by each run of it)
    uint64_t result_offset;
    bool duplicate;
    bool dlq_failed;
    uint32_t released, dropped; //  RELEASE
    int64_t next_due;           //  RELEASE: the earliest still held
} broker_op_t;

//  The server: one thread owns all of it, so nothing is locked.
struct broker_server_t {
    broker_config_t config;
    zhub_store_t *store;
    broker_log_t *log;
    broker_state_t state;
    broker_groups_t *groups;
    void *ctx, *sock;
    bool own_ctx;               //  plain: our context; curve: czmq's, where zauth answers ZAP
    void *zauth;                //  curve: czmq's zauth actor (zactor_t)
    broker_keys_t *keys;        //  curve: the allow-list
    char zap_dir[600];          //  curve: the copy of the allow-list zauth reads
    int64_t next_keys_check_ms; //  when the allow-list is looked at again
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
    broker_map_t *clients;      //  routing id -> broker_client_t
    int64_t started_ms, next_sweep_ms, last_sweep_ms, next_client_check_ms, next_floor_flush_ms;
    broker_op_t *ops;
    size_t op_count, op_cap;
    broker_log_batch_t batch;
    int64_t now; //  wall clock of the current turn
    bool sweep;  //  run the maintenance phase in this turn's transaction
    uint64_t published, duplicates, rejected;
    zhub_table_t erasures;    //  GDPR erase requests (broker_erasures.h)
    bool erase_pending;       //  the erasures table may hold a request
    bool erase_compact;       //  a request finished in this turn: compact after the commit
    uint64_t erase_redacted;  //  records the finished request redacted
    uint64_t erased;          //  requests finished since start
    broker_delayed_t delayed; //  messages held until their deliverat
    uint64_t held;            //  how many are held
    int64_t next_release_ms;  //  the earliest deliverat held (INT64_MAX: none)
    struct zhub_metrics_t *metrics; //  GET /metrics (broker_metrics.h); NULL: no admin listener
    struct zhub_admin_t *admin;     //  ZHUB_BROKER_ADMIN_LISTEN (NULL: off)
    int64_t metrics_next_ms;        //  wall ms of the next figures
};

//  (broker_server.h declares the same name for the server's users; C11
//  allows the repeat, and this header stays below that one.)
typedef struct broker_server_t broker_server_t;

//  -------------------------------------------------------------------
//  The op list

//  Appends a zeroed op of kind to the turn and returns it (valid until the
//  next broker_turn_op_add).
broker_op_t *broker_turn_op_add (broker_server_t *self, broker_op_kind_t kind);

//  Frees what the turn's ops own and empties the list.
void broker_turn_ops_clear (broker_server_t *self);

//  True when some op of the turn writes to the store.
bool broker_turn_writes (const broker_server_t *self);

//  Adds the RETRY or DEAD op a failed delivery calls for (from a NACK or an
//  expired ack deadline) and logs it. terminal: the consumer said it can
//  never succeed.
void broker_turn_failure (broker_server_t *self, const broker_group_t *group,
                          const broker_failure_t *failure, bool terminal, uint32_t code,
                          const char *reason);

//  Applies every op of the turn in txn (the table's apply column). Runs
//  inside a zhub_store_write callback, which may run more than once: it
//  writes only to the store and to the ops' result fields. Returns ZHUB_OK
//  or ZHUB_ERROR.
zhub_rc_t broker_turn_apply (broker_server_t *self, zhub_txn_t *txn);

//  Answers every op of the turn after its transaction: the table's
//  "committed" column when committed, its "failed" column otherwise; then,
//  when the commit failed and some op's kind says so, drops the in-memory
//  windows so they are rebuilt from the store, as after a restart.
void broker_turn_answer (broker_server_t *self, bool committed);

//  -------------------------------------------------------------------
//  Sending to peers (never blocks)

//  Sends one frame to a peer. Returns 0, or -1 when the peer is gone
//  (EHOSTUNREACH: it is marked gone and leaves its groups) or its queue is
//  full.
int broker_turn_send (broker_server_t *self, broker_client_t *client, const zhub_frame_t *frame);

//  Sends ERROR {seq, code, reason}.
void broker_turn_error (broker_server_t *self, broker_client_t *client, uint64_t seq, uint32_t code,
                        const char *reason);

//  Marks a peer unreachable and takes it out of its groups (its deliveries
//  in flight go back to their windows). Idempotent.
void broker_turn_client_gone (broker_server_t *self, broker_client_t *client);

#endif
