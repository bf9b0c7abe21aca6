//  The intent router's I/O (see intent_io.h). A message is classified by
//  the rules, then by the AI classifier when one is configured: its
//  answer decides when it comes in time and reads as an intent, else the
//  rules' verdict stands and why is recorded (ai_error). The decision and
//  the events it calls for are written in one transaction (the outbox), so
//  a message is never lost to a slow or failing classifier, and a
//  redelivered one publishes nothing new.
#include "intent_io.h"
#include "zhub_env.h"
#include "zhub_log.h"
#include "zhub_tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
intent_actor_config_load (intent_actor_t *self, char *err, size_t err_size)
{
    intent_config_default (&self->config);
    if (zhub_env_duration_ms ("ZHUB_INTENT_HOLD", self->config.hold_ms, &self->config.hold_ms)
        || self->config.hold_ms < 0 || self->config.hold_ms > INTENT_HOLD_MAX_MS) {
        snprintf (err, err_size, "ZHUB_INTENT_HOLD must be a duration from 0 to 10m");
        return -1;
    }
    if (zhub_env_duration_ms ("ZHUB_INTENT_RETENTION", self->config.retention_ms,
                              &self->config.retention_ms)
        || self->config.retention_ms < 86400000) {
        snprintf (err, err_size, "ZHUB_INTENT_RETENTION must be a duration of at least 1d");
        return -1;
    }
    static const zhub_llm_env_t llm_env = {.url = "ZHUB_INTENT_LLM_URL",
                                           .model = "ZHUB_INTENT_LLM_MODEL",
                                           .key = "ZHUB_INTENT_LLM_KEY",
                                           .timeout = "ZHUB_INTENT_LLM_TIMEOUT"};
    if (zhub_llm_config_load (&self->llm_config, &llm_env, err, err_size))
        return -1;
    json_t *mapping = zhub_actor_mapping_load (err, err_size);
    if (!mapping)
        return -1;
    int rc =
        intent_config_apply (&self->config, json_object_get (mapping, "intent"), err, err_size);
    json_decref (mapping);
    if (rc)
        return -1;
    if (zhub_tz_use (self->config.time_zone)) {
        snprintf (err, err_size, "intent.time_zone %.64s is not in the tz database",
                  self->config.time_zone);
        return -1;
    }
    return 0;
}

void
intent_actor_config_log (const intent_actor_t *self)
{
    const intent_config_t *c = &self->config;
    zhub_info ("config",
               "hold_ms=%lld retention_ms=%lld time_zone=%s mexican_holidays=%s "
               "holidays=%zu languages=%zu tour_duration_min=%d",
               (long long)c->hold_ms, (long long)c->retention_ms, c->time_zone,
               c->holidays.mexican ? "true" : "false", c->holidays.extra_count, c->rules.count,
               c->tour_duration_min);
    zhub_llm_config_log (&self->llm_config);
}

int
intent_open (zhub_actor_ctx_t *ctx)
{
    intent_actor_t *self = ctx->state;
    if (intent_tables_open (ctx->store, &self->tables))
        return -1;
    self->llm = zhub_llm_new (&self->llm_config, ctx->http);
    return 0;
}

void
intent_close (zhub_actor_ctx_t *ctx)
{
    intent_actor_t *self = ctx->state;
    zhub_llm_destroy (&self->llm);
}

//  -------------------------------------------------------------------
//  conversation.message

typedef struct {
    zhub_actor_ctx_t *ctx;
    intent_actor_t *self;
    const zhub_msg_t *msg;
    const zhub_conversation_message_t *m;
    const intent_verdict_t *verdict;
    const char *decided_by, *ai_error;
    intent_plan_t plan;
    bool known;
    zhub_rc_t decided;
} s_decide_t;

static zhub_rc_t
s_decide (zhub_txn_t *txn, void *arg)
{
    s_decide_t *d = arg;
    intent_plan_clear (&d->plan); //  the store may run this again (map grown)
    intent_verdict_t before;
    char by[16];
    zhub_rc_t rc = intent_decision_get (&d->self->tables, txn, d->msg->id, &before, by, sizeof by);
    if (rc == ZHUB_ERROR)
        return rc;
    d->known = rc == ZHUB_OK;
    if (d->known)
        return ZHUB_OK;
    d->decided = intent_decide (&d->self->config, d->msg, d->m, d->verdict, d->decided_by,
                                d->ai_error, zhub_now_ms (), &d->plan);
    if (d->decided != ZHUB_OK)
        return ZHUB_REJECT;
    if (intent_decision_put (&d->self->tables, txn, d->msg->id, d->m->bird_contact_id, d->verdict,
                             d->decided_by, d->ai_error, d->m->sent_ms)
            != ZHUB_OK
        || zhub_actor_outbox_put (d->ctx, txn, d->plan.detected) != ZHUB_OK
        || (d->plan.workflow && zhub_actor_outbox_put (d->ctx, txn, d->plan.workflow) != ZHUB_OK))
        return ZHUB_ERROR;
    return ZHUB_OK;
}

