//  zhub-dead-letter's pure core: what a dead letter is once kept, how it is
//  stored (a msgpack record), how a replay is built and named, how an
//  operator's edit is applied and shown, which letters a filter selects,
//  and when an alert goes out. No I/O: the actor (dead_letter_io.c) and the
//  CLI (cli/cmd_dlq.c) both call these, and unit tests reach them directly.
//
//  A dead letter arrives as a `dlq.<group>` message from the broker
//  (proto/PROTOCOL.md, section 8). It is kept under a small local number
//  (`seq`, 1, 2, 3 ...) that operators type, and under its envelope id
//  (`dlq:<group>:<original id>`) which makes storing it idempotent.
#ifndef DEAD_LETTER_H
#define DEAD_LETTER_H

#include "zhub_common.h"
#include "zhub_forget.h"
#include "zhub_msg.h"

#include <jansson.h>

#define DEAD_LETTER_GROUP "dead-letter"
//  Operator commands travel on the bus under these topics (ADR 0004).
#define DEAD_LETTER_CMD_REPLAY "dead-letter.command.replay"
#define DEAD_LETTER_CMD_EDIT "dead-letter.command.edit"
#define DEAD_LETTER_CMD_PURGE "dead-letter.command.purge"
//  The key a replay adds to the message's data (see dead_letter_replay_msg).
#define DEAD_LETTER_REPLAY_KEY "zhub_replay"
//  Purge commands carry at most this many letters each.
#define DEAD_LETTER_PURGE_BATCH 1000
//  Alert: distinct groups named in one message.
#define DEAD_LETTER_ALERT_GROUPS 8

typedef struct {
    uint64_t seq;         //  local number, never reused
    char *dlq_id;         //  the dead letter's envelope id
    char *group;          //  the group that gave up on the message
    char *topic;          //  the original message's topic
    char *original_id;    //  the original message's id
    char *subject;        //  the original's subject ("" = none)
    char *cause;          //  "terminal" or "max_deliveries"
    uint32_t reason_code; //  code of the last failure
    char *reason;         //  reason of the last failure ("" = none)
    int64_t dead_at_ms;   //  when the broker dead-lettered it
    int64_t stored_at_ms; //  when this actor kept it
    uint64_t offset;      //  the original's offset in the broker's log
    uint8_t *attempts;    //  msgpack array of {time, code, reason}, as received
    size_t attempts_size;
    uint8_t *message; //  the envelope to replay (edited when revision > 0)
    size_t message_size;
    uint8_t *original; //  the envelope as dead-lettered, once edited (else NULL)
    size_t original_size;
    uint32_t revision; //  edits applied
    uint32_t replays;  //  replay generation: 0 = never replayed
    int64_t last_replay_ms;
    char *last_replay_id; //  id of the last replay published (NULL = none)
    char *last_command;   //  id of the last operator command applied (NULL = none)
    char *last_result;    //  what that command did: "replayed", "edited", "stale" ...
} dead_letter_t;

//  Frees what the record holds and zeroes it; idempotent.
void dead_letter_clear (dead_letter_t *self);

//  Reads a `dlq.<group>` message into *out (seq 0, stored_at now_ms).
//  Returns ZHUB_OK, or ZHUB_REJECT with a reason in err when the message
//  is not a dead letter (missing group, message or attempts).
zhub_rc_t dead_letter_from_msg (const zhub_msg_t *msg, int64_t now_ms, dead_letter_t *out,
                                char *err, size_t err_size);

//  The stored form: a msgpack map in a fresh heap buffer (*buf, caller
//  frees). Returns 0.
int dead_letter_encode (const dead_letter_t *self, uint8_t **buf, size_t *size);

//  Reads a stored record. Returns 0, or -1 when the bytes are not one.
int dead_letter_decode (const uint8_t *buf, size_t size, dead_letter_t *out);

//  The record as JSON for `zhub dlq show --json` (full: history and the
//  message) or one row of `zhub dlq list --json`. Caller decrefs.
json_t *dead_letter_to_json (const dead_letter_t *self, bool full);

//  A message envelope (bytes) as a JSON object, data included. NULL when
//  the bytes are not an envelope. Caller decrefs.
json_t *dead_letter_envelope_json (const uint8_t *buf, size_t size);

//  -------------------------------------------------------------------
//  Replays

//  The id of replay number `generation` (>= 1) of a message whose id is
//  original_id: "replay:<n>:<original id>", or, when that is over 256
//  bytes, "replay:<n>:h:<32 hex of BLAKE2b-128(original id)>". The same
//  dead letter replayed again with the same generation gets the same id,
//  so the broker's dedup window collapses the second publish. Fresh heap
//  string.
char *dead_letter_replay_id (const char *original_id, uint32_t generation);

//  The generation a replay request uses: the first replay is 1; a repeated
//  request keeps the last generation (same id, so it collapses) unless
//  `again` asks for a new one.
uint32_t dead_letter_replay_generation (const dead_letter_t *self, bool again);

//  Builds the message that replays the letter: the current (possibly
//  edited) envelope with the replay id, and data gaining the key
//  "zhub_replay": {"of": <message id>, "n": generation, "dead_letter":
//  <dlq id>, "group": <group>} (replacing one already there). Topic,
//  subject, source, time and traceparent stay the original's. Returns a
//  new message, or NULL with a reason in err.
zhub_msg_t *dead_letter_replay_msg (const dead_letter_t *self, uint32_t generation, char *err,
                                    size_t err_size);

