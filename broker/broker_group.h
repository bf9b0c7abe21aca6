//  Consumer groups and the delivery state of their messages, in memory and
//  free of I/O so that unit tests drive every decision directly.
//
//  A group holds a bounded window of pending entries: log offsets that
//  match its patterns, are at or above its floor (every offset below the
//  floor is done for the group) and are not yet done. The server fills the
//  window lazily from the log (scan) and persists what must survive a
//  restart; this module only decides:
//    - which READY entry goes to which member (dispatch): one member with
//      free credit, round robin; an entry whose subject has an earlier
//      entry still pending in the window waits (per-subject order);
//    - what a failure means (retry after backoff with jitter, or dead);
//    - which timers fired (ack deadlines, retry dues).
//
//  Broadcast topics (PROTOCOL.md 7.8; the broker's ZHUB_BROKER_BROADCAST)
//  reach every replica of a group, not one member. A group whose patterns
//  take broadcast topics leaves them to its replica groups, one per
//  replica (a HELLO instance; "default" for members that sent none),
//  named "<group>~<replica>": each is an ordinary group over the parent's
//  patterns limited to the broadcast topics, with its own floor, acks and
//  retries, whose members are that replica's connections. A member of the
//  parent takes no message while its replica group still has a broadcast
//  below it (the barrier), so a replica processes an erase before any
//  later work, and one that joins late catches up first.
//
//  Each entry moves through the delivery state machine of PROTOCOL.md:
//  READY -> INFLIGHT (dispatch) -> done (ack) | WAITING (nack, deadline)
//  | dead (terminal, max deliveries); WAITING -> READY when due; INFLIGHT
//  -> READY when handed back (LEAVE, DELIVER not sendable).
#ifndef BROKER_GROUP_H
#define BROKER_GROUP_H

#include "broker_map.h"
#include "zhub_frame.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROKER_MAX_PATTERNS 256

typedef enum {
    BROKER_READY = 0, //  may be delivered once a member has credit and its subject is free
    BROKER_INFLIGHT,  //  delivered under tag; waits for ACK/NACK until timer_ms
    BROKER_WAITING    //  failed; retried at timer_ms
} broker_entry_state_t;

typedef struct broker_group_t broker_group_t;
typedef struct broker_member_t broker_member_t;

typedef struct broker_entry_t {
    broker_group_t *group;
    uint64_t offset;
    char *subject; //  NULL when the message has no subject (no ordering)
    broker_entry_state_t state;
    uint32_t attempts;       //  failed attempts so far (a delivery's attempt is this + 1)
    uint64_t tag;            //  INFLIGHT: the current delivery's tag, else 0
    broker_member_t *member; //  INFLIGHT: the member holding it (NULL once forgotten)
    int64_t timer_ms;        //  INFLIGHT: ack deadline; WAITING: retry due (wall clock)
    uint64_t owner;          //  INFLIGHT: set by the server: whose key may answer it
    struct broker_entry_t *prev, *next;
} broker_entry_t;

struct broker_member_t {
    void *client; //  the server's handle for the peer (opaque here)
    broker_group_t *group;
    broker_group_t *barrier; //  its replica group (broadcasts first), or NULL
    uint32_t credit; //  max deliveries in flight to this member
    uint32_t inflight;
};

typedef struct {
    char **patterns; //  owned
    size_t pattern_count;
    uint32_t max_deliveries;
    int64_t ack_deadline_ms;
    int64_t backoff_ms[ZHUB_FRAME_MAX_BACKOFF];
    size_t backoff_count;
    uint32_t max_in_flight; //  cap on every member's credit; 0 = none (the member's credit)
} broker_settings_t;

struct broker_group_t {
    char *name;
    broker_settings_t settings; //  a replica group: no patterns of its own (its parent's)
    broker_group_t *parent;     //  a replica group: the group it serves; else NULL
    char *replica;              //  a replica group: the replica's name; else NULL
    const char *const *broadcast; //  the broadcast patterns (the groups' own)
    size_t broadcast_count;
    uint64_t floor;           //  every offset below is done for this group
    uint64_t floor_persisted; //  the floor as last committed to the store
    uint64_t scan;            //  the next log offset to examine
    bool needs_write;         //  settings changed and are not yet committed
    bool dirty;               //  a dispatch may find something to deliver
    int64_t created_ms;
    int64_t next_timer_ms;       //  earliest timer among entries (INT64_MAX: none)
    broker_entry_t *head, *tail; //  the window, in offset order
    size_t count, inflight, waiting;
    broker_member_t **members;
    size_t member_count;
    size_t rr; //  round-robin position among members
    //  counters since the broker started
    uint64_t delivered, redelivered, acked, dead_letters;
};

