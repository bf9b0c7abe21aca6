//  The one failure classification of every outbound call (DESIGN.md,
//  "Failure, in one place"). An actor makes a call with zhub_http, and when
//  the answer is not a success it asks zhub_retry_classify what that means:
//
//    transport error, timeout, 408, 423, 429, 477, 5xx, and any answer
//    a connector marked throttled (Google's 403 rateLimitExceeded)
//                                                        ->  ZHUB_RETRY
//        with a delay: Retry-After (seconds or HTTP-date) when present;
//        else on a rate limit the connector's retry_hint_ms (HubSpot's
//        rolling window, from the pacer); else -1 (the group's backoff
//        schedule decides). 423 Locked waits at least 2 s, as HubSpot
//        asks.
//
//  What an answer means for one provider (a header, an error reason in
//  the body) is read by that provider's connector, which sets the hints;
//  this file knows no provider.
//    409                                                 ->  ZHUB_REJECT,
//        code 409: callers that can resolve a conflict (HubSpot's "already
//        exists. Existing ID: n") check for 409 before classifying.
//    other 4xx, 3xx, malformed URL                       ->  ZHUB_REJECT
//        with a reason, i.e. a terminal NACK to the dead-letter topic.
//    2xx                                                 ->  ZHUB_OK.
//
//  The outcome is what the actor's handler returns to the runtime, which
//  turns it into ACK / NACK(delay) / terminal NACK.
#ifndef ZHUB_RETRY_H
#define ZHUB_RETRY_H

#include "zhub_common.h"
#include "zhub_http.h"

#include <stdint.h>

//  Longest delay we pass on to the broker, whatever a peer asks for.
#define ZHUB_RETRY_MAX_DELAY_MS (6LL * 3600 * 1000)
//  HubSpot's advice for 423 Locked: "include a delay of at least 2 seconds".
#define ZHUB_RETRY_LOCKED_DELAY_MS 2000

//  Reason codes carried in a NACK and kept in the dead letter's history.
//  HTTP failures use the HTTP status itself (400..599).
typedef enum {
    ZHUB_REASON_NONE = 0,
    ZHUB_REASON_TRANSPORT = 1001,     //  connection refused, reset, DNS
    ZHUB_REASON_TIMEOUT = 1002,       //  connect or total timeout
    ZHUB_REASON_BAD_URL = 1003,       //  a URL curl refuses (our bug or bad config)
    ZHUB_REASON_BAD_ANSWER = 1004,    //  2xx with a body we cannot use
    ZHUB_REASON_NOT_READY = 1005,     //  waits for something else first (a contact's sync)
    ZHUB_REASON_INVALID_INPUT = 2001, //  the message itself is malformed
    ZHUB_REASON_INVALID_PHONE = 2002, //  a phone number that is not one
    ZHUB_REASON_INVALID_EMAIL = 2003, //  an e-mail address that is not one
    ZHUB_REASON_NO_IDENTIFIER = 2004, //  neither phone nor e-mail to match on
    ZHUB_REASON_INTERNAL = 3001,      //  our own fault (store, memory)
    ZHUB_REASON_PUBLISH = 3002        //  the broker did not confirm a publish
} zhub_reason_t;

//  What a handler tells the runtime: ack (OK), nack with a delay (RETRY;
//  delay_ms -1 = the group's backoff), or nack terminal (REJECT).
typedef struct {
    zhub_rc_t rc;        //  ZHUB_OK, ZHUB_RETRY or ZHUB_REJECT
    int64_t delay_ms;    //  RETRY only
    uint32_t code;       //  zhub_reason_t or an HTTP status
    char reason[256];    //  human-readable, no secrets, no bodies
    const char *outcome; //  short label for the log line ("synced", "skipped"...)
    bool defer;          //  RETRY that is no attempt: the peer is down (circuit open)
} zhub_outcome_t;

//  Sets *out to OK with the given log label.
void zhub_outcome_ok (zhub_outcome_t *out, const char *label);

//  Sets *out to RETRY / REJECT with code and a printf-style reason.
void zhub_outcome_retry (zhub_outcome_t *out, int64_t delay_ms, uint32_t code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
void zhub_outcome_reject (zhub_outcome_t *out, uint32_t code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Sets *out to a RETRY after delay_ms that does not count as a delivery
//  attempt (NACK with defer): for when the message could not even be tried.
void zhub_outcome_defer (zhub_outcome_t *out, int64_t delay_ms, uint32_t code, const char *fmt,
                         ...) __attribute__ ((format (printf, 4, 5)));

//  Classifies one call's result. A transient failure while the host's
//  circuit is open (resp->circuit_open) is deferred, not retried. what names the call for the reason
//  ("hubspot upsert contact"). now_ms is the wall clock (for an HTTP-date
//  Retry-After). Pure.
void zhub_retry_classify (const zhub_http_response_t *resp, const char *what, int64_t now_ms,
                          zhub_outcome_t *out);

//  Parses a Retry-After value: delta-seconds ("2") or an HTTP-date
//  ("Wed, 21 Oct 2015 07:28:00 GMT"). Returns the delay in ms (0 for a
//  date in the past, capped at ZHUB_RETRY_MAX_DELAY_MS), or -1 when value
//  is NULL or unreadable. Pure.
int64_t zhub_retry_after_ms (const char *value, int64_t now_ms);

#endif
