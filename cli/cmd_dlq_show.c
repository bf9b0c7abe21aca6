//  `zhub dlq list` and `zhub dlq show`: reads only, straight from
//  zhub-dead-letter's store (dlq_store.c), so they answer during an
//  incident with the broker or the actor down.
#include "dlq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
zhub_dlq_list (zhub_dlq_args_t *args)
{
    dead_letter_store_t *store = NULL;
    zhub_dlq_collect_t collect = {.limit = args->limit};
    if (!(store = zhub_dlq_store_open (true))) {
        //  No store yet: nothing was ever dead-lettered here.
        if (args->json)
            printf ("[]\n");
        else
            fprintf (stderr, "no dead letters (no dead-letter store yet)\n");
        return ZHUB_EXIT_OK;
    }
    if (args->json)
        collect.rows = json_array ();
    else {
        collect.table = true;
        zhub_dlq_print_header ();
    }
    int rc = zhub_dlq_select (store, &args->filter, &collect);
    if (args->json)
        zhub_dlq_print_json (collect.rows);
    else if (collect.count == 0)
        fprintf (stderr, "no dead letters match\n");
    json_decref (collect.rows);
    free (collect.seqs);
    dead_letter_store_destroy (&store);
    return rc ? ZHUB_EXIT_FAILURE : ZHUB_EXIT_OK;
}

int
zhub_dlq_show (zhub_dlq_args_t *args)
{
    if (args->positional_count != 1) {
        fprintf (stderr, "usage: zhub dlq show ID [--json]\n");
        return ZHUB_EXIT_USAGE;
    }
    dead_letter_store_t *store = NULL;
    dead_letter_t dl;
    int rc = zhub_dlq_load_one (&store, args->positional[0], &dl);
    if (rc)
        return rc;
    json_t *json = dead_letter_to_json (&dl, true);
    if (args->json)
        zhub_dlq_print_json (json);
    else {
        const char *keys[] = {"id",          "dlq_id",  "group",          "topic",
                              "original_id", "subject", "cause",          "reason_code",
                              "reason",      "dead_at", "stored_at",      "offset",
                              "revision",    "replays", "last_replay_id", "last_replay_at"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            json_t *value = json_object_get (json, keys[i]);
            char *text = json_is_string (value) ? zhub_strdup (json_string_value (value))
                                                : json_dumps (value, JSON_ENCODE_ANY);
            printf ("%-15s %s\n", keys[i], text ? text : "");
            free (text);
        }
        printf ("\nfailure history (oldest first):\n");
        size_t i;
        json_t *attempt;
        json_array_foreach (json_object_get (json, "attempts"), i, attempt)
        {
            const char *reason = json_string_value (json_object_get (attempt, "reason"));
            const char *time = json_string_value (json_object_get (attempt, "time"));
            printf ("  %zu. %s  code %lld  %s\n", i + 1, time ? time : "?",
                    (long long)json_integer_value (json_object_get (attempt, "code")),
                    reason ? reason : "");
        }
        printf ("\nmessage%s:\n", dl.revision ? " (edited)" : "");
        zhub_dlq_print_json (json_object_get (json, "message"));
    }
    json_decref (json);
    dead_letter_clear (&dl);
    dead_letter_store_destroy (&store);
    return ZHUB_EXIT_OK;
}
