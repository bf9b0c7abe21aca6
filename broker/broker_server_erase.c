//  GDPR erase in the broker (what matches is zhub_forget.h's). A
//  `contact.forget` is noted in the erasures table when stored; once every
//  group subscribed to it is past it, the sweep walks the retained log in
//  chunks, redacts what mentions the person and clears the failure reasons
//  kept for those records; at the end it publishes `contact.erased` and the
//  store is compacted, so the old bytes are gone from the file too.
//    erasures  be64 offset of the contact.forget -> be64 next offset to
//              scan + be64 records redacted so far + the person
//              (zhub_forget_encode: contact.forget data)
#include "broker_erase.h"
#include "broker_server_internal.h"

#include <stdlib.h>
#include <string.h>

#define S_ERASE_CHUNK 5000 //  records examined per sweep

zhub_rc_t
broker_server_erase_add (broker_server_t *self, zhub_txn_t *txn, uint64_t offset,
                         const zhub_msg_t *msg)
{
    zhub_forget_t who;
    char reason[128] = "contact.forget names no identifier";
    if (zhub_forget_parse (msg, &who, reason, sizeof reason) != ZHUB_OK || !who.id_count) {
        zhub_warn ("erase_ignored", "id=%s reason=\"%s\"", msg->id, reason);
        zhub_forget_clear (&who);
        return ZHUB_OK;
    }
    uint8_t *packed;
    size_t packed_size;
    zhub_forget_encode (&who, &packed, &packed_size);
    zhub_forget_clear (&who);
    uint8_t key[8], *value = zhub_malloc (16 + packed_size);
    zhub_store_key_u64 (key, offset);
    zhub_store_key_u64 (value, self->log->first ? self->log->first : 1);
    zhub_store_key_u64 (value + 8, 0);
    memcpy (value + 16, packed, packed_size);
    zhub_rc_t rc = zhub_txn_put (txn, self->erasures, key, 8, value, 16 + packed_size);
    free (value);
    free (packed);
    self->erase_pending = true;
    return rc;
}

//  Every group whose patterns match contact.forget is past it.
static bool
s_forget_done (broker_server_t *self, uint64_t offset)
{
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        if (offset >= group->floor && broker_group_matches (group, BROKER_ERASE_TOPIC))
            return false;
    }
    return true;
}

//  The failure reasons the groups keep for a redacted record may quote it.
static zhub_rc_t
s_clear_reasons (broker_server_t *self, zhub_txn_t *txn, uint64_t offset)
{
    for (size_t g = 0; g < self->groups->count; g++) {
        const char *name = self->groups->list[g]->name;
        broker_msg_state_t state = {0};
        zhub_rc_t rc = broker_state_get (&self->state, txn, name, offset, &state, true);
        if (rc == ZHUB_ERROR)
            return rc;
        if (rc == ZHUB_OK && state.history_count) {
            for (size_t i = 0; i < state.history_count; i++)
                zhub_msg_set (&state.history[i].reason, "erased");
            rc = broker_state_put (&self->state, txn, name, offset, &state,
                                   self->config.history_max);
        }
        broker_msg_state_clear (&state);
        if (rc == ZHUB_ERROR)
            return rc;
    }
    return ZHUB_OK;
}

static zhub_rc_t
s_redact (broker_server_t *self, zhub_txn_t *txn, uint64_t offset, const zhub_forget_t *who,
          uint64_t *redacted)
{
    broker_record_t record;
    zhub_rc_t rc = broker_log_read (self->log, txn, offset, &record);
    if (rc == ZHUB_NOTFOUND || rc == ZHUB_ERROR)
        return ZHUB_OK; //  trimmed, or unreadable (delivery skips it too)
    if (!zhub_forget_mentions_msgpack (who, record.msg, record.msg_size))
        return ZHUB_OK;
    uint8_t *raw;
    size_t raw_size;
    if (broker_erase_redact (record.msg, record.msg_size, who, &raw, &raw_size)) {
        zhub_warn ("erase_skipped", "offset=%llu reason=\"envelope not decodable\"",
                   (unsigned long long)offset);
        return ZHUB_OK;
    }
    const char *subject = record.subject;
    if (record.subject[0]
        && zhub_forget_mentions_text (who, record.subject, strlen (record.subject)))
        subject = "erased";
    rc = broker_log_rewrite (self->log, txn, offset, &record, subject, raw, raw_size);
    free (raw);
    if (rc == ZHUB_OK)
        rc = s_clear_reasons (self, txn, offset);
    (*redacted)++;
    return rc;
}

