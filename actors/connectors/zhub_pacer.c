//  Pacing of one connector's calls: HubSpot's shared rate budget and a
//  circuit breaker per host (the rules are in zhub_pacer.h). Pure except
//  for zhub_pacer_sleep: the clock comes in as arguments so the unit tests
//  can run a day of traffic in microseconds.
#include "zhub_pacer.h"
#include "zhub_retry.h"

#include <errno.h>
#include <time.h>

void
zhub_pacer_init (zhub_pacer_t *self)
{
    *self = (zhub_pacer_t){.interval_ms = -1,
                           .max = -1,
                           .remaining = -1,
                           .reserve_fraction = ZHUB_PACER_RESERVE_FRACTION,
                           .cooldown_ms = ZHUB_BREAKER_COOLDOWN_MS};
}

static int64_t
s_max (int64_t a, int64_t b)
{
    return a > b ? a : b;
}

int64_t
zhub_pacer_delay (const zhub_pacer_t *self, bool search, int64_t now)
{
    int64_t until = s_max (self->blocked_until, self->open_until);
    until = s_max (until, search ? self->next_search : self->next_call);
    return s_max (until - now, 0);
}

bool
zhub_pacer_open (const zhub_pacer_t *self, int64_t now)
{
    return self->open_until > now;
}

void
zhub_pacer_started (zhub_pacer_t *self, bool search, int64_t now)
{
    self->calls++;
    if (search) {
        self->next_search = now + ZHUB_PACER_SEARCH_GAP_MS;
        return;
    }
    self->ring[self->ring_next] = now;
    self->ring_next = (self->ring_next + 1) % ZHUB_PACER_RING;
    if (self->ring_count < ZHUB_PACER_RING)
        self->ring_count++;
    if (self->interval_ms <= 0 || self->max <= 0 || self->remaining < 0)
        return;
    if (self->remaining > 0)
        self->remaining--; //  this call, until its answer says better
    int64_t reserve = (int64_t)((double)self->max * self->reserve_fraction + 0.999);
    if (reserve < 1)
        reserve = 1;
    if (self->remaining > reserve)
        return;
    //  In the reserve: wait for the k-th oldest of our calls still in the
    //  window to leave it (k grows with the depth into the reserve).
    int64_t k = reserve - self->remaining;
    int64_t seen = 0, free_at = -1;
    for (size_t i = 0; i < self->ring_count; i++) {
        size_t slot = (self->ring_next + ZHUB_PACER_RING - self->ring_count + i) % ZHUB_PACER_RING;
        if (self->ring[slot] <= now - self->interval_ms)
            continue;
        if (seen++ == k) {
            free_at = self->ring[slot] + self->interval_ms + 1;
            break;
        }
    }
    if (free_at < 0) {
        //  Too few calls of ours in the window (others spend the budget):
        //  one call per refill step, slower the deeper.
        int64_t step = self->interval_ms / self->max;
        free_at = now + (step < 1 ? 1 : step) * (k + 1);
    }
    self->next_call = free_at;
    self->waits++;
}

//  HubSpot's rate-limit headers (https://developers.hubspot.com/docs/api/usage-details:
//  X-HubSpot-RateLimit-Max / -Remaining / -Interval-Milliseconds for the
//  rolling window, -Daily / -Daily-Remaining for the day); -1 when absent.
typedef struct {
    int64_t interval_ms, max, remaining, daily, daily_remaining;
} s_limits_t;

static s_limits_t
s_limits (const zhub_http_response_t *resp)
{
    return (s_limits_t){
        .interval_ms = zhub_http_header_int (resp, "X-HubSpot-RateLimit-Interval-Milliseconds"),
        .max = zhub_http_header_int (resp, "X-HubSpot-RateLimit-Max"),
        .remaining = zhub_http_header_int (resp, "X-HubSpot-RateLimit-Remaining"),
        .daily = zhub_http_header_int (resp, "X-HubSpot-RateLimit-Daily"),
        .daily_remaining = zhub_http_header_int (resp, "X-HubSpot-RateLimit-Daily-Remaining")};
}

