//  `zhub dlq edit`: changes the message a dead letter will replay. The CLI
//  computes the edited envelope itself (so --dry-run shows the exact
//  change, and what the letter's group would do with the edited message
//  under the current mapping) and sends it whole with the revision it was
//  based on; zhub-dead-letter refuses a stale one (docs/adr/0004).
#include "dlq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FILE_MAX (1u << 20)

//  Reads a file ("-": stdin) of at most S_FILE_MAX bytes. 0 or -1.
static int
s_read_file (const char *path, char **text, size_t *size)
{
    FILE *file = !strcmp (path, "-") ? stdin : fopen (path, "rb");
    if (!file)
        return -1;
    size_t cap = 4096, used = 0;
    char *buf = zhub_malloc (cap);
    size_t n;
    while ((n = fread (buf + used, 1, cap - used, file)) > 0) {
        used += n;
        if (used == cap)
            buf = zhub_realloc (buf, cap *= 2);
        if (used > S_FILE_MAX)
            break;
    }
    if (file != stdin)
        fclose (file);
    *text = buf;
    *size = used;
    return used > S_FILE_MAX ? -1 : 0;
}

//  Applies --file, then every --set, to the letter's message. Returns an
//  exit code; on success *edited is the new envelope (heap).
static int
s_apply (const zhub_dlq_args_t *args, const dead_letter_t *dl, uint8_t **edited,
         size_t *edited_size)
{
    uint8_t *current = zhub_malloc (dl->message_size);
    memcpy (current, dl->message, dl->message_size);
    size_t current_size = dl->message_size;
    char err[256];
    int exit_code = ZHUB_EXIT_OK;
    if (args->file) {
        char *text = NULL;
        size_t size;
        uint8_t *next;
        size_t next_size;
        if (s_read_file (args->file, &text, &size)) {
            fprintf (stderr, "zhub dlq: cannot read %s (or over 1 MiB)\n", args->file);
            exit_code = ZHUB_EXIT_USAGE;
        } else if (dead_letter_edit_data (current, current_size, text, size, &next, &next_size, err,
                                          sizeof err)) {
            fprintf (stderr, "zhub dlq: %s: %s\n", args->file, err);
            exit_code = ZHUB_EXIT_USAGE;
        } else {
            free (current);
            current = next;
            current_size = next_size;
        }
        free (text);
    }
    for (size_t i = 0; i < args->set_count && exit_code == ZHUB_EXIT_OK; i++) {
        uint8_t *next;
        size_t next_size;
        if (dead_letter_edit_set (current, current_size, args->sets[i], &next, &next_size, err,
                                  sizeof err)) {
            fprintf (stderr, "zhub dlq: --set %s: %s\n", args->sets[i], err);
            exit_code = ZHUB_EXIT_USAGE;
            break;
        }
        free (current);
        current = next;
        current_size = next_size;
    }
    if (exit_code) {
        free (current);
        return exit_code;
    }
    *edited = current;
    *edited_size = current_size;
    return ZHUB_EXIT_OK;
}

//  What the letter's group would do with the edited message under the
//  current mapping, or NULL when the envelope does not decode.
static json_t *
s_preview (const zhub_dlq_args_t *args, const dead_letter_t *dl, const uint8_t *edited,
           size_t edited_size)
{
    char err[256];
    zhub_msg_t *msg = zhub_msg_decode (edited, edited_size, NULL, err, sizeof err);
    if (!msg)
        return NULL;
    zhub_dlq_mapping_t *mapping = zhub_dlq_mapping_new (args->mapping);
    json_t *preview = zhub_dlq_mapping_preview (mapping, dl->group, msg);
    zhub_dlq_mapping_destroy (&mapping);
    zhub_msg_destroy (&msg);
    return preview;
}

