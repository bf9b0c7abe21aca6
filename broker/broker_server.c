//  The broker's loop. One thread owns the socket, the store and all state,
//  so nothing is locked. A turn:
//    1. drain up to batch_max frames without blocking; answer what needs
//       no storage (PING, STATS, errors) at once, decide acks and nacks in
//       memory, collect the writes as ops;
//    2. fire timers (ack deadlines, retry dues) into more ops;
//    3. apply every op in ONE write transaction (group commit: one fsync
//       for the whole turn) and only then answer PUBACK/JOINED; if the
//       commit fails, answer 503 and drop the in-memory windows, which are
//       rebuilt from the store (as after a restart);
//    4. fill the groups' windows from the log and send deliveries.
//  The transaction callback may run more than once (the store grows a full
//  map and retries), so it only writes to the store and to the ops'
//  result fields, which each run overwrites.
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
    void *tap;                   //  XPUB mirroring committed messages (NULL: off)
    uint64_t tap_subscriptions;  //  distinct subscriptions the tap has now
    uint64_t tapped;             //  messages sent on the tap since start
    char endpoint[256], tap_endpoint[256];
    uint64_t trim_next;          //  where the next retention walk continues (0: the first record)
    uint64_t trim_next_pending;  //  set by the transaction, taken after its commit
    uint64_t trimmed;            //  records trimmed since start
    int64_t trim_min_age_ms;     //  the smallest age limit over the retention rules
    bool trim_bytes;             //  some rule limits bytes
    bool trim_on;                //  some rule limits anything
    broker_map_t *clients; //  routing id -> s_client_t
    int64_t started_ms, next_sweep_ms, last_sweep_ms, next_client_check_ms, next_floor_flush_ms;
    s_op_t *ops;
    size_t op_count, op_cap;
    broker_log_batch_t batch;
    int64_t now; //  wall clock of the current turn
    bool sweep;  //  sweep dedup in this turn's transaction
    uint64_t published, duplicates, rejected;
};

//  --------------------------------------------------------------------------
//  Small helpers

//  A log-safe copy of untrusted text: at most 64 bytes, anything that could
//  break a logfmt line replaced by '_' (spaces are kept for values the
//  caller quotes).
static const char *
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

static const char *
s_safe (const char *text, char *buf, size_t size)
{
    return s_text (text, buf, size, false);
}

static const char *
s_quote (const char *text, char *buf, size_t size)
{
    return s_text (text, buf, size, true);
}

static const char *
s_client_label (void *client)
{
    return ((s_client_t *)client)->label;
}

static s_op_t *
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

static void
s_ops_clear (broker_server_t *self)
{
    for (size_t i = 0; i < self->op_count; i++) {
        s_op_t *op = &self->ops[i];
        zhub_msg_destroy (&op->msg);
        free (op->raw);
        free (op->group);
        free (op->reason);
        free (op->record);
    }
    self->op_count = 0;
}

//  --------------------------------------------------------------------------
//  Peers and sending

static void
s_client_gone (broker_server_t *self, s_client_t *client)
{
    if (client->gone)
        return;
    client->gone = true;
    broker_groups_forget (self->groups, client);
    zhub_info ("peer_gone", "client=%s", client->label);
}

static s_client_t *
s_client (broker_server_t *self, const uint8_t *id, size_t id_size)
{
    s_client_t *client = broker_map_get (self->clients, id, id_size);
    if (!client) {
        client = zhub_calloc (1, sizeof *client);
        memcpy (client->id, id, id_size);
        client->id_size = id_size;
        bool printable = id_size > 0;
        for (size_t i = 0; i < id_size; i++)
            printable = printable && id[i] > 0x20 && id[i] < 0x7f && id[i] != '"' && id[i] != '\\';
        if (printable)
            snprintf (client->label, sizeof client->label, "%.*s", (int)id_size, (const char *)id);
        else {
            size_t used = snprintf (client->label, sizeof client->label, "0x");
            for (size_t i = 0; i < id_size && used + 3 < sizeof client->label; i++)
                used += snprintf (client->label + used, sizeof client->label - used, "%02x", id[i]);
        }
        broker_map_put (self->clients, client->id, client->id_size, client);
    }
    //  a peer we gave up on talks again: it is back (its memberships are
    //  gone; PONG tells it so and it joins again)
    client->gone = false;
    client->last_seen_ms = self->now;
    return client;
}

//  Sends one frame to a peer without blocking. Returns 0, or -1 when the
//  peer is gone (EHOSTUNREACH: it is forgotten) or its queue is full.
static int
s_send (broker_server_t *self, s_client_t *client, const zhub_frame_t *frame)
{
    if (client->gone)
        return -1;
    uint8_t *buf;
    size_t size;
    if (zhub_frame_encode (frame, &buf, &size))
        return -1;
    int rc = zmq_send (self->sock, client->id, client->id_size, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0)
        rc = zmq_send (self->sock, buf, size, ZMQ_DONTWAIT);
    int error = errno;
    free (buf);
    if (rc < 0) {
        if (error == EHOSTUNREACH)
            s_client_gone (self, client);
        else
            zhub_warn ("send_failed", "client=%s cmd=%s error=\"%s\"", client->label,
                       zhub_cmd_name (frame->cmd), zmq_strerror (error));
        return -1;
    }
    return 0;
}

static void
s_error (broker_server_t *self, s_client_t *client, uint64_t seq, uint32_t code, const char *reason)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_ERROR);
    frame->seq = seq;
    frame->code = code;
    frame->reason = zhub_strdup (reason);
    s_send (self, client, frame);
    zhub_frame_destroy (&frame);
}

//  --------------------------------------------------------------------------
//  Commands

static void
s_failure_op (broker_server_t *self, broker_group_t *group, const broker_failure_t *failure,
              bool terminal, uint32_t code, const char *reason)
{
    s_op_t *op = s_op_add (self, failure->dead ? OP_DEAD : OP_RETRY);
    op->group = zhub_strdup (group->name);
    op->offset = failure->offset;
    op->attempts = failure->attempts;
    op->due_ms = failure->due_ms;
    op->code = code;
    op->reason = zhub_strdup (reason ? reason : "");
    op->cause = terminal ? "terminal" : "max_deliveries";
    char safe[80];
    if (failure->dead)
        zhub_info ("dead_letter", "group=%s offset=%llu attempts=%u cause=%s code=%u reason=\"%s\"",
                   group->name, (unsigned long long)failure->offset, failure->attempts, op->cause,
                   code, s_quote (reason, safe, sizeof safe));
    else
        zhub_debug ("retry_scheduled", "group=%s offset=%llu attempts=%u in_ms=%lld code=%u",
                    group->name, (unsigned long long)failure->offset, failure->attempts,
                    (long long)(failure->due_ms - self->now), code);
}

