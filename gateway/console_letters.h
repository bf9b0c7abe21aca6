//  The console's dead letters: the list, the dry-run preview of a replay,
//  and the replay and purge commands. It works as `zhub dlq` does
//  (docs/adr/0004): zhub-dead-letter's store under data_dir is read
//  read-only through its read side (dead_letter_store.h), and changes are
//  the same commands on the bus (dead-letter.command.replay / .purge) that
//  the actor applies in its own transaction. The preview is `zhub dlq
//  replay --dry-run`'s: the exact message the replay would publish and
//  what the letter's group would do with it under the current mapping
//  (cli/dlq_mapping.h).
#ifndef ZHUB_GATEWAY_CONSOLE_LETTERS_H
#define ZHUB_GATEWAY_CONSOLE_LETTERS_H

#include "zhub_client.h"

#include <jansson.h>
#include <stdint.h>

#define ZHUB_CONSOLE_LETTERS_MAX 200 //  open letters listed (the oldest first)

//  The letters, a new object:
//    available  false when there is no dead-letter store under data_dir
//               (reason says why: zhub-dead-letter runs elsewhere, or never ran)
//    open       [row]: letters never replayed, oldest first, at most
//               ZHUB_CONSOLE_LETTERS_MAX (the rows of `zhub dlq list --json`)
//    replayed   how many letters were replayed (kept for their history)
//    total      how many letters are kept
json_t *zhub_console_letters (const char *data_dir);

//  One letter in full (`zhub dlq show --json`) into *out. ZHUB_OK,
//  ZHUB_NOTFOUND (no such letter, or no store), ZHUB_ERROR.
zhub_rc_t zhub_console_letter (const char *data_dir, uint64_t seq, json_t **out);

//  The dry run of a replay of letter seq into *out: {id, replay_id,
//  collapses (this replay id was published already: the broker's dedup
//  drops it), message (the envelope it would publish), preview (what the
//  group would do with it now, dlq_preview.h)}. Nothing is published.
//  ZHUB_OK, ZHUB_NOTFOUND, or ZHUB_ERROR with the reason in err.
zhub_rc_t zhub_console_letter_preview (const char *data_dir, uint64_t seq, json_t **out, char *err,
                                       size_t err_size);

//  Publishes the operator's command (action "replay" or "purge") for
//  letter seq, with confirm, after checking the letter exists; who (the
//  admin token's name) goes into the command's source for the audit.
//  *out gets {id, action, command (its envelope id)}. The actor applies it
//  moments later: the letter then leaves the open list. ZHUB_OK,
//  ZHUB_NOTFOUND, ZHUB_RETRY (the broker did not confirm) or ZHUB_REJECT
//  (refused: reason in err).
zhub_rc_t zhub_console_letter_command (zhub_client_t *client, const char *data_dir, uint64_t seq,
                                       const char *action, const char *who, int timeout_ms,
                                       json_t **out, char *err, size_t err_size);

#endif
