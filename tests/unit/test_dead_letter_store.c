//  The dead-letter store: idempotent adds, numbers never reused, indexes
//  used by list filters, updates, purge, and a second read-only handle
//  (what `zhub dlq` opens) seeing the writer's commits.
#include "dead_letter_store.h"
#include "zhub_test.h"

#include <stdlib.h>
#include <unistd.h>

typedef struct {
    dead_letter_tables_t *t;
    dead_letter_t *dl;
    bool added;
    uint64_t seq;
    dead_letter_filter_t filter;
    char seen[256];
} s_ctx_t;

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

static zhub_rc_t
s_add (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *ctx = arg;
    return dead_letter_store_add (ctx->t, txn, ctx->dl, &ctx->added);
}

static bool
s_seen (const dead_letter_t *dl, void *arg)
{
    s_ctx_t *ctx = arg;
    size_t n = strlen (ctx->seen);
    snprintf (ctx->seen + n, sizeof ctx->seen - n, "%s%llu", n ? "," : "",
              (unsigned long long)dl->seq);
    return true;
}

static zhub_rc_t
s_list (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *ctx = arg;
    ctx->seen[0] = 0;
    return dead_letter_store_each (ctx->t, txn, &ctx->filter, s_seen, ctx);
}

static const char *
s_query (zhub_store_t *store, dead_letter_tables_t *t, dead_letter_filter_t filter)
{
    static s_ctx_t ctx;
    memset (&ctx, 0, sizeof ctx);
    ctx.t = t;
    ctx.filter = filter;
    zhub_store_read (store, s_list, &ctx);
    return ctx.seen;
}

static zhub_rc_t
s_remove (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *ctx = arg;
    dead_letter_t dl;
    zhub_rc_t rc = dead_letter_store_get (ctx->t, txn, ctx->seq, &dl);
    if (rc == ZHUB_OK)
        rc = dead_letter_store_remove (ctx->t, txn, &dl);
    dead_letter_clear (&dl);
    return rc;
}

static zhub_rc_t
s_find_ref (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *ctx = arg;
    return dead_letter_store_find (ctx->t, txn, ctx->seen, ctx->dl);
}

static zhub_rc_t
s_update (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *ctx = arg;
    return dead_letter_store_update (ctx->t, txn, ctx->dl);
}

