//  The conversation bridge's tables (see conversation_store.h): one JSON
//  record per contact and per published message, keyed by text.
#include "conversation_store.h"

#include <stdlib.h>
#include <string.h>

#define S_VERSION 1

int
conversation_tables_open (zhub_store_t *store, conversation_tables_t *tables)
{
    return zhub_store_table (store, "contacts", &tables->contacts)
                   || zhub_store_table (store, "messages", &tables->messages)
               ? -1
               : 0;
}

static void
s_put (json_t *object, const char *key, const char *value)
{
    if (value)
        json_object_set_new (object, key, json_string (value));
}

static char *
s_get (const json_t *object, const char *key)
{
    const char *value = json_string_value (json_object_get (object, key));
    return value ? zhub_strdup (value) : NULL;
}

static int64_t
s_int (const json_t *object, const char *key)
{
    const json_t *value = json_object_get (object, key);
    return json_is_integer (value) ? json_integer_value (value) : 0;
}

char *
conversation_state_encode (const conv_state_t *state)
{
    json_t *record = json_object ();
    json_object_set_new (record, "v", json_integer (S_VERSION));
    s_put (record, "conversation_id", state->conversation_id);
    s_put (record, "bird_conversation_id", state->bird_conversation_id);
    s_put (record, "channel", state->channel);
    s_put (record, "holder", state->holder);
    s_put (record, "phone", state->phone);
    json_object_set_new (record, "open", json_boolean (state->open));
    json_object_set_new (record, "started_ms", json_integer (state->started_ms));
    json_object_set_new (record, "last_ms", json_integer (state->last_ms));
    json_object_set_new (record, "last_in_ms", json_integer (state->last_in_ms));
    char *text = json_dumps (record, JSON_COMPACT);
    json_decref (record);
    return text;
}

int
conversation_state_decode (const void *text, size_t size, conv_state_t *state)
{
    memset (state, 0, sizeof *state);
    json_t *record = json_loadb (text, size, 0, NULL);
    if (!json_is_object (record)) {
        json_decref (record);
        return -1;
    }
    state->conversation_id = s_get (record, "conversation_id");
    state->bird_conversation_id = s_get (record, "bird_conversation_id");
    state->channel = s_get (record, "channel");
    state->holder = s_get (record, "holder");
    state->phone = s_get (record, "phone");
    state->open = json_is_true (json_object_get (record, "open"));
    state->started_ms = s_int (record, "started_ms");
    state->last_ms = s_int (record, "last_ms");
    state->last_in_ms = s_int (record, "last_in_ms");
    json_decref (record);
    return 0;
}

zhub_rc_t
conversation_state_get (const conversation_tables_t *tables, zhub_txn_t *txn, const char *contact,
                        conv_state_t *state)
{
    memset (state, 0, sizeof *state);
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, tables->contacts, contact, strlen (contact), &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    return conversation_state_decode (value, size, state) ? ZHUB_ERROR : ZHUB_OK;
}

zhub_rc_t
conversation_state_put (const conversation_tables_t *tables, zhub_txn_t *txn, const char *contact,
                        const conv_state_t *state)
{
    char *text = conversation_state_encode (state);
    zhub_rc_t rc =
        zhub_txn_put (txn, tables->contacts, contact, strlen (contact), text, strlen (text));
    free (text);
    return rc;
}

zhub_rc_t
conversation_message_seen (const conversation_tables_t *tables, zhub_txn_t *txn, const char *key)
{
    const void *value;
    size_t size;
    return zhub_txn_get (txn, tables->messages, key, strlen (key), &value, &size);
}

zhub_rc_t
conversation_message_put (const conversation_tables_t *tables, zhub_txn_t *txn, const char *key,
                          const char *contact, int64_t at_ms)
{
    json_t *record = json_pack ("{s:s, s:I}", "contact", contact, "at", (json_int_t)at_ms);
    char *text = json_dumps (record, JSON_COMPACT);
    json_decref (record);
    zhub_rc_t rc = zhub_txn_put (txn, tables->messages, key, strlen (key), text, strlen (text));
    free (text);
    return rc;
}

//  -------------------------------------------------------------------
//  Sweeps

typedef struct {
    int64_t before_ms;           //  retention: older goes
    const zhub_forget_t *forget; //  erase: the person's goes
} s_drop_t;

static bool
s_drop_contact (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_drop_t *drop = arg;
    conv_state_t state;
    if (conversation_state_decode (value, value_size, &state))
        return drop->forget != NULL; //  an unreadable record is not kept through an erase
    bool gone;
    if (drop->forget) {
        char *id = zhub_malloc (key_size + 1);
        memcpy (id, key, key_size);
        id[key_size] = 0;
        gone = zhub_forget_is (drop->forget, id) || zhub_forget_is (drop->forget, state.phone);
        free (id);
    } else
        gone = state.last_ms < drop->before_ms;
    conv_state_clear (&state);
    return gone;
}

static bool
s_drop_message (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)key;
    (void)key_size;
    s_drop_t *drop = arg;
    json_t *record = json_loadb (value, value_size, 0, NULL);
    bool gone;
    if (!json_is_object (record))
        gone = true;
    else if (drop->forget)
        gone =
            zhub_forget_is (drop->forget, json_string_value (json_object_get (record, "contact")));
    else
        gone = s_int (record, "at") < drop->before_ms;
    json_decref (record);
    return gone;
}

static zhub_rc_t
s_sweep (const conversation_tables_t *tables, zhub_txn_t *txn, s_drop_t *drop, size_t *removed)
{
    if (zhub_txn_delete_where (txn, tables->contacts, s_drop_contact, drop, removed) != ZHUB_OK)
        return ZHUB_ERROR;
    return zhub_txn_delete_where (txn, tables->messages, s_drop_message, drop, removed);
}

zhub_rc_t
conversation_store_sweep (const conversation_tables_t *tables, zhub_txn_t *txn, int64_t before_ms,
                          size_t *removed)
{
    s_drop_t drop = {.before_ms = before_ms};
    return s_sweep (tables, txn, &drop, removed);
}

zhub_rc_t
conversation_store_forget (const conversation_tables_t *tables, zhub_txn_t *txn,
                           const zhub_forget_t *forget, size_t *removed)
{
    s_drop_t drop = {.forget = forget};
    return s_sweep (tables, txn, &drop, removed);
}
