//  contact-sync's erase on a real store: the handler, given contact.erase
//  (or HubSpot's privacyDeletion), removes every record about the person
//  and nothing of anyone else, leaves tombstones in the audit trail, and
//  queues contact.forget and contact.forgotten in its outbox. After the
//  outbox is published (emptied here) and the store compacted, the
//  person's phone and e-mail are nowhere in data.mdb. The actor runtime
//  is real (store, outbox) but never reaches a broker or an API: these
//  erases are local only.
#include "contact_sync_io.h"
#include "zhub_test.h"
#include "zhub_test_actor.h"

#include <ctype.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define ANA_PHONE "+5215512345678"
#define ANA_EMAIL "ana@example.com"

typedef struct {
    char dir[64];
    contact_sync_t sync;
    zhub_actor_config_t config;
    zhub_actor_spec_t spec;
    zhub_actor_t *actor;
    zhub_actor_ctx_t *ctx;
    zhub_table_t outbox;
} s_fixture_t;

static bool
s_setup (s_fixture_t *f)
{
    memset (f, 0, sizeof *f);
    snprintf (f->dir, sizeof f->dir, "/tmp/zhub-cs-erase-XXXXXX");
    if (!mkdtemp (f->dir))
        return false;
    f->sync.queued = -1;
    //  A broker nobody listens on: zmq connects lazily, nothing is sent.
    f->config = (zhub_actor_config_t){
        .name = (char *)"contact-sync", .broker = (char *)"tcp://127.0.0.1:9", .data_dir = f->dir};
    //  APIs nobody listens on: the erase paths under test make no call
    f->sync.hubspot_config = (zhub_hubspot_config_t){.base_url = "http://127.0.0.1:9"};
    f->sync.bird_config = (zhub_bird_config_t){
        .base_url = "http://127.0.0.1:9", .workspace_id = "a1405560-c8d3-4b1a-877d-3f449ad95352"};
    f->spec = (zhub_actor_spec_t){
        .open = contact_sync_open, .close = contact_sync_close, .state = &f->sync};
    char err[256];
    f->actor = zhub_actor_new (&f->config, &f->spec, err, sizeof err);
    if (!f->actor) {
        fprintf (stderr, "  zhub_actor_new: %s\n", err);
        return false;
    }
    f->ctx = zhub_actor_ctx (f->actor);
    return zhub_store_table (f->ctx->store, "outbox", &f->outbox) == 0;
}

static void
s_teardown (s_fixture_t *f)
{
    zhub_actor_destroy (&f->actor);
    char *cmd = zhub_sprintf ("rm -rf '%s'", f->dir);
    CHECK (system (cmd) == 0);
    free (cmd);
}

static zhub_rc_t
s_put_text (zhub_txn_t *txn, zhub_table_t table, const char *key, const char *value)
{
    return zhub_txn_put (txn, table, key, strlen (key), value, strlen (value));
}

static zhub_rc_t
s_put_state (zhub_txn_t *txn, const contact_sync_t *sync, const contact_state_t *state)
{
    char *text = contact_state_encode (state);
    zhub_rc_t rc = s_put_text (txn, sync->store.contacts, state->bird_id, text);
    free (text);
    return rc;
}

