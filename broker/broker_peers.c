//  The peers the broker knows (see broker_peers.h): one map from routing
//  id to broker_client_t, filled as frames arrive and pruned by silence.
#include "broker_peers.h"

#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

broker_client_t *
broker_peers_client (broker_server_t *self, const uint8_t *id, size_t id_size)
{
    broker_client_t *client = broker_map_get (self->clients, id, id_size);
    if (!client) {
        client = zhub_calloc (1, sizeof *client);
        memcpy (client->id, id, id_size);
        client->id_size = id_size;
        bool printable = id_size > 0;
        for (size_t i = 0; i < id_size; i++)
            printable = printable && id[i] > 0x20 && id[i] < 0x7f && id[i] != '"' && id[i] != '\\';
        if (printable)
            snprintf (client->label, sizeof client->label, "%.*s", (int)id_size, (const char *)id);
        else {
            size_t used = snprintf (client->label, sizeof client->label, "0x");
            for (size_t i = 0; i < id_size && used + 3 < sizeof client->label; i++)
                used += snprintf (client->label + used, sizeof client->label - used, "%02x", id[i]);
        }
        broker_map_put (self->clients, client->id, client->id_size, client);
    }
    //  a peer we gave up on talks again: it is back (its memberships are
    //  gone; PONG tells it so and it joins again)
    client->gone = false;
    client->last_seen_ms = self->now;
    return client;
}

typedef struct {
    broker_client_t **list;
    size_t count, cap;
    int64_t cutoff;
} s_expire_t;

static void
s_collect_expired (const void *key, size_t key_size, void *value, void *arg)
{
    (void)key;
    (void)key_size;
    broker_client_t *client = value;
    s_expire_t *expire = arg;
    if (!client->gone && client->last_seen_ms >= expire->cutoff)
        return;
    if (expire->count == expire->cap) {
        expire->cap = expire->cap ? expire->cap * 2 : 16;
        expire->list = zhub_realloc (expire->list, expire->cap * sizeof (broker_client_t *));
    }
    expire->list[expire->count++] = client;
}

//  Forgets peers that went silent (and frees those found gone).
void
broker_peers_expire (broker_server_t *self)
{
    if (self->now < self->next_client_check_ms)
        return;
    self->next_client_check_ms = self->now + self->config.heartbeat_ms;
    s_expire_t expire = {.cutoff = self->now - BROKER_FORGET_INTERVALS * self->config.heartbeat_ms};
    broker_map_each (self->clients, s_collect_expired, &expire);
    for (size_t i = 0; i < expire.count; i++) {
        broker_client_t *client = expire.list[i];
        if (!client->gone) {
            const char *names[1];
            if (broker_groups_of (self->groups, client, names, 1))
                zhub_info ("member_forgotten", "client=%s silent_ms=%lld", client->label,
                           (long long)(self->now - client->last_seen_ms));
            broker_groups_forget (self->groups, client);
        }
        broker_map_del (self->clients, client->id, client->id_size);
        free (client->instance);
        free (client);
    }
    free (expire.list);
}

static void
s_free_client (const void *key, size_t key_size, void *value, void *arg)
{
    (void)key;
    (void)key_size;
    (void)arg;
    broker_client_t *client = value;
    free (client->instance);
    free (client);
}

void
broker_peers_free_all (broker_server_t *self)
{
    broker_map_each (self->clients, s_free_client, NULL);
}
