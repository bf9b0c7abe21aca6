//  Load generator for Redis Streams, used by bench/broker/run (not a test):
//  the same load as zhub_bench.c, through hiredis (Debian's libhiredis-dev,
//  https://github.com/redis/hiredis).
//
//    redis_bench setup HOST:PORT                       stream "bench", group "g"
//    redis_bench pub HOST:PORT PUBLISHERS COUNT SIZE WINDOW  -> JSON line
//    redis_bench sub HOST:PORT CONSUMERS COUNT CREDIT        -> JSON line
//
//  Publishers: pipelined XADD bench * d <SIZE bytes>, at most WINDOW
//  unanswered per connection; each is timed from its write to its reply
//  (with appendfsync always Redis answers after the AOF write and fsync of
//  that event-loop turn:
//  https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/). Consumers:
//  XREADGROUP GROUP g cN COUNT CREDIT, then one XACK per message, pipelined together with the next
//  XREADGROUP; the replies to the XACKs confirm them. Redis has no dedup and no per-key ordering.
#include "bench_util.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_usage = "usage: redis_bench setup HOST:PORT\n"
                             "       redis_bench pub HOST:PORT PUBLISHERS COUNT SIZE WINDOW\n"
                             "       redis_bench sub HOST:PORT CONSUMERS COUNT CREDIT\n";

static redisContext *
s_connect (const char *endpoint)
{
    char host[256];
    const char *colon = strrchr (endpoint, ':');
    if (!colon || (size_t)(colon - endpoint) >= sizeof host) {
        fprintf (stderr, "redis_bench: endpoint must be HOST:PORT, not %s\n", endpoint);
        return NULL;
    }
    memcpy (host, endpoint, (size_t)(colon - endpoint));
    host[colon - endpoint] = 0;
    redisContext *c = redisConnect (host, atoi (colon + 1));
    if (!c || c->err) {
        fprintf (stderr, "redis_bench: connect %s: %s\n", endpoint, c ? c->errstr : "no memory");
        redisFree (c);
        return NULL;
    }
    return c;
}

//  Writes everything appended so far.
static int
s_flush (redisContext *c)
{
    int done = 0;
    while (!done)
        if (redisBufferWrite (c, &done) != REDIS_OK)
            return -1;
    return 0;
}

static int
s_setup (const char *endpoint)
{
    redisContext *c = s_connect (endpoint);
    if (!c)
        return -1;
    redisReply *r = redisCommand (c, "DEL bench");
    freeReplyObject (r);
    r = redisCommand (c, "XGROUP CREATE bench g 0 MKSTREAM");
    int rc = r && r->type == REDIS_REPLY_STATUS ? 0 : -1;
    if (rc)
        fprintf (stderr, "redis_bench: XGROUP CREATE: %s\n", r ? r->str : c->errstr);
    freeReplyObject (r);
    redisFree (c);
    return rc;
}

typedef struct {
    const char *endpoint;
    int index, count, size, window;
    int64_t *latency_us;
    int done, errors;
} s_pub_t;

static void *
s_publisher (void *arg)
{
    s_pub_t *p = arg;
    redisContext *c = s_connect (p->endpoint);
    if (!c) {
        p->errors++;
        return NULL;
    }
    char *pad = malloc ((size_t)p->size);
    memset (pad, 'x', (size_t)p->size);
    const char *argv[] = {"XADD", "bench", "*", "d", pad};
    size_t argvlen[] = {4, 5, 1, 1, (size_t)p->size};
    int64_t *sent_at = calloc ((size_t)p->count, sizeof (int64_t));
    int next = 0;
    //  replies come in order: the oldest unanswered is p->done
    while (p->done < p->count) {
        int first = next;
        while (next - p->done < p->window && next < p->count) {
            redisAppendCommandArgv (c, 5, argv, argvlen);
            next++;
        }
        int64_t now = bench_now_us ();
        for (int i = first; i < next; i++)
            sent_at[i] = now;
        if (s_flush (c))
            break;
        //  one reply (blocking), then whatever else has already arrived
        redisReply *r = NULL;
        if (redisGetReply (c, (void **)&r) != REDIS_OK)
            break;
        while (r) {
            if (r->type != REDIS_REPLY_STRING)
                p->errors++;
            p->latency_us[p->done] = bench_now_us () - sent_at[p->done];
            p->done++;
            freeReplyObject (r);
            r = NULL;
            if (redisGetReplyFromReader (c, (void **)&r) != REDIS_OK)
                break;
        }
    }
    if (c->err) {
        fprintf (stderr, "redis_bench: publisher %d: %s\n", p->index, c->errstr);
        p->errors++;
    }
    free (sent_at);
    free (pad);
    redisFree (c);
    return NULL;
}

typedef struct {
    const char *endpoint;
    int index, credit;
    bench_left_t *left;
    int got, errors;
} s_sub_t;