//  Ana (b-ana, HubSpot 501) and Bo (b-bo, HubSpot 502), as syncs leave
//  them: states, id map (with a stale entry for Ana), a queued HubSpot
//  write and a Bird link for Ana, audit entries for both.
static zhub_rc_t
s_fill (zhub_txn_t *txn, void *arg)
{
    const contact_sync_t *sync = arg;
    contact_state_t ana = {.bird_id = (char *)"b-ana",
                           .hubspot_id = (char *)"501",
                           .hubspot = {.firstname = (char *)"Ana",
                                       .lastname = (char *)"Paz",
                                       .phone = (char *)"+525512345678",
                                       .email = (char *)ANA_EMAIL},
                           .bird = {.display_name = (char *)"Ana Paz",
                                    .phone = (char *)"+525512345678",
                                    .email = (char *)ANA_EMAIL}};
    contact_state_t bo = {
        .bird_id = (char *)"b-bo",
        .hubspot_id = (char *)"502",
        .hubspot = {.phone = (char *)"+34612345678", .email = (char *)"bo@example.com"},
        .bird = {.phone = (char *)"+34612345678", .email = (char *)"bo@example.com"}};
    if (s_put_state (txn, sync, &ana) || s_put_state (txn, sync, &bo)
        || s_put_text (txn, sync->store.hubspot_ids, "501", "b-ana")
        || s_put_text (txn, sync->store.hubspot_ids, "499", "b-ana")
        || s_put_text (txn, sync->store.hubspot_ids, "502", "b-bo")
        || s_put_text (txn, sync->store.pending, "b-ana",
                       "{\"properties\":{\"phone\":\"" ANA_PHONE "\",\"email\":\"" ANA_EMAIL
                       "\"},\"changed\":[\"phone\"],\"since\":1}")
        || s_put_text (txn, sync->store.links, "b-ana", "501")
        || s_put_text (txn, sync->store.audit, "b-ana|0000018f00000000|evt-1|0",
                       "{\"actor\":\"contact-sync\",\"bird_contact_id\":\"b-ana\",\"decision\":"
                       "\"applied\",\"event_id\":\"evt-1\",\"field\":\"phone\",\"new\":\"" ANA_PHONE
                       "\",\"object\":\"contact\",\"time\":\"2024-05-01T10:00:00.000Z\","
                       "\"winner\":\"bird\"}")
        || s_put_text (txn, sync->store.audit, "b-ana|0000018f00000001|evt-2|0",
                       "{\"actor\":\"contact-sync\",\"bird_contact_id\":\"b-ana\",\"decision\":"
                       "\"applied\",\"event_id\":\"evt-2\",\"field\":\"email\",\"new\":\"" ANA_EMAIL
                       "\",\"old\":\"Ana.Paz@Example.com\",\"object\":\"contact\",\"time\":"
                       "\"2024-05-01T10:00:01.000Z\",\"winner\":\"hubspot\"}")
        || s_put_text (txn, sync->store.audit, "b-bo|0000018f00000002|evt-3|0",
                       "{\"actor\":\"contact-sync\",\"bird_contact_id\":\"b-bo\",\"decision\":"
                       "\"applied\",\"event_id\":\"evt-3\",\"field\":\"email\",\"new\":"
                       "\"bo@example.com\",\"object\":\"contact\",\"time\":"
                       "\"2024-05-01T10:00:02.000Z\",\"winner\":\"bird\"}"))
        return ZHUB_ERROR;
    return ZHUB_OK;
}

//  -------------------------------------------------------------------
//  Reading the store back

typedef struct {
    const contact_sync_t *sync;
    zhub_table_t outbox;
    size_t contacts, hubspot_ids, pending, links, audit;
    json_t *audit_keys;   //  every audit key
    json_t *audit_values; //  every audit value (parsed)
    zhub_msg_t *sent[8];  //  the outbox, in order
    size_t sent_count;
    bool clear_outbox; //  write: empty the outbox (as a publish does)
} s_read_t;

static zhub_rc_t
s_read_fn (zhub_txn_t *txn, void *arg)
{
    s_read_t *r = arg;
    r->contacts = zhub_txn_count (txn, r->sync->store.contacts);
    r->hubspot_ids = zhub_txn_count (txn, r->sync->store.hubspot_ids);
    r->pending = zhub_txn_count (txn, r->sync->store.pending);
    r->links = zhub_txn_count (txn, r->sync->store.links);
    r->audit = zhub_txn_count (txn, r->sync->store.audit);
    r->audit_keys = json_array ();
    r->audit_values = json_array ();
    zhub_cursor_t *cursor = zhub_cursor_open (txn, r->sync->store.audit);
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        json_array_append_new (r->audit_keys, json_stringn (key, key_size));
        json_array_append_new (r->audit_values, json_loadb (value, value_size, 0, NULL));
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    cursor = zhub_cursor_open (txn, r->outbox);
    rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK && r->sent_count < 8) {
        char err[128];
        r->sent[r->sent_count++] = zhub_msg_decode (value, value_size, NULL, err, sizeof err);
        if (r->clear_outbox)
            zhub_cursor_del (cursor);
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    return ZHUB_OK;
}

