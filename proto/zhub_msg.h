//  The message envelope: one msgpack map per message with CloudEvents
//  attribute names (specversion, id, source, type, subject, time,
//  traceparent, data). See proto/PROTOCOL.md, section "Envelope".
//
//  `time` is unix milliseconds (an integer) on the wire; decoding also
//  accepts an RFC 3339 string from hand-written clients. `data` is always a
//  map; it is held here as its msgpack bytes so that the broker can store
//  and forward it without rebuilding it.
#ifndef ZHUB_MSG_H
#define ZHUB_MSG_H

#include "zhub_common.h"
#include "zhub_mpack.h"

#include <jansson.h>

#define ZHUB_MSG_MAX_ID 256       //  id, source, subject: bytes
#define ZHUB_MSG_MAX_TYPE 255     //  the topic: bytes
#define ZHUB_MSG_MAX_DELAY_MS (366LL * 24 * 3600 * 1000) //  deliverat at most this far ahead

//  -------------------------------------------------------------------
//  Decode limits: one set for every reader of envelopes, so that what one
//  part of zhub accepts is not refused by another further down (a dead
//  letter the dead-letter service cannot read, a delivery a client NACKs,
//  a record an erase cannot redact). Depth counts the envelope map as
//  level 1 and its data as level 2; items count every key, value and
//  container (zhub_mpack.h).
//
//  Nothing deeper than ZHUB_MPACK_MAX_DEPTH (32) can be decoded at all,
//  and the broker stores one kind of envelope deeper than it accepts: a
//  dead letter (PROTOCOL.md 8) holds the original two levels down
//  (envelope, data, message). So a published envelope may nest 30 deep,
//  and a stored one 32.

//  The largest envelope a broker accepts: the ceiling of
//  ZHUB_BROKER_MAX_MESSAGE (default 1 MiB). Half a frame
//  (ZHUB_FRAME_MAX_SIZE), so that the dead letter that wraps such an
//  envelope with its failure history still travels in one frame.
#define ZHUB_MSG_MAX_SIZE (2u * 1024 * 1024)
//  Nesting and items of a published envelope: more than any webhook or
//  domain event has, few enough to bound a decode's work, and room for
//  the two levels a dead letter adds.
#define ZHUB_MSG_MAX_DEPTH (ZHUB_MSG_STORED_MAX_DEPTH - 2)
#define ZHUB_MSG_MAX_ITEMS 100000
//  How deep data may nest: one level less than its envelope. The bound
//  for JSON that becomes data (zhub_json_limits_t.max_depth), such as a
//  webhook body or `zhub pub`'s argument, which are published whole.
#define ZHUB_MSG_DATA_MAX_DEPTH (ZHUB_MSG_MAX_DEPTH - 1)

//  What a broker stores and delivers: besides what it accepts, dead
//  letters, which add to an accepted envelope 2 levels, under 300 items
//  (at most 33 attempts of {time, code, reason}) and under 24 KiB (each
//  reason is cut to 512 bytes). A delivery is one frame, hence the size.
#define ZHUB_MSG_STORED_MAX_SIZE (4u * 1024 * 1024)
#define ZHUB_MSG_STORED_MAX_DEPTH ZHUB_MPACK_MAX_DEPTH
#define ZHUB_MSG_STORED_MAX_ITEMS (ZHUB_MSG_MAX_ITEMS + 1024)

//  A published envelope: what the broker must accept in a PUBLISH (with
//  max_size lowered to its ZHUB_BROKER_MAX_MESSAGE) and what anything
//  about to be published (an edited dead letter, a held message) must
//  be: {ZHUB_MSG_MAX_SIZE, ZHUB_MSG_MAX_DEPTH, ZHUB_MSG_MAX_ITEMS}.
extern const zhub_mpack_limits_t zhub_msg_publish_limits;

