//  The dead-letter store (see dead_letter_store.h). Index keys end with the
//  letter's time and number in big-endian so that a cursor walks each
//  group, topic or reason in time order, and a --since seeks straight to
//  its start instead of scanning the whole table. The public functions
//  run the transactions; the s_ helpers below them work inside one.
#include "dead_letter_store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dead_letter_store_t {
    zhub_store_t *store;
    bool owned; //  opened here (read-only): closed by destroy
    zhub_table_t letters, ids, by_time, by_group, by_topic, by_reason, counters;
};

static int
s_tables (dead_letter_store_t *t)
{
    zhub_store_t *store = t->store;
    if (zhub_store_table (store, "letters", &t->letters) || zhub_store_table (store, "ids", &t->ids)
        || zhub_store_table (store, "by_time", &t->by_time)
        || zhub_store_table (store, "by_group", &t->by_group)
        || zhub_store_table (store, "by_topic", &t->by_topic)
        || zhub_store_table (store, "by_reason", &t->by_reason)
        || zhub_store_table (store, "counters", &t->counters))
        return -1;
    return 0;
}

dead_letter_store_t *
dead_letter_store_new (zhub_store_t *store, char *err, size_t err_size)
{
    assert (store);
    dead_letter_store_t *self = zhub_calloc (1, sizeof *self);
    self->store = store;
    if (s_tables (self)) {
        snprintf (err, err_size, "cannot open the dead-letter tables");
        free (self);
        return NULL;
    }
    return self;
}

dead_letter_store_t *
dead_letter_store_open_readonly (const char *data_dir, char *err, size_t err_size)
{
    assert (data_dir);
    zhub_store_t *store = zhub_store_open_readonly (data_dir, DEAD_LETTER_GROUP, err, err_size);
    if (!store)
        return NULL;
    dead_letter_store_t *self = zhub_calloc (1, sizeof *self);
    self->store = store;
    self->owned = true;
    if (s_tables (self)) {
        snprintf (err, err_size, "%s/%s: the dead-letter tables are missing", data_dir,
                  DEAD_LETTER_GROUP);
        dead_letter_store_destroy (&self);
    }
    return self;
}

void
dead_letter_store_destroy (dead_letter_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->owned)
        zhub_store_destroy (&(*self_p)->store);
    free (*self_p);
    *self_p = NULL;
}

//  -------------------------------------------------------------------
//  Keys and records, inside a transaction

//  name NUL be64(time) be64(seq); returns the key size (name may be NULL:
//  then just the 16 bytes). buf must hold strlen(name) + 17.
static size_t
s_key (uint8_t *buf, const char *name, int64_t time_ms, uint64_t seq)
{
    size_t n = 0;
    if (name) {
        n = strlen (name);
        memcpy (buf, name, n);
        buf[n++] = 0;
    }
    zhub_store_key_u64 (buf + n, (uint64_t)(time_ms < 0 ? 0 : time_ms));
    zhub_store_key_u64 (buf + n + 8, seq);
    return n + 16;
}

static size_t
s_reason_key (uint8_t *buf, uint32_t code, int64_t time_ms, uint64_t seq)
{
    buf[0] = (uint8_t)(code >> 24);
    buf[1] = (uint8_t)(code >> 16);
    buf[2] = (uint8_t)(code >> 8);
    buf[3] = (uint8_t)code;
    return 4 + s_key (buf + 4, NULL, time_ms, seq);
}

//  Writes (put) or deletes (!put) the four index entries of dl.
static zhub_rc_t
s_index (const dead_letter_store_t *t, zhub_txn_t *txn, const dead_letter_t *dl, bool put)
{
    size_t longest =
        strlen (dl->group) > strlen (dl->topic) ? strlen (dl->group) : strlen (dl->topic);
    uint8_t *key = zhub_malloc (longest + 24);
    uint8_t value[8];
    zhub_store_key_u64 (value, dl->seq);
    zhub_rc_t rc = ZHUB_OK;
    for (int i = 0; i < 4 && rc == ZHUB_OK; i++) {
        size_t size;
        zhub_table_t table;
        switch (i) {
            case 0:
                size = s_key (key, NULL, dl->dead_at_ms, dl->seq);
                table = t->by_time;
                break;
            case 1:
                size = s_key (key, dl->group, dl->dead_at_ms, dl->seq);
                table = t->by_group;
                break;
            case 2:
                size = s_key (key, dl->topic, dl->dead_at_ms, dl->seq);
                table = t->by_topic;
                break;
            default:
                size = s_reason_key (key, dl->reason_code, dl->dead_at_ms, dl->seq);
                table = t->by_reason;
                break;
        }
        if (put)
            rc = zhub_txn_put (txn, table, key, size, value, sizeof value);
        else {
            rc = zhub_txn_del (txn, table, key, size);
            if (rc == ZHUB_NOTFOUND)
                rc = ZHUB_OK;
        }
    }
    free (key);
    return rc;
}