static void
s_read_clear (s_read_t *r)
{
    json_decref (r->audit_keys);
    json_decref (r->audit_values);
    for (size_t i = 0; i < r->sent_count; i++)
        zhub_msg_destroy (&r->sent[i]);
    r->sent_count = 0;
}

static void
s_read (s_fixture_t *f, s_read_t *r, bool clear_outbox)
{
    memset (r, 0, sizeof *r);
    r->sync = &f->sync;
    r->outbox = f->outbox;
    r->clear_outbox = clear_outbox;
    if (clear_outbox)
        CHECK (zhub_store_write (f->ctx->store, s_read_fn, r) == ZHUB_OK);
    else
        CHECK (zhub_store_read (f->ctx->store, s_read_fn, r) == ZHUB_OK);
}

//  Does the file hold text (case-insensitively)?
static bool
s_file_has (const char *path, const char *text)
{
    FILE *file = fopen (path, "rb");
    CHECK (file != NULL);
    if (!file)
        return true;
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    fseek (file, 0, SEEK_SET);
    char *bytes = zhub_malloc ((size_t)size + 1);
    CHECK (fread (bytes, 1, (size_t)size, file) == (size_t)size);
    fclose (file);
    for (long i = 0; i < size; i++)
        bytes[i] = (char)tolower ((unsigned char)bytes[i]);
    char *lower = zhub_strdup (text);
    for (char *p = lower; *p; p++)
        *p = (char)tolower ((unsigned char)*p);
    bool found = memmem (bytes, (size_t)size, lower, strlen (lower)) != NULL;
    free (lower);
    free (bytes);
    return found;
}

static zhub_outcome_t
s_erase (s_fixture_t *f, const char *type, const char *id, const char *data_text)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->source, "zhub/cli");
    zhub_msg_set (&msg->subject, id);
    msg->time_ms = zhub_now_ms ();
    json_t *data = json_loads (data_text, 0, NULL);
    CHECK (data != NULL);
    CHECK (zhub_msg_set_data_json (msg, data) == 0);
    json_decref (data);
    zhub_outcome_t out = {0};
    zhub_outcome_ok (&out, "ok");
    //  each route has its handler (main.c)
    zhub_test_handle (contact_sync_route (type) == CONTACT_ROUTE_ERASE ? contact_sync_on_erase
                                                                       : contact_sync_on_hubspot,
                      f->ctx, msg, &out);
    zhub_msg_destroy (&msg);
    return out;
}

static const json_t *
s_data_get (const zhub_msg_t *msg, const char *key, json_t **holder)
{
    json_decref (*holder);
    *holder = zhub_msg_data_json (msg);
    return json_object_get (*holder, key);
}

static bool
s_list_has (const json_t *list, const char *value)
{
    size_t i;
    json_t *item;
    json_array_foreach (list, i, item)
    {
        if (!strcmp (json_string_value (item), value))
            return true;
    }
    return false;
}

//  -------------------------------------------------------------------

