//  The result of one sync run: a reconciliation run or a batch flush of an
//  actor that syncs records (contact-sync): how many records it handled
//  and what became of each, the conflicts it met, how long it took. Pure:
//  the record, its JSON codec, its key in the results table, the
//  retention policy's decisions and the metrics it feeds. The store side
//  (zhub_sync_results.h) keeps the records; `zhub sync results` shows
//  them.
//
//  The JSON form (one object, also what `zhub sync results --json` prints):
//    {"actor", "kind" ("reconcile" | "batch"), "run", "started" (RFC 3339),
//     "started_ms", "duration_ms", "processed", "created", "updated",
//     "skipped", "failed", "deferred", "conflicts_detected",
//     "conflicts_resolved", "complete" (false: the run was cut short, e.g.
//     a reconciliation stopped by a transient failure), "note"? (one line
//     for operators, never personal data: "HubSpot answered 503")}
//  Counts: processed = created + updated + skipped + failed + deferred.
#ifndef ZHUB_SYNC_RESULT_H
#define ZHUB_SYNC_RESULT_H

#include "zhub_metrics.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZHUB_SYNC_RESULT_ACTOR_MAX 32
#define ZHUB_SYNC_RESULT_KIND_MAX 16
#define ZHUB_SYNC_RESULT_RUN_MAX 96
#define ZHUB_SYNC_RESULT_NOTE_MAX 160
//  A key: "<16 hex started ms>|<8 hex sequence>|<kind>"
#define ZHUB_SYNC_RESULT_KEY_MAX (16 + 1 + 8 + 1 + ZHUB_SYNC_RESULT_KIND_MAX)

typedef struct {
    char actor[ZHUB_SYNC_RESULT_ACTOR_MAX];
    char kind[ZHUB_SYNC_RESULT_KIND_MAX]; //  "reconcile" or "batch"
    char run[ZHUB_SYNC_RESULT_RUN_MAX];   //  what started it (the tick's message id), or ""
    int64_t started_ms;                   //  wall clock
    int64_t duration_ms;
    uint64_t processed, created, updated, skipped, failed, deferred;
    uint64_t conflicts_detected, conflicts_resolved;
    bool complete;
    char note[ZHUB_SYNC_RESULT_NOTE_MAX];
} zhub_sync_result_t;

//  Empties result and names its actor and kind (cut to size), started now
//  (started_ms), complete.
void zhub_sync_result_init (zhub_sync_result_t *result, const char *actor, const char *kind,
                            int64_t started_ms);

//  The record as a JSON object (fresh; the caller decrefs).
json_t *zhub_sync_result_json (const zhub_sync_result_t *result);

//  The record as the table keeps it: compact JSON text (fresh; the caller
//  frees).
char *zhub_sync_result_encode (const zhub_sync_result_t *result);

//  Reads a record kept by zhub_sync_result_encode. 0, or -1 when the bytes
//  are not one (not JSON, no actor or kind, a count that is not a
//  non-negative integer); *result is then empty.
int zhub_sync_result_decode (const void *bytes, size_t size, zhub_sync_result_t *result);

//  The record's key: "<16 hex started_ms>|<8 hex seq>|<kind>", so keys
//  sort as the runs started and two runs in the same millisecond (seq
//  told apart by the writer) never share one. Returns its length (< size),
//  or -1 when it does not fit.
int zhub_sync_result_key (const zhub_sync_result_t *result, uint32_t seq, char *out, size_t size);

//  The start time a key holds, or -1 when it is not a record's key.
int64_t zhub_sync_result_key_ms (const void *key, size_t size);

//  -------------------------------------------------------------------
//  Retention

#define ZHUB_SYNC_RESULTS_MAX_AGE_DEFAULT_MS (7LL * 24 * 3600 * 1000) //  7 days
#define ZHUB_SYNC_RESULTS_MAX_COUNT_DEFAULT 10000
#define ZHUB_SYNC_RESULTS_PRUNE_EVERY_MS 60000 //  the tick prunes at most this often

typedef struct {
    int64_t max_age_ms; //  ZHUB_SYNC_RESULTS_RETENTION: older records go
    size_t max_count;   //  ZHUB_SYNC_RESULTS_MAX: beyond it the oldest go
} zhub_sync_results_policy_t;

//  Whether the oldest record kept, started at key_ms, goes: older than the
//  policy's age at now_ms, or one too many while count are kept. Walking
//  the table oldest first and asking this for each (count going down as
//  records go) until it says no prunes it.
bool zhub_sync_results_drop (const zhub_sync_results_policy_t *policy, int64_t key_ms, size_t count,
                             int64_t now_ms);

//  -------------------------------------------------------------------
//  Metrics

//  Declares, on the process's registry:
//    zhub_sync_records_total{actor,outcome}  records handled by sync runs,
//        outcome created, updated, skipped, failed, deferred
//    zhub_sync_conflicts_total{actor,state}  conflicts met, state detected
//        or resolved
//    zhub_sync_run_seconds{actor,kind}       how long a run took
//  and shows actor's series at zero from the start.
void zhub_sync_result_metrics_declare (zhub_metrics_t *metrics, const char *actor);

//  Adds one run's figures to those metrics.
void zhub_sync_result_metrics_record (zhub_metrics_t *metrics, const zhub_sync_result_t *result);

#endif
