//  Load generator for NATS JetStream, used by bench/broker/run (not a test):
//  the same load as zhub_bench.c, through the official C client (Debian's
//  libnats-dev, API: https://nats-io.github.io/nats.c/).
//
//    nats_bench setup URL CONSUMERS CREDIT        stream BENCH + durable pull consumer
//    nats_bench pub URL PUBLISHERS COUNT SIZE WINDOW  -> JSON line
//    nats_bench sub URL CONSUMERS COUNT CREDIT        -> JSON line
//
//  Publishers: js_PublishAsync with a Nats-Msg-Id (dedup, as zhub's id),
//  at most WINDOW unconfirmed per connection; each message is timed from
//  the moment it is handed to the client to its PubAck.
//  Consumers: one durable pull consumer "bench" (explicit ack, at most
//  CONSUMERS x CREDIT unacked, as zhub's per-member credit), each
//  connection fetching up to CREDIT at a time and acking every message on
//  its own (+ACK, unanswered). The consume time ends when the server's
//  consumer info shows nothing pending and nothing unacked.
#include "bench_util.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *s_usage = "usage: nats_bench setup URL CONSUMERS CREDIT\n"
                             "       nats_bench pub URL PUBLISHERS COUNT SIZE WINDOW\n"
                             "       nats_bench sub URL CONSUMERS COUNT CREDIT\n";

#define S_STREAM "BENCH"
#define S_CONSUMER "bench"

static int
s_fail (const char *what, natsStatus s)
{
    fprintf (stderr, "nats_bench: %s: %s (%s)\n", what, natsStatus_GetText (s),
             nats_GetLastError (NULL) ? nats_GetLastError (NULL) : "");
    return -1;
}

static int
s_setup (const char *url, int consumers, int credit)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus s = natsConnection_ConnectTo (&nc, url);
    if (s == NATS_OK)
        s = natsConnection_JetStream (&js, nc, NULL);
    if (s != NATS_OK)
        return s_fail ("connect", s);
    js_DeleteStream (js, S_STREAM, NULL, NULL); //  a fresh server has none
    jsStreamConfig sc;
    jsStreamConfig_Init (&sc);
    const char *subjects[] = {"bench.>"};
    sc.Name = S_STREAM;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Retention = js_LimitsPolicy;
    sc.Replicas = 1;
    jsErrCode jerr = 0;
    s = js_AddStream (NULL, js, &sc, NULL, &jerr);
    if (s != NATS_OK)
        return s_fail ("add stream", s);
    jsConsumerConfig cc;
    jsConsumerConfig_Init (&cc);
    cc.Durable = S_CONSUMER;
    cc.FilterSubject = "bench.>";
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)60 * 1000000000;
    cc.MaxAckPending = (int64_t)consumers * credit;
    s = js_AddConsumer (NULL, js, S_STREAM, &cc, NULL, &jerr);
    if (s != NATS_OK)
        return s_fail ("add consumer", s);
    jsCtx_Destroy (js);
    natsConnection_Destroy (nc);
    return 0;
}

typedef struct {
    const char *url;
    int index, count, size, window;
    int64_t *latency_us; //  one per confirmed message
    int64_t *sent_at;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int inflight, done, errors;
} s_pub_t;

//  Called on the connection's reply thread for every PubAck (or error);
//  msg is the published message, ours to destroy. Its Nats-Msg-Id ends
//  with the message's index.
static void
s_on_puback (jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pa;
    s_pub_t *p = closure;
    int64_t now = bench_now_us ();
    const char *id = NULL;
    long index = -1;
    if (natsMsgHeader_Get (msg, "Nats-Msg-Id", &id) == NATS_OK && id)
        index = strtol (strrchr (id, '-') + 1, NULL, 10);
    natsMsg_Destroy (msg);
    pthread_mutex_lock (&p->lock);
    if (pae || index < 0 || index >= p->count)
        p->errors++;
    else
        p->latency_us[p->done++] = now - p->sent_at[index];
    p->inflight--;
    pthread_cond_signal (&p->cond);
    pthread_mutex_unlock (&p->lock);
}

