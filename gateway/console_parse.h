//  The console's pure parsing: the list of processes it probes
//  (ZHUB_CONSOLE_PROCESSES) and what it reads in their Prometheus text
//  (GET /metrics on an actor's or the broker's admin listener, and the
//  gateway's own registry). No I/O: gateway/console_data.c fetches, unit
//  tests feed text.
//
//  ZHUB_CONSOLE_PROCESSES:
//
//    list   = entry *( "," entry )          spaces around an entry are ignored
//    entry  = name "=" host ":" port        ("contact-sync=127.0.0.1:9101")
//    name   = 1*32 ( ALPHA / DIGIT / "-" / "_" / "." )
//
//  Refused at start (one message naming the entry): an empty entry, a bad
//  name, an address that is not host:port, a name given twice, more than
//  ZHUB_CONSOLE_PROCESSES_MAX entries.
#ifndef ZHUB_GATEWAY_CONSOLE_PARSE_H
#define ZHUB_GATEWAY_CONSOLE_PARSE_H

#include "zhub_listen.h"

#include <jansson.h>
#include <stddef.h>

#define ZHUB_CONSOLE_PROCESSES_MAX 32
#define ZHUB_CONSOLE_NAME_MAX 32

typedef struct {
    char name[ZHUB_CONSOLE_NAME_MAX + 1];
    zhub_listen_t address; //  its admin listener
} zhub_console_target_t;

typedef struct {
    zhub_console_target_t items[ZHUB_CONSOLE_PROCESSES_MAX];
    size_t count;
} zhub_console_targets_t;

//  Parses text (NULL or blank: no entries) into *out (zeroed first).
//  Returns 0, or -1 with a message in err.
int zhub_console_targets_parse (const char *text, zhub_console_targets_t *out, char *err,
                                size_t err_size);

//  What the console shows of one process's metrics text, a new object:
//    ready          zhub_actor_ready (true/false), absent when not exported
//    messages       {outcome: count} summed over routes (zhub_actor_messages_total)
//    outbox_pending, waiting   the actor's gauges, when exported
//    peers          {host: {breaker_open, calls: {class: count}, errors,
//                   last_error_status?, last_error_ms?, budget_remaining?,
//                   budget_max?}} from zhub_actor_breaker_open,
//                   zhub_actor_http_requests_total (errors: 4xx + 5xx +
//                   transport), zhub_actor_peer_last_error_* and
//                   zhub_actor_peer_budget_*
//    sync_latency   {count, p50, p95, p99} in seconds over every route of
//                   zhub_actor_sync_latency_seconds (p* null when count is 0)
//    requests       {source: {status: count}} (zhub_gateway_requests_total)
//    published      the broker's zhub_broker_published_total, when exported
//  Lines that are not samples (comments, blank, malformed) are skipped.
json_t *zhub_console_metrics_summary (const char *text);

//  The q-quantile (0 < q < 1) of a cumulative histogram: bounds[i] the
//  upper bound of bucket i (ascending; the last may be +Inf), counts[i]
//  the cumulative count at it. Linear within the bucket, as Prometheus's
//  histogram_quantile does; a rank in the +Inf bucket gives the largest
//  finite bound. Returns -1 when the histogram is empty.
double zhub_console_quantile (const double *bounds, const double *counts, size_t n, double q);

#endif
