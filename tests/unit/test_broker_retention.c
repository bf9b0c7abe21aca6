//  The operator-facing parts of the broker, at unit level: retention rules
//  and byte sizes, the tap endpoint, trimming the log (what goes, what
//  stays, topic counts, the log's first offset), finding an offset by
//  time, a group's rewind and its max_in_flight cap, clearing a group's
//  per-message state, and the GROUP_* frames.
#include "broker_config.h"
#include "broker_group.h"
#include "broker_log.h"
#include "broker_state.h"
#include "zhub_client.h"
#include "zhub_test.h"

#include <ftw.h>
#include <unistd.h>

static char s_dir[64];

static int
s_rm (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove (path);
}

static void
test_retention_rules_parse_and_the_first_match_decides (void)
{
    broker_retention_t rules[4];
    CHECK (broker_config_parse_retention ("keep.>=0, dlq.>=30d,big.*=1h/4k", rules, 4) == 3);
    CHECK_STR (rules[0].pattern, "keep.>");
    CHECK (rules[0].max_age_ms == 0 && rules[0].max_bytes == 0);
    CHECK (rules[1].max_age_ms == 30LL * 86400000);
    CHECK (rules[2].max_age_ms == 3600000 && rules[2].max_bytes == 4096);
    CHECK (broker_config_parse_retention ("nopattern", rules, 4) < 0);
    CHECK (broker_config_parse_retention ("a.b=soon", rules, 4) < 0);
    CHECK (broker_config_parse_retention ("a.b=1s/lots", rules, 4) < 0);
    CHECK (broker_config_parse_retention ("a=1s,b=1s", rules, 1) < 0);

    broker_config_t config;
    broker_config_defaults (&config);
    config.retention_count =
        (size_t)broker_config_parse_retention ("webhook.>=8d,>=1d", config.retention, 4);
    CHECK (broker_config_retention_for (&config, "webhook.bird.x")->max_age_ms == 8LL * 86400000);
    CHECK (broker_config_retention_for (&config, "contact.synced")->max_age_ms == 86400000);
    config.retention_count = 0;
    CHECK (broker_config_retention_for (&config, "contact.synced") == &config.retention_default);
    CHECK (config.retention_default.max_age_ms == 7LL * 86400000);

    uint64_t bytes;
    CHECK (broker_config_parse_bytes ("10", &bytes) == 0 && bytes == 10);
    CHECK (broker_config_parse_bytes ("2k", &bytes) == 0 && bytes == 2048);
    CHECK (broker_config_parse_bytes ("64MB", &bytes) == 0 && bytes == 64ULL << 20);
    CHECK (broker_config_parse_bytes ("1GiB", &bytes) == 0 && bytes == 1ULL << 30);
    CHECK (broker_config_parse_bytes ("-1", &bytes) < 0);
    CHECK (broker_config_parse_bytes ("1x", &bytes) < 0);
}

static void
test_the_tap_sits_next_to_the_broker_endpoint (void)
{
    char out[128];
    CHECK (zhub_tap_endpoint_for ("tcp://127.0.0.1:7450", out, sizeof out) == 0);
    CHECK_STR (out, "tcp://127.0.0.1:7451");
    CHECK (zhub_tap_endpoint_for ("ipc:///run/zhub/bus", out, sizeof out) == 0);
    CHECK_STR (out, "ipc:///run/zhub/bus.tap");
    CHECK (zhub_tap_endpoint_for ("tcp://127.0.0.1:65535", out, sizeof out) < 0);
    CHECK (zhub_tap_endpoint_for ("tcp://host", out, sizeof out) < 0);
    CHECK (zhub_tap_endpoint_for ("inproc://x", out, sizeof out) < 0);
}

//  ---------------------------------------------------------------------
//  Log trimming and time search on a real store

typedef struct {
    broker_log_t *log;
    broker_log_batch_t batch;
    const char *topic;
    int count;
    int64_t now;
    int64_t time_ms;
    uint64_t offset, next, keep_from;
    int stop_at; //  stop the walk at this offset (0: never)
} s_ctx_t;

