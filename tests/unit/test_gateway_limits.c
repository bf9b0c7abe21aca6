//  The token bucket behind 429 (a full start, refill by time, the
//  Retry-After it computes) and the Prometheus exposition of /metrics.
#include "metrics.h"
#include "ratelimit.h"
#include "zhub_test.h"

static void
test_bucket_starts_full_and_refills (void)
{
    zhub_bucket_t bucket = {0};
    for (int i = 0; i < 5; i++)
        CHECK (zhub_bucket_take (&bucket, 1000, 1.0, 5.0) == 0);
    CHECK (zhub_bucket_take (&bucket, 1000, 1.0, 5.0) == 1); //  one token per second
    CHECK (zhub_bucket_take (&bucket, 1500, 1.0, 5.0) == 1); //  half a token: still 1 s
    CHECK (zhub_bucket_take (&bucket, 2000, 1.0, 5.0) == 0);
    //  a long pause refills only up to the burst
    for (int i = 0; i < 5; i++)
        CHECK (zhub_bucket_take (&bucket, 100000, 1.0, 5.0) == 0);
    CHECK (zhub_bucket_take (&bucket, 100000, 1.0, 5.0) > 0);
    //  a slow rate gives a longer Retry-After
    zhub_bucket_t slow = {0};
    CHECK (zhub_bucket_take (&slow, 0, 0.1, 1.0) == 0);
    CHECK (zhub_bucket_take (&slow, 0, 0.1, 1.0) == 10);
    //  the clock going backwards takes nothing away
    CHECK (zhub_bucket_take (&slow, -5000, 0.1, 1.0) == 10);
}

static void
test_metrics_exposition (void)
{
    zhub_gateway_metrics_t *metrics = zhub_gateway_metrics_new ();
    zhub_gateway_metrics_request (metrics, "hubspot", 200);
    zhub_gateway_metrics_request (metrics, "hubspot", 200);
    zhub_gateway_metrics_request (metrics, "hubspot", 401);
    zhub_gateway_metrics_request (metrics, NULL, 404);
    zhub_gateway_metrics_request (metrics, "we\"ird", 400);
    zhub_gateway_metrics_signature_failure (metrics, "hubspot", "signature_mismatch");
    zhub_gateway_metrics_publish_latency (metrics, 0.7);
    zhub_gateway_metrics_publish_latency (metrics, 30);
    zhub_gateway_metrics_spooled (metrics, 3);
    char *text = zhub_gateway_metrics_render (metrics, 3, true, false);
    CHECK (strstr (text, "# TYPE zhub_gateway_requests_total counter\n"));
    CHECK (strstr (text, "zhub_gateway_requests_total{source=\"hubspot\",status=\"200\"} 2\n"));
    CHECK (strstr (text, "zhub_gateway_requests_total{source=\"hubspot\",status=\"401\"} 1\n"));
    CHECK (strstr (text, "zhub_gateway_requests_total{source=\"-\",status=\"404\"} 1\n"));
    CHECK (strstr (text, "source=\"we\\\"ird\""));
    CHECK (strstr (text, "zhub_gateway_signature_failures_total{source=\"hubspot\",reason="
                         "\"signature_mismatch\"} 1\n"));
    CHECK (strstr (text, "zhub_gateway_publish_seconds_bucket{le=\"0.001\"} 1\n"));
    CHECK (strstr (text, "zhub_gateway_publish_seconds_bucket{le=\"0.05\"} 2\n"));
    CHECK (strstr (text, "zhub_gateway_publish_seconds_bucket{le=\"+Inf\"} 2\n"));
    CHECK (strstr (text, "zhub_gateway_publish_seconds_count 2\n"));
    CHECK (strstr (text, "zhub_gateway_spool_depth 3\n"));
    CHECK (strstr (text, "zhub_gateway_spooled_total 3\n"));
    CHECK (strstr (text, "zhub_gateway_broker_up 0\n"));
    free (text);
    //  many distinct sources fold into a bounded set of series
    for (int i = 0; i < 2000; i++) {
        char source[32];
        snprintf (source, sizeof source, "s%d", i);
        zhub_gateway_metrics_request (metrics, source, 200);
    }
    text = zhub_gateway_metrics_render (metrics, 0, false, true);
    size_t lines = 0;
    for (const char *p = strstr (text, "zhub_gateway_requests_total{"); p;
         p = strstr (p + 1, "zhub_gateway_requests_total{"))
        lines++;
    CHECK (lines <= 512);
    free (text);
    zhub_gateway_metrics_destroy (&metrics);
    CHECK (metrics == NULL);
}

int
main (void)
{
    RUN (test_bucket_starts_full_and_refills);
    RUN (test_metrics_exposition);
    TEST_EXIT ();
}
