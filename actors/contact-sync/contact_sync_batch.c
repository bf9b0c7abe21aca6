//  Batched writes to HubSpot (ZHUB_HUBSPOT_BATCH_WINDOW: 200 ms unless set,
//  0 turns it off). A Bird -> HubSpot change is not sent at once: the
//  handler commits, in one LMDB transaction, the contact's new state and
//  the outbound intent (table
//  "pending": bird id -> the properties still to write, merged with any
//  earlier intent for the same contact), and the message is acked. The
//  actor's tick sends the intents through the batch upsert endpoint, up to
//  100 contacts a call, once the oldest has waited the window (or 100 are
//  ready), paced by the connector's rate budget; each flushed contact gets
//  its HubSpot id, its id-map entry and its contact.synced event in one
//  transaction that also removes the intent. A crash between the call and
//  that commit resends the same upsert (keyed on bird_contact_id): the
//  effect is the same, never doubled. A contact HubSpot refuses is settled
//  on its own (contact_sync_upsert.c): sent again alone, then, if refused
//  for good, dead-lettered with HubSpot's error for it; one failing
//  transiently stays queued for a later flush.
//
//  Coalescing per contact is what turns a burst of changes into one write;
//  batching is what turns 100 contacts into one of HubSpot's 190 calls per
//  10 s: 1,900 contacts a second at the ceiling instead of 19.
#include "contact_sync_io.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

zhub_rc_t
contact_sync_queue (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const contact_plan_t *plan)
{
    contact_sync_t *self = ctx->state;
    zhub_rc_t rc = contact_sync_store_queue (&self->store, plan, msg, zhub_now_ms ());
    if (rc == ZHUB_OK && self->queued >= 0) {
        if (self->queued++ == 0)
            self->queued_since = zhub_now_ms ();
    }
    return rc;
}

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
        contact_intent_clear (&scan->items[i].intent);
        free (scan->items[i].hubspot_id);
    }
    free (scan);
}

//  contact.synced for a flushed contact, its id derived from the first
//  change it carries.
static zhub_msg_t *
s_synced_msg (const contact_item_t *item)
{
    const contact_intent_t *intent = &item->intent;
    const char *bird = intent->bird_id;
    const char *cause = *intent->cause_id ? intent->cause_id : NULL;
    char *input_id = zhub_sprintf ("%s:batch", cause ? cause : bird);
    char id[64];
    contact_sync_synced_id (input_id, id, sizeof id);
    free (input_id);
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, CONTACT_SYNC_SOURCE);
    zhub_msg_set (&msg->type, "contact.synced");
    char *subject = zhub_sprintf ("contact:%s", bird);
    zhub_msg_set (&msg->subject, subject);
    free (subject);
    zhub_msg_set (&msg->traceparent, intent->traceparent);
    msg->time_ms = zhub_now_ms ();
    json_t *data =
        json_pack ("{s:s, s:s, s:O, s:s}", "bird_contact_id", bird, "hubspot_contact_id",
                   item->hubspot_id, "changed", intent->changed, "direction", "bird_to_hubspot");
    if (cause)
        json_object_set_new (data, "cause_id", json_string (cause));
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

//  Commits what the flush settled, in one transaction: a contact HubSpot
//  holds gets its HubSpot id (and the id onto its Bird contact later, table
//  links, so that Bird's latency does not slow HubSpot's batches) and its
//  contact.synced; one it refused for good stops claiming HubSpot holds
//  the values, and its dead letter is queued. Deferred ones stay queued.
static zhub_rc_t
s_settle (zhub_actor_ctx_t *ctx, contact_item_t *items, size_t count)
{
    contact_sync_t *self = ctx->state;
    contact_sync_commit_t *commits = zhub_calloc (count ? count : 1, sizeof *commits);
    contact_state_t *states = zhub_calloc (count ? count : 1, sizeof *states);
    zhub_msg_t **publish = zhub_calloc (count ? count : 1, sizeof *publish);
    size_t n = 0;
    zhub_rc_t rc = ZHUB_OK;
    for (size_t i = 0; i < count && rc == ZHUB_OK; i++) {
        contact_item_t *item = &items[i];
        const char *bird = item->intent.bird_id;
        bool done = item->fate == CONTACT_ITEM_DONE && item->hubspot_id;
        if (!done && item->fate != CONTACT_ITEM_REFUSED)
            continue; //  deferred: the intent stays
        contact_state_t *state = &states[n];
        bool have = contact_sync_store_load_bird (&self->store, bird, state) == ZHUB_OK;
        contact_sync_commit_t *commit = &commits[n];
        *commit = (contact_sync_commit_t){.bird_id = bird, .settle_intent = true};
        if (done) {
            if (!state->bird_id)
                state->bird_id = zhub_strdup (bird);
            bool new_link = !state->hubspot_id || strcmp (state->hubspot_id, item->hubspot_id);
            free (state->hubspot_id);
            state->hubspot_id = zhub_strdup (item->hubspot_id);
            state->updated_ms = zhub_now_ms ();
            commit->next = state;
            commit->link_hubspot_id = new_link ? item->hubspot_id : NULL;
            publish[n] = s_synced_msg (item);
            //  the field decisions, now that HubSpot holds them
            commit->audit = item->intent.audit;
            commit->event_id = publish[n]->id;
        } else {
            //  The state no longer claims HubSpot holds what it refused.
            if (have) {
                contact_sync_withdraw (state, item->intent.properties);
                commit->next = state;
            }
            publish[n] = contact_sync_dead_letter (item);
            if (!publish[n])
                rc = ZHUB_ERROR;
        }
        commit->publish = publish[n];
        n++;
    }
    if (rc == ZHUB_OK)
        rc = contact_sync_store_commit (&self->store, ctx, commits, n);
    for (size_t i = 0; i < n; i++) {
        contact_state_clear (&states[i]);
        zhub_msg_destroy (&publish[i]);
    }
    free (publish);
    free (states);
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
    if (s_scan (self, scan) != ZHUB_OK || !scan->count
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
    int64_t started = zhub_mono_ms ();
    long status = 0;
    contact_sync_upsert_items (ctx, scan->items, scan->count, &status);
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
    if (done_count + refused) {
        if (s_settle (ctx, scan->items, scan->count) != ZHUB_OK) {
            zhub_error ("batch_commit_failed", "count=%zu", scan->count);
            deferred = scan->count;
        }
    }
    zhub_info ("batch_flushed", "count=%zu synced=%zu refused=%zu deferred=%zu pending=%zu ms=%lld",
               scan->count, done_count, refused, deferred, scan->pending,
               (long long)(zhub_mono_ms () - started));
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
