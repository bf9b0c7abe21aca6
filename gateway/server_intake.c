//  A webhook request's intake, before the body is complete: routing to a
//  provider, the source's rate limit, handshakes, method, content type and
//  declared length decided from the headers alone; then the body buffered
//  up to the body limit, and an oversized one read and dropped up to the
//  discard limit so that its sender can read the 413.
#include "server_internal.h"

//  How much of an oversized body is read: never less than the body limit.
static size_t
s_discard_limit (const zhub_gateway_config_t *config)
{
    return config->discard_limit > config->body_limit ? config->discard_limit : config->body_limit;
}

//  ---------------------------------------------------------------------
//  Rate limits

//  0 when the source may go on, else the Retry-After seconds.
static int64_t
s_rate_take (zhub_gateway_server_t *self, const zhub_provider_t *provider, const char *source)
{
    const zhub_gateway_config_t *config = self->config;
    double rate = config->rate;
    for (size_t i = 0; i < zhub_provider_count () && i < 16; i++)
        if (zhub_provider_at (i) == provider && config->source_rate[i] > 0)
            rate = config->source_rate[i];
    double burst = config->burst > rate ? config->burst : rate;
    pthread_mutex_lock (&self->rate_lock);
    size_t i = 0;
    while (i < self->bucket_count && strcmp (self->buckets[i].source, source))
        i++;
    if (i == self->bucket_count) {
        //  sources are providers and configured senders: a bounded set
        self->buckets = zhub_realloc (self->buckets, (i + 1) * sizeof *self->buckets);
        memset (&self->buckets[i], 0, sizeof self->buckets[i]);
        snprintf (self->buckets[i].source, s_SOURCE_MAX, "%s", source);
        self->bucket_count++;
    }
    int64_t wait_s = zhub_bucket_take (&self->buckets[i].bucket, zhub_mono_ms (), rate, burst);
    pthread_mutex_unlock (&self->rate_lock);
    return wait_s;
}

