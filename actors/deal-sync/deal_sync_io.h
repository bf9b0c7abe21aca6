//  deal-sync's I/O side: makes the calls the pure core (deal_sync.c)
//  decides on, and keeps what it learned through its store
//  (deal_sync_store.h), which queues deal.stage_changed in the runtime's
//  outbox in the same transaction as the state. contact.forget deletes a
//  person from every table (deal_sync_forget_io.c).
#ifndef DEAL_SYNC_IO_H
#define DEAL_SYNC_IO_H

#include "deal_sync.h"
#include "deal_sync_store.h"
#include "bird.h"
#include "hubspot.h"
#include "zhub_actor.h"

//  How long an AI event waits (NACK delay) for its contact's first sync,
//  multiplied by the delivery attempt.
#define DEAL_SYNC_WAIT_CONTACT_MS 2000
#define DEAL_SYNC_START_ATTEMPTS 30 //  pipelines API tries at start (1 s apart)
//  The name a person's deal gets in HubSpot when an upstream erase
//  removes what tied it to them.
#define DEAL_SYNC_ERASED_NAME "WhatsApp lead (erased)"

typedef struct {
    deal_sync_config_t core;
    zhub_hubspot_config_t hubspot_config; //  read by main
    zhub_bird_config_t bird_config;
    zhub_hubspot_t *hubspot; //  built on the runtime's HTTP client in deal_sync_open
    zhub_bird_t *bird;
    deal_sync_tables_t tables;
} deal_sync_t;

//  zhub_actor_spec_t.open: opens the tables. 0 or -1.
int deal_sync_open (zhub_actor_ctx_t *ctx);

//  zhub_actor_spec_t.close: frees what deal_sync_open made.
void deal_sync_close (zhub_actor_ctx_t *ctx);

//  Reads the deal pipelines (zhub_hubspot_deal_pipelines) and checks the stage map against them
//  (retrying a transport failure or 5xx up to DEAL_SYNC_START_ATTEMPTS
//  times). 0, or -1 with a reason.
int deal_sync_check_pipelines (zhub_actor_ctx_t *ctx, char *err, size_t err_size);

//  zhub_actor_spec_t.ready: the deal properties deal-sync writes exist in
//  HubSpot with the type and uniqueness it needs (zhub_deal_key unique).
bool deal_sync_ready (zhub_actor_ctx_t *ctx, char *why, size_t why_size);

//  The handlers, one per route (main.c), each on the event the runtime
//  decoded once:
//    conversation.stage_changed, qualification.completed, tour.scheduled:
//      the AI's stage (and what it knows) onto the contact's deal;
//    webhook.hubspot.deal.propertyChange: a person's stage change, to Bird
//      and as deal.stage_changed;
//    contact.synced: learn the contact's HubSpot id;
//    contact.forget: the GDPR erase (deal_sync_forget_io.c).
zhub_actor_handler_fn deal_sync_handle_stage_changed;
zhub_actor_handler_fn deal_sync_handle_qualification;
zhub_actor_handler_fn deal_sync_handle_tour;
zhub_actor_handler_fn deal_sync_handle_crm;
zhub_actor_handler_fn deal_sync_handle_synced;
zhub_actor_handler_fn deal_sync_handle_forget;

//  What one HubSpot call answered (what names the call in logs and
//  reasons; msg the message it was made for, or NULL): true on 2xx;
//  otherwise false with *out classified, except for HubSpot's own 404
//  (OBJECT_NOT_FOUND) when not_found_ok: the caller handles "absent".
bool deal_sync_answered (const char *what, const zhub_msg_t *msg, zhub_http_response_t *resp,
                         bool not_found_ok, zhub_outcome_t *out);

//  The erase step of contact.forget (zhub_actor_erase_fn; ctx->state the
//  deal_sync_t): deal_sync_store_erase on the actor's tables. The deal
//  itself stays in HubSpot: with "upstream" the handler first renames it,
//  and clears zhub_deal_key and conversation_id on it
//  (deal_sync_forget_io.c).
zhub_rc_t deal_sync_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *who,
                           size_t *removed);

#endif
