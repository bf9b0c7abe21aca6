//  The turn's group commit (see broker_commit.h). The transaction callback
//  may run more than once (the store grows a full map and retries), so
//  what it calls writes only to the store and to fields each run
//  overwrites; everything in memory changes after it returns.
#include "broker_commit.h"

#include "broker_maintenance.h"
#include "broker_metrics.h"
#include "broker_tap.h"
#include "zhub_log.h"

static zhub_rc_t
s_apply (zhub_txn_t *txn, void *arg)
{
    broker_server_t *self = arg;
    broker_log_batch_begin (self->log, &self->batch);
    if (broker_turn_apply (self, txn) != ZHUB_OK)
        return ZHUB_ERROR;
    return broker_maintenance_apply (self, txn);
}

void
broker_commit (broker_server_t *self)
{
    if (!self->sweep && !broker_turn_writes (self)) {
        broker_turn_answer (self, true);
        broker_turn_ops_clear (self);
        return;
    }
    int64_t started = zhub_mono_ms ();
    zhub_rc_t rc = zhub_store_write (self->store, s_apply, self);
    if (rc == ZHUB_OK)
        broker_metrics_commit (self->metrics, (double)(zhub_mono_ms () - started) / 1000.0,
                               self->op_count);
    uint64_t before = self->log->last;
    if (rc == ZHUB_OK)
        broker_log_batch_commit (self->log, &self->batch);
    else
        zhub_error ("commit_failed", "ops=%zu rc=%s", self->op_count, zhub_rc_name (rc));
    broker_maintenance_after (self, rc == ZHUB_OK);
    if (rc == ZHUB_OK && self->log->last > before)
        broker_tap_send (self, before + 1, self->log->last);
    broker_turn_answer (self, rc == ZHUB_OK);
    broker_turn_ops_clear (self);
}