static void
s_publish (broker_server_t *self, s_client_t *client, zhub_frame_t *frame)
{
    char err[256], reason[300];
    if (frame->msg_size > self->config.max_message) {
        snprintf (reason, sizeof reason, "message is %zu bytes; the limit is %zu", frame->msg_size,
                  self->config.max_message);
        self->rejected++;
        s_error (self, client, frame->seq, ZHUB_ERR_TOO_LARGE, reason);
        return;
    }
    zhub_mpack_limits_t limits = {
        .max_size = self->config.max_message, .max_depth = 32, .max_items = 100000};
    zhub_msg_t *msg = zhub_msg_decode (frame->msg, frame->msg_size, &limits, err, sizeof err);
    if (!msg) {
        snprintf (reason, sizeof reason, "invalid envelope: %s", err);
        self->rejected++;
        zhub_info ("publish_rejected", "client=%s seq=%llu reason=\"%s\"", client->label,
                   (unsigned long long)frame->seq, s_quote (reason, err, sizeof err));
        s_error (self, client, frame->seq, ZHUB_ERR_MALFORMED, reason);
        return;
    }
    s_op_t *op = s_op_add (self, OP_PUBLISH);
    op->client = client;
    op->seq = frame->seq;
    op->msg = msg;
    op->raw = frame->msg; //  taken over from the frame
    op->raw_size = frame->msg_size;
    frame->msg = NULL;
    frame->msg_size = 0;
}

static void
s_join (broker_server_t *self, s_client_t *client, zhub_frame_t *frame)
{
    char reason[300];
    if (!broker_group_name_valid (frame->group)) {
        s_error (self, client, frame->seq, ZHUB_ERR_MALFORMED,
                 "group must be 1..128 bytes of dot-separated [A-Za-z0-9_-] tokens");
        return;
    }
    for (size_t i = 0; i < frame->topic_count; i++) {
        if (!broker_pattern_valid (frame->topics[i])) {
            char safe[80];
            snprintf (reason, sizeof reason, "invalid topic pattern \"%s\"",
                      s_safe (frame->topics[i], safe, sizeof safe));
            s_error (self, client, frame->seq, ZHUB_ERR_MALFORMED, reason);
            return;
        }
    }
    if (frame->start && strcmp (frame->start, "earliest") && strcmp (frame->start, "latest")) {
        s_error (self, client, frame->seq, ZHUB_ERR_MALFORMED,
                 "start must be \"earliest\" or \"latest\"");
        return;
    }
    if (frame->ack_deadline_ms && frame->ack_deadline_ms < 100) {
        s_error (self, client, frame->seq, ZHUB_ERR_MALFORMED, "ack_deadline_ms must be >= 100");
        return;
    }
    broker_group_t *group = broker_groups_find (self->groups, frame->group);
    if (!group) {
        broker_settings_t settings = {
            .patterns = frame->topics,
            .pattern_count = frame->topic_count,
            .max_deliveries =
                frame->max_deliveries ? frame->max_deliveries : self->config.max_deliveries,
            .ack_deadline_ms =
                frame->ack_deadline_ms ? frame->ack_deadline_ms : self->config.ack_deadline_ms,
        };
        const int64_t *backoff = frame->backoff_count ? frame->backoff_ms : self->config.backoff_ms;
        settings.backoff_count =
            frame->backoff_count ? frame->backoff_count : self->config.backoff_count;
        memcpy (settings.backoff_ms, backoff, settings.backoff_count * sizeof (int64_t));
        bool latest = frame->start && !strcmp (frame->start, "latest");
        uint64_t floor = latest ? self->log->last + 1 : 1;
        group = broker_groups_create (self->groups, frame->group, &settings, floor, self->now);
        zhub_info ("group_created",
                   "group=%s start=%s floor=%llu max_deliveries=%u ack_deadline_ms=%lld",
                   group->name, latest ? "latest" : "earliest", (unsigned long long)floor,
                   group->settings.max_deliveries, (long long)group->settings.ack_deadline_ms);
    } else if (broker_group_add_patterns (group, frame->topics, frame->topic_count) < 0) {
        s_error (self, client, frame->seq, ZHUB_ERR_MALFORMED, "too many patterns in group");
        return;
    }
    bool known = broker_group_member (group, client) != NULL;
    broker_groups_join (self->groups, group, client, frame->credit);
    if (!known)
        zhub_info ("join", "group=%s client=%s credit=%u", group->name, client->label,
                   frame->credit ? frame->credit : 1);
    s_op_t *op = s_op_add (self, OP_JOIN);
    op->client = client;
    op->seq = frame->seq;
    op->group = zhub_strdup (group->name);
}

//  GROUP_SET: the operator changes a group's settings. Zero fields keep
//  their value. New settings apply to deliveries made from now on (a
//  delivery in flight keeps the deadline it was given).
static void
s_group_set (broker_server_t *self, s_client_t *client, zhub_frame_t *frame)
{
    broker_group_t *group = broker_groups_find (self->groups, frame->group);
    if (!group) {
        s_error (self, client, frame->seq, ZHUB_ERR_NOT_JOINED, "no such group");
        return;
    }
    if (frame->ack_deadline_ms && frame->ack_deadline_ms < 100) {
        s_error (self, client, frame->seq, ZHUB_ERR_MALFORMED, "ack_deadline_ms must be >= 100");
        return;
    }
    broker_settings_t *settings = &group->settings;
    if (frame->max_deliveries)
        settings->max_deliveries = frame->max_deliveries;
    if (frame->ack_deadline_ms)
        settings->ack_deadline_ms = frame->ack_deadline_ms;
    if (frame->backoff_count) {
        memcpy (settings->backoff_ms, frame->backoff_ms, frame->backoff_count * sizeof (int64_t));
        settings->backoff_count = frame->backoff_count;
    }
    if (frame->max_in_flight)
        //  1,000,000 (the largest credit) means "no cap"
        settings->max_in_flight = frame->max_in_flight >= 1000000 ? 0 : frame->max_in_flight;
    group->needs_write = true;
    group->dirty = true;
    zhub_info ("group_set",
               "group=%s client=%s max_deliveries=%u ack_deadline_ms=%lld backoff_steps=%zu "
               "max_in_flight=%u",
               group->name, client->label, settings->max_deliveries,
               (long long)settings->ack_deadline_ms, settings->backoff_count,
               settings->max_in_flight);
    s_op_t *op = s_op_add (self, OP_GROUP_OK);
    op->client = client;
    op->seq = frame->seq;
    op->group = zhub_strdup (group->name);
    op->offset = group->floor;
}

