//  Ids derived from other ids. A message a zhub process publishes because
//  of another one gets an id computed from the cause's id (contact.synced
//  from the webhook that caused it, a booking from its tour.requested), so
//  that a redelivered cause publishes the same id again and the broker's
//  dedup keeps one. Those ids are dedup keys and keys of stored state: the
//  forms below are the ones on the wire today, and must not change.
//
//  Two forms:
//  - a digest: prefix + lower-case hex of the first `bytes` bytes of
//    SHA-256(text) (zhub_id_derive, zhub_id_derive_parts);
//  - a bounded id: head + text when that fits an envelope id
//    (ZHUB_MSG_MAX_ID bytes), else head + "h:" + 32 hex of BLAKE2b with a
//    16-byte output over text (zhub_id_bounded). The dead letters' and
//    replays' ids (PROTOCOL.md 8) have this form. BLAKE2b-128 is not a
//    cut SHA-256 (nor a cut BLAKE2b-256: the output length is one of
//    BLAKE2b's parameters), so those ids cannot move to the digest form
//    without changing on the wire.
//
//  Today's uses (each gives the same id through these functions; see
//  tests/unit/test_zhub_id.c):
//
//  | id | form |
//  |---|---|
//  | contact.synced | zhub_id_derive ("cs-", cause id, 16); a batched write: cause id + ":batch" |
//  | contact.reconciled | zhub_id_derive ("rs-", tick id, 16) |
//  | deal.stage_changed | zhub_id_derive ("ds-", cause id, 16) |
//  | a booking (scheduler) | zhub_id_derive ("bk", tour.requested id, 16) |
//  | a calendar watch (scheduler) | zhub_id_derive ("sub:<platform>:", target, 8) |
//  | Calendly, Graph webhooks (gateway) | zhub_id_derive_parts ("calendly:" / "graph:" /
//  "graph:resource:", parts, 32) | | dlq.<group> (broker) | zhub_id_bounded ("dlq:<group>:",
//  original id) | | a replay (dead-letter) | zhub_id_bounded ("replay:<n>:", original id) |
//
//  Pure: no I/O.
#ifndef ZHUB_ID_H
#define ZHUB_ID_H

#include <stddef.h>

//  The most digest bytes an id may take (all of SHA-256).
#define ZHUB_ID_DIGEST_MAX 32

//  Writes prefix + lower-case hex of the first `bytes` bytes of
//  SHA-256(text) into out (NUL-terminated). bytes is 1 to
//  ZHUB_ID_DIGEST_MAX. Returns 0, or -1 (out holds "") when bytes is out
//  of range, an argument is NULL or the id does not fit out_size: an id
//  is never cut short, as a cut id would be a different id.
int zhub_id_derive (char *out, size_t out_size, const char *prefix, const char *text, size_t bytes);

//  The same over count parts, each followed by "\n" (a NULL part counts as
//  empty): what names a webhook event that carries no id of its own. So
//  zhub_id_derive_parts (out, n, p, parts, 1, b) hashes parts[0] + "\n",
//  not parts[0].
int zhub_id_derive_parts (char *out, size_t out_size, const char *prefix, const char *const *parts,
                          size_t count, size_t bytes);

//  head + text as a fresh string when it is at most ZHUB_MSG_MAX_ID
//  bytes; else head + "h:" + 32 hex of BLAKE2b-128(text), which fits as
//  long as head does (NULL when even that is over ZHUB_MSG_MAX_ID).
//  Unlike a cut, two long texts never share an id by sharing a beginning.
char *zhub_id_bounded (const char *head, const char *text);

#endif