//  -------------------------------------------------------------------
//  Commands (dead_letter_command.c): an operator's replay or edit applied
//  to one letter, once (the letter remembers the last command id applied)

typedef struct {
    const char *id;         //  the command's envelope id
    bool again;             //  replay: a new generation (dead_letter_replay_generation)
    uint64_t revision;      //  edit: the revision the operator edited
    const uint8_t *message; //  edit: the new envelope
    size_t message_size;
    int64_t now_ms;
    //  what it did, for the log: "replayed", "unreplayable", "edited",
    //  "stale" (edited by someone else since), "invalid" (not an envelope,
    //  another topic), "already_applied"
    const char *result;
    uint32_t generation; //  replay: the generation used
    char err[256];       //  why, for unreplayable and invalid
} dead_letter_command_t;

//  A replay of dl: *replay the message to publish (fresh; NULL when the
//  letter cannot be replayed or the command was applied already), dl
//  marked replayed (replays, last_replay_ms, last_replay_id) or
//  unreplayable, with the command. Returns true when dl changed (write it
//  back), false when this command was applied already.
bool dead_letter_command_replay (dead_letter_t *dl, dead_letter_command_t *cmd,
                                 zhub_msg_t **replay);

//  An edit of dl: the new message replaces the one to replay (the first
//  one kept as original) unless it is not an envelope of the same topic
//  (invalid) or dl was edited since the operator's revision (stale). Either
//  way dl is marked with the command. Returns true when dl changed, false
//  when this command was applied already.
bool dead_letter_command_edit (dead_letter_t *dl, dead_letter_command_t *cmd);

//  -------------------------------------------------------------------
//  Edits

//  Applies one assignment to an envelope (bytes in, new bytes out):
//  "data.<a>.<b>=<value>" sets a field inside data (objects on the path
//  are created), "subject=<value>" the subject. value is read as JSON when
//  it parses as JSON ("42", "true", "{...}", "\"x\""), else taken as a
//  string. Returns 0, or -1 with a reason in err.
int dead_letter_edit_set (const uint8_t *msg, size_t size, const char *assignment, uint8_t **out,
                          size_t *out_size, char *err, size_t err_size);

//  Replaces data with the JSON object in text (converted faithfully,
//  uint64 included). Returns 0, or -1 with a reason in err.
int dead_letter_edit_data (const uint8_t *msg, size_t size, const char *json_text, size_t json_size,
                           uint8_t **out, size_t *out_size, char *err, size_t err_size);

//  What an edit changes, one line per changed field, for --dry-run:
//    "- data.phone: \"+15550001\"\n+ data.phone: \"+15550002\"\n"
//  "" when nothing changes. Fresh heap string; NULL when either side is
//  not an envelope.
char *dead_letter_diff (const uint8_t *before, size_t before_size, const uint8_t *after,
                        size_t after_size);

//  -------------------------------------------------------------------
//  Selection

typedef struct {
    const char *group;  //  NULL = any
    const char *topic;  //  NULL = any; a pattern ("webhook.bird.>") is allowed
    int64_t since_ms;   //  0 = any time; else dead-lettered at or after
    int64_t before_ms;  //  0 = any time; else dead-lettered before
    const char *reason; //  NULL = any; digits = that reason code, else a
                        //  case-insensitive part of the reason or cause
} dead_letter_filter_t;

bool dead_letter_match (const dead_letter_t *self, const dead_letter_filter_t *filter);

//  -------------------------------------------------------------------
//  Forgetting a person (contact.forget, GDPR erase)
//
//  contact-sync publishes contact.forget with every identifier it knew of
//  the person (read with zhub_forget_parse). Every kept letter that
//  mentions one of them goes, with its index entries and dlq id.

//  True when the letter mentions the person anywhere: its subject, reason
//  and ids as text, the envelope (as dead-lettered and as edited) and the
//  failure history as msgpack; the rule is zhub_forget.h's.
bool dead_letter_mentions (const dead_letter_t *self, const zhub_forget_t *f);

//  -------------------------------------------------------------------
//  Alerts: one message per burst, at most one per interval.
//
//  A burst starts with a dead letter when nothing is pending; the message
//  goes out burst_ms later (so the letters of one incident are counted in
//  one message), and never sooner than interval_ms after the previous
//  message; letters arriving meanwhile are counted into the next one.

typedef struct {
    int64_t burst_ms;
    int64_t interval_ms;
    int64_t burst_start_ms; //  first pending letter's time; 0 = none pending
    int64_t last_sent_ms;   //  0 = never sent
    uint64_t pending;
    struct {
        char name[129];
        uint64_t count;
    } groups[DEAD_LETTER_ALERT_GROUPS];
    size_t group_count;
    uint64_t other; //  pending letters of groups not named
} dead_letter_alert_t;

void dead_letter_alert_init (dead_letter_alert_t *self, int64_t burst_ms, int64_t interval_ms);

//  Counts a new dead letter of group at now_ms.
void dead_letter_alert_note (dead_letter_alert_t *self, const char *group, int64_t now_ms);

//  True when a message is due now.
bool dead_letter_alert_due (const dead_letter_alert_t *self, int64_t now_ms);

//  The message text (Slack "text"): "zhub: 3 new dead letters (contact-sync
//  2, deal-sync 1). Review with `zhub dlq list`." Fresh heap string.
char *dead_letter_alert_text (const dead_letter_alert_t *self);

//  After an attempt to send: on success the pending count restarts from 0;
//  either way the next message waits for the interval.
void dead_letter_alert_sent (dead_letter_alert_t *self, bool ok, int64_t now_ms);

#endif
