//  The gateway's HTTP edge on libmicrohttpd. Life of a webhook request:
//
//    headers   -> route (404), the source's rate (429), a provider's
//                 handshake (WhatsApp's GET, Graph's validationToken:
//                 answered here), method (405), content type (415),
//                 declared length (413): answered at once, before any body
//                 is read
//    body      -> buffered up to the body limit (413 past it)
//    complete  -> provider verifies the signature (401; a secret's previous
//                 value is tried too), parses the body into messages (400),
//                 the messages are published with confirm, and only then
//                 200; when the broker does not confirm within the publish
//                 timeout they go to the spool (200 once committed), and
//                 503 + Retry-After only when the spool is off or full
//
//  Threads: the webhook daemon runs a small pool of worker threads (one per
//  CPU by default). A handler never blocks on the broker: it hands its
//  messages to the publisher threads (gateway/publisher.h) and suspends
//  its connection; the publisher publishes many requests' messages in one
//  pipelined batch (one broker commit, one round trip for all of them) and
//  resumes each connection, whose handler then answers. So a slow broker
//  holds up only the requests waiting for it, never the others on the same
//  worker (HubSpot gives up after 5 s). Only the spool path (an LMDB commit
//  of about a millisecond, when the broker is away) runs on the worker.
//  The admin daemon has a single thread and its own client for the
//  readiness ping; the spool has its drain thread and client.
//
//  The raw request target (needed for signatures: MHD hands the handler a
//  decoded path without the query) is captured by the URI log callback,
//  which is also where the per-request state is born; the completion
//  callback logs the one line per request and frees it.
#include "server.h"
#include "metrics.h"
#include "publisher.h"
#include "ratelimit.h"
#include "request.h"
#include "spool.h"
#include "providers/generic.h"
#include "zhub_client.h"
#include "zhub_log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define s_DRAIN_BATCH 64     //  spooled events published per round trip
#define s_DRAIN_PAUSE_MS 500 //  between attempts while the broker is away
#define s_SOURCE_MAX 80
#define s_BODY_RESERVE_MAX (64 * 1024) //  body bytes reserved before they arrive
#define s_LOG_IDS_MAX 5 //  message ids are logged when a request has at most this many

struct zhub_gateway_server_t {
    const zhub_gateway_config_t *config;
    char *public_url;
    struct MHD_Daemon *daemon;
    struct MHD_Daemon *admin;
    int port;
    int admin_port;
    zhub_publisher_t *publisher;
    zhub_client_t *admin_client; //  only the admin daemon's thread uses it
    zhub_gateway_metrics_t *metrics;
    zhub_gateway_spool_t *spool; //  NULL when the spool is off
    atomic_bool broker_up;       //  the last publish or drain reached the broker
    //  The drain thread publishes what the spool holds, in order.
    pthread_t drainer;
    bool drainer_started;
    pthread_mutex_t drain_lock;
    pthread_cond_t drain_wake;
    bool stopping;
    //  Token buckets by source, under rate_lock.
    pthread_mutex_t rate_lock;
    struct {
        char source[s_SOURCE_MAX];
        zhub_bucket_t bucket;
    } * buckets;
    size_t bucket_count;
    //  Open webhook connections, for the request deadline (slowloris):
    //  under conn_lock, scanned by the reaper thread.
    pthread_mutex_t conn_lock;
    struct s_conn_t *conns;
    pthread_t reaper;
    bool reaper_started;
    bool reaper_stop; //  under drain_lock, with drain_wake
};

//  One webhook connection: since when its current request has been
//  arriving without an answer.
typedef struct s_conn_t {
    int fd;
    int64_t since_ms; //  monotonic: connection start or end of its last request
    bool answered;    //  the current request has its response queued
    struct s_conn_t *prev, *next;
} s_conn_t;

typedef struct {
    zhub_gateway_server_t *server;
    bool admin;
    char *target;       //  request target as received (path + query)
    int64_t started_ms; //  monotonic
    bool started;       //  the handler has seen the headers
    bool responded;     //  a response is queued
    bool too_large;     //  the body went over the limit
    const zhub_provider_t *provider;
    char route[ZHUB_GENERIC_NAME_MAX + 1]; //  the generic sender, else ""
    char source[s_SOURCE_MAX];             //  for metrics, limits and the log
    char method[16];
    char path[128]; //  sanitised for the log
    char *body;
    size_t body_size;
    size_t body_capacity;
    size_t dropped; //  bytes past the limit, not kept
    unsigned status;
    size_t events;
    zhub_msg_list_t list;   //  the request's messages once parsed
    zhub_publish_job_t job; //  with the publisher while publishing
    zhub_rc_t *results;     //  the job's results
    struct MHD_Connection *conn;
    bool publishing; //  suspended, waiting for the publisher
    int64_t publish_started_ms;
    char reason[96]; //  why a request was refused, for the log
    char ids[400];   //  message ids when few, for the log
} s_request_t;

//  ---------------------------------------------------------------------
//  Logging helpers

//  Keeps log values to one token: printable ASCII without spaces, quotes
//  or '=' (a path is attacker-chosen).
static void
s_sanitise (const char *in, char *out, size_t size)
{
    size_t used = 0;
    for (; in && *in && used + 1 < size; in++) {
        char c = *in;
        out[used++] = (c > ' ' && c <= '~' && c != '"' && c != '=' && c != '\\') ? c : '_';
    }
    out[used] = 0;
}

