//  Consumer-group decisions, without sockets or store: who gets which
//  message, per-subject order, credit, failures, timers, fencing by tag.
#include "broker_group.h"
#include "zhub_test.h"

#include <string.h>

#define NOW 1000000

static int s_client_a, s_client_b; //  any distinct addresses serve as peer handles

static broker_settings_t
s_settings (const char *pattern, uint32_t max_deliveries)
{
    static char *patterns[1];
    patterns[0] = (char *)pattern;
    broker_settings_t settings = {
        .patterns = patterns,
        .pattern_count = 1,
        .max_deliveries = max_deliveries,
        .ack_deadline_ms = 30000,
        .backoff_ms = {1000, 5000},
        .backoff_count = 2,
    };
    return settings;
}

static broker_groups_t *
s_setup (broker_group_t **group, uint32_t max_deliveries)
{
    broker_groups_t *groups = broker_groups_new (100, 500, 42);
    broker_settings_t settings = s_settings ("contact.>", max_deliveries);
    *group = broker_groups_create (groups, "g", &settings, 1, NOW);
    return groups;
}

static void
test_backoff_uses_the_schedule_with_jitter_within_20_percent (void)
{
    const int64_t schedule[] = {1000, 5000, 30000};
    CHECK (broker_backoff_ms (schedule, 3, 1, 0.0) == 800);
    CHECK (broker_backoff_ms (schedule, 3, 1, 0.5) == 1000);
    CHECK (broker_backoff_ms (schedule, 3, 2, 0.999999) < 6000);
    CHECK (broker_backoff_ms (schedule, 3, 2, 0.999999) >= 5990);
    //  past the end the last step repeats
    CHECK (broker_backoff_ms (schedule, 3, 9, 0.5) == 30000);
    CHECK (broker_backoff_ms (schedule, 0, 1, 0.5) == 0);
    uint64_t rng = 7;
    for (int i = 0; i < 10000; i++) {
        double u = broker_random (&rng);
        CHECK (u >= 0.0 && u < 1.0);
        int64_t delay = broker_backoff_ms (schedule, 3, 3, u);
        CHECK (delay >= 24000 && delay < 36000);
    }
}

static void
test_each_message_goes_to_one_member_with_free_credit (void)
{
    broker_group_t *group;
    broker_groups_t *groups = s_setup (&group, 5);
    broker_groups_join (groups, group, &s_client_a, 1);
    broker_groups_join (groups, group, &s_client_b, 1);
    for (uint64_t offset = 1; offset <= 3; offset++)
        broker_groups_push (groups, group, offset, NULL, 0, 0, NOW);
    broker_assignment_t out[8];
    size_t count = broker_groups_dispatch (groups, group, NOW, out, 8);
    CHECK (count == 2); //  two members, credit 1 each
    CHECK (out[0].member != out[1].member);
    CHECK (out[0].entry->offset == 1 && out[1].entry->offset == 2);
    CHECK (out[0].entry->tag != out[1].entry->tag);
    CHECK (out[0].entry->timer_ms == NOW + 30000);
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 8) == 0);
    //  an ack frees the slot: offset 3 goes out
    broker_member_t *freed = out[0].member;
    broker_groups_ack (groups, out[0].entry);
    count = broker_groups_dispatch (groups, group, NOW, out, 8);
    CHECK (count == 1 && out[0].entry->offset == 3 && out[0].member == freed);
    broker_groups_destroy (&groups);
    CHECK (groups == NULL);
}

