//  contact-sync's store (see contact_sync_store.h): tables, keys, values
//  and transactions, and nothing about what to sync. Keys that must sort
//  by time carry it as 16 fixed-width hex digits, which sort as the
//  number does: a contact's audit entries come out oldest first. The
//  batch's tables are contact_sync_store_pending.c's (below this file);
//  the erase's find and commit contact_sync_store_erase.c's (above it).
#include "contact_sync_store_internal.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

//  -------------------------------------------------------------------
//  Opening

static const struct {
    const char *name;
    size_t offset;
} s_tables[] = {
    {"contacts", offsetof (contact_sync_store_t, contacts)},
    {"hubspot_ids", offsetof (contact_sync_store_t, hubspot_ids)},
    {"audit", offsetof (contact_sync_store_t, audit)},
    {"pending", offsetof (contact_sync_store_t, pending)},
    {"pending_order", offsetof (contact_sync_store_t, pending_order)},
    {"links", offsetof (contact_sync_store_t, links)},
    {"meta", offsetof (contact_sync_store_t, meta)},
    {ZHUB_SYNC_RESULTS_TABLE, offsetof (contact_sync_store_t, results.table)},
};

#define S_ALL_TABLES ((1u << (sizeof s_tables / sizeof s_tables[0])) - 1)

static zhub_table_t *
s_table (contact_sync_store_t *self, size_t i)
{
    return (zhub_table_t *)((char *)self + s_tables[i].offset);
}

bool
contact_sync_store_has (const contact_sync_store_t *self, const zhub_table_t *table)
{
    for (size_t i = 0; i < sizeof s_tables / sizeof s_tables[0]; i++)
        if ((const char *)table == (const char *)self + s_tables[i].offset)
            return (self->opened & (1u << i)) != 0;
    return false;
}

int
contact_sync_store_open (contact_sync_store_t *self, zhub_store_t *store,
                         const zhub_sync_results_policy_t *policy)
{
    assert (self && store);
    *self = (contact_sync_store_t){.store = store};
    zhub_sync_results_policy_t defaults = {.max_age_ms = ZHUB_SYNC_RESULTS_MAX_AGE_DEFAULT_MS,
                                           .max_count = ZHUB_SYNC_RESULTS_MAX_COUNT_DEFAULT};
    if (zhub_sync_results_open (&self->results, store, policy ? policy : &defaults))
        return -1;
    for (size_t i = 0; i < sizeof s_tables / sizeof s_tables[0]; i++)
        if (zhub_store_table (store, s_tables[i].name, s_table (self, i)))
            return -1;
    self->opened = S_ALL_TABLES;
    size_t placed = 0;
    if (contact_sync_store_reorder (self, &placed) != ZHUB_OK)
        return -1;
    if (placed)
        zhub_info ("pending_reordered", "intents=%zu", placed);
    return 0;
}

zhub_rc_t
contact_sync_store_open_readonly (contact_sync_store_t *self, const char *data_dir, char *err,
                                  size_t err_size)
{
    *self = (contact_sync_store_t){0};
    char path[4096];
    snprintf (path, sizeof path, "%s/%s/data.mdb", data_dir, CONTACT_SYNC_GROUP);
    struct stat info;
    if (stat (path, &info))
        return ZHUB_NOTFOUND;
    self->store = zhub_store_open_readonly (data_dir, CONTACT_SYNC_GROUP, err, err_size);
    if (!self->store)
        return ZHUB_ERROR;
    self->owned = true;
    for (size_t i = 0; i < sizeof s_tables / sizeof s_tables[0]; i++)
        if (zhub_store_table (self->store, s_tables[i].name, s_table (self, i)) == 0)
            self->opened |= 1u << i;
    return ZHUB_OK;
}

void
contact_sync_store_close (contact_sync_store_t *self)
{
    if (self && self->owned)
        zhub_store_destroy (&self->store);
    if (self)
        *self = (contact_sync_store_t){0};
}

