//  Chained hash map with FNV-1a hashing. The broker's maps are small to
//  medium (groups, clients, a window of deliveries), so a plain design that
//  is obviously correct beats a clever one.
#include "broker_map.h"
#include "zhub_common.h"

#include <stdlib.h>
#include <string.h>

typedef struct s_node_t {
    struct s_node_t *next;
    uint64_t hash;
    void *value;
    size_t key_size;
    uint8_t key[];
} s_node_t;

struct broker_map_t {
    s_node_t **buckets;
    size_t bucket_count;
    size_t size;
};

static uint64_t
s_hash (const void *key, size_t key_size)
{
    const uint8_t *p = key;
    uint64_t hash = 1469598103934665603ULL;
    for (size_t i = 0; i < key_size; i++) {
        hash ^= p[i];
        hash *= 1099511628211ULL;
    }
    return hash;
}

broker_map_t *
broker_map_new (void)
{
    broker_map_t *self = zhub_calloc (1, sizeof *self);
    self->bucket_count = 16;
    self->buckets = zhub_calloc (self->bucket_count, sizeof (s_node_t *));
    return self;
}

void
broker_map_clear (broker_map_t *self)
{
    for (size_t i = 0; i < self->bucket_count; i++) {
        s_node_t *node = self->buckets[i];
        while (node) {
            s_node_t *next = node->next;
            free (node);
            node = next;
        }
        self->buckets[i] = NULL;
    }
    self->size = 0;
}

void
broker_map_destroy (broker_map_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_map_t *self = *self_p;
    broker_map_clear (self);
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

static s_node_t **
s_find (broker_map_t *self, const void *key, size_t key_size, uint64_t hash)
{
    s_node_t **link = &self->buckets[hash & (self->bucket_count - 1)];
    while (*link) {
        s_node_t *node = *link;
        if (node->hash == hash && node->key_size == key_size
            && (key_size == 0 || memcmp (node->key, key, key_size) == 0))
            return link;
        link = &node->next;
    }
    return link;
}

static void
s_grow (broker_map_t *self)
{
    size_t count = self->bucket_count * 2;
    s_node_t **buckets = zhub_calloc (count, sizeof (s_node_t *));
    for (size_t i = 0; i < self->bucket_count; i++) {
        s_node_t *node = self->buckets[i];
        while (node) {
            s_node_t *next = node->next;
            size_t slot = node->hash & (count - 1);
            node->next = buckets[slot];
            buckets[slot] = node;
            node = next;
        }
    }
    free (self->buckets);
    self->buckets = buckets;
    self->bucket_count = count;
}

void *
broker_map_get (broker_map_t *self, const void *key, size_t key_size)
{
    s_node_t **link = s_find (self, key, key_size, s_hash (key, key_size));
    return *link ? (*link)->value : NULL;
}

void
broker_map_put (broker_map_t *self, const void *key, size_t key_size, void *value)
{
    uint64_t hash = s_hash (key, key_size);
    s_node_t **link = s_find (self, key, key_size, hash);
    if (*link) {
        (*link)->value = value;
        return;
    }
    s_node_t *node = zhub_malloc (sizeof *node + key_size);
    node->next = NULL;
    node->hash = hash;
    node->value = value;
    node->key_size = key_size;
    if (key_size)
        memcpy (node->key, key, key_size);
    *link = node;
    if (++self->size > self->bucket_count)
        s_grow (self);
}

void *
broker_map_del (broker_map_t *self, const void *key, size_t key_size)
{
    s_node_t **link = s_find (self, key, key_size, s_hash (key, key_size));
    s_node_t *node = *link;
    if (!node)
        return NULL;
    void *value = node->value;
    *link = node->next;
    free (node);
    self->size--;
    return value;
}

size_t
broker_map_size (broker_map_t *self)
{
    return self->size;
}

void *
broker_map_get_str (broker_map_t *self, const char *key)
{
    return broker_map_get (self, key, strlen (key));
}

void
broker_map_put_str (broker_map_t *self, const char *key, void *value)
{
    broker_map_put (self, key, strlen (key), value);
}

void *
broker_map_del_str (broker_map_t *self, const char *key)
{
    return broker_map_del (self, key, strlen (key));
}

void *
broker_map_get_u64 (broker_map_t *self, uint64_t key)
{
    return broker_map_get (self, &key, sizeof key);
}

void
broker_map_put_u64 (broker_map_t *self, uint64_t key, void *value)
{
    broker_map_put (self, &key, sizeof key, value);
}

void *
broker_map_del_u64 (broker_map_t *self, uint64_t key)
{
    return broker_map_del (self, &key, sizeof key);
}

void
broker_map_each (broker_map_t *self, broker_map_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->bucket_count; i++)
        for (s_node_t *node = self->buckets[i]; node; node = node->next)
            fn (node->key, node->key_size, node->value, arg);
}
