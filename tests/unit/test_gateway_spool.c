//  The gateway's spool: appends survive a reopen (what a SIGKILL leaves),
//  entries come back in order, a batch is all-or-nothing against the
//  limit, and removal up to a sequence leaves the rest in place.
#include "spool.h"
#include "zhub_test.h"

#include <unistd.h>

static char s_dir[64];

static zhub_msg_t *
s_msg (int n)
{
    zhub_msg_t *msg = zhub_msg_new ();
    char id[32];
    snprintf (id, sizeof id, "id-%d", n);
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "test");
    zhub_msg_set (&msg->type, "webhook.test.event");
    zhub_msg_set (&msg->subject, "s");
    msg->time_ms = n;
    return msg;
}

static void
s_append (zhub_gateway_spool_t *spool, int from, int count, zhub_rc_t expected)
{
    zhub_msg_list_t list = {0};
    for (int i = 0; i < count; i++) {
        zhub_msg_t *msg = s_msg (from + i);
        zhub_msg_list_push (&list, &msg);
    }
    CHECK (zhub_gateway_spool_append (spool, &list) == expected);
    zhub_msg_list_clear (&list);
}

static void
test_entries_come_back_in_order_after_a_reopen (void)
{
    char err[256];
    zhub_gateway_spool_t *spool = zhub_gateway_spool_new (s_dir, 10, err, sizeof err);
    CHECK (spool != NULL);
    if (!spool)
        return;
    CHECK (zhub_gateway_spool_depth (spool) == 0);
    s_append (spool, 1, 3, ZHUB_OK);
    s_append (spool, 4, 2, ZHUB_OK);
    CHECK (zhub_gateway_spool_depth (spool) == 5);
    zhub_gateway_spool_destroy (&spool);
    CHECK (spool == NULL);

    spool = zhub_gateway_spool_new (s_dir, 10, err, sizeof err);
    CHECK (spool && zhub_gateway_spool_depth (spool) == 5);
    zhub_msg_list_t list = {0};
    uint64_t last = 0;
    size_t skipped = 0;
    CHECK (zhub_gateway_spool_peek (spool, 3, &list, &last, &skipped) == ZHUB_OK);
    CHECK (list.count == 3 && skipped == 0);
    for (size_t i = 0; i < list.count; i++) {
        char id[32];
        snprintf (id, sizeof id, "id-%zu", i + 1);
        CHECK_STR (list.items[i]->id, id);
        CHECK_STR (list.items[i]->type, "webhook.test.event");
    }
    zhub_msg_list_clear (&list);
    CHECK (zhub_gateway_spool_remove (spool, last) == ZHUB_OK);
    CHECK (zhub_gateway_spool_depth (spool) == 2);
    CHECK (zhub_gateway_spool_peek (spool, 64, &list, &last, &skipped) == ZHUB_OK);
    CHECK (list.count == 2);
    if (list.count == 2)
        CHECK_STR (list.items[0]->id, "id-4");
    zhub_msg_list_clear (&list);
    CHECK (zhub_gateway_spool_remove (spool, last) == ZHUB_OK);
    CHECK (zhub_gateway_spool_peek (spool, 64, &list, &last, &skipped) == ZHUB_NOTFOUND);
    //  sequence numbers keep growing after the spool emptied
    s_append (spool, 6, 1, ZHUB_OK);
    uint64_t before = last;
    CHECK (zhub_gateway_spool_peek (spool, 64, &list, &last, &skipped) == ZHUB_OK);
    CHECK (last > before);
    zhub_msg_list_clear (&list);
    zhub_gateway_spool_remove (spool, last);
    zhub_gateway_spool_destroy (&spool);
}

static void
test_limit_refuses_a_whole_batch (void)
{
    char err[256];
    zhub_gateway_spool_t *spool = zhub_gateway_spool_new (s_dir, 4, err, sizeof err);
    CHECK (spool != NULL);
    if (!spool)
        return;
    s_append (spool, 10, 3, ZHUB_OK);
    s_append (spool, 20, 2, ZHUB_RETRY); //  would be 5 > 4: none of them
    CHECK (zhub_gateway_spool_depth (spool) == 3);
    s_append (spool, 30, 1, ZHUB_OK);
    CHECK (zhub_gateway_spool_depth (spool) == 4);
    zhub_msg_list_t list = {0};
    uint64_t last;
    size_t skipped;
    CHECK (zhub_gateway_spool_peek (spool, 64, &list, &last, &skipped) == ZHUB_OK);
    CHECK (list.count == 4);
    if (list.count == 4)
        CHECK_STR (list.items[3]->id, "id-30");
    zhub_msg_list_clear (&list);
    zhub_gateway_spool_remove (spool, last);
    zhub_gateway_spool_destroy (&spool);
}

int
main (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/zhub-spool-test-XXXXXX");
    if (!mkdtemp (s_dir))
        return 1;
    RUN (test_entries_come_back_in_order_after_a_reopen);
    RUN (test_limit_refuses_a_whole_batch);
    char command[128];
    snprintf (command, sizeof command, "rm -rf %s", s_dir);
    if (system (command) != 0)
        fprintf (stderr, "  could not remove %s\n", s_dir);
    TEST_EXIT ();
}
