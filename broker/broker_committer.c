//  The commit thread: runs the turn's write transaction (LMDB commit and
//  its fdatasync) off the loop thread, so that the loop reads, decodes and
//  answers while the disk syncs. The design, kept deliberately small:
//
//  - ONE job at a time. The loop hands a job over (broker_committer_start),
//    the thread runs it (fn: zhub_store_write of the ops in
//    server->committing) and writes one byte to a pipe; the loop polls the
//    pipe's read end beside its socket and takes the result back
//    (broker_committer_take). Group commit falls out of this: whatever
//    arrives while a transaction syncs is collected into the next op list
//    and committed as ONE transaction as soon as the previous one is back.
//  - Ownership instead of locks on the broker's state. While a job is in
//    flight the commit thread alone touches what the transaction touches
//    (the committing op list, the log batch, the tables through the
//    store, erase_pending); the loop thread touches none of it, and runs
//    no step that would (timers, floors, maintenance, forgetting peers:
//    see broker_server.c). The mutex below only guards the hand-over
//    flags; taking it on both sides orders every write of one thread
//    before the other thread's reads (no data race).
//  - Durability is unchanged: the loop sends PUBACK, JOINED, PONG and the
//    deliveries of new messages only after it took back a job whose
//    transaction committed (fdatasync done), exactly as when it committed
//    itself. Turns that run maintenance (the dedup sweep, retention, an
//    erase step: they read the groups) are committed on the loop thread,
//    after the job in flight came back.
#include "broker_committer.h"

#include "zhub_common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct broker_committer_t {
    broker_committer_fn *fn;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int pipe[2];       //  [0] readable when a job is done; [1] the thread writes it
    bool pending;      //  a job is handed over and not yet run
    bool done;         //  the job ran: rc and elapsed_ms hold its result
    bool stop;         //  the thread exits once no job is pending
    zhub_rc_t rc;
    int64_t elapsed_ms;
};

static void *
s_run (void *arg)
{
    broker_committer_t *self = arg;
    pthread_mutex_lock (&self->lock);
    while (true) {
        while (!self->pending && !self->stop)
            pthread_cond_wait (&self->wake, &self->lock);
        if (!self->pending)
            break;
        pthread_mutex_unlock (&self->lock);
        int64_t started = zhub_mono_ms ();
        zhub_rc_t rc = self->fn (self->arg);
        int64_t elapsed = zhub_mono_ms () - started;
        pthread_mutex_lock (&self->lock);
        self->pending = false;
        self->done = true;
        self->rc = rc;
        self->elapsed_ms = elapsed;
        char one = 1;
        //  the pipe holds at most one byte per job: it cannot fill
        while (write (self->pipe[1], &one, 1) < 0 && errno == EINTR)
            ;
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

broker_committer_t *
broker_committer_new (broker_committer_fn *fn, void *arg)
{
    broker_committer_t *self = zhub_calloc (1, sizeof *self);
    self->fn = fn;
    self->arg = arg;
    if (pipe (self->pipe)) {
        free (self);
        return NULL;
    }
    fcntl (self->pipe[0], F_SETFL, O_NONBLOCK);
    fcntl (self->pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl (self->pipe[1], F_SETFD, FD_CLOEXEC);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    if (pthread_create (&self->thread, NULL, s_run, self)) {
        close (self->pipe[0]);
        close (self->pipe[1]);
        pthread_mutex_destroy (&self->lock);
        pthread_cond_destroy (&self->wake);
        free (self);
        return NULL;
    }
    return self;
}

void
broker_committer_destroy (broker_committer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_committer_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    self->stop = true;
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
    pthread_join (self->thread, NULL); //  a pending job runs to its end first
    close (self->pipe[0]);
    close (self->pipe[1]);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->wake);
    free (self);
    *self_p = NULL;
}

int
broker_committer_fd (broker_committer_t *self)
{
    return self->pipe[0];
}

void
broker_committer_start (broker_committer_t *self)
{
    pthread_mutex_lock (&self->lock);
    self->pending = true;
    self->done = false;
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
}

bool
broker_committer_take (broker_committer_t *self, bool wait, zhub_rc_t *rc, int64_t *elapsed_ms)
{
    char byte;
    if (wait) {
        //  blocking read: the thread writes one byte per job
        int flags = fcntl (self->pipe[0], F_GETFL);
        fcntl (self->pipe[0], F_SETFL, flags & ~O_NONBLOCK);
        ssize_t got;
        while ((got = read (self->pipe[0], &byte, 1)) < 0 && errno == EINTR)
            ;
        fcntl (self->pipe[0], F_SETFL, flags);
    } else if (read (self->pipe[0], &byte, 1) != 1)
        return false;
    pthread_mutex_lock (&self->lock);
    bool done = self->done;
    self->done = false;
    *rc = self->rc;
    *elapsed_ms = self->elapsed_ms;
    pthread_mutex_unlock (&self->lock);
    return done;
}
