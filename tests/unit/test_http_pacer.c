//  The connectors' pacer with a fake clock: HubSpot's rate figures in,
//  waits out. The last case runs a stand-in of HubSpot's rolling window
//  (190 calls per 10 s) against the pacer and counts the 429s.
#include "zhub_pacer.h"
#include "zhub_test.h"

//  One header line of the answer, as libcurl hands it over.
static void
s_header (zhub_http_response_t *resp, const char *line)
{
    zhub_http_parse_header (resp, line, strlen (line));
}

//  An answer with HubSpot's rate figures in its headers (max > 0), as
//  https://developers.hubspot.com/docs/api/usage-details shows them. resp
//  is released first (zeroed or initialised before the first use).
static void
s_answer (zhub_http_response_t *resp, long status, int64_t max, int64_t remaining,
          int64_t daily_remaining)
{
    zhub_http_response_reset (resp);
    resp->status = status;
    if (max > 0) {
        char line[80];
        s_header (resp, "X-HubSpot-RateLimit-Interval-Milliseconds: 10000\r\n");
        snprintf (line, sizeof line, "X-HubSpot-RateLimit-Max: %lld\r\n", (long long)max);
        s_header (resp, line);
        snprintf (line, sizeof line, "X-HubSpot-RateLimit-Remaining: %lld\r\n",
                  (long long)remaining);
        s_header (resp, line);
        s_header (resp, "X-HubSpot-RateLimit-Daily: 625000\r\n");
        snprintf (line, sizeof line, "X-HubSpot-RateLimit-Daily-Remaining: %lld\r\n",
                  (long long)daily_remaining);
        s_header (resp, line);
    }
}

static void
test_no_figures_no_wait (void)
{
    zhub_pacer_t pacer;
    zhub_pacer_init (&pacer);
    CHECK (zhub_pacer_delay (&pacer, false, 1000) == 0);
    zhub_pacer_started (&pacer, false, 1000);
    zhub_http_response_t resp = {0};
    s_answer (&resp, 200, 0, 0, 600000);
    zhub_pacer_answered (&pacer, &resp, false, 1001, 0);
    CHECK (zhub_pacer_delay (&pacer, false, 1001) == 0);
    zhub_http_response_reset (&resp);
}

static void
test_spacing_starts_at_the_reserve (void)
{
    zhub_pacer_t pacer;
    zhub_pacer_init (&pacer);
    zhub_http_response_t resp = {0};
    s_answer (&resp, 200, 190, 100, 600000);
    zhub_pacer_answered (&pacer, &resp, false, 0, 0);
    zhub_pacer_started (&pacer, false, 0);
    CHECK (zhub_pacer_delay (&pacer, false, 0) == 0); //  plenty left
    s_answer (&resp, 200, 190, 20, 600000);
    zhub_pacer_answered (&pacer, &resp, false, 5, 0);
    zhub_pacer_started (&pacer, false, 5);
    CHECK (zhub_pacer_delay (&pacer, false, 5) == 0); //  above the reserve (5 % of 190)
    s_answer (&resp, 200, 190, 11, 600000);
    zhub_pacer_answered (&pacer, &resp, false, 10, 0);
    zhub_pacer_started (&pacer, false, 10); //  this call takes it to the reserve
    //  The next waits until our call at 0 leaves the 10 s window.
    CHECK (zhub_pacer_delay (&pacer, false, 10) == 10001 - 10);
    CHECK (pacer.waits == 1);
    //  Deep in the reserve with too few calls of ours to go by: one call
    //  per refill step (10000 / 190 = 52 ms), slower the deeper.
    zhub_pacer_init (&pacer);
    s_answer (&resp, 200, 190, 5, 600000);
    zhub_pacer_answered (&pacer, &resp, false, 100, 0);
    zhub_pacer_started (&pacer, false, 100);
    CHECK (zhub_pacer_delay (&pacer, false, 100) == 52 * 7);
    zhub_http_response_reset (&resp);
}

static void
test_429_blocks_every_call_until_retry_after (void)
{
    zhub_pacer_t pacer;
    zhub_pacer_init (&pacer);
    zhub_http_response_t resp = {0};
    s_answer (&resp, 429, 190, 0, 600000);
    resp.retry_after = zhub_strdup ("3");
    zhub_pacer_answered (&pacer, &resp, false, 1000, 0);
    CHECK (zhub_pacer_delay (&pacer, false, 1000) == 3000);
    CHECK (zhub_pacer_delay (&pacer, false, 3999) == 1);
    CHECK (pacer.throttled_429 == 1);
    zhub_http_response_reset (&resp);
    //  No Retry-After: one interval.
    zhub_pacer_init (&pacer);
    s_answer (&resp, 429, 190, 0, 600000);
    zhub_pacer_answered (&pacer, &resp, false, 0, 0);
    CHECK (zhub_pacer_delay (&pacer, false, 0) == 10000);
    //  ...which is also the retry policy's hint for the message
    CHECK (resp.retry_hint_ms == 10000);
    //  a 429 with calls left in the window says nothing of how long
    zhub_pacer_init (&pacer);
    s_answer (&resp, 429, 190, 5, 600000);
    zhub_pacer_answered (&pacer, &resp, false, 0, 0);
    CHECK (resp.retry_hint_ms == -1);
    //  Daily budget gone: an hour.
    zhub_pacer_init (&pacer);
    s_answer (&resp, 200, 190, 50, 0);
    zhub_pacer_answered (&pacer, &resp, false, 0, 0);
    CHECK (zhub_pacer_delay (&pacer, false, 0) == ZHUB_PACER_DAILY_BLOCK_MS);
    zhub_http_response_reset (&resp);
}