static zhub_rc_t
s_write_record (const dead_letter_store_t *t, zhub_txn_t *txn, const dead_letter_t *dl)
{
    uint8_t *buf;
    size_t size;
    dead_letter_encode (dl, &buf, &size);
    uint8_t key[8];
    zhub_store_key_u64 (key, dl->seq);
    zhub_rc_t rc = zhub_txn_put (txn, t->letters, key, sizeof key, buf, size);
    free (buf);
    return rc;
}

//  Letter seq, read inside txn.
static zhub_rc_t
s_get (const dead_letter_store_t *t, zhub_txn_t *txn, uint64_t seq, dead_letter_t *out)
{
    memset (out, 0, sizeof *out);
    uint8_t key[8];
    zhub_store_key_u64 (key, seq);
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, t->letters, key, sizeof key, &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    return dead_letter_decode (value, size, out) ? ZHUB_ERROR : ZHUB_OK;
}

//  Deletes letter dl and its index entries and dlq id, inside txn.
static zhub_rc_t
s_remove (const dead_letter_store_t *t, zhub_txn_t *txn, const dead_letter_t *dl)
{
    zhub_rc_t rc = s_index (t, txn, dl, false);
    if (rc != ZHUB_OK)
        return rc;
    rc = zhub_txn_del (txn, t->ids, dl->dlq_id, strlen (dl->dlq_id));
    if (rc != ZHUB_OK && rc != ZHUB_NOTFOUND)
        return rc;
    uint8_t key[8];
    zhub_store_key_u64 (key, dl->seq);
    rc = zhub_txn_del (txn, t->letters, key, sizeof key);
    return rc == ZHUB_NOTFOUND ? ZHUB_OK : rc;
}

//  -------------------------------------------------------------------
//  The read side

zhub_rc_t
dead_letter_store_get (dead_letter_store_t *self, uint64_t seq, dead_letter_t *out)
{
    memset (out, 0, sizeof *out);
    uint8_t key[8];
    zhub_store_key_u64 (key, seq);
    char *value;
    size_t size;
    zhub_rc_t rc = zhub_store_get_copy (self->store, self->letters, key, sizeof key, &value, &size);
    if (rc == ZHUB_OK && dead_letter_decode ((const uint8_t *)value, size, out))
        rc = ZHUB_ERROR;
    free (value);
    return rc;
}

typedef struct {
    const dead_letter_store_t *t;
    const char *ref;
    dead_letter_t *out;
} s_find_t;

static zhub_rc_t
s_find_fn (zhub_txn_t *txn, void *arg)
{
    s_find_t *find = arg;
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, find->t->ids, find->ref, strlen (find->ref), &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    return size == 8 ? s_get (find->t, txn, zhub_store_u64 (value), find->out) : ZHUB_ERROR;
}

zhub_rc_t
dead_letter_store_find (dead_letter_store_t *self, const char *ref, dead_letter_t *out)
{
    memset (out, 0, sizeof *out);
    if (!ref || !*ref)
        return ZHUB_NOTFOUND;
    char *end = NULL;
    unsigned long long seq = strtoull (ref, &end, 10);
    if (*ref >= '0' && *ref <= '9' && end && *end == 0)
        return dead_letter_store_get (self, seq, out);
    //  the dlq id and the letter it names, in one snapshot
    s_find_t find = {.t = self, .ref = ref, .out = out};
    return zhub_store_read (self->store, s_find_fn, &find);
}

typedef struct {
    const dead_letter_store_t *t;
    const dead_letter_filter_t *filter;
    dead_letter_each_fn *fn;
    void *arg;
} s_each_t;

