//  scheduler's Google push notifications: someone moved or deleted a
//  tour's event in Google Calendar, and the scheduler reads what changed
//  with Google's incremental sync (https://developers.google.com/calendar/api/guides/sync):
//
//    events.list with the calendar's sync token (kept in the store)
//    returns every event changed since the token was handed out, deleted
//    ones included, over as many pages as it takes (nextPageToken); only
//    the last page carries nextSyncToken, which is kept once every page
//    was read and applied, so an interruption reads the same changes again
//    (applying one twice changes nothing: the booking already matches);
//
//    without a token (the first notification, or after a 410) a full sync
//    lists the events ending from a day ago on (the tours that can still
//    move) and keeps its nextSyncToken;
//
//    410 Gone (fullSyncRequired: Google dropped the token; or
//    updatedMinTooLongAgo from older versions that sent updatedMin) starts
//    that full sync at once, instead of failing the notification for good
//    and hitting the same 410 on every later one.
//
//  Each changed tour is committed as it is read: the booking, its hold,
//  the reminders of its new start and the tour.scheduled / tour.canceled
//  outbox entry in one transaction (sched_store_save).
#include "scheduler_internal.h"

#define SCHED_GOOGLE_PAGE_SIZE                                                                     \
    250                            //  events per page: Google's default (its cap, 2500,
                                   //  can exceed zhub_http's 4 MiB answer limit)
#define SCHED_GOOGLE_MAX_PAGES 400 //  pages per sync (100 000 events) before giving up
#define SCHED_GOOGLE_RESYNC_FROM_MS                                                                \
    (24LL * 3600 * 1000) //  a full sync reads events ending
                         //  after now minus this

//  The events.list query: the sync token, or for a full sync timeMin;
//  the page token when reading on. Deleted events are asked for in a full
//  sync (an incremental one always has them). Fresh string.
static char *
s_list_query (const char *sync_token, const char *page_token, int64_t time_min)
{
    char *sync = sync_token ? zhub_http_escape (sync_token) : NULL;
    char *page = page_token ? zhub_http_escape (page_token) : NULL;
    char *from = NULL;
    if (!sync_token) {
        char when[40];
        zhub_time_format (time_min, when, sizeof when);
        from = zhub_http_escape (when);
    }
    char *query = zhub_sprintf ("maxResults=%d&singleEvents=true&showDeleted=true%s%s%s%s",
                                SCHED_GOOGLE_PAGE_SIZE,
                                sync ? "&syncToken=" : "&timeMin=", sync ? sync : from,
                                page ? "&pageToken=" : "", page ? page : "");
    free (sync);
    free (page);
    free (from);
    return query;
}

//  Google's error reason of an answer ("fullSyncRequired"), or "".
static const char *
s_reason (const zhub_http_response_t *resp)
{
    const json_t *errors = json_object_get (json_object_get (resp->json, "error"), "errors");
    const char *reason = json_string_value (json_object_get (json_array_get (errors, 0), "reason"));
    return reason ? reason : "";
}

//  Applies one event of a list page to the booking it carries, if any.
//  false with *out set when the commit failed.
static bool
s_apply (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const json_t *item, int64_t asked,
         int *changed, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    const char *id = json_string_value (json_object_get (item, "id"));
    sched_booking_t b = {0};
    if (!id || sched_store_booking (self->db, id, &b) != ZHUB_OK) {
        sched_booking_clear (&b);
        return true; //  not a tour of ours
    }
    int64_t start = 0, end = 0;
    sched_change_t change = strcmp (b.status, "scheduled")
                                ? SCHED_CHANGE_NONE
                                : sched_google_change (item, &b, &start, &end);
    bool ok = true;
    if (change != SCHED_CHANGE_NONE) {
        int64_t old_start = b.start;
        const char *updated = json_string_value (json_object_get (item, "updated"));
        char salt[64];
        snprintf (salt, sizeof salt, "g%s", updated ? updated : "");
        sched_save_t save = {.booking = &b, .hold_from = old_start};
        if (change == SCHED_CHANGE_CANCELED)
            s_set_str (&b.status, "canceled");
        else {
            b.start = start;
            b.end = end;
            b.reminders_sent = 0;
            save.arm = true;
            save.hold_put = true;
        }
        char reason[256];
        zhub_msg_t *publish =
            sched_tour_msg (change == SCHED_CHANGE_CANCELED ? "tour.canceled" : "tour.scheduled",
                            &b, salt, msg->traceparent, asked, reason, sizeof reason);
        save.publish = publish;
        if (!publish) {
            zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
            ok = false;
        } else if (sched_store_save (self->db, &save) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
            ok = false;
        } else
            (*changed)++;
        zhub_msg_destroy (&publish);
    }
    sched_booking_clear (&b);
    return ok;
}

