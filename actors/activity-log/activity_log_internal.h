//  activity-log's I/O side, internal: what activity_log_io.c and
//  activity_log_transcript.c share (the commit record, the id map, the
//  conversation cache, the HubSpot call). Private to those two files; the
//  actor's API is activity_log_io.h. The `alog_` prefix keeps these apart
//  from that API and from other libraries linked into the same binary.
#ifndef ACTIVITY_LOG_INTERNAL_H
#define ACTIVITY_LOG_INTERNAL_H

#include "activity_log_io.h"

//  -------------------------------------------------------------------
//  activity_log_io.c: store helpers and the HubSpot call

//  What one commit writes: up to two puts and the outbox messages.
typedef struct {
    zhub_actor_ctx_t *ctx;
    zhub_table_t table[2];
    const char *key[2];
    char *value[2];
    size_t puts;
    zhub_msg_t *publish[2];
    size_t publishes;
} alog_commit_t;

//  Adds a put of value (which the commit takes over) under key (which must
//  outlive the commit) to table.
void alog_commit_put (alog_commit_t *commit, zhub_table_t table, const char *key, char *value);

//  Commits and releases what the commit holds. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t alog_commit (zhub_store_t *store, alog_commit_t *commit);

//  A Bird contact's HubSpot ids, from the id map (either may be NULL).
typedef struct {
    char *contact_id;
    char *deal_id;
} alog_ids_t;

//  Frees the ids and sets them to NULL.
void alog_ids_clear (alog_ids_t *ids);

//  Reads bird_id's entry of the id map into *ids (the caller clears them).
//  ZHUB_OK, ZHUB_NOTFOUND or ZHUB_ERROR.
zhub_rc_t alog_ids_load (zhub_store_t *store, activity_log_t *self, const char *bird_id,
                         alog_ids_t *ids);

//  Reads the cached conversation id into *conv (the caller clears it).
//  ZHUB_OK, ZHUB_NOTFOUND, or ZHUB_ERROR when unreadable.
zhub_rc_t alog_conv_load (zhub_store_t *store, activity_log_t *self, const char *id,
                          activity_conv_t *conv);

//  Adds to commit the `made` entry of an engagement about bird_id (none
//  when the event names nobody). Returns the key, which must outlive the
//  commit (free it after).
char *alog_made_put (alog_commit_t *commit, activity_log_t *self, const char *bird_id,
                     activity_kind_t kind, const char *id);

//  What one HubSpot call made for msg answered (what names the call in
//  logs and reasons): true on 2xx; otherwise false with *out the one
//  classification (callers that take a 404 as an answer check
//  resp->status and overwrite *out).
bool alog_answered (const zhub_msg_t *msg, const char *what, zhub_http_response_t *resp,
                    zhub_outcome_t *out);

//  -------------------------------------------------------------------
//  activity_log_transcript.c: the transcript note

//  conversation.message (contact known, ids resolved): appends the message
//  to the conversation cache and writes the note now, or defers it behind
//  an activity.transcript.flush timer. Sets *out.
void alog_transcript_message (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                              const activity_event_t *ev, const alog_ids_t *ids,
                              zhub_outcome_t *out);

//  activity.transcript.flush: writes the note when due; NACKs with the
//  remaining delay while it is not. Sets *out.
void alog_transcript_flush (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                            const activity_event_t *ev, zhub_outcome_t *out);

#endif
