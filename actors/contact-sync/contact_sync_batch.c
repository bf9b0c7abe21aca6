//  Batched writes to HubSpot (ZHUB_HUBSPOT_BATCH_WINDOW: 200 ms unless set,
//  0 turns it off). A Bird -> HubSpot change is not sent at once: its plan
//  rests QUEUED, and the handler commits, in one LMDB transaction, the
//  contact's new state and the outbound intent (contact_sync_store_queue:
//  the properties still to write, merged with any earlier intent for the
//  same contact, with the changes' names and audit entries), and the
//  message is acked. The actor's tick flushes the intents once the oldest
//  has waited the window (or 100 are ready): each is resumed as the WRITE
//  it was (contact_sync_plan_queued), up to 100 go in one batch upsert
//  (contact_sync_upsert.c), paced by the connector's rate budget, and each
//  goes on through the one executor (contact_sync_exec.c) from what HubSpot
//  answered for it — the same table, the same written step, the same
//  commit and contact.synced as a write made at once. The commits of one
//  flush are one transaction, which also removes the intents. A crash
//  between the call and that commit resends the same upsert (keyed on
//  bird_contact_id): the effect is the same, never doubled. A contact the
//  batch leaves without its record is sent again alone by its plan; refused
//  for good, it is dead-lettered with HubSpot's error for it; one failing
//  transiently stays queued for a later flush.
//
//  Coalescing per contact is what turns a burst of changes into one write;
//  batching is what turns 100 contacts into one of HubSpot's 190 calls per
//  10 s: 1,900 contacts a second at the ceiling instead of 19.
#include "contact_sync_io.h"
#include "contact_sync_results.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  -------------------------------------------------------------------
//  The flush

typedef struct {
    contact_item_t items[CONTACT_BATCH_MAX];
    contact_intent_t intents[CONTACT_BATCH_MAX];
    size_t count;
    size_t pending;
    int64_t oldest;
    int64_t next_since; //  when the first intent left for later was queued (0: none)
} s_scan_t;

static zhub_rc_t
s_scan (contact_sync_t *self, s_scan_t *scan)
{
    zhub_rc_t rc = contact_sync_store_pending (&self->store, scan->intents, CONTACT_BATCH_MAX,
                                               &scan->count, &scan->pending, &scan->next_since);
    scan->oldest = INT64_MAX;
    for (size_t i = 0; i < scan->count; i++) {
        scan->items[i].intent = scan->intents[i];
        memset (&scan->intents[i], 0, sizeof scan->intents[i]);
        if (scan->items[i].intent.since < scan->oldest)
            scan->oldest = scan->items[i].intent.since;
    }
    return rc;
}

static void
s_scan_clear (s_scan_t *scan)
{
    for (size_t i = 0; i < scan->count; i++) {
        contact_item_t *item = &scan->items[i];
        contact_intent_clear (&item->intent);
        contact_plan_clear (&item->plan);
        contact_state_clear (&item->state);
        json_decref (item->record);
    }
    free (scan);
}

//  Each intent resumed as the WRITE it was, from the contact's state now.
static void
s_plan (contact_sync_t *self, contact_item_t *item)
{
    const contact_intent_t *intent = &item->intent;
    item->have =
        contact_sync_store_load_bird (&self->store, intent->bird_id, &item->state) == ZHUB_OK;
    contact_state_t start = {0};
    contact_state_copy (&start, &item->state);
    if (!start.bird_id)
        start.bird_id = zhub_strdup (intent->bird_id);
    contact_sync_plan_queued (&start, intent->properties, intent->changed, intent->audit,
                              &item->plan);
    contact_state_clear (&start);
}

//  An item through the one executor, from what the batch call answered for
//  it, or, without an answer, its upsert sent alone: DONE fills *commit
//  (its contact.synced into *synced), a failure settles it REFUSED or
//  DEFERRED.
static void
s_run (zhub_actor_ctx_t *ctx, contact_item_t *item, contact_sync_commit_t *commit,
       zhub_msg_t **synced)
{
    const contact_intent_t *intent = &item->intent;
    const char *cause = *intent->cause_id ? intent->cause_id : NULL;
    //  contact.synced's id derives from the first change the write carries
    char *synced_of = zhub_sprintf ("%s:batch", cause ? cause : intent->bird_id);
    json_t *answer = item->record ? json_pack ("{s:[O]}", "results", item->record) : NULL;
    contact_run_t run = {.event_id = cause ? cause : intent->bird_id,
                         .synced_of = synced_of,
                         .cause_id = cause,
                         .traceparent = intent->traceparent,
                         .defer_links = true,
                         .settle_intent = true,
                         .first = answer ? CONTACT_ANSWER_OK : 0,
                         .first_json = answer};
    contact_event_t event = {.origin = CONTACT_FROM_BIRD, .bird_id = intent->bird_id};
    zhub_outcome_t out = {0};
    bool called =
        contact_sync_run (ctx, &run, &event, &item->state, &item->have, &item->plan, &out);
    if (called && item->plan.kind == CONTACT_PLAN_DONE
        && contact_sync_done (&run, &item->plan, item->have ? &item->state : NULL, commit, synced,
                              &out)
               == ZHUB_OK)
        item->fate = CONTACT_ITEM_DONE;
    else {
        if (called && item->plan.kind == CONTACT_PLAN_REJECT)
            zhub_outcome_reject (&out, item->plan.code, "%s", item->plan.reason);
        else if (called && item->plan.kind != CONTACT_PLAN_DONE)
            zhub_outcome_reject (&out, ZHUB_REASON_INTERNAL, "a batched write ended %d",
                                 (int)item->plan.kind);
        item->fate = out.rc == ZHUB_RETRY ? CONTACT_ITEM_DEFERRED : CONTACT_ITEM_REFUSED;
        item->failure = out;
    }
    item->created = run.upsert_created;
    item->conflict = run.upsert_conflict;
    json_decref (answer);
    free (synced_of);
}

