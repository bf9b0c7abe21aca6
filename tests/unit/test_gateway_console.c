//  The console's data: the ZHUB_CONSOLE_PROCESSES syntax, what it reads in
//  a Prometheus exposition (breakers, errors, latency percentiles, the
//  gateway's request counters), the quantile arithmetic, and the recent
//  decisions read from a contact-sync audit table in a real LMDB store, and
//  the latest sync results read from contact-sync's results table.
#include "console_data.h"
#include "console_parse.h"
#include "zhub_store.h"
#include "zhub_sync_results.h"
#include "zhub_test.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static void
test_process_list_parses_names_and_addresses (void)
{
    zhub_console_targets_t targets;
    char err[256];
    CHECK (zhub_console_targets_parse (NULL, &targets, err, sizeof err) == 0 && !targets.count);
    CHECK (zhub_console_targets_parse ("  ", &targets, err, sizeof err) == 0 && !targets.count);
    CHECK (zhub_console_targets_parse (" contact-sync=127.0.0.1:9101 , dead-letter=[::1]:9105",
                                       &targets, err, sizeof err)
           == 0);
    CHECK (targets.count == 2);
    CHECK_STR (targets.items[0].name, "contact-sync");
    CHECK_STR (targets.items[0].address.host, "127.0.0.1");
    CHECK (targets.items[0].address.port == 9101);
    CHECK_STR (targets.items[1].address.host, "::1");
}

static void
test_process_list_refuses_what_it_cannot_probe (void)
{
    zhub_console_targets_t targets;
    char err[256];
    const char *bad[] = {"contact-sync",        "=127.0.0.1:1",     "a=127.0.0.1",
                         "a=127.0.0.1:0",       "a b=127.0.0.1:1",  "a=127.0.0.1:1,,b=x:2",
                         "a=127.0.0.1:1,a=x:2", "a=127.0.0.1:99999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        CHECK (zhub_console_targets_parse (bad[i], &targets, err, sizeof err) == -1);
        CHECK (strstr (err, "ZHUB_CONSOLE_PROCESSES") != NULL);
    }
}

static void
test_quantile_interpolates_within_the_bucket (void)
{
    double bounds[] = {0.1, 0.5, 1.0, INFINITY};
    double counts[] = {50, 90, 100, 100};
    CHECK (fabs (zhub_console_quantile (bounds, counts, 4, 0.5) - 0.1) < 1e-9);
    //  rank 95: halfway through (0.5, 1.0]
    CHECK (fabs (zhub_console_quantile (bounds, counts, 4, 0.95) - 0.75) < 1e-9);
    double over[] = {0, 0, 1, 3}; //  most observations past the last finite bound
    CHECK (fabs (zhub_console_quantile (bounds, over, 4, 0.99) - 1.0) < 1e-9);
    double none[] = {0, 0, 0, 0};
    CHECK (zhub_console_quantile (bounds, none, 4, 0.5) < 0);
}

static const char *s_actor_text =
    "# HELP zhub_actor_ready 1 when the actor is ready and joined its group.\n"
    "# TYPE zhub_actor_ready gauge\n"
    "zhub_actor_ready 1\n"
    "zhub_actor_outbox_pending 3\n"
    "zhub_actor_messages_total{route=\"webhook.bird.>\",outcome=\"ok\"} 7\n"
    "zhub_actor_messages_total{route=\"contact.reconcile\",outcome=\"ok\"} 2\n"
    "zhub_actor_messages_total{route=\"webhook.bird.>\",outcome=\"rejected\"} 1\n"
    "zhub_actor_http_requests_total{peer=\"api.hubapi.com\",class=\"2xx\"} 10\n"
    "zhub_actor_http_requests_total{peer=\"api.hubapi.com\",class=\"5xx\"} 4\n"
    "zhub_actor_http_requests_total{peer=\"api.hubapi.com\",class=\"transport\"} 1\n"
    "zhub_actor_breaker_open{peer=\"api.hubapi.com\"} 1\n"
    "zhub_actor_breaker_open{peer=\"api.bird.com\"} 0\n"
    "zhub_actor_peer_budget_remaining{peer=\"api.hubapi.com\"} 95\n"
    "zhub_actor_peer_budget_max{peer=\"api.hubapi.com\"} 100\n"
    "zhub_actor_peer_last_error_status{peer=\"api.hubapi.com\"} 503\n"
    "zhub_actor_peer_last_error_seconds{peer=\"api.hubapi.com\"} 1700000000.5\n"
    "zhub_actor_sync_latency_seconds_bucket{route=\"a\",le=\"0.1\"} 4\n"
    "zhub_actor_sync_latency_seconds_bucket{route=\"a\",le=\"1\"} 5\n"
    "zhub_actor_sync_latency_seconds_bucket{route=\"a\",le=\"+Inf\"} 5\n"
    "zhub_actor_sync_latency_seconds_count{route=\"a\"} 5\n"
    "zhub_actor_sync_latency_seconds_bucket{route=\"b\",le=\"0.1\"} 4\n"
    "zhub_actor_sync_latency_seconds_bucket{route=\"b\",le=\"1\"} 5\n"
    "zhub_actor_sync_latency_seconds_bucket{route=\"b\",le=\"+Inf\"} 5\n"
    "zhub_actor_sync_latency_seconds_count{route=\"b\"} 5\n"
    "broken{line 3\n"
    "zhub_actor_breaker_open{peer=\"quote\\\"d\"} 0\n";

