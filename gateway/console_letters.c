//  The console's dead letters (console_letters.h): read from
//  zhub-dead-letter's store opened read-only for each request (a snapshot:
//  nothing is held open between polls, so the actor's store can grow or
//  be replaced freely), changed only through commands on the bus.
#include "console_letters.h"
#include "dead_letter.h"
#include "dead_letter_store.h"
#include "dlq_mapping.h"
#include "zhub_mpack.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    json_t *open;
    size_t replayed, total;
} s_list_t;

static bool
s_collect (const dead_letter_t *dl, void *arg)
{
    s_list_t *list = arg;
    list->total++;
    if (dl->replays)
        list->replayed++;
    else if (json_array_size (list->open) < ZHUB_CONSOLE_LETTERS_MAX)
        json_array_append_new (list->open, dead_letter_to_json (dl, false));
    return true;
}

json_t *
zhub_console_letters (const char *data_dir)
{
    char err[512];
    dead_letter_store_t *store = dead_letter_store_open_readonly (data_dir, err, sizeof err);
    if (!store)
        return json_pack ("{s:b,s:s,s:[],s:i,s:i}", "available", false, "reason", err, "open",
                          "replayed", 0, "total", 0);
    s_list_t list = {.open = json_array ()};
    dead_letter_filter_t filter = {0};
    zhub_rc_t rc = dead_letter_store_each (store, &filter, s_collect, &list);
    dead_letter_store_destroy (&store);
    if (rc != ZHUB_OK) {
        json_decref (list.open);
        return json_pack ("{s:b,s:s,s:[],s:i,s:i}", "available", false, "reason",
                          "the dead-letter store could not be read", "open", "replayed", 0, "total",
                          0);
    }
    return json_pack ("{s:b,s:o,s:I,s:I}", "available", true, "open", list.open, "replayed",
                      (json_int_t)list.replayed, "total", (json_int_t)list.total);
}

//  Opens the store and reads letter seq. ZHUB_OK with *store open (the
//  caller destroys it) and *dl filled (the caller clears it).
static zhub_rc_t
s_load (const char *data_dir, uint64_t seq, dead_letter_store_t **store, dead_letter_t *dl)
{
    char err[512];
    memset (dl, 0, sizeof *dl);
    *store = dead_letter_store_open_readonly (data_dir, err, sizeof err);
    if (!*store)
        return ZHUB_NOTFOUND;
    zhub_rc_t rc = dead_letter_store_get (*store, seq, dl);
    if (rc != ZHUB_OK)
        dead_letter_store_destroy (store);
    return rc;
}

zhub_rc_t
zhub_console_letter (const char *data_dir, uint64_t seq, json_t **out)
{
    dead_letter_store_t *store;
    dead_letter_t dl;
    zhub_rc_t rc = s_load (data_dir, seq, &store, &dl);
    if (rc != ZHUB_OK)
        return rc;
    *out = dead_letter_to_json (&dl, true);
    dead_letter_clear (&dl);
    dead_letter_store_destroy (&store);
    return ZHUB_OK;
}

zhub_rc_t
zhub_console_letter_preview (const char *data_dir, uint64_t seq, json_t **out, char *err,
                             size_t err_size)
{
    dead_letter_store_t *store;
    dead_letter_t dl;
    zhub_rc_t rc = s_load (data_dir, seq, &store, &dl);
    if (rc != ZHUB_OK) {
        snprintf (err, err_size, "%s", rc == ZHUB_NOTFOUND ? "no such dead letter" : "unreadable");
        return rc;
    }
    //  As `zhub dlq replay --dry-run` without --again: the replay a click
    //  on "replay" would ask for.
    uint32_t generation = dead_letter_replay_generation (&dl, false);
    zhub_msg_t *msg = dead_letter_replay_msg (&dl, generation, err, err_size);
    uint8_t *buf = NULL;
    size_t size = 0;
    if (msg && zhub_msg_encode (msg, &buf, &size, err, err_size))
        buf = NULL;
    rc = ZHUB_ERROR;
    if (buf) {
        //  Read the mapping now, as an actor starting now would.
        zhub_dlq_mapping_t *mapping = zhub_dlq_mapping_new (NULL);
        json_t *envelope = dead_letter_envelope_json (buf, size);
        *out = json_pack ("{s:I,s:s,s:b,s:o,s:o}", "id", (json_int_t)dl.seq, "replay_id", msg->id,
                          "collapses", generation == dl.replays, "message",
                          envelope ? envelope : json_null (), "preview",
                          zhub_dlq_mapping_preview (mapping, dl.group, msg));
        zhub_dlq_mapping_destroy (&mapping);
        free (buf);
        rc = ZHUB_OK;
    }
    zhub_msg_destroy (&msg);
    dead_letter_clear (&dl);
    dead_letter_store_destroy (&store);
    return rc;
}

//  "dlcmd:<action>:<ms>:<16 hex>", as `zhub dlq` names its commands.
static char *
s_command_id (const char *action)
{
    uint8_t random[8];
    randombytes_buf (random, sizeof random);
    char hex[17];
    sodium_bin2hex (hex, sizeof hex, random, sizeof random);
    return zhub_sprintf ("dlcmd:%s:%lld:%s", action, (long long)zhub_now_ms (), hex);
}

zhub_rc_t
zhub_console_letter_command (zhub_client_t *client, const char *data_dir, uint64_t seq,
                             const char *action, const char *who, int timeout_ms, json_t **out,
                             char *err, size_t err_size)
{
    bool replay = !strcmp (action, "replay");
    if (!replay && strcmp (action, "purge")) {
        snprintf (err, err_size, "unknown action %s", action);
        return ZHUB_REJECT;
    }
    dead_letter_store_t *store;
    dead_letter_t dl;
    zhub_rc_t rc = s_load (data_dir, seq, &store, &dl);
    if (rc != ZHUB_OK) {
        snprintf (err, err_size, "%s", rc == ZHUB_NOTFOUND ? "no such dead letter" : "unreadable");
        return rc;
    }
    dead_letter_clear (&dl);
    dead_letter_store_destroy (&store);
    //  The payloads of `zhub dlq replay` and `zhub dlq purge` (ADR 0004).
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    if (replay) {
        msgpack_pack_map (&pk, 2);
        zhub_mpack_pack_str (&pk, "letter");
        msgpack_pack_uint64 (&pk, seq);
        zhub_mpack_pack_str (&pk, "again");
        msgpack_pack_false (&pk);
    } else {
        msgpack_pack_map (&pk, 1);
        zhub_mpack_pack_str (&pk, "letters");
        msgpack_pack_array (&pk, 1);
        msgpack_pack_uint64 (&pk, seq);
    }
    char *id = s_command_id (action);
    char *source = zhub_sprintf ("zhub/console/%s", who && *who ? who : "-");
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, source);
    zhub_msg_set (&msg->type, replay ? DEAD_LETTER_CMD_REPLAY : DEAD_LETTER_CMD_PURGE);
    zhub_msg_set (&msg->subject, DEAD_LETTER_GROUP);
    msg->time_ms = zhub_now_ms ();
    zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    rc = zhub_client_publish (client, msg, timeout_ms, NULL, err, err_size);
    if (rc == ZHUB_OK)
        *out = json_pack ("{s:I,s:s,s:s}", "id", (json_int_t)seq, "action", action, "command", id);
    else if (rc == ZHUB_RETRY)
        snprintf (err, err_size, "the broker did not confirm the command");
    zhub_msg_destroy (&msg);
    free (source);
    free (id);
    return rc;
}
