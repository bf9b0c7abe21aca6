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
#include "contact_sync_results.h"
#include "zhub_log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The intents' order: "<16 hex ms queued>|<bird id>". Fixed-width hex
//  sorts as the time does, so a flush walks the oldest first and a contact
//  whose id sorts late is not passed over by newer ones.
#define S_ORDER_STAMP 16

static int
s_order_key (char *out, size_t cap, int64_t since, const char *bird)
{
    return snprintf (out, cap, "%016llx|%s", (unsigned long long)since, bird);
}

static int64_t
s_entry_since (const void *value, size_t size)
{
    json_t *entry = json_loadb (value, size, 0, NULL);
    int64_t since = json_integer_value (json_object_get (entry, "since"));
    json_decref (entry);
    return since;
}

zhub_rc_t
contact_sync_pending_del (zhub_txn_t *txn, const contact_sync_t *self, const char *bird,
                          size_t *removed)
{
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, self->pending, bird, strlen (bird), &value, &size);
    if (rc != ZHUB_OK)
        return rc == ZHUB_NOTFOUND ? ZHUB_OK : ZHUB_ERROR;
    char key[S_ORDER_STAMP + 2 + ZHUB_MSG_MAX_ID];
    int length = s_order_key (key, sizeof key, s_entry_since (value, size), bird);
    rc = zhub_txn_del (txn, self->pending_order, key, (size_t)length);
    if (rc == ZHUB_ERROR || zhub_txn_del (txn, self->pending, bird, strlen (bird)) != ZHUB_OK)
        return ZHUB_ERROR;
    if (removed)
        *removed += rc == ZHUB_OK ? 2 : 1;
    return ZHUB_OK;
}

typedef struct {
    const contact_sync_t *self;
    zhub_txn_t *txn;
    size_t placed;
} s_reorder_t;

static bool
s_every_row (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)key, (void)key_size, (void)value, (void)value_size, (void)arg;
    return true;
}

//  Files one pending intent in pending_order under the time it was queued.
static zhub_walk_t
s_reorder_one (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_reorder_t *reorder = arg;
    char bird[ZHUB_MSG_MAX_ID + 1], order[S_ORDER_STAMP + 2 + ZHUB_MSG_MAX_ID];
    if (key_size > ZHUB_MSG_MAX_ID)
        return ZHUB_WALK_NEXT;
    memcpy (bird, key, key_size);
    bird[key_size] = 0;
    int length = s_order_key (order, sizeof order, s_entry_since (value, value_size), bird);
    if (zhub_txn_put (reorder->txn, reorder->self->pending_order, order, (size_t)length, "", 0)
        != ZHUB_OK)
        return ZHUB_WALK_FAIL;
    reorder->placed++;
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_reorder_fn (zhub_txn_t *txn, void *arg)
{
    s_reorder_t *reorder = arg;
    const contact_sync_t *self = reorder->self;
    reorder->placed = 0;
    reorder->txn = txn;
    if (zhub_txn_count (txn, self->pending_order) == zhub_txn_count (txn, self->pending))
        return ZHUB_OK;
    size_t dropped = 0;
    if (zhub_txn_delete_where (txn, self->pending_order, s_every_row, NULL, &dropped) != ZHUB_OK)
        return ZHUB_ERROR;
    return zhub_txn_walk (txn, self->pending, s_reorder_one, reorder);
}

int
contact_sync_pending_reorder (zhub_actor_ctx_t *ctx)
{
    s_reorder_t reorder = {.self = ctx->state};
    if (zhub_store_write (ctx->store, s_reorder_fn, &reorder) != ZHUB_OK)
        return -1;
    if (reorder.placed)
        zhub_info ("pending_reordered", "intents=%zu", reorder.placed);
    return 0;
}

typedef struct {
    const contact_sync_t *self;
    const contact_plan_t *plan;
    const zhub_msg_t *msg;
} s_queue_t;

//  The message's envelope as base64 text (fresh), or NULL.
static char *
s_base64_envelope (const zhub_msg_t *msg)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[128];
    if (zhub_msg_encode (msg, &bytes, &size, err, sizeof err))
        return NULL;
    size_t length = sodium_base64_encoded_len (size, sodium_base64_VARIANT_ORIGINAL);
    char *text = zhub_malloc (length);
    sodium_bin2base64 (text, length, bytes, size, sodium_base64_VARIANT_ORIGINAL);
    free (bytes);
    return text;
}