static zhub_rc_t
s_known (zhub_txn_t *txn, void *arg)
{
    s_decide_t *d = arg;
    intent_verdict_t before;
    char by[16];
    zhub_rc_t rc = intent_decision_get (&d->self->tables, txn, d->msg->id, &before, by, sizeof by);
    d->known = rc == ZHUB_OK;
    return rc == ZHUB_ERROR ? rc : ZHUB_OK;
}

void
intent_handle_message (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    intent_actor_t *self = ctx->state;
    const zhub_msg_t *msg = ev->msg;
    if (zhub_msg_is_erased (msg)) {
        zhub_outcome_ok (out, "erased");
        return;
    }
    zhub_conversation_message_t m;
    char reason[200];
    if (zhub_conversation_message_parse (msg, &m, reason, sizeof reason) != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        return;
    }
    if (strcmp (m.direction, "in")) {
        zhub_outcome_ok (out, "outbound");
        zhub_conversation_message_clear (&m);
        return;
    }
    s_decide_t d = {.ctx = ctx, .self = self, .msg = msg, .m = &m};
    if (zhub_store_read (ctx->store, s_known, &d) != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the decisions");
        zhub_conversation_message_clear (&m);
        return;
    }
    if (d.known) {
        zhub_outcome_ok (out, "duplicate");
        zhub_conversation_message_clear (&m);
        return;
    }
    //  The rules always; the AI classifier over them when it answers.
    char *normalized = intent_normalize (m.text);
    intent_verdict_t rules, ai;
    intent_classify (&self->config.rules, normalized, &rules);
    free (normalized);
    const intent_verdict_t *verdict = &rules;
    const char *decided_by = "rules";
    char ai_error[160] = "";
    if (self->llm) {
        char *content = NULL;
        if (zhub_llm_chat (self->llm, intent_ai_prompt (), m.text, msg->traceparent, &content,
                           ai_error, sizeof ai_error)
            == 0) {
            ai = rules; //  the rules' language stays when the answer names none
            if (intent_ai_verdict (content, &ai, ai_error, sizeof ai_error) == 0) {
                verdict = &ai;
                decided_by = "ai";
            }
        }
        free (content);
    }
    d.verdict = verdict;
    d.decided_by = decided_by;
    d.ai_error = verdict == &rules && self->llm ? ai_error : NULL;
    zhub_rc_t rc = zhub_store_write (ctx->store, s_decide, &d);
    char quoted[200];
    if (rc == ZHUB_OK && d.known)
        zhub_outcome_ok (out, "duplicate");
    else if (rc == ZHUB_OK) {
        zhub_outcome_ok (out, "classified");
        snprintf (out->reason, sizeof out->reason,
                  "intent=%s decided_by=%s confidence=%.2f language=%s workflow=%s times=%zu%s%s",
                  intent_name (verdict->intent), decided_by, verdict->confidence, verdict->language,
                  d.plan.workflow_type ? d.plan.workflow_type : "none", d.plan.times,
                  d.ai_error ? " ai_error=" : "",
                  d.ai_error ? zhub_log_quote (d.ai_error, quoted, sizeof quoted) : "");
    } else if (d.decided == ZHUB_REJECT)
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", d.plan.note);
    else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot write the decision");
    intent_plan_clear (&d.plan);
    zhub_conversation_message_clear (&m);
}

//  -------------------------------------------------------------------
//  Workflow events: others' are noted, our held ones released

typedef struct {
    zhub_actor_ctx_t *ctx;
    intent_actor_t *self;
    const zhub_msg_t *msg;
    const char *workflow, *contact;
    int64_t since_ms;
    int64_t at_ms;
    bool doubled;
    zhub_msg_t *release;
} s_workflow_t;

static zhub_rc_t
s_note (zhub_txn_t *txn, void *arg)
{
    s_workflow_t *w = arg;
    return intent_seen_put (&w->self->tables, txn, w->contact, w->workflow, w->at_ms);
}

static char *
s_contact_of (const zhub_actor_event_t *ev)
{
    const char *id = json_string_value (json_object_get (ev->data, "bird_contact_id"));
    if (id && *id)
        return zhub_strdup (id);
    const char *subject = ev->msg->subject;
    if (subject && !strncmp (subject, "contact:", 8) && subject[8])
        return zhub_strdup (subject + 8);
    return NULL;
}

