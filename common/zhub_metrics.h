//  The one metrics registry of zhub's processes, rendered in the Prometheus
//  text exposition format (version 0.0.4). A process declares each metric
//  once (name, type, help, and for a histogram its bucket bounds), then
//  counts, sets or observes it from any thread; the admin listener renders
//  the whole registry on GET /metrics. Names follow Prometheus conventions
//  (base units, `_total` on counters, `_seconds` on durations). Labels are
//  passed as a preformatted, already escaped label set (`route="a.b"`,
//  built with zhub_metrics_label); keep their values to bounded sets (a
//  route pattern, an outcome, a peer name), never an id.
//
//  Thread-safe: one mutex around the registry; every call is O(series of
//  that metric), a handful at most.
#ifndef ZHUB_METRICS_H
#define ZHUB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define ZHUB_METRICS_MAX_BUCKETS 16 //  bucket bounds of one histogram (+Inf added)
#define ZHUB_METRICS_MAX_SERIES 256 //  label sets of one metric; more are dropped
#define ZHUB_METRICS_MAX_LABELS 256 //  bytes of one preformatted label set

typedef enum { ZHUB_COUNTER, ZHUB_GAUGE, ZHUB_HISTOGRAM } zhub_metric_type_t;

typedef struct zhub_metrics_t zhub_metrics_t;

//  Seconds buckets for latencies from a millisecond to a minute.
extern const double zhub_metrics_latency_buckets[];
extern const size_t zhub_metrics_latency_bucket_count;

zhub_metrics_t *zhub_metrics_new (void);

//  NULL-safe; nulls *self_p.
void zhub_metrics_destroy (zhub_metrics_t **self_p);

//  Declares a metric. Declaring one again with the same type is a no-op;
//  a different type, a bad name or more than ZHUB_METRICS_MAX_BUCKETS
//  bounds is a programmer error (assert). bounds: ascending upper bounds
//  of a histogram's buckets (NULL for the others).
void zhub_metrics_declare (zhub_metrics_t *self, const char *name, zhub_metric_type_t type,
                           const char *help, const double *bounds, size_t bound_count);

//  Adds by (>= 0) to a counter's series for labels ("" for none).
void zhub_metrics_count (zhub_metrics_t *self, const char *name, const char *labels, double by);

//  Sets a gauge's series.
void zhub_metrics_set (zhub_metrics_t *self, const char *name, const char *labels, double value);

//  Records one observation in a histogram's series.
void zhub_metrics_observe (zhub_metrics_t *self, const char *name, const char *labels,
                           double value);

//  Makes labels' series of a declared metric, at zero, if it has none yet:
//  a series Prometheus should see from the start (an unlabelled histogram
//  before its first observation).
void zhub_metrics_touch (zhub_metrics_t *self, const char *name, const char *labels);

//  The value of a counter's or gauge's series (0 when it has none yet):
//  for tests and for processes that show a figure elsewhere (zhub status).
double zhub_metrics_value (zhub_metrics_t *self, const char *name, const char *labels);

//  The whole registry as exposition text: a fresh string (caller frees).
//  Metrics in declaration order, series in first-use order; a metric with
//  no series yet is written with its HELP and TYPE only.
char *zhub_metrics_render (zhub_metrics_t *self);

//  Appends `key="value"` to a label set in buf (comma-separated), escaping
//  the value as the format asks (backslash, double quote, newline). The
//  result is cut to size. Returns buf. Pure.
const char *zhub_metrics_label (char *buf, size_t size, const char *key, const char *value);

#endif
