//  The admin listener of the broker (ZHUB_BROKER_ADMIN_LISTEN) and of every
//  actor (ZHUB_ACTOR_ADMIN_LISTEN): what an orchestrator and a scraper ask
//  of a process, on a port of its own so that the bus and the APIs never
//  wait for it.
//
//    GET /healthz  200 while the process's loop turns (it reports each turn;
//                  a turn stuck for more than ZHUB_ADMIN_STALL_MS is a
//                  hang: 503), for liveness probes;
//    GET /readyz   200 once the process is ready (an actor: joined its group),
//                  503 with the reason before, for readiness probes;
//    GET /metrics  the process's metrics registry, Prometheus text 0.0.4.
//
//  Answers come from libmicrohttpd's own thread; what they read is set by
//  the process's loop through this header (atomics and the registry's
//  mutex). A library of its own (zhub_admin_dep): libmicrohttpd is linked
//  only by what serves HTTP.
#ifndef ZHUB_ADMIN_H
#define ZHUB_ADMIN_H

#include "zhub_listen.h"
#include "zhub_metrics.h"

#include <stdbool.h>
#include <stdint.h>

//  A turn longer than every call an actor may wait on (HTTP timeouts of
//  20 s, the pacer's hold of a request) counts as a hang.
#define ZHUB_ADMIN_STALL_MS 120000

typedef struct zhub_admin_t zhub_admin_t;

//  Listens on listen, serving metrics (borrowed: it must outlive the
//  listener). Returns NULL with a reason in err.
zhub_admin_t *zhub_admin_new (const zhub_listen_t *listen, zhub_metrics_t *metrics,
                                          char *err, size_t err_size);

//  Stops listening; NULL-safe; nulls *self_p.
void zhub_admin_destroy (zhub_admin_t **self_p);

//  The port bound (the configured one, or the kernel's choice for 0).
int zhub_admin_port (zhub_admin_t *self);

//  The loop turned at mono_ms (monotonic clock).
void zhub_admin_beat (zhub_admin_t *self, int64_t mono_ms);

//  Ready or not, and why not (copied; NULL when ready).
void zhub_admin_ready (zhub_admin_t *self, bool ready, const char *why);

#endif
