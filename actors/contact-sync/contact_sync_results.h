//  contact-sync's sync results: what each batch flush and each
//  reconciliation run did (created, updated, skipped, failed, deferred,
//  conflicts, duration), kept in its store's sync_results table
//  (zhub_sync_results.h: retention, the read side of `zhub sync results`)
//  and counted in the metrics; and, on each write a flush defers, why it
//  waits (`zhub status contact` shows it).
//
//  The counting rules (pure):
//    batch      each contact of the flush: created (HubSpot's upsert said
//               new), updated (an existing record, or a 409 turned into an
//               update of the contact holding the e-mail), failed (refused
//               for good: dead-lettered), deferred (a transient failure:
//               the write stays queued); a 409 is a conflict detected,
//               resolved when the update landed;
//    reconcile  each contact the search returned: created (contact-sync
//               did not know it and wrote), updated (known, and Bird
//               differed: drift), skipped (Bird agreed), failed; each
//               field decision of its plan other than "applied" (the
//               change met a value as new or newer: older_than_current,
//               tie_hubspot_wins) is a conflict, resolved when the entry
//               names its winner (last writer wins always does).
#ifndef CONTACT_SYNC_RESULTS_H
#define CONTACT_SYNC_RESULTS_H

#include "contact_sync_io.h"
#include "zhub_sync_result.h"

//  spec.open's part, after the store opened (its open opens the results
//  table with the policy main read): declares the metrics.
void contact_sync_results_open (zhub_actor_ctx_t *ctx);

//  Counts one flush's items into result (processed and outcomes,
//  conflicts). all_deferred: the flush's commit failed, so every item
//  stays queued whatever its fate. Pure.
void contact_sync_results_count_batch (zhub_sync_result_t *result, const contact_item_t *items,
                                       size_t count, bool all_deferred);

//  Counts the conflicts among a plan's field decisions (contact_sync_lww's
//  audit entries) into result. Pure.
void contact_sync_results_count_audit (zhub_sync_result_t *result, const json_t *audit);

//  After a flush: notes on each deferred item's queued write why it waits,
//  counts the items (as count_batch) and records the run (started by
//  result's init, mono_started the monotonic ms it began).
void contact_sync_results_flushed (zhub_actor_ctx_t *ctx, zhub_sync_result_t *result,
                                   const contact_item_t *items, size_t count, bool all_deferred,
                                   int64_t mono_started);

//  Keeps a run's result in the store, adds it to the metrics and logs
//  `event=sync_result kind= processed= created= updated= skipped= failed=
//  deferred= conflicts= ms=`. A store failure is logged, never fatal.
void contact_sync_results_record (zhub_actor_ctx_t *ctx, const zhub_sync_result_t *result);

//  spec.tick's part: prunes the results table when due.
void contact_sync_results_tick (zhub_actor_ctx_t *ctx);

#endif