static void
test_metrics_summary_reads_health_breakers_and_latency (void)
{
    json_t *s = zhub_console_metrics_summary (s_actor_text);
    CHECK (json_is_true (json_object_get (s, "ready")));
    CHECK (json_number_value (json_object_get (s, "outbox_pending")) == 3);
    json_t *messages = json_object_get (s, "messages");
    CHECK (json_number_value (json_object_get (messages, "ok")) == 9);
    CHECK (json_number_value (json_object_get (messages, "rejected")) == 1);
    json_t *hubspot = json_object_get (json_object_get (s, "peers"), "api.hubapi.com");
    CHECK (json_is_true (json_object_get (hubspot, "breaker_open")));
    CHECK (json_number_value (json_object_get (hubspot, "errors")) == 5);
    CHECK (json_number_value (json_object_get (json_object_get (hubspot, "calls"), "2xx")) == 10);
    CHECK (json_number_value (json_object_get (hubspot, "budget_remaining")) == 95);
    CHECK (json_number_value (json_object_get (hubspot, "last_error_status")) == 503);
    CHECK (json_number_value (json_object_get (hubspot, "last_error_ms")) == 1700000000500.0);
    json_t *bird = json_object_get (json_object_get (s, "peers"), "api.bird.com");
    CHECK (json_is_false (json_object_get (bird, "breaker_open")));
    CHECK (json_number_value (json_object_get (bird, "errors")) == 0);
    CHECK (json_object_get (json_object_get (s, "peers"), "quote\"d") != NULL);
    json_t *latency = json_object_get (s, "sync_latency");
    CHECK (json_number_value (json_object_get (latency, "count")) == 10);
    //  8 of 10 within 0.1 s over both routes: the median is inside the first bucket
    CHECK (fabs (json_number_value (json_object_get (latency, "p50")) - 0.0625) < 1e-9);
    CHECK (fabs (json_number_value (json_object_get (latency, "p95")) - 0.775) < 1e-9);
    json_decref (s);
}

static void
test_metrics_summary_reads_the_gateway_requests (void)
{
    json_t *s = zhub_console_metrics_summary (
        "zhub_gateway_requests_total{source=\"hubspot\",status=\"200\"} 2\n"
        "zhub_gateway_requests_total{source=\"hubspot\",status=\"401\"} 1\n"
        "zhub_gateway_requests_total{source=\"bird\",status=\"200\"} 5");
    json_t *requests = json_object_get (s, "requests");
    CHECK (json_number_value (json_object_get (json_object_get (requests, "hubspot"), "200")) == 2);
    CHECK (json_number_value (json_object_get (json_object_get (requests, "hubspot"), "401")) == 1);
    CHECK (json_number_value (json_object_get (json_object_get (requests, "bird"), "200")) == 5);
    CHECK (json_object_get (s, "sync_latency") == NULL); //  no histogram, no percentiles
    json_decref (s);
}

typedef struct {
    zhub_table_t audit;
} s_fill_t;

static zhub_rc_t
s_fill (zhub_txn_t *txn, void *arg)
{
    s_fill_t *fill = arg;
    char key[128], value[256];
    //  60 decisions over 3 contacts; times 1000 + i ms, so the newest are i = 59, 58 ...
    for (int i = 0; i < 60; i++) {
        snprintf (key, sizeof key, "b-%d|%016llx|evt-%d|0", i % 3, 1000ULL + (unsigned)i, i);
        snprintf (value, sizeof value,
                  "{\"field\":\"f%d\",\"old\":\"a\",\"new\":\"b\",\"winner\":\"bird\"}", i);
        if (zhub_txn_put (txn, fill->audit, key, strlen (key), value, strlen (value)) != ZHUB_OK)
            return ZHUB_ERROR;
    }
    //  a tombstone (an erased person's trail) is not a decision to show
    const char *tomb = "erased:req-1|00000000000fffff|evt-x|0";
    const char *tomb_value = "{\"field\":\"gone\"}";
    return zhub_txn_put (txn, fill->audit, tomb, strlen (tomb), tomb_value, strlen (tomb_value));
}

