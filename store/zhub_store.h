//  The one LMDB layer: the only code in zhub that calls mdb_*.
//
//  One environment per process, under $ZHUB_DATA_DIR/<process>/. Work is
//  done in short transactions run through zhub_store_write/_read: the
//  callback does its gets and puts, and the store commits. When the map is
//  full (MDB_MAP_FULL) the store aborts, doubles the map (up to the
//  configured ceiling) and runs the callback again, so a full map never
//  takes a process down — the callback must therefore have no side effects
//  outside the transaction. Integer keys are big-endian (zhub_store_key_u64)
//  so cursors walk them in numeric order. A "meta" table holds the schema
//  version; zhub_store_open runs the migration callback when the stored
//  version is older than the code's, and refuses a newer one.
//
//  Durability: commits are synchronous (no MDB_NOSYNC, MDB_NOMETASYNC or
//  MDB_MAPASYNC): when zhub_store_write returns ZHUB_OK the data is on disk.
//  Never use a store after fork().
#ifndef ZHUB_STORE_H
#define ZHUB_STORE_H

#include "zhub_common.h"

#include <stddef.h>
#include <stdint.h>

typedef struct zhub_store_t zhub_store_t;
typedef struct zhub_txn_t zhub_txn_t;
typedef struct zhub_cursor_t zhub_cursor_t;
typedef unsigned int zhub_table_t;

//  Runs inside a transaction. Return ZHUB_OK to commit (write) or to finish
//  (read); anything else aborts and is returned to the caller.
typedef zhub_rc_t (zhub_store_fn) (zhub_txn_t *txn, void *arg);

typedef struct {
    const char *data_dir;        //  parent folder ($ZHUB_DATA_DIR); created if missing
    const char *process;         //  subfolder name, e.g. "broker"
    size_t initial_map_size;     //  bytes; 0 = 64 MiB
    size_t max_map_size;         //  growth ceiling in bytes; 0 = 64 GiB
    unsigned max_tables;         //  named tables; 0 = 64
    uint32_t schema_version;     //  the version this code expects; 0 = 1
    //  Called in a write transaction when the stored version is older
    //  (from_version is 0 for a new store). NULL = nothing to migrate.
    zhub_rc_t (*migrate) (zhub_txn_t *txn, uint32_t from_version, void *arg);
    void *migrate_arg;
} zhub_store_config_t;

//  Opens (creating as needed) the environment at data_dir/process, clears
//  stale reader slots left by killed processes, checks the schema version
//  and migrates. Returns NULL with a reason in err on failure, including a
//  stored schema newer than this code.
zhub_store_t *zhub_store_open (const zhub_store_config_t *config, char *err, size_t err_size);

//  Closes the environment; NULL-safe; nulls *self_p. No transaction may be
//  running.
void zhub_store_destroy (zhub_store_t **self_p);

//  Opens or creates a named table. Call at start, before any concurrent
//  use. Returns 0, or -1 when the table cannot be opened.
int zhub_store_table (zhub_store_t *self, const char *name, zhub_table_t *table);

//  Runs fn in a write transaction and commits when it returns ZHUB_OK.
//  Returns fn's result; ZHUB_ERROR when the commit fails (disk full, I/O
//  error) or when the map cannot grow further. Transactions are serialized.
zhub_rc_t zhub_store_write (zhub_store_t *self, zhub_store_fn *fn, void *arg);

//  Runs fn in a read-only transaction (a consistent snapshot).
zhub_rc_t zhub_store_read (zhub_store_t *self, zhub_store_fn *fn, void *arg);

//  One value, read in a read transaction of its own, as a copy: *value is a
//  fresh heap buffer (the caller frees it) holding *size bytes plus a NUL
//  after them, so text values read as C strings. Returns ZHUB_OK,
//  ZHUB_NOTFOUND (*value NULL, *size 0) or ZHUB_ERROR. For a lookup of
//  one key outside a larger transaction; inside one, zhub_txn_get. size
//  may be NULL.
zhub_rc_t zhub_store_get_copy (zhub_store_t *self, zhub_table_t table, const void *key,
                               size_t key_size, char **value, size_t *size);

