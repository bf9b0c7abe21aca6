//  The scheduler's store: its tables, their key formats and every
//  transaction on them, in the actor's LMDB environment
//  ($ZHUB_DATA_DIR/scheduler/). Each function runs its own transaction
//  (but _forget, a step of the runtime's erase transaction); what a change
//  must publish, and the timers it arms (scheduler_timer.h), go into the
//  actor's outbox in the same transaction, so a change and its messages
//  are never separated by a crash.
//
//    bookings  booking id -> sched_booking_t (JSON, sched_booking_encode)
//    holds     agent id NUL be64 start -> booking id: our own bookings as
//              busy time, checked again inside the write that takes a slot
//              (two requests for one agent and slot: one wins)
//    invitees  Calendly invitee URI, or "graph:<event id>" -> booking id:
//              the way back from a calendar's notification to our booking
//    tokens    "google" | "graph" -> a sealed box (the caller seals)
//    meta      "rr" -> round-robin position (be64); "gtoken:<calendar>" ->
//              that Google calendar's sync token ("gsync:<calendar>", an
//              older watermark, is dropped when one is stored);
//              "token_due:<provider>", "reconcile_due" -> the due time
//              (be64) of the one refresh / reconcile timer that counts
//    watches   "sub:<platform>:<16 hex>" (sched_watch_name) -> the Google
//              channel or Graph subscription of one agent calendar
//              (sched_watch_encode), naming the one renewal timer that
//              counts (timer_due)
//    inbound   Bird contact id -> be64 ms of the newest WhatsApp message
//              they sent (the 24-hour window)
//    timers    what an older scheduler kept of its timers (be64 due + name
//              -> {"kind": ...}): moved onto the bus once, then empty
//
//  ZHUB_ERROR from any function means the store failed (nothing written).
#ifndef SCHEDULER_STORE_H
#define SCHEDULER_STORE_H

#include "scheduler.h"
#include "scheduler_timer.h"
#include "scheduler_watch.h"
#include "zhub_actor.h"

typedef struct sched_store_t sched_store_t;

//  The tables over ctx's store, created when missing; messages go into
//  ctx's outbox. A booking saved with arm gets one reminder timer for each
//  of reminders_ms (before its start; copied). ctx is borrowed and must
//  outlive this. NULL with the reason in err.
sched_store_t *sched_store_new (zhub_actor_ctx_t *ctx, const int64_t *reminders_ms,
                                size_t reminder_count, char *err, size_t err_size);

//  NULL-safe; nulls *self_p.
void sched_store_destroy (sched_store_t **self_p);

//  -------------------------------------------------------------------
//  Bookings and holds

//  The booking id names, into *b (the caller clears it). ZHUB_OK,
//  ZHUB_NOTFOUND, ZHUB_ERROR (also for a record that does not decode).
zhub_rc_t sched_store_booking (sched_store_t *self, const char *id, sched_booking_t *b);

//  Adds to busy the time of every booking (not canceled) that holds the
//  agent. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t sched_store_busy (sched_store_t *self, const char *agent_id, sched_busy_t *busy);

//  The round-robin position (0 at first).
uint64_t sched_store_rr (sched_store_t *self);

//  Step 1 of a request: in one write, unless another booking of the agent
//  overlaps [start - buffer_ms, end + buffer_ms) (then *taken, nothing
//  written), holds the agent at b's start, writes b and moves the
//  round-robin position on. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t sched_store_hold (sched_store_t *self, const sched_booking_t *b, int64_t buffer_ms,
                            bool *taken);

//  One change of a booking, in one transaction.
typedef struct {
    const sched_booking_t *booking;
    const zhub_msg_t *publish; //  queued with it, or NULL
    bool arm;                  //  arm its reminders for its start (those not past)
    bool release;              //  delete the booking and its hold instead of all else
    const char *link;          //  index this key (invitee URI, "graph:<event>") to it
    int64_t hold_from;         //  > 0: delete the agent's hold at this start ...
    bool hold_put;             //  ... and hold it at the booking's start
} sched_save_t;

zhub_rc_t sched_store_save (sched_store_t *self, const sched_save_t *save);

//  The booking a link key names (fresh id in *booking_id). ZHUB_OK,
//  ZHUB_NOTFOUND, ZHUB_ERROR.
zhub_rc_t sched_store_link (sched_store_t *self, const char *key, char **booking_id);

//  The calendar events (platform google or graph, with calendar_id,
//  event_id and booking_id only) of the bookings that name the person, in
//  *events (count in *count; free each with sched_booking_clear, then the
//  array). ZHUB_OK or ZHUB_ERROR.
zhub_rc_t sched_store_events_of (sched_store_t *self, const zhub_forget_t *f,
                                 sched_booking_t **events, size_t *count);

//  The read side for another process (`zhub status contact`;
//  scheduler_store_read.c): appends to bookings (a JSON array) every
//  booking that names the person (sched_booking_refers_to), as {"booking_id",
//  "status", "start", "end", "platform", "agent_id", "conversation_id"?,
//  "confirmation_url"?, "confirmed"}, from $data_dir/scheduler opened
//  read-only. ZHUB_OK; ZHUB_NOTFOUND when the scheduler never ran there
//  (nothing created); ZHUB_ERROR with the reason in err.
zhub_rc_t sched_store_bookings_of_readonly (const char *data_dir, const zhub_forget_t *who,
                                            json_t *bookings, char *err, size_t err_size);

