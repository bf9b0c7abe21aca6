//  The broker's socket loop: one ROUTER socket, one thread. Each turn it
//  drains the frames waiting on the socket (up to batch_max), applies every
//  publish, ack and nack of the turn in one write transaction, and only
//  after the commit answers PUBACK; then it fills the groups' windows from
//  the log and hands out deliveries. See PROTOCOL.md for the wire side.
#ifndef BROKER_SERVER_H
#define BROKER_SERVER_H

#include "broker_config.h"

#include <signal.h>

typedef struct broker_server_t broker_server_t;

//  Opens the store under <data_dir>/broker, loads the groups and binds the
//  ROUTER on config->endpoint. The config is copied (its strings must
//  outlive the server). Returns NULL with a reason in err.
broker_server_t *broker_server_new (const broker_config_t *config, char *err, size_t err_size);

//  Closes the socket (lingering briefly for replies in flight) and the
//  store; NULL-safe; nulls *self_p.
void broker_server_destroy (broker_server_t **self_p);

//  The endpoint actually bound (a tcp port 0 or "*" resolved).
const char *broker_server_endpoint (broker_server_t *self);

//  Serves until *stop becomes non-zero; the turn in progress is finished
//  first. Returns 0, or -1 on a fatal socket error.
int broker_server_run (broker_server_t *self, volatile sig_atomic_t *stop);

//  The tap's bound endpoint, or "off".
const char *broker_server_tap_endpoint (broker_server_t *self);

#endif
