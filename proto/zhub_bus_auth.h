//  How a process that connects to the bus authenticates: CURVE with its
//  own key pair and the broker's public key, or plain (no encryption, no
//  authentication), which is allowed only when every endpoint it uses is
//  on this machine (loopback TCP, ipc, inproc). Read once at start from
//  the environment into a struct, validated, logged masked, then handed
//  to zhub_client_new and to any raw socket the process opens (the tap).
//
//      ZHUB_BUS_SECURITY       curve (the default) or plain
//      ZHUB_BUS_CERT           curve: this process's secret certificate file
//      ZHUB_BROKER_PUBLIC_KEY  curve: the broker's public key (Z85) or a
//                              certificate file holding it
#ifndef ZHUB_BUS_AUTH_H
#define ZHUB_BUS_AUTH_H

#include "zhub_keys.h"

#include <stdbool.h>
#include <stddef.h>

//  Zero is plain: a struct nobody filled in asks for nothing (and a CURVE
//  broker refuses it); the environment's default is curve.
typedef enum { ZHUB_BUS_PLAIN = 0, ZHUB_BUS_CURVE } zhub_bus_security_t;

typedef struct {
    zhub_bus_security_t security;
    char public_key[ZHUB_KEY_Z85_SIZE]; //  curve: this process's key
    char secret_key[ZHUB_KEY_Z85_SIZE]; //  curve: never logged
    char server_key[ZHUB_KEY_Z85_SIZE]; //  curve: the broker's public key
} zhub_bus_auth_t;

//  True for an endpoint that stays on this machine: tcp:// to a loopback
//  address (127.0.0.0/8, [::1], localhost), ipc:// and inproc://.
//  "tcp://*:7450" and any other host are not.
bool zhub_endpoint_is_local (const char *endpoint);

//  Reads ZHUB_BUS_SECURITY (and, for curve, the key files) for a process
//  that uses the endpoints listed (NULL entries are skipped). Plain with
//  an endpoint that is not local is refused. Returns 0, or -1 with one
//  clear sentence in err.
int zhub_bus_auth_load (zhub_bus_auth_t *auth, const char *const *endpoints, size_t count,
                        char *err, size_t err_size);

//  The curve settings from a secret certificate file and the broker's
//  public key (Z85 or a certificate file), as zhub_bus_auth_load reads
//  them; for tools and tests that hold several keys. Returns 0 or -1.
int zhub_bus_auth_curve (zhub_bus_auth_t *auth, const char *cert_path, const char *broker_key,
                         char *err, size_t err_size);

//  Sets a client socket's CURVE options (before it connects); nothing for
//  plain. Returns 0, or -1 when libzmq refused an option.
int zhub_bus_auth_apply (const zhub_bus_auth_t *auth, void *socket);

//  For logs: "curve key=<public key>" or "plain".
const char *zhub_bus_auth_describe (const zhub_bus_auth_t *auth, char *buf, size_t size);

#endif
