//  The console's pure parsing (console_parse.h): the process list setting
//  and a summary of a Prometheus text exposition (format 0.0.4: one sample
//  per line, `name{label="value",...} value [timestamp]`). Only the few
//  series the console shows are read; everything else is skipped, so a
//  process exporting more (or less) never breaks the page.
#include "console_parse.h"
#include "zhub_common.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define s_LABELS_MAX 8
#define s_LABEL_SIZE 256
#define s_BUCKETS_MAX 32

static bool
s_name_ok (const char *name, size_t size)
{
    if (size == 0 || size > ZHUB_CONSOLE_NAME_MAX)
        return false;
    for (size_t i = 0; i < size; i++)
        if (!isalnum ((unsigned char)name[i]) && !strchr ("-_.", name[i]))
            return false;
    return true;
}

int
zhub_console_targets_parse (const char *text, zhub_console_targets_t *out, char *err,
                            size_t err_size)
{
    memset (out, 0, sizeof *out);
    if (!text)
        return 0;
    const char *p = text;
    while (isspace ((unsigned char)*p))
        p++;
    if (!*p)
        return 0;
    for (size_t index = 1;; index++) {
        const char *end = strchr (p, ',');
        size_t size = end ? (size_t)(end - p) : strlen (p);
        char entry[400];
        if (size >= sizeof entry) {
            snprintf (err, err_size, "ZHUB_CONSOLE_PROCESSES entry %zu is too long", index);
            return -1;
        }
        memcpy (entry, p, size);
        entry[size] = 0;
        char *start = entry, *stop = entry + size;
        while (isspace ((unsigned char)*start))
            start++;
        while (stop > start && isspace ((unsigned char)stop[-1]))
            *--stop = 0;
        char *eq = strchr (start, '=');
        if (!*start || !eq) {
            snprintf (err, err_size,
                      "ZHUB_CONSOLE_PROCESSES entry %zu is not name=host:port "
                      "(e.g. contact-sync=127.0.0.1:9101)",
                      index);
            return -1;
        }
        if (!s_name_ok (start, (size_t)(eq - start))) {
            snprintf (err, err_size,
                      "ZHUB_CONSOLE_PROCESSES entry %zu: the name must be 1 to %d letters, "
                      "digits, '-', '_' or '.'",
                      index, ZHUB_CONSOLE_NAME_MAX);
            return -1;
        }
        *eq = 0;
        if (out->count == ZHUB_CONSOLE_PROCESSES_MAX) {
            snprintf (err, err_size, "ZHUB_CONSOLE_PROCESSES holds more than %d entries",
                      ZHUB_CONSOLE_PROCESSES_MAX);
            return -1;
        }
        for (size_t i = 0; i < out->count; i++)
            if (!strcmp (out->items[i].name, start)) {
                snprintf (err, err_size, "ZHUB_CONSOLE_PROCESSES names %s twice", start);
                return -1;
            }
        zhub_console_target_t *target = &out->items[out->count];
        if (zhub_listen_parse (eq + 1, &target->address) || target->address.port == 0) {
            snprintf (err, err_size, "ZHUB_CONSOLE_PROCESSES entry %zu (%s): %s is not host:port",
                      index, start, eq + 1);
            return -1;
        }
        memcpy (target->name, start, strlen (start) + 1); //  s_name_ok bounded it
        out->count++;
        if (!end)
            return 0;
        p = end + 1;
    }
}

double
zhub_console_quantile (const double *bounds, const double *counts, size_t n, double q)
{
    if (n == 0 || counts[n - 1] <= 0)
        return -1;
    double rank = q * counts[n - 1];
    for (size_t i = 0; i < n; i++) {
        if (counts[i] < rank)
            continue;
        if (isinf (bounds[i]))
            return i > 0 ? bounds[i - 1] : 0;
        double lower = i > 0 ? bounds[i - 1] : 0, below = i > 0 ? counts[i - 1] : 0;
        double inside = counts[i] - below;
        return inside > 0 ? lower + (bounds[i] - lower) * (rank - below) / inside : bounds[i];
    }
    return bounds[n - 1];
}