typedef struct {
    broker_server_t *self;
    int64_t time_ms;
    uint64_t offset;
} s_find_t;

static zhub_rc_t
s_find_time_txn (zhub_txn_t *txn, void *arg)
{
    s_find_t *find = arg;
    return broker_log_find_time (find->self->log, txn, find->time_ms, &find->offset);
}

//  GROUP_RESET: the operator moves a group to an offset or a point in time
//  (replay after fixing a mapping, or skipping a backlog). Everything from
//  the new floor on counts as never processed by the group; deliveries in
//  flight become stale.
static void
s_group_reset (broker_server_t *self, s_client_t *client, zhub_frame_t *frame)
{
    broker_group_t *group = broker_groups_find (self->groups, frame->group);
    if (!group) {
        s_error (self, client, frame->seq, ZHUB_ERR_NOT_JOINED, "no such group");
        return;
    }
    uint64_t floor = frame->offset;
    if (floor == 0) {
        s_find_t find = {self, frame->time_ms, 0};
        if (zhub_store_read (self->store, s_find_time_txn, &find) != ZHUB_OK) {
            s_error (self, client, frame->seq, ZHUB_ERR_STORAGE, "could not read the log");
            return;
        }
        floor = find.offset;
    }
    if (floor > self->log->last + 1)
        floor = self->log->last + 1;
    zhub_info ("group_reset", "group=%s client=%s from=%llu to=%llu", group->name, client->label,
               (unsigned long long)group->floor, (unsigned long long)floor);
    broker_groups_rewind (self->groups, group, floor);
    s_op_t *op = s_op_add (self, OP_RESET);
    op->group = zhub_strdup (group->name);
    op->offset = floor;
    broker_state_encode_group (group, &op->record, &op->record_size);
    op = s_op_add (self, OP_GROUP_OK);
    op->client = client;
    op->seq = frame->seq;
    op->group = zhub_strdup (group->name);
    op->offset = floor;
}

static void
s_pong (broker_server_t *self, s_client_t *client)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_PONG);
    const char *names[ZHUB_FRAME_MAX_TOPICS];
    size_t count = broker_groups_of (self->groups, client, names, ZHUB_FRAME_MAX_TOPICS);
    for (size_t i = 0; i < count; i++)
        zhub_frame_add_topic (frame, names[i]);
    s_send (self, client, frame);
    zhub_frame_destroy (&frame);
}

static void
s_stats (broker_server_t *self, s_client_t *client, uint64_t seq)
{
    broker_stats_input_t input = {
        .log = self->log,
        .groups = self->groups,
        .store = self->store,
        .clients = broker_map_size (self->clients),
        .uptime_ms = self->now - self->started_ms,
        .published = self->published,
        .duplicates = self->duplicates,
        .rejected = self->rejected,
        .trimmed = self->trimmed,
        .tap = self->tap ? self->tap_endpoint : NULL,
        .tap_subscriptions = self->tap_subscriptions,
        .tapped = self->tapped,
        .retention_ms = self->config.retention_default.max_age_ms,
        .retention_bytes = self->config.retention_default.max_bytes,
        .client_label = s_client_label,
    };
    uint8_t *buf;
    size_t size;
    if (broker_stats_build (&input, &buf, &size)) {
        s_error (self, client, seq, ZHUB_ERR_STORAGE, "could not read the store");
        return;
    }
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_STATS_REPLY);
    frame->seq = seq;
    frame->msg = buf;
    frame->msg_size = size;
    s_send (self, client, frame);
    zhub_frame_destroy (&frame);
}

static void
s_stale_tag (broker_server_t *self, s_client_t *client, uint64_t tag)
{
    char reason[160];
    snprintf (reason, sizeof reason,
              "tag %llu is not a current delivery (acked, failed, handed back or expired)",
              (unsigned long long)tag);
    zhub_debug ("stale_tag", "client=%s tag=%llu", client->label, (unsigned long long)tag);
    s_error (self, client, 0, ZHUB_ERR_STALE_TAG, reason);
}

static void
s_handle (broker_server_t *self, s_client_t *client, zhub_frame_t *frame)
{
    char reason[160];
    switch (frame->cmd) {
        case ZHUB_CMD_HELLO: {
            char safe[80];
            if (frame->version != ZHUB_PROTO_VERSION) {
                snprintf (reason, sizeof reason,
                          "protocol version %u is not supported; this broker speaks %d",
                          frame->version, ZHUB_PROTO_VERSION);
                s_error (self, client, 0, ZHUB_ERR_VERSION, reason);
                break;
            }
            zhub_debug ("hello", "client=%s name=%s", client->label,
                        s_safe (frame->name, safe, sizeof safe));
            zhub_frame_t *welcome = zhub_frame_new (ZHUB_CMD_WELCOME);
            welcome->version = ZHUB_PROTO_VERSION;
            s_send (self, client, welcome);
            zhub_frame_destroy (&welcome);
            break;
        }
        case ZHUB_CMD_PING: s_op_add (self, OP_PONG)->client = client; break;
        case ZHUB_CMD_STATS: {
            s_op_t *op = s_op_add (self, OP_STATS);
            op->client = client;
            op->seq = frame->seq;
            break;
        }
        case ZHUB_CMD_PUBLISH: s_publish (self, client, frame); break;
        case ZHUB_CMD_JOIN: s_join (self, client, frame); break;
        case ZHUB_CMD_GROUP_SET: s_group_set (self, client, frame); break;
        case ZHUB_CMD_GROUP_RESET: s_group_reset (self, client, frame); break;
        case ZHUB_CMD_CREDIT: {
            broker_group_t *group = broker_groups_find (self->groups, frame->group);
            broker_member_t *member = group ? broker_group_member (group, client) : NULL;
            if (!member) {
                s_error (self, client, 0, ZHUB_ERR_NOT_JOINED, "not a member of this group");
                break;
            }
            uint64_t credit = (uint64_t)member->credit + frame->credit;
            member->credit = credit > 1000000 ? 1000000 : (uint32_t)credit;
            group->dirty = true;
            break;
        }
        case ZHUB_CMD_LEAVE: {
            broker_group_t *group = broker_groups_find (self->groups, frame->group);
            if (group && broker_group_member (group, client)) {
                broker_groups_leave (self->groups, group, client);
                zhub_info ("leave", "group=%s client=%s", group->name, client->label);
            }
            break;
        }
        case ZHUB_CMD_ACK: {
            broker_entry_t *entry = broker_groups_by_tag (self->groups, frame->tag);
            if (!entry) {
                s_stale_tag (self, client, frame->tag);
                break;
            }
            s_op_t *op = s_op_add (self, OP_ACK);
            op->group = zhub_strdup (entry->group->name);
            op->offset = entry->offset;
            zhub_debug ("ack", "group=%s offset=%llu tag=%llu", entry->group->name,
                        (unsigned long long)entry->offset, (unsigned long long)frame->tag);
            broker_groups_ack (self->groups, entry);
            break;
        }
        case ZHUB_CMD_NACK: {
            broker_entry_t *entry = broker_groups_by_tag (self->groups, frame->tag);
            if (!entry) {
                s_stale_tag (self, client, frame->tag);
                break;
            }
            broker_group_t *group = entry->group;
            broker_failure_t failure;
            broker_groups_fail (self->groups, entry, self->now, frame->delay_ms, frame->terminal,
                                &failure);
            s_failure_op (self, group, &failure, frame->terminal, frame->code, frame->reason);
            break;
        }
        default:
            snprintf (reason, sizeof reason, "unexpected command %s from a client",
                      zhub_cmd_name (frame->cmd));
            s_error (self, client, frame->seq, ZHUB_ERR_MALFORMED, reason);
    }
}

