//  activity-log's I/O side, internal: what activity_log_io.c and
//  activity_log_transcript.c share. Private to those two files; the
//  actor's API is activity_log_io.h, its state activity_log_store.h. The
//  `alog_` prefix keeps these apart from that API and from other libraries
//  linked into the same binary.
#ifndef ACTIVITY_LOG_INTERNAL_H
#define ACTIVITY_LOG_INTERNAL_H

#include "activity_log_io.h"

//  -------------------------------------------------------------------
//  activity_log_io.c: the HubSpot answer, the announcement

//  activity.logged for an engagement made for msg (activity_logged_msg),
//  or NULL, logged, when the catalogue refuses it: the caller records the
//  engagement without it.
zhub_msg_t *alog_logged_msg (const zhub_msg_t *msg, const activity_event_t *ev,
                             activity_kind_t kind, const char *hubspot_id, int64_t now_ms);

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
                              const activity_event_t *ev, const activity_log_ids_t *ids,
                              zhub_outcome_t *out);

//  activity.transcript.flush, delivered when its timer is due: writes the
//  note (or, when a write since made it early, leaves the rest to the
//  timer armed for it, arming one if none is). Never NACKs: the broker
//  held the message until due. Sets *out.
void alog_transcript_flush (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                            const activity_event_t *ev, zhub_outcome_t *out);

#endif
