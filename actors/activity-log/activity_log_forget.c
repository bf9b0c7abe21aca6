//  activity-log's part of the GDPR erase (contact.forget): the erase step
//  (activity_log_erase: the store deletes the person's id map entries,
//  conversations, parked events and engagement records, in the
//  transaction that queues contact.forgotten); with "upstream", first the
//  engagements we made about them in HubSpot.
//  HubSpot's GDPR delete of the contact deletes its activity, but a note
//  or meeting also associated with a deal stays on the deal's timeline,
//  with the transcript in it: those are deleted here (404: gone already).
//  A failure retries the whole message with nothing deleted here yet.
#include "activity_log_actor.h"
#include "zhub_log.h"
#include "zhub_strlist.h"

#include <stdlib.h>
#include <string.h>

zhub_rc_t
activity_log_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *who,
                    size_t *removed)
{
    const activity_log_t *self = ctx->state;
    return activity_log_store_erase (txn, &self->tables, who, removed);
}

//  -------------------------------------------------------------------
//  Upstream: the engagements we made about the person

//  zhub_actor_upstream_fn: every engagement made about the person deleted
//  (or gone already). true, or false with *out set.
static bool
s_delete_made (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const zhub_forget_t *who,
               zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    zhub_strlist_t paths = {0};
    bool ok = activity_log_store_made_of (ctx->store, &self->tables, who, &paths) == ZHUB_OK;
    if (!ok)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the engagements made");
    for (size_t i = 0; ok && i < paths.count; i++) {
        zhub_hubspot_engagement_t kind;
        char *id;
        if (zhub_hubspot_engagement_path_parse (paths.items[i], &kind, &id)) {
            //  not an address we recorded: nothing we could delete
            zhub_warn ("engagement_unknown", "id=%s path=%s", msg->id, paths.items[i]);
            continue;
        }
        zhub_http_response_t resp;
        zhub_http_response_init (&resp);
        zhub_hubspot_engagement_delete (self->hubspot, kind, id, msg->traceparent, &resp);
        free (id);
        ok = (resp.status >= 200 && resp.status < 300) || resp.status == 404;
        if (ok)
            zhub_info ("engagement_deleted", "id=%s path=%s status=%ld", msg->id, paths.items[i],
                       resp.status);
        else
            zhub_retry_classify (&resp, "hubspot delete engagement", zhub_now_ms (), out);
        zhub_http_response_reset (&resp);
    }
    zhub_strlist_clear (&paths);
    return ok;
}

void
activity_log_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                            zhub_outcome_t *out)
{
    zhub_actor_forget_upstream (ctx, ev->msg, ACTIVITY_LOG_GROUP, s_delete_made, activity_log_erase,
                                out);
}