//  -------------------------------------------------------------------
//  Sync results (the runtime's table, in this store)

zhub_rc_t
contact_sync_store_result_put (contact_sync_store_t *self, const zhub_sync_result_t *result,
                               int64_t now_ms, int64_t mono_ms)
{
    return zhub_sync_results_put (&self->results, self->store, result, now_ms, mono_ms);
}

zhub_rc_t
contact_sync_store_results_prune (contact_sync_store_t *self, int64_t now_ms, int64_t mono_ms,
                                  size_t *removed)
{
    return zhub_sync_results_prune (&self->results, self->store, now_ms, mono_ms, removed);
}

zhub_rc_t
contact_sync_store_results (const contact_sync_store_t *self, size_t limit, json_t *records)
{
    if (!contact_sync_store_has (self, &self->results.table))
        return ZHUB_OK;
    return zhub_sync_results_list (self->store, self->results.table, limit, records);
}

//  -------------------------------------------------------------------
//  States

static bool
s_id_ok (const char *id)
{
    return id && *id && strlen (id) <= ZHUB_MSG_MAX_ID;
}

zhub_rc_t
contact_sync_store_load_bird (const contact_sync_store_t *self, const char *bird_id,
                              contact_state_t *state)
{
    memset (state, 0, sizeof *state);
    if (!s_id_ok (bird_id) || !contact_sync_store_has (self, &self->contacts))
        return ZHUB_NOTFOUND;
    char *text;
    size_t size;
    zhub_rc_t rc =
        zhub_store_get_copy (self->store, self->contacts, bird_id, strlen (bird_id), &text, &size);
    if (rc == ZHUB_OK && contact_state_decode (text, size, state))
        rc = ZHUB_ERROR;
    free (text);
    return rc;
}

zhub_rc_t
contact_sync_store_load_hubspot (const contact_sync_store_t *self, const char *hubspot_id,
                                 contact_state_t *state)
{
    memset (state, 0, sizeof *state);
    if (!s_id_ok (hubspot_id) || !contact_sync_store_has (self, &self->hubspot_ids))
        return ZHUB_NOTFOUND;
    char *bird_id;
    size_t size;
    zhub_rc_t rc = zhub_store_get_copy (self->store, self->hubspot_ids, hubspot_id,
                                        strlen (hubspot_id), &bird_id, &size);
    if (rc == ZHUB_OK)
        rc = size > ZHUB_MSG_MAX_ID || strlen (bird_id) != size
                 ? ZHUB_ERROR
                 : contact_sync_store_load_bird (self, bird_id, state);
    free (bird_id);
    return rc;
}

zhub_rc_t
contact_sync_store_put_state (zhub_txn_t *txn, const contact_sync_store_t *self,
                              const contact_state_t *state)
{
    char *text = contact_state_encode (state);
    zhub_rc_t rc = zhub_txn_put (txn, self->contacts, state->bird_id, strlen (state->bird_id), text,
                                 strlen (text));
    free (text);
    return rc;
}

//  -------------------------------------------------------------------
//  The audit trail

zhub_rc_t
contact_sync_store_audit_put (zhub_txn_t *txn, const contact_sync_store_t *self, const char *key,
                              const json_t *entry)
{
    char *text = json_dumps (entry, JSON_COMPACT | JSON_SORT_KEYS);
    zhub_rc_t rc = zhub_txn_put (txn, self->audit, key, strlen (key), text, strlen (text));
    free (text);
    return rc;
}

