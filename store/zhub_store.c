//  LMDB wrapped once. Transactions run through callbacks so that a full
//  map can be handled in one place: abort, grow, run again. A rwlock keeps
//  a resize (which LMDB allows only with no transaction open in the
//  process) away from running transactions in multi-threaded processes.
#include "zhub_store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <assert.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct zhub_store_t {
    MDB_env *env;
    char *path;
    size_t map_size, max_map_size;
    zhub_table_t meta;
    pthread_rwlock_t resize_lock;
    bool readonly;   //  zhub_store_open_readonly: no writes, no table creation
    unsigned max_tables;
    //  names of the tables opened, in order: a compaction reopens them in
    //  the same order so that their handles stay the same
    char **table_names;
    size_t table_count;
    //  zhub_store_batch_begin: the parent write transaction whose nested
    //  transactions the owner thread's writes and reads run in
    MDB_txn *batch;
    pthread_t batch_owner;
};

struct zhub_txn_t {
    zhub_store_t *store;
    MDB_txn *txn;
    bool map_full;   //  a put hit MDB_MAP_FULL: grow and run again
};

struct zhub_cursor_t {
    MDB_cursor *cursor;
};

static int
s_err (char *err, size_t err_size, const char *what, int rc)
{
    if (err && err_size)
        snprintf (err, err_size, "%s: %s", what, rc > 0 ? mdb_strerror (rc) : strerror (errno));
    return -1;
}

static int
s_mkdirs (const char *path)
{
    char buf[4096];
    snprintf (buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir (buf, 0700) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir (buf, 0700) && errno != EEXIST)
        return -1;
    return 0;
}

typedef struct {
    const zhub_store_config_t *config;
    uint32_t stored;
} s_schema_t;

static zhub_rc_t
s_check_schema (zhub_txn_t *txn, void *arg)
{
    s_schema_t *schema = arg;
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, txn->store->meta, "schema_version", 14, &value, &size);
    schema->stored = 0;
    if (rc == ZHUB_OK && size == 8)
        schema->stored = (uint32_t) zhub_store_u64 (value);
    else if (rc == ZHUB_OK)
        return ZHUB_ERROR;
    else if (rc != ZHUB_NOTFOUND)
        return rc;
    uint32_t wanted = schema->config->schema_version ? schema->config->schema_version : 1;
    if (schema->stored > wanted)
        return ZHUB_REJECT;
    if (schema->stored == wanted)
        return ZHUB_OK;
    if (schema->config->migrate) {
        rc = schema->config->migrate (txn, schema->stored, schema->config->migrate_arg);
        if (rc != ZHUB_OK)
            return rc;
    }
    uint8_t bytes[8];
    zhub_store_key_u64 (bytes, wanted);
    return zhub_txn_put (txn, txn->store->meta, "schema_version", 14, bytes, 8);
}

//  Creates and opens self->env at self->path with the store's settings.
static int
s_env_open (zhub_store_t *self, char *err, size_t err_size)
{
    int rc;
    if ((rc = mdb_env_create (&self->env)))
        return s_err (err, err_size, "mdb_env_create", rc);
    mdb_env_set_maxdbs (self->env, self->max_tables);
    mdb_env_set_maxreaders (self->env, 126);
    if ((rc = mdb_env_set_mapsize (self->env, self->map_size)))
        return s_err (err, err_size, "mdb_env_set_mapsize", rc);
    //  MDB_NOTLS: read transactions are not tied to threads (the gateway's
    //  workers). No NOSYNC flags: commits must be durable.
    if ((rc = mdb_env_open (self->env, self->path, MDB_NOTLS, 0600)))
        return s_err (err, err_size, self->path, rc);
    return 0;
}

