//  zhub-scheduler forgetting a person (contact.forget): which bookings name
//  the person (reading the message and the answer are test_zhub_forget's),
//  and on a real store: the person's bookings go with their holds and
//  invitee links, and when they last wrote on WhatsApp; other people's
//  bookings, the OAuth tokens and the meta entries stay; a repeat removes
//  nothing; after compaction the file holds none of the person's bytes.
//  (Reminders are held by the broker, naming only the booking:
//  test_scheduler_timers shows they are dropped once it is gone.)
#include "scheduler_io.h"
#include "zhub_test.h"
#include "zhub_test_forget.h"
#include "zhub_test_store.h"

#include <stdlib.h>
#include <unistd.h>

#define ANA_PHONE ZHUB_TEST_ANA_PHONE
#define ANA_EMAIL ZHUB_TEST_ANA_EMAIL

static void
test_booking_refers_to_the_person_by_whole_values (void)
{
    zhub_forget_t f;
    CHECK (zhub_test_forget (ZHUB_TEST_ANA_FORGET, &f) == ZHUB_OK);
    sched_booking_t b = {.booking_id = "bk1", .bird_id = "b-ana"};
    CHECK (sched_booking_refers_to (&b, &f));
    b.bird_id = "B-ANA"; //  ids compared without case
    CHECK (sched_booking_refers_to (&b, &f));
    b.bird_id = "b-luis";
    CHECK (!sched_booking_refers_to (&b, &f));
    b.phone = ANA_PHONE; //  booked by phone under another Bird id
    CHECK (sched_booking_refers_to (&b, &f));
    b.phone = "5215512345678";
    CHECK (sched_booking_refers_to (&b, &f));
    b.phone = "+52155123456789"; //  longer: someone else
    CHECK (!sched_booking_refers_to (&b, &f));
    b.phone = NULL;
    b.bird_id = NULL;
    CHECK (!sched_booking_refers_to (&b, &f));
    zhub_forget_clear (&f);
}

//  -------------------------------------------------------------------
//  On a real store (keys as scheduler_store.h describes them)

//  The tables by the names scheduler_store.h gives them: the test writes
//  the records as the store keeps them.
typedef struct {
    zhub_table_t bookings, holds, tokens, meta, invitees, inbound;
} s_tables_t;

static zhub_rc_t
s_put (zhub_txn_t *txn, zhub_table_t table, const void *key, size_t key_size, const char *value)
{
    return zhub_txn_put (txn, table, key, key_size, value, strlen (value));
}

static void
s_put_booking (zhub_txn_t *txn, s_tables_t *self, const sched_booking_t *b)
{
    char *text = sched_booking_encode (b);
    s_put (txn, self->bookings, b->booking_id, strlen (b->booking_id), text);
    free (text);
    if (b->agent_id) {
        uint8_t key[64];
        size_t n = strlen (b->agent_id);
        memcpy (key, b->agent_id, n + 1);
        zhub_store_key_u64 (key + n + 1, (uint64_t)b->start);
        s_put (txn, self->holds, key, n + 9, b->booking_id);
    }
}

static zhub_rc_t
s_fill (zhub_txn_t *txn, void *arg)
{
    s_tables_t *self = arg;
    //  Ana: a scheduled Graph tour with two reminders, an "unavailable"
    //  answer, and a Calendly self-service booking made by phone only.
    sched_booking_t ana = {.booking_id = "bk-ana-1",
                           .request_id = "req-1",
                           .bird_id = "b-ana",
                           .conversation_id = "conv-ana",
                           .agent_id = "luis",
                           .platform = "graph",
                           .calendar_id = "luis@urbanhub.mx",
                           .event_id = "evt-ana",
                           .location = "Torre Reforma",
                           .phone = ANA_PHONE,
                           .status = "scheduled",
                           .start = 5000000,
                           .end = 7700000};
    s_put_booking (txn, self, &ana);
    s_put (txn, self->invitees, "graph:evt-ana", 13, "bk-ana-1");
    sched_booking_t none = {.booking_id = "bk-ana-2", .bird_id = "b-ana", .status = "unavailable"};
    s_put_booking (txn, self, &none);
    sched_booking_t link = {.booking_id = "bk-ana-3",
                            .bird_id = "b-other-id",
                            .phone = "5215512345678",
                            .platform = "calendly",
                            .status = "link_sent",
                            .confirmation_url = "https://calendly.com/d/x?utm_content=bk-ana-3"};
    s_put_booking (txn, self, &link);
    s_put (txn, self->invitees, "https://api.calendly.com/invitees/INV1", 38, "bk-ana-3");
    uint8_t stamp[8];
    zhub_store_key_u64 (stamp, 1772730000000ULL);
    zhub_txn_put (txn, self->inbound, "b-ana", 5, stamp, 8); //  Ana wrote on WhatsApp
    //  Luis, the person next door: everything stays
    sched_booking_t luis = {.booking_id = "bk-luis",
                            .bird_id = "b-luis",
                            .agent_id = "luis",
                            .phone = "+5215598765432",
                            .status = "scheduled",
                            .start = 9000000,
                            .end = 9900000};
    s_put_booking (txn, self, &luis);
    zhub_txn_put (txn, self->inbound, "b-luis", 6, stamp, 8);
    //  nobody's: tokens, the round-robin position
    s_put (txn, self->tokens, "google", 6, "sealed-token-bytes");
    uint8_t rr[8];
    zhub_store_key_u64 (rr, 3);
    zhub_txn_put (txn, self->meta, "rr", 2, rr, 8);
    return ZHUB_OK;
}

