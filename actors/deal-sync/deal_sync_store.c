//  deal-sync's store (see deal_sync_store.h): the tables, the record codec,
//  the reads, the one commit, and the erase of a person. Single-key reads
//  are zhub_store_get_copy; what must be read in one snapshot (a deal by
//  its id: two tables) or written together (a commit, an erase) runs in
//  one transaction here.
#include "deal_sync_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

//  -------------------------------------------------------------------
//  Values

void
deal_state_clear (deal_state_t *state)
{
    if (!state)
        return;
    free (state->deal_id);
    free (state->contact_id);
    free (state->bird_id);
    free (state->stage);
    memset (state, 0, sizeof *state);
}

//  obj[key] when it is a string, else NULL.
static const char *
s_str (const json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

//  size bytes at bytes (not NUL-terminated) as a fresh C string.
static char *
s_text (const void *bytes, size_t size)
{
    char *text = zhub_malloc (size + 1);
    memcpy (text, bytes, size);
    text[size] = 0;
    return text;
}

//  {v, deal_id?, hubspot_contact_id?, bird_id?, stage?, stage_ms,
//  associated}, keys sorted (fresh text).
static char *
s_state_encode (const deal_state_t *state)
{
    json_t *root = json_object ();
    json_object_set_new (root, "v", json_integer (1));
    if (state->deal_id)
        json_object_set_new (root, "deal_id", json_string (state->deal_id));
    if (state->contact_id)
        json_object_set_new (root, "hubspot_contact_id", json_string (state->contact_id));
    if (state->bird_id)
        json_object_set_new (root, "bird_id", json_string (state->bird_id));
    if (state->stage)
        json_object_set_new (root, "stage", json_string (state->stage));
    json_object_set_new (root, "stage_ms", json_integer (state->stage_ms));
    json_object_set_new (root, "associated", json_boolean (state->associated));
    char *text = json_dumps (root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (root);
    return text;
}

//  Reads what s_state_encode wrote. 0, or -1 (not a JSON object; state
//  left empty).
static int
s_state_decode (const void *text, size_t size, deal_state_t *state)
{
    memset (state, 0, sizeof *state);
    json_t *root = json_loadb (text, size, 0, NULL);
    if (!json_is_object (root)) {
        json_decref (root);
        return -1;
    }
    state->deal_id = zhub_strdup (s_str (root, "deal_id"));
    state->contact_id = zhub_strdup (s_str (root, "hubspot_contact_id"));
    state->bird_id = zhub_strdup (s_str (root, "bird_id"));
    state->stage = zhub_strdup (s_str (root, "stage"));
    json_t *ms = json_object_get (root, "stage_ms");
    state->stage_ms = json_is_integer (ms) ? json_integer_value (ms) : 0;
    state->associated = json_is_true (json_object_get (root, "associated"));
    json_decref (root);
    return 0;
}

char *
deal_sync_audit_key (const char *bird_id, int64_t time_ms, const char *event_id)
{
    return zhub_sprintf ("%s|%016llx|%s", bird_id, (unsigned long long)time_ms,
                         event_id ? event_id : "");
}

//  -------------------------------------------------------------------
//  Opening

int
deal_sync_tables_open (zhub_store_t *store, deal_sync_tables_t *tables)
{
    return zhub_store_table (store, "contacts", &tables->contacts)
                   || zhub_store_table (store, "deals", &tables->deals)
                   || zhub_store_table (store, "deal_ids", &tables->deal_ids)
                   || zhub_store_table (store, "audit", &tables->audit)
               ? -1
               : 0;
}

zhub_rc_t
deal_sync_store_open_readonly (const char *data_dir, zhub_store_t **store,
                               deal_sync_tables_t *tables, char *err, size_t err_size)
{
    *store = NULL;
    char *path = zhub_sprintf ("%s/%s/data.mdb", data_dir, DEAL_SYNC_GROUP);
    struct stat info;
    bool exists = stat (path, &info) == 0;
    free (path);
    if (!exists)
        return ZHUB_NOTFOUND;
    *store = zhub_store_open_readonly (data_dir, DEAL_SYNC_GROUP, err, err_size);
    if (!*store)
        return ZHUB_ERROR;
    //  deal-sync creates its tables when it opens its store: without them
    //  it never got that far, and has stored nothing.
    if (deal_sync_tables_open (*store, tables)) {
        zhub_store_destroy (store);
        return ZHUB_NOTFOUND;
    }
    return ZHUB_OK;
}

//  -------------------------------------------------------------------
//  Reading

zhub_rc_t
deal_sync_store_contact (zhub_store_t *store, const deal_sync_tables_t *tables, const char *bird_id,
                         char **contact_id)
{
    return zhub_store_get_copy (store, tables->contacts, bird_id, strlen (bird_id), contact_id,
                                NULL);
}

zhub_rc_t
deal_sync_store_deal (zhub_store_t *store, const deal_sync_tables_t *tables, const char *key,
                      deal_state_t *state)
{
    memset (state, 0, sizeof *state);
    char *value;
    size_t size;
    zhub_rc_t rc = zhub_store_get_copy (store, tables->deals, key, strlen (key), &value, &size);
    if (rc == ZHUB_OK && s_state_decode (value, size, state))
        rc = ZHUB_REJECT;
    free (value);
    return rc;
}

typedef struct {
    const deal_sync_tables_t *tables;
    const char *deal_id;
    char *key;          //  out
    deal_state_t state; //  out
} s_by_id_t;

static zhub_rc_t
s_by_id_fn (zhub_txn_t *txn, void *arg)
{
    s_by_id_t *by = arg;
    const void *value;
    size_t size;
    zhub_rc_t rc =
        zhub_txn_get (txn, by->tables->deal_ids, by->deal_id, strlen (by->deal_id), &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    by->key = s_text (value, size);
    rc = zhub_txn_get (txn, by->tables->deals, by->key, size, &value, &size);
    if (rc == ZHUB_OK && s_state_decode (value, size, &by->state))
        rc = ZHUB_NOTFOUND;
    return rc;
}

zhub_rc_t
deal_sync_store_deal_by_id (zhub_store_t *store, const deal_sync_tables_t *tables,
                            const char *deal_id, char **key, deal_state_t *state)
{
    s_by_id_t by = {.tables = tables, .deal_id = deal_id};
    zhub_rc_t rc = zhub_store_read (store, s_by_id_fn, &by);
    if (rc != ZHUB_OK) {
        free (by.key);
        deal_state_clear (&by.state);
        by.key = NULL;
    }
    *key = by.key;
    *state = by.state;
    return rc;
}

typedef struct {
    const deal_sync_tables_t *tables;
    char *prefix;
    json_t *entries;
} s_audit_t;

static zhub_rc_t
s_audit_fn (zhub_txn_t *txn, void *arg)
{
    s_audit_t *scan = arg;
    return zhub_txn_walk_prefix (txn, scan->tables->audit, scan->prefix, strlen (scan->prefix),
                                 zhub_actor_collect_json, scan->entries);
}

zhub_rc_t
deal_sync_store_audit (zhub_store_t *store, const deal_sync_tables_t *tables, const char *bird_id,
                       json_t *entries)
{
    //  The keys of one contact begin "<bird id>|" and sort by time after it.
    s_audit_t scan = {
        .tables = tables, .prefix = zhub_sprintf ("%s|", bird_id), .entries = entries};
    zhub_rc_t rc = zhub_store_read (store, s_audit_fn, &scan);
    free (scan.prefix);
    return rc;
}

//  -------------------------------------------------------------------
//  Writing

typedef struct {
    zhub_actor_ctx_t *ctx;
    const deal_sync_tables_t *tables;
    const deal_sync_change_t *change;
} s_commit_t;

static zhub_rc_t
s_put (zhub_txn_t *txn, zhub_table_t table, const char *key, const char *value)
{
    return zhub_txn_put (txn, table, key, strlen (key), value, strlen (value));
}

static zhub_rc_t
s_commit_fn (zhub_txn_t *txn, void *arg)
{
    s_commit_t *commit = arg;
    const deal_sync_change_t *c = commit->change;
    const deal_sync_tables_t *t = commit->tables;
    zhub_rc_t rc = ZHUB_OK;
    if (c->bird_id && c->contact_id)
        rc = s_put (txn, t->contacts, c->bird_id, c->contact_id);
    if (rc == ZHUB_OK && c->key && c->state) {
        char *text = s_state_encode (c->state);
        rc = s_put (txn, t->deals, c->key, text);
        free (text);
        if (rc == ZHUB_OK && c->state->deal_id)
            rc = s_put (txn, t->deal_ids, c->state->deal_id, c->key);
    }
    if (rc == ZHUB_OK && c->audit && c->bird_id) {
        char *key = deal_sync_audit_key (c->bird_id, c->audit_ms, c->event_id);
        rc = s_put (txn, t->audit, key, c->audit);
        free (key);
    }
    if (rc == ZHUB_OK && c->publish)
        rc = zhub_actor_outbox_put (commit->ctx, txn, c->publish);
    return rc;
}

zhub_rc_t
deal_sync_store_commit (zhub_actor_ctx_t *ctx, const deal_sync_tables_t *tables,
                        const deal_sync_change_t *change)
{
    s_commit_t commit = {.ctx = ctx, .tables = tables, .change = change};
    return zhub_store_write (ctx->store, s_commit_fn, &commit);
}

//  -------------------------------------------------------------------
//  Forgetting a person
//
//  One pass per table, in an order that lets each pass know what the
//  earlier ones learned: contacts, deals, contacts again (a deal may name a
//  Bird id the first pass did not know was the person's), deal_ids, audit.

typedef struct {
    const deal_sync_tables_t *tables;
    const zhub_forget_t *who;
    zhub_strlist_t people; //  the person's Bird and HubSpot contact ids found in the tables
    zhub_strlist_t deals;  //  their HubSpot deal ids
    zhub_strlist_t keys;   //  their deal keys
    size_t removed;
} s_forget_t;

static void
s_forget_reset (s_forget_t *f)
{
    zhub_strlist_clear (&f->people);
    zhub_strlist_clear (&f->deals);
    zhub_strlist_clear (&f->keys);
    f->removed = 0;
}

static bool
s_forget_person (const s_forget_t *f, const char *id)
{
    return id && (zhub_forget_is (f->who, id) || zhub_strlist_has (&f->people, id));
}

//  True when a row is the person's; may widen what f knows of them.
typedef bool (s_forget_row_fn) (s_forget_t *f, const char *key, const void *value,
                                size_t value_size);

//  contacts: Bird id -> HubSpot contact id.
static bool
s_forget_contact_row (s_forget_t *f, const char *key, const void *value, size_t value_size)
{
    char *contact = s_text (value, value_size);
    bool drop = s_forget_person (f, key) || s_forget_person (f, contact);
    if (drop) {
        zhub_strlist_add_unique (&f->people, key);
        zhub_strlist_add_unique (&f->people, contact);
    }
    free (contact);
    return drop;
}

//  deals: "<bird id>/<pipeline>" -> record.
static bool
s_forget_deal_row (s_forget_t *f, const char *key, const void *value, size_t value_size)
{
    deal_state_t state;
    bool have = s_state_decode (value, value_size, &state) == 0;
    //  The key's Bird id, whatever pipeline the deal was made for.
    const char *slash = strrchr (key, '/');
    char *bird = slash ? s_text (key, (size_t)(slash - key)) : NULL;
    bool drop =
        s_forget_person (f, bird)
        || (have && (s_forget_person (f, state.bird_id) || s_forget_person (f, state.contact_id)));
    if (drop) {
        zhub_strlist_add_unique (&f->people, bird);
        zhub_strlist_add_unique (&f->keys, key);
        if (have) {
            zhub_strlist_add_unique (&f->people, state.bird_id);
            zhub_strlist_add_unique (&f->people, state.contact_id);
            zhub_strlist_add_unique (&f->deals, state.deal_id);
        }
    }
    free (bird);
    deal_state_clear (&state);
    return drop;
}

//  deal_ids: HubSpot deal id -> deal key.
static bool
s_forget_deal_id_row (s_forget_t *f, const char *key, const void *value, size_t value_size)
{
    char *deal_key = s_text (value, value_size);
    bool drop = zhub_strlist_has (&f->deals, key) || zhub_strlist_has (&f->keys, deal_key);
    free (deal_key);
    return drop;
}

//  audit: "<bird id>|<16 hex ms>|<event id>" -> entry (bird_contact_id, deal_id).
static bool
s_forget_audit_row (s_forget_t *f, const char *key, const void *value, size_t value_size)
{
    const char *bar = strchr (key, '|');
    char *bird = bar ? s_text (key, (size_t)(bar - key)) : NULL;
    json_t *entry = json_loadb (value, value_size, 0, NULL);
    bool drop = s_forget_person (f, bird) || s_forget_person (f, s_str (entry, "bird_contact_id"))
                || zhub_strlist_has (&f->deals, s_str (entry, "deal_id"));
    json_decref (entry);
    free (bird);
    return drop;
}

typedef struct {
    s_forget_t *f;
    s_forget_row_fn *row;
} s_forget_pass_t;

//  zhub_store_row_fn: row on the key as text.
static bool
s_forget_pass_row (const void *key, size_t key_size, const void *value, size_t value_size,
                   void *arg)
{
    s_forget_pass_t *pass = arg;
    char *text = s_text (key, key_size);
    bool drop = pass->row (pass->f, text, value, value_size);
    free (text);
    return drop;
}

//  Walks table and deletes the rows row says are the person's.
static zhub_rc_t
s_forget_table (zhub_txn_t *txn, s_forget_t *f, zhub_table_t table, s_forget_row_fn *row)
{
    s_forget_pass_t pass = {.f = f, .row = row};
    return zhub_txn_delete_where (txn, table, s_forget_pass_row, &pass, &f->removed);
}

zhub_rc_t
deal_sync_store_erase (zhub_txn_t *txn, const deal_sync_tables_t *tables, const zhub_forget_t *who,
                       size_t *removed)
{
    s_forget_t f = {.tables = tables, .who = who};
    zhub_rc_t rc = ZHUB_ERROR;
    if (s_forget_table (txn, &f, tables->contacts, s_forget_contact_row) == ZHUB_OK
        && s_forget_table (txn, &f, tables->deals, s_forget_deal_row) == ZHUB_OK
        && s_forget_table (txn, &f, tables->contacts, s_forget_contact_row) == ZHUB_OK
        && s_forget_table (txn, &f, tables->deal_ids, s_forget_deal_id_row) == ZHUB_OK
        && s_forget_table (txn, &f, tables->audit, s_forget_audit_row) == ZHUB_OK)
        rc = ZHUB_OK;
    *removed = f.removed;
    s_forget_reset (&f);
    return rc;
}

//  zhub_store_walk_fn: row on the key as text, keeping nothing.
static zhub_walk_t
s_find_row (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_forget_pass_row (key, key_size, value, value_size, arg);
    return ZHUB_WALK_NEXT;
}

//  The erase's first three passes, reading only: f->deals ends up with the
//  person's HubSpot deal ids.
static zhub_rc_t
s_find_deals (zhub_txn_t *txn, void *arg)
{
    s_forget_t *f = arg;
    s_forget_reset (f);
    s_forget_pass_t contacts = {.f = f, .row = s_forget_contact_row};
    s_forget_pass_t deals = {.f = f, .row = s_forget_deal_row};
    if (zhub_txn_walk (txn, f->tables->contacts, s_find_row, &contacts) != ZHUB_OK
        || zhub_txn_walk (txn, f->tables->deals, s_find_row, &deals) != ZHUB_OK
        || zhub_txn_walk (txn, f->tables->contacts, s_find_row, &contacts) != ZHUB_OK)
        return ZHUB_ERROR;
    return ZHUB_OK;
}

zhub_rc_t
deal_sync_store_deals_of (zhub_store_t *store, const deal_sync_tables_t *tables,
                          const zhub_forget_t *who, zhub_strlist_t *deal_ids)
{
    s_forget_t f = {.tables = tables, .who = who};
    zhub_rc_t rc = zhub_store_read (store, s_find_deals, &f);
    for (size_t i = 0; rc == ZHUB_OK && i < f.deals.count; i++)
        zhub_strlist_add_unique (deal_ids, f.deals.items[i]);
    s_forget_reset (&f);
    return rc;
}