//  Settles the items and commits them in one transaction: a contact
//  HubSpot holds gets what its plan's DONE commits (its HubSpot id, the
//  audit entries, contact.synced; the id goes onto its Bird contact later,
//  table links, so that Bird's latency does not slow HubSpot's batches);
//  one it refused for good stops claiming HubSpot holds the values, and its
//  dead letter is queued. Deferred ones stay queued.
static zhub_rc_t
s_settle (zhub_actor_ctx_t *ctx, contact_item_t *items, size_t count)
{
    contact_sync_t *self = ctx->state;
    contact_sync_commit_t *commits = zhub_calloc (count ? count : 1, sizeof *commits);
    zhub_msg_t **publish = zhub_calloc (count ? count : 1, sizeof *publish);
    size_t n = 0;
    zhub_rc_t rc = ZHUB_OK;
    for (size_t i = 0; i < count; i++) {
        contact_item_t *item = &items[i];
        if (item->fate == CONTACT_ITEM_DEFERRED)
            continue; //  the intent stays
        if (item->fate == CONTACT_ITEM_OPEN)
            s_run (ctx, item, &commits[n], &publish[n]);
        if (item->fate == CONTACT_ITEM_DONE) {
            n++;
            continue;
        }
        if (item->fate != CONTACT_ITEM_REFUSED)
            continue;
        //  The state no longer claims HubSpot holds what it refused.
        commits[n] =
            (contact_sync_commit_t){.bird_id = item->intent.bird_id, .settle_intent = true};
        if (item->have) {
            contact_sync_withdraw (&item->state, item->intent.properties);
            commits[n].next = &item->state;
        }
        publish[n] = contact_sync_dead_letter (item);
        commits[n].publish = publish[n];
        if (!publish[n])
            rc = ZHUB_ERROR;
        n++;
    }
    if (rc == ZHUB_OK)
        rc = contact_sync_store_commit (&self->store, ctx, commits, n);
    for (size_t i = 0; i < n; i++)
        zhub_msg_destroy (&publish[i]);
    free (publish);
    free (commits);
    return rc;
}

//  Writes queued HubSpot ids onto their Bird contacts (attribute
//  hubspot_contact_id), a few per tick; what fails stays queued.
static void
s_write_links (zhub_actor_ctx_t *ctx)
{
    contact_sync_t *self = ctx->state;
    //  One Bird call per link: while messages are waiting they come first
    //  (a backlog of links would otherwise stall the whole actor); the
    //  links drain when the actor is idle, and a few trickle out meanwhile.
    if (!ctx->idle && zhub_mono_ms () < self->links_not_before)
        return;
    self->links_not_before = zhub_mono_ms () + CONTACT_LINKS_BUSY_INTERVAL_MS;
    char *bird[CONTACT_LINKS_PER_TICK], *hubspot[CONTACT_LINKS_PER_TICK];
    size_t count = 0;
    if (contact_sync_store_links (&self->store, ctx->idle ? CONTACT_LINKS_PER_TICK : 1, bird,
                                  hubspot, &count)
            != ZHUB_OK
        || !count)
        return;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    size_t done = 0;
    for (size_t i = 0; i < count; i++) {
        json_t *body = json_pack ("{s:{s:s}}", "attributes", "hubspot_contact_id", hubspot[i]);
        zhub_bird_contact_update (self->bird, bird[i], body, NULL, &resp);
        json_decref (body);
        bool ok = (resp.status >= 200 && resp.status < 300) || resp.status == 404;
        if (!ok) {
            zhub_warn ("link_deferred", "bird=%s status=%ld", bird[i], resp.status);
            break;
        }
        done++;
    }
    zhub_http_response_reset (&resp);
    if (contact_sync_store_links_done (&self->store, bird, hubspot, done) != ZHUB_OK)
        zhub_error ("link_commit_failed", "count=%zu", done);
    for (size_t i = 0; i < count; i++) {
        free (bird[i]);
        free (hubspot[i]);
    }
}