static void
test_erase_by_email_leaves_no_trace (void)
{
    s_fixture_t f;
    CHECK (s_setup (&f));
    if (!f.actor)
        return;
    CHECK (zhub_store_write (f.ctx->store, s_fill, &f.sync) == ZHUB_OK);

    zhub_outcome_t out = s_erase (&f, "contact.erase", "erase:req-1",
                                  "{\"request\":\"req-1\",\"identifier\":\"ANA@example.com\"}");
    CHECK (out.rc == ZHUB_OK);
    CHECK_STR (out.outcome, "erased");
    CHECK (!strstr (out.reason, "ana") && !strstr (out.reason, "5512345678"));

    s_read_t r;
    s_read (&f, &r, false);
    //  Bo is untouched; of Ana only tombstones remain
    CHECK (r.contacts == 1 && r.hubspot_ids == 1 && r.pending == 0 && r.links == 0);
    CHECK (r.audit == 4); //  Bo's entry, Ana's two tombstones, the erase's own entry
    size_t i;
    json_t *key;
    size_t stones = 0;
    json_array_foreach (r.audit_keys, i, key)
    {
        const char *text = json_string_value (key);
        const json_t *value = json_array_get (r.audit_values, i);
        char *dump = json_dumps (value, JSON_COMPACT);
        if (!strncmp (text, "erased:req-1|", 13)) {
            stones++;
            CHECK (json_is_true (json_object_get (value, "erased")));
            CHECK_STR (json_string_value (json_object_get (value, "erase_request")), "req-1");
            CHECK (json_object_get (value, "time") && json_object_get (value, "decision"));
            CHECK (!strstr (dump, "5512345678") && !strstr (dump, "b-ana")
                   && !strcasestr (dump, "ana"));
        } else
            CHECK (!strncmp (text, "b-bo|", 5));
        free (dump);
    }
    CHECK (stones == 3);

    //  contact.forget then contact.forgotten, in the outbox
    CHECK (r.sent_count == 2);
    json_t *holder = NULL;
    if (r.sent_count == 2) {
        CHECK_STR (r.sent[0]->type, "contact.forget");
        CHECK_STR (r.sent[0]->id, "forget:req-1");
        CHECK_STR (r.sent[0]->subject, "erase:req-1");
        CHECK_STR (json_string_value (s_data_get (r.sent[0], "bird_contact_id", &holder)), "b-ana");
        CHECK_STR (json_string_value (s_data_get (r.sent[0], "hubspot_contact_id", &holder)),
                   "501");
        CHECK_STR (json_string_value (s_data_get (r.sent[0], "email", &holder)), ANA_EMAIL);
        const json_t *ids = s_data_get (r.sent[0], "identifiers", &holder);
        CHECK (s_list_has (ids, ANA_PHONE) && s_list_has (ids, "5215512345678")
               && s_list_has (ids, "+525512345678") && s_list_has (ids, ANA_EMAIL)
               && s_list_has (ids, "ANA@example.com") && s_list_has (ids, "b-ana")
               && s_list_has (ids, "501"));
        CHECK_STR (r.sent[1]->type, "contact.forgotten");
        CHECK_STR (r.sent[1]->id, "forgotten:contact-sync:req-1");
        //  state, id map 501 and 499, pending, link, two audit entries
        CHECK (json_integer_value (s_data_get (r.sent[1], "removed", &holder)) == 7);
        CHECK_STR (json_string_value (s_data_get (r.sent[1], "actor", &holder)), "contact-sync");
    }
    json_decref (holder);
    holder = NULL;
    s_read_clear (&r);

    //  A redelivery finds nobody and queues the same ids (the broker's
    //  dedup keeps the first), forgotten with removed 0. A real redelivery
    //  comes milliseconds later at least; the erase entry's key holds the
    //  time in ms, so one in the same millisecond would replace the first.
    nanosleep (&(struct timespec){.tv_nsec = 3 * 1000 * 1000}, NULL);
    out = s_erase (&f, "contact.erase", "erase:req-1",
                   "{\"request\":\"req-1\",\"identifier\":\"ANA@example.com\"}");
    CHECK (out.rc == ZHUB_OK);
    CHECK_STR (out.outcome, "erased_nobody");
    s_read (&f, &r, true); //  and the runtime publishes the outbox
    CHECK (r.contacts == 1 && r.sent_count == 4);
    if (r.sent_count == 4) {
        CHECK_STR (r.sent[2]->id, "forget:req-1");
        CHECK_STR (r.sent[3]->id, "forgotten:contact-sync:req-1");
        CHECK (json_integer_value (s_data_get (r.sent[3], "removed", &holder)) == 0);
    }
    json_decref (holder);
    s_read_clear (&r);

    //  Compacted, the file no longer holds Ana's bytes, and still holds Bo's.
    char err[256], path[128];
    CHECK (zhub_store_compact (f.ctx->store, err, sizeof err) == 0);
    snprintf (path, sizeof path, "%s/contact-sync/data.mdb", f.dir);
    CHECK (!s_file_has (path, ANA_PHONE));
    CHECK (!s_file_has (path, "5512345678")); //  any spelling of the number
    CHECK (!s_file_has (path, ANA_EMAIL));
    CHECK (!s_file_has (path, "Ana.Paz@Example.com"));
    CHECK (!s_file_has (path, "b-ana"));
    CHECK (s_file_has (path, "bo@example.com"));
    //  and the store still works (the redelivery added its own erase entry)
    s_read (&f, &r, false);
    CHECK (r.contacts == 1 && r.audit == 5);
    s_read_clear (&r);
    s_teardown (&f);
}

