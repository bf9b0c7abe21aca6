//  Reading frames off the socket and handling each command. Nothing here
//  touches the store for writing: a command either answers at once (errors,
//  WELCOME) or decides in memory and adds ops for the turn's commit.
#include "broker_commands.h"

#include "broker_access.h"
#include "broker_peers.h"
#include "zhub_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static void
s_publish (broker_server_t *self, broker_client_t *client, zhub_frame_t *frame)
{
    char err[256], reason[300];
    if (frame->msg_size > self->config.max_message) {
        snprintf (reason, sizeof reason, "message is %zu bytes; the limit is %zu", frame->msg_size,
                  self->config.max_message);
        self->rejected++;
        broker_turn_error (self, client, frame->seq, ZHUB_ERR_TOO_LARGE, reason);
        return;
    }
    //  what a publish may be (a dead letter of it must still be readable)
    zhub_mpack_limits_t limits = zhub_msg_publish_limits;
    limits.max_size = self->config.max_message;
    zhub_msg_t *msg = zhub_msg_decode (frame->msg, frame->msg_size, &limits, err, sizeof err);
    if (!msg) {
        snprintf (reason, sizeof reason, "invalid envelope: %s", err);
        self->rejected++;
        zhub_info ("publish_rejected", "client=%s seq=%llu reason=%s", client->label,
                   (unsigned long long)frame->seq, zhub_log_quote (reason, err, sizeof err));
        broker_turn_error (self, client, frame->seq, ZHUB_ERR_MALFORMED, reason);
        return;
    }
    if (!broker_access_publish (self, client, frame->seq, msg->type)) {
        zhub_msg_destroy (&msg);
        return;
    }
    //  deliverat in the future: held back (PROTOCOL.md 6.3), within bounds
    bool hold = msg->deliver_at_ms > self->now;
    if (hold && msg->deliver_at_ms - self->now > ZHUB_MSG_MAX_DELAY_MS) {
        self->rejected++;
        zhub_msg_destroy (&msg);
        broker_turn_error (self, client, frame->seq, ZHUB_ERR_MALFORMED,
                           "invalid envelope: deliverat is more than 366 days ahead");
        return;
    }
    broker_op_t *op = broker_turn_op_add (self, hold ? BROKER_OP_HOLD : BROKER_OP_PUBLISH);
    op->client = client;
    op->seq = frame->seq;
    op->msg = msg;
    op->raw = frame->msg; //  taken over from the frame
    op->raw_size = frame->msg_size;
    frame->msg = NULL;
    frame->msg_size = 0;
}

static void
s_join (broker_server_t *self, broker_client_t *client, zhub_frame_t *frame)
{
    char reason[300];
    if (!broker_group_name_valid (frame->group)) {
        broker_turn_error (self, client, frame->seq, ZHUB_ERR_MALFORMED,
                           "group must be 1..128 bytes of dot-separated [A-Za-z0-9_-] tokens");
        return;
    }
    for (size_t i = 0; i < frame->topic_count; i++) {
        if (!broker_pattern_valid (frame->topics[i])) {
            char safe[80];
            snprintf (reason, sizeof reason, "invalid topic pattern \"%s\"",
                      zhub_log_safe (frame->topics[i], safe, sizeof safe));
            broker_turn_error (self, client, frame->seq, ZHUB_ERR_MALFORMED, reason);
            return;
        }
    }
    if (frame->start && strcmp (frame->start, "earliest") && strcmp (frame->start, "latest")) {
        broker_turn_error (self, client, frame->seq, ZHUB_ERR_MALFORMED,
                           "start must be \"earliest\" or \"latest\"");
        return;
    }
    if (frame->ack_deadline_ms && frame->ack_deadline_ms < 100) {
        broker_turn_error (self, client, frame->seq, ZHUB_ERR_MALFORMED,
                           "ack_deadline_ms must be >= 100");
        return;
    }
    broker_group_t *group = broker_groups_find (self->groups, frame->group);
    if (!broker_access_join (self, client, frame->seq, frame->topics, frame->topic_count,
                             group ? group->settings.patterns : NULL,
                             group ? group->settings.pattern_count : 0))
        return;
    bool created = group == NULL;
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
        broker_turn_error (self, client, frame->seq, ZHUB_ERR_MALFORMED,
                           "too many patterns in group");
        return;
    }
    bool known = broker_group_member (group, client) != NULL;
    broker_member_t *member = broker_groups_join (self->groups, group, client, frame->credit);
    //  broadcast topics go to every replica: this one's own group, which it
    //  works through before anything later (PROTOCOL.md 7.8). A replica new
    //  to an older group starts at the log's beginning, so it learns the
    //  erases it missed; one made with its group starts where the group does
    const char *replica = client->instance ? client->instance : "default";
    broker_group_t *own = broker_groups_replica (self->groups, group, replica,
                                                 created ? group->floor : 1, self->now);
    if (own) {
        if (!broker_group_member (own, client))
            zhub_info ("replica_join", "group=%s replica=%s client=%s floor=%llu", group->name,
                       replica, client->label, (unsigned long long)own->floor);
        broker_groups_join (self->groups, own, client, frame->credit);
        member->barrier = own;
    }
    if (!known)
        zhub_info ("join", "group=%s client=%s credit=%u", group->name, client->label,
                   frame->credit ? frame->credit : 1);
    broker_op_t *op = broker_turn_op_add (self, BROKER_OP_JOIN);
    op->client = client;
    op->seq = frame->seq;
    op->group = zhub_strdup (group->name);
}

