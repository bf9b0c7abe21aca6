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

//  Publishes the spool's oldest entries until it is empty, in order: a
//  batch is deleted only once every message in it was confirmed, and the
//  next batch is read only then, so nothing overtakes anything. A crash
//  between the PUBACK and the delete re-publishes that batch on restart;
//  the broker's dedup by id absorbs it.
void *
zhub_gateway_server_drainer (void *arg)
{
    zhub_gateway_server_t *self = arg;
    zhub_client_t *client = NULL;
    int64_t waiting_ms = 1000;
    while (!s_drain_wait (self, zhub_gateway_spool_depth (self->spool) > 0 ? 0 : waiting_ms)) {
        if (zhub_gateway_spool_depth (self->spool) == 0)
            continue;
        if (!client)
            client = zhub_client_new (self->config->broker, "zhub-gateway-spool");
        zhub_msg_list_t list = {0};
        uint64_t last = 0;
        size_t skipped = 0;
        zhub_rc_t rc = zhub_gateway_spool_peek (self->spool, s_DRAIN_BATCH, &list, &last, &skipped);
        if (rc == ZHUB_OK && list.count > 0 && client) {
            zhub_rc_t *results = zhub_calloc (list.count, sizeof *results);
            int64_t started = zhub_mono_ms ();
            rc = zhub_client_publish_many (client, list.items, list.count,
                                           (int)self->config->publish_timeout_ms, results);
            free (results);
            if (rc == ZHUB_OK) {
                zhub_gateway_metrics_publish_latency (self->metrics,
                                                      (double)(zhub_mono_ms () - started));
                zhub_gateway_metrics_drained (self->metrics, list.count);
            }
            //  A refusal (never expected: we validated them) must not block
            //  the spool forever: it is logged and dropped like an undecodable entry.
            if (rc == ZHUB_REJECT)
                zhub_error ("spool_rejected", "count=%zu first_id=%s", list.count,
                            list.items[0]->id);
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
                s_drain_wait (self, s_DRAIN_PAUSE_MS);
                continue;
            }
            if (!atomic_exchange (&self->broker_up, true))
                zhub_info ("broker_up", "via=spool");
            zhub_info ("spool_drained", "count=%zu depth=%lld", count,
                       (long long)zhub_gateway_spool_depth (self->spool));
            continue;
        }
        if (atomic_exchange (&self->broker_up, false))
            zhub_warn ("broker_down", "via=spool depth=%lld",
                       (long long)zhub_gateway_spool_depth (self->spool));
        //  A fresh socket next time: a broker that restarted may have lost
        //  our half-sent frames.
        zhub_client_destroy (&client);
        if (s_drain_wait (self, s_DRAIN_PAUSE_MS))
            break;
    }
    zhub_client_destroy (&client);
    return NULL;
}
