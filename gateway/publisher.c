//  Publisher threads and the queue of jobs between them and the requests.
//  Jobs belong to their requests; the publisher only links them. A job
//  that waited in the queue past its deadline (every publisher busy with a
//  broker that does not answer) is completed unsent with ZHUB_RETRY, so a
//  request never waits for more than two timeouts.
#include "publisher.h"
#include "zhub_client.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct zhub_publisher_t {
    char *endpoint;
    zhub_bus_auth_t auth; //  copied: the keys every publisher thread connects with
    pthread_mutex_t lock;
    pthread_cond_t work; //  a job was queued, or stopping
    zhub_publish_job_t *head, *tail;
    bool stopping;
    bool joined;
    pthread_t *threads;
    int thread_count;
};

static void
s_finish (zhub_publish_job_t *job)
{
    job->done_fn (job->done_arg);
}

static void
s_fail (zhub_publish_job_t *job)
{
    for (size_t i = 0; i < job->count; i++)
        job->results[i] = ZHUB_RETRY;
    s_finish (job);
}

static void *
s_publisher (void *arg)
{
    zhub_publisher_t *self = arg;
    zhub_client_t *client = NULL;
    zhub_publish_job_t *batch[ZHUB_PUBLISHER_BATCH_MAX];
    zhub_msg_t *msgs[ZHUB_PUBLISHER_BATCH_MAX];
    zhub_rc_t results[ZHUB_PUBLISHER_BATCH_MAX];
    for (;;) {
        pthread_mutex_lock (&self->lock);
        while (!self->head && !self->stopping)
            pthread_cond_wait (&self->work, &self->lock);
        if (!self->head) {
            pthread_mutex_unlock (&self->lock);
            break; //  stopping, and nothing left
        }
        //  Whole jobs while they fit; the first one always (a job of more
        //  messages than a batch holds is sent alone). Expired ones aside.
        size_t jobs = 0, total = 0, expired_count = 0;
        zhub_publish_job_t *expired[ZHUB_PUBLISHER_BATCH_MAX];
        int64_t now = zhub_mono_ms ();
        int timeout = 1;
        while (self->head && jobs < ZHUB_PUBLISHER_BATCH_MAX
               && expired_count < ZHUB_PUBLISHER_BATCH_MAX
               && (jobs == 0 || total + self->head->count <= ZHUB_PUBLISHER_BATCH_MAX)) {
            zhub_publish_job_t *job = self->head;
            self->head = job->next;
            if (!self->head)
                self->tail = NULL;
            job->next = NULL;
            if (job->deadline_ms < now) {
                expired[expired_count++] = job;
                continue;
            }
            batch[jobs++] = job;
            total += job->count;
            timeout = job->timeout_ms > timeout ? job->timeout_ms : timeout;
        }
        pthread_mutex_unlock (&self->lock);
        for (size_t j = 0; j < expired_count; j++)
            s_fail (expired[j]);
        if (jobs == 0)
            continue;

        if (!client)
            client = zhub_client_new (self->endpoint, "zhub-gateway", &self->auth);
        for (size_t j = 0; j < jobs; j++)
            for (size_t i = 0; i < batch[j]->count; i++)
                batch[j]->results[i] = ZHUB_RETRY;
        size_t j = 0;
        while (client && j < jobs) {
            if (batch[j]->count > ZHUB_PUBLISHER_BATCH_MAX) {
                zhub_client_publish_many (client, batch[j]->msgs, batch[j]->count, timeout,
                                          batch[j]->results);
                j++;
                continue;
            }
            size_t n = 0, first = j;
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
        bool failed = false;
        for (size_t k = 0; k < jobs; k++) {
            for (size_t i = 0; i < batch[k]->count; i++)
                failed |= batch[k]->results[i] == ZHUB_RETRY;
            s_finish (batch[k]); //  the job may be gone after this
        }
        //  Unconfirmed: a fresh socket next time (a restarted broker may
        //  have lost our half-sent frames).
        if (failed)
            zhub_client_destroy (&client);
    }
    zhub_client_destroy (&client);
    return NULL;
}

zhub_publisher_t *
zhub_publisher_new (const char *endpoint, const zhub_bus_auth_t *auth, int threads)
{
    zhub_publisher_t *self = zhub_calloc (1, sizeof *self);
    self->endpoint = zhub_strdup (endpoint);
    if (auth)
        self->auth = *auth;
    else
        self->auth.security = ZHUB_BUS_PLAIN;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->work, NULL);
    int count = threads > 0 ? threads : 1;
    self->threads = zhub_calloc ((size_t)count, sizeof *self->threads);
    for (int i = 0; i < count; i++) {
        if (pthread_create (&self->threads[i], NULL, s_publisher, self)) {
            zhub_publisher_destroy (&self);
            return NULL;
        }
        self->thread_count++;
    }
    return self;
}

void
zhub_publisher_submit (zhub_publisher_t *self, zhub_publish_job_t *job)
{
    job->next = NULL;
    job->deadline_ms = zhub_mono_ms () + job->timeout_ms;
    pthread_mutex_lock (&self->lock);
    if (self->stopping) {
        pthread_mutex_unlock (&self->lock);
        s_fail (job);
        return;
    }
    if (self->tail)
        self->tail->next = job;
    else
        self->head = job;
    self->tail = job;
    pthread_cond_signal (&self->work);
    pthread_mutex_unlock (&self->lock);
}

void
zhub_publisher_stop (zhub_publisher_t *self)
{
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_cond_broadcast (&self->work);
    bool joined = self->joined;
    self->joined = true;
    pthread_mutex_unlock (&self->lock);
    if (joined)
        return;
    for (int i = 0; i < self->thread_count; i++)
        pthread_join (self->threads[i], NULL);
}

void
zhub_publisher_destroy (zhub_publisher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_publisher_t *self = *self_p;
    zhub_publisher_stop (self);
    free (self->threads);
    pthread_cond_destroy (&self->work);
    pthread_mutex_destroy (&self->lock);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

zhub_rc_t
zhub_publish_job_rc (const zhub_publish_job_t *job)
{
    zhub_rc_t overall = ZHUB_OK;
    for (size_t i = 0; i < job->count; i++) {
        if (job->results[i] == ZHUB_REJECT)
            overall = ZHUB_REJECT;
        else if (job->results[i] != ZHUB_OK && overall == ZHUB_OK)
            overall = ZHUB_RETRY;
    }
    return overall;
}
