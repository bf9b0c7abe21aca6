//  The bus protocol's commands (see proto/PROTOCOL.md). Every ZeroMQ
//  message between a client (DEALER) and the broker (ROUTER) is one frame:
//  a msgpack map whose "cmd" names the command. This file is the codec;
//  it does no I/O. One struct carries every command; each command uses the
//  fields its section of PROTOCOL.md lists and ignores the rest.
#ifndef ZHUB_FRAME_H
#define ZHUB_FRAME_H

#include "zhub_common.h"
#include "zhub_mpack.h"

#define ZHUB_PROTO_VERSION 1
#define ZHUB_FRAME_MAX_SIZE (4 * 1024 * 1024)   //  ZMQ_MAXMSGSIZE on both sides
//  A frame is a flat map (the envelope travels as bytes in `msg`): its
//  deepest field is a list of topics or backoff steps, its longest 64
//  topics. zhub_frame_decode refuses anything beyond.
#define ZHUB_FRAME_MAX_DEPTH 4
#define ZHUB_FRAME_MAX_ITEMS 512
#define ZHUB_FRAME_MAX_TOPICS 64
#define ZHUB_FRAME_MAX_BACKOFF 16
#define ZHUB_FRAME_MAX_INSTANCE 64 //  HELLO's instance: bytes of [A-Za-z0-9_-]
//  A group: 128 bytes, or a replica group "<group>~<instance>" (GROUP_SET,
//  GROUP_RESET, STATS; JOIN refuses the "~")
#define ZHUB_FRAME_MAX_GROUP (128 + 1 + ZHUB_FRAME_MAX_INSTANCE)

typedef enum {
    ZHUB_CMD_INVALID = 0,
    ZHUB_CMD_HELLO,     //  client -> broker: version, name
    ZHUB_CMD_WELCOME,   //  broker -> client: version
    ZHUB_CMD_PUBLISH,   //  client -> broker: seq, msg
    ZHUB_CMD_PUBACK,    //  broker -> client: seq, offset, duplicate
    ZHUB_CMD_JOIN,      //  client -> broker: seq, group, topics, credit, group settings
    ZHUB_CMD_JOINED,    //  broker -> client: seq, group
    ZHUB_CMD_CREDIT,    //  client -> broker: group, credit (added)
    ZHUB_CMD_DELIVER,   //  broker -> client: group, tag, offset, attempt, msg
    ZHUB_CMD_ACK,       //  client -> broker: tag
    ZHUB_CMD_NACK,      //  client -> broker: tag, delay_ms, terminal, code, reason
    ZHUB_CMD_LEAVE,     //  client -> broker: group
    ZHUB_CMD_PING,      //  either way: heartbeat
    ZHUB_CMD_PONG,      //  answer to PING: topics = groups the broker knows this client in
    ZHUB_CMD_ERROR,     //  broker -> client: seq, code, reason
    ZHUB_CMD_STATS,     //  client -> broker: seq
    ZHUB_CMD_STATS_REPLY,   //  broker -> client: seq, msg (a msgpack map of figures)
    ZHUB_CMD_GROUP_SET,     //  client -> broker: seq, group, settings to change (0 = keep)
    ZHUB_CMD_GROUP_RESET,   //  client -> broker: seq, group, offset or time_ms to move to
    ZHUB_CMD_GROUP_OK,      //  broker -> client: seq, group, offset (the group's floor)
    ZHUB_CMD_COUNT_
} zhub_cmd_t;