typedef struct {
    broker_group_t **list; //  groups in creation order
    size_t count;
    broker_map_t *by_name;
    broker_map_t *tags; //  tag -> INFLIGHT entry
    broker_map_t *seen; //  scratch for dispatch
    uint64_t next_tag;
    uint64_t rng;
    uint32_t window; //  max entries per group
    char **broadcast; //  topic patterns every replica receives (owned)
    size_t broadcast_count;
} broker_groups_t;

typedef struct {
    broker_entry_t *entry;
    broker_member_t *member;
} broker_assignment_t;

typedef struct {
    uint64_t offset;
    uint32_t attempts; //  failed attempts including this one
    bool dead;         //  dead-letter it (the entry is gone)
    int64_t due_ms;    //  not dead: when it will be retried
} broker_failure_t;

//  first_tag seeds delivery tags (take it from the clock so that tags stay
//  unique across restarts); seed drives the jitter.
broker_groups_t *broker_groups_new (uint32_t window, uint64_t first_tag, uint64_t seed);
void broker_groups_destroy (broker_groups_t **self_p);

broker_group_t *broker_groups_find (broker_groups_t *self, const char *name);

//  The broadcast topics (copied): set once, before any group is made.
void broker_groups_set_broadcast (broker_groups_t *self, char *const *patterns, size_t count);

//  True when some topic the group's patterns match is a broadcast topic
//  (the group then has replica groups).
bool broker_group_takes_broadcast (const broker_group_t *self);

//  The replica group of group for replica (made when missing, starting at
//  floor, with the parent's settings). Its name is "<group>~<replica>".
//  Returns it, or NULL when group takes no broadcast topic.
broker_group_t *broker_groups_replica (broker_groups_t *self, broker_group_t *group,
                                       const char *replica, uint64_t floor, int64_t created_ms);

//  After loading stored groups: links each replica group ("a~b") to its
//  parent ("a"). Replica groups whose parent is gone are left unlinked
//  (they match nothing).
void broker_groups_link_replicas (broker_groups_t *self);

//  Creates a group starting at floor; settings are copied. The group is
//  marked needs_write.
broker_group_t *broker_groups_create (broker_groups_t *self, const char *name,
                                      const broker_settings_t *settings, uint64_t floor,
                                      int64_t created_ms);

//  Adds the patterns the group does not have yet. Returns 1 when it added
//  any (and marks needs_write), 0 when nothing changed, -1 when the group
//  would exceed BROKER_MAX_PATTERNS.
int broker_group_add_patterns (broker_group_t *self, char *const *patterns, size_t count);

//  True when topic matches one of the group's patterns and is not the
//  group's own dead-letter topic (dlq.<name>). A group that has replica
//  groups leaves broadcast topics to them; a replica group matches only
//  the broadcast topics of its parent.
bool broker_group_matches (const broker_group_t *self, const char *topic);

//  True for a group name usable in "dlq.<group>" (a topic, no wildcards).
bool broker_group_name_valid (const char *name);

//  True for a subscription pattern: tokens of [A-Za-z0-9_-], "*" for one
//  token, ">" as the last token for one or more.
bool broker_pattern_valid (const char *pattern);

void broker_settings_free (broker_settings_t *settings);
void broker_settings_copy (broker_settings_t *dest, const broker_settings_t *src);

//  Members. join adds the client to the group or, when it is already a
//  member, sets its credit (0 means 1).
broker_member_t *broker_groups_join (broker_groups_t *self, broker_group_t *group, void *client,
                                     uint32_t credit);
broker_member_t *broker_group_member (broker_group_t *self, void *client);

//  The member leaves (the group's and its replica groups'): its in-flight
//  entries become READY at once.
void broker_groups_leave (broker_groups_t *self, broker_group_t *group, void *client);