//  GDPR erase, inside the caller's write transaction txn (the runtime's
//  erase step): deletes every booking that names the person
//  (sched_booking_refers_to), the holds and links of those bookings, and
//  the person's inbound times. *removed counts the entries deleted.
//  ZHUB_OK or ZHUB_ERROR (return it from the callback).
zhub_rc_t sched_store_forget (sched_store_t *self, zhub_txn_t *txn, const zhub_forget_t *f,
                              size_t *removed);

//  -------------------------------------------------------------------
//  OAuth tokens and their refresh timers

//  provider's sealed token (a fresh copy in *box). ZHUB_OK, ZHUB_NOTFOUND,
//  ZHUB_ERROR.
zhub_rc_t sched_store_token (sched_store_t *self, sched_platform_t provider, uint8_t **box,
                             size_t *size);

//  Stores provider's sealed token and arms its next refresh at
//  refresh_due, which becomes the one that counts.
zhub_rc_t sched_store_token_put (sched_store_t *self, sched_platform_t provider, const uint8_t *box,
                                 size_t size, int64_t refresh_due);

//  The due time of provider's refresh timer that counts (0: none).
int64_t sched_store_token_due (sched_store_t *self, sched_platform_t provider);

//  A refresh that failed at timer fired: when fired is still the one that
//  counts, arms the next try at next (which then counts). ZHUB_OK,
//  ZHUB_NOTFOUND (another counts now: nothing armed), ZHUB_ERROR.
zhub_rc_t sched_store_token_retry (sched_store_t *self, sched_platform_t provider, int64_t fired,
                                   int64_t next);

//  -------------------------------------------------------------------
//  Google sync tokens

//  calendar's sync token (fresh), or ZHUB_NOTFOUND / ZHUB_ERROR.
zhub_rc_t sched_store_sync_token (sched_store_t *self, const char *calendar, char **token);

//  Keeps calendar's new sync token (and drops an older watermark).
zhub_rc_t sched_store_sync_token_put (sched_store_t *self, const char *calendar, const char *token);

//  -------------------------------------------------------------------
//  When contacts last wrote on WhatsApp

//  The newest inbound time of a Bird contact: 0 when they never wrote (or
//  it cannot be read).
int64_t sched_store_inbound (sched_store_t *self, const char *bird_id);

//  Keeps at as the contact's inbound time unless a newer one is kept
//  (webhooks come late or twice); *newer says whether it moved.
zhub_rc_t sched_store_inbound_put (sched_store_t *self, const char *bird_id, int64_t at,
                                   bool *newer);

//  -------------------------------------------------------------------
//  Calendar watches (scheduler_watch.h)

//  The record under name into *rec (the caller clears it). ZHUB_OK,
//  ZHUB_NOTFOUND, ZHUB_ERROR.
zhub_rc_t sched_store_watch (sched_store_t *self, const char *name, sched_watch_t *rec);

//  At start, for one agent calendar: makes its record when there is none,
//  and arms a renewal timer due now unless the one armed before still
//  stands (sched_watch_arm_due against address). *armed says whether one
//  was armed.
zhub_rc_t sched_store_watch_arm (sched_store_t *self, sched_platform_t platform, const char *target,
                                 const char *address, int64_t now, bool *armed);

//  After the renewal timer fired at due fired: writes rec (arming its next
//  timer when it names one), or deletes the record (drop) - provided the
//  record still names fired. ZHUB_OK, ZHUB_NOTFOUND (handled already:
//  nothing written), ZHUB_ERROR.
zhub_rc_t sched_store_watch_save (sched_store_t *self, const char *name, int64_t fired,
                                  const sched_watch_t *rec, bool drop);

//  -------------------------------------------------------------------
//  Timers and what they publish

//  Queues msg (e.g. tour.reminder) on its own.
zhub_rc_t sched_store_publish (sched_store_t *self, const zhub_msg_t *msg);

//  Queues timer t, held from held_from (a hop: scheduler_timer.h). A
//  timer our own data makes the catalogue refuse is ZHUB_REJECT, logged.
zhub_rc_t sched_store_timer_put (sched_store_t *self, const sched_timer_t *t, int64_t held_from);

//  At start: when no reconcile timer counts and every_ms > 0, arms one
//  (since now, due now + every_ms). *armed says whether it did.
zhub_rc_t sched_store_reconcile_start (sched_store_t *self, int64_t now, int64_t every_ms,
                                       bool *armed);

//  The reconcile timer t came due: when it is the one that counts, queues
//  reconcile (contact.reconcile) and arms the next (since t's due, due
//  now + every_ms), or, with every_ms 0, ends the chain (it starts again
//  at the next start with every_ms set). ZHUB_OK, ZHUB_NOTFOUND (not the
//  one that counts: nothing written), ZHUB_ERROR.
zhub_rc_t sched_store_reconcile_fire (sched_store_t *self, const sched_timer_t *t,
                                      const zhub_msg_t *reconcile, int64_t now, int64_t every_ms);

//  Moves what an older scheduler kept in its timers table onto the bus,
//  in one transaction: each becomes the timer message it stands for, due
//  when it was, and the table is emptied. A reminder takes its booking's
//  start (dropped when the booking is gone or not scheduled); a token's or
//  the reconcile's meta entry names the latest one; older "watch" timers
//  were leftovers already and are dropped. *moved and *dropped count them.
zhub_rc_t sched_store_timers_migrate (sched_store_t *self, int64_t now, size_t *moved,
                                      size_t *dropped);

#endif
