//  The scheduler's I/O side: availability from Google freeBusy and Graph
//  getSchedule, event creation, WhatsApp through Bird, OAuth2 tokens, and
//  the durable timers (messages to itself the broker holds until they are
//  due: scheduler_timer.h). All its state is in LMDB, in the tables
//  scheduler_store.h owns: bookings and the holds that make them busy
//  time, the links from calendar notifications back to bookings, the OAuth
//  tokens (sealed with the key from ZHUB_SECRET_KEY), the Google sync
//  tokens, the calendar watch records, and when each contact last wrote on
//  WhatsApp (free text may go to them for 24 hours after it, templates
//  otherwise).
//
//  contact.forget (GDPR erase) deletes a person's bookings and the holds
//  and links that point at them, and their inbound time
//  (scheduler_forget_io.c); their reminders, held by the broker, find no
//  booking when they arrive.
#ifndef SCHEDULER_IO_H
#define SCHEDULER_IO_H

#include "bird.h"
#include "calendly.h"
#include "google.h"
#include "graph.h"
#include "scheduler.h"
#include "scheduler_store.h"
#include "scheduler_watch.h"
#include "zhub_actor.h"

#define SCHED_TOKEN_RETRY_MS 30000 //  a failed token refresh is tried again this soon

typedef struct {
    sched_config_t cfg;
    uint8_t key[SCHED_KEY_BYTES];
    bool have_key;
    //  OAuth2 (secrets: never logged)
    const char *google_client_id, *google_client_secret, *google_refresh_token;
    const char *graph_client_id, *graph_client_secret;
    int64_t refresh_margin_ms;  //  refresh this long before expiry
    sched_watch_config_t watch; //  calendar change subscriptions (scheduler_watch_io.c)
    char *public_url;           //  watch.public_url's string (owned)
    //  The APIs: settings read by scheduler_config, clients built on the
    //  runtime's HTTP client by scheduler_open
    zhub_google_config_t google_config;
    zhub_graph_config_t graph_config;
    zhub_calendly_config_t calendly_config;
    zhub_bird_config_t bird_config;
    bool graph_used; //  an agent on Graph, or its app credentials set
    zhub_google_t *google;
    zhub_graph_t *graph;
    zhub_calendly_t *calendly;
    zhub_bird_t *bird;
    zhub_metrics_t *metrics; //  the runtime's (borrowed), set by scheduler_open
    sched_store_t *db;       //  the tables (scheduler_store.h), opened by scheduler_open
    //  The tokens in use (copies of what the store holds sealed)
    char *access[2];
    int64_t expires[2];
} scheduler_t;

//  Reads the environment (ZHUB_SECRET_KEY, ZHUB_GOOGLE_*, ZHUB_GRAPH_*,
//  ZHUB_OAUTH_REFRESH_MARGIN) and the "scheduler" section of the mapping
//  file; sets the process time zone. 0, or -1 with err.
int scheduler_config (scheduler_t *self, char *err, size_t err_size);
void scheduler_clear (scheduler_t *self);

//  zhub_actor_spec_t.open: builds the API clients on ctx->http, opens the
//  tables, moves an older scheduler's timers onto the bus, arms the
//  reconcile and calendar-renewal timers that are not running.
int scheduler_open (zhub_actor_ctx_t *ctx);

//  zhub_actor_spec_t.close: frees the API clients.
void scheduler_close (zhub_actor_ctx_t *ctx);

//  The route handlers, one per topic (main.c's route table):
//
//    tour.requested                   _request: hold, event, confirmation;
//                                     or the alternatives; or a Calendly
//                                     link (self-service, or the calendar
//                                     down) (scheduler_booking.c)
//    tour.reminder                    _reminder: the WhatsApp reminder
//                                     (ours only: source zhub/scheduler)
//    tour.canceled                    _canceled: the WhatsApp cancellation
//                                     (ours only; scheduler_whatsapp_io.c)
//    webhook.calendly.invitee.>       _invitee: a self-service booking made,
//                                     moved or canceled (scheduler_notify.c)
//    webhook.google.calendar.changed  _google_changed (scheduler_google_sync.c)
//    webhook.graph.updated / .deleted _graph_updated, _graph_deleted
//    webhook.bird.whatsapp.inbound    _whatsapp_inbound: when a contact last
//                                     wrote (scheduler_whatsapp_io.c)
//    webhook.bird.whatsapp.outbound   _whatsapp_outbound: Bird's failure
//                                     reports, logged
//    contact.forget                   _forget: a GDPR erase
//                                     (scheduler_forget_io.c)
//    scheduler.timer.reminder         _timer_reminder: tour.reminder when
//                                     the booking still stands
//    scheduler.timer.reconcile        _timer_reconcile: contact.reconcile
//                                     and the next timer
//    scheduler.timer.token            _timer_token: an OAuth refresh
//    scheduler.timer.watch            _timer_watch: a calendar's renewal
//                                     (the timers: scheduler_timers.c)
void scheduler_handle_request (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                               zhub_outcome_t *out);
void scheduler_handle_reminder (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out);
void scheduler_handle_canceled (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out);
void scheduler_handle_invitee (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                               zhub_outcome_t *out);
void scheduler_handle_google_changed (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                      zhub_outcome_t *out);
void scheduler_handle_graph_updated (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                     zhub_outcome_t *out);
void scheduler_handle_graph_deleted (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                     zhub_outcome_t *out);
void scheduler_handle_whatsapp_inbound (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                        zhub_outcome_t *out);
void scheduler_handle_whatsapp_outbound (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                         zhub_outcome_t *out);
void scheduler_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                              zhub_outcome_t *out);
void scheduler_handle_timer_reminder (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                      zhub_outcome_t *out);
void scheduler_handle_timer_reconcile (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                       zhub_outcome_t *out);
void scheduler_handle_timer_token (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                   zhub_outcome_t *out);
void scheduler_handle_timer_watch (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                   zhub_outcome_t *out);

#endif