//  Appends a contact's audit entries, stamped with the commit time: keys
//  "<bird id>|<16 hex ms>|<event id>|<n>" keep one contact's entries
//  together and in time order.
static zhub_rc_t
s_audit_append (zhub_txn_t *txn, const contact_sync_store_t *self, const json_t *audit,
                const char *bird_id, const char *event_id)
{
    char stamp[40];
    int64_t now = zhub_now_ms ();
    zhub_time_format (now, stamp, sizeof stamp);
    size_t i;
    json_t *entry;
    json_array_foreach (audit, i, entry)
    {
        json_t *copy = json_deep_copy (entry);
        json_object_set_new (copy, "time", json_string (stamp));
        json_object_set_new (copy, "bird_contact_id", json_string (bird_id));
        char *key = zhub_sprintf ("%s|%016llx|%s|%zu", bird_id, (unsigned long long)now,
                                  event_id ? event_id : "", i);
        zhub_rc_t rc = contact_sync_store_audit_put (txn, self, key, copy);
        free (key);
        json_decref (copy);
        if (rc != ZHUB_OK)
            return rc;
    }
    return ZHUB_OK;
}

typedef struct {
    const contact_sync_store_t *self;
    const char *prefix;
    json_t *entries;
} s_audit_read_t;

static zhub_rc_t
s_audit_read (zhub_txn_t *txn, void *arg)
{
    s_audit_read_t *read = arg;
    return zhub_txn_walk_prefix (txn, read->self->audit, read->prefix, strlen (read->prefix),
                                 zhub_actor_collect_json, read->entries);
}

zhub_rc_t
contact_sync_store_audit (const contact_sync_store_t *self, const char *id, bool erase,
                          json_t *entries)
{
    //  An actor that never wrote an audit entry may have no audit table yet.
    if (!id || !contact_sync_store_has (self, &self->audit))
        return ZHUB_OK;
    char *prefix = zhub_sprintf (erase ? "erased:%s|" : "%s|", id);
    s_audit_read_t read = {.self = self, .prefix = prefix, .entries = entries};
    zhub_rc_t rc = zhub_store_read (self->store, s_audit_read, &read);
    free (prefix);
    return rc;
}

//  -------------------------------------------------------------------
//  Batched writes: the queue (the intents' tables are
//  contact_sync_store_pending.c's)

typedef struct {
    const contact_sync_store_t *self;
    const contact_plan_t *plan;
    const zhub_msg_t *cause;
    int64_t now_ms;
    size_t pending; //  intents in the table once this one is in
} s_queue_t;

static zhub_rc_t
s_queue_fn (zhub_txn_t *txn, void *arg)
{
    s_queue_t *q = arg;
    if (contact_sync_store_intent_put (txn, q->self, q->plan, q->cause, q->now_ms) != ZHUB_OK)
        return ZHUB_ERROR;
    q->pending = zhub_txn_count (txn, q->self->pending);
    //  The contact's state moves now (what both sides will hold), so later
    //  events and HubSpot's echoes compare against it.
    return contact_sync_store_put_state (txn, q->self, &q->plan->next);
}

zhub_rc_t
contact_sync_store_queue (contact_sync_store_t *self, const contact_plan_t *plan,
                          const zhub_msg_t *cause, int64_t now_ms, size_t *pending)
{
    assert (self && plan && cause);
    if (!plan->next.bird_id || !plan->hubspot_properties)
        return ZHUB_ERROR;
    s_queue_t q = {.self = self, .plan = plan, .cause = cause, .now_ms = now_ms};
    zhub_rc_t rc = zhub_store_write (self->store, s_queue_fn, &q);
    if (rc == ZHUB_OK && pending)
        *pending = q.pending;
    return rc;
}

//  -------------------------------------------------------------------
//  Commits

typedef struct {
    contact_sync_store_t *self;
    zhub_actor_ctx_t *ctx;
    const contact_sync_commit_t *commits;
    size_t count;
} s_commit_t;

