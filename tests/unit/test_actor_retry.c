//  The one failure classification, as a table: an answer (status and
//  headers, or a transport failure) in, the outcome and delay out.
#include "zhub_retry.h"
#include "zhub_test.h"

#include <curl/curl.h>

//  2015-10-21T07:28:00Z, the date in RFC 9110's Retry-After example.
#define DATE_MS 1445412480000LL

typedef struct {
    const char *name;
    long status;
    int transport; //  CURLcode when status is 0
    bool timed_out;
    const char *retry_after;
    int64_t hint;   //  retry_hint_ms a connector set (-1 none)
    bool throttled; //  a connector marked the answer a rate limit
    zhub_rc_t rc;
    int64_t delay_ms;
    uint32_t code;
} s_case_t;

static const s_case_t s_cases[] = {
    {"200 ok", 200, 0, false, NULL, -1, false, ZHUB_OK, -1, 0},
    {"201 created", 201, 0, false, NULL, -1, false, ZHUB_OK, -1, 0},
    {"429 with Retry-After: 2", 429, 0, false, "2", -1, false, ZHUB_RETRY, 2000, 429},
    {"429 Retry-After beats the connector's hint", 429, 0, false, "2", 10000, false, ZHUB_RETRY,
     2000, 429},
    {"429 with the pacer's hint (window spent), no Retry-After", 429, 0, false, NULL, 10000, false,
     ZHUB_RETRY, 10000, 429},
    {"403 a connector marked throttled retries", 403, 0, false, NULL, -1, true, ZHUB_RETRY, -1,
     403},
    {"403 throttled with a hint", 403, 0, false, NULL, 4000, true, ZHUB_RETRY, 4000, 403},
    {"503 ignores a hint (not a rate limit)", 503, 0, false, NULL, 4000, false, ZHUB_RETRY, -1,
     503},
    {"429 bare: group backoff", 429, 0, false, NULL, -1, false, ZHUB_RETRY, -1, 429},
    {"429 Retry-After HTTP-date", 429, 0, false, "Wed, 21 Oct 2015 07:28:05 GMT", -1, -1,
     ZHUB_RETRY, 5000, 429},
    {"503 bare", 503, 0, false, NULL, -1, false, ZHUB_RETRY, -1, 503},
    {"503 with Retry-After: 30", 503, 0, false, "30", -1, false, ZHUB_RETRY, 30000, 503},
    {"500", 500, 0, false, NULL, -1, false, ZHUB_RETRY, -1, 500},
    {"502", 502, 0, false, NULL, -1, false, ZHUB_RETRY, -1, 502},
    {"408 request timeout", 408, 0, false, NULL, -1, false, ZHUB_RETRY, -1, 408},
    {"423 locked waits 2 s", 423, 0, false, NULL, -1, false, ZHUB_RETRY, 2000, 423},
    {"477 migration with Retry-After", 477, 0, false, "7", -1, false, ZHUB_RETRY, 7000, 477},
    {"400 rejects", 400, 0, false, NULL, -1, false, ZHUB_REJECT, -1, 400},
    {"400 ignores Retry-After", 400, 0, false, "2", -1, false, ZHUB_REJECT, -1, 400},
    {"401 rejects", 401, 0, false, NULL, -1, false, ZHUB_REJECT, -1, 401},
    {"403 rejects", 403, 0, false, NULL, -1, false, ZHUB_REJECT, -1, 403},
    {"404 rejects", 404, 0, false, NULL, -1, false, ZHUB_REJECT, -1, 404},
    {"409 is the caller's: reject if unhandled", 409, 0, false, NULL, -1, false, ZHUB_REJECT, -1, 409},
    {"422 rejects", 422, 0, false, NULL, -1, false, ZHUB_REJECT, -1, 422},
    {"302 rejects (we never follow)", 302, 0, false, NULL, -1, false, ZHUB_REJECT, -1, 302},
    {"curl timeout retries", 0, CURLE_OPERATION_TIMEDOUT, true, NULL, -1, false, ZHUB_RETRY, -1,
     ZHUB_REASON_TIMEOUT},
    {"connection refused retries", 0, CURLE_COULDNT_CONNECT, false, NULL, -1, false, ZHUB_RETRY, -1,
     ZHUB_REASON_TRANSPORT},
    {"connection reset retries", 0, CURLE_RECV_ERROR, false, NULL, -1, false, ZHUB_RETRY, -1,
     ZHUB_REASON_TRANSPORT},
    {"dns failure retries", 0, CURLE_COULDNT_RESOLVE_HOST, false, NULL, -1, false, ZHUB_RETRY, -1,
     ZHUB_REASON_TRANSPORT},
    {"malformed url rejects", 0, CURLE_URL_MALFORMAT, false, NULL, -1, false, ZHUB_REJECT, -1,
     ZHUB_REASON_BAD_URL},
};

