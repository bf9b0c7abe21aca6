//  deal-sync's store: what a commit writes is read back as it was written
//  (the record's bytes, the audit key, one contact's trail in time
//  order), by the actor and by a reader in another process (the CLI);
//  and contact.forget: every record of a person
//  (the id map, their deals in any pipeline, found by Bird id or by HubSpot
//  contact id, the deal id index, the audit trail) is deleted in one
//  transaction with contact.forgotten queued in the outbox; a redelivery
//  removes nothing and answers again; after compaction the file holds none
//  of their ids, and nobody else lost anything. A real store, through a
//  real actor (for the outbox), in a temp folder.
#include "deal_sync_io.h"
#include "zhub_test.h"
#include "zhub_test_actor.h"
#include "zhub_test_forget.h"
#include "zhub_test_store.h"

#include <stdlib.h>
#include <unistd.h>

#define PHONE "+5215512345678"
#define PHONE_DIGITS "5215512345678"
#define EMAIL "ana@example.com"

static zhub_rc_t
s_put (zhub_txn_t *txn, zhub_table_t table, const char *key, const char *value)
{
    return zhub_txn_put (txn, table, key, strlen (key), value, strlen (value));
}

static zhub_rc_t
s_put_deal (zhub_txn_t *txn, deal_sync_t *sync, const char *key, const char *deal_id,
            const char *contact_id, const char *bird_id)
{
    char *state = zhub_sprintf ("{\"associated\":true,\"bird_id\":\"%s\",\"deal_id\":\"%s\","
                                "\"hubspot_contact_id\":\"%s\",\"stage\":\"qualifiedtobuy\","
                                "\"stage_ms\":1000,\"v\":1}",
                                bird_id, deal_id, contact_id);
    zhub_rc_t rc = s_put (txn, sync->tables.deals, key, state);
    free (state);
    return rc == ZHUB_OK ? s_put (txn, sync->tables.deal_ids, deal_id, key) : rc;
}

static zhub_rc_t
s_put_audit (zhub_txn_t *txn, deal_sync_t *sync, const char *bird_id, const char *deal_id,
             const char *event_id)
{
    char *key = deal_sync_audit_key (bird_id, 1000, event_id);
    char *entry = zhub_sprintf ("{\"actor\":\"deal-sync\",\"bird_contact_id\":\"%s\","
                                "\"deal_id\":\"%s\",\"decision\":\"applied\",\"event_id\":\"%s\"}",
                                bird_id, deal_id, event_id);
    zhub_rc_t rc = s_put (txn, sync->tables.audit, key, entry);
    free (key);
    free (entry);
    return rc;
}