//  Error codes carried by ERROR (and NACK's code for dead-letter reasons).
typedef enum {
    ZHUB_ERR_NONE = 0,
    ZHUB_ERR_MALFORMED = 400,      //  the frame or envelope could not be decoded
    ZHUB_ERR_UNAUTHORIZED = 401,   //  the connection's key is not (or no longer) allowed
    ZHUB_ERR_FORBIDDEN = 403,      //  the key may not do this (topic, pattern, admin)
    ZHUB_ERR_VERSION = 426,        //  protocol version not supported
    ZHUB_ERR_NOT_JOINED = 404,     //  CREDIT for a group this client is not in; unknown group
    ZHUB_ERR_STALE_TAG = 409,      //  ACK/NACK for a delivery that is no longer current
    ZHUB_ERR_TOO_LARGE = 413,      //  message over the size limit
    ZHUB_ERR_STORAGE = 503         //  could not commit: retry later
} zhub_err_t;

typedef struct {
    zhub_cmd_t cmd;
    uint32_t version;        //  HELLO, WELCOME
    uint64_t seq;            //  PUBLISH, PUBACK, JOIN, JOINED, ERROR, STATS, STATS_REPLY
    uint64_t tag;            //  DELIVER, ACK, NACK
    uint64_t offset;         //  PUBACK, DELIVER
    uint32_t attempt;        //  DELIVER: 1 for the first delivery
    uint32_t credit;         //  JOIN (initial), CREDIT (added)
    int64_t delay_ms;        //  NACK: -1 = use the group's backoff schedule
    bool terminal;           //  NACK: no retry, dead-letter now
    bool defer;              //  NACK: retry after delay_ms without counting an attempt
    bool duplicate;          //  PUBACK: the id was already stored
    uint32_t code;           //  ERROR, NACK (reason code)
    char *name;              //  HELLO: client name (for logs and stats)
    char *instance;          //  HELLO: stable replica id (broadcast delivery, PROTOCOL.md 7.8)
    char *group;             //  JOIN, JOINED, CREDIT, DELIVER, LEAVE
    char *reason;            //  NACK, ERROR: human-readable
    char **topics;           //  JOIN: subscription patterns; PONG: joined groups
    size_t topic_count;
    //  JOIN: group settings, applied when the group is created (0 = default)
    uint32_t max_deliveries;
    int64_t ack_deadline_ms;
    int64_t backoff_ms[ZHUB_FRAME_MAX_BACKOFF];
    size_t backoff_count;
    char *start;             //  JOIN: "earliest" (default) or "latest" for a new group
    uint32_t max_in_flight;  //  GROUP_SET: cap on every member's credit (0 = keep)
    int64_t time_ms;         //  GROUP_RESET: unix ms to move to when offset is 0
    uint8_t *msg;            //  PUBLISH, DELIVER: envelope bytes; STATS_REPLY: figures
    size_t msg_size;
} zhub_frame_t;

//  A new zeroed frame for cmd (delay_ms preset to -1).
zhub_frame_t *zhub_frame_new (zhub_cmd_t cmd);

//  Frees the frame and every field it owns; NULL-safe; nulls *self_p.
void zhub_frame_destroy (zhub_frame_t **self_p);

//  Sets the owned byte payload (copied).
void zhub_frame_set_msg (zhub_frame_t *self, const uint8_t *data, size_t size);

//  Appends a topic (copied).
void zhub_frame_add_topic (zhub_frame_t *self, const char *topic);

//  Encodes into a fresh heap buffer (caller frees *buf). Returns 0, or -1
//  when a field the command requires is missing (a programmer error).
int zhub_frame_encode (const zhub_frame_t *self, uint8_t **buf, size_t *size);

//  Decodes bytes from the wire. Checks the map against limits first, then
//  requires the fields the command needs with the right types; unknown keys
//  are ignored. Returns a new frame, or NULL with a reason in err.
zhub_frame_t *zhub_frame_decode (const uint8_t *buf, size_t size, char *err, size_t err_size);

//  The command's wire name ("PUBLISH") or NULL; and back (ZHUB_CMD_INVALID
//  when unknown).
const char *zhub_cmd_name (zhub_cmd_t cmd);
zhub_cmd_t zhub_cmd_from_name (const char *name, size_t len);

#endif
