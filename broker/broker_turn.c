//  The turn's ops and their one table (see broker_turn.h): what each kind
//  writes in the turn's transaction and how it is answered afterwards.
//  Adding a kind means adding one row here; the commit, the answers and
//  "does this turn write?" all read the row.
#include "broker_turn.h"

#include "broker_dlq.h"
#include "broker_erase.h"
#include "broker_erasures.h"
#include "broker_stats.h"
#include "zhub_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

//  -------------------------------------------------------------------
//  Sending

void
broker_turn_client_gone (broker_server_t *self, broker_client_t *client)
{
    if (client->gone)
        return;
    client->gone = true;
    broker_groups_forget (self->groups, client);
    zhub_info ("peer_gone", "client=%s", client->label);
}

int
broker_turn_send (broker_server_t *self, broker_client_t *client, const zhub_frame_t *frame)
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
            broker_turn_client_gone (self, client);
        else
            zhub_warn ("send_failed", "client=%s cmd=%s error=\"%s\"", client->label,
                       zhub_cmd_name (frame->cmd), zmq_strerror (error));
        return -1;
    }
    return 0;
}

void
broker_turn_error (broker_server_t *self, broker_client_t *client, uint64_t seq, uint32_t code,
                   const char *reason)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_ERROR);
    frame->seq = seq;
    frame->code = code;
    frame->reason = zhub_strdup (reason);
    broker_turn_send (self, client, frame);
    zhub_frame_destroy (&frame);
}

//  -------------------------------------------------------------------
//  The op list

broker_op_t *
broker_turn_op_add (broker_server_t *self, broker_op_kind_t kind)
{
    if (self->op_count == self->op_cap) {
        self->op_cap = self->op_cap ? self->op_cap * 2 : 64;
        self->ops = zhub_realloc (self->ops, self->op_cap * sizeof (broker_op_t));
    }
    broker_op_t *op = &self->ops[self->op_count++];
    memset (op, 0, sizeof *op);
    op->kind = kind;
    return op;
}

void
broker_turn_ops_clear (broker_server_t *self)
{
    for (size_t i = 0; i < self->op_count; i++) {
        broker_op_t *op = &self->ops[i];
        zhub_msg_destroy (&op->msg);
        free (op->raw);
        free (op->group);
        free (op->reason);
        free (op->record);
    }
    self->op_count = 0;
}

void
broker_turn_failure (broker_server_t *self, const broker_group_t *group,
                     const broker_failure_t *failure, bool terminal, uint32_t code,
                     const char *reason)
{
    broker_op_t *op = broker_turn_op_add (self, failure->dead ? BROKER_OP_DEAD : BROKER_OP_RETRY);
    op->group = zhub_strdup (group->name);
    op->offset = failure->offset;
    op->attempts = failure->attempts;
    op->due_ms = failure->due_ms;
    op->code = code;
    op->reason = zhub_strdup (reason ? reason : "");
    op->cause = terminal ? "terminal" : "max_deliveries";
    char safe[80];
    if (failure->dead)
        zhub_info ("dead_letter", "group=%s offset=%llu attempts=%u cause=%s code=%u reason=%s",
                   group->name, (unsigned long long)failure->offset, failure->attempts, op->cause,
                   code, zhub_log_quote (reason, safe, sizeof safe));
    else
        zhub_debug ("retry_scheduled", "group=%s offset=%llu attempts=%u in_ms=%lld code=%u",
                    group->name, (unsigned long long)failure->offset, failure->attempts,
                    (long long)(failure->due_ms - self->now), code);
}

//  -------------------------------------------------------------------
//  Apply: what each kind writes in the turn's transaction

static zhub_rc_t
s_apply_publish (broker_server_t *self, zhub_txn_t *txn, broker_op_t *op)
{
    zhub_rc_t rc = broker_log_append (self->log, txn, &self->batch, op->msg, op->raw, op->raw_size,
                                      self->now, &op->result_offset, &op->duplicate);
    if (rc == ZHUB_OK && !op->duplicate && !strcmp (op->msg->type, BROKER_ERASE_TOPIC)) {
        bool noted = false;
        rc = broker_erasures_note (txn, self->erasures, op->result_offset,
                                   self->log->first ? self->log->first : 1, op->msg, &noted);
        self->erase_pending = self->erase_pending || noted;
    }
    return rc;
}

static zhub_rc_t
s_apply_hold (broker_server_t *self, zhub_txn_t *txn, broker_op_t *op)
{
    return broker_delayed_hold (&self->delayed, self->log, txn, op->msg, op->raw, op->raw_size,
                                self->now, &op->duplicate, &op->result_offset);
}

static zhub_rc_t
s_apply_release (broker_server_t *self, zhub_txn_t *txn, broker_op_t *op)
{
    return broker_delayed_release (&self->delayed, self->log, &self->batch, txn, self->now,
                                   BROKER_RELEASE_MAX, &op->released, &op->dropped, &op->next_due);
}

