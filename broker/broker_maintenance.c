//  The maintenance phase (see broker_maintenance.h). Kept out of the op
//  table because it is not asked for by a peer: the turn runs it on a
//  schedule, in the same transaction so that it costs no fsync of its own.
#include "broker_maintenance.h"

#include "broker_erase_step.h"
#include "zhub_log.h"

void
broker_maintenance_due (broker_server_t *self)
{
    self->sweep = self->now >= self->next_sweep_ms
                  || (broker_turn_writes (self)
                      && self->now - self->last_sweep_ms >= self->config.sweep_interval_ms);
}

//  Retention: may this record go? Only when every group whose patterns
//  match its topic is past it (its floor is above: acked or dead-lettered,
//  and stored so), and it is past its topic's age or size limit.
static int
s_trim_verdict (uint64_t offset, const broker_record_t *record, uint64_t topic_bytes, void *arg)
{
    broker_server_t *self = arg;
    int64_t age = self->now - record->stored_ms;
    //  records are stored in time order: once one is younger than every age
    //  limit and no rule limits size, nothing after it can go either
    if (!self->trim_bytes && age <= self->trim_min_age_ms)
        return -1;
    const broker_retention_t *rule = broker_config_retention_for (&self->config, record->topic);
    bool old = rule->max_age_ms > 0 && age > rule->max_age_ms;
    bool big = rule->max_bytes > 0 && topic_bytes > rule->max_bytes;
    if (!old && !big)
        return 0;
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        if (offset >= group->floor && broker_group_matches (group, record->topic))
            return 0;
    }
    return 1;
}

zhub_rc_t
broker_maintenance_apply (broker_server_t *self, zhub_txn_t *txn)
{
    self->trim_next_pending = self->trim_next;
    self->erase_compact = false;
    if (!self->sweep)
        return ZHUB_OK;
    if (broker_log_sweep (self->log, txn, self->now, self->config.sweep_max) < 0)
        return ZHUB_ERROR;
    if (self->trim_on
        && broker_log_trim (self->log, txn, &self->batch, self->trim_next, self->config.trim_max,
                            s_trim_verdict, self, &self->trim_next_pending)
               != ZHUB_OK)
        return ZHUB_ERROR;
    if (self->erase_pending && broker_erase_step (self, txn) != ZHUB_OK)
        return ZHUB_ERROR;
    return ZHUB_OK;
}

void
broker_maintenance_after (broker_server_t *self, bool committed)
{
    if (self->sweep) {
        self->last_sweep_ms = self->now;
        self->next_sweep_ms = self->now + BROKER_IDLE_SWEEP_MS;
    }
    if (!committed)
        return;
    if (self->sweep && self->trim_on) {
        self->trim_next = self->trim_next_pending;
        self->trimmed += self->batch.trimmed;
        if (self->batch.trimmed)
            zhub_debug ("trimmed", "records=%llu first=%llu",
                        (unsigned long long)self->batch.trimmed,
                        (unsigned long long)self->log->first);
        //  more to examine: walk on soon rather than at the idle sweep
        if (self->trim_next)
            self->next_sweep_ms = self->now + self->config.sweep_interval_ms;
    }
    //  an erase request waits for its groups or has more to scan; a
    //  finished one is compacted before anyone hears of contact.erased
    if (self->erase_pending)
        self->next_sweep_ms = self->now + self->config.sweep_interval_ms;
    broker_erase_after_commit (self);
}
