//  Counters for /metrics. Label values are escaped as the text format asks
//  (backslash, quote, newline), although our sources never contain them.
#include "metrics.h"
#include "zhub_common.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define s_SERIES_MAX 512 //  more distinct series than this fold into source "-"
#define s_LABEL_MAX 80

typedef struct {
    char source[s_LABEL_MAX];
    char reason[40]; //  signature failures only
    unsigned status; //  requests only
    uint64_t count;
} s_series_t;

static const double s_bounds[] = ZHUB_METRICS_LATENCY_BUCKETS;
#define s_BUCKETS (sizeof s_bounds / sizeof s_bounds[0])

struct zhub_gateway_metrics_t {
    pthread_mutex_t lock;
    s_series_t requests[s_SERIES_MAX];
    size_t request_count;
    s_series_t failures[s_SERIES_MAX];
    size_t failure_count;
    uint64_t latency_buckets[s_BUCKETS];
    uint64_t latency_count;
    double latency_sum_s;
    uint64_t spooled;
    uint64_t drained;
};

zhub_gateway_metrics_t *
zhub_gateway_metrics_new (void)
{
    zhub_gateway_metrics_t *self = zhub_calloc (1, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
zhub_gateway_metrics_destroy (zhub_gateway_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy (&(*self_p)->lock);
    free (*self_p);
    *self_p = NULL;
}

//  Finds or adds the series; the last slot catches any overflow.
static s_series_t *
s_series (s_series_t *table, size_t *count, const char *source, const char *reason, unsigned status)
{
    source = source && *source ? source : "-";
    reason = reason ? reason : "";
    for (size_t i = 0; i < *count; i++)
        if (table[i].status == status && !strncmp (table[i].source, source, s_LABEL_MAX - 1)
            && !strncmp (table[i].reason, reason, sizeof table[i].reason - 1))
            return &table[i];
    if (*count == s_SERIES_MAX)
        return &table[s_SERIES_MAX - 1];
    s_series_t *series = &table[(*count)++];
    snprintf (series->source, sizeof series->source, "%s", *count == s_SERIES_MAX ? "-" : source);
    snprintf (series->reason, sizeof series->reason, "%s", reason);
    series->status = status;
    return series;
}

void
zhub_gateway_metrics_request (zhub_gateway_metrics_t *self, const char *source, unsigned status)
{
    pthread_mutex_lock (&self->lock);
    s_series (self->requests, &self->request_count, source, NULL, status)->count++;
    pthread_mutex_unlock (&self->lock);
}

void
zhub_gateway_metrics_signature_failure (zhub_gateway_metrics_t *self, const char *source,
                                        const char *reason)
{
    pthread_mutex_lock (&self->lock);
    s_series (self->failures, &self->failure_count, source, reason, 0)->count++;
    pthread_mutex_unlock (&self->lock);
}

void
zhub_gateway_metrics_publish_latency (zhub_gateway_metrics_t *self, double ms)
{
    double seconds = ms / 1000.0;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < s_BUCKETS; i++)
        if (seconds <= s_bounds[i])
            self->latency_buckets[i]++;
    self->latency_count++;
    self->latency_sum_s += seconds;
    pthread_mutex_unlock (&self->lock);
}

void
zhub_gateway_metrics_spooled (zhub_gateway_metrics_t *self, uint64_t count)
{
    pthread_mutex_lock (&self->lock);
    self->spooled += count;
    pthread_mutex_unlock (&self->lock);
}

void
zhub_gateway_metrics_drained (zhub_gateway_metrics_t *self, uint64_t count)
{
    pthread_mutex_lock (&self->lock);
    self->drained += count;
    pthread_mutex_unlock (&self->lock);
}

//  A growing text buffer.
typedef struct {
    char *text;
    size_t size, capacity;
} s_out_t;

static void __attribute__ ((format (printf, 2, 3))) s_printf (s_out_t *out, const char *format, ...)
{
    va_list args;
    for (;;) {
        va_start (args, format);
        size_t room = out->capacity - out->size;
        int n = vsnprintf (out->text + out->size, room, format, args);
        va_end (args);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            out->size += (size_t)n;
            return;
        }
        out->capacity = out->capacity * 2 + (size_t)n + 1;
        out->text = zhub_realloc (out->text, out->capacity);
    }
}