static zhub_rc_t
s_queue_fn (zhub_txn_t *txn, void *arg)
{
    s_queue_t *q = arg;
    const contact_state_t *next = &q->plan->next;
    const char *bird = next->bird_id;
    const void *value;
    size_t size;
    json_t *entry = NULL;
    zhub_rc_t rc = zhub_txn_get (txn, q->self->pending, bird, strlen (bird), &value, &size);
    if (rc == ZHUB_ERROR)
        return rc;
    if (rc == ZHUB_OK)
        entry = json_loadb (value, size, 0, NULL);
    if (!json_is_object (entry)) {
        json_decref (entry);
        int64_t since = zhub_now_ms ();
        entry = json_pack ("{s:{}, s:[], s:I, s:s}", "properties", "changed", "since",
                           (json_int_t)since, "cause_id", q->msg->id ? q->msg->id : "");
        if (q->msg->traceparent)
            json_object_set_new (entry, "traceparent", json_string (q->msg->traceparent));
        //  The message was acked once queued: should HubSpot refuse the
        //  write, its dead letter carries this envelope.
        char *envelope = s_base64_envelope (q->msg);
        if (envelope)
            json_object_set_new (entry, "cause_envelope", json_string (envelope));
        free (envelope);
        char order[S_ORDER_STAMP + 2 + ZHUB_MSG_MAX_ID];
        int length = s_order_key (order, sizeof order, since, bird);
        if (zhub_txn_put (txn, q->self->pending_order, order, (size_t)length, "", 0) != ZHUB_OK) {
            json_decref (entry);
            return ZHUB_ERROR;
        }
    }
    //  Later values win: the intent holds what HubSpot should end up with.
    json_object_update (json_object_get (entry, "properties"), q->plan->hubspot_properties);
    json_t *changed = json_object_get (entry, "changed");
    for (size_t i = 0; i < q->plan->changed_count; i++) {
        bool known = false;
        size_t k;
        json_t *name;
        json_array_foreach (changed, k, name) known |=
            !strcmp (json_string_value (name), q->plan->changed[i]);
        if (!known)
            json_array_append_new (changed, json_string (q->plan->changed[i]));
    }
    char *text = json_dumps (entry, JSON_COMPACT);
    json_decref (entry);
    rc = zhub_txn_put (txn, q->self->pending, bird, strlen (bird), text, strlen (text));
    free (text);
    if (rc != ZHUB_OK)
        return rc;
    //  The contact's state moves now (what both sides will hold), so later
    //  events and HubSpot's echoes compare against it.
    text = contact_state_encode (next);
    rc = zhub_txn_put (txn, q->self->contacts, bird, strlen (bird), text, strlen (text));
    free (text);
    return rc;
}

zhub_rc_t
contact_sync_queue (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const contact_plan_t *plan)
{
    contact_sync_t *self = ctx->state;
    s_queue_t q = {.self = self, .plan = plan, .msg = msg};
    if (!plan->next.bird_id || !plan->hubspot_properties)
        return ZHUB_ERROR;
    zhub_rc_t rc = zhub_store_write (ctx->store, s_queue_fn, &q);
    if (rc == ZHUB_OK && self->queued >= 0) {
        if (self->queued++ == 0)
            self->queued_since = zhub_now_ms ();
    }
    return rc;
}

//  -------------------------------------------------------------------
//  The flush

typedef struct {
    const contact_sync_t *self;
    contact_item_t items[CONTACT_BATCH_MAX];
    size_t count;
    size_t pending;
    int64_t oldest;
    int64_t next_since; //  when the first intent left for later was queued (0: none)
} s_scan_t;

