//  The commit thread (the design is at the top of broker_committer.c):
//  runs one job at a time off the loop thread and says so on a pipe the
//  loop polls. It knows nothing of the broker: the job is fn(arg).
#ifndef BROKER_COMMITTER_H
#define BROKER_COMMITTER_H

#include "zhub_store.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct broker_committer_t broker_committer_t;
typedef zhub_rc_t (broker_committer_fn) (void *arg);

//  Starts the thread. NULL when it cannot.
broker_committer_t *broker_committer_new (broker_committer_fn *fn, void *arg);

//  Lets a job in flight finish, stops the thread. NULL-safe.
void broker_committer_destroy (broker_committer_t **self_p);

//  Readable (poll it) once a job is done.
int broker_committer_fd (broker_committer_t *self);

//  Hands over one job: fn(arg) runs on the thread. At most one job is in
//  flight: the caller takes it back before it starts another, and touches
//  nothing the job uses meanwhile.
void broker_committer_start (broker_committer_t *self);

//  Takes back a finished job: true with fn's result and how long it ran,
//  or false when it has not finished (wait: blocks until it has).
bool broker_committer_take (broker_committer_t *self, bool wait, zhub_rc_t *rc,
                            int64_t *elapsed_ms);

#endif
