//  The gateway's figures in the Prometheus text format (version 0.0.4),
//  kept in the processes' one registry (zhub_metrics): requests by source
//  and status, signature failures by source and reason, the publish
//  latency histogram, spool depth, broker state. The series are bounded
//  because a source is a configured provider or sender name ("-" for
//  everything else) and a reason comes from a fixed set; the registry
//  drops series beyond ZHUB_METRICS_MAX_SERIES per metric.
#ifndef ZHUB_GATEWAY_METRICS_H
#define ZHUB_GATEWAY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zhub_gateway_metrics_t zhub_gateway_metrics_t;

//  Upper bounds of the publish latency buckets, in seconds.
#define ZHUB_METRICS_LATENCY_BUCKETS                                                               \
    {                                                                                              \
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0             \
    }

zhub_gateway_metrics_t *zhub_gateway_metrics_new (void);
void zhub_gateway_metrics_destroy (zhub_gateway_metrics_t **self_p);

//  One answered webhook request.
void zhub_gateway_metrics_request (zhub_gateway_metrics_t *self, const char *source,
                                   unsigned status);

//  One refused signature (reason: the provider's short code).
void zhub_gateway_metrics_signature_failure (zhub_gateway_metrics_t *self, const char *source,
                                             const char *reason);

//  One confirmed publish round trip (all messages of a request), in ms.
void zhub_gateway_metrics_publish_latency (zhub_gateway_metrics_t *self, double ms);

//  Events written to / drained from the spool.
void zhub_gateway_metrics_spooled (zhub_gateway_metrics_t *self, uint64_t count);
void zhub_gateway_metrics_drained (zhub_gateway_metrics_t *self, uint64_t count);

//  The whole exposition, as a fresh string.
char *zhub_gateway_metrics_render (zhub_gateway_metrics_t *self, int64_t spool_depth,
                                   bool spool_enabled, bool broker_up);

#endif