static void
test_decisions_are_the_newest_audit_entries (void)
{
    char dir[] = "/tmp/zhub-console-test-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    zhub_console_config_t config = {.broker = "tcp://127.0.0.1:1", .data_dir = dir};
    zhub_console_t *console = zhub_console_new (&config);
    json_t *none = zhub_console_decisions (console);
    CHECK (json_is_false (json_object_get (none, "available")));
    json_decref (none);

    char err[256];
    zhub_store_config_t store_config = {.data_dir = dir, .process = "contact-sync"};
    zhub_store_t *store = zhub_store_open (&store_config, err, sizeof err);
    CHECK (store != NULL);
    s_fill_t fill;
    CHECK (zhub_store_table (store, "audit", &fill.audit) == 0);
    CHECK (zhub_store_write (store, s_fill, &fill) == ZHUB_OK);
    zhub_store_destroy (&store);

    json_t *got = zhub_console_decisions (console);
    CHECK (json_is_true (json_object_get (got, "available")));
    json_t *decisions = json_object_get (got, "decisions");
    CHECK (json_array_size (decisions) == ZHUB_CONSOLE_DECISIONS_MAX);
    CHECK_STR (json_string_value (json_object_get (json_array_get (decisions, 0), "field")), "f59");
    CHECK_STR (json_string_value (json_object_get (json_array_get (decisions, 1), "field")), "f58");
    CHECK_STR (json_string_value (json_object_get (
                   json_array_get (decisions, ZHUB_CONSOLE_DECISIONS_MAX - 1), "field")),
               "f10");
    json_decref (got);
    zhub_console_destroy (&console);
    char command[128];
    snprintf (command, sizeof command, "rm -rf %s", dir);
    CHECK (system (command) == 0);
}

static void
test_sync_results_are_the_newest_runs (void)
{
    char dir[] = "/tmp/zhub-console-test-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    zhub_console_config_t config = {.broker = "tcp://127.0.0.1:1", .data_dir = dir};
    zhub_console_t *console = zhub_console_new (&config);
    json_t *none = zhub_console_sync_results (console);
    CHECK (json_is_false (json_object_get (none, "available")));
    CHECK (json_array_size (json_object_get (none, "results")) == 0);
    json_decref (none);

    //  contact-sync keeps 30 runs, started 1000 + i s; the newest are i = 29, 28 ...
    char err[256];
    zhub_store_config_t store_config = {.data_dir = dir, .process = "contact-sync"};
    zhub_store_t *store = zhub_store_open (&store_config, err, sizeof err);
    CHECK (store != NULL);
    zhub_sync_results_policy_t policy = {.max_age_ms = ZHUB_SYNC_RESULTS_MAX_AGE_DEFAULT_MS,
                                         .max_count = ZHUB_SYNC_RESULTS_MAX_COUNT_DEFAULT};
    zhub_sync_results_t results;
    CHECK (zhub_sync_results_open (&results, store, &policy) == 0);
    int64_t now = zhub_now_ms ();
    for (int i = 0; i < 30; i++) {
        zhub_sync_result_t r;
        zhub_sync_result_init (&r, "contact-sync", i % 2 ? "batch" : "reconcile",
                               now - 60000 + i * 1000);
        r.processed = (uint64_t)i;
        r.created = 1;
        r.complete = true;
        CHECK (zhub_sync_results_put (&results, store, &r, now, 1) == ZHUB_OK);
    }
    zhub_store_destroy (&store);

    json_t *got = zhub_console_sync_results (console);
    CHECK (json_is_true (json_object_get (got, "available")));
    json_t *runs = json_object_get (got, "results");
    CHECK (json_array_size (runs) == ZHUB_CONSOLE_RESULTS_MAX);
    json_t *first = json_array_get (runs, 0);
    CHECK (json_integer_value (json_object_get (first, "processed")) == 29);
    CHECK_STR (json_string_value (json_object_get (first, "kind")), "batch");
    CHECK_STR (json_string_value (json_object_get (first, "actor")), "contact-sync");
    CHECK (json_integer_value (json_object_get (first, "created")) == 1);
    CHECK (json_integer_value (json_object_get (json_array_get (runs, 1), "processed")) == 28);
    CHECK (json_integer_value (
               json_object_get (json_array_get (runs, ZHUB_CONSOLE_RESULTS_MAX - 1), "processed"))
           == 30 - ZHUB_CONSOLE_RESULTS_MAX);
    json_decref (got);
    zhub_console_destroy (&console);
    char command[128];
    snprintf (command, sizeof command, "rm -rf %s", dir);
    CHECK (system (command) == 0);
}

int
main (void)
{
    RUN (test_process_list_parses_names_and_addresses);
    RUN (test_process_list_refuses_what_it_cannot_probe);
    RUN (test_quantile_interpolates_within_the_bucket);
    RUN (test_metrics_summary_reads_health_breakers_and_latency);
    RUN (test_metrics_summary_reads_the_gateway_requests);
    RUN (test_decisions_are_the_newest_audit_entries);
    RUN (test_sync_results_are_the_newest_runs);
    TEST_EXIT ();
}
