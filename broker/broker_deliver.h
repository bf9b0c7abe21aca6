//  Timers, floors, windows and deliveries: ack deadlines turned into retry
//  or dead-letter ops, group records whose floors moved, filling the
//  groups' windows from the log and sending DELIVER frames.
#ifndef BROKER_DELIVER_H
#define BROKER_DELIVER_H

#include "broker_turn.h"

//  Expired ack deadlines become RETRY or DEAD ops; held messages whose
//  deliverat came, a RELEASE op.
void broker_deliver_timers (broker_server_t *self);

//  GROUP ops for groups whose record must be stored (settings changed, or
//  a floor that moved, stored along with other writes or every
//  BROKER_FLOOR_FLUSH_MS); ACKs the new floors cover need no write.
void broker_deliver_group_ops (broker_server_t *self);

//  Fills the groups' windows from the log (one read transaction).
void broker_deliver_fill (broker_server_t *self);

//  Hands out what the windows allow, as DELIVER frames.
void broker_deliver_dispatch (broker_server_t *self);

#endif
