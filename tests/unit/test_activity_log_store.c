//  activity-log's state in LMDB: the retention sweep deletes what is old,
//  and contact.forget deletes every record of a person (by id, and by
//  their phone or email inside transcripts and parked events), answers
//  contact.forgotten in the same transaction, and after compaction the
//  file holds none of their bytes — while nobody else loses anything.
//  A real store (through a real actor, for the outbox) in a temp folder.
#include "activity_log_actor.h"
#include "zhub_test.h"
#include "zhub_test_actor.h"
#include "zhub_test_forget.h"
#include "zhub_test_store.h"

#include <stdlib.h>
#include <unistd.h>

#define PHONE "+5215512345678"
#define PHONE_DIGITS "5215512345678"
#define EMAIL "ana@example.com"

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
    s_put (txn, log->tables.conversations, "old", 3,
           "{\"conversation_id\":\"old\",\"bird_contact_id\":\"b1\",\"updated\":1000,"
           "\"lines\":[],\"seen\":[]}");
    s_put (txn, log->tables.conversations, "new", 3,
           "{\"conversation_id\":\"new\",\"bird_contact_id\":\"b1\",\"updated\":90000,"
           "\"lines\":[],\"seen\":[]}");
    s_put (txn, log->tables.conversations, "other", 5,
           "{\"conversation_id\":\"other\",\"bird_contact_id\":\"b2\",\"updated\":90000,"
           "\"lines\":[],\"seen\":[]}");
    s_put (txn, log->tables.engagements, "evt:e1:note", 11, "{\"id\":\"1\",\"at\":1000}");
    s_put (txn, log->tables.engagements, "evt:e2:note", 11, "{\"id\":\"2\",\"at\":90000}");
    s_put (txn, log->tables.engagements, "booking:b", 9, "{\"id\":\"3\",\"at\":1000}");
    s_put (txn, log->tables.contacts, "b1", 2, "{\"contact\":\"501\"}");
    s_put (txn, log->tables.contacts, "b2", 2, "{\"contact\":\"502\"}");
    //  parked: bird id, NUL, u64 (ms << 16)
    uint8_t key[11] = {'b', '1', 0};
    zhub_store_key_u64 (key + 3, (uint64_t)90000 << 16);
    s_put (txn, log->tables.parked, (const char *)key, sizeof key, "x");
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
    c->conversations = zhub_txn_count (txn, c->log->tables.conversations);
    c->engagements = zhub_txn_count (txn, c->log->tables.engagements);
    c->contacts = zhub_txn_count (txn, c->log->tables.contacts);
    c->parked = zhub_txn_count (txn, c->log->tables.parked);
    return ZHUB_OK;
}

static void
test_retention (void)
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
    CHECK (activity_log_tables_open (store, &log.tables) == 0);
    s_fill_t fill = {&log};
    CHECK (zhub_store_write (store, s_fill, &fill) == ZHUB_OK);

    //  now = 100000, retention 50 s: "old" (1000) and evt:e1 go, the
    //  booking stays (a tour far ahead may still move)
    CHECK (activity_log_store_prune (store, &log.tables, log.retention_ms, 100000) == 2);
    s_count_t count = {.log = &log};
    zhub_store_read (store, s_count, &count);
    CHECK (count.conversations == 2 && count.engagements == 2 && count.parked == 1);
    zhub_store_destroy (&store);
    CHECK (zhub_test_remove_dir (dir) == 0);
}

//  The sweep is the actor's periodic work (spec.tick), not a side effect
//  of a message: a tick deletes what expired, and runs again only once the
//  sweep interval (half the retention, at most ACTIVITY_PRUNE_EVERY_MS)
//  has passed.
//  An activity-log actor as main.c wires it (no bus), over log, its store
//  in a new folder made from dir and filled by fill. spec must outlive it.
static zhub_actor_t *
s_actor (char *dir, activity_log_t *log, zhub_actor_spec_t *spec, zhub_actor_config_t *config,
         zhub_store_fn *fill)
{
    *spec = (zhub_actor_spec_t){.open = activity_log_open,
                                .close = activity_log_close,
                                .tick = activity_log_tick,
                                .state = log};
    zhub_actor_t *actor = zhub_test_actor_new (dir, ACTIVITY_LOG_GROUP, spec, config);
    CHECK (actor != NULL);
    s_fill_t arg = {log};
    if (actor)
        CHECK (zhub_store_write (zhub_actor_ctx (actor)->store, fill, &arg) == ZHUB_OK);
    return actor;
}

