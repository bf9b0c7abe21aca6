//  What the two files of the scheduler's store share: the struct, and the
//  helpers that work inside a transaction (scheduler_store.c defines them,
//  scheduler_store_timers.c builds on them). Not for the rest of the
//  scheduler, which goes through scheduler_store.h.
#ifndef SCHEDULER_STORE_INTERNAL_H
#define SCHEDULER_STORE_INTERNAL_H

#include "scheduler_store.h"

#define SCHED_TABLE_BOOKINGS "bookings"

struct sched_store_t {
    zhub_actor_ctx_t *ctx; //  its outbox takes what a change publishes
    zhub_store_t *store;
    int64_t reminders_ms[SCHED_MAX_REMINDERS];
    size_t reminder_count;
    zhub_table_t bookings, holds, invitees, tokens, meta, watches, inbound, timers;
};

//  meta's be64 value of name (0: none), write, delete (absent is fine).
uint64_t sched_store_meta_u64 (const sched_store_t *self, zhub_txn_t *txn, const char *name);
zhub_rc_t sched_store_meta_put (const sched_store_t *self, zhub_txn_t *txn, const char *name,
                                uint64_t value);
zhub_rc_t sched_store_meta_del (const sched_store_t *self, zhub_txn_t *txn, const char *name);

//  Queues timer t in the outbox, held from held_from. ZHUB_REJECT (logged)
//  when our own data breaks the catalogue.
zhub_rc_t sched_store_arm (const sched_store_t *self, zhub_txn_t *txn, const sched_timer_t *t,
                           int64_t held_from);

//  The booking id names, read inside txn (b zeroed first).
zhub_rc_t sched_store_booking_in (const sched_store_t *self, zhub_txn_t *txn, const char *id,
                                  sched_booking_t *b);

#endif
