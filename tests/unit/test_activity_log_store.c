//  activity-log's state in LMDB: the retention sweep deletes what is old,
//  and erasing a contact deletes its conversations, id map and parked
//  events — and nothing of anyone else. A real store in a temp folder.
#include "activity_log_io.h"
#include "zhub_test.h"

#include <stdlib.h>
#include <unistd.h>

typedef struct {
    activity_log_t *log;
} s_fill_t;

static zhub_rc_t
s_put (zhub_txn_t *txn, zhub_table_t table, const char *key, size_t key_size, const char *value)
{
    return zhub_txn_put (txn, table, key, key_size, value, strlen (value));
}

static zhub_rc_t
s_fill (zhub_txn_t *txn, void *arg)
{
    activity_log_t *log = ((s_fill_t *)arg)->log;
    s_put (txn, log->conversations, "old", 3,
           "{\"conversation_id\":\"old\",\"bird_contact_id\":\"b1\",\"updated\":1000,"
           "\"lines\":[],\"seen\":[]}");
    s_put (txn, log->conversations, "new", 3,
           "{\"conversation_id\":\"new\",\"bird_contact_id\":\"b1\",\"updated\":90000,"
           "\"lines\":[],\"seen\":[]}");
    s_put (txn, log->conversations, "other", 5,
           "{\"conversation_id\":\"other\",\"bird_contact_id\":\"b2\",\"updated\":90000,"
           "\"lines\":[],\"seen\":[]}");
    s_put (txn, log->engagements, "evt:e1:note", 11, "{\"id\":\"1\",\"at\":1000}");
    s_put (txn, log->engagements, "evt:e2:note", 11, "{\"id\":\"2\",\"at\":90000}");
    s_put (txn, log->engagements, "booking:b", 9, "{\"id\":\"3\",\"at\":1000}");
    s_put (txn, log->contacts, "b1", 2, "{\"contact\":\"501\"}");
    s_put (txn, log->contacts, "b2", 2, "{\"contact\":\"502\"}");
    //  parked: bird id, NUL, u64 (ms << 16)
    uint8_t key[11] = {'b', '1', 0};
    zhub_store_key_u64 (key + 3, (uint64_t)90000 << 16);
    s_put (txn, log->parked, (const char *)key, sizeof key, "x");
    return ZHUB_OK;
}

typedef struct {
    activity_log_t *log;
    size_t conversations, engagements, contacts, parked;
} s_count_t;

static zhub_rc_t
s_count (zhub_txn_t *txn, void *arg)
{
    s_count_t *c = arg;
    c->conversations = zhub_txn_count (txn, c->log->conversations);
    c->engagements = zhub_txn_count (txn, c->log->engagements);
    c->contacts = zhub_txn_count (txn, c->log->contacts);
    c->parked = zhub_txn_count (txn, c->log->parked);
    return ZHUB_OK;
}

static void
test_retention_and_erase (void)
{
    char dir[] = "/tmp/zhub-activity-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char err[256];
    zhub_store_config_t config = {.data_dir = dir, .process = "activity-log"};
    zhub_store_t *store = zhub_store_open (&config, err, sizeof err);
    CHECK (store != NULL);
    if (!store)
        return;
    activity_log_t log = {.retention_ms = 50000};
    CHECK (zhub_store_table (store, "contacts", &log.contacts) == 0);
    CHECK (zhub_store_table (store, "conversations", &log.conversations) == 0);
    CHECK (zhub_store_table (store, "engagements", &log.engagements) == 0);
    CHECK (zhub_store_table (store, "parked", &log.parked) == 0);
    s_fill_t fill = {&log};
    CHECK (zhub_store_write (store, s_fill, &fill) == ZHUB_OK);

    //  now = 100000, retention 50 s: "old" (1000) and evt:e1 go, the
    //  booking stays (a tour far ahead may still move)
    CHECK (activity_log_prune (store, &log, 100000) == 2);
    s_count_t count = {.log = &log};
    zhub_store_read (store, s_count, &count);
    CHECK (count.conversations == 2 && count.engagements == 2 && count.parked == 1);

    //  erase b1: its conversation, its id map entry and its parked event
    CHECK (activity_log_erase_contact (store, &log, "b1") == 3);
    zhub_store_read (store, s_count, &count);
    CHECK (count.conversations == 1 && count.contacts == 1 && count.parked == 0);
    CHECK (activity_log_erase_contact (store, &log, "b1") == 0);
    zhub_store_destroy (&store);
    char *cmd = zhub_sprintf ("rm -rf '%s'", dir);
    CHECK (system (cmd) == 0);
    free (cmd);
}

int
main (void)
{
    RUN (test_retention_and_erase);
    TEST_EXIT ();
}
