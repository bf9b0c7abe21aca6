//  zhub-gateway's configuration: read once from the environment at start,
//  validated, logged with secrets masked, then passed down. Every limit
//  the server applies is one of these named settings.
//
//  | variable                         | default                 |
//  |----------------------------------|-------------------------|
//  | ZHUB_GATEWAY_LISTEN              | 127.0.0.1:8080          |
//  | ZHUB_ADMIN_LISTEN                | 127.0.0.1:8081          |
//  | ZHUB_PUBLIC_URL                  | http://<gateway listen> (zhub_env_public_url, shared with the scheduler) |
//  | ZHUB_BROKER                      | tcp://127.0.0.1:7450    |
//  | ZHUB_HUBSPOT_APP_SECRET          | unset (every HubSpot request -> 401) |
//  | ZHUB_BIRD_SIGNING_KEY            | unset (every Bird request -> 401)    |
//  | ZHUB_GATEWAY_BODY_LIMIT          | 1048576 (bytes)         |
//  | ZHUB_GATEWAY_PUBLISH_TIMEOUT     | 3s (HubSpot gives up at 5 s) |
//  | ZHUB_GATEWAY_RETRY_AFTER         | 5 (seconds, on 503)     |
//  | ZHUB_GATEWAY_READY_TIMEOUT       | 1s (broker ping for /readyz) |
//  | ZHUB_GATEWAY_CONNECTION_TIMEOUT  | 10s (idle connection)   |
//  | ZHUB_GATEWAY_CONNECTION_LIMIT    | 256                     |
//  | ZHUB_GATEWAY_PER_IP_LIMIT        | 64                      |
//  | ZHUB_GATEWAY_CONNECTION_MEMORY   | 65536 (bytes per connection for headers) |
//  | ZHUB_GATEWAY_THREADS             | number of CPUs (HTTP worker threads) |
//  | ZHUB_GATEWAY_PUBLISHERS          | 2 (publisher threads, each one broker connection) |
//  | ZHUB_HUBSPOT_SIGNATURE_MAX_AGE   | 5m                      |
//  | ZHUB_BIRD_SIGNATURE_MAX_AGE      | 9h (Bird retries for 8 h with the first timestamp) |
//  | ZHUB_GATEWAY_MAX_CLOCK_SKEW      | 5m (signature timestamps in the future) |
//  | ZHUB_CALENDLY_SIGNING_KEY, ZHUB_WHATSAPP_APP_SECRET, ZHUB_WHATSAPP_VERIFY_TOKEN,
//  | ZHUB_GOOGLE_CHANNEL_TOKEN, ZHUB_GRAPH_CLIENT_STATE,
//  | ZHUB_GENERIC_SECRET_<NAME> | unset (that source -> 401)                  |
//  |   each also as <NAME>_PREVIOUS, accepted too during a rotation            |
//  | ZHUB_EVENTS_TOKEN, ZHUB_ADMIN_TOKEN | unset (/v1/events -> 401, /v1/status -> 403) |
//  |   lists of named tokens (tokens.h), each also as <NAME>_PREVIOUS          |
//  | ZHUB_GATEWAY_REQUEST_TIMEOUT     | 30s (headers+body must arrive within; slowloris) |
//  | ZHUB_GATEWAY_RATE                | 200 (requests per second per source)   |
//  | ZHUB_GATEWAY_BURST               | 400 (token bucket size per source)     |
//  | ZHUB_GATEWAY_RATE_<SOURCE>       | ZHUB_GATEWAY_RATE for that source      |
//  | ZHUB_GATEWAY_SPOOL               | on (off: 503 while the broker is down) |
//  | ZHUB_GATEWAY_SPOOL_LIMIT         | 100000 (events waiting; past it 503)   |
//  | ZHUB_DATA_DIR                    | ./.zhub-data (spool in <dir>/gateway; the console reads
//  |                                  |   dead-letter's and contact-sync's stores there, read-only) |
//  | ZHUB_CONSOLE_PROCESSES           | unset (name=host:port list of admin listeners the console probes) |
#ifndef ZHUB_GATEWAY_CONFIG_H
#define ZHUB_GATEWAY_CONFIG_H

#include "zhub_listen.h"
#include "providers/provider.h"
#include "console_parse.h"
#include "tokens.h"
#include "zhub_bus_auth.h"
#include "zhub_env.h" //  ZHUB_GATEWAY_LISTEN_DEFAULT

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZHUB_ADMIN_LISTEN_DEFAULT "127.0.0.1:8081"
#define ZHUB_GATEWAY_BODY_LIMIT_DEFAULT (1024 * 1024)
//  An oversized body is read and thrown away up to this many times the
//  body limit (ZHUB_GATEWAY_DISCARD_LIMIT), so that a sender still
//  uploading reads our 413 instead of a connection reset.
#define ZHUB_GATEWAY_DISCARD_FACTOR 4
#define ZHUB_GATEWAY_PUBLISH_TIMEOUT_DEFAULT_MS 3000
#define ZHUB_GATEWAY_RETRY_AFTER_DEFAULT_S 5
#define ZHUB_GATEWAY_READY_TIMEOUT_DEFAULT_MS 1000
#define ZHUB_GATEWAY_CONNECTION_TIMEOUT_DEFAULT_MS 10000
#define ZHUB_GATEWAY_CONNECTION_LIMIT_DEFAULT 256
#define ZHUB_GATEWAY_PER_IP_LIMIT_DEFAULT 64
#define ZHUB_GATEWAY_CONNECTION_MEMORY_DEFAULT (64 * 1024)
#define ZHUB_GATEWAY_PUBLISHERS_DEFAULT 2
#define ZHUB_GATEWAY_MAX_CLOCK_SKEW_DEFAULT_MS (5 * 60 * 1000)

