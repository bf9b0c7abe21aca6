//  contact-sync's read side for `zhub status contact` (contact_sync_status.h):
//  find a person by any identifier, and say where they stand. Finding
//  reads one snapshot; the standing is a pure function of what it read, so
//  unit tests give it states and intents directly.
#include "contact_sync_status.h"
#include "contact_sync_results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
s_put (json_t *obj, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new (obj, key, json_string (value));
}

static void
s_put_time (json_t *obj, const char *key, int64_t ms)
{
    if (ms <= 0)
        return;
    char stamp[40];
    zhub_time_format (ms, stamp, sizeof stamp);
    json_object_set_new (obj, key, json_string (stamp));
}

json_t *
contact_sync_person_status (const contact_state_t *state, const json_t *pending,
                            const char *link_pending)
{
    json_t *out = json_object ();
    s_put (out, "bird_contact_id", state->bird_id);
    s_put (out, "hubspot_contact_id", state->hubspot_id);
    s_put (out, "name", state->bird.display_name);
    s_put (out, "phone", state->bird.phone ? state->bird.phone : state->hubspot.phone);
    s_put (out, "email", state->bird.email ? state->bird.email : state->hubspot.email);
    s_put_time (out, "last_sync", state->updated_ms);
    const char *status = "synced";
    char reason[400] = "";
    if (state->unlinked) {
        status = "unlinked";
        snprintf (reason, sizeof reason,
                  "the HubSpot record is gone (%s): Bird changes are not "
                  "synced until a HubSpot contact names this Bird contact "
                  "again",
                  state->unlinked);
    } else if (json_is_object (pending)) {
        status = "pending";
        const json_t *deferred = json_object_get (pending, CONTACT_SYNC_DEFERRED_KEY);
        json_t *detail = json_object ();
        s_put_time (detail, "since", json_integer_value (json_object_get (pending, "since")));
        const json_t *changed = json_object_get (pending, "changed");
        json_object_set_new (detail, "fields",
                             json_is_array (changed) ? json_deep_copy (changed) : json_array ());
        if (json_is_object (deferred)) {
            const char *why = json_string_value (json_object_get (deferred, "reason"));
            json_int_t flushes = json_integer_value (json_object_get (deferred, "flushes"));
            if (json_is_integer (json_object_get (deferred, "code")))
                json_object_set (detail, "code", json_object_get (deferred, "code"));
            json_object_set_new (detail, "flushes", json_integer (flushes));
            s_put_time (detail, "last_try", json_integer_value (json_object_get (deferred, "at")));
            snprintf (reason, sizeof reason,
                      "HubSpot write deferred %lld time(s), retried by the "
                      "next flush: %s",
                      (long long)flushes, why ? why : "a transient failure");
        } else
            snprintf (reason, sizeof reason,
                      "HubSpot write queued for the next batch (ZHUB_HUBSPOT_BATCH_WINDOW)");
        json_object_set_new (out, "pending", detail);
    } else if (!state->hubspot_id) {
        status = "pending";
        snprintf (reason, sizeof reason, "no HubSpot record linked yet");
    }
    json_object_set_new (out, "status", json_string (status));
    s_put (out, "reason", reason);
    s_put (out, "bird_link_pending", link_pending);
    return out;
}

//  -------------------------------------------------------------------
//  Reading

zhub_rc_t
contact_sync_reader_open (contact_sync_reader_t *self, const char *data_dir, char *err,
                          size_t err_size)
{
    memset (self, 0, sizeof *self);
    char path[4096];
    snprintf (path, sizeof path, "%s/%s/data.mdb", data_dir, CONTACT_SYNC_GROUP);
    struct stat info;
    if (stat (path, &info))
        return ZHUB_NOTFOUND;
    self->store = zhub_store_open_readonly (data_dir, CONTACT_SYNC_GROUP, err, err_size);
    if (!self->store)
        return ZHUB_ERROR;
    //  contact-sync makes every table when it opens its store (contact_sync_open)
    if (zhub_store_table (self->store, "contacts", &self->contacts)
        || zhub_store_table (self->store, "hubspot_ids", &self->hubspot_ids)
        || zhub_store_table (self->store, "pending", &self->pending)
        || zhub_store_table (self->store, "links", &self->links)) {
        zhub_store_destroy (&self->store);
        return ZHUB_NOTFOUND;
    }
    return ZHUB_OK;
}

void
contact_sync_reader_close (contact_sync_reader_t *self)
{
    if (self)
        zhub_store_destroy (&self->store);
}