//  A label value with \, " and newline escaped.
static void
s_escape (const char *in, char *out, size_t size)
{
    size_t used = 0;
    for (; *in && used + 3 < size; in++) {
        if (*in == '\\' || *in == '"') {
            out[used++] = '\\';
            out[used++] = *in;
        } else if (*in == '\n') {
            out[used++] = '\\';
            out[used++] = 'n';
        } else
            out[used++] = *in;
    }
    out[used] = 0;
}

char *
zhub_gateway_metrics_render (zhub_gateway_metrics_t *self, int64_t spool_depth, bool spool_enabled,
                             bool broker_up)
{
    s_out_t out = {.capacity = 4096};
    out.text = zhub_malloc (out.capacity);
    out.text[0] = 0;
    char source[2 * s_LABEL_MAX], reason[96];
    pthread_mutex_lock (&self->lock);
    s_printf (&out, "# HELP zhub_gateway_requests_total Webhook requests answered, by source and "
                    "status.\n# TYPE zhub_gateway_requests_total counter\n");
    for (size_t i = 0; i < self->request_count; i++) {
        s_escape (self->requests[i].source, source, sizeof source);
        s_printf (&out, "zhub_gateway_requests_total{source=\"%s\",status=\"%u\"} %llu\n", source,
                  self->requests[i].status, (unsigned long long)self->requests[i].count);
    }
    s_printf (&out, "# HELP zhub_gateway_signature_failures_total Requests refused by signature "
                    "or token checks.\n# TYPE zhub_gateway_signature_failures_total counter\n");
    for (size_t i = 0; i < self->failure_count; i++) {
        s_escape (self->failures[i].source, source, sizeof source);
        s_escape (self->failures[i].reason, reason, sizeof reason);
        s_printf (&out, "zhub_gateway_signature_failures_total{source=\"%s\",reason=\"%s\"} %llu\n",
                  source, reason, (unsigned long long)self->failures[i].count);
    }
    s_printf (&out, "# HELP zhub_gateway_publish_seconds Time from publish to the broker's last "
                    "PUBACK for one request.\n# TYPE zhub_gateway_publish_seconds histogram\n");
    for (size_t i = 0; i < s_BUCKETS; i++)
        s_printf (&out, "zhub_gateway_publish_seconds_bucket{le=\"%g\"} %llu\n", s_bounds[i],
                  (unsigned long long)self->latency_buckets[i]);
    s_printf (&out, "zhub_gateway_publish_seconds_bucket{le=\"+Inf\"} %llu\n",
              (unsigned long long)self->latency_count);
    s_printf (&out, "zhub_gateway_publish_seconds_sum %.6f\n", self->latency_sum_s);
    s_printf (&out, "zhub_gateway_publish_seconds_count %llu\n",
              (unsigned long long)self->latency_count);
    s_printf (&out,
              "# HELP zhub_gateway_spooled_total Events written to the spool.\n"
              "# TYPE zhub_gateway_spooled_total counter\nzhub_gateway_spooled_total %llu\n"
              "# HELP zhub_gateway_drained_total Events published from the spool.\n"
              "# TYPE zhub_gateway_drained_total counter\nzhub_gateway_drained_total %llu\n",
              (unsigned long long)self->spooled, (unsigned long long)self->drained);
    pthread_mutex_unlock (&self->lock);
    s_printf (&out,
              "# HELP zhub_gateway_spool_depth Events waiting in the spool.\n"
              "# TYPE zhub_gateway_spool_depth gauge\nzhub_gateway_spool_depth %lld\n"
              "# HELP zhub_gateway_spool_enabled 1 when the spool is on.\n"
              "# TYPE zhub_gateway_spool_enabled gauge\nzhub_gateway_spool_enabled %d\n"
              "# HELP zhub_gateway_broker_up 1 when the last publish or probe reached the broker.\n"
              "# TYPE zhub_gateway_broker_up gauge\nzhub_gateway_broker_up %d\n",
              (long long)spool_depth, spool_enabled ? 1 : 0, broker_up ? 1 : 0);
    return out.text;
}
