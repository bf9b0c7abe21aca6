//  The actors' HTTP client. Shaped around one reused curl easy handle:
//  curl_easy_reset between calls clears the options but keeps the
//  connection cache, so every call to the same host rides the same
//  keep-alive connection. Signals are disabled in curl (CURLOPT_NOSIGNAL)
//  because the actor's own SIGTERM handler must stay in charge, and
//  "Expect: 100-continue" is switched off: a peer that answers late would
//  otherwise cost a second on every POST.
#include "zhub_http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct zhub_http_t {
    CURL *curl;
    zhub_http_config_t config;
    char *user_agent;
    zhub_http_observer_fn *observer; //  told of every call (metrics), or NULL
    void *observer_arg;
    zhub_http_peer_fn *peer_observer; //  told of the hosts' states, or NULL
    void *peer_observer_arg;
};

void
zhub_http_observe (zhub_http_t *self, zhub_http_observer_fn *observer, void *arg)
{
    self->observer = observer;
    self->observer_arg = arg;
}

void
zhub_http_observe_peers (zhub_http_t *self, zhub_http_peer_fn *observer, void *arg)
{
    self->peer_observer = observer;
    self->peer_observer_arg = arg;
}

void
zhub_http_report_peer (zhub_http_t *self, const char *url, const zhub_http_peer_state_t *state)
{
    if (self && self->peer_observer)
        self->peer_observer (url, state, self->peer_observer_arg);
}

//  Answer being received: grows up to the configured limit.
typedef struct {
    zhub_http_response_t *resp;
    char *data;
    size_t size;
    size_t capacity;
    size_t limit;
    bool too_large;
} s_sink_t;

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_init_rc = CURLE_OK;

static void
s_curl_global_init (void)
{
    //  Process-wide and never undone: curl_global_cleanup at exit would race
    //  any other thread still holding a handle, and the OS frees it anyway.
    s_curl_init_rc = curl_global_init (CURL_GLOBAL_DEFAULT);
}

zhub_http_t *
zhub_http_new (const zhub_http_config_t *config)
{
    pthread_once (&s_curl_once, s_curl_global_init);
    if (s_curl_init_rc != CURLE_OK)
        return NULL;
    CURL *curl = curl_easy_init ();
    if (!curl)
        return NULL;
    zhub_http_t *self = zhub_calloc (1, sizeof *self);
    self->curl = curl;
    if (config)
        self->config = *config;
    if (self->config.connect_timeout_ms <= 0)
        self->config.connect_timeout_ms = ZHUB_HTTP_CONNECT_TIMEOUT_MS;
    if (self->config.total_timeout_ms <= 0)
        self->config.total_timeout_ms = ZHUB_HTTP_TOTAL_TIMEOUT_MS;
    if (self->config.max_response == 0)
        self->config.max_response = ZHUB_HTTP_MAX_RESPONSE;
    //  "zhub/<version>": providers see who calls, and the tests' contract
    //  checker tells zhub's requests from the tests' own by this prefix.
    self->user_agent =
        zhub_strdup (self->config.user_agent ? self->config.user_agent : "zhub/" ZHUB_VERSION);
    self->config.user_agent = self->user_agent;
    return self;
}

void
zhub_http_destroy (zhub_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_http_t *self = *self_p;
    curl_easy_cleanup (self->curl);
    free (self->user_agent);
    free (self);
    *self_p = NULL;
}

void
zhub_http_response_init (zhub_http_response_t *resp)
{
    memset (resp, 0, sizeof *resp);
    resp->retry_hint_ms = -1;
}

void
zhub_http_response_reset (zhub_http_response_t *resp)
{
    free (resp->body);
    free (resp->retry_after);
    free (resp->headers);
    if (resp->json)
        json_decref (resp->json);
    zhub_http_response_init (resp);
}

//  Parses a header value as a non-negative integer; -1 when it is not one.
static int64_t
s_header_int (const char *value, size_t size)
{
    if (size == 0 || size > 18)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < size; i++) {
        if (!isdigit ((unsigned char)value[i]))
            return -1;
        n = n * 10 + (value[i] - '0');
    }
    return n;
}

void
zhub_http_parse_header (zhub_http_response_t *resp, const char *line, size_t size)
{
    if (size >= 5 && !strncasecmp (line, "HTTP/", 5)) {
        //  A new status line (after a 100 Continue or a redirect): forget
        //  the headers of the interim answer.
        free (resp->retry_after);
        resp->retry_after = NULL;
        free (resp->headers);
        resp->headers = NULL;
        resp->headers_size = 0;
        return;
    }
    const char *colon = memchr (line, ':', size);
    if (!colon)
        return;
    size_t name_size = colon - line;
    const char *value = colon + 1;
    size_t value_size = size - name_size - 1;
    while (value_size && (*value == ' ' || *value == '\t')) {
        value++;
        value_size--;
    }
    while (value_size && isspace ((unsigned char)value[value_size - 1]))
        value_size--;
    if (name_size == 11 && !strncasecmp (line, "retry-after", 11)) {
        free (resp->retry_after);
        resp->retry_after = zhub_malloc (value_size + 1);
        memcpy (resp->retry_after, value, value_size);
        resp->retry_after[value_size] = 0;
    }
    //  "Name: value\n", for the connectors (zhub_http_header)
    size_t line_size = name_size + 2 + value_size + 1;
    if (resp->headers_size + line_size + 1 > ZHUB_HTTP_MAX_ANSWER_HEADERS)
        return;
    resp->headers = zhub_realloc (resp->headers, resp->headers_size + line_size + 1);
    char *out = resp->headers + resp->headers_size;
    memcpy (out, line, name_size);
    memcpy (out + name_size, ": ", 2);
    memcpy (out + name_size + 2, value, value_size);
    out[line_size - 1] = '\n';
    resp->headers_size += line_size;
    resp->headers[resp->headers_size] = 0;
}