static zhub_rc_t
s_commit_one (zhub_txn_t *txn, const s_commit_t *run, const contact_sync_commit_t *commit)
{
    const contact_sync_store_t *self = run->self;
    const contact_state_t *next = commit->next, *prev = commit->prev;
    const char *bird = commit->bird_id ? commit->bird_id : next ? next->bird_id : NULL;
    if (!bird)
        return ZHUB_ERROR;
    if (commit->settle_intent && contact_sync_store_pending_del (txn, self, bird, NULL) != ZHUB_OK)
        return ZHUB_ERROR;
    if (commit->link_hubspot_id
        && zhub_txn_put (txn, self->links, bird, strlen (bird), commit->link_hubspot_id,
                         strlen (commit->link_hubspot_id))
               != ZHUB_OK)
        return ZHUB_ERROR;
    if (next) {
        if (contact_sync_store_put_state (txn, self, next) != ZHUB_OK)
            return ZHUB_ERROR;
        if (next->hubspot_id
            && zhub_txn_put (txn, self->hubspot_ids, next->hubspot_id, strlen (next->hubspot_id),
                             next->bird_id, strlen (next->bird_id))
                   != ZHUB_OK)
            return ZHUB_ERROR;
        //  The contact moved to other ids: drop the stale entries.
        if (prev && prev->bird_id && strcmp (prev->bird_id, next->bird_id)
            && zhub_txn_del (txn, self->contacts, prev->bird_id, strlen (prev->bird_id))
                   == ZHUB_ERROR)
            return ZHUB_ERROR;
        if (prev && prev->hubspot_id
            && (!next->hubspot_id || strcmp (prev->hubspot_id, next->hubspot_id))
            && zhub_txn_del (txn, self->hubspot_ids, prev->hubspot_id, strlen (prev->hubspot_id))
                   == ZHUB_ERROR)
            return ZHUB_ERROR;
    }
    if (commit->audit
        && s_audit_append (txn, self, commit->audit, bird, commit->event_id) != ZHUB_OK)
        return ZHUB_ERROR;
    if (commit->publish && zhub_actor_outbox_put (run->ctx, txn, commit->publish) != ZHUB_OK)
        return ZHUB_ERROR;
    return ZHUB_OK;
}

static zhub_rc_t
s_commit_fn (zhub_txn_t *txn, void *arg)
{
    const s_commit_t *run = arg;
    for (size_t i = 0; i < run->count; i++)
        if (s_commit_one (txn, run, &run->commits[i]) != ZHUB_OK)
            return ZHUB_ERROR;
    return ZHUB_OK;
}

zhub_rc_t
contact_sync_store_commit (contact_sync_store_t *self, zhub_actor_ctx_t *ctx,
                           const contact_sync_commit_t *commits, size_t count)
{
    assert (self && self->store && ctx && (commits || !count));
    s_commit_t run = {.self = self, .ctx = ctx, .commits = commits, .count = count};
    return count ? zhub_store_write (self->store, s_commit_fn, &run) : ZHUB_OK;
}

typedef struct {
    const contact_sync_store_t *self;
    const char *const *gone;
    size_t count_gone;
    const contact_state_t *states;
    json_t *const *audit;
    size_t count;
    const char *event_id;
} s_relink_t;

static zhub_rc_t
s_relink_fn (zhub_txn_t *txn, void *arg)
{
    const s_relink_t *relink = arg;
    const contact_sync_store_t *self = relink->self;
    //  Every HubSpot id the event names is gone (or re-pointed below).
    for (size_t i = 0; i < relink->count_gone; i++)
        if (zhub_txn_del (txn, self->hubspot_ids, relink->gone[i], strlen (relink->gone[i]))
            == ZHUB_ERROR)
            return ZHUB_ERROR;
    json_t *entries = json_array ();
    zhub_rc_t rc = ZHUB_OK;
    for (size_t i = 0; i < relink->count && rc == ZHUB_OK; i++) {
        const contact_state_t *state = &relink->states[i];
        rc = contact_sync_store_put_state (txn, self, state);
        if (rc == ZHUB_OK && state->hubspot_id)
            rc = zhub_txn_put (txn, self->hubspot_ids, state->hubspot_id,
                               strlen (state->hubspot_id), state->bird_id, strlen (state->bird_id));
        if (rc == ZHUB_OK && relink->audit && relink->audit[i]) {
            json_array_append (entries, relink->audit[i]);
            rc = s_audit_append (txn, self, entries, state->bird_id, relink->event_id);
            json_array_clear (entries);
        }
    }
    json_decref (entries);
    return rc;
}

