//  `zhub dlq ... --dry-run`: the inputs of the mapping preview. The mapping
//  file is read with the actors' own loader (zhub_actor_mapping_load), so
//  "the current mapping" means exactly what an actor starting now would
//  read; what contact-sync and deal-sync stored about the contact or deal
//  is read from their LMDB environments opened read-only, as `zhub dlq`
//  reads zhub-dead-letter's (docs/adr/0004): no bus, no calls upstream,
//  and the actors may be running or not.
#include "contact_sync_store.h"
#include "deal_sync_store.h"
#include "dlq_mapping.h"
#include "dlq_preview.h"
#include "zhub_actor.h"
#include "zhub_env.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_dlq_mapping_t {
    char *file; //  the mapping file, or NULL: built-in defaults
    json_t *root;
    char *error; //  why the file did not load, or NULL
    char calling_code[8];
    char *calling_code_error;
    //  contact-sync's store, its read side (opened on first use)
    bool contacts_tried;
    bool contacts_open;
    contact_sync_store_t contacts;
    //  deal-sync's store (opened on first use)
    bool deals_tried;
    zhub_store_t *deals_store;
    deal_sync_tables_t deals;
};

//  ZHUB_PHONE_DEFAULT_CALLING_CODE as contact-sync reads it at start: "52"
//  or "+52", 1 to 3 digits, no leading 0; unset = none.
static void
s_calling_code (zhub_dlq_mapping_t *self)
{
    const char *value = zhub_env_str ("ZHUB_PHONE_DEFAULT_CALLING_CODE", "");
    if (*value == '+')
        value++;
    size_t n = strlen (value);
    bool ok = n <= 3;
    for (size_t i = 0; ok && i < n; i++)
        ok = isdigit ((unsigned char)value[i]) && !(i == 0 && value[i] == '0');
    if (ok)
        memcpy (self->calling_code, value, n + 1);
    else
        self->calling_code_error =
            zhub_strdup ("ZHUB_PHONE_DEFAULT_CALLING_CODE must be 1 to 3 digits, e.g. 52");
}

zhub_dlq_mapping_t *
zhub_dlq_mapping_new (const char *file)
{
    zhub_dlq_mapping_t *self = zhub_calloc (1, sizeof *self);
    //  One loader: the actors' reads $ZHUB_MAPPING_FILE, so --mapping sets
    //  it for this process.
    if (file)
        setenv ("ZHUB_MAPPING_FILE", file, 1);
    const char *path = zhub_env_str ("ZHUB_MAPPING_FILE", "");
    self->file = *path ? zhub_strdup (path) : NULL;
    char err[512] = "";
    self->root = zhub_actor_mapping_load (err, sizeof err);
    if (!self->root)
        self->error = zhub_strdup (err);
    s_calling_code (self);
    return self;
}

void
zhub_dlq_mapping_destroy (zhub_dlq_mapping_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_dlq_mapping_t *self = *self_p;
    free (self->file);
    json_decref (self->root);
    free (self->error);
    free (self->calling_code_error);
    contact_sync_store_close (&self->contacts);
    zhub_store_destroy (&self->deals_store);
    free (self);
    *self_p = NULL;
}

static zhub_rc_t
s_contact (void *arg, const char *bird_id, const char *hubspot_id, contact_state_t *state)
{
    zhub_dlq_mapping_t *self = arg;
    if (!self->contacts_tried) {
        self->contacts_tried = true;
        const char *data_dir = zhub_env_str ("ZHUB_DATA_DIR", "./.zhub-data");
        char err[256];
        zhub_rc_t rc =
            contact_sync_store_open_readonly (&self->contacts, data_dir, err, sizeof err);
        if (rc == ZHUB_ERROR)
            return ZHUB_ERROR;
        self->contacts_open = rc == ZHUB_OK;
    }
    if (!self->contacts_open)
        return ZHUB_NOTFOUND;
    //  contact-sync's own readers of its state.
    return bird_id ? contact_sync_store_load_bird (&self->contacts, bird_id, state)
                   : contact_sync_store_load_hubspot (&self->contacts, hubspot_id, state);
}

//  deal-sync's record of the deal under key, read through deal-sync's
//  store (deal_sync_store.h).
static zhub_rc_t
s_deal (void *arg, const char *key, deal_current_t *deal)
{
    zhub_dlq_mapping_t *self = arg;
    if (!self->deals_tried) {
        self->deals_tried = true;
        const char *data_dir = zhub_env_str ("ZHUB_DATA_DIR", "./.zhub-data");
        char err[256];
        if (deal_sync_store_open_readonly (data_dir, &self->deals_store, &self->deals, err,
                                           sizeof err)
            == ZHUB_ERROR)
            return ZHUB_ERROR;
    }
    //  LMDB keys hold at most 511 bytes: a longer key was never stored
    if (!self->deals_store || !*key || strlen (key) > 511)
        return ZHUB_NOTFOUND;
    deal_state_t state;
    zhub_rc_t rc = deal_sync_store_deal (self->deals_store, &self->deals, key, &state);
    if (rc == ZHUB_OK) {
        deal->id = state.deal_id;
        deal->stage = state.stage;
        state.deal_id = state.stage = NULL;
    }
    deal_state_clear (&state);
    return rc == ZHUB_REJECT ? ZHUB_ERROR : rc;
}

json_t *
zhub_dlq_mapping_preview (zhub_dlq_mapping_t *self, const char *group, const zhub_msg_t *msg)
{
    zhub_dlq_lookup_t lookup = {.contact = s_contact, .deal = s_deal, .arg = self};
    zhub_dlq_preview_input_t input = {.mapping = self->root,
                                      .mapping_error = self->error,
                                      .calling_code =
                                          *self->calling_code ? self->calling_code : NULL,
                                      .calling_code_error = self->calling_code_error,
                                      .lookup = &lookup};
    json_t *preview = zhub_dlq_preview (group, msg, &input);
    json_object_set_new (preview, "mapping", self->file ? json_string (self->file) : json_null ());
    return preview;
}
