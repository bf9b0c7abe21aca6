//  contact-sync's I/O for a GDPR erase (contact.erase, and HubSpot's
//  contact.privacyDeletion read as one; the pure half is
//  contact_sync_erase.c). Three steps:
//
//    find      a read transaction: the states the identifier names, by
//              Bird id, HubSpot id (the id map, else the audit entry of a
//              HubSpot deletion that came first), or a scan of every
//              state for the e-mail or phone;
//    upstream  with "upstream": HubSpot's GDPR delete and Bird's contact
//              delete, each 404 counting as done; a failure is classified
//              once (zhub_retry) and the whole erase is retried or
//              dead-lettered before anything local is touched;
//    commit    one write transaction: every record about the person goes
//              (state, id map entries, queued HubSpot writes and Bird
//              links), their audit entries become tombstones, and
//              contact.forget and contact.forgotten go into the outbox.
//              Then the runtime compacts the store (zhub_actor_compact_after),
//              so the freed pages no longer hold the person's bytes.
//
//  Idempotent: a redelivery after the commit finds nobody and queues the
//  same two messages again under the same ids, which the broker's dedup
//  drops; the upstream deletes answer 404, which counts as done.
#include "contact_sync_io.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  -------------------------------------------------------------------
//  Find

typedef struct {
    const contact_sync_t *self;
    contact_erase_t *erase;
    contact_state_t states[CONTACT_ERASE_MAX_PERSONS];
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

//  -------------------------------------------------------------------
//  Upstream

//  Classifies one delete: 2xx and 404 are done. Returns true when done.
static bool
s_deleted (const zhub_http_response_t *resp, const char *what, zhub_outcome_t *out)
{
    if ((resp->status >= 200 && resp->status < 300) || resp->status == 404)
        return true;
    zhub_retry_classify (resp, what, zhub_now_ms (), out);
    return false;
}

//  HubSpot by record id, else by e-mail (a contact unlinked from HubSpot
//  may still be there under its address).
static bool
s_delete_hubspot (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const char *id, const char *email,
                  zhub_http_response_t *resp, zhub_outcome_t *out)
{
    if (!id && !email)
        return true;
    zhub_hubspot_contact_gdpr_delete (((contact_sync_t *)ctx->state)->hubspot, id ? id : email, id ? NULL : "email",
                                      msg->traceparent, resp);
    zhub_debug ("call", "id=%s api=hubspot what=\"hubspot gdpr delete contact\" status=%ld ms=%lld",
                msg->id, resp->status, (long long)resp->elapsed_ms);
    return s_deleted (resp, "hubspot gdpr delete contact", out);
}

static bool
s_delete_bird (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const char *id,
               zhub_http_response_t *resp, zhub_outcome_t *out)
{
    if (!id)
        return true;
    zhub_bird_contact_delete (((contact_sync_t *)ctx->state)->bird, id, msg->traceparent, resp);
    zhub_debug ("call", "id=%s api=bird what=\"bird delete contact\" status=%ld ms=%lld", msg->id,
                resp->status, (long long)resp->elapsed_ms);
    return s_deleted (resp, "bird delete contact", out);
}

static const char *
s_either (const char *a, const char *b)
{
    return a && *a ? a : b && *b ? b : NULL;
}

//  Deletes the persons in HubSpot and Bird. With nobody found, what the
//  identifier names on its own: an e-mail in HubSpot, a Bird id in Bird.
//  Returns true when everything is gone; otherwise *out says why.
static bool
s_upstream (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const s_find_t *find, zhub_outcome_t *out)
{
    const contact_erase_t *erase = find->erase;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool ok = true;
    bool hubspot_named = erase->by == CONTACT_ERASE_BY_HUBSPOT
                         || (erase->by == CONTACT_ERASE_BY_DIGITS && erase->hubspot_known);
    for (size_t i = 0; i < find->count && ok; i++) {
        const contact_state_t *state = &find->states[i];
        const char *id = s_either (state->hubspot_id, hubspot_named ? erase->identifier : NULL);
        ok = s_delete_hubspot (ctx, msg, id, s_either (state->hubspot.email, state->bird.email),
                               &resp, out)
             && s_delete_bird (ctx, msg, state->bird_id, &resp, out);
    }
    if (!find->count && erase->by == CONTACT_ERASE_BY_EMAIL && *erase->email)
        ok = s_delete_hubspot (ctx, msg, NULL, erase->email, &resp, out);
    else if (!find->count && erase->by == CONTACT_ERASE_BY_BIRD)
        ok = s_delete_bird (ctx, msg, erase->identifier, &resp, out);
    zhub_http_response_reset (&resp);
    return ok;
}

//  -------------------------------------------------------------------
//  Commit

typedef struct {
    zhub_actor_ctx_t *ctx;
    const contact_sync_t *self;
    const contact_erase_t *erase;
    const s_find_t *find;
    const zhub_msg_t *msg;
    const json_t *forget_data;
    size_t removed; //  out: records deleted or made tombstones
} s_commit_t;

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

//  The person's audit entries ("<bird id>|<ms>|<event>|<n>") become
//  tombstones under "erased:<request>|<ms>|<event>|<n>|<person>": no key
//  or value names the person any more, `zhub audit erase <request>` finds
//  them.
static zhub_rc_t
s_tombstone_audit (zhub_txn_t *txn, const contact_sync_t *self, const char *bird_id,
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
    for (size_t i = 0; i < json_array_size (keys) && rc == ZHUB_OK; i++) {
        const char *stone_key = json_string_value (json_array_get (keys, i));
        char *text = json_dumps (json_array_get (stones, i), JSON_COMPACT | JSON_SORT_KEYS);
        rc = zhub_txn_put (txn, self->audit, stone_key, strlen (stone_key), text, strlen (text));
        free (text);
    }
    json_decref (keys);
    json_decref (stones);
    return rc;
}

//  Everything contact-sync keeps about one Bird contact.
static zhub_rc_t
s_erase_person (zhub_txn_t *txn, const s_commit_t *commit, const contact_state_t *state,
                size_t person, size_t *removed)
{
    const contact_sync_t *self = commit->self;
    const char *bird = state->bird_id;
    if (s_del (txn, self->contacts, bird, removed)
        || zhub_txn_delete_where (txn, self->hubspot_ids, s_names_bird, (void *)bird, removed)
        || contact_sync_pending_del (txn, self, bird, removed)
        || s_del (txn, self->links, bird, removed))
        return ZHUB_ERROR;
    return s_tombstone_audit (txn, self, bird, commit->erase->request, person, removed);
}

static zhub_rc_t
s_commit_fn (zhub_txn_t *txn, void *arg)
{
    s_commit_t *commit = arg;
    const s_find_t *find = commit->find;
    commit->removed = 0; //  the store may run this again (map grown)
    for (size_t i = 0; i < find->count; i++)
        if (s_erase_person (txn, commit, &find->states[i], i, &commit->removed) != ZHUB_OK)
            return ZHUB_ERROR;
    //  The erase's own entry: what was done, when, by which event.
    int64_t now = zhub_now_ms ();
    char stamp[40];
    zhub_time_format (now, stamp, sizeof stamp);
    json_t *entry = contact_sync_erase_entry (commit->erase, commit->msg->id, commit->removed);
    json_object_set_new (entry, "time", json_string (stamp));
    char *text = json_dumps (entry, JSON_COMPACT | JSON_SORT_KEYS);
    char *key = zhub_sprintf ("erased:%s|%016llx|%s|erase", commit->erase->request,
                              (unsigned long long)now, commit->msg->id ? commit->msg->id : "");
    zhub_rc_t rc = zhub_txn_put (txn, commit->self->audit, key, strlen (key), text, strlen (text));
    free (key);
    free (text);
    json_decref (entry);
    if (rc != ZHUB_OK)
        return ZHUB_ERROR;
    //  Every replica searched its own store: each publishes its own forget.
    const char *replica = commit->ctx->config ? commit->ctx->config->instance : NULL;
    zhub_msg_t *forget =
        contact_sync_forget_msg (commit->msg, commit->erase, replica, commit->forget_data, now);
    zhub_msg_t *forgotten =
        zhub_forget_answer (CONTACT_ERASE_ACTOR, replica, NULL, commit->erase->request,
                            commit->removed, commit->msg->traceparent, now);
    rc = zhub_actor_outbox_put (commit->ctx, txn, forget);
    if (rc == ZHUB_OK)
        rc = zhub_actor_outbox_put (commit->ctx, txn, forgotten);
    zhub_msg_destroy (&forget);
    zhub_msg_destroy (&forgotten);
    return rc;
}

//  -------------------------------------------------------------------
//  The handler

bool
contact_sync_erase (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out)
{
    contact_sync_t *self = ctx->state;
    contact_erase_t erase;
    char reason[256] = "";
    json_t *data = zhub_msg_data_json (msg);
    zhub_rc_t rc = contact_sync_parse_erase (msg->type, data, &erase, reason, sizeof reason);
    json_decref (data);
    if (rc == ZHUB_NOTFOUND)
        return false;
    if (rc != ZHUB_OK) {
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
        return true;
    }
    s_find_t *find = zhub_calloc (1, sizeof *find);
    find->self = self;
    find->erase = &erase;
    if (zhub_store_read (ctx->store, s_find_fn, find) != ZHUB_OK)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the contact states");
    else if (!erase.upstream || s_upstream (ctx, msg, find, out)) {
        json_t *forget_data = contact_sync_forget_data (&erase, find->states, find->count);
        s_commit_t commit = {.ctx = ctx,
                             .self = self,
                             .erase = &erase,
                             .find = find,
                             .msg = msg,
                             .forget_data = forget_data};
        if (zhub_store_write (ctx->store, s_commit_fn, &commit) == ZHUB_OK) {
            zhub_actor_compact_after (ctx);
            self->queued = -1; //  queued HubSpot writes may be gone: count again
            zhub_outcome_ok (out, find->count ? "erased" : "erased_nobody");
            //  No identifier in the log: the request id names the erase.
            snprintf (out->reason, sizeof out->reason,
                      "request=%s contacts=%zu removed=%zu upstream=%s", erase.request, find->count,
                      commit.removed, erase.upstream ? "yes" : "no");
        } else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot commit the erase");
        json_decref (forget_data);
    }
    s_find_clear (find);
    free (find);
    contact_erase_clear (&erase);
    return true;
}
