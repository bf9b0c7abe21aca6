//  A small process supervisor for `zhub up`: starts children in order,
//  restarts one that dies (with a growing pause, so a crash loop does not
//  spin), and stops them all in reverse order on request.
#ifndef ZHUB_SUPERVISOR_H
#define ZHUB_SUPERVISOR_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct zhub_supervisor_t zhub_supervisor_t;

zhub_supervisor_t *zhub_supervisor_new (void);

//  Stops every child still running, then frees; NULL-safe; nulls *self_p.
void zhub_supervisor_destroy (zhub_supervisor_t **self_p);

//  Adds a child: name for messages, argv (NULL-terminated, copied). The
//  child inherits the environment. Returns 0, or -1 when full.
int zhub_supervisor_add (zhub_supervisor_t *self, const char *name, char *const argv[]);

//  Gives child index i one environment variable of its own (its key file,
//  say) on top of the environment it inherits. Returns 0, or -1 for no
//  such child.
int zhub_supervisor_setenv (zhub_supervisor_t *self, int index, const char *name,
                            const char *value);

//  Starts child index i (in the order added). Returns its pid or -1.
pid_t zhub_supervisor_start (zhub_supervisor_t *self, int index);

//  Reaps exited children and restarts them after their pause. Call in the
//  main loop. Returns the number of restarts done.
int zhub_supervisor_tick (zhub_supervisor_t *self);

//  SIGTERM to every child in reverse order, waiting up to grace_ms for each
//  before SIGKILL. Returns 0 when all exited on SIGTERM, -1 when any was
//  killed.
int zhub_supervisor_stop_all (zhub_supervisor_t *self, int grace_ms);

#endif
