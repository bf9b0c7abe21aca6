//  The gateway's figures, kept in the one metrics registry of zhub's
//  processes (zhub_metrics): this file only names them and sets the
//  gauges that are read at render time.
#include "metrics.h"
#include "zhub_common.h"
#include "zhub_metrics.h"

#include <stdio.h>
#include <stdlib.h>

static const double s_bounds[] = ZHUB_METRICS_LATENCY_BUCKETS;

struct zhub_gateway_metrics_t {
    zhub_metrics_t *registry;
};

zhub_gateway_metrics_t *
zhub_gateway_metrics_new (void)
{
    zhub_gateway_metrics_t *self = zhub_calloc (1, sizeof *self);
    zhub_metrics_t *m = self->registry = zhub_metrics_new ();
    zhub_metrics_declare (m, "zhub_gateway_requests_total", ZHUB_COUNTER,
                          "Webhook requests answered, by source and status.", NULL, 0);
    zhub_metrics_declare (m, "zhub_gateway_signature_failures_total", ZHUB_COUNTER,
                          "Requests refused by signature or token checks.", NULL, 0);
    zhub_metrics_declare (m, "zhub_gateway_publish_seconds", ZHUB_HISTOGRAM,
                          "Time from publish to the broker's last PUBACK for one request.",
                          s_bounds, sizeof s_bounds / sizeof s_bounds[0]);
    zhub_metrics_declare (m, "zhub_gateway_spooled_total", ZHUB_COUNTER,
                          "Events written to the spool.", NULL, 0);
    zhub_metrics_declare (m, "zhub_gateway_drained_total", ZHUB_COUNTER,
                          "Events published from the spool.", NULL, 0);
    zhub_metrics_declare (m, "zhub_gateway_spool_depth", ZHUB_GAUGE, "Events waiting in the spool.",
                          NULL, 0);
    zhub_metrics_declare (m, "zhub_gateway_spool_enabled", ZHUB_GAUGE, "1 when the spool is on.",
                          NULL, 0);
    zhub_metrics_declare (m, "zhub_gateway_broker_up", ZHUB_GAUGE,
                          "1 when the last publish or probe reached the broker.", NULL, 0);
    zhub_metrics_touch (m, "zhub_gateway_publish_seconds", "");
    zhub_metrics_touch (m, "zhub_gateway_spooled_total", "");
    zhub_metrics_touch (m, "zhub_gateway_drained_total", "");
    return self;
}

void
zhub_gateway_metrics_destroy (zhub_gateway_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_metrics_destroy (&(*self_p)->registry);
    free (*self_p);
    *self_p = NULL;
}

void
zhub_gateway_metrics_request (zhub_gateway_metrics_t *self, const char *source, unsigned status)
{
    char labels[ZHUB_METRICS_MAX_LABELS] = "", code[16];
    snprintf (code, sizeof code, "%u", status);
    zhub_metrics_label (labels, sizeof labels, "source", source && *source ? source : "-");
    zhub_metrics_label (labels, sizeof labels, "status", code);
    zhub_metrics_count (self->registry, "zhub_gateway_requests_total", labels, 1);
}

void
zhub_gateway_metrics_signature_failure (zhub_gateway_metrics_t *self, const char *source,
                                        const char *reason)
{
    char labels[ZHUB_METRICS_MAX_LABELS] = "";
    zhub_metrics_label (labels, sizeof labels, "source", source && *source ? source : "-");
    zhub_metrics_label (labels, sizeof labels, "reason", reason ? reason : "");
    zhub_metrics_count (self->registry, "zhub_gateway_signature_failures_total", labels, 1);
}

void
zhub_gateway_metrics_publish_latency (zhub_gateway_metrics_t *self, double ms)
{
    zhub_metrics_observe (self->registry, "zhub_gateway_publish_seconds", "", ms / 1000.0);
}

void
zhub_gateway_metrics_spooled (zhub_gateway_metrics_t *self, uint64_t count)
{
    zhub_metrics_count (self->registry, "zhub_gateway_spooled_total", "", (double)count);
}

void
zhub_gateway_metrics_drained (zhub_gateway_metrics_t *self, uint64_t count)
{
    zhub_metrics_count (self->registry, "zhub_gateway_drained_total", "", (double)count);
}

char *
zhub_gateway_metrics_render (zhub_gateway_metrics_t *self, int64_t spool_depth, bool spool_enabled,
                             bool broker_up)
{
    zhub_metrics_set (self->registry, "zhub_gateway_spool_depth", "", (double)spool_depth);
    zhub_metrics_set (self->registry, "zhub_gateway_spool_enabled", "", spool_enabled ? 1 : 0);
    zhub_metrics_set (self->registry, "zhub_gateway_broker_up", "", broker_up ? 1 : 0);
    return zhub_metrics_render (self->registry);
}
