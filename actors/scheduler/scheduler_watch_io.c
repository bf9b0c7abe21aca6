//  Calendar change subscriptions, the I/O side (the pure part is
//  scheduler_watch.c). One record per agent calendar in the store, and one
//  durable renewal timer for it: a scheduler.timer.watch message held by
//  the broker until due, armed in the transaction that writes the record,
//  which names it (timer_due; scheduler_store.h):
//
//    start   every agent calendar whose platform is on gets a record, and a
//            timer due now unless the one armed before still stands (so a
//            restart neither doubles timers nor makes a second subscription);
//    fire    Google: open a new channel, then stop the old one. Graph:
//            extend the subscription (PATCH); when Graph no longer knows it
//            (404) or none is known, adopt one that already delivers to us
//            (an earlier attempt whose answer was lost) or create one —
//            Graph then proves the gateway with its validationToken
//            handshake before it answers. The record and the next timer
//            (sched_watch_renew_at) are one transaction, which first checks
//            that the record still names the timer that fired; a failure is
//            tried again after the retry delay.
//
//  A timer that is not the one its record names (re-armed since) is
//  dropped without a call; so is the timer of a calendar no agent uses any
//  more, with its record.
#include "scheduler_internal.h"
#include "scheduler_watch.h"

#include "zhub_actor.h"
#include "zhub_url.h"

static const char *s_platform[] = {"google", "graph"};

//  -------------------------------------------------------------------
//  Configuration

//  True when base (NULL: the public default) is this machine.
static bool
s_local (const char *base)
{
    zhub_url_t url;
    return base && zhub_url_parse (base, &url) == 0 && zhub_url_is_loopback (&url);
}

int
scheduler_watch_config (scheduler_t *self, const char *google_base, const char *graph_base,
                        char *err, size_t err_size)
{
    sched_watch_config_t *w = &self->watch;
    memset (w, 0, sizeof *w);
    const char *on = zhub_env_str ("ZHUB_CALENDAR_NOTIFICATIONS", "on");
    if (strcmp (on, "on") && strcmp (on, "off")) {
        snprintf (err, err_size, "ZHUB_CALENDAR_NOTIFICATIONS must be on or off");
        return -1;
    }
    w->enabled = !strcmp (on, "on");
    //  The same default as the gateway's, from the same place.
    free (self->public_url);
    self->public_url = zhub_env_public_url (&w->public_url_default);
    w->public_url = self->public_url;
    for (size_t i = 0; i < self->cfg.agent_count; i++)
        w->used[self->cfg.agents[i].platform] = true;
    w->api_local[SCHED_GOOGLE] = s_local (google_base);
    w->api_local[SCHED_GRAPH] = s_local (graph_base);
    const char *text = zhub_env_str ("ZHUB_GOOGLE_CHANNEL_TOKEN", "");
    w->channel_token = *text ? text : NULL;
    text = zhub_env_str ("ZHUB_GRAPH_CLIENT_STATE", "");
    w->client_state = *text ? text : NULL;
    if (zhub_env_duration_ms ("ZHUB_GOOGLE_WATCH_TTL", SCHED_GOOGLE_WATCH_TTL_MS, &w->google_ttl_ms)
        || zhub_env_duration_ms ("ZHUB_GRAPH_SUBSCRIPTION_TTL", SCHED_GRAPH_SUB_TTL_MS,
                                 &w->graph_ttl_ms)
        || zhub_env_duration_ms ("ZHUB_CALENDAR_RENEW_MARGIN", SCHED_WATCH_MARGIN_MS, &w->margin_ms)
        || zhub_env_duration_ms ("ZHUB_CALENDAR_WATCH_RETRY", SCHED_WATCH_RETRY_MS, &w->retry_ms)) {
        snprintf (err, err_size,
                  "ZHUB_GOOGLE_WATCH_TTL, ZHUB_GRAPH_SUBSCRIPTION_TTL, ZHUB_CALENDAR_RENEW_MARGIN "
                  "and ZHUB_CALENDAR_WATCH_RETRY must be durations");
        return -1;
    }
    if (sched_watch_config_check (w, err, err_size))
        return -1;
    //  Said once, at start: whether bookings will hear about calendar edits.
    if (!w->enabled)
        zhub_info ("calendar_notifications_off", "reason=\"%s\"",
                   sched_watch_off_reason (w, SCHED_GOOGLE));
    else
        for (int p = SCHED_GOOGLE; p <= SCHED_GRAPH; p++) {
            const char *off = sched_watch_off_reason (w, (sched_platform_t)p);
            if (w->used[p] && off)
                zhub_warn ("calendar_notifications_off", "platform=%s reason=\"%s\"", s_platform[p],
                           off);
            else if (w->used[p])
                zhub_info ("calendar_notifications",
                           "platform=%s address=%s/v1/webhooks/%s public_url=%s ttl_ms=%lld "
                           "margin_ms=%lld",
                           s_platform[p], w->public_url, s_platform[p],
                           w->public_url_default ? "default" : "set",
                           (long long)(p == SCHED_GOOGLE ? w->google_ttl_ms : w->graph_ttl_ms),
                           (long long)w->margin_ms);
        }
    return 0;
}