//  Group commit for a single-threaded process (the actors): between
//  zhub_store_batch_begin and zhub_store_batch_commit, every
//  zhub_store_write and zhub_store_read on the calling thread runs as a
//  transaction nested in one parent write transaction: each still commits
//  or aborts on its own, reads see the batch's earlier writes, and the
//  commit makes them all durable with one sync. Nothing is durable before
//  the batch commit, so acknowledge nothing before it. A full map commits
//  what the batch holds so far, grows, and goes on in a new batch. Other
//  threads are not batched (their writes wait for the batch to end).
//  begin returns 0, or -1 (read-only store, batch already open, LMDB
//  error); commit returns ZHUB_OK or ZHUB_ERROR (the batch is lost).
int zhub_store_batch_begin (zhub_store_t *self);
zhub_rc_t zhub_store_batch_commit (zhub_store_t *self);

//  Reads a value. *value points into the map and stays valid until the
//  transaction ends. Returns ZHUB_OK, ZHUB_NOTFOUND or ZHUB_ERROR.
zhub_rc_t zhub_txn_get (zhub_txn_t *txn, zhub_table_t table, const void *key, size_t key_size,
                        const void **value, size_t *value_size);

//  Writes a value (write transactions only). Returns ZHUB_OK or ZHUB_ERROR;
//  on ZHUB_ERROR the callback must return it (the store handles a full map
//  by growing it and running the callback again).
zhub_rc_t zhub_txn_put (zhub_txn_t *txn, zhub_table_t table, const void *key, size_t key_size,
                        const void *value, size_t value_size);

//  Deletes a key. Returns ZHUB_OK, ZHUB_NOTFOUND or ZHUB_ERROR.
zhub_rc_t zhub_txn_del (zhub_txn_t *txn, zhub_table_t table, const void *key, size_t key_size);

//  Number of entries in a table.
size_t zhub_txn_count (zhub_txn_t *txn, zhub_table_t table);

//  A cursor over a table, valid until the transaction ends or it is closed.
zhub_cursor_t *zhub_cursor_open (zhub_txn_t *txn, zhub_table_t table);
void zhub_cursor_destroy (zhub_cursor_t **self_p);

//  Positions at the first key >= key (key NULL: the first key) and returns
//  it. ZHUB_OK, ZHUB_NOTFOUND (nothing there) or ZHUB_ERROR.
zhub_rc_t zhub_cursor_seek (zhub_cursor_t *self, const void *key, size_t key_size,
                            const void **found_key, size_t *found_key_size, const void **value,
                            size_t *value_size);

//  Moves to the next key. ZHUB_OK, ZHUB_NOTFOUND at the end, or ZHUB_ERROR.
zhub_rc_t zhub_cursor_next (zhub_cursor_t *self, const void **key, size_t *key_size,
                            const void **value, size_t *value_size);

//  Positions at the last key. ZHUB_OK, ZHUB_NOTFOUND when empty, ZHUB_ERROR.
zhub_rc_t zhub_cursor_last (zhub_cursor_t *self, const void **key, size_t *key_size,
                            const void **value, size_t *value_size);

//  Deletes the entry under the cursor (write transactions only); the next
//  zhub_cursor_next returns the entry after it.
zhub_rc_t zhub_cursor_del (zhub_cursor_t *self);

//  Says whether an entry goes. key and value point into the map; the
//  callback may keep state in arg but must not write to the table.
typedef bool (zhub_store_row_fn) (const void *key, size_t key_size, const void *value,
                                  size_t value_size, void *arg);

//  Walks table in key order and deletes every entry drop() names (write
//  transactions only); adds how many to *removed, also when it fails part
//  way. Returns ZHUB_OK or ZHUB_ERROR; on ZHUB_ERROR the callback must
//  return it.
zhub_rc_t zhub_txn_delete_where (zhub_txn_t *txn, zhub_table_t table, zhub_store_row_fn *drop,
                                 void *arg, size_t *removed);

