//  The erasures table's records (see broker_erasures.h). Kept apart from
//  the erase steps so that storing a contact.forget, which the turn does
//  for every publish, needs nothing of the steps above it.
#include "broker_erasures.h"

#include "zhub_log.h"

#include <stdlib.h>
#include <string.h>

static zhub_rc_t
s_put (zhub_txn_t *txn, zhub_table_t table, uint64_t forget, uint64_t next, uint64_t redacted,
       const zhub_forget_t *who)
{
    uint8_t *packed;
    size_t packed_size;
    zhub_forget_encode (who, &packed, &packed_size);
    uint8_t key[8], *value = zhub_malloc (16 + packed_size);
    zhub_store_key_u64 (key, forget);
    zhub_store_key_u64 (value, next);
    zhub_store_key_u64 (value + 8, redacted);
    memcpy (value + 16, packed, packed_size);
    zhub_rc_t rc = zhub_txn_put (txn, table, key, 8, value, 16 + packed_size);
    free (value);
    free (packed);
    return rc;
}

zhub_rc_t
broker_erasures_note (zhub_txn_t *txn, zhub_table_t table, uint64_t offset, uint64_t first,
                      const zhub_msg_t *msg, bool *noted)
{
    *noted = false;
    zhub_forget_t who;
    char reason[128] = "contact.forget names no identifier";
    if (zhub_forget_parse (msg, &who, reason, sizeof reason) != ZHUB_OK || !who.id_count) {
        zhub_warn ("erase_ignored", "id=%s reason=\"%s\"", msg->id, reason);
        zhub_forget_clear (&who);
        return ZHUB_OK;
    }
    zhub_rc_t rc = s_put (txn, table, offset, first, 0, &who);
    zhub_forget_clear (&who);
    *noted = rc == ZHUB_OK;
    return rc;
}

zhub_rc_t
broker_erasures_oldest (zhub_txn_t *txn, zhub_table_t table, broker_erasure_t *out)
{
    memset (out, 0, sizeof *out);
    zhub_cursor_t *cursor = zhub_cursor_open (txn, table);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    if (rc == ZHUB_OK && (key_size != 8 || value_size < 16))
        rc = ZHUB_ERROR;
    if (rc == ZHUB_OK) {
        out->forget = zhub_store_u64 (key);
        out->next = zhub_store_u64 (value);
        out->redacted = zhub_store_u64 ((const uint8_t *)value + 8);
        if (zhub_forget_parse_data ((const uint8_t *)value + 16, value_size - 16, &out->who, NULL,
                                    0)
            != ZHUB_OK)
            rc = ZHUB_REJECT;
    }
    zhub_cursor_destroy (&cursor);
    return rc;
}

zhub_rc_t
broker_erasures_update (zhub_txn_t *txn, zhub_table_t table, const broker_erasure_t *erasure)
{
    return s_put (txn, table, erasure->forget, erasure->next, erasure->redacted, &erasure->who);
}

zhub_rc_t
broker_erasures_remove (zhub_txn_t *txn, zhub_table_t table, uint64_t forget)
{
    uint8_t key[8];
    zhub_store_key_u64 (key, forget);
    return zhub_txn_del (txn, table, key, 8) == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

void
broker_erasure_clear (broker_erasure_t *erasure)
{
    zhub_forget_clear (&erasure->who);
}