void
zhub_pacer_answered (zhub_pacer_t *self, zhub_http_response_t *resp, bool search, int64_t now,
                     int64_t wall_ms)
{
    s_limits_t rl = s_limits (resp);
    //  The breaker counts what says "the host is not well": no answer, 5xx.
    if (resp->status == 0 || resp->status >= 500) {
        self->failures++;
        if (self->failures >= ZHUB_BREAKER_THRESHOLD) {
            self->open_until = now + self->cooldown_ms;
            self->opened++;
            self->cooldown_ms = self->cooldown_ms * 2 > ZHUB_BREAKER_COOLDOWN_MAX_MS
                                    ? ZHUB_BREAKER_COOLDOWN_MAX_MS
                                    : self->cooldown_ms * 2;
        }
    } else {
        self->failures = 0;
        self->open_until = 0;
        self->cooldown_ms = ZHUB_BREAKER_COOLDOWN_MS;
    }
    if (!search && rl.max > 0 && rl.interval_ms > 0 && rl.remaining >= 0) {
        self->max = rl.max;
        self->interval_ms = rl.interval_ms;
        self->remaining = rl.remaining;
    }
    //  A 429 with the window used up: the rest of the window is what to wait
    //  when no Retry-After says otherwise (the retry policy's hint).
    if (resp->status == 429 && rl.remaining == 0 && rl.interval_ms > 0)
        resp->retry_hint_ms = rl.interval_ms;
    int64_t block = -1;
    if (resp->status == 429) {
        self->throttled_429++;
        block = zhub_retry_after_ms (resp->retry_after, wall_ms);
        if (block < 0)
            block = search                          ? 1000
                    : rl.daily_remaining == 0 ? ZHUB_PACER_DAILY_BLOCK_MS
                    : self->interval_ms > 0         ? self->interval_ms
                                                    : 10000;
    } else if (rl.daily_remaining == 0) {
        block = zhub_retry_after_ms (resp->retry_after, wall_ms);
        if (block < 0)
            block = ZHUB_PACER_DAILY_BLOCK_MS;
    }
    if (block >= 0)
        self->blocked_until = s_max (self->blocked_until, now + block);
}

int
zhub_pacer_sleep (int64_t ms)
{
    if (ms <= 0)
        return 0;
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    if (nanosleep (&pause, NULL) && errno == EINTR)
        return -1;
    return 0;
}

int
zhub_pacer_call (zhub_pacer_t *self, zhub_http_t *http, const zhub_http_call_t *call, bool search,
                 zhub_http_response_t *resp)
{
    int64_t held = 0;
    for (;;) {
        int64_t wait = zhub_pacer_delay (self, search, zhub_mono_ms ());
        if (wait > ZHUB_PACER_MAX_WAIT_MS - held)
            wait = ZHUB_PACER_MAX_WAIT_MS - held;
        if (wait > 0) {
            held += wait;
            if (zhub_pacer_sleep (wait))
                held = ZHUB_PACER_MAX_WAIT_MS; //  stopping: no more holding
        }
        zhub_pacer_started (self, search, zhub_mono_ms ());
        int rc = zhub_http_request (http, call, resp);
        zhub_pacer_answered (self, resp, search, zhub_mono_ms (), zhub_now_ms ());
        zhub_http_peer_state_t state = {.circuit_open = zhub_pacer_open (self, zhub_mono_ms ()),
                                        .budget_remaining = self->remaining,
                                        .budget_max = self->max};
        zhub_http_report_peer (http, call->url, &state);
        //  An open circuit holds the call (probing after each cool-down)
        //  rather than failing it: the message keeps its attempts.
        int64_t now = zhub_mono_ms ();
        if (!zhub_pacer_open (self, now))
            return rc;
        if (held >= ZHUB_PACER_MAX_WAIT_MS) {
            //  still down: the runtime defers the message (no attempt lost)
            resp->circuit_open = true;
            resp->circuit_retry_ms = self->open_until - now;
            return rc;
        }
    }
}
