//  contact-sync's sync results and per-person status, the pure parts: how
//  a flush's items and a plan's field decisions are counted, and what a
//  person's state, queued write and pending link say about where they
//  stand.
#include "contact_sync_results.h"
#include "contact_sync_status.h"
#include "zhub_test.h"

#include <string.h>

static void
test_a_flush_counts_each_item_by_its_fate ()
{
    contact_item_t items[6];
    memset (items, 0, sizeof items);
    items[0].fate = CONTACT_ITEM_DONE, items[0].created = true;
    items[1].fate = CONTACT_ITEM_DONE;                           //  existing record
    items[2].fate = CONTACT_ITEM_DONE, items[2].conflict = true; //  409 -> update landed
    items[3].fate = CONTACT_ITEM_REFUSED;
    items[4].fate = CONTACT_ITEM_DEFERRED, items[4].conflict = true; //  409, update deferred
    items[5].fate = CONTACT_ITEM_OPEN;
    zhub_sync_result_t r;
    zhub_sync_result_init (&r, "contact-sync", "batch", 1);
    contact_sync_results_count_batch (&r, items, 6, false);
    CHECK (r.processed == 6);
    CHECK (r.created == 1 && r.updated == 2 && r.failed == 1 && r.deferred == 2);
    CHECK (r.skipped == 0);
    CHECK (r.conflicts_detected == 2 && r.conflicts_resolved == 1);
    //  the commit failed: every item stays queued
    zhub_sync_result_init (&r, "contact-sync", "batch", 1);
    contact_sync_results_count_batch (&r, items, 6, true);
    CHECK (r.processed == 6 && r.deferred == 6 && r.created == 0 && r.failed == 0);
    CHECK (r.conflicts_detected == 2 && r.conflicts_resolved == 0);
}

static void
test_field_decisions_that_met_a_newer_value_are_conflicts ()
{
    json_t *audit = json_pack (
        "[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s}, {s:s, s:s, s:s}]", "decision", "applied",
        "winner", "bird", "decision", "older_than_current", "winner", "hubspot", "decision",
        "tie_hubspot_wins", "winner", "hubspot", "decision", "older_than_current", "decision",
        "applied", "bird_time", "x", "hubspot_time", "y");
    zhub_sync_result_t r;
    zhub_sync_result_init (&r, "contact-sync", "reconcile", 1);
    contact_sync_results_count_audit (&r, audit);
    CHECK (r.conflicts_detected == 3 && r.conflicts_resolved == 2);
    contact_sync_results_count_audit (&r, NULL);
    CHECK (r.conflicts_detected == 3);
    json_decref (audit);
}

static void
test_a_linked_person_without_queued_writes_is_synced ()
{
    contact_state_t state = {.bird_id = "b-1", .hubspot_id = "501", .updated_ms = 1700000000000};
    state.bird.phone = "+525512345678";
    json_t *out = contact_sync_person_status (&state, NULL, NULL);
    CHECK_STR (json_string_value (json_object_get (out, "status")), "synced");
    CHECK_STR (json_string_value (json_object_get (out, "hubspot_contact_id")), "501");
    CHECK_STR (json_string_value (json_object_get (out, "phone")), "+525512345678");
    CHECK_STR (json_string_value (json_object_get (out, "last_sync")), "2023-11-14T22:13:20.000Z");
    CHECK (!json_object_get (out, "reason") && !json_object_get (out, "pending"));
    json_decref (out);
    //  synced, with the HubSpot id still to reach the Bird contact
    out = contact_sync_person_status (&state, NULL, "501");
    CHECK_STR (json_string_value (json_object_get (out, "status")), "synced");
    CHECK_STR (json_string_value (json_object_get (out, "bird_link_pending")), "501");
    json_decref (out);
}

static void
test_a_queued_write_is_pending_with_why ()
{
    contact_state_t state = {.bird_id = "b-1", .hubspot_id = "501"};
    contact_intent_t intent = {
        .bird_id = "b-1", .changed = json_pack ("[s]", "name"), .since = 1700000000000};
    json_t *out = contact_sync_person_status (&state, &intent, NULL);
    CHECK_STR (json_string_value (json_object_get (out, "status")), "pending");
    CHECK (strstr (json_string_value (json_object_get (out, "reason")), "next batch") != NULL);
    json_t *pending = json_object_get (out, "pending");
    CHECK_STR (json_string_value (json_array_get (json_object_get (pending, "fields"), 0)), "name");
    CHECK_STR (json_string_value (json_object_get (pending, "since")), "2023-11-14T22:13:20.000Z");
    CHECK (!json_object_get (pending, "code"));
    json_decref (out);
    //  a flush deferred it: HubSpot's answer is the reason
    intent.deferred_flushes = 2;
    intent.deferred_code = 503;
    intent.deferred_at = 1700000001000;
    intent.deferred_reason = "hubspot batch upsert contacts: HTTP 503";
    out = contact_sync_person_status (&state, &intent, NULL);
    CHECK_STR (json_string_value (json_object_get (out, "status")), "pending");
    const char *reason = json_string_value (json_object_get (out, "reason"));
    CHECK (reason && strstr (reason, "deferred 2 time(s)") && strstr (reason, "HTTP 503"));
    pending = json_object_get (out, "pending");
    CHECK (json_integer_value (json_object_get (pending, "code")) == 503);
    CHECK (json_integer_value (json_object_get (pending, "flushes")) == 2);
    json_decref (out);
    json_decref (intent.changed);
}

static void
test_unlinked_and_never_linked_people ()
{
    contact_state_t state = {.bird_id = "b-1", .unlinked = "merged into 601"};
    json_t *out = contact_sync_person_status (&state, NULL, NULL);
    CHECK_STR (json_string_value (json_object_get (out, "status")), "unlinked");
    CHECK (strstr (json_string_value (json_object_get (out, "reason")), "merged into 601"));
    json_decref (out);
    state.unlinked = NULL;
    out = contact_sync_person_status (&state, NULL, NULL);
    CHECK_STR (json_string_value (json_object_get (out, "status")), "pending");
    CHECK_STR (json_string_value (json_object_get (out, "reason")), "no HubSpot record linked yet");
    json_decref (out);
}

int
main (void)
{
    RUN (test_a_flush_counts_each_item_by_its_fate);
    RUN (test_field_decisions_that_met_a_newer_value_are_conflicts);
    RUN (test_a_linked_person_without_queued_writes_is_synced);
    RUN (test_a_queued_write_is_pending_with_why);
    RUN (test_unlinked_and_never_linked_people);
    TEST_EXIT ();
}
