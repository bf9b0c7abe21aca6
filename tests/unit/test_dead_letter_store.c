//  The dead-letter store: idempotent adds, numbers never reused, indexes
//  used by list filters, a change written back with its outbox message in
//  one transaction (or neither), purge, and a second read-only handle
//  (what `zhub dlq` opens) seeing the writer's commits.
#include "dead_letter_store.h"
#include "zhub_test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static dead_letter_t
s_letter (const char *dlq_id, const char *group, const char *topic, uint32_t code, int64_t at)
{
    dead_letter_t dl = {0};
    dl.dlq_id = zhub_strdup (dlq_id);
    dl.group = zhub_strdup (group);
    dl.topic = zhub_strdup (topic);
    dl.original_id = zhub_strdup ("orig");
    dl.subject = zhub_strdup ("");
    dl.cause = zhub_strdup ("terminal");
    dl.reason = zhub_strdup (code == 2002 ? "invalid phone" : "other");
    dl.reason_code = code;
    dl.dead_at_ms = at;
    const uint8_t empty_envelope[] = {0x80};
    dl.message = malloc (1);
    memcpy (dl.message, empty_envelope, 1);
    dl.message_size = 1;
    return dl;
}

static bool
s_seen (const dead_letter_t *dl, void *arg)
{
    char *seen = arg;
    size_t n = strlen (seen);
    snprintf (seen + n, 256 - n, "%s%llu", n ? "," : "", (unsigned long long)dl->seq);
    return true;
}

//  The letters filter selects, by number, oldest first.
static const char *
s_query (dead_letter_store_t *store, dead_letter_filter_t filter)
{
    static char seen[256];
    seen[0] = 0;
    CHECK (dead_letter_store_each (store, &filter, s_seen, seen) == ZHUB_OK);
    return seen;
}

//  A change: sets replays and last_command, and queues a message.
typedef struct {
    uint32_t replays;
    bool publish;
    int runs;
} s_change_t;

static bool
s_change (dead_letter_t *dl, zhub_msg_t **publish, void *arg)
{
    s_change_t *change = arg;
    change->runs++;
    dl->replays = change->replays;
    zhub_msg_set (&dl->last_command, "cmd-1");
    if (change->publish) {
        *publish = zhub_msg_new ();
        zhub_msg_set (&(*publish)->id, "replay:1:orig");
    }
    return true;
}

//  The outbox: remembers what was queued, or fails (arg NULL).
static zhub_rc_t
s_outbox (zhub_txn_t *txn, const zhub_msg_t *msg, void *arg)
{
    (void)txn;
    if (!arg)
        return ZHUB_ERROR;
    snprintf (arg, 64, "%s", msg->id);
    return ZHUB_OK;
}

