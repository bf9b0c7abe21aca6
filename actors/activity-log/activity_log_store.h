//  activity-log's state in LMDB: its tables, their keys and values, and
//  every transaction over them. The I/O side (activity_log_io.c,
//  activity_log_transcript.c, activity_log_forget.c) goes through the
//  functions below and knows no key format.
//
//  Tables (env $ZHUB_DATA_DIR/activity-log/):
//    contacts       Bird contact id -> {"contact":hubspot id,"deal":hubspot id}
//    conversations  conversation id -> the conversation cache (activity_conv_t, JSON)
//    engagements    "evt:<event id>:<kind>" | "booking:<booking id>"
//                   -> {"id":hubspot id,"at":ms}: what was already created,
//                   so a redelivered event never creates a second engagement
//    parked         Bird id, NUL, be64 (ms << 16 | n) -> the message
//                   (msgpack): events for a contact whose HubSpot id is not
//                   known yet, replayed in order when contact.synced brings it
//    made           "<bird id>|<hubspot id>" -> the engagement's address in
//                   HubSpot's API: every engagement made about someone, kept
//                   as long as it may exist, for an upstream erase to delete
//
//  Why park rather than NACK with a delay: the broker holds later messages
//  of the same subject while one waits for a retry, and contact.synced for
//  that contact has the same subject, so waiting would block the very event
//  that ends the wait.
#ifndef ACTIVITY_LOG_STORE_H
#define ACTIVITY_LOG_STORE_H

#include "activity_log.h"
#include "zhub_actor.h"
#include "zhub_strlist.h"

#define ACTIVITY_REPLAY_BATCH 100 //  parked events read back per contact.synced

typedef struct {
    zhub_table_t contacts, conversations, engagements, parked, made;
} activity_log_tables_t;

//  Opens (creating) the tables. 0, or -1.
int activity_log_tables_open (zhub_store_t *store, activity_log_tables_t *tables);

//  -------------------------------------------------------------------
//  The id map

//  A Bird contact's HubSpot ids (either may be NULL).
typedef struct {
    char *contact_id;
    char *deal_id;
} activity_log_ids_t;

//  Frees the ids and sets them to NULL.
void activity_log_ids_clear (activity_log_ids_t *ids);

//  bird_id's entry into *ids (the caller clears them). ZHUB_OK,
//  ZHUB_NOTFOUND, or ZHUB_ERROR (also for an entry that does not read).
zhub_rc_t activity_log_store_ids (zhub_store_t *store, const activity_log_tables_t *tables,
                                  const char *bird_id, activity_log_ids_t *ids);

//  Merges what was learned (either id may be NULL: kept as it is) into
//  bird_id's entry, in one transaction. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t activity_log_store_learn (zhub_store_t *store, const activity_log_tables_t *tables,
                                    const char *bird_id, const char *contact_id,
                                    const char *deal_id);

//  -------------------------------------------------------------------
//  Conversations and engagements

//  The cached conversation id into *conv (the caller clears it). ZHUB_OK,
//  ZHUB_NOTFOUND, or ZHUB_ERROR when unreadable.
zhub_rc_t activity_log_store_conv (zhub_store_t *store, const activity_log_tables_t *tables,
                                   const char *id, activity_conv_t *conv);

//  The engagement key of one event's engagement of kind ("evt:<event
//  id>:note"), and of a booking's meeting ("booking:<booking id>"). Fresh.
char *activity_log_event_key (const char *event_id, activity_kind_t kind);
char *activity_log_booking_key (const char *booking_id);

//  The HubSpot id recorded under an engagement key, as a fresh string in
//  *hubspot_id. ZHUB_OK; ZHUB_NOTFOUND (also for a record without an
//  id); ZHUB_ERROR when the store cannot be read or the record does not.
zhub_rc_t activity_log_store_engagement (zhub_store_t *store, const activity_log_tables_t *tables,
                                         const char *key, char **hubspot_id);