//  Receives one message. Returns 1 when it handled one, 0 when none was
//  waiting, -1 on a fatal socket error.
static int
s_recv_one (broker_server_t *self)
{
    zmq_msg_t id, body;
    zmq_msg_init (&id);
    if (zmq_msg_recv (&id, self->sock, ZMQ_DONTWAIT) < 0) {
        int error = errno;
        zmq_msg_close (&id);
        return (error == EAGAIN || error == EINTR) ? 0 : -1;
    }
    if (!zmq_msg_more (&id) || zmq_msg_size (&id) > sizeof ((s_client_t *)0)->id) {
        zmq_msg_close (&id);
        return 1;
    }
    zmq_msg_init (&body);
    //  the parts of a message arrive together: this does not block
    zmq_msg_recv (&body, self->sock, 0);
    bool extra = zmq_msg_more (&body);
    while (zmq_msg_more (&body)) {
        zmq_msg_close (&body);
        zmq_msg_init (&body);
        zmq_msg_recv (&body, self->sock, 0);
    }
    s_client_t *client = s_client (self, zmq_msg_data (&id), zmq_msg_size (&id));
    if (extra)
        s_error (self, client, 0, ZHUB_ERR_MALFORMED, "one frame per message");
    else {
        char err[256], reason[300];
        zhub_frame_t *frame =
            zhub_frame_decode (zmq_msg_data (&body), zmq_msg_size (&body), err, sizeof err);
        if (!frame) {
            snprintf (reason, sizeof reason, "malformed frame: %s", err);
            s_error (self, client, 0, ZHUB_ERR_MALFORMED, reason);
        } else {
            s_handle (self, client, frame);
            zhub_frame_destroy (&frame);
        }
    }
    zmq_msg_close (&body);
    zmq_msg_close (&id);
    return 1;
}

//  --------------------------------------------------------------------------
//  The transaction

static zhub_rc_t
s_apply_dead (broker_server_t *self, zhub_txn_t *txn, s_op_t *op)
{
    broker_msg_state_t state;
    zhub_rc_t rc = broker_state_get (&self->state, txn, op->group, op->offset, &state, true);
    if (rc == ZHUB_ERROR)
        return rc;
    broker_msg_state_add (&state, self->now, op->code, op->reason);
    broker_record_t record;
    rc = broker_log_read (self->log, txn, op->offset, &record);
    op->dlq_failed = rc != ZHUB_OK;
    if (rc == ZHUB_OK) {
        zhub_msg_t *dead =
            broker_dlq_build (op->group, record.msg, record.msg_size, op->offset, state.history,
                              state.history_count, op->code, op->cause, self->now);
        uint8_t *buf = NULL;
        size_t size;
        if (dead && zhub_msg_encode (dead, &buf, &size, NULL, 0) == 0)
            rc = broker_log_append (self->log, txn, &self->batch, dead, buf, size, self->now,
                                    &op->result_offset, &op->duplicate);
        else
            op->dlq_failed = true;
        free (buf);
        zhub_msg_destroy (&dead);
    } else if (rc == ZHUB_NOTFOUND)
        rc = ZHUB_OK; //  nothing to carry; the message is still done
    if (rc == ZHUB_OK) {
        state.done = true;
        state.attempts = op->attempts;
        rc = broker_state_put (&self->state, txn, op->group, op->offset, &state,
                               self->config.history_max);
    }
    broker_msg_state_clear (&state);
    return rc;
}

static zhub_rc_t
s_apply_retry (broker_server_t *self, zhub_txn_t *txn, s_op_t *op)
{
    broker_msg_state_t state;
    zhub_rc_t rc = broker_state_get (&self->state, txn, op->group, op->offset, &state, true);
    if (rc == ZHUB_ERROR)
        return rc;
    broker_msg_state_add (&state, self->now, op->code, op->reason);
    state.done = false;
    state.attempts = op->attempts;
    state.next_due_ms = op->due_ms;
    rc = broker_state_put (&self->state, txn, op->group, op->offset, &state,
                           self->config.history_max);
    broker_msg_state_clear (&state);
    return rc;
}

//  Retention: may this record go? Only when every group whose patterns
//  match its topic is past it (its floor is above: acked or dead-lettered,
//  and stored so), and it is past its topic's age or size limit.
static int
s_trim_verdict (uint64_t offset, const broker_record_t *record, uint64_t topic_bytes, void *arg)
{
    broker_server_t *self = arg;
    int64_t age = self->now - record->stored_ms;
    //  records are stored in time order: once one is younger than every age
    //  limit and no rule limits size, nothing after it can go either
    if (!self->trim_bytes && age <= self->trim_min_age_ms)
        return -1;
    const broker_retention_t *rule = broker_config_retention_for (&self->config, record->topic);
    bool old = rule->max_age_ms > 0 && age > rule->max_age_ms;
    bool big = rule->max_bytes > 0 && topic_bytes > rule->max_bytes;
    if (!old && !big)
        return 0;
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        if (offset >= group->floor && broker_group_matches (group, record->topic))
            return 0;
    }
    return 1;
}

