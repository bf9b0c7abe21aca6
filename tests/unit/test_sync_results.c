//  Sync run results: the record's codec and key (pure), the retention
//  rule, and the table in a real LMDB store — kept, listed newest first,
//  pruned by age and by count, read back through the read-only side.
#include "zhub_common.h"
#include "zhub_metrics.h"
#include "zhub_sync_results.h"
#include "zhub_test.h"
#include "zhub_test_store.h"

#include <stdlib.h>
#include <string.h>

static zhub_sync_result_t
s_sample (int64_t started_ms)
{
    zhub_sync_result_t r;
    zhub_sync_result_init (&r, "contact-sync", "batch", started_ms);
    snprintf (r.run, sizeof r.run, "tick-1");
    r.duration_ms = 42;
    r.processed = 10;
    r.created = 4;
    r.updated = 3;
    r.skipped = 1;
    r.failed = 1;
    r.deferred = 1;
    r.conflicts_detected = 2;
    r.conflicts_resolved = 1;
    snprintf (r.note, sizeof r.note, "HubSpot answered 503");
    return r;
}

static void
test_record_round_trips_through_its_json ()
{
    zhub_sync_result_t r = s_sample (1700000000123), back;
    char *text = zhub_sync_result_encode (&r);
    CHECK (text != NULL);
    CHECK (zhub_sync_result_decode (text, strlen (text), &back) == 0);
    CHECK_STR (back.actor, "contact-sync");
    CHECK_STR (back.kind, "batch");
    CHECK_STR (back.run, "tick-1");
    CHECK_STR (back.note, "HubSpot answered 503");
    CHECK (back.started_ms == 1700000000123 && back.duration_ms == 42);
    CHECK (back.processed == 10 && back.created == 4 && back.updated == 3 && back.skipped == 1
           && back.failed == 1 && back.deferred == 1);
    CHECK (back.conflicts_detected == 2 && back.conflicts_resolved == 1);
    CHECK (back.complete);
    json_t *obj = json_loads (text, 0, NULL);
    CHECK_STR (json_string_value (json_object_get (obj, "started")), "2023-11-14T22:13:20.123Z");
    CHECK (json_integer_value (json_object_get (obj, "created")) == 4);
    json_decref (obj);
    free (text);
    r.complete = false;
    *r.note = 0;
    text = zhub_sync_result_encode (&r);
    CHECK (strstr (text, "note") == NULL);
    CHECK (zhub_sync_result_decode (text, strlen (text), &back) == 0 && !back.complete);
    free (text);
}

static void
test_decode_refuses_what_is_not_a_record ()
{
    zhub_sync_result_t back;
    const char *bad[] = {
        "not json",
        "[]",
        "{\"kind\":\"batch\",\"started_ms\":1,\"duration_ms\":1}",
        "{\"actor\":\"a\",\"started_ms\":1,\"duration_ms\":1}",
        //  a count missing, or negative, or not an integer
        "{\"actor\":\"a\",\"kind\":\"batch\",\"started_ms\":1,\"duration_ms\":1}",
        "{\"actor\":\"a\",\"kind\":\"batch\",\"started_ms\":1,\"duration_ms\":1,\"processed\":-1,"
        "\"created\":0,\"updated\":0,\"skipped\":0,\"failed\":0,\"deferred\":0,"
        "\"conflicts_detected\":0,\"conflicts_resolved\":0}",
        "{\"actor\":\"a\",\"kind\":\"batch\",\"started_ms\":1,\"duration_ms\":1,\"processed\":"
        "\"1\","
        "\"created\":0,\"updated\":0,\"skipped\":0,\"failed\":0,\"deferred\":0,"
        "\"conflicts_detected\":0,\"conflicts_resolved\":0}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset (&back, 0x5a, sizeof back);
        CHECK (zhub_sync_result_decode (bad[i], strlen (bad[i]), &back) == -1);
        CHECK (back.actor[0] == 0 && back.processed == 0);
    }
    const char *good =
        "{\"actor\":\"a\",\"kind\":\"batch\",\"started_ms\":1,\"duration_ms\":1,\"processed\":1,"
        "\"created\":1,\"updated\":0,\"skipped\":0,\"failed\":0,\"deferred\":0,"
        "\"conflicts_detected\":0,\"conflicts_resolved\":0}";
    CHECK (zhub_sync_result_decode (good, strlen (good), &back) == 0 && back.created == 1);
}

