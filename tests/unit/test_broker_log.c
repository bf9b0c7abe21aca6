//  The broker's storage against a real LMDB store in a temporary folder:
//  log appends and reads, the dedup window and its sweep, group records,
//  per-message state with history, and the dead-letter envelope.
#include "broker_dlq.h"
#include "broker_log.h"
#include "broker_state.h"
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

static zhub_store_t *
s_open (void)
{
    zhub_store_config_t config = {.data_dir = s_dir, .process = "broker"};
    char err[256];
    zhub_store_t *store = zhub_store_open (&config, err, sizeof err);
    if (!store)
        fprintf (stderr, "  store: %s\n", err);
    return store;
}

static zhub_msg_t *
s_msg (const char *id, const char *type, const char *subject)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "test");
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->subject, subject);
    msg->time_ms = 1715203101896;
    return msg;
}

typedef struct {
    broker_log_t *log;
    broker_log_batch_t batch;
    zhub_msg_t *msgs[4];
    size_t count;
    int64_t now;
    uint64_t offsets[4];
    bool duplicates[4];
} s_append_t;

static zhub_rc_t
s_append (zhub_txn_t *txn, void *arg)
{
    s_append_t *a = arg;
    broker_log_batch_begin (a->log, &a->batch);
    for (size_t i = 0; i < a->count; i++) {
        uint8_t *buf;
        size_t size;
        if (zhub_msg_encode (a->msgs[i], &buf, &size, NULL, 0))
            return ZHUB_ERROR;
        zhub_rc_t rc = broker_log_append (a->log, txn, &a->batch, a->msgs[i], buf, size, a->now,
                                          &a->offsets[i], &a->duplicates[i]);
        free (buf);
        if (rc != ZHUB_OK)
            return rc;
    }
    return ZHUB_OK;
}

static zhub_rc_t
s_publish (broker_log_t *log, int64_t now, s_append_t *a, zhub_msg_t *m0, zhub_msg_t *m1)
{
    memset (a, 0, sizeof *a);
    a->log = log;
    a->now = now;
    a->msgs[a->count++] = m0;
    if (m1)
        a->msgs[a->count++] = m1;
    zhub_rc_t rc = zhub_store_write (log->store, s_append, a);
    if (rc == ZHUB_OK)
        broker_log_batch_commit (log, &a->batch);
    return rc;
}

typedef struct {
    broker_log_t *log;
    uint64_t offset;
    broker_record_t record;
    uint8_t copy[1024];
    zhub_rc_t rc;
    int swept;
    int64_t now;
    const char *id;
} s_read_t;

static zhub_rc_t
s_read (zhub_txn_t *txn, void *arg)
{
    s_read_t *r = arg;
    r->rc = broker_log_read (r->log, txn, r->offset, &r->record);
    if (r->rc == ZHUB_OK && r->record.msg_size <= sizeof r->copy)
        memcpy (r->copy, r->record.msg, r->record.msg_size);
    return ZHUB_OK;
}

static zhub_rc_t
s_sweep (zhub_txn_t *txn, void *arg)
{
    s_read_t *r = arg;
    r->swept = broker_log_sweep (r->log, txn, r->now, 100);
    return r->swept < 0 ? ZHUB_ERROR : ZHUB_OK;
}

static zhub_rc_t
s_lookup (zhub_txn_t *txn, void *arg)
{
    s_read_t *r = arg;
    r->rc = broker_log_lookup_id (r->log, txn, r->id, r->now, &r->offset);
    return ZHUB_OK;
}

static void
test_appended_messages_read_back_in_offset_order (void)
{
    zhub_store_t *store = s_open ();
    broker_log_t *log = broker_log_new (store, 60000);
    CHECK (log && log->first == 0 && log->last == 0);
    zhub_msg_t *a = s_msg ("a", "contact.synced", "contact:1"), *b = s_msg ("b", "deal.x", NULL);
    s_append_t append;
    CHECK (s_publish (log, 1000, &append, a, b) == ZHUB_OK);
    CHECK (append.offsets[0] == 1 && append.offsets[1] == 2);
    CHECK (!append.duplicates[0] && !append.duplicates[1]);
    CHECK (log->first == 1 && log->last == 2);

    s_read_t r = {.log = log, .offset = 1};
    zhub_store_read (store, s_read, &r);
    CHECK (r.rc == ZHUB_OK);
    CHECK_STR (r.record.topic, "contact.synced");
    CHECK_STR (r.record.subject, "contact:1");
    CHECK_STR (r.record.id, "a");
    CHECK (r.record.stored_ms == 1000 && r.record.time_ms == 1715203101896);
    zhub_msg_t *back = zhub_msg_decode (r.copy, r.record.msg_size, NULL, NULL, 0);
    CHECK (back && !strcmp (back->id, "a"));
    zhub_msg_destroy (&back);
    r.offset = 2;
    zhub_store_read (store, s_read, &r);
    CHECK (r.rc == ZHUB_OK && r.record.subject[0] == 0);
    r.offset = 3;
    zhub_store_read (store, s_read, &r);
    CHECK (r.rc == ZHUB_NOTFOUND);

    //  a reopened log knows its extent
    broker_log_destroy (&log);
    log = broker_log_new (store, 60000);
    CHECK (log->first == 1 && log->last == 2);
    zhub_msg_destroy (&a);
    zhub_msg_destroy (&b);
    broker_log_destroy (&log);
    zhub_store_destroy (&store);
}

