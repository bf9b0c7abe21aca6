//  Failure classification, kept as a table-like chain of rules in one
//  function so that the whole policy reads top to bottom in one place and
//  the unit test can walk it as a table (status + headers -> outcome).
#include "zhub_retry.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
zhub_outcome_ok (zhub_outcome_t *out, const char *label)
{
    memset (out, 0, sizeof *out);
    out->rc = ZHUB_OK;
    out->delay_ms = -1;
    out->outcome = label;
}

static void
s_outcome_set (zhub_outcome_t *out, zhub_rc_t rc, int64_t delay_ms, uint32_t code, const char *fmt,
               va_list args)
{
    memset (out, 0, sizeof *out);
    out->rc = rc;
    out->delay_ms = delay_ms;
    out->code = code;
    out->outcome = rc == ZHUB_RETRY ? "retry" : "rejected";
    vsnprintf (out->reason, sizeof out->reason, fmt, args);
}

void
zhub_outcome_retry (zhub_outcome_t *out, int64_t delay_ms, uint32_t code, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    s_outcome_set (out, ZHUB_RETRY, delay_ms, code, fmt, args);
    va_end (args);
}

void
zhub_outcome_defer (zhub_outcome_t *out, int64_t delay_ms, uint32_t code, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    s_outcome_set (out, ZHUB_RETRY, delay_ms, code, fmt, args);
    va_end (args);
    out->defer = true;
    out->outcome = "deferred";
}

void
zhub_outcome_reject (zhub_outcome_t *out, uint32_t code, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    s_outcome_set (out, ZHUB_REJECT, -1, code, fmt, args);
    va_end (args);
}

int64_t
zhub_retry_after_ms (const char *value, int64_t now_ms)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (!*value)
        return -1;
    if (isdigit ((unsigned char)*value)) {
        int64_t seconds = 0;
        const char *p = value;
        for (; isdigit ((unsigned char)*p); p++) {
            seconds = seconds * 10 + (*p - '0');
            if (seconds > ZHUB_RETRY_MAX_DELAY_MS / 1000)
                return ZHUB_RETRY_MAX_DELAY_MS;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        return *p ? -1 : seconds * 1000;
    }
    //  An HTTP-date; curl_getdate reads IMF-fixdate and the two obsolete
    //  forms RFC 9110 still asks recipients to accept.
    time_t when = curl_getdate (value, NULL);
    if (when == (time_t)-1)
        return -1;
    int64_t delay = (int64_t)when * 1000 - now_ms;
    if (delay < 0)
        return 0;
    return delay > ZHUB_RETRY_MAX_DELAY_MS ? ZHUB_RETRY_MAX_DELAY_MS : delay;
}

//  The HubSpot error body's "message" (or Bird's), else Google's and
//  Graph's error.message, shortened for a reason.
static const char *
s_answer_message (const zhub_http_response_t *resp)
{
    if (!resp->json || !json_is_object (resp->json))
        return "";
    const char *message = json_string_value (json_object_get (resp->json, "message"));
    if (!message)
        message =
            json_string_value (json_object_get (json_object_get (resp->json, "error"), "message"));
    return message ? message : "";
}

void
zhub_retry_classify (const zhub_http_response_t *resp, const char *what, int64_t now_ms,
                     zhub_outcome_t *out)
{
    long status = resp->status;
    bool rate_limited = status == 429 || resp->throttled;
    bool transient_status = status == 0 || status == 408 || status == 423 || rate_limited
                            || status == 477 || (status >= 500 && status < 600);
    if (resp->circuit_open && transient_status
        && !(status == 0
             && (resp->transport_error == CURLE_URL_MALFORMAT
                 || resp->transport_error == CURLE_UNSUPPORTED_PROTOCOL))) {
        int64_t delay = resp->circuit_retry_ms > 0 ? resp->circuit_retry_ms : 1000;
        zhub_outcome_defer (out, delay, status ? (uint32_t)status : ZHUB_REASON_TRANSPORT,
                            "%s: the host is down (circuit open); deferred", what);
        return;
    }
    if (status == 0) {
        if (resp->transport_error == CURLE_URL_MALFORMAT
            || resp->transport_error == CURLE_UNSUPPORTED_PROTOCOL)
            zhub_outcome_reject (out, ZHUB_REASON_BAD_URL, "%s: %s", what, resp->error);
        else if (resp->timed_out)
            zhub_outcome_retry (out, -1, ZHUB_REASON_TIMEOUT, "%s: %s", what, resp->error);
        else
            zhub_outcome_retry (out, -1, ZHUB_REASON_TRANSPORT, "%s: %s", what, resp->error);
        return;
    }
    if (status >= 200 && status < 300) {
        zhub_outcome_ok (out, "ok");
        return;
    }
    const char *message = s_answer_message (resp);
    bool transient = status == 408 || status == 423 || rate_limited || status == 477
                     || (status >= 500 && status < 600);
    if (!transient) {
        zhub_outcome_reject (out, (uint32_t)status, "%s: HTTP %ld%s%.160s", what, status,
                             *message ? " " : "", message);
        return;
    }
    int64_t delay = zhub_retry_after_ms (resp->retry_after, now_ms);
    if (delay < 0 && rate_limited && resp->retry_hint_ms > 0)
        delay = resp->retry_hint_ms < ZHUB_RETRY_MAX_DELAY_MS ? resp->retry_hint_ms
                                                              : ZHUB_RETRY_MAX_DELAY_MS;
    if (status == 423 && delay < ZHUB_RETRY_LOCKED_DELAY_MS)
        delay = ZHUB_RETRY_LOCKED_DELAY_MS;
    zhub_outcome_retry (out, delay, (uint32_t)status, "%s: HTTP %ld%s%.160s", what, status,
                        *message ? " " : "", message);
}