static zhub_rc_t
s_apply (zhub_txn_t *txn, void *arg)
{
    broker_server_t *self = arg;
    broker_log_batch_begin (self->log, &self->batch);
    for (size_t i = 0; i < self->op_count; i++) {
        s_op_t *op = &self->ops[i];
        zhub_rc_t rc = ZHUB_OK;
        switch (op->kind) {
            case OP_PUBLISH:
                rc =
                    broker_log_append (self->log, txn, &self->batch, op->msg, op->raw, op->raw_size,
                                       self->now, &op->result_offset, &op->duplicate);
                break;
            case OP_ACK: {
                broker_msg_state_t state = {.done = true};
                rc = broker_state_put (&self->state, txn, op->group, op->offset, &state, 0);
                break;
            }
            case OP_RETRY: rc = s_apply_retry (self, txn, op); break;
            case OP_DEAD: rc = s_apply_dead (self, txn, op); break;
            case OP_GROUP:
                rc = broker_state_put_group (&self->state, txn, op->group, op->record,
                                             op->record_size, op->from_floor, op->to_floor);
                break;
            case OP_RESET:
                rc = broker_state_clear_group (&self->state, txn, op->group);
                if (rc == ZHUB_OK)
                    rc = broker_state_put_group (&self->state, txn, op->group, op->record,
                                                 op->record_size, 0, 0);
                break;
            case OP_JOIN:
            case OP_PONG:
            case OP_STATS:
            case OP_ACK_COVERED:
            case OP_GROUP_OK: break;
        }
        if (rc != ZHUB_OK)
            return ZHUB_ERROR;
    }
    if (self->sweep && broker_log_sweep (self->log, txn, self->now, self->config.sweep_max) < 0)
        return ZHUB_ERROR;
    self->trim_next_pending = self->trim_next;
    if (self->sweep && self->trim_on
        && broker_log_trim (self->log, txn, &self->batch, self->trim_next, self->config.trim_max,
                            s_trim_verdict, self, &self->trim_next_pending)
               != ZHUB_OK)
        return ZHUB_ERROR;
    return ZHUB_OK;
}

static void
s_group_ok (broker_server_t *self, s_op_t *op)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_GROUP_OK);
    frame->seq = op->seq;
    frame->group = zhub_strdup (op->group);
    frame->offset = op->offset;
    s_send (self, op->client, frame);
    zhub_frame_destroy (&frame);
}

//  --------------------------------------------------------------------------
//  The tap: a best-effort mirror of committed messages for dashboards and
//  `zhub tail`. An XPUB socket, so the broker knows whether anyone listens
//  and reads nothing back when nobody does. Each message is two frames:
//  the topic (for ZeroMQ prefix subscriptions) and a msgpack map
//  {cmd: "TAP", offset, msg}. A subscriber that falls behind loses
//  messages (the socket's high-water mark); the broker never waits.

static void
s_tap_subscriptions (broker_server_t *self)
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

static void
s_tap_send (broker_server_t *self, uint64_t from, uint64_t to)
{
    if (!self->tap)
        return;
    s_tap_subscriptions (self);
    if (self->tap_subscriptions == 0)
        return;
    s_tap_t tap = {self, from, to};
    zhub_store_read (self->store, s_tap_txn, &tap);
}

//  True when the turn has something to store (answers alone need no
//  transaction).
static bool
s_writes (broker_server_t *self)
{
    for (size_t i = 0; i < self->op_count; i++) {
        s_kind_t kind = self->ops[i].kind;
        if (kind != OP_JOIN && kind != OP_PONG && kind != OP_STATS && kind != OP_GROUP_OK)
            return true;
    }
    return false;
}

