//  activity-log's store (see activity_log_store.h): the tables, the values'
//  codecs, the reads, the one commit, parking, the retention sweep and the
//  erase of a person. Single-key reads are zhub_store_get_copy; what reads
//  and writes together (merging the id map, a commit, a sweep, an erase)
//  runs in one transaction here.
#include "activity_log_store.h"

#include <stdlib.h>
#include <string.h>

int
activity_log_tables_open (zhub_store_t *store, activity_log_tables_t *tables)
{
    return zhub_store_table (store, "contacts", &tables->contacts)
                   || zhub_store_table (store, "conversations", &tables->conversations)
                   || zhub_store_table (store, "engagements", &tables->engagements)
                   || zhub_store_table (store, "parked", &tables->parked)
                   || zhub_store_table (store, "made", &tables->made)
               ? -1
               : 0;
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

static zhub_rc_t
s_put (zhub_txn_t *txn, zhub_table_t table, const char *key, const char *value)
{
    return zhub_txn_put (txn, table, key, strlen (key), value, strlen (value));
}

//  key's value as JSON. ZHUB_OK with *value (the caller decrefs it),
//  ZHUB_NOTFOUND, or ZHUB_ERROR (also for a value that is no JSON).
static zhub_rc_t
s_get_json (zhub_store_t *store, zhub_table_t table, const char *key, json_t **value)
{
    char *text;
    size_t size;
    *value = NULL;
    zhub_rc_t rc = zhub_store_get_copy (store, table, key, strlen (key), &text, &size);
    if (rc == ZHUB_OK) {
        *value = json_loadb (text, size, 0, NULL);
        rc = *value ? ZHUB_OK : ZHUB_ERROR;
    }
    free (text);
    return rc;
}

//  -------------------------------------------------------------------
//  The id map: {"contact":…,"deal":…}, each only when known

void
activity_log_ids_clear (activity_log_ids_t *ids)
{
    free (ids->contact_id);
    free (ids->deal_id);
    ids->contact_id = ids->deal_id = NULL;
}

static void
s_ids_decode (const json_t *value, activity_log_ids_t *ids)
{
    ids->contact_id = zhub_strdup (json_string_value (json_object_get (value, "contact")));
    ids->deal_id = zhub_strdup (json_string_value (json_object_get (value, "deal")));
}

zhub_rc_t
activity_log_store_ids (zhub_store_t *store, const activity_log_tables_t *tables,
                        const char *bird_id, activity_log_ids_t *ids)
{
    json_t *value;
    zhub_rc_t rc = s_get_json (store, tables->contacts, bird_id, &value);
    if (rc == ZHUB_OK)
        s_ids_decode (value, ids);
    json_decref (value);
    return rc;
}

typedef struct {
    const activity_log_tables_t *tables;
    const char *bird_id, *contact_id, *deal_id;
} s_learn_t;

static zhub_rc_t
s_learn_fn (zhub_txn_t *txn, void *arg)
{
    s_learn_t *learn = arg;
    activity_log_ids_t ids = {0};
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, learn->tables->contacts, learn->bird_id,
                                 strlen (learn->bird_id), &value, &size);
    if (rc == ZHUB_ERROR)
        return rc;
    if (rc == ZHUB_OK) {
        json_t *held = json_loadb (value, size, 0, NULL);
        if (!held)
            return ZHUB_ERROR;
        s_ids_decode (held, &ids);
        json_decref (held);
    }
    json_t *obj = json_object ();
    const char *contact = learn->contact_id ? learn->contact_id : ids.contact_id;
    const char *deal = learn->deal_id ? learn->deal_id : ids.deal_id;
    if (contact)
        json_object_set_new (obj, "contact", json_string (contact));
    if (deal)
        json_object_set_new (obj, "deal", json_string (deal));
    char *text = json_dumps (obj, JSON_COMPACT);
    rc = s_put (txn, learn->tables->contacts, learn->bird_id, text);
    free (text);
    json_decref (obj);
    activity_log_ids_clear (&ids);
    return rc;
}

zhub_rc_t
activity_log_store_learn (zhub_store_t *store, const activity_log_tables_t *tables,
                          const char *bird_id, const char *contact_id, const char *deal_id)
{
    s_learn_t learn = {
        .tables = tables, .bird_id = bird_id, .contact_id = contact_id, .deal_id = deal_id};
    return zhub_store_write (store, s_learn_fn, &learn);
}

//  -------------------------------------------------------------------
//  Conversations and engagements

