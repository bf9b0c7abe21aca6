//  The turn's group commit (see broker_commit.h). The transaction callback
//  may run more than once (the store grows a full map and retries), so
//  what it calls writes only to the store and to fields each run
//  overwrites; everything in memory changes after it returns, on the loop
//  thread. The callback may run on the commit thread (broker_committer.c):
//  it then reads self->txn_now, never self->now, and the loop touches
//  none of what it uses until it took the job back.
#include "broker_commit.h"

#include "broker_committer.h"
#include "broker_maintenance.h"
#include "broker_metrics.h"
#include "broker_tap.h"
#include "zhub_log.h"

static zhub_rc_t
s_apply (zhub_txn_t *txn, void *arg)
{
    broker_server_t *self = arg;
    broker_log_batch_begin (self->log, &self->batch);
    if (broker_turn_apply (self, &self->committing, txn) != ZHUB_OK)
        return ZHUB_ERROR;
    return broker_maintenance_apply (self, txn);
}

static zhub_rc_t
s_job (void *arg)
{
    broker_server_t *self = arg;
    return zhub_store_write (self->store, s_apply, self);
}

//  After the transaction, on the loop thread.
static void
s_finish (broker_server_t *self, zhub_rc_t rc, int64_t elapsed_ms)
{
    if (rc == ZHUB_OK)
        broker_metrics_commit (self->metrics, (double)elapsed_ms / 1000.0, self->committing.count);
    uint64_t before = self->log->last;
    if (rc == ZHUB_OK)
        broker_log_batch_commit (self->log, &self->batch);
    else
        zhub_error ("commit_failed", "ops=%zu rc=%s", self->committing.count, zhub_rc_name (rc));
    broker_maintenance_after (self, rc == ZHUB_OK);
    if (rc == ZHUB_OK && self->log->last > before)
        broker_tap_send (self, before + 1, self->log->last);
    broker_turn_answer (self, &self->committing, rc == ZHUB_OK);
    broker_turn_ops_clear (&self->committing);
}

int
broker_commit_thread_start (broker_server_t *self)
{
    self->committer = broker_committer_new (s_job, self);
    return self->committer ? 0 : -1;
}

void
broker_commit (broker_server_t *self)
{
    //  the committing list is empty here: swap, so both arrays are reused
    broker_ops_t taken = self->ops;
    self->ops = self->committing;
    self->committing = taken;
    self->txn_now = self->now;
    if (!self->sweep && !broker_turn_writes (&self->committing)) {
        broker_turn_answer (self, &self->committing, true);
        broker_turn_ops_clear (&self->committing);
        return;
    }
    if (self->committer && !self->sweep) {
        self->in_flight = true;
        broker_committer_start (self->committer);
        return;
    }
    int64_t started = zhub_mono_ms ();
    zhub_rc_t rc = s_job (self);
    s_finish (self, rc, zhub_mono_ms () - started);
}

bool
broker_commit_poll (broker_server_t *self, bool wait)
{
    zhub_rc_t rc;
    int64_t elapsed_ms;
    if (!self->in_flight || !broker_committer_take (self->committer, wait, &rc, &elapsed_ms))
        return false;
    self->in_flight = false;
    s_finish (self, rc, elapsed_ms);
    return true;
}