//  Any envelope a broker stored, as it is read back or delivered (the log,
//  the delayed queue, a DELIVER, the tap, an outbox, the gateway's spool,
//  a dead letter and the original inside it), and any data map of one (a
//  part is never larger than its whole): {ZHUB_MSG_STORED_MAX_SIZE,
//  ZHUB_MSG_STORED_MAX_DEPTH, ZHUB_MSG_STORED_MAX_ITEMS}.
extern const zhub_mpack_limits_t zhub_msg_stored_limits;

typedef struct {
    char *id;           //  unique per event; provider events derive it from the provider's id
    char *source;       //  "hubspot", "bird", "zhub/contact-sync", ...
    char *type;         //  the topic, dotted: "webhook.hubspot.contact.creation"
    char *subject;      //  the ordering key: "contact:<id>"; "" means unordered
    int64_t time_ms;    //  event time, unix ms
    char *traceparent;  //  W3C trace context or NULL
    uint8_t *data;      //  msgpack bytes of the data map (owned)
    size_t data_size;
    //  `deliverat`: unix ms before which the broker holds the message back
    //  (delayed delivery, PROTOCOL.md 6.3); 0 = deliver at once
    int64_t deliver_at_ms;
} zhub_msg_t;

//  A new empty message (all fields NULL, data an empty map).
zhub_msg_t *zhub_msg_new (void);

//  Frees the message and its fields; NULL-safe; nulls *self_p.
void zhub_msg_destroy (zhub_msg_t **self_p);

//  Sets a string field, copying the value (NULL clears it).
void zhub_msg_set (char **field, const char *value);

//  Replaces data with a copy of the given msgpack bytes (must be a map).
void zhub_msg_set_data (zhub_msg_t *self, const uint8_t *data, size_t size);

//  Replaces data with the msgpack form of a JSON object. Returns 0, or -1
//  when json is not an object.
int zhub_msg_set_data_json (zhub_msg_t *self, const json_t *json);

//  A GDPR erase redacts every retained message that mentions the person:
//  its data becomes {"zhub_erased": true} (docs/operations.md, "Erasing a
//  person"). zhub_msg_erase sets that data; zhub_msg_is_erased says
//  whether a message was redacted so (a consumer has nothing to act on).
void zhub_msg_erase (zhub_msg_t *self);
bool zhub_msg_is_erased (const zhub_msg_t *self);

//  data decoded as a jansson object (caller owns the reference), or NULL
//  when it cannot be represented or is beyond zhub_msg_stored_limits.
json_t *zhub_msg_data_json (const zhub_msg_t *self);

//  Checks the fields against the envelope rules (required id, source, type;
//  topic grammar; length limits). Returns 0, or -1 with a reason in err.
int zhub_msg_validate (const zhub_msg_t *self, char *err, size_t err_size);

//  Encodes into a fresh heap buffer (*buf, caller frees). Validates first;
//  returns 0, or -1 with a reason in err when the message is invalid.
int zhub_msg_encode (const zhub_msg_t *self, uint8_t **buf, size_t *size, char *err,
                     size_t err_size);

//  Decodes and validates bytes from outside; never crashes on malformed,
//  truncated or oversized input. Unknown keys are ignored (forward
//  compatible). Returns a new message, or NULL with a reason in err.
zhub_msg_t *zhub_msg_decode (const uint8_t *buf, size_t size, const zhub_mpack_limits_t *limits,
                             char *err, size_t err_size);

//  Same, from an already decoded object (e.g. inside a dead letter).
zhub_msg_t *zhub_msg_from_object (const msgpack_object *obj, char *err, size_t err_size);

//  A deep copy.
zhub_msg_t *zhub_msg_dup (const zhub_msg_t *self);

//  True when text is a valid topic: 1..255 bytes of dot-separated tokens of
//  [A-Za-z0-9_-]. Patterns (zhub_topic_match) also allow "*" and ">".
bool zhub_topic_valid (const char *text);

//  Matches a topic against a subscription pattern: tokens compare equal,
//  "*" matches one token, ">" as the last token matches one or more.
bool zhub_topic_match (const char *pattern, const char *topic);

#endif
