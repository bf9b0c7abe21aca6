//  The broker's loop and its construction, at the top of the server's
//  files. One thread owns the socket, the store and all state, so nothing
//  is locked. A turn (broker_turn.h has the whole picture):
//    1. drain up to batch_max frames without blocking (broker_commands.c);
//    2. fire timers into more ops, store group floors (broker_deliver.c);
//    3. apply every op and the maintenance due in ONE write transaction
//       (group commit: one fsync for the whole turn) and only then answer
//       PUBACK/JOINED (broker_commit.c); if the commit fails, answer 503
//       and rebuild what memory got ahead of the store;
//    4. fill the groups' windows from the log and send deliveries
//       (broker_deliver.c); forget silent peers (broker_peers.c).
#include "broker_server.h"

#include "broker_access.h"
#include "broker_commands.h"
#include "broker_commit.h"
#include "broker_deliver.h"
#include "broker_maintenance.h"
#include "broker_metrics.h"
#include "zhub_admin.h"
#include "broker_peers.h"
#include "broker_tap.h"
#include "zhub_log.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <zmq.h>

//  --------------------------------------------------------------------------
//  The loop

static void
s_turn (broker_server_t *self)
{
    self->now = zhub_now_ms ();
    for (uint32_t i = 0; i < self->config.batch_max; i++)
        if (broker_commands_recv_one (self) <= 0)
            break;
    broker_deliver_timers (self);
    broker_deliver_group_ops (self);
    broker_maintenance_due (self);
    if (self->op_count > 0 || self->sweep)
        broker_commit (self);
    broker_deliver_fill (self);
    broker_deliver_dispatch (self);
    broker_peers_expire (self);
    if (self->admin) {
        zhub_admin_beat (self->admin, zhub_mono_ms ());
        broker_metrics_update (self, self->metrics, false);
    }
    broker_access_refresh (self);
}

static int
s_timeout (broker_server_t *self)
{
    int64_t now = zhub_now_ms ();
    int64_t wake = now + BROKER_POLL_MAX_MS;
    int64_t timer = broker_groups_next_timer (self->groups);
    if (timer < wake)
        wake = timer;
    if (self->next_release_ms < wake)
        wake = self->next_release_ms;
    if (self->next_client_check_ms < wake)
        wake = self->next_client_check_ms;
    if (self->next_sweep_ms < wake)
        wake = self->next_sweep_ms;
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        if (group->dirty
            || (broker_group_has_room (self->groups, group) && group->scan <= self->log->last))
            return 0;
    }
    return wake > now ? (int)(wake - now) : 0;
}