//  One commit: what an engagement or a transcript changed, in one write
//  transaction with the events it publishes. Every part is optional.
typedef struct {
    const activity_conv_t *conv;  //  conversations: conv->conversation_id -> conv
    const char *hubspot_id;       //  the engagement made (for the two entries below)
    const char *engagement_key;   //  engagements: key -> {"id": hubspot_id, "at": at_ms}
    int64_t at_ms;                //
    const char *made_bird;        //  made: "<made_bird>|<hubspot_id>" -> made_path, when both
    const char *made_path;        //  are set (a Bird id, the engagement's address)
    const zhub_msg_t *publish[2]; //  queued in the runtime's outbox, in order (NULL: none)
} activity_log_change_t;

//  Writes change in one transaction on ctx->store. ZHUB_OK or ZHUB_ERROR
//  (nothing written, nothing queued).
zhub_rc_t activity_log_store_commit (zhub_actor_ctx_t *ctx, const activity_log_tables_t *tables,
                                     const activity_log_change_t *change);

//  -------------------------------------------------------------------
//  Parked events

//  The sequence of a parked event: its time (unix ms, which the retention
//  reads back) and n, a counter that tells apart events of the same ms.
uint64_t activity_log_park_seq (int64_t now_ms, uint32_t n);

//  Keeps msg, an event about bird_id, under seq. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t activity_log_store_park (zhub_store_t *store, const activity_log_tables_t *tables,
                                   const char *bird_id, uint64_t seq, const zhub_msg_t *msg);

//  A contact's parked events, oldest first.
typedef struct {
    zhub_msg_t *msgs[ACTIVITY_REPLAY_BATCH]; //  NULL: a parked value that does not decode
    uint8_t *keys[ACTIVITY_REPLAY_BATCH];
    size_t key_sizes[ACTIVITY_REPLAY_BATCH];
    size_t count;
} activity_log_parked_t;

//  Reads the first ACTIVITY_REPLAY_BATCH events parked for bird_id into
//  *parked (which must be empty; clear it after). ZHUB_OK or ZHUB_ERROR.
zhub_rc_t activity_log_store_parked (zhub_store_t *store, const activity_log_tables_t *tables,
                                     const char *bird_id, activity_log_parked_t *parked);

//  Deletes the first count events of parked from the table. ZHUB_OK or
//  ZHUB_ERROR.
zhub_rc_t activity_log_store_unpark (zhub_store_t *store, const activity_log_tables_t *tables,
                                     const activity_log_parked_t *parked, size_t count);

//  Frees what parked holds; it is empty afterwards.
void activity_log_parked_clear (activity_log_parked_t *parked);

//  -------------------------------------------------------------------
//  Retention and forgetting

//  Deletes what is older than retention_ms at now_ms: conversation caches
//  (by their last message), parked events (by when they were parked),
//  engagement records of single events (bookings stay: a tour far ahead
//  may still move). Returns the number of entries deleted, or -1 on a
//  store fault. retention_ms 0 keeps everything.
int activity_log_store_prune (zhub_store_t *store, const activity_log_tables_t *tables,
                              int64_t retention_ms, int64_t now_ms);

//  The erase of contact.forget (a GDPR erase), in txn (a zhub_store_write
//  callback's, which the store may run again from scratch): stored ids
//  are compared with zhub_forget_is, text and parked envelopes searched
//  with zhub_forget_mentions_*. Deletes: the id map entries under one of
//  the person's ids or pointing at their HubSpot contact id (their keys
//  join the person's Bird ids); every cached conversation of those Bird
//  ids or whose transcript lines mention an identifier; every parked event
//  of those Bird ids, naming their HubSpot id, or whose envelope mentions
//  an identifier; the engagement records whose key mentions one; the made
//  entries of those Bird ids. *removed gets the number of entries deleted
//  (0 the second time). ZHUB_OK or ZHUB_ERROR.
zhub_rc_t activity_log_store_erase (zhub_txn_t *txn, const activity_log_tables_t *tables,
                                    const zhub_forget_t *who, size_t *removed);

//  The addresses of the engagements made about the person (their made
//  entries, found as the erase finds them, reading only), added to paths.
//  ZHUB_OK or ZHUB_ERROR.
zhub_rc_t activity_log_store_made_of (zhub_store_t *store, const activity_log_tables_t *tables,
                                      const zhub_forget_t *who, zhub_strlist_t *paths);

#endif