static void
test_keys_sort_as_runs_started ()
{
    zhub_sync_result_t early = s_sample (1000), late = s_sample (0x1000);
    char a[ZHUB_SYNC_RESULT_KEY_MAX + 1], b[ZHUB_SYNC_RESULT_KEY_MAX + 1],
        c[ZHUB_SYNC_RESULT_KEY_MAX + 1];
    CHECK (zhub_sync_result_key (&early, 7, a, sizeof a) > 0);
    CHECK (zhub_sync_result_key (&late, 0, b, sizeof b) > 0);
    CHECK (zhub_sync_result_key (&early, 8, c, sizeof c) > 0);
    CHECK_STR (a, "00000000000003e8|00000007|batch");
    CHECK (strcmp (a, b) < 0 && strcmp (a, c) < 0 && strcmp (c, b) < 0);
    CHECK (zhub_sync_result_key_ms (a, strlen (a)) == 1000);
    CHECK (zhub_sync_result_key_ms (b, strlen (b)) == 0x1000);
    CHECK (zhub_sync_result_key_ms ("nothex0000000000|x", 18) == -1);
    CHECK (zhub_sync_result_key_ms ("00000001", 8) == -1);
    char small[8];
    CHECK (zhub_sync_result_key (&early, 1, small, sizeof small) == -1);
}

static void
test_retention_drops_by_age_and_by_count ()
{
    zhub_sync_results_policy_t policy = {.max_age_ms = 1000, .max_count = 3};
    //  young and within the count: kept
    CHECK (!zhub_sync_results_drop (&policy, 9500, 3, 10000));
    //  older than the age
    CHECK (zhub_sync_results_drop (&policy, 8999, 1, 10000));
    CHECK (!zhub_sync_results_drop (&policy, 9000, 1, 10000));
    //  one too many, however young
    CHECK (zhub_sync_results_drop (&policy, 9999, 4, 10000));
    CHECK (!zhub_sync_results_drop (&policy, 9999, 0, 10000));
}

static size_t
s_count (zhub_store_t *store, zhub_table_t table)
{
    json_t *all = json_array ();
    CHECK (zhub_sync_results_list (store, table, 0, all) == ZHUB_OK);
    size_t n = json_array_size (all);
    json_decref (all);
    return n;
}

static void
test_table_keeps_lists_newest_first_and_prunes ()
{
    char dir[] = "/tmp/zhub-sync-results-XXXXXX", path[512], err[256];
    zhub_store_t *store = zhub_test_store_open (dir, "contact-sync", path, sizeof path);
    CHECK (store != NULL);
    if (!store)
        return;
    zhub_sync_results_policy_t policy = {.max_age_ms = 60000, .max_count = 3};
    zhub_sync_results_t results;
    CHECK (zhub_sync_results_open (&results, store, &policy) == 0);
    int64_t now = 10000000;
    //  two runs in the same millisecond both stay; the prune is not due yet
    //  after the first (mono 0 < after the first put's due time)
    for (int i = 0; i < 5; i++) {
        zhub_sync_result_t r = s_sample (now - 1000 + (i < 2 ? 0 : i));
        r.created = (uint64_t)i;
        CHECK (zhub_sync_results_put (&results, store, &r, now, i == 0 ? 0 : 1) == ZHUB_OK);
    }
    //  the first put pruned (due at start), the rest came before the next due time
    CHECK (s_count (store, results.table) == 5);
    json_t *list = json_array ();
    CHECK (zhub_sync_results_list (store, results.table, 2, list) == ZHUB_OK);
    CHECK (json_array_size (list) == 2);
    CHECK (json_integer_value (json_object_get (json_array_get (list, 0), "created")) == 4);
    CHECK (json_integer_value (json_object_get (json_array_get (list, 1), "created")) == 3);
    json_decref (list);
    size_t removed = 9;
    //  not due: nothing happens
    CHECK (zhub_sync_results_prune (&results, store, now, 2, &removed) == ZHUB_OK && removed == 0);
    CHECK (s_count (store, results.table) == 5);
    //  due: beyond the count, the oldest go (created 0 and 1: the same ms)
    CHECK (zhub_sync_results_prune (&results, store, now, ZHUB_SYNC_RESULTS_PRUNE_EVERY_MS + 1,
                                    &removed)
           == ZHUB_OK);
    CHECK (removed == 2);
    list = json_array ();
    CHECK (zhub_sync_results_list (store, results.table, 0, list) == ZHUB_OK);
    CHECK (json_array_size (list) == 3);
    CHECK (json_integer_value (json_object_get (json_array_get (list, 2), "created")) == 2);
    json_decref (list);
    //  later, all of them are older than the age
    CHECK (zhub_sync_results_prune (&results, store, now + 60000,
                                    3 * ZHUB_SYNC_RESULTS_PRUNE_EVERY_MS, &removed)
           == ZHUB_OK);
    CHECK (removed == 3 && s_count (store, results.table) == 0);
    zhub_store_destroy (&store);

    //  the read side: a store with no such actor, then the one above
    zhub_table_t table;
    CHECK (zhub_sync_results_open_readonly (dir, "deal-sync", &store, &table, err, sizeof err)
           == ZHUB_NOTFOUND);
    CHECK (store == NULL);
    CHECK (zhub_sync_results_open_readonly (dir, "contact-sync", &store, &table, err, sizeof err)
           == ZHUB_OK);
    CHECK (store && s_count (store, table) == 0);
    zhub_store_destroy (&store);
    zhub_test_remove_dir (dir);
}