static void
test_retention_runs_on_the_tick (void)
{
    char dir[] = "/tmp/zhub-activity-XXXXXX";
    activity_log_t log = {.retention_ms = 50000};
    zhub_actor_spec_t spec;
    zhub_actor_config_t config;
    zhub_actor_t *actor = s_actor (dir, &log, &spec, &config, s_fill);
    if (!actor)
        return;
    zhub_actor_ctx_t *ctx = zhub_actor_ctx (actor);
    s_fill_t fill = {&log};
    //  today is long after 1970 + 90 s: everything but the booking expired
    activity_log_tick (ctx);
    s_count_t count = {.log = &log};
    zhub_store_read (ctx->store, s_count, &count);
    CHECK (count.conversations == 0 && count.engagements == 1 && count.parked == 0);
    //  right after a sweep, a tick does not sweep again
    CHECK (zhub_store_write (ctx->store, s_fill, &fill) == ZHUB_OK);
    activity_log_tick (ctx);
    zhub_store_read (ctx->store, s_count, &count);
    CHECK (count.conversations == 3 && count.parked == 1);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
    CHECK (zhub_test_remove_dir (dir) == 0);
}

static zhub_msg_t *
s_msg (const char *type, const char *id, const char *subject, const char *data_json)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "test");
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->subject, subject);
    msg->time_ms = 1893456000000;
    json_t *data = json_loads (data_json, 0, NULL);
    CHECK (data != NULL);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