//  One sync of calendar cal from sync_token (NULL: a full sync): every
//  page read and applied. Returns 1 with *next the new sync token (or NULL
//  when Google gave none), 0 when Google answered 410 to the token (a full
//  sync is due), -1 with *out set.
static int
s_sync (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const char *cal, const char *token,
        const char *sync_token, int64_t asked, int *changed, char **next, int *pages,
        zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    char *page_token = NULL;
    int rc = -1;
    *next = NULL;
    for (*pages = 0; *pages < SCHED_GOOGLE_MAX_PAGES; (*pages)++) {
        char *query = s_list_query (sync_token, page_token, asked - SCHED_GOOGLE_RESYNC_FROM_MS);
        zhub_http_response_t resp;
        zhub_http_response_init (&resp);
        zhub_google_events_list (self->google, cal, query, token, msg->traceparent, &resp);
        free (query);
        if (resp.status == 410 && sync_token) {
            zhub_info ("google_full_sync", "calendar=%s reason=%s page=%d", cal, s_reason (&resp),
                       *pages + 1);
            zhub_http_response_reset (&resp);
            rc = 0;
            break;
        }
        if (!scheduler_answer_ok (self, S_GOOGLE, &resp, "google events.list", out)) {
            zhub_http_response_reset (&resp);
            break;
        }
        const json_t *items = json_object_get (resp.json, "items");
        const char *more = json_string_value (json_object_get (resp.json, "nextPageToken"));
        if (!json_is_array (items) || (more && page_token && !strcmp (more, page_token))) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER,
                                "google events.list: not a page of events");
            zhub_http_response_reset (&resp);
            break;
        }
        bool ok = true;
        size_t i;
        const json_t *item;
        json_array_foreach (items, i, item)
        {
            if (!(ok = s_apply (ctx, msg, item, asked, changed, out)))
                break;
        }
        free (page_token);
        page_token = ok && more ? zhub_strdup (more) : NULL;
        if (ok && !more) {
            const char *sync = json_string_value (json_object_get (resp.json, "nextSyncToken"));
            *next = sync && *sync ? zhub_strdup (sync) : NULL;
            rc = 1;
        }
        zhub_http_response_reset (&resp);
        if (!ok || !page_token)
            break;
    }
    if (page_token) //  the page limit: something is wrong with the answers
        zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER,
                            "google events.list: more than %d pages", SCHED_GOOGLE_MAX_PAGES);
    free (page_token);
    return rc;
}

void
scheduler_handle_google_changed (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                 zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    const zhub_msg_t *msg = ev->msg;
    const json_t *data = ev->data;
    char *cal =
        sched_google_resource_calendar (json_string_value (json_object_get (data, "resource_uri")));
    const char *state = json_string_value (json_object_get (data, "resource_state"));
    bool ours = false;
    for (size_t i = 0; cal && i < self->cfg.agent_count; i++)
        ours |= self->cfg.agents[i].platform == SCHED_GOOGLE
                && !strcmp (self->cfg.agents[i].calendar_id, cal);
    if (!ours || (state && !strcmp (state, "sync"))) {
        zhub_outcome_ok (out, "not_ours");
        free (cal);
        return;
    }
    const char *token = scheduler_token (self, S_GOOGLE, out);
    if (!token) {
        free (cal);
        return;
    }
    char *sync_token = NULL;
    if (sched_store_sync_token (self->db, cal, &sync_token) != ZHUB_OK)
        sync_token = NULL;
    int64_t asked = zhub_now_ms ();
    int changed = 0, pages = 0;
    char *next = NULL;
    bool full = !sync_token;
    int rc = s_sync (ctx, msg, cal, token, sync_token, asked, &changed, &next, &pages, out);
    if (rc == 0) {
        //  The token is gone for good: read the whole window again.
        full = true;
        rc = s_sync (ctx, msg, cal, token, NULL, asked, &changed, &next, &pages, out);
    }
    if (rc == 1 && next) {
        if (sched_store_sync_token_put (self->db, cal, next) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit");
            rc = -1;
        }
    } else if (rc == 1)
        zhub_warn ("google_sync_token_missing", "calendar=%s", cal);
    if (rc == 1) {
        zhub_outcome_ok (out, changed ? "bookings_updated" : "no_change");
        snprintf (out->reason, sizeof out->reason, "calendar=%.100s changed=%d pages=%d sync=%s",
                  cal, changed, pages + 1, full ? "full" : "incremental");
    }
    free (next);
    free (sync_token);
    free (cal);
}