void
contact_sync_flush (zhub_actor_ctx_t *ctx)
{
    contact_sync_t *self = ctx->state;
    contact_sync_results_tick (ctx);
    if (self->batch_window_ms <= 0)
        return;
    if (zhub_mono_ms () < self->flush_not_before) {
        ctx->tick_due_ms = self->flush_not_before;
        return;
    }
    //  Nothing due (known without reading the store): only Bird links, and
    //  a tick when the window of what is queued closes.
    int64_t waited = zhub_now_ms () - self->queued_since;
    if (self->queued == 0
        || (self->queued > 0 && self->queued < CONTACT_BATCH_MAX
            && waited < self->batch_window_ms)) {
        if (self->queued > 0)
            ctx->tick_due_ms = zhub_mono_ms () + self->batch_window_ms - waited;
        if (self->queued < CONTACT_BATCH_MAX / 2)
            s_write_links (ctx);
        return;
    }
    s_scan_t *scan = zhub_calloc (1, sizeof *scan);
    zhub_rc_t read = s_scan (self, scan);
    if (read == ZHUB_OK)
        zhub_actor_set_waiting (ctx, (double)scan->pending);
    if (read != ZHUB_OK || !scan->count
        || (scan->pending < CONTACT_BATCH_MAX
            && zhub_now_ms () - scan->oldest < self->batch_window_ms)) {
        //  Between batches (or with none due), Bird learns new HubSpot ids.
        if (!scan->count || scan->pending < CONTACT_BATCH_MAX / 2)
            s_write_links (ctx);
        self->queued = (int64_t)scan->pending;
        self->queued_since = scan->count ? scan->oldest : 0;
        if (scan->count)
            ctx->tick_due_ms =
                zhub_mono_ms () + self->batch_window_ms - (zhub_now_ms () - scan->oldest);
        s_scan_clear (scan);
        return;
    }
    zhub_sync_result_t run;
    zhub_sync_result_init (&run, CONTACT_SYNC_GROUP, "batch", zhub_now_ms ());
    int64_t started = zhub_mono_ms ();
    long status = 0;
    for (size_t i = 0; i < scan->count; i++)
        s_plan (self, &scan->items[i]);
    //  Many go in one call; one alone is its plan's own call.
    if (scan->count > 1)
        contact_sync_upsert_items (ctx, scan->items, scan->count, &status);
    bool committed = s_settle (ctx, scan->items, scan->count) == ZHUB_OK;
    if (scan->count == 1)
        status = scan->items[0].fate == CONTACT_ITEM_DONE ? 200 : scan->items[0].failure.code;
    size_t done_count = 0, refused = 0, deferred = 0;
    for (size_t i = 0; i < scan->count; i++) {
        contact_item_t *item = &scan->items[i];
        done_count += item->fate == CONTACT_ITEM_DONE;
        deferred += item->fate == CONTACT_ITEM_DEFERRED;
        if (item->fate == CONTACT_ITEM_REFUSED) {
            refused++;
            char reason[300];
            zhub_error ("contact_refused", "bird=%s code=%u reason=%s note=\"dead-lettered\"",
                        item->intent.bird_id, item->failure.code,
                        zhub_log_quote (item->failure.reason, reason, sizeof reason));
        }
    }
    if (!committed) {
        zhub_error ("batch_commit_failed", "count=%zu", scan->count);
        deferred = scan->count;
    } else
        zhub_actor_set_waiting (ctx, (double)(scan->pending - done_count - refused));
    zhub_info ("batch_flushed", "count=%zu synced=%zu refused=%zu deferred=%zu pending=%zu ms=%lld",
               scan->count, done_count, refused, deferred, scan->pending,
               (long long)(zhub_mono_ms () - started));
    //  (the commit failed when what settled counts as deferred too)
    contact_sync_results_flushed (ctx, &run, scan->items, scan->count,
                                  done_count + refused > 0 && deferred == scan->count, started);
    if (deferred) {
        //  HubSpot is busy or away: what is left waits a second.
        zhub_warn ("batch_deferred", "count=%zu status=%ld", deferred, status);
        self->flush_not_before = zhub_mono_ms () + 1000;
        self->queued = -1; //  look in the store again then
    } else {
        //  What is left waits from when its oldest intent was queued.
        self->queued = (int64_t)(scan->pending - scan->count);
        self->queued_since =
            scan->pending > scan->count ? (scan->next_since ? scan->next_since : scan->oldest) : 0;
        if (self->queued)
            ctx->tick_due_ms = zhub_mono_ms (); //  look again at once
    }
    s_scan_clear (scan);
}
