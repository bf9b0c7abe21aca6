//  The erase steps (see broker_erase_step.h): wait for the groups, redact
//  a chunk, finish with contact.erased and a compaction.
#include "broker_erase_step.h"

#include "broker_erase.h"
#include "broker_erasures.h"
#include "zhub_id.h"
#include "zhub_log.h"

#include <stdlib.h>
#include <string.h>

//  Every group whose patterns match contact.forget is past it, and so is
//  every group that takes contact.erase (each contact-sync replica): the
//  request came before the forget, so a replica past the forget has handled
//  it and published its own forget, which gets its own erase step.
static bool
s_forget_done (broker_server_t *self, uint64_t offset)
{
    for (size_t g = 0; g < self->groups->count; g++) {
        broker_group_t *group = self->groups->list[g];
        if (offset >= group->floor
            && (broker_group_matches (group, BROKER_ERASE_TOPIC)
                || broker_group_matches (group, BROKER_ERASE_REQUEST_TOPIC)))
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
    //  Another forget (each contact-sync replica sends its own) or erase
    //  request that some group has still to read stays whole: redacted, it
    //  would be acked untouched and what it names would stay in that
    //  group's store. Its own erase step, or a later one, redacts it.
    if ((!strcmp (record.topic, BROKER_ERASE_TOPIC)
         || !strcmp (record.topic, BROKER_ERASE_REQUEST_TOPIC))
        && !s_forget_done (self, offset))
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

//  contact.erased: what the operator's `zhub erase` waits for. One per
//  forget: each contact-sync replica publishes its own (named by its
//  replica), so the id and data name that replica too.
static zhub_rc_t
s_publish_erased (broker_server_t *self, zhub_txn_t *txn, const zhub_forget_t *who,
                  uint64_t redacted)
{
    const char *request = who->request;
    zhub_msg_t *msg = zhub_msg_new ();
    char *text =
        zhub_sprintf ("%s%s%s", request, who->replica ? "~" : "", who->replica ? who->replica : "");
    char *id = zhub_id_bounded ("erased:", text);
    free (text);
    char *subject = zhub_sprintf ("erase:%s", request);
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->subject, subject);
    zhub_msg_set (&msg->source, "zhub/broker");
    zhub_msg_set (&msg->type, BROKER_ERASED_TOPIC);
    msg->time_ms = self->now;
    json_t *data = json_pack ("{s:s, s:I}", "request", request, "redacted", (json_int_t)redacted);
    if (who->replica)
        json_object_set_new (data, "replica", json_string (who->replica));
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
broker_erase_step (broker_server_t *self, zhub_txn_t *txn)
{
    broker_erasure_t erasure;
    zhub_rc_t rc = broker_erasures_oldest (txn, self->erasures, &erasure);
    if (rc == ZHUB_NOTFOUND) {
        self->erase_pending = false;
        return ZHUB_OK;
    }
    if (rc == ZHUB_REJECT) {
        //  unreadable: nothing can be done with it
        broker_erasure_clear (&erasure);
        return broker_erasures_remove (txn, self->erasures, erasure.forget);
    }
    //  the oldest request first; a later one waits for it
    if (rc != ZHUB_OK || !s_forget_done (self, erasure.forget)) {
        broker_erasure_clear (&erasure);
        return rc;
    }
    uint64_t end = self->log->last, next = erasure.next;
    uint64_t stop = next + BROKER_ERASE_CHUNK - 1 < end ? next + BROKER_ERASE_CHUNK - 1 : end;
    if (next < self->log->first)
        next = self->log->first;
    for (uint64_t offset = next; offset <= stop && rc == ZHUB_OK; offset++)
        rc = s_redact (self, txn, offset, &erasure.who, &erasure.redacted);
    if (rc == ZHUB_OK && stop >= end) {
        //  messages held for later delivery are retained too
        rc = broker_delayed_redact (&self->delayed, txn, &erasure.who, &erasure.redacted);
        if (rc == ZHUB_OK)
            rc = broker_erasures_remove (txn, self->erasures, erasure.forget);
        if (rc == ZHUB_OK)
            rc = s_publish_erased (self, txn, &erasure.who, erasure.redacted);
        self->erase_compact = true;
        self->erase_redacted = erasure.redacted;
    } else if (rc == ZHUB_OK) {
        //  the new position, the person unchanged
        erasure.next = stop + 1;
        rc = broker_erasures_update (txn, self->erasures, &erasure);
    }
    broker_erasure_clear (&erasure);
    return rc;
}

void
broker_erase_after_commit (broker_server_t *self)
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
        zhub_error ("erase_compact_failed", "reason=%s", zhub_log_quote (err, (char[80]){0}, 80));
        return;
    }
    zhub_store_stats (self->store, &after);
    zhub_info ("erased", "redacted=%llu used_before=%zu used_after=%zu",
               (unsigned long long)self->erase_redacted, before.used_bytes, after.used_bytes);
}
