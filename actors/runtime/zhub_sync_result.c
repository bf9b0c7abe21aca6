//  A sync run's result record: builder, JSON codec, table key, retention
//  decisions and metrics. Pure (no store, no clock): the store side and
//  the actors' hooks pass the times in, so tests drive every rule
//  directly. See zhub_sync_result.h for the record's fields.
#include "zhub_sync_result.h"
#include "zhub_common.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The counts, once: the codec walks this table both ways.
static const struct {
    const char *name;
    size_t offset;
} s_counts[] = {
    {"processed", offsetof (zhub_sync_result_t, processed)},
    {"created", offsetof (zhub_sync_result_t, created)},
    {"updated", offsetof (zhub_sync_result_t, updated)},
    {"skipped", offsetof (zhub_sync_result_t, skipped)},
    {"failed", offsetof (zhub_sync_result_t, failed)},
    {"deferred", offsetof (zhub_sync_result_t, deferred)},
    {"conflicts_detected", offsetof (zhub_sync_result_t, conflicts_detected)},
    {"conflicts_resolved", offsetof (zhub_sync_result_t, conflicts_resolved)},
};
#define S_COUNTS (sizeof s_counts / sizeof s_counts[0])

//  The outcomes a record counts, as zhub_sync_records_total labels them.
static const char *s_outcomes[] = {"created", "updated", "skipped", "failed", "deferred"};
#define S_OUTCOMES (sizeof s_outcomes / sizeof s_outcomes[0])

static uint64_t *
s_count (zhub_sync_result_t *result, size_t i)
{
    return (uint64_t *)((char *)result + s_counts[i].offset);
}

static uint64_t
s_count_of (const zhub_sync_result_t *result, size_t i)
{
    return *(const uint64_t *)((const char *)result + s_counts[i].offset);
}

static void
s_copy (char *dst, size_t size, const char *src)
{
    snprintf (dst, size, "%s", src ? src : "");
}

void
zhub_sync_result_init (zhub_sync_result_t *result, const char *actor, const char *kind,
                       int64_t started_ms)
{
    memset (result, 0, sizeof *result);
    s_copy (result->actor, sizeof result->actor, actor);
    s_copy (result->kind, sizeof result->kind, kind);
    result->started_ms = started_ms;
    result->complete = true;
}

json_t *
zhub_sync_result_json (const zhub_sync_result_t *result)
{
    char started[40];
    zhub_time_format (result->started_ms, started, sizeof started);
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "actor", result->actor, "kind",
                             result->kind, "run", result->run, "started", started, "started_ms",
                             (json_int_t)result->started_ms, "duration_ms",
                             (json_int_t)result->duration_ms, "complete", result->complete);
    for (size_t i = 0; i < S_COUNTS; i++)
        json_object_set_new (obj, s_counts[i].name,
                             json_integer ((json_int_t)s_count_of (result, i)));
    if (*result->note)
        json_object_set_new (obj, "note", json_string (result->note));
    return obj;
}

char *
zhub_sync_result_encode (const zhub_sync_result_t *result)
{
    json_t *obj = zhub_sync_result_json (result);
    char *text = json_dumps (obj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (obj);
    return text;
}

static int
s_text (const json_t *obj, const char *key, char *out, size_t size, bool required)
{
    const json_t *value = json_object_get (obj, key);
    if (!value)
        return required ? -1 : 0;
    if (!json_is_string (value) || (required && !*json_string_value (value)))
        return -1;
    s_copy (out, size, json_string_value (value));
    return 0;
}

int
zhub_sync_result_decode (const void *bytes, size_t size, zhub_sync_result_t *result)
{
    memset (result, 0, sizeof *result);
    json_t *obj = json_loadb (bytes, size, 0, NULL);
    int rc = json_is_object (obj) ? 0 : -1;
    if (!rc)
        rc = s_text (obj, "actor", result->actor, sizeof result->actor, true)
             | s_text (obj, "kind", result->kind, sizeof result->kind, true)
             | s_text (obj, "run", result->run, sizeof result->run, false)
             | s_text (obj, "note", result->note, sizeof result->note, false);
    const json_t *started = json_object_get (obj, "started_ms");
    const json_t *duration = json_object_get (obj, "duration_ms");
    if (!rc && json_is_integer (started) && json_is_integer (duration)
        && json_integer_value (duration) >= 0) {
        result->started_ms = json_integer_value (started);
        result->duration_ms = json_integer_value (duration);
    } else
        rc = -1;
    for (size_t i = 0; !rc && i < S_COUNTS; i++) {
        const json_t *value = json_object_get (obj, s_counts[i].name);
        if (json_is_integer (value) && json_integer_value (value) >= 0)
            *s_count (result, i) = (uint64_t)json_integer_value (value);
        else
            rc = -1;
    }
    result->complete = !json_is_false (json_object_get (obj, "complete"));
    json_decref (obj);
    if (rc)
        memset (result, 0, sizeof *result);
    return rc;
}

int
zhub_sync_result_key (const zhub_sync_result_t *result, uint32_t seq, char *out, size_t size)
{
    if (result->started_ms < 0)
        return -1;
    int length = snprintf (out, size, "%016" PRIx64 "|%08" PRIx32 "|%s",
                           (uint64_t)result->started_ms, seq, result->kind);
    return length < 0 || (size_t)length >= size ? -1 : length;
}

int64_t
zhub_sync_result_key_ms (const void *key, size_t size)
{
    const char *text = key;
    if (size < 17 || text[16] != '|')
        return -1;
    int64_t ms = 0;
    for (size_t i = 0; i < 16; i++) {
        char c = text[i];
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0)
            return -1;
        ms = ms * 16 + digit;
    }
    return ms;
}