static void
test_a_subject_waits_while_an_earlier_message_of_it_is_pending (void)
{
    broker_group_t *group;
    broker_groups_t *groups = s_setup (&group, 5);
    broker_groups_join (groups, group, &s_client_a, 10);
    broker_groups_push (groups, group, 1, "contact:1", 0, 0, NOW);
    broker_groups_push (groups, group, 2, "contact:1", 0, 0, NOW);
    broker_groups_push (groups, group, 3, "contact:2", 0, 0, NOW);
    broker_groups_push (groups, group, 4, NULL, 0, 0, NOW);
    broker_groups_push (groups, group, 5, NULL, 0, 0, NOW);
    broker_assignment_t out[8];
    size_t count = broker_groups_dispatch (groups, group, NOW, out, 8);
    //  1 (contact:1), 3 (contact:2), 4 and 5 (no subject: unordered); 2 waits
    CHECK (count == 4);
    uint64_t offsets[4];
    for (size_t i = 0; i < count && i < 4; i++)
        offsets[i] = out[i].entry->offset;
    CHECK (offsets[0] == 1 && offsets[1] == 3 && offsets[2] == 4 && offsets[3] == 5);
    broker_entry_t *first = out[0].entry;
    //  a failed first message keeps blocking its subject while it waits
    broker_failure_t failure;
    broker_groups_fail (groups, first, NOW, -1, false, &failure);
    CHECK (!failure.dead && failure.attempts == 1);
    CHECK (failure.due_ms >= NOW + 800 && failure.due_ms < NOW + 1200);
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 8) == 0);
    //  when it is due it goes first again, and 2 still waits
    broker_entry_t *expired[4];
    CHECK (broker_groups_tick (groups, group, failure.due_ms, expired, 4) == 0);
    count = broker_groups_dispatch (groups, group, failure.due_ms, out, 8);
    CHECK (count == 1 && out[0].entry->offset == 1 && out[0].entry->attempts == 1);
    broker_groups_ack (groups, out[0].entry);
    count = broker_groups_dispatch (groups, group, failure.due_ms, out, 8);
    CHECK (count == 1 && out[0].entry->offset == 2);
    broker_groups_destroy (&groups);
}

static void
test_max_deliveries_and_terminal_nack_mean_dead (void)
{
    broker_group_t *group;
    broker_groups_t *groups = s_setup (&group, 2);
    broker_groups_join (groups, group, &s_client_a, 10);
    broker_groups_push (groups, group, 1, "s", 0, 0, NOW);
    broker_groups_push (groups, group, 2, "t", 0, 0, NOW);
    broker_assignment_t out[8];
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 8) == 2);
    broker_entry_t *first = out[0].entry, *second = out[1].entry;
    broker_failure_t failure;
    broker_groups_fail (groups, second, NOW, -1, true, &failure);
    CHECK (failure.dead && failure.offset == 2 && failure.attempts == 1);
    CHECK (group->dead_letters == 1 && group->count == 1);

    broker_groups_fail (groups, first, NOW, 0, false, &failure); //  delay 0: ready now
    CHECK (!failure.dead && failure.attempts == 1);
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 8) == 1);
    broker_groups_fail (groups, out[0].entry, NOW, 0, false, &failure);
    CHECK (failure.dead && failure.attempts == 2 && failure.offset == 1);
    CHECK (group->count == 0 && group->inflight == 0);
    CHECK (broker_group_update_floor (group) == 1); //  scan never moved in this test
    broker_groups_destroy (&groups);
}

static void
test_a_passed_ack_deadline_is_reported_once_and_the_tag_goes_stale (void)
{
    broker_group_t *group;
    broker_groups_t *groups = s_setup (&group, 5);
    broker_groups_join (groups, group, &s_client_a, 1);
    broker_groups_push (groups, group, 7, "s", 0, 0, NOW);
    broker_assignment_t out[2];
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 2) == 1);
    uint64_t tag = out[0].entry->tag;
    CHECK (broker_groups_by_tag (groups, tag) == out[0].entry);
    broker_entry_t *expired[4];
    CHECK (broker_groups_tick (groups, group, NOW + 29999, expired, 4) == 0);
    CHECK (broker_groups_tick (groups, group, NOW + 30000, expired, 4) == 1);
    broker_failure_t failure;
    broker_groups_fail (groups, expired[0], NOW + 30000, -1, false, &failure);
    CHECK (!failure.dead && failure.attempts == 1);
    //  fencing: the old tag no longer names a delivery
    CHECK (broker_groups_by_tag (groups, tag) == NULL);
    CHECK (broker_groups_by_tag (groups, 0) == NULL);
    CHECK (broker_groups_tick (groups, group, NOW + 30001, expired, 4) == 0);
    //  redelivered with a new tag after the backoff
    CHECK (broker_groups_tick (groups, group, failure.due_ms, expired, 4) == 0);
    CHECK (broker_groups_dispatch (groups, group, failure.due_ms, out, 2) == 1);
    CHECK (out[0].entry->tag != tag && out[0].entry->attempts == 1);
    CHECK (group->redelivered == 1);
    broker_groups_destroy (&groups);
}