void
intent_handle_workflow (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    if (msg->source && !strcmp (msg->source, INTENT_SOURCE)) {
        zhub_outcome_ok (out, "own");
        return;
    }
    char *contact = s_contact_of (ev);
    if (!contact) {
        zhub_outcome_ok (out, "ignored");
        snprintf (out->reason, sizeof out->reason, "%s names no Bird contact", msg->type);
        return;
    }
    s_workflow_t w = {.self = ctx->state,
                      .workflow = msg->type,
                      .contact = contact,
                      .at_ms = msg->time_ms > 0 ? msg->time_ms : zhub_now_ms ()};
    if (zhub_store_write (ctx->store, s_note, &w) == ZHUB_OK)
        zhub_outcome_ok (out, "noted");
    else
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot note the workflow event");
    free (contact);
}

static zhub_rc_t
s_release (zhub_txn_t *txn, void *arg)
{
    s_workflow_t *w = arg;
    int64_t at = 0;
    zhub_rc_t rc = intent_seen_get (&w->self->tables, txn, w->contact, w->workflow, &at);
    if (rc == ZHUB_ERROR)
        return rc;
    //  Another producer's since the message (less the hold: an AI agent
    //  may have answered the message before we read it) stands for ours.
    w->doubled = rc == ZHUB_OK && at >= w->since_ms - w->self->config.hold_ms;
    if (w->doubled)
        return ZHUB_OK;
    return zhub_actor_outbox_put (w->ctx, txn, w->release);
}

void
intent_handle_due (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    if (zhub_msg_is_erased (msg)) {
        zhub_outcome_ok (out, "erased");
        return;
    }
    if (!msg->source || strcmp (msg->source, INTENT_SOURCE)) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT,
                             "intent.workflow.due from %.64s: only the intent router holds them",
                             msg->source ? msg->source : "nobody");
        return;
    }
    char *workflow = NULL, *contact = NULL, reason[200];
    s_workflow_t w = {.ctx = ctx, .self = ctx->state, .msg = msg};
    if (intent_due_parse (msg, &workflow, &contact, &w.since_ms, reason, sizeof reason) != ZHUB_OK
        || !(w.release = intent_due_release (msg, zhub_now_ms (), reason, sizeof reason))) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        free (workflow);
        free (contact);
        return;
    }
    w.workflow = workflow;
    w.contact = contact;
    if (zhub_store_write (ctx->store, s_release, &w) != ZHUB_OK)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot publish the workflow event");
    else if (w.doubled) {
        zhub_outcome_ok (out, "doubled");
        snprintf (out->reason, sizeof out->reason,
                  "%s: another producer published one for the contact", workflow);
    } else {
        zhub_outcome_ok (out, "released");
        snprintf (out->reason, sizeof out->reason, "%s", workflow);
    }
    zhub_msg_destroy (&w.release);
    free (workflow);
    free (contact);
}

//  -------------------------------------------------------------------
//  Erase and retention

static zhub_rc_t
s_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *forget, size_t *removed)
{
    intent_actor_t *self = ctx->state;
    *removed = 0;
    return intent_store_forget (&self->tables, txn, forget, removed);
}

void
intent_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    zhub_actor_forget (ctx, ev->msg, INTENT_GROUP, s_erase, out);
}

typedef struct {
    const intent_tables_t *tables;
    int64_t before_ms;
    size_t removed;
} s_sweep_t;

static zhub_rc_t
s_sweep (zhub_txn_t *txn, void *arg)
{
    s_sweep_t *sweep = arg;
    sweep->removed = 0;
    return intent_store_sweep (sweep->tables, txn, sweep->before_ms, &sweep->removed);
}

void
intent_tick (zhub_actor_ctx_t *ctx)
{
    intent_actor_t *self = ctx->state;
    int64_t now = zhub_mono_ms ();
    if (!ctx->idle || (self->swept_ms && now - self->swept_ms < INTENT_SWEEP_EVERY_MS))
        return;
    self->swept_ms = now;
    s_sweep_t sweep = {.tables = &self->tables,
                       .before_ms = zhub_now_ms () - self->config.retention_ms};
    if (zhub_store_write (ctx->store, s_sweep, &sweep) != ZHUB_OK)
        zhub_warn ("retention_failed", "reason=%s", "cannot sweep the intent store");
    else if (sweep.removed)
        zhub_info ("retention", "removed=%zu", sweep.removed);
}
