//  `zhub dlq replay`: republishes dead letters to their original topics.
//  The replay itself is a command zhub-dead-letter applies (it builds the
//  replay, records it and publishes it from its outbox in one
//  transaction); the running actor then handles the message again under
//  the mapping it read at start — that is the re-run after a mapping fix.
//
//  --dry-run publishes nothing: it shows the exact message a replay would
//  publish and what the letter's group would now do with it under the
//  current mapping (dlq_preview.h), so an operator who fixed the mapping
//  file sees the change before replaying.
#include "dlq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_dry_run (dead_letter_store_t *store, const uint64_t *seqs, size_t count,
           const zhub_dlq_args_t *args)
{
    zhub_dlq_mapping_t *mapping = zhub_dlq_mapping_new (args->mapping);
    json_t *rows = json_array ();
    for (size_t i = 0; i < count; i++) {
        dead_letter_t dl;
        if (dead_letter_store_get (store, seqs[i], &dl) != ZHUB_OK)
            continue;
        uint32_t generation = dead_letter_replay_generation (&dl, args->again);
        char err[256];
        zhub_msg_t *msg = dead_letter_replay_msg (&dl, generation, err, sizeof err);
        uint8_t *buf = NULL;
        size_t size;
        if (!msg)
            fprintf (stderr, "zhub dlq: %llu: %s\n", (unsigned long long)dl.seq, err);
        else if (zhub_msg_encode (msg, &buf, &size, err, sizeof err)) {
            fprintf (stderr, "zhub dlq: %llu: %s\n", (unsigned long long)dl.seq, err);
            buf = NULL;
        }
        if (buf) {
            bool collapses = generation == dl.replays;
            json_t *envelope = dead_letter_envelope_json (buf, size);
            json_t *preview = zhub_dlq_mapping_preview (mapping, dl.group, msg);
            json_array_append_new (
                rows, json_pack ("{s:I, s:s, s:b, s:o, s:o}", "id", (json_int_t)dl.seq, "replay_id",
                                 msg->id, "collapses", collapses, "message",
                                 envelope ? envelope : json_null (), "preview", preview));
            if (!args->json) {
                printf ("%llu: would publish %s to %s%s\n", (unsigned long long)dl.seq, msg->id,
                        msg->type,
                        collapses ? " (already replayed with this id: the broker's dedup will "
                                    "drop it; --again replays anew)"
                                  : "");
                if (count == 1)
                    zhub_dlq_print_json (envelope);
                char *text = zhub_dlq_preview_text (preview);
                fputs (text, stdout);
                free (text);
            }
            free (buf);
        }
        zhub_msg_destroy (&msg);
        dead_letter_clear (&dl);
    }
    if (args->json)
        zhub_dlq_print_json (rows);
    else
        printf ("(dry run: nothing was published)\n");
    json_decref (rows);
    zhub_dlq_mapping_destroy (&mapping);
    return ZHUB_EXIT_OK;
}