//  What the store writes is what activity-log has always written (the id
//  map merged in one transaction, the engagement record, the made entry,
//  their keys), and it reads back; parked events come back per contact,
//  in the order they were parked.
static void
test_what_is_written_reads_back (void)
{
    char dir[] = "/tmp/zhub-activity-XXXXXX";
    activity_log_t log = {.retention_ms = 0};
    zhub_actor_spec_t spec;
    zhub_actor_config_t config;
    zhub_actor_t *actor = s_actor (dir, &log, &spec, &config, s_fill);
    if (!actor)
        return;
    zhub_actor_ctx_t *ctx = zhub_actor_ctx (actor);
    zhub_store_t *store = ctx->store;
    const activity_log_tables_t *t = &log.tables;

    //  the id map: what is learned later joins what was known
    CHECK (activity_log_store_learn (store, t, "b9", "509", NULL) == ZHUB_OK);
    CHECK (activity_log_store_learn (store, t, "b9", NULL, "7009") == ZHUB_OK);
    char *value = NULL;
    CHECK (zhub_store_get_copy (store, t->contacts, "b9", 2, &value, NULL) == ZHUB_OK);
    CHECK_STR (value, "{\"contact\":\"509\",\"deal\":\"7009\"}");
    free (value);
    activity_log_ids_t ids = {0};
    CHECK (activity_log_store_ids (store, t, "b9", &ids) == ZHUB_OK);
    CHECK_STR (ids.contact_id, "509");
    CHECK_STR (ids.deal_id, "7009");
    activity_log_ids_clear (&ids);
    CHECK (activity_log_store_ids (store, t, "b8", &ids) == ZHUB_NOTFOUND);

    //  one engagement: its record, its made entry, the conversation, the event
    char *key = activity_log_event_key ("e9", ACTIVITY_NOTE);
    CHECK_STR (key, "evt:e9:note");
    char *booking = activity_log_booking_key ("bk9");
    CHECK_STR (booking, "booking:bk9");
    activity_conv_t conv;
    activity_conv_init (&conv, "c9", "b9");
    activity_conv_append (&conv, "m1", "in", "hola", 1000, 2000);
    zhub_msg_t *logged = s_msg ("activity.logged", "al-note-e9-9001", "contact:b9", "{}");
    activity_log_change_t change = {.conv = &conv,
                                    .hubspot_id = "9001",
                                    .engagement_key = key,
                                    .at_ms = 1234,
                                    .made_bird = "b9",
                                    .made_path = "/crm/v3/objects/notes/9001",
                                    .publish = {logged}};
    CHECK (activity_log_store_commit (ctx, t, &change) == ZHUB_OK);
    CHECK (zhub_store_get_copy (store, t->engagements, key, strlen (key), &value, NULL) == ZHUB_OK);
    CHECK_STR (value, "{\"id\":\"9001\",\"at\":1234}");
    free (value);
    CHECK (zhub_store_get_copy (store, t->made, "b9|9001", 7, &value, NULL) == ZHUB_OK);
    CHECK_STR (value, "/crm/v3/objects/notes/9001");
    free (value);
    char *id = NULL;
    CHECK (activity_log_store_engagement (store, t, key, &id) == ZHUB_OK);
    CHECK_STR (id, "9001");
    free (id);
    CHECK (activity_log_store_engagement (store, t, booking, &id) == ZHUB_NOTFOUND);
    activity_conv_t back;
    CHECK (activity_log_store_conv (store, t, "c9", &back) == ZHUB_OK);
    CHECK (back.count == 1 && !strcmp (back.lines[0].text, "hola"));
    activity_conv_clear (&back);
    zhub_test_outbox_t outbox = {0};
    CHECK (zhub_store_table (store, "outbox", &outbox.outbox) == 0);
    zhub_store_read (store, zhub_test_read_outbox, &outbox);
    CHECK (outbox.count == 1 && outbox.last && !strcmp (outbox.last->id, "al-note-e9-9001"));
    zhub_msg_destroy (&outbox.last);

    //  parked: one contact's events in their order, another's apart
    const char *ids_in_order[] = {"p1", "p2", "p3"};
    uint64_t seqs[] = {activity_log_park_seq (5000, 0), activity_log_park_seq (5000, 1),
                       activity_log_park_seq (6000, 0)};
    for (int i = 2; i >= 0; i--) {
        zhub_msg_t *msg = s_msg ("conversation.started", ids_in_order[i], "contact:b9", "{}");
        CHECK (activity_log_store_park (store, t, "b9", seqs[i], msg) == ZHUB_OK);
        zhub_msg_destroy (&msg);
    }
    zhub_msg_t *other = s_msg ("conversation.started", "q1", "contact:b90", "{}");
    CHECK (activity_log_store_park (store, t, "b90", seqs[0], other) == ZHUB_OK);
    zhub_msg_destroy (&other);
    activity_log_parked_t *parked = zhub_calloc (1, sizeof *parked);
    CHECK (activity_log_store_parked (store, t, "b9", parked) == ZHUB_OK);
    CHECK (parked->count == 3);
    for (size_t i = 0; i < parked->count && i < 3; i++)
        CHECK (parked->msgs[i] && !strcmp (parked->msgs[i]->id, ids_in_order[i]));
    CHECK (activity_log_store_unpark (store, t, parked, 2) == ZHUB_OK);
    activity_log_parked_clear (parked);
    CHECK (activity_log_store_parked (store, t, "b9", parked) == ZHUB_OK);
    CHECK (parked->count == 1 && parked->msgs[0] && !strcmp (parked->msgs[0]->id, "p3"));
    activity_log_parked_clear (parked);
    CHECK (activity_log_store_parked (store, t, "b90", parked) == ZHUB_OK);
    CHECK (parked->count == 1);
    activity_log_parked_clear (parked);
    free (parked);

    zhub_msg_destroy (&logged);
    activity_conv_clear (&conv);
    free (booking);
    free (key);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
    CHECK (zhub_test_remove_dir (dir) == 0);
}

