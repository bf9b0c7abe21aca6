//  contact-sync's sync results (contact_sync_results.h): counting what a
//  batch flush or a reconciliation run did, keeping the record in the
//  store's results table with the metrics beside it, and noting on a
//  deferred write why it waits. The batch and reconcile code only hand
//  over their items; the rules live here, so a flush stays one call.
#include "contact_sync_results.h"
#include "zhub_log.h"
#include "zhub_sync_results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
contact_sync_results_open (zhub_actor_ctx_t *ctx)
{
    contact_sync_t *self = ctx->state;
    zhub_sync_results_policy_t policy = self->results_policy;
    if (!policy.max_age_ms && !policy.max_count) {
        //  main did not load it (tests): the defaults
        policy.max_age_ms = ZHUB_SYNC_RESULTS_MAX_AGE_DEFAULT_MS;
        policy.max_count = ZHUB_SYNC_RESULTS_MAX_COUNT_DEFAULT;
    }
    if (zhub_sync_results_open (&self->results, ctx->store, &policy))
        return -1;
    if (ctx->metrics)
        zhub_sync_result_metrics_declare (ctx->metrics, CONTACT_SYNC_GROUP);
    return 0;
}

void
contact_sync_results_count_batch (zhub_sync_result_t *result, const contact_item_t *items,
                                  size_t count, bool all_deferred)
{
    for (size_t i = 0; i < count; i++) {
        const contact_item_t *item = &items[i];
        result->processed++;
        contact_item_fate_t fate = all_deferred ? CONTACT_ITEM_DEFERRED : item->fate;
        if (item->conflict) {
            result->conflicts_detected++;
            result->conflicts_resolved += fate == CONTACT_ITEM_DONE;
        }
        if (fate == CONTACT_ITEM_DONE && item->created)
            result->created++;
        else if (fate == CONTACT_ITEM_DONE)
            result->updated++;
        else if (fate == CONTACT_ITEM_REFUSED)
            result->failed++;
        else
            result->deferred++; //  DEFERRED, or left OPEN (not settled: stays queued)
    }
}

void
contact_sync_results_count_audit (zhub_sync_result_t *result, const json_t *audit)
{
    size_t i;
    const json_t *entry;
    json_array_foreach (audit, i, entry)
    {
        const char *decision = json_string_value (json_object_get (entry, "decision"));
        if (!decision)
            continue;
        //  A change met a value as new or newer (older_than_current,
        //  tie_hubspot_wins): two writers contended for the field. An
        //  applied change merely replaced an older value.
        if (!strcmp (decision, "applied"))
            continue;
        result->conflicts_detected++;
        result->conflicts_resolved += json_object_get (entry, "winner") != NULL;
    }
}

//  -------------------------------------------------------------------
//  Why a write waits

typedef struct {
    const contact_sync_t *self;
    const contact_item_t *items;
    size_t count;
    int64_t now_ms;
} s_note_t;

static zhub_rc_t
s_note_fn (zhub_txn_t *txn, void *arg)
{
    s_note_t *note = arg;
    for (size_t i = 0; i < note->count; i++) {
        const contact_item_t *item = &note->items[i];
        if (item->fate != CONTACT_ITEM_DEFERRED && item->fate != CONTACT_ITEM_OPEN)
            continue;
        const char *bird = item->bird_id;
        const void *value;
        size_t size;
        zhub_rc_t rc = zhub_txn_get (txn, note->self->pending, bird, strlen (bird), &value, &size);
        if (rc == ZHUB_NOTFOUND)
            continue; //  settled or erased meanwhile
        if (rc != ZHUB_OK)
            return ZHUB_ERROR;
        json_t *entry = json_loadb (value, size, 0, NULL);
        if (!json_is_object (entry)) {
            json_decref (entry);
            continue;
        }
        const json_t *before = json_object_get (entry, CONTACT_SYNC_DEFERRED_KEY);
        json_int_t flushes = json_integer_value (json_object_get (before, "flushes"));
        const char *reason = *item->failure.reason ? item->failure.reason
                                                   : "not settled by the flush: sent again later";
        json_object_set_new (entry, CONTACT_SYNC_DEFERRED_KEY,
                             json_pack ("{s:I, s:s, s:I, s:I}", "code",
                                        (json_int_t)item->failure.code, "reason", reason, "at",
                                        (json_int_t)note->now_ms, "flushes", flushes + 1));
        char *text = json_dumps (entry, JSON_COMPACT);
        json_decref (entry);
        rc = zhub_txn_put (txn, note->self->pending, bird, strlen (bird), text, strlen (text));
        free (text);
        if (rc != ZHUB_OK)
            return ZHUB_ERROR;
    }
    return ZHUB_OK;
}