static void
s_append_read (redisContext *c, const char *name, int credit)
{
    redisAppendCommand (c, "XREADGROUP GROUP g %s COUNT %d BLOCK %d STREAMS bench >", name, credit,
                        BENCH_POLL_MS);
}

static void *
s_consumer (void *arg)
{
    s_sub_t *s = arg;
    redisContext *c = s_connect (s->endpoint);
    if (!c) {
        s->errors++;
        bench_left_abort (s->left);
        return NULL;
    }
    char name[32];
    snprintf (name, sizeof name, "c%d", s->index);
    int64_t last = bench_now_us ();
    s_append_read (c, name, s->credit);
    for (;;) {
        redisReply *r = NULL;
        if (redisGetReply (c, (void **)&r) != REDIS_OK)
            break;
        //  [[stream, [[id, [field, value]], ...]]] or nil when BLOCK ran out
        redisReply *entries = NULL;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1
            && r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2)
            entries = r->element[0]->element[1];
        if (!entries || entries->elements == 0) {
            if (r->type == REDIS_REPLY_ERROR) {
                fprintf (stderr, "redis_bench: XREADGROUP: %s\n", r->str);
                s->errors++;
                bench_left_abort (s->left);
            } else if (bench_now_us () - last > BENCH_GIVE_UP_MS * 1000) {
                s->errors++;
                bench_left_abort (s->left);
            }
            freeReplyObject (r);
            if (bench_left_get (s->left) <= 0)
                break;
            s_append_read (c, name, s->credit);
            continue;
        }
        int n = (int)entries->elements;
        for (int i = 0; i < n; i++) {
            redisReply *id = entries->element[i]->element[0];
            redisAppendCommand (c, "XACK bench g %b", id->str, (size_t)id->len);
        }
        freeReplyObject (r);
        int left = bench_left_take (s->left, n);
        if (left > 0)
            s_append_read (c, name, s->credit);
        s->got += n;
        last = bench_now_us ();
        bool broken = false;
        for (int i = 0; i < n; i++) {
            redisReply *ack = NULL;
            if (redisGetReply (c, (void **)&ack) != REDIS_OK) {
                broken = true;
                break;
            }
            if (ack->type != REDIS_REPLY_INTEGER || ack->integer != 1)
                s->errors++;
            freeReplyObject (ack);
        }
        if (broken)
            break;
        bench_left_confirmed (s->left);
        if (left <= 0)
            break;
    }
    if (c->err) {
        fprintf (stderr, "redis_bench: consumer %d: %s\n", s->index, c->errstr);
        s->errors++;
        bench_left_abort (s->left);
    }
    redisFree (c);
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc == 3 && !strcmp (argv[1], "setup"))
        return s_setup (argv[2]) ? 1 : 0;
    bench_args_t a;
    if (bench_args_parse (&a, argc, argv, s_usage))
        return 2;
    int n = a.clients;
    if (!strcmp (a.mode, "pub")) {
        s_pub_t *pubs = calloc ((size_t)n, sizeof (s_pub_t));
        pthread_t *threads = calloc ((size_t)n, sizeof (pthread_t));
        int per = a.count / n;
        int64_t *all = calloc ((size_t)per * n, sizeof (int64_t));
        int64_t start = bench_now_us ();
        for (int i = 0; i < n; i++) {
            pubs[i] = (s_pub_t){a.endpoint, i, per, a.size, a.window, all + (size_t)i * per, 0, 0};
            pthread_create (&threads[i], NULL, s_publisher, &pubs[i]);
        }
        int errors = 0, done = 0;
        for (int i = 0; i < n; i++) {
            pthread_join (threads[i], NULL);
            errors += pubs[i].errors;
        }
        double seconds = (double)(bench_now_us () - start) / 1e6;
        for (int i = 0; i < n; i++) {
            memmove (all + done, pubs[i].latency_us, (size_t)pubs[i].done * sizeof (int64_t));
            done += pubs[i].done;
        }
        bench_print_pub (all, done, seconds, errors);
        return errors || done < per * n ? 1 : 0;
    }
    if (strcmp (a.mode, "sub")) {
        fprintf (stderr, "%s", s_usage);
        return 2;
    }
    bench_left_t left;
    bench_left_init (&left, a.count);
    s_sub_t *subs = calloc ((size_t)n, sizeof (s_sub_t));
    pthread_t *threads = calloc ((size_t)n, sizeof (pthread_t));
    int64_t start = bench_now_us ();
    for (int i = 0; i < n; i++) {
        subs[i] = (s_sub_t){a.endpoint, i, a.credit, &left, 0, 0};
        pthread_create (&threads[i], NULL, s_consumer, &subs[i]);
    }
    int got = 0, errors = 0;
    for (int i = 0; i < n; i++) {
        pthread_join (threads[i], NULL);
        got += subs[i].got;
        errors += subs[i].errors;
    }
    bench_print_sub (got, (double)(left.confirmed_at - start) / 1e6, errors);
    return got >= a.count && !errors ? 0 : 1;
}
