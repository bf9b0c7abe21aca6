//  The LMDB layer: tables, ordered integer keys, atomic transactions,
//  map growth when full, schema versions, reopen after close.
#include "zhub_store.h"
#include "zhub_test.h"

#include <stdlib.h>
#include <unistd.h>

static char s_dir[256];

static void
s_fresh_dir (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/zhub-store-test-XXXXXX");
    CHECK (mkdtemp (s_dir) != NULL);
}

static void
s_remove_dir (void)
{
    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    CHECK (system (cmd) == 0);
}

typedef struct {
    zhub_table_t table;
    uint64_t from, count;
    size_t value_size;
} s_fill_t;

static zhub_rc_t
s_fill (zhub_txn_t *txn, void *arg)
{
    s_fill_t *fill = arg;
    uint8_t *value = calloc (1, fill->value_size);
    for (uint64_t i = fill->from; i < fill->from + fill->count; i++) {
        uint8_t key[8];
        zhub_store_key_u64 (key, i);
        memcpy (value, &i, sizeof i);
        if (zhub_txn_put (txn, fill->table, key, 8, value, fill->value_size) != ZHUB_OK) {
            free (value);
            return ZHUB_ERROR;
        }
    }
    free (value);
    return ZHUB_OK;
}

typedef struct {
    zhub_table_t table;
    uint64_t seen, last;
    uint64_t step; //  0: keys must rise; else each must be the last + step
    bool ordered;
} s_walk_t;

static zhub_rc_t
s_walk (zhub_txn_t *txn, void *arg)
{
    s_walk_t *walk = arg;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, walk->table);
    const void *key;
    size_t key_size;
    walk->ordered = true;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, NULL, NULL);
    while (rc == ZHUB_OK) {
        uint64_t k = zhub_store_u64 (key);
        if (walk->seen && (walk->step ? k != walk->last + walk->step : k <= walk->last))
            walk->ordered = false;
        walk->last = k;
        walk->seen++;
        rc = zhub_cursor_next (cursor, &key, &key_size, NULL, NULL);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_NOTFOUND ? ZHUB_OK : rc;
}

//  A fresh store (process "t") and one table in it, name.
static zhub_store_t *
s_open_one (const char *name, zhub_table_t *table)
{
    s_fresh_dir ();
    zhub_store_config_t config = {.data_dir = s_dir, .process = "t"};
    char err[256];
    zhub_store_t *store = zhub_store_open (&config, err, sizeof err);
    CHECK (store != NULL);
    CHECK (store && zhub_store_table (store, name, table) == 0);
    return store;
}

static void
test_integer_keys_walk_in_numeric_order (void)
{
    zhub_table_t table;
    zhub_store_t *store = s_open_one ("log", &table);
    //  255, 256 and 65536 would sort wrongly as little-endian bytes
    s_fill_t fill = {.table = table, .from = 250, .count = 70000, .value_size = 8};
    CHECK (zhub_store_write (store, s_fill, &fill) == ZHUB_OK);
    s_walk_t walk = {.table = table};
    CHECK (zhub_store_read (store, s_walk, &walk) == ZHUB_OK);
    CHECK (walk.seen == 70000 && walk.ordered && walk.last == 250 + 69999);
    zhub_store_destroy (&store);
    CHECK (store == NULL);
    s_remove_dir ();
}

//  zhub_store_get_copy: a value's bytes, NUL after them; a missing key is
//  NOTFOUND with nothing to free.
static void
test_get_copy_reads_one_value_or_says_notfound (void)
{
    zhub_table_t table;
    zhub_store_t *store = s_open_one ("kv", &table);
    uint8_t key[8];
    zhub_store_key_u64 (key, 250);
    s_fill_t fill = {.table = table, .from = 250, .count = 1, .value_size = 8};
    CHECK (zhub_store_write (store, s_fill, &fill) == ZHUB_OK);
    char *value = (char *)"untouched";
    size_t size = 99;
    CHECK (zhub_store_get_copy (store, table, key, 8, &value, &size) == ZHUB_OK);
    CHECK (value && size == 8 && value[8] == 0);
    free (value);
    zhub_store_key_u64 (key, 251);
    CHECK (zhub_store_get_copy (store, table, key, 8, &value, &size) == ZHUB_NOTFOUND);
    CHECK (value == NULL && size == 0);
    CHECK (zhub_store_get_copy (store, table, key, 8, &value, NULL) == ZHUB_NOTFOUND);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

typedef struct {
    zhub_table_t table;
    uint64_t asked; //  entries the predicate saw
    size_t removed;
} s_sweep_t;

//  Drops every key not a multiple of 3: runs of two deletions in a row.
static bool
s_not_third (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)value;
    (void)value_size;
    s_sweep_t *sweep = arg;
    sweep->asked++;
    return key_size == 8 && zhub_store_u64 (key) % 3 != 0;
}

