//  contact-sync's store on a real LMDB environment: what its write side
//  commits, its read side reads back, also from another handle opened
//  read-only as the CLI opens it (`zhub audit`, the dead-letter preview),
//  which knows no key format of its own. The actor runtime is real (store,
//  outbox) but reaches no broker.
#include "contact_sync_store.h"
#include "zhub_test.h"
#include "zhub_test_actor.h"
#include "zhub_test_store.h"

#include <unistd.h>

typedef struct {
    char dir[64];
    contact_sync_store_t store;
    zhub_actor_config_t config;
    zhub_actor_spec_t spec;
    zhub_actor_t *actor;
    zhub_actor_ctx_t *ctx;
} s_fixture_t;

static int
s_open (zhub_actor_ctx_t *ctx)
{
    s_fixture_t *f = ctx->state;
    return contact_sync_store_open (&f->store, ctx->store, NULL);
}

static bool
s_setup (s_fixture_t *f)
{
    memset (f, 0, sizeof *f);
    snprintf (f->dir, sizeof f->dir, "/tmp/zhub-cs-store-XXXXXX");
    f->spec = (zhub_actor_spec_t){.open = s_open, .state = f};
    f->actor = zhub_test_actor_new (f->dir, CONTACT_SYNC_GROUP, &f->spec, &f->config);
    if (f->actor)
        f->ctx = zhub_actor_ctx (f->actor);
    return f->actor != NULL;
}

//  Closes the actor (the writer), so that the store can be opened again.
static void
s_close (s_fixture_t *f)
{
    zhub_actor_destroy (&f->actor);
    zhub_actor_config_clear (&f->config);
}

static size_t
s_outbox (s_fixture_t *f, zhub_msg_t **last)
{
    zhub_test_outbox_t outbox = {0};
    CHECK (zhub_store_table (f->ctx->store, "outbox", &outbox.outbox) == 0);
    CHECK (zhub_store_read (f->ctx->store, zhub_test_read_outbox, &outbox) == ZHUB_OK);
    if (last)
        *last = outbox.last;
    else
        zhub_msg_destroy (&outbox.last);
    return outbox.count;
}

static json_t *
s_entry (const char *field, const char *decision)
{
    return json_pack ("{s:s, s:s, s:s, s:s}", "actor", CONTACT_SYNC_GROUP, "object", "contact",
                      "field", field, "decision", decision);
}

