//  Shared by bench/broker's load clients: one clock, one argument parser,
//  one stopping rule for consumers and one output format, so that every
//  system is measured the same way (see bench_util.h).
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int64_t
bench_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
s_positive (const char *text, int *out)
{
    char *end;
    long value = strtol (text, &end, 10);
    if (*text == 0 || *end != 0 || value < 1 || value > 100000000)
        return -1;
    *out = (int)value;
    return 0;
}

int
bench_args_parse (bench_args_t *args, int argc, char **argv, const char *usage)
{
    *args = (bench_args_t){0};
    if (argc < 6) {
        fprintf (stderr, "%s", usage);
        return -1;
    }
    args->mode = argv[1];
    args->endpoint = argv[2];
    int fifth;
    if (s_positive (argv[3], &args->clients) || s_positive (argv[4], &args->count)
        || s_positive (argv[5], &fifth)) {
        fprintf (stderr, "bench: CLIENTS, COUNT and SIZE/CREDIT must be positive numbers\n%s",
                 usage);
        return -1;
    }
    int next = 6;
    if (argv[1][0] == 'p') {
        args->size = fifth;
        if (argc < 7 || s_positive (argv[6], &args->window)) {
            fprintf (stderr, "bench: pub needs a positive WINDOW\n%s", usage);
            return -1;
        }
        next = 7;
    } else
        args->credit = fifth;
    if (args->count < args->clients) {
        fprintf (stderr, "bench: COUNT must be at least CLIENTS\n");
        return -1;
    }
    args->extra = argc > next ? argv[next] : NULL;
    return 0;
}

void
bench_left_init (bench_left_t *self, int count)
{
    pthread_mutex_init (&self->lock, NULL);
    self->remaining = count;
    self->aborted = false;
    self->confirmed_at = 0;
}

int
bench_left_take (bench_left_t *self, int n)
{
    pthread_mutex_lock (&self->lock);
    self->remaining -= n;
    int left = self->remaining;
    pthread_mutex_unlock (&self->lock);
    return left;
}

int
bench_left_get (bench_left_t *self)
{
    pthread_mutex_lock (&self->lock);
    int left = self->remaining;
    pthread_mutex_unlock (&self->lock);
    return left;
}

void
bench_left_confirmed (bench_left_t *self)
{
    int64_t now = bench_now_us ();
    pthread_mutex_lock (&self->lock);
    if (now > self->confirmed_at)
        self->confirmed_at = now;
    pthread_mutex_unlock (&self->lock);
}

void
bench_left_abort (bench_left_t *self)
{
    pthread_mutex_lock (&self->lock);
    self->aborted = true;
    self->remaining = 0;
    pthread_mutex_unlock (&self->lock);
}

bool
bench_left_aborted (bench_left_t *self)
{
    pthread_mutex_lock (&self->lock);
    bool aborted = self->aborted;
    pthread_mutex_unlock (&self->lock);
    return aborted;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void
bench_print_pub (int64_t *latency_us, int messages, double seconds, int errors)
{
    double p50 = 0, p99 = 0;
    if (messages > 0) {
        qsort (latency_us, (size_t)messages, sizeof (int64_t), s_cmp);
        p50 = latency_us[messages / 2] / 1000.0;
        p99 = latency_us[(int)(messages * 0.99)] / 1000.0;
    }
    printf ("{\"messages\":%d,\"seconds\":%.3f,\"rate\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
            "\"errors\":%d}\n",
            messages, seconds, seconds > 0 ? messages / seconds : 0, p50, p99, errors);
}

void
bench_print_sub (int messages, double seconds, int errors)
{
    printf ("{\"messages\":%d,\"seconds\":%.3f,\"rate\":%.0f,\"errors\":%d}\n", messages, seconds,
            seconds > 0 ? messages / seconds : 0, errors);
}
