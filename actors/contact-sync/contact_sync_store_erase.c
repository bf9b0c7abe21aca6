//  contact-sync's store, the erase (see contact_sync_store.h): finding the
//  persons an identifier names, and removing every record about them in
//  one transaction. Their audit entries ("<bird id>|<ms>|<event>|<n>")
//  become tombstones under "erased:<request>|<ms>|<event>|<n>|<person>",
//  so that no key or value names the person any more and
//  `zhub audit erase <request>` still finds what was decided.
#include "contact_sync_store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  -------------------------------------------------------------------
//  Find

typedef struct {
    const contact_sync_store_t *self;
    contact_erase_t *erase;
    contact_state_t *states;
    size_t count;
} s_find_t;

static void
s_find_clear (s_find_t *find)
{
    for (size_t i = 0; i < find->count; i++)
        contact_state_clear (&find->states[i]);
    find->count = 0;
}

//  Adds the state of a Bird contact (once). ZHUB_OK also when there is no
//  such state; ZHUB_ERROR on a store fault.
static zhub_rc_t
s_find_bird (zhub_txn_t *txn, s_find_t *find, const char *bird_id, size_t bird_size)
{
    for (size_t i = 0; i < find->count; i++)
        if (strlen (find->states[i].bird_id) == bird_size
            && !memcmp (find->states[i].bird_id, bird_id, bird_size))
            return ZHUB_OK;
    if (find->count == CONTACT_ERASE_MAX_PERSONS || !bird_size)
        return ZHUB_OK;
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, find->self->contacts, bird_id, bird_size, &value, &size);
    if (rc != ZHUB_OK)
        return rc == ZHUB_NOTFOUND ? ZHUB_OK : rc;
    contact_state_t state;
    if (contact_state_decode (value, size, &state) == 0)
        find->states[find->count++] = state;
    return ZHUB_OK;
}

static zhub_walk_t
s_find_match (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)key, (void)key_size;
    s_find_t *find = arg;
    if (find->count >= CONTACT_ERASE_MAX_PERSONS)
        return ZHUB_WALK_STOP;
    contact_state_t state;
    if (contact_state_decode (value, value_size, &state) == 0
        && contact_sync_erase_matches (find->erase, &state))
        find->states[find->count++] = state;
    else
        contact_state_clear (&state);
    return ZHUB_WALK_NEXT;
}

//  Every state the erase matches (e-mail, phone): a full scan, as nothing
//  is indexed by them. Erases are rare; a scan of the states is cheap
//  beside the calls the erase makes.
static zhub_rc_t
s_find_scan (zhub_txn_t *txn, s_find_t *find)
{
    return zhub_txn_walk (txn, find->self->contacts, s_find_match, find);
}

//  A HubSpot id: the id map, else the audit entry HubSpot's deletion of
//  the linked contact left (contact.deletion may come before
//  contact.privacyDeletion and unlinks the contact).
static zhub_rc_t
s_find_hubspot (zhub_txn_t *txn, s_find_t *find)
{
    const char *id = find->erase->identifier;
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, find->self->hubspot_ids, id, strlen (id), &value, &size);
    if (rc == ZHUB_OK)
        return s_find_bird (txn, find, value, size);
    if (rc == ZHUB_ERROR)
        return rc;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, find->self->audit);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key;
    size_t key_size;
    char *needle = zhub_sprintf ("\"old\":\"%s\"", id);
    char *birds[CONTACT_ERASE_MAX_PERSONS];
    size_t bird_count = 0;
    rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &size);
    while (rc == ZHUB_OK && bird_count < CONTACT_ERASE_MAX_PERSONS) {
        //  Cheap test first: most entries do not mention the id at all.
        if (memmem (value, size, needle, strlen (needle))) {
            json_t *entry = json_loadb (value, size, 0, NULL);
            const char *bird = contact_sync_audit_deleted_link (entry, id);
            if (bird)
                birds[bird_count++] = zhub_strdup (bird);
            json_decref (entry);
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &size);
    }
    zhub_cursor_destroy (&cursor);
    free (needle);
    zhub_rc_t found = rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
    for (size_t i = 0; i < bird_count; i++) {
        if (found == ZHUB_OK)
            found = s_find_bird (txn, find, birds[i], strlen (birds[i]));
        free (birds[i]);
    }
    return found;
}

