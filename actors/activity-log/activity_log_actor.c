//  activity-log as the runtime runs it (see activity_log_actor.h): its
//  settings, read once at start; its hooks; and what its handler files
//  share, kept here, below all of them, so that none of them needs
//  another's.
#include "activity_log_actor.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
activity_log_config (activity_log_t *self, char *err, size_t err_size)
{
    memset (self, 0, sizeof *self);
    if (zhub_hubspot_config_load (&self->hubspot_config, err, err_size))
        return -1;
    //  The transcript timer is a message the broker holds until due, and a
    //  broker holds one at most ZHUB_MSG_MAX_DELAY_MS (PROTOCOL.md 6.3).
    if (zhub_env_duration_ms ("ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL", 30000,
                              &self->transcript_interval_ms)
        || self->transcript_interval_ms < 0
        || self->transcript_interval_ms > ZHUB_MSG_MAX_DELAY_MS) {
        snprintf (err, err_size,
                  "ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL must be a duration of at most 366d");
        return -1;
    }
    if (zhub_env_duration_ms ("ZHUB_ACTIVITY_RETENTION", 30LL * 86400000, &self->retention_ms)
        || self->retention_ms < 0) {
        snprintf (err, err_size, "ZHUB_ACTIVITY_RETENTION must be a duration (0 = keep)");
        return -1;
    }
    const char *owner = zhub_env_str ("ZHUB_ACTIVITY_OWNER_ID", "");
    self->owner_id = *owner ? owner : NULL;
    return 0;
}

int
activity_log_open (zhub_actor_ctx_t *ctx)
{
    activity_log_t *self = ctx->state;
    self->hubspot = zhub_hubspot_new (&self->hubspot_config, ctx->http);
    return activity_log_tables_open (ctx->store, &self->tables);
}

void
activity_log_close (zhub_actor_ctx_t *ctx)
{
    activity_log_t *self = ctx->state;
    zhub_hubspot_destroy (&self->hubspot);
}

//  -------------------------------------------------------------------
//  Periodic work

void
activity_log_tick (zhub_actor_ctx_t *ctx)
{
    activity_log_t *self = ctx->state;
    if (!self->retention_ms)
        return;
    int64_t now = zhub_now_ms ();
    int64_t every = self->retention_ms / 2 < ACTIVITY_PRUNE_EVERY_MS ? self->retention_ms / 2
                                                                     : ACTIVITY_PRUNE_EVERY_MS;
    if (now - self->last_prune_ms < every)
        return;
    self->last_prune_ms = now;
    int deleted = activity_log_store_prune (ctx->store, &self->tables, self->retention_ms, now);
    if (deleted)
        zhub_info ("retention", "deleted=%d", deleted);
}

//  -------------------------------------------------------------------
//  What the handler files share

zhub_hubspot_engagement_t
activity_log_object (activity_kind_t kind)
{
    return kind == ACTIVITY_NOTE   ? ZHUB_HUBSPOT_NOTE
           : kind == ACTIVITY_TASK ? ZHUB_HUBSPOT_TASK
                                   : ZHUB_HUBSPOT_MEETING;
}

zhub_msg_t *
activity_log_logged_msg (const zhub_msg_t *msg, const activity_event_t *ev, activity_kind_t kind,
                         const char *hubspot_id, int64_t now_ms)
{
    char reason[256] = "", quoted[300];
    zhub_msg_t *logged =
        activity_logged_msg (msg, ev, kind, hubspot_id, now_ms, reason, sizeof reason);
    //  The engagement exists in HubSpot: it is recorded all the same, or a
    //  redelivery would make it twice. Only its announcement is lost.
    if (!logged)
        zhub_warn ("event_refused", "id=%s type=activity.logged reason=%s", msg ? msg->id : "-",
                   zhub_log_quote (reason, quoted, sizeof quoted));
    return logged;
}

bool
activity_log_answered (const zhub_msg_t *msg, const char *what, zhub_http_response_t *resp,
                       zhub_outcome_t *out)
{
    zhub_debug ("call", "id=%s what=\"%s\" status=%ld ms=%lld", msg->id, what, resp->status,
                (long long)resp->elapsed_ms);
    if (resp->status >= 200 && resp->status < 300)
        return true;
    zhub_retry_classify (resp, what, zhub_now_ms (), out);
    return false;
}
