//  Pacing of the calls one connector makes to one host: HubSpot's rate
//  budget and a circuit breaker. Pure: every function takes the clock as
//  an argument and returns how long to wait, so the unit tests drive it
//  with a fake clock; the connectors do the sleeping.
//
//  The rate budget. HubSpot counts calls per portal (per private app), and
//  every answer says where the portal stands: X-HubSpot-RateLimit-Max and
//  -Remaining in the rolling -Interval-Milliseconds, and -Daily-Remaining.
//  Because the figures are the portal's, not this process's, every actor
//  and replica that reads them paces against the same budget: there is no
//  private share to configure and nothing to coordinate. Once Remaining
//  falls to the reserve (5 % of Max by default, room for the other
//  processes' calls in flight), the next call waits until a call this
//  process made one Interval ago leaves HubSpot's rolling window (the
//  oldest first, later ones the deeper into the reserve): the calls of the
//  last window are replayed at the pace the window frees them, so the
//  budget is spent at its full rate without running into a 429. A 429 (or Daily-Remaining 0) blocks
//  every call until its Retry-After (else one Interval; daily: an hour): one 429 is never followed
//  by another wasted one. Search answers carry no figures: search calls are spaced by their own
//  limit (5 per second).
//
//  The circuit breaker. After `threshold` consecutive failures (no answer
//  or 5xx) the host is "open" for a cool-down that doubles up to a cap;
//  the next call waits for it and is the probe: success closes the circuit.
//  The connector holds a message's call while the circuit is open (up to a
//  bound below the ack deadline) instead of failing it, so an outage does
//  not burn the message's delivery attempts.
#ifndef ZHUB_PACER_H
#define ZHUB_PACER_H

#include "zhub_http.h"

#define ZHUB_PACER_RESERVE_FRACTION 0.05  //  of Max kept back before spacing calls
#define ZHUB_PACER_SEARCH_GAP_MS 200      //  search: 5 requests per second per token
#define ZHUB_PACER_DAILY_BLOCK_MS 3600000 //  daily limit hit, no Retry-After: an hour
#define ZHUB_PACER_MAX_WAIT_MS 20000      //  longest a call is held (below the 30 s ack deadline)
#define ZHUB_BREAKER_THRESHOLD 3          //  consecutive failures that open the circuit
#define ZHUB_BREAKER_COOLDOWN_MS 1000     //  first cool-down; doubles while probes fail
#define ZHUB_BREAKER_COOLDOWN_MAX_MS 16000
#define ZHUB_PACER_RING 512 //  own call times kept (HubSpot's largest Max is 250 per 10 s)

typedef struct {
    //  rate budget (monotonic ms)
    int64_t interval_ms; //  last seen figures; -1 = none yet
    int64_t max;
    int64_t remaining;
    int64_t blocked_until; //  after a 429: no call before this
    int64_t next_call;     //  spacing: no call before this
    int64_t next_search;   //  search spacing
    double reserve_fraction;
    int64_t ring[ZHUB_PACER_RING]; //  start times of this process's last calls
    size_t ring_next, ring_count;
    //  circuit breaker
    int failures;
    int64_t open_until; //  0 = closed
    int64_t cooldown_ms;
    //  figures for logs and tests
    uint64_t calls, throttled_429, waits, opened;
} zhub_pacer_t;

//  A fresh pacer (nothing seen, circuit closed).
void zhub_pacer_init (zhub_pacer_t *self);

//  How long to wait (ms, 0 = now) before a call at monotonic time now;
//  search is true for a search endpoint. Pure.
int64_t zhub_pacer_delay (const zhub_pacer_t *self, bool search, int64_t now);

//  Records that a call starts at now (spacing of the next ones).
void zhub_pacer_started (zhub_pacer_t *self, bool search, int64_t now);

//  Learns from an answer at monotonic time now (wall_ms for an HTTP-date
//  Retry-After): HubSpot's rate figures (its X-HubSpot-RateLimit-*
//  headers), a 429's block, the breaker's state. On a 429 that used up the
//  window it sets resp->retry_hint_ms to the window's length.
void zhub_pacer_answered (zhub_pacer_t *self, zhub_http_response_t *resp, bool search, int64_t now,
                          int64_t wall_ms);

//  True while the circuit is open at now.
bool zhub_pacer_open (const zhub_pacer_t *self, int64_t now);

//  Sleeps ms (returns early on a signal). Returns 0, or -1 when a signal
//  interrupted it.
int zhub_pacer_sleep (int64_t ms);

//  Makes one call through the pacer: waits as zhub_pacer_delay says,
//  repeats the call while it opens or keeps open the circuit (the calls
//  the actors make are idempotent), but holds it no longer than
//  ZHUB_PACER_MAX_WAIT_MS in all; a signal ends the waiting. Returns what
//  zhub_http_request returns for the last attempt.
int zhub_pacer_call (zhub_pacer_t *self, zhub_http_t *http, const zhub_http_call_t *call,
                     bool search, zhub_http_response_t *resp);

#endif
