//  The metrics registry: what GET /metrics shows, line for line, in the
//  Prometheus text format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "zhub_metrics.h"
#include "zhub_test.h"

#include <pthread.h>

static void
test_counters_gauges_and_histograms_render_in_the_text_format (void)
{
    zhub_metrics_t *m = zhub_metrics_new ();
    zhub_metrics_declare (m, "zhub_messages_total", ZHUB_COUNTER, "Messages handled.", NULL, 0);
    zhub_metrics_declare (m, "zhub_outbox_pending", ZHUB_GAUGE, "Results not yet published.", NULL,
                          0);
    const double bounds[] = {0.1, 1};
    zhub_metrics_declare (m, "zhub_handle_seconds", ZHUB_HISTOGRAM, "Time to handle one.", bounds,
                          2);
    zhub_metrics_declare (m, "zhub_unused_total", ZHUB_COUNTER, "Never counted.", NULL, 0);
    char ok[64] = "", retry[64] = "";
    zhub_metrics_label (ok, sizeof ok, "route", "webhook.bird.>");
    zhub_metrics_label (ok, sizeof ok, "outcome", "ok");
    zhub_metrics_label (retry, sizeof retry, "route", "webhook.bird.>");
    zhub_metrics_label (retry, sizeof retry, "outcome", "retry");
    zhub_metrics_count (m, "zhub_messages_total", ok, 1);
    zhub_metrics_count (m, "zhub_messages_total", ok, 2);
    zhub_metrics_count (m, "zhub_messages_total", retry, 1);
    zhub_metrics_set (m, "zhub_outbox_pending", NULL, 3);
    zhub_metrics_observe (m, "zhub_handle_seconds", "", 0.05);
    zhub_metrics_observe (m, "zhub_handle_seconds", "", 0.5);
    zhub_metrics_observe (m, "zhub_handle_seconds", "", 5);
    CHECK (zhub_metrics_value (m, "zhub_messages_total", ok) == 3);
    CHECK (zhub_metrics_value (m, "zhub_handle_seconds", "") == 3);
    char *text = zhub_metrics_render (m);
    CHECK_STR (text, "# HELP zhub_messages_total Messages handled.\n"
                     "# TYPE zhub_messages_total counter\n"
                     "zhub_messages_total{route=\"webhook.bird.>\",outcome=\"ok\"} 3\n"
                     "zhub_messages_total{route=\"webhook.bird.>\",outcome=\"retry\"} 1\n"
                     "# HELP zhub_outbox_pending Results not yet published.\n"
                     "# TYPE zhub_outbox_pending gauge\n"
                     "zhub_outbox_pending 3\n"
                     "# HELP zhub_handle_seconds Time to handle one.\n"
                     "# TYPE zhub_handle_seconds histogram\n"
                     "zhub_handle_seconds_bucket{le=\"0.1\"} 1\n"
                     "zhub_handle_seconds_bucket{le=\"1\"} 2\n"
                     "zhub_handle_seconds_bucket{le=\"+Inf\"} 3\n"
                     "zhub_handle_seconds_sum 5.55\n"
                     "zhub_handle_seconds_count 3\n"
                     "# HELP zhub_unused_total Never counted.\n"
                     "# TYPE zhub_unused_total counter\n");
    free (text);
    zhub_metrics_destroy (&m);
    CHECK (m == NULL);
    zhub_metrics_destroy (&m);
}

static void
test_label_values_are_escaped_and_series_are_bounded (void)
{
    char labels[64] = "";
    zhub_metrics_label (labels, sizeof labels, "peer", "a\"b\\c\nd");
    CHECK_STR (labels, "peer=\"a\\\"b\\\\c\\nd\"");
    char small[12] = "";
    zhub_metrics_label (small, sizeof small, "peer", "abcdefghijkl");
    CHECK (strlen (small) < sizeof small && small[strlen (small) - 1] == '"');
    zhub_metrics_t *m = zhub_metrics_new ();
    zhub_metrics_declare (m, "zhub_x_total", ZHUB_COUNTER, "x.", NULL, 0);
    for (int i = 0; i < ZHUB_METRICS_MAX_SERIES + 50; i++) {
        char l[32] = "";
        char value[16];
        snprintf (value, sizeof value, "%d", i);
        zhub_metrics_count (m, "zhub_x_total", zhub_metrics_label (l, sizeof l, "n", value), 1);
    }
    char *text = zhub_metrics_render (m);
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    CHECK (lines == 2 + ZHUB_METRICS_MAX_SERIES);
    free (text);
    zhub_metrics_destroy (&m);
}

typedef struct {
    zhub_metrics_t *m;
} s_arg_t;

static void *
s_counter (void *arg)
{
    s_arg_t *a = arg;
    for (int i = 0; i < 10000; i++)
        zhub_metrics_count (a->m, "zhub_x_total", "", 1);
    return NULL;
}

static void
test_threads_count_without_losing_any (void)
{
    zhub_metrics_t *m = zhub_metrics_new ();
    zhub_metrics_declare (m, "zhub_x_total", ZHUB_COUNTER, "x.", NULL, 0);
    s_arg_t arg = {m};
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        pthread_create (&threads[i], NULL, s_counter, &arg);
    for (int i = 0; i < 4; i++)
        pthread_join (threads[i], NULL);
    CHECK (zhub_metrics_value (m, "zhub_x_total", "") == 40000);
    zhub_metrics_destroy (&m);
}

static void
test_a_touched_series_shows_at_zero_before_its_first_use (void)
{
    zhub_metrics_t *m = zhub_metrics_new ();
    static const double bounds[] = {0.1, 1};
    zhub_metrics_declare (m, "zhub_x_seconds", ZHUB_HISTOGRAM, "x.", bounds, 2);
    zhub_metrics_declare (m, "zhub_y_total", ZHUB_COUNTER, "y.", NULL, 0);
    char *text = zhub_metrics_render (m);
    CHECK (strstr (text, "zhub_x_seconds_count") == NULL);
    free (text);
    zhub_metrics_touch (m, "zhub_x_seconds", "");
    zhub_metrics_touch (m, "zhub_y_total", "");
    text = zhub_metrics_render (m);
    CHECK (strstr (text, "zhub_x_seconds_bucket{le=\"+Inf\"} 0\n") != NULL);
    CHECK (strstr (text, "zhub_x_seconds_count 0\n") != NULL);
    CHECK (strstr (text, "zhub_y_total 0\n") != NULL);
    free (text);
    //  touching again keeps what was counted
    zhub_metrics_observe (m, "zhub_x_seconds", "", 0.5);
    zhub_metrics_touch (m, "zhub_x_seconds", "");
    text = zhub_metrics_render (m);
    CHECK (strstr (text, "zhub_x_seconds_count 1\n") != NULL);
    free (text);
    zhub_metrics_destroy (&m);
}

int
main (void)
{
    RUN (test_counters_gauges_and_histograms_render_in_the_text_format);
    RUN (test_label_values_are_escaped_and_series_are_bounded);
    RUN (test_threads_count_without_losing_any);
    RUN (test_a_touched_series_shows_at_zero_before_its_first_use);
    TEST_EXIT ();
}