zhub_rc_t
activity_log_store_conv (zhub_store_t *store, const activity_log_tables_t *tables, const char *id,
                         activity_conv_t *conv)
{
    char *text;
    size_t size;
    zhub_rc_t rc =
        zhub_store_get_copy (store, tables->conversations, id, strlen (id), &text, &size);
    if (rc == ZHUB_OK && activity_conv_decode (text, size, conv))
        rc = ZHUB_ERROR;
    free (text);
    return rc;
}

char *
activity_log_event_key (const char *event_id, activity_kind_t kind)
{
    return zhub_sprintf ("evt:%s:%s", event_id, activity_kind_name (kind));
}

char *
activity_log_booking_key (const char *booking_id)
{
    return zhub_sprintf ("booking:%s", booking_id);
}

zhub_rc_t
activity_log_store_engagement (zhub_store_t *store, const activity_log_tables_t *tables,
                               const char *key, char **hubspot_id)
{
    json_t *value;
    *hubspot_id = NULL;
    zhub_rc_t rc = s_get_json (store, tables->engagements, key, &value);
    if (rc == ZHUB_OK) {
        *hubspot_id = zhub_strdup (json_string_value (json_object_get (value, "id")));
        rc = *hubspot_id ? ZHUB_OK : ZHUB_NOTFOUND;
    }
    json_decref (value);
    return rc;
}

typedef struct {
    zhub_actor_ctx_t *ctx;
    const activity_log_tables_t *tables;
    const activity_log_change_t *change;
} s_commit_t;

static zhub_rc_t
s_commit_fn (zhub_txn_t *txn, void *arg)
{
    s_commit_t *commit = arg;
    const activity_log_change_t *c = commit->change;
    const activity_log_tables_t *t = commit->tables;
    zhub_rc_t rc = ZHUB_OK;
    if (c->conv) {
        char *text = activity_conv_encode (c->conv);
        rc = s_put (txn, t->conversations, c->conv->conversation_id, text);
        free (text);
    }
    if (rc == ZHUB_OK && c->engagement_key && c->hubspot_id) {
        json_t *obj = json_pack ("{s:s, s:I}", "id", c->hubspot_id, "at", (json_int_t)c->at_ms);
        char *text = json_dumps (obj, JSON_COMPACT);
        rc = s_put (txn, t->engagements, c->engagement_key, text);
        free (text);
        json_decref (obj);
    }
    if (rc == ZHUB_OK && c->made_bird && *c->made_bird && c->made_path && c->hubspot_id) {
        char *key = zhub_sprintf ("%s|%s", c->made_bird, c->hubspot_id);
        rc = s_put (txn, t->made, key, c->made_path);
        free (key);
    }
    for (size_t i = 0; rc == ZHUB_OK && i < 2; i++)
        if (c->publish[i])
            rc = zhub_actor_outbox_put (commit->ctx, txn, c->publish[i]);
    return rc;
}

zhub_rc_t
activity_log_store_commit (zhub_actor_ctx_t *ctx, const activity_log_tables_t *tables,
                           const activity_log_change_t *change)
{
    s_commit_t commit = {.ctx = ctx, .tables = tables, .change = change};
    return zhub_store_write (ctx->store, s_commit_fn, &commit);
}

//  -------------------------------------------------------------------
//  Parked events

uint64_t
activity_log_park_seq (int64_t now_ms, uint32_t n)
{
    return ((uint64_t)now_ms << 16) | (n & 0xffff);
}

//  The time a parked event's key carries (unix ms), or 0.
static int64_t
s_parked_ms (const void *key, size_t key_size)
{
    return key_size >= 8 ? (int64_t)(zhub_store_u64 ((const uint8_t *)key + key_size - 8) >> 16)
                         : 0;
}

//  bird id, NUL, big-endian u64: cursors walk one contact's events in order.
static uint8_t *
s_park_key (const char *bird_id, uint64_t seq, size_t *size)
{
    size_t n = strlen (bird_id);
    uint8_t *key = zhub_malloc (n + 9);
    memcpy (key, bird_id, n);
    key[n] = 0;
    zhub_store_key_u64 (key + n + 1, seq);
    *size = n + 9;
    return key;
}

typedef struct {
    const activity_log_tables_t *tables;
    uint8_t *key, *value;
    size_t key_size, value_size;
} s_park_t;

