//  activity-log's I/O side: runs the pure core's decisions against HubSpot
//  (through the runtime's connector) and keeps the state in LMDB.
//
//  LMDB tables (env $ZHUB_DATA_DIR/activity-log/):
//    contacts       bird contact id -> {"contact":hubspot id,"deal":hubspot id}
//    conversations  conversation id -> the conversation cache (activity_conv_t, JSON)
//    engagements    "evt:<event id>:<kind>" | "booking:<booking id>"
//                   -> {"id":hubspot id,"at":ms}: what was already created,
//                   so a redelivered event never creates a second engagement
//    parked         bird id, NUL, u64 (time-ordered) -> the message (msgpack):
//                   events for a contact whose HubSpot id is not known yet;
//                   replayed, in order, when contact.synced brings the id
//    made           "<bird id>|<hubspot id>" -> the engagement's API path
//                   (zhub_hubspot_engagement_path): every engagement made about
//                   someone, kept as long as it may exist, for an upstream
//                   erase to delete
//
//  contact.forget deletes a person from every table (activity_log_erase);
//  with "upstream" it first deletes in HubSpot the engagements made about
//  them (activity_log_forget.c).
//
//  Why park rather than NACK with a delay: the broker holds later messages
//  of the same subject while one waits for a retry, and contact.synced for
//  that contact has the same subject, so waiting would block the very event
//  that ends the wait.
#ifndef ACTIVITY_LOG_IO_H
#define ACTIVITY_LOG_IO_H

#include "activity_log.h"
#include "hubspot.h"
#include "zhub_actor.h"

#define ACTIVITY_REPLAY_BATCH 100             //  parked events replayed per contact.synced
#define ACTIVITY_PRUNE_EVERY_MS (60LL * 1000) //  retention sweep at most this often
#define ACTIVITY_FLUSH_GRACE_MS                                                                    \
    (5LL * 60 * 1000) //  a flush timer older than due + this is re-armed

typedef struct {
    int64_t transcript_interval_ms; //  ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL (default 30s)
    int64_t retention_ms;           //  ZHUB_ACTIVITY_RETENTION (default 30d; 0 = keep)
    const char *owner_id;           //  ZHUB_ACTIVITY_OWNER_ID: escalation tasks' owner, or NULL
    zhub_hubspot_config_t hubspot_config; //  ZHUB_HUBSPOT_* (activity_log_config)
    zhub_hubspot_t *hubspot;              //  built on the runtime's HTTP client in open
    zhub_table_t contacts, conversations, engagements, parked, made;
    int64_t last_prune_ms;
    uint32_t park_counter;
} activity_log_t;

//  Reads the settings above from the environment. 0, or -1 with err.
int activity_log_config (activity_log_t *self, char *err, size_t err_size);

//  zhub_actor_spec_t.open: opens the tables. 0 or -1.
int activity_log_open (zhub_actor_ctx_t *ctx);

//  zhub_actor_spec_t.close: frees what activity_log_open made.
void activity_log_close (zhub_actor_ctx_t *ctx);

//  The handlers, one per route (main.c), each on the event the runtime
//  decoded once. The conversation events (started, message,
//  qualification, escalation, tour scheduled and canceled) are written as
//  engagements, or parked until their contact's HubSpot id is known;
//  contact.synced and deal.stage_changed teach those ids and replay what
//  was parked; activity.transcript.flush writes a coalesced transcript
//  (activity_log_transcript.c); contact.forget erases a person
//  (activity_log_forget.c).
zhub_actor_handler_fn activity_log_handle_started;
zhub_actor_handler_fn activity_log_handle_message;
zhub_actor_handler_fn activity_log_handle_qualification;
zhub_actor_handler_fn activity_log_handle_escalation;
zhub_actor_handler_fn activity_log_handle_tour_scheduled;
zhub_actor_handler_fn activity_log_handle_tour_canceled;
zhub_actor_handler_fn activity_log_handle_contact_synced;
zhub_actor_handler_fn activity_log_handle_deal_stage;
zhub_actor_handler_fn activity_log_handle_flush;
zhub_actor_handler_fn activity_log_handle_forget;

//  zhub_actor_spec_t.tick: the retention sweep (activity_log_prune), at
//  most every ACTIVITY_PRUNE_EVERY_MS (or half the retention when that is
//  shorter), whether messages come or not.
void activity_log_tick (zhub_actor_ctx_t *ctx);

//  Deletes what is older than the retention: conversation caches, parked
//  events, engagement ids of single events. Returns the number of entries
//  deleted, or -1 on a store fault.
int activity_log_prune (zhub_store_t *store, activity_log_t *self, int64_t now_ms);

//  The erase step of contact.forget (GDPR erase; zhub_actor_forget runs it,
//  ctx->state the activity_log_t): stored ids are compared with
//  zhub_forget_is, text and parked envelopes searched with
//  zhub_forget_mentions_*. Deletes in txn: the id map entries under one of
//  the person's ids or pointing at their HubSpot contact id (their keys
//  join the person's Bird ids); every cached conversation of those Bird ids
//  or whose transcript lines mention an identifier; every parked event of
//  those Bird ids, naming their HubSpot id, or whose envelope mentions an
//  identifier; the engagement records whose key mentions one; the made
//  entries of those Bird ids. Returns
//  ZHUB_OK with *removed the number of entries deleted (0 the second time),
//  or ZHUB_ERROR on a store fault.
zhub_rc_t activity_log_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *who,
                              size_t *removed);

//  contact.forget (activity_log_handle_forget) runs the erase above, and
//  with "upstream" first a DELETE in HubSpot of every engagement in `made`
//  for the person's Bird ids (HubSpot's GDPR delete of the contact leaves
//  the ones also associated with a deal).

#endif
