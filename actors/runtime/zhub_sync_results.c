//  The sync results table (zhub_sync_results.h): keeping a run's record,
//  pruning by age and count, and the read side `zhub sync results` uses.
//  The decisions (key format, what retention drops) are
//  zhub_sync_result.c's; this file only walks the table.
#include "zhub_sync_results.h"
#include "zhub_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
zhub_sync_results_config_load (zhub_sync_results_policy_t *policy, char *err, size_t err_size)
{
    int64_t age, count;
    if (zhub_env_duration_ms ("ZHUB_SYNC_RESULTS_RETENTION", ZHUB_SYNC_RESULTS_MAX_AGE_DEFAULT_MS,
                              &age)
        || age < ZHUB_SYNC_RESULTS_MIN_AGE_MS) {
        snprintf (err, err_size,
                  "ZHUB_SYNC_RESULTS_RETENTION must be a duration of at least 1m, e.g. 7d");
        return -1;
    }
    if (zhub_env_int ("ZHUB_SYNC_RESULTS_MAX", ZHUB_SYNC_RESULTS_MAX_COUNT_DEFAULT, 1,
                      ZHUB_SYNC_RESULTS_MAX_COUNT_LIMIT, &count)) {
        snprintf (err, err_size, "ZHUB_SYNC_RESULTS_MAX must be a whole number from 1 to %d",
                  ZHUB_SYNC_RESULTS_MAX_COUNT_LIMIT);
        return -1;
    }
    policy->max_age_ms = age;
    policy->max_count = (size_t)count;
    return 0;
}

int
zhub_sync_results_open (zhub_sync_results_t *self, zhub_store_t *store,
                        const zhub_sync_results_policy_t *policy)
{
    memset (self, 0, sizeof *self);
    self->policy = *policy;
    return zhub_store_table (store, ZHUB_SYNC_RESULTS_TABLE, &self->table);
}

typedef struct {
    zhub_table_t table;
    const zhub_sync_results_policy_t *policy;
    int64_t now_ms;
    size_t count;
} s_prune_t;

static bool
s_drop (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)value, (void)value_size;
    s_prune_t *prune = arg;
    int64_t ms = zhub_sync_result_key_ms (key, key_size);
    //  Keys sort oldest first: what is dropped is always the oldest left.
    bool drop = ms < 0 || zhub_sync_results_drop (prune->policy, ms, prune->count, prune->now_ms);
    if (drop && prune->count)
        prune->count--;
    return drop;
}

zhub_rc_t
zhub_sync_results_prune_txn (zhub_txn_t *txn, zhub_table_t table,
                             const zhub_sync_results_policy_t *policy, int64_t now_ms,
                             size_t *removed)
{
    s_prune_t prune = {
        .table = table, .policy = policy, .now_ms = now_ms, .count = zhub_txn_count (txn, table)};
    *removed = 0;
    //  The walk goes oldest first: once one record is kept every later one
    //  is newer and the count only fell, so it keeps the rest too (a walk
    //  of at most ZHUB_SYNC_RESULTS_MAX keys, once a minute).
    return zhub_txn_delete_where (txn, table, s_drop, &prune, removed);
}

typedef struct {
    zhub_sync_results_t *self;
    const zhub_sync_result_t *result;
    int64_t now_ms;
    bool prune;
    size_t removed;
} s_put_t;

static zhub_rc_t
s_put_fn (zhub_txn_t *txn, void *arg)
{
    s_put_t *put = arg;
    char key[ZHUB_SYNC_RESULT_KEY_MAX + 1];
    int length = zhub_sync_result_key (put->result, put->self->seq, key, sizeof key);
    if (length < 0)
        return ZHUB_ERROR;
    char *text = zhub_sync_result_encode (put->result);
    zhub_rc_t rc =
        text ? zhub_txn_put (txn, put->self->table, key, (size_t)length, text, strlen (text))
             : ZHUB_ERROR;
    free (text);
    put->removed = 0;
    if (rc == ZHUB_OK && put->prune)
        rc = zhub_sync_results_prune_txn (txn, put->self->table, &put->self->policy, put->now_ms,
                                          &put->removed);
    return rc;
}