static zhub_rc_t
s_each_fn (zhub_txn_t *txn, void *arg)
{
    s_each_t *each = arg;
    const dead_letter_store_t *t = each->t;
    const dead_letter_filter_t *filter = each->filter;
    size_t prefix = 0;
    uint8_t *start;
    size_t start_size;
    zhub_table_t table;
    if (filter->group) {
        prefix = strlen (filter->group) + 1;
        start = zhub_malloc (prefix + 16);
        start_size = s_key (start, filter->group, filter->since_ms, 0);
        table = t->by_group;
    } else {
        start = zhub_malloc (16);
        start_size = s_key (start, NULL, filter->since_ms, 0);
        table = t->by_time;
    }
    zhub_cursor_t *cursor = zhub_cursor_open (txn, table);
    if (!cursor) {
        free (start);
        return ZHUB_ERROR;
    }
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc =
        zhub_cursor_seek (cursor, start, start_size, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        if (key_size != prefix + 16 || memcmp (key, start, prefix) != 0)
            break;
        if (filter->before_ms
            && zhub_store_u64 ((const uint8_t *)key + prefix) >= (uint64_t)filter->before_ms)
            break;
        dead_letter_t dl = {0};
        //  an entry whose letter is gone (an erase) is skipped
        bool found = value_size == 8 && s_get (t, txn, zhub_store_u64 (value), &dl) == ZHUB_OK;
        bool more = !found || !dead_letter_match (&dl, filter) || each->fn (&dl, each->arg);
        dead_letter_clear (&dl);
        if (!more)
            break;
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    free (start);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
dead_letter_store_each (dead_letter_store_t *self, const dead_letter_filter_t *filter,
                        dead_letter_each_fn *fn, void *arg)
{
    assert (filter && fn);
    s_each_t each = {.t = self, .filter = filter, .fn = fn, .arg = arg};
    return zhub_store_read (self->store, s_each_fn, &each);
}

typedef struct {
    const dead_letter_store_t *t;
    size_t count;
} s_count_t;

static zhub_rc_t
s_count_fn (zhub_txn_t *txn, void *arg)
{
    s_count_t *count = arg;
    count->count = zhub_txn_count (txn, count->t->letters);
    return ZHUB_OK;
}

size_t
dead_letter_store_count (dead_letter_store_t *self)
{
    s_count_t count = {.t = self};
    zhub_store_read (self->store, s_count_fn, &count);
    return count.count;
}

//  -------------------------------------------------------------------
//  The write side

typedef struct {
    const dead_letter_store_t *t;
    dead_letter_t *dl;
    bool added;
} s_keep_t;

static zhub_rc_t
s_keep_fn (zhub_txn_t *txn, void *arg)
{
    s_keep_t *keep = arg;
    const dead_letter_store_t *t = keep->t;
    dead_letter_t *dl = keep->dl;
    keep->added = false;
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, t->ids, dl->dlq_id, strlen (dl->dlq_id), &value, &size);
    if (rc == ZHUB_OK && size == 8) {
        dl->seq = zhub_store_u64 (value);
        return ZHUB_OK;
    }
    if (rc != ZHUB_NOTFOUND && rc != ZHUB_OK)
        return rc;
    uint64_t next = 1;
    rc = zhub_txn_get (txn, t->counters, "next_seq", 8, &value, &size);
    if (rc == ZHUB_OK && size == 8)
        next = zhub_store_u64 (value);
    else if (rc != ZHUB_NOTFOUND)
        return ZHUB_ERROR;
    dl->seq = next;
    uint8_t bytes[8];
    zhub_store_key_u64 (bytes, next + 1);
    if ((rc = zhub_txn_put (txn, t->counters, "next_seq", 8, bytes, 8)) != ZHUB_OK)
        return rc;
    zhub_store_key_u64 (bytes, dl->seq);
    if ((rc = zhub_txn_put (txn, t->ids, dl->dlq_id, strlen (dl->dlq_id), bytes, 8)) != ZHUB_OK)
        return rc;
    if ((rc = s_write_record (t, txn, dl)) != ZHUB_OK)
        return rc;
    if ((rc = s_index (t, txn, dl, true)) != ZHUB_OK)
        return rc;
    keep->added = true;
    return ZHUB_OK;
}

zhub_rc_t
dead_letter_store_keep (dead_letter_store_t *self, dead_letter_t *dl, bool *added)
{
    assert (dl && dl->dlq_id && added);
    s_keep_t keep = {.t = self, .dl = dl};
    zhub_rc_t rc = zhub_store_write (self->store, s_keep_fn, &keep);
    *added = rc == ZHUB_OK && keep.added;
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

typedef struct {
    const dead_letter_store_t *t;
    uint64_t seq;
    dead_letter_change_fn *fn;
    void *arg;
    dead_letter_outbox_fn *outbox;
    void *outbox_arg;
} s_change_t;

static zhub_rc_t
s_change_fn (zhub_txn_t *txn, void *arg)
{
    s_change_t *c = arg;
    dead_letter_t dl;
    zhub_rc_t rc = s_get (c->t, txn, c->seq, &dl);
    if (rc != ZHUB_OK) {
        dead_letter_clear (&dl);
        return rc;
    }
    zhub_msg_t *publish = NULL;
    bool write = c->fn (&dl, &publish, c->arg);
    if (publish)
        rc = c->outbox (txn, publish, c->outbox_arg);
    if (rc == ZHUB_OK && write)
        rc = s_write_record (c->t, txn, &dl);
    zhub_msg_destroy (&publish);
    dead_letter_clear (&dl);
    return rc;
}

zhub_rc_t
dead_letter_store_change (dead_letter_store_t *self, uint64_t seq, dead_letter_change_fn *fn,
                          void *arg, dead_letter_outbox_fn *outbox, void *outbox_arg)
{
    assert (fn && outbox);
    s_change_t change = {
        .t = self, .seq = seq, .fn = fn, .arg = arg, .outbox = outbox, .outbox_arg = outbox_arg};
    zhub_rc_t rc = zhub_store_write (self->store, s_change_fn, &change);
    return rc == ZHUB_OK || rc == ZHUB_NOTFOUND ? rc : ZHUB_ERROR;
}

typedef struct {
    const dead_letter_store_t *t;
    const uint64_t *seqs;
    size_t count;
    uint64_t purged;
} s_purge_t;

static zhub_rc_t
s_purge_fn (zhub_txn_t *txn, void *arg)
{
    s_purge_t *p = arg;
    p->purged = 0;
    for (size_t i = 0; i < p->count; i++) {
        dead_letter_t dl;
        zhub_rc_t rc = s_get (p->t, txn, p->seqs[i], &dl);
        if (rc == ZHUB_OK)
            rc = s_remove (p->t, txn, &dl);
        dead_letter_clear (&dl);
        if (rc == ZHUB_NOTFOUND)
            continue;
        if (rc != ZHUB_OK)
            return ZHUB_ERROR;
        p->purged++;
    }
    return ZHUB_OK;
}

zhub_rc_t
dead_letter_store_purge (dead_letter_store_t *self, const uint64_t *seqs, size_t count,
                         uint64_t *purged)
{
    assert (purged && (seqs || !count));
    s_purge_t purge = {.t = self, .seqs = seqs, .count = count};
    zhub_rc_t rc = zhub_store_write (self->store, s_purge_fn, &purge);
    *purged = rc == ZHUB_OK ? purge.purged : 0;
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

zhub_rc_t
dead_letter_store_forget (dead_letter_store_t *self, zhub_txn_t *txn, const zhub_forget_t *f,
                          size_t *removed)
{
    const dead_letter_store_t *t = self;
    *removed = 0;
    //  First find them, then delete: deleting from the table being walked
    //  would move the cursor under our feet.
    uint64_t *doomed = NULL;
    size_t count = 0;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, t->letters);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        dead_letter_t dl;
        bool mentions;
        if (dead_letter_decode (value, value_size, &dl) == 0) {
            mentions = dead_letter_mentions (&dl, f);
            dead_letter_clear (&dl);
        } else
            mentions = zhub_forget_mentions_msgpack (f, value, value_size);
        if (mentions && key_size == 8) {
            doomed = zhub_realloc (doomed, (count + 1) * sizeof *doomed);
            doomed[count++] = zhub_store_u64 (key);
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    rc = rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
    for (size_t i = 0; i < count && rc == ZHUB_OK; i++) {
        dead_letter_t dl;
        rc = s_get (t, txn, doomed[i], &dl);
        if (rc == ZHUB_OK)
            rc = s_remove (t, txn, &dl);
        else if (rc == ZHUB_ERROR) {
            //  Does not decode: only the record itself can go.
            uint8_t bytes[8];
            zhub_store_key_u64 (bytes, doomed[i]);
            rc = zhub_txn_del (txn, t->letters, bytes, sizeof bytes);
        }
        dead_letter_clear (&dl);
        if (rc == ZHUB_OK)
            (*removed)++;
        else if (rc == ZHUB_NOTFOUND)
            rc = ZHUB_OK;
    }
    free (doomed);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}
