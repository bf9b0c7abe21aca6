//  zhub-dead-letter forgetting a person (contact.forget): which parts of a
//  letter are searched (subject, reason, the edited and the original
//  envelope, the failure history; the matching rule itself is
//  test_zhub_forget's), and on a real store: the letters and their index
//  entries go, nobody else's do, a repeat removes nothing, and after
//  compaction the file holds none of the person's bytes.
#include "dead_letter_store.h"
#include "zhub_json.h"
#include "zhub_test.h"
#include "zhub_test_forget.h"
#include "zhub_test_store.h"

#include <stdlib.h>
#include <unistd.h>

#define ANA_PHONE ZHUB_TEST_ANA_PHONE
#define ANA_EMAIL ZHUB_TEST_ANA_EMAIL

//  A dlq.<group> message as the broker builds it, then read as a letter.
static dead_letter_t
s_letter (const char *original_id, const char *subject, const char *data_json, const char *reason)
{
    char *text = zhub_sprintf (
        "{\"group\":\"contact-sync\",\"offset\":17,\"cause\":\"terminal\",\"reason_code\":422,"
        "\"attempts\":[{\"time\":\"2024-05-08T21:18:21.896Z\",\"code\":422,\"reason\":\"%s\"}],"
        "\"message\":{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"bird\","
        "\"type\":\"webhook.bird.contact.updated\",\"subject\":\"%s\",\"time\":1715203101896,"
        "\"data\":%s}}",
        reason, original_id, subject, data_json);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    char err[128];
    if (zhub_json_text_to_mpack (text, strlen (text), &pk, NULL, err, sizeof err))
        fprintf (stderr, "bad fixture: %s\n", err);
    zhub_msg_t *msg = zhub_msg_new ();
    char *id = zhub_sprintf ("dlq:contact-sync:%s", original_id);
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "zhub/broker");
    zhub_msg_set (&msg->type, "dlq.contact-sync");
    msg->time_ms = 1715203200000;
    zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
    dead_letter_t dl;
    if (dead_letter_from_msg (msg, 1715203300000, &dl, err, sizeof err) != ZHUB_OK)
        fprintf (stderr, "bad letter: %s\n", err);
    msgpack_sbuffer_destroy (&sbuf);
    zhub_msg_destroy (&msg);
    free (text);
    free (id);
    return dl;
}

static bool
s_mentions (const char *subject, const char *data_json, const char *reason, const zhub_forget_t *f)
{
    dead_letter_t dl = s_letter ("evt-1", subject, data_json, reason);
    bool mentions = dead_letter_mentions (&dl, f);
    dead_letter_clear (&dl);
    return mentions;
}

static void
test_every_part_of_a_letter_is_searched (void)
{
    zhub_forget_t f;
    CHECK (zhub_test_forget (ZHUB_TEST_ANA_FORGET, &f) == ZHUB_OK);
    //  in the subject, the data (a value, a key, a number), the reason
    CHECK (s_mentions ("contact:b-ana", "{}", "x", &f));
    CHECK (s_mentions ("hubspot:contact:501", "{}", "x", &f));
    CHECK (s_mentions ("contact:b1", "{\"email\":\"Ana@Example.COM\"}", "x", &f));
    CHECK (s_mentions ("contact:b1", "{\"from\":\"whatsapp:" ANA_PHONE "\"}", "x", &f));
    CHECK (s_mentions ("contact:b1", "{\"deep\":[{\"a\":{\"" ANA_EMAIL "\":1}}]}", "x", &f));
    CHECK (s_mentions ("contact:b1", "{\"objectId\":501}", "x", &f)); //  HubSpot sends a number
    CHECK (s_mentions ("contact:b1", "{}", "HubSpot: " ANA_EMAIL " already exists", &f));
    //  ...and not in someone else's
    CHECK (!s_mentions ("contact:b1", "{\"email\":\"diana@example.com\"}", "x", &f));
    CHECK (!s_mentions ("contact:b-ana2", "{\"n\":15012,\"s\":\"15012\",\"t\":\"501x\"}", "x", &f));
    CHECK (!s_mentions ("contact:b1", "{\"text\":\"see 501\"}", "HubSpot said 501", &f));

    //  an edited letter: the original envelope is kept too
    dead_letter_t dl = s_letter ("evt-2", "contact:b1", "{\"email\":\"" ANA_EMAIL "\"}", "x");
    dead_letter_t other = s_letter ("evt-3", "contact:b1", "{\"email\":\"luis@example.com\"}", "x");
    dl.original = dl.message;
    dl.original_size = dl.message_size;
    dl.message = other.message;
    dl.message_size = other.message_size;
    other.message = NULL;
    CHECK (dead_letter_mentions (&dl, &f));
    dead_letter_clear (&dl);
    dead_letter_clear (&other);
    zhub_forget_clear (&f);
}