static void *
s_publisher (void *arg)
{
    s_pub_t *p = arg;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsOptions jo;
    jsOptions_Init (&jo);
    //  the window is kept below; the library's own limit sits above it so
    //  that it never stalls a publish (it counts a message as pending until
    //  the ack callback has returned)
    jo.PublishAsync.MaxPending = (int64_t)p->window * 2;
    jo.PublishAsync.StallWait = 10000;
    jo.PublishAsync.AckHandler = s_on_puback;
    jo.PublishAsync.AckHandlerClosure = p;
    natsStatus s = natsConnection_ConnectTo (&nc, p->url);
    if (s == NATS_OK)
        s = natsConnection_JetStream (&js, nc, &jo);
    if (s != NATS_OK) {
        s_fail ("connect", s);
        p->errors++;
        return NULL;
    }
    char *pad = malloc ((size_t)p->size);
    memset (pad, 'x', (size_t)p->size);
    for (int next = 0; next < p->count; next++) {
        pthread_mutex_lock (&p->lock);
        while (p->inflight >= p->window) {
            struct timespec until;
            clock_gettime (CLOCK_REALTIME, &until);
            until.tv_sec += 10;
            if (pthread_cond_timedwait (&p->cond, &p->lock, &until)) {
                fprintf (stderr, "nats_bench: publisher %d: no PubAck in 10 s\n", p->index);
                p->errors++;
                pthread_mutex_unlock (&p->lock);
                goto done;
            }
        }
        p->inflight++;
        pthread_mutex_unlock (&p->lock);
        char id[64];
        snprintf (id, sizeof id, "b%d-%d-%d", (int)getpid (), p->index, next);
        jsPubOptions po;
        jsPubOptions_Init (&po);
        po.MsgId = id;
        p->sent_at[next] = bench_now_us ();
        s = js_PublishAsync (js, "bench.msg", pad, p->size, &po);
        if (s != NATS_OK) {
            s_fail ("publish", s);
            pthread_mutex_lock (&p->lock);
            p->errors++;
            p->inflight--;
            pthread_mutex_unlock (&p->lock);
        }
    }
    jsPubOptions po;
    jsPubOptions_Init (&po);
    po.MaxWait = 10000;
    if (js_PublishAsyncComplete (js, &po) != NATS_OK)
        p->errors++;
done:
    free (pad);
    jsCtx_Destroy (js);
    natsConnection_Destroy (nc);
    return NULL;
}

typedef struct {
    const char *url;
    int credit;
    bench_left_t *left;
    natsConnection *nc; //  main closes it to end a waiting fetch, then destroys it
    int got, errors;
} s_sub_t;

//  Fetches and acks until the consumers together have everything.
//  natsSubscription_Fetch first asks with no_wait (the server answers at
//  once with what it has, up to CREDIT), and waits only when there is
//  nothing. Its wait is long on purpose: libnats 3.4.1 (Debian 12) writes
//  past its array when a fetch starts with messages still queued from an
//  earlier request that timed out on the client's side (fixed in 3.9.0,
//  https://github.com/nats-io/nats.c/pull/749); a long wait leaves no such
//  messages. main closes the connection to end the last, idle fetch.
static void *
s_consumer (void *arg)
{
    s_sub_t *c = arg;
    jsCtx *js = NULL;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    natsStatus s = natsConnection_JetStream (&js, c->nc, NULL);
    if (s == NATS_OK)
        s = js_PullSubscribe (&sub, js, "bench.>", S_CONSUMER, NULL, NULL, &jerr);
    if (s != NATS_OK) {
        s_fail ("pull subscribe", s);
        c->errors++;
        bench_left_abort (c->left);
        jsCtx_Destroy (js);
        return NULL;
    }
    while (bench_left_get (c->left) > 0) {
        natsMsgList list = {0};
        s = natsSubscription_Fetch (&list, sub, c->credit, BENCH_GIVE_UP_MS, &jerr);
        if (bench_left_get (c->left) <= 0 && s != NATS_OK)
            break; //  closed by main: everything is consumed
        if (s == NATS_TIMEOUT && list.Count == 0)
            continue; //  408: other consumers' requests cover what is left
        if (s != NATS_OK) {
            s_fail ("fetch", s);
            c->errors++;
            bench_left_abort (c->left);
            break;
        }
        for (int i = 0; i < list.Count; i++)
            if (natsMsg_Ack (list.Msgs[i], NULL) != NATS_OK)
                c->errors++;
        c->got += list.Count;
        bench_left_take (c->left, list.Count);
        natsMsgList_Destroy (&list);
    }
    natsSubscription_Destroy (sub);
    jsCtx_Destroy (js);
    return NULL;
}

