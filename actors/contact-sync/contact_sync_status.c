//  contact-sync's read side for `zhub status contact` (contact_sync_status.h):
//  find a person by any identifier, and say where they stand. Finding
//  reads one snapshot; the standing is a pure function of what it read, so
//  unit tests give it states and intents directly.
#include "contact_sync_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
contact_sync_person_status (const contact_state_t *state, const contact_intent_t *pending,
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
    } else if (pending) {
        status = "pending";
        json_t *detail = json_object ();
        s_put_time (detail, "since", pending->since);
        json_object_set_new (detail, "fields",
                             json_is_array (pending->changed) ? json_deep_copy (pending->changed)
                                                              : json_array ());
        if (pending->deferred_flushes > 0) {
            const char *why = pending->deferred_reason;
            json_object_set_new (detail, "code", json_integer (pending->deferred_code));
            json_object_set_new (detail, "flushes", json_integer (pending->deferred_flushes));
            s_put_time (detail, "last_try", pending->deferred_at);
            snprintf (reason, sizeof reason,
                      "HubSpot write deferred %lld time(s), retried by the "
                      "next flush: %s",
                      (long long)pending->deferred_flushes,
                      why && *why ? why : "a transient failure");
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
    return contact_sync_store_open_readonly (&self->store, data_dir, err, err_size);
}

void
contact_sync_reader_close (contact_sync_reader_t *self)
{
    if (self)
        contact_sync_store_close (&self->store);
}

//  One person's standing: their queued write and the link still to make.
static zhub_rc_t
s_person (const contact_sync_reader_t *self, const contact_state_t *state, json_t *persons)
{
    contact_intent_t intent;
    zhub_rc_t rc = contact_sync_store_intent (&self->store, state->bird_id, &intent);
    if (rc == ZHUB_ERROR)
        return rc;
    char *link = NULL;
    zhub_rc_t linked = contact_sync_store_link (&self->store, state->bird_id, &link);
    if (linked != ZHUB_ERROR)
        json_array_append_new (
            persons, contact_sync_person_status (state, rc == ZHUB_OK ? &intent : NULL, link));
    free (link);
    contact_intent_clear (&intent);
    return linked == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
contact_sync_reader_find (const contact_sync_reader_t *self, const char *identifier,
                          json_t *persons)
{
    if (!identifier || !*identifier || strlen (identifier) > ZHUB_MSG_MAX_ID)
        return ZHUB_OK;
    //  Whom the identifier names, as an erase would find them: a Bird id,
    //  a HubSpot id (the id map, or the audit entry of its deletion), else
    //  a phone or an e-mail matched on either side's value.
    contact_erase_t who = {0};
    who.identifier = (char *)identifier;
    contact_sync_erase_classify (identifier, false, &who);
    contact_state_t *states = zhub_calloc (CONTACT_ERASE_MAX_PERSONS, sizeof *states);
    size_t count = 0;
    zhub_rc_t rc = contact_sync_store_find (&self->store, &who, states, &count);
    for (size_t i = 0; i < count; i++) {
        if (rc == ZHUB_OK && i < CONTACT_STATUS_MAX_PERSONS)
            rc = s_person (self, &states[i], persons);
        contact_state_clear (&states[i]);
    }
    free (states);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}
