//  The spool on store/zhub_store.h. The depth is counted once at open and
//  then kept in an atomic beside the table (added after each committed
//  append, subtracted after each committed removal), so the hot path (is anything
//  waiting? is there room?) reads no LMDB page; the limit is checked inside
//  the write transaction against the table's own count, so it holds even
//  with concurrent appends.
#include "spool.h"
#include "zhub_store.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_gateway_spool_t {
    zhub_store_t *store;
    zhub_table_t table;
    int64_t limit;
    atomic_llong depth;
};

typedef struct {
    zhub_gateway_spool_t *self;
    const zhub_msg_list_t *list;
    uint8_t **encoded;
    size_t *sizes;
} s_append_t;

static zhub_rc_t
s_append_txn (zhub_txn_t *txn, void *arg)
{
    s_append_t *a = arg;
    size_t count = zhub_txn_count (txn, a->self->table);
    if ((int64_t)(count + a->list->count) > a->self->limit)
        return ZHUB_RETRY;
    uint64_t next = 1;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, a->self->table);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_last (cursor, &key, &key_size, &value, &value_size);
    if (rc == ZHUB_OK && key_size == 8)
        next = zhub_store_u64 (key) + 1;
    zhub_cursor_destroy (&cursor);
    if (rc == ZHUB_ERROR)
        return ZHUB_ERROR;
    for (size_t i = 0; i < a->list->count; i++) {
        uint8_t k[8];
        zhub_store_key_u64 (k, next + i);
        if (zhub_txn_put (txn, a->self->table, k, 8, a->encoded[i], a->sizes[i]) != ZHUB_OK)
            return ZHUB_ERROR;
    }
    return ZHUB_OK;
}

static zhub_rc_t
s_count_txn (zhub_txn_t *txn, void *arg)
{
    zhub_gateway_spool_t *self = arg;
    atomic_store (&self->depth, (long long)zhub_txn_count (txn, self->table));
    return ZHUB_OK;
}

zhub_gateway_spool_t *
zhub_gateway_spool_new (const char *data_dir, int64_t limit, char *err, size_t err_size)
{
    zhub_store_config_t config = {.data_dir = data_dir, .process = "gateway"};
    zhub_store_t *store = zhub_store_open (&config, err, err_size);
    if (!store)
        return NULL;
    zhub_gateway_spool_t *self = zhub_calloc (1, sizeof *self);
    self->store = store;
    self->limit = limit;
    if (zhub_store_table (store, "spool", &self->table)) {
        snprintf (err, err_size, "cannot open the spool table");
        zhub_gateway_spool_destroy (&self);
        return NULL;
    }
    atomic_store (&self->depth, 0);
    zhub_store_read (store, s_count_txn, self);
    return self;
}

void
zhub_gateway_spool_destroy (zhub_gateway_spool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_store_destroy (&(*self_p)->store);
    free (*self_p);
    *self_p = NULL;
}

zhub_rc_t
zhub_gateway_spool_append (zhub_gateway_spool_t *self, const zhub_msg_list_t *list)
{
    if (list->count == 0)
        return ZHUB_OK;
    s_append_t a = {.self = self, .list = list};
    a.encoded = zhub_calloc (list->count, sizeof *a.encoded);
    a.sizes = zhub_calloc (list->count, sizeof *a.sizes);
    zhub_rc_t rc = ZHUB_OK;
    for (size_t i = 0; i < list->count && rc == ZHUB_OK; i++)
        if (zhub_msg_encode (list->items[i], &a.encoded[i], &a.sizes[i], NULL, 0))
            rc = ZHUB_ERROR; //  every message was validated: cannot happen
    if (rc == ZHUB_OK)
        rc = zhub_store_write (self->store, s_append_txn, &a);
    if (rc == ZHUB_OK)
        atomic_fetch_add (&self->depth, (long long)list->count);
    for (size_t i = 0; i < list->count; i++)
        free (a.encoded[i]);
    free (a.encoded);
    free (a.sizes);
    return rc;
}

typedef struct {
    zhub_gateway_spool_t *self;
    size_t max, taken;
    zhub_msg_list_t *out;
    uint64_t last;
    size_t skipped;
} s_peek_t;

static zhub_walk_t
s_peek_one (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    const zhub_mpack_limits_t limits = zhub_msg_stored_limits;
    s_peek_t *p = arg;
    if (p->taken >= p->max)
        return ZHUB_WALK_STOP;
    char err[128];
    zhub_msg_t *msg = zhub_msg_decode (value, value_size, &limits, err, sizeof err);
    if (msg)
        zhub_msg_list_push (p->out, &msg);
    else
        p->skipped++;
    p->last = key_size == 8 ? zhub_store_u64 (key) : p->last;
    p->taken++;
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_peek_txn (zhub_txn_t *txn, void *arg)
{
    s_peek_t *p = arg;
    p->taken = 0;
    if (zhub_txn_walk (txn, p->self->table, s_peek_one, p) != ZHUB_OK)
        return ZHUB_ERROR;
    return p->taken ? ZHUB_OK : ZHUB_NOTFOUND;
}

zhub_rc_t
zhub_gateway_spool_peek (zhub_gateway_spool_t *self, size_t max, zhub_msg_list_t *out,
                         uint64_t *last, size_t *skipped)
{
    s_peek_t p = {.self = self, .max = max, .out = out};
    zhub_rc_t rc = zhub_store_read (self->store, s_peek_txn, &p);
    *last = p.last;
    *skipped = p.skipped;
    return rc;
}

typedef struct {
    zhub_gateway_spool_t *self;
    uint64_t last;
    size_t removed;
} s_remove_t;

static zhub_rc_t
s_remove_txn (zhub_txn_t *txn, void *arg)
{
    s_remove_t *r = arg;
    r->removed = 0;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, r->self->table);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK && key_size == 8 && zhub_store_u64 (key) <= r->last) {
        if (zhub_cursor_del (cursor) != ZHUB_OK) {
            rc = ZHUB_ERROR;
            break;
        }
        r->removed++;
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
zhub_gateway_spool_remove (zhub_gateway_spool_t *self, uint64_t last)
{
    s_remove_t r = {.self = self, .last = last};
    zhub_rc_t rc = zhub_store_write (self->store, s_remove_txn, &r);
    if (rc == ZHUB_OK)
        atomic_fetch_sub (&self->depth, (long long)r.removed);
    return rc;
}

int64_t
zhub_gateway_spool_depth (zhub_gateway_spool_t *self)
{
    return atomic_load (&self->depth);
}
