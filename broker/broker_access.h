//  Who may do what on the bus (PROTOCOL.md 16, ADR 0009). With CURVE every
//  TCP connection to the broker's sockets (the bus and the tap) is
//  encrypted and proves a key; czmq's zauth actor, answering ZeroMQ's ZAP
//  requests in czmq's context, lets in only keys of the allow-list
//  (broker_keys.h). Each frame then carries its connection's key as the
//  "User-Id" property, and the broker checks it against that key's
//  permissions before handling the command. With plain (local endpoints
//  only) nobody is asked and everything is allowed.
//
//  Sits above the turn, the peers and the tap (it cuts off peers and
//  rebinds the tap when a key is revoked), below the commands.
#ifndef BROKER_ACCESS_H
#define BROKER_ACCESS_H

#include "broker_turn.h"

#include <zmq.h>

//  Makes the context the broker's sockets live in: for curve czmq's (the
//  one zauth serves), with the allow-list read, zauth's copy written and
//  zauth started; for plain a context of its own. Returns 0, or -1 with
//  the reason in err.
int broker_access_start (broker_server_t *self, char *err, size_t err_size);

//  Makes sock a CURVE server with the broker's key in the ZAP domain
//  "zhub" (nothing for plain). Call before binding. Returns 0 or -1.
int broker_access_server_socket (broker_server_t *self, void *sock);

//  Stops zauth and ends a context of our own (after the sockets closed).
void broker_access_stop (broker_server_t *self);

//  Binds the frame's sender to the key its connection proved (the
//  message's User-Id). A routing id that another key now talks through
//  loses its memberships first. Returns true when the frame may be
//  handled; false when the key is not (or no longer) allowed, after
//  answering ERROR 401.
bool broker_access_identify (broker_server_t *self, broker_client_t *client, zmq_msg_t *body);

//  The checks of each command. Each returns true when allowed, else
//  answers ERROR 403 {seq} with the reason and returns false.
bool broker_access_publish (broker_server_t *self, broker_client_t *client, uint64_t seq,
                            const char *topic);
//  JOIN: every pattern of the request and of the group it would join
//  (existing may be NULL/0) must lie within the key's consume patterns.
bool broker_access_join (broker_server_t *self, broker_client_t *client, uint64_t seq,
                         char *const *patterns, size_t count, char *const *existing,
                         size_t existing_count);
//  GROUP_SET, GROUP_RESET, STATS: admin keys only. what names the command.
bool broker_access_admin (broker_server_t *self, broker_client_t *client, uint64_t seq,
                          const char *what);
//  ACK, NACK: only the key the delivery went to answers it.
bool broker_access_answer (broker_server_t *self, broker_client_t *client,
                           const broker_entry_t *entry);

//  Once a heartbeat: reads the allow-list again when it changed, updates
//  zauth's copy, and cuts off every peer whose key is gone: its
//  memberships end, its deliveries go back to the groups, its frames are
//  refused from now on, and the tap is bound anew so that its tap
//  connection ends too (subscribers with keys still allowed reconnect).
void broker_access_refresh (broker_server_t *self);

#endif
