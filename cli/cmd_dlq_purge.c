//  `zhub dlq purge`: letters by number or by selector, sent to
//  zhub-dead-letter in commands of at most DEAD_LETTER_PURGE_BATCH letters;
//  done once they are gone from the store.
#include "dlq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
zhub_dlq_purge (zhub_dlq_args_t *args)
{
    bool by_filter = args->positional_count == 0;
    if (by_filter && !args->filter.group && !args->all && !args->filter.before_ms
        && !args->filter.reason && !args->filter.topic) {
        fprintf (stderr, "usage: zhub dlq purge (ID ... | --group G [--before T] | --all) "
                         "[--dry-run]\n");
        return ZHUB_EXIT_USAGE;
    }
    dead_letter_store_t *store = NULL;
    if (!(store = zhub_dlq_store_open (false)))
        return ZHUB_EXIT_NOTFOUND;
    zhub_dlq_collect_t collect = {0};
    int exit_code = ZHUB_EXIT_OK;
    if (by_filter)
        zhub_dlq_select (store, &args->filter, &collect);
    else
        for (size_t i = 0; i < args->positional_count; i++) {
            dead_letter_t dl;
            zhub_rc_t rc = dead_letter_store_find (store, args->positional[i], &dl);
            if (rc != ZHUB_OK) {
                fprintf (stderr, "zhub dlq: no dead letter %s\n", args->positional[i]);
                exit_code = ZHUB_EXIT_NOTFOUND;
                goto done;
            }
            zhub_dlq_collect (&dl, &collect);
            dead_letter_clear (&dl);
        }
    if (args->dry_run || collect.count == 0) {
        if (args->json) {
            json_t *ids = json_array ();
            for (size_t i = 0; i < collect.count; i++)
                json_array_append_new (ids, json_integer ((json_int_t)collect.seqs[i]));
            json_t *json = json_pack ("{s:o, s:b}", "would_purge", ids, "dry_run", true);
            zhub_dlq_print_json (json);
            json_decref (json);
        } else
            printf ("%s %zu dead letter(s)\n", args->dry_run ? "would purge" : "purged",
                    collect.count);
        goto done;
    }
    zhub_client_t *client = zhub_dlq_client ();
    if (!client) {
        exit_code = ZHUB_EXIT_USAGE;
        goto done;
    }
    char **results = zhub_calloc (collect.count, sizeof *results);
    for (size_t start = 0; start < collect.count && !exit_code; start += DEAD_LETTER_PURGE_BATCH) {
        size_t n = collect.count - start < DEAD_LETTER_PURGE_BATCH ? collect.count - start
                                                                   : DEAD_LETTER_PURGE_BATCH;
        char *id = zhub_dlq_command_id ("purge");
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, 1);
        zhub_mpack_pack_str (&pk, "letters");
        msgpack_pack_array (&pk, (uint32_t)n);
        for (size_t i = 0; i < n; i++)
            msgpack_pack_uint64 (&pk, collect.seqs[start + i]);
        exit_code = zhub_dlq_publish (client, DEAD_LETTER_CMD_PURGE, id, &sbuf);
        msgpack_sbuffer_destroy (&sbuf);
        free (id);
    }
    zhub_client_destroy (&client);
    size_t applied = 0;
    //  A purge is done when the letters are gone: no command ids to match.
    if (!exit_code)
        applied = zhub_dlq_wait (store, collect.seqs, NULL, collect.count, true, args->timeout_ms,
                                 results);
    if (!exit_code && applied < collect.count) {
        fprintf (stderr,
                 "zhub dlq: %zu of %zu not purged within the timeout; is "
                 "zhub-dead-letter running?\n",
                 collect.count - applied, collect.count);
        exit_code = ZHUB_EXIT_FAILURE;
    }
    if (args->json) {
        json_t *json = json_pack ("{s:I}", "purged", (json_int_t)applied);
        zhub_dlq_print_json (json);
        json_decref (json);
    } else if (!exit_code)
        printf ("purged %zu dead letter(s)\n", applied);
    for (size_t i = 0; i < collect.count; i++)
        free (results[i]);
    free (results);
done:
    free (collect.seqs);
    dead_letter_store_destroy (&store);
    return exit_code;
}