static void
test_classification_table (void)
{
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const s_case_t *c = &s_cases[i];
        zhub_http_response_t resp;
        zhub_http_response_init (&resp);
        resp.status = c->status;
        resp.transport_error = c->transport;
        resp.timed_out = c->timed_out;
        if (c->status == 0)
            snprintf (resp.error, sizeof resp.error, "transport failure");
        resp.retry_after = zhub_strdup (c->retry_after);
        resp.retry_hint_ms = c->hint;
        resp.throttled = c->throttled;
        zhub_outcome_t out;
        zhub_retry_classify (&resp, "test call", DATE_MS, &out);
        if (out.rc != c->rc || out.delay_ms != c->delay_ms || out.code != c->code)
            fprintf (stderr, "  case '%s': rc=%d delay=%lld code=%u\n", c->name, out.rc,
                     (long long)out.delay_ms, out.code);
        CHECK (out.rc == c->rc);
        if (c->rc != ZHUB_OK) {
            CHECK (out.delay_ms == c->delay_ms);
            CHECK (out.code == c->code);
            CHECK (strstr (out.reason, "test call") != NULL);
        }
        zhub_http_response_reset (&resp);
    }
}

static void
test_reason_carries_the_answer_message (void)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    resp.status = 400;
    resp.json =
        json_pack ("{s:s, s:s}", "status", "error", "message", "Property values were not valid");
    zhub_outcome_t out;
    zhub_retry_classify (&resp, "hubspot upsert contact", DATE_MS, &out);
    CHECK (out.rc == ZHUB_REJECT);
    CHECK_STR (out.reason, "hubspot upsert contact: HTTP 400 Property values were not valid");
    zhub_http_response_reset (&resp);
}

//  A rate limit a connector recognised (Google's 403 rateLimitExceeded:
//  see test_calendar_connectors) waits like a 429, also while the host's
//  circuit is open; the same status unmarked is for good.
static void
test_throttled_answers_back_off_and_others_reject (void)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    resp.status = 403;
    resp.json = json_pack ("{s:{s:i, s:s}}", "error", "code", 403, "message", "Rate Limit Exceeded");
    zhub_outcome_t out;
    zhub_retry_classify (&resp, "google freeBusy", DATE_MS, &out);
    CHECK (out.rc == ZHUB_REJECT && out.code == 403);
    resp.throttled = true;
    zhub_retry_classify (&resp, "google freeBusy", DATE_MS, &out);
    CHECK (out.rc == ZHUB_RETRY && out.delay_ms == -1 && out.code == 403);
    CHECK_STR (out.reason, "google freeBusy: HTTP 403 Rate Limit Exceeded");
    resp.retry_after = zhub_strdup ("3");
    zhub_retry_classify (&resp, "google events.list", DATE_MS, &out);
    CHECK (out.rc == ZHUB_RETRY && out.delay_ms == 3000);
    resp.circuit_open = true;
    resp.circuit_retry_ms = 2500;
    zhub_retry_classify (&resp, "google freeBusy", DATE_MS, &out);
    CHECK (out.rc == ZHUB_RETRY && out.defer && out.delay_ms == 2500);
    zhub_http_response_reset (&resp);
}

