//  The broker's configuration: read once from the environment at start,
//  validated, logged (there are no secrets in it), then passed down. Every
//  limit the broker enforces is a named field here.
#ifndef BROKER_CONFIG_H
#define BROKER_CONFIG_H

#include "zhub_bus_auth.h"
#include "zhub_listen.h"
#include "zhub_frame.h"

#include <stddef.h>
#include <stdint.h>

#define BROKER_RETENTION_RULES 32
#define BROKER_BROADCAST_MAX 16 //  broadcast patterns

//  One retention rule: topics matching pattern keep messages for max_age_ms
//  (0 = no age limit) and at most max_bytes of envelopes (0 = no limit).
typedef struct {
    char pattern[256];
    int64_t max_age_ms;
    uint64_t max_bytes;
} broker_retention_t;

typedef struct {
    const char *endpoint; //  ZHUB_BROKER: where the ROUTER binds
    char tap[256];        //  ZHUB_BROKER_TAP: where the tap PUB binds ("" = off)
    bool tap_explicit;    //  set by the operator: failing to bind it stops the broker
    //  ZHUB_BROKER_ADMIN_LISTEN: host:port of /healthz, /readyz, /metrics
    //  (zhub_admin.h); unset = no listener
    zhub_listen_t admin;
    bool admin_on;
    const char *data_dir;    //  ZHUB_DATA_DIR: the store lives in <data_dir>/broker
    int64_t dedup_window_ms; //  ZHUB_DEDUP_WINDOW (8d): how long a message id is remembered
    uint32_t max_deliveries; //  ZHUB_BROKER_MAX_DELIVERIES (5): default for new groups
    int64_t ack_deadline_ms; //  ZHUB_BROKER_ACK_DEADLINE (30s): default for new groups
    int64_t backoff_ms[ZHUB_FRAME_MAX_BACKOFF]; //  ZHUB_BROKER_BACKOFF (1s,5s,30s,2m,10m)
    size_t backoff_count;
    uint32_t window;           //  ZHUB_BROKER_WINDOW (4096): pending offsets held per group
    size_t max_message;        //  ZHUB_BROKER_MAX_MESSAGE (1 MiB): envelope bytes per PUBLISH
    uint32_t batch_max;        //  frames drained per loop iteration (one transaction)
    uint32_t scan_max;         //  log records a group scans per loop iteration
    int64_t heartbeat_ms;      //  ZHUB_HEARTBEAT_MS; members silent 10x this are forgotten
    int send_hwm;              //  messages queued per peer before sends fail with EAGAIN
    int64_t sweep_interval_ms; //  how often expired dedup entries are swept
    uint32_t sweep_max;        //  dedup entries removed per sweep
    uint32_t history_max;
    size_t max_map_size; //  ZHUB_BROKER_MAX_MAP_SIZE (64 GiB): the store's growth ceiling
    //  Retention: messages done for every group whose patterns match them
    //  are trimmed once past their topic's age or size limit. The first
    //  rule (ZHUB_BROKER_RETENTION_TOPICS) whose pattern matches decides;
    //  otherwise the defaults ZHUB_BROKER_RETENTION (7d) and
    //  ZHUB_BROKER_RETENTION_BYTES (0 = no limit) apply.
    broker_retention_t retention_default;
    broker_retention_t retention[BROKER_RETENTION_RULES];
    size_t retention_count;
    uint32_t trim_max; //  log records examined for trimming per sweep
    //  Access (PROTOCOL.md 16). curve: every TCP endpoint needs a key of
    //  the allow-list; plain: nobody is asked, so only local endpoints.
    zhub_bus_security_t security;           //  ZHUB_BUS_SECURITY (curve)
    char public_key[ZHUB_KEY_Z85_SIZE];     //  ZHUB_BROKER_CERT: the broker's key pair
    char secret_key[ZHUB_KEY_Z85_SIZE];     //  (never logged)
    char keys_dir[512];                     //  ZHUB_BUS_KEYS (<data_dir>/broker/keys)
    //  ZHUB_BROKER_BROADCAST (contact.forget,contact.erase): topics every
    //  replica of a group receives (PROTOCOL.md 7.8)
    char broadcast[BROKER_BROADCAST_MAX][256];
    size_t broadcast_count;
} broker_config_t;

//  Fills config with the defaults above (no environment).
void broker_config_defaults (broker_config_t *config);

//  Reads the ZHUB_* variables over the defaults. Returns 0, or -1 with the
//  reason in err when a value is invalid.
int broker_config_load (broker_config_t *config, char *err, size_t err_size);

//  Parses a backoff schedule: comma-separated durations ("1s,5s,2m"), 1 to
//  ZHUB_FRAME_MAX_BACKOFF steps. Returns 0, or -1 when malformed.
int broker_config_parse_backoff (const char *text, int64_t *steps, size_t *count);

//  Parses retention rules: "pattern=AGE[/BYTES],..." where AGE is a
//  duration (0 = no age limit) and BYTES an integer with an optional
//  k/m/g suffix (binary). Returns the count, or -1 when malformed.
int broker_config_parse_retention (const char *text, broker_retention_t *rules, size_t max);

//  Parses a byte size: digits with an optional k, m or g suffix. 0 or -1.
int broker_config_parse_bytes (const char *text, uint64_t *out);

//  The rule that applies to topic (a rule or the default).
const broker_retention_t *broker_config_retention_for (const broker_config_t *config,
                                                       const char *topic);

//  The tap endpoint derived from the broker's: tcp://host:port -> port + 1,
//  ipc://path -> path.tap. Returns 0, or -1 when there is none.
int broker_config_default_tap (const char *endpoint, char *out, size_t size);

//  Reads the access settings (security, the broker's key pair, the
//  allow-list) over config; part of broker_config_load. Returns 0 or -1
//  with the reason in err (plain with an endpoint that is not local, a
//  missing or unreadable certificate).
int broker_config_load_access (broker_config_t *config, char *err, size_t err_size);

//  Logs the effective configuration as one line (event=config).
void broker_config_log (const broker_config_t *config);

#endif