//  A parked event is a message the broker delivered: it reads back within
//  the limits of what a broker stores (zhub_msg_stored_limits), not those
//  of a default decode. A broker may take messages up to 2 MiB
//  (ZHUB_BROKER_MAX_MESSAGE); one of 1.5 MiB parked must come back.
static void
test_a_large_parked_event_reads_back (void)
{
    char dir[] = "/tmp/zhub-activity-XXXXXX";
    activity_log_t log = {.retention_ms = 0};
    zhub_actor_spec_t spec;
    zhub_actor_config_t config;
    zhub_actor_t *actor = s_actor (dir, &log, &spec, &config, s_fill);
    if (!actor)
        return;
    zhub_store_t *store = zhub_actor_ctx (actor)->store;
    size_t size = 1536 * 1024;
    char *text = zhub_malloc (size + 1);
    memset (text, 'a', size);
    text[size] = 0;
    zhub_msg_t *msg = s_msg ("conversation.message", "big", "contact:b7", "{}");
    json_t *data =
        json_pack ("{s:s, s:s, s:s}", "conversation_id", "c7", "direction", "in", "text", text);
    zhub_msg_set_data_json (msg, data);
    CHECK (activity_log_store_park (store, &log.tables, "b7", activity_log_park_seq (1000, 0), msg)
           == ZHUB_OK);
    activity_log_parked_t *parked = zhub_calloc (1, sizeof *parked);
    CHECK (activity_log_store_parked (store, &log.tables, "b7", parked) == ZHUB_OK);
    CHECK (parked->count == 1 && parked->msgs[0] != NULL);
    if (parked->count == 1 && parked->msgs[0])
        CHECK_STR (parked->msgs[0]->id, "big");
    activity_log_parked_clear (parked);
    free (parked);
    json_decref (data);
    free (text);
    zhub_msg_destroy (&msg);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
    CHECK (zhub_test_remove_dir (dir) == 0);
}

//  -------------------------------------------------------------------
//  contact.forget

static zhub_rc_t
s_put_conv (zhub_txn_t *txn, activity_log_t *log, const char *id, const char *bird,
            const char *line)
{
    activity_conv_t conv;
    activity_conv_init (&conv, id, bird);
    activity_conv_append (&conv, "m1", "in", line, 1000, 2000);
    char *text = activity_conv_encode (&conv);
    zhub_rc_t rc = s_put (txn, log->tables.conversations, id, strlen (id), text);
    free (text);
    activity_conv_clear (&conv);
    return rc;
}

static zhub_rc_t
s_put_parked (zhub_txn_t *txn, activity_log_t *log, const char *bird, uint64_t seq,
              const char *data_json)
{
    char *subject = zhub_sprintf ("contact:%s", bird);
    zhub_msg_t *msg = s_msg ("conversation.started", "p", subject, data_json);
    free (subject);
    uint8_t *bytes, key[64];
    size_t size, n = strlen (bird);
    char err[128];
    zhub_rc_t rc = ZHUB_ERROR;
    if (zhub_msg_encode (msg, &bytes, &size, err, sizeof err) == 0) {
        memcpy (key, bird, n);
        key[n] = 0;
        zhub_store_key_u64 (key + n + 1, seq);
        rc = zhub_txn_put (txn, log->tables.parked, key, n + 9, bytes, size);
        free (bytes);
    }
    zhub_msg_destroy (&msg);
    return rc;
}

