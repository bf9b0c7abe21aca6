//  `zhub dlq`, inside: what its files share. The command is split by job:
//
//    cmd_dlq.c          usage text, options, dispatch to a subcommand
//    dlq_store.c        zhub-dead-letter's store, opened read-only (ADR 0004),
//                       and the list's rows
//    dlq_bus.c          commands on the bus and waiting for the actor
//    cmd_dlq_show.c     list, show
//    cmd_dlq_replay.c   replay and its dry run
//    cmd_dlq_edit.c     edit and its dry run
//    cmd_dlq_purge.c    purge
//    dlq_preview.c      what the owning actor would make of a message under
//                       a mapping (pure; dlq_preview.h)
//    dlq_mapping.c      the preview's inputs: the mapping file and what the
//                       actors stored, read-only (dlq_mapping.h; the
//                       gateway's console shows the same preview)
#ifndef ZHUB_DLQ_H
#define ZHUB_DLQ_H

#include "cli.h"
#include "dead_letter.h"
#include "dead_letter_store.h"
#include "dlq_mapping.h"
#include "dlq_preview.h"
#include "zhub_client.h"

#include <jansson.h>

#define ZHUB_DLQ_PUBLISH_TIMEOUT_MS 5000
#define ZHUB_DLQ_WAIT_DEFAULT_MS 10000
#define ZHUB_DLQ_POLL_MS 100
#define ZHUB_DLQ_MAX_SETS 32
#define ZHUB_DLQ_MAX_POSITIONAL 64

//  The options of every subcommand (each reads the ones it takes).
typedef struct {
    const char *positional[ZHUB_DLQ_MAX_POSITIONAL];
    size_t positional_count;
    dead_letter_filter_t filter;
    const char *sets[ZHUB_DLQ_MAX_SETS];
    size_t set_count;
    const char *file;
    const char *mapping; //  --mapping FILE: preview against this file
    bool json, dry_run, again, all;
    long limit;
    int64_t timeout_ms;
} zhub_dlq_args_t;

//  -------------------------------------------------------------------
//  The store, read-only (dlq_store.c): the read side of zhub-dead-letter's
//  store (dead_letter_store.h), which alone knows its tables and keys

//  Opens $ZHUB_DATA_DIR/dead-letter read-only. NULL when there is no
//  dead-letter store yet (said on stderr unless quiet).
dead_letter_store_t *zhub_dlq_store_open (bool quiet);

//  Opens the store and reads one letter by reference ("12" or its dlq:...
//  id). Returns an exit code; on success *store stays open (caller
//  destroys it) and *dl is filled (caller clears it), else *store is NULL
//  and the reason said on stderr.
int zhub_dlq_load_one (dead_letter_store_t **store, const char *ref, dead_letter_t *dl);

//  Matching letters' numbers, gathered by zhub_dlq_select or one by one
//  with zhub_dlq_collect.
typedef struct {
    uint64_t *seqs;
    size_t count, size;
    long limit;
    json_t *rows; //  list: JSON rows, or NULL
    bool table;   //  list: print table rows
} zhub_dlq_collect_t;

bool zhub_dlq_collect (const dead_letter_t *dl, void *arg);
int zhub_dlq_select (dead_letter_store_t *store, const dead_letter_filter_t *filter,
                     zhub_dlq_collect_t *collect);

//  The header and one row of `zhub dlq list`.
void zhub_dlq_print_header (void);
void zhub_dlq_print_row (const dead_letter_t *dl);

//  Indented JSON (or "null") and a newline on stdout.
void zhub_dlq_print_json (const json_t *json);

//  -------------------------------------------------------------------
//  Commands on the bus (dlq_bus.c)

//  "dlcmd:<action>:<ms>:<16 hex>" (fresh).
char *zhub_dlq_command_id (const char *action);

//  A client for $ZHUB_BROKER, or NULL (said on stderr).
zhub_client_t *zhub_dlq_client (void);

//  Publishes a command (data: the packed msgpack map) with confirm.
//  Returns an exit code.
int zhub_dlq_publish (zhub_client_t *client, const char *type, const char *id,
                      msgpack_sbuffer *data);

//  Waits until each letter's last_command is its command id (or, with
//  gone, until the letter is gone; ids may then be NULL). results[i] gets the actor's
//  last_result (heap) or stays NULL when not applied in time. Returns how
//  many were applied.
size_t zhub_dlq_wait (dead_letter_store_t *store, const uint64_t *seqs, char **ids, size_t count,
                      bool gone, int64_t timeout_ms, char **results);

//  -------------------------------------------------------------------
//  Subcommands

int zhub_dlq_list (zhub_dlq_args_t *args);
int zhub_dlq_show (zhub_dlq_args_t *args);
int zhub_dlq_replay (zhub_dlq_args_t *args);
int zhub_dlq_edit (zhub_dlq_args_t *args);
int zhub_dlq_purge (zhub_dlq_args_t *args);

#endif
