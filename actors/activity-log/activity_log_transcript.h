//  activity-log's transcript note, for the handler of conversation.message
//  (activity_log_io.c, above this file). The timer's own handler,
//  activity_log_handle_flush, is declared with the other routes'
//  (activity_log_actor.h).
#ifndef ACTIVITY_LOG_TRANSCRIPT_H
#define ACTIVITY_LOG_TRANSCRIPT_H

#include "activity_log_actor.h"

//  conversation.message, its contact known (ids resolved): appends the
//  message to the conversation cache and writes the note now, or defers it
//  behind an activity.transcript.flush timer the broker holds until due.
//  Sets *out.
void activity_log_transcript_message (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                                      const activity_event_t *ev, const activity_log_ids_t *ids,
                                      zhub_outcome_t *out);

#endif