//  One sample line, split. Label values keep at most s_LABEL_SIZE - 1
//  bytes (escapes read: \\, \", \n).
typedef struct {
    char name[128];
    struct {
        char key[64];
        char value[s_LABEL_SIZE];
    } labels[s_LABELS_MAX];
    size_t label_count;
    double value;
} s_sample_t;

static bool
s_parse_line (const char *line, size_t size, s_sample_t *out)
{
    memset (out, 0, sizeof *out);
    size_t i = 0, n = 0;
    while (i < size && (isalnum ((unsigned char)line[i]) || line[i] == '_' || line[i] == ':'))
        if (n + 1 < sizeof out->name)
            out->name[n++] = line[i++];
        else
            return false;
    if (n == 0)
        return false;
    if (i < size && line[i] == '{') {
        i++;
        while (i < size && line[i] != '}') {
            size_t k = 0;
            bool keep = out->label_count < s_LABELS_MAX;
            char *key = keep ? out->labels[out->label_count].key : NULL;
            char *value = keep ? out->labels[out->label_count].value : NULL;
            while (i < size && line[i] != '=') {
                if (keep && k + 1 < sizeof out->labels[0].key)
                    key[k++] = line[i];
                i++;
            }
            if (i + 1 >= size || line[i + 1] != '"')
                return false;
            i += 2;
            size_t v = 0;
            while (i < size && line[i] != '"') {
                char c = line[i];
                if (c == '\\' && i + 1 < size) {
                    c = line[++i];
                    c = c == 'n' ? '\n' : c;
                }
                if (keep && v + 1 < s_LABEL_SIZE)
                    value[v++] = c;
                i++;
            }
            if (i >= size)
                return false;
            i++; //  the closing quote
            if (keep)
                out->label_count++;
            if (i < size && line[i] == ',')
                i++;
        }
        if (i >= size)
            return false;
        i++; //  '}'
    }
    if (i >= size || line[i] != ' ')
        return false;
    char number[64];
    size_t len = size - i - 1 < sizeof number - 1 ? size - i - 1 : sizeof number - 1;
    memcpy (number, line + i + 1, len);
    number[len] = 0;
    char *end;
    out->value = strtod (number, &end);
    return end != number;
}

static const char *
s_label (const s_sample_t *s, const char *key)
{
    for (size_t i = 0; i < s->label_count; i++)
        if (!strcmp (s->labels[i].key, key))
            return s->labels[i].value;
    return NULL;
}

static void
s_add (json_t *obj, const char *key, double by)
{
    json_t *old = json_object_get (obj, key);
    json_object_set_new (obj, key, json_real ((old ? json_number_value (old) : 0) + by));
}

static json_t *
s_child (json_t *obj, const char *key)
{
    json_t *child = json_object_get (obj, key);
    if (!child) {
        child = json_object ();
        json_object_set_new (obj, key, child);
    }
    return child;
}

//  The sync latency histogram summed over routes: bucket bounds in the
//  order first seen (the registry writes them ascending).
typedef struct {
    double bounds[s_BUCKETS_MAX], counts[s_BUCKETS_MAX];
    size_t n;
    double count;
} s_histogram_t;

static void
s_histogram_add (s_histogram_t *h, const s_sample_t *s)
{
    const char *le = s_label (s, "le");
    if (!le)
        return;
    double bound = !strcmp (le, "+Inf") ? INFINITY : strtod (le, NULL);
    for (size_t i = 0; i < h->n; i++)
        if (h->bounds[i] == bound) {
            h->counts[i] += s->value;
            return;
        }
    if (h->n == s_BUCKETS_MAX)
        return;
    size_t at = h->n;
    while (at > 0 && h->bounds[at - 1] > bound) { //  keep them ascending
        h->bounds[at] = h->bounds[at - 1];
        h->counts[at] = h->counts[at - 1];
        at--;
    }
    h->bounds[at] = bound;
    h->counts[at] = s->value;
    h->n++;
}

