//  The typed events of proto/zhub_events.h against the code they are to
//  replace: each typed builder gives, byte for byte, the envelope today's
//  builder gives (contact-sync's contact.synced, deal-sync's
//  deal.stage_changed, the scheduler's tour.*), and zhub_ai_stage_parse
//  reads conversation.stage_changed and qualification.completed as
//  deal-sync's parser does. So moving those call sites onto proto changes
//  nothing on the wire nor in any outcome.
#include "contact_sync.h"
#include "deal_sync.h"
#include "scheduler.h"
#include "zhub_events.h"
#include "zhub_id.h"
#include "zhub_test.h"

#include <sodium.h>
#include <stdlib.h>

#define BIRD "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"
#define TRACE "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define CAUSE "hubspot:evt-8841"

//  True when both messages encode to the same bytes.
static bool
s_same (zhub_msg_t *today, zhub_msg_t *typed)
{
    uint8_t *a = NULL, *b = NULL;
    size_t a_size = 0, b_size = 0;
    bool same = today && typed && !zhub_msg_encode (today, &a, &a_size, NULL, 0)
                && !zhub_msg_encode (typed, &b, &b_size, NULL, 0) && a_size == b_size
                && !memcmp (a, b, a_size);
    if (!same && today && typed) {
        json_t *x = zhub_msg_data_json (today), *y = zhub_msg_data_json (typed);
        char *xs = json_dumps (x, JSON_COMPACT), *ys = json_dumps (y, JSON_COMPACT);
        fprintf (stderr, "  today: %s %s %s\n  typed: %s %s %s\n", today->id, today->subject, xs,
                 typed->id, typed->subject, ys);
        free (xs);
        free (ys);
        json_decref (x);
        json_decref (y);
    }
    free (a);
    free (b);
    zhub_msg_destroy (&today);
    zhub_msg_destroy (&typed);
    return same;
}

static zhub_msg_t *
s_input (void)
{
    zhub_msg_t *input = zhub_msg_new ();
    zhub_msg_set (&input->id, CAUSE);
    zhub_msg_set (&input->traceparent, TRACE);
    return input;
}

//  contact.synced as contact-sync built it by hand before it used the typed
//  builder: for a write made at once (id from the cause's id, cause_id the
//  cause) and for a batched one (id from "<first cause>:batch", or
//  "<bird id>:batch" without one, then no cause_id). Kept here as the
//  reference the typed builder must match byte for byte.
static zhub_msg_t *
s_synced_by_hand (const char *id_of, const char *cause_id, const char *bird, const char *hubspot,
                  const char *const *changed, size_t count, const char *direction)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (hash, (const unsigned char *)id_of, strlen (id_of));
    char hex[2 * 16 + 1], id[64];
    sodium_bin2hex (hex, sizeof hex, hash, 16);
    snprintf (id, sizeof id, "cs-%s", hex);
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "zhub/contact-sync");
    zhub_msg_set (&msg->type, "contact.synced");
    char *subject = zhub_sprintf ("contact:%s", bird);
    zhub_msg_set (&msg->subject, subject);
    free (subject);
    zhub_msg_set (&msg->traceparent, TRACE);
    msg->time_ms = 1000;
    json_t *list = json_array ();
    for (size_t i = 0; i < count; i++)
        json_array_append_new (list, json_string (changed[i]));
    json_t *data = json_object ();
    json_object_set_new (data, "bird_contact_id", json_string (bird));
    json_object_set_new (data, "hubspot_contact_id", json_string (hubspot));
    json_object_set_new (data, "changed", list);
    json_object_set_new (data, "direction", json_string (direction));
    if (cause_id)
        json_object_set_new (data, "cause_id", json_string (cause_id));
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

