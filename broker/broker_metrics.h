//  The broker's metrics (GET /metrics on ZHUB_BROKER_ADMIN_LISTEN). The
//  loop owns the state they describe, so it copies the figures into the
//  registry (zhub_metrics, thread-safe) at most every
//  BROKER_METRICS_EVERY_MS and after each commit; the admin listener only
//  renders the registry. Metrics (docs/operations.md, "Broker metrics"):
//    zhub_broker_published_total (publishes confirmed), _duplicates_total,
//        _rejected_total
//    zhub_broker_topic_messages{topic}, zhub_broker_topic_bytes{topic}
//        (retained now; topics are names the producers use: a bounded set)
//    zhub_broker_group_lag{group}            committed, not yet acked
//    zhub_broker_group_in_flight{group}, _waiting_retry{group}
//    zhub_broker_group_redeliveries_total{group}
//    zhub_broker_dead_letters_total{group}
//    zhub_broker_group_oldest_unacked_age_seconds{group}
//    zhub_broker_commit_seconds, zhub_broker_commit_ops (histograms: a
//        turn's write transaction, its fsync included, and its ops)
//    zhub_broker_clients, zhub_broker_delayed
//    zhub_store_used_bytes, zhub_store_limit_bytes
#ifndef BROKER_METRICS_H
#define BROKER_METRICS_H

#include "broker_turn.h"
#include "zhub_metrics.h"

#define BROKER_METRICS_EVERY_MS 1000

//  Declares the broker's metrics in m.
void broker_metrics_declare (zhub_metrics_t *m);

//  Copies the broker's figures into m when due (or now when force).
void broker_metrics_update (broker_server_t *self, zhub_metrics_t *m, bool force);

//  One commit: how long its write transaction took and how many ops.
void broker_metrics_commit (zhub_metrics_t *m, double seconds, size_t ops);

#endif
