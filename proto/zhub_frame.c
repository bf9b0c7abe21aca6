//  Command codec. Which fields each command carries is one table
//  (s_layout); the encoder and decoder both read it, so they cannot drift.
#include "zhub_frame.h"
#include "zhub_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A stored envelope (a dead letter included) reaches its consumer in one
//  DELIVER frame.
_Static_assert (ZHUB_MSG_STORED_MAX_SIZE == ZHUB_FRAME_MAX_SIZE,
                "a delivery must fit a frame");
_Static_assert (2 * ZHUB_MSG_MAX_SIZE <= ZHUB_FRAME_MAX_SIZE,
                "a dead letter of the largest envelope must fit a frame");

enum {
    F_VERSION = 1 << 0,
    F_SEQ = 1 << 1,
    F_TAG = 1 << 2,
    F_OFFSET = 1 << 3,
    F_ATTEMPT = 1 << 4,
    F_CREDIT = 1 << 5,
    F_DELAY = 1 << 6,
    F_TERMINAL = 1 << 7,
    F_DUP = 1 << 8,
    F_CODE = 1 << 9,
    F_NAME = 1 << 10,
    F_GROUP = 1 << 11,
    F_REASON = 1 << 12,
    F_TOPICS = 1 << 13,
    F_GROUPCFG = 1 << 14,
    F_MSG = 1 << 15,
    F_MAXIF = 1 << 16,
    F_TIME = 1 << 17,
    F_DEFER = 1 << 18,
    F_INSTANCE = 1 << 19
};

static const struct {
    const char *name;
    unsigned uses, requires;
} s_layout[ZHUB_CMD_COUNT_] = {
    [ZHUB_CMD_HELLO] = {"HELLO", F_VERSION | F_NAME | F_INSTANCE, F_VERSION},
    [ZHUB_CMD_WELCOME] = {"WELCOME", F_VERSION, F_VERSION},
    [ZHUB_CMD_PUBLISH] = {"PUBLISH", F_SEQ | F_MSG, F_SEQ | F_MSG},
    [ZHUB_CMD_PUBACK] = {"PUBACK", F_SEQ | F_OFFSET | F_DUP, F_SEQ},
    [ZHUB_CMD_JOIN] = {"JOIN", F_SEQ | F_GROUP | F_TOPICS | F_CREDIT | F_GROUPCFG, F_GROUP | F_TOPICS},
    [ZHUB_CMD_JOINED] = {"JOINED", F_SEQ | F_GROUP, F_GROUP},
    [ZHUB_CMD_CREDIT] = {"CREDIT", F_GROUP | F_CREDIT, F_GROUP | F_CREDIT},
    [ZHUB_CMD_DELIVER] = {"DELIVER", F_GROUP | F_TAG | F_OFFSET | F_ATTEMPT | F_MSG,
                          F_GROUP | F_TAG | F_OFFSET | F_ATTEMPT | F_MSG},
    [ZHUB_CMD_ACK] = {"ACK", F_TAG, F_TAG},
    [ZHUB_CMD_NACK] = {"NACK", F_TAG | F_DELAY | F_TERMINAL | F_DEFER | F_CODE | F_REASON, F_TAG},
    [ZHUB_CMD_LEAVE] = {"LEAVE", F_GROUP, F_GROUP},
    [ZHUB_CMD_PING] = {"PING", 0, 0},
    [ZHUB_CMD_PONG] = {"PONG", F_TOPICS, 0},
    [ZHUB_CMD_ERROR] = {"ERROR", F_SEQ | F_CODE | F_REASON, F_CODE},
    [ZHUB_CMD_STATS] = {"STATS", F_SEQ, 0},
    [ZHUB_CMD_STATS_REPLY] = {"STATS_REPLY", F_SEQ | F_MSG, F_MSG},
    [ZHUB_CMD_GROUP_SET] = {"GROUP_SET", F_SEQ | F_GROUP | F_GROUPCFG | F_MAXIF, F_GROUP},
    [ZHUB_CMD_GROUP_RESET] = {"GROUP_RESET", F_SEQ | F_GROUP | F_OFFSET | F_TIME, F_GROUP},
    [ZHUB_CMD_GROUP_OK] = {"GROUP_OK", F_SEQ | F_GROUP | F_OFFSET, F_GROUP},
};

