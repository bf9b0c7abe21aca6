//  The broker's allow-list: the directory of public key files
//  ($ZHUB_BUS_KEYS, by default <data dir>/broker/keys), read into a table
//  from public key to what it may do (proto/zhub_keys.h), and read again
//  whenever the directory changes, so that `zhub keys new` and `zhub keys
//  revoke` take effect without a restart.
//
//  The broker's thread reads it (which key sent this frame, and may it?)
//  and keeps a copy of the public keys in a directory of its own for
//  czmq's zauth actor (may this key connect at all?), so nothing is shared
//  between threads. Only regular files named *.key directly in the directory count
//  (revoked/ and anything else are left alone); a file that does not parse
//  is skipped (and logged by the broker's reader); of two files with one
//  key, the first by name wins.
#ifndef BROKER_KEYS_H
#define BROKER_KEYS_H

#include "zhub_keys.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct broker_keys_t broker_keys_t;

//  Reads dir (which may be empty or not exist yet). verbose: log each file
//  skipped and each change. Never NULL.
broker_keys_t *broker_keys_new (const char *dir, bool verbose);

//  Frees the table; NULL-safe; nulls *self_p.
void broker_keys_destroy (broker_keys_t **self_p);

//  Reads the directory again when it changed since the last read (a file
//  added, removed, renamed or rewritten). Returns 1 when it read it (the
//  generation went up; keys found earlier are invalid), 0 when nothing
//  changed.
int broker_keys_refresh (broker_keys_t *self);

//  The key with this public key (Z85), or NULL. Valid until the next
//  refresh that returns 1.
const zhub_key_t *broker_keys_find (const broker_keys_t *self, const char *public_key);

//  How many keys the table holds, and the key at index i (0 <= i < count).
size_t broker_keys_count (const broker_keys_t *self);
const zhub_key_t *broker_keys_at (const broker_keys_t *self, size_t i);

//  Goes up by one each time the table is read again.
uint64_t broker_keys_generation (const broker_keys_t *self);

//  Writes the table's public keys into dir as czmq certificates (one file
//  per key, named by its hex, no metadata) and removes every other file:
//  the directory zauth's "CURVE" command watches. zauth reads a
//  certificate's metadata into a fixed 512-byte buffer and aborts on two
//  files with one key, so it is never pointed at the operator's files,
//  only at this copy the broker keeps. Returns 0, or -1 when a file could
//  not be written or removed.
int broker_keys_mirror (const broker_keys_t *self, const char *dir);

#endif
