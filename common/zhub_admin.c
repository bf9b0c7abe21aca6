//  The admin listener (see zhub_admin.h): a small
//  libmicrohttpd daemon with one internal thread.
#include "zhub_admin.h"
#include "zhub_common.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_admin_t {
    struct MHD_Daemon *daemon;
    zhub_metrics_t *metrics;
    _Atomic int64_t beat_ms;
    atomic_bool ready;
    pthread_mutex_t lock; //  why
    char why[256];
};

static enum MHD_Result
s_reply (struct MHD_Connection *conn, unsigned status, const char *type, char *body)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response (conn, status, response);
    MHD_destroy_response (response);
    return rc;
}

//  A JSON string value of text: quotes, backslashes and control bytes
//  replaced (the reason is ours, but may quote a provider's answer).
static void
s_json_text (const char *text, char *buf, size_t size)
{
    size_t used = 0;
    for (const char *p = text; *p && used + 1 < size; p++)
        buf[used++] = (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) ? ' ' : *p;
    buf[used] = 0;
}

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    zhub_admin_t *self = cls;
    if (!*state) {
        *state = self; //  answer on the second call, once the headers are in
        return MHD_YES;
    }
    if (strcmp (method, "GET") && strcmp (method, "HEAD"))
        return s_reply (conn, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
                        zhub_strdup ("{\"error\":\"method_not_allowed\"}"));
    if (!strcmp (url, "/metrics"))
        return s_reply (conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                        zhub_metrics_render (self->metrics));
    if (!strcmp (url, "/healthz")) {
        int64_t since = zhub_mono_ms () - atomic_load (&self->beat_ms);
        bool alive = since <= ZHUB_ADMIN_STALL_MS;
        return s_reply (conn, alive ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                        "application/json",
                        zhub_sprintf ("{\"alive\":%s,\"last_turn_ms_ago\":%lld}",
                                      alive ? "true" : "false", (long long)since));
    }
    if (!strcmp (url, "/readyz")) {
        if (atomic_load (&self->ready))
            return s_reply (conn, MHD_HTTP_OK, "application/json",
                            zhub_strdup ("{\"ready\":true}"));
        char why[256];
        pthread_mutex_lock (&self->lock);
        s_json_text (self->why, why, sizeof why);
        pthread_mutex_unlock (&self->lock);
        return s_reply (conn, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
                        zhub_sprintf ("{\"ready\":false,\"why\":\"%s\"}", why));
    }
    return s_reply (conn, MHD_HTTP_NOT_FOUND, "application/json",
                    zhub_strdup ("{\"error\":\"not_found\"}"));
}

zhub_admin_t *
zhub_admin_new (const zhub_listen_t *listen, zhub_metrics_t *metrics, char *err,
                      size_t err_size)
{
    struct sockaddr_storage addr;
    bool ipv6;
    if (zhub_listen_resolve (listen, &addr, &ipv6, err, err_size))
        return NULL;
    zhub_admin_t *self = zhub_calloc (1, sizeof *self);
    self->metrics = metrics;
    pthread_mutex_init (&self->lock, NULL);
    atomic_store (&self->beat_ms, zhub_mono_ms ());
    snprintf (self->why, sizeof self->why, "starting");
    self->daemon = MHD_start_daemon (
        MHD_USE_INTERNAL_POLLING_THREAD | (ipv6 ? MHD_USE_IPv6 : 0), (uint16_t)listen->port, NULL,
        NULL, s_handler, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (err, err_size, "cannot listen on %s (address in use or not local?)",
                  listen->text);
        zhub_admin_destroy (&self);
    }
    return self;
}

void
zhub_admin_destroy (zhub_admin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_admin_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
zhub_admin_port (zhub_admin_t *self)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void
zhub_admin_beat (zhub_admin_t *self, int64_t mono_ms)
{
    atomic_store (&self->beat_ms, mono_ms);
}

void
zhub_admin_ready (zhub_admin_t *self, bool ready, const char *why)
{
    pthread_mutex_lock (&self->lock);
    snprintf (self->why, sizeof self->why, "%s", why ? why : "");
    pthread_mutex_unlock (&self->lock);
    atomic_store (&self->ready, ready);
}
