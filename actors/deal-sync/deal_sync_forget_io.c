//  deal-sync's side of a GDPR erase (contact.forget): the erase step
//  (deal_sync_erase: the store deletes the person from every table, in the
//  transaction that queues contact.forgotten) and, with "upstream" (zhub
//  erase contact --upstream), what ties the person's deals in HubSpot to
//  them.
//
//  HubSpot's GDPR delete of the contact (contact-sync's upstream step)
//  leaves its deals. Ours are named after the person's Bird contact id and
//  keyed by it (zhub_deal_key "<bird id>/<pipeline>"), and a later deal
//  webhook would bring that id back into this store. So with upstream,
//  before anything is deleted here, each of the person's deals is renamed
//  DEAL_SYNC_ERASED_NAME and loses zhub_deal_key and conversation_id; the
//  deal itself, its stage and amount stay (sales records are the
//  company's). A deal HubSpot no longer has (its 404 OBJECT_NOT_FOUND)
//  counts as done; any other failure retries the whole message with
//  nothing deleted here yet.
#include "deal_sync_io.h"
#include "zhub_log.h"
#include "zhub_strlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

zhub_rc_t
deal_sync_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *who, size_t *removed)
{
    const deal_sync_t *self = ctx->state;
    return deal_sync_store_erase (txn, &self->tables, who, removed);
}

//  -------------------------------------------------------------------
//  Upstream: the person's deals in HubSpot

//  zhub_actor_upstream_fn: true when every deal of the person is redacted
//  (or gone), else false with *out set.
static bool
s_redact_deals (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const zhub_forget_t *who,
                zhub_outcome_t *out)
{
    deal_sync_t *self = ctx->state;
    zhub_strlist_t deals = {0};
    if (deal_sync_store_deals_of (ctx->store, &self->tables, who, &deals) != ZHUB_OK) {
        zhub_strlist_clear (&deals);
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the deals");
        return false;
    }
    json_t *body = json_pack ("{s:{s:s, s:s, s:s}}", "properties", "dealname",
                              DEAL_SYNC_ERASED_NAME, "zhub_deal_key", "", "conversation_id", "");
    bool ok = true;
    for (size_t i = 0; ok && i < deals.count; i++) {
        zhub_http_response_t resp;
        zhub_http_response_init (&resp);
        zhub_hubspot_deal_update (self->hubspot, deals.items[i], body, msg->traceparent, &resp);
        ok = deal_sync_answered ("hubspot deal redact", msg, &resp, true, out)
             || zhub_hubspot_not_found (&resp);
        if (ok)
            zhub_info ("deal_redacted", "id=%s deal=%s status=%ld", msg->id, deals.items[i],
                       resp.status);
        zhub_http_response_reset (&resp);
    }
    json_decref (body);
    zhub_strlist_clear (&deals);
    return ok;
}

void
deal_sync_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    zhub_actor_forget_upstream (ctx, msg, DEAL_SYNC_GROUP, s_redact_deals, deal_sync_erase, out);
}