//  -------------------------------------------------------------------
//  At start

int
scheduler_watch_open (zhub_actor_ctx_t *ctx)
{
    scheduler_t *self = ctx->state;
    int64_t now = zhub_now_ms ();
    size_t armed = 0;
    for (size_t i = 0; i < self->cfg.agent_count; i++) {
        const sched_agent_t *agent = &self->cfg.agents[i];
        bool seen = false; //  agents may share a calendar: one subscription
        for (size_t j = 0; j < i; j++)
            seen |= self->cfg.agents[j].platform == agent->platform
                    && !strcmp (self->cfg.agents[j].calendar_id, agent->calendar_id);
        if (seen || sched_watch_off_reason (&self->watch, agent->platform))
            continue;
        char *address = sched_watch_address (self->watch.public_url, agent->platform);
        bool one;
        zhub_rc_t rc = sched_store_watch_arm (self->db, agent->platform, agent->calendar_id,
                                              address, now, &one);
        free (address);
        if (rc != ZHUB_OK)
            return -1;
        armed += one;
    }
    if (armed)
        zhub_info ("watch_armed", "calendars=%zu", armed);
    return 0;
}

//  -------------------------------------------------------------------
//  The calls

//  A short word for the log from a Google or Graph error body.
static const char *
s_error_code (const zhub_http_response_t *resp)
{
    const json_t *error = json_object_get (resp->json, "error");
    const char *code = json_string_value (json_object_get (error, "code"));
    if (!code)
        code = json_string_value (
            json_object_get (json_array_get (json_object_get (error, "errors"), 0), "reason"));
    return code ? code : (resp->status ? "-" : "no_answer");
}

static void
s_failed (scheduler_t *self, int provider, zhub_http_response_t *resp, const char *what,
          const char *target)
{
    zhub_outcome_t out;
    memset (&out, 0, sizeof out);
    scheduler_answer_ok (self, provider, resp, what, &out); //  a 401 drops the token
    char code[64];
    zhub_log_safe (s_error_code (resp), code, sizeof code);
    zhub_warn ("watch_failed", "platform=%s calendar=%s call=\"%s\" status=%ld code=%s",
               scheduler_provider_name[provider], target, what, resp->status, code);
}

//  Opens a new channel on rec's calendar. true with rec updated; the
//  replaced channel (to stop) in *old.
static bool
s_google_open (scheduler_t *self, sched_watch_t *rec, const char *token, int64_t now,
               sched_watch_t *old)
{
    uint8_t random[16];
    randombytes_buf (random, sizeof random);
    char id[40];
    sched_watch_uuid (random, id, sizeof id);
    char *address = sched_watch_address (self->watch.public_url, SCHED_GOOGLE);
    int64_t asked = now + self->watch.google_ttl_ms;
    json_t *body = sched_google_watch_body (id, address, self->watch.channel_token, asked);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_google_events_watch (self->google, rec->target, body, token, NULL, &resp);
    json_decref (body);
    char *resource = NULL;
    int64_t until = 0;
    bool ok = resp.status >= 200 && resp.status < 300
              && sched_google_watch_read (resp.json, asked, &resource, &until) == 0;
    if (ok) {
        old->id = rec->id;
        old->resource_id = rec->resource_id;
        rec->id = zhub_strdup (id);
        rec->resource_id = resource;
        free (rec->address);
        rec->address = address;
        address = NULL;
        rec->expires_at = until;
        char when[40];
        zhub_time_format (until, when, sizeof when);
        zhub_info ("watch_created", "platform=google calendar=%s id=%s expires_at=%s", rec->target,
                   id, when);
    } else
        s_failed (self, S_GOOGLE, &resp, "google events.watch", rec->target);
    zhub_http_response_reset (&resp);
    free (address);
    return ok;
}