//  contact.erased: what the operator's `zhub erase` waits for.
static zhub_rc_t
s_publish_erased (broker_server_t *self, zhub_txn_t *txn, const zhub_forget_t *who,
                  uint64_t redacted)
{
    const char *request = who->request;
    zhub_msg_t *msg = zhub_msg_new ();
    char *id = zhub_sprintf ("erased:%s", request);
    char *subject = zhub_sprintf ("erase:%s", request);
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->subject, subject);
    zhub_msg_set (&msg->source, "zhub/broker");
    zhub_msg_set (&msg->type, BROKER_ERASED_TOPIC);
    msg->time_ms = self->now;
    json_t *data = json_pack ("{s:s, s:I}", "request", request, "redacted", (json_int_t)redacted);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    free (id);
    free (subject);
    uint8_t *raw = NULL;
    size_t raw_size;
    zhub_rc_t rc = ZHUB_ERROR;
    uint64_t offset;
    bool duplicate;
    if (!zhub_msg_encode (msg, &raw, &raw_size, NULL, 0))
        rc = broker_log_append (self->log, txn, &self->batch, msg, raw, raw_size, self->now,
                                &offset, &duplicate);
    free (raw);
    zhub_msg_destroy (&msg);
    return rc;
}

zhub_rc_t
broker_server_erase_step (broker_server_t *self, zhub_txn_t *txn)
{
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->erasures);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    //  the oldest request first; a later one waits for it
    uint64_t forget = rc == ZHUB_OK && key_size == 8 ? zhub_store_u64 (key) : 0;
    zhub_cursor_destroy (&cursor);
    if (rc == ZHUB_NOTFOUND) {
        self->erase_pending = false;
        return ZHUB_OK;
    }
    if (rc != ZHUB_OK || key_size != 8 || value_size < 16)
        return ZHUB_ERROR;
    if (!s_forget_done (self, forget))
        return ZHUB_OK;
    uint64_t next = zhub_store_u64 (value);
    uint64_t redacted = zhub_store_u64 ((const uint8_t *)value + 8);
    zhub_forget_t who;
    if (zhub_forget_parse_data ((const uint8_t *)value + 16, value_size - 16, &who, NULL, 0)
        != ZHUB_OK) {
        zhub_forget_clear (&who);
        return zhub_txn_del (txn, self->erasures, key, 8) == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
    }
    uint64_t end = self->log->last;
    uint64_t stop = next + S_ERASE_CHUNK - 1 < end ? next + S_ERASE_CHUNK - 1 : end;
    if (next < self->log->first)
        next = self->log->first;
    for (uint64_t offset = next; offset <= stop && rc == ZHUB_OK; offset++)
        rc = s_redact (self, txn, offset, &who, &redacted);
    uint8_t forget_key[8];
    zhub_store_key_u64 (forget_key, forget);
    if (rc == ZHUB_OK && stop >= end) {
        rc = zhub_txn_del (txn, self->erasures, forget_key, 8) == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
        if (rc == ZHUB_OK)
            rc = s_publish_erased (self, txn, &who, redacted);
        self->erase_compact = true;
        self->erase_redacted = redacted;
    } else if (rc == ZHUB_OK) {
        //  the new position, the person unchanged
        uint8_t *packed;
        size_t packed_size;
        zhub_forget_encode (&who, &packed, &packed_size);
        uint8_t *updated = zhub_malloc (16 + packed_size);
        zhub_store_key_u64 (updated, stop + 1);
        zhub_store_key_u64 (updated + 8, redacted);
        memcpy (updated + 16, packed, packed_size);
        rc = zhub_txn_put (txn, self->erasures, forget_key, 8, updated, 16 + packed_size);
        free (updated);
        free (packed);
    }
    zhub_forget_clear (&who);
    return rc;
}

void
broker_server_erase_after_commit (broker_server_t *self)
{
    if (!self->erase_compact)
        return;
    self->erase_compact = false;
    self->erased++;
    zhub_store_stats_t before, after;
    zhub_store_stats (self->store, &before);
    char err[300];
    if (zhub_store_compact (self->store, err, sizeof err)) {
        //  the redaction is stored; only old bytes in freed pages remain
        zhub_error ("erase_compact_failed", "reason=\"%s\"", s_text (err, (char[80]){0}, 80, true));
        return;
    }
    zhub_store_stats (self->store, &after);
    zhub_info ("erased", "redacted=%llu used_before=%zu used_after=%zu",
               (unsigned long long)self->erase_redacted, before.used_bytes, after.used_bytes);
}
