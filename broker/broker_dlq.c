//  Dead letters of a group, built from what the broker stored: the
//  original envelope's bytes at its offset and the group's failure history
//  (the envelope itself is proto/zhub_dlq.c's, shared with the actors).
#include "broker_dlq.h"
#include "zhub_dlq.h"

#include <stdlib.h>

char *
broker_dlq_id (const char *group, const char *original_id)
{
    return zhub_dlq_id (group, original_id);
}

zhub_msg_t *
broker_dlq_build (const char *group, const uint8_t *envelope, size_t envelope_size, uint64_t offset,
                  const broker_attempt_t *attempts, size_t count, uint32_t reason_code,
                  const char *cause, int64_t now_ms)
{
    zhub_dlq_attempt_t *history = count ? zhub_calloc (count, sizeof *history) : NULL;
    for (size_t i = 0; i < count; i++)
        history[i] = (zhub_dlq_attempt_t){
            .time_ms = attempts[i].time_ms, .code = attempts[i].code, .reason = attempts[i].reason};
    zhub_dlq_spec_t spec = {.group = group,
                            .source = "zhub/broker",
                            .envelope = envelope,
                            .envelope_size = envelope_size,
                            .has_offset = true,
                            .offset = offset,
                            .attempts = history,
                            .attempt_count = count,
                            .reason_code = reason_code,
                            .cause = cause,
                            .now_ms = now_ms};
    zhub_msg_t *dead = zhub_dlq_build (&spec);
    free (history);
    return dead;
}
