//  The metrics registry (see zhub_metrics.h). Small and flat on purpose: a
//  process has a few dozen series, so metrics and their series are arrays
//  searched in order, and rendering walks them once. Doubles throughout,
//  as the exposition format does.
#include "zhub_metrics.h"
#include "zhub_common.h"

#include <assert.h>
#include <stdarg.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double zhub_metrics_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                               0.5,   1.0,    2.5,   5.0,  10.0,  30.0, 60.0};
const size_t zhub_metrics_latency_bucket_count =
    sizeof zhub_metrics_latency_buckets / sizeof zhub_metrics_latency_buckets[0];

typedef struct {
    char labels[ZHUB_METRICS_MAX_LABELS];
    double value;                               //  counter, gauge; histogram: sum
    uint64_t count;                             //  histogram: observations
    uint64_t buckets[ZHUB_METRICS_MAX_BUCKETS]; //  histogram: cumulative counts per bound
} s_series_t;

typedef struct {
    char *name;
    char *help;
    zhub_metric_type_t type;
    double bounds[ZHUB_METRICS_MAX_BUCKETS];
    size_t bound_count;
    s_series_t *series;
    size_t series_count, series_cap;
} s_metric_t;

struct zhub_metrics_t {
    pthread_mutex_t lock;
    s_metric_t *metrics;
    size_t count, cap;
};

zhub_metrics_t *
zhub_metrics_new (void)
{
    zhub_metrics_t *self = zhub_calloc (1, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
zhub_metrics_destroy (zhub_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_metrics_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->metrics[i].name);
        free (self->metrics[i].help);
        free (self->metrics[i].series);
    }
    free (self->metrics);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

static bool
s_name_ok (const char *name)
{
    if (!name || !*name || (*name >= '0' && *name <= '9'))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == ':'))
            return false;
    return true;
}

static s_metric_t *
s_find (zhub_metrics_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (!strcmp (self->metrics[i].name, name))
            return &self->metrics[i];
    return NULL;
}

void
zhub_metrics_declare (zhub_metrics_t *self, const char *name, zhub_metric_type_t type,
                      const char *help, const double *bounds, size_t bound_count)
{
    assert (self && s_name_ok (name) && help);
    assert (type != ZHUB_HISTOGRAM || (bounds && bound_count <= ZHUB_METRICS_MAX_BUCKETS));
    pthread_mutex_lock (&self->lock);
    s_metric_t *metric = s_find (self, name);
    if (metric) {
        assert (metric->type == type);
        pthread_mutex_unlock (&self->lock);
        return;
    }
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->metrics = zhub_realloc (self->metrics, self->cap * sizeof *self->metrics);
    }
    metric = &self->metrics[self->count++];
    memset (metric, 0, sizeof *metric);
    metric->name = zhub_strdup (name);
    metric->help = zhub_strdup (help);
    metric->type = type;
    if (type == ZHUB_HISTOGRAM) {
        memcpy (metric->bounds, bounds, bound_count * sizeof *bounds);
        metric->bound_count = bound_count;
    }
    pthread_mutex_unlock (&self->lock);
}

//  The series of labels, made on first use; NULL when the metric is not
//  declared (a programmer error: asserted) or has ZHUB_METRICS_MAX_SERIES.
static s_series_t *
s_series (zhub_metrics_t *self, const char *name, const char *labels, zhub_metric_type_t type)
{
    s_metric_t *metric = s_find (self, name);
    assert (metric && metric->type == type);
    if (!metric || metric->type != type)
        return NULL;
    labels = labels ? labels : "";
    for (size_t i = 0; i < metric->series_count; i++)
        if (!strcmp (metric->series[i].labels, labels))
            return &metric->series[i];
    if (metric->series_count == ZHUB_METRICS_MAX_SERIES)
        return NULL; //  an unbounded label would end here: dropped, not grown
    if (metric->series_count == metric->series_cap) {
        metric->series_cap = metric->series_cap ? metric->series_cap * 2 : 4;
        metric->series = zhub_realloc (metric->series, metric->series_cap * sizeof (s_series_t));
    }
    s_series_t *series = &metric->series[metric->series_count++];
    memset (series, 0, sizeof *series);
    snprintf (series->labels, sizeof series->labels, "%s", labels);
    return series;
}

void
zhub_metrics_count (zhub_metrics_t *self, const char *name, const char *labels, double by)
{
    pthread_mutex_lock (&self->lock);
    s_series_t *series = s_series (self, name, labels, ZHUB_COUNTER);
    if (series && by > 0)
        series->value += by;
    pthread_mutex_unlock (&self->lock);
}

void
zhub_metrics_set (zhub_metrics_t *self, const char *name, const char *labels, double value)
{
    pthread_mutex_lock (&self->lock);
    s_series_t *series = s_series (self, name, labels, ZHUB_GAUGE);
    if (series)
        series->value = value;
    pthread_mutex_unlock (&self->lock);
}

void
zhub_metrics_observe (zhub_metrics_t *self, const char *name, const char *labels, double value)
{
    pthread_mutex_lock (&self->lock);
    s_series_t *series = s_series (self, name, labels, ZHUB_HISTOGRAM);
    if (series) {
        s_metric_t *metric = s_find (self, name);
        series->value += value;
        series->count++;
        for (size_t i = 0; i < metric->bound_count; i++)
            if (value <= metric->bounds[i])
                series->buckets[i]++;
    }
    pthread_mutex_unlock (&self->lock);
}

