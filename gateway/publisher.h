//  The gateway's way onto the bus: a few publisher threads, each with its
//  own broker client, shared by every request. A request hands its
//  messages over as a job and is suspended; a publisher takes everything
//  queued at that moment (many requests' messages) and publishes it
//  pipelined in one go, so the broker commits them in one transaction and
//  one PUBACK round trip serves many requests; then each job's callback
//  resumes its request. This is group commit carried through the gateway:
//  with a blocking client per request thread, every request paid its own
//  round trip and the threads outnumbered the cores many times over.
#ifndef ZHUB_GATEWAY_PUBLISHER_H
#define ZHUB_GATEWAY_PUBLISHER_H

#include "zhub_bus_auth.h"
#include "zhub_common.h"
#include "zhub_msg.h"

#include <stdbool.h>

typedef struct zhub_publisher_t zhub_publisher_t;

//  Most messages one publisher sends in one batch.
#define ZHUB_PUBLISHER_BATCH_MAX 256

//  Called once per job, from a publisher thread (or from the submitting
//  thread when the publisher is stopping or the job timed out in the
//  queue). results[] is filled by then. Must not block.
typedef void (zhub_publisher_done_fn) (void *arg);

//  One request's messages. The caller owns the job and everything it points
//  to, and keeps them alive until done_fn has been called.
typedef struct zhub_publish_job_t {
    zhub_msg_t *const *msgs;
    size_t count;
    zhub_rc_t *results; //  count entries: ZHUB_OK, ZHUB_RETRY or ZHUB_REJECT each
    int timeout_ms;     //  in the queue, and again for the broker's confirmation
    zhub_publisher_done_fn *done_fn;
    void *done_arg;
    //  the publisher's
    int64_t deadline_ms;
    struct zhub_publish_job_t *next;
} zhub_publish_job_t;

//  Starts threads publishers, each connected to endpoint. Returns NULL when
//  a thread cannot start.
//  auth (copied; NULL: plain) is how each thread's client authenticates.
zhub_publisher_t *zhub_publisher_new (const char *endpoint, const zhub_bus_auth_t *auth,
                                      int threads);

//  Queues a job. When the publisher is stopping the job completes at once
//  (every result ZHUB_RETRY). Thread-safe.
void zhub_publisher_submit (zhub_publisher_t *self, zhub_publish_job_t *job);

//  Stops taking jobs and waits for the threads, which finish every job
//  already queued first (each batch bounded by its timeout), so that every
//  callback has run when this returns. Idempotent.
void zhub_publisher_stop (zhub_publisher_t *self);

//  Stops (if not yet) and frees; NULL-safe; nulls *self_p.
void zhub_publisher_destroy (zhub_publisher_t **self_p);

//  The overall outcome of a finished job's results: ZHUB_OK when all are
//  confirmed, ZHUB_REJECT when any was refused, else ZHUB_RETRY.
zhub_rc_t zhub_publish_job_rc (const zhub_publish_job_t *job);

#endif
