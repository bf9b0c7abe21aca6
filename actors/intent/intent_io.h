//  The intent router's I/O side: configuration (environment and the
//  mapping file's "intent" section), the AI classifier built in the open
//  hook, the handlers (one per route in main.c) and the retention sweep on
//  the tick. The decisions are intent.c's.
#ifndef INTENT_IO_H
#define INTENT_IO_H

#include "intent.h"
#include "intent_store.h"
#include "llm.h"
#include "zhub_actor.h"

#define INTENT_HOLD_MAX_MS (10LL * 60 * 1000)
#define INTENT_SWEEP_EVERY_MS (3600LL * 1000)

typedef struct {
    intent_config_t config;
    zhub_llm_config_t llm_config;
    zhub_llm_t *llm; //  NULL: no AI classifier
    intent_tables_t tables;
    int64_t swept_ms;
} intent_actor_t;

//  Reads ZHUB_INTENT_HOLD (default 10s, 0 to 10m), ZHUB_INTENT_RETENTION
//  (default 30d, at least 1d), the AI classifier's ZHUB_INTENT_LLM_* and
//  the mapping file's "intent" section, then makes the section's time zone
//  the process's. 0, or -1 with the reason in err.
int intent_actor_config_load (intent_actor_t *self, char *err, size_t err_size);
void intent_actor_config_log (const intent_actor_t *self);

int intent_open (zhub_actor_ctx_t *ctx);
void intent_close (zhub_actor_ctx_t *ctx);
void intent_tick (zhub_actor_ctx_t *ctx);

//  conversation.message: an inbound one is classified.
void intent_handle_message (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                            zhub_outcome_t *out);
//  intent.workflow.due: the held workflow event, unless doubled.
void intent_handle_due (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out);
//  tour.requested, escalation.triggered, contact.opted_out from others.
void intent_handle_workflow (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                             zhub_outcome_t *out);
void intent_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                           zhub_outcome_t *out);

#endif