static zhub_rc_t
s_scan_fn (zhub_txn_t *txn, void *arg)
{
    s_scan_t *scan = arg;
    scan->pending = zhub_txn_count (txn, scan->self->pending);
    if (!scan->pending)
        return ZHUB_OK;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, scan->self->pending_order);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    scan->oldest = INT64_MAX;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        if (key_size <= S_ORDER_STAMP + 1)
            goto next;
        const char *bird = (const char *)key + S_ORDER_STAMP + 1;
        size_t bird_size = key_size - S_ORDER_STAMP - 1;
        if (scan->count == CONTACT_BATCH_MAX) {
            char stamp[S_ORDER_STAMP + 1];
            memcpy (stamp, key, S_ORDER_STAMP);
            stamp[S_ORDER_STAMP] = 0;
            scan->next_since = (int64_t)strtoull (stamp, NULL, 16);
            break;
        }
        const void *found;
        size_t found_size;
        if (zhub_txn_get (txn, scan->self->pending, bird, bird_size, &found, &found_size)
            != ZHUB_OK)
            goto next;
        json_t *entry = json_loadb (found, found_size, 0, NULL);
        if (json_is_object (entry)) {
            contact_item_t *item = &scan->items[scan->count++];
            item->bird_id = zhub_malloc (bird_size + 1);
            memcpy (item->bird_id, bird, bird_size);
            item->bird_id[bird_size] = 0;
            item->entry = entry;
            json_int_t since = json_integer_value (json_object_get (entry, "since"));
            if (since < scan->oldest)
                scan->oldest = since;
        } else
            json_decref (entry);
    next:
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

typedef struct {
    zhub_actor_ctx_t *ctx;
    const contact_sync_t *self;
    contact_item_t *items;
    size_t count;
} s_done_t;

static zhub_rc_t
s_done_fn (zhub_txn_t *txn, void *arg)
{
    s_done_t *done = arg;
    for (size_t i = 0; i < done->count; i++) {
        contact_item_t *item = &done->items[i];
        const char *bird = item->bird_id;
        if (item->fate == CONTACT_ITEM_REFUSED) {
            if (contact_sync_refuse (done->ctx, txn, item) != ZHUB_OK)
                return ZHUB_ERROR;
            continue;
        }
        if (item->fate != CONTACT_ITEM_DONE || !item->hubspot_id)
            continue; //  deferred: the intent stays
        if (contact_sync_pending_del (txn, done->self, bird, NULL) != ZHUB_OK)
            return ZHUB_ERROR;
        const void *value;
        size_t size;
        contact_state_t state = {0};
        if (zhub_txn_get (txn, done->self->contacts, bird, strlen (bird), &value, &size) == ZHUB_OK)
            contact_state_decode (value, size, &state);
        if (!state.bird_id)
            state.bird_id = zhub_strdup (bird);
        bool new_link = !state.hubspot_id || strcmp (state.hubspot_id, item->hubspot_id);
        free (state.hubspot_id);
        state.hubspot_id = zhub_strdup (item->hubspot_id);
        //  A HubSpot id new to Bird goes onto the Bird contact later (table
        //  "links"), so Bird's latency does not slow HubSpot's batches.
        if (new_link
            && zhub_txn_put (txn, done->self->links, bird, strlen (bird), item->hubspot_id,
                             strlen (item->hubspot_id))
                   != ZHUB_OK) {
            contact_state_clear (&state);
            return ZHUB_ERROR;
        }
        state.updated_ms = zhub_now_ms ();
        char *text = contact_state_encode (&state);
        zhub_rc_t rc =
            zhub_txn_put (txn, done->self->contacts, bird, strlen (bird), text, strlen (text));
        free (text);
        contact_state_clear (&state);
        if (rc == ZHUB_OK)
            rc = zhub_txn_put (txn, done->self->hubspot_ids, item->hubspot_id,
                               strlen (item->hubspot_id), bird, strlen (bird));
        //  contact.synced, its id derived from the first change it carries.
        const char *cause = json_string_value (json_object_get (item->entry, "cause_id"));
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
        zhub_msg_set (&msg->traceparent,
                      json_string_value (json_object_get (item->entry, "traceparent")));
        msg->time_ms = zhub_now_ms ();
        json_t *data = json_pack (
            "{s:s, s:s, s:O, s:s}", "bird_contact_id", bird, "hubspot_contact_id", item->hubspot_id,
            "changed", json_object_get (item->entry, "changed"), "direction", "bird_to_hubspot");
        if (cause)
            json_object_set_new (data, "cause_id", json_string (cause));
        zhub_msg_set_data_json (msg, data);
        json_decref (data);
        if (rc == ZHUB_OK)
            rc = zhub_actor_outbox_put (done->ctx, txn, msg);
        zhub_msg_destroy (&msg);
        if (rc != ZHUB_OK)
            return rc;
    }
    return ZHUB_OK;
}

