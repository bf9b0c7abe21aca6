//  What an operator's replay or edit command does to one kept letter (see
//  dead_letter.h, "Commands"). Pure: the store runs these inside the
//  transaction that reads the letter and writes it back with the replay
//  queued (dead_letter_store_change), so a command is applied once and
//  "recorded as replayed" never comes apart from "published".
#include "dead_letter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Records that the command was applied (so a redelivery is a no-op).
static void
s_mark (dead_letter_t *dl, const char *command_id, const char *result)
{
    zhub_msg_set (&dl->last_command, command_id);
    zhub_msg_set (&dl->last_result, result);
}

//  True when this very command was applied already.
static bool
s_applied (const dead_letter_t *dl, dead_letter_command_t *cmd)
{
    if (!dl->last_command || strcmp (dl->last_command, cmd->id))
        return false;
    cmd->result = "already_applied";
    return true;
}

bool
dead_letter_command_replay (dead_letter_t *dl, dead_letter_command_t *cmd, zhub_msg_t **replay)
{
    *replay = NULL;
    if (s_applied (dl, cmd))
        return false;
    cmd->generation = dead_letter_replay_generation (dl, cmd->again);
    *replay = dead_letter_replay_msg (dl, cmd->generation, cmd->err, sizeof cmd->err);
    if (!*replay)
        cmd->result = "unreplayable";
    else {
        cmd->result = "replayed";
        dl->replays = cmd->generation;
        dl->last_replay_ms = cmd->now_ms;
        zhub_msg_set (&dl->last_replay_id, (*replay)->id);
    }
    s_mark (dl, cmd->id, cmd->result);
    return true;
}

bool
dead_letter_command_edit (dead_letter_t *dl, dead_letter_command_t *cmd)
{
    if (s_applied (dl, cmd))
        return false;
    zhub_msg_t *edited =
        zhub_msg_decode (cmd->message, cmd->message_size, NULL, cmd->err, sizeof cmd->err);
    if (!edited || strcmp (edited->type, dl->topic)) {
        cmd->result = "invalid";
        if (edited)
            snprintf (cmd->err, sizeof cmd->err, "an edit may not change the topic");
    } else if (cmd->revision != dl->revision) {
        //  Someone edited it since the operator looked: refuse rather than
        //  silently drop their change.
        cmd->result = "stale";
    } else {
        if (!dl->original) {
            dl->original = dl->message;
            dl->original_size = dl->message_size;
        } else
            free (dl->message);
        dl->message = zhub_malloc (cmd->message_size);
        memcpy (dl->message, cmd->message, cmd->message_size);
        dl->message_size = cmd->message_size;
        dl->revision++;
        cmd->result = "edited";
    }
    zhub_msg_destroy (&edited);
    s_mark (dl, cmd->id, cmd->result);
    return true;
}
