//  The publisher threads between the gateway's requests and the bus: jobs
//  queued while a batch is in flight go out together in the next one;
//  every job's callback runs exactly once with its own results; a failed
//  batch gets a fresh client; a job that waits in the queue past its
//  timeout comes back unsent with ZHUB_RETRY; stopping finishes every
//  queued job, and a job submitted after it completes at once.
#include "publisher.h"
#include "zhub_client.h"
#include "zhub_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

//  The fake bus: publish_many sleeps, answers s_rc, counts calls.
struct zhub_client_t {
    int unused;
};
static atomic_int s_calls, s_messages, s_created, s_destroyed, s_biggest;
static int s_delay_ms;
static zhub_rc_t s_rc = ZHUB_OK;

zhub_client_t *
zhub_client_new (const char *endpoint, const char *name, const zhub_bus_auth_t *auth)
{
    (void)endpoint;
    (void)name;
    (void)auth;
    s_created++;
    return zhub_calloc (1, sizeof (zhub_client_t));
}

void
zhub_client_destroy (zhub_client_t **self_p)
{
    if (self_p && *self_p) {
        s_destroyed++;
        free (*self_p);
        *self_p = NULL;
    }
}

zhub_rc_t
zhub_client_publish_many (zhub_client_t *self, zhub_msg_t *const *msgs, size_t count,
                          int timeout_ms, zhub_rc_t *results)
{
    (void)self;
    (void)msgs;
    (void)timeout_ms;
    s_calls++;
    s_messages += (int)count;
    if ((int)count > s_biggest)
        s_biggest = (int)count;
    usleep ((useconds_t)s_delay_ms * 1000);
    for (size_t i = 0; i < count; i++)
        results[i] = s_rc;
    return s_rc;
}

typedef struct {
    zhub_publish_job_t job;
    zhub_msg_t *msgs[2];
    zhub_rc_t results[2];
    atomic_int done;
    int64_t done_ms;
} s_req_t;

static void
s_done (void *arg)
{
    s_req_t *req = arg;
    req->done_ms = zhub_mono_ms ();
    req->done++;
}

static void
s_req_init (s_req_t *req, size_t count, int timeout_ms)
{
    memset (req, 0, sizeof *req);
    req->job = (zhub_publish_job_t){.msgs = req->msgs,
                                    .count = count,
                                    .results = req->results,
                                    .timeout_ms = timeout_ms,
                                    .done_fn = s_done,
                                    .done_arg = req};
}

static void
s_wait_all (s_req_t *reqs, int count)
{
    for (int spins = 0; spins < 500; spins++) {
        int done = 0;
        for (int i = 0; i < count; i++)
            done += reqs[i].done > 0;
        if (done == count)
            return;
        usleep (10 * 1000);
    }
}

static void
s_reset (int delay_ms, zhub_rc_t rc)
{
    s_calls = s_messages = s_created = s_destroyed = s_biggest = 0;
    s_delay_ms = delay_ms;
    s_rc = rc;
}

static void
test_jobs_queued_meanwhile_share_one_batch (void)
{
    s_reset (50, ZHUB_OK);
    zhub_publisher_t *publisher = zhub_publisher_new ("tcp://127.0.0.1:1", NULL, 1);
    enum { N = 21 };
    static s_req_t reqs[N];
    for (int i = 0; i < N; i++)
        s_req_init (&reqs[i], 2, 2000);
    zhub_publisher_submit (publisher, &reqs[0].job); //  in flight for 50 ms...
    for (int spins = 0; s_calls == 0 && spins < 500; spins++)
        usleep (10 * 1000);
    for (int i = 1; i < N; i++) //  ...while these queue up
        zhub_publisher_submit (publisher, &reqs[i].job);
    s_wait_all (reqs, N);
    for (int i = 0; i < N; i++) {
        CHECK (reqs[i].done == 1);
        CHECK (zhub_publish_job_rc (&reqs[i].job) == ZHUB_OK);
    }
    CHECK (s_messages == 2 * N);
    CHECK (s_calls == 2);    //  one for the first job, one for the other twenty
    CHECK (s_biggest == 40); //  twenty jobs' messages in one round trip
    CHECK (s_created == 1);
    zhub_publisher_destroy (&publisher);
    CHECK (publisher == NULL);
}

static void
test_failures_come_back_and_renew_the_client (void)
{
    s_reset (0, ZHUB_RETRY);
    zhub_publisher_t *publisher = zhub_publisher_new ("tcp://127.0.0.1:1", NULL, 2);
    s_req_t req;
    s_req_init (&req, 2, 500);
    zhub_publisher_submit (publisher, &req.job);
    s_wait_all (&req, 1);
    CHECK (req.done == 1 && zhub_publish_job_rc (&req.job) == ZHUB_RETRY);
    s_rc = ZHUB_REJECT;
    s_req_init (&req, 1, 500);
    zhub_publisher_submit (publisher, &req.job);
    s_wait_all (&req, 1);
    CHECK (req.done == 1 && zhub_publish_job_rc (&req.job) == ZHUB_REJECT);
    zhub_publisher_destroy (&publisher);
    CHECK (s_destroyed == s_created); //  the failed one was dropped, the rest closed
    CHECK (s_created == 2);           //  a fresh client after the unconfirmed batch
}

static void
test_a_job_that_waits_too_long_comes_back_unsent (void)
{
    s_reset (300, ZHUB_OK);
    zhub_publisher_t *publisher = zhub_publisher_new ("tcp://127.0.0.1:1", NULL, 1);
    s_req_t slow, late;
    s_req_init (&slow, 1, 2000);
    s_req_init (&late, 1, 100); //  expires while the only publisher is busy
    int64_t started = zhub_mono_ms ();
    zhub_publisher_submit (publisher, &slow.job);
    usleep (20 * 1000);
    zhub_publisher_submit (publisher, &late.job);
    s_wait_all (&slow, 1);
    s_wait_all (&late, 1);
    CHECK (late.done == 1 && zhub_publish_job_rc (&late.job) == ZHUB_RETRY);
    CHECK (s_messages == 1); //  never sent
    CHECK (late.done_ms - started < 1000);
    zhub_publisher_destroy (&publisher);
}

static void
test_stop_finishes_queued_jobs_and_refuses_new_ones (void)
{
    s_reset (30, ZHUB_OK);
    zhub_publisher_t *publisher = zhub_publisher_new ("tcp://127.0.0.1:1", NULL, 1);
    enum { N = 5 };
    static s_req_t reqs[N];
    for (int i = 0; i < N; i++) {
        s_req_init (&reqs[i], 1, 2000);
        zhub_publisher_submit (publisher, &reqs[i].job);
    }
    zhub_publisher_stop (publisher);
    for (int i = 0; i < N; i++) //  every callback has run when stop returns
        CHECK (reqs[i].done == 1 && zhub_publish_job_rc (&reqs[i].job) == ZHUB_OK);
    s_req_t after;
    s_req_init (&after, 1, 2000);
    zhub_publisher_submit (publisher, &after.job);
    CHECK (after.done == 1 && zhub_publish_job_rc (&after.job) == ZHUB_RETRY);
    zhub_publisher_stop (publisher); //  idempotent
    zhub_publisher_destroy (&publisher);
}

int
main (void)
{
    RUN (test_jobs_queued_meanwhile_share_one_batch);
    RUN (test_failures_come_back_and_renew_the_client);
    RUN (test_a_job_that_waits_too_long_comes_back_unsent);
    RUN (test_stop_finishes_queued_jobs_and_refuses_new_ones);
    TEST_EXIT ();
}