static json_t *
s_percentile (const s_histogram_t *h, double q)
{
    double value = zhub_console_quantile (h->bounds, h->counts, h->n, q);
    return value < 0 ? json_null () : json_real (value);
}

static void
s_take (json_t *summary, s_histogram_t *latency, const s_sample_t *s)
{
    const char *name = s->name;
    if (!strcmp (name, "zhub_actor_ready"))
        json_object_set_new (summary, "ready", json_boolean (s->value > 0));
    else if (!strcmp (name, "zhub_actor_outbox_pending") || !strcmp (name, "zhub_actor_waiting"))
        json_object_set_new (summary, name + strlen ("zhub_actor_"), json_real (s->value));
    else if (!strcmp (name, "zhub_broker_published_total"))
        json_object_set_new (summary, "published", json_real (s->value));
    else if (!strcmp (name, "zhub_actor_messages_total") && s_label (s, "outcome"))
        s_add (s_child (summary, "messages"), s_label (s, "outcome"), s->value);
    else if (!strcmp (name, "zhub_gateway_requests_total") && s_label (s, "source")
             && s_label (s, "status"))
        s_add (s_child (s_child (summary, "requests"), s_label (s, "source")),
               s_label (s, "status"), s->value);
    else if (!strcmp (name, "zhub_actor_sync_latency_seconds_bucket"))
        s_histogram_add (latency, s);
    else if (!strcmp (name, "zhub_actor_sync_latency_seconds_count"))
        latency->count += s->value;
    else if (s_label (s, "peer")) {
        json_t *peer = s_child (s_child (summary, "peers"), s_label (s, "peer"));
        if (!strcmp (name, "zhub_actor_breaker_open"))
            json_object_set_new (peer, "breaker_open", json_boolean (s->value > 0));
        else if (!strcmp (name, "zhub_actor_peer_budget_remaining"))
            json_object_set_new (peer, "budget_remaining", json_real (s->value));
        else if (!strcmp (name, "zhub_actor_peer_last_error_status"))
            json_object_set_new (peer, "last_error_status", json_real (s->value));
        else if (!strcmp (name, "zhub_actor_peer_last_error_seconds"))
            json_object_set_new (peer, "last_error_ms", json_real (s->value * 1000.0));
        else if (!strcmp (name, "zhub_actor_peer_budget_max"))
            json_object_set_new (peer, "budget_max", json_real (s->value));
        else if (!strcmp (name, "zhub_actor_http_requests_total") && s_label (s, "class")) {
            const char *class = s_label (s, "class");
            s_add (s_child (peer, "calls"), class, s->value);
            if (strcmp (class, "2xx") && strcmp (class, "3xx"))
                s_add (peer, "errors", s->value);
        }
    }
}

json_t *
zhub_console_metrics_summary (const char *text)
{
    json_t *summary = json_object ();
    s_histogram_t latency = {0};
    for (const char *line = text; line && *line;) {
        const char *end = strchr (line, '\n');
        size_t size = end ? (size_t)(end - line) : strlen (line);
        s_sample_t sample;
        if (size && *line != '#' && s_parse_line (line, size, &sample))
            s_take (summary, &latency, &sample);
        line = end ? end + 1 : line + size;
    }
    //  A peer seen only through its breaker or budget has made no call yet.
    const char *host;
    json_t *peer;
    json_object_foreach (json_object_get (summary, "peers"), host, peer)
    {
        if (!json_object_get (peer, "breaker_open"))
            json_object_set_new (peer, "breaker_open", json_false ());
        if (!json_object_get (peer, "errors"))
            json_object_set_new (peer, "errors", json_real (0));
    }
    if (latency.n || latency.count)
        json_object_set_new (summary, "sync_latency",
                             json_pack ("{s:f,s:o,s:o,s:o}", "count", latency.count, "p50",
                                        s_percentile (&latency, 0.5), "p95",
                                        s_percentile (&latency, 0.95), "p99",
                                        s_percentile (&latency, 0.99)));
    return summary;
}
