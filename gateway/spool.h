//  The gateway's spool: where accepted events wait, in order, while the
//  broker cannot confirm them. An LMDB table keyed by a big-endian
//  sequence number holding each message's encoded envelope; an append is
//  committed (synchronously, store/zhub_store.h) before the webhook is
//  answered 2xx, and an entry is deleted only after the broker confirmed
//  it, so a crash at any point loses nothing — at worst an event is
//  published twice, which the broker's dedup by id turns into once.
//
//  Thread-safe: appends come from many request threads, the drain from one;
//  the store serialises write transactions.
#ifndef ZHUB_GATEWAY_SPOOL_H
#define ZHUB_GATEWAY_SPOOL_H

#include "providers/provider.h"

#include <stddef.h>
#include <stdint.h>

typedef struct zhub_gateway_spool_t zhub_gateway_spool_t;

//  Opens (creating) the spool in data_dir/gateway. limit is the most
//  events it holds. Returns NULL with a reason in err.
zhub_gateway_spool_t *zhub_gateway_spool_new (const char *data_dir, int64_t limit, char *err,
                                              size_t err_size);

//  Closes the store; NULL-safe; nulls *self_p.
void zhub_gateway_spool_destroy (zhub_gateway_spool_t **self_p);

//  Appends every message of list (all or none) in one committed
//  transaction. Returns ZHUB_OK, ZHUB_RETRY when they do not fit under
//  the limit (the caller answers 503), ZHUB_ERROR when the disk failed.
zhub_rc_t zhub_gateway_spool_append (zhub_gateway_spool_t *self, const zhub_msg_list_t *list);

//  Reads up to max of the oldest entries: messages into out (appended,
//  caller clears), and the sequence of the last one into *last. Returns
//  ZHUB_OK, ZHUB_NOTFOUND when empty, ZHUB_ERROR. An entry that cannot be
//  decoded (never written by us) is skipped and counted in *skipped.
zhub_rc_t zhub_gateway_spool_peek (zhub_gateway_spool_t *self, size_t max, zhub_msg_list_t *out,
                                   uint64_t *last, size_t *skipped);

//  Deletes every entry up to and including sequence last.
zhub_rc_t zhub_gateway_spool_remove (zhub_gateway_spool_t *self, uint64_t last);

//  Entries waiting (kept in memory; exact).
int64_t zhub_gateway_spool_depth (zhub_gateway_spool_t *self);

#endif