static zhub_rc_t
s_park_fn (zhub_txn_t *txn, void *arg)
{
    s_park_t *park = arg;
    return zhub_txn_put (txn, park->tables->parked, park->key, park->key_size, park->value,
                         park->value_size);
}

zhub_rc_t
activity_log_store_park (zhub_store_t *store, const activity_log_tables_t *tables,
                         const char *bird_id, uint64_t seq, const zhub_msg_t *msg)
{
    char err[128];
    s_park_t park = {.tables = tables};
    if (zhub_msg_encode (msg, &park.value, &park.value_size, err, sizeof err))
        return ZHUB_ERROR;
    park.key = s_park_key (bird_id, seq, &park.key_size);
    zhub_rc_t rc = zhub_store_write (store, s_park_fn, &park);
    free (park.key);
    free (park.value);
    return rc;
}

typedef struct {
    const activity_log_tables_t *tables;
    const char *bird_id;
    activity_log_parked_t *parked;
    size_t count; //  unpark: how many of parked to delete
} s_parked_t;

static zhub_rc_t
s_parked_fn (zhub_txn_t *txn, void *arg)
{
    s_parked_t *p = arg;
    activity_log_parked_t *parked = p->parked;
    size_t prefix_size;
    uint8_t *prefix = s_park_key (p->bird_id, 0, &prefix_size);
    prefix_size -= 8;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, p->tables->parked);
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = cursor ? zhub_cursor_seek (cursor, prefix, prefix_size, &key, &key_size, &value,
                                              &value_size)
                          : ZHUB_ERROR;
    while (rc == ZHUB_OK && key_size == prefix_size + 8 && !memcmp (key, prefix, prefix_size)
           && parked->count < ACTIVITY_REPLAY_BATCH) {
        char err[128];
        parked->keys[parked->count] = zhub_malloc (key_size);
        memcpy (parked->keys[parked->count], key, key_size);
        parked->key_sizes[parked->count] = key_size;
        parked->msgs[parked->count++] =
            zhub_msg_decode (value, value_size, &zhub_msg_stored_limits, err, sizeof err);
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    free (prefix);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
activity_log_store_parked (zhub_store_t *store, const activity_log_tables_t *tables,
                           const char *bird_id, activity_log_parked_t *parked)
{
    s_parked_t p = {.tables = tables, .bird_id = bird_id, .parked = parked};
    return zhub_store_read (store, s_parked_fn, &p);
}

static zhub_rc_t
s_unpark_fn (zhub_txn_t *txn, void *arg)
{
    s_parked_t *p = arg;
    for (size_t i = 0; i < p->count; i++)
        if (zhub_txn_del (txn, p->tables->parked, p->parked->keys[i], p->parked->key_sizes[i])
            == ZHUB_ERROR)
            return ZHUB_ERROR;
    return ZHUB_OK;
}

zhub_rc_t
activity_log_store_unpark (zhub_store_t *store, const activity_log_tables_t *tables,
                           const activity_log_parked_t *parked, size_t count)
{
    s_parked_t p = {.tables = tables,
                    .parked = (activity_log_parked_t *)parked,
                    .count = count < parked->count ? count : parked->count};
    return zhub_store_write (store, s_unpark_fn, &p);
}

void
activity_log_parked_clear (activity_log_parked_t *parked)
{
    for (size_t i = 0; i < parked->count; i++) {
        zhub_msg_destroy (&parked->msgs[i]);
        free (parked->keys[i]);
    }
    parked->count = 0;
}

//  -------------------------------------------------------------------
//  Retention

typedef struct {
    const activity_log_tables_t *tables;
    int64_t retention_ms, now_ms;
    size_t deleted;
} s_sweep_t;

//  conversations: by the time they were last updated. This and
//  s_parked_expired are zhub_store_row_fn with the sweep as arg.
static bool
s_conversation_expired (const void *key, size_t key_size, const void *value, size_t value_size,
                        void *arg)
{
    (void)key;
    (void)key_size;
    const s_sweep_t *sweep = arg;
    json_t *obj = json_loadb (value, value_size, 0, NULL);
    int64_t updated = json_integer_value (json_object_get (obj, "updated"));
    json_decref (obj);
    return activity_expired (updated, sweep->now_ms, sweep->retention_ms);
}

//  parked events: their key carries the time they were parked.
static bool
s_parked_expired (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)value;
    (void)value_size;
    const s_sweep_t *sweep = arg;
    return activity_expired (s_parked_ms (key, key_size), sweep->now_ms, sweep->retention_ms);
}