static void
test_retry_after_values (void)
{
    CHECK (zhub_retry_after_ms ("0", DATE_MS) == 0);
    CHECK (zhub_retry_after_ms (" 120 ", DATE_MS) == 120000);
    CHECK (zhub_retry_after_ms (NULL, DATE_MS) == -1);
    CHECK (zhub_retry_after_ms ("", DATE_MS) == -1);
    CHECK (zhub_retry_after_ms ("-3", DATE_MS) == -1);
    CHECK (zhub_retry_after_ms ("2s", DATE_MS) == -1);
    CHECK (zhub_retry_after_ms ("soon", DATE_MS) == -1);
    //  Dates: in the past -> now; obsolete forms too; far away -> capped.
    CHECK (zhub_retry_after_ms ("Wed, 21 Oct 2015 07:27:00 GMT", DATE_MS) == 0);
    CHECK (zhub_retry_after_ms ("Wednesday, 21-Oct-15 07:28:10 GMT", DATE_MS) == 10000);
    CHECK (zhub_retry_after_ms ("Wed Oct 21 07:28:03 2015", DATE_MS) == 3000);
    CHECK (zhub_retry_after_ms ("Wed, 21 Oct 2035 07:28:00 GMT", DATE_MS)
           == ZHUB_RETRY_MAX_DELAY_MS);
    CHECK (zhub_retry_after_ms ("99999999999999999999", DATE_MS) == ZHUB_RETRY_MAX_DELAY_MS);
}

//  A failure while the host's circuit is still open is no attempt of the
//  message: deferred until the next probe. A 4xx is the message's own fault.
static void
test_open_circuit_defers_instead_of_retrying (void)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_outcome_t out;
    resp.status = 503;
    resp.circuit_open = true;
    resp.circuit_retry_ms = 4000;
    zhub_retry_classify (&resp, "hubspot upsert", DATE_MS, &out);
    CHECK (out.rc == ZHUB_RETRY && out.defer && out.delay_ms == 4000 && out.code == 503);
    CHECK_STR (out.outcome, "deferred");
    resp.status = 0;
    resp.transport_error = CURLE_COULDNT_CONNECT;
    zhub_retry_classify (&resp, "hubspot upsert", DATE_MS, &out);
    CHECK (out.rc == ZHUB_RETRY && out.defer);
    resp.status = 400;
    resp.transport_error = 0;
    zhub_retry_classify (&resp, "hubspot upsert", DATE_MS, &out);
    CHECK (out.rc == ZHUB_REJECT && !out.defer);
    resp.status = 503;
    resp.circuit_open = false;
    zhub_retry_classify (&resp, "hubspot upsert", DATE_MS, &out);
    CHECK (out.rc == ZHUB_RETRY && !out.defer);
}

static void
test_outcome_helpers (void)
{
    zhub_outcome_t out;
    zhub_outcome_ok (&out, "synced");
    CHECK (out.rc == ZHUB_OK);
    CHECK_STR (out.outcome, "synced");
    zhub_outcome_reject (&out, ZHUB_REASON_INVALID_PHONE, "bad %s", "phone");
    CHECK (out.rc == ZHUB_REJECT);
    CHECK (out.code == ZHUB_REASON_INVALID_PHONE);
    CHECK_STR (out.reason, "bad phone");
    zhub_outcome_retry (&out, 1500, 503, "later");
    CHECK (out.rc == ZHUB_RETRY);
    CHECK (out.delay_ms == 1500);
}

int
main (void)
{
    RUN (test_classification_table);
    RUN (test_reason_carries_the_answer_message);
    RUN (test_throttled_answers_back_off_and_others_reject);
    RUN (test_retry_after_values);
    RUN (test_outcome_helpers);
    RUN (test_open_circuit_defers_instead_of_retrying);
    TEST_EXIT ();
}
