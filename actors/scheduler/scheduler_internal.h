//  scheduler's I/O side, internal: what scheduler_io.c, scheduler_store.c,
//  scheduler_calendar_io.c, scheduler_booking.c, scheduler_notify.c,
//  scheduler_timers.c, scheduler_whatsapp_io.c and scheduler_forget_io.c
//  share. Not for the core or
//  the tests.
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

//  scheduler_store.c: tables, holds, booking records, timers.

//  Every hold of one agent, added to busy.
typedef struct {
    scheduler_t *self;
    const char *agent_id;
    sched_busy_t *busy;
    int64_t duration_guess; //  holds store start only; the booking knows the end
    zhub_store_t *store;
} scheduler_holds_t;

typedef struct {
    scheduler_t *self;
    const char *name;
    uint64_t value;
} scheduler_meta_t;

typedef struct {
    zhub_actor_ctx_t *ctx;
    scheduler_t *self;
    const sched_booking_t *booking;
    int64_t buffer_ms;
    bool taken; //  out: someone else holds an overlapping slot
    zhub_msg_t *publish;
} scheduler_hold_t;

//  Commits a booking record (and an outbox message, and reminder timers
//  for its start when arm is set).
typedef struct {
    zhub_actor_ctx_t *ctx;
    scheduler_t *self;
    const sched_booking_t *booking;
    zhub_msg_t *publish;
    bool arm;
    bool release;        //  delete the booking and its hold instead
    const char *invitee; //  index this Calendly invitee URI to the booking
    int64_t hold_from;   //  > 0: delete the agent's hold at this start
    bool hold_put;       //  hold the agent at the booking's (new) start
} scheduler_save_t;

zhub_rc_t scheduler_get (zhub_store_t *store, zhub_table_t table, const void *key, size_t key_size,
                         char **value, size_t *size);
zhub_rc_t scheduler_load_booking (zhub_store_t *store, scheduler_t *self, const char *id,
                                  sched_booking_t *b);
zhub_rc_t scheduler_holds_fn (zhub_txn_t *txn, void *arg);
uint64_t scheduler_meta_u64 (zhub_txn_t *txn, scheduler_t *self, const char *name);
zhub_rc_t scheduler_meta_put_u64 (zhub_txn_t *txn, scheduler_t *self, const char *name, uint64_t v);
zhub_rc_t scheduler_meta_fn (zhub_txn_t *txn, void *arg);
zhub_rc_t scheduler_hold_fn (zhub_txn_t *txn, void *arg);
zhub_rc_t scheduler_save_fn (zhub_txn_t *txn, void *arg);
zhub_rc_t scheduler_save (zhub_actor_ctx_t *ctx, const sched_booking_t *b, zhub_msg_t *publish,
                          bool arm, bool release);

//  scheduler_calendar_io.c
zhub_rc_t scheduler_token_refresh (zhub_actor_ctx_t *ctx, scheduler_t *self, int provider,
                                   zhub_outcome_t *out);
const char *scheduler_token (zhub_actor_ctx_t *ctx, scheduler_t *self, int provider,
                             zhub_outcome_t *out);
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
//  *out set when Bird must be asked again. _forget deletes a person's
//  inbound times inside the erase transaction (adds to *removed; ZHUB_OK
//  or ZHUB_ERROR).
bool scheduler_whatsapp_send (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                              const sched_booking_t *b, sched_wa_kind_t kind, zhub_outcome_t *out);
zhub_rc_t scheduler_whatsapp_forget (zhub_txn_t *txn, scheduler_t *self, const zhub_forget_t *f,
                                     size_t *removed);
//  Logs the WhatsApp settings once at start, and warns when messages that
//  will often fall outside the window have no template.
void scheduler_whatsapp_config_log (const scheduler_t *self);

//  scheduler_watch_io.c: Google watch channels and Graph subscriptions.
//  _config reads their settings into self->watch (0, or -1 with err) and
//  says once whether they are on; _open opens the "watches" table and arms
//  a renewal timer per agent calendar that has none (0 / -1); _fire runs
//  one such timer when it came due (scheduler.timer.watch) and sets *out.
//  _config takes the Google and Graph API base URLs as configured (NULL:
//  the public ones): a public URL on this machine suits only local
//  stand-ins.
int scheduler_watch_config (scheduler_t *self, const char *google_base, const char *graph_base,
                            char *err, size_t err_size);
int scheduler_watch_open (zhub_actor_ctx_t *ctx);
void scheduler_watch_fire (zhub_actor_ctx_t *ctx, const sched_timer_t *t, zhub_outcome_t *out);

//  scheduler_timers.c: the timers (scheduler_timer.h). _arm puts the timer
//  t into the outbox inside the caller's write transaction, held from
//  held_from (ZHUB_OK; ZHUB_REJECT, logged, when our data breaks the
//  catalogue; ZHUB_ERROR); _token_timer_arm arms provider's refresh at due
//  and names it in meta ("token_due:<provider>"); _open, at start, moves
//  the timers an older scheduler kept in its table onto the bus and starts
//  the reconcile timers when they are on and not running (0 / -1).
zhub_rc_t scheduler_timer_arm (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const sched_timer_t *t,
                               int64_t held_from);
zhub_rc_t scheduler_token_timer_arm (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, int provider,
                                     int64_t due);
int scheduler_timers_open (zhub_actor_ctx_t *ctx);

#endif