static zhub_rc_t
s_apply_ack (broker_server_t *self, zhub_txn_t *txn, broker_op_t *op)
{
    broker_msg_state_t state = {.done = true};
    return broker_state_put (&self->state, txn, op->group, op->offset, &state, 0);
}

static zhub_rc_t
s_apply_retry (broker_server_t *self, zhub_txn_t *txn, broker_op_t *op)
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

static zhub_rc_t
s_apply_dead (broker_server_t *self, zhub_txn_t *txn, broker_op_t *op)
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
        //  a replica group's dead letter is its parent's (dlq.<group>), with
        //  an id of its own so that every replica's is kept
        char parent[256];
        const char *tilde = strchr (op->group, '~');
        snprintf (parent, sizeof parent, "%.*s",
                  (int)(tilde ? (size_t)(tilde - op->group) : strlen (op->group)), op->group);
        zhub_msg_t *dead =
            broker_dlq_build (parent, record.msg, record.msg_size, op->offset, state.history,
                              state.history_count, op->code, op->cause, self->now);
        if (dead && tilde) {
            char *id = zhub_sprintf ("%s%s", dead->id, tilde);
            if (strlen (id) <= ZHUB_MSG_MAX_ID)
                zhub_msg_set (&dead->id, id);
            free (id);
        }
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
s_apply_group (broker_server_t *self, zhub_txn_t *txn, broker_op_t *op)
{
    return broker_state_put_group (&self->state, txn, op->group, op->record, op->record_size,
                                   op->from_floor, op->to_floor);
}

static zhub_rc_t
s_apply_reset (broker_server_t *self, zhub_txn_t *txn, broker_op_t *op)
{
    zhub_rc_t rc = broker_state_clear_group (&self->state, txn, op->group);
    if (rc == ZHUB_OK)
        rc = broker_state_put_group (&self->state, txn, op->group, op->record, op->record_size, 0,
                                     0);
    return rc;
}

//  -------------------------------------------------------------------
//  Answers

static void
s_storage_error (broker_server_t *self, broker_op_t *op)
{
    broker_turn_error (self, op->client, op->seq, ZHUB_ERR_STORAGE,
                       "the broker could not store it; retry");
}

static void
s_puback (broker_server_t *self, broker_op_t *op)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_PUBACK);
    frame->seq = op->seq;
    frame->offset = op->result_offset;
    frame->duplicate = op->duplicate;
    op->duplicate ? self->duplicates++ : self->published++;
    char safe_id[80], safe_topic[80];
    zhub_debug ("publish", "id=%s topic=%s offset=%llu duplicate=%s client=%s",
                zhub_log_safe (op->msg->id, safe_id, sizeof safe_id),
                zhub_log_safe (op->msg->type, safe_topic, sizeof safe_topic),
                (unsigned long long)op->result_offset, op->duplicate ? "true" : "false",
                op->client->label);
    broker_turn_send (self, op->client, frame);
    zhub_frame_destroy (&frame);
}

static void
s_held (broker_server_t *self, broker_op_t *op)
{
    if (!op->duplicate) {
        self->held++;
        if (op->msg->deliver_at_ms < self->next_release_ms)
            self->next_release_ms = op->msg->deliver_at_ms;
    }
    s_puback (self, op);
}

static void
s_released (broker_server_t *self, broker_op_t *op)
{
    uint64_t gone = (uint64_t)op->released + op->dropped;
    self->held = self->held > gone ? self->held - gone : 0;
    self->next_release_ms = op->next_due;
    if (op->released || op->dropped)
        zhub_debug ("released", "messages=%u duplicates=%u held=%llu", op->released, op->dropped,
                    (unsigned long long)self->held);
}

static void
s_joined (broker_server_t *self, broker_op_t *op)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_JOINED);
    frame->seq = op->seq;
    frame->group = zhub_strdup (op->group);
    broker_turn_send (self, op->client, frame);
    zhub_frame_destroy (&frame);
}

//  PONG waits for the turn's commit: it then promises that every ACK/NACK
//  the peer sent before its PING is stored. No PONG when the turn could not
//  be stored: the peer's ping times out instead of vouching for lost acks.
static void
s_pong (broker_server_t *self, broker_op_t *op)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_PONG);
    const char *names[ZHUB_FRAME_MAX_TOPICS];
    size_t count = broker_groups_of (self->groups, op->client, names, ZHUB_FRAME_MAX_TOPICS);
    for (size_t i = 0; i < count; i++)
        zhub_frame_add_topic (frame, names[i]);
    broker_turn_send (self, op->client, frame);
    zhub_frame_destroy (&frame);
}

static const char *
s_client_label (void *client)
{
    return ((broker_client_t *)client)->label;
}

