//  The HTTP client's pure parts: response header capture (Retry-After,
//  HubSpot's rate-limit figures), URL escaping, and a transport failure
//  that needs no socket (a URL curl refuses).
#include "zhub_http.h"
#include "zhub_test.h"

static void
s_header (zhub_http_response_t *resp, const char *line)
{
    zhub_http_parse_header (resp, line, strlen (line));
}

static void
test_captures_retry_after_and_every_header (void)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    CHECK (!resp.retry_after && !resp.headers && resp.retry_hint_ms == -1 && !resp.throttled);
    s_header (&resp, "HTTP/1.1 429 Too Many Requests\r\n");
    s_header (&resp, "Content-Type: application/json\r\n");
    s_header (&resp, "retry-after:   2 \r\n");
    s_header (&resp, "X-HubSpot-RateLimit-Interval-Milliseconds: 10000\r\n");
    s_header (&resp, "x-hubspot-ratelimit-max: 190\r\n");
    s_header (&resp, "X-HubSpot-RateLimit-Remaining: 0\r\n");
    s_header (&resp, "\r\n");
    CHECK_STR (resp.retry_after, "2");
    char buf[64];
    CHECK_STR (zhub_http_header (&resp, "content-type", buf, sizeof buf), "application/json");
    CHECK (zhub_http_header_int (&resp, "X-HubSpot-RateLimit-Max") == 190);
    CHECK (zhub_http_header_int (&resp, "x-hubspot-ratelimit-remaining") == 0);
    CHECK (zhub_http_header_int (&resp, "X-HubSpot-RateLimit-Interval-Milliseconds") == 10000);
    CHECK (zhub_http_header_int (&resp, "X-HubSpot-RateLimit-Daily") == -1);
    //  a name that is only the start of another is not it
    CHECK (zhub_http_header (&resp, "X-HubSpot-RateLimit", buf, sizeof buf) == NULL);
    //  cut to the buffer
    char small[5];
    CHECK_STR (zhub_http_header (&resp, "Content-Type", small, sizeof small), "appl");
    zhub_http_response_reset (&resp);
    CHECK (resp.retry_after == NULL && resp.headers == NULL);
}

static void
test_interim_status_line_forgets_headers (void)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    s_header (&resp, "HTTP/1.1 100 Continue\r\n");
    s_header (&resp, "Retry-After: 9\r\n");
    s_header (&resp, "X-Interim: yes\r\n");
    s_header (&resp, "HTTP/1.1 200 OK\r\n");
    CHECK (resp.retry_after == NULL);
    char buf[16];
    CHECK (zhub_http_header (&resp, "X-Interim", buf, sizeof buf) == NULL);
    s_header (&resp, "X-HubSpot-RateLimit-Remaining: banana\r\n");
    CHECK (zhub_http_header_int (&resp, "X-HubSpot-RateLimit-Remaining") == -1);
    s_header (&resp, "no colon here\r\n");
    CHECK (resp.headers && !strstr (resp.headers, "no colon"));
    zhub_http_response_reset (&resp);
}

static void
test_escape_path_segments (void)
{
    char *e = zhub_http_escape ("+52 1 55-1234");
    CHECK_STR (e, "%2B52%201%2055-1234");
    free (e);
    e = zhub_http_escape ("ana.perez+tag@example.com");
    CHECK_STR (e, "ana.perez%2Btag%40example.com");
    free (e);
    e = zhub_http_escape ("José/ü");
    CHECK_STR (e, "Jos%C3%A9%2F%C3%BC");
    free (e);
    e = zhub_http_escape ("");
    CHECK_STR (e, "");
    free (e);
}

static void
test_refused_url_is_a_transport_failure (void)
{
    zhub_http_t *http = zhub_http_new (NULL);
    CHECK (http != NULL);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_http_call_t call = {.method = "GET", .url = "file:///etc/passwd"};
    CHECK (zhub_http_request (http, &call, &resp) == -1);
    CHECK (resp.status == 0);
    CHECK (resp.transport_error != 0);
    CHECK (*resp.error);
    CHECK (resp.body == NULL && resp.json == NULL);
    zhub_http_response_reset (&resp);
    zhub_http_destroy (&http);
    CHECK (http == NULL);
    zhub_http_destroy (&http);
}

int
main (void)
{
    RUN (test_captures_retry_after_and_every_header);
    RUN (test_interim_status_line_forgets_headers);
    RUN (test_escape_path_segments);
    RUN (test_refused_url_is_a_transport_failure);
    TEST_EXIT ();
}
