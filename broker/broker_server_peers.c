//  The broker's peers: the routing ids it has heard from, sending frames to
//  them without ever blocking, and forgetting those that went silent.
#include "broker_server_internal.h"

static void
s_client_gone (broker_server_t *self, s_client_t *client)
{
    if (client->gone)
        return;
    client->gone = true;
    broker_groups_forget (self->groups, client);
    zhub_info ("peer_gone", "client=%s", client->label);
}

s_client_t *
broker_server_client (broker_server_t *self, const uint8_t *id, size_t id_size)
{
    s_client_t *client = broker_map_get (self->clients, id, id_size);
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

//  Sends one frame to a peer without blocking. Returns 0, or -1 when the
//  peer is gone (EHOSTUNREACH: it is forgotten) or its queue is full.
int
broker_server_send (broker_server_t *self, s_client_t *client, const zhub_frame_t *frame)
{
    if (client->gone)
        return -1;
    uint8_t *buf;
    size_t size;
    if (zhub_frame_encode (frame, &buf, &size))
        return -1;
    int rc = zmq_send (self->sock, client->id, client->id_size, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0)
        rc = zmq_send (self->sock, buf, size, ZMQ_DONTWAIT);
    int error = errno;
    free (buf);
    if (rc < 0) {
        if (error == EHOSTUNREACH)
            s_client_gone (self, client);
        else
            zhub_warn ("send_failed", "client=%s cmd=%s error=\"%s\"", client->label,
                       zhub_cmd_name (frame->cmd), zmq_strerror (error));
        return -1;
    }
    return 0;
}

void
broker_server_error (broker_server_t *self, s_client_t *client, uint64_t seq, uint32_t code,
                     const char *reason)
{
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_ERROR);
    frame->seq = seq;
    frame->code = code;
    frame->reason = zhub_strdup (reason);
    broker_server_send (self, client, frame);
    zhub_frame_destroy (&frame);
}

typedef struct {
    s_client_t **list;
    size_t count, cap;
    int64_t cutoff;
} s_expire_t;

static void
s_collect_expired (const void *key, size_t key_size, void *value, void *arg)
{
    (void)key;
    (void)key_size;
    s_client_t *client = value;
    s_expire_t *expire = arg;
    if (!client->gone && client->last_seen_ms >= expire->cutoff)
        return;
    if (expire->count == expire->cap) {
        expire->cap = expire->cap ? expire->cap * 2 : 16;
        expire->list = zhub_realloc (expire->list, expire->cap * sizeof (s_client_t *));
    }
    expire->list[expire->count++] = client;
}

//  Forgets peers that went silent (and frees those found gone).
void
broker_server_expire_clients (broker_server_t *self)
{
    if (self->now < self->next_client_check_ms)
        return;
    self->next_client_check_ms = self->now + self->config.heartbeat_ms;
    s_expire_t expire = {.cutoff = self->now - S_FORGET_INTERVALS * self->config.heartbeat_ms};
    broker_map_each (self->clients, s_collect_expired, &expire);
    for (size_t i = 0; i < expire.count; i++) {
        s_client_t *client = expire.list[i];
        if (!client->gone) {
            const char *names[1];
            if (broker_groups_of (self->groups, client, names, 1))
                zhub_info ("member_forgotten", "client=%s silent_ms=%lld", client->label,
                           (long long)(self->now - client->last_seen_ms));
            broker_groups_forget (self->groups, client);
        }
        broker_map_del (self->clients, client->id, client->id_size);
        free (client);
    }
    free (expire.list);
}