const char *
zhub_cmd_name (zhub_cmd_t cmd)
{
    return cmd > ZHUB_CMD_INVALID && cmd < ZHUB_CMD_COUNT_ ? s_layout[cmd].name : NULL;
}

zhub_cmd_t
zhub_cmd_from_name (const char *name, size_t len)
{
    for (int cmd = 1; cmd < ZHUB_CMD_COUNT_; cmd++)
        if (strlen (s_layout[cmd].name) == len && memcmp (s_layout[cmd].name, name, len) == 0)
            return (zhub_cmd_t) cmd;
    return ZHUB_CMD_INVALID;
}

zhub_frame_t *
zhub_frame_new (zhub_cmd_t cmd)
{
    zhub_frame_t *self = zhub_calloc (1, sizeof *self);
    self->cmd = cmd;
    self->delay_ms = -1;
    return self;
}

void
zhub_frame_destroy (zhub_frame_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_frame_t *self = *self_p;
    free (self->name);
    free (self->instance);
    free (self->group);
    free (self->reason);
    free (self->start);
    for (size_t i = 0; i < self->topic_count; i++)
        free (self->topics[i]);
    free (self->topics);
    free (self->msg);
    free (self);
    *self_p = NULL;
}

void
zhub_frame_set_msg (zhub_frame_t *self, const uint8_t *data, size_t size)
{
    free (self->msg);
    self->msg = zhub_malloc (size);
    if (size)
        memcpy (self->msg, data, size);
    self->msg_size = size;
}

void
zhub_frame_add_topic (zhub_frame_t *self, const char *topic)
{
    self->topics = zhub_realloc (self->topics, (self->topic_count + 1) * sizeof (char *));
    self->topics[self->topic_count++] = zhub_strdup (topic);
}

static void
s_pack_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    zhub_mpack_pack_str (pk, key);
    msgpack_pack_uint64 (pk, value);
}

