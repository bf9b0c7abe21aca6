//  The conversation bridge's I/O (see conversation_io.h): each delivery is
//  read and decided on in one write transaction, which also holds the
//  events decided on (the outbox), so a crash can neither lose an event
//  nor publish one whose state was not kept.
#include "conversation_io.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <stdio.h>
#include <string.h>

int
conversation_config_load (conversation_config_t *config, char *err, size_t err_size)
{
    memset (config, 0, sizeof *config);
    if (zhub_env_duration_ms ("ZHUB_CONVERSATION_IDLE_GAP", CONVERSATION_IDLE_GAP_DEFAULT_MS,
                              &config->idle_gap_ms)
        || config->idle_gap_ms < 60000) {
        snprintf (err, err_size, "ZHUB_CONVERSATION_IDLE_GAP must be a duration of at least 1m");
        return -1;
    }
    if (zhub_env_duration_ms ("ZHUB_CONVERSATION_RETENTION", CONVERSATION_RETENTION_DEFAULT_MS,
                              &config->retention_ms)
        || config->retention_ms < 86400000 || config->retention_ms < config->idle_gap_ms) {
        snprintf (err, err_size,
                  "ZHUB_CONVERSATION_RETENTION must be a duration of at least 1d and at least "
                  "ZHUB_CONVERSATION_IDLE_GAP");
        return -1;
    }
    return 0;
}

void
conversation_config_log (const conversation_config_t *config)
{
    zhub_info ("config", "idle_gap_ms=%lld retention_ms=%lld", (long long)config->idle_gap_ms,
               (long long)config->retention_ms);
}

int
conversation_open (zhub_actor_ctx_t *ctx)
{
    conversation_actor_t *self = ctx->state;
    return conversation_tables_open (ctx->store, &self->tables);
}

//  -------------------------------------------------------------------
//  One delivery

typedef struct {
    zhub_actor_ctx_t *ctx;
    conversation_actor_t *self;
    const conv_input_t *in;
    const char *traceparent;
    conv_plan_t plan;
    zhub_rc_t decided;
} s_write_t;

static zhub_rc_t
s_apply (zhub_txn_t *txn, void *arg)
{
    s_write_t *w = arg;
    const conversation_tables_t *tables = &w->self->tables;
    conv_plan_clear (&w->plan); //  the store may run this again (map grown)
    conv_state_t state;
    zhub_rc_t have = conversation_state_get (tables, txn, w->in->contact, &state);
    if (have == ZHUB_ERROR)
        return ZHUB_ERROR;
    bool seen = false;
    if (w->in->kind == CONV_MESSAGE) {
        zhub_rc_t rc = conversation_message_seen (tables, txn, w->in->message_key);
        if (rc == ZHUB_ERROR) {
            conv_state_clear (&state);
            return ZHUB_ERROR;
        }
        seen = rc == ZHUB_OK;
    }
    w->decided = conversation_decide (&w->self->config, w->in, have == ZHUB_OK ? &state : NULL,
                                      seen, w->traceparent, &w->plan);
    conv_state_clear (&state);
    if (w->decided != ZHUB_OK)
        return ZHUB_REJECT;
    if (w->plan.write_state
        && conversation_state_put (tables, txn, w->in->contact, &w->plan.next) != ZHUB_OK)
        return ZHUB_ERROR;
    if (w->plan.record_message
        && conversation_message_put (tables, txn, w->in->message_key, w->in->contact,
                                     w->in->sent_ms)
               != ZHUB_OK)
        return ZHUB_ERROR;
    for (size_t i = 0; i < w->plan.publish_count; i++)
        if (zhub_actor_outbox_put (w->ctx, txn, w->plan.publish[i]) != ZHUB_OK)
            return ZHUB_ERROR;
    return ZHUB_OK;
}

void
conversation_handle (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    if (zhub_msg_is_erased (msg)) {
        zhub_outcome_ok (out, "erased");
        return;
    }
    if (!ev->data) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "data cannot be read as JSON");
        return;
    }
    conv_input_t in;
    char reason[200];
    zhub_rc_t rc =
        conversation_parse (msg->type, ev->data, msg->time_ms, &in, reason, sizeof reason);
    if (rc == ZHUB_NOTFOUND) {
        zhub_outcome_ok (out, "ignored");
        snprintf (out->reason, sizeof out->reason, "%s", reason);
        return;
    }
    if (rc != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        return;
    }
    s_write_t w = {.ctx = ctx, .self = ctx->state, .in = &in, .traceparent = msg->traceparent};
    rc = zhub_store_write (ctx->store, s_apply, &w);
    if (rc == ZHUB_OK) {
        zhub_outcome_ok (out, w.plan.outcome ? w.plan.outcome : "handled");
        snprintf (out->reason, sizeof out->reason, "%s", w.plan.note);
    } else if (w.decided == ZHUB_REJECT)
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", w.plan.note);
    else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot write the conversation state");
    conv_plan_clear (&w.plan);
    conv_input_clear (&in);
}

//  -------------------------------------------------------------------
//  Erase and retention

static zhub_rc_t
s_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *forget, size_t *removed)
{
    conversation_actor_t *self = ctx->state;
    *removed = 0;
    return conversation_store_forget (&self->tables, txn, forget, removed);
}

void
conversation_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                            zhub_outcome_t *out)
{
    zhub_actor_forget (ctx, ev->msg, CONVERSATION_GROUP, s_erase, out);
}

typedef struct {
    int64_t before_ms;
    size_t removed;
    const conversation_tables_t *tables;
} s_sweep_t;

static zhub_rc_t
s_sweep (zhub_txn_t *txn, void *arg)
{
    s_sweep_t *sweep = arg;
    sweep->removed = 0;
    return conversation_store_sweep (sweep->tables, txn, sweep->before_ms, &sweep->removed);
}

void
conversation_tick (zhub_actor_ctx_t *ctx)
{
    conversation_actor_t *self = ctx->state;
    int64_t now = zhub_mono_ms ();
    if (!ctx->idle || (self->swept_ms && now - self->swept_ms < CONVERSATION_SWEEP_EVERY_MS))
        return;
    self->swept_ms = now;
    s_sweep_t sweep = {.before_ms = zhub_now_ms () - self->config.retention_ms,
                       .tables = &self->tables};
    if (zhub_store_write (ctx->store, s_sweep, &sweep) != ZHUB_OK)
        zhub_warn ("retention_failed", "reason=%s", "cannot sweep the conversation store");
    else if (sweep.removed)
        zhub_info ("retention", "removed=%zu", sweep.removed);
}
