//  contact-sync's sync results (contact_sync_results.h): counting what a
//  batch flush or a reconciliation run did, keeping the record through the
//  store (contact_sync_store.h) with the metrics beside it, and noting on
//  a deferred write why it waits. The batch and reconcile code only hand
//  over their items; the rules live here, so a flush stays one call.
#include "contact_sync_results.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
contact_sync_results_open (zhub_actor_ctx_t *ctx)
{
    if (ctx->metrics)
        zhub_sync_result_metrics_declare (ctx->metrics, CONTACT_SYNC_GROUP);
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
        //  each write left queued keeps why (zhub status contact shows it)
        const char **birds = zhub_calloc (count, sizeof *birds);
        const char **reasons = zhub_calloc (count, sizeof *reasons);
        unsigned *codes = zhub_calloc (count, sizeof *codes);
        size_t n = 0;
        for (size_t i = 0; i < count; i++) {
            if (items[i].fate != CONTACT_ITEM_DEFERRED && items[i].fate != CONTACT_ITEM_OPEN)
                continue;
            birds[n] = items[i].intent.bird_id;
            codes[n] = items[i].failure.code;
            reasons[n++] = *items[i].failure.reason ? items[i].failure.reason
                                                    : "not settled by the flush: sent again later";
        }
        contact_sync_t *self = ctx->state;
        if (contact_sync_store_note_deferred (&self->store, birds, codes, reasons, n,
                                              zhub_now_ms ())
            != ZHUB_OK)
            zhub_warn ("deferral_note_failed", "count=%zu", n);
        free (birds);
        free (reasons);
        free (codes);
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
    if (contact_sync_store_result_put (&self->store, result, zhub_now_ms (), zhub_mono_ms ())
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
    if (contact_sync_store_results_prune (&self->store, zhub_now_ms (), zhub_mono_ms (), &removed)
        != ZHUB_OK)
        zhub_warn ("sync_results_prune_failed", "table=%s", ZHUB_SYNC_RESULTS_TABLE);
    else if (removed)
        zhub_info ("sync_results_pruned", "removed=%zu", removed);
}
