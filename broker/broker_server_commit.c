//  The turn's group commit: every op applied in ONE write transaction,
//  then the answers (PUBACK, JOINED, PONG, STATS_REPLY, GROUP_OK) sent only
//  once it is stored, or 503 and a rebuild of the windows when it is not.
//  s_apply may run more than once (the store grows a full map and
//  retries), so it only writes to the store and the ops' result fields.
#include "broker_erase.h"
#include "broker_server_internal.h"

static const char *
s_client_label (void *client)
{
    return ((s_client_t *)client)->label;
}

void
broker_server_ops_clear (broker_server_t *self)
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

static void
s_pong (broker_server_t *self, s_client_t *client)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_PONG);
    const char *names[ZHUB_FRAME_MAX_TOPICS];
    size_t count = broker_groups_of (self->groups, client, names, ZHUB_FRAME_MAX_TOPICS);
    for (size_t i = 0; i < count; i++)
        zhub_frame_add_topic (frame, names[i]);
    broker_server_send (self, client, frame);
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
        broker_server_error (self, client, seq, ZHUB_ERR_STORAGE, "could not read the store");
        return;
    }
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_STATS_REPLY);
    frame->seq = seq;
    frame->msg = buf;
    frame->msg_size = size;
    broker_server_send (self, client, frame);
    zhub_frame_destroy (&frame);
}

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
                if (rc == ZHUB_OK && !op->duplicate && !strcmp (op->msg->type, BROKER_ERASE_TOPIC))
                    rc = broker_server_erase_add (self, txn, op->result_offset, op->msg);
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
    self->erase_compact = false;
    if (self->sweep && self->erase_pending && broker_server_erase_step (self, txn) != ZHUB_OK)
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
    broker_server_send (self, op->client, frame);
    zhub_frame_destroy (&frame);
}

//  True when the turn has something to store (answers alone need no
//  transaction).
bool
broker_server_writes (broker_server_t *self)
{
    for (size_t i = 0; i < self->op_count; i++) {
        s_kind_t kind = self->ops[i].kind;
        if (kind != OP_JOIN && kind != OP_PONG && kind != OP_STATS && kind != OP_GROUP_OK)
            return true;
    }
    return false;
}

//  Stores the turn (when it has writes or a sweep is due) and answers.
void
broker_server_commit (broker_server_t *self)
{
    if (!self->sweep && !broker_server_writes (self)) {
        for (size_t i = 0; i < self->op_count; i++) {
            s_op_t *op = &self->ops[i];
            if (op->kind == OP_JOIN) {
                zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_JOINED);
                frame->seq = op->seq;
                frame->group = zhub_strdup (op->group);
                broker_server_send (self, op->client, frame);
                zhub_frame_destroy (&frame);
            } else if (op->kind == OP_PONG)
                s_pong (self, op->client);
            else if (op->kind == OP_STATS)
                s_stats (self, op->client, op->seq);
            else if (op->kind == OP_GROUP_OK)
                s_group_ok (self, op);
        }
        broker_server_ops_clear (self);
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
        //  an erase request waits for its groups or has more to scan; a
        //  finished one is compacted before anyone hears of contact.erased
        if (self->erase_pending)
            self->next_sweep_ms = self->now + self->config.sweep_interval_ms;
        broker_server_erase_after_commit (self);
        if (self->log->last > before)
            broker_server_tap_send (self, before + 1, self->log->last);
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
                broker_server_error (self, op->client, op->seq, ZHUB_ERR_STORAGE,
                                     "the broker could not store it; retry");
        } else if (rc == ZHUB_OK && op->kind == OP_RESET) {
            broker_group_t *group = broker_groups_find (self->groups, op->group);
            if (group)
                group->floor_persisted = op->offset;
        } else if (op->kind == OP_PUBLISH || op->kind == OP_JOIN) {
            if (rc != ZHUB_OK) {
                broker_server_error (self, op->client, op->seq, ZHUB_ERR_STORAGE,
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
            broker_server_send (self, op->client, frame);
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
    broker_server_ops_clear (self);
}
