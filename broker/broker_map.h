//  A small hash map from byte-string keys to pointers, used by the broker
//  for its in-memory indexes (groups by name, clients by routing id,
//  deliveries by tag, subjects seen in a dispatch round). Keys are copied;
//  values are borrowed (the map never frees them). Separate chaining keeps
//  deletion simple; the table doubles when it holds more entries than
//  buckets, so lookups stay O(1) on average.
#ifndef BROKER_MAP_H
#define BROKER_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct broker_map_t broker_map_t;

broker_map_t *broker_map_new (void);

//  Frees the map and its keys (not the values); NULL-safe; nulls *self_p.
void broker_map_destroy (broker_map_t **self_p);

//  The value stored under key, or NULL.
void *broker_map_get (broker_map_t *self, const void *key, size_t key_size);

//  Stores value under key, replacing any previous value.
void broker_map_put (broker_map_t *self, const void *key, size_t key_size, void *value);

//  Removes key. Returns the value it had, or NULL.
void *broker_map_del (broker_map_t *self, const void *key, size_t key_size);

//  Removes every entry (keeps the buckets).
void broker_map_clear (broker_map_t *self);

size_t broker_map_size (broker_map_t *self);

//  Convenience for NUL-terminated keys and integer keys.
void *broker_map_get_str (broker_map_t *self, const char *key);
void broker_map_put_str (broker_map_t *self, const char *key, void *value);
void *broker_map_del_str (broker_map_t *self, const char *key);
void *broker_map_get_u64 (broker_map_t *self, uint64_t key);
void broker_map_put_u64 (broker_map_t *self, uint64_t key, void *value);
void *broker_map_del_u64 (broker_map_t *self, uint64_t key);

//  Calls fn for every entry; fn must not change the map.
typedef void (broker_map_fn) (const void *key, size_t key_size, void *value, void *arg);
void broker_map_each (broker_map_t *self, broker_map_fn *fn, void *arg);

#endif