static void
test_search_calls_are_spaced (void)
{
    zhub_pacer_t pacer;
    zhub_pacer_init (&pacer);
    zhub_pacer_started (&pacer, true, 0);
    CHECK (zhub_pacer_delay (&pacer, true, 0) == ZHUB_PACER_SEARCH_GAP_MS);
    CHECK (zhub_pacer_delay (&pacer, false, 0) == 0); //  other calls are not held
}

static void
test_breaker_opens_probes_and_closes (void)
{
    zhub_pacer_t pacer;
    zhub_pacer_init (&pacer);
    zhub_http_response_t down = {0}, gone = {0};
    s_answer (&down, 503, 0, 0, 600000);
    s_answer (&gone, 0, 0, 0, 600000);
    for (int i = 0; i < ZHUB_BREAKER_THRESHOLD - 1; i++)
        zhub_pacer_answered (&pacer, i % 2 ? &down : &gone, false, 0, 0);
    CHECK (!zhub_pacer_open (&pacer, 0));
    zhub_pacer_answered (&pacer, &down, false, 0, 0);
    CHECK (zhub_pacer_open (&pacer, 0));
    CHECK (zhub_pacer_delay (&pacer, false, 0) == ZHUB_BREAKER_COOLDOWN_MS);
    //  The probe fails: a longer cool-down.
    zhub_pacer_answered (&pacer, &down, false, 1000, 0);
    CHECK (zhub_pacer_delay (&pacer, false, 1000) == 2 * ZHUB_BREAKER_COOLDOWN_MS);
    //  A 4xx is an answer from a healthy host: closed again.
    zhub_http_response_t bad = {0};
    s_answer (&bad, 400, 0, 0, 600000);
    zhub_pacer_answered (&pacer, &bad, false, 3000, 0);
    CHECK (!zhub_pacer_open (&pacer, 3000));
    CHECK (pacer.failures == 0 && pacer.opened == 2);
    zhub_http_response_reset (&down);
    zhub_http_response_reset (&gone);
    zhub_http_response_reset (&bad);
}

//  HubSpot's rolling window, as the stand-in keeps it.
#define S_WINDOW 190
static int64_t s_hits[100000];
static size_t s_hit_count;

static bool
s_window_take (int64_t now, int64_t *remaining)
{
    size_t live = 0;
    for (size_t i = 0; i < s_hit_count; i++)
        live += s_hits[i] > now - 10000;
    if (live >= S_WINDOW) {
        *remaining = 0;
        return false;
    }
    s_hits[s_hit_count++] = now;
    *remaining = (int64_t)(S_WINDOW - live - 1);
    return true;
}

static void
test_paced_client_meets_no_429_at_full_rate (void)
{
    zhub_pacer_t pacer;
    zhub_pacer_init (&pacer);
    int64_t now = 0;
    int rejected = 0, done = 0;
    s_hit_count = 0;
    while (done < 2000) {
        now += zhub_pacer_delay (&pacer, false, now);
        zhub_pacer_started (&pacer, false, now);
        int64_t remaining;
        bool ok = s_window_take (now, &remaining);
        zhub_http_response_t resp = {0};
        s_answer (&resp, ok ? 200 : 429, S_WINDOW, remaining, 600000);
        now += 5; //  the call's round trip
        zhub_pacer_answered (&pacer, &resp, false, now, 0);
        zhub_http_response_reset (&resp);
        done += ok;
        rejected += !ok;
    }
    //  2000 calls at 190 per 10 s take at least 100 s; the pacer gets
    //  within 10 % of that without a single 429.
    double seconds = (double)now / 1000.0;
    printf ("  2000 calls in %.1f s (%.1f/s, ceiling 19/s), %d x 429\n", seconds, 2000 / seconds,
            rejected);
    CHECK (rejected == 0);
    CHECK (2000 / seconds >= 0.9 * 19.0);
}

int
main (void)
{
    RUN (test_no_figures_no_wait);
    RUN (test_spacing_starts_at_the_reserve);
    RUN (test_429_blocks_every_call_until_retry_after);
    RUN (test_search_calls_are_spaced);
    RUN (test_breaker_opens_probes_and_closes);
    RUN (test_paced_client_meets_no_429_at_full_rate);
    TEST_EXIT ();
}