static void
test_a_commit_is_read_back_by_both_sides (void)
{
    s_fixture_t f;
    CHECK (s_setup (&f));
    if (!f.actor)
        return;
    //  A contact synced, then moved to another HubSpot record.
    contact_state_t first = {.bird_id = (char *)"b-1",
                             .hubspot_id = (char *)"501",
                             .hubspot = {.phone = (char *)"+525512345678"}};
    json_t *audit = json_array ();
    json_array_append_new (audit, s_entry ("phone", "applied"));
    zhub_msg_t *synced = zhub_msg_new ();
    zhub_msg_set (&synced->id, "cs-1");
    zhub_msg_set (&synced->type, "contact.synced");
    zhub_msg_set (&synced->source, CONTACT_SYNC_SOURCE);
    contact_sync_commit_t commit = {
        .next = &first, .audit = audit, .event_id = "evt-1", .publish = synced};
    CHECK (contact_sync_store_commit (&f.store, f.ctx, &commit, 1) == ZHUB_OK);
    usleep (2000); //  the audit keys hold the commit's millisecond
    contact_state_t moved = {.bird_id = (char *)"b-1", .hubspot_id = (char *)"777"};
    json_array_clear (audit);
    json_array_append_new (audit, s_entry ("hubspot_contact_id", "merged"));
    commit = (contact_sync_commit_t){
        .next = &moved, .prev = &first, .audit = audit, .event_id = "evt-2"};
    CHECK (contact_sync_store_commit (&f.store, f.ctx, &commit, 1) == ZHUB_OK);
    //  an audit entry alone (a change that lost)
    json_array_clear (audit);
    json_array_append_new (audit, s_entry ("email", "older_than_current"));
    commit = (contact_sync_commit_t){.bird_id = "b-1", .audit = audit, .event_id = "evt-3"};
    CHECK (contact_sync_store_commit (&f.store, f.ctx, &commit, 1) == ZHUB_OK);
    json_decref (audit);
    CHECK (s_outbox (&f, NULL) == 1);
    zhub_msg_destroy (&synced);

    contact_state_t state;
    CHECK (contact_sync_store_load_bird (&f.store, "b-1", &state) == ZHUB_OK);
    CHECK_STR (state.hubspot_id, "777");
    contact_state_clear (&state);
    CHECK (contact_sync_store_load_hubspot (&f.store, "777", &state) == ZHUB_OK);
    CHECK_STR (state.bird_id, "b-1");
    contact_state_clear (&state);
    //  the id it left is no longer in the map
    CHECK (contact_sync_store_load_hubspot (&f.store, "501", &state) == ZHUB_NOTFOUND);
    CHECK (contact_sync_store_load_bird (&f.store, "b-2", &state) == ZHUB_NOTFOUND);
    CHECK (contact_sync_store_load_bird (&f.store, "", &state) == ZHUB_NOTFOUND);
    s_close (&f);

    //  The CLI's side: another handle, read-only, knowing no key.
    contact_sync_store_t reader;
    char err[256];
    CHECK (contact_sync_store_open_readonly (&reader, f.dir, err, sizeof err) == ZHUB_OK);
    CHECK (contact_sync_store_load_hubspot (&reader, "777", &state) == ZHUB_OK);
    CHECK_STR (state.bird_id, "b-1");
    contact_state_clear (&state);
    json_t *entries = json_array ();
    CHECK (contact_sync_store_audit (&reader, "b-1", false, entries) == ZHUB_OK);
    CHECK (json_array_size (entries) == 3);
    const char *order[] = {"applied", "merged", "older_than_current"};
    for (size_t i = 0; i < 3 && i < json_array_size (entries); i++) {
        const json_t *entry = json_array_get (entries, i);
        CHECK_STR (json_string_value (json_object_get (entry, "decision")), order[i]);
        CHECK_STR (json_string_value (json_object_get (entry, "bird_contact_id")), "b-1");
        CHECK (json_object_get (entry, "time") != NULL);
    }
    //  another contact's prefix is not this one's ("b-1" vs "b-10")
    json_array_clear (entries);
    CHECK (contact_sync_store_audit (&reader, "b-", false, entries) == ZHUB_OK);
    CHECK (json_array_size (entries) == 0);
    CHECK (contact_sync_store_audit (&reader, "req-1", true, entries) == ZHUB_OK);
    CHECK (json_array_size (entries) == 0);
    json_decref (entries);
    contact_sync_store_close (&reader);
    contact_sync_store_close (&reader); //  idempotent

    //  Where contact-sync never ran there is nothing to read, and nothing
    //  is created.
    char empty[] = "/tmp/zhub-cs-none-XXXXXX";
    CHECK (mkdtemp (empty) != NULL);
    CHECK (contact_sync_store_open_readonly (&reader, empty, err, sizeof err) == ZHUB_NOTFOUND);
    char path[128];
    snprintf (path, sizeof path, "%s/contact-sync", empty);
    CHECK (access (path, F_OK) != 0);
    CHECK (zhub_test_remove_dir (empty) == 0);
    CHECK (zhub_test_remove_dir (f.dir) == 0);
}