zhub_store_t *
zhub_store_open (const zhub_store_config_t *config, char *err, size_t err_size)
{
    zhub_store_t *self = zhub_calloc (1, sizeof *self);
    pthread_rwlock_init (&self->resize_lock, NULL);
    self->path = zhub_sprintf ("%s/%s", config->data_dir, config->process);
    self->map_size = config->initial_map_size ? config->initial_map_size : 64UL << 20;
    self->max_map_size = config->max_map_size ? config->max_map_size : 64UL << 30;
    if (s_mkdirs (self->path)) {
        s_err (err, err_size, self->path, 0);
        goto fail;
    }
    self->max_tables = config->max_tables ? config->max_tables : 64;
    if (s_env_open (self, err, err_size))
        goto fail;
    //  The env may already be bigger than asked (an earlier run grew it).
    MDB_envinfo info;
    mdb_env_info (self->env, &info);
    if (info.me_mapsize > self->map_size)
        self->map_size = info.me_mapsize;
    int stale = 0;
    mdb_reader_check (self->env, &stale);
    if (zhub_store_table (self, "meta", &self->meta)) {
        s_err (err, err_size, "cannot open meta table", 0);
        goto fail;
    }
    s_schema_t schema = {.config = config};
    zhub_rc_t schema_rc = zhub_store_write (self, s_check_schema, &schema);
    if (schema_rc == ZHUB_REJECT) {
        if (err && err_size)
            snprintf (err, err_size, "%s: stored schema version %u is newer than this program's %u",
                      self->path, schema.stored, config->schema_version ? config->schema_version : 1);
        goto fail;
    }
    if (schema_rc != ZHUB_OK) {
        if (err && err_size)
            snprintf (err, err_size, "%s: schema check or migration failed", self->path);
        goto fail;
    }
    return self;
fail:
    zhub_store_destroy (&self);
    return NULL;
}

void
zhub_store_destroy (zhub_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_store_t *self = *self_p;
    if (self->batch) {
        //  never committed: nothing of it was acknowledged
        mdb_txn_abort (self->batch);
        self->batch = NULL;
        pthread_rwlock_unlock (&self->resize_lock);
    }
    if (self->env)
        mdb_env_close (self->env);
    pthread_rwlock_destroy (&self->resize_lock);
    for (size_t i = 0; i < self->table_count; i++)
        free (self->table_names[i]);
    free (self->table_names);
    free (self->path);
    free (self);
    *self_p = NULL;
}

int
zhub_store_table (zhub_store_t *self, const char *name, zhub_table_t *table)
{
    MDB_txn *txn;
    if (mdb_txn_begin (self->env, NULL, self->readonly ? MDB_RDONLY : 0, &txn))
        return -1;
    MDB_dbi dbi;
    if (mdb_dbi_open (txn, name, self->readonly ? 0 : MDB_CREATE, &dbi)) {
        mdb_txn_abort (txn);
        return -1;
    }
    if (mdb_txn_commit (txn))
        return -1;
    *table = dbi;
    for (size_t i = 0; i < self->table_count; i++)
        if (!strcmp (self->table_names[i], name))
            return 0;
    self->table_names = zhub_realloc (self->table_names, (self->table_count + 1) * sizeof (char *));
    self->table_names[self->table_count++] = zhub_strdup (name);
    return 0;
}

//  Doubles the map; called with no transaction open (the caller holds the
//  resize lock for writing).
static int
s_grow (zhub_store_t *self)
{
    if (self->map_size >= self->max_map_size)
        return -1;
    size_t grown = self->map_size * 2;
    if (grown > self->max_map_size)
        grown = self->max_map_size;
    if (mdb_env_set_mapsize (self->env, grown))
        return -1;
    self->map_size = grown;
    return 0;
}

//  Opens the batch's parent transaction (resize lock held for reading).
static int
s_batch_open (zhub_store_t *self)
{
    pthread_rwlock_rdlock (&self->resize_lock);
    int rc = mdb_txn_begin (self->env, NULL, 0, &self->batch);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize (self->env, 0);
        rc = mdb_txn_begin (self->env, NULL, 0, &self->batch);
    }
    if (rc) {
        self->batch = NULL;
        pthread_rwlock_unlock (&self->resize_lock);
        return -1;
    }
    self->batch_owner = pthread_self ();
    return 0;
}

//  Commits the parent transaction (one sync for every nested one).
static int
s_batch_close (zhub_store_t *self)
{
    int rc = mdb_txn_commit (self->batch);
    self->batch = NULL;
    pthread_rwlock_unlock (&self->resize_lock);
    return rc ? -1 : 0;
}