void
contact_sync_results_flushed (zhub_actor_ctx_t *ctx, zhub_sync_result_t *result,
                              const contact_item_t *items, size_t count, bool all_deferred,
                              int64_t mono_started)
{
    contact_sync_results_count_batch (result, items, count, all_deferred);
    long status = 0;
    for (size_t i = 0; i < count && !status; i++)
        if (items[i].fate == CONTACT_ITEM_DEFERRED && items[i].failure.code >= 100
            && items[i].failure.code < 600)
            status = items[i].failure.code;
    if (result->deferred && status)
        snprintf (result->note, sizeof result->note,
                  "HubSpot answered %ld: deferred writes stay queued", status);
    else if (all_deferred)
        snprintf (result->note, sizeof result->note,
                  "the store commit failed: every write stays queued");
    if (result->deferred && !all_deferred) {
        s_note_t note = {
            .self = ctx->state, .items = items, .count = count, .now_ms = zhub_now_ms ()};
        if (zhub_store_write (ctx->store, s_note_fn, &note) != ZHUB_OK)
            zhub_warn ("deferral_note_failed", "count=%llu", (unsigned long long)result->deferred);
    }
    result->duration_ms = zhub_mono_ms () - mono_started;
    contact_sync_results_record (ctx, result);
}

//  -------------------------------------------------------------------
//  Keeping the record

void
contact_sync_results_record (zhub_actor_ctx_t *ctx, const zhub_sync_result_t *result)
{
    contact_sync_t *self = ctx->state;
    if (ctx->metrics)
        zhub_sync_result_metrics_record (ctx->metrics, result);
    if (zhub_sync_results_put (&self->results, ctx->store, result, zhub_now_ms (), zhub_mono_ms ())
        != ZHUB_OK)
        zhub_error ("sync_result_not_kept", "kind=%s", result->kind);
    zhub_info ("sync_result",
               "kind=%s run=%s processed=%llu created=%llu updated=%llu skipped=%llu "
               "failed=%llu deferred=%llu conflicts=%llu resolved=%llu complete=%s ms=%lld",
               result->kind, *result->run ? result->run : "-",
               (unsigned long long)result->processed, (unsigned long long)result->created,
               (unsigned long long)result->updated, (unsigned long long)result->skipped,
               (unsigned long long)result->failed, (unsigned long long)result->deferred,
               (unsigned long long)result->conflicts_detected,
               (unsigned long long)result->conflicts_resolved, result->complete ? "yes" : "no",
               (long long)result->duration_ms);
}

void
contact_sync_results_tick (zhub_actor_ctx_t *ctx)
{
    contact_sync_t *self = ctx->state;
    size_t removed = 0;
    if (zhub_sync_results_prune (&self->results, ctx->store, zhub_now_ms (), zhub_mono_ms (),
                                 &removed)
        != ZHUB_OK)
        zhub_warn ("sync_results_prune_failed", "table=%s", ZHUB_SYNC_RESULTS_TABLE);
    else if (removed)
        zhub_info ("sync_results_pruned", "removed=%zu", removed);
}
