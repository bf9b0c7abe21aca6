//  The broker's peers: the routing ids it has heard from, and forgetting
//  those that went silent (sending to them is broker_turn.h's).
#ifndef BROKER_PEERS_H
#define BROKER_PEERS_H

#include "broker_turn.h"

//  The peer with this routing id, made on first sight; marks it seen now
//  (a peer given up on that talks again is back, without its memberships).
broker_client_t *broker_peers_client (broker_server_t *self, const uint8_t *id, size_t id_size);

//  Every heartbeat interval: forgets peers silent for
//  BROKER_FORGET_INTERVALS intervals and frees those found gone.
void broker_peers_expire (broker_server_t *self);

//  Frees every peer (at destruction).
void broker_peers_free_all (broker_server_t *self);

#endif