zhub_rc_t
contact_sync_store_relink (contact_sync_store_t *self, const char *const *gone, size_t count_gone,
                           const contact_state_t *states, json_t *const *audit, size_t count,
                           const char *event_id)
{
    s_relink_t relink = {.self = self,
                         .gone = gone,
                         .count_gone = count_gone,
                         .states = states,
                         .audit = audit,
                         .count = count,
                         .event_id = event_id};
    return zhub_store_write (self->store, s_relink_fn, &relink);
}

//  -------------------------------------------------------------------
//  Reconciliation

#define S_WATERMARK "reconcile_watermark"
#define S_DRIFT_TOTAL "reconcile_drift_total"

static int64_t
s_meta_int (zhub_txn_t *txn, const contact_sync_store_t *self, const char *key)
{
    const void *value;
    size_t size;
    char text[32];
    if (zhub_txn_get (txn, self->meta, key, strlen (key), &value, &size) != ZHUB_OK
        || size >= sizeof text)
        return 0;
    memcpy (text, value, size);
    text[size] = 0;
    return strtoll (text, NULL, 10);
}

typedef struct {
    contact_sync_store_t *self;
    zhub_actor_ctx_t *ctx;
    int64_t watermark, drift_total;
    const zhub_msg_t *reconciled;
} s_meta_t;

static zhub_rc_t
s_meta_read (zhub_txn_t *txn, void *arg)
{
    s_meta_t *meta = arg;
    meta->watermark = s_meta_int (txn, meta->self, S_WATERMARK);
    meta->drift_total = s_meta_int (txn, meta->self, S_DRIFT_TOTAL);
    return ZHUB_OK;
}

zhub_rc_t
contact_sync_store_reconcile_read (const contact_sync_store_t *self, int64_t *watermark,
                                   int64_t *drift_total)
{
    s_meta_t meta = {.self = (contact_sync_store_t *)self};
    zhub_rc_t rc = zhub_store_read (self->store, s_meta_read, &meta);
    *watermark = meta.watermark;
    *drift_total = meta.drift_total;
    return rc;
}

static zhub_rc_t
s_meta_write (zhub_txn_t *txn, void *arg)
{
    s_meta_t *meta = arg;
    char text[32];
    snprintf (text, sizeof text, "%lld", (long long)meta->drift_total);
    zhub_rc_t rc = zhub_txn_put (txn, meta->self->meta, S_DRIFT_TOTAL, strlen (S_DRIFT_TOTAL), text,
                                 strlen (text));
    snprintf (text, sizeof text, "%lld", (long long)meta->watermark);
    if (rc == ZHUB_OK)
        rc = zhub_txn_put (txn, meta->self->meta, S_WATERMARK, strlen (S_WATERMARK), text,
                           strlen (text));
    if (rc == ZHUB_OK && meta->reconciled)
        rc = zhub_actor_outbox_put (meta->ctx, txn, meta->reconciled);
    return rc;
}

zhub_rc_t
contact_sync_store_reconcile_write (contact_sync_store_t *self, zhub_actor_ctx_t *ctx,
                                    int64_t watermark, int64_t drift_total,
                                    const zhub_msg_t *reconciled)
{
    s_meta_t meta = {.self = self,
                     .ctx = ctx,
                     .watermark = watermark,
                     .drift_total = drift_total,
                     .reconciled = reconciled};
    return zhub_store_write (self->store, s_meta_write, &meta);
}