static void
s_stats (broker_server_t *self, broker_op_t *op)
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
        .held = self->held,
        .next_release_ms = self->next_release_ms == INT64_MAX ? 0 : self->next_release_ms,
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
        broker_turn_error (self, op->client, op->seq, ZHUB_ERR_STORAGE, "could not read the store");
        return;
    }
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_STATS_REPLY);
    frame->seq = op->seq;
    frame->msg = buf;
    frame->msg_size = size;
    broker_turn_send (self, op->client, frame);
    zhub_frame_destroy (&frame);
}

static void
s_group_ok (broker_server_t *self, broker_op_t *op)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_GROUP_OK);
    frame->seq = op->seq;
    frame->group = zhub_strdup (op->group);
    frame->offset = op->offset;
    broker_turn_send (self, op->client, frame);
    zhub_frame_destroy (&frame);
}

static void
s_dead_stored (broker_server_t *self, broker_op_t *op)
{
    (void)self;
    if (op->dlq_failed)
        zhub_error ("dead_letter_lost", "group=%s offset=%llu", op->group,
                    (unsigned long long)op->offset);
    else
        zhub_info ("dead_letter_stored", "group=%s offset=%llu dlq_offset=%llu", op->group,
                   (unsigned long long)op->offset, (unsigned long long)op->result_offset);
}

static void
s_group_stored (broker_server_t *self, broker_op_t *op)
{
    broker_group_t *group = broker_groups_find (self->groups, op->group);
    if (group) {
        group->floor_persisted = op->to_floor;
        group->needs_write = false;
    }
}

static void
s_reset_stored (broker_server_t *self, broker_op_t *op)
{
    broker_group_t *group = broker_groups_find (self->groups, op->group);
    if (group)
        group->floor_persisted = op->offset;
}

//  -------------------------------------------------------------------
//  The table

typedef zhub_rc_t (s_apply_fn) (broker_server_t *self, zhub_txn_t *txn, broker_op_t *op);
typedef void (s_answer_fn) (broker_server_t *self, broker_op_t *op);

typedef struct {
    bool writes;
    s_apply_fn *apply;       //  in the transaction; NULL: nothing to write
    s_answer_fn *committed;  //  after a commit (or a turn with no writes); NULL: nothing
    s_answer_fn *failed;     //  after a failed commit; NULL: nothing
    bool rebuild_on_failure; //  memory moved ahead of the store: rebuild the windows
} s_kind_row_t;

//  A dead letter dropped the message from memory while the store has
//  neither the letter nor the original marked done; a reset moved the group
//  in memory only. Acks, retries and floors need no rebuild: after a
//  restart the store's older view means a redelivery, never a loss, and
//  floors are written again next turn.
static const s_kind_row_t s_kinds[BROKER_OP_KINDS] = {
    [BROKER_OP_PUBLISH] = {true, s_apply_publish, s_puback, s_storage_error, false},
    [BROKER_OP_HOLD] = {true, s_apply_hold, s_held, s_storage_error, false},
    [BROKER_OP_RELEASE] = {true, s_apply_release, s_released, NULL, false},
    [BROKER_OP_JOIN] = {false, NULL, s_joined, s_storage_error, false},
    [BROKER_OP_ACK] = {true, s_apply_ack, NULL, NULL, false},
    [BROKER_OP_ACK_COVERED] = {false, NULL, NULL, NULL, false},
    [BROKER_OP_RETRY] = {true, s_apply_retry, NULL, NULL, false},
    [BROKER_OP_DEAD] = {true, s_apply_dead, s_dead_stored, NULL, true},
    [BROKER_OP_GROUP] = {true, s_apply_group, s_group_stored, NULL, false},
    [BROKER_OP_RESET] = {true, s_apply_reset, s_reset_stored, NULL, true},
    [BROKER_OP_PONG] = {false, NULL, s_pong, NULL, false},
    [BROKER_OP_STATS] = {false, NULL, s_stats, s_stats, false},
    [BROKER_OP_GROUP_OK] = {false, NULL, s_group_ok, s_storage_error, false},
};

bool
broker_turn_writes (const broker_server_t *self)
{
    for (size_t i = 0; i < self->op_count; i++)
        if (s_kinds[self->ops[i].kind].writes)
            return true;
    return false;
}

zhub_rc_t
broker_turn_apply (broker_server_t *self, zhub_txn_t *txn)
{
    for (size_t i = 0; i < self->op_count; i++) {
        broker_op_t *op = &self->ops[i];
        const s_kind_row_t *row = &s_kinds[op->kind];
        if (row->apply && row->apply (self, txn, op) != ZHUB_OK)
            return ZHUB_ERROR;
    }
    return ZHUB_OK;
}

void
broker_turn_answer (broker_server_t *self, bool committed)
{
    bool rebuild = false;
    for (size_t i = 0; i < self->op_count; i++) {
        broker_op_t *op = &self->ops[i];
        const s_kind_row_t *row = &s_kinds[op->kind];
        s_answer_fn *answer = committed ? row->committed : row->failed;
        if (answer)
            answer (self, op);
        rebuild = rebuild || (!committed && row->rebuild_on_failure);
    }
    if (rebuild)
        broker_groups_reset (self->groups);
}