//  First call: only the headers are known. Everything that can be decided
//  without the body is decided here, so a wrong request costs no upload.
enum MHD_Result
zhub_gateway_server_webhook_headers (struct MHD_Connection *conn, s_request_t *req, const char *url)
{
    zhub_gateway_server_t *self = req->server;
    const char *route = NULL;
    req->provider = zhub_provider_route (url, &route);
    if (!req->provider && strncmp (url, "/v1/webhooks/", 13) && strcmp (url, "/v1/events"))
        return zhub_gateway_server_error (conn, req, MHD_HTTP_NOT_FOUND, "not_found",
                                          "no such path", NULL, NULL, NULL);
    if (route && !zhub_gateway_config_generic (self->config, route))
        req->provider = NULL; //  a sender nobody configured does not exist
    if (!req->provider)
        return zhub_gateway_server_error (conn, req, MHD_HTTP_NOT_FOUND, "unknown_source",
                                          "no webhook source of that name", NULL, NULL, NULL);
    snprintf (req->route, sizeof req->route, "%s", route ? route : "");
    if (route)
        snprintf (req->source, sizeof req->source, "generic/%s", route);
    else
        snprintf (req->source, sizeof req->source, "%s", req->provider->name);

    int64_t wait_s = s_rate_take (self, req->provider, req->source);
    if (wait_s > 0) {
        char retry_after[24];
        snprintf (retry_after, sizeof retry_after, "%lld", (long long)wait_s);
        return zhub_gateway_server_error (conn, req, MHD_HTTP_TOO_MANY_REQUESTS,
                                          "too_many_requests",
                                          "over this source's request rate; retry later",
                                          "rate_limited", MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    }
    if (req->provider->handshake) {
        char *full = zhub_gateway_full_url (self->public_url, req->target);
        zhub_webhook_t hook = {.method = req->method,
                               .url = full,
                               .header = zhub_gateway_server_header,
                               .header_ctx = conn,
                               .body = "",
                               .now_ms = zhub_now_ms (),
                               .route_name = route};
        zhub_verify_opts_t opts;
        zhub_gateway_config_verify_opts (self->config, req->provider, route, &opts);
        hook.opts = &opts;
        zhub_handshake_t reply = {0};
        zhub_rc_t rc = req->provider->handshake (&hook, &opts, &reply);
        free (full);
        if (rc == ZHUB_OK) {
            snprintf (req->reason, sizeof req->reason, "handshake");
            return zhub_gateway_server_text (conn, req, reply.status, reply.content_type,
                                             reply.body);
        }
        free (reply.body);
    }
    bool get = req->provider->flags & ZHUB_PROVIDER_ALLOW_GET;
    if (strcmp (req->method, "POST"))
        return zhub_gateway_server_error (conn, req, MHD_HTTP_METHOD_NOT_ALLOWED,
                                          "method_not_allowed", "webhooks are delivered with POST",
                                          NULL, MHD_HTTP_HEADER_ALLOW, get ? "GET, POST" : "POST");
    const char *type =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    bool type_ok = req->provider->content_type_ok ? req->provider->content_type_ok (type)
                                                  : zhub_gateway_content_type_ok (type);
    if (!type_ok)
        return zhub_gateway_server_error (conn, req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                          "unsupported_media_type",
                                          "the body must be application/json", NULL, NULL, NULL);
    const char *length_text =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t length = 0;
    if (length_text && !zhub_gateway_parse_length (length_text, &length)) {
        if (length > self->config->body_limit) {
            req->too_large = true;
            //  Answered now only when that costs the sender nothing: it
            //  waits for 100 Continue before sending the body, or the body
            //  is past what we would read anyway. Otherwise the body is read
            //  and dropped, and the 413 follows it (zhub_gateway_server_
            //  webhook_body): answered before the upload ends, libmicrohttpd
            //  closes a socket that still has data coming, and the sender
            //  gets a connection reset instead of our answer.
            const char *expect =
                MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
            bool waits = expect && strcasestr (expect, "100-continue");
            if (waits || length > s_discard_limit (self->config))
                return zhub_gateway_server_error (
                    conn, req, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                    "the body is over the size limit", "content_length_over_limit",
                    MHD_HTTP_HEADER_CONNECTION, "close");
            return MHD_YES;
        }
        //  Reserve for the declared body, but not more than a typical one
        //  up front: a declared length costs the sender nothing.
        if (length > 0) {
            req->body_capacity = length < s_BODY_RESERVE_MAX ? length : s_BODY_RESERVE_MAX;
            req->body = zhub_malloc (req->body_capacity);
        }
    }
    return MHD_YES;
}

//  Appends a chunk of body. Past the body limit nothing more is kept
//  (memory stays bounded) but the upload is still read, and dropped, up to
//  the discard limit, so that the 413 is answered once the sender has
//  finished sending (libmicrohttpd 0.9.75 cannot queue a response while a
//  body is still arriving) and the sender reads it instead of a reset. A
//  sender that goes on past the discard limit is cut off: reading on would
//  let anyone keep a worker busy with an endless upload.
enum MHD_Result
zhub_gateway_server_webhook_body (s_request_t *req, const char *data, size_t size)
{
    const zhub_gateway_config_t *config = req->server->config;
    size_t limit = config->body_limit;
    req->received += size;
    if (req->too_large || size > limit - req->body_size) {
        if (!req->too_large) {
            req->too_large = true;
            free (req->body);
            req->body = NULL;
            req->body_capacity = 0;
        }
        if (req->received > s_discard_limit (config)) {
            snprintf (req->reason, sizeof req->reason, "body_over_discard_limit_closed");
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (req->body_size + size > req->body_capacity) {
        size_t capacity = req->body_capacity ? req->body_capacity : 4096;
        while (capacity < req->body_size + size)
            capacity *= 2;
        if (capacity > limit)
            capacity = limit;
        req->body = zhub_realloc (req->body, capacity);
        req->body_capacity = capacity;
    }
    memcpy (req->body + req->body_size, data, size);
    req->body_size += size;
    return MHD_YES;
}