static void
test_an_id_seen_in_the_window_is_a_duplicate_even_in_the_same_batch (void)
{
    zhub_store_t *store = s_open ();
    broker_log_t *log = broker_log_new (store, 60000);
    zhub_msg_t *a = s_msg ("dup-1", "a.b", NULL), *again = s_msg ("dup-1", "a.b", NULL);
    s_append_t append;
    uint64_t base = log->last;
    CHECK (s_publish (log, 1000, &append, a, again) == ZHUB_OK);
    CHECK (!append.duplicates[0] && append.duplicates[1]);
    CHECK (append.offsets[1] == append.offsets[0] && append.offsets[0] == base + 1);
    CHECK (log->last == base + 1);
    CHECK (s_publish (log, 60999, &append, a, NULL) == ZHUB_OK);
    CHECK (append.duplicates[0] && append.offsets[0] == base + 1);
    //  the window ended: the id is new again
    CHECK (s_publish (log, 61000, &append, a, NULL) == ZHUB_OK);
    CHECK (!append.duplicates[0] && append.offsets[0] == base + 2);
    zhub_msg_destroy (&a);
    zhub_msg_destroy (&again);
    broker_log_destroy (&log);
    zhub_store_destroy (&store);
}

static void
test_sweep_removes_only_expired_dedup_entries (void)
{
    zhub_store_t *store = s_open ();
    broker_log_t *log = broker_log_new (store, 1000);
    zhub_msg_t *old = s_msg ("sw-old", "a.b", NULL), *young = s_msg ("sw-young", "a.b", NULL);
    s_append_t append;
    CHECK (s_publish (log, 5000, &append, old, NULL) == ZHUB_OK);
    CHECK (s_publish (log, 5500, &append, young, NULL) == ZHUB_OK);
    s_read_t r = {.log = log, .now = 6200, .id = "sw-old"};
    CHECK (zhub_store_write (store, s_sweep, &r) == ZHUB_OK);
    CHECK (r.swept >= 1);
    r.now = 0; //  lookups at time 0 would see any entry still stored
    zhub_store_read (store, s_lookup, &r);
    CHECK (r.rc == ZHUB_NOTFOUND);
    r.id = "sw-young";
    zhub_store_read (store, s_lookup, &r);
    CHECK (r.rc == ZHUB_OK);
    //  republished after its window: the new entry survives the old one's sweep
    CHECK (s_publish (log, 7000, &append, old, NULL) == ZHUB_OK);
    r.now = 7100;
    CHECK (zhub_store_write (store, s_sweep, &r) == ZHUB_OK);
    r.id = "sw-old";
    r.now = 7100;
    zhub_store_read (store, s_lookup, &r);
    CHECK (r.rc == ZHUB_OK && r.offset == append.offsets[0]);
    zhub_msg_destroy (&old);
    zhub_msg_destroy (&young);
    broker_log_destroy (&log);
    zhub_store_destroy (&store);
}

static void
test_corrupt_records_are_refused (void)
{
    broker_record_t record;
    const uint8_t not_map[] = {0x93, 0x01, 0x02, 0x03};
    CHECK (broker_log_decode_record (not_map, sizeof not_map, &record) == -1);
    const uint8_t truncated[] = {0x86, 0xa5, 't', 'o', 'p'};
    CHECK (broker_log_decode_record (truncated, sizeof truncated, &record) == -1);
    //  {"topic":"a"} without the other fields
    const uint8_t partial[] = {0x81, 0xa5, 't', 'o', 'p', 'i', 'c', 0xa1, 'a'};
    CHECK (broker_log_decode_record (partial, sizeof partial, &record) == -1);
}

typedef struct {
    broker_state_t *state;
    const char *group;
    uint64_t offset;
    broker_msg_state_t msg;
    zhub_rc_t rc;
    const uint8_t *record;
    size_t record_size;
    uint64_t from, to;
} s_state_t;

