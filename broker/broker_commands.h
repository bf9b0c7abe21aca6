//  Reading frames off the broker's socket and handling each command.
//  Nothing here writes to the store: a command either answers at once
//  (errors, WELCOME) or decides in memory and adds ops for the turn's
//  commit (broker_turn.h).
#ifndef BROKER_COMMANDS_H
#define BROKER_COMMANDS_H

#include "broker_turn.h"

//  Receives and handles one message. Returns 1 when it handled one, 0 when
//  none was waiting, -1 on a fatal socket error.
//
//  publish_only (a transaction is in flight): only PUBLISH frames (and
//  frames answered at once with an error) are handled; the first other
//  frame is kept (self->stashed) and 0 is returned. Everything else
//  changes the groups in memory (an ACK frees its subject for the next
//  delivery), and a delivery must never rest on an ACK that is not stored
//  yet: after a crash the acked message would come back behind a later
//  one of its subject (PROTOCOL.md 7.4).
int broker_commands_recv_one (broker_server_t *self, bool publish_only);

//  Handles the kept frame, if any (with no transaction in flight).
void broker_commands_stashed (broker_server_t *self);

#endif
