//  The sync results table: where an actor that runs sync runs
//  (reconciliations, batch flushes) keeps their result records
//  (zhub_sync_result.h), in its own LMDB environment, with retention. The
//  one place that knows the table's name, key and value formats: the
//  actor writes and prunes through it; `zhub sync results` opens the
//  actor's environment read-only beside the running actor (LMDB serves
//  readers in other processes; docs/adr/0004) and reads through it.
//
//  Table (in env $ZHUB_DATA_DIR/<actor>/):
//    sync_results  "<16 hex started ms>|<8 hex seq>|<kind>" -> the record as
//                  JSON (zhub_sync_result_encode): oldest first
//
//  Settings (read once at start, zhub_sync_results_config_load):
//    ZHUB_SYNC_RESULTS_RETENTION  how long records are kept (duration,
//                                 default 7d, at least 1m)
//    ZHUB_SYNC_RESULTS_MAX        how many at most (default 10000, 1 to
//                                 10,000,000); the oldest go first
#ifndef ZHUB_SYNC_RESULTS_H
#define ZHUB_SYNC_RESULTS_H

#include "zhub_store.h"
#include "zhub_sync_result.h"

#define ZHUB_SYNC_RESULTS_TABLE "sync_results"
#define ZHUB_SYNC_RESULTS_MIN_AGE_MS 60000
#define ZHUB_SYNC_RESULTS_MAX_COUNT_LIMIT 10000000

//  What an actor keeps to write its results.
typedef struct {
    zhub_table_t table;
    zhub_sync_results_policy_t policy;
    uint32_t seq;           //  tells apart runs started in the same millisecond
    int64_t prune_after_ms; //  monotonic: the next prune is due then
} zhub_sync_results_t;

//  Reads the retention settings from the environment into policy. 0, or -1
//  with the offending variable named in err.
int zhub_sync_results_config_load (zhub_sync_results_policy_t *policy, char *err, size_t err_size);

//  Opens (creating) the table in the actor's store; policy is kept. 0 or -1.
int zhub_sync_results_open (zhub_sync_results_t *self, zhub_store_t *store,
                            const zhub_sync_results_policy_t *policy);

//  Keeps one record (in its own write transaction), then prunes what the
//  policy no longer keeps when a prune is due (every
//  ZHUB_SYNC_RESULTS_PRUNE_EVERY_MS; now_ms wall, mono_ms monotonic).
//  ZHUB_OK or ZHUB_ERROR (nothing kept).
zhub_rc_t zhub_sync_results_put (zhub_sync_results_t *self, zhub_store_t *store,
                                 const zhub_sync_result_t *result, int64_t now_ms, int64_t mono_ms);

//  Prunes now when due (the actor's tick calls it): records older than the
//  policy's age and, beyond its count, the oldest. *removed how many went.
//  ZHUB_OK (also when not due) or ZHUB_ERROR.
zhub_rc_t zhub_sync_results_prune (zhub_sync_results_t *self, zhub_store_t *store, int64_t now_ms,
                                   int64_t mono_ms, size_t *removed);

//  The same in a write transaction of the caller's, whether due or not.
zhub_rc_t zhub_sync_results_prune_txn (zhub_txn_t *txn, zhub_table_t table,
                                       const zhub_sync_results_policy_t *policy, int64_t now_ms,
                                       size_t *removed);

//  -------------------------------------------------------------------
//  The read side (the CLI's and the console's)

//  The actors that keep sync results, by their store's name under the data
//  dir (one list for every reader).
extern const char *const zhub_sync_results_actors[];
extern const size_t zhub_sync_results_actor_count;

//  Opens $data_dir/<actor> read-only and finds the table. ZHUB_OK with
//  *store (the caller destroys it) and *table; ZHUB_NOTFOUND when the actor
//  never ran there or never kept a result (nothing is created; *store
//  NULL); ZHUB_ERROR with the reason in err.
zhub_rc_t zhub_sync_results_open_readonly (const char *data_dir, const char *actor,
                                           zhub_store_t **store, zhub_table_t *table, char *err,
                                           size_t err_size);

//  Appends to records (a JSON array) up to limit records (0: all), newest
//  first, as zhub_sync_result_json gives them. A value that does not read
//  as a record is passed over. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t zhub_sync_results_list (zhub_store_t *store, zhub_table_t table, size_t limit,
                                  json_t *records);

#endif
