//  zhub-gateway's HTTP side: two libmicrohttpd daemons, one for webhooks
//  (/v1/webhooks/<provider>, /v1/webhooks/generic/<sender>, /v1/events)
//  and one for the admin API (/healthz, /readyz, /metrics, /v1/status, the
//  console: /console/ and /v1/console/..., server_console.c). A
//  webhook is answered 200 only after the broker confirmed every message it
//  turned into, or after they were committed to the local spool while the
//  broker is away; 503 with Retry-After when neither is possible; 4xx with
//  a JSON error for bad input, which is never published. See
//  gateway/server.c for the request life cycle.
#ifndef ZHUB_GATEWAY_SERVER_H
#define ZHUB_GATEWAY_SERVER_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct zhub_gateway_server_t zhub_gateway_server_t;

//  Binds both listeners (only the configured addresses) and starts serving
//  on background threads. config must outlive the server. Returns NULL
//  with a reason in err when a listener cannot be started.
zhub_gateway_server_t *zhub_gateway_server_new (const zhub_gateway_config_t *config, char *err,
                                                size_t err_size);

//  Stops accepting, waits for requests in progress (each bounded by the
//  publish timeout), closes the broker clients. NULL-safe; nulls *self_p.
void zhub_gateway_server_destroy (zhub_gateway_server_t **self_p);

//  The ports actually bound (useful when the configuration said 0).
int zhub_gateway_server_port (const zhub_gateway_server_t *self);
int zhub_gateway_server_admin_port (const zhub_gateway_server_t *self);

//  The base URL signatures are checked against (config's, or derived from
//  the bound port).
const char *zhub_gateway_server_public_url (const zhub_gateway_server_t *self);

#endif
