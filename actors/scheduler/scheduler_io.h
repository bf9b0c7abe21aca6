//  The scheduler's I/O side: availability from Google freeBusy and Graph
//  getSchedule, event creation, WhatsApp through Bird, OAuth2 tokens, and
//  the durable timers — all state in LMDB:
//
//    bookings  booking id -> sched_booking_t (JSON)
//    holds     agent id, NUL, u64 start -> booking id: our own bookings as
//              busy time, checked again inside the write that takes a slot
//              (two requests for one agent and slot: one wins, the other
//              is offered alternatives)
//    timers    u64 due ms, timer name -> {"kind":…}; the tick fires what is
//              due in the same transaction that deletes it, so a timer
//              fires once, across restarts
//    tokens    "google" | "graph" -> secretbox(key from ZHUB_SECRET_KEY,
//              {"access_token","expires_at","refresh_token"})
//    invitees  Calendly invitee URI -> booking id (self-service bookings,
//              found again on cancel and reschedule)
//    meta      "rr" -> round-robin position (u64)
#ifndef SCHEDULER_IO_H
#define SCHEDULER_IO_H

#include "calendly.h"
#include "google.h"
#include "graph.h"
#include "scheduler.h"
#include "zhub_actor.h"

#define SCHED_TIMERS_PER_TICK 16
#define SCHED_TOKEN_RETRY_MS 30000              //  a failed token refresh is tried again this soon
#define SCHED_WATCH_TTL_MS (7LL * 86400 * 1000) //  Google watch channel lifetime we ask for
#define SCHED_WATCH_RENEW_MS (3600LL * 1000)    //  renew a channel this long before it ends
#define SCHED_WATCH_RETRY_MS 60000              //  a failed watch is tried again this soon

typedef struct {
    sched_config_t cfg;
    uint8_t key[SCHED_KEY_BYTES];
    bool have_key;
    //  OAuth2 (secrets: never logged)
    const char *google_client_id, *google_client_secret, *google_refresh_token;
    const char *graph_client_id, *graph_client_secret;
    int64_t refresh_margin_ms; //  refresh this long before expiry
    const char *public_url;    //  ZHUB_PUBLIC_URL: where Google pushes (watch channels), or NULL
    const char
        *channel_token; //  ZHUB_GOOGLE_CHANNEL_TOKEN: set on channels, checked by the gateway
    zhub_http_t *http;
    zhub_google_t *google;
    zhub_graph_t *graph;
    zhub_calendly_t *calendly;
    zhub_table_t bookings, holds, timers, tokens, meta, invitees;
    //  The tokens in use (copies of what the store holds sealed)
    char *access[2];
    int64_t expires[2];
} scheduler_t;

//  Reads the environment (ZHUB_SECRET_KEY, ZHUB_GOOGLE_*, ZHUB_GRAPH_*,
//  ZHUB_OAUTH_REFRESH_MARGIN) and the "scheduler" section of the mapping
//  file; sets the process time zone. 0, or -1 with err.
//  The calendar calls use the actor's HTTP timeouts (ZHUB_HTTP_*).
int scheduler_config (scheduler_t *self, const zhub_actor_config_t *actor, char *err,
                      size_t err_size);
void scheduler_clear (scheduler_t *self);

//  zhub_actor_spec_t.open: opens the tables, arms the periodic timers.
int scheduler_open (zhub_actor_ctx_t *ctx);

//  tour.requested, tour.reminder and webhook.calendly.invitee.*.
void scheduler_handle (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out);

//  zhub_actor_spec_t.tick: fires due timers.
void scheduler_tick (zhub_actor_ctx_t *ctx);

#endif
