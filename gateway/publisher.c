//  Publisher threads and the queue of jobs between them and the request
//  threads. A job lives on its request thread's stack: a request never
//  leaves while a publisher holds its job (a sent job is always finished
//  by the publisher within its timeout), and a job still queued when the
//  request gives up is unlinked under the lock first.
#include "publisher.h"
#include "zhub_client.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct s_job_t {
    zhub_msg_t *const *msgs;
    size_t count;
    int timeout_ms;
    zhub_rc_t *results;
    bool sent, done;
    pthread_cond_t done_cond;
    struct s_job_t *next;
} s_job_t;

struct zhub_publisher_t {
    char *endpoint;
    pthread_mutex_t lock;
    pthread_cond_t work; //  a job was queued, or stopping
    s_job_t *head, *tail;
    bool stopping;
    pthread_t *threads;
    int thread_count;
};

static void
s_deadline (struct timespec *until, int64_t ms)
{
    clock_gettime (CLOCK_REALTIME, until);
    until->tv_sec += ms / 1000;
    until->tv_nsec += (ms % 1000) * 1000000L;
    if (until->tv_nsec >= 1000000000L) {
        until->tv_sec++;
        until->tv_nsec -= 1000000000L;
    }
}

static void *
s_publisher (void *arg)
{
    zhub_publisher_t *self = arg;
    zhub_client_t *client = NULL;
    s_job_t *batch[ZHUB_PUBLISHER_BATCH_MAX];
    zhub_msg_t *msgs[ZHUB_PUBLISHER_BATCH_MAX];
    zhub_rc_t results[ZHUB_PUBLISHER_BATCH_MAX];
    for (;;) {
        pthread_mutex_lock (&self->lock);
        while (!self->head && !self->stopping)
            pthread_cond_wait (&self->work, &self->lock);
        if (!self->head && self->stopping) {
            pthread_mutex_unlock (&self->lock);
            break;
        }
        //  Take whole jobs while they fit; the first one always (a job of
        //  more messages than a batch holds is sent alone).
        size_t jobs = 0, total = 0;
        int timeout = 0;
        while (self->head && jobs < ZHUB_PUBLISHER_BATCH_MAX
               && (jobs == 0 || total + self->head->count <= ZHUB_PUBLISHER_BATCH_MAX)) {
            s_job_t *job = self->head;
            self->head = job->next;
            if (!self->head)
                self->tail = NULL;
            job->sent = true;
            batch[jobs++] = job;
            total += job->count;
            timeout = job->timeout_ms > timeout ? job->timeout_ms : timeout;
        }
        pthread_mutex_unlock (&self->lock);

        if (!client)
            client = zhub_client_new (self->endpoint, "zhub-gateway");
        bool failed = false;
        //  Send in slices of the stack arrays; a big job gets its own call.
        for (size_t j = 0; j < jobs; j++)
            for (size_t i = 0; i < batch[j]->count; i++)
                batch[j]->results[i] = ZHUB_RETRY;
        if (client) {
            size_t j = 0;
            while (j < jobs) {
                size_t n = 0, first = j;
                if (batch[j]->count > ZHUB_PUBLISHER_BATCH_MAX) {
                    zhub_client_publish_many (client, batch[j]->msgs, batch[j]->count, timeout,
                                              batch[j]->results);
                    j++;
                    continue;
                }
                while (j < jobs && n + batch[j]->count <= ZHUB_PUBLISHER_BATCH_MAX) {
                    memcpy (msgs + n, batch[j]->msgs, batch[j]->count * sizeof *msgs);
                    n += batch[j]->count;
                    j++;
                }
                zhub_client_publish_many (client, msgs, n, timeout, results);
                size_t at = 0;
                for (size_t k = first; k < j; k++) {
                    memcpy (batch[k]->results, results + at, batch[k]->count * sizeof *results);
                    at += batch[k]->count;
                }
            }
        }
        pthread_mutex_lock (&self->lock);
        for (size_t j = 0; j < jobs; j++) {
            for (size_t i = 0; i < batch[j]->count; i++)
                failed |= batch[j]->results[i] == ZHUB_RETRY;
            batch[j]->done = true;
            pthread_cond_signal (&batch[j]->done_cond);
        }
        pthread_mutex_unlock (&self->lock);
        //  Unconfirmed: a fresh socket next time (a restarted broker may
        //  have lost our half-sent frames; ZMQ_IMMEDIATE keeps nothing queued).
        if (failed)
            zhub_client_destroy (&client);
    }
    zhub_client_destroy (&client);
    return NULL;
}

zhub_publisher_t *
zhub_publisher_new (const char *endpoint, int threads)
{
    zhub_publisher_t *self = zhub_calloc (1, sizeof *self);
    self->endpoint = zhub_strdup (endpoint);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->work, NULL);
    self->threads = zhub_calloc ((size_t)(threads > 0 ? threads : 1), sizeof *self->threads);
    for (int i = 0; i < (threads > 0 ? threads : 1); i++) {
        if (pthread_create (&self->threads[i], NULL, s_publisher, self)) {
            zhub_publisher_destroy (&self);
            return NULL;
        }
        self->thread_count++;
    }
    return self;
}

void
zhub_publisher_destroy (zhub_publisher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_publisher_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_cond_broadcast (&self->work);
    pthread_mutex_unlock (&self->lock);
    for (int i = 0; i < self->thread_count; i++)
        pthread_join (self->threads[i], NULL);
    free (self->threads);
    pthread_cond_destroy (&self->work);
    pthread_mutex_destroy (&self->lock);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

zhub_rc_t
zhub_publisher_publish (zhub_publisher_t *self, zhub_msg_t *const *msgs, size_t count,
                        int timeout_ms, zhub_rc_t *results)
{
    if (count == 0)
        return ZHUB_OK;
    s_job_t job = {.msgs = msgs, .count = count, .timeout_ms = timeout_ms, .results = results};
    for (size_t i = 0; i < count; i++)
        results[i] = ZHUB_RETRY;
    pthread_cond_init (&job.done_cond, NULL);
    struct timespec until;
    s_deadline (&until, timeout_ms);
    pthread_mutex_lock (&self->lock);
    if (self->tail)
        self->tail->next = &job;
    else
        self->head = &job;
    self->tail = &job;
    pthread_cond_signal (&self->work);
    while (!job.done) {
        if (!job.sent) {
            if (pthread_cond_timedwait (&job.done_cond, &self->lock, &until) && !job.sent) {
                //  Still queued at the deadline: unlink it and give up.
                s_job_t **at = &self->head, *prev = NULL;
                while (*at && *at != &job) {
                    prev = *at;
                    at = &(*at)->next;
                }
                if (*at) {
                    *at = job.next;
                    if (self->tail == &job)
                        self->tail = prev;
                }
                break;
            }
        } else
            pthread_cond_wait (&job.done_cond, &self->lock); //  bounded by the publisher
    }
    pthread_mutex_unlock (&self->lock);
    pthread_cond_destroy (&job.done_cond);
    zhub_rc_t overall = ZHUB_OK;
    for (size_t i = 0; i < count; i++) {
        if (results[i] == ZHUB_REJECT)
            overall = ZHUB_REJECT;
        else if (results[i] != ZHUB_OK && overall == ZHUB_OK)
            overall = ZHUB_RETRY;
    }
    return overall;
}