static void
test_erase_by_phone_digits_and_bird_id (void)
{
    s_fixture_t f;
    CHECK (s_setup (&f));
    if (!f.actor)
        return;
    CHECK (zhub_store_write (f.ctx->store, s_fill, &f.sync) == ZHUB_OK);
    //  Ana's number typed the old way, without "+": a phone (no HubSpot id
    //  has those digits)
    zhub_outcome_t out = s_erase (&f, "contact.erase", "erase:r-phone",
                                  "{\"request\":\"r-phone\",\"identifier\":\"5215512345678\"}");
    CHECK (out.rc == ZHUB_OK);
    CHECK_STR (out.outcome, "erased");
    //  Bo by his Bird id
    out = s_erase (&f, "contact.erase", "erase:r-bird",
                   "{\"request\":\"r-bird\",\"identifier\":\"b-bo\",\"upstream\":false}");
    CHECK (out.rc == ZHUB_OK);
    CHECK_STR (out.outcome, "erased");
    s_read_t r;
    s_read (&f, &r, false);
    CHECK (r.contacts == 0 && r.hubspot_ids == 0 && r.pending == 0 && r.links == 0);
    CHECK (r.sent_count == 4);
    json_t *holder = NULL;
    if (r.sent_count == 4) {
        CHECK_STR (json_string_value (s_data_get (r.sent[0], "bird_contact_id", &holder)), "b-ana");
        CHECK_STR (json_string_value (s_data_get (r.sent[2], "bird_contact_id", &holder)), "b-bo");
        const json_t *ids = s_data_get (r.sent[2], "identifiers", &holder);
        CHECK (s_list_has (ids, "+34612345678") && s_list_has (ids, "34612345678")
               && s_list_has (ids, "bo@example.com") && s_list_has (ids, "502"));
        CHECK (!s_list_has (ids, ANA_EMAIL));
    }
    json_decref (holder);
    s_read_clear (&r);
    s_teardown (&f);
}

//  HubSpot sends contact.deletion beside contact.privacyDeletion, in any
//  order. Deletion first unlinks the contact (no HubSpot id, no id-map
//  entry): the privacy erase still finds it through the audit trail.
static zhub_rc_t
s_fill_deleted (zhub_txn_t *txn, void *arg)
{
    const contact_sync_t *sync = arg;
    contact_state_t bo = {
        .bird_id = (char *)"b-bo",
        .unlinked = (char *)"deleted in HubSpot",
        .bird = {.phone = (char *)"+34612345678", .email = (char *)"bo@example.com"}};
    if (s_put_state (txn, sync, &bo)
        || s_put_text (txn, sync->store.audit, "b-bo|0000018f00000003|hubspot:1:2:3:502:4|0",
                       "{\"actor\":\"contact-sync\",\"bird_contact_id\":\"b-bo\",\"decision\":"
                       "\"deleted_in_hubspot\",\"event_id\":\"hubspot:1:2:3:502:4\",\"field\":"
                       "\"hubspot_contact_id\",\"old\":\"502\",\"object\":\"contact\",\"time\":"
                       "\"2024-05-01T10:00:03.000Z\",\"winner\":\"hubspot\"}"))
        return ZHUB_ERROR;
    return ZHUB_OK;
}