//  PATCH one subscription's expiration. 1 renewed (rec->expires_at set),
//  0 Graph does not know it, -1 failed.
static int
s_graph_renew (scheduler_t *self, const char *id, sched_watch_t *rec, const char *token,
               int64_t asked)
{
    json_t *body = sched_graph_renew_body (asked);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_graph_subscription_renew (self->graph, id, body, token, NULL, &resp);
    json_decref (body);
    char *sid = NULL;
    int64_t until = 0;
    int rc = -1;
    if (resp.status == 404)
        rc = 0;
    else if (resp.status >= 200 && resp.status < 300
             && sched_graph_subscription_read (resp.json, asked, &sid, &until) == 0) {
        free (rec->id);
        rec->id = sid;
        rec->expires_at = until;
        rc = 1;
    } else
        s_failed (self, S_GRAPH, &resp, "graph renew subscription", rec->target);
    zhub_http_response_reset (&resp);
    return rc;
}

//  The id of a subscription Graph already holds for this mailbox and
//  address, or NULL (a failed list only means nothing to adopt). The list
//  comes in pages: each answer's "@odata.nextLink" is followed until the
//  subscription is found or there is no next page
//  (https://learn.microsoft.com/graph/api/subscription-list,
//  https://learn.microsoft.com/graph/paging).
static char *
s_graph_adoptable (scheduler_t *self, const sched_watch_t *rec, const char *address,
                   const char *token)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_graph_subscriptions_list (self->graph, token, NULL, &resp);
    char *id = NULL, *next = NULL;
    for (int page = 1; resp.status == 200; page++) {
        const json_t *sub = sched_graph_subscription_find (resp.json, rec->target, address);
        if (sub) {
            id = zhub_strdup (json_string_value (json_object_get (sub, "id")));
            break;
        }
        const char *link = json_string_value (json_object_get (resp.json, "@odata.nextLink"));
        if (!link || page >= SCHED_GRAPH_LIST_MAX_PAGES || (next && !strcmp (link, next)))
            break;
        free (next);
        next = zhub_strdup (link);
        zhub_graph_next_page (self->graph, next, token, NULL, &resp);
    }
    free (next);
    zhub_http_response_reset (&resp);
    return id;
}

//  Keeps a Graph subscription on rec's mailbox alive: renew, adopt or
//  create. true with rec updated; a subscription to an old address (to
//  delete) in *old.
static bool
s_graph_keep (scheduler_t *self, sched_watch_t *rec, const char *token, int64_t now,
              sched_watch_t *old)
{
    char *address = sched_watch_address (self->watch.public_url, SCHED_GRAPH);
    int64_t asked = now + self->watch.graph_ttl_ms;
    const char *how = "renewed";
    int rc = 0;
    if (rec->id && rec->address && !strcmp (rec->address, address))
        rc = s_graph_renew (self, rec->id, rec, token, asked);
    else if (rec->id) {
        old->id = rec->id; //  ZHUB_PUBLIC_URL moved: a new one, the old one deleted
        rec->id = NULL;
    }
    if (rc == 0) {
        char *adopt = s_graph_adoptable (self, rec, address, token);
        how = "adopted";
        if (adopt) {
            rc = s_graph_renew (self, adopt, rec, token, asked);
            free (adopt);
        }
    }
    if (rc == 0) {
        how = "created";
        json_t *body =
            sched_graph_subscription_body (rec->target, address, self->watch.client_state, asked);
        zhub_http_response_t resp;
        zhub_http_response_init (&resp);
        zhub_graph_subscription_create (self->graph, body, token, NULL, &resp);
        json_decref (body);
        char *sid = NULL;
        int64_t until = 0;
        if (resp.status >= 200 && resp.status < 300
            && sched_graph_subscription_read (resp.json, asked, &sid, &until) == 0) {
            free (rec->id);
            rec->id = sid;
            rec->expires_at = until;
            rc = 1;
        } else {
            s_failed (self, S_GRAPH, &resp, "graph create subscription", rec->target);
            rc = -1;
        }
        zhub_http_response_reset (&resp);
    }
    if (rc != 1 && old->id) {
        rec->id = old->id; //  keep the old one until a new one exists
        old->id = NULL;
    }
    if (rc == 1) {
        free (rec->address);
        rec->address = address;
        address = NULL;
        char when[40];
        zhub_time_format (rec->expires_at, when, sizeof when);
        zhub_info (!strcmp (how, "renewed") ? "watch_renewed" : "watch_created",
                   "platform=graph calendar=%s id=%s how=%s expires_at=%s", rec->target, rec->id,
                   how, when);
    }
    free (address);
    return rc == 1;
}