void
zhub_metrics_touch (zhub_metrics_t *self, const char *name, const char *labels)
{
    pthread_mutex_lock (&self->lock);
    s_metric_t *metric = s_find (self, name);
    assert (metric);
    if (metric)
        s_series (self, name, labels, metric->type);
    pthread_mutex_unlock (&self->lock);
}

double
zhub_metrics_value (zhub_metrics_t *self, const char *name, const char *labels)
{
    double value = 0;
    pthread_mutex_lock (&self->lock);
    s_metric_t *metric = s_find (self, name);
    for (size_t i = 0; metric && i < metric->series_count; i++)
        if (!strcmp (metric->series[i].labels, labels ? labels : ""))
            value = metric->type == ZHUB_HISTOGRAM ? (double)metric->series[i].count
                                                   : metric->series[i].value;
    pthread_mutex_unlock (&self->lock);
    return value;
}

//  A growing text buffer.
typedef struct {
    char *text;
    size_t used, cap;
} s_out_t;

static void s_put (s_out_t *out, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_put (s_out_t *out, const char *format, ...)
{
    for (;;) {
        va_list args;
        va_start (args, format);
        int n = vsnprintf (out->text + out->used, out->cap - out->used, format, args);
        va_end (args);
        if (n >= 0 && (size_t)n < out->cap - out->used) {
            out->used += (size_t)n;
            return;
        }
        out->cap = out->cap * 2 + (n > 0 ? (size_t)n : 0) + 64;
        out->text = zhub_realloc (out->text, out->cap);
    }
}

//  A number as the format writes it (integers without a fraction).
static const char *
s_number (double value, char *buf, size_t size)
{
    if (isinf (value))
        snprintf (buf, size, value > 0 ? "+Inf" : "-Inf");
    else if (value == floor (value) && fabs (value) < 1e15)
        snprintf (buf, size, "%.0f", value);
    else
        snprintf (buf, size, "%.9g", value);
    return buf;
}

//  `{labels}` or `{labels,extra}` or "" (extra: one more label, or "").
static void
s_put_labels (s_out_t *out, const char *labels, const char *extra)
{
    bool any = *labels || *extra;
    if (!any)
        return;
    s_put (out, "{%s%s%s}", labels, *labels && *extra ? "," : "", extra);
}

char *
zhub_metrics_render (zhub_metrics_t *self)
{
    s_out_t out = {.text = zhub_malloc (4096), .cap = 4096};
    out.text[0] = 0;
    static const char *types[] = {"counter", "gauge", "histogram"};
    char number[64], le[80];
    pthread_mutex_lock (&self->lock);
    for (size_t m = 0; m < self->count; m++) {
        const s_metric_t *metric = &self->metrics[m];
        s_put (&out, "# HELP %s %s\n# TYPE %s %s\n", metric->name, metric->help, metric->name,
               types[metric->type]);
        for (size_t s = 0; s < metric->series_count; s++) {
            const s_series_t *series = &metric->series[s];
            if (metric->type != ZHUB_HISTOGRAM) {
                s_put (&out, "%s", metric->name);
                s_put_labels (&out, series->labels, "");
                s_put (&out, " %s\n", s_number (series->value, number, sizeof number));
                continue;
            }
            for (size_t b = 0; b < metric->bound_count; b++) {
                snprintf (le, sizeof le, "le=\"%s\"",
                          s_number (metric->bounds[b], number, sizeof number));
                s_put (&out, "%s_bucket", metric->name);
                s_put_labels (&out, series->labels, le);
                s_put (&out, " %llu\n", (unsigned long long)series->buckets[b]);
            }
            s_put (&out, "%s_bucket", metric->name);
            s_put_labels (&out, series->labels, "le=\"+Inf\"");
            s_put (&out, " %llu\n", (unsigned long long)series->count);
            s_put (&out, "%s_sum", metric->name);
            s_put_labels (&out, series->labels, "");
            s_put (&out, " %s\n", s_number (series->value, number, sizeof number));
            s_put (&out, "%s_count", metric->name);
            s_put_labels (&out, series->labels, "");
            s_put (&out, " %llu\n", (unsigned long long)series->count);
        }
    }
    pthread_mutex_unlock (&self->lock);
    return out.text;
}

const char *
zhub_metrics_label (char *buf, size_t size, const char *key, const char *value)
{
    if (!size)
        return buf;
    size_t used = strlen (buf);
    if (used + 1 >= size)
        return buf;
    int n = snprintf (buf + used, size - used, "%s%s=\"", used ? "," : "", key);
    if (n < 0 || (size_t)n >= size - used) {
        buf[used] = 0;
        return buf;
    }
    used += (size_t)n;
    for (const char *p = value ? value : ""; *p && used + 3 < size; p++) {
        if (*p == '\\' || *p == '"') {
            buf[used++] = '\\';
            buf[used++] = *p;
        } else if (*p == '\n') {
            buf[used++] = '\\';
            buf[used++] = 'n';
        } else
            buf[used++] = *p;
    }
    buf[used++] = '"';
    buf[used] = 0;
    return buf;
}