int
zhub_frame_encode (const zhub_frame_t *self, uint8_t **buf, size_t *size)
{
    if (!zhub_cmd_name (self->cmd))
        return -1;
    unsigned uses = s_layout[self->cmd].uses, req = s_layout[self->cmd].requires;
    if (((req & F_GROUP) && !self->group) || ((req & F_MSG) && !self->msg)
        || ((req & F_TOPICS) && !self->topic_count))
        return -1;
    bool has_name = (uses & F_NAME) && self->name;
    bool has_instance = (uses & F_INSTANCE) && self->instance; //  sent only when set
    bool has_group = (uses & F_GROUP) && self->group;
    bool has_reason = (uses & F_REASON) && self->reason;
    bool has_topics = (uses & F_TOPICS) && self->topics;
    bool has_msg = (uses & F_MSG) && self->msg;
    bool has_start = (uses & F_GROUPCFG) && self->start;
    bool has_defer = (uses & F_DEFER) && self->defer; //  sent only when set
    size_t pairs = 1;
    pairs += !!(uses & F_VERSION) + !!(uses & F_SEQ) + !!(uses & F_TAG) + !!(uses & F_OFFSET)
             + !!(uses & F_ATTEMPT) + !!(uses & F_CREDIT) + !!(uses & F_DELAY)
             + !!(uses & F_TERMINAL) + !!(uses & F_DUP) + !!(uses & F_CODE) + !!(uses & F_MAXIF)
             + !!(uses & F_TIME);
    pairs += has_name + has_instance + has_group + has_reason + has_topics + has_msg + has_start + has_defer;
    if (uses & F_GROUPCFG)
        pairs += 3;

    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, pairs);
    zhub_mpack_pack_kv_str (&pk, "cmd", s_layout[self->cmd].name);
    if (uses & F_VERSION)
        s_pack_uint (&pk, "v", self->version);
    if (uses & F_SEQ)
        s_pack_uint (&pk, "seq", self->seq);
    if (uses & F_TAG)
        s_pack_uint (&pk, "tag", self->tag);
    if (uses & F_OFFSET)
        s_pack_uint (&pk, "offset", self->offset);
    if (uses & F_ATTEMPT)
        s_pack_uint (&pk, "attempt", self->attempt);
    if (uses & F_CREDIT)
        s_pack_uint (&pk, "credit", self->credit);
    if (uses & F_DELAY) {
        zhub_mpack_pack_str (&pk, "delay_ms");
        msgpack_pack_int64 (&pk, self->delay_ms);
    }
    if (uses & F_TERMINAL) {
        zhub_mpack_pack_str (&pk, "terminal");
        self->terminal ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
    }
    if (has_defer) {
        zhub_mpack_pack_str (&pk, "defer");
        msgpack_pack_true (&pk);
    }
    if (uses & F_DUP) {
        zhub_mpack_pack_str (&pk, "duplicate");
        self->duplicate ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
    }
    if (uses & F_CODE)
        s_pack_uint (&pk, "code", self->code);
    if (uses & F_MAXIF)
        s_pack_uint (&pk, "max_in_flight", self->max_in_flight);
    if (uses & F_TIME) {
        zhub_mpack_pack_str (&pk, "time_ms");
        msgpack_pack_int64 (&pk, self->time_ms);
    }
    if (has_name)
        zhub_mpack_pack_kv_str (&pk, "name", self->name);
    if (has_instance)
        zhub_mpack_pack_kv_str (&pk, "instance", self->instance);
    if (has_group)
        zhub_mpack_pack_kv_str (&pk, "group", self->group);
    if (has_reason)
        zhub_mpack_pack_kv_str (&pk, "reason", self->reason);
    if (has_topics) {
        zhub_mpack_pack_str (&pk, "topics");
        msgpack_pack_array (&pk, self->topic_count);
        for (size_t i = 0; i < self->topic_count; i++)
            zhub_mpack_pack_str (&pk, self->topics[i]);
    }
    if (uses & F_GROUPCFG) {
        s_pack_uint (&pk, "max_deliveries", self->max_deliveries);
        zhub_mpack_pack_str (&pk, "ack_deadline_ms");
        msgpack_pack_int64 (&pk, self->ack_deadline_ms);
        zhub_mpack_pack_str (&pk, "backoff_ms");
        msgpack_pack_array (&pk, self->backoff_count);
        for (size_t i = 0; i < self->backoff_count; i++)
            msgpack_pack_int64 (&pk, self->backoff_ms[i]);
    }
    if (has_start)
        zhub_mpack_pack_kv_str (&pk, "start", self->start);
    if (has_msg) {
        zhub_mpack_pack_str (&pk, "msg");
        msgpack_pack_bin (&pk, self->msg_size);
        if (self->msg_size)
            msgpack_pack_bin_body (&pk, self->msg, self->msg_size);
    }
    *buf = (uint8_t *) sbuf.data;
    *size = sbuf.size;
    return 0;
}

static zhub_frame_t *
s_fail (zhub_frame_t **frame, char *err, size_t err_size, const char *reason, const char *field)
{
    if (err && err_size)
        snprintf (err, err_size, "%s%s%s", reason, field ? ": " : "", field ? field : "");
    zhub_frame_destroy (frame);
    return NULL;
}

//  Reads an optional unsigned field. Returns 0 when absent or valid, -1
//  when present with the wrong type or out of range.
static int
s_read_uint (const msgpack_object *map, const char *key, uint64_t max, uint64_t *out, bool *seen)
{
    const msgpack_object *value = zhub_mpack_get (map, key);
    *seen = value != NULL;
    if (!value)
        return 0;
    uint64_t v;
    if (zhub_mpack_uint (value, &v) || v > max)
        return -1;
    *out = v;
    return 0;
}

static int
s_read_bool (const msgpack_object *map, const char *key, bool *out, bool *seen)
{
    const msgpack_object *value = zhub_mpack_get (map, key);
    *seen = value != NULL;
    if (!value)
        return 0;
    if (value->type != MSGPACK_OBJECT_BOOLEAN)
        return -1;
    *out = value->via.boolean;
    return 0;
}

