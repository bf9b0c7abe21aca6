//  activity-log as the runtime runs it: its settings and state, its hooks
//  (open, close, tick), the handlers of its routes (main.c wires them),
//  and what every handler file does the same way. The handlers live with
//  their kind of work: the conversation events and the ids in
//  activity_log_io.c, the transcript timer in activity_log_transcript.c,
//  contact.forget in activity_log_forget.c; all of them sit above this
//  file and its store (activity_log_store.h: the tables, and why events
//  are parked), none calls another's.
#ifndef ACTIVITY_LOG_ACTOR_H
#define ACTIVITY_LOG_ACTOR_H

#include "activity_log.h"
#include "activity_log_store.h"
#include "hubspot.h"
#include "zhub_actor.h"

#define ACTIVITY_PRUNE_EVERY_MS (60LL * 1000) //  retention sweep at most this often
#define ACTIVITY_FLUSH_GRACE_MS                                                                    \
    (5LL * 60 * 1000) //  a flush timer older than due + this is re-armed

typedef struct {
    int64_t transcript_interval_ms; //  ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL (default 30s)
    int64_t retention_ms;           //  ZHUB_ACTIVITY_RETENTION (default 30d; 0 = keep)
    const char *owner_id;           //  ZHUB_ACTIVITY_OWNER_ID: escalation tasks' owner, or NULL
    zhub_hubspot_config_t hubspot_config; //  ZHUB_HUBSPOT_* (activity_log_config)
    zhub_hubspot_t *hubspot;              //  built on the runtime's HTTP client in open
    activity_log_tables_t tables;
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
zhub_actor_handler_fn activity_log_handle_calendar_down;
zhub_actor_handler_fn activity_log_handle_contact_synced;
zhub_actor_handler_fn activity_log_handle_deal_stage;
zhub_actor_handler_fn activity_log_handle_flush;
zhub_actor_handler_fn activity_log_handle_forget;

//  zhub_actor_spec_t.tick: the retention sweep (activity_log_store_prune), at
//  most every ACTIVITY_PRUNE_EVERY_MS (or half the retention when that is
//  shorter), whether messages come or not.
void activity_log_tick (zhub_actor_ctx_t *ctx);

//  The erase step of contact.forget (zhub_actor_erase_fn; ctx->state the
//  activity_log_t): activity_log_store_erase on the actor's tables
//  (activity_log_forget.c).
zhub_rc_t activity_log_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *who,
                              size_t *removed);

//  -------------------------------------------------------------------
//  What the handler files share

//  What one HubSpot call made for msg answered (what names the call in
//  logs and reasons): true on 2xx; otherwise false with *out the one
//  classification (callers that take a 404 as an answer check
//  resp->status and overwrite *out).
bool activity_log_answered (const zhub_msg_t *msg, const char *what, zhub_http_response_t *resp,
                            zhub_outcome_t *out);

//  activity.logged for an engagement made for msg (activity_logged_msg),
//  or NULL, logged, when the catalogue refuses it: the caller records the
//  engagement without it.
zhub_msg_t *activity_log_logged_msg (const zhub_msg_t *msg, const activity_event_t *ev,
                                     activity_kind_t kind, const char *hubspot_id, int64_t now_ms);

//  The HubSpot object an engagement of kind is.
zhub_hubspot_engagement_t activity_log_object (activity_kind_t kind);

#endif