typedef struct {
    const contact_sync_t *self;
    char *bird[CONTACT_LINKS_PER_TICK];
    char *hubspot[CONTACT_LINKS_PER_TICK];
    size_t count, max;
    bool remove;
} s_links_t;

static zhub_walk_t
s_link_take (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_links_t *links = arg;
    if (links->count >= links->max)
        return ZHUB_WALK_STOP;
    char *bird = zhub_malloc (key_size + 1), *hubspot = zhub_malloc (value_size + 1);
    memcpy (bird, key, key_size);
    bird[key_size] = 0;
    memcpy (hubspot, value, value_size);
    hubspot[value_size] = 0;
    links->bird[links->count] = bird;
    links->hubspot[links->count++] = hubspot;
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_links_fn (zhub_txn_t *txn, void *arg)
{
    s_links_t *links = arg;
    if (links->remove) {
        for (size_t i = 0; i < links->count; i++) {
            //  Only if no newer id was queued meanwhile.
            const void *value;
            size_t size;
            if (zhub_txn_get (txn, links->self->links, links->bird[i], strlen (links->bird[i]),
                              &value, &size)
                    == ZHUB_OK
                && size == strlen (links->hubspot[i]) && !memcmp (value, links->hubspot[i], size)
                && zhub_txn_del (txn, links->self->links, links->bird[i], strlen (links->bird[i]))
                       == ZHUB_ERROR)
                return ZHUB_ERROR;
        }
        return ZHUB_OK;
    }
    return zhub_txn_walk (txn, links->self->links, s_link_take, links);
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
    s_links_t links = {.self = self, .max = ctx->idle ? CONTACT_LINKS_PER_TICK : 1};
    if (zhub_store_read (ctx->store, s_links_fn, &links) != ZHUB_OK || !links.count)
        return;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    size_t done = 0;
    for (size_t i = 0; i < links.count; i++) {
        char *escaped = zhub_http_escape (links.bird[i]);
        char *path = zhub_sprintf ("/contacts/%s", escaped);
        json_t *body =
            json_pack ("{s:{s:s}}", "attributes", "hubspot_contact_id", links.hubspot[i]);
        zhub_bird_request (((contact_sync_t *)ctx->state)->bird, "PATCH", path, body, NULL, &resp);
        json_decref (body);
        free (path);
        free (escaped);
        bool ok = (resp.status >= 200 && resp.status < 300) || resp.status == 404;
        if (!ok) {
            zhub_warn ("link_deferred", "bird=%s status=%ld", links.bird[i], resp.status);
            break;
        }
        done++;
    }
    zhub_http_response_reset (&resp);
    s_links_t remove = {.self = self, .count = done, .remove = true};
    for (size_t i = 0; i < done; i++) {
        remove.bird[i] = links.bird[i];
        remove.hubspot[i] = links.hubspot[i];
    }
    if (done && zhub_store_write (ctx->store, s_links_fn, &remove) != ZHUB_OK)
        zhub_error ("link_commit_failed", "count=%zu", done);
    for (size_t i = 0; i < links.count; i++) {
        free (links.bird[i]);
        free (links.hubspot[i]);
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
    scan->self = self;
    if (zhub_store_read (ctx->store, s_scan_fn, scan) != ZHUB_OK || !scan->count
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
        for (size_t i = 0; i < scan->count; i++) {
            free (scan->items[i].bird_id);
            json_decref (scan->items[i].entry);
        }
        free (scan);
        return;
    }
    zhub_sync_result_t run;
    zhub_sync_result_init (&run, CONTACT_SYNC_GROUP, "batch", zhub_now_ms ());
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
                        item->bird_id, item->failure.code,
                        zhub_log_quote (item->failure.reason, reason, sizeof reason));
        }
    }
    if (done_count + refused) {
        s_done_t done = {.ctx = ctx, .self = self, .items = scan->items, .count = scan->count};
        if (zhub_store_write (ctx->store, s_done_fn, &done) != ZHUB_OK) {
            zhub_error ("batch_commit_failed", "count=%zu", scan->count);
            deferred = scan->count;
        }
    }
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
    for (size_t i = 0; i < scan->count; i++) {
        free (scan->items[i].bird_id);
        free (scan->items[i].hubspot_id);
        json_decref (scan->items[i].entry);
    }
    free (scan);
}
