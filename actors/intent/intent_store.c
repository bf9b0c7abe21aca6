//  The intent router's tables (see intent_store.h).
#include "intent_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
intent_tables_open (zhub_store_t *store, intent_tables_t *tables)
{
    return zhub_store_table (store, "decisions", &tables->decisions)
                   || zhub_store_table (store, "seen", &tables->seen)
               ? -1
               : 0;
}

zhub_rc_t
intent_decision_get (const intent_tables_t *tables, zhub_txn_t *txn, const char *message,
                     intent_verdict_t *verdict, char *decided_by, size_t decided_by_size)
{
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, tables->decisions, message, strlen (message), &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    json_t *record = json_loadb (value, size, 0, NULL);
    memset (verdict, 0, sizeof *verdict);
    int kind = intent_from_name (json_string_value (json_object_get (record, "intent")));
    verdict->intent = kind < 0 ? INTENT_OTHER : kind;
    verdict->confidence = json_number_value (json_object_get (record, "confidence"));
    const char *language = json_string_value (json_object_get (record, "language"));
    snprintf (verdict->language, sizeof verdict->language, "%s", language ? language : "");
    const char *by = json_string_value (json_object_get (record, "decided_by"));
    snprintf (decided_by, decided_by_size, "%s", by ? by : "rules");
    json_decref (record);
    return ZHUB_OK;
}

zhub_rc_t
intent_decision_put (const intent_tables_t *tables, zhub_txn_t *txn, const char *message,
                     const char *contact, const intent_verdict_t *verdict, const char *decided_by,
                     const char *ai_error, int64_t at_ms)
{
    json_t *record =
        json_pack ("{s:s, s:s, s:f, s:s, s:s, s:I}", "contact", contact, "intent",
                   intent_name (verdict->intent), "confidence", verdict->confidence, "language",
                   verdict->language, "decided_by", decided_by, "at", (json_int_t)at_ms);
    if (ai_error)
        json_object_set_new (record, "ai_error", json_string (ai_error));
    char *text = json_dumps (record, JSON_COMPACT);
    json_decref (record);
    zhub_rc_t rc =
        zhub_txn_put (txn, tables->decisions, message, strlen (message), text, strlen (text));
    free (text);
    return rc;
}

//  contact NUL workflow.
static char *
s_seen_key (const char *contact, const char *workflow, size_t *size)
{
    size_t a = strlen (contact), b = strlen (workflow);
    char *key = zhub_malloc (a + b + 1);
    memcpy (key, contact, a);
    key[a] = 0;
    memcpy (key + a + 1, workflow, b);
    *size = a + 1 + b;
    return key;
}

zhub_rc_t
intent_seen_get (const intent_tables_t *tables, zhub_txn_t *txn, const char *contact,
                 const char *workflow, int64_t *at_ms)
{
    size_t key_size;
    char *key = s_seen_key (contact, workflow, &key_size);
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, tables->seen, key, key_size, &value, &size);
    free (key);
    if (rc == ZHUB_OK && size != 8)
        return ZHUB_ERROR;
    if (rc == ZHUB_OK)
        *at_ms = (int64_t)zhub_store_u64 (value);
    return rc;
}

zhub_rc_t
intent_seen_put (const intent_tables_t *tables, zhub_txn_t *txn, const char *contact,
                 const char *workflow, int64_t at_ms)
{
    int64_t known;
    zhub_rc_t rc = intent_seen_get (tables, txn, contact, workflow, &known);
    if (rc == ZHUB_ERROR)
        return rc;
    if (rc == ZHUB_OK && known >= at_ms)
        return ZHUB_OK;
    size_t key_size;
    char *key = s_seen_key (contact, workflow, &key_size);
    uint8_t value[8];
    zhub_store_key_u64 (value, (uint64_t)at_ms);
    rc = zhub_txn_put (txn, tables->seen, key, key_size, value, sizeof value);
    free (key);
    return rc;
}

typedef struct {
    int64_t before_ms;
    const zhub_forget_t *forget;
} s_drop_t;

static bool
s_drop_decision (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)key;
    (void)key_size;
    s_drop_t *drop = arg;
    json_t *record = json_loadb (value, value_size, 0, NULL);
    bool gone = !json_is_object (record);
    if (!gone && drop->forget)
        gone =
            zhub_forget_is (drop->forget, json_string_value (json_object_get (record, "contact")));
    else if (!gone) {
        const json_t *at = json_object_get (record, "at");
        gone = !json_is_integer (at) || json_integer_value (at) < drop->before_ms;
    }
    json_decref (record);
    return gone;
}

static bool
s_drop_seen (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_drop_t *drop = arg;
    if (value_size != 8)
        return true;
    if (!drop->forget)
        return (int64_t)zhub_store_u64 (value) < drop->before_ms;
    const char *end = memchr (key, 0, key_size);
    size_t size = end ? (size_t)(end - (const char *)key) : key_size;
    char *contact = zhub_malloc (size + 1);
    memcpy (contact, key, size);
    contact[size] = 0;
    bool gone = zhub_forget_is (drop->forget, contact);
    free (contact);
    return gone;
}

static zhub_rc_t
s_sweep (const intent_tables_t *tables, zhub_txn_t *txn, s_drop_t *drop, size_t *removed)
{
    if (zhub_txn_delete_where (txn, tables->decisions, s_drop_decision, drop, removed) != ZHUB_OK)
        return ZHUB_ERROR;
    return zhub_txn_delete_where (txn, tables->seen, s_drop_seen, drop, removed);
}

zhub_rc_t
intent_store_sweep (const intent_tables_t *tables, zhub_txn_t *txn, int64_t before_ms,
                    size_t *removed)
{
    s_drop_t drop = {.before_ms = before_ms};
    return s_sweep (tables, txn, &drop, removed);
}

zhub_rc_t
intent_store_forget (const intent_tables_t *tables, zhub_txn_t *txn, const zhub_forget_t *forget,
                     size_t *removed)
{
    s_drop_t drop = {.forget = forget};
    return s_sweep (tables, txn, &drop, removed);
}
