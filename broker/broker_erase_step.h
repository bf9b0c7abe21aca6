//  GDPR erase in the broker, the steps (what matches is zhub_forget.h's;
//  the requests are broker_erasures.h's). Once every group subscribed to a
//  stored contact.forget is past it, the maintenance phase walks the
//  retained log in chunks, redacts what mentions the person and clears the
//  failure reasons kept for those records, then the messages held for
//  later delivery (broker_delayed.h); at the end it publishes
//  `contact.erased`, and after that commit the store is compacted, so the
//  old bytes are gone from the file too.
#ifndef BROKER_ERASE_STEP_H
#define BROKER_ERASE_STEP_H

#include "broker_turn.h"

#define BROKER_ERASE_CHUNK 5000 //  records examined per step

//  One step of the oldest request, in the turn's transaction. Clears
//  self->erase_pending when no request is left; sets self->erase_compact
//  when the request finished. Returns ZHUB_OK or ZHUB_ERROR.
zhub_rc_t broker_erase_step (broker_server_t *self, zhub_txn_t *txn);

//  After the commit: compacts the store when a request finished in it.
void broker_erase_after_commit (broker_server_t *self);

#endif