static void
test_contact_synced_is_built_as_contact_sync_builds_it (void)
{
    contact_plan_t plan;
    contact_plan_init (&plan);
    plan.kind = CONTACT_PLAN_DONE;
    plan.next.bird_id = zhub_strdup (BIRD);
    plan.next.hubspot_id = zhub_strdup ("501");
    plan.changed[0] = "firstname";
    plan.changed[1] = "phone";
    plan.changed_count = 2;
    plan.direction = "bird_to_hubspot";
    char *changed[] = {"firstname", "phone"};
    zhub_contact_synced_t ev = {.bird_contact_id = BIRD,
                                .hubspot_contact_id = "501",
                                .changed = changed,
                                .changed_count = 2,
                                .direction = "bird_to_hubspot",
                                .cause_id = CAUSE};
    char id[64], reason[256];
    CHECK (zhub_id_derive (id, sizeof id, "cs-", CAUSE, 16) == 0);
    //  contact-sync's builder is the typed one ...
    CHECK (
        s_same (contact_sync_synced_msg (&plan, CAUSE, CAUSE, TRACE, 1000, reason, sizeof reason),
                zhub_contact_synced_msg (&ev, id, TRACE, 1000, reason, sizeof reason)));
    //  ... and gives what it built by hand: at once, batched, batched
    //  without a cause
    const char *const names[] = {"firstname", "phone"};
    CHECK (
        s_same (s_synced_by_hand (CAUSE, CAUSE, BIRD, "501", names, 2, "bird_to_hubspot"),
                contact_sync_synced_msg (&plan, CAUSE, CAUSE, TRACE, 1000, reason, sizeof reason)));
    CHECK (
        s_same (s_synced_by_hand (CAUSE ":batch", CAUSE, BIRD, "501", names, 2, "bird_to_hubspot"),
                contact_sync_synced_msg (&plan, CAUSE ":batch", CAUSE, TRACE, 1000, reason,
                                         sizeof reason)));
    CHECK (s_same (
        s_synced_by_hand (BIRD ":batch", NULL, BIRD, "501", names, 2, "bird_to_hubspot"),
        contact_sync_synced_msg (&plan, BIRD ":batch", NULL, TRACE, 1000, reason, sizeof reason)));
    contact_plan_clear (&plan);
}

static void
test_deal_stage_is_built_as_deal_sync_builds_it (void)
{
    zhub_msg_t *input = s_input ();
    zhub_deal_stage_t ev = {.hubspot_deal_id = "9001",
                            .bird_contact_id = BIRD,
                            .stage = "appointmentscheduled",
                            .by = "ai",
                            .cause_id = CAUSE,
                            .hubspot_contact_id = "501",
                            .ai_stage = "tour_scheduled"};
    char id[64], reason[256];
    CHECK (zhub_id_derive (id, sizeof id, "ds-", CAUSE, 16) == 0);
    CHECK (s_same (deal_sync_stage_msg (input, "9001", "501", BIRD, "appointmentscheduled",
                                        "tour_scheduled", "ai", 1000),
                   zhub_deal_stage_msg (&ev, id, TRACE, 1000, reason, sizeof reason)));
    //  a human's change, contact unknown, no AI stage
    ev.by = "crm";
    ev.hubspot_contact_id = ev.ai_stage = NULL;
    ev.stage = "closedwon";
    CHECK (s_same (deal_sync_stage_msg (input, "9001", NULL, BIRD, "closedwon", NULL, "crm", 1000),
                   zhub_deal_stage_msg (&ev, id, TRACE, 1000, reason, sizeof reason)));
    zhub_msg_destroy (&input);
}

static void
test_tours_are_built_as_the_scheduler_builds_them (void)
{
    sched_booking_t b = {.booking_id = "bk7d8e3db3569fe32633fddba10a3f51c4",
                         .bird_id = BIRD,
                         .conversation_id = "c-7f3a",
                         .agent_id = "ana",
                         .platform = "google",
                         .event_id = "evt-1",
                         .confirmation_url = "https://calendar.google.com/event?eid=1",
                         .location = "Torre Reforma 2BR",
                         .start = 1893600000000,
                         .end = 1893602700000};
    zhub_tour_t t = {.booking_id = b.booking_id,
                     .bird_contact_id = BIRD,
                     .start_ms = b.start,
                     .end_ms = b.end,
                     .platform = "google",
                     .calendar_event_id = "evt-1",
                     .confirmation_url = b.confirmation_url,
                     .agent_id = "ana",
                     .conversation_id = "c-7f3a",
                     .location = b.location};
    const char *types[] = {"tour.scheduled", "tour.canceled"};
    char reason[256];
    for (int i = 0; i < 2; i++) {
        char *id = zhub_sprintf ("%s-%s-%s", types[i], b.booking_id, "booked");
        CHECK (s_same (sched_tour_msg (types[i], &b, "booked", TRACE, 1000),
                       zhub_tour_msg (types[i], &t, id, TRACE, 1000, reason, sizeof reason)));
        free (id);
    }
    //  the reminder: the scheduler's timer adds reminder and before_ms
    zhub_msg_t *today = sched_tour_msg ("tour.reminder", &b, "r1", NULL, 1000);
    json_t *data = zhub_msg_data_json (today);
    json_object_set_new (data, "reminder", json_integer (1));
    json_object_set_new (data, "before_ms", json_integer (3600000));
    zhub_msg_set_data_json (today, data);
    json_decref (data);
    t.reminder = 1;
    t.before_ms = 3600000;
    char *id = zhub_sprintf ("tour.reminder-%s-r1", b.booking_id);
    CHECK (
        s_same (today, zhub_tour_msg ("tour.reminder", &t, id, NULL, 1000, reason, sizeof reason)));
    free (id);
}

