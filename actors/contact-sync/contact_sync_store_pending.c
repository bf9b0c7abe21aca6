//  contact-sync's store, the batch's tables (see contact_sync_store.h):
//  the queued HubSpot writes (pending), their order (pending_order) and
//  the HubSpot ids still to write onto Bird contacts (links). An intent's
//  place in the order is "<16 hex ms queued>|<bird id>": fixed-width hex
//  sorts as the time does, so a flush walks the oldest first and a contact
//  whose id sorts late is not passed over by newer ones.
#include "contact_sync_store_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The intents' order: "<16 hex ms queued>|<bird id>". Fixed-width hex
//  sorts as the time does, so a flush walks the oldest first and a contact
//  whose id sorts late is not passed over by newer ones.
#define S_ORDER_STAMP 16
#define S_ORDER_KEY_MAX (S_ORDER_STAMP + 2 + ZHUB_MSG_MAX_ID)

static size_t
s_order_key (char *out, size_t cap, int64_t since, const char *bird, size_t bird_size)
{
    int n = snprintf (out, cap, "%016llx|%.*s", (unsigned long long)since, (int)bird_size, bird);
    return n < 0 ? 0 : (size_t)n;
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
contact_sync_store_pending_del (zhub_txn_t *txn, const contact_sync_store_t *self, const char *bird,
                                size_t *removed)
{
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, self->pending, bird, strlen (bird), &value, &size);
    if (rc != ZHUB_OK)
        return rc == ZHUB_NOTFOUND ? ZHUB_OK : ZHUB_ERROR;
    char key[S_ORDER_KEY_MAX];
    size_t length = s_order_key (key, sizeof key, s_entry_since (value, size), bird, strlen (bird));
    rc = zhub_txn_del (txn, self->pending_order, key, length);
    if (rc == ZHUB_ERROR || zhub_txn_del (txn, self->pending, bird, strlen (bird)) != ZHUB_OK)
        return ZHUB_ERROR;
    if (removed)
        *removed += rc == ZHUB_OK ? 2 : 1;
    return ZHUB_OK;
}

typedef struct {
    contact_sync_store_t *self;
    zhub_txn_t *txn;
    size_t placed;
} s_reorder_t;

static bool
s_every_row (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)key, (void)key_size, (void)value, (void)value_size, (void)arg;
    return true;
}