int
broker_server_run (broker_server_t *self, volatile sig_atomic_t *stop)
{
    while (!*stop) {
        zmq_pollitem_t items[2] = {{self->sock, 0, ZMQ_POLLIN, 0}, {self->tap, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll (items, self->tap ? 2 : 1, s_timeout (self));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            zhub_error ("poll_failed", "error=\"%s\"", zmq_strerror (errno));
            return -1;
        }
        if (self->tap && (items[1].revents & ZMQ_POLLIN))
            broker_tap_subscriptions (self);
        s_turn (self);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Construction

static int
s_bind (broker_server_t *self, char *err, size_t err_size)
{
    if (broker_access_start (self, err, err_size))
        return -1;
    self->sock = zmq_socket (self->ctx, ZMQ_ROUTER);
    if (!self->sock || broker_access_server_socket (self, self->sock)) {
        snprintf (err, err_size, "cannot create socket: %s", zmq_strerror (errno));
        return -1;
    }
    int one = 1, linger = BROKER_LINGER_MS, hwm = self->config.send_hwm;
    int ivl = (int)self->config.heartbeat_ms, timeout = 3 * ivl,
        ttl = BROKER_FORGET_INTERVALS * ivl;
    int64_t max_size = ZHUB_FRAME_MAX_SIZE;
    zmq_setsockopt (self->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt (self->sock, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    zmq_setsockopt (self->sock, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
    zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout);
    zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_TTL, &ttl, sizeof ttl);
    zmq_setsockopt (self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind (self->sock, self->config.endpoint)) {
        snprintf (err, err_size, "cannot bind %s: %s", self->config.endpoint, zmq_strerror (errno));
        return -1;
    }
    size_t size = sizeof self->endpoint;
    if (zmq_getsockopt (self->sock, ZMQ_LAST_ENDPOINT, self->endpoint, &size))
        snprintf (self->endpoint, sizeof self->endpoint, "%s", self->config.endpoint);
    if (!self->config.tap[0])
        return 0;
    self->tap = zmq_socket (self->ctx, ZMQ_XPUB);
    int tap_hwm = BROKER_TAP_HWM, zero = 0;
    if (self->tap) {
        zmq_setsockopt (self->tap, ZMQ_SNDHWM, &tap_hwm, sizeof tap_hwm);
        zmq_setsockopt (self->tap, ZMQ_LINGER, &zero, sizeof zero);
        //  subscriptions are the broker's to apply (broker_tap.c)
        zmq_setsockopt (self->tap, ZMQ_XPUB_MANUAL, &one, sizeof one);
        if (broker_access_server_socket (self, self->tap)) {
            snprintf (err, err_size, "cannot set the tap's CURVE keys");
            return -1;
        }
    }
    if (!self->tap || zmq_bind (self->tap, self->config.tap)) {
        int error = errno;
        if (self->tap)
            zmq_close (self->tap);
        self->tap = NULL;
        //  the tap is a convenience: a default endpoint that is taken (a
        //  second broker on this machine, say) must not stop the broker;
        //  one the operator asked for must
        if (self->config.tap_explicit) {
            snprintf (err, err_size, "cannot bind the tap %s: %s", self->config.tap,
                      zmq_strerror (error));
            return -1;
        }
        zhub_warn ("tap_unavailable", "endpoint=%s error=\"%s\"", self->config.tap,
                   zmq_strerror (error));
        return 0;
    }
    size = sizeof self->tap_endpoint;
    if (zmq_getsockopt (self->tap, ZMQ_LAST_ENDPOINT, self->tap_endpoint, &size))
        snprintf (self->tap_endpoint, sizeof self->tap_endpoint, "%s", self->config.tap);
    return 0;
}

//  What a restarted broker still holds for later delivery.
static zhub_rc_t
s_peek_delayed (zhub_txn_t *txn, void *arg)
{
    broker_server_t *self = arg;
    return broker_delayed_peek (&self->delayed, txn, &self->next_release_ms, &self->held);
}

broker_server_t *
broker_server_new (const broker_config_t *config, char *err, size_t err_size)
{
    broker_server_t *self = zhub_calloc (1, sizeof *self);
    self->config = *config;
    self->now = self->started_ms = zhub_now_ms ();
    self->next_sweep_ms = self->now + config->sweep_interval_ms;
    self->last_sweep_ms = self->now;
    self->next_client_check_ms = self->now + config->heartbeat_ms;
    self->next_floor_flush_ms = self->now + BROKER_FLOOR_FLUSH_MS;
    self->clients = broker_map_new ();
    self->next_release_ms = INT64_MAX;
    //  what the retention walk may skip (see s_trim_verdict in broker_maintenance.c)
    self->trim_min_age_ms = INT64_MAX;
    for (size_t i = 0; i <= config->retention_count; i++) {
        const broker_retention_t *rule =
            i < config->retention_count ? &config->retention[i] : &config->retention_default;
        if (rule->max_age_ms > 0 && rule->max_age_ms < self->trim_min_age_ms)
            self->trim_min_age_ms = rule->max_age_ms;
        self->trim_bytes = self->trim_bytes || rule->max_bytes > 0;
    }
    self->trim_on = self->trim_bytes || self->trim_min_age_ms != INT64_MAX;
    //  Tags start at the clock shifted left 20 bits: a restarted broker's
    //  tags are above every tag the last run handed out unless it gave out
    //  more than a million per millisecond of its life.
    self->groups = broker_groups_new (config->window, (uint64_t)self->now << 20,
                                      (uint64_t)self->now ^ ((uint64_t)getpid () << 32));
    char *broadcast[BROKER_BROADCAST_MAX];
    for (size_t i = 0; i < config->broadcast_count; i++)
        broadcast[i] = (char *)config->broadcast[i];
    broker_groups_set_broadcast (self->groups, broadcast, config->broadcast_count);
    zhub_store_config_t store_config = {
        .data_dir = config->data_dir,
        .process = "broker",
        .schema_version = BROKER_SCHEMA_VERSION,
        .max_map_size = config->max_map_size,
        .initial_map_size = config->max_map_size < ((size_t)64 << 20) ? config->max_map_size : 0,
    };
    self->store = zhub_store_open (&store_config, err, err_size);
    if (!self->store)
        goto fail;
    self->log = broker_log_new (self->store, config->dedup_window_ms);
    if (!self->log || broker_state_open (&self->state, self->store)
        || zhub_store_table (self->store, "erasures", &self->erasures)
        || broker_delayed_open (&self->delayed, self->store)
        || zhub_store_read (self->store, s_peek_delayed, self) != ZHUB_OK) {
        snprintf (err, err_size, "cannot open the broker's tables");
        goto fail;
    }
    if (broker_state_load_groups (&self->state, self->groups) != ZHUB_OK) {
        snprintf (err, err_size, "cannot load consumer groups (corrupt record?)");
        goto fail;
    }
    broker_groups_link_replicas (self->groups);
    self->erase_pending = true; //  the first sweep looks for requests left from the last run
    if (s_bind (self, err, err_size))
        goto fail;
    if (config->admin_on) {
        self->metrics = zhub_metrics_new ();
        broker_metrics_declare (self->metrics);
        char why[200];
        self->admin = zhub_admin_new (&config->admin, self->metrics, why, sizeof why);
        if (!self->admin) {
            snprintf (err, err_size, "ZHUB_BROKER_ADMIN_LISTEN: %s", why);
            goto fail;
        }
        broker_metrics_update (self, self->metrics, true);
        //  ready: its store is open and its socket bound
        zhub_admin_ready (self->admin, true, NULL);
    }
    return self;
fail:
    broker_server_destroy (&self);
    return NULL;
}

void
broker_server_destroy (broker_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_server_t *self = *self_p;
    if (self->sock)
        zmq_close (self->sock);
    if (self->tap)
        zmq_close (self->tap);
    broker_access_stop (self);
    zhub_admin_destroy (&self->admin);
    zhub_metrics_destroy (&self->metrics);
    broker_turn_ops_clear (self);
    free (self->ops);
    broker_peers_free_all (self);
    broker_map_destroy (&self->clients);
    broker_groups_destroy (&self->groups);
    broker_log_destroy (&self->log);
    zhub_store_destroy (&self->store);
    free (self);
    *self_p = NULL;
}

const char *
broker_server_endpoint (broker_server_t *self)
{
    return self->endpoint;
}

const char *
broker_server_tap_endpoint (broker_server_t *self)
{
    return self->tap ? self->tap_endpoint : "off";
}
