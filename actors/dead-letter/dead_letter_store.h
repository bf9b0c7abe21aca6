//  The dead-letter store: zhub-dead-letter's tables, their key formats and
//  every transaction on them, in the actor's LMDB environment
//  ($ZHUB_DATA_DIR/dead-letter/). The actor opens it over its store and
//  writes; `zhub dlq` opens the same environment read-only
//  (dead_letter_store_open_readonly) and uses the read side: LMDB serves
//  readers in other processes beside the one writer (docs/adr/0004). Each
//  function runs its own transaction, but for _forget, which runs inside
//  the runtime's erase transaction.
//
//  Tables:
//    letters    be64 seq -> record (dead_letter_encode)
//    ids        dlq envelope id -> be64 seq      (idempotent adds)
//    by_time    be64 dead_at + be64 seq -> be64 seq
//    by_group   group NUL be64 dead_at be64 seq -> be64 seq
//    by_topic   topic NUL be64 dead_at be64 seq -> be64 seq
//    by_reason  be32 reason_code be64 dead_at be64 seq -> be64 seq
//    counters   "next_seq" -> be64 (numbers are never reused)
#ifndef DEAD_LETTER_STORE_H
#define DEAD_LETTER_STORE_H

#include "dead_letter.h"
#include "zhub_store.h"

typedef struct dead_letter_store_t dead_letter_store_t;

//  The actor's: the tables over store (borrowed: it must outlive this),
//  created when missing. NULL with the reason in err.
dead_letter_store_t *dead_letter_store_new (zhub_store_t *store, char *err, size_t err_size);

//  The CLI's: data_dir/dead-letter opened read-only, owned. NULL with the
//  reason in err when there is none yet (zhub-dead-letter never ran with
//  this data_dir) or its tables are missing.
dead_letter_store_t *dead_letter_store_open_readonly (const char *data_dir, char *err,
                                                      size_t err_size);

//  NULL-safe; nulls *self_p; closes the environment when it owns it.
void dead_letter_store_destroy (dead_letter_store_t **self_p);

//  -------------------------------------------------------------------
//  The read side

//  Letter seq into *out (zeroed first; the caller clears it). ZHUB_OK,
//  ZHUB_NOTFOUND, or ZHUB_ERROR (a record that does not decode).
zhub_rc_t dead_letter_store_get (dead_letter_store_t *self, uint64_t seq, dead_letter_t *out);

//  Like _get, by what an operator typed: the number, or the dlq id.
zhub_rc_t dead_letter_store_find (dead_letter_store_t *self, const char *ref, dead_letter_t *out);

//  Calls fn for each letter matching filter, oldest first (by the time it
//  was dead-lettered), in one snapshot, until fn returns false. Uses the
//  group index when the filter names a group, else the time index from
//  since_ms. ZHUB_OK or ZHUB_ERROR.
typedef bool (dead_letter_each_fn) (const dead_letter_t *dl, void *arg);
zhub_rc_t dead_letter_store_each (dead_letter_store_t *self, const dead_letter_filter_t *filter,
                                  dead_letter_each_fn *fn, void *arg);

//  Number of letters kept (0 when it cannot be read).
size_t dead_letter_store_count (dead_letter_store_t *self);

//  -------------------------------------------------------------------
//  The write side (the actor)

//  Keeps a new dead letter: gives it the next seq and writes it with its
//  index entries. When a letter with the same dlq_id is already kept
//  (redelivery of the same dead letter) nothing changes, *added is false
//  and dl->seq gets the kept letter's number. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t dead_letter_store_keep (dead_letter_store_t *self, dead_letter_t *dl, bool *added);

//  Queues msg in the writer's outbox inside txn (the actor passes
//  zhub_actor_outbox_put's). ZHUB_OK or ZHUB_ERROR.
typedef zhub_rc_t (dead_letter_outbox_fn) (zhub_txn_t *txn, const zhub_msg_t *msg, void *arg);

//  Decides a change to letter dl, read inside the transaction: edits dl in
//  place and returns true to write it back (false leaves it as it was);
//  may set *publish to a fresh message to queue in the same transaction
//  (the store frees it). Group, topic, reason and time must stay as they
//  are (the indexes are not rewritten). Runs again from scratch when the
//  store reruns the transaction (the map grew): it must keep no state
//  across runs but what it writes into arg.
typedef bool (dead_letter_change_fn) (dead_letter_t *dl, zhub_msg_t **publish, void *arg);

//  Runs fn on letter seq in one write transaction: the letter written
//  back and the message queued with outbox, or neither. ZHUB_OK,
//  ZHUB_NOTFOUND (no such letter: fn not called) or ZHUB_ERROR.
zhub_rc_t dead_letter_store_change (dead_letter_store_t *self, uint64_t seq,
                                    dead_letter_change_fn *fn, void *arg,
                                    dead_letter_outbox_fn *outbox, void *outbox_arg);

//  Deletes the letters numbered seqs (those that exist) with their index
//  entries, in one transaction; their dlq ids are forgotten too, so the
//  same dead letter arriving again is kept anew. *purged counts them.
//  ZHUB_OK or ZHUB_ERROR (nothing deleted).
zhub_rc_t dead_letter_store_purge (dead_letter_store_t *self, const uint64_t *seqs, size_t count,
                                   uint64_t *purged);

//  GDPR erase, inside the caller's write transaction txn (the runtime's
//  erase step): deletes every letter that mentions the person
//  (dead_letter_mentions) with its index entries and its dlq id, so the
//  same dead letter arriving again would be kept anew. A record that no
//  longer decodes is searched as bytes and, when it mentions the person,
//  deleted on its own (its index entries cannot be named; readers skip
//  entries whose letter is gone). *removed counts the letters deleted.
//  ZHUB_OK or ZHUB_ERROR. Reads every letter: one erase is rare, and a
//  letter is an opaque copy of any message, so no index can say which
//  letters name whom.
zhub_rc_t dead_letter_store_forget (dead_letter_store_t *self, zhub_txn_t *txn,
                                    const zhub_forget_t *f, size_t *removed);

#endif