static void
test_ai_stage_events_are_read_as_deal_sync_reads_them (void)
{
    const struct {
        const char *type, *subject, *data;
    } cases[] = {
        {"conversation.stage_changed", NULL,
         "{\"bird_contact_id\":\"b1\",\"conversation_id\":\"c1\",\"stage\":\"qualified\","
         "\"agent_type\":\"qualifier\",\"qualification_score\":81.6,\"property_interest\":"
         "\"2BR\"}"},
        {"conversation.stage_changed", "contact:b2", "{\"stage\":\"lease_signed\"}"},
        {"conversation.stage_changed", NULL, "{\"bird_contact_id\":7,\"stage\":\"lead\"}"},
        {"conversation.stage_changed", NULL, "{\"bird_contact_id\":\"b1\",\"stage\":\"won\"}"},
        {"conversation.stage_changed", NULL, "{\"bird_contact_id\":\"b1\"}"},
        {"conversation.stage_changed", "hubspot:contact:1", "{\"stage\":\"lead\"}"},
        {"conversation.stage_changed", NULL,
         "{\"bird_contact_id\":\"b1\",\"stage\":\"lead\",\"score\":-1}"},
        {"qualification.completed", NULL,
         "{\"bird_contact_id\":\"b1\",\"score\":82,\"qualified\":true}"},
        {"qualification.completed", "contact:b3", "{\"score\":10,\"qualified\":false}"},
        {"qualification.completed", NULL, "{\"bird_contact_id\":\"b1\",\"qualified\":1}"},
        {"qualification.completed", NULL,
         "{\"bird_contact_id\":\"b1\",\"score\":\"82\",\"qualified\":true}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *data = json_loads (cases[i].data, 0, NULL);
        deal_ai_event_t today;
        char reason[256];
        zhub_rc_t today_rc = deal_sync_parse_ai (cases[i].type, cases[i].subject, data, 1000,
                                                 &today, reason, sizeof reason);
        zhub_msg_t *msg = zhub_msg_new ();
        zhub_msg_set (&msg->type, cases[i].type);
        zhub_msg_set (&msg->subject, cases[i].subject);
        zhub_msg_set_data_json (msg, data);
        zhub_ai_stage_t typed;
        zhub_rc_t typed_rc = zhub_ai_stage_parse (msg, &typed, reason, sizeof reason);
        if (today_rc != typed_rc)
            fprintf (stderr, "  case %zu: deal-sync %s, typed %s (%s)\n", i,
                     zhub_rc_name (today_rc), zhub_rc_name (typed_rc), reason);
        CHECK (today_rc == typed_rc);
        if (today_rc == ZHUB_OK && typed_rc == ZHUB_OK) {
            CHECK_STR (typed.bird_contact_id, today.bird_id);
            CHECK_STR (typed.stage, deal_ai_stage_name (today.stage));
            CHECK (typed.score == today.score);
            CHECK ((!typed.agent_type && !today.agent_type)
                   || !strcmp (typed.agent_type, today.agent_type));
            CHECK ((!typed.conversation_id && !today.conversation_id)
                   || !strcmp (typed.conversation_id, today.conversation_id));
            CHECK ((!typed.property_interest && !today.property_interest)
                   || !strcmp (typed.property_interest, today.property_interest));
        }
        zhub_ai_stage_clear (&typed);
        deal_ai_event_clear (&today);
        zhub_msg_destroy (&msg);
        json_decref (data);
    }
}

int
main (void)
{
    RUN (test_contact_synced_is_built_as_contact_sync_builds_it);
    RUN (test_deal_stage_is_built_as_deal_sync_builds_it);
    RUN (test_tours_are_built_as_the_scheduler_builds_them);
    RUN (test_ai_stage_events_are_read_as_deal_sync_reads_them);
    TEST_EXIT ();
}