const char *
zhub_http_header (const zhub_http_response_t *resp, const char *name, char *buf, size_t size)
{
    size_t name_size = strlen (name);
    for (const char *line = resp->headers; line && *line;) {
        const char *end = strchr (line, '\n');
        size_t line_size = end ? (size_t)(end - line) : strlen (line);
        if (line_size >= name_size + 2 && !strncasecmp (line, name, name_size)
            && line[name_size] == ':') {
            size_t value_size = line_size - name_size - 2;
            if (size == 0)
                return buf;
            if (value_size >= size)
                value_size = size - 1;
            memcpy (buf, line + name_size + 2, value_size);
            buf[value_size] = 0;
            return buf;
        }
        line = end ? end + 1 : line + line_size;
    }
    return NULL;
}

int64_t
zhub_http_header_int (const zhub_http_response_t *resp, const char *name)
{
    char value[32];
    if (!zhub_http_header (resp, name, value, sizeof value))
        return -1;
    return s_header_int (value, strlen (value));
}

char *
zhub_http_escape (const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t size = strlen (text);
    char *out = zhub_malloc (size * 3 + 1);
    char *w = out;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isalnum (*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            *w++ = (char)*p;
        else {
            *w++ = '%';
            *w++ = hex[*p >> 4];
            *w++ = hex[*p & 15];
        }
    }
    *w = 0;
    return out;
}

static size_t
s_on_header (char *buffer, size_t size, size_t nitems, void *arg)
{
    s_sink_t *sink = arg;
    zhub_http_parse_header (sink->resp, buffer, size * nitems);
    return size * nitems;
}

static size_t
s_on_body (char *buffer, size_t size, size_t nitems, void *arg)
{
    s_sink_t *sink = arg;
    size_t more = size * nitems;
    if (sink->size + more > sink->limit) {
        sink->too_large = true;
        return 0; //  makes curl fail the transfer with CURLE_WRITE_ERROR
    }
    if (sink->size + more + 1 > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 4096;
        while (capacity < sink->size + more + 1)
            capacity *= 2;
        sink->data = zhub_realloc (sink->data, capacity);
        sink->capacity = capacity;
    }
    memcpy (sink->data + sink->size, buffer, more);
    sink->size += more;
    sink->data[sink->size] = 0;
    return more;
}

static int
s_request (zhub_http_t *self, const zhub_http_call_t *call, zhub_http_response_t *resp)
{
    zhub_http_response_reset (resp);
    int64_t started = zhub_mono_ms ();
    CURL *curl = self->curl;
    curl_easy_reset (curl);

    s_sink_t sink = {.resp = resp, .limit = self->config.max_response};
    char *payload = NULL;
    struct curl_slist *headers = NULL;
    headers = curl_slist_append (headers, "Accept: application/json");
    headers = curl_slist_append (headers, "Expect:");
    for (size_t i = 0; i < call->header_count && i < ZHUB_HTTP_MAX_HEADERS; i++)
        headers = curl_slist_append (headers, call->headers[i]);
    if (call->traceparent && *call->traceparent && strlen (call->traceparent) < 128) {
        char line[160];
        snprintf (line, sizeof line, "traceparent: %s", call->traceparent);
        headers = curl_slist_append (headers, line);
    }
    if (call->body) {
        payload = json_dumps (call->body, JSON_COMPACT);
        if (!payload) {
            curl_slist_free_all (headers);
            resp->transport_error = CURLE_BAD_FUNCTION_ARGUMENT;
            snprintf (resp->error, sizeof resp->error, "request body cannot be serialised");
            return -1;
        }
        headers = curl_slist_append (headers, "Content-Type: application/json");
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)strlen (payload));
    } else if (call->form) {
        headers = curl_slist_append (headers, "Content-Type: application/x-www-form-urlencoded");
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, call->form);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)strlen (call->form));
    }
    curl_easy_setopt (curl, CURLOPT_URL, call->url);
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, call->method);
    if (!strcmp (call->method, "GET"))
        curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, self->user_agent);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, (long)self->config.connect_timeout_ms);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS,
                      (long)(call->timeout_ms > 0 ? call->timeout_ms
                                                  : self->config.total_timeout_ms));
    curl_easy_setopt (curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &sink);

    CURLcode rc = curl_easy_perform (curl);
    curl_slist_free_all (headers);
    free (payload);
    resp->elapsed_ms = zhub_mono_ms () - started;

    if (rc != CURLE_OK) {
        free (sink.data);
        free (resp->retry_after);
        resp->retry_after = NULL;
        resp->status = 0;
        resp->transport_error = rc;
        resp->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        if (sink.too_large)
            snprintf (resp->error, sizeof resp->error, "answer larger than %zu bytes", sink.limit);
        else
            snprintf (resp->error, sizeof resp->error, "%s", curl_easy_strerror (rc));
        return -1;
    }
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->body = sink.data;
    resp->body_size = sink.size;
    if (resp->body && resp->body_size)
        resp->json = json_loadb (resp->body, resp->body_size, 0, NULL);
    return 0;
}

int
zhub_http_request (zhub_http_t *self, const zhub_http_call_t *call, zhub_http_response_t *resp)
{
    int rc = s_request (self, call, resp);
    if (self->observer)
        self->observer (call->url, resp, self->observer_arg);
    return rc;
}
