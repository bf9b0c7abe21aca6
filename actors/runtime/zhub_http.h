//  The one HTTP client of the actors, on libcurl. One zhub_http_t holds one
//  curl easy handle that is reused call after call, so connections to a
//  peer stay open (keep-alive) and TLS is negotiated once. Requests and
//  answers are JSON (jansson). The answer keeps its status, Retry-After and
//  its header lines, so that a connector can read what its provider says
//  in headers of its own (HubSpot's rate-limit figures: the pacer); this
//  file knows no provider. Deciding what a failure means is zhub_retry's
//  job, with the hints a connector sets (throttled, retry_hint_ms).
//
//  Not thread-safe: one zhub_http_t per thread.
#ifndef ZHUB_HTTP_H
#define ZHUB_HTTP_H

#include "zhub_common.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

//  Named limits (defaults; the actor's config may override the timeouts).
#define ZHUB_HTTP_CONNECT_TIMEOUT_MS 5000        //  TCP + TLS handshake
#define ZHUB_HTTP_TOTAL_TIMEOUT_MS 20000         //  the whole call
#define ZHUB_HTTP_MAX_RESPONSE (4 * 1024 * 1024) //  answer body bytes kept
#define ZHUB_HTTP_MAX_HEADERS 16                 //  extra request headers per call
#define ZHUB_HTTP_MAX_ANSWER_HEADERS 16384       //  answer header bytes kept (more are dropped)

typedef struct zhub_http_t zhub_http_t;

typedef struct {
    int64_t connect_timeout_ms; //  0 = ZHUB_HTTP_CONNECT_TIMEOUT_MS
    int64_t total_timeout_ms;   //  0 = ZHUB_HTTP_TOTAL_TIMEOUT_MS
    size_t max_response;        //  0 = ZHUB_HTTP_MAX_RESPONSE
    const char *user_agent;     //  NULL = "zhub/<version>"
} zhub_http_config_t;

//  One call. headers are full "Name: value" lines (at most
//  ZHUB_HTTP_MAX_HEADERS), e.g. the connector's Authorization line; they
//  are never logged. body is sent as compact JSON with Content-Type
//  application/json when not NULL.
typedef struct {
    const char *method; //  "GET", "POST", "PATCH", "PUT", "DELETE"
    const char *url;    //  absolute http(s) URL
    const char *const *headers;
    size_t header_count;
    const json_t *body;
    const char *traceparent; //  W3C trace context to pass on, or NULL
    //  A form body (already percent-encoded "a=1&b=2"), sent with Content-Type
    //  application/x-www-form-urlencoded when body is NULL: OAuth2 token
    //  endpoints take nothing else. Never logged (it carries secrets).
    const char *form;
    //  This call's whole-call timeout in ms (0 = the client's
    //  total_timeout_ms): for a peer that must answer sooner than the
    //  others or be done without (the intent router's AI classifier).
    int64_t timeout_ms;
} zhub_http_call_t;

//  What came back. Integers are -1 when the header was absent or malformed.
typedef struct {
    long status;         //  HTTP status; 0 when no answer (transport failure)
    int transport_error; //  CURLcode; 0 when an answer arrived
    bool timed_out;      //  the transport failure was a timeout
    char error[256];     //  transport error text ("" when none)
    char *body;          //  raw answer body, NUL-terminated (owned) or NULL
    size_t body_size;
    json_t *json;        //  body parsed as JSON (owned) or NULL
    char *retry_after;   //  Retry-After value as sent (owned) or NULL
    char *headers;       //  the final answer's header lines, "Name: value\n" each
    size_t headers_size; //  (owned; read them with zhub_http_header)
    int64_t elapsed_ms;  //  time the call took
    //  Hints a connector sets from what its provider's answer means, for
    //  the retry policy (zhub_retry_classify):
    bool throttled;        //  a rate limit whatever the status (Google's 403
                           //  rateLimitExceeded): back off as after a 429
    int64_t retry_hint_ms; //  how long the provider asked to wait when no
                           //  Retry-After says it (-1: nothing said)
    //  Set by the connectors' pacer: the host's circuit was still open when
    //  the call gave up (the host is down, not this message's fault), and
    //  how long until the next probe.
    bool circuit_open;
    int64_t circuit_retry_ms;
} zhub_http_response_t;

//  Told of every call once its answer (or failure) is in: the URL called
//  and the response (status, elapsed_ms). For metrics; must not block.
typedef void (zhub_http_observer_fn) (const char *url, const zhub_http_response_t *resp, void *arg);

//  What a connector's pacer knows of a host after each call through it:
//  told to the peer observer (for metrics: the breaker's state and, once a
//  provider has said it, the rate budget left).
typedef struct {
    bool circuit_open;        //  calls to the host are held (breaker open)
    int64_t budget_remaining; //  calls left in the provider's window; -1 = not said
    int64_t budget_max;       //  the window's size; -1 = not said
} zhub_http_peer_state_t;

typedef void (zhub_http_peer_fn) (const char *url, const zhub_http_peer_state_t *state, void *arg);

//  Creates a client. config may be NULL (defaults). Returns NULL only when
//  libcurl cannot be initialised.
zhub_http_t *zhub_http_new (const zhub_http_config_t *config);

//  Sets the observer of every call (NULL: none).
void zhub_http_observe (zhub_http_t *self, zhub_http_observer_fn *observer, void *arg);

//  Sets the observer of the hosts' states (NULL: none).
void zhub_http_observe_peers (zhub_http_t *self, zhub_http_peer_fn *observer, void *arg);

//  Tells the peer observer (if any) what a pacer now knows of url's host.
void zhub_http_report_peer (zhub_http_t *self, const char *url,
                            const zhub_http_peer_state_t *state);

//  Closes the handle and its connections; NULL-safe; nulls *self_p.
void zhub_http_destroy (zhub_http_t **self_p);

//  Makes one call and fills *resp (which must have been initialised with
//  zhub_http_response_init; previous contents are released first).
//  Returns 0 when an HTTP answer arrived, whatever its status; -1 on a
//  transport failure (connection refused, DNS, timeout, answer too large),
//  with resp->transport_error and resp->error set and resp->status 0.
int zhub_http_request (zhub_http_t *self, const zhub_http_call_t *call, zhub_http_response_t *resp);

//  Prepares an empty response (all integers -1, pointers NULL).
void zhub_http_response_init (zhub_http_response_t *resp);

//  Releases what the response owns and re-initialises it.
void zhub_http_response_reset (zhub_http_response_t *resp);

//  Reads one response header line ("Name: value\r\n") into resp: keeps
//  Retry-After, and every line (trimmed) in resp->headers up to
//  ZHUB_HTTP_MAX_ANSWER_HEADERS bytes. A status line ("HTTP/1.1 100 ...")
//  clears what was captured, so only the final answer's headers count.
//  Pure; exposed for unit tests.
void zhub_http_parse_header (zhub_http_response_t *resp, const char *line, size_t size);

//  The value of the answer's header name (compared case-insensitively; the
//  first one when repeated), copied into buf (cut to size), or NULL when
//  the answer has none.
const char *zhub_http_header (const zhub_http_response_t *resp, const char *name, char *buf,
                              size_t size);

//  The same as a non-negative integer; -1 when absent or not one.
int64_t zhub_http_header_int (const zhub_http_response_t *resp, const char *name);

//  Percent-encodes text for use as one URL path segment or query value:
//  everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) is
//  escaped, so "+52 1" becomes "%2B52%201". Returns a fresh heap string.
//  Pure.
char *zhub_http_escape (const char *text);

#endif
