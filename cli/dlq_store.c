//  `zhub dlq`: zhub-dead-letter's LMDB store, opened read-only through its
//  read side (dead_letter_store.h: the tables and keys are the actor's).
//  LMDB lets any number of readers in other processes work beside the one
//  writer, with snapshot isolation, so `list`, `show` and every --dry-run
//  work while the actor or the broker is down (docs/adr/0004).
#include "dlq.h"
#include "zhub_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dead_letter_store_t *
zhub_dlq_store_open (bool quiet)
{
    const char *data_dir = zhub_env_str ("ZHUB_DATA_DIR", "./.zhub-data");
    char err[512];
    dead_letter_store_t *store = dead_letter_store_open_readonly (data_dir, err, sizeof err);
    if (!store && !quiet)
        fprintf (stderr, "zhub dlq: %s (has zhub-dead-letter run with this ZHUB_DATA_DIR?)\n", err);
    return store;
}

int
zhub_dlq_load_one (dead_letter_store_t **store, const char *ref, dead_letter_t *dl)
{
    memset (dl, 0, sizeof *dl);
    if (!(*store = zhub_dlq_store_open (false)))
        return ZHUB_EXIT_NOTFOUND;
    zhub_rc_t rc = dead_letter_store_find (*store, ref, dl);
    if (rc == ZHUB_OK)
        return ZHUB_EXIT_OK;
    dead_letter_store_destroy (store);
    if (rc == ZHUB_NOTFOUND) {
        fprintf (stderr, "zhub dlq: no dead letter %s\n", ref);
        return ZHUB_EXIT_NOTFOUND;
    }
    fprintf (stderr, "zhub dlq: cannot read dead letter %s\n", ref);
    return ZHUB_EXIT_FAILURE;
}

//  -------------------------------------------------------------------
//  Selecting letters

void
zhub_dlq_print_header (void)
{
    printf ("%-6s %-19s %-16s %-34s %-5s %-7s %s\n", "ID", "DEAD AT (UTC)", "GROUP", "TOPIC",
            "CODE", "REPLAYS", "REASON");
}

void
zhub_dlq_print_row (const dead_letter_t *dl)
{
    char when[40];
    zhub_time_format (dl->dead_at_ms, when, sizeof when);
    when[19] = 0; //  seconds are enough in a table
    char reason[41];
    snprintf (reason, sizeof reason, "%s", dl->reason);
    for (char *p = reason; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    printf ("%-6llu %-19s %-16s %-34s %-5u %-7u %s\n", (unsigned long long)dl->seq, when, dl->group,
            dl->topic, dl->reason_code, dl->replays, reason);
}

bool
zhub_dlq_collect (const dead_letter_t *dl, void *arg)
{
    zhub_dlq_collect_t *collect = arg;
    if (collect->count == collect->size) {
        collect->size = collect->size ? collect->size * 2 : 64;
        collect->seqs = zhub_realloc (collect->seqs, collect->size * sizeof *collect->seqs);
    }
    collect->seqs[collect->count++] = dl->seq;
    if (collect->rows)
        json_array_append_new (collect->rows, dead_letter_to_json (dl, false));
    if (collect->table)
        zhub_dlq_print_row (dl);
    return collect->limit == 0 || (long)collect->count < collect->limit;
}

int
zhub_dlq_select (dead_letter_store_t *store, const dead_letter_filter_t *filter,
                 zhub_dlq_collect_t *collect)
{
    return dead_letter_store_each (store, filter, zhub_dlq_collect, collect) == ZHUB_OK ? 0 : -1;
}

void
zhub_dlq_print_json (const json_t *json)
{
    char *text = json_dumps (json, JSON_INDENT (2) | JSON_ENCODE_ANY);
    printf ("%s\n", text ? text : "null");
    free (text);
}
