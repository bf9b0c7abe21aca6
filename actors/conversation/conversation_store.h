//  The conversation bridge's store: its tables, their key formats and the
//  record codec, in the actor's LMDB environment
//  ($ZHUB_DATA_DIR/conversation/). Every function runs inside a
//  transaction the caller opened (zhub_store_write / _read). Other
//  processes (the CLI) read it through this header.
//
//  Tables:
//    contacts  contact id (Bird's, or "+<wa id>") -> conv_state_t as JSON
//              {v, conversation_id, bird_conversation_id?, channel?,
//              holder?, phone?, open, started_ms, last_ms, last_in_ms}
//    messages  message key ("bird:<id>", "whatsapp:<wamid>") -> JSON
//              {contact, at}: published once; kept for the retention
#ifndef CONVERSATION_STORE_H
#define CONVERSATION_STORE_H

#include "conversation.h"
#include "zhub_forget.h"
#include "zhub_store.h"

typedef struct {
    zhub_table_t contacts, messages;
} conversation_tables_t;

//  Opens (creating on a writable store) the tables. 0 or -1.
int conversation_tables_open (zhub_store_t *store, conversation_tables_t *tables);

//  The contact's state into *state (the caller clears it). ZHUB_OK,
//  ZHUB_NOTFOUND, or ZHUB_ERROR (a record that does not decode).
zhub_rc_t conversation_state_get (const conversation_tables_t *tables, zhub_txn_t *txn,
                                  const char *contact, conv_state_t *state);

//  Writes the contact's state. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t conversation_state_put (const conversation_tables_t *tables, zhub_txn_t *txn,
                                  const char *contact, const conv_state_t *state);

//  True when the message was published before (ZHUB_OK / ZHUB_NOTFOUND).
zhub_rc_t conversation_message_seen (const conversation_tables_t *tables, zhub_txn_t *txn,
                                     const char *key);

//  Remembers the message as published, for contact, at at_ms.
zhub_rc_t conversation_message_put (const conversation_tables_t *tables, zhub_txn_t *txn,
                                    const char *key, const char *contact, int64_t at_ms);

//  Retention: deletes the contacts whose last message is older than
//  before_ms and the messages older than it; adds the count to *removed.
zhub_rc_t conversation_store_sweep (const conversation_tables_t *tables, zhub_txn_t *txn,
                                    int64_t before_ms, size_t *removed);

//  GDPR erase: deletes the contacts the forget names (by id or phone) and
//  their messages; adds the count to *removed.
zhub_rc_t conversation_store_forget (const conversation_tables_t *tables, zhub_txn_t *txn,
                                     const zhub_forget_t *forget, size_t *removed);

//  The record codec (exposed for tests).
char *conversation_state_encode (const conv_state_t *state);
int conversation_state_decode (const void *text, size_t size, conv_state_t *state);

#endif