//  ---------------------------------------------------------------------
//  Responses

//  Queues a JSON response (takes the reference to body). header/value add
//  one extra header (Allow, Retry-After) when not NULL.
static enum MHD_Result
s_reply (struct MHD_Connection *conn, s_request_t *req, unsigned status, json_t *body,
         const char *header, const char *value)
{
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    if (!text)
        text = zhub_strdup ("{}");
    size_t size = strlen (text);
    char *line = zhub_realloc (text, size + 2);
    line[size++] = '\n';
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, line, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (line);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (header)
        MHD_add_response_header (response, header, value);
    enum MHD_Result rc = MHD_queue_response (conn, status, response);
    MHD_destroy_response (response);
    if (rc == MHD_YES) {
        req->status = status;
        req->responded = true;
    }
    return rc;
}

//  {"error":code,"message":message}; reason (may be NULL) goes to the log.
static enum MHD_Result
s_error (struct MHD_Connection *conn, s_request_t *req, unsigned status, const char *code,
         const char *message, const char *reason, const char *header, const char *value)
{
    snprintf (req->reason, sizeof req->reason, "%.*s", (int)sizeof req->reason - 1,
              reason ? reason : code);
    return s_reply (conn, req, status, json_pack ("{s:s,s:s}", "error", code, "message", message),
                    header, value);
}

//  A plain response (handshakes, metrics); takes body.
static enum MHD_Result
s_text (struct MHD_Connection *conn, s_request_t *req, unsigned status, const char *content_type,
        char *body)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response (conn, status, response);
    MHD_destroy_response (response);
    if (rc == MHD_YES) {
        req->status = status;
        req->responded = true;
    }
    return rc;
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

//  ---------------------------------------------------------------------
//  Spool and its drain

static void
s_drain_wake (zhub_gateway_server_t *self)
{
    pthread_mutex_lock (&self->drain_lock);
    pthread_cond_broadcast (&self->drain_wake);
    pthread_mutex_unlock (&self->drain_lock);
}

//  Waits up to ms or until woken; returns true when stopping.
static bool
s_drain_wait (zhub_gateway_server_t *self, int64_t ms)
{
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->drain_lock);
    if (!self->stopping)
        pthread_cond_timedwait (&self->drain_wake, &self->drain_lock, &until);
    bool stopping = self->stopping;
    pthread_mutex_unlock (&self->drain_lock);
    return stopping;
}

//  Publishes the spool's oldest entries until it is empty, in order: a
//  batch is deleted only once every message in it was confirmed, and the
//  next batch is read only then, so nothing overtakes anything. A crash
//  between the PUBACK and the delete re-publishes that batch on restart;
//  the broker's dedup by id absorbs it.
static void *
s_drainer (void *arg)
{
    zhub_gateway_server_t *self = arg;
    zhub_client_t *client = NULL;
    int64_t waiting_ms = 1000;
    while (!s_drain_wait (self, zhub_gateway_spool_depth (self->spool) > 0 ? 0 : waiting_ms)) {
        if (zhub_gateway_spool_depth (self->spool) == 0)
            continue;
        if (!client)
            client = zhub_client_new (self->config->broker, "zhub-gateway-spool");
        zhub_msg_list_t list = {0};
        uint64_t last = 0;
        size_t skipped = 0;
        zhub_rc_t rc = zhub_gateway_spool_peek (self->spool, s_DRAIN_BATCH, &list, &last, &skipped);
        if (rc == ZHUB_OK && list.count > 0 && client) {
            zhub_rc_t *results = zhub_calloc (list.count, sizeof *results);
            int64_t started = zhub_mono_ms ();
            rc = zhub_client_publish_many (client, list.items, list.count,
                                           (int)self->config->publish_timeout_ms, results);
            free (results);
            if (rc == ZHUB_OK) {
                zhub_gateway_metrics_publish_latency (self->metrics,
                                                      (double)(zhub_mono_ms () - started));
                zhub_gateway_metrics_drained (self->metrics, list.count);
            }
            //  A refusal (never expected: we validated them) must not block
            //  the spool forever: it is logged and dropped like an undecodable entry.
            if (rc == ZHUB_REJECT)
                zhub_error ("spool_rejected", "count=%zu first_id=%s", list.count,
                            list.items[0]->id);
        } else if (rc == ZHUB_OK && list.count == 0)
            rc = ZHUB_OK; //  only undecodable entries: drop them
        else
            rc = rc == ZHUB_OK ? ZHUB_RETRY : rc;
        if (skipped)
            zhub_error ("spool_undecodable", "count=%zu", skipped);
        size_t count = list.count;
        zhub_msg_list_clear (&list);
        if (rc == ZHUB_OK || rc == ZHUB_REJECT) {
            if (zhub_gateway_spool_remove (self->spool, last) != ZHUB_OK) {
                zhub_error ("spool_remove_failed", "last=%llu", (unsigned long long)last);
                s_drain_wait (self, s_DRAIN_PAUSE_MS);
                continue;
            }
            if (!atomic_exchange (&self->broker_up, true))
                zhub_info ("broker_up", "via=spool");
            zhub_info ("spool_drained", "count=%zu depth=%lld", count,
                       (long long)zhub_gateway_spool_depth (self->spool));
            continue;
        }
        if (atomic_exchange (&self->broker_up, false))
            zhub_warn ("broker_down", "via=spool depth=%lld",
                       (long long)zhub_gateway_spool_depth (self->spool));
        //  A fresh socket next time: a broker that restarted may have lost
        //  our half-sent frames.
        zhub_client_destroy (&client);
        if (s_drain_wait (self, s_DRAIN_PAUSE_MS))
            break;
    }
    zhub_client_destroy (&client);
    return NULL;
}