bool
zhub_sync_results_drop (const zhub_sync_results_policy_t *policy, int64_t key_ms, size_t count,
                        int64_t now_ms)
{
    if (count == 0)
        return false;
    if (policy->max_count && count > policy->max_count)
        return true;
    return policy->max_age_ms > 0 && key_ms < now_ms - policy->max_age_ms;
}

//  -------------------------------------------------------------------
//  Metrics

//  Seconds from a hundredth of a second to ten minutes: a flush takes a
//  call or two, a reconciliation of many pages minutes.
static const double s_run_buckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                       5,    10,   30,  60,   120, 300, 600};

static void
s_labels (char *buf, size_t size, const char *actor, const char *key, const char *value)
{
    *buf = 0;
    zhub_metrics_label (buf, size, "actor", actor);
    zhub_metrics_label (buf, size, key, value);
}

void
zhub_sync_result_metrics_declare (zhub_metrics_t *metrics, const char *actor)
{
    zhub_metrics_declare (metrics, "zhub_sync_records_total", ZHUB_COUNTER,
                          "Records handled by sync runs (reconciliations, batch flushes), by "
                          "outcome",
                          NULL, 0);
    zhub_metrics_declare (metrics, "zhub_sync_conflicts_total", ZHUB_COUNTER,
                          "Conflicts sync runs met (state detected) and settled (resolved)", NULL,
                          0);
    zhub_metrics_declare (metrics, "zhub_sync_run_seconds", ZHUB_HISTOGRAM,
                          "How long a sync run (reconciliation, batch flush) took", s_run_buckets,
                          sizeof s_run_buckets / sizeof s_run_buckets[0]);
    char labels[ZHUB_METRICS_MAX_LABELS];
    for (size_t i = 0; i < S_OUTCOMES; i++) {
        s_labels (labels, sizeof labels, actor, "outcome", s_outcomes[i]);
        zhub_metrics_touch (metrics, "zhub_sync_records_total", labels);
    }
    s_labels (labels, sizeof labels, actor, "state", "detected");
    zhub_metrics_touch (metrics, "zhub_sync_conflicts_total", labels);
    s_labels (labels, sizeof labels, actor, "state", "resolved");
    zhub_metrics_touch (metrics, "zhub_sync_conflicts_total", labels);
}

void
zhub_sync_result_metrics_record (zhub_metrics_t *metrics, const zhub_sync_result_t *result)
{
    char labels[ZHUB_METRICS_MAX_LABELS];
    const uint64_t counts[S_OUTCOMES] = {result->created, result->updated, result->skipped,
                                         result->failed, result->deferred};
    for (size_t i = 0; i < S_OUTCOMES; i++) {
        if (!counts[i])
            continue;
        s_labels (labels, sizeof labels, result->actor, "outcome", s_outcomes[i]);
        zhub_metrics_count (metrics, "zhub_sync_records_total", labels, (double)counts[i]);
    }
    if (result->conflicts_detected) {
        s_labels (labels, sizeof labels, result->actor, "state", "detected");
        zhub_metrics_count (metrics, "zhub_sync_conflicts_total", labels,
                            (double)result->conflicts_detected);
    }
    if (result->conflicts_resolved) {
        s_labels (labels, sizeof labels, result->actor, "state", "resolved");
        zhub_metrics_count (metrics, "zhub_sync_conflicts_total", labels,
                            (double)result->conflicts_resolved);
    }
    s_labels (labels, sizeof labels, result->actor, "kind", result->kind);
    zhub_metrics_observe (metrics, "zhub_sync_run_seconds", labels,
                          (double)result->duration_ms / 1000.0);
}
