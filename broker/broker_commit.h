//  The turn's group commit: every op (broker_turn.h's table) and the
//  maintenance phase (broker_maintenance.h) in ONE write transaction, then
//  the tap and the answers, which therefore promise durability.
#ifndef BROKER_COMMIT_H
#define BROKER_COMMIT_H

#include "broker_turn.h"

//  Stores the turn when it writes or maintenance is due, answers every op,
//  and empties the op list. A turn with nothing to store is answered
//  without a transaction.
void broker_commit (broker_server_t *self);

#endif