static zhub_rc_t
s_sweep_fn (zhub_txn_t *txn, void *arg)
{
    s_sweep_t *sweep = arg;
    const activity_log_tables_t *t = sweep->tables;
    sweep->deleted = 0;
    if (zhub_txn_delete_where (txn, t->conversations, s_conversation_expired, sweep,
                               &sweep->deleted)
        != ZHUB_OK)
        return ZHUB_ERROR;
    //  engagement ids of single events (bookings stay: a tour far ahead
    //  may still move). A cursor, not zhub_txn_delete_where: it reads only
    //  the "evt:" keys and stops where they end, not every booking too.
    const void *key, *value;
    size_t key_size, value_size;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, t->engagements);
    if (!cursor)
        return ZHUB_ERROR;
    zhub_rc_t rc = zhub_cursor_seek (cursor, "evt:", 4, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK && key_size >= 4 && !memcmp (key, "evt:", 4)) {
        json_t *obj = json_loadb (value, value_size, 0, NULL);
        int64_t at = json_integer_value (json_object_get (obj, "at"));
        json_decref (obj);
        if (activity_expired (at, sweep->now_ms, sweep->retention_ms)) {
            if (zhub_cursor_del (cursor) != ZHUB_OK) {
                rc = ZHUB_ERROR;
                break;
            }
            sweep->deleted++;
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    if (rc == ZHUB_ERROR)
        return rc;
    return zhub_txn_delete_where (txn, t->parked, s_parked_expired, sweep, &sweep->deleted);
}

int
activity_log_store_prune (zhub_store_t *store, const activity_log_tables_t *tables,
                          int64_t retention_ms, int64_t now_ms)
{
    if (!retention_ms)
        return 0;
    s_sweep_t sweep = {.tables = tables, .retention_ms = retention_ms, .now_ms = now_ms};
    return zhub_store_write (store, s_sweep_fn, &sweep) == ZHUB_OK ? (int)sweep.deleted : -1;
}

//  -------------------------------------------------------------------
//  Forgetting a person
//
//  One write transaction removes every record that refers to the person,
//  so a redelivery finds nothing left. Stored ids are compared as whole
//  values; free text (transcript lines, parked events, event ids in
//  engagement keys) is searched for the identifiers by zhub_forget.h's
//  rule.

typedef struct {
    const activity_log_tables_t *tables;
    const zhub_forget_t *who;
    zhub_strlist_t birds; //  Bird ids the id map ties to the person's HubSpot id
    size_t removed;
} s_forget_t;

static void
s_forget_reset (s_forget_t *f)
{
    zhub_strlist_clear (&f->birds);
    f->removed = 0;
}

//  True when bird is one of the person's Bird contact ids.
static bool
s_forget_bird (const s_forget_t *f, const char *bird)
{
    return bird && (zhub_forget_is (f->who, bird) || zhub_strlist_has (&f->birds, bird));
}

//  The id map: entries under one of the person's ids or pointing at their
//  HubSpot contact. Their keys join the person's Bird ids.
static bool
s_forget_contact_matches (const void *key, size_t key_size, const void *value, size_t value_size,
                          void *arg)
{
    s_forget_t *f = arg;
    char *bird = s_text (key, key_size);
    json_t *obj = json_loadb (value, value_size, 0, NULL);
    bool match = zhub_forget_is (f->who, bird)
                 || zhub_forget_is (f->who, json_string_value (json_object_get (obj, "contact")));
    json_decref (obj);
    if (match)
        zhub_strlist_take (&f->birds, bird);
    else
        free (bird);
    return match;
}

//  A conversation cache of the person, or one whose lines mention them.
static bool
s_forget_conv_matches (const void *key, size_t key_size, const void *value, size_t value_size,
                       void *arg)
{
    s_forget_t *f = arg;
    if (zhub_forget_mentions_text (f->who, key, key_size))
        return true;
    activity_conv_t conv;
    if (activity_conv_decode (value, value_size, &conv))
        return zhub_forget_mentions_text (f->who, value, value_size); //  opaque: its bytes
    bool match = s_forget_bird (f, conv.bird_id);
    for (size_t i = 0; !match && i < conv.count; i++)
        match =
            conv.lines[i].text
            && zhub_forget_mentions_text (f->who, conv.lines[i].text, strlen (conv.lines[i].text));
    activity_conv_clear (&conv);
    return match;
}

//  A parked event of the person (by its key's Bird id or its ids), or one
//  whose envelope (subject, data) mentions them.
static bool
s_forget_parked_matches (const void *key, size_t key_size, const void *value, size_t value_size,
                         void *arg)
{
    s_forget_t *f = arg;
    if (key_size >= 9) {
        char *bird = s_text (key, key_size - 9);
        bool match = s_forget_bird (f, bird);
        free (bird);
        if (match)
            return true;
    }
    if (zhub_forget_mentions_msgpack (f->who, value, value_size))
        return true;
    char err[128];
    zhub_msg_t *msg = zhub_msg_decode (value, value_size, &zhub_msg_stored_limits, err, sizeof err);
    if (!msg)
        return false;
    activity_event_t ev;
    char reason[128];
    bool match =
        activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK
        && (s_forget_bird (f, ev.bird_id) || zhub_forget_is (f->who, ev.hubspot_contact_id));
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
    return match;
}

//  Engagement records hold HubSpot ids only; their keys name the event or
//  booking, which a provider may have derived from the person.
static bool
s_forget_engagement_matches (const void *key, size_t key_size, const void *value, size_t value_size,
                             void *arg)
{
    const s_forget_t *f = arg;
    (void)value;
    (void)value_size;
    return zhub_forget_mentions_text (f->who, key, key_size);
}

//  made: "<bird id>|<hubspot id>" of one of the person's Bird ids.
static bool
s_forget_made_matches (const void *key, size_t key_size, const void *value, size_t value_size,
                       void *arg)
{
    const s_forget_t *f = arg;
    (void)value;
    (void)value_size;
    const char *bar = memchr (key, '|', key_size);
    if (!bar)
        return false;
    char *bird = s_text (key, (size_t)(bar - (const char *)key));
    bool match = s_forget_bird (f, bird);
    free (bird);
    return match;
}

zhub_rc_t
activity_log_store_erase (zhub_txn_t *txn, const activity_log_tables_t *tables,
                          const zhub_forget_t *who, size_t *removed)
{
    s_forget_t f = {.tables = tables, .who = who};
    //  The id map first: it names the person's other Bird ids. The match
    //  functions are zhub_store_row_fn with f as arg.
    zhub_rc_t rc = ZHUB_ERROR;
    if (zhub_txn_delete_where (txn, tables->contacts, s_forget_contact_matches, &f, &f.removed)
            == ZHUB_OK
        && zhub_txn_delete_where (txn, tables->conversations, s_forget_conv_matches, &f, &f.removed)
               == ZHUB_OK
        && zhub_txn_delete_where (txn, tables->parked, s_forget_parked_matches, &f, &f.removed)
               == ZHUB_OK
        && zhub_txn_delete_where (txn, tables->engagements, s_forget_engagement_matches, &f,
                                  &f.removed)
               == ZHUB_OK
        && zhub_txn_delete_where (txn, tables->made, s_forget_made_matches, &f, &f.removed)
               == ZHUB_OK)
        rc = ZHUB_OK;
    *removed = f.removed;
    s_forget_reset (&f);
    return rc;
}

typedef struct {
    s_forget_t f;
    zhub_strlist_t *paths; //  the addresses of the person's engagements
} s_made_t;

//  zhub_store_walk_fn over contacts: learns the person's Bird ids.
static zhub_walk_t
s_learn_birds (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_forget_contact_matches (key, key_size, value, value_size, arg);
    return ZHUB_WALK_NEXT;
}

//  zhub_store_walk_fn over made: keeps the person's addresses.
static zhub_walk_t
s_collect_made (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_made_t *made = arg;
    if (s_forget_made_matches (key, key_size, value, value_size, &made->f))
        zhub_strlist_take (made->paths, s_text (value, value_size));
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_read_made (zhub_txn_t *txn, void *arg)
{
    s_made_t *made = arg;
    if (zhub_txn_walk (txn, made->f.tables->contacts, s_learn_birds, &made->f) != ZHUB_OK)
        return ZHUB_ERROR;
    return zhub_txn_walk (txn, made->f.tables->made, s_collect_made, made);
}

zhub_rc_t
activity_log_store_made_of (zhub_store_t *store, const activity_log_tables_t *tables,
                            const zhub_forget_t *who, zhub_strlist_t *paths)
{
    s_made_t made = {.f = {.tables = tables, .who = who}, .paths = paths};
    zhub_rc_t rc = zhub_store_read (store, s_read_made, &made);
    s_forget_reset (&made.f);
    return rc;
}