static void
test_retention_settings_are_checked ()
{
    zhub_sync_results_policy_t policy;
    char err[256];
    unsetenv ("ZHUB_SYNC_RESULTS_RETENTION");
    unsetenv ("ZHUB_SYNC_RESULTS_MAX");
    CHECK (zhub_sync_results_config_load (&policy, err, sizeof err) == 0);
    CHECK (policy.max_age_ms == 7LL * 24 * 3600 * 1000 && policy.max_count == 10000);
    setenv ("ZHUB_SYNC_RESULTS_RETENTION", "2d", 1);
    setenv ("ZHUB_SYNC_RESULTS_MAX", "50", 1);
    CHECK (zhub_sync_results_config_load (&policy, err, sizeof err) == 0);
    CHECK (policy.max_age_ms == 2LL * 24 * 3600 * 1000 && policy.max_count == 50);
    setenv ("ZHUB_SYNC_RESULTS_RETENTION", "10s", 1);
    CHECK (zhub_sync_results_config_load (&policy, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_SYNC_RESULTS_RETENTION") != NULL);
    setenv ("ZHUB_SYNC_RESULTS_RETENTION", "1h", 1);
    setenv ("ZHUB_SYNC_RESULTS_MAX", "0", 1);
    CHECK (zhub_sync_results_config_load (&policy, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_SYNC_RESULTS_MAX") != NULL);
    unsetenv ("ZHUB_SYNC_RESULTS_RETENTION");
    unsetenv ("ZHUB_SYNC_RESULTS_MAX");
}

static void
test_metrics_count_each_outcome ()
{
    zhub_metrics_t *metrics = zhub_metrics_new ();
    zhub_sync_result_metrics_declare (metrics, "contact-sync");
    const char *created = "actor=\"contact-sync\",outcome=\"created\"";
    CHECK (zhub_metrics_value (metrics, "zhub_sync_records_total", created) == 0);
    char *text = zhub_metrics_render (metrics);
    CHECK (strstr (text, "zhub_sync_records_total{actor=\"contact-sync\",outcome=\"failed\"} 0"));
    free (text);
    zhub_sync_result_t r = s_sample (1);
    zhub_sync_result_metrics_record (metrics, &r);
    zhub_sync_result_metrics_record (metrics, &r);
    CHECK (zhub_metrics_value (metrics, "zhub_sync_records_total", created) == 8);
    CHECK (zhub_metrics_value (metrics, "zhub_sync_records_total",
                               "actor=\"contact-sync\",outcome=\"deferred\"")
           == 2);
    CHECK (zhub_metrics_value (metrics, "zhub_sync_conflicts_total",
                               "actor=\"contact-sync\",state=\"resolved\"")
           == 2);
    text = zhub_metrics_render (metrics);
    CHECK (strstr (text, "zhub_sync_run_seconds_count{actor=\"contact-sync\",kind=\"batch\"} 2"));
    free (text);
    zhub_metrics_destroy (&metrics);
}

int
main (void)
{
    RUN (test_record_round_trips_through_its_json);
    RUN (test_decode_refuses_what_is_not_a_record);
    RUN (test_keys_sort_as_runs_started);
    RUN (test_retention_drops_by_age_and_by_count);
    RUN (test_table_keeps_lists_newest_first_and_prunes);
    RUN (test_retention_settings_are_checked);
    RUN (test_metrics_count_each_outcome);
    TEST_EXIT ();
}