//  Ana (bird-ana, HubSpot 90501, PHONE, EMAIL) and the people around her.
static zhub_rc_t
s_fill_people (zhub_txn_t *txn, void *arg)
{
    activity_log_t *log = ((s_fill_t *)arg)->log;
    zhub_rc_t rc = ZHUB_OK;
    //  the id map: Ana, an older Bird contact of hers (same HubSpot id), Bob
    rc |= s_put (txn, log->tables.contacts, "bird-ana", 8,
                 "{\"contact\":\"90501\",\"deal\":\"7001\"}");
    rc |= s_put (txn, log->tables.contacts, "bird-ana-old", 12, "{\"contact\":\"90501\"}");
    rc |= s_put (txn, log->tables.contacts, "bird-bob", 8, "{\"contact\":\"90502\"}");
    //  conversations: hers (by Bird id), and others' whose text names her
    rc |= s_put_conv (txn, log, "conv-ana", "bird-ana", "Hola, soy Ana, " EMAIL);
    rc |= s_put_conv (txn, log, "conv-ana-old", "bird-ana-old", "hola");
    rc |= s_put_conv (txn, log, "conv-friend", "bird-zed", "el número de Ana es " PHONE ".");
    rc |= s_put_conv (txn, log, "conv-shout", "bird-yan", "ESCRIBE A ANA@EXAMPLE.COM");
    rc |= s_put_conv (txn, log, "conv-bob", "bird-bob", "llámame al +5215599998888");
    //  not her: a longer address, a room number like her HubSpot id
    rc |= s_put_conv (txn, log, "conv-maria", "bird-maria", "ana.maria@example.com, depto 90501");
    //  parked events: hers by Bird id, by HubSpot id, by email in the data
    rc |= s_put_parked (txn, log, "bird-ana", 1, "{\"conversation_id\":\"c1\"}");
    rc |= s_put_parked (txn, log, "bird-new", 2, "{\"hubspot_contact_id\":90501}");
    rc |= s_put_parked (txn, log, "bird-new2", 3, "{\"reason\":\"writes from " EMAIL "\"}");
    rc |= s_put_parked (txn, log, "bird-bob", 4, "{\"conversation_id\":\"c9\"}");
    //  engagement records: one whose event id was derived from her number
    rc |= s_put (txn, log->tables.engagements, "evt:wa-" PHONE_DIGITS "-1:note", 28,
                 "{\"id\":\"1\",\"at\":1000}");
    rc |= s_put (txn, log->tables.engagements, "evt:e2:note", 11, "{\"id\":\"2\",\"at\":1000}");
    rc |= s_put (txn, log->tables.engagements, "booking:b", 9, "{\"id\":\"3\",\"at\":1000}");
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

static void
test_forget_removes_every_record_of_the_person (void)
{
    char dir[] = "/tmp/zhub-activity-XXXXXX";
    activity_log_t log = {.retention_ms = 0};
    zhub_actor_spec_t spec = {
        .open = activity_log_open, .close = activity_log_close, .state = &log};
    zhub_actor_config_t config;
    char err[256];
    zhub_actor_t *actor = zhub_test_actor_new (dir, ACTIVITY_LOG_GROUP, &spec, &config);
    CHECK (actor != NULL);
    if (!actor)
        return;
    zhub_actor_ctx_t *ctx = zhub_actor_ctx (actor);
    zhub_store_t *store = ctx->store;
    s_fill_t fill = {&log};
    CHECK (zhub_store_write (store, s_fill_people, &fill) == ZHUB_OK);

    const char *ana = "{\"request\":\"r1\",\"bird_contact_id\":\"bird-ana\",\"hubspot_contact_id\":"
                      "\"90501\",\"phone\":\"" PHONE "\",\"email\":\"" EMAIL "\",\"identifiers\":"
                      "[\"bird-ana\",\"90501\",\"" PHONE "\",\"" PHONE_DIGITS "\",\"" EMAIL "\"]}";
    zhub_forget_t who;
    CHECK (zhub_test_forget (ana, &who) == ZHUB_OK);

    //  id map 2, conversations 4 (hers, her old one, the two naming her),
    //  parked 3, engagements 1
    size_t removed = 0;
    CHECK (zhub_actor_forget_write (ctx, ACTIVITY_LOG_GROUP, activity_log_erase, &who, NULL, 5000,
                                    &removed)
               == ZHUB_OK
           && removed == 10);
    s_count_t count = {.log = &log};
    zhub_store_read (store, s_count, &count);
    CHECK (count.contacts == 1 && count.conversations == 2 && count.parked == 1
           && count.engagements == 2);

    //  the answer is in the outbox, committed with the erase
    zhub_test_outbox_t outbox = {0};
    CHECK (zhub_store_table (store, "outbox", &outbox.outbox) == 0);
    zhub_store_read (store, zhub_test_read_outbox, &outbox);
    CHECK (outbox.count == 1 && outbox.last != NULL);
    if (outbox.last) {
        CHECK_STR (outbox.last->type, "contact.forgotten");
        CHECK_STR (outbox.last->id, "forgotten:activity-log:r1");
        CHECK_STR (outbox.last->subject, "erase:r1");
        json_t *data = zhub_msg_data_json (outbox.last);
        CHECK_STR (json_string_value (json_object_get (data, "request")), "r1");
        CHECK_STR (json_string_value (json_object_get (data, "actor")), "activity-log");
        CHECK (json_integer_value (json_object_get (data, "removed")) == 10);
        json_decref (data);
    }

    //  a redelivery: nothing left, the same answer again
    CHECK (zhub_actor_forget_write (ctx, ACTIVITY_LOG_GROUP, activity_log_erase, &who, NULL, 6000,
                                    &removed)
               == ZHUB_OK
           && removed == 0);
    zhub_store_read (store, zhub_test_read_outbox, &outbox);
    CHECK (outbox.count == 2 && outbox.last
           && !strcmp (outbox.last->id, "forgotten:activity-log:r1"));

    //  once compacted, the file holds none of her bytes; Bob's are there
    CHECK (zhub_store_compact (store, err, sizeof err) == 0);
    char *path = zhub_sprintf ("%s/data.mdb", zhub_store_path (store));
    CHECK (!zhub_test_file_contains (path, PHONE));
    CHECK (!zhub_test_file_contains (path, PHONE_DIGITS));
    CHECK (!zhub_test_file_contains (path, EMAIL));
    CHECK (!zhub_test_file_contains (path, "ANA@EXAMPLE.COM"));
    CHECK (!zhub_test_file_contains (path, "bird-ana"));
    CHECK (zhub_test_file_contains (path, "+5215599998888"));
    CHECK (zhub_test_file_contains (path, "ana.maria@example.com"));
    CHECK (zhub_test_file_contains (path, "bird-bob"));
    free (path);
    //  the tables still work after the compaction
    zhub_store_read (store, s_count, &count);
    CHECK (count.contacts == 1 && count.conversations == 2);

    zhub_msg_destroy (&outbox.last);
    zhub_forget_clear (&who);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
    CHECK (zhub_test_remove_dir (dir) == 0);
}

//  contact.forget's route: a person known by phone and email only (no
//  Bird id) is erased, and the answer queued.
static void
test_forget_route_needs_no_bird_id (void)
{
    char dir[] = "/tmp/zhub-activity-XXXXXX";
    activity_log_t log = {.retention_ms = 0};
    zhub_actor_spec_t spec;
    zhub_actor_config_t config;
    zhub_actor_t *actor = s_actor (dir, &log, &spec, &config, s_fill_people);
    if (!actor)
        return;
    zhub_actor_ctx_t *ctx = zhub_actor_ctx (actor);
    zhub_msg_t *msg = s_msg ("contact.forget", "forget:r3", "erase:r3",
                             "{\"request\":\"r3\",\"phone\":\"" PHONE "\",\"email\":\"" EMAIL
                             "\",\"identifiers\":[\"" PHONE "\",\"" EMAIL "\"]}");
    zhub_outcome_t out;
    memset (&out, 0, sizeof out);
    zhub_outcome_ok (&out, "ok");
    zhub_test_handle (activity_log_handle_forget, ctx, msg, &out);
    CHECK (out.rc == ZHUB_OK);
    CHECK_STR (out.outcome, "forgotten");
    //  the conversations and parked events that name her by phone or email
    s_count_t count = {.log = &log};
    zhub_store_read (ctx->store, s_count, &count);
    CHECK (count.conversations == 3 && count.parked == 3);
    zhub_msg_destroy (&msg);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
    CHECK (zhub_test_remove_dir (dir) == 0);
}

//  The transcript timer is a message the broker holds until due, at most
//  366 days (PROTOCOL.md 6.3): a longer interval is refused at start.
static void
test_transcript_interval_is_what_a_broker_holds (void)
{
    activity_log_t log;
    char err[256];
    setenv ("ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL", "366d", 1);
    CHECK (activity_log_config (&log, err, sizeof err) == 0);
    CHECK (log.transcript_interval_ms == 366LL * 86400000);
    setenv ("ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL", "367d", 1);
    CHECK (activity_log_config (&log, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL") == err);
    unsetenv ("ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL");
}

int
main (void)
{
    RUN (test_retention);
    RUN (test_transcript_interval_is_what_a_broker_holds);
    RUN (test_retention_runs_on_the_tick);
    RUN (test_what_is_written_reads_back);
    RUN (test_a_large_parked_event_reads_back);
    RUN (test_forget_removes_every_record_of_the_person);
    RUN (test_forget_route_needs_no_bird_id);
    TEST_EXIT ();
}
