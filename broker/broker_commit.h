//  The turn's group commit: every op (broker_turn.h's table) and the
//  maintenance phase (broker_maintenance.h) in ONE write transaction, then
//  the tap and the answers, which therefore promise durability.
//
//  The transaction runs on the commit thread (broker_committer.c) when
//  the turn runs no maintenance: the loop keeps reading frames into the
//  next op list meanwhile, and answers once it took the job back. A turn
//  with maintenance is committed on the loop thread.
#ifndef BROKER_COMMIT_H
#define BROKER_COMMIT_H

#include "broker_turn.h"

//  Starts the commit thread (self->committer). Returns 0 or -1.
int broker_commit_thread_start (broker_server_t *self);

//  Takes the turn's op list (self->ops, left empty) and stores it when it
//  writes or maintenance is due; a turn with nothing to store is answered
//  at once, without a transaction. Only when nothing is in flight
//  (!self->in_flight). With the commit thread and no maintenance, the
//  transaction is handed over (self->in_flight) and answered by
//  broker_commit_poll; otherwise it is committed and answered here.
void broker_commit (broker_server_t *self);

//  When the transaction in flight has finished (wait: waits for it),
//  takes it back: the log's new extent, the tap, the answers. Returns true
//  when it took one.
bool broker_commit_poll (broker_server_t *self, bool wait);

#endif