static void
test_leave_hands_back_at_once_and_forget_waits_for_the_deadline (void)
{
    broker_group_t *group;
    broker_groups_t *groups = s_setup (&group, 5);
    broker_groups_join (groups, group, &s_client_a, 1);
    broker_groups_join (groups, group, &s_client_b, 1);
    broker_groups_push (groups, group, 1, NULL, 0, 0, NOW);
    broker_groups_push (groups, group, 2, NULL, 0, 0, NOW);
    broker_assignment_t out[4];
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 4) == 2);
    broker_entry_t *of_a = out[0].member->client == &s_client_a ? out[0].entry : out[1].entry;
    broker_entry_t *of_b = of_a == out[0].entry ? out[1].entry : out[0].entry;
    uint64_t tag_b = of_b->tag;

    broker_groups_forget (groups, &s_client_b);
    CHECK (group->member_count == 1);
    CHECK (of_b->state == BROKER_INFLIGHT && of_b->member == NULL);
    CHECK (broker_groups_by_tag (groups, tag_b) == of_b); //  a late ack still counts

    broker_groups_leave (groups, group, &s_client_a);
    CHECK (group->member_count == 0);
    CHECK (of_a->state == BROKER_READY && of_a->attempts == 0);
    const char *names[2];
    CHECK (broker_groups_of (groups, &s_client_a, names, 2) == 0);
    broker_groups_join (groups, group, &s_client_a, 1);
    CHECK (broker_groups_of (groups, &s_client_a, names, 2) == 1);
    CHECK_STR (names[0], "g");
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 4) == 1 && out[0].entry == of_a);
    broker_groups_destroy (&groups);
}

static void
test_waiting_entries_loaded_after_restart_fire_when_due (void)
{
    broker_group_t *group;
    broker_groups_t *groups = s_setup (&group, 5);
    broker_groups_join (groups, group, &s_client_a, 5);
    broker_groups_push (groups, group, 1, "s", 2, NOW + 5000, NOW); //  a durable delayed retry
    broker_groups_push (groups, group, 2, "s", 0, 0, NOW);
    broker_assignment_t out[4];
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 4) == 0); //  2 waits behind 1
    CHECK (broker_groups_next_timer (groups) == NOW + 5000);
    broker_entry_t *expired[2];
    broker_groups_tick (groups, group, NOW + 5000, expired, 2);
    CHECK (broker_groups_dispatch (groups, group, NOW + 5000, out, 4) == 1);
    CHECK (out[0].entry->offset == 1 && out[0].entry->attempts == 2);
    broker_groups_destroy (&groups);
}

static void
test_undeliver_and_reset_forget_the_deliveries (void)
{
    broker_group_t *group;
    broker_groups_t *groups = s_setup (&group, 5);
    broker_groups_join (groups, group, &s_client_a, 5);
    broker_groups_push (groups, group, 3, NULL, 0, 0, NOW);
    broker_groups_push (groups, group, 4, NULL, 0, 0, NOW);
    group->scan = 5;
    broker_assignment_t out[4];
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 4) == 2);
    uint64_t tag = out[0].entry->tag;
    broker_groups_undeliver (groups, out[0].entry);
    CHECK (out[0].entry->state == BROKER_READY && broker_groups_by_tag (groups, tag) == NULL);
    CHECK (group->delivered == 1 && out[0].member->inflight == 1);
    broker_groups_ack (groups, out[1].entry);
    CHECK (broker_group_update_floor (group) == 3);
    group->floor_persisted = 2;
    broker_groups_reset (groups);
    CHECK (group->count == 0 && group->scan == 2 && group->floor == 2);
    CHECK (group->members[0]->inflight == 0);
    broker_groups_destroy (&groups);
}