static zhub_rc_t
s_find_fn (zhub_txn_t *txn, void *arg)
{
    s_find_t *find = arg;
    contact_erase_t *erase = find->erase;
    s_find_clear (find);
    switch (erase->by) {
        case CONTACT_ERASE_BY_BIRD:
            return s_find_bird (txn, find, erase->identifier, strlen (erase->identifier));
        case CONTACT_ERASE_BY_HUBSPOT: return s_find_hubspot (txn, find);
        case CONTACT_ERASE_BY_DIGITS: {
            //  A HubSpot id when we know one, else a phone.
            zhub_rc_t rc = s_find_hubspot (txn, find);
            erase->hubspot_known = rc == ZHUB_OK && find->count > 0;
            if (rc != ZHUB_OK || find->count)
                return rc;
            return s_find_scan (txn, find);
        }
        case CONTACT_ERASE_BY_EMAIL:
        case CONTACT_ERASE_BY_PHONE: return s_find_scan (txn, find);
    }
    return ZHUB_OK;
}

zhub_rc_t
contact_sync_store_find (const contact_sync_store_t *self, contact_erase_t *erase,
                         contact_state_t *states, size_t *count)
{
    s_find_t find = {.self = self, .erase = erase, .states = states};
    zhub_rc_t rc = zhub_store_read (self->store, s_find_fn, &find);
    if (rc != ZHUB_OK)
        s_find_clear (&find);
    *count = find.count;
    return rc;
}

//  -------------------------------------------------------------------
//  Commit

#define S_ANNOUNCE_MAX 4

typedef struct {
    contact_sync_store_t *self;
    zhub_actor_ctx_t *ctx;
    const contact_erase_t *erase;
    const contact_state_t *states;
    size_t count;
    const char *event_id;
    contact_sync_announce_fn *announce;
    void *arg;
    size_t removed; //  out: records deleted or made tombstones
} s_erase_t;

static zhub_rc_t
s_del (zhub_txn_t *txn, zhub_table_t table, const char *key, size_t *removed)
{
    zhub_rc_t rc = zhub_txn_del (txn, table, key, strlen (key));
    if (rc == ZHUB_OK)
        (*removed)++;
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

//  Every id-map entry naming the Bird contact (stale ones included): a
//  zhub_store_row_fn with the Bird id as arg.
static bool
s_names_bird (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)key;
    (void)key_size;
    const char *bird_id = arg;
    return value_size == strlen (bird_id) && !memcmp (value, bird_id, value_size);
}

//  The person's audit entries become tombstones.
static zhub_rc_t
s_tombstone_audit (zhub_txn_t *txn, const contact_sync_store_t *self, const char *bird_id,
                   const char *request, size_t person, size_t *removed)
{
    char *prefix = zhub_sprintf ("%s|", bird_id);
    size_t prefix_size = strlen (prefix);
    json_t *keys = json_array (), *stones = json_array ();
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->audit);
    zhub_rc_t rc = cursor ? ZHUB_OK : ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    if (rc == ZHUB_OK)
        rc = zhub_cursor_seek (cursor, prefix, prefix_size, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK && key_size >= prefix_size && !memcmp (key, prefix, prefix_size)) {
        json_t *entry = json_loadb (value, value_size, 0, NULL);
        json_t *stone = contact_sync_audit_tombstone (entry, request);
        json_decref (entry);
        char *stone_key =
            zhub_sprintf ("erased:%s|%.*s|%zu", request, (int)(key_size - prefix_size),
                          (const char *)key + prefix_size, person);
        json_array_append_new (keys, json_string (stone_key));
        json_array_append_new (stones, stone);
        free (stone_key);
        if (zhub_cursor_del (cursor) != ZHUB_OK) {
            rc = ZHUB_ERROR;
            break;
        }
        (*removed)++;
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    free (prefix);
    if (rc == ZHUB_ERROR) {
        json_decref (keys);
        json_decref (stones);
        return rc;
    }
    //  Written after the walk: new keys must not move the cursor.
    rc = ZHUB_OK;
    for (size_t i = 0; i < json_array_size (keys) && rc == ZHUB_OK; i++)
        rc = contact_sync_store_audit_put (txn, self, json_string_value (json_array_get (keys, i)),
                                           json_array_get (stones, i));
    json_decref (keys);
    json_decref (stones);
    return rc;
}