//  A transaction nested in the open batch: reads see the batch's earlier
//  writes; a write that fails or returns non-OK leaves the batch as it was.
//  A full map: what the batch holds so far is committed, the map grows, a
//  new batch opens and fn runs again there.
static zhub_rc_t
s_run_nested (zhub_store_t *self, zhub_store_fn *fn, void *arg, bool write)
{
    while (true) {
        zhub_txn_t txn = {.store = self};
        if (mdb_txn_begin (self->env, self->batch, 0, &txn.txn))
            return ZHUB_ERROR;
        zhub_rc_t result = fn (&txn, arg);
        if (result == ZHUB_OK && write && !txn.map_full) {
            int rc = mdb_txn_commit (txn.txn);
            if (rc == MDB_MAP_FULL)
                txn.map_full = true;
            else if (rc)
                result = ZHUB_ERROR;
        } else
            mdb_txn_abort (txn.txn);
        if (!txn.map_full)
            return result;
        if (s_batch_close (self))
            return ZHUB_ERROR;
        pthread_rwlock_wrlock (&self->resize_lock);
        int grown = s_grow (self);
        pthread_rwlock_unlock (&self->resize_lock);
        if (s_batch_open (self) || grown)
            return ZHUB_ERROR;
    }
}

int
zhub_store_batch_begin (zhub_store_t *self)
{
    if (self->readonly || self->batch)
        return -1;
    return s_batch_open (self);
}

zhub_rc_t
zhub_store_batch_commit (zhub_store_t *self)
{
    if (!self->batch || !pthread_equal (self->batch_owner, pthread_self ()))
        return ZHUB_ERROR;
    return s_batch_close (self) ? ZHUB_ERROR : ZHUB_OK;
}

static zhub_rc_t
s_run (zhub_store_t *self, zhub_store_fn *fn, void *arg, bool write)
{
    if (write && self->readonly)
        return ZHUB_ERROR;
    if (self->batch && pthread_equal (self->batch_owner, pthread_self ()))
        return s_run_nested (self, fn, arg, write);
    while (true) {
        pthread_rwlock_rdlock (&self->resize_lock);
        zhub_txn_t txn = {.store = self};
        int rc = mdb_txn_begin (self->env, NULL, write ? 0 : MDB_RDONLY, &txn.txn);
        if (rc == MDB_MAP_RESIZED) {
            //  another process grew the map: adopt its size
            mdb_env_set_mapsize (self->env, 0);
            rc = mdb_txn_begin (self->env, NULL, write ? 0 : MDB_RDONLY, &txn.txn);
        }
        if (rc) {
            pthread_rwlock_unlock (&self->resize_lock);
            return ZHUB_ERROR;
        }
        zhub_rc_t result = fn (&txn, arg);
        if (result == ZHUB_OK && write) {
            rc = mdb_txn_commit (txn.txn);
            if (rc == MDB_MAP_FULL)
                txn.map_full = true;
            else if (rc)
                result = ZHUB_ERROR;
        }
        else
            mdb_txn_abort (txn.txn);
        pthread_rwlock_unlock (&self->resize_lock);
        if (!txn.map_full)
            return result;
        pthread_rwlock_wrlock (&self->resize_lock);
        int grown = s_grow (self);
        pthread_rwlock_unlock (&self->resize_lock);
        if (grown)
            return ZHUB_ERROR;
    }
}

zhub_rc_t
zhub_store_write (zhub_store_t *self, zhub_store_fn *fn, void *arg)
{
    return s_run (self, fn, arg, true);
}

zhub_rc_t
zhub_store_read (zhub_store_t *self, zhub_store_fn *fn, void *arg)
{
    return s_run (self, fn, arg, false);
}

typedef struct {
    zhub_table_t table;
    const void *key;
    size_t key_size;
    char *value;
    size_t size;
} s_copy_t;

static zhub_rc_t
s_copy_fn (zhub_txn_t *txn, void *arg)
{
    s_copy_t *copy = arg;
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, copy->table, copy->key, copy->key_size, &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    //  the transaction may run again (a reader never does today): no leak
    free (copy->value);
    copy->value = malloc (size + 1);
    if (!copy->value)
        return ZHUB_ERROR;
    memcpy (copy->value, value, size);
    copy->value[size] = 0;
    copy->size = size;
    return ZHUB_OK;
}

