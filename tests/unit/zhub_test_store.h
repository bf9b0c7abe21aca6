//  Test fixtures for the stores of the actors: a store in a temporary
//  folder, and a reader of an actor's outbox (the messages its handlers
//  queued in the same transaction as their writes). For the tests of code
//  that links store/.
#ifndef ZHUB_TEST_STORE_H
#define ZHUB_TEST_STORE_H

#include "zhub_msg.h"
#include "zhub_store.h"

#include <stdio.h>
#include <stdlib.h>

//  Opens process's store in a new folder made from dir (a mkdtemp
//  template, rewritten in place) and writes the path of its data file into
//  path. NULL, with the reason printed, when it cannot.
static inline zhub_store_t *
zhub_test_store_open (char *dir, const char *process, char *path, size_t path_size)
{
    if (!mkdtemp (dir)) {
        perror ("mkdtemp");
        return NULL;
    }
    zhub_store_config_t config = {.data_dir = dir, .process = process};
    char err[256];
    zhub_store_t *store = zhub_store_open (&config, err, sizeof err);
    if (!store)
        fprintf (stderr, "store: %s\n", err);
    snprintf (path, path_size, "%s/%s/data.mdb", dir, process);
    return store;
}

//  Removes a test's temporary folder and all in it; 0 when it went.
static inline int
zhub_test_remove_dir (const char *dir)
{
    char *cmd = zhub_sprintf ("rm -rf '%s'", dir);
    int rc = system (cmd);
    free (cmd);
    return rc;
}

//  An actor's outbox as a test reads it: how many entries, and the
//  last one decoded (the contact.forgotten just queued). Set outbox with
//  zhub_store_table (store, "outbox", ...); destroy last when done.
typedef struct {
    zhub_table_t outbox;
    zhub_msg_t *last;
    size_t count;
} zhub_test_outbox_t;

//  A zhub_store_read callback filling a zhub_test_outbox_t.
static inline zhub_rc_t
zhub_test_read_outbox (zhub_txn_t *txn, void *arg)
{
    zhub_test_outbox_t *o = arg;
    o->count = zhub_txn_count (txn, o->outbox);
    zhub_cursor_t *cursor = zhub_cursor_open (txn, o->outbox);
    const void *key, *value;
    size_t key_size, value_size;
    char err[128];
    zhub_msg_destroy (&o->last);
    if (cursor && zhub_cursor_last (cursor, &key, &key_size, &value, &value_size) == ZHUB_OK)
        o->last = zhub_msg_decode (value, value_size, &zhub_mpack_default_limits, err, sizeof err);
    zhub_cursor_destroy (&cursor);
    return ZHUB_OK;
}

#endif