static void
test_window_is_bounded_and_floor_follows_the_first_pending_entry (void)
{
    broker_groups_t *groups = broker_groups_new (2, 1, 1);
    broker_settings_t settings = s_settings ("a.*", 5);
    broker_group_t *group = broker_groups_create (groups, "w", &settings, 10, NOW);
    CHECK (group->floor == 10 && group->needs_write);
    broker_groups_push (groups, group, 10, NULL, 0, 0, NOW);
    CHECK (broker_group_has_room (groups, group));
    broker_groups_push (groups, group, 12, NULL, 0, 0, NOW);
    CHECK (!broker_group_has_room (groups, group));
    group->scan = 13;
    broker_groups_join (groups, group, &s_client_a, 5);
    broker_assignment_t out[4];
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 4) == 2);
    broker_groups_ack (groups, out[1].entry); //  12 first: floor stays at 10
    CHECK (broker_group_update_floor (group) == 10);
    broker_groups_ack (groups, out[0].entry);
    CHECK (broker_group_update_floor (group) == 13);
    broker_groups_destroy (&groups);
}

static void
test_patterns_and_group_names_are_validated (void)
{
    CHECK (broker_pattern_valid ("webhook.bird.>"));
    CHECK (broker_pattern_valid ("*.contact.*"));
    CHECK (broker_pattern_valid ("contact.synced"));
    CHECK (broker_pattern_valid (">"));
    CHECK (!broker_pattern_valid ("a.>.b"));
    CHECK (!broker_pattern_valid ("a*"));
    CHECK (!broker_pattern_valid ("a..b"));
    CHECK (!broker_pattern_valid (""));
    CHECK (!broker_pattern_valid ("a b"));
    CHECK (broker_group_name_valid ("contact-sync"));
    CHECK (!broker_group_name_valid ("contact sync"));
    CHECK (!broker_group_name_valid ("a.*"));

    broker_groups_t *groups = broker_groups_new (10, 1, 1);
    broker_settings_t settings = s_settings ("a.*", 5);
    broker_group_t *group = broker_groups_create (groups, "p", &settings, 1, NOW);
    CHECK (broker_group_matches (group, "a.b") && !broker_group_matches (group, "b.a"));
    group->needs_write = false;
    char *same[] = {"a.*"}, *more[] = {"b.>", "a.*"};
    CHECK (broker_group_add_patterns (group, same, 1) == 0 && !group->needs_write);
    CHECK (broker_group_add_patterns (group, more, 2) == 1 && group->needs_write);
    CHECK (broker_group_matches (group, "b.c.d"));
    char *everything[] = {">"};
    CHECK (broker_group_add_patterns (group, everything, 1) == 1);
    CHECK (broker_group_matches (group, "dlq.other"));
    CHECK (!broker_group_matches (group, "dlq.p")); //  its own dead letters
    CHECK (group->settings.pattern_count == 3);
    CHECK (broker_groups_find (groups, "p") == group && broker_groups_find (groups, "q") == NULL);
    broker_groups_destroy (&groups);
}

static void
test_map_stores_replaces_and_deletes (void)
{
    broker_map_t *map = broker_map_new ();
    int values[1000];
    for (uint64_t i = 0; i < 1000; i++)
        broker_map_put_u64 (map, i, &values[i]);
    CHECK (broker_map_size (map) == 1000);
    CHECK (broker_map_get_u64 (map, 999) == &values[999]);
    for (uint64_t i = 0; i < 1000; i += 2)
        CHECK (broker_map_del_u64 (map, i) == &values[i]);
    CHECK (broker_map_size (map) == 500 && broker_map_get_u64 (map, 2) == NULL);
    broker_map_put_str (map, "k", &values[0]);
    broker_map_put_str (map, "k", &values[1]);
    CHECK (broker_map_get_str (map, "k") == &values[1]);
    CHECK (broker_map_del_str (map, "nope") == NULL);
    broker_map_destroy (&map);
    CHECK (map == NULL);
    broker_map_destroy (&map);
}