//  Files one intent in pending_order under the time it was queued.
static zhub_walk_t
s_reorder_one (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_reorder_t *reorder = arg;
    char order[S_ORDER_KEY_MAX];
    if (key_size > ZHUB_MSG_MAX_ID)
        return ZHUB_WALK_NEXT;
    size_t length =
        s_order_key (order, sizeof order, s_entry_since (value, value_size), key, key_size);
    if (zhub_txn_put (reorder->txn, reorder->self->pending_order, order, length, "", 0) != ZHUB_OK)
        return ZHUB_WALK_FAIL;
    reorder->placed++;
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_reorder_fn (zhub_txn_t *txn, void *arg)
{
    s_reorder_t *reorder = arg;
    const contact_sync_store_t *self = reorder->self;
    reorder->placed = 0;
    reorder->txn = txn;
    if (zhub_txn_count (txn, self->pending_order) == zhub_txn_count (txn, self->pending))
        return ZHUB_OK;
    size_t dropped = 0;
    if (zhub_txn_delete_where (txn, self->pending_order, s_every_row, NULL, &dropped) != ZHUB_OK)
        return ZHUB_ERROR;
    return zhub_txn_walk (txn, self->pending, s_reorder_one, reorder);
}

zhub_rc_t
contact_sync_store_reorder (contact_sync_store_t *self, size_t *placed)
{
    s_reorder_t reorder = {.self = self};
    zhub_rc_t rc = zhub_store_write (self->store, s_reorder_fn, &reorder);
    *placed = reorder.placed;
    return rc;
}

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

zhub_rc_t
contact_sync_store_intent_put (zhub_txn_t *txn, const contact_sync_store_t *self,
                               const contact_plan_t *plan, const zhub_msg_t *cause, int64_t now_ms)
{
    const char *bird = plan->next.bird_id;
    const void *value;
    size_t size;
    json_t *entry = NULL;
    zhub_rc_t rc = zhub_txn_get (txn, self->pending, bird, strlen (bird), &value, &size);
    if (rc == ZHUB_ERROR)
        return rc;
    if (rc == ZHUB_OK)
        entry = json_loadb (value, size, 0, NULL);
    if (!json_is_object (entry)) {
        json_decref (entry);
        entry = json_pack ("{s:{}, s:[], s:I, s:s}", "properties", "changed", "since",
                           (json_int_t)now_ms, "cause_id", cause->id ? cause->id : "");
        if (cause->traceparent)
            json_object_set_new (entry, "traceparent", json_string (cause->traceparent));
        //  The message was acked once queued: should HubSpot refuse the
        //  write, its dead letter carries this envelope.
        char *envelope = s_base64_envelope (cause);
        if (envelope)
            json_object_set_new (entry, "cause_envelope", json_string (envelope));
        free (envelope);
        char order[S_ORDER_KEY_MAX];
        size_t length = s_order_key (order, sizeof order, now_ms, bird, strlen (bird));
        if (zhub_txn_put (txn, self->pending_order, order, length, "", 0) != ZHUB_OK) {
            json_decref (entry);
            return ZHUB_ERROR;
        }
    }
    //  Later values win: the intent holds what HubSpot should end up with.
    json_object_update (json_object_get (entry, "properties"), plan->hubspot_properties);
    json_t *changed = json_object_get (entry, "changed");
    for (size_t i = 0; i < plan->changed_count; i++) {
        bool known = false;
        size_t k;
        json_t *name;
        json_array_foreach (changed, k, name) known |=
            !strcmp (json_string_value (name), plan->changed[i]);
        if (!known)
            json_array_append_new (changed, json_string (plan->changed[i]));
    }
    //  The field decisions go to the audit trail with the write, once
    //  HubSpot holds it (as a write made at once commits them).
    if (json_array_size (plan->audit)) {
        json_t *audit = json_object_get (entry, "audit");
        if (!json_is_array (audit)) {
            audit = json_array ();
            json_object_set_new (entry, "audit", audit);
        }
        json_array_extend (audit, plan->audit);
    }
    char *text = json_dumps (entry, JSON_COMPACT);
    json_decref (entry);
    rc = zhub_txn_put (txn, self->pending, bird, strlen (bird), text, strlen (text));
    free (text);
    return rc;
}

void
contact_intent_clear (contact_intent_t *intent)
{
    if (!intent)
        return;
    free (intent->bird_id);
    json_decref (intent->properties);
    json_decref (intent->changed);
    json_decref (intent->audit);
    free (intent->cause_id);
    free (intent->traceparent);
    free (intent->cause_envelope);
    free (intent->deferred_reason);
    memset (intent, 0, sizeof *intent);
}

//  Reads an intent's value. false when it is not one.
static bool
s_intent_read (const void *value, size_t size, const char *bird, size_t bird_size,
               contact_intent_t *intent)
{
    json_t *entry = json_loadb (value, size, 0, NULL);
    if (!json_is_object (entry)) {
        json_decref (entry);
        return false;
    }
    memset (intent, 0, sizeof *intent);
    intent->bird_id = zhub_malloc (bird_size + 1);
    memcpy (intent->bird_id, bird, bird_size);
    intent->bird_id[bird_size] = 0;
    json_t *properties = json_object_get (entry, "properties");
    intent->properties = json_is_object (properties) ? json_incref (properties) : json_object ();
    json_t *changed = json_object_get (entry, "changed");
    intent->changed = json_is_array (changed) ? json_incref (changed) : json_array ();
    json_t *audit = json_object_get (entry, "audit");
    intent->audit = json_is_array (audit) ? json_incref (audit) : NULL;
    intent->since = json_integer_value (json_object_get (entry, "since"));
    const char *cause = json_string_value (json_object_get (entry, "cause_id"));
    intent->cause_id = zhub_strdup (cause ? cause : "");
    intent->traceparent = zhub_strdup (json_string_value (json_object_get (entry, "traceparent")));
    const char *text = json_string_value (json_object_get (entry, "cause_envelope"));
    if (text) {
        size_t cap = strlen (text), length = 0;
        intent->cause_envelope = zhub_malloc (cap ? cap : 1);
        if (sodium_base642bin (intent->cause_envelope, cap, text, cap, NULL, &length, NULL,
                               sodium_base64_VARIANT_ORIGINAL)
            == 0)
            intent->cause_envelope_size = length;
        else {
            free (intent->cause_envelope);
            intent->cause_envelope = NULL;
        }
    }
    const json_t *deferred = json_object_get (entry, "deferred");
    if (json_is_object (deferred)) {
        intent->deferred_flushes = json_integer_value (json_object_get (deferred, "flushes"));
        intent->deferred_at = json_integer_value (json_object_get (deferred, "at"));
        intent->deferred_code = (unsigned)json_integer_value (json_object_get (deferred, "code"));
        intent->deferred_reason =
            zhub_strdup (json_string_value (json_object_get (deferred, "reason")));
    }
    json_decref (entry);
    return true;
}

typedef struct {
    const contact_sync_store_t *self;
    const char *bird;
    contact_intent_t *intent;
    char **hubspot_id;
} s_one_t;

static zhub_rc_t
s_intent_fn (zhub_txn_t *txn, void *arg)
{
    s_one_t *one = arg;
    const void *value;
    size_t size;
    zhub_rc_t rc =
        zhub_txn_get (txn, one->self->pending, one->bird, strlen (one->bird), &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    return s_intent_read (value, size, one->bird, strlen (one->bird), one->intent) ? ZHUB_OK
                                                                                   : ZHUB_NOTFOUND;
}

zhub_rc_t
contact_sync_store_intent (const contact_sync_store_t *self, const char *bird_id,
                           contact_intent_t *intent)
{
    memset (intent, 0, sizeof *intent);
    if (!bird_id || !*bird_id || !contact_sync_store_has (self, &self->pending))
        return ZHUB_NOTFOUND;
    s_one_t one = {.self = self, .bird = bird_id, .intent = intent};
    return zhub_store_read (self->store, s_intent_fn, &one);
}

static zhub_rc_t
s_link_fn (zhub_txn_t *txn, void *arg)
{
    s_one_t *one = arg;
    const void *value;
    size_t size;
    zhub_rc_t rc =
        zhub_txn_get (txn, one->self->links, one->bird, strlen (one->bird), &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    *one->hubspot_id = zhub_malloc (size + 1);
    memcpy (*one->hubspot_id, value, size);
    (*one->hubspot_id)[size] = 0;
    return ZHUB_OK;
}

zhub_rc_t
contact_sync_store_link (const contact_sync_store_t *self, const char *bird_id, char **hubspot_id)
{
    *hubspot_id = NULL;
    if (!bird_id || !*bird_id || !contact_sync_store_has (self, &self->links))
        return ZHUB_NOTFOUND;
    s_one_t one = {.self = self, .bird = bird_id, .hubspot_id = hubspot_id};
    return zhub_store_read (self->store, s_link_fn, &one);
}

typedef struct {
    const contact_sync_store_t *self;
    const char *const *birds;
    const unsigned *codes;
    const char *const *reasons;
    size_t count;
    int64_t now_ms;
} s_note_t;

static zhub_rc_t
s_note_fn (zhub_txn_t *txn, void *arg)
{
    s_note_t *note = arg;
    for (size_t i = 0; i < note->count; i++) {
        const char *bird = note->birds[i];
        const void *value;
        size_t size;
        zhub_rc_t rc = zhub_txn_get (txn, note->self->pending, bird, strlen (bird), &value, &size);
        if (rc == ZHUB_NOTFOUND)
            continue; //  settled or erased meanwhile
        if (rc != ZHUB_OK)
            return ZHUB_ERROR;
        json_t *entry = json_loadb (value, size, 0, NULL);
        if (!json_is_object (entry)) {
            json_decref (entry);
            continue;
        }
        json_int_t flushes =
            json_integer_value (json_object_get (json_object_get (entry, "deferred"), "flushes"));
        json_object_set_new (entry, "deferred",
                             json_pack ("{s:I, s:s, s:I, s:I}", "code", (json_int_t)note->codes[i],
                                        "reason", note->reasons[i] ? note->reasons[i] : "", "at",
                                        (json_int_t)note->now_ms, "flushes", flushes + 1));
        char *text = json_dumps (entry, JSON_COMPACT);
        json_decref (entry);
        rc = zhub_txn_put (txn, note->self->pending, bird, strlen (bird), text, strlen (text));
        free (text);
        if (rc != ZHUB_OK)
            return ZHUB_ERROR;
    }
    return ZHUB_OK;
}

zhub_rc_t
contact_sync_store_note_deferred (contact_sync_store_t *self, const char *const *bird_ids,
                                  const unsigned *codes, const char *const *reasons, size_t count,
                                  int64_t now_ms)
{
    if (!count)
        return ZHUB_OK;
    s_note_t note = {.self = self,
                     .birds = bird_ids,
                     .codes = codes,
                     .reasons = reasons,
                     .count = count,
                     .now_ms = now_ms};
    return zhub_store_write (self->store, s_note_fn, &note);
}

typedef struct {
    const contact_sync_store_t *self;
    contact_intent_t *intents;
    size_t max, count, pending;
    int64_t next_since;
} s_pending_t;

static zhub_rc_t
s_pending_fn (zhub_txn_t *txn, void *arg)
{
    s_pending_t *scan = arg;
    for (size_t i = 0; i < scan->count; i++)
        contact_intent_clear (&scan->intents[i]);
    scan->count = 0;
    scan->next_since = 0;
    scan->pending = zhub_txn_count (txn, scan->self->pending);
    if (!scan->pending)
        return ZHUB_OK;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, scan->self->pending_order);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        if (key_size > S_ORDER_STAMP + 1) {
            const char *bird = (const char *)key + S_ORDER_STAMP + 1;
            size_t bird_size = key_size - S_ORDER_STAMP - 1;
            if (scan->count == scan->max) {
                char stamp[S_ORDER_STAMP + 1];
                memcpy (stamp, key, S_ORDER_STAMP);
                stamp[S_ORDER_STAMP] = 0;
                scan->next_since = (int64_t)strtoull (stamp, NULL, 16);
                break;
            }
            const void *found;
            size_t found_size;
            if (zhub_txn_get (txn, scan->self->pending, bird, bird_size, &found, &found_size)
                    == ZHUB_OK
                && s_intent_read (found, found_size, bird, bird_size, &scan->intents[scan->count]))
                scan->count++;
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
contact_sync_store_pending (const contact_sync_store_t *self, contact_intent_t *intents, size_t max,
                            size_t *count, size_t *pending, int64_t *next_since)
{
    s_pending_t scan = {.self = self, .intents = intents, .max = max};
    zhub_rc_t rc = zhub_store_read (self->store, s_pending_fn, &scan);
    *count = scan.count;
    *pending = scan.pending;
    *next_since = scan.next_since;
    return rc;
}

//  -------------------------------------------------------------------
//  Links

typedef struct {
    const contact_sync_store_t *self;
    char **bird, **hubspot;
    char *const *done_bird, *const *done_hubspot;
    size_t count, max;
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
    for (size_t i = 0; i < links->count; i++) {
        free (links->bird[i]);
        free (links->hubspot[i]);
    }
    links->count = 0;
    return zhub_txn_walk (txn, links->self->links, s_link_take, links);
}

zhub_rc_t
contact_sync_store_links (const contact_sync_store_t *self, size_t max, char **bird, char **hubspot,
                          size_t *count)
{
    s_links_t links = {.self = self, .bird = bird, .hubspot = hubspot, .max = max};
    zhub_rc_t rc = zhub_store_read (self->store, s_links_fn, &links);
    *count = links.count;
    return rc;
}

static zhub_rc_t
s_links_done_fn (zhub_txn_t *txn, void *arg)
{
    s_links_t *links = arg;
    for (size_t i = 0; i < links->count; i++) {
        //  Only if no newer id was queued meanwhile.
        const char *bird = links->done_bird[i], *hubspot = links->done_hubspot[i];
        const void *value;
        size_t size;
        if (zhub_txn_get (txn, links->self->links, bird, strlen (bird), &value, &size) == ZHUB_OK
            && size == strlen (hubspot) && !memcmp (value, hubspot, size)
            && zhub_txn_del (txn, links->self->links, bird, strlen (bird)) == ZHUB_ERROR)
            return ZHUB_ERROR;
    }
    return ZHUB_OK;
}

zhub_rc_t
contact_sync_store_links_done (contact_sync_store_t *self, char *const *bird, char *const *hubspot,
                               size_t count)
{
    s_links_t links = {.self = self, .done_bird = bird, .done_hubspot = hubspot, .count = count};
    return count ? zhub_store_write (self->store, s_links_done_fn, &links) : ZHUB_OK;
}
