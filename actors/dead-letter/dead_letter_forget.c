//  zhub-dead-letter's pure part of a GDPR erase (see dead_letter.h,
//  "Forgetting a person"). A dead letter is an opaque copy of any message,
//  so the person is looked for everywhere in it, by zhub_forget.h's rule.
#include "dead_letter.h"

#include <string.h>

static bool
s_str_mentions (const char *text, const zhub_forget_t *f)
{
    return text && zhub_forget_mentions_text (f, text, strlen (text));
}

bool
dead_letter_mentions (const dead_letter_t *self, const zhub_forget_t *f)
{
    return s_str_mentions (self->dlq_id, f) || s_str_mentions (self->original_id, f)
           || s_str_mentions (self->subject, f) || s_str_mentions (self->reason, f)
           || s_str_mentions (self->last_replay_id, f)
           || zhub_forget_mentions_msgpack (f, self->message, self->message_size)
           || zhub_forget_mentions_msgpack (f, self->original, self->original_size)
           || zhub_forget_mentions_msgpack (f, self->attempts, self->attempts_size);
}