//  Stores the turn (when it has writes or a sweep is due) and answers.
static void
s_commit (broker_server_t *self)
{
    if (!self->sweep && !s_writes (self)) {
        for (size_t i = 0; i < self->op_count; i++) {
            s_op_t *op = &self->ops[i];
            if (op->kind == OP_JOIN) {
                zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_JOINED);
                frame->seq = op->seq;
                frame->group = zhub_strdup (op->group);
                s_send (self, op->client, frame);
                zhub_frame_destroy (&frame);
            } else if (op->kind == OP_PONG)
                s_pong (self, op->client);
            else if (op->kind == OP_STATS)
                s_stats (self, op->client, op->seq);
            else if (op->kind == OP_GROUP_OK)
                s_group_ok (self, op);
        }
        s_ops_clear (self);
        return;
    }
    zhub_rc_t rc = zhub_store_write (self->store, s_apply, self);
    if (self->sweep) {
        self->last_sweep_ms = self->now;
        self->next_sweep_ms = self->now + S_IDLE_SWEEP_MS;
    }
    uint64_t before = self->log->last;
    if (rc == ZHUB_OK) {
        broker_log_batch_commit (self->log, &self->batch);
        if (self->sweep && self->trim_on) {
            self->trim_next = self->trim_next_pending;
            self->trimmed += self->batch.trimmed;
            if (self->batch.trimmed)
                zhub_debug ("trimmed", "records=%llu first=%llu",
                            (unsigned long long)self->batch.trimmed,
                            (unsigned long long)self->log->first);
            //  more to examine: walk on soon rather than at the idle sweep
            if (self->trim_next)
                self->next_sweep_ms = self->now + self->config.sweep_interval_ms;
        }
        if (self->log->last > before)
            s_tap_send (self, before + 1, self->log->last);
    } else
        zhub_error ("commit_failed", "ops=%zu rc=%s", self->op_count, zhub_rc_name (rc));
    char safe_id[80], safe_topic[80];
    for (size_t i = 0; i < self->op_count; i++) {
        s_op_t *op = &self->ops[i];
        if (op->kind == OP_PONG) {
            //  no PONG when the turn could not be stored: the peer's ping
            //  times out instead of vouching for acks that were lost
            if (rc == ZHUB_OK)
                s_pong (self, op->client);
        } else if (op->kind == OP_STATS)
            s_stats (self, op->client, op->seq);
        else if (op->kind == OP_GROUP_OK) {
            if (rc == ZHUB_OK)
                s_group_ok (self, op);
            else
                s_error (self, op->client, op->seq, ZHUB_ERR_STORAGE,
                         "the broker could not store it; retry");
        } else if (rc == ZHUB_OK && op->kind == OP_RESET) {
            broker_group_t *group = broker_groups_find (self->groups, op->group);
            if (group)
                group->floor_persisted = op->offset;
        } else if (op->kind == OP_PUBLISH || op->kind == OP_JOIN) {
            if (rc != ZHUB_OK) {
                s_error (self, op->client, op->seq, ZHUB_ERR_STORAGE,
                         "the broker could not store it; retry");
                continue;
            }
            zhub_frame_t *frame =
                zhub_frame_new (op->kind == OP_PUBLISH ? ZHUB_CMD_PUBACK : ZHUB_CMD_JOINED);
            frame->seq = op->seq;
            if (op->kind == OP_PUBLISH) {
                frame->offset = op->result_offset;
                frame->duplicate = op->duplicate;
                op->duplicate ? self->duplicates++ : self->published++;
                zhub_debug ("publish", "id=%s topic=%s offset=%llu duplicate=%s client=%s",
                            s_safe (op->msg->id, safe_id, sizeof safe_id),
                            s_safe (op->msg->type, safe_topic, sizeof safe_topic),
                            (unsigned long long)op->result_offset, op->duplicate ? "true" : "false",
                            op->client->label);
            } else
                frame->group = zhub_strdup (op->group);
            s_send (self, op->client, frame);
            zhub_frame_destroy (&frame);
        } else if (rc == ZHUB_OK && op->kind == OP_GROUP) {
            broker_group_t *group = broker_groups_find (self->groups, op->group);
            if (group) {
                group->floor_persisted = op->to_floor;
                group->needs_write = false;
            }
        } else if (rc == ZHUB_OK && op->kind == OP_DEAD) {
            if (op->dlq_failed)
                zhub_error ("dead_letter_lost", "group=%s offset=%llu", op->group,
                            (unsigned long long)op->offset);
            else
                zhub_info ("dead_letter_stored", "group=%s offset=%llu dlq_offset=%llu", op->group,
                           (unsigned long long)op->offset, (unsigned long long)op->result_offset);
        }
    }
    if (rc != ZHUB_OK) {
        //  What memory now believes beyond the store is harmless for acks,
        //  retries and floors (after a restart the store's older view means
        //  a redelivery, never a loss; floors are written again next turn).
        //  A dead letter is different: memory dropped the message but the
        //  store has neither the dead letter nor the original marked done.
        //  Rebuild the windows from the store, as a restart would.
        //  A reset likewise: memory moved the group, the store did not.
        bool dead = false;
        for (size_t i = 0; i < self->op_count && !dead; i++)
            dead = self->ops[i].kind == OP_DEAD || self->ops[i].kind == OP_RESET;
        if (dead)
            broker_groups_reset (self->groups);
    }
    s_ops_clear (self);
}

//  --------------------------------------------------------------------------
//  Timers, floors, windows, deliveries

static void
s_timers (broker_server_t *self)
{
    broker_entry_t *expired[S_EXPIRE_MAX];
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        size_t count = broker_groups_tick (self->groups, group, self->now, expired, S_EXPIRE_MAX);
        for (size_t i = 0; i < count; i++) {
            zhub_info ("ack_deadline", "group=%s offset=%llu attempt=%u", group->name,
                       (unsigned long long)expired[i]->offset, expired[i]->attempts + 1);
            broker_failure_t failure;
            broker_groups_fail (self->groups, expired[i], self->now, -1, false, &failure);
            s_failure_op (self, group, &failure, false, 408, "ack deadline exceeded");
        }
    }
}

static void
s_group_ops (broker_server_t *self)
{
    bool flush = s_writes (self) || self->now >= self->next_floor_flush_ms;
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        broker_group_update_floor (group);
        if (!group->needs_write && !(flush && group->floor != group->floor_persisted))
            continue;
        s_op_t *op = s_op_add (self, OP_GROUP);
        op->group = zhub_strdup (group->name);
        broker_state_encode_group (group, &op->record, &op->record_size);
        op->from_floor = group->floor_persisted;
        op->to_floor = group->floor;
    }
    if (flush)
        self->next_floor_flush_ms = self->now + S_FLOOR_FLUSH_MS;
    //  An ACK below its group's new floor needs no record of its own: the
    //  group record written in this same transaction already says every
    //  offset below the floor is done (and would delete the record anyway).
    //  Acks mostly arrive in order, so this halves their writes.
    for (size_t i = 0; flush && i < self->op_count; i++) {
        s_op_t *op = &self->ops[i];
        if (op->kind != OP_ACK)
            continue;
        broker_group_t *group = broker_groups_find (self->groups, op->group);
        if (group && op->offset < group->floor && group->floor != group->floor_persisted)
            op->kind = OP_ACK_COVERED;
    }
}

typedef struct {
    broker_server_t *self;
    broker_group_t *group;
    zhub_txn_t *txn;
    bool error;
} s_fill_t;

static bool
s_fill_record (uint64_t offset, const broker_record_t *record, void *arg)
{
    s_fill_t *fill = arg;
    broker_server_t *self = fill->self;
    if (!broker_group_has_room (self->groups, fill->group))
        return false;
    if (!record) {
        zhub_error ("corrupt_record", "offset=%llu", (unsigned long long)offset);
        return true;
    }
    if (!broker_group_matches (fill->group, record->topic))
        return true;
    broker_msg_state_t state;
    zhub_rc_t rc =
        broker_state_get (&self->state, fill->txn, fill->group->name, offset, &state, false);
    if (rc == ZHUB_ERROR) {
        fill->error = true;
        return false;
    }
    if (rc == ZHUB_OK && state.done)
        return true;
    broker_groups_push (self->groups, fill->group, offset, record->subject,
                        rc == ZHUB_OK ? state.attempts : 0, rc == ZHUB_OK ? state.next_due_ms : 0,
                        self->now);
    return true;
}