static zhub_rc_t
s_state_put (zhub_txn_t *txn, void *arg)
{
    s_state_t *s = arg;
    return broker_state_put (s->state, txn, s->group, s->offset, &s->msg, 3);
}

static zhub_rc_t
s_state_get (zhub_txn_t *txn, void *arg)
{
    s_state_t *s = arg;
    s->rc = broker_state_get (s->state, txn, s->group, s->offset, &s->msg, true);
    return ZHUB_OK;
}

static zhub_rc_t
s_group_put (zhub_txn_t *txn, void *arg)
{
    s_state_t *s = arg;
    return broker_state_put_group (s->state, txn, s->group, s->record, s->record_size, s->from,
                                   s->to);
}

static void
test_message_state_keeps_the_newest_history (void)
{
    zhub_store_t *store = s_open ();
    broker_state_t state;
    CHECK (broker_state_open (&state, store) == 0);
    s_state_t s = {.state = &state, .group = "g", .offset = 42};
    for (int i = 1; i <= 5; i++) {
        char reason[32];
        snprintf (reason, sizeof reason, "failure %d", i);
        broker_msg_state_add (&s.msg, 1000 * i, 500 + i, reason);
    }
    char long_reason[2000];
    memset (long_reason, 'x', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = 0;
    broker_msg_state_add (&s.msg, 6000, 599, long_reason);
    s.msg.attempts = 6;
    s.msg.next_due_ms = 99999;
    CHECK (zhub_store_write (store, s_state_put, &s) == ZHUB_OK);
    broker_msg_state_clear (&s.msg);
    zhub_store_read (store, s_state_get, &s);
    CHECK (s.rc == ZHUB_OK && !s.msg.done && s.msg.attempts == 6 && s.msg.next_due_ms == 99999);
    CHECK (s.msg.history_count == 3); //  history_max 3: the newest three
    if (s.msg.history_count == 3) {
        CHECK (s.msg.history[0].code == 504 && s.msg.history[0].time_ms == 4000);
        CHECK_STR (s.msg.history[1].reason, "failure 5");
        CHECK (strlen (s.msg.history[2].reason) == BROKER_REASON_MAX);
    }
    broker_msg_state_clear (&s.msg);
    s.offset = 43;
    zhub_store_read (store, s_state_get, &s);
    CHECK (s.rc == ZHUB_NOTFOUND);
    zhub_store_destroy (&store);
}

static void
test_group_records_round_trip_and_the_floor_clears_old_state (void)
{
    zhub_store_t *store = s_open ();
    broker_state_t state;
    broker_state_open (&state, store);
    broker_groups_t *groups = broker_groups_new (10, 1, 1);
    char *patterns[] = {"contact.>", "deal.*"};
    broker_settings_t settings = {.patterns = patterns,
                                  .pattern_count = 2,
                                  .max_deliveries = 7,
                                  .ack_deadline_ms = 1234,
                                  .backoff_ms = {10, 20, 30},
                                  .backoff_count = 3};
    broker_group_t *group = broker_groups_create (groups, "floor-test", &settings, 5, 777);
    //  message state at 5 and 6 (below the coming floor) and 9 (above)
    s_state_t s = {.state = &state, .group = "floor-test"};
    s.msg.done = true;
    for (uint64_t offset = 5; offset <= 9; offset += (offset == 6 ? 3 : 1)) {
        s.offset = offset;
        CHECK (zhub_store_write (store, s_state_put, &s) == ZHUB_OK);
    }
    //  a neighbour group's state must survive
    s.group = "floor-test-2";
    s.offset = 6;
    CHECK (zhub_store_write (store, s_state_put, &s) == ZHUB_OK);

    group->floor = 8;
    uint8_t *record;
    size_t size;
    broker_state_encode_group (group, &record, &size);
    s_state_t g = {.state = &state,
                   .group = "floor-test",
                   .record = record,
                   .record_size = size,
                   .from = 5,
                   .to = 8};
    CHECK (zhub_store_write (store, s_group_put, &g) == ZHUB_OK);
    free (record);
    s.group = "floor-test";
    s.offset = 5;
    zhub_store_read (store, s_state_get, &s);
    CHECK (s.rc == ZHUB_NOTFOUND);
    s.offset = 6;
    zhub_store_read (store, s_state_get, &s);
    CHECK (s.rc == ZHUB_NOTFOUND);
    s.offset = 9;
    zhub_store_read (store, s_state_get, &s);
    CHECK (s.rc == ZHUB_OK && s.msg.done);
    broker_msg_state_clear (&s.msg);
    s.group = "floor-test-2";
    s.offset = 6;
    zhub_store_read (store, s_state_get, &s);
    CHECK (s.rc == ZHUB_OK);
    broker_msg_state_clear (&s.msg);

    broker_groups_t *loaded = broker_groups_new (10, 1, 1);
    CHECK (broker_state_load_groups (&state, loaded) == ZHUB_OK);
    broker_group_t *back = broker_groups_find (loaded, "floor-test");
    CHECK (back != NULL);
    if (back) {
        CHECK (back->floor == 8 && back->floor_persisted == 8 && back->scan == 8);
        CHECK (!back->needs_write && back->created_ms == 777);
        CHECK (back->settings.max_deliveries == 7 && back->settings.ack_deadline_ms == 1234);
        CHECK (back->settings.backoff_count == 3 && back->settings.backoff_ms[2] == 30);
        CHECK (back->settings.pattern_count == 2);
        CHECK_STR (back->settings.patterns[1], "deal.*");
    }
    broker_groups_destroy (&loaded);
    broker_groups_destroy (&groups);
    zhub_store_destroy (&store);
}

static void
test_dead_letter_carries_the_original_and_its_history (void)
{
    zhub_msg_t *original = s_msg ("bird:evt-9", "webhook.bird.contact.updated", "contact:9");
    zhub_msg_set (&original->traceparent,
                  "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    uint8_t *bytes;
    size_t size;
    CHECK (zhub_msg_encode (original, &bytes, &size, NULL, 0) == 0);
    broker_msg_state_t history = {0};
    broker_msg_state_add (&history, 1715203101896, 503, "HubSpot 503");
    broker_msg_state_add (&history, 1715203102896, 408, "ack deadline exceeded");
    zhub_msg_t *dead =
        broker_dlq_build ("contact-sync", bytes, size, 17, history.history, history.history_count,
                          408, "max_deliveries", 1715203109000);
    CHECK (dead != NULL);
    if (dead) {
        CHECK_STR (dead->id, "dlq:contact-sync:bird:evt-9");
        CHECK_STR (dead->type, "dlq.contact-sync");
        CHECK_STR (dead->source, "zhub/broker");
        CHECK_STR (dead->subject, "contact:9");
        CHECK_STR (dead->traceparent, original->traceparent);
        CHECK (dead->time_ms == 1715203109000);
        CHECK (zhub_msg_validate (dead, NULL, 0) == 0);
        json_t *data = zhub_msg_data_json (dead);
        CHECK_STR (json_string_value (json_object_get (data, "group")), "contact-sync");
        CHECK_STR (json_string_value (json_object_get (data, "cause")), "max_deliveries");
        CHECK (json_integer_value (json_object_get (data, "reason_code")) == 408);
        CHECK (json_integer_value (json_object_get (data, "offset")) == 17);
        json_t *attempts = json_object_get (data, "attempts");
        CHECK (json_array_size (attempts) == 2);
        CHECK_STR (json_string_value (json_object_get (json_array_get (attempts, 0), "time")),
                   "2024-05-08T21:18:21.896Z");
        CHECK (json_integer_value (json_object_get (json_array_get (attempts, 0), "code")) == 503);
        json_t *message = json_object_get (data, "message");
        CHECK_STR (json_string_value (json_object_get (message, "id")), "bird:evt-9");
        CHECK (json_integer_value (json_object_get (message, "time")) == 1715203101896);
        json_decref (data);
    }
    zhub_msg_destroy (&dead);
    //  an id too long to prefix is hashed, deterministically
    char long_id[257];
    memset (long_id, 'i', 256);
    long_id[256] = 0;
    char *id = broker_dlq_id ("g", long_id), *again = broker_dlq_id ("g", long_id);
    CHECK (strlen (id) <= ZHUB_MSG_MAX_ID && !strncmp (id, "dlq:g:h:", 8) && !strcmp (id, again));
    free (id);
    free (again);
    CHECK (broker_dlq_build ("g", (const uint8_t *)"\xc1", 1, 1, NULL, 0, 0, "terminal", 0)
           == NULL);
    broker_msg_state_clear (&history);
    free (bytes);
    zhub_msg_destroy (&original);
}

int
main (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/zhub-test-broker-XXXXXX");
    if (!mkdtemp (s_dir)) {
        perror ("mkdtemp");
        return 77;
    }
    RUN (test_appended_messages_read_back_in_offset_order);
    RUN (test_an_id_seen_in_the_window_is_a_duplicate_even_in_the_same_batch);
    RUN (test_sweep_removes_only_expired_dedup_entries);
    RUN (test_corrupt_records_are_refused);
    RUN (test_message_state_keeps_the_newest_history);
    RUN (test_group_records_round_trip_and_the_floor_clears_old_state);
    RUN (test_dead_letter_carries_the_original_and_its_history);
    nftw (s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    TEST_EXIT ();
}
