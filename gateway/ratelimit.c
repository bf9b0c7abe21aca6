//  The token bucket: refill by elapsed time, take one. A new bucket starts
//  full, so a sender's first burst up to `burst` requests is never refused.
#include <stdbool.h>

#include "ratelimit.h"

int64_t
zhub_bucket_take (zhub_bucket_t *bucket, int64_t now_ms, double rate, double burst)
{
    if (!bucket->started) {
        bucket->started = true;
        bucket->tokens = burst;
        bucket->updated_ms = now_ms;
    }
    if (now_ms > bucket->updated_ms) {
        bucket->tokens += (double)(now_ms - bucket->updated_ms) * rate / 1000.0;
        if (bucket->tokens > burst)
            bucket->tokens = burst;
        bucket->updated_ms = now_ms;
    }
    if (bucket->tokens >= 1.0) {
        bucket->tokens -= 1.0;
        return 0;
    }
    double wait_s = (1.0 - bucket->tokens) / rate;
    int64_t whole = (int64_t)wait_s;
    return whole < wait_s || whole == 0 ? whole + 1 : whole;
}