//  Ana: Bird bird-ana (and an older Bird contact of hers), HubSpot 90501,
//  deals in two pipelines, and a deal made for a Bird id we only know is
//  hers because its HubSpot contact is. Bob: bird-bob, HubSpot 90502.
static zhub_rc_t
s_fill (zhub_txn_t *txn, void *arg)
{
    deal_sync_t *sync = arg;
    zhub_rc_t rc = ZHUB_OK;
    rc |= s_put (txn, sync->tables.contacts, "bird-ana", "90501");
    rc |= s_put (txn, sync->tables.contacts, "bird-ana-old", "90501");
    rc |= s_put (txn, sync->tables.contacts, "bird-bob", "90502");
    rc |= s_put_deal (txn, sync, "bird-ana/default", "7001", "90501", "bird-ana");
    rc |= s_put_deal (txn, sync, "bird-ana/rentals", "7003", "90501", "bird-ana");
    rc |= s_put_deal (txn, sync, "bird-hs-only/default", "7004", "90501", "bird-hs-only");
    rc |= s_put_deal (txn, sync, "bird-bob/default", "7002", "90502", "bird-bob");
    rc |= s_put_audit (txn, sync, "bird-ana", "7001", "e1");
    rc |= s_put_audit (txn, sync, "bird-hs-only", "7004", "e2");
    rc |= s_put_audit (txn, sync, "bird-bob", "7002", "e3");
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

//  A deal whose record does not read.
static zhub_rc_t
s_put_broken (zhub_txn_t *txn, void *arg)
{
    deal_sync_t *sync = arg;
    zhub_rc_t rc = s_put (txn, sync->tables.deals, "b-3/default", "not json");
    return rc == ZHUB_OK ? s_put (txn, sync->tables.deal_ids, "903", "b-3/default") : rc;
}

typedef struct {
    deal_sync_t *sync;
    size_t contacts, deals, deal_ids, audit;
} s_count_t;

static zhub_rc_t
s_count (zhub_txn_t *txn, void *arg)
{
    s_count_t *c = arg;
    c->contacts = zhub_txn_count (txn, c->sync->tables.contacts);
    c->deals = zhub_txn_count (txn, c->sync->tables.deals);
    c->deal_ids = zhub_txn_count (txn, c->sync->tables.deal_ids);
    c->audit = zhub_txn_count (txn, c->sync->tables.audit);
    return ZHUB_OK;
}

static int
s_forget (zhub_actor_ctx_t *ctx, const char *data_json)
{
    zhub_forget_t who;
    int removed = -2;
    size_t count = 0;
    if (zhub_test_forget (data_json, &who) == ZHUB_OK)
        removed = -1;
    if (removed == -1
        && zhub_actor_forget_write (ctx, DEAL_SYNC_GROUP, deal_sync_erase, &who, NULL, 5000, &count)
               == ZHUB_OK)
        removed = (int)count;
    zhub_forget_clear (&who);
    return removed;
}

static void
test_forget_removes_every_record_of_the_person (void)
{
    char dir[] = "/tmp/zhub-deal-XXXXXX";
    deal_sync_t sync;
    memset (&sync, 0, sizeof sync);
    zhub_actor_spec_t spec = {.open = deal_sync_open, .close = deal_sync_close, .state = &sync};
    zhub_actor_config_t config;
    char err[256];
    zhub_actor_t *actor = zhub_test_actor_new (dir, DEAL_SYNC_GROUP, &spec, &config);
    CHECK (actor != NULL);
    if (!actor)
        return;
    zhub_actor_ctx_t *ctx = zhub_actor_ctx (actor);
    zhub_store_t *store = ctx->store;
    CHECK (zhub_store_write (store, s_fill, &sync) == ZHUB_OK);

    //  contacts 2, deals 3, deal ids 3, audit 2
    const char *ana = "{\"request\":\"r1\",\"bird_contact_id\":\"bird-ana\","
                      "\"hubspot_contact_id\":\"90501\",\"phone\":\"" PHONE "\",\"email\":\"" EMAIL
                      "\",\"identifiers\":[\"bird-ana\",\"90501\",\"" PHONE "\",\"" PHONE_DIGITS
                      "\",\"" EMAIL "\"]}";
    CHECK (s_forget (ctx, ana) == 10);
    s_count_t count = {.sync = &sync};
    zhub_store_read (store, s_count, &count);
    CHECK (count.contacts == 1 && count.deals == 1 && count.deal_ids == 1 && count.audit == 1);

    //  the answer is in the outbox, committed with the erase
    zhub_test_outbox_t outbox = {0};
    CHECK (zhub_store_table (store, "outbox", &outbox.outbox) == 0);
    zhub_store_read (store, zhub_test_read_outbox, &outbox);
    CHECK (outbox.count == 1 && outbox.last != NULL);
    if (outbox.last) {
        CHECK_STR (outbox.last->type, "contact.forgotten");
        CHECK_STR (outbox.last->id, "forgotten:deal-sync:r1");
        CHECK_STR (outbox.last->subject, "erase:r1");
        json_t *data = zhub_msg_data_json (outbox.last);
        CHECK (json_integer_value (json_object_get (data, "removed")) == 10);
        json_decref (data);
    }

    //  a redelivery: nothing left, the same answer again
    CHECK (s_forget (ctx, ana) == 0);
    zhub_store_read (store, zhub_test_read_outbox, &outbox);
    CHECK (outbox.count == 2 && outbox.last && !strcmp (outbox.last->id, "forgotten:deal-sync:r1"));

    //  once compacted, the file holds none of her ids; Bob's are there
    CHECK (zhub_store_compact (store, err, sizeof err) == 0);
    char *path = zhub_sprintf ("%s/data.mdb", zhub_store_path (store));
    CHECK (!zhub_test_file_contains (path, PHONE));
    CHECK (!zhub_test_file_contains (path, PHONE_DIGITS));
    CHECK (!zhub_test_file_contains (path, EMAIL));
    CHECK (!zhub_test_file_contains (path, "bird-ana"));
    CHECK (!zhub_test_file_contains (path, "bird-hs-only"));
    CHECK (!zhub_test_file_contains (path, "90501"));
    CHECK (zhub_test_file_contains (path, "bird-bob"));
    CHECK (zhub_test_file_contains (path, "90502"));

    //  a person named only by what the operator typed (contact-sync did
    //  not know them): an id deal-sync keeps is enough
    CHECK (s_forget (ctx, "{\"request\":\"r2\",\"identifiers\":[\"bird-bob\"]}") == 4);
    zhub_store_read (store, s_count, &count);
    CHECK (count.contacts == 0 && count.deals == 0 && count.deal_ids == 0 && count.audit == 0);
    CHECK (zhub_store_compact (store, err, sizeof err) == 0);
    CHECK (!zhub_test_file_contains (path, "bird-bob"));
    free (path);

    zhub_msg_destroy (&outbox.last);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
    CHECK (zhub_test_remove_dir (dir) == 0);
}

static void
test_a_commit_is_read_back_as_it_was_written (void)
{
    char dir[] = "/tmp/zhub-deal-XXXXXX";
    deal_sync_t sync;
    memset (&sync, 0, sizeof sync);
    zhub_actor_spec_t spec = {.open = deal_sync_open, .close = deal_sync_close, .state = &sync};
    zhub_actor_config_t config;
    zhub_actor_t *actor = zhub_test_actor_new (dir, DEAL_SYNC_GROUP, &spec, &config);
    CHECK (actor != NULL);
    if (!actor)
        return;
    zhub_actor_ctx_t *ctx = zhub_actor_ctx (actor);
    deal_state_t state = {.deal_id = "901",
                          .contact_id = "501",
                          .bird_id = "b-1",
                          .stage = "qualifiedtobuy",
                          .stage_ms = 1000,
                          .associated = true};
    zhub_msg_t *publish = zhub_msg_new ();
    zhub_msg_set (&publish->id, "ds-1");
    zhub_msg_set (&publish->source, DEAL_SYNC_SOURCE);
    zhub_msg_set (&publish->type, "deal.stage_changed");
    deal_sync_change_t change = {.bird_id = "b-1",
                                 .contact_id = "501",
                                 .key = "b-1/default",
                                 .state = &state,
                                 .audit = "{\"time\":\"2030-01-01T00:00:01.000Z\",\"n\":2}",
                                 .audit_ms = 300,
                                 .event_id = "ev2",
                                 .publish = publish};
    CHECK (deal_sync_store_commit (ctx, &sync.tables, &change) == ZHUB_OK);
    //  an older entry of hers, and one of a contact whose id begins like hers
    change = (deal_sync_change_t){.bird_id = "b-1",
                                  .audit = "{\"time\":\"2030-01-01T00:00:00.000Z\",\"n\":1}",
                                  .audit_ms = 255,
                                  .event_id = "ev1"};
    CHECK (deal_sync_store_commit (ctx, &sync.tables, &change) == ZHUB_OK);
    change.bird_id = "b-10";
    CHECK (deal_sync_store_commit (ctx, &sync.tables, &change) == ZHUB_OK);

    //  the stored bytes, as deal-sync has always written them
    char *value = NULL;
    CHECK (zhub_store_get_copy (ctx->store, sync.tables.deals, "b-1/default", 11, &value, NULL)
           == ZHUB_OK);
    CHECK_STR (value, "{\"associated\":true,\"bird_id\":\"b-1\",\"deal_id\":\"901\","
                      "\"hubspot_contact_id\":\"501\",\"stage\":\"qualifiedtobuy\","
                      "\"stage_ms\":1000,\"v\":1}");
    free (value);
    char *key = deal_sync_audit_key ("b-1", 255, "ev1");
    CHECK_STR (key, "b-1|00000000000000ff|ev1");
    CHECK (zhub_store_get_copy (ctx->store, sync.tables.audit, key, strlen (key), &value, NULL)
           == ZHUB_OK);
    free (value);
    free (key);

    //  the actor's reads
    char *contact = NULL;
    CHECK (deal_sync_store_contact (ctx->store, &sync.tables, "b-1", &contact) == ZHUB_OK);
    CHECK_STR (contact, "501");
    free (contact);
    CHECK (deal_sync_store_contact (ctx->store, &sync.tables, "b-2", &contact) == ZHUB_NOTFOUND);
    deal_state_t back;
    CHECK (deal_sync_store_deal (ctx->store, &sync.tables, "b-1/default", &back) == ZHUB_OK);
    CHECK_STR (back.deal_id, "901");
    CHECK_STR (back.contact_id, "501");
    CHECK_STR (back.stage, "qualifiedtobuy");
    CHECK (back.stage_ms == 1000 && back.associated);
    deal_state_clear (&back);
    char *held_key = NULL;
    CHECK (deal_sync_store_deal_by_id (ctx->store, &sync.tables, "901", &held_key, &back)
           == ZHUB_OK);
    CHECK_STR (held_key, "b-1/default");
    CHECK_STR (back.bird_id, "b-1");
    free (held_key);
    deal_state_clear (&back);
    CHECK (deal_sync_store_deal_by_id (ctx->store, &sync.tables, "902", &held_key, &back)
           == ZHUB_NOTFOUND);
    CHECK (held_key == NULL);

    //  the answer went into the outbox with the state
    zhub_test_outbox_t outbox = {0};
    CHECK (zhub_store_table (ctx->store, "outbox", &outbox.outbox) == 0);
    zhub_store_read (ctx->store, zhub_test_read_outbox, &outbox);
    CHECK (outbox.count == 1 && outbox.last && !strcmp (outbox.last->id, "ds-1"));
    zhub_msg_destroy (&outbox.last);

    //  `zhub audit` and `zhub dlq` read the same through the read side, from
    //  another handle opened read-only
    zhub_store_t *reader = NULL;
    deal_sync_tables_t tables;
    char err[256];
    CHECK (deal_sync_store_open_readonly (dir, &reader, &tables, err, sizeof err) == ZHUB_OK);
    json_t *entries = json_array ();
    CHECK (reader && deal_sync_store_audit (reader, &tables, "b-1", entries) == ZHUB_OK);
    CHECK (json_array_size (entries) == 2);
    CHECK (json_integer_value (json_object_get (json_array_get (entries, 0), "n")) == 1);
    CHECK (json_integer_value (json_object_get (json_array_get (entries, 1), "n")) == 2);
    json_decref (entries);
    CHECK (reader && deal_sync_store_deal (reader, &tables, "b-1/default", &back) == ZHUB_OK);
    CHECK_STR (back.stage, "qualifiedtobuy");
    deal_state_clear (&back);
    zhub_store_destroy (&reader);
    //  where deal-sync never ran there is nothing, and nothing is created
    char empty[] = "/tmp/zhub-deal-none-XXXXXX";
    CHECK (mkdtemp (empty) != NULL);
    CHECK (deal_sync_store_open_readonly (empty, &reader, &tables, err, sizeof err)
           == ZHUB_NOTFOUND);
    CHECK (reader == NULL);
    CHECK (zhub_test_remove_dir (empty) == 0);

    //  a value that is no record does not pass for one
    CHECK (zhub_store_write (ctx->store, s_put_broken, &sync) == ZHUB_OK);
    CHECK (deal_sync_store_deal (ctx->store, &sync.tables, "b-3/default", &back) == ZHUB_REJECT);
    CHECK (deal_sync_store_deal_by_id (ctx->store, &sync.tables, "903", &held_key, &back)
           == ZHUB_NOTFOUND);

    zhub_msg_destroy (&publish);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
    CHECK (zhub_test_remove_dir (dir) == 0);
}

int
main (void)
{
    RUN (test_a_commit_is_read_back_as_it_was_written);
    RUN (test_forget_removes_every_record_of_the_person);
    TEST_EXIT ();
}