typedef struct {
    const contact_sync_reader_t *self;
    contact_erase_t who;
    char *birds[CONTACT_STATUS_MAX_PERSONS];
    size_t count;
    zhub_txn_t *txn;
} s_find_t;

static void
s_add (s_find_t *find, const void *bird, size_t size)
{
    for (size_t i = 0; i < find->count; i++)
        if (strlen (find->birds[i]) == size && !memcmp (find->birds[i], bird, size))
            return;
    if (find->count == CONTACT_STATUS_MAX_PERSONS)
        return;
    char *copy = zhub_malloc (size + 1);
    memcpy (copy, bird, size);
    copy[size] = 0;
    find->birds[find->count++] = copy;
}

static zhub_walk_t
s_match (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_find_t *find = arg;
    contact_state_t state = {0};
    if (contact_state_decode (value, value_size, &state) == 0
        && contact_sync_erase_matches (&find->who, &state))
        s_add (find, key, key_size);
    contact_state_clear (&state);
    return find->count == CONTACT_STATUS_MAX_PERSONS ? ZHUB_WALK_STOP : ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_find_fn (zhub_txn_t *txn, void *arg)
{
    s_find_t *find = arg;
    const char *id = find->who.identifier;
    const void *value;
    size_t size;
    //  A Bird id, or a HubSpot id through the id map, names one person;
    //  else a phone or an e-mail, matched on either side's value.
    zhub_rc_t rc = zhub_txn_get (txn, find->self->contacts, id, strlen (id), &value, &size);
    if (rc == ZHUB_OK)
        s_add (find, id, strlen (id));
    else if (rc == ZHUB_ERROR)
        return rc;
    rc = zhub_txn_get (txn, find->self->hubspot_ids, id, strlen (id), &value, &size);
    if (rc == ZHUB_OK)
        s_add (find, value, size);
    else if (rc == ZHUB_ERROR)
        return rc;
    if (find->count || find->who.by == CONTACT_ERASE_BY_BIRD)
        return ZHUB_OK;
    return zhub_txn_walk (txn, find->self->contacts, s_match, find);
}

typedef struct {
    const contact_sync_reader_t *self;
    const char *bird;
    json_t *person;
} s_one_t;

static json_t *
s_json_at (zhub_txn_t *txn, zhub_table_t table, const char *key)
{
    const void *value;
    size_t size;
    if (zhub_txn_get (txn, table, key, strlen (key), &value, &size) != ZHUB_OK)
        return NULL;
    return json_loadb (value, size, 0, NULL);
}

static zhub_rc_t
s_one_fn (zhub_txn_t *txn, void *arg)
{
    s_one_t *one = arg;
    const char *bird = one->bird;
    const void *value;
    size_t size;
    contact_state_t state = {0};
    zhub_rc_t rc = zhub_txn_get (txn, one->self->contacts, bird, strlen (bird), &value, &size);
    if (rc != ZHUB_OK || contact_state_decode (value, size, &state))
        return rc == ZHUB_OK ? ZHUB_NOTFOUND : rc;
    json_t *pending = s_json_at (txn, one->self->pending, bird);
    char *link = NULL;
    if (zhub_txn_get (txn, one->self->links, bird, strlen (bird), &value, &size) == ZHUB_OK) {
        link = zhub_malloc (size + 1);
        memcpy (link, value, size);
        link[size] = 0;
    }
    json_decref (one->person);
    one->person = contact_sync_person_status (&state, pending, link);
    free (link);
    json_decref (pending);
    contact_state_clear (&state);
    return ZHUB_OK;
}

zhub_rc_t
contact_sync_reader_find (const contact_sync_reader_t *self, const char *identifier,
                          json_t *persons)
{
    s_find_t find = {.self = self};
    if (!identifier || !*identifier || strlen (identifier) > ZHUB_MSG_MAX_ID)
        return ZHUB_OK;
    find.who.identifier = (char *)identifier;
    contact_sync_erase_classify (identifier, false, &find.who);
    zhub_rc_t rc = zhub_store_read (self->store, s_find_fn, &find);
    for (size_t i = 0; i < find.count; i++) {
        s_one_t one = {.self = self, .bird = find.birds[i]};
        if (rc == ZHUB_OK) {
            zhub_rc_t got = zhub_store_read (self->store, s_one_fn, &one);
            if (got == ZHUB_OK)
                json_array_append_new (persons, one.person);
            else if (got == ZHUB_ERROR)
                rc = ZHUB_ERROR;
        }
        free (find.birds[i]);
    }
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}
