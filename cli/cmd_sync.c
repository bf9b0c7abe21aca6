//  zhub sync results: what every sync run did — each reconciliation run
//  and batch flush of the actors that sync records (contact-sync): records
//  processed, created, updated, skipped, failed, deferred, conflicts
//  detected and resolved, duration — newest first.
//
//  Like `zhub audit` and `zhub dlq list` it opens the actors' LMDB
//  environments read-only beside the running actors (docs/adr/0004) and
//  reads them through the results table's read side
//  (actors/runtime/zhub_sync_results.h), which alone knows the table's
//  format. Each replica of an actor keeps its own environment: name each
//  one's data dir with --data-dir (repeatable); the runs are merged.
#include "cli.h"
#include "zhub_sync_results.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_DIRS 32

static const char *s_usage =
    "usage: zhub sync results [--json] [--limit N] [--data-dir DIR]...\n"
    "\n"
    "Shows the sync runs the actors recorded, newest first: every\n"
    "reconciliation run and every batch flush of HubSpot writes, with the\n"
    "records processed, created, updated, skipped, failed (dead-lettered),\n"
    "deferred (still queued: the peer failed for now), the conflicts detected\n"
    "and resolved, and how long the run took. Records are kept for\n"
    "$ZHUB_SYNC_RESULTS_RETENTION (default 7d), at most $ZHUB_SYNC_RESULTS_MAX.\n"
    "\n"
    "  --json          one JSON object {\"results\": [...]}, each run as an object\n"
    "  --limit N       the N newest runs only (default 50; 0 = all)\n"
    "  --data-dir DIR  the actors' data dir (default $ZHUB_DATA_DIR, else\n"
    "                  ./.zhub-data); repeat it for each replica's\n"
    "\n"
    "Exit codes: 0 shown (also when there are no runs), 1 a store could not\n"
    "be read, 2 bad arguments.\n";

static int
s_usage_error (const char *what)
{
    fprintf (stderr, "zhub sync: %s\n\n%s", what, s_usage);
    return ZHUB_EXIT_USAGE;
}

//  Appends the runs kept under data_dir to runs, each marked with its
//  data dir. 0 (also when an actor keeps none there), -1 on a store error.
static int
s_read_dir (const char *data_dir, json_t *runs)
{
    int rc = 0;
    for (size_t i = 0; i < zhub_sync_results_actor_count; i++) {
        zhub_store_t *store;
        zhub_table_t table;
        char err[256];
        zhub_rc_t found = zhub_sync_results_open_readonly (data_dir, zhub_sync_results_actors[i],
                                                           &store, &table, err, sizeof err);
        if (found == ZHUB_NOTFOUND)
            continue;
        if (found != ZHUB_OK) {
            fprintf (stderr, "zhub sync: %s/%s: %s\n", data_dir, zhub_sync_results_actors[i], err);
            rc = -1;
            continue;
        }
        json_t *list = json_array ();
        if (zhub_sync_results_list (store, table, 0, list) != ZHUB_OK) {
            fprintf (stderr, "zhub sync: %s/%s: cannot read the sync results\n", data_dir,
                     zhub_sync_results_actors[i]);
            rc = -1;
        }
        size_t k;
        json_t *run;
        json_array_foreach (list, k, run)
        {
            json_object_set_new (run, "data_dir", json_string (data_dir));
            json_array_append (runs, run);
        }
        json_decref (list);
        zhub_store_destroy (&store);
    }
    return rc;
}

static int
s_newest_first (const void *a, const void *b)
{
    json_int_t ta = json_integer_value (json_object_get (*(json_t *const *)a, "started_ms"));
    json_int_t tb = json_integer_value (json_object_get (*(json_t *const *)b, "started_ms"));
    return ta < tb ? 1 : ta > tb ? -1 : 0;
}

static long long
s_n (const json_t *run, const char *key)
{
    return (long long)json_integer_value (json_object_get (run, key));
}

static void
s_print (const json_t *run)
{
    const char *note = json_string_value (json_object_get (run, "note"));
    printf ("%-24s %-12s %-9s %9lld %7lld %7lld %7lld %6lld %8lld %5lld/%-5lld %7lld%s%s%s\n",
            json_string_value (json_object_get (run, "started")),
            json_string_value (json_object_get (run, "actor")),
            json_string_value (json_object_get (run, "kind")), s_n (run, "processed"),
            s_n (run, "created"), s_n (run, "updated"), s_n (run, "skipped"), s_n (run, "failed"),
            s_n (run, "deferred"), s_n (run, "conflicts_detected"), s_n (run, "conflicts_resolved"),
            s_n (run, "duration_ms"),
            json_is_false (json_object_get (run, "complete")) ? "  incomplete" : "",
            note ? "  " : "", note ? note : "");
}

static int
s_results (int argc, char **argv)
{
    bool json = false;
    long long limit = 50;
    const char *dirs[S_MAX_DIRS];
    size_t dir_count = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        } else if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--limit") && i + 1 < argc) {
            char *end;
            limit = strtoll (argv[++i], &end, 10);
            if (!*argv[i] || *end || limit < 0)
                return s_usage_error ("--limit needs a whole number, 0 or more");
        } else if (!strcmp (argv[i], "--data-dir") && i + 1 < argc) {
            if (dir_count == S_MAX_DIRS)
                return s_usage_error ("too many --data-dir");
            dirs[dir_count++] = argv[++i];
        } else if (argv[i][0] == '-') {
            char what[128];
            snprintf (what, sizeof what, "unknown option %s", argv[i]);
            return s_usage_error (what);
        } else
            return s_usage_error ("unexpected argument");
    }
    if (!dir_count) {
        const char *data_dir = getenv ("ZHUB_DATA_DIR");
        dirs[dir_count++] = data_dir && *data_dir ? data_dir : "./.zhub-data";
    }
    json_t *runs = json_array ();
    int rc = ZHUB_EXIT_OK;
    for (size_t i = 0; i < dir_count; i++)
        if (s_read_dir (dirs[i], runs))
            rc = ZHUB_EXIT_FAILURE;
    size_t count = json_array_size (runs);
    json_t **sorted = calloc (count ? count : 1, sizeof *sorted);
    for (size_t i = 0; i < count; i++)
        sorted[i] = json_array_get (runs, i);
    qsort (sorted, count, sizeof *sorted, s_newest_first);
    if (limit && (size_t)limit < count)
        count = (size_t)limit;
    if (json) {
        json_t *list = json_array ();
        for (size_t i = 0; i < count; i++)
            json_array_append (list, sorted[i]);
        json_t *root = json_pack ("{s:o}", "results", list);
        char *text = json_dumps (root, JSON_COMPACT);
        puts (text);
        free (text);
        json_decref (root);
    } else if (!count)
        printf ("no sync runs recorded yet\n");
    else {
        printf ("%-24s %-12s %-9s %9s %7s %7s %7s %6s %8s %11s %7s\n", "STARTED", "ACTOR", "KIND",
                "PROCESSED", "CREATED", "UPDATED", "SKIPPED", "FAILED", "DEFERRED", "CONFLICTS",
                "MS");
        for (size_t i = 0; i < count; i++)
            s_print (sorted[i]);
    }
    free (sorted);
    json_decref (runs);
    return rc;
}

int
zhub_cmd_sync (int argc, char **argv)
{
    if (argc >= 2 && (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h"))) {
        fputs (s_usage, stdout);
        return ZHUB_EXIT_OK;
    }
    if (argc < 2 || strcmp (argv[1], "results"))
        return s_usage_error ("expected: sync results");
    return s_results (argc - 1, argv + 1);
}
