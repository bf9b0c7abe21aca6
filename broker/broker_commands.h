//  Reading frames off the broker's socket and handling each command.
//  Nothing here writes to the store: a command either answers at once
//  (errors, WELCOME) or decides in memory and adds ops for the turn's
//  commit (broker_turn.h).
#ifndef BROKER_COMMANDS_H
#define BROKER_COMMANDS_H

#include "broker_turn.h"

//  Receives and handles one message. Returns 1 when it handled one, 0 when
//  none was waiting, -1 on a fatal socket error.
int broker_commands_recv_one (broker_server_t *self);

#endif