zhub_rc_t
zhub_sync_results_put (zhub_sync_results_t *self, zhub_store_t *store,
                       const zhub_sync_result_t *result, int64_t now_ms, int64_t mono_ms)
{
    s_put_t put = {
        .self = self, .result = result, .now_ms = now_ms, .prune = mono_ms >= self->prune_after_ms};
    zhub_rc_t rc = zhub_store_write (store, s_put_fn, &put);
    if (rc == ZHUB_OK) {
        self->seq++;
        if (put.prune)
            self->prune_after_ms = mono_ms + ZHUB_SYNC_RESULTS_PRUNE_EVERY_MS;
    }
    return rc;
}

typedef struct {
    zhub_sync_results_t *self;
    int64_t now_ms;
    size_t removed;
} s_prune_call_t;

static zhub_rc_t
s_prune_fn (zhub_txn_t *txn, void *arg)
{
    s_prune_call_t *call = arg;
    return zhub_sync_results_prune_txn (txn, call->self->table, &call->self->policy, call->now_ms,
                                        &call->removed);
}

zhub_rc_t
zhub_sync_results_prune (zhub_sync_results_t *self, zhub_store_t *store, int64_t now_ms,
                         int64_t mono_ms, size_t *removed)
{
    *removed = 0;
    if (mono_ms < self->prune_after_ms)
        return ZHUB_OK;
    s_prune_call_t call = {.self = self, .now_ms = now_ms};
    zhub_rc_t rc = zhub_store_write (store, s_prune_fn, &call);
    if (rc == ZHUB_OK) {
        self->prune_after_ms = mono_ms + ZHUB_SYNC_RESULTS_PRUNE_EVERY_MS;
        *removed = call.removed;
    }
    return rc;
}

//  -------------------------------------------------------------------
//  The read side

zhub_rc_t
zhub_sync_results_open_readonly (const char *data_dir, const char *actor, zhub_store_t **store,
                                 zhub_table_t *table, char *err, size_t err_size)
{
    *store = NULL;
    char path[4096];
    snprintf (path, sizeof path, "%s/%s/data.mdb", data_dir, actor);
    struct stat info;
    if (stat (path, &info))
        return ZHUB_NOTFOUND;
    *store = zhub_store_open_readonly (data_dir, actor, err, err_size);
    if (!*store)
        return ZHUB_ERROR;
    //  An actor that never kept a result has no table yet.
    if (zhub_store_table (*store, ZHUB_SYNC_RESULTS_TABLE, table)) {
        zhub_store_destroy (store);
        return ZHUB_NOTFOUND;
    }
    return ZHUB_OK;
}

typedef struct {
    json_t *all; //  oldest first
} s_list_t;

static zhub_walk_t
s_list_one (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)key, (void)key_size;
    s_list_t *list = arg;
    zhub_sync_result_t result;
    if (zhub_sync_result_decode (value, value_size, &result) == 0)
        json_array_append_new (list->all, zhub_sync_result_json (&result));
    return ZHUB_WALK_NEXT;
}

typedef struct {
    zhub_table_t table;
    s_list_t list;
} s_read_t;

static zhub_rc_t
s_read_fn (zhub_txn_t *txn, void *arg)
{
    s_read_t *read = arg;
    json_array_clear (read->list.all); //  the store may run a read again
    return zhub_txn_walk (txn, read->table, s_list_one, &read->list);
}

const char *const zhub_sync_results_actors[] = {"contact-sync"};
const size_t zhub_sync_results_actor_count =
    sizeof zhub_sync_results_actors / sizeof zhub_sync_results_actors[0];

zhub_rc_t
zhub_sync_results_list (zhub_store_t *store, zhub_table_t table, size_t limit, json_t *records)
{
    s_read_t read = {.table = table, .list = {.all = json_array ()}};
    zhub_rc_t rc = zhub_store_read (store, s_read_fn, &read);
    if (rc == ZHUB_OK) {
        size_t count = json_array_size (read.list.all);
        for (size_t i = 0; i < count && (!limit || i < limit); i++)
            json_array_append (records, json_array_get (read.list.all, count - 1 - i));
    }
    json_decref (read.list.all);
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}
