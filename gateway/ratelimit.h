//  Token buckets, one per source, so that one noisy sender (or one forged
//  flood aimed at one path) cannot take the capacity meant for the others.
//  Pure arithmetic on a caller-supplied clock; the server holds the lock.
#ifndef ZHUB_GATEWAY_RATELIMIT_H
#define ZHUB_GATEWAY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    double tokens;      //  tokens available
    int64_t updated_ms; //  when tokens was last refilled (monotonic ms)
    bool started;
} zhub_bucket_t;

//  Takes one token from bucket at now_ms, refilling rate tokens per second
//  up to burst. Returns 0 when taken, else the whole seconds (>= 1) after
//  which a token will be there: the Retry-After to send with 429.
int64_t zhub_bucket_take (zhub_bucket_t *bucket, int64_t now_ms, double rate, double burst);

#endif