static zhub_rc_t
s_fill_txn (zhub_txn_t *txn, void *arg)
{
    s_fill_t *fill = arg;
    broker_server_t *self = fill->self;
    fill->txn = txn;
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        if (!broker_group_has_room (self->groups, group) || group->scan > self->log->last)
            continue;
        fill->group = group;
        uint64_t next = broker_log_scan (self->log, txn, group->scan, self->config.scan_max,
                                         s_fill_record, fill);
        if (next == 0 || fill->error)
            return ZHUB_ERROR;
        group->scan = next;
        broker_group_update_floor (group);
    }
    return ZHUB_OK;
}

static void
s_fill (broker_server_t *self)
{
    bool needed = false;
    for (size_t g = 0; g < self->groups->count && !needed; g++)
        needed = broker_group_has_room (self->groups, self->groups->list[g])
                 && self->groups->list[g]->scan <= self->log->last;
    if (!needed)
        return;
    s_fill_t fill = {.self = self};
    if (zhub_store_read (self->store, s_fill_txn, &fill) != ZHUB_OK)
        zhub_error ("scan_failed", NULL);
}

typedef struct {
    broker_server_t *self;
    broker_assignment_t *list;
    size_t count;
} s_deliver_t;

static zhub_rc_t
s_deliver_txn (zhub_txn_t *txn, void *arg)
{
    s_deliver_t *deliver = arg;
    broker_server_t *self = deliver->self;
    for (size_t i = 0; i < deliver->count; i++) {
        broker_entry_t *entry = deliver->list[i].entry;
        //  the member's peer may have turned out gone earlier in this loop
        if (!entry->member) {
            broker_groups_undeliver (self->groups, entry);
            continue;
        }
        s_client_t *client = entry->member->client;
        broker_record_t record;
        if (broker_log_read (self->log, txn, entry->offset, &record) != ZHUB_OK) {
            zhub_error ("deliver_read_failed", "group=%s offset=%llu", entry->group->name,
                        (unsigned long long)entry->offset);
            broker_groups_undeliver (self->groups, entry);
            continue;
        }
        zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_DELIVER);
        frame->group = zhub_strdup (entry->group->name);
        frame->tag = entry->tag;
        frame->offset = entry->offset;
        frame->attempt = entry->attempts + 1;
        zhub_frame_set_msg (frame, record.msg, record.msg_size);
        if (s_send (self, client, frame))
            broker_groups_undeliver (self->groups, entry);
        else
            zhub_debug ("deliver", "group=%s offset=%llu tag=%llu attempt=%u client=%s",
                        entry->group->name, (unsigned long long)entry->offset,
                        (unsigned long long)entry->tag, frame->attempt, client->label);
        zhub_frame_destroy (&frame);
    }
    return ZHUB_OK;
}

static void
s_dispatch (broker_server_t *self)
{
    broker_assignment_t list[S_DISPATCH_MAX];
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        for (int round = 0; round < S_DISPATCH_ROUNDS && group->dirty; round++) {
            size_t count =
                broker_groups_dispatch (self->groups, group, self->now, list, S_DISPATCH_MAX);
            if (count == 0)
                break;
            s_deliver_t deliver = {self, list, count};
            if (zhub_store_read (self->store, s_deliver_txn, &deliver) != ZHUB_OK) {
                //  could not even open a read transaction: hand them all back
                for (size_t i = 0; i < count; i++)
                    broker_groups_undeliver (self->groups, list[i].entry);
                zhub_error ("deliver_failed", "group=%s", group->name);
                break;
            }
        }
    }
}

typedef struct {
    s_client_t **list;
    size_t count, cap;
    int64_t cutoff;
} s_expire_t;

static void
s_collect_expired (const void *key, size_t key_size, void *value, void *arg)
{
    (void)key;
    (void)key_size;
    s_client_t *client = value;
    s_expire_t *expire = arg;
    if (!client->gone && client->last_seen_ms >= expire->cutoff)
        return;
    if (expire->count == expire->cap) {
        expire->cap = expire->cap ? expire->cap * 2 : 16;
        expire->list = zhub_realloc (expire->list, expire->cap * sizeof (s_client_t *));
    }
    expire->list[expire->count++] = client;
}

//  Forgets peers that went silent (and frees those found gone).
static void
s_expire_clients (broker_server_t *self)
{
    if (self->now < self->next_client_check_ms)
        return;
    self->next_client_check_ms = self->now + self->config.heartbeat_ms;
    s_expire_t expire = {.cutoff = self->now - S_FORGET_INTERVALS * self->config.heartbeat_ms};
    broker_map_each (self->clients, s_collect_expired, &expire);
    for (size_t i = 0; i < expire.count; i++) {
        s_client_t *client = expire.list[i];
        if (!client->gone) {
            const char *names[1];
            if (broker_groups_of (self->groups, client, names, 1))
                zhub_info ("member_forgotten", "client=%s silent_ms=%lld", client->label,
                           (long long)(self->now - client->last_seen_ms));
            broker_groups_forget (self->groups, client);
        }
        broker_map_del (self->clients, client->id, client->id_size);
        free (client);
    }
    free (expire.list);
}

//  --------------------------------------------------------------------------
//  The loop

static void
s_turn (broker_server_t *self)
{
    self->now = zhub_now_ms ();
    for (uint32_t i = 0; i < self->config.batch_max; i++)
        if (s_recv_one (self) <= 0)
            break;
    s_timers (self);
    s_group_ops (self);
    //  sweep dedup along with other writes, or on its own when idle long
    self->sweep =
        self->now >= self->next_sweep_ms
        || (s_writes (self) && self->now - self->last_sweep_ms >= self->config.sweep_interval_ms);
    if (self->op_count > 0 || self->sweep)
        s_commit (self);
    s_fill (self);
    s_dispatch (self);
    s_expire_clients (self);
}

static int
s_timeout (broker_server_t *self)
{
    int64_t now = zhub_now_ms ();
    int64_t wake = now + S_POLL_MAX_MS;
    int64_t timer = broker_groups_next_timer (self->groups);
    if (timer < wake)
        wake = timer;
    if (self->next_client_check_ms < wake)
        wake = self->next_client_check_ms;
    if (self->next_sweep_ms < wake)
        wake = self->next_sweep_ms;
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        if (group->dirty
            || (broker_group_has_room (self->groups, group) && group->scan <= self->log->last))
            return 0;
    }
    return wake > now ? (int)(wake - now) : 0;
}