//  Sends the edit and waits for zhub-dead-letter to apply it.
static int
s_send (const zhub_dlq_args_t *args, dead_letter_store_t *store, const dead_letter_t *dl,
        const uint8_t *edited, size_t edited_size)
{
    zhub_client_t *client = zhub_dlq_client ();
    if (!client)
        return ZHUB_EXIT_USAGE;
    char *id = zhub_dlq_command_id ("edit");
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    zhub_mpack_pack_str (&pk, "letter");
    msgpack_pack_uint64 (&pk, dl->seq);
    zhub_mpack_pack_str (&pk, "revision");
    msgpack_pack_uint32 (&pk, dl->revision);
    zhub_mpack_pack_str (&pk, "message");
    msgpack_pack_bin (&pk, edited_size);
    msgpack_pack_bin_body (&pk, edited, edited_size);
    int exit_code = zhub_dlq_publish (client, DEAD_LETTER_CMD_EDIT, id, &sbuf);
    msgpack_sbuffer_destroy (&sbuf);
    zhub_client_destroy (&client);
    if (exit_code == ZHUB_EXIT_OK) {
        char *result = NULL;
        uint64_t seq = dl->seq;
        zhub_dlq_wait (store, &seq, &id, 1, false, args->timeout_ms, &result);
        if (!result) {
            fprintf (stderr,
                     "zhub dlq: the edit was not applied within the timeout; is "
                     "zhub-dead-letter running? (command %s stays queued)\n",
                     id);
            exit_code = ZHUB_EXIT_FAILURE;
        } else if (strcmp (result, "edited")) {
            fprintf (stderr, "zhub dlq: not edited: %s%s\n", result,
                     !strcmp (result, "stale") ? " (it was edited meanwhile; look again)" : "");
            exit_code = ZHUB_EXIT_FAILURE;
        } else if (!args->json)
            printf ("edited %llu (revision %u); preview it with `zhub dlq replay %llu --dry-run`, "
                    "replay it with `zhub dlq replay %llu`\n",
                    (unsigned long long)dl->seq, dl->revision + 1, (unsigned long long)dl->seq,
                    (unsigned long long)dl->seq);
        free (result);
    }
    free (id);
    return exit_code;
}

int
zhub_dlq_edit (zhub_dlq_args_t *args)
{
    if (args->positional_count != 1 || (!args->set_count && !args->file)) {
        fprintf (stderr, "usage: zhub dlq edit ID (--set PATH=VALUE ... | --file DATA.json) "
                         "[--dry-run [--mapping FILE]]\n");
        return ZHUB_EXIT_USAGE;
    }
    if (args->mapping && !args->dry_run) {
        fprintf (stderr, "zhub dlq: --mapping only changes what --dry-run shows\n");
        return ZHUB_EXIT_USAGE;
    }
    dead_letter_store_t *store = NULL;
    dead_letter_t dl;
    int exit_code = zhub_dlq_load_one (&store, args->positional[0], &dl);
    if (exit_code)
        return exit_code;
    uint8_t *edited = NULL;
    size_t edited_size = 0;
    exit_code = s_apply (args, &dl, &edited, &edited_size);
    if (exit_code)
        goto done;
    char *diff = dead_letter_diff (dl.message, dl.message_size, edited, edited_size);
    bool unchanged = !diff || !*diff;
    json_t *preview = args->dry_run ? s_preview (args, &dl, edited, edited_size) : NULL;
    if (args->json) {
        json_t *json = json_pack ("{s:I, s:s, s:b}", "id", (json_int_t)dl.seq, "diff",
                                  diff ? diff : "", "dry_run", args->dry_run);
        if (preview)
            json_object_set (json, "preview", preview);
        zhub_dlq_print_json (json);
        json_decref (json);
    } else {
        fputs (unchanged ? "(no change)\n" : diff, stdout);
        if (preview) {
            char *text = zhub_dlq_preview_text (preview);
            fputs (text, stdout);
            free (text);
        }
    }
    json_decref (preview);
    free (diff);
    if (args->dry_run || unchanged) {
        if (args->dry_run && !args->json)
            printf ("(dry run: nothing was changed)\n");
        goto done;
    }
    exit_code = s_send (args, store, &dl, edited, edited_size);
done:
    free (edited);
    dead_letter_clear (&dl);
    dead_letter_store_destroy (&store);
    return exit_code;
}