static void
test_store_adds_once_indexes_and_purges (void)
{
    char dir[] = "/tmp/zhub-dl-store-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    zhub_store_config_t config = {.data_dir = dir, .process = "dead-letter"};
    char err[256];
    zhub_store_t *store = zhub_store_open (&config, err, sizeof err);
    CHECK (store != NULL);
    dead_letter_tables_t t;
    CHECK (dead_letter_tables_open (store, &t) == 0);

    dead_letter_t letters[4] = {
        s_letter ("dlq:a:1", "a", "webhook.bird.x", 2002, 3000),
        s_letter ("dlq:b:1", "b", "contact.synced", 422, 1000),
        s_letter ("dlq:a:2", "a", "webhook.bird.y", 503, 2000),
        s_letter ("dlq:a:1", "a", "webhook.bird.x", 2002, 3000), //  redelivered
    };
    s_ctx_t ctx = {.t = &t};
    for (int i = 0; i < 4; i++) {
        ctx.dl = &letters[i];
        CHECK (zhub_store_write (store, s_add, &ctx) == ZHUB_OK);
        CHECK (ctx.added == (i < 3));
    }
    CHECK (letters[0].seq == 1 && letters[1].seq == 2 && letters[2].seq == 3);
    CHECK (letters[3].seq == 1); //  the kept one's number

    //  oldest first; group index; since/before; reason
    CHECK_STR (s_query (store, &t, (dead_letter_filter_t){0}), "2,3,1");
    CHECK_STR (s_query (store, &t, (dead_letter_filter_t){.group = "a"}), "3,1");
    CHECK_STR (s_query (store, &t, (dead_letter_filter_t){.group = "a", .since_ms = 2500}), "1");
    CHECK_STR (s_query (store, &t, (dead_letter_filter_t){.before_ms = 2500}), "2,3");
    CHECK_STR (s_query (store, &t, (dead_letter_filter_t){.reason = "phone"}), "1");
    CHECK_STR (s_query (store, &t, (dead_letter_filter_t){.group = "zz"}), "");

    //  a second, read-only handle (the CLI) sees the writer's commits
    zhub_store_t *reader = zhub_store_open_readonly (dir, "dead-letter", err, sizeof err);
    CHECK (reader != NULL);
    dead_letter_tables_t rt;
    CHECK (dead_letter_tables_open (reader, &rt) == 0);
    CHECK_STR (s_query (reader, &rt, (dead_letter_filter_t){0}), "2,3,1");
    CHECK (zhub_store_write (reader, s_add, &ctx) == ZHUB_ERROR); //  no writes there

    //  find by number or dlq id; update
    dead_letter_t found = {0};
    s_ctx_t find = {.t = &rt, .dl = &found};
    snprintf (find.seen, sizeof find.seen, "dlq:a:2");
    CHECK (zhub_store_read (reader, s_find_ref, &find) == ZHUB_OK && found.seq == 3);
    dead_letter_clear (&found);
    snprintf (find.seen, sizeof find.seen, "9");
    CHECK (zhub_store_read (reader, s_find_ref, &find) == ZHUB_NOTFOUND);
    snprintf (find.seen, sizeof find.seen, "2");
    CHECK (zhub_store_read (reader, s_find_ref, &find) == ZHUB_OK);
    found.replays = 4;
    zhub_msg_set (&found.last_command, "cmd-1");
    s_ctx_t update = {.t = &t, .dl = &found};
    CHECK (zhub_store_write (store, s_update, &update) == ZHUB_OK);
    dead_letter_clear (&found);
    CHECK (zhub_store_read (reader, s_find_ref, &find) == ZHUB_OK);
    CHECK (found.replays == 4);
    CHECK_STR (found.last_command, "cmd-1");
    dead_letter_clear (&found);

    //  purge: gone from every index, number not reused, id kept anew later
    ctx.seq = 1;
    CHECK (zhub_store_write (store, s_remove, &ctx) == ZHUB_OK);
    CHECK_STR (s_query (reader, &rt, (dead_letter_filter_t){0}), "2,3");
    CHECK_STR (s_query (reader, &rt, (dead_letter_filter_t){.group = "a"}), "3");
    dead_letter_t again = s_letter ("dlq:a:1", "a", "webhook.bird.x", 2002, 3000);
    ctx.dl = &again;
    CHECK (zhub_store_write (store, s_add, &ctx) == ZHUB_OK);
    CHECK (ctx.added && again.seq == 4);

    //  compacting copy (erase ends with one)
    char *copy_dir = zhub_sprintf ("%s/compact", dir);
    CHECK (zhub_store_copy_compact (store, copy_dir, err, sizeof err) == 0);
    zhub_store_t *copy = zhub_store_open_readonly (dir, "compact", err, sizeof err);
    CHECK (copy != NULL);
    dead_letter_tables_t ct;
    CHECK (copy && dead_letter_tables_open (copy, &ct) == 0);
    if (copy)
        CHECK_STR (s_query (copy, &ct, (dead_letter_filter_t){0}), "2,3,4");
    zhub_store_destroy (&copy);
    free (copy_dir);

    dead_letter_clear (&again);
    for (int i = 0; i < 4; i++)
        dead_letter_clear (&letters[i]);
    zhub_store_destroy (&reader);
    zhub_store_destroy (&store);
    CHECK (zhub_store_open_readonly (dir, "nothing-here", err, sizeof err) == NULL);
    char *cmd = zhub_sprintf ("rm -rf '%s'", dir);
    CHECK (system (cmd) == 0);
    free (cmd);
}

int
main (void)
{
    RUN (test_store_adds_once_indexes_and_purges);
    TEST_EXIT ();
}