static zhub_rc_t
s_append (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *c = arg;
    broker_log_batch_begin (c->log, &c->batch);
    for (int i = 0; i < c->count; i++) {
        zhub_msg_t *msg = zhub_msg_new ();
        char id[64];
        snprintf (id, sizeof id, "%s-%lld-%d", c->topic, (long long)c->now, i);
        zhub_msg_set (&msg->id, id);
        zhub_msg_set (&msg->source, "test");
        zhub_msg_set (&msg->type, c->topic);
        uint8_t *buf;
        size_t size;
        uint64_t offset;
        bool duplicate;
        zhub_msg_encode (msg, &buf, &size, NULL, 0);
        zhub_rc_t rc =
            broker_log_append (c->log, txn, &c->batch, msg, buf, size, c->now, &offset, &duplicate);
        free (buf);
        zhub_msg_destroy (&msg);
        if (rc != ZHUB_OK)
            return rc;
    }
    return ZHUB_OK;
}

static void
s_publish (broker_log_t *log, const char *topic, int count, int64_t now)
{
    s_ctx_t c = {.log = log, .topic = topic, .count = count, .now = now};
    CHECK (zhub_store_write (log->store, s_append, &c) == ZHUB_OK);
    broker_log_batch_commit (log, &c.batch);
}

//  drop everything of topic "old.x" below keep_from
static int
s_verdict (uint64_t offset, const broker_record_t *record, uint64_t topic_bytes, void *arg)
{
    s_ctx_t *c = arg;
    (void)topic_bytes;
    if (c->stop_at && offset >= (uint64_t)c->stop_at)
        return -1;
    return !strcmp (record->topic, "old.x") && offset < c->keep_from;
}

static zhub_rc_t
s_trim (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *c = arg;
    broker_log_batch_begin (c->log, &c->batch);
    return broker_log_trim (c->log, txn, &c->batch, c->offset, 100, s_verdict, c, &c->next);
}

typedef struct {
    uint64_t count, bytes;
} s_topic_t;

static void
s_topic (const char *topic, size_t size, uint64_t count, uint64_t bytes, void *arg)
{
    if (size == 5 && !memcmp (topic, "old.x", 5)) {
        ((s_topic_t *)arg)->count = count;
        ((s_topic_t *)arg)->bytes = bytes;
    }
}

static zhub_rc_t
s_topics (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *c = arg;
    broker_log_topics (c->log, txn, 100, s_topic, (void *)c->topic);
    return ZHUB_OK;
}

static zhub_rc_t
s_find (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *c = arg;
    return broker_log_find_time (c->log, txn, c->time_ms, &c->offset);
}

static void
test_trim_removes_what_the_verdict_allows_and_keeps_counts (void)
{
    zhub_store_config_t config = {.data_dir = s_dir, .process = "trim"};
    char err[256];
    zhub_store_t *store = zhub_store_open (&config, err, sizeof err);
    CHECK (store != NULL);
    if (!store)
        return;
    broker_log_t *log = broker_log_new (store, 60000);
    s_publish (log, "old.x", 5, 1000); //  1..5
    s_publish (log, "new.y", 2, 2000); //  6..7
    s_publish (log, "old.x", 3, 3000); //  8..10
    CHECK (log->first == 1 && log->last == 10);

    //  trim old.x below 9: 1..5 and 8 go; first moves to 6
    s_ctx_t c = {.log = log, .offset = 1, .keep_from = 9};
    CHECK (zhub_store_write (store, s_trim, &c) == ZHUB_OK);
    broker_log_batch_commit (log, &c.batch);
    CHECK (c.batch.trimmed == 6);
    CHECK (log->first == 6 && log->last == 10);
    CHECK (c.next == 0);
    s_topic_t counts = {0};
    s_ctx_t t = {.log = log, .topic = (const char *)&counts};
    zhub_store_read (store, s_topics, &t);
    CHECK (counts.count == 2 && counts.bytes > 0);

    //  the newest record stays whatever the verdict says (offsets must not
    //  repeat after a restart)
    s_ctx_t all = {.log = log, .offset = 1, .keep_from = 1000};
    CHECK (zhub_store_write (store, s_trim, &all) == ZHUB_OK);
    broker_log_batch_commit (log, &all.batch);
    CHECK (all.batch.trimmed == 1 && log->last == 10);
    broker_log_destroy (&log);
    log = broker_log_new (store, 60000);
    CHECK (log->first == 6 && log->last == 10);

    //  a walk that stops early leaves first alone past what it kept
    s_ctx_t stop = {.log = log, .offset = 1, .keep_from = 1000, .stop_at = 6};
    CHECK (zhub_store_write (store, s_trim, &stop) == ZHUB_OK);
    broker_log_batch_commit (log, &stop.batch);
    CHECK (stop.batch.trimmed == 0 && log->first == 6);

    //  by time: first record stored at or after the moment
    s_ctx_t find = {.log = log, .time_ms = 1500};
    CHECK (zhub_store_read (store, s_find, &find) == ZHUB_OK && find.offset == 6);
    find.time_ms = 2500;
    CHECK (zhub_store_read (store, s_find, &find) == ZHUB_OK && find.offset == 10);
    find.time_ms = 0;
    CHECK (zhub_store_read (store, s_find, &find) == ZHUB_OK && find.offset == 6);
    find.time_ms = 99999;
    CHECK (zhub_store_read (store, s_find, &find) == ZHUB_OK && find.offset == 11);
    broker_log_destroy (&log);
    zhub_store_destroy (&store);
}

