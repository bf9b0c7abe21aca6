//  The deal record codec (deal_sync_state.h).
#include "deal_sync_state.h"

#include <stdlib.h>
#include <string.h>

void
deal_state_clear (deal_state_t *state)
{
    free (state->deal_id);
    free (state->contact_id);
    free (state->bird_id);
    free (state->stage);
    memset (state, 0, sizeof *state);
}

char *
deal_state_encode (const deal_state_t *state)
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

const char *
deal_json_str (const json_t *obj, const char *key)
{
    return json_is_object (obj) ? json_string_value (json_object_get (obj, key)) : NULL;
}

int
deal_state_decode (const void *text, size_t size, deal_state_t *state)
{
    memset (state, 0, sizeof *state);
    json_t *root = json_loadb (text, size, 0, NULL);
    if (!json_is_object (root)) {
        json_decref (root);
        return -1;
    }
    state->deal_id = zhub_strdup (deal_json_str (root, "deal_id"));
    state->contact_id = zhub_strdup (deal_json_str (root, "hubspot_contact_id"));
    state->bird_id = zhub_strdup (deal_json_str (root, "bird_id"));
    state->stage = zhub_strdup (deal_json_str (root, "stage"));
    json_t *ms = json_object_get (root, "stage_ms");
    state->stage_ms = json_is_integer (ms) ? json_integer_value (ms) : 0;
    state->associated = json_is_true (json_object_get (root, "associated"));
    json_decref (root);
    return 0;
}

char *
deal_dup_value (const void *value, size_t size)
{
    char *text = zhub_malloc (size + 1);
    memcpy (text, value, size);
    text[size] = 0;
    return text;
}
