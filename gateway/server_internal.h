//  Private to the gateway's server: the state its files share (the server
//  struct, the per-connection and per-request records) and the functions
//  they call in each other. Not part of the gateway's API; only server*.c
//  include it.
#ifndef ZHUB_GATEWAY_SERVER_INTERNAL_H
#define ZHUB_GATEWAY_SERVER_INTERNAL_H

#include "server.h"
#include "metrics.h"
#include "publisher.h"
#include "ratelimit.h"
#include "request.h"
#include "spool.h"
#include "console_data.h"
#include "providers/events.h"
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
    zhub_console_t *console;     //  the console's state: only the admin thread uses it
    zhub_console_config_t console_config;
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
    size_t received; //  body bytes read, kept or not
    unsigned status;
    size_t events;
    zhub_msg_list_t list;   //  the request's messages once parsed
    zhub_publish_job_t job; //  with the publisher while publishing
    zhub_rc_t *results;     //  the job's results
    struct MHD_Connection *conn;
    bool publishing; //  suspended, waiting for the publisher
    int64_t publish_started_ms;
    char reason[96];                   //  why a request was refused, for the log
    char ids[400];                     //  message ids when few, for the log
    char who[ZHUB_TOKEN_NAME_MAX + 1]; //  the bearer token's name (/v1/events, /v1/status)
    size_t audits;                     //  admin.audited records among list's messages
} s_request_t;

//  Keeps log values to one token: printable ASCII without spaces, quotes
//  or '=' (a path is attacker-chosen).
static inline void
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
//  Shared between the server's files

//  server_reply.c
enum MHD_Result zhub_gateway_server_reply (struct MHD_Connection *conn, s_request_t *req,
                                           unsigned status, json_t *body, const char *header,
                                           const char *value);
enum MHD_Result zhub_gateway_server_error (struct MHD_Connection *conn, s_request_t *req,
                                           unsigned status, const char *code, const char *message,
                                           const char *reason, const char *header,
                                           const char *value);
enum MHD_Result zhub_gateway_server_text (struct MHD_Connection *conn, s_request_t *req,
                                          unsigned status, const char *content_type, char *body);
//  server_drain.c
void zhub_gateway_server_drain_wake (zhub_gateway_server_t *self);
void *zhub_gateway_server_drainer (void *arg);
//  server_deadline.c
void zhub_gateway_server_notify_connection (void *cls, struct MHD_Connection *conn,
                                            void **socket_context,
                                            enum MHD_ConnectionNotificationCode code);
void zhub_gateway_server_conn_mark (zhub_gateway_server_t *self, struct MHD_Connection *conn,
                                    bool answered);
void *zhub_gateway_server_reaper (void *arg);
//  server_intake.c
enum MHD_Result zhub_gateway_server_webhook_headers (struct MHD_Connection *conn, s_request_t *req,
                                                     const char *url);
enum MHD_Result zhub_gateway_server_webhook_body (s_request_t *req, const char *data, size_t size);
//  server_events.c
bool zhub_gateway_server_events_admit (struct MHD_Connection *conn, s_request_t *req,
                                       const zhub_token_t *token, zhub_msg_list_t *list,
                                       enum MHD_Result *answer);
//  One request header by name (ctx is the MHD connection: the providers'
//  header callback has this shape). Inline so that every server file can
//  read headers without depending on another.
static inline const char *
zhub_gateway_server_header (void *ctx, const char *name)
{
    return MHD_lookup_connection_value ((struct MHD_Connection *)ctx, MHD_HEADER_KIND, name);
}
//  server_webhook.c
enum MHD_Result zhub_gateway_server_webhook_handler (void *cls, struct MHD_Connection *conn,
                                                     const char *url, const char *method,
                                                     const char *version, const char *upload_data,
                                                     size_t *upload_data_size, void **con_cls);
//  server_auth.c: MHD_YES when the request carries an admin token (its
//  name in req->who); else the 401/403 answer is queued (req->responded).
enum MHD_Result zhub_gateway_server_admin_auth (struct MHD_Connection *conn, s_request_t *req);
//  server_console.c: the console's page and API, for any path under
//  /console or /v1/console/.
bool zhub_gateway_server_console_path (const char *url);
enum MHD_Result zhub_gateway_server_console (struct MHD_Connection *conn, s_request_t *req,
                                             const char *url, const char *method);
//  server_admin.c
enum MHD_Result zhub_gateway_server_admin_handler (void *cls, struct MHD_Connection *conn,
                                                   const char *url, const char *method,
                                                   const char *version, const char *upload_data,
                                                   size_t *upload_data_size, void **con_cls);

#endif