static void
test_store_adds_once_indexes_changes_and_purges (void)
{
    char dir[] = "/tmp/zhub-dl-store-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    zhub_store_config_t config = {.data_dir = dir, .process = "dead-letter"};
    char err[256];
    zhub_store_t *env = zhub_store_open (&config, err, sizeof err);
    CHECK (env != NULL);
    dead_letter_store_t *store = dead_letter_store_new (env, err, sizeof err);
    CHECK (store != NULL);

    dead_letter_t letters[4] = {
        s_letter ("dlq:a:1", "a", "webhook.bird.x", 2002, 3000),
        s_letter ("dlq:b:1", "b", "contact.synced", 422, 1000),
        s_letter ("dlq:a:2", "a", "webhook.bird.y", 503, 2000),
        s_letter ("dlq:a:1", "a", "webhook.bird.x", 2002, 3000), //  redelivered
    };
    for (int i = 0; i < 4; i++) {
        bool added;
        CHECK (dead_letter_store_keep (store, &letters[i], &added) == ZHUB_OK);
        CHECK (added == (i < 3));
    }
    CHECK (letters[0].seq == 1 && letters[1].seq == 2 && letters[2].seq == 3);
    CHECK (letters[3].seq == 1); //  the kept one's number
    CHECK (dead_letter_store_count (store) == 3);

    //  oldest first; group index; since/before; reason
    CHECK_STR (s_query (store, (dead_letter_filter_t){0}), "2,3,1");
    CHECK_STR (s_query (store, (dead_letter_filter_t){.group = "a"}), "3,1");
    CHECK_STR (s_query (store, (dead_letter_filter_t){.group = "a", .since_ms = 2500}), "1");
    CHECK_STR (s_query (store, (dead_letter_filter_t){.before_ms = 2500}), "2,3");
    CHECK_STR (s_query (store, (dead_letter_filter_t){.reason = "phone"}), "1");
    CHECK_STR (s_query (store, (dead_letter_filter_t){.group = "zz"}), "");

    //  a second, read-only handle (the CLI's) sees the writer's commits
    dead_letter_store_t *reader = dead_letter_store_open_readonly (dir, err, sizeof err);
    CHECK (reader != NULL);
    CHECK_STR (s_query (reader, (dead_letter_filter_t){0}), "2,3,1");
    bool added;
    CHECK (dead_letter_store_keep (reader, &letters[0], &added) == ZHUB_ERROR); //  no writes there

    //  find by number or dlq id
    dead_letter_t found;
    CHECK (dead_letter_store_find (reader, "dlq:a:2", &found) == ZHUB_OK && found.seq == 3);
    dead_letter_clear (&found);
    CHECK (dead_letter_store_find (reader, "9", &found) == ZHUB_NOTFOUND);
    CHECK (dead_letter_store_find (reader, "dlq:zz:1", &found) == ZHUB_NOTFOUND);
    CHECK (dead_letter_store_get (reader, 9, &found) == ZHUB_NOTFOUND);

    //  a change: the letter written back with its message queued, in one
    //  transaction; when the queue fails, neither
    s_change_t change = {.replays = 4, .publish = true};
    char queued[64] = "";
    CHECK (dead_letter_store_change (store, 2, s_change, &change, s_outbox, NULL) == ZHUB_ERROR);
    CHECK (dead_letter_store_get (reader, 2, &found) == ZHUB_OK && found.replays == 0);
    dead_letter_clear (&found);
    CHECK (dead_letter_store_change (store, 2, s_change, &change, s_outbox, queued) == ZHUB_OK);
    CHECK_STR (queued, "replay:1:orig");
    CHECK (dead_letter_store_find (reader, "2", &found) == ZHUB_OK);
    CHECK (found.replays == 4);
    CHECK_STR (found.last_command, "cmd-1");
    dead_letter_clear (&found);
    change.runs = 0;
    CHECK (dead_letter_store_change (store, 9, s_change, &change, s_outbox, queued)
           == ZHUB_NOTFOUND);
    CHECK (change.runs == 0);
    //  the indexes still find it where they did
    CHECK_STR (s_query (reader, (dead_letter_filter_t){.group = "b"}), "2");

    //  purge: gone from every index, number not reused, id kept anew later
    uint64_t purge[] = {1, 7}, purged;
    CHECK (dead_letter_store_purge (store, purge, 2, &purged) == ZHUB_OK && purged == 1);
    CHECK_STR (s_query (reader, (dead_letter_filter_t){0}), "2,3");
    CHECK_STR (s_query (reader, (dead_letter_filter_t){.group = "a"}), "3");
    dead_letter_t again = s_letter ("dlq:a:1", "a", "webhook.bird.x", 2002, 3000);
    CHECK (dead_letter_store_keep (store, &again, &added) == ZHUB_OK);
    CHECK (added && again.seq == 4);

    //  compacting copy (erase ends with one)
    char *copy_dir = zhub_sprintf ("%s/copy/dead-letter", dir);
    char *copy_root = zhub_sprintf ("%s/copy", dir);
    CHECK (mkdir (copy_root, 0700) == 0);
    CHECK (zhub_store_copy_compact (env, copy_dir, err, sizeof err) == 0);
    dead_letter_store_t *copy = dead_letter_store_open_readonly (copy_root, err, sizeof err);
    CHECK (copy != NULL);
    if (copy)
        CHECK_STR (s_query (copy, (dead_letter_filter_t){0}), "2,3,4");
    dead_letter_store_destroy (&copy);
    free (copy_dir);
    free (copy_root);

    dead_letter_clear (&again);
    for (int i = 0; i < 4; i++)
        dead_letter_clear (&letters[i]);
    dead_letter_store_destroy (&reader);
    dead_letter_store_destroy (&store);
    CHECK (store == NULL);
    dead_letter_store_destroy (&store); //  idempotent
    zhub_store_destroy (&env);
    char *cmd = zhub_sprintf ("rm -rf '%s'", dir);
    CHECK (system (cmd) == 0);
    free (cmd);
    //  nothing there: no store, and the reason
    CHECK (dead_letter_store_open_readonly (dir, err, sizeof err) == NULL && *err);
}

int
main (void)
{
    RUN (test_store_adds_once_indexes_changes_and_purges);
    TEST_EXIT ();
}