static zhub_rc_t
s_sweep (zhub_txn_t *txn, void *arg)
{
    s_sweep_t *sweep = arg;
    return zhub_txn_delete_where (txn, sweep->table, s_not_third, sweep, &sweep->removed);
}

static void
test_delete_where_drops_what_the_predicate_names_and_counts_it (void)
{
    zhub_table_t table;
    zhub_store_t *store = s_open_one ("rows", &table);
    s_fill_t fill = {.table = table, .from = 0, .count = 100, .value_size = 8};
    CHECK (zhub_store_write (store, s_fill, &fill) == ZHUB_OK);
    //  *removed is added to, not set; every entry is asked about once
    s_sweep_t sweep = {.table = table, .removed = 5};
    CHECK (zhub_store_write (store, s_sweep, &sweep) == ZHUB_OK);
    CHECK (sweep.asked == 100);
    CHECK (sweep.removed == 5 + 66);
    //  what is left is 0, 3, ..., 99: no kept entry skipped, none deleted twice
    s_walk_t walk = {.table = table, .step = 3};
    CHECK (zhub_store_read (store, s_walk, &walk) == ZHUB_OK);
    CHECK (walk.seen == 34 && walk.ordered && walk.last == 99);
    //  an empty table: nothing asked, nothing removed
    zhub_table_t empty;
    CHECK (zhub_store_table (store, "empty", &empty) == 0);
    s_sweep_t none = {.table = empty};
    CHECK (zhub_store_write (store, s_sweep, &none) == ZHUB_OK);
    CHECK (none.asked == 0 && none.removed == 0);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

typedef struct {
    zhub_table_t table;
    bool copy; //  put each entry seen into other as well
    zhub_table_t other;
    uint64_t stop_at; //  the key the callback stops on (0: none)
    uint64_t fail_at; //  the key the callback fails on (0: none)
    zhub_txn_t *txn;
    uint64_t seen, last;
    bool ordered;          //  keys rose, and each value was its own key
    zhub_rc_t walked;      //  what zhub_txn_walk returned
    const uint8_t *prefix; //  walk only these keys (zhub_txn_walk_prefix)
    size_t prefix_size;
} s_visit_t;

static zhub_walk_t
s_visit_one (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_visit_t *visit = arg;
    uint64_t k = key_size == 8 ? zhub_store_u64 (key) : 0, stored = 0;
    if (value_size == sizeof stored)
        memcpy (&stored, value, sizeof stored);
    if (key_size != 8 || stored != k || (visit->seen && k <= visit->last))
        visit->ordered = false;
    visit->seen++;
    visit->last = k;
    if (visit->copy
        && zhub_txn_put (visit->txn, visit->other, key, key_size, value, value_size) != ZHUB_OK)
        return ZHUB_WALK_FAIL;
    if (k == visit->fail_at)
        return ZHUB_WALK_FAIL;
    return k == visit->stop_at ? ZHUB_WALK_STOP : ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_visit (zhub_txn_t *txn, void *arg)
{
    s_visit_t *visit = arg;
    visit->txn = txn;
    visit->seen = 0;
    visit->ordered = true;
    visit->walked = visit->prefix ? zhub_txn_walk_prefix (txn, visit->table, visit->prefix,
                                                          visit->prefix_size, s_visit_one, visit)
                                  : zhub_txn_walk (txn, visit->table, s_visit_one, visit);
    return visit->walked;
}

//  A store with table "rows" holding keys 250 .. 1249 (255, 256 and 65536
//  sort wrongly as little-endian bytes) and an empty table "other".
static zhub_store_t *
s_walk_store (zhub_table_t *rows, zhub_table_t *other)
{
    s_fresh_dir ();
    zhub_store_config_t config = {.data_dir = s_dir, .process = "t"};
    zhub_store_t *store = zhub_store_open (&config, NULL, 0);
    CHECK (store != NULL);
    CHECK (zhub_store_table (store, "rows", rows) == 0);
    CHECK (zhub_store_table (store, "other", other) == 0);
    s_fill_t fill = {.table = *rows, .from = 250, .count = 1000, .value_size = 8};
    CHECK (zhub_store_write (store, s_fill, &fill) == ZHUB_OK);
    return store;
}

static void
test_walk_visits_every_entry_once_in_key_order (void)
{
    zhub_table_t rows, other;
    zhub_store_t *store = s_walk_store (&rows, &other);
    s_visit_t visit = {.table = rows};
    CHECK (zhub_store_read (store, s_visit, &visit) == ZHUB_OK);
    CHECK (visit.walked == ZHUB_OK);
    CHECK (visit.seen == 1000 && visit.ordered && visit.last == 1249);
    //  in a write transaction the callback may write to another table
    s_visit_t copy = {.table = rows, .copy = true, .other = other};
    CHECK (zhub_store_write (store, s_visit, &copy) == ZHUB_OK);
    s_visit_t copied = {.table = other};
    CHECK (zhub_store_read (store, s_visit, &copied) == ZHUB_OK);
    CHECK (copied.seen == 1000 && copied.ordered && copied.last == 1249);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

//  A prefix walk sees exactly the keys that start with it: the first 7
//  bytes of 512 (0x200) are those of 512 .. 767.
static void
test_walk_with_a_prefix_sees_only_its_keys (void)
{
    zhub_table_t rows, other;
    zhub_store_t *store = s_walk_store (&rows, &other);
    uint8_t key[8];
    zhub_store_key_u64 (key, 512);
    s_visit_t visit = {.table = rows, .prefix = key, .prefix_size = 7};
    CHECK (zhub_store_read (store, s_visit, &visit) == ZHUB_OK);
    CHECK (visit.walked == ZHUB_OK);
    CHECK (visit.seen == 256 && visit.ordered && visit.last == 767);
    //  a prefix no key has: nothing visited, no error
    zhub_store_key_u64 (key, 5000);
    s_visit_t none = {.table = rows, .prefix = key, .prefix_size = 7};
    CHECK (zhub_store_read (store, s_visit, &none) == ZHUB_OK);
    CHECK (none.walked == ZHUB_OK && none.seen == 0);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

static void
test_walk_stops_where_the_callback_says (void)
{
    zhub_table_t rows, other;
    zhub_store_t *store = s_walk_store (&rows, &other);
    s_visit_t visit = {.table = rows, .stop_at = 300};
    CHECK (zhub_store_read (store, s_visit, &visit) == ZHUB_OK);
    CHECK (visit.walked == ZHUB_OK);
    CHECK (visit.seen == 51 && visit.ordered && visit.last == 300);
    //  stopping on the very first entry
    s_visit_t first = {.table = rows, .stop_at = 250};
    CHECK (zhub_store_read (store, s_visit, &first) == ZHUB_OK);
    CHECK (first.seen == 1 && first.last == 250);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

static void
test_walk_of_an_empty_table_calls_nothing (void)
{
    zhub_table_t rows, other;
    zhub_store_t *store = s_walk_store (&rows, &other);
    s_visit_t visit = {.table = other};
    CHECK (zhub_store_read (store, s_visit, &visit) == ZHUB_OK);
    CHECK (visit.walked == ZHUB_OK && visit.seen == 0);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

static void
test_walk_failure_is_returned_and_writes_nothing (void)
{
    zhub_table_t rows, other;
    zhub_store_t *store = s_walk_store (&rows, &other);
    //  the callback fails part way: the walk stops there and returns
    //  ZHUB_ERROR, so the store aborts what the callback wrote before
    s_visit_t visit = {.table = rows, .copy = true, .other = other, .fail_at = 300};
    CHECK (zhub_store_write (store, s_visit, &visit) == ZHUB_ERROR);
    CHECK (visit.walked == ZHUB_ERROR);
    CHECK (visit.seen == 51 && visit.last == 300);
    s_visit_t copied = {.table = other};
    CHECK (zhub_store_read (store, s_visit, &copied) == ZHUB_OK);
    CHECK (copied.seen == 0);
    //  LMDB's own failure (no such table) is ZHUB_ERROR too, with no call
    s_visit_t bad = {.table = other + 1000};
    CHECK (zhub_store_read (store, s_visit, &bad) == ZHUB_ERROR);
    CHECK (bad.walked == ZHUB_ERROR && bad.seen == 0);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

static zhub_rc_t
s_put_then_fail (zhub_txn_t *txn, void *arg)
{
    zhub_table_t *table = arg;
    zhub_txn_put (txn, *table, "k", 1, "v", 1);
    return ZHUB_REJECT;
}

typedef struct {
    zhub_table_t table;
    zhub_rc_t rc;
    char value[16];
} s_get_t;

static zhub_rc_t
s_get (zhub_txn_t *txn, void *arg)
{
    s_get_t *get = arg;
    const void *value;
    size_t size;
    get->rc = zhub_txn_get (txn, get->table, "k", 1, &value, &size);
    if (get->rc == ZHUB_OK)
        snprintf (get->value, sizeof get->value, "%.*s", (int)size, (const char *)value);
    return ZHUB_OK;
}

static void
test_failed_callback_writes_nothing (void)
{
    s_fresh_dir ();
    zhub_store_config_t config = {.data_dir = s_dir, .process = "t"};
    zhub_store_t *store = zhub_store_open (&config, NULL, 0);
    zhub_table_t table;
    CHECK (zhub_store_table (store, "kv", &table) == 0);
    CHECK (zhub_store_write (store, s_put_then_fail, &table) == ZHUB_REJECT);
    s_get_t get = {.table = table};
    CHECK (zhub_store_read (store, s_get, &get) == ZHUB_OK);
    CHECK (get.rc == ZHUB_NOTFOUND);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

static void
test_full_map_grows_instead_of_failing (void)
{
    s_fresh_dir ();
    //  a 1 MiB map cannot hold 8 MiB: the store must grow it, not fail
    zhub_store_config_t config = {.data_dir = s_dir, .process = "t", .initial_map_size = 1 << 20};
    zhub_store_t *store = zhub_store_open (&config, NULL, 0);
    zhub_table_t table;
    CHECK (zhub_store_table (store, "big", &table) == 0);
    for (uint64_t batch = 0; batch < 8; batch++) {
        s_fill_t fill = {.table = table, .from = batch * 256, .count = 256, .value_size = 4096};
        CHECK (zhub_store_write (store, s_fill, &fill) == ZHUB_OK);
    }
    zhub_store_stats_t stats;
    zhub_store_stats (store, &stats);
    CHECK (stats.map_size >= 8u << 20);
    s_walk_t walk = {.table = table};
    CHECK (zhub_store_read (store, s_walk, &walk) == ZHUB_OK && walk.seen == 2048);
    zhub_store_destroy (&store);

    //  with a ceiling, a write that cannot fit fails cleanly (no crash) ...
    config.max_map_size = 16u << 20;
    config.initial_map_size = 16u << 20;
    store = zhub_store_open (&config, NULL, 0);
    CHECK (store != NULL);
    CHECK (zhub_store_table (store, "big", &table) == 0);
    s_fill_t huge = {.table = table, .from = 100000, .count = 8192, .value_size = 4096};
    CHECK (zhub_store_write (store, s_fill, &huge) == ZHUB_ERROR);
    //  ... and the store still works afterwards
    s_fill_t small = {.table = table, .from = 200000, .count = 1, .value_size = 8};
    CHECK (zhub_store_write (store, s_fill, &small) == ZHUB_OK);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

static zhub_rc_t
s_count_migration (zhub_txn_t *txn, uint32_t from, void *arg)
{
    (void)txn;
    int *calls = arg;
    calls[0]++;
    calls[1] = (int)from;
    return ZHUB_OK;
}

static void
test_schema_version_migrates_and_refuses_newer (void)
{
    s_fresh_dir ();
    int calls[2] = {0, -1};
    zhub_store_config_t config = {.data_dir = s_dir,
                                  .process = "t",
                                  .schema_version = 1,
                                  .migrate = s_count_migration,
                                  .migrate_arg = calls};
    zhub_store_t *store = zhub_store_open (&config, NULL, 0);
    CHECK (store && calls[0] == 1 && calls[1] == 0);
    zhub_store_destroy (&store);
    //  same version: no migration
    store = zhub_store_open (&config, NULL, 0);
    CHECK (store && calls[0] == 1);
    zhub_store_destroy (&store);
    //  newer code: migrates from 1
    config.schema_version = 2;
    store = zhub_store_open (&config, NULL, 0);
    CHECK (store && calls[0] == 2 && calls[1] == 1);
    zhub_store_destroy (&store);
    //  older code than the data: refused with a reason
    config.schema_version = 1;
    char err[256] = "";
    store = zhub_store_open (&config, err, sizeof err);
    CHECK (store == NULL);
    CHECK (strstr (err, "newer") != NULL);
    s_remove_dir ();
}

static void
test_data_survives_reopen (void)
{
    s_fresh_dir ();
    zhub_store_config_t config = {.data_dir = s_dir, .process = "p"};
    zhub_store_t *store = zhub_store_open (&config, NULL, 0);
    zhub_table_t table;
    CHECK (zhub_store_table (store, "log", &table) == 0);
    s_fill_t fill = {.table = table, .from = 1, .count = 10, .value_size = 16};
    CHECK (zhub_store_write (store, s_fill, &fill) == ZHUB_OK);
    zhub_store_destroy (&store);
    store = zhub_store_open (&config, NULL, 0);
    CHECK (zhub_store_table (store, "log", &table) == 0);
    s_walk_t walk = {.table = table};
    CHECK (zhub_store_read (store, s_walk, &walk) == ZHUB_OK && walk.seen == 10);
    char path[400];
    snprintf (path, sizeof path, "%s/p/data.mdb", s_dir);
    CHECK (access (path, F_OK) == 0);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

static zhub_rc_t
s_put_person (zhub_txn_t *txn, void *arg)
{
    zhub_table_t *tables = arg;
    const char *person = "{\"email\":\"ana@example.com\",\"phone\":\"+5215512345678\"}";
    if (zhub_txn_put (txn, tables[0], "p1", 2, person, strlen (person)) != ZHUB_OK)
        return ZHUB_ERROR;
    return zhub_txn_put (txn, tables[1], "k", 1, "kept", 4);
}

static zhub_rc_t
s_del_person (zhub_txn_t *txn, void *arg)
{
    zhub_table_t *tables = arg;
    return zhub_txn_del (txn, tables[0], "p1", 2);
}

static zhub_rc_t
s_check_kept (zhub_txn_t *txn, void *arg)
{
    zhub_table_t *tables = arg;
    const void *value;
    size_t size;
    if (zhub_txn_get (txn, tables[1], "k", 1, &value, &size) != ZHUB_OK || size != 4
        || memcmp (value, "kept", 4))
        return ZHUB_ERROR;
    return zhub_txn_get (txn, tables[0], "p1", 2, &value, &size) == ZHUB_NOTFOUND ? ZHUB_OK
                                                                                  : ZHUB_ERROR;
}

//  A deleted value stays in a freed page until compaction rewrites the file;
//  the tables keep working through the handles taken before.
static void
test_compact_removes_freed_bytes_and_keeps_tables (void)
{
    s_fresh_dir ();
    zhub_store_config_t config = {.data_dir = s_dir, .process = "erase"};
    char err[256], path[400];
    zhub_store_t *store = zhub_store_open (&config, err, sizeof err);
    CHECK (store != NULL);
    zhub_table_t tables[2];
    CHECK (zhub_store_table (store, "people", &tables[0]) == 0);
    CHECK (zhub_store_table (store, "other", &tables[1]) == 0);
    CHECK (zhub_store_write (store, s_put_person, tables) == ZHUB_OK);
    CHECK (zhub_store_write (store, s_del_person, tables) == ZHUB_OK);
    snprintf (path, sizeof path, "%s/erase/data.mdb", s_dir);
    CHECK (zhub_test_file_contains (path, "ana@example.com"));
    CHECK (zhub_store_compact (store, err, sizeof err) == 0);
    CHECK (!zhub_test_file_contains (path, "ana@example.com"));
    CHECK (!zhub_test_file_contains (path, "5215512345678"));
    CHECK (zhub_store_read (store, s_check_kept, tables) == ZHUB_OK);
    //  writes go on after the swap, and survive a reopen
    CHECK (zhub_store_write (store, s_put_person, tables) == ZHUB_OK);
    CHECK (zhub_store_write (store, s_del_person, tables) == ZHUB_OK);
    zhub_store_destroy (&store);
    store = zhub_store_open (&config, err, sizeof err);
    CHECK (store != NULL);
    CHECK (zhub_store_table (store, "people", &tables[0]) == 0);
    CHECK (zhub_store_table (store, "other", &tables[1]) == 0);
    CHECK (zhub_store_read (store, s_check_kept, tables) == ZHUB_OK);
    snprintf (path, sizeof path, "%s/erase/compact.tmp", s_dir);
    CHECK (access (path, F_OK) != 0);
    zhub_store_destroy (&store);
    s_remove_dir ();
}

static zhub_rc_t
s_count_people (zhub_txn_t *txn, void *arg)
{
    zhub_table_t *tables = arg;
    return zhub_txn_count (txn, tables[0]) == 1 ? ZHUB_OK : ZHUB_NOTFOUND;
}

//  Group commit: nested writes see each other, a failed one leaves the
//  batch intact, nothing is durable before the commit, and a full map in
//  the middle of a batch grows it instead of failing.
static void
test_batch_commits_many_writes_at_once (void)
{
    s_fresh_dir ();
    zhub_store_config_t config = {.data_dir = s_dir,
                                  .process = "batch",
                                  .initial_map_size = 1 << 20,
                                  .max_map_size = 64 << 20};
    char err[256];
    zhub_store_t *store = zhub_store_open (&config, err, sizeof err);
    zhub_table_t tables[2];
    CHECK (zhub_store_table (store, "people", &tables[0]) == 0);
    CHECK (zhub_store_table (store, "other", &tables[1]) == 0);
    CHECK (zhub_store_batch_begin (store) == 0);
    CHECK (zhub_store_batch_begin (store) == -1);
    CHECK (zhub_store_write (store, s_put_person, tables) == ZHUB_OK);
    CHECK (zhub_store_read (store, s_check_kept, tables) == ZHUB_ERROR); //  p1 is there
    CHECK (zhub_store_read (store, s_count_people, tables) == ZHUB_OK);
    CHECK (zhub_store_write (store, s_put_then_fail, &tables[1]) == ZHUB_REJECT);
    //  never committed: gone after a "crash"
    zhub_store_destroy (&store);
    store = zhub_store_open (&config, err, sizeof err);
    CHECK (zhub_store_table (store, "people", &tables[0]) == 0);
    CHECK (zhub_store_table (store, "other", &tables[1]) == 0);
    CHECK (zhub_store_read (store, s_count_people, tables) == ZHUB_NOTFOUND);
    //  committed: there after a reopen, with a map growth in the middle
    CHECK (zhub_store_batch_begin (store) == 0);
    CHECK (zhub_store_write (store, s_put_person, tables) == ZHUB_OK);
    s_fill_t fill = {.table = tables[1], .from = 0, .count = 200, .value_size = 8192};
    for (int i = 0; i < 4; i++) {
        fill.from = (uint64_t)i * 200;
        CHECK (zhub_store_write (store, s_fill, &fill) == ZHUB_OK);
    }
    CHECK (zhub_store_batch_commit (store) == ZHUB_OK);
    CHECK (zhub_store_batch_commit (store) == ZHUB_ERROR);
    zhub_store_destroy (&store);
    store = zhub_store_open (&config, err, sizeof err);
    CHECK (zhub_store_table (store, "people", &tables[0]) == 0);
    CHECK (zhub_store_table (store, "other", &tables[1]) == 0);
    CHECK (zhub_store_read (store, s_count_people, tables) == ZHUB_OK);
    s_walk_t walk = {.table = tables[1]};
    CHECK (zhub_store_read (store, s_walk, &walk) == ZHUB_OK);
    CHECK (walk.seen == 800 + 1); //  the fills and s_put_person's "k"
    zhub_store_destroy (&store);
    s_remove_dir ();
}

static void
test_open_fails_cleanly_on_unusable_dir (void)
{
    zhub_store_config_t config = {.data_dir = "/proc/zhub-no-such", .process = "p"};
    char err[256] = "";
    CHECK (zhub_store_open (&config, err, sizeof err) == NULL);
    CHECK (err[0] != 0);
    zhub_store_t *none = NULL;
    zhub_store_destroy (&none);
}

int
main (void)
{
    RUN (test_integer_keys_walk_in_numeric_order);
    RUN (test_delete_where_drops_what_the_predicate_names_and_counts_it);
    RUN (test_walk_visits_every_entry_once_in_key_order);
    RUN (test_walk_with_a_prefix_sees_only_its_keys);
    RUN (test_walk_stops_where_the_callback_says);
    RUN (test_walk_of_an_empty_table_calls_nothing);
    RUN (test_walk_failure_is_returned_and_writes_nothing);
    RUN (test_failed_callback_writes_nothing);
    RUN (test_full_map_grows_instead_of_failing);
    RUN (test_schema_version_migrates_and_refuses_newer);
    RUN (test_data_survives_reopen);
    RUN (test_get_copy_reads_one_value_or_says_notfound);
    RUN (test_compact_removes_freed_bytes_and_keeps_tables);
    RUN (test_batch_commits_many_writes_at_once);
    RUN (test_open_fails_cleanly_on_unusable_dir);
    TEST_EXIT ();
}
