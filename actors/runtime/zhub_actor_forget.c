//  The one handling of contact.forget (a GDPR erase) for actors that keep
//  records about people: read the request, delete in one write
//  transaction together with the contact.forgotten answer, have the store
//  compacted before the ACK, log and report. Each actor says only what it
//  deletes (a zhub_actor_erase_fn); the flow around it is the same
//  everywhere, so it lives here once.
#include "zhub_actor.h"
#include "zhub_log.h"

#include <stdio.h>

typedef struct {
    zhub_actor_ctx_t *ctx;
    const char *actor;
    zhub_actor_erase_fn *erase;
    const zhub_forget_t *forget;
    const char *traceparent;
    int64_t now_ms;
    size_t removed;
} s_forget_t;

//  The deletes and contact.forgotten in one transaction. The store may run
//  it again after growing the map, so it starts from nothing each time.
static zhub_rc_t
s_forget_fn (zhub_txn_t *txn, void *arg)
{
    s_forget_t *fg = arg;
    fg->removed = 0;
    zhub_rc_t rc = fg->erase (fg->ctx, txn, fg->forget, &fg->removed);
    if (rc != ZHUB_OK)
        return rc;
    //  One answer per replica per forget: each contact-sync replica sends
    //  its own forget, and each replica here erases in its own store.
    const char *replica = fg->ctx->config ? fg->ctx->config->instance : NULL;
    zhub_msg_t *answer =
        zhub_forget_answer (fg->actor, replica, fg->forget->replica, fg->forget->request,
                            fg->removed, fg->traceparent, fg->now_ms);
    rc = zhub_actor_outbox_put (fg->ctx, txn, answer);
    zhub_msg_destroy (&answer);
    return rc;
}

zhub_rc_t
zhub_actor_forget_write (zhub_actor_ctx_t *ctx, const char *actor, zhub_actor_erase_fn *erase,
                         const zhub_forget_t *forget, const char *traceparent, int64_t now_ms,
                         size_t *removed)
{
    s_forget_t fg = {.ctx = ctx,
                     .actor = actor,
                     .erase = erase,
                     .forget = forget,
                     .traceparent = traceparent,
                     .now_ms = now_ms};
    zhub_rc_t rc = zhub_store_write (ctx->store, s_forget_fn, &fg);
    *removed = rc == ZHUB_OK ? fg.removed : 0;
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

size_t
zhub_actor_forget (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const char *actor,
                   zhub_actor_erase_fn *erase, zhub_outcome_t *out)
{
    return zhub_actor_forget_upstream (ctx, msg, actor, NULL, erase, out);
}

size_t
zhub_actor_forget_upstream (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const char *actor,
                            zhub_actor_upstream_fn *upstream, zhub_actor_erase_fn *erase,
                            zhub_outcome_t *out)
{
    zhub_forget_t forget;
    char reason[256] = "";
    size_t removed = 0;
    if (zhub_forget_parse (msg, &forget, reason, sizeof reason) != ZHUB_OK)
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
    else if (upstream && forget.upstream && !upstream (ctx, msg, &forget, out)) {
        //  *out says why; nothing is deleted here, the retry does it all
    } else if (zhub_actor_forget_write (ctx, actor, erase, &forget, msg->traceparent,
                                        zhub_now_ms (), &removed)
               != ZHUB_OK)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the erase");
    else {
        //  The person's bytes stay in freed pages until the store is
        //  rewritten; the runtime does it before the ACK.
        zhub_actor_compact_after (ctx);
        //  The request id only: the identifiers are what is being forgotten.
        char quoted[300];
        zhub_info ("forgotten", "id=%s request=%s removed=%zu", msg->id,
                   zhub_log_quote (forget.request, quoted, sizeof quoted), removed);
        zhub_outcome_ok (out, "forgotten");
        snprintf (out->reason, sizeof out->reason, "removed=%zu", removed);
    }
    zhub_forget_clear (&forget);
    return removed;
}