//  Everything contact-sync keeps about one Bird contact.
static zhub_rc_t
s_erase_person (zhub_txn_t *txn, const s_erase_t *run, const contact_state_t *state, size_t person,
                size_t *removed)
{
    const contact_sync_store_t *self = run->self;
    const char *bird = state->bird_id;
    if (s_del (txn, self->contacts, bird, removed)
        || zhub_txn_delete_where (txn, self->hubspot_ids, s_names_bird, (void *)bird, removed)
        || contact_sync_store_pending_del (txn, self, bird, removed)
        || s_del (txn, self->links, bird, removed))
        return ZHUB_ERROR;
    return s_tombstone_audit (txn, self, bird, run->erase->request, person, removed);
}

static zhub_rc_t
s_erase_fn (zhub_txn_t *txn, void *arg)
{
    s_erase_t *run = arg;
    run->removed = 0; //  the store may run this again (map grown)
    for (size_t i = 0; i < run->count; i++)
        if (s_erase_person (txn, run, &run->states[i], i, &run->removed) != ZHUB_OK)
            return ZHUB_ERROR;
    //  The erase's own entry: what was done, when, by which event.
    int64_t now = zhub_now_ms ();
    char stamp[40];
    zhub_time_format (now, stamp, sizeof stamp);
    json_t *entry = contact_sync_erase_entry (run->erase, run->event_id, run->removed);
    json_object_set_new (entry, "time", json_string (stamp));
    char *key = zhub_sprintf ("erased:%s|%016llx|%s|erase", run->erase->request,
                              (unsigned long long)now, run->event_id ? run->event_id : "");
    zhub_rc_t rc = contact_sync_store_audit_put (txn, run->self, key, entry);
    free (key);
    json_decref (entry);
    if (rc != ZHUB_OK)
        return ZHUB_ERROR;
    zhub_msg_t *publish[S_ANNOUNCE_MAX] = {NULL};
    size_t count = run->announce (run->removed, publish, S_ANNOUNCE_MAX, run->arg);
    for (size_t i = 0; i < count; i++) {
        if (rc == ZHUB_OK)
            rc = publish[i] ? zhub_actor_outbox_put (run->ctx, txn, publish[i]) : ZHUB_ERROR;
        zhub_msg_destroy (&publish[i]);
    }
    return rc;
}

zhub_rc_t
contact_sync_store_erase (contact_sync_store_t *self, zhub_actor_ctx_t *ctx,
                          const contact_erase_t *erase, const contact_state_t *states, size_t count,
                          const char *event_id, contact_sync_announce_fn *announce, void *arg,
                          size_t *removed)
{
    s_erase_t run = {.self = self,
                     .ctx = ctx,
                     .erase = erase,
                     .states = states,
                     .count = count,
                     .event_id = event_id,
                     .announce = announce,
                     .arg = arg};
    zhub_rc_t rc = zhub_store_write (self->store, s_erase_fn, &run);
    *removed = rc == ZHUB_OK ? run.removed : 0;
    return rc;
}
