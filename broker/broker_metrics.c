//  The broker's metrics (see broker_metrics.h): figures the loop copies
//  from its state into the registry, on the loop's own thread.
#include "broker_metrics.h"

#include <string.h>

static const double s_ops_buckets[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

void
broker_metrics_declare (zhub_metrics_t *m)
{
    zhub_metrics_declare (m, "zhub_broker_published_total", ZHUB_COUNTER,
                          "Publishes confirmed (stored) since start.", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_duplicates_total", ZHUB_COUNTER,
                          "Publishes answered as duplicates (dedup) since start.", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_rejected_total", ZHUB_COUNTER,
                          "Publishes refused since start.", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_topic_messages", ZHUB_GAUGE,
                          "Messages retained in the log, by topic.", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_topic_bytes", ZHUB_GAUGE,
                          "Envelope bytes retained in the log, by topic.", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_group_lag", ZHUB_GAUGE,
                          "Messages a group has still to process (committed, not acked).", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_group_in_flight", ZHUB_GAUGE,
                          "Deliveries handed out and not yet answered, by group.", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_group_waiting_retry", ZHUB_GAUGE,
                          "Messages waiting for their retry time, by group.", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_group_redeliveries_total", ZHUB_COUNTER,
                          "Deliveries of a message after its first, by group.", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_dead_letters_total", ZHUB_COUNTER,
                          "Messages dead-lettered, by group.", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_group_oldest_unacked_age_seconds", ZHUB_GAUGE,
                          "Age of the oldest message a group has not acked (0: none).", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_commit_seconds", ZHUB_HISTOGRAM,
                          "A turn's write transaction, its disk sync included.",
                          zhub_metrics_latency_buckets, zhub_metrics_latency_bucket_count);
    zhub_metrics_declare (m, "zhub_broker_commit_ops", ZHUB_HISTOGRAM,
                          "Ops committed in one transaction (group commit size).", s_ops_buckets,
                          sizeof s_ops_buckets / sizeof s_ops_buckets[0]);
    zhub_metrics_declare (m, "zhub_broker_clients", ZHUB_GAUGE, "Peers connected.", NULL, 0);
    zhub_metrics_declare (m, "zhub_broker_delayed", ZHUB_GAUGE,
                          "Messages held for later delivery (deliverat).", NULL, 0);
    zhub_metrics_declare (m, "zhub_store_used_bytes", ZHUB_GAUGE,
                          "Bytes of the process's LMDB store in use.", NULL, 0);
    zhub_metrics_declare (m, "zhub_store_limit_bytes", ZHUB_GAUGE,
                          "The size the process's LMDB store may grow to.", NULL, 0);
}

typedef struct {
    broker_server_t *self;
    zhub_metrics_t *m;
} s_read_t;

static void
s_topic (const char *topic, size_t topic_size, uint64_t count, uint64_t bytes, void *arg)
{
    s_read_t *read = arg;
    char name[ZHUB_MSG_MAX_TYPE + 1], labels[320] = "";
    snprintf (name, sizeof name, "%.*s", (int)topic_size, topic);
    zhub_metrics_label (labels, sizeof labels, "topic", name);
    zhub_metrics_set (read->m, "zhub_broker_topic_messages", labels, (double)count);
    zhub_metrics_set (read->m, "zhub_broker_topic_bytes", labels, (double)bytes);
}

static zhub_rc_t
s_read_fn (zhub_txn_t *txn, void *arg)
{
    s_read_t *read = arg;
    broker_server_t *self = read->self;
    broker_log_topics (self->log, txn, ZHUB_METRICS_MAX_SERIES, s_topic, read);
    for (size_t g = 0; g < self->groups->count; g++) {
        const broker_group_t *group = self->groups->list[g];
        char labels[200] = "";
        zhub_metrics_label (labels, sizeof labels, "group", group->name);
        double age = 0;
        broker_record_t record;
        if (group->floor <= self->log->last
            && broker_log_read (self->log, txn, group->floor, &record) == ZHUB_OK
            && self->now > record.stored_ms)
            age = (double)(self->now - record.stored_ms) / 1000.0;
        zhub_metrics_set (read->m, "zhub_broker_group_oldest_unacked_age_seconds", labels, age);
    }
    return ZHUB_OK;
}

//  A counter set to a total the broker keeps itself.
static void
s_total (zhub_metrics_t *m, const char *name, const char *labels, double total)
{
    double now = zhub_metrics_value (m, name, labels);
    if (total > now)
        zhub_metrics_count (m, name, labels, total - now);
}

void
broker_metrics_update (broker_server_t *self, zhub_metrics_t *m, bool force)
{
    if (!m || (!force && self->now < self->metrics_next_ms))
        return;
    self->metrics_next_ms = self->now + BROKER_METRICS_EVERY_MS;
    s_total (m, "zhub_broker_published_total", "", (double)self->published);
    s_total (m, "zhub_broker_duplicates_total", "", (double)self->duplicates);
    s_total (m, "zhub_broker_rejected_total", "", (double)self->rejected);
    for (size_t g = 0; g < self->groups->count; g++) {
        const broker_group_t *group = self->groups->list[g];
        const broker_log_t *log = self->log;
        uint64_t unscanned = log->last + 1 > group->scan ? log->last + 1 - group->scan : 0;
        char labels[200] = "";
        zhub_metrics_label (labels, sizeof labels, "group", group->name);
        zhub_metrics_set (m, "zhub_broker_group_lag", labels, (double)(group->count + unscanned));
        zhub_metrics_set (m, "zhub_broker_group_in_flight", labels, (double)group->inflight);
        zhub_metrics_set (m, "zhub_broker_group_waiting_retry", labels, (double)group->waiting);
        s_total (m, "zhub_broker_group_redeliveries_total", labels, (double)group->redelivered);
        s_total (m, "zhub_broker_dead_letters_total", labels, (double)group->dead_letters);
    }
    zhub_metrics_set (m, "zhub_broker_clients", NULL, (double)broker_map_size (self->clients));
    zhub_metrics_set (m, "zhub_broker_delayed", NULL, (double)self->held);
    zhub_store_stats_t stats;
    zhub_store_stats (self->store, &stats);
    zhub_metrics_set (m, "zhub_store_used_bytes", NULL, (double)stats.used_bytes);
    zhub_metrics_set (m, "zhub_store_limit_bytes", NULL, (double)stats.max_map_size);
    s_read_t read = {self, m};
    zhub_store_read (self->store, s_read_fn, &read);
}

void
broker_metrics_commit (zhub_metrics_t *m, double seconds, size_t ops)
{
    if (!m)
        return;
    zhub_metrics_observe (m, "zhub_broker_commit_seconds", "", seconds);
    zhub_metrics_observe (m, "zhub_broker_commit_ops", "", (double)ops);
}