//  The +ACKs are not answered; the consumer's info on the server says when
//  every one of them has been applied (nothing pending, nothing unacked).
static int
s_wait_all_acked (const char *url, bench_left_t *left)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus s = natsConnection_ConnectTo (&nc, url);
    if (s == NATS_OK)
        s = natsConnection_JetStream (&js, nc, NULL);
    if (s != NATS_OK)
        return s_fail ("connect", s);
    int64_t started = bench_now_us ();
    while (bench_left_get (left) > 0) {
        if (bench_now_us () - started > (int64_t)600 * 1000000)
            return -1;
        usleep (1000);
    }
    int rc = -1;
    while (!bench_left_aborted (left) && bench_now_us () - started < (int64_t)600 * 1000000) {
        jsConsumerInfo *ci = NULL;
        jsErrCode jerr = 0;
        if (js_GetConsumerInfo (&ci, js, S_STREAM, S_CONSUMER, NULL, &jerr) == NATS_OK) {
            bool clear = ci->NumAckPending == 0 && ci->NumPending == 0;
            jsConsumerInfo_Destroy (ci);
            if (clear) {
                bench_left_confirmed (left);
                rc = 0;
                break;
            }
        }
        usleep (1000);
    }
    jsCtx_Destroy (js);
    natsConnection_Destroy (nc);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc == 5 && !strcmp (argv[1], "setup"))
        return s_setup (argv[2], atoi (argv[3]), atoi (argv[4])) ? 1 : 0;
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
            s_pub_t *p = &pubs[i];
            *p = (s_pub_t){.url = a.endpoint,
                           .index = i,
                           .count = per,
                           .size = a.size,
                           .window = a.window,
                           .latency_us = all + (size_t)i * per};
            p->sent_at = calloc ((size_t)per, sizeof (int64_t));
            pthread_mutex_init (&p->lock, NULL);
            pthread_cond_init (&p->cond, NULL);
            pthread_create (&threads[i], NULL, s_publisher, p);
        }
        int errors = 0, done = 0;
        for (int i = 0; i < n; i++) {
            pthread_join (threads[i], NULL);
            errors += pubs[i].errors;
        }
        double seconds = (double)(bench_now_us () - start) / 1e6;
        //  compact the latencies of what was confirmed
        for (int i = 0; i < n; i++) {
            memmove (all + done, pubs[i].latency_us, (size_t)pubs[i].done * sizeof (int64_t));
            done += pubs[i].done;
        }
        bench_print_pub (all, done, seconds, errors);
        nats_Close ();
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
    int errors = 0;
    for (int i = 0; i < n; i++) {
        subs[i] = (s_sub_t){a.endpoint, a.credit, &left, NULL, 0, 0};
        natsStatus s = natsConnection_ConnectTo (&subs[i].nc, a.endpoint);
        if (s != NATS_OK) {
            s_fail ("connect", s);
            return 1;
        }
        pthread_create (&threads[i], NULL, s_consumer, &subs[i]);
    }
    if (s_wait_all_acked (a.endpoint, &left))
        errors++;
    int got = 0;
    for (int i = 0; i < n; i++) {
        natsConnection_Close (subs[i].nc);
        pthread_join (threads[i], NULL);
        natsConnection_Destroy (subs[i].nc);
        got += subs[i].got;
        errors += subs[i].errors;
    }
    bench_print_sub (got, (double)(left.confirmed_at - start) / 1e6, errors);
    nats_Close ();
    return got >= a.count && !errors ? 0 : 1;
}
