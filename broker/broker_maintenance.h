//  The maintenance phase of a turn: housekeeping that rides in the turn's
//  write transaction after its ops, when a sweep is due (self->sweep):
//  the dedup window swept, the retention walk (records every interested
//  group is past and that are over their topic's age or size), and one
//  step of the oldest GDPR erase request (broker_erase_step.h).
#ifndef BROKER_MAINTENANCE_H
#define BROKER_MAINTENANCE_H

#include "broker_turn.h"

//  Decides whether this turn runs the phase (self->sweep): when the idle
//  sweep is due, or when the turn writes anyway and the last sweep is
//  sweep_interval_ms old.
void broker_maintenance_due (broker_server_t *self);

//  The phase, inside the turn's transaction (may run more than once: it
//  writes only to the store and to fields the next run overwrites).
//  Returns ZHUB_OK or ZHUB_ERROR.
zhub_rc_t broker_maintenance_apply (broker_server_t *self, zhub_txn_t *txn);

//  After the transaction: schedules the next sweep; when committed, takes
//  the retention walk's new position and compacts after a finished erase.
void broker_maintenance_after (broker_server_t *self, bool committed);

#endif
