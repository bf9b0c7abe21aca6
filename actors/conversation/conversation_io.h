//  The conversation bridge's I/O side: configuration, the store wiring,
//  the handlers the runtime calls (one per route in main.c) and the
//  retention sweep on the tick. The decisions are conversation.c's.
#ifndef CONVERSATION_IO_H
#define CONVERSATION_IO_H

#include "conversation.h"
#include "conversation_store.h"
#include "zhub_actor.h"

//  How often the idle tick looks for records past their retention.
#define CONVERSATION_SWEEP_EVERY_MS (3600LL * 1000)

typedef struct {
    conversation_config_t config;
    conversation_tables_t tables;
    int64_t swept_ms; //  monotonic ms of the last retention sweep (0: none yet)
} conversation_actor_t;

//  Reads ZHUB_CONVERSATION_IDLE_GAP (default 24h, at least 1m) and
//  ZHUB_CONVERSATION_RETENTION (default 90d, at least 1d and at least the
//  idle gap). 0, or -1 with the variable named in err.
int conversation_config_load (conversation_config_t *config, char *err, size_t err_size);
void conversation_config_log (const conversation_config_t *config);

int conversation_open (zhub_actor_ctx_t *ctx);
void conversation_tick (zhub_actor_ctx_t *ctx);

//  Bird's channel and conversation webhooks, WhatsApp Cloud's messages.
void conversation_handle (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out);
//  contact.forget: the person's conversations and messages go.
void conversation_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                 zhub_outcome_t *out);

#endif