static int
s_read_str (const msgpack_object *map, const char *key, size_t max, char **out, bool *seen)
{
    const msgpack_object *value = zhub_mpack_get (map, key);
    *seen = value != NULL && value->type != MSGPACK_OBJECT_NIL;
    if (!*seen)
        return 0;
    if (value->type != MSGPACK_OBJECT_STR || value->via.str.size > max)
        return -1;
    *out = zhub_mpack_strdup (value);
    return *out ? 0 : -1;
}

zhub_frame_t *
zhub_frame_decode (const uint8_t *buf, size_t size, char *err, size_t err_size)
{
    zhub_mpack_limits_t limits = {.max_size = ZHUB_FRAME_MAX_SIZE,
                                  .max_depth = ZHUB_FRAME_MAX_DEPTH,
                                  .max_items = ZHUB_FRAME_MAX_ITEMS};
    msgpack_unpacked result;
    if (zhub_mpack_decode (buf, size, &limits, &result, err, err_size))
        return NULL;
    const msgpack_object *map = &result.data;
    zhub_frame_t *self = NULL;
    const msgpack_object *cmd = zhub_mpack_get (map, "cmd");
    if (!cmd || cmd->type != MSGPACK_OBJECT_STR) {
        s_fail (&self, err, err_size, "frame has no cmd", NULL);
        goto done;
    }
    zhub_cmd_t code = zhub_cmd_from_name (cmd->via.str.ptr, cmd->via.str.size);
    if (code == ZHUB_CMD_INVALID) {
        s_fail (&self, err, err_size, "unknown cmd", NULL);
        goto done;
    }
    self = zhub_frame_new (code);
    unsigned uses = s_layout[code].uses, req = s_layout[code].requires, seen = 0;
    bool present;
    uint64_t v;

#define UINT_FIELD(flag, key, max, target)                                                \
    if (uses & flag) {                                                                    \
        if (s_read_uint (map, key, max, &v, &present)) {                                  \
            s_fail (&self, err, err_size, "bad field", key);                              \
            goto done;                                                                    \
        }                                                                                 \
        if (present) {                                                                    \
            target = v;                                                                   \
            seen |= flag;                                                                 \
        }                                                                                 \
    }
    UINT_FIELD (F_VERSION, "v", UINT32_MAX, self->version)
    UINT_FIELD (F_SEQ, "seq", UINT64_MAX, self->seq)
    UINT_FIELD (F_TAG, "tag", UINT64_MAX, self->tag)
    UINT_FIELD (F_OFFSET, "offset", UINT64_MAX, self->offset)
    UINT_FIELD (F_ATTEMPT, "attempt", UINT32_MAX, self->attempt)
    UINT_FIELD (F_CREDIT, "credit", 1000000, self->credit)
    UINT_FIELD (F_CODE, "code", UINT32_MAX, self->code)
    UINT_FIELD (F_MAXIF, "max_in_flight", 1000000, self->max_in_flight)
#undef UINT_FIELD
    if (uses & F_TIME) {
        const msgpack_object *time = zhub_mpack_get (map, "time_ms");
        if (time && zhub_mpack_int (time, &self->time_ms)) {
            s_fail (&self, err, err_size, "bad field", "time_ms");
            goto done;
        }
    }
    if (uses & F_DELAY) {
        const msgpack_object *delay = zhub_mpack_get (map, "delay_ms");
        if (delay && (zhub_mpack_int (delay, &self->delay_ms) || self->delay_ms > 366LL * 86400000)) {
            s_fail (&self, err, err_size, "bad field", "delay_ms");
            goto done;
        }
        if (self->delay_ms < -1)
            self->delay_ms = -1;
    }
    if (((uses & F_TERMINAL) && s_read_bool (map, "terminal", &self->terminal, &present))
        || ((uses & F_DEFER) && s_read_bool (map, "defer", &self->defer, &present))
        || ((uses & F_DUP) && s_read_bool (map, "duplicate", &self->duplicate, &present))) {
        s_fail (&self, err, err_size, "bad boolean field", NULL);
        goto done;
    }
    if (uses & F_NAME) {
        if (s_read_str (map, "name", 256, &self->name, &present)) {
            s_fail (&self, err, err_size, "bad field", "name");
            goto done;
        }
    }
    if (uses & F_INSTANCE) {
        if (s_read_str (map, "instance", ZHUB_FRAME_MAX_INSTANCE, &self->instance, &present)) {
            s_fail (&self, err, err_size, "bad field", "instance");
            goto done;
        }
    }
    if (uses & F_GROUP) {
        if (s_read_str (map, "group", ZHUB_FRAME_MAX_GROUP, &self->group, &present)) {
            s_fail (&self, err, err_size, "bad field", "group");
            goto done;
        }
        if (present)
            seen |= F_GROUP;
    }
    if (uses & F_REASON) {
        if (s_read_str (map, "reason", 4096, &self->reason, &present)) {
            s_fail (&self, err, err_size, "bad field", "reason");
            goto done;
        }
    }
    if (uses & F_GROUPCFG) {
        if (s_read_str (map, "start", 16, &self->start, &present)) {
            s_fail (&self, err, err_size, "bad field", "start");
            goto done;
        }
        uint64_t max_deliveries = 0;
        if (s_read_uint (map, "max_deliveries", 1000, &max_deliveries, &present)) {
            s_fail (&self, err, err_size, "bad field", "max_deliveries");
            goto done;
        }
        self->max_deliveries = (uint32_t) max_deliveries;
        const msgpack_object *deadline = zhub_mpack_get (map, "ack_deadline_ms");
        if (deadline && (zhub_mpack_int (deadline, &self->ack_deadline_ms) || self->ack_deadline_ms < 0)) {
            s_fail (&self, err, err_size, "bad field", "ack_deadline_ms");
            goto done;
        }
        const msgpack_object *backoff = zhub_mpack_get (map, "backoff_ms");
        if (backoff) {
            if (backoff->type != MSGPACK_OBJECT_ARRAY || backoff->via.array.size > ZHUB_FRAME_MAX_BACKOFF) {
                s_fail (&self, err, err_size, "bad field", "backoff_ms");
                goto done;
            }
            for (uint32_t i = 0; i < backoff->via.array.size; i++) {
                int64_t step;
                if (zhub_mpack_int (&backoff->via.array.ptr[i], &step) || step < 0) {
                    s_fail (&self, err, err_size, "bad field", "backoff_ms");
                    goto done;
                }
                self->backoff_ms[self->backoff_count++] = step;
            }
        }
    }
    if (uses & F_TOPICS) {
        const msgpack_object *topics = zhub_mpack_get (map, "topics");
        if (topics) {
            if (topics->type != MSGPACK_OBJECT_ARRAY || topics->via.array.size > ZHUB_FRAME_MAX_TOPICS) {
                s_fail (&self, err, err_size, "bad field", "topics");
                goto done;
            }
            for (uint32_t i = 0; i < topics->via.array.size; i++) {
                char *topic = zhub_mpack_strdup (&topics->via.array.ptr[i]);
                if (!topic) {
                    s_fail (&self, err, err_size, "bad field", "topics");
                    goto done;
                }
                zhub_frame_add_topic (self, topic);
                free (topic);
            }
            if (self->topic_count)
                seen |= F_TOPICS;
        }
    }
    if (uses & F_MSG) {
        const msgpack_object *msg = zhub_mpack_get (map, "msg");
        if (msg) {
            if (msg->type != MSGPACK_OBJECT_BIN) {
                s_fail (&self, err, err_size, "bad field", "msg");
                goto done;
            }
            zhub_frame_set_msg (self, (const uint8_t *) msg->via.bin.ptr, msg->via.bin.size);
            seen |= F_MSG;
        }
    }
    if ((req & seen) != req)
        s_fail (&self, err, err_size, "missing required field for", s_layout[code].name);
done:
    msgpack_unpacked_destroy (&result);
    return self;
}
