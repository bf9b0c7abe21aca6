//  scheduler's I/O side, internal: what scheduler_io.c,
//  scheduler_calendar_io.c, scheduler_booking.c, scheduler_notify.c,
//  scheduler_google_sync.c, scheduler_timers.c, scheduler_whatsapp_io.c,
//  scheduler_watch_io.c and scheduler_forget_io.c share. Not for the core
//  or the tests.
#ifndef SCHEDULER_INTERNAL_H
#define SCHEDULER_INTERNAL_H

#include "scheduler_io.h"
#include "scheduler_timer.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_GOOGLE = 0, S_GRAPH = 1 };
extern const char *scheduler_provider_name[];

static inline void
s_set_str (char **field, const char *value)
{
    free (*field);
    *field = value ? zhub_strdup (value) : NULL;
}

//  scheduler_calendar_io.c: _token_refresh gets a fresh OAuth token and
//  stores it sealed with its next refresh timer (ZHUB_OK, or RETRY /
//  REJECT with *out set); _token, one valid for the margin (NULL with *out
//  set); _answer_ok, true for a 2xx (a 401 drops the token); then the
//  free/busy of the eligible agents with our holds, and step 2 of a
//  request.
zhub_rc_t scheduler_token_refresh (scheduler_t *self, int provider, zhub_outcome_t *out);
const char *scheduler_token (scheduler_t *self, int provider, zhub_outcome_t *out);
bool scheduler_answer_ok (scheduler_t *self, int provider, zhub_http_response_t *resp,
                          const char *what, zhub_outcome_t *out);
bool scheduler_availability (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const bool *eligible,
                             int64_t from, int64_t to, sched_busy_t *busy, zhub_outcome_t *out);
bool scheduler_create_event (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, sched_booking_t *b,
                             const sched_request_t *req, zhub_outcome_t *out);

//  scheduler_whatsapp_io.c: WhatsApp through Bird. _send sends the kind's
//  message for the booking (free text inside the contact's 24-hour window,
//  else the kind's template) and returns true when done: sent, or skipped
//  and logged (no channel; outside the window with no template); false with
//  *out set when Bird must be asked again.
bool scheduler_whatsapp_send (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                              const sched_booking_t *b, sched_wa_kind_t kind, zhub_outcome_t *out);
//  Logs the WhatsApp settings once at start, and warns when messages that
//  will often fall outside the window have no template.
void scheduler_whatsapp_config_log (const scheduler_t *self);

//  scheduler_watch_io.c: Google watch channels and Graph subscriptions.
//  _config reads their settings into self->watch (0, or -1 with err) and
//  says once whether they are on; _open arms a renewal timer per agent
//  calendar that has none (0 / -1); _fire runs
//  one such timer when it came due (scheduler.timer.watch) and sets *out.
//  _config takes the Google and Graph API base URLs as configured (NULL:
//  the public ones): a public URL on this machine suits only local
//  stand-ins.
int scheduler_watch_config (scheduler_t *self, const char *google_base, const char *graph_base,
                            char *err, size_t err_size);
int scheduler_watch_open (zhub_actor_ctx_t *ctx);
void scheduler_watch_fire (zhub_actor_ctx_t *ctx, const sched_timer_t *t, zhub_outcome_t *out);

//  scheduler_timers.c: _open, at start, moves the timers an older
//  scheduler kept in its table onto the bus and starts the reconcile
//  timers when they are on and not running (0 / -1).
int scheduler_timers_open (zhub_actor_ctx_t *ctx);

#endif