//  GROUP_SET: the operator changes a group's settings. Zero fields keep
//  their value. New settings apply to deliveries made from now on (a
//  delivery in flight keeps the deadline it was given).
static void
s_group_set (broker_server_t *self, broker_client_t *client, zhub_frame_t *frame)
{
    if (!broker_access_admin (self, client, frame->seq, "GROUP_SET"))
        return;
    broker_group_t *group = broker_groups_find (self->groups, frame->group);
    if (!group) {
        broker_turn_error (self, client, frame->seq, ZHUB_ERR_NOT_JOINED, "no such group");
        return;
    }
    if (frame->ack_deadline_ms && frame->ack_deadline_ms < 100) {
        broker_turn_error (self, client, frame->seq, ZHUB_ERR_MALFORMED,
                           "ack_deadline_ms must be >= 100");
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
    broker_op_t *op = broker_turn_op_add (self, BROKER_OP_GROUP_OK);
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
s_group_reset (broker_server_t *self, broker_client_t *client, zhub_frame_t *frame)
{
    if (!broker_access_admin (self, client, frame->seq, "GROUP_RESET"))
        return;
    broker_group_t *group = broker_groups_find (self->groups, frame->group);
    if (!group) {
        broker_turn_error (self, client, frame->seq, ZHUB_ERR_NOT_JOINED, "no such group");
        return;
    }
    uint64_t floor = frame->offset;
    if (floor == 0) {
        s_find_t find = {self, frame->time_ms, 0};
        if (zhub_store_read (self->store, s_find_time_txn, &find) != ZHUB_OK) {
            broker_turn_error (self, client, frame->seq, ZHUB_ERR_STORAGE,
                               "could not read the log");
            return;
        }
        floor = find.offset;
    }
    if (floor > self->log->last + 1)
        floor = self->log->last + 1;
    zhub_info ("group_reset", "group=%s client=%s from=%llu to=%llu", group->name, client->label,
               (unsigned long long)group->floor, (unsigned long long)floor);
    broker_groups_rewind (self->groups, group, floor);
    broker_op_t *op = broker_turn_op_add (self, BROKER_OP_RESET);
    op->group = zhub_strdup (group->name);
    op->offset = floor;
    broker_state_encode_group (group, &op->record, &op->record_size);
    op = broker_turn_op_add (self, BROKER_OP_GROUP_OK);
    op->client = client;
    op->seq = frame->seq;
    op->group = zhub_strdup (group->name);
    op->offset = floor;
}

static void
s_stale_tag (broker_server_t *self, broker_client_t *client, uint64_t tag)
{
    char reason[160];
    snprintf (reason, sizeof reason,
              "tag %llu is not a current delivery (acked, failed, handed back or expired)",
              (unsigned long long)tag);
    zhub_debug ("stale_tag", "client=%s tag=%llu", client->label, (unsigned long long)tag);
    broker_turn_error (self, client, 0, ZHUB_ERR_STALE_TAG, reason);
}

static void
s_handle (broker_server_t *self, broker_client_t *client, zhub_frame_t *frame)
{
    char reason[160];
    switch (frame->cmd) {
        case ZHUB_CMD_HELLO: {
            char safe[80];
            if (frame->version != ZHUB_PROTO_VERSION) {
                snprintf (reason, sizeof reason,
                          "protocol version %u is not supported; this broker speaks %d",
                          frame->version, ZHUB_PROTO_VERSION);
                broker_turn_error (self, client, 0, ZHUB_ERR_VERSION, reason);
                break;
            }
            if (frame->instance && !zhub_key_name_valid (frame->instance)) {
                broker_turn_error (self, client, 0, ZHUB_ERR_MALFORMED,
                                   "instance must be 1..64 of [A-Za-z0-9_-]");
                break;
            }
            if (frame->instance) {
                free (client->instance);
                client->instance = frame->instance;
                frame->instance = NULL;
            }
            zhub_debug ("hello", "client=%s name=%s instance=%s", client->label,
                        zhub_log_safe (frame->name, safe, sizeof safe),
                        client->instance ? client->instance : "-");
            zhub_frame_t *welcome = zhub_frame_new (ZHUB_CMD_WELCOME);
            welcome->version = ZHUB_PROTO_VERSION;
            broker_turn_send (self, client, welcome);
            zhub_frame_destroy (&welcome);
            break;
        }
        case ZHUB_CMD_PING: broker_turn_op_add (self, BROKER_OP_PONG)->client = client; break;
        case ZHUB_CMD_STATS: {
            //  it names every peer's routing id and every group
            if (!broker_access_admin (self, client, frame->seq, "STATS"))
                break;
            broker_op_t *op = broker_turn_op_add (self, BROKER_OP_STATS);
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
                broker_turn_error (self, client, 0, ZHUB_ERR_NOT_JOINED,
                                   "not a member of this group");
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
            if (!broker_access_answer (self, client, entry))
                break;
            broker_op_t *op = broker_turn_op_add (self, BROKER_OP_ACK);
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
            if (!broker_access_answer (self, client, entry))
                break;
            broker_group_t *group = entry->group;
            broker_failure_t failure;
            if (frame->defer && !frame->terminal)
                broker_groups_defer (self->groups, entry, self->now, frame->delay_ms, &failure);
            else
                broker_groups_fail (self->groups, entry, self->now, frame->delay_ms,
                                    frame->terminal, &failure);
            broker_turn_failure (self, group, &failure, frame->terminal, frame->code,
                                 frame->reason);
            break;
        }
        default:
            snprintf (reason, sizeof reason, "unexpected command %s from a client",
                      zhub_cmd_name (frame->cmd));
            broker_turn_error (self, client, frame->seq, ZHUB_ERR_MALFORMED, reason);
    }
}

//  Receives one message. Returns 1 when it handled one, 0 when none was
//  waiting, -1 on a fatal socket error.
int
broker_commands_recv_one (broker_server_t *self)
{
    zmq_msg_t id, body;
    zmq_msg_init (&id);
    if (zmq_msg_recv (&id, self->sock, ZMQ_DONTWAIT) < 0) {
        int error = errno;
        zmq_msg_close (&id);
        return (error == EAGAIN || error == EINTR) ? 0 : -1;
    }
    if (!zmq_msg_more (&id) || zmq_msg_size (&id) > sizeof ((broker_client_t *)0)->id) {
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
    broker_client_t *client = broker_peers_client (self, zmq_msg_data (&id), zmq_msg_size (&id));
    if (!broker_access_identify (self, client, &body))
        ; //  refused (ERROR 401 sent)
    else if (extra)
        broker_turn_error (self, client, 0, ZHUB_ERR_MALFORMED, "one frame per message");
    else {
        char err[256], reason[300];
        zhub_frame_t *frame =
            zhub_frame_decode (zmq_msg_data (&body), zmq_msg_size (&body), err, sizeof err);
        if (!frame) {
            snprintf (reason, sizeof reason, "malformed frame: %s", err);
            broker_turn_error (self, client, 0, ZHUB_ERR_MALFORMED, reason);
        } else {
            s_handle (self, client, frame);
            zhub_frame_destroy (&frame);
        }
    }
    zmq_msg_close (&body);
    zmq_msg_close (&id);
    return 1;
}
