//  What the console shows, gathered on request from what already exists:
//  the broker's STATS (groups, lag, in flight, dead letters; as `zhub
//  status`), the admin listeners of the processes named in
//  ZHUB_CONSOLE_PROCESSES (GET /healthz, /readyz, /metrics: health, breaker
//  state and errors per peer, sync latency), the gateway's own metrics,
//  the dead letters (console_letters.h) and contact-sync's recent field
//  decisions (its audit trail, read-only as `zhub audit` reads it) and the
//  latest sync results (as `zhub sync results` reads them). Used
//  by the admin listener's one thread only (it owns a bus client and an
//  HTTP client).
#ifndef ZHUB_GATEWAY_CONSOLE_DATA_H
#define ZHUB_GATEWAY_CONSOLE_DATA_H

#include "console_parse.h"
#include "zhub_client.h"

#include <jansson.h>

#define ZHUB_CONSOLE_PROBE_TIMEOUT_MS 1000 //  one GET to a process's admin listener
#define ZHUB_CONSOLE_DECISIONS_MAX 50      //  recent decisions shown
#define ZHUB_CONSOLE_RESULTS_MAX 20        //  recent sync runs shown

typedef struct zhub_console_t zhub_console_t;

typedef struct {
    const char *broker;                    //  the bus endpoint
    const zhub_bus_auth_t *bus;            //  the gateway's bus keys (borrowed)
    const char *data_dir;                  //  $ZHUB_DATA_DIR: the actors' stores
    const zhub_console_targets_t *targets; //  ZHUB_CONSOLE_PROCESSES (borrowed)
    int stats_timeout_ms;                  //  the broker's STATS answer (the admin
                                           //  thread waits for it: keep it short)
} zhub_console_config_t;

//  config (and what it points to) must outlive the console. Never NULL.
zhub_console_t *zhub_console_new (const zhub_console_config_t *config);

//  NULL-safe; nulls *self_p.
void zhub_console_destroy (zhub_console_t **self_p);

//  The bus client (connected on first use), or NULL when the endpoint is
//  invalid.
zhub_client_t *zhub_console_client (zhub_console_t *self);

//  One snapshot, a new object:
//    time_ms     when it was taken (unix ms; the page computes rates
//                between two snapshots)
//    gateway     {name, healthy, ready, metrics}: gateway_metrics is the
//                gateway's own Prometheus text (summarised), broker_up its view
//    broker      {reachable, stats (PROTOCOL.md 5.11's STATS map) | null}
//    processes   [{name, address, healthy, ready, error?, metrics?}] per
//                ZHUB_CONSOLE_PROCESSES entry, in its order
//    letters     zhub_console_letters
json_t *zhub_console_snapshot (zhub_console_t *self, const char *gateway_metrics, bool broker_up);

//  contact-sync's most recent field decisions, newest first, a new object:
//    available   false when contact-sync's store is not under data_dir
//    decisions   [{contact, field, old, new, winner, time, ...}] at most
//                ZHUB_CONSOLE_DECISIONS_MAX (the audit entries as stored)
json_t *zhub_console_decisions (zhub_console_t *self);

//  The latest sync runs of the actors that keep them (each reconciliation
//  and batch flush: zhub_sync_results.h), newest first, a new object:
//    available   false when no actor's store under data_dir keeps results
//                (reason says why)
//    results     [zhub_sync_result_json objects] at most
//                ZHUB_CONSOLE_RESULTS_MAX, as `zhub sync results --json`
json_t *zhub_console_sync_results (zhub_console_t *self);

#endif
