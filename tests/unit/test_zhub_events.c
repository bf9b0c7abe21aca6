//  Typed catalogue events: each builder's message reads back through its
//  parser to the same struct, keeps to the catalogue (or is not built, the
//  reason naming the field), and the parsers read what today's consumers
//  accept and refuse what they refuse.
#include "zhub_events.h"
#include "zhub_id.h"
#include "zhub_test.h"

#include <stdlib.h>

#define BIRD "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"
#define TRACE "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

//  A delivered message of type with data_json (and subject, may be NULL).
static zhub_msg_t *
s_msg (const char *type, const char *subject, const char *data_json)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "m1");
    zhub_msg_set (&msg->source, "bird");
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->subject, subject);
    json_t *data = json_loads (data_json, 0, NULL);
    CHECK (data != NULL);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

static void
test_contact_synced_round_trips (void)
{
    char *changed[] = {"firstname", "phone"};
    zhub_contact_synced_t ev = {.bird_contact_id = BIRD,
                                .hubspot_contact_id = "501",
                                .changed = changed,
                                .changed_count = 2,
                                .direction = "bird_to_hubspot",
                                .cause_id = "bird:7d8e"};
    char id[64], reason[256];
    CHECK (zhub_id_derive (id, sizeof id, "cs-", "bird:7d8e", 16) == 0);
    zhub_msg_t *msg = zhub_contact_synced_msg (&ev, id, TRACE, 1000, reason, sizeof reason);
    CHECK (msg != NULL);
    if (!msg)
        return;
    CHECK_STR (msg->type, "contact.synced");
    CHECK_STR (msg->subject, "contact:" BIRD);
    CHECK_STR (msg->source, "zhub/contact-sync");
    CHECK_STR (msg->id, id);
    CHECK_STR (msg->traceparent, TRACE);
    zhub_contact_synced_t back;
    CHECK (zhub_contact_synced_parse (msg, &back, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (back.bird_contact_id, BIRD);
    CHECK_STR (back.hubspot_contact_id, "501");
    CHECK (back.changed_count == 2);
    CHECK_STR (back.changed[0], "firstname");
    CHECK_STR (back.changed[1], "phone");
    CHECK_STR (back.direction, "bird_to_hubspot");
    CHECK_STR (back.cause_id, "bird:7d8e");
    zhub_contact_synced_clear (&back);
    zhub_contact_synced_clear (&back); //  idempotent
    zhub_msg_destroy (&msg);

    //  a contact.synced the catalogue refuses is not built
    ev.hubspot_contact_id = NULL;
    CHECK (zhub_contact_synced_msg (&ev, id, NULL, 1000, reason, sizeof reason) == NULL);
    CHECK (strstr (reason, "data.hubspot_contact_id is missing") != NULL);
    ev.hubspot_contact_id = "501";
    ev.direction = "sideways";
    CHECK (zhub_contact_synced_msg (&ev, id, NULL, 1000, reason, sizeof reason) == NULL);
    CHECK (strstr (reason, "data.direction must be one of") != NULL);
}

static void
test_contact_synced_is_read_as_its_consumers_read_it (void)
{
    char reason[256];
    zhub_contact_synced_t ev;
    //  the Bird id from the subject, HubSpot's id as a number, no changed
    zhub_msg_t *msg = s_msg ("contact.synced", "contact:b-7", "{\"hubspot_contact_id\":501}");
    CHECK (zhub_contact_synced_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (ev.bird_contact_id, "b-7");
    CHECK_STR (ev.hubspot_contact_id, "501");
    CHECK (ev.changed_count == 0 && ev.direction == NULL && ev.cause_id == NULL);
    zhub_contact_synced_clear (&ev);
    zhub_msg_destroy (&msg);
    //  no HubSpot id: read (deal-sync has nothing to learn and says so)
    msg = s_msg ("contact.synced", NULL, "{\"bird_contact_id\":\"b-7\"}");
    CHECK (zhub_contact_synced_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK);
    CHECK (ev.hubspot_contact_id == NULL);
    zhub_contact_synced_clear (&ev);
    zhub_msg_destroy (&msg);
    //  no Bird contact at all, or changed that is not a list of names
    msg = s_msg ("contact.synced", "hubspot:contact:501", "{\"hubspot_contact_id\":\"501\"}");
    CHECK (zhub_contact_synced_parse (msg, &ev, reason, sizeof reason) == ZHUB_REJECT);
    CHECK (strstr (reason, "data.bird_contact_id is missing") != NULL);
    zhub_msg_destroy (&msg);
    msg = s_msg ("contact.synced", NULL, "{\"bird_contact_id\":\"b\",\"changed\":[\"a\",1]}");
    CHECK (zhub_contact_synced_parse (msg, &ev, reason, sizeof reason) == ZHUB_REJECT);
    CHECK (strstr (reason, "data.changed") != NULL);
    CHECK (ev.bird_contact_id == NULL && ev.changed == NULL); //  nothing left to free
    zhub_msg_destroy (&msg);
    msg = s_msg ("deal.stage_changed", NULL, "{}");
    CHECK (zhub_contact_synced_parse (msg, &ev, reason, sizeof reason) == ZHUB_NOTFOUND);
    zhub_msg_destroy (&msg);
}

static void
test_deal_stage_round_trips (void)
{
    zhub_deal_stage_t ev = {.hubspot_deal_id = "9001",
                            .bird_contact_id = BIRD,
                            .stage = "appointmentscheduled",
                            .by = "ai",
                            .cause_id = "ai-evt-1",
                            .hubspot_contact_id = "501",
                            .ai_stage = "tour_scheduled"};
    char id[64], reason[256];
    CHECK (zhub_id_derive (id, sizeof id, "ds-", "ai-evt-1", 16) == 0);
    zhub_msg_t *msg = zhub_deal_stage_msg (&ev, id, NULL, 1000, reason, sizeof reason);
    CHECK (msg != NULL);
    if (!msg)
        return;
    CHECK_STR (msg->type, "deal.stage_changed");
    CHECK_STR (msg->source, "zhub/deal-sync");
    CHECK_STR (msg->subject, "contact:" BIRD);
    zhub_deal_stage_t back;
    CHECK (zhub_deal_stage_parse (msg, &back, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (back.hubspot_deal_id, "9001");
    CHECK_STR (back.bird_contact_id, BIRD);
    CHECK_STR (back.stage, "appointmentscheduled");
    CHECK_STR (back.by, "ai");
    CHECK_STR (back.cause_id, "ai-evt-1");
    CHECK_STR (back.hubspot_contact_id, "501");
    CHECK_STR (back.ai_stage, "tour_scheduled");
    zhub_deal_stage_clear (&back);
    zhub_msg_destroy (&msg);
    //  the optional ones may be left out; by must be ai or crm
    ev.hubspot_contact_id = ev.ai_stage = NULL;
    msg = zhub_deal_stage_msg (&ev, id, NULL, 1000, reason, sizeof reason);
    CHECK (msg != NULL);
    CHECK (zhub_deal_stage_parse (msg, &back, reason, sizeof reason) == ZHUB_OK);
    CHECK (back.hubspot_contact_id == NULL && back.ai_stage == NULL);
    zhub_deal_stage_clear (&back);
    zhub_msg_destroy (&msg);
    ev.by = "human";
    CHECK (zhub_deal_stage_msg (&ev, id, NULL, 1000, reason, sizeof reason) == NULL);
    CHECK (strstr (reason, "data.by must be one of `ai`, `crm`") != NULL);
    msg = s_msg ("deal.stage_changed", "erase:r1", "{\"hubspot_deal_id\":\"9001\"}");
    CHECK (zhub_deal_stage_parse (msg, &back, reason, sizeof reason) == ZHUB_REJECT);
    zhub_msg_destroy (&msg);
}

static void
test_tour_events_round_trip (void)
{
    zhub_tour_t t = {.booking_id = "bk7d8e3db3569fe32633fddba10a3f51c4",
                     .bird_contact_id = BIRD,
                     .start_ms = 1893600000000,
                     .end_ms = 1893602700000,
                     .platform = "google",
                     .calendar_event_id = "evt-1",
                     .confirmation_url = "https://calendar.google.com/event?eid=1",
                     .agent_id = "ana",
                     .conversation_id = "c-7f3a",
                     .location = "Torre Reforma 2BR",
                     .reminder = 1,
                     .before_ms = 3600000};
    const char *types[] = {"tour.scheduled", "tour.canceled", "tour.reminder"};
    char reason[256];
    for (int i = 0; i < 3; i++) {
        zhub_msg_t *msg =
            zhub_tour_msg (types[i], &t, "tour-1", TRACE, 1000, reason, sizeof reason);
        CHECK (msg != NULL);
        if (!msg)
            continue;
        CHECK_STR (msg->type, types[i]);
        CHECK_STR (msg->source, "zhub/scheduler");
        CHECK_STR (msg->subject, "contact:" BIRD);
        zhub_tour_t back;
        CHECK (zhub_tour_parse (msg, &back, reason, sizeof reason) == ZHUB_OK);
        CHECK_STR (back.booking_id, t.booking_id);
        CHECK_STR (back.bird_contact_id, BIRD);
        CHECK (back.start_ms == t.start_ms && back.end_ms == t.end_ms);
        CHECK_STR (back.platform, "google");
        CHECK_STR (back.calendar_event_id, "evt-1");
        CHECK_STR (back.confirmation_url, t.confirmation_url);
        CHECK_STR (back.agent_id, "ana");
        CHECK_STR (back.conversation_id, "c-7f3a");
        CHECK_STR (back.location, "Torre Reforma 2BR");
        bool reminder = i == 2;
        CHECK (back.reminder == (reminder ? 1 : -1));
        CHECK (back.before_ms == (reminder ? 3600000 : -1));
        zhub_tour_clear (&back);
        json_t *data = zhub_msg_data_json (msg);
        CHECK_STR (json_string_value (json_object_get (data, "start")), "2030-01-02T16:00:00.000Z");
        CHECK (!reminder == !json_object_get (data, "reminder"));
        json_decref (data);
        zhub_msg_destroy (&msg);
    }
    CHECK (zhub_tour_msg ("tour.unavailable", &t, "tour-1", NULL, 1000, reason, sizeof reason)
           == NULL);
    t.platform = "outlook";
    CHECK (zhub_tour_msg ("tour.scheduled", &t, "tour-1", NULL, 1000, reason, sizeof reason)
           == NULL);
    CHECK (strstr (reason, "data.platform must be one of") != NULL);
}

static void
test_tours_are_read_as_their_consumers_read_them (void)
{
    char reason[256];
    zhub_tour_t t;
    //  unix ms from an older producer, the contact from the subject
    zhub_msg_t *msg = s_msg ("tour.scheduled", "contact:b-7",
                             "{\"booking_id\":\"bk1\",\"start\":1893600000000,"
                             "\"end\":\"2030-01-02T16:45:00Z\"}");
    CHECK (zhub_tour_parse (msg, &t, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (t.bird_contact_id, "b-7");
    CHECK (t.start_ms == 1893600000000 && t.end_ms == 1893602700000);
    zhub_tour_clear (&t);
    zhub_msg_destroy (&msg);
    //  a scheduled tour needs its times; a canceled one only its booking
    msg = s_msg ("tour.scheduled", "contact:b-7", "{\"booking_id\":\"bk1\"}");
    CHECK (zhub_tour_parse (msg, &t, reason, sizeof reason) == ZHUB_REJECT);
    CHECK (strstr (reason, "tour.scheduled: data.start is missing") != NULL);
    zhub_msg_destroy (&msg);
    msg = s_msg ("tour.scheduled", "contact:b-7",
                 "{\"booking_id\":\"bk1\",\"start\":\"2030-01-02T16:00:00Z\","
                 "\"end\":\"2030-01-02T15:00:00Z\"}");
    CHECK (zhub_tour_parse (msg, &t, reason, sizeof reason) == ZHUB_REJECT);
    CHECK (strstr (reason, "data.end") != NULL);
    zhub_msg_destroy (&msg);
    msg = s_msg ("tour.canceled", "contact:b-7", "{\"booking_id\":\"bk1\"}");
    CHECK (zhub_tour_parse (msg, &t, reason, sizeof reason) == ZHUB_OK);
    CHECK (t.start_ms == -1 && t.reminder == -1);
    zhub_tour_clear (&t);
    zhub_msg_destroy (&msg);
    msg = s_msg ("tour.canceled", "contact:b-7", "{}");
    CHECK (zhub_tour_parse (msg, &t, reason, sizeof reason) == ZHUB_REJECT);
    CHECK (strstr (reason, "data.booking_id is missing") != NULL);
    zhub_msg_destroy (&msg);
    msg = s_msg ("tour.unavailable", "contact:b-7", "{\"booking_id\":\"bk1\"}");
    CHECK (zhub_tour_parse (msg, &t, reason, sizeof reason) == ZHUB_NOTFOUND);
    zhub_msg_destroy (&msg);
}

static void
test_ai_stage_events_are_read_as_deal_sync_reads_them (void)
{
    char reason[256];
    zhub_ai_stage_t ev;
    zhub_msg_t *msg =
        s_msg ("conversation.stage_changed", NULL,
               "{\"bird_contact_id\":\"" BIRD "\",\"conversation_id\":\"c1\",\"stage\":"
               "\"tour_scheduled\",\"agent_type\":\"scheduler\",\"qualification_score\":81.6,"
               "\"property_interest\":\"Torre Reforma 2BR\"}");
    CHECK (zhub_ai_stage_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (ev.bird_contact_id, BIRD);
    CHECK_STR (ev.conversation_id, "c1");
    CHECK_STR (ev.stage, "tour_scheduled");
    CHECK_STR (ev.agent_type, "scheduler");
    CHECK_STR (ev.property_interest, "Torre Reforma 2BR");
    CHECK (ev.score == 82 && ev.qualified == -1);
    zhub_ai_stage_clear (&ev);
    zhub_msg_destroy (&msg);
    //  score is read under its older name too; the contact from the subject
    msg = s_msg ("qualification.completed", "contact:b-7",
                 "{\"conversation_id\":\"c2\",\"score\":10,\"qualified\":false}");
    CHECK (zhub_ai_stage_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (ev.bird_contact_id, "b-7");
    CHECK_STR (ev.stage, "unqualified");
    CHECK (ev.score == 10 && ev.qualified == 0);
    zhub_ai_stage_clear (&ev);
    zhub_msg_destroy (&msg);
    const struct {
        const char *type, *data, *reason;
    } refused[] = {
        {"conversation.stage_changed", "{\"bird_contact_id\":\"b\",\"stage\":\"won\"}",
         "data.stage \"won\" is not a stage"},
        {"conversation.stage_changed", "{\"stage\":\"lead\"}", "data.bird_contact_id is missing"},
        {"conversation.stage_changed",
         "{\"bird_contact_id\":\"b\",\"stage\":\"lead\",\"qualification_score\":101}",
         "data.qualification_score must be a number 0..100"},
        {"qualification.completed",
         "{\"bird_contact_id\":\"b\",\"score\":\"high\","
         "\"qualified\":true}",
         "data.score must be a number 0..100"},
        {"qualification.completed", "{\"bird_contact_id\":\"b\",\"qualified\":\"yes\"}",
         "data.qualified must be a boolean"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        msg = s_msg (refused[i].type, NULL, refused[i].data);
        CHECK (zhub_ai_stage_parse (msg, &ev, reason, sizeof reason) == ZHUB_REJECT);
        if (!strstr (reason, refused[i].reason))
            fprintf (stderr, "  %s: \"%s\", wanted \"%s\"\n", refused[i].data, reason,
                     refused[i].reason);
        CHECK (strstr (reason, refused[i].reason) != NULL);
        CHECK (ev.bird_contact_id == NULL && ev.stage == NULL);
        zhub_msg_destroy (&msg);
    }
    msg = s_msg ("tour.scheduled", NULL, "{}");
    CHECK (zhub_ai_stage_parse (msg, &ev, reason, sizeof reason) == ZHUB_NOTFOUND);
    zhub_msg_destroy (&msg);
}

//  The _parse_data forms read the data they are handed (decoded once by
//  the runtime), not the message's own bytes: the envelope gives only the
//  type and the subject.
static void
test_parse_data_reads_the_data_it_is_handed (void)
{
    char reason[256];
    zhub_msg_t *msg = s_msg ("tour.scheduled", "contact:b-7",
                             "{\"booking_id\":\"on-the-wire\",\"start\":\"2030-01-01T10:00:00Z\","
                             "\"end\":\"2030-01-01T10:30:00Z\"}");
    json_t *data = json_loads ("{\"booking_id\":\"handed\",\"start\":\"2030-01-01T10:00:00Z\","
                               "\"end\":\"2030-01-01T10:30:00Z\"}",
                               0, NULL);
    zhub_tour_t t;
    CHECK (zhub_tour_parse_data (msg, data, &t, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (t.booking_id, "handed");
    CHECK_STR (t.bird_contact_id, "b-7");
    zhub_tour_clear (&t);
    //  not decoded yet: the message's own data, decoded here
    CHECK (zhub_tour_parse_data (msg, NULL, &t, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (t.booking_id, "on-the-wire");
    zhub_tour_clear (&t);
    zhub_msg_destroy (&msg);
    //  data that is no map is refused
    msg = s_msg ("tour.canceled", "contact:b-7", "{}");
    json_decref (data);
    data = json_loads ("[1]", 0, NULL);
    CHECK (zhub_tour_parse_data (msg, data, &t, reason, sizeof reason) == ZHUB_REJECT);
    CHECK (strstr (reason, "data is not a map") != NULL);
    zhub_msg_destroy (&msg);
    json_decref (data);

    msg = s_msg ("contact.synced", NULL, "{}");
    data = json_loads ("{\"bird_contact_id\":\"b-1\",\"hubspot_contact_id\":501}", 0, NULL);
    zhub_contact_synced_t synced;
    CHECK (zhub_contact_synced_parse_data (msg, data, &synced, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (synced.bird_contact_id, "b-1");
    CHECK_STR (synced.hubspot_contact_id, "501");
    zhub_contact_synced_clear (&synced);
    zhub_msg_destroy (&msg);
    json_decref (data);

    msg = s_msg ("deal.stage_changed", "contact:b-2", "{}");
    data = json_loads ("{\"hubspot_deal_id\":\"9001\"}", 0, NULL);
    zhub_deal_stage_t deal;
    CHECK (zhub_deal_stage_parse_data (msg, data, &deal, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (deal.bird_contact_id, "b-2");
    CHECK_STR (deal.hubspot_deal_id, "9001");
    zhub_deal_stage_clear (&deal);
    zhub_msg_destroy (&msg);
    json_decref (data);

    msg = s_msg ("qualification.completed", NULL, "{}");
    data = json_loads ("{\"bird_contact_id\":\"b-3\",\"qualified\":true}", 0, NULL);
    zhub_ai_stage_t ai;
    CHECK (zhub_ai_stage_parse_data (msg, data, &ai, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (ai.stage, "qualified");
    zhub_ai_stage_clear (&ai);
    //  the type still decides: another type is not read
    CHECK (zhub_deal_stage_parse_data (msg, data, &deal, reason, sizeof reason) == ZHUB_NOTFOUND);
    zhub_msg_destroy (&msg);
    json_decref (data);
}

int
main (void)
{
    RUN (test_contact_synced_round_trips);
    RUN (test_contact_synced_is_read_as_its_consumers_read_it);
    RUN (test_deal_stage_round_trips);
    RUN (test_tour_events_round_trip);
    RUN (test_tours_are_read_as_their_consumers_read_them);
    RUN (test_ai_stage_events_are_read_as_deal_sync_reads_them);
    RUN (test_parse_data_reads_the_data_it_is_handed);
    TEST_EXIT ();
}
