//  Access control (see broker_access.h): zauth for the handshake, the
//  allow-list for every frame, and cutting off revoked keys.
#include "broker_access.h"

#include "broker_tap.h"
#include "zhub_log.h"

#include <czmq.h>
#include <stdio.h>
#include <string.h>

#define S_ZAP_DOMAIN "zhub"

static bool
s_curve (const broker_server_t *self)
{
    return self->config.security == ZHUB_BUS_CURVE;
}

int
broker_access_start (broker_server_t *self, char *err, size_t err_size)
{
    if (!s_curve (self)) {
        self->ctx = zmq_ctx_new ();
        self->own_ctx = true;
        if (!self->ctx)
            snprintf (err, err_size, "cannot create a ZeroMQ context: %s", zmq_strerror (errno));
        return self->ctx ? 0 : -1;
    }
    //  zauth serves ZAP in czmq's process-wide context, so the broker's
    //  sockets are made there too; czmq must leave SIGINT/SIGTERM to main
    zsys_handler_set (NULL);
    self->ctx = zsys_init ();
    self->own_ctx = false;
    if (!self->ctx) {
        snprintf (err, err_size, "cannot start czmq");
        return -1;
    }
    self->keys = broker_keys_new (self->config.keys_dir, true);
    snprintf (self->zap_dir, sizeof self->zap_dir, "%s/broker/zap-keys", self->config.data_dir);
    if (broker_keys_mirror (self->keys, self->zap_dir)) {
        snprintf (err, err_size, "cannot write zauth's copy of the allow-list in %s",
                  self->zap_dir);
        return -1;
    }
    zhub_info ("keys_active", "dir=%s keys=%zu generation=%llu", self->config.keys_dir,
               broker_keys_count (self->keys),
               (unsigned long long)broker_keys_generation (self->keys));
    zactor_t *auth = zactor_new (zauth, NULL);
    if (!auth) {
        snprintf (err, err_size, "cannot start czmq's zauth");
        return -1;
    }
    zstr_sendx (auth, "CURVE", self->zap_dir, NULL);
    zsock_wait (auth);
    self->zauth = auth;
    self->next_keys_check_ms = self->now + self->config.heartbeat_ms;
    if (broker_keys_count (self->keys) == 0)
        zhub_warn ("no_keys",
                   "keys_dir=%s reason=\"the allow-list is empty: nobody can connect "
                   "until zhub keys new adds a key\"",
                   self->config.keys_dir);
    return 0;
}

int
broker_access_server_socket (broker_server_t *self, void *sock)
{
    if (!s_curve (self))
        return 0;
    int one = 1;
    if (zmq_setsockopt (sock, ZMQ_CURVE_SERVER, &one, sizeof one)
        || zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, self->config.secret_key, 40)
        || zmq_setsockopt (sock, ZMQ_ZAP_DOMAIN, S_ZAP_DOMAIN, strlen (S_ZAP_DOMAIN)))
        return -1;
    return 0;
}

void
broker_access_stop (broker_server_t *self)
{
    if (self->zauth) {
        zactor_t *auth = self->zauth;
        zactor_destroy (&auth);
        self->zauth = NULL;
    }
    broker_keys_destroy (&self->keys);
    if (self->ctx && self->own_ctx)
        zmq_ctx_term (self->ctx);
    self->ctx = NULL;
}

//  The peer loses what its key gave it: memberships end and its deliveries
//  in flight go back to their groups at once.
static void
s_cut_off (broker_server_t *self, broker_client_t *client, const char *why)
{
    const char *names[ZHUB_FRAME_MAX_TOPICS];
    size_t count = broker_groups_of (self->groups, client, names, ZHUB_FRAME_MAX_TOPICS);
    for (size_t i = 0; i < count; i++) {
        broker_group_t *group = broker_groups_find (self->groups, names[i]);
        if (group)
            broker_groups_leave (self->groups, group, client);
    }
    zhub_warn ("peer_cut_off", "client=%s key=%s reason=\"%s\" groups=%zu", client->label,
               client->key_name[0] ? client->key_name : "-", why, count);
    client->user[0] = 0;
    client->key_name[0] = 0;
    client->key = NULL;
    client->owner = 0;
}

static uint64_t
s_owner (const char *user)
{
    uint64_t hash = 1469598103934665603ULL;
    for (const char *p = user; *p; p++)
        hash = (hash ^ (uint8_t)*p) * 1099511628211ULL;
    return hash ? hash : 1;
}

typedef struct {
    broker_server_t *self;
    bool revoked;
} s_sweep_t;

static void
s_recheck_client (const void *key, size_t key_size, void *value, void *arg)
{
    (void)key;
    (void)key_size;
    broker_client_t *client = value;
    s_sweep_t *sweep = arg;
    if (!client->user[0])
        return;
    const zhub_key_t *found = broker_keys_find (sweep->self->keys, client->user);
    //  the table was read anew: what client->key pointed at is gone
    client->key = found;
    client->key_generation = broker_keys_generation (sweep->self->keys);
    if (!found)
        s_cut_off (sweep->self, client, "key revoked");
}

//  The allow-list was read again: zauth's copy follows, and peers whose key
//  went are cut off. keys_before: the public keys it held before.
//  zauth's copy follows the table; then the keys are in force.
static void
s_mirror (broker_server_t *self)
{
    if (broker_keys_mirror (self->keys, self->zap_dir))
        zhub_error ("zap_keys_failed", "dir=%s", self->zap_dir);
    else
        zhub_info ("keys_active", "dir=%s keys=%zu generation=%llu", self->config.keys_dir,
                   broker_keys_count (self->keys),
                   (unsigned long long)broker_keys_generation (self->keys));
}