//  Stops a replaced Google channel or deletes a replaced Graph
//  subscription. Best effort: either ends on its own anyway.
static void
s_release (scheduler_t *self, sched_platform_t platform, const sched_watch_t *old,
           const char *target, const char *token)
{
    if (!old->id || (platform == SCHED_GOOGLE && !old->resource_id))
        return;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    if (platform == SCHED_GOOGLE) {
        json_t *body = sched_google_stop_body (old->id, old->resource_id);
        zhub_google_channel_stop (self->google, body, token, NULL, &resp);
        json_decref (body);
    } else
        zhub_graph_subscription_delete (self->graph, old->id, token, NULL, &resp);
    if ((resp.status >= 200 && resp.status < 300) || resp.status == 404)
        zhub_info ("watch_stopped", "platform=%s calendar=%s id=%s status=%ld",
                   s_platform[platform], target, old->id, resp.status);
    else
        zhub_warn ("watch_stop_failed", "platform=%s calendar=%s id=%s status=%ld",
                   s_platform[platform], target, old->id, resp.status);
    zhub_http_response_reset (&resp);
}

//  -------------------------------------------------------------------
//  The timer

void
scheduler_watch_fire (zhub_actor_ctx_t *ctx, const sched_timer_t *t, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    sched_platform_t p = t->platform;
    const char *target = t->target;
    sched_watch_t rec, old;
    memset (&rec, 0, sizeof rec);
    memset (&old, 0, sizeof old);
    char name[SCHED_WATCH_NAME_BYTES];
    sched_watch_name (p, target, name, sizeof name);
    zhub_rc_t found = sched_store_watch (self->db, name, &rec);
    if (found == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the watch");
        return;
    }
    if (found == ZHUB_NOTFOUND || rec.timer_due != t->due) {
        //  re-armed since (a restart, a new public URL): that timer counts
        zhub_debug ("watch_timer_dropped", "due=%lld", (long long)t->due);
        zhub_outcome_ok (out, "stale");
        sched_watch_clear (&rec);
        return;
    }
    const char *off = sched_watch_off_reason (&self->watch, p);
    if (off || !sched_watch_wanted (&self->cfg, p, target)) {
        //  Switched off (the start re-arms it when on again), or no agent
        //  uses this calendar any more (what it has ends on its own).
        rec.timer_due = 0;
        zhub_rc_t rc = sched_store_watch_save (self->db, name, t->due, &rec, !off);
        if (rc == ZHUB_OK)
            zhub_info ("watch_dropped", "platform=%s calendar=%s reason=\"%s\"", s_platform[p],
                       target, off ? off : "no agent uses this calendar");
        if (rc == ZHUB_OK || rc == ZHUB_NOTFOUND)
            zhub_outcome_ok (out, rc == ZHUB_OK ? "watch_dropped" : "stale");
        else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot write the watch");
        sched_watch_clear (&rec);
        return;
    }
    int provider = p == SCHED_GOOGLE ? S_GOOGLE : S_GRAPH;
    zhub_outcome_t why;
    memset (&why, 0, sizeof why);
    const char *token = scheduler_token (self, provider, &why);
    int64_t now = zhub_now_ms ();
    bool ok = false;
    if (!token)
        zhub_warn ("watch_failed", "platform=%s calendar=%s call=token code=%u", s_platform[p],
                   target, why.code);
    else if (p == SCHED_GOOGLE)
        ok = s_google_open (self, &rec, token, now, &old);
    else
        ok = s_graph_keep (self, &rec, token, now, &old);
    now = zhub_now_ms ();
    //  A failed attempt is tried again by the next timer, not by the bus:
    //  the retry delay is the watch's own setting.
    rec.timer_due = ok ? sched_watch_renew_at (now, rec.expires_at, self->watch.margin_ms)
                       : now + self->watch.retry_ms;
    zhub_rc_t rc = sched_store_watch_save (self->db, name, t->due, &rec, false);
    if (rc == ZHUB_OK && ok)
        s_release (self, p, &old, rec.target, token);
    if (rc == ZHUB_OK) {
        zhub_info ("timer_fired", "kind=subscription platform=%s next_in_ms=%lld", s_platform[p],
                   (long long)(rec.timer_due - now));
        zhub_outcome_ok (out, ok ? "watch_renewed" : "watch_retry_armed");
    } else if (rc == ZHUB_NOTFOUND)
        zhub_outcome_ok (out, "stale");
    else {
        zhub_error ("timer_failed", "kind=subscription platform=%s calendar=%s", s_platform[p],
                    target);
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot write the watch");
    }
    sched_watch_clear (&rec);
    sched_watch_clear (&old);
}