//  Publishes one replay command per letter, then waits for them.
static int
s_run (dead_letter_store_t *store, const zhub_dlq_collect_t *collect, const zhub_dlq_args_t *args)
{
    zhub_client_t *client = zhub_dlq_client ();
    if (!client)
        return ZHUB_EXIT_USAGE;
    int exit_code = ZHUB_EXIT_OK;
    char **ids = zhub_calloc (collect->count, sizeof *ids);
    char **results = zhub_calloc (collect->count, sizeof *results);
    size_t sent = 0;
    for (; sent < collect->count; sent++) {
        ids[sent] = zhub_dlq_command_id ("replay");
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, 2);
        zhub_mpack_pack_str (&pk, "letter");
        msgpack_pack_uint64 (&pk, collect->seqs[sent]);
        zhub_mpack_pack_str (&pk, "again");
        args->again ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
        exit_code = zhub_dlq_publish (client, DEAD_LETTER_CMD_REPLAY, ids[sent], &sbuf);
        msgpack_sbuffer_destroy (&sbuf);
        if (exit_code) {
            free (ids[sent]);
            ids[sent] = NULL;
            break;
        }
    }
    size_t applied =
        zhub_dlq_wait (store, collect->seqs, ids, sent, false, args->timeout_ms, results);
    json_t *rows = json_array ();
    for (size_t i = 0; i < sent; i++) {
        dead_letter_t dl;
        const char *replay_id = NULL;
        if (dead_letter_store_get (store, collect->seqs[i], &dl) == ZHUB_OK)
            replay_id = dl.last_replay_id;
        json_array_append_new (rows, json_pack ("{s:I, s:s?, s:s?, s:s}", "id",
                                                (json_int_t)collect->seqs[i], "result", results[i],
                                                "replay_id", results[i] ? replay_id : NULL,
                                                "command_id", ids[i]));
        if (!args->json) {
            if (results[i])
                printf ("%llu: %s%s%s\n", (unsigned long long)collect->seqs[i], results[i],
                        replay_id ? " as " : "", replay_id ? replay_id : "");
            else
                printf ("%llu: not applied yet (command %s queued)\n",
                        (unsigned long long)collect->seqs[i], ids[i]);
        }
        if (results[i] && strcmp (results[i], "replayed") && exit_code == ZHUB_EXIT_OK)
            exit_code = ZHUB_EXIT_FAILURE;
        dead_letter_clear (&dl);
    }
    if (args->json)
        zhub_dlq_print_json (rows);
    json_decref (rows);
    if (applied < sent) {
        fprintf (stderr,
                 "zhub dlq: %zu of %zu replay command(s) were not applied within the timeout; "
                 "is zhub-dead-letter running? They stay queued on the bus.\n",
                 sent - applied, sent);
        if (exit_code == ZHUB_EXIT_OK)
            exit_code = ZHUB_EXIT_FAILURE;
    }
    for (size_t i = 0; i < collect->count; i++) {
        free (ids[i]);
        free (results[i]);
    }
    free (ids);
    free (results);
    zhub_client_destroy (&client);
    return exit_code;
}

int
zhub_dlq_replay (zhub_dlq_args_t *args)
{
    bool by_filter = args->positional_count == 0;
    if (by_filter && !args->filter.group && !args->all) {
        fprintf (stderr, "usage: zhub dlq replay ID [--again] [--dry-run [--mapping FILE]]\n"
                         "       zhub dlq replay --group G [--since T] [--reason TEXT]\n");
        return ZHUB_EXIT_USAGE;
    }
    if (args->mapping && !args->dry_run) {
        fprintf (stderr, "zhub dlq: --mapping only changes what --dry-run shows; a replay is "
                         "handled under the mapping the actor read at start\n");
        return ZHUB_EXIT_USAGE;
    }
    dead_letter_store_t *store = NULL;
    zhub_dlq_collect_t collect = {0};
    if (by_filter) {
        if (!(store = zhub_dlq_store_open (false)))
            return ZHUB_EXIT_NOTFOUND;
        zhub_dlq_select (store, &args->filter, &collect);
        if (collect.count == 0) {
            fprintf (stderr, "zhub dlq: no dead letters match\n");
            dead_letter_store_destroy (&store);
            if (args->json)
                printf ("[]\n");
            return ZHUB_EXIT_OK;
        }
    } else {
        for (size_t i = 0; i < args->positional_count; i++) {
            dead_letter_t dl;
            int rc = zhub_dlq_load_one (&store, args->positional[i], &dl);
            if (rc) {
                free (collect.seqs);
                return rc;
            }
            zhub_dlq_collect (&dl, &collect);
            dead_letter_clear (&dl);
            dead_letter_store_destroy (&store);
        }
        if (!(store = zhub_dlq_store_open (false))) {
            free (collect.seqs);
            return ZHUB_EXIT_NOTFOUND;
        }
    }
    int exit_code = args->dry_run ? s_dry_run (store, collect.seqs, collect.count, args)
                                  : s_run (store, &collect, args);
    free (collect.seqs);
    dead_letter_store_destroy (&store);
    return exit_code;
}