static void
s_reloaded (broker_server_t *self, char (*keys_before)[ZHUB_KEY_Z85_SIZE], size_t before)
{
    s_mirror (self);
    s_sweep_t sweep = {self, false};
    broker_map_each (self->clients, s_recheck_client, &sweep);
    bool removed = false;
    for (size_t i = 0; i < before && !removed; i++)
        removed = broker_keys_find (self->keys, keys_before[i]) == NULL;
    //  a tap subscriber is known to the XPUB only by its connection: end
    //  them all; those still allowed come back through zauth
    if (removed)
        broker_tap_rebind (self);
}

static void
s_refresh_now (broker_server_t *self)
{
    size_t before = broker_keys_count (self->keys);
    char (*keys_before)[ZHUB_KEY_Z85_SIZE] = zhub_calloc (before ? before : 1, ZHUB_KEY_Z85_SIZE);
    for (size_t i = 0; i < before; i++)
        memcpy (keys_before[i], broker_keys_at (self->keys, i)->public_key, ZHUB_KEY_Z85_SIZE);
    if (broker_keys_refresh (self->keys))
        s_reloaded (self, keys_before, before);
    free (keys_before);
}

void
broker_access_refresh (broker_server_t *self)
{
    if (!s_curve (self) || self->now < self->next_keys_check_ms)
        return;
    self->next_keys_check_ms = self->now + self->config.heartbeat_ms;
    s_refresh_now (self);
}

bool
broker_access_identify (broker_server_t *self, broker_client_t *client, zmq_msg_t *body)
{
    if (!s_curve (self))
        return true;
    const char *user = zmq_msg_gets (body, "User-Id");
    char reason[200];
    if (!user || !zhub_key_z85_valid (user)) {
        broker_turn_error (self, client, 0, ZHUB_ERR_UNAUTHORIZED, "no key on this connection");
        return false;
    }
    //  ZMQ_ROUTER_HANDOVER gives a routing id to its newest connection: a
    //  peer that now speaks with another key is not the one that joined
    if (client->user[0] && strcmp (client->user, user))
        s_cut_off (self, client, "its routing id is used by another key now");
    if (!client->key || strcmp (client->user, user)
        || client->key_generation != broker_keys_generation (self->keys)) {
        const zhub_key_t *key = broker_keys_find (self->keys, user);
        if (!key) {
            //  zauth let it in, so the files may just have changed
            s_refresh_now (self);
            key = broker_keys_find (self->keys, user);
        }
        if (!key) {
            snprintf (reason, sizeof reason, "key %.40s is not in the allow-list (revoked?)", user);
            zhub_info ("frame_refused", "client=%s key=%.40s reason=\"not allowed\"", client->label,
                       user);
            broker_turn_error (self, client, 0, ZHUB_ERR_UNAUTHORIZED, reason);
            return false;
        }
        snprintf (client->user, sizeof client->user, "%s", user);
        snprintf (client->key_name, sizeof client->key_name, "%s", key->name);
        client->key = key;
        client->key_generation = broker_keys_generation (self->keys);
        client->owner = s_owner (user);
    }
    return true;
}

static bool
s_forbidden (broker_server_t *self, broker_client_t *client, uint64_t seq, const char *reason)
{
    char safe[300];
    zhub_info ("forbidden", "client=%s key=%s reason=%s", client->label,
               client->key ? client->key->name : "-", zhub_log_quote (reason, safe, sizeof safe));
    broker_turn_error (self, client, seq, ZHUB_ERR_FORBIDDEN, reason);
    return false;
}

bool
broker_access_publish (broker_server_t *self, broker_client_t *client, uint64_t seq,
                       const char *topic)
{
    if (!client->key || zhub_key_may_publish (client->key, topic))
        return true;
    char reason[400], safe[80];
    snprintf (reason, sizeof reason, "key %s may not publish %s%s", client->key->name,
              zhub_log_safe (topic, safe, sizeof safe),
              zhub_topic_is_admin (topic) && !client->key->admin ? " (an admin topic)" : "");
    self->rejected++;
    return s_forbidden (self, client, seq, reason);
}

bool
broker_access_join (broker_server_t *self, broker_client_t *client, uint64_t seq,
                    char *const *patterns, size_t count, char *const *existing,
                    size_t existing_count)
{
    if (!client->key)
        return true;
    for (size_t i = 0; i < count + existing_count; i++) {
        const char *pattern = i < count ? patterns[i] : existing[i - count];
        if (zhub_key_may_consume (client->key, pattern))
            continue;
        char reason[400], safe[80];
        snprintf (reason, sizeof reason, "key %s may not consume %s%s", client->key->name,
                  zhub_log_safe (pattern, safe, sizeof safe),
                  i < count ? "" : " (a pattern the group already has)");
        return s_forbidden (self, client, seq, reason);
    }
    return true;
}

bool
broker_access_admin (broker_server_t *self, broker_client_t *client, uint64_t seq, const char *what)
{
    if (!client->key || client->key->admin)
        return true;
    char reason[200];
    snprintf (reason, sizeof reason, "%s needs an admin key; key %s is not one", what,
              client->key->name);
    return s_forbidden (self, client, seq, reason);
}

bool
broker_access_answer (broker_server_t *self, broker_client_t *client, const broker_entry_t *entry)
{
    if (!client->key || entry->owner == client->owner)
        return true;
    return s_forbidden (self, client, 0, "this delivery was made to another key");
}
