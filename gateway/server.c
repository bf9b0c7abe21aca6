//  The gateway's HTTP edge on libmicrohttpd. Life of a webhook request:
//
//    headers   -> route (404), the source's rate (429), a provider's
//                 handshake (WhatsApp's GET, Graph's validationToken:
//                 answered here), method (405), content type (415),
//                 answered at once, before any body is read; a declared
//                 length over the limit (413) too when the sender waits
//                 for 100 Continue or the length is past the discard limit
//    body      -> buffered up to the body limit; past it read and dropped
//                 up to the discard limit, then 413 (past the discard
//                 limit the connection is cut)
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
//
//  This file holds the daemons, their construction and the per-request
//  state; the other server_*.c files hold what the handlers do.
#include "server_internal.h"

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
        zhub_gateway_server_conn_mark (req->server, conn,
                                       false); //  the next request's clock starts now
    long long duration = (long long)(zhub_mono_ms () - req->started_ms);
    const char *reason = req->reason[0] ? req->reason : "-";
    if (!req->responded && !req->reason[0])
        reason = s_termination_name (toe); //  never answered: say why it ended
    //  who: the name of the bearer token a request came with, never the token
    char who[ZHUB_TOKEN_NAME_MAX + 8] = "";
    if (req->who[0])
        snprintf (who, sizeof who, " who=%s", req->who);
    if (req->admin)
        zhub_debug ("admin_request", "method=%s path=%s status=%u duration_ms=%lld reason=%s%s",
                    req->method[0] ? req->method : "-", req->path[0] ? req->path : "-", req->status,
                    duration, reason, who);
    else {
        zhub_gateway_metrics_request (req->server->metrics, req->source[0] ? req->source : "-",
                                      req->status);
        zhub_info ("request",
                   "method=%s path=%s source=%s status=%u events=%zu bytes=%zu duration_ms=%lld "
                   "ids=%s reason=%s%s",
                   req->method[0] ? req->method : "-", req->path[0] ? req->path : "-",
                   req->source[0] ? req->source : "-", req->status, req->events,
                   req->received, duration, req->ids[0] ? req->ids : "-", reason, who);
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
    struct sockaddr_storage addr;
    bool ipv6;
    if (zhub_listen_resolve (listen, &addr, &ipv6, err, err_size))
        return NULL;

    //  Webhooks: a thread per connection (see the top of this file). Admin:
    //  one thread; a readiness ping blocks it for at most ready_timeout.
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG
                     | (admin ? 0 : MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO)
                     | (ipv6 ? MHD_USE_IPv6 : 0);
    unsigned timeout_s = (unsigned)((config->connection_timeout_ms + 999) / 1000);
    //  The external logger must be the first option, or MHD reports the
    //  options before it through its own logger.
    struct MHD_Daemon *daemon = MHD_start_daemon (
        flags, (uint16_t)listen->port, NULL, NULL,
        admin ? zhub_gateway_server_admin_handler : zhub_gateway_server_webhook_handler, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)config->connection_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)config->per_ip_limit, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)config->connection_memory, MHD_OPTION_URI_LOG_CALLBACK,
        admin ? s_admin_uri : s_webhook_uri, self, MHD_OPTION_NOTIFY_COMPLETED, s_request_completed,
        self, MHD_OPTION_NOTIFY_CONNECTION, admin ? NULL : zhub_gateway_server_notify_connection,
        self, MHD_OPTION_THREAD_POOL_SIZE, admin ? 1u : (unsigned)config->threads, MHD_OPTION_END);
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
        if (pthread_create (&self->drainer, NULL, zhub_gateway_server_drainer, self) == 0)
            self->drainer_started = true;
        else {
            snprintf (err, err_size, "cannot start the spool drain thread");
            zhub_gateway_server_destroy (&self);
            return NULL;
        }
    }
    self->publisher = zhub_publisher_new (config->broker, &config->bus, config->publishers > 0
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
    if (pthread_create (&self->reaper, NULL, zhub_gateway_server_reaper, self)) {
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
    zhub_console_destroy (&self->console);
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