typedef struct {
    s_tables_t *self;
    sched_store_t *db;
    const zhub_forget_t *f;
    size_t removed;
    size_t bookings, holds, invitees, tokens, meta, inbound;
} s_ctx_t;

static zhub_rc_t
s_forget (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *ctx = arg;
    return sched_store_forget (ctx->db, txn, ctx->f, &ctx->removed);
}

static zhub_rc_t
s_count (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *ctx = arg;
    ctx->bookings = zhub_txn_count (txn, ctx->self->bookings);
    ctx->holds = zhub_txn_count (txn, ctx->self->holds);
    ctx->invitees = zhub_txn_count (txn, ctx->self->invitees);
    ctx->tokens = zhub_txn_count (txn, ctx->self->tokens);
    ctx->meta = zhub_txn_count (txn, ctx->self->meta);
    ctx->inbound = zhub_txn_count (txn, ctx->self->inbound);
    const void *value;
    size_t size;
    if (zhub_txn_get (txn, ctx->self->bookings, "bk-luis", 7, &value, &size) != ZHUB_OK)
        ctx->bookings = 99; //  the wrong one went
    return ZHUB_OK;
}

static void
test_store_forgets_bookings_and_what_points_at_them (void)
{
    char dir[] = "/tmp/zhub-sched-forget-XXXXXX", path[300], err[256];
    zhub_store_t *store = zhub_test_store_open (dir, "scheduler", path, sizeof path);
    CHECK (store != NULL);
    if (!store)
        return;
    zhub_actor_ctx_t actor = {.store = store}; //  the erase queues nothing itself
    sched_store_t *db = sched_store_new (&actor, NULL, 0, err, sizeof err);
    CHECK (db != NULL);
    s_tables_t self;
    CHECK (zhub_store_table (store, "bookings", &self.bookings) == 0);
    CHECK (zhub_store_table (store, "holds", &self.holds) == 0);
    CHECK (zhub_store_table (store, "tokens", &self.tokens) == 0);
    CHECK (zhub_store_table (store, "meta", &self.meta) == 0);
    CHECK (zhub_store_table (store, "invitees", &self.invitees) == 0);
    CHECK (zhub_store_table (store, "inbound", &self.inbound) == 0);
    CHECK (zhub_store_write (store, s_fill, &self) == ZHUB_OK);
    CHECK (zhub_test_file_contains (path, ANA_PHONE));

    zhub_forget_t f;
    CHECK (zhub_test_forget (ZHUB_TEST_ANA_FORGET, &f) == ZHUB_OK);
    s_ctx_t ctx = {.self = &self, .db = db, .f = &f};
    CHECK (zhub_store_write (store, s_forget, &ctx) == ZHUB_OK);
    //  3 bookings, 1 hold, 2 invitee links, 1 inbound time
    CHECK (ctx.removed == 7);
    zhub_store_read (store, s_count, &ctx);
    CHECK (ctx.bookings == 1 && ctx.holds == 1 && ctx.invitees == 0 && ctx.inbound == 1);
    CHECK (ctx.tokens == 1 && ctx.meta >= 1);
    CHECK (zhub_store_write (store, s_forget, &ctx) == ZHUB_OK);
    CHECK (ctx.removed == 0);

    CHECK (zhub_store_compact (store, err, sizeof err) == 0);
    CHECK (!zhub_test_file_contains (path, ANA_PHONE));
    CHECK (!zhub_test_file_contains (path, "5215512345678"));
    CHECK (!zhub_test_file_contains (path, ANA_EMAIL)); //  never kept here; must not appear
    CHECK (!zhub_test_file_contains (path, "b-ana"));
    CHECK (!zhub_test_file_contains (path, "conv-ana"));
    CHECK (zhub_test_file_contains (path, "+5215598765432"));
    //  the handles still name the same tables after the compaction
    zhub_store_read (store, s_count, &ctx);
    CHECK (ctx.bookings == 1 && ctx.holds == 1 && ctx.tokens == 1);

    zhub_forget_clear (&f);
    sched_store_destroy (&db);
    zhub_store_destroy (&store);
    CHECK (zhub_test_remove_dir (dir) == 0);
}

int
main (void)
{
    RUN (test_booking_refers_to_the_person_by_whole_values);
    RUN (test_store_forgets_bookings_and_what_points_at_them);
    TEST_EXIT ();
}