//  The client is gone from every group. Its in-flight entries stay
//  INFLIGHT until their ack deadline (the peer may still ack them).
void broker_groups_forget (broker_groups_t *self, void *client);

//  Names of the groups the client is a member of, replica groups left out
//  (they are the broker's own); returns how many (at most max).
size_t broker_groups_of (broker_groups_t *self, void *client, const char **names, size_t max);

//  The window. has_room: fewer than `window` entries. push appends an
//  entry for offset (greater than any in the window): READY, or WAITING
//  when due_ms is still ahead. attempts are its earlier failures.
bool broker_group_has_room (const broker_groups_t *self, const broker_group_t *group);
broker_entry_t *broker_groups_push (broker_groups_t *self, broker_group_t *group, uint64_t offset,
                                    const char *subject, uint32_t attempts, int64_t due_ms,
                                    int64_t now_ms);

//  Recomputes the floor: the first entry's offset, or the scan position
//  when the window is empty. Never moves backwards. Returns it.
uint64_t broker_group_update_floor (broker_group_t *self);

//  Picks up to max deliveries: READY entries in offset order whose subject
//  has no earlier entry in the window, each to a member with free credit.
//  Marks them INFLIGHT with a fresh tag and the ack deadline.
size_t broker_groups_dispatch (broker_groups_t *self, broker_group_t *group, int64_t now_ms,
                               broker_assignment_t *out, size_t max);

//  A DELIVER could not be sent: the entry goes back to READY, no attempt
//  counted.
void broker_groups_undeliver (broker_groups_t *self, broker_entry_t *entry);

//  The INFLIGHT entry whose current delivery has this tag, or NULL (stale:
//  acked, failed, handed back or from before a restart).
broker_entry_t *broker_groups_by_tag (broker_groups_t *self, uint64_t tag);

//  The entry is done for its group: freed.
void broker_groups_ack (broker_groups_t *self, broker_entry_t *entry);

//  A failed attempt (NACK or ack deadline). delay_ms >= 0 overrides the
//  backoff. Dead when terminal or when attempts reach max_deliveries: the
//  entry is then freed. Fills *out.
void broker_groups_fail (broker_groups_t *self, broker_entry_t *entry, int64_t now_ms,
                         int64_t delay_ms, bool terminal, broker_failure_t *out);

//  A deferred delivery (NACK with defer: the consumer could not even try,
//  e.g. its peer's circuit is open): retried after delay_ms (-1: a
//  second) without counting an attempt, so an outage never dead-letters a
//  message by itself. Fills *out (never dead).
#define BROKER_DEFER_DEFAULT_MS 1000
void broker_groups_defer (broker_groups_t *self, broker_entry_t *entry, int64_t now_ms,
                          int64_t delay_ms, broker_failure_t *out);

//  Fires the group's timers: WAITING entries that are due become READY;
//  INFLIGHT entries past their deadline are returned in expired (at most
//  max; the caller fails each). Cheap when nothing is due.
size_t broker_groups_tick (broker_groups_t *self, broker_group_t *group, int64_t now_ms,
                           broker_entry_t **expired, size_t max);

//  The earliest timer over all groups (INT64_MAX when none).
int64_t broker_groups_next_timer (const broker_groups_t *self);

//  A member's effective window: its credit, capped by the group's
//  max_in_flight when that is set.
uint32_t broker_member_window (const broker_member_t *member);

//  Moves the group to floor (an operator's replay or skip): the window is
//  dropped (in-flight tags become stale, members keep their credit) and
//  scanning starts again at floor. The caller stores the new floor and
//  clears the group's per-message state in the same step.
void broker_groups_rewind (broker_groups_t *self, broker_group_t *group, uint64_t floor);

//  Drops every window (after a failed commit memory may be ahead of the
//  store): entries freed, tags forgotten, floor and scan back to the
//  committed floor. Groups and members stay.
void broker_groups_reset (broker_groups_t *self);

//  Retry delay after the attempts-th failure (1 = first): the schedule's
//  step (the last one repeats) scaled by a factor in [0.8, 1.2) taken from
//  u in [0, 1).
int64_t broker_backoff_ms (const int64_t *schedule, size_t count, uint32_t attempts, double u);

//  A uniform double in [0, 1) from the state (xorshift64*).
double broker_random (uint64_t *state);

#endif