static void
test_queued_writes_are_taken_oldest_first_and_settled (void)
{
    s_fixture_t f;
    CHECK (s_setup (&f));
    if (!f.actor)
        return;
    zhub_msg_t *cause = zhub_msg_new ();
    zhub_msg_set (&cause->id, "bird:evt-1");
    zhub_msg_set (&cause->type, "webhook.bird.contact.updated");
    zhub_msg_set (&cause->source, "bird");
    zhub_msg_set (&cause->traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    //  "b-z" queued first, "b-a" later: the order is the queue's, not the ids'
    const char *birds[] = {"b-z", "b-a"};
    for (size_t i = 0; i < 2; i++) {
        contact_plan_t plan;
        contact_plan_init (&plan);
        plan.next.bird_id = zhub_strdup (birds[i]);
        plan.hubspot_properties = json_pack ("{s:s}", "firstname", "Ana");
        plan.changed[plan.changed_count++] = "firstname";
        plan.audit = json_array ();
        json_array_append_new (plan.audit, s_entry ("name", "applied"));
        CHECK (contact_sync_store_queue (&f.store, &plan, cause, 1000 + (int64_t)i, NULL) == ZHUB_OK);
        contact_plan_clear (&plan);
    }
    //  a second change to b-z merges into its intent
    contact_plan_t plan;
    contact_plan_init (&plan);
    plan.next.bird_id = zhub_strdup ("b-z");
    plan.hubspot_properties = json_pack ("{s:s, s:s}", "firstname", "Zoe", "phone", "+34600000000");
    plan.changed[plan.changed_count++] = "firstname";
    plan.changed[plan.changed_count++] = "phone";
    plan.audit = json_array ();
    json_array_append_new (plan.audit, s_entry ("phone", "applied"));
    CHECK (contact_sync_store_queue (&f.store, &plan, cause, 5000, NULL) == ZHUB_OK);
    contact_plan_clear (&plan);

    contact_intent_t intents[2] = {0};
    size_t count = 0, pending = 0;
    int64_t next_since = -1;
    CHECK (contact_sync_store_pending (&f.store, intents, 1, &count, &pending, &next_since)
           == ZHUB_OK);
    CHECK (count == 1 && pending == 2 && next_since == 1001);
    CHECK_STR (intents[0].bird_id, "b-z");
    CHECK (intents[0].since == 1000);
    CHECK_STR (json_string_value (json_object_get (intents[0].properties, "firstname")), "Zoe");
    CHECK (json_array_size (intents[0].changed) == 2);
    //  both changes' field decisions wait with the write, for its commit
    CHECK (json_array_size (intents[0].audit) == 2);
    CHECK_STR (json_string_value (json_object_get (json_array_get (intents[0].audit, 1), "field")),
               "phone");
    CHECK_STR (intents[0].cause_id, "bird:evt-1");
    CHECK_STR (intents[0].traceparent, cause->traceparent);
    //  the envelope that queued it, for its dead letter
    zhub_msg_t *kept =
        intents[0].cause_envelope
            ? zhub_msg_decode (intents[0].cause_envelope, intents[0].cause_envelope_size,
                               &zhub_mpack_default_limits, NULL, 0)
            : NULL;
    CHECK (kept && !strcmp (kept->id, "bird:evt-1"));
    zhub_msg_destroy (&kept);
    contact_intent_clear (&intents[0]);
    //  the state moved with the queue
    contact_state_t state;
    CHECK (contact_sync_store_load_bird (&f.store, "b-a", &state) == ZHUB_OK);
    contact_state_clear (&state);

    //  b-z is settled: the intent goes, its HubSpot id is kept and goes
    //  onto the Bird contact later
    contact_state_t done = {.bird_id = (char *)"b-z", .hubspot_id = (char *)"601"};
    contact_sync_commit_t commit = {.next = &done, .settle_intent = true, .link_hubspot_id = "601"};
    CHECK (contact_sync_store_commit (&f.store, f.ctx, &commit, 1) == ZHUB_OK);
    CHECK (contact_sync_store_pending (&f.store, intents, 2, &count, &pending, &next_since)
           == ZHUB_OK);
    CHECK (count == 1 && pending == 1 && next_since == 0);
    CHECK_STR (intents[0].bird_id, "b-a");
    contact_intent_clear (&intents[0]);
    char *bird[4], *hubspot[4];
    CHECK (contact_sync_store_links (&f.store, 4, bird, hubspot, &count) == ZHUB_OK);
    CHECK (count == 1);
    if (count == 1) {
        CHECK_STR (bird[0], "b-z");
        CHECK_STR (hubspot[0], "601");
        //  a newer id queued meanwhile stays
        commit = (contact_sync_commit_t){.bird_id = "b-z", .link_hubspot_id = "602"};
        CHECK (contact_sync_store_commit (&f.store, f.ctx, &commit, 1) == ZHUB_OK);
        CHECK (contact_sync_store_links_done (&f.store, bird, hubspot, 1) == ZHUB_OK);
        free (bird[0]);
        free (hubspot[0]);
        CHECK (contact_sync_store_links (&f.store, 4, bird, hubspot, &count) == ZHUB_OK);
        CHECK (count == 1 && !strcmp (hubspot[0], "602"));
        CHECK (contact_sync_store_links_done (&f.store, bird, hubspot, count) == ZHUB_OK);
        for (size_t i = 0; i < count; i++) {
            free (bird[i]);
            free (hubspot[i]);
        }
        CHECK (contact_sync_store_links (&f.store, 4, bird, hubspot, &count) == ZHUB_OK);
        CHECK (count == 0);
    }
    zhub_msg_destroy (&cause);
    s_close (&f);
    CHECK (zhub_test_remove_dir (f.dir) == 0);
}

//  What zhub status contact and zhub sync results read: why a flush left a
//  write queued, the link still to make, and the runs kept, read back
//  through a read-only store as the CLI opens it.
static void
test_deferral_notes_links_and_results_are_read_back (void)
{
    s_fixture_t f;
    CHECK (s_setup (&f));
    if (!f.actor)
        return;
    zhub_msg_t *cause = zhub_msg_new ();
    zhub_msg_set (&cause->id, "bird:evt-9");
    zhub_msg_set (&cause->type, "webhook.bird.contact.updated");
    zhub_msg_set (&cause->source, "bird");
    contact_plan_t plan;
    contact_plan_init (&plan);
    plan.next.bird_id = zhub_strdup ("b-1");
    plan.hubspot_properties = json_pack ("{s:s}", "firstname", "Ana");
    plan.changed[plan.changed_count++] = "firstname";
    CHECK (contact_sync_store_queue (&f.store, &plan, cause, 1000, NULL) == ZHUB_OK);
    contact_plan_clear (&plan);
    //  two flushes deferred it (the second with HubSpot's 503); "b-gone" was
    //  settled meanwhile and is passed over
    const char *birds[] = {"b-1", "b-gone"};
    unsigned codes[] = {429, 503};
    const char *first[] = {"HTTP 429", "x"}, *second[] = {"HTTP 503", "x"};
    CHECK (contact_sync_store_note_deferred (&f.store, birds, codes, first, 2, 2000) == ZHUB_OK);
    CHECK (contact_sync_store_note_deferred (&f.store, birds, codes + 1, second, 1, 3000)
           == ZHUB_OK);
    contact_state_t linked = {.bird_id = (char *)"b-2", .hubspot_id = (char *)"701"};
    contact_sync_commit_t commit = {.next = &linked, .link_hubspot_id = "701"};
    CHECK (contact_sync_store_commit (&f.store, f.ctx, &commit, 1) == ZHUB_OK);
    zhub_sync_result_t run;
    zhub_sync_result_init (&run, CONTACT_SYNC_GROUP, "batch", zhub_now_ms ());
    run.processed = 3;
    run.deferred = 1;
    CHECK (contact_sync_store_result_put (&f.store, &run, zhub_now_ms (), 1) == ZHUB_OK);
    s_close (&f);

    contact_sync_store_t reader;
    char err[256];
    CHECK (contact_sync_store_open_readonly (&reader, f.dir, err, sizeof err) == ZHUB_OK);
    contact_intent_t intent;
    CHECK (contact_sync_store_intent (&reader, "b-1", &intent) == ZHUB_OK);
    CHECK (intent.deferred_flushes == 2 && intent.deferred_code == 503);
    CHECK (intent.deferred_at == 3000 && intent.since == 1000);
    CHECK_STR (intent.deferred_reason, "HTTP 503");
    CHECK_STR (json_string_value (json_array_get (intent.changed, 0)), "firstname");
    contact_intent_clear (&intent);
    CHECK (contact_sync_store_intent (&reader, "b-gone", &intent) == ZHUB_NOTFOUND);
    char *link = NULL;
    CHECK (contact_sync_store_link (&reader, "b-2", &link) == ZHUB_OK);
    CHECK (link && !strcmp (link, "701"));
    free (link);
    CHECK (contact_sync_store_link (&reader, "b-1", &link) == ZHUB_NOTFOUND && !link);
    json_t *records = json_array ();
    CHECK (contact_sync_store_results (&reader, 0, records) == ZHUB_OK);
    CHECK (json_array_size (records) == 1);
    CHECK (json_integer_value (json_object_get (json_array_get (records, 0), "processed")) == 3);
    json_decref (records);
    contact_sync_store_close (&reader);
    zhub_msg_destroy (&cause);
    CHECK (zhub_test_remove_dir (f.dir) == 0);
}

static void
test_relink_and_reconcile_meta (void)
{
    s_fixture_t f;
    CHECK (s_setup (&f));
    if (!f.actor)
        return;
    contact_state_t a = {.bird_id = (char *)"b-a", .hubspot_id = (char *)"501"};
    contact_state_t b = {.bird_id = (char *)"b-b", .hubspot_id = (char *)"502"};
    contact_sync_commit_t commits[] = {{.next = &a}, {.next = &b}};
    CHECK (contact_sync_store_commit (&f.store, f.ctx, commits, 2) == ZHUB_OK);
    //  502 merged into 501: b-b is unlinked
    contact_state_t after[] = {{.bird_id = (char *)"b-a", .hubspot_id = (char *)"501"},
                               {.bird_id = (char *)"b-b", .unlinked = (char *)"merged into 501"}};
    const char *gone[] = {"502", "501"};
    json_t *audit[] = {s_entry ("hubspot_contact_id", "merged"),
                       s_entry ("hubspot_contact_id", "unlinked_by_merge")};
    CHECK (contact_sync_store_relink (&f.store, gone, 2, after, audit, 2, "evt-m") == ZHUB_OK);
    json_decref (audit[0]);
    json_decref (audit[1]);
    contact_state_t state;
    CHECK (contact_sync_store_load_hubspot (&f.store, "502", &state) == ZHUB_NOTFOUND);
    CHECK (contact_sync_store_load_hubspot (&f.store, "501", &state) == ZHUB_OK);
    CHECK_STR (state.bird_id, "b-a");
    contact_state_clear (&state);
    CHECK (contact_sync_store_load_bird (&f.store, "b-b", &state) == ZHUB_OK);
    CHECK_STR (state.unlinked, "merged into 501");
    contact_state_clear (&state);
    json_t *entries = json_array ();
    CHECK (contact_sync_store_audit (&f.store, "b-b", false, entries) == ZHUB_OK);
    CHECK (json_array_size (entries) == 1);
    json_decref (entries);

    int64_t watermark = -1, drift = -1;
    CHECK (contact_sync_store_reconcile_read (&f.store, &watermark, &drift) == ZHUB_OK);
    CHECK (watermark == 0 && drift == 0);
    zhub_msg_t *reconciled = zhub_msg_new ();
    zhub_msg_set (&reconciled->id, "rs-1");
    zhub_msg_set (&reconciled->type, "contact.reconciled");
    zhub_msg_set (&reconciled->source, CONTACT_SYNC_SOURCE);
    CHECK (contact_sync_store_reconcile_write (&f.store, f.ctx, 1700000000000, 3, reconciled)
           == ZHUB_OK);
    zhub_msg_destroy (&reconciled);
    CHECK (contact_sync_store_reconcile_read (&f.store, &watermark, &drift) == ZHUB_OK);
    CHECK (watermark == 1700000000000 && drift == 3);
    zhub_msg_t *last = NULL;
    CHECK (s_outbox (&f, &last) == 1);
    CHECK (last && !strcmp (last->id, "rs-1"));
    zhub_msg_destroy (&last);
    s_close (&f);
    CHECK (zhub_test_remove_dir (f.dir) == 0);
}

int
main (void)
{
    RUN (test_a_commit_is_read_back_by_both_sides);
    RUN (test_queued_writes_are_taken_oldest_first_and_settled);
    RUN (test_deferral_notes_links_and_results_are_read_back);
    RUN (test_relink_and_reconcile_meta);
    TEST_EXIT ();
}
