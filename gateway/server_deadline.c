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
#include "server_internal.h"

void
zhub_gateway_server_notify_connection (void *cls, struct MHD_Connection *conn,
                                       void **socket_context,
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
void
zhub_gateway_server_conn_mark (zhub_gateway_server_t *self, struct MHD_Connection *conn,
                               bool answered)
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

void *
zhub_gateway_server_reaper (void *arg)
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