#define ZHUB_GATEWAY_REQUEST_TIMEOUT_DEFAULT_MS 30000
#define ZHUB_GATEWAY_RATE_DEFAULT 200
#define ZHUB_GATEWAY_BURST_DEFAULT 400
#define ZHUB_GATEWAY_SPOOL_LIMIT_DEFAULT 100000

//  The providers' secrets, one row each; every one may have a _PREVIOUS
//  twin. The bearer tokens of /v1/events and the admin API are lists of
//  their own (zhub_gateway_config_t.tokens).
typedef enum {
    ZHUB_SECRET_HUBSPOT = 0,
    ZHUB_SECRET_BIRD,
    ZHUB_SECRET_CALENDLY,
    ZHUB_SECRET_WHATSAPP,
    ZHUB_SECRET_WHATSAPP_VERIFY,
    ZHUB_SECRET_GOOGLE,
    ZHUB_SECRET_GRAPH,
    ZHUB_SECRET_COUNT
} zhub_secret_id_t;

typedef struct {
    const char *source;   //  the provider it serves
    const char *variable; //  its environment variable
    char *value;          //  NULL when unset
    char *previous;       //  <variable>_PREVIOUS, NULL when unset
} zhub_gateway_secret_t;

//  One Standard Webhooks sender: ZHUB_GENERIC_SECRET_<NAME>; the route
//  name is NAME in lower case with '_' kept ([a-z0-9_] only).
typedef struct {
    char *name;
    char *value;
    char *previous;
} zhub_gateway_generic_t;



typedef struct {
    zhub_listen_t listen;    //  webhooks
    zhub_listen_t admin;     //  /healthz, /readyz
    char *public_url;        //  scheme://host[:port][/prefix], no trailing '/'
    bool public_url_default; //  not configured: derived from the listen address
    char *broker;            //  broker endpoint
    zhub_bus_auth_t bus;     //  how it authenticates to the broker (CURVE keys or plain)
    zhub_gateway_secret_t secrets[ZHUB_SECRET_COUNT];
    zhub_tokens_t tokens; //  ZHUB_EVENTS_TOKEN and ZHUB_ADMIN_TOKEN (and _PREVIOUS)
    zhub_gateway_generic_t *generic; //  the Standard Webhooks senders configured
    size_t generic_count;
    char *data_dir;         //  $ZHUB_DATA_DIR; NULL disables the spool
    int64_t spool_limit;    //  events
    double rate;            //  requests per second per source
    double burst;           //  bucket size
    double source_rate[16]; //  ZHUB_GATEWAY_RATE_<SOURCE>, by zhub_provider_at index (0 = rate)
    size_t body_limit;      //  bytes
    size_t discard_limit;   //  bytes of an oversized body read (and dropped) before cutting off
    int64_t publish_timeout_ms;
    int64_t retry_after_s;
    int64_t ready_timeout_ms;
    int64_t connection_timeout_ms;
    int64_t request_timeout_ms; //  from connection (or last answer) to this answer
    int64_t connection_limit;
    int64_t per_ip_limit;
    int64_t connection_memory;
    int64_t threads;    //  HTTP worker threads (libmicrohttpd thread pool)
    int64_t publishers; //  publisher threads (gateway/publisher.h); 0 means the default
    int64_t hubspot_max_age_ms;
    int64_t bird_max_age_ms;
    int64_t max_clock_skew_ms;
    char *console_data_dir;                 //  $ZHUB_DATA_DIR, whatever the spool
    zhub_console_targets_t console_targets; //  ZHUB_CONSOLE_PROCESSES
} zhub_gateway_config_t;


//  Reads and validates the whole configuration from the environment.
//  Returns 0, or -1 with a message on stderr naming the bad variable.
//  Call zhub_gateway_config_free after.
int zhub_gateway_config_load (zhub_gateway_config_t *self);

//  Frees the strings the config owns.
void zhub_gateway_config_free (zhub_gateway_config_t *self);

//  Logs the configuration once (event=config), secrets masked.
void zhub_gateway_config_log (const zhub_gateway_config_t *self);

//  The secret and timestamp tolerances for a provider (route_name: the
//  Standard Webhooks sender, else NULL). A provider with no secret
//  configured gets NULL, which fails every request (401).
void zhub_gateway_config_verify_opts (const zhub_gateway_config_t *self,
                                      const zhub_provider_t *provider, const char *route_name,
                                      zhub_verify_opts_t *opts);

//  The configured sender of /v1/webhooks/generic/<name>, or NULL.
const zhub_gateway_generic_t *zhub_gateway_config_generic (const zhub_gateway_config_t *self,
                                                           const char *name);

//  The variables of the token lists (each also read as <NAME>_PREVIOUS).
#define ZHUB_EVENTS_TOKEN_VARIABLE "ZHUB_EVENTS_TOKEN"
#define ZHUB_ADMIN_TOKEN_VARIABLE "ZHUB_ADMIN_TOKEN"

//  Sets a secret's value (and previous; either may be NULL), copying them.
//  For tests and embedders that build a config by hand.
void zhub_gateway_config_set_secret (zhub_gateway_config_t *self, zhub_secret_id_t id,
                                     const char *value, const char *previous);

#endif
