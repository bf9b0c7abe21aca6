//  Test helper: what an actor queued in its outbox (the runtime's table
//  "outbox": be64 sequence -> envelope), read back in order and removed,
//  as the runtime would after publishing it. For the actors' tests that
//  run handlers on a store with no broker (zhub_test_actor.h).
#ifndef ZHUB_TEST_OUTBOX_H
#define ZHUB_TEST_OUTBOX_H

#include "zhub_msg.h"
#include "zhub_store.h"

#include <stdlib.h>
#include <string.h>

#define ZHUB_TEST_OUTBOX_MAX 64

typedef struct {
    zhub_msg_t *msgs[ZHUB_TEST_OUTBOX_MAX];
    size_t count;
    zhub_table_t table;
} zhub_test_outbox_t;

static inline zhub_walk_t
zhub_test_outbox_take_one (const void *key, size_t key_size, const void *value, size_t size,
                           void *arg)
{
    (void)key;
    (void)key_size;
    zhub_test_outbox_t *box = (zhub_test_outbox_t *)arg;
    if (box->count == ZHUB_TEST_OUTBOX_MAX)
        return ZHUB_WALK_STOP;
    box->msgs[box->count++] = zhub_msg_decode ((const uint8_t *)value, size, NULL, NULL, 0);
    return ZHUB_WALK_NEXT;
}

static inline bool
zhub_test_outbox_every (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)key, (void)key_size, (void)value, (void)size, (void)arg;
    return true;
}

static inline zhub_rc_t
zhub_test_outbox_take_fn (zhub_txn_t *txn, void *arg)
{
    zhub_test_outbox_t *box = (zhub_test_outbox_t *)arg;
    size_t removed;
    zhub_rc_t rc = zhub_txn_walk (txn, box->table, zhub_test_outbox_take_one, box);
    return rc == ZHUB_OK
               ? zhub_txn_delete_where (txn, box->table, zhub_test_outbox_every, NULL, &removed)
               : rc;
}

//  Frees what box holds; it can be used again.
static inline void
zhub_test_outbox_clear (zhub_test_outbox_t *box)
{
    for (size_t i = 0; i < box->count; i++)
        zhub_msg_destroy (&box->msgs[i]);
    box->count = 0;
}

//  Empties the outbox of store into box (cleared first). 0, or -1.
static inline int
zhub_test_outbox_take (zhub_store_t *store, zhub_test_outbox_t *box)
{
    zhub_test_outbox_clear (box);
    if (zhub_store_table (store, "outbox", &box->table))
        return -1;
    return zhub_store_write (store, zhub_test_outbox_take_fn, box) == ZHUB_OK ? 0 : -1;
}

//  How many of the messages in box are of type.
static inline size_t
zhub_test_outbox_count (const zhub_test_outbox_t *box, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < box->count; i++)
        n += box->msgs[i] && !strcmp (box->msgs[i]->type, type);
    return n;
}

//  The first message of type in box (borrowed), or NULL.
static inline const zhub_msg_t *
zhub_test_outbox_find (const zhub_test_outbox_t *box, const char *type)
{
    for (size_t i = 0; i < box->count; i++)
        if (box->msgs[i] && !strcmp (box->msgs[i]->type, type))
            return box->msgs[i];
    return NULL;
}

#endif