int
broker_server_run (broker_server_t *self, volatile sig_atomic_t *stop)
{
    while (!*stop) {
        zmq_pollitem_t items[2] = {{self->sock, 0, ZMQ_POLLIN, 0}, {self->tap, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll (items, self->tap ? 2 : 1, s_timeout (self));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            zhub_error ("poll_failed", "error=\"%s\"", zmq_strerror (errno));
            return -1;
        }
        if (self->tap && (items[1].revents & ZMQ_POLLIN))
            s_tap_subscriptions (self);
        s_turn (self);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Construction

static int
s_bind (broker_server_t *self, char *err, size_t err_size)
{
    self->ctx = zmq_ctx_new ();
    self->sock = self->ctx ? zmq_socket (self->ctx, ZMQ_ROUTER) : NULL;
    if (!self->sock) {
        snprintf (err, err_size, "cannot create socket: %s", zmq_strerror (errno));
        return -1;
    }
    int one = 1, linger = S_LINGER_MS, hwm = self->config.send_hwm;
    int ivl = (int)self->config.heartbeat_ms, timeout = 3 * ivl, ttl = S_FORGET_INTERVALS * ivl;
    int64_t max_size = ZHUB_FRAME_MAX_SIZE;
    zmq_setsockopt (self->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt (self->sock, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    zmq_setsockopt (self->sock, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
    zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout);
    zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_TTL, &ttl, sizeof ttl);
    zmq_setsockopt (self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind (self->sock, self->config.endpoint)) {
        snprintf (err, err_size, "cannot bind %s: %s", self->config.endpoint, zmq_strerror (errno));
        return -1;
    }
    size_t size = sizeof self->endpoint;
    if (zmq_getsockopt (self->sock, ZMQ_LAST_ENDPOINT, self->endpoint, &size))
        snprintf (self->endpoint, sizeof self->endpoint, "%s", self->config.endpoint);
    if (!self->config.tap[0])
        return 0;
    self->tap = zmq_socket (self->ctx, ZMQ_XPUB);
    int tap_hwm = 10000, zero = 0;
    if (self->tap) {
        zmq_setsockopt (self->tap, ZMQ_SNDHWM, &tap_hwm, sizeof tap_hwm);
        zmq_setsockopt (self->tap, ZMQ_LINGER, &zero, sizeof zero);
    }
    if (!self->tap || zmq_bind (self->tap, self->config.tap)) {
        int error = errno;
        if (self->tap)
            zmq_close (self->tap);
        self->tap = NULL;
        //  the tap is a convenience: a default endpoint that is taken (a
        //  second broker on this machine, say) must not stop the broker;
        //  one the operator asked for must
        if (self->config.tap_explicit) {
            snprintf (err, err_size, "cannot bind the tap %s: %s", self->config.tap,
                      zmq_strerror (error));
            return -1;
        }
        zhub_warn ("tap_unavailable", "endpoint=%s error=\"%s\"", self->config.tap,
                   zmq_strerror (error));
        return 0;
    }
    size = sizeof self->tap_endpoint;
    if (zmq_getsockopt (self->tap, ZMQ_LAST_ENDPOINT, self->tap_endpoint, &size))
        snprintf (self->tap_endpoint, sizeof self->tap_endpoint, "%s", self->config.tap);
    return 0;
}

broker_server_t *
broker_server_new (const broker_config_t *config, char *err, size_t err_size)
{
    broker_server_t *self = zhub_calloc (1, sizeof *self);
    self->config = *config;
    self->now = self->started_ms = zhub_now_ms ();
    self->next_sweep_ms = self->now + config->sweep_interval_ms;
    self->last_sweep_ms = self->now;
    self->next_client_check_ms = self->now + config->heartbeat_ms;
    self->next_floor_flush_ms = self->now + S_FLOOR_FLUSH_MS;
    self->clients = broker_map_new ();
    //  what the retention walk may skip (see s_trim_verdict)
    self->trim_min_age_ms = INT64_MAX;
    for (size_t i = 0; i <= config->retention_count; i++) {
        const broker_retention_t *rule =
            i < config->retention_count ? &config->retention[i] : &config->retention_default;
        if (rule->max_age_ms > 0 && rule->max_age_ms < self->trim_min_age_ms)
            self->trim_min_age_ms = rule->max_age_ms;
        self->trim_bytes = self->trim_bytes || rule->max_bytes > 0;
    }
    self->trim_on = self->trim_bytes || self->trim_min_age_ms != INT64_MAX;
    //  Tags start at the clock shifted left 20 bits: a restarted broker's
    //  tags are above every tag the last run handed out unless it gave out
    //  more than a million per millisecond of its life.
    self->groups = broker_groups_new (config->window, (uint64_t)self->now << 20,
                                      (uint64_t)self->now ^ ((uint64_t)getpid () << 32));
    zhub_store_config_t store_config = {
        .data_dir = config->data_dir,
        .process = "broker",
        .schema_version = S_SCHEMA_VERSION,
        .max_map_size = config->max_map_size,
        .initial_map_size = config->max_map_size < ((size_t)64 << 20) ? config->max_map_size : 0,
    };
    self->store = zhub_store_open (&store_config, err, err_size);
    if (!self->store)
        goto fail;
    self->log = broker_log_new (self->store, config->dedup_window_ms);
    if (!self->log || broker_state_open (&self->state, self->store)) {
        snprintf (err, err_size, "cannot open the broker's tables");
        goto fail;
    }
    if (broker_state_load_groups (&self->state, self->groups) != ZHUB_OK) {
        snprintf (err, err_size, "cannot load consumer groups (corrupt record?)");
        goto fail;
    }
    if (s_bind (self, err, err_size))
        goto fail;
    return self;
fail:
    broker_server_destroy (&self);
    return NULL;
}

static void
s_free_client (const void *key, size_t key_size, void *value, void *arg)
{
    (void)key;
    (void)key_size;
    (void)arg;
    free (value);
}

void
broker_server_destroy (broker_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_server_t *self = *self_p;
    if (self->sock)
        zmq_close (self->sock);
    if (self->tap)
        zmq_close (self->tap);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    s_ops_clear (self);
    free (self->ops);
    broker_map_each (self->clients, s_free_client, NULL);
    broker_map_destroy (&self->clients);
    broker_groups_destroy (&self->groups);
    broker_log_destroy (&self->log);
    zhub_store_destroy (&self->store);
    free (self);
    *self_p = NULL;
}

const char *
broker_server_endpoint (broker_server_t *self)
{
    return self->endpoint;
}

const char *
broker_server_tap_endpoint (broker_server_t *self)
{
    return self->tap ? self->tap_endpoint : "off";
}
