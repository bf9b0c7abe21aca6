//  Timers, floors, windows and deliveries: ack deadlines turned into retry
//  or dead-letter ops, group records whose floors moved, filling the
//  groups' windows from the log and sending DELIVER frames.
#include "broker_deliver.h"

#include "zhub_log.h"

void
broker_deliver_timers (broker_server_t *self)
{
    //  held messages whose time came go to the log in this turn's commit
    if (self->now >= self->next_release_ms)
        broker_turn_op_add (self, BROKER_OP_RELEASE);
    broker_entry_t *expired[BROKER_EXPIRE_MAX];
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        size_t count =
            broker_groups_tick (self->groups, group, self->now, expired, BROKER_EXPIRE_MAX);
        for (size_t i = 0; i < count; i++) {
            zhub_info ("ack_deadline", "group=%s offset=%llu attempt=%u", group->name,
                       (unsigned long long)expired[i]->offset, expired[i]->attempts + 1);
            broker_failure_t failure;
            broker_groups_fail (self->groups, expired[i], self->now, -1, false, &failure);
            broker_turn_failure (self, group, &failure, false, 408, "ack deadline exceeded");
        }
    }
}

void
broker_deliver_group_ops (broker_server_t *self)
{
    bool flush = broker_turn_writes (self) || self->now >= self->next_floor_flush_ms;
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        broker_group_update_floor (group);
        if (!group->needs_write && !(flush && group->floor != group->floor_persisted))
            continue;
        broker_op_t *op = broker_turn_op_add (self, BROKER_OP_GROUP);
        op->group = zhub_strdup (group->name);
        broker_state_encode_group (group, &op->record, &op->record_size);
        op->from_floor = group->floor_persisted;
        op->to_floor = group->floor;
    }
    if (flush)
        self->next_floor_flush_ms = self->now + BROKER_FLOOR_FLUSH_MS;
    //  An ACK below its group's new floor needs no record of its own: the
    //  group record written in this same transaction already says every
    //  offset below the floor is done (and would delete the record anyway).
    //  Acks mostly arrive in order, so this halves their writes.
    for (size_t i = 0; flush && i < self->op_count; i++) {
        broker_op_t *op = &self->ops[i];
        if (op->kind != BROKER_OP_ACK)
            continue;
        broker_group_t *group = broker_groups_find (self->groups, op->group);
        if (group && op->offset < group->floor && group->floor != group->floor_persisted)
            op->kind = BROKER_OP_ACK_COVERED;
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

void
broker_deliver_fill (broker_server_t *self)
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
        broker_client_t *client = entry->member->client;
        broker_record_t record;
        if (broker_log_read (self->log, txn, entry->offset, &record) != ZHUB_OK) {
            zhub_error ("deliver_read_failed", "group=%s offset=%llu", entry->group->name,
                        (unsigned long long)entry->offset);
            broker_groups_undeliver (self->groups, entry);
            continue;
        }
        entry->owner = client->owner; //  whose key may answer it (broker_access.h)
        zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_DELIVER);
        //  a replica group's delivery is one of the group the member joined
        const broker_group_t *joined = entry->group->parent ? entry->group->parent : entry->group;
        frame->group = zhub_strdup (joined->name);
        frame->tag = entry->tag;
        frame->offset = entry->offset;
        frame->attempt = entry->attempts + 1;
        zhub_frame_set_msg (frame, record.msg, record.msg_size);
        if (broker_turn_send (self, client, frame))
            broker_groups_undeliver (self->groups, entry);
        else
            zhub_debug ("deliver", "group=%s offset=%llu tag=%llu attempt=%u client=%s",
                        entry->group->name, (unsigned long long)entry->offset,
                        (unsigned long long)entry->tag, frame->attempt, client->label);
        zhub_frame_destroy (&frame);
    }
    return ZHUB_OK;
}

void
broker_deliver_dispatch (broker_server_t *self)
{
    broker_assignment_t list[BROKER_DISPATCH_MAX];
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        for (int round = 0; round < BROKER_DISPATCH_ROUNDS && group->dirty; round++) {
            size_t count =
                broker_groups_dispatch (self->groups, group, self->now, list, BROKER_DISPATCH_MAX);
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
