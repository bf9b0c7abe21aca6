//  contact-sync core: the state we keep per contact (ids, what each side
//  holds, field versions) and its JSON encoding in the store. Decoding
//  type-checks every field, since a stored record may come from an older
//  version.
#include "contact_sync_internal.h"

//  -------------------------------------------------------------------
//  State

void
contact_state_clear (contact_state_t *state)
{
    if (!state)
        return;
    free (state->bird_id);
    free (state->hubspot_id);
    free (state->hubspot.firstname);
    free (state->hubspot.lastname);
    free (state->hubspot.phone);
    free (state->hubspot.email);
    free (state->bird.display_name);
    free (state->bird.phone);
    free (state->bird.email);
    json_decref (state->versions);
    json_decref (state->fields);
    free (state->unlinked);
    memset (state, 0, sizeof *state);
}

void
contact_state_copy (contact_state_t *dst, const contact_state_t *src)
{
    contact_state_clear (dst);
    dst->bird_id = zhub_strdup (src->bird_id);
    dst->hubspot_id = zhub_strdup (src->hubspot_id);
    dst->hubspot.firstname = zhub_strdup (src->hubspot.firstname);
    dst->hubspot.lastname = zhub_strdup (src->hubspot.lastname);
    dst->hubspot.phone = zhub_strdup (src->hubspot.phone);
    dst->hubspot.email = zhub_strdup (src->hubspot.email);
    dst->bird.display_name = zhub_strdup (src->bird.display_name);
    dst->bird.phone = zhub_strdup (src->bird.phone);
    dst->bird.email = zhub_strdup (src->bird.email);
    dst->updated_ms = src->updated_ms;
    dst->versions = src->versions ? json_deep_copy (src->versions) : NULL;
    dst->fields = src->fields ? json_deep_copy (src->fields) : NULL;
    dst->unlinked = zhub_strdup (src->unlinked);
}

char *
contact_state_encode (const contact_state_t *state)
{
    json_t *root = json_object ();
    json_object_set_new (root, "v", json_integer (1));
    contact_sync_put (root, "bird_id", state->bird_id);
    contact_sync_put (root, "hubspot_id", state->hubspot_id);
    json_t *hubspot = json_object ();
    contact_sync_put (hubspot, "firstname", state->hubspot.firstname);
    contact_sync_put (hubspot, "lastname", state->hubspot.lastname);
    contact_sync_put (hubspot, "phone", state->hubspot.phone);
    contact_sync_put (hubspot, "email", state->hubspot.email);
    json_object_set_new (root, "hubspot", hubspot);
    json_t *bird = json_object ();
    contact_sync_put (bird, "displayName", state->bird.display_name);
    contact_sync_put (bird, "phone", state->bird.phone);
    contact_sync_put (bird, "email", state->bird.email);
    json_object_set_new (root, "bird", bird);
    json_object_set_new (root, "updated_ms", json_integer (state->updated_ms));
    if (state->versions)
        json_object_set (root, "versions", state->versions);
    if (state->fields)
        json_object_set (root, "fields", state->fields);
    contact_sync_put (root, "unlinked", state->unlinked);
    char *text = json_dumps (root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (root);
    return text;
}

int
contact_state_decode (const char *text, size_t size, contact_state_t *state)
{
    memset (state, 0, sizeof *state);
    json_t *root = json_loadb (text, size, 0, NULL);
    if (!json_is_object (root) || !contact_sync_json_str (root, "bird_id")) {
        json_decref (root);
        return -1;
    }
    state->bird_id = contact_sync_json_strdup (root, "bird_id");
    state->hubspot_id = contact_sync_json_strdup (root, "hubspot_id");
    json_t *hubspot = json_object_get (root, "hubspot");
    state->hubspot.firstname = contact_sync_json_strdup (hubspot, "firstname");
    state->hubspot.lastname = contact_sync_json_strdup (hubspot, "lastname");
    state->hubspot.phone = contact_sync_json_strdup (hubspot, "phone");
    state->hubspot.email = contact_sync_json_strdup (hubspot, "email");
    json_t *bird = json_object_get (root, "bird");
    state->bird.display_name = contact_sync_json_strdup (bird, "displayName");
    state->bird.phone = contact_sync_json_strdup (bird, "phone");
    state->bird.email = contact_sync_json_strdup (bird, "email");
    json_t *updated = json_object_get (root, "updated_ms");
    state->updated_ms = json_is_integer (updated) ? json_integer_value (updated) : 0;
    json_t *versions = json_object_get (root, "versions");
    if (json_is_object (versions))
        state->versions = json_incref (versions);
    json_t *fields = json_object_get (root, "fields");
    if (json_is_object (fields))
        state->fields = json_incref (fields);
    state->unlinked = contact_sync_json_strdup (root, "unlinked");
    json_decref (root);
    return 0;
}

//  -------------------------------------------------------------------
//  A write HubSpot refused

//  Both sides' knowledge of one field, when HubSpot's is the refused
//  value (a newer value stays).
static void
s_withdraw_pair (char **hubspot, char **bird, const char *refused)
{
    if (!*hubspot || strcmp (*hubspot, refused))
        return;
    free (*hubspot);
    *hubspot = NULL;
    if (*bird && !strcmp (*bird, refused)) {
        free (*bird);
        *bird = NULL;
    }
}

void
contact_sync_withdraw (contact_state_t *state, const json_t *properties)
{
    const char *name;
    json_t *value;
    json_object_foreach ((json_t *)properties, name, value)
    {
        const char *text = json_string_value (value);
        if (!text || !strcmp (name, "bird_contact_id"))
            continue;
        if (!strcmp (name, "firstname") || !strcmp (name, "lastname")) {
            char **held =
                !strcmp (name, "firstname") ? &state->hubspot.firstname : &state->hubspot.lastname;
            if (*held && !strcmp (*held, text)) {
                free (*held);
                *held = NULL;
                //  Bird holds the name as one field
                free (state->bird.display_name);
                state->bird.display_name = NULL;
            }
        } else if (!strcmp (name, "phone"))
            s_withdraw_pair (&state->hubspot.phone, &state->bird.phone, text);
        else if (!strcmp (name, "email"))
            s_withdraw_pair (&state->hubspot.email, &state->bird.email, text);
        else if (state->fields) {
            json_t *entry = json_object_get (state->fields, name);
            const char *held = contact_sync_json_str (entry, "hubspot");
            if (held && !strcmp (held, text)) {
                if (contact_sync_same (contact_sync_json_str (entry, "bird"), text))
                    json_object_del (entry, "bird");
                json_object_del (entry, "hubspot");
            }
        }
    }
}