//  ---------------------------------------------------------------------
//  Request deadline (slowloris)
//
//  MHD's connection timeout is an idle timeout: a client that sends one
//  header byte every few seconds keeps its connection (and, here, its
//  thread) forever. So every webhook connection is tracked from its start
//  (or the end of its previous request) until its response is queued, and
//  a reaper shuts down the socket of any that takes longer than the request
//  timeout; MHD then sees the read fail and closes the connection itself.
//  The entry leaves the list in MHD's "closed" notification, which MHD
//  sends before it closes the socket, so a descriptor is never shut down
//  after it was reused. The per-IP and total connection limits bound how
//  many such clients can be waiting at once.

static void
s_notify_connection (void *cls, struct MHD_Connection *conn, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
    zhub_gateway_server_t *self = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        s_conn_t *c = zhub_calloc (1, sizeof *c);
        c->fd = info ? info->connect_fd : -1;
        c->since_ms = zhub_mono_ms ();
        pthread_mutex_lock (&self->conn_lock);
        c->next = self->conns;
        if (self->conns)
            self->conns->prev = c;
        self->conns = c;
        pthread_mutex_unlock (&self->conn_lock);
        *socket_context = c;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        s_conn_t *c = *socket_context;
        pthread_mutex_lock (&self->conn_lock);
        if (c->prev)
            c->prev->next = c->next;
        else
            self->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        pthread_mutex_unlock (&self->conn_lock);
        free (c);
        *socket_context = NULL;
    }
}