//  ---------------------------------------------------------------------
//  Groups: rewind and the max_in_flight cap

static broker_group_t *
s_group (broker_groups_t *groups, const char *name)
{
    char *patterns[] = {"a.>"};
    broker_settings_t settings = {
        .patterns = patterns, .pattern_count = 1, .max_deliveries = 3, .ack_deadline_ms = 1000};
    return broker_groups_create (groups, name, &settings, 1, 0);
}

static void
test_rewind_drops_the_window_and_stales_tags (void)
{
    broker_groups_t *groups = broker_groups_new (64, 100, 7);
    broker_group_t *group = s_group (groups, "g");
    int client = 1;
    broker_groups_join (groups, group, &client, 10);
    for (uint64_t offset = 1; offset <= 5; offset++)
        broker_groups_push (groups, group, offset, NULL, 0, 0, 0);
    group->scan = 6;
    broker_assignment_t out[8];
    CHECK (broker_groups_dispatch (groups, group, 0, out, 8) == 5);
    uint64_t tag = out[0].entry->tag;
    CHECK (broker_groups_by_tag (groups, tag) != NULL);
    broker_groups_rewind (groups, group, 3);
    CHECK (broker_groups_by_tag (groups, tag) == NULL);
    CHECK (group->floor == 3 && group->scan == 3 && group->count == 0 && group->inflight == 0);
    CHECK (group->members[0]->inflight == 0 && group->dirty);
    broker_groups_destroy (&groups);
}

static void
test_max_in_flight_caps_every_members_credit (void)
{
    broker_groups_t *groups = broker_groups_new (64, 100, 7);
    broker_group_t *group = s_group (groups, "g");
    int a = 1, b = 2;
    broker_groups_join (groups, group, &a, 10);
    broker_groups_join (groups, group, &b, 1);
    group->settings.max_in_flight = 2;
    CHECK (broker_member_window (group->members[0]) == 2);
    CHECK (broker_member_window (group->members[1]) == 1);
    for (uint64_t offset = 1; offset <= 8; offset++)
        broker_groups_push (groups, group, offset, NULL, 0, 0, 0);
    broker_assignment_t out[8];
    CHECK (broker_groups_dispatch (groups, group, 0, out, 8) == 3);
    group->settings.max_in_flight = 0;
    group->dirty = true;
    CHECK (broker_groups_dispatch (groups, group, 0, out, 8) == 5);
    broker_groups_destroy (&groups);
}

//  ---------------------------------------------------------------------
//  Group state: the record keeps max_in_flight; a reset clears state

typedef struct {
    broker_state_t *state;
    const char *group;
    uint64_t offset;
    zhub_rc_t rc;
} s_state_t;

static zhub_rc_t
s_put_done (zhub_txn_t *txn, void *arg)
{
    s_state_t *s = arg;
    broker_msg_state_t done = {.done = true};
    return broker_state_put (s->state, txn, s->group, s->offset, &done, 0);
}

static zhub_rc_t
s_clear (zhub_txn_t *txn, void *arg)
{
    s_state_t *s = arg;
    return broker_state_clear_group (s->state, txn, s->group);
}

static zhub_rc_t
s_get (zhub_txn_t *txn, void *arg)
{
    s_state_t *s = arg;
    broker_msg_state_t state;
    s->rc = broker_state_get (s->state, txn, s->group, s->offset, &state, false);
    broker_msg_state_clear (&state);
    return ZHUB_OK;
}

