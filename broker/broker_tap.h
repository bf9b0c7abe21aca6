//  The tap: a best-effort mirror of committed messages for dashboards and
//  `zhub tail`, on an XPUB socket (PROTOCOL.md "The tap").
#ifndef BROKER_TAP_H
#define BROKER_TAP_H

#include "broker_turn.h"

//  Reads the subscribe/unsubscribe notices waiting on the tap.
void broker_tap_subscriptions (broker_server_t *self);

//  Ends every tap connection (unbind, bind again): after a key was
//  revoked, since the XPUB cannot single one out. Subscribers still
//  allowed reconnect and subscribe again on their own.
void broker_tap_rebind (broker_server_t *self);

//  Mirrors the records from..to (just committed) when anyone listens.
void broker_tap_send (broker_server_t *self, uint64_t from, uint64_t to);

#endif
