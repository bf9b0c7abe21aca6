//  What the three load clients of bench/broker (zhub_bench, nats_bench,
//  redis_bench) share, so that they measure the same way: the clock, the
//  arguments they all take, the consumers' common stopping rule and the
//  one JSON line each prints for bench.py.
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

//  Microseconds on the monotonic clock.
int64_t bench_now_us (void);

//  How long a consumer waits for a message before it looks again whether
//  the others have consumed everything (zhub recv, XREADGROUP BLOCK; the
//  JetStream client ends its last fetch by closing the connection, see
//  nats_bench.c). Bounds how late a consumer notices the end.
#define BENCH_POLL_MS 10

//  A consumer that got nothing for this long gives up (the run then
//  reports fewer messages than published and fails).
#define BENCH_GIVE_UP_MS 15000

//  The arguments every client takes after its mode and endpoint:
//    pub ENDPOINT CLIENTS COUNT SIZE WINDOW [EXTRA]
//    sub ENDPOINT CLIENTS COUNT CREDIT [EXTRA]
//  Parses them into *args; returns 0, or -1 (with a message on stderr)
//  when one is missing or not a positive number.
typedef struct {
    const char *mode, *endpoint;
    int clients, count;
    int size, window; //  pub
    int credit;       //  sub
    const char *extra;
} bench_args_t;

int bench_args_parse (bench_args_t *args, int argc, char **argv, const char *usage);

//  The consumers' shared count of messages still to consume, and the time
//  the last ack was confirmed. A consumer takes what it received off
//  `remaining` (bench_left_take) and, once the server has confirmed its
//  acks, records the time (bench_left_confirmed). The run's consume time
//  ends at the latest confirmation.
//  A consumer that fails calls bench_left_abort: the others stop too.
typedef struct {
    pthread_mutex_t lock;
    int remaining;
    bool aborted;
    int64_t confirmed_at;
} bench_left_t;

void bench_left_init (bench_left_t *self, int count);
//  Takes n messages off; returns how many remain after that.
int bench_left_take (bench_left_t *self, int n);
int bench_left_get (bench_left_t *self);
void bench_left_confirmed (bench_left_t *self);
void bench_left_abort (bench_left_t *self);
bool bench_left_aborted (bench_left_t *self);

//  Prints the publish result: latencies (microseconds, one per confirmed
//  message, sorted in place) → {"messages","seconds","rate","p50_ms",
//  "p99_ms","errors"}.
void bench_print_pub (int64_t *latency_us, int messages, double seconds, int errors);

//  Prints the consume result {"messages","seconds","rate","errors"}.
void bench_print_sub (int messages, double seconds, int errors);

#endif