zhub_rc_t
zhub_store_get_copy (zhub_store_t *self, zhub_table_t table, const void *key, size_t key_size,
                     char **value, size_t *size)
{
    s_copy_t copy = {.table = table, .key = key, .key_size = key_size};
    zhub_rc_t rc = zhub_store_read (self, s_copy_fn, &copy);
    if (rc != ZHUB_OK) {
        free (copy.value);
        copy.value = NULL;
        copy.size = 0;
    }
    *value = copy.value;
    if (size)
        *size = copy.size;
    return rc;
}

zhub_rc_t
zhub_txn_get (zhub_txn_t *txn, zhub_table_t table, const void *key, size_t key_size,
              const void **value, size_t *value_size)
{
    MDB_val k = {key_size, (void *) key}, v;
    int rc = mdb_get (txn->txn, table, &k, &v);
    if (rc == MDB_NOTFOUND)
        return ZHUB_NOTFOUND;
    if (rc)
        return ZHUB_ERROR;
    *value = v.mv_data;
    *value_size = v.mv_size;
    return ZHUB_OK;
}

zhub_rc_t
zhub_txn_put (zhub_txn_t *txn, zhub_table_t table, const void *key, size_t key_size,
              const void *value, size_t value_size)
{
    MDB_val k = {key_size, (void *) key}, v = {value_size, (void *) value};
    int rc = mdb_put (txn->txn, table, &k, &v, 0);
    if (rc == MDB_MAP_FULL)
        txn->map_full = true;
    return rc ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
zhub_txn_del (zhub_txn_t *txn, zhub_table_t table, const void *key, size_t key_size)
{
    MDB_val k = {key_size, (void *) key};
    int rc = mdb_del (txn->txn, table, &k, NULL);
    if (rc == MDB_NOTFOUND)
        return ZHUB_NOTFOUND;
    if (rc == MDB_MAP_FULL)
        txn->map_full = true;
    return rc ? ZHUB_ERROR : ZHUB_OK;
}

size_t
zhub_txn_count (zhub_txn_t *txn, zhub_table_t table)
{
    MDB_stat stat;
    if (mdb_stat (txn->txn, table, &stat))
        return 0;
    return stat.ms_entries;
}

zhub_cursor_t *
zhub_cursor_open (zhub_txn_t *txn, zhub_table_t table)
{
    zhub_cursor_t *self = zhub_calloc (1, sizeof *self);
    if (mdb_cursor_open (txn->txn, table, &self->cursor)) {
        free (self);
        return NULL;
    }
    return self;
}

void
zhub_cursor_destroy (zhub_cursor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mdb_cursor_close ((*self_p)->cursor);
    free (*self_p);
    *self_p = NULL;
}

static zhub_rc_t
s_cursor_get (zhub_cursor_t *self, MDB_val *k, MDB_cursor_op op, const void **key,
              size_t *key_size, const void **value, size_t *value_size)
{
    MDB_val v;
    int rc = mdb_cursor_get (self->cursor, k, &v, op);
    if (rc == MDB_NOTFOUND)
        return ZHUB_NOTFOUND;
    if (rc)
        return ZHUB_ERROR;
    if (key)
        *key = k->mv_data;
    if (key_size)
        *key_size = k->mv_size;
    if (value)
        *value = v.mv_data;
    if (value_size)
        *value_size = v.mv_size;
    return ZHUB_OK;
}

zhub_rc_t
zhub_cursor_seek (zhub_cursor_t *self, const void *key, size_t key_size, const void **found_key,
                  size_t *found_key_size, const void **value, size_t *value_size)
{
    MDB_val k = {key_size, (void *) key};
    return s_cursor_get (self, &k, key ? MDB_SET_RANGE : MDB_FIRST, found_key, found_key_size,
                         value, value_size);
}

zhub_rc_t
zhub_cursor_next (zhub_cursor_t *self, const void **key, size_t *key_size, const void **value,
                  size_t *value_size)
{
    MDB_val k;
    return s_cursor_get (self, &k, MDB_NEXT, key, key_size, value, value_size);
}

zhub_rc_t
zhub_cursor_last (zhub_cursor_t *self, const void **key, size_t *key_size, const void **value,
                  size_t *value_size)
{
    MDB_val k;
    return s_cursor_get (self, &k, MDB_LAST, key, key_size, value, value_size);
}

zhub_rc_t
zhub_cursor_del (zhub_cursor_t *self)
{
    int rc = mdb_cursor_del (self->cursor, 0);
    return rc ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
zhub_txn_delete_where (zhub_txn_t *txn, zhub_table_t table, zhub_store_row_fn *drop, void *arg,
                       size_t *removed)
{
    zhub_cursor_t *cursor = zhub_cursor_open (txn, table);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        if (drop (key, key_size, value, value_size, arg)) {
            if (zhub_cursor_del (cursor) != ZHUB_OK) {
                rc = ZHUB_ERROR;
                break;
            }
            (*removed)++;
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
zhub_txn_walk (zhub_txn_t *txn, zhub_table_t table, zhub_store_walk_fn *fn, void *arg)
{
    return zhub_txn_walk_prefix (txn, table, NULL, 0, fn, arg);
}

zhub_rc_t
zhub_txn_walk_prefix (zhub_txn_t *txn, zhub_table_t table, const void *prefix, size_t prefix_size,
                      zhub_store_walk_fn *fn, void *arg)
{
    assert (prefix || !prefix_size);
    zhub_cursor_t *cursor = zhub_cursor_open (txn, table);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc =
        zhub_cursor_seek (cursor, prefix, prefix_size, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK && key_size >= prefix_size
           && (!prefix_size || !memcmp (key, prefix, prefix_size))) {
        zhub_walk_t next = fn (key, key_size, value, value_size, arg);
        if (next != ZHUB_WALK_NEXT) {
            rc = next == ZHUB_WALK_STOP ? ZHUB_OK : ZHUB_ERROR;
            break;
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

void
zhub_store_key_u64 (uint8_t out[8], uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t) (value & 0xff);
        value >>= 8;
    }
}

uint64_t
zhub_store_u64 (const void *bytes)
{
    const uint8_t *p = bytes;
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | p[i];
    return value;
}

void
zhub_store_stats (zhub_store_t *self, zhub_store_stats_t *stats)
{
    MDB_envinfo info;
    MDB_stat stat;
    mdb_env_info (self->env, &info);
    mdb_env_stat (self->env, &stat);
    stats->map_size = info.me_mapsize;
    stats->max_map_size = self->max_map_size ? self->max_map_size : info.me_mapsize;
    stats->used_bytes = (info.me_last_pgno + 1) * (size_t) stat.ms_psize;
    stats->readers = info.me_numreaders;
}

const char *
zhub_store_path (zhub_store_t *self)
{
    return self->path;
}

zhub_store_t *
zhub_store_open_readonly (const char *data_dir, const char *process, char *err, size_t err_size)
{
    zhub_store_t *self = zhub_calloc (1, sizeof *self);
    pthread_rwlock_init (&self->resize_lock, NULL);
    self->readonly = true;
    self->path = zhub_sprintf ("%s/%s", data_dir, process);
    int rc;
    struct stat st;
    char *data_file = zhub_sprintf ("%s/data.mdb", self->path);
    bool exists = stat (data_file, &st) == 0;
    free (data_file);
    if (!exists) {
        if (err && err_size)
            snprintf (err, err_size, "%s: no store there", self->path);
        goto fail;
    }
    if ((rc = mdb_env_create (&self->env))) {
        s_err (err, err_size, "mdb_env_create", rc);
        goto fail;
    }
    mdb_env_set_maxdbs (self->env, 64);
    mdb_env_set_maxreaders (self->env, 126);
    //  Map size 0: adopt the size the writer recorded in the file.
    if ((rc = mdb_env_open (self->env, self->path, MDB_NOTLS | MDB_RDONLY, 0600))) {
        s_err (err, err_size, self->path, rc);
        goto fail;
    }
    MDB_envinfo info;
    mdb_env_info (self->env, &info);
    self->map_size = self->max_map_size = info.me_mapsize;
    return self;
fail:
    zhub_store_destroy (&self);
    return NULL;
}

int
zhub_store_copy_compact (zhub_store_t *self, const char *dest_dir, char *err, size_t err_size)
{
    if (s_mkdirs (dest_dir))
        return s_err (err, err_size, dest_dir, 0);
    pthread_rwlock_rdlock (&self->resize_lock);
    int rc = mdb_env_copy2 (self->env, dest_dir, MDB_CP_COMPACT);
    pthread_rwlock_unlock (&self->resize_lock);
    if (rc)
        return s_err (err, err_size, "mdb_env_copy2", rc);
    return 0;
}

static void
s_remove_dir (const char *dir)
{
    char *file = zhub_sprintf ("%s/data.mdb", dir);
    unlink (file);
    free (file);
    file = zhub_sprintf ("%s/lock.mdb", dir);
    unlink (file);
    free (file);
    rmdir (dir);
}

static int
s_fsync_path (const char *path, int flags)
{
    int fd = open (path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

//  Reopens the environment after the file was swapped, and its tables in
//  the order they were first opened: LMDB hands out named-table handles
//  from 2 in opening order, so every handle the process holds names the
//  same table as before.
static int
s_reopen (zhub_store_t *self, char *err, size_t err_size)
{
    if (s_env_open (self, err, err_size))
        return -1;
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc)
        return s_err (err, err_size, "mdb_txn_begin", rc);
    for (size_t i = 0; i < self->table_count; i++) {
        MDB_dbi dbi;
        rc = mdb_dbi_open (txn, self->table_names[i], MDB_CREATE, &dbi);
        if (!rc && dbi != (MDB_dbi)(i + 2)) {
            mdb_txn_abort (txn);
            if (err && err_size)
                snprintf (err, err_size, "%s: table %s changed handle after compaction", self->path,
                          self->table_names[i]);
            return -1;
        }
        if (rc) {
            mdb_txn_abort (txn);
            return s_err (err, err_size, self->table_names[i], rc);
        }
    }
    if ((rc = mdb_txn_commit (txn)))
        return s_err (err, err_size, "mdb_txn_commit", rc);
    return 0;
}

int
zhub_store_compact (zhub_store_t *self, char *err, size_t err_size)
{
    if (self->readonly) {
        if (err && err_size)
            snprintf (err, err_size, "%s: opened read-only", self->path);
        return -1;
    }
    char *tmp = zhub_sprintf ("%s/compact.tmp", self->path);
    char *file = zhub_sprintf ("%s/data.mdb", tmp);
    char *live = zhub_sprintf ("%s/data.mdb", self->path);
    char *lock = zhub_sprintf ("%s/lock.mdb", self->path);
    int result = -1;
    s_remove_dir (tmp); //  a crash during an earlier compaction
    if (mkdir (tmp, 0700)) {
        s_err (err, err_size, tmp, 0);
        goto done;
    }
    pthread_rwlock_wrlock (&self->resize_lock);
    int rc = mdb_env_copy2 (self->env, tmp, MDB_CP_COMPACT);
    if (rc || s_fsync_path (file, O_RDONLY)) {
        pthread_rwlock_unlock (&self->resize_lock);
        s_remove_dir (tmp);
        s_err (err, err_size, "compacting copy", rc);
        goto done;
    }
    //  Swap: the rename is atomic, so after a crash the folder holds either
    //  the old file or the compacted one, both complete. The lock file goes
    //  too: its reader table describes the old file.
    mdb_env_close (self->env);
    self->env = NULL;
    int swapped = rename (file, live);
    if (!swapped)
        s_fsync_path (self->path, O_RDONLY | O_DIRECTORY);
    unlink (lock);
    s_remove_dir (tmp);
    result = s_reopen (self, err, err_size);
    pthread_rwlock_unlock (&self->resize_lock);
    if (swapped && !result)
        result = s_err (err, err_size, "rename", 0);
done:
    free (tmp);
    free (file);
    free (live);
    free (lock);
    return result;
}