static void
test_group_records_keep_the_cap_and_reset_clears_only_that_group (void)
{
    broker_groups_t *groups = broker_groups_new (64, 100, 7);
    broker_group_t *group = s_group (groups, "g");
    group->settings.max_in_flight = 7;
    uint8_t *buf;
    size_t size;
    broker_state_encode_group (group, &buf, &size);
    broker_settings_t settings;
    uint64_t floor;
    int64_t created;
    CHECK (broker_state_decode_group (buf, size, &settings, &floor, &created) == 0);
    CHECK (settings.max_in_flight == 7 && settings.max_deliveries == 3);
    broker_settings_free (&settings);
    free (buf);
    broker_groups_destroy (&groups);

    zhub_store_config_t config = {.data_dir = s_dir, .process = "state"};
    char err[256];
    zhub_store_t *store = zhub_store_open (&config, err, sizeof err);
    broker_state_t state;
    CHECK (store && broker_state_open (&state, store) == 0);
    if (!store)
        return;
    const char *names[] = {"g", "g.x", "h"};
    for (size_t n = 0; n < 3; n++)
        for (uint64_t offset = 1; offset <= 3; offset++) {
            s_state_t s = {&state, names[n], offset, ZHUB_OK};
            CHECK (zhub_store_write (store, s_put_done, &s) == ZHUB_OK);
        }
    s_state_t clear = {&state, "g", 0, ZHUB_OK};
    CHECK (zhub_store_write (store, s_clear, &clear) == ZHUB_OK);
    for (size_t n = 0; n < 3; n++)
        for (uint64_t offset = 1; offset <= 3; offset++) {
            s_state_t s = {&state, names[n], offset, ZHUB_OK};
            zhub_store_read (store, s_get, &s);
            CHECK (s.rc == (n == 0 ? ZHUB_NOTFOUND : ZHUB_OK));
        }
    zhub_store_destroy (&store);
}

static void
test_group_frames_round_trip (void)
{
    zhub_frame_t *set = zhub_frame_new (ZHUB_CMD_GROUP_SET);
    set->seq = 9;
    set->group = zhub_strdup ("contact-sync");
    set->max_deliveries = 4;
    set->ack_deadline_ms = 2500;
    set->backoff_ms[0] = 100;
    set->backoff_count = 1;
    set->max_in_flight = 3;
    uint8_t *buf;
    size_t size;
    CHECK (zhub_frame_encode (set, &buf, &size) == 0);
    char err[128];
    zhub_frame_t *back = zhub_frame_decode (buf, size, err, sizeof err);
    CHECK (back && back->cmd == ZHUB_CMD_GROUP_SET && back->seq == 9);
    CHECK (back && back->max_deliveries == 4 && back->ack_deadline_ms == 2500);
    CHECK (back && back->backoff_count == 1 && back->max_in_flight == 3);
    free (buf);
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&set);

    zhub_frame_t *reset = zhub_frame_new (ZHUB_CMD_GROUP_RESET);
    reset->group = zhub_strdup ("g");
    reset->time_ms = 1715203101896;
    CHECK (zhub_frame_encode (reset, &buf, &size) == 0);
    back = zhub_frame_decode (buf, size, err, sizeof err);
    CHECK (back && back->time_ms == 1715203101896 && back->offset == 0);
    free (buf);
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&reset);

    //  a group is required
    zhub_frame_t *ok = zhub_frame_new (ZHUB_CMD_GROUP_OK);
    CHECK (zhub_frame_encode (ok, &buf, &size) == -1);
    zhub_frame_destroy (&ok);
}

int
main (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/zhub-test-retention-XXXXXX");
    if (!mkdtemp (s_dir)) {
        perror ("mkdtemp");
        return 77;
    }
    RUN (test_retention_rules_parse_and_the_first_match_decides);
    RUN (test_the_tap_sits_next_to_the_broker_endpoint);
    RUN (test_trim_removes_what_the_verdict_allows_and_keeps_counts);
    RUN (test_rewind_drops_the_window_and_stales_tags);
    RUN (test_max_in_flight_caps_every_members_credit);
    RUN (test_group_records_keep_the_cap_and_reset_clears_only_that_group);
    RUN (test_group_frames_round_trip);
    nftw (s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    TEST_EXIT ();
}