static s_conn_t *
s_conn_of (struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

//  Marks the connection's request answered (true) or a new one started.
static void
s_conn_mark (zhub_gateway_server_t *self, struct MHD_Connection *conn, bool answered)
{
    s_conn_t *c = s_conn_of (conn);
    if (!c)
        return;
    pthread_mutex_lock (&self->conn_lock);
    c->answered = answered;
    if (!answered)
        c->since_ms = zhub_mono_ms ();
    pthread_mutex_unlock (&self->conn_lock);
}

static void *
s_reaper (void *arg)
{
    zhub_gateway_server_t *self = arg;
    int64_t deadline = self->config->request_timeout_ms;
    for (;;) {
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock (&self->drain_lock);
        if (!self->reaper_stop)
            pthread_cond_timedwait (&self->drain_wake, &self->drain_lock, &until);
        bool stop = self->reaper_stop;
        pthread_mutex_unlock (&self->drain_lock);
        if (stop)
            break;
        int64_t now = zhub_mono_ms ();
        size_t reaped = 0;
        pthread_mutex_lock (&self->conn_lock);
        for (s_conn_t *c = self->conns; c; c = c->next)
            if (!c->answered && c->fd >= 0 && now - c->since_ms > deadline) {
                shutdown (c->fd, SHUT_RDWR);
                c->since_ms = INT64_MAX / 2; //  once
                reaped++;
            }
        pthread_mutex_unlock (&self->conn_lock);
        if (reaped)
            zhub_warn ("request_deadline", "closed=%zu timeout_ms=%lld", reaped,
                       (long long)deadline);
    }
    return NULL;
}

//  ---------------------------------------------------------------------
//  Webhooks

static const char *
s_header (void *ctx, const char *name)
{
    return MHD_lookup_connection_value ((struct MHD_Connection *)ctx, MHD_HEADER_KIND, name);
}

//  Commits the messages to the spool and answers: 200 once committed,
//  503 + Retry-After when full or when the disk failed (a fault of ours is
//  never a 4xx: some providers never retry one).
static enum MHD_Result
s_spool (struct MHD_Connection *conn, s_request_t *req, zhub_msg_list_t *list,
         const char *retry_after)
{
    zhub_gateway_server_t *self = req->server;
    zhub_rc_t rc = zhub_gateway_spool_append (self->spool, list);
    if (rc == ZHUB_OK) {
        zhub_gateway_metrics_spooled (self->metrics, list->count);
        s_drain_wake (self);
        snprintf (req->reason, sizeof req->reason, "spooled");
        return s_reply (conn, req, MHD_HTTP_OK,
                        json_pack ("{s:I,s:b}", "accepted", (json_int_t)list->count, "spooled", 1),
                        NULL, NULL);
    }
    return s_error (conn, req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                    rc == ZHUB_RETRY ? "the spool is full and the message bus is not reachable; "
                                       "retry later"
                                     : "the event could not be stored; retry later",
                    rc == ZHUB_RETRY ? "spool_full" : "spool_error", MHD_HTTP_HEADER_RETRY_AFTER,
                    retry_after);
}

static void
s_published (void *arg)
{
    s_request_t *req = arg;
    MHD_resume_connection (req->conn); //  the handler runs again: s_publish_finish
}

//  Hands the messages (taken over from *list into the request) to the
//  publisher and suspends the connection until they are confirmed; the
//  answer is then given by s_publish_finish. With the spool on, events go
//  to the spool instead while it holds anything (so that nothing overtakes
//  what waits there) or while the broker is known to be away (so that no
//  request waits for a timeout).
static enum MHD_Result
s_publish (struct MHD_Connection *conn, s_request_t *req, zhub_msg_list_t *list)
{
    zhub_gateway_server_t *self = req->server;
    req->list = *list;
    memset (list, 0, sizeof *list);
    char retry_after[24];
    snprintf (retry_after, sizeof retry_after, "%lld", (long long)self->config->retry_after_s);
    if (req->list.count == 0)
        return s_reply (conn, req, MHD_HTTP_OK, json_pack ("{s:i}", "accepted", 0), NULL, NULL);
    if (self->spool
        && (zhub_gateway_spool_depth (self->spool) > 0 || !atomic_load (&self->broker_up)))
        return s_spool (conn, req, &req->list, retry_after);

    req->results = zhub_calloc (req->list.count, sizeof *req->results);
    req->job = (zhub_publish_job_t){.msgs = req->list.items,
                                    .count = req->list.count,
                                    .results = req->results,
                                    .timeout_ms = (int)self->config->publish_timeout_ms,
                                    .done_fn = s_published,
                                    .done_arg = req};
    req->conn = conn;
    req->publishing = true;
    req->publish_started_ms = zhub_mono_ms ();
    //  Suspend first: the job may complete (and resume) before we return.
    MHD_suspend_connection (conn);
    zhub_publisher_submit (self->publisher, &req->job);
    return MHD_YES;
}

//  The publisher is done with the request's messages: answer.
static enum MHD_Result
s_publish_finish (struct MHD_Connection *conn, s_request_t *req)
{
    zhub_gateway_server_t *self = req->server;
    req->publishing = false;
    char retry_after[24];
    snprintf (retry_after, sizeof retry_after, "%lld", (long long)self->config->retry_after_s);
    zhub_rc_t rc = zhub_publish_job_rc (&req->job);
    size_t confirmed = 0;
    for (size_t i = 0; i < req->list.count; i++)
        confirmed += req->results[i] == ZHUB_OK;
    if (rc == ZHUB_OK) {
        zhub_gateway_metrics_publish_latency (self->metrics,
                                              (double)(zhub_mono_ms () - req->publish_started_ms));
        return s_reply (conn, req, MHD_HTTP_OK,
                        json_pack ("{s:I}", "accepted", (json_int_t)confirmed), NULL, NULL);
    }
    char reason[64];
    snprintf (reason, sizeof reason, "publish_%s confirmed=%zu", zhub_rc_name (rc), confirmed);
    if (rc == ZHUB_REJECT)
        //  Every message passed zhub_msg_validate; a refusal by the broker is
        //  a disagreement between our own parts, not the sender's fault.
        return s_error (conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                        "the message bus refused the event", reason, NULL, NULL);
    if (atomic_exchange (&self->broker_up, false))
        zhub_warn ("broker_down", "via=publish reason=\"%s\"", reason);
    if (self->spool)
        //  Some may be stored already: the drain publishes them again with
        //  the same ids, and the broker's dedup keeps one of each.
        return s_spool (conn, req, &req->list, retry_after);
    return s_error (conn, req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                    "the message bus did not confirm in time; retry later", reason,
                    MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
}

//  The whole body is in: verify, parse, publish.
static enum MHD_Result
s_webhook_complete (struct MHD_Connection *conn, s_request_t *req)
{
    zhub_gateway_server_t *self = req->server;
    const zhub_provider_t *provider = req->provider;
    char *url = zhub_gateway_full_url (self->public_url, req->target);
    zhub_webhook_t hook = {.method = req->method,
                           .url = url,
                           .header = s_header,
                           .header_ctx = conn,
                           .body = req->body ? req->body : "",
                           .body_size = req->body_size,
                           .now_ms = zhub_now_ms (),
                           .route_name = req->route[0] ? req->route : NULL};
    zhub_verify_opts_t opts;
    zhub_gateway_config_verify_opts (self->config, provider, hook.route_name, &opts);
    hook.opts = &opts;
    char why[256];
    enum MHD_Result result;
    if (zhub_provider_verify (provider, &hook, &opts, why, sizeof why) != ZHUB_OK) {
        zhub_gateway_metrics_signature_failure (self->metrics, req->source, why);
        char message[320];
        snprintf (message, sizeof message, "signature verification failed: %s", why);
        result =
            s_error (conn, req, MHD_HTTP_UNAUTHORIZED, "unauthorized", message, why, NULL, NULL);
        free (url);
        return result;
    }
    zhub_msg_list_t list = {0};
    if (provider->parse (&hook, &list, why, sizeof why) != ZHUB_OK) {
        zhub_msg_list_clear (&list);
        free (url);
        return s_error (conn, req, MHD_HTTP_BAD_REQUEST, "bad_request", why, "malformed_body", NULL,
                        NULL);
    }
    free (url);
    const char *traceparent = s_header (conn, "traceparent");
    req->events = list.count;
    size_t used = 0;
    req->ids[0] = 0;
    for (size_t i = 0; i < list.count; i++) {
        if (zhub_gateway_traceparent_ok (traceparent))
            zhub_msg_set (&list.items[i]->traceparent, traceparent);
        if (list.count <= s_LOG_IDS_MAX && used < sizeof req->ids) {
            char id[ZHUB_MSG_MAX_ID + 1];
            s_sanitise (list.items[i]->id, id, sizeof id);
            used += snprintf (req->ids + used, sizeof req->ids - used, "%s%s", i ? "," : "", id);
        }
    }
    return s_publish (conn, req, &list);
}

//  First call: only the headers are known. Everything that can be decided
//  without the body is decided here, so a wrong request costs no upload.
static enum MHD_Result
s_webhook_headers (struct MHD_Connection *conn, s_request_t *req, const char *url)
{
    zhub_gateway_server_t *self = req->server;
    const char *route = NULL;
    req->provider = zhub_provider_route (url, &route);
    if (!req->provider && strncmp (url, "/v1/webhooks/", 13) && strcmp (url, "/v1/events"))
        return s_error (conn, req, MHD_HTTP_NOT_FOUND, "not_found", "no such path", NULL, NULL,
                        NULL);
    if (route && !zhub_gateway_config_generic (self->config, route))
        req->provider = NULL; //  a sender nobody configured does not exist
    if (!req->provider)
        return s_error (conn, req, MHD_HTTP_NOT_FOUND, "unknown_source",
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
        return s_error (conn, req, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_requests",
                        "over this source's request rate; retry later", "rate_limited",
                        MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    }
    if (req->provider->handshake) {
        char *full = zhub_gateway_full_url (self->public_url, req->target);
        zhub_webhook_t hook = {.method = req->method,
                               .url = full,
                               .header = s_header,
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
            return s_text (conn, req, reply.status, reply.content_type, reply.body);
        }
        free (reply.body);
    }
    bool get = req->provider->flags & ZHUB_PROVIDER_ALLOW_GET;
    if (strcmp (req->method, "POST"))
        return s_error (conn, req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                        "webhooks are delivered with POST", NULL, MHD_HTTP_HEADER_ALLOW,
                        get ? "GET, POST" : "POST");
    const char *type =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    bool type_ok = req->provider->content_type_ok ? req->provider->content_type_ok (type)
                                                  : zhub_gateway_content_type_ok (type);
    if (!type_ok)
        return s_error (conn, req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                        "the body must be application/json", NULL, NULL, NULL);
    const char *length_text =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t length = 0;
    if (length_text && !zhub_gateway_parse_length (length_text, &length)) {
        if (length > self->config->body_limit) {
            req->too_large = true;
            return s_error (conn, req, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                            "the body is over the size limit", "content_length_over_limit", NULL,
                            NULL);
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

//  Appends a chunk of body. libmicrohttpd 0.9.75 cannot queue a response
//  while a body is still arriving, so past the limit we stop buffering at
//  once (memory stays bounded), drop what follows and answer 413 when the
//  upload ends; a sender that streams on for another limit's worth of bytes
//  has its connection closed instead.
static enum MHD_Result
s_webhook_body (s_request_t *req, const char *data, size_t size)
{
    size_t limit = req->server->config->body_limit;
    if (req->too_large || size > limit - req->body_size) {
        if (!req->too_large) {
            req->too_large = true;
            free (req->body);
            req->body = NULL;
            req->body_capacity = 0;
        }
        req->dropped += size;
        if (req->dropped > limit) {
            snprintf (req->reason, sizeof req->reason, "body_over_limit_closed");
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

static enum MHD_Result s_webhook_handle (void *cls, struct MHD_Connection *conn, const char *url,
                                         const char *method, const char *version,
                                         const char *upload_data, size_t *upload_data_size,
                                         void **con_cls);

static enum MHD_Result
s_webhook_handler (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                   const char *version, const char *upload_data, size_t *upload_data_size,
                   void **con_cls)
{
    enum MHD_Result rc =
        s_webhook_handle (cls, conn, url, method, version, upload_data, upload_data_size, con_cls);
    s_request_t *req = *con_cls;
    if (req && req->responded)
        s_conn_mark (cls, conn, true);
    return rc;
}

static enum MHD_Result
s_webhook_handle (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                  const char *version, const char *upload_data, size_t *upload_data_size,
                  void **con_cls)
{
    (void)cls;
    (void)version;
    s_request_t *req = *con_cls;
    if (!req)
        return MHD_NO; //  the URI callback always runs first; never happens
    if (!req->started) {
        req->started = true;
        snprintf (req->method, sizeof req->method, "%s", method);
        s_sanitise (url, req->path, sizeof req->path);
        return s_webhook_headers (conn, req, url);
    }
    if (*upload_data_size > 0) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        if (req->responded)
            return MHD_YES; //  answered already: drop the rest
        return s_webhook_body (req, upload_data, size);
    }
    if (req->publishing)
        return s_publish_finish (conn, req); //  resumed by the publisher
    if (req->responded)
        return MHD_YES;
    if (req->too_large)
        return s_error (conn, req, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                        "the body is over the size limit", "body_over_limit", NULL, NULL);
    return s_webhook_complete (conn, req);
}

//  ---------------------------------------------------------------------
//  Admin

//  Everything but health and metrics needs `Authorization: Bearer
//  $ZHUB_ADMIN_TOKEN` (or its _PREVIOUS twin). With no token configured
//  those endpoints are closed (403), never open.
static enum MHD_Result
s_admin_auth (struct MHD_Connection *conn, s_request_t *req)
{
    const zhub_gateway_secret_t *token = &req->server->config->secrets[ZHUB_SECRET_ADMIN];
    if (!token->value && !token->previous)
        return s_error (conn, req, MHD_HTTP_FORBIDDEN, "forbidden",
                        "the admin API is closed: ZHUB_ADMIN_TOKEN is not set", "admin_token_unset",
                        NULL, NULL);
    const char *auth = s_header (conn, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *given = auth && !strncasecmp (auth, "Bearer ", 7) ? auth + 7 : NULL;
    if (!given
        || !zhub_provider_secret_match (given, strlen (given), token->value, token->previous))
        return s_error (conn, req, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                        "a valid bearer token is required", given ? "bad_token" : "missing_token",
                        MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    return MHD_YES;
}

//  GET /v1/status: sources, which secrets are loaded (never their values),
//  spool, broker.
static enum MHD_Result
s_status (struct MHD_Connection *conn, s_request_t *req)
{
    enum MHD_Result auth = s_admin_auth (conn, req);
    if (req->responded || auth != MHD_YES)
        return auth;
    zhub_gateway_server_t *self = req->server;
    const zhub_gateway_config_t *config = self->config;
    json_t *sources = json_array ();
    for (size_t i = 0; i < zhub_provider_count (); i++) {
        const zhub_provider_t *provider = zhub_provider_at (i);
        if (!strcmp (provider->name, "generic"))
            continue;
        json_t *secrets = json_array ();
        for (int k = 0; k < ZHUB_SECRET_COUNT; k++)
            if (!strcmp (config->secrets[k].source, provider->name))
                json_array_append_new (
                    secrets, json_pack ("{s:s,s:b,s:b}", "variable", config->secrets[k].variable,
                                        "loaded", config->secrets[k].value != NULL, "previous",
                                        config->secrets[k].previous != NULL));
        const char *path = strcmp (provider->name, "events") ? NULL : "/v1/events";
        char webhook[96];
        snprintf (webhook, sizeof webhook, "/v1/webhooks/%s", provider->name);
        json_array_append_new (sources, json_pack ("{s:s,s:s,s:o}", "name", provider->name, "path",
                                                   path ? path : webhook, "secrets", secrets));
    }
    for (size_t i = 0; i < config->generic_count; i++) {
        char name[96], path[128], variable[128];
        snprintf (name, sizeof name, "generic/%s", config->generic[i].name);
        snprintf (path, sizeof path, "/v1/webhooks/generic/%s", config->generic[i].name);
        snprintf (variable, sizeof variable, "ZHUB_GENERIC_SECRET_%s", config->generic[i].name);
        for (char *p = variable; *p; p++)
            *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 'a' + 'A' : *p);
        json_array_append_new (sources,
                               json_pack ("{s:s,s:s,s:[{s:s,s:b,s:b}]}", "name", name, "path", path,
                                          "secrets", "variable", variable, "loaded",
                                          config->generic[i].value != NULL, "previous",
                                          config->generic[i].previous != NULL));
    }
    json_t *body =
        json_pack ("{s:o,s:{s:b,s:I,s:I},s:{s:s,s:b}}", "sources", sources, "spool", "enabled",
                   self->spool != NULL, "depth",
                   (json_int_t)(self->spool ? zhub_gateway_spool_depth (self->spool) : 0), "limit",
                   (json_int_t)config->spool_limit, "broker", "endpoint", config->broker,
                   "connected", atomic_load (&self->broker_up));
    return s_reply (conn, req, MHD_HTTP_OK, body, NULL, NULL);
}

static enum MHD_Result
s_admin_handler (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                 const char *version, const char *upload_data, size_t *upload_data_size,
                 void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    s_request_t *req = *con_cls;
    if (!req)
        return MHD_NO;
    if (!req->started) {
        req->started = true;
        snprintf (req->method, sizeof req->method, "%s", method);
        s_sanitise (url, req->path, sizeof req->path);
        return MHD_YES; //  decide once any body is in (admin requests have none)
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0; //  ignored
        return MHD_YES;
    }
    if (req->responded)
        return MHD_YES;
    zhub_gateway_server_t *self = req->server;
    bool healthz = !strcmp (url, "/healthz"), readyz = !strcmp (url, "/readyz");
    bool metrics = !strcmp (url, "/metrics"), status = !strcmp (url, "/v1/status");
    if (!healthz && !readyz && !metrics && !status)
        return s_error (conn, req, MHD_HTTP_NOT_FOUND, "not_found", "no such path", NULL, NULL,
                        NULL);
    if (strcmp (method, "GET") && strcmp (method, "HEAD"))
        return s_error (conn, req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "use GET",
                        NULL, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (healthz)
        return s_reply (conn, req, MHD_HTTP_OK, json_pack ("{s:s}", "status", "ok"), NULL, NULL);
    if (metrics) {
        char *text = zhub_gateway_metrics_render (
            self->metrics, self->spool ? zhub_gateway_spool_depth (self->spool) : 0,
            self->spool != NULL, atomic_load (&self->broker_up));
        return s_text (conn, req, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text);
    }
    if (status)
        return s_status (conn, req);
    if (!self->admin_client)
        self->admin_client = zhub_client_new (self->config->broker, "zhub-gateway-admin");
    bool ready =
        self->admin_client
        && zhub_client_ping (self->admin_client, (int)self->config->ready_timeout_ms) == ZHUB_OK;
    if (ready)
        return s_reply (conn, req, MHD_HTTP_OK,
                        json_pack ("{s:s,s:s}", "status", "ready", "broker", "ok"), NULL, NULL);
    //  With the spool on, webhooks are still accepted while the broker is
    //  away; readiness says so rather than taking the gateway out of a
    //  load balancer for exactly the case the spool exists for.
    if (self->spool)
        return s_reply (conn, req, MHD_HTTP_OK,
                        json_pack ("{s:s,s:s,s:I}", "status", "ready", "broker", "unreachable",
                                   "spool_depth",
                                   (json_int_t)zhub_gateway_spool_depth (self->spool)),
                        NULL, NULL);
    snprintf (req->reason, sizeof req->reason, "broker_unreachable");
    return s_reply (conn, req, MHD_HTTP_SERVICE_UNAVAILABLE,
                    json_pack ("{s:s,s:s}", "status", "unavailable", "broker", "unreachable"), NULL,
                    NULL);
}

//  ---------------------------------------------------------------------
//  Per-request state and logging

static void *
s_request_new (zhub_gateway_server_t *self, const char *uri, bool admin)
{
    s_request_t *req = zhub_calloc (1, sizeof *req);
    req->server = self;
    req->admin = admin;
    req->target = zhub_strdup (uri ? uri : "");
    req->started_ms = zhub_mono_ms ();
    return req;
}

static void *
s_webhook_uri (void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    return s_request_new (cls, uri, false);
}

static void *
s_admin_uri (void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    return s_request_new (cls, uri, true);
}

static const char *
s_termination_name (enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
        case MHD_REQUEST_TERMINATED_COMPLETED_OK: return "completed";
        case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
        case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
        case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
        case MHD_REQUEST_TERMINATED_READ_ERROR: return "read_error";
        case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client_abort";
        default: return "unknown";
    }
}

static void
s_request_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
                     enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    s_request_t *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    if (!req->admin)
        s_conn_mark (req->server, conn, false); //  the next request's clock starts now
    long long duration = (long long)(zhub_mono_ms () - req->started_ms);
    const char *reason = req->reason[0] ? req->reason : "-";
    if (!req->responded && !req->reason[0])
        reason = s_termination_name (toe); //  never answered: say why it ended
    if (req->admin)
        zhub_debug ("admin_request", "method=%s path=%s status=%u duration_ms=%lld reason=%s",
                    req->method[0] ? req->method : "-", req->path[0] ? req->path : "-", req->status,
                    duration, reason);
    else {
        zhub_gateway_metrics_request (req->server->metrics, req->source[0] ? req->source : "-",
                                      req->status);
        zhub_info ("request",
                   "method=%s path=%s source=%s status=%u events=%zu bytes=%zu duration_ms=%lld "
                   "ids=%s reason=%s",
                   req->method[0] ? req->method : "-", req->path[0] ? req->path : "-",
                   req->source[0] ? req->source : "-", req->status, req->events,
                   req->body_size + req->dropped, duration, req->ids[0] ? req->ids : "-", reason);
    }
    zhub_msg_list_clear (&req->list);
    free (req->results);
    free (req->target);
    free (req->body);
    free (req);
}

//  ---------------------------------------------------------------------
//  Daemons

static void
s_mhd_log (void *cls, const char *format, va_list args)
{
    (void)cls;
    char text[512], clean[512];
    vsnprintf (text, sizeof text, format, args);
    size_t used = 0;
    for (const char *p = text; *p && used + 1 < sizeof clean; p++)
        clean[used++] = (*p == '"' || *p == '\n' || *p == '\r') ? ' ' : *p;
    clean[used] = 0;
    while (used > 0 && clean[used - 1] == ' ')
        clean[--used] = 0;
    zhub_warn ("mhd", "message=\"%s\"", clean);
}

static struct MHD_Daemon *
s_daemon_start (zhub_gateway_server_t *self, const zhub_listen_t *listen, bool admin, char *err,
                size_t err_size)
{
    const zhub_gateway_config_t *config = self->config;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *found = NULL;
    int gai = getaddrinfo (listen->host, NULL, &hints, &found);
    if (gai || !found) {
        snprintf (err, err_size, "cannot resolve %s: %s", listen->host, gai_strerror (gai));
        return NULL;
    }
    struct sockaddr_storage addr;
    memset (&addr, 0, sizeof addr);
    memcpy (&addr, found->ai_addr, found->ai_addrlen);
    bool ipv6 = found->ai_family == AF_INET6;
    freeaddrinfo (found);
    if (ipv6)
        ((struct sockaddr_in6 *)&addr)->sin6_port = htons ((uint16_t)listen->port);
    else
        ((struct sockaddr_in *)&addr)->sin_port = htons ((uint16_t)listen->port);

    //  Webhooks: a thread per connection (see the top of this file). Admin:
    //  one thread; a readiness ping blocks it for at most ready_timeout.
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG
                     | (admin ? 0 : MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO)
                     | (ipv6 ? MHD_USE_IPv6 : 0);
    unsigned timeout_s = (unsigned)((config->connection_timeout_ms + 999) / 1000);
    //  The external logger must be the first option, or MHD reports the
    //  options before it through its own logger.
    struct MHD_Daemon *daemon = MHD_start_daemon (
        flags, (uint16_t)listen->port, NULL, NULL, admin ? s_admin_handler : s_webhook_handler,
        self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)config->connection_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)config->per_ip_limit,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)config->connection_memory,
        MHD_OPTION_URI_LOG_CALLBACK, admin ? s_admin_uri : s_webhook_uri, self,
        MHD_OPTION_NOTIFY_COMPLETED, s_request_completed, self, MHD_OPTION_NOTIFY_CONNECTION,
        admin ? NULL : s_notify_connection, self, MHD_OPTION_THREAD_POOL_SIZE,
        admin ? 1u : (unsigned)config->threads, MHD_OPTION_END);
    if (!daemon)
        snprintf (err, err_size, "cannot listen on %s (address in use or not local?)",
                  listen->text);
    return daemon;
}

static int
s_bound_port (struct MHD_Daemon *daemon)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

zhub_gateway_server_t *
zhub_gateway_server_new (const zhub_gateway_config_t *config, char *err, size_t err_size)
{
    zhub_gateway_server_t *self = zhub_calloc (1, sizeof *self);
    self->config = config;
    pthread_mutex_init (&self->rate_lock, NULL);
    pthread_mutex_init (&self->drain_lock, NULL);
    pthread_cond_init (&self->drain_wake, NULL);
    pthread_mutex_init (&self->conn_lock, NULL);
    atomic_store (&self->broker_up, true); //  until a publish says otherwise
    self->metrics = zhub_gateway_metrics_new ();
    self->public_url = zhub_strdup (config->public_url);
    if (config->data_dir) {
        self->spool = zhub_gateway_spool_new (config->data_dir, config->spool_limit, err, err_size);
        if (!self->spool) {
            zhub_gateway_server_destroy (&self);
            return NULL;
        }
        //  Events left by a previous run are drained first, before any new
        //  one is published around them.
        if (pthread_create (&self->drainer, NULL, s_drainer, self) == 0)
            self->drainer_started = true;
        else {
            snprintf (err, err_size, "cannot start the spool drain thread");
            zhub_gateway_server_destroy (&self);
            return NULL;
        }
    }
    self->publisher = zhub_publisher_new (config->broker, config->publishers > 0
                                                              ? (int)config->publishers
                                                              : ZHUB_GATEWAY_PUBLISHERS_DEFAULT);
    if (!self->publisher) {
        snprintf (err, err_size, "cannot start the publisher threads");
        zhub_gateway_server_destroy (&self);
        return NULL;
    }
    self->daemon = s_daemon_start (self, &config->listen, false, err, err_size);
    if (self->daemon)
        self->admin = s_daemon_start (self, &config->admin, true, err, err_size);
    if (!self->daemon || !self->admin) {
        zhub_gateway_server_destroy (&self);
        return NULL;
    }
    if (pthread_create (&self->reaper, NULL, s_reaper, self)) {
        snprintf (err, err_size, "cannot start the request deadline thread");
        zhub_gateway_server_destroy (&self);
        return NULL;
    }
    self->reaper_started = true;
    self->port = s_bound_port (self->daemon);
    self->admin_port = s_bound_port (self->admin);
    if (config->public_url_default && config->listen.port == 0) {
        //  The kernel chose the port: the URL providers call carries it.
        free (self->public_url);
        bool ipv6 = strchr (config->listen.host, ':') != NULL;
        self->public_url = zhub_sprintf (ipv6 ? "http://[%s]:%d" : "http://%s:%d",
                                         config->listen.host, self->port);
    }
    return self;
}

void
zhub_gateway_server_destroy (zhub_gateway_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_gateway_server_t *self = *self_p;
    //  No connection may be suspended when MHD stops: stop accepting, let
    //  the publisher finish every job (each resumes its connection), then
    //  stop the daemon.
    MHD_socket listener = MHD_INVALID_SOCKET;
    if (self->daemon)
        listener = MHD_quiesce_daemon (self->daemon);
    if (self->publisher)
        zhub_publisher_stop (self->publisher);
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close (listener);
    if (self->admin)
        MHD_stop_daemon (self->admin);
    if (self->reaper_started) {
        pthread_mutex_lock (&self->drain_lock);
        self->reaper_stop = true;
        pthread_cond_broadcast (&self->drain_wake);
        pthread_mutex_unlock (&self->drain_lock);
        pthread_join (self->reaper, NULL);
    }
    if (self->drainer_started) {
        pthread_mutex_lock (&self->drain_lock);
        self->stopping = true;
        pthread_cond_broadcast (&self->drain_wake);
        pthread_mutex_unlock (&self->drain_lock);
        pthread_join (self->drainer, NULL);
    }
    zhub_gateway_spool_destroy (&self->spool);
    zhub_gateway_metrics_destroy (&self->metrics);
    free (self->buckets);
    pthread_mutex_destroy (&self->rate_lock);
    pthread_mutex_destroy (&self->conn_lock);
    pthread_mutex_destroy (&self->drain_lock);
    pthread_cond_destroy (&self->drain_wake);
    zhub_publisher_destroy (&self->publisher);
    zhub_client_destroy (&self->admin_client);
    free (self->public_url);
    free (self);
    *self_p = NULL;
}

int
zhub_gateway_server_port (const zhub_gateway_server_t *self)
{
    return self->port;
}

int
zhub_gateway_server_admin_port (const zhub_gateway_server_t *self)
{
    return self->admin_port;
}

const char *
zhub_gateway_server_public_url (const zhub_gateway_server_t *self)
{
    return self->public_url;
}
