//  The broker's loop and its construction, at the top of the server's
//  files. One thread owns the socket and all state in memory; a second
//  one, the commit thread (broker_committer.c), runs the turn's write
//  transaction while the loop goes on reading. A turn (broker_turn.h has
//  the whole picture):
//    1. take back a finished transaction and answer it (broker_commit.c);
//    2. drain up to batch_max frames without blocking (broker_commands.c)
//       into the op list; while a transaction is in flight the list grows
//       to at most batch_max ops, then the loop waits for the commit;
//    3. when no transaction is in flight: fire timers into more ops, store
//       group floors (broker_deliver.c), and hand the whole list over as
//       ONE write transaction (group commit: one fsync for everything that
//       arrived while the previous one synced). Only once it committed
//       are PUBACK/JOINED/PONG sent (broker_commit.c); if the commit
//       fails, answer 503 and rebuild what memory got ahead of the store;
//    4. fill the groups' windows from the committed log and send
//       deliveries (broker_deliver.c); forget silent peers
//       (broker_peers.c) when no transaction (holding peers) is in flight.
#include "broker_server.h"

#include "broker_commands.h"
#include "broker_commit.h"
#include "broker_committer.h"
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

//  Room for more frames: while a transaction is in flight the next one
//  collects at most batch_max ops, and reading stops at a frame that must
//  wait for the commit (broker_commands.h).
static bool
s_room (const broker_server_t *self)
{
    return !self->in_flight || (self->ops.count < self->config.batch_max && !self->stashed);
}

static void
s_turn (broker_server_t *self)
{
    self->now = zhub_now_ms ();
    //  A transaction came back: everything in memory is stored now (what
    //  was read meanwhile is publishes, which change nothing in memory
    //  before their commit), so deliveries may go out.
    if (broker_commit_poll (self, false)) {
        broker_deliver_fill (self);
        broker_deliver_dispatch (self);
    }
    if (self->in_flight) {
        for (uint32_t i = 0; i < self->config.batch_max && s_room (self); i++)
            if (broker_commands_recv_one (self, true) <= 0)
                break;
    } else {
        broker_commands_stashed (self);
        for (uint32_t i = 0; i < self->config.batch_max; i++)
            if (broker_commands_recv_one (self, false) <= 0)
                break;
        broker_deliver_timers (self);
        broker_deliver_group_ops (self);
        broker_maintenance_due (self);
        if (self->ops.count > 0 || self->sweep)
            broker_commit (self);
    }
    //  committed on the loop thread (or nothing to store): deliver now;
    //  handed to the commit thread: once it is back (above)
    if (!self->in_flight) {
        broker_deliver_fill (self);
        broker_deliver_dispatch (self);
        broker_peers_expire (self);
    }
    if (self->admin) {
        zhub_admin_beat (self->admin, zhub_mono_ms ());
        broker_metrics_update (self, self->metrics, false);
    }
}

static int
s_timeout (broker_server_t *self)
{
    int64_t now = zhub_now_ms ();
    int64_t wake = now + BROKER_POLL_MAX_MS;
    //  timers, releases, peer checks and sweeps wait while a transaction is
    //  in flight (the commit thread's pipe wakes the loop): no busy wait
    int64_t timer = self->in_flight ? INT64_MAX : broker_groups_next_timer (self->groups);
    if (timer < wake)
        wake = timer;
    if (!self->in_flight && self->next_release_ms < wake)
        wake = self->next_release_ms;
    if (!self->in_flight && self->next_client_check_ms < wake)
        wake = self->next_client_check_ms;
    if (!self->in_flight && self->next_sweep_ms < wake)
        wake = self->next_sweep_ms;
    for (size_t g = 0; !self->in_flight && g < self->groups->count; g++) {
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
    int rc = 0;
    while (!*stop) {
        //  the socket only while there is room for its frames; the commit
        //  thread's pipe while a transaction is in flight
        zmq_pollitem_t items[3];
        int count = 0, tap_at = -1;
        if (s_room (self))
            items[count++] = (zmq_pollitem_t){self->sock, 0, ZMQ_POLLIN, 0};
        if (self->tap) {
            tap_at = count;
            items[count++] = (zmq_pollitem_t){self->tap, 0, ZMQ_POLLIN, 0};
        }
        if (self->in_flight)
            items[count++] =
                (zmq_pollitem_t){NULL, broker_committer_fd (self->committer), ZMQ_POLLIN, 0};
        int polled = zmq_poll (items, count, s_timeout (self));
        if (polled < 0 && errno == EINTR)
            continue;
        if (polled < 0) {
            zhub_error ("poll_failed", "error=\"%s\"", zmq_strerror (errno));
            rc = -1;
            break;
        }
        if (tap_at >= 0 && (items[tap_at].revents & ZMQ_POLLIN))
            broker_tap_subscriptions (self);
        s_turn (self);
    }
    //  what is in flight is committed and answered before the loop ends
    broker_commit_poll (self, true);
    return rc;
}

//  --------------------------------------------------------------------------
//  Construction

static int
s_bind (broker_server_t *self, char *err, size_t err_size)
{
    self->ctx = zmq_ctx_new ();
    self->sock = self->ctx ? zmq_socket (self->ctx, ZMQ_ROUTER) : NULL;
    if (!self->sock) {
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
    self->erase_pending = true; //  the first sweep looks for requests left from the last run
    if (s_bind (self, err, err_size))
        goto fail;
    if (broker_commit_thread_start (self)) {
        snprintf (err, err_size, "cannot start the commit thread");
        goto fail;
    }
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
    broker_commit_poll (self, true);
    broker_committer_destroy (&self->committer);
    if (self->sock)
        zmq_close (self->sock);
    if (self->tap)
        zmq_close (self->tap);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    zhub_admin_destroy (&self->admin);
    zhub_metrics_destroy (&self->metrics);
    zhub_frame_destroy (&self->stashed);
    broker_turn_ops_clear (&self->ops);
    free (self->ops.list);
    free (self->committing.list);
    free (self->pubacks);
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