typedef struct {
    dead_letter_store_t *letters;
    const zhub_forget_t *f;
    size_t removed;
} s_ctx_t;

//  The erase inside a write transaction, as the runtime's erase step runs it.
static zhub_rc_t
s_forget (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *ctx = arg;
    return dead_letter_store_forget (ctx->letters, txn, ctx->f, &ctx->removed);
}

static bool
s_seen (const dead_letter_t *dl, void *arg)
{
    char *seen = arg;
    size_t n = strlen (seen);
    bool first = !n || seen[n - 1] == '|';
    snprintf (seen + n, 256 - n, "%s%s", first ? "" : ",", dl->original_id);
    return true;
}

//  "<all>|<group contact-sync>|<count>", by original id.
static const char *
s_list (dead_letter_store_t *letters)
{
    static char seen[256];
    seen[0] = 0;
    dead_letter_filter_t all = {0}, group = {.group = "contact-sync"};
    CHECK (dead_letter_store_each (letters, &all, s_seen, seen) == ZHUB_OK);
    size_t n = strlen (seen);
    snprintf (seen + n, sizeof seen - n, "|");
    CHECK (dead_letter_store_each (letters, &group, s_seen, seen) == ZHUB_OK);
    n = strlen (seen);
    snprintf (seen + n, sizeof seen - n, "|%zu", dead_letter_store_count (letters));
    return seen;
}

static void
test_store_forgets_the_person_and_compaction_leaves_no_trace (void)
{
    char dir[] = "/tmp/zhub-dl-forget-XXXXXX", path[300], err[256];
    zhub_store_t *store = zhub_test_store_open (dir, "dead-letter", path, sizeof path);
    CHECK (store != NULL);
    if (!store)
        return;
    dead_letter_store_t *letters_store = dead_letter_store_new (store, err, sizeof err);
    CHECK (letters_store != NULL);
    dead_letter_t letters[] = {
        s_letter ("ana-1", "contact:b-ana", "{\"phone\":\"" ANA_PHONE "\"}", "invalid"),
        s_letter ("luis-1", "contact:b-luis", "{\"email\":\"luis@example.com\"}", "invalid"),
        s_letter ("ana-2", "contact:b1", "{\"email\":\"" ANA_EMAIL "\"}", "duplicate"),
        s_letter ("ana-3", "hubspot:contact:9", "{\"objectId\":501}", "gone"),
        s_letter ("luis-2", "contact:b-luis", "{\"phone\":\"+5215598765432\"}", "invalid"),
    };
    size_t count = sizeof letters / sizeof letters[0];
    s_ctx_t ctx = {.letters = letters_store};
    bool added;
    for (size_t i = 0; i < count; i++)
        CHECK (dead_letter_store_keep (letters_store, &letters[i], &added) == ZHUB_OK && added);
    CHECK (zhub_test_file_contains (path, ANA_EMAIL));

    zhub_forget_t f;
    CHECK (zhub_test_forget (ZHUB_TEST_ANA_FORGET, &f) == ZHUB_OK);
    ctx.f = &f;
    CHECK (zhub_store_write (store, s_forget, &ctx) == ZHUB_OK);
    CHECK (ctx.removed == 3);
    //  gone from the table and from the indexes; Luis's stay
    CHECK_STR (s_list (letters_store), "luis-1,luis-2|luis-1,luis-2|2");
    //  a repeat finds nothing
    CHECK (zhub_store_write (store, s_forget, &ctx) == ZHUB_OK);
    CHECK (ctx.removed == 0);
    //  the same dead letter arriving again is kept anew (its dlq id went)
    dead_letter_t again = s_letter ("ana-2", "contact:b1", "{}", "duplicate");
    CHECK (dead_letter_store_keep (letters_store, &again, &added) == ZHUB_OK && added);
    CHECK (again.seq == 6);
    dead_letter_clear (&again);

    CHECK (zhub_store_compact (store, err, sizeof err) == 0);
    CHECK (!zhub_test_file_contains (path, ANA_PHONE));
    CHECK (!zhub_test_file_contains (path, "5215512345678"));
    CHECK (!zhub_test_file_contains (path, ANA_EMAIL));
    CHECK (!zhub_test_file_contains (path, "b-ana"));
    CHECK (zhub_test_file_contains (path, "luis@example.com"));
    //  the tables still work after the compaction
    CHECK_STR (s_list (letters_store), "luis-1,luis-2,ana-2|luis-1,luis-2,ana-2|3");

    zhub_forget_clear (&f);
    for (size_t i = 0; i < count; i++)
        dead_letter_clear (&letters[i]);
    dead_letter_store_destroy (&letters_store);
    zhub_store_destroy (&store);
    CHECK (zhub_test_remove_dir (dir) == 0);
}

int
main (void)
{
    RUN (test_every_part_of_a_letter_is_searched);
    RUN (test_store_forgets_the_person_and_compaction_leaves_no_trace);
    TEST_EXIT ();
}
