//  The scheduler's durable timers, the pure part. A timer is a message the
//  scheduler publishes to itself through its outbox with deliver_at_ms set
//  (delayed delivery, proto/PROTOCOL.md 6.3): the broker holds it durably
//  and delivers it to the scheduler's group when it is due, so timers
//  survive restarts, are handled by one replica, and need no table or
//  clock of our own. Each kind has its topic (and its route):
//
//    scheduler.timer.reminder   a booking's reminder number `reminder` is
//                               due; armed when the tour is booked or
//                               moved, for the start it was booked at
//    scheduler.timer.reconcile  contact.reconcile is due (every
//                               reconcile_every), changes since `since`
//    scheduler.timer.token      an OAuth token is to be refreshed
//    scheduler.timer.watch      a calendar's channel or subscription is
//                               to be renewed
//
//  Nothing can take a message back once published, so the state a timer
//  acts on says whether it still counts when it arrives: a reminder whose
//  booking was canceled, erased or moved (another start) is dropped, and
//  so is a token or watch timer that is not the one the store names (the
//  token was refreshed since; the renewal was re-armed). The ids name the
//  cause, so a handler redelivered after a crash publishes the same ids
//  and the broker keeps one (6.3: a held id is a duplicate).
//
//  The broker holds a message at most ZHUB_MSG_MAX_DELAY_MS ahead; a timer
//  due later (a tour booked years ahead) is held for SCHED_TIMER_HORIZON_MS
//  and published again when it arrives, as hop 1, 2 ... of the same
//  timer, each from the time the last one was held until, so a redelivered
//  hop repeats exactly. No I/O.
#ifndef SCHEDULER_TIMER_H
#define SCHEDULER_TIMER_H

#include "scheduler.h"

#define SCHED_TIMER_REMINDER_TOPIC "scheduler.timer.reminder"
#define SCHED_TIMER_RECONCILE_TOPIC "scheduler.timer.reconcile"
#define SCHED_TIMER_TOKEN_TOPIC "scheduler.timer.token"
#define SCHED_TIMER_WATCH_TOPIC "scheduler.timer.watch"
//  The longest a timer is held in one go: a day less than the broker's
//  limit, for a broker clock that runs ahead of ours.
#define SCHED_TIMER_HORIZON_MS (ZHUB_MSG_MAX_DELAY_MS - 24LL * 3600 * 1000)

typedef enum {
    SCHED_TIMER_REMINDER,
    SCHED_TIMER_RECONCILE,
    SCHED_TIMER_TOKEN,
    SCHED_TIMER_WATCH
} sched_timer_kind_t;

typedef struct {
    sched_timer_kind_t kind;
    int64_t due;  //  unix ms
    uint32_t hop; //  0, or how many times it was held again (see above)
    //  reminder
    char *booking_id;
    int64_t index; //  which reminder (cfg.reminders_ms[index] before the start)
    int64_t start; //  the tour's start it was armed for
    //  reconcile
    int64_t since; //  contact.reconcile's since
    //  token and watch
    sched_platform_t platform; //  the provider (token) or the calendar's platform (watch)
    //  watch
    char *target; //  Google calendar id or Graph mailbox
} sched_timer_t;

//  The message that holds t until it is due: topic by kind, source
//  zhub/scheduler, id and subject from the cause, data the kind's fields
//  and "due" (and "hop" above 0), deliver_at_ms the due time, or
//  held_from + SCHED_TIMER_HORIZON_MS when that comes first (held_from:
//  now when armed; a hop's deliver_at_ms when it is published again).
//  NULL with the reason when t breaks the catalogue.
zhub_msg_t *sched_timer_msg (const sched_timer_t *t, int64_t held_from, int64_t now_ms,
                             char *reason, size_t reason_size);

//  Reads the data of a delivered timer of kind (as the runtime decoded
//  it). ZHUB_OK, or ZHUB_REJECT with the reason (t cleared).
zhub_rc_t sched_timer_parse (sched_timer_kind_t kind, const json_t *data, sched_timer_t *t,
                             char *reason, size_t reason_size);

//  True when msg arrived at the end of a hop, before t is due: it is to be
//  published again as hop t->hop + 1 from msg->deliver_at_ms.
bool sched_timer_early (const sched_timer_t *t, const zhub_msg_t *msg);

void sched_timer_clear (sched_timer_t *t);

#endif