//  What a walk does after an entry.
typedef enum {
    ZHUB_WALK_NEXT, //  go on to the next entry
    ZHUB_WALK_STOP, //  stop here; the walk returns ZHUB_OK
    ZHUB_WALK_FAIL  //  stop here; the walk returns ZHUB_ERROR
} zhub_walk_t;

//  Visits one entry. key and value point into the map and stay valid until
//  the transaction ends. The callback must not write to the table being
//  walked (that would move the cursor under it); in a write transaction it
//  may write to other tables (pass the transaction in arg), and when such
//  a write fails it returns ZHUB_WALK_FAIL, so that the store callback
//  returns ZHUB_ERROR in turn.
typedef zhub_walk_t (zhub_store_walk_fn) (const void *key, size_t key_size, const void *value,
                                          size_t value_size, void *arg);

//  Calls fn on every entry of table in key order from the first, until fn
//  says stop or fail or the table ends. Returns ZHUB_OK (the end reached,
//  fn said stop, or the table is empty) or ZHUB_ERROR (fn said fail, or
//  LMDB failed: fn may have seen some entries by then).
zhub_rc_t zhub_txn_walk (zhub_txn_t *txn, zhub_table_t table, zhub_store_walk_fn *fn, void *arg);

//  The same over the entries whose key starts with prefix (prefix_size
//  bytes; 0: every entry), in key order.
zhub_rc_t zhub_txn_walk_prefix (zhub_txn_t *txn, zhub_table_t table, const void *prefix,
                                size_t prefix_size, zhub_store_walk_fn *fn, void *arg);

//  Big-endian encoding of integer keys so that byte order is numeric order.
void zhub_store_key_u64 (uint8_t out[8], uint64_t value);
uint64_t zhub_store_u64 (const void *bytes);

typedef struct {
    size_t map_size;       //  current map size in bytes
    size_t max_map_size;   //  the ceiling it may grow to (zhub_store_config_t.max_map_size)
    size_t used_bytes;     //  pages in use x page size
    unsigned readers;      //  reader slots in use
} zhub_store_stats_t;

//  Figures for STATS and metrics.
void zhub_store_stats (zhub_store_t *self, zhub_store_stats_t *stats);

//  Opens an existing environment read-only, from another process than its
//  writer (the CLI reading an actor's store while the actor runs; LMDB
//  allows any number of readers beside one writer). Creates nothing:
//  tables must exist (zhub_store_table fails otherwise), zhub_store_write
//  returns ZHUB_ERROR. No schema check or migration. Returns NULL with a
//  reason in err when there is no store at data_dir/process.
zhub_store_t *zhub_store_open_readonly (const char *data_dir, const char *process, char *err,
                                        size_t err_size);

//  Writes a compacted copy of the environment into dest_dir (created if
//  missing; must not hold a data.mdb yet): only live pages are copied, so
//  bytes left in freed pages (deleted personal data) are not in the copy.
//  Runs a read transaction; writers may go on meanwhile (their later
//  commits are not in the copy). Returns 0, or -1 with a reason in err.
int zhub_store_copy_compact (zhub_store_t *self, const char *dest_dir, char *err,
                             size_t err_size);

//  Rewrites the environment in place as a compacted copy, so that bytes
//  left in freed pages (erased personal data) are gone from the file: copy,
//  fsync, atomic rename over data.mdb, reopen with every table keeping its
//  handle. No transaction may be running in the process (the call waits
//  for the ones on other threads), and no other process may write the
//  environment (zhub's rule: one writer process per store; readers in other
//  processes keep their snapshot of the old file). Returns 0, or -1 with a
//  reason in err; when the copy fails the store is unchanged, when
//  reopening fails (a disk fault) the store is unusable and the process
//  should exit.
int zhub_store_compact (zhub_store_t *self, char *err, size_t err_size);

//  The folder of the environment (data_dir/process).
const char *zhub_store_path (zhub_store_t *self);

#endif
