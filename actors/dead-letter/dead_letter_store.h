//  The dead-letter store: records and their indexes in the actor's LMDB
//  environment ($ZHUB_DATA_DIR/dead-letter/). The actor writes; the CLI
//  opens the same environment read-only (zhub_store_open_readonly) and uses
//  the read functions below. Every function runs inside a transaction the
//  caller opened through zhub_store_write/_read.
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

typedef struct {
    zhub_table_t letters, ids, by_time, by_group, by_topic, by_reason, counters;
} dead_letter_tables_t;

//  Opens (creating on a writable store) the tables. Returns 0 or -1.
int dead_letter_tables_open (zhub_store_t *store, dead_letter_tables_t *tables);

//  Keeps a new dead letter: gives it the next seq and writes it with its
//  index entries. When a letter with the same dlq_id is already kept
//  (redelivery of the same dead letter) nothing changes, *added is false
//  and dl->seq gets the kept letter's number. ZHUB_OK or ZHUB_ERROR.
zhub_rc_t dead_letter_store_add (const dead_letter_tables_t *tables, zhub_txn_t *txn,
                                 dead_letter_t *dl, bool *added);

//  Reads letter seq into *out (caller clears it). ZHUB_OK, ZHUB_NOTFOUND
//  or ZHUB_ERROR (a record that does not decode).
zhub_rc_t dead_letter_store_get (const dead_letter_tables_t *tables, zhub_txn_t *txn, uint64_t seq,
                                 dead_letter_t *out);

//  Like _get, by what an operator typed: the number, or the dlq id.
zhub_rc_t dead_letter_store_find (const dead_letter_tables_t *tables, zhub_txn_t *txn,
                                  const char *ref, dead_letter_t *out);

//  Rewrites a kept letter (after an edit or a replay). Group, topic,
//  reason and time must be unchanged (the indexes are not touched).
zhub_rc_t dead_letter_store_update (const dead_letter_tables_t *tables, zhub_txn_t *txn,
                                    const dead_letter_t *dl);

//  Deletes a letter and its index entries (purge). Its dlq id is
//  forgotten too, so the same dead letter arriving again is kept anew.
zhub_rc_t dead_letter_store_remove (const dead_letter_tables_t *tables, zhub_txn_t *txn,
                                    const dead_letter_t *dl);

//  GDPR erase: deletes every letter that mentions the person
//  (dead_letter_mentions) with its index entries and its dlq id, so the
//  same dead letter arriving again would be kept anew. A record that no
//  longer decodes is searched as bytes and, when it mentions the person,
//  deleted on its own (its index entries cannot be named; readers skip
//  entries whose letter is gone). *removed counts the letters deleted.
//  ZHUB_OK or ZHUB_ERROR. Reads every letter: one erase is rare, and a
//  letter is an opaque copy of any message, so no index can say which
//  letters name whom.
zhub_rc_t dead_letter_store_forget (const dead_letter_tables_t *tables, zhub_txn_t *txn,
                                    const zhub_forget_t *f, size_t *removed);

//  Calls fn for each letter matching filter, oldest first (by the time it
//  was dead-lettered), until fn returns false. Uses the group index when
//  the filter names a group, else the time index from since_ms.
typedef bool (dead_letter_each_fn) (const dead_letter_t *dl, void *arg);
zhub_rc_t dead_letter_store_each (const dead_letter_tables_t *tables, zhub_txn_t *txn,
                                  const dead_letter_filter_t *filter, dead_letter_each_fn *fn,
                                  void *arg);

//  Number of letters kept.
size_t dead_letter_store_count (const dead_letter_tables_t *tables, zhub_txn_t *txn);

#endif
