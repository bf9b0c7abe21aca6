//  The spool's drain thread: publishes what the spool holds, oldest first,
//  while webhooks keep being accepted, and tracks whether the broker is up.
#include "server_internal.h"

void
zhub_gateway_server_drain_wake (zhub_gateway_server_t *self)
{
    pthread_mutex_lock (&self->drain_lock);
    pthread_cond_broadcast (&self->drain_wake);
    pthread_mutex_unlock (&self->drain_lock);
}

//  Waits up to ms or until woken; returns true when stopping.
static bool
s_drain_wait (zhub_gateway_server_t *self, int64_t ms)
{
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->drain_lock);
    if (!self->stopping)
        pthread_cond_timedwait (&self->drain_wake, &self->drain_lock, &until);
    bool stopping = self->stopping;
    pthread_mutex_unlock (&self->drain_lock);
    return stopping;
}

//  Publishes the spool's oldest batch, in order: a batch is deleted only
//  once every message in it was confirmed, and the next batch is read only
//  then, so nothing overtakes anything. A crash between the PUBACK and the
//  delete re-publishes that batch on restart; the broker's dedup by id
//  absorbs it. Returns ZHUB_OK when a batch left the spool, else
//  ZHUB_RETRY (the broker is away: *client_p is dropped, so that a broker
//  that restarted gets a fresh socket without our half-sent frames).
static zhub_rc_t
s_drain_batch (zhub_gateway_server_t *self, zhub_client_t **client_p, int64_t timeout_ms)
{
    if (!*client_p)
        *client_p = zhub_client_new (self->config->broker, "zhub-gateway-spool", &self->config->bus);
    zhub_msg_list_t list = {0};
    uint64_t last = 0;
    size_t skipped = 0;
    zhub_rc_t rc = zhub_gateway_spool_peek (self->spool, s_DRAIN_BATCH, &list, &last, &skipped);
    if (rc == ZHUB_OK && list.count > 0 && *client_p) {
        zhub_rc_t *results = zhub_calloc (list.count, sizeof *results);
        int64_t started = zhub_mono_ms ();
        rc = zhub_client_publish_many (*client_p, list.items, list.count, (int)timeout_ms, results);
        //  One refusal beside an entry the broker did not confirm is not a
        //  reason to drop the batch: the unconfirmed one was acknowledged
        //  to its provider and must be published again (same id: dedup).
        for (size_t i = 0; rc == ZHUB_REJECT && i < list.count; i++)
            if (results[i] != ZHUB_OK && results[i] != ZHUB_REJECT)
                rc = ZHUB_RETRY;
        free (results);
        if (rc == ZHUB_OK) {
            zhub_gateway_metrics_publish_latency (self->metrics,
                                                  (double)(zhub_mono_ms () - started));
            zhub_gateway_metrics_drained (self->metrics, list.count);
        }
        //  A refusal (never expected: we validated them) must not block
        //  the spool forever: it is logged and dropped like an undecodable entry.
        if (rc == ZHUB_REJECT)
            zhub_error ("spool_rejected", "count=%zu first_id=%s", list.count, list.items[0]->id);
    } else if (rc == ZHUB_OK && list.count == 0)
        rc = ZHUB_OK; //  only undecodable entries: drop them
    else
        rc = rc == ZHUB_OK ? ZHUB_RETRY : rc;
    if (skipped)
        zhub_error ("spool_undecodable", "count=%zu", skipped);
    size_t count = list.count;
    zhub_msg_list_clear (&list);
    if (rc == ZHUB_OK || rc == ZHUB_REJECT) {
        if (zhub_gateway_spool_remove (self->spool, last) != ZHUB_OK) {
            zhub_error ("spool_remove_failed", "last=%llu", (unsigned long long)last);
            return ZHUB_RETRY;
        }
        if (!atomic_exchange (&self->broker_up, true))
            zhub_info ("broker_up", "via=spool");
        zhub_info ("spool_drained", "count=%zu depth=%lld", count,
                   (long long)zhub_gateway_spool_depth (self->spool));
        return ZHUB_OK;
    }
    if (atomic_exchange (&self->broker_up, false))
        zhub_warn ("broker_down", "via=spool depth=%lld",
                   (long long)zhub_gateway_spool_depth (self->spool));
    zhub_client_destroy (client_p);
    return ZHUB_RETRY;
}

//  The drain thread's loop. At stop, one last drain, so that a gateway
//  stopped with its broker up leaves nothing behind: bounded by the publish
//  timeout, or by a second when the broker was last seen away (so that a
//  stop with the broker down stays quick). What is left is drained at the
//  next start.
void *
zhub_gateway_server_drainer (void *arg)
{
    zhub_gateway_server_t *self = arg;
    zhub_client_t *client = NULL;
    int64_t waiting_ms = 1000, timeout_ms = self->config->publish_timeout_ms;
    while (!s_drain_wait (self, zhub_gateway_spool_depth (self->spool) > 0 ? 0 : waiting_ms)) {
        if (zhub_gateway_spool_depth (self->spool) == 0)
            continue;
        if (s_drain_batch (self, &client, timeout_ms) != ZHUB_OK
            && s_drain_wait (self, s_DRAIN_PAUSE_MS))
            break;
    }
    int64_t budget = atomic_load (&self->broker_up) || timeout_ms < 1000 ? timeout_ms : 1000;
    int64_t until = zhub_mono_ms () + budget;
    while (zhub_gateway_spool_depth (self->spool) > 0) {
        int64_t left = until - zhub_mono_ms ();
        if (left <= 0 || s_drain_batch (self, &client, left) != ZHUB_OK)
            break;
    }
    if (zhub_gateway_spool_depth (self->spool) > 0)
        zhub_warn ("spool_left", "depth=%lld note=\"drained at the next start\"",
                   (long long)zhub_gateway_spool_depth (self->spool));
    zhub_client_destroy (&client);
    return NULL;
}