//  Broadcast topics go to every replica's own group, and a replica's
//  member takes nothing later than a broadcast it has not finished.
static void
test_broadcast_topics_go_to_each_replica_and_hold_later_work (void)
{
    broker_groups_t *groups = broker_groups_new (100, 500, 42);
    char *broadcast[] = {"contact.forget", "contact.erase"};
    broker_groups_set_broadcast (groups, broadcast, 2);
    broker_settings_t settings = s_settings ("contact.>", 5);
    broker_group_t *group = broker_groups_create (groups, "g", &settings, 1, NOW);
    broker_settings_t other = s_settings ("webhook.>", 5);
    broker_group_t *hooks = broker_groups_create (groups, "hooks", &other, 1, NOW);
    CHECK (broker_group_takes_broadcast (group));
    CHECK (!broker_group_takes_broadcast (hooks));
    CHECK (broker_groups_replica (groups, hooks, "a", 1, NOW) == NULL);
    broker_group_t *ra = broker_groups_replica (groups, group, "a", 1, NOW);
    broker_group_t *rb = broker_groups_replica (groups, group, "b", 1, NOW);
    CHECK (ra && rb && ra != rb);
    CHECK_STR (ra->name, "g~a");
    CHECK (broker_groups_replica (groups, group, "a", 1, NOW) == ra); //  one per replica
    //  the parent leaves broadcast topics to its replicas
    CHECK (broker_group_matches (group, "contact.synced"));
    CHECK (!broker_group_matches (group, "contact.forget"));
    CHECK (broker_group_matches (ra, "contact.forget"));
    CHECK (!broker_group_matches (ra, "contact.synced"));
    CHECK (!broker_group_matches (ra, "webhook.x"));

    broker_member_t *ma = broker_groups_join (groups, group, &s_client_a, 4);
    broker_member_t *mb = broker_groups_join (groups, group, &s_client_b, 4);
    broker_groups_join (groups, ra, &s_client_a, 4);
    broker_groups_join (groups, rb, &s_client_b, 4);
    ma->barrier = ra;
    mb->barrier = rb;
    //  offset 1 a forget (in both replica windows), 2 an ordinary message
    broker_entry_t *fa = broker_groups_push (groups, ra, 1, "erase:1", 0, 0, NOW);
    broker_groups_push (groups, rb, 1, "erase:1", 0, 0, NOW);
    ra->scan = rb->scan = 3;
    group->scan = 3;
    broker_groups_push (groups, group, 2, "contact:1", 0, 0, NOW);
    broker_group_update_floor (ra);
    broker_group_update_floor (rb);
    broker_assignment_t out[8];
    //  each replica gets its own copy
    CHECK (broker_groups_dispatch (groups, ra, NOW, out, 8) == 1 && out[0].member->client == &s_client_a);
    CHECK (broker_groups_dispatch (groups, rb, NOW, out, 8) == 1 && out[0].member->client == &s_client_b);
    //  and nobody takes offset 2 while its own replica has the forget open
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 8) == 0);
    //  replica a confirms: its member may go on, b's may not
    broker_groups_ack (groups, fa);
    broker_group_update_floor (ra);
    CHECK (ra->floor == 3 && rb->floor == 1);
    CHECK (group->dirty);
    CHECK (broker_groups_dispatch (groups, group, NOW, out, 8) == 1);
    CHECK (out[0].member->client == &s_client_a && out[0].entry->offset == 2);
    //  leaving the group leaves its replica group too
    broker_groups_leave (groups, group, &s_client_b);
    CHECK (broker_group_member (rb, &s_client_b) == NULL);
    const char *names[4];
    CHECK (broker_groups_of (groups, &s_client_a, names, 4) == 1 && !strcmp (names[0], "g"));
    broker_groups_destroy (&groups);
}

int
main (void)
{
    RUN (test_backoff_uses_the_schedule_with_jitter_within_20_percent);
    RUN (test_each_message_goes_to_one_member_with_free_credit);
    RUN (test_a_subject_waits_while_an_earlier_message_of_it_is_pending);
    RUN (test_max_deliveries_and_terminal_nack_mean_dead);
    RUN (test_a_passed_ack_deadline_is_reported_once_and_the_tag_goes_stale);
    RUN (test_leave_hands_back_at_once_and_forget_waits_for_the_deadline);
    RUN (test_waiting_entries_loaded_after_restart_fire_when_due);
    RUN (test_undeliver_and_reset_forget_the_deliveries);
    RUN (test_window_is_bounded_and_floor_follows_the_first_pending_entry);
    RUN (test_patterns_and_group_names_are_validated);
    RUN (test_map_stores_replaces_and_deletes);
    RUN (test_broadcast_topics_go_to_each_replica_and_hold_later_work);
    TEST_EXIT ();
}