static void
test_privacy_deletion_after_deletion (void)
{
    s_fixture_t f;
    CHECK (s_setup (&f));
    if (!f.actor)
        return;
    CHECK (zhub_store_write (f.ctx->store, s_fill_deleted, &f.sync) == ZHUB_OK);
    zhub_outcome_t out =
        s_erase (&f, "webhook.hubspot.contact.privacyDeletion", "hubspot:62515:1005:9:502:1",
                 "{\"eventId\":9,\"subscriptionId\":1005,\"portalId\":62515,\"occurredAt\":1,"
                 "\"subscriptionType\":\"contact.privacyDeletion\",\"objectId\":502}");
    CHECK (out.rc == ZHUB_OK);
    if (out.rc != ZHUB_OK)
        fprintf (stderr, "  %s\n", out.reason);
    CHECK_STR (out.outcome, "erased");
    s_read_t r;
    s_read (&f, &r, false);
    CHECK (r.contacts == 0 && r.sent_count == 2);
    json_t *holder = NULL;
    if (r.sent_count == 2) {
        CHECK_STR (r.sent[0]->id, "forget:hubspot-privacy-502");
        CHECK_STR (r.sent[0]->subject, "erase:hubspot-privacy-502");
        CHECK_STR (json_string_value (s_data_get (r.sent[0], "hubspot_contact_id", &holder)),
                   "502");
        CHECK_STR (json_string_value (s_data_get (r.sent[0], "bird_contact_id", &holder)), "b-bo");
        CHECK_STR (r.sent[1]->id, "forgotten:contact-sync:hubspot-privacy-502");
        CHECK (json_integer_value (s_data_get (r.sent[1], "removed", &holder)) == 2);
    }
    //  the tombstone of the deletion entry no longer names the HubSpot id
    size_t i;
    json_t *value;
    json_array_foreach (r.audit_values, i, value)
    {
        CHECK (!json_object_get (value, "old") && !json_object_get (value, "bird_contact_id"));
    }
    json_decref (holder);
    s_read_clear (&r);

    //  A malformed erase is a terminal reject and changes nothing.
    out = s_erase (&f, "contact.erase", "erase:bad", "{\"identifier\":\"b-bo\"}");
    CHECK (out.rc == ZHUB_REJECT && out.code == ZHUB_REASON_INVALID_INPUT);
    s_teardown (&f);
}

//  The handlers read the event the runtime decoded once (ev->data), not
//  the envelope's data again: given an event whose decoded data names Bo,
//  the erase is Bo's, whatever the envelope still carries.
static void
test_handlers_read_the_decoded_event (void)
{
    s_fixture_t f;
    CHECK (s_setup (&f));
    if (!f.actor)
        return;
    CHECK (zhub_store_write (f.ctx->store, s_fill, &f.sync) == ZHUB_OK);
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "erase:r-once");
    zhub_msg_set (&msg->type, "contact.erase");
    zhub_msg_set (&msg->subject, "erase:r-once");
    json_t *stale = json_pack ("{s:s}", "note", "not an erase");
    CHECK (zhub_msg_set_data_json (msg, stale) == 0);
    json_t *data = json_pack ("{s:s, s:s}", "request", "r-once", "identifier", "b-bo");
    zhub_actor_event_t ev = {.msg = msg, .data = data, .attempt = 1};
    zhub_outcome_t out = {0};
    contact_sync_on_erase (f.ctx, &ev, &out);
    CHECK (out.rc == ZHUB_OK);
    CHECK_STR (out.outcome, "erased");
    s_read_t r;
    s_read (&f, &r, false);
    CHECK (r.contacts == 1 && r.sent_count == 2);
    json_t *holder = NULL;
    if (r.sent_count == 2)
        CHECK_STR (json_string_value (s_data_get (r.sent[0], "bird_contact_id", &holder)), "b-bo");
    json_decref (holder);
    s_read_clear (&r);
    json_decref (data);
    json_decref (stale);
    zhub_msg_destroy (&msg);
    s_teardown (&f);
}

int
main (void)
{
    RUN (test_handlers_read_the_decoded_event);
    RUN (test_erase_by_email_leaves_no_trace);
    RUN (test_erase_by_phone_digits_and_bird_id);
    RUN (test_privacy_deletion_after_deletion);
    TEST_EXIT ();
}
