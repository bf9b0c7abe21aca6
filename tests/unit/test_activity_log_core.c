//  activity-log's pure core, as data: a message in, the engagement body
//  HubSpot would receive out; the transcript's coalescing decisions; the
//  conversation cache round trip. No sockets, no store.
#include "activity_log.h"
#include "zhub_test.h"

static zhub_msg_t *
s_msg (const char *type, const char *id, const char *data_json)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "test");
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->subject, "contact:bird-1");
    msg->time_ms = 1893456000000; //  2030-01-01T00:00:00Z
    json_t *data = json_loads (data_json, 0, NULL);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

static const char *
s_prop (json_t *body, const char *name)
{
    return json_string_value (json_object_get (json_object_get (body, "properties"), name));
}

static int
s_assoc_type (json_t *body, size_t i)
{
    json_t *assoc = json_array_get (json_object_get (body, "associations"), i);
    return (int)json_integer_value (json_object_get (
        json_array_get (json_object_get (assoc, "types"), 0), "associationTypeId"));
}

static void
test_parse_reads_fields_and_bird_id_from_subject (void)
{
    zhub_msg_t *msg = s_msg ("conversation.message", "m1",
                             "{\"conversation_id\":\"c1\",\"direction\":\"out\",\"text\":\"hi\","
                             "\"sent_at\":\"2030-01-01T00:00:05Z\"}");
    activity_event_t ev;
    char reason[128];
    CHECK (activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (ev.bird_id, "bird-1");
    CHECK_STR (ev.conversation_id, "c1");
    CHECK (ev.sent_ms == 1893456005000);
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
}

static void
test_parse_rejects_missing_fields_and_ignores_other_topics (void)
{
    activity_event_t ev;
    char reason[128];
    zhub_msg_t *msg = s_msg ("tour.scheduled", "t1", "{\"booking_id\":\"b\"}");
    CHECK (activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_REJECT);
    CHECK (strstr (reason, "start") != NULL);
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
    msg = s_msg ("tour.scheduled", "t1",
                 "{\"booking_id\":\"b\",\"start\":\"2030-01-01T10:00:00Z\","
                 "\"end\":\"2030-01-01T09:00:00Z\"}");
    CHECK (activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_REJECT);
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
    msg = s_msg ("contact.updated", "x", "{}");
    CHECK (activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_NOTFOUND);
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
}

static void
test_escalation_gives_note_and_high_task_with_owner (void)
{
    zhub_msg_t *msg = s_msg ("escalation.triggered", "e1",
                             "{\"conversation_id\":\"c1\",\"reason\":\"<angry>\","
                             "\"priority\":\"high\"}");
    activity_event_t ev;
    char reason[128];
    CHECK (activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK);
    json_t *note = activity_engagement_body (&ev, ACTIVITY_NOTE, "501", "901", NULL);
    CHECK (note != NULL);
    CHECK (strstr (s_prop (note, "hs_note_body"), "AI Agent Activity: escalation.triggered"));
    CHECK (strstr (s_prop (note, "hs_note_body"), "&lt;angry&gt;"));
    CHECK_STR (s_prop (note, "hs_timestamp"), "2030-01-01T00:00:00.000Z");
    CHECK (s_assoc_type (note, 0) == 202);
    CHECK (s_assoc_type (note, 1) == 214);
    json_t *task = activity_engagement_body (&ev, ACTIVITY_TASK, "501", NULL, "77");
    CHECK_STR (s_prop (task, "hs_task_priority"), "HIGH");
    CHECK_STR (s_prop (task, "hs_task_subject"), "AI Agent Activity: escalation.triggered");
    CHECK_STR (s_prop (task, "hubspot_owner_id"), "77");
    CHECK (json_array_size (json_object_get (task, "associations")) == 1);
    CHECK (s_assoc_type (task, 0) == 204);
    //  No meeting for an escalation
    CHECK (activity_engagement_body (&ev, ACTIVITY_MEETING, "501", NULL, NULL) == NULL);
    json_decref (note);
    json_decref (task);
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
}

//  The scheduler could not book because the calendar was down: a note on
//  the contact that says so, with the link the person got; no task, no
//  meeting (nothing is booked yet).
static void
test_calendar_down_gives_a_note_with_the_link (void)
{
    zhub_msg_t *msg =
        s_msg ("tour.calendar_down", "d1",
               "{\"booking_id\":\"bk1\",\"platform\":\"google\",\"reason\":"
               "\"google freeBusy: HTTP 503\",\"confirmation_url\":"
               "\"https://calendly.com/d/x?utm_source=zhub&utm_content=bk1\",\"location\":"
               "\"Torre Reforma\"}");
    activity_event_t ev;
    char reason[128];
    CHECK (activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK);
    CHECK (ev.kind == ACTIVITY_EV_CALENDAR_DOWN);
    json_t *note = activity_engagement_body (&ev, ACTIVITY_NOTE, "501", NULL, NULL);
    CHECK (note != NULL);
    const char *body = s_prop (note, "hs_note_body");
    CHECK (strstr (body, "AI Agent Activity: tour.calendar_down"));
    CHECK (strstr (body, "The calendar was down"));
    CHECK (strstr (body, "google freeBusy: HTTP 503"));
    CHECK (strstr (body, "https://calendly.com/d/x?utm_source=zhub&amp;utm_content=bk1"));
    CHECK (s_assoc_type (note, 0) == 202);
    CHECK (activity_engagement_body (&ev, ACTIVITY_TASK, "501", NULL, NULL) == NULL);
    CHECK (activity_engagement_body (&ev, ACTIVITY_MEETING, "501", NULL, NULL) == NULL);
    json_decref (note);
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
    //  without the link it says nothing true: refused
    msg = s_msg ("tour.calendar_down", "d2", "{\"booking_id\":\"bk1\",\"platform\":\"google\"}");
    CHECK (activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_REJECT);
    CHECK (strstr (reason, "confirmation_url") != NULL);
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
}

static void
test_tour_meeting_has_start_end_and_timestamp_at_start (void)
{
    zhub_msg_t *msg = s_msg ("tour.scheduled", "t1",
                             "{\"booking_id\":\"b1\",\"start\":\"2030-02-01T16:00:00Z\","
                             "\"end\":\"2030-02-01T16:30:00Z\",\"location\":\"Polanco\"}");
    activity_event_t ev;
    char reason[128];
    CHECK (activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK);
    json_t *body = activity_engagement_body (&ev, ACTIVITY_MEETING, "501", "901", NULL);
    CHECK_STR (s_prop (body, "hs_meeting_start_time"), "2030-02-01T16:00:00.000Z");
    CHECK_STR (s_prop (body, "hs_meeting_end_time"), "2030-02-01T16:30:00.000Z");
    CHECK_STR (s_prop (body, "hs_timestamp"), "2030-02-01T16:00:00.000Z");
    CHECK_STR (s_prop (body, "hs_meeting_location"), "Polanco");
    CHECK_STR (s_prop (body, "hs_meeting_outcome"), "SCHEDULED");
    CHECK (s_assoc_type (body, 0) == 200 && s_assoc_type (body, 1) == 212);
    json_decref (body);
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
}

static void
test_transcript_coalesces_writes (void)
{
    activity_conv_t conv;
    activity_conv_init (&conv, "c1", "bird-1");
    int64_t due, now = 1000000;
    CHECK (activity_transcript_decide (&conv, now, 30000, &due) == ACTIVITY_TRANSCRIPT_NOTHING);
    CHECK (activity_conv_append (&conv, "m1", "in", "hola", now, now));
    CHECK (activity_transcript_decide (&conv, now, 30000, &due) == ACTIVITY_TRANSCRIPT_CREATE);
    conv.note_id = zhub_strdup ("n1");
    conv.flushed_ms = now;
    conv.dirty = false;
    //  Burst within the interval: defer to flushed + interval
    CHECK (activity_conv_append (&conv, "m2", "out", "buenas", now + 10, now + 10));
    CHECK (activity_transcript_decide (&conv, now + 10, 30000, &due) == ACTIVITY_TRANSCRIPT_DEFER);
    CHECK (due == now + 30000);
    CHECK (activity_transcript_decide (&conv, now + 30000, 30000, &due)
           == ACTIVITY_TRANSCRIPT_UPDATE);
    //  A redelivered message is not appended twice
    CHECK (!activity_conv_append (&conv, "m2", "out", "buenas", now + 10, now + 20));
    CHECK (conv.count == 2);
    activity_conv_clear (&conv);
}

static void
test_conversation_round_trips_and_transcript_reads_well (void)
{
    activity_conv_t conv, back;
    activity_conv_init (&conv, "c1", "bird-1");
    activity_conv_append (&conv, "m1", "in", "¿Tienen <2 recámaras>?", 1893456000000, 5);
    activity_conv_append (&conv, "m2", "out", "Sí, en Polanco", 1893456060000, 6);
    conv.note_id = zhub_strdup ("n9");
    char *text = activity_conv_encode (&conv);
    CHECK (activity_conv_decode (text, strlen (text), &back) == 0);
    CHECK_STR (back.note_id, "n9");
    CHECK_STR (back.bird_id, "bird-1");
    CHECK (back.count == 2 && back.seen_count == 2 && back.dirty);
    char *html = activity_transcript_html (&back);
    CHECK (strstr (html, "AI Agent Activity: conversation.message"));
    CHECK (strstr (html, "<b>Contact:</b> ¿Tienen &lt;2 recámaras&gt;?"));
    CHECK (strstr (html, "<b>AI agent:</b> Sí, en Polanco"));
    CHECK (strstr (html, "2030-01-01T00:01:00"));
    free (html);
    free (text);
    activity_conv_clear (&back);
    activity_conv_clear (&conv);
    CHECK (activity_conv_decode ("[1]", 3, &back) == -1);
    CHECK (activity_conv_decode ("{\"x\"", 4, &back) == -1);
}

static void
test_transcript_stays_under_the_note_limit (void)
{
    activity_conv_t conv;
    activity_conv_init (&conv, "c1", "bird-1");
    char text[ACTIVITY_TEXT_MAX + 100];
    memset (text, 'a', sizeof text - 1);
    text[sizeof text - 1] = 0;
    char id[32];
    for (int i = 0; i < ACTIVITY_TRANSCRIPT_MAX_LINES + 10; i++) {
        snprintf (id, sizeof id, "m%d", i);
        activity_conv_append (&conv, id, "in", text, i, i);
    }
    CHECK (conv.count == ACTIVITY_TRANSCRIPT_MAX_LINES);
    CHECK (conv.dropped == 10);
    CHECK (strlen (conv.lines[0].text) == ACTIVITY_TEXT_MAX);
    char *html = activity_transcript_html (&conv);
    CHECK (strlen (html) <= ACTIVITY_NOTE_MAX);
    CHECK (strstr (html, "earlier message(s) omitted"));
    free (html);
    activity_conv_clear (&conv);
}

static void
test_retention (void)
{
    CHECK (activity_expired (1000, 2000, 1000));
    CHECK (!activity_expired (1000, 1999, 1000));
    CHECK (!activity_expired (0, 1999999, 0)); //  0 = keep forever
}

//  A delivered message is read as its route's kind, from the data the
//  runtime decoded once (not from the message's bytes); a stored one
//  (parked) by its type. contact.forget is no conversation event: its
//  route goes to the erase (test_activity_log_store).
static void
test_read_takes_its_route_s_kind_and_the_data_handed (void)
{
    zhub_msg_t *msg = s_msg ("conversation.started", "s1", "{\"channel\":\"on-the-wire\"}");
    json_t *data = json_loads ("{\"channel\":\"whatsapp\",\"agent_type\":\"qualifier\"}", 0, NULL);
    activity_event_t ev;
    char reason[128];
    CHECK (activity_read (ACTIVITY_EV_STARTED, msg, data, &ev, reason, sizeof reason) == ZHUB_OK);
    CHECK (ev.kind == ACTIVITY_EV_STARTED);
    CHECK_STR (ev.channel, "whatsapp");
    CHECK_STR (ev.bird_id, "bird-1");
    activity_event_clear (&ev);
    //  no JSON form: refused
    CHECK (activity_read (ACTIVITY_EV_STARTED, msg, NULL, &ev, reason, sizeof reason)
           == ZHUB_REJECT);
    activity_event_clear (&ev);
    json_decref (data);
    zhub_msg_destroy (&msg);

    //  the ids of contact.synced and deal.stage_changed, through their parsers
    msg = s_msg ("deal.stage_changed", "d1",
                 "{\"hubspot_deal_id\":9001,\"hubspot_contact_id\":\"501\",\"stage\":\"x\"}");
    CHECK (activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK);
    CHECK (ev.kind == ACTIVITY_EV_DEAL_STAGE);
    CHECK_STR (ev.bird_id, "bird-1");
    CHECK_STR (ev.hubspot_deal_id, "9001");
    CHECK_STR (ev.hubspot_contact_id, "501");
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);

    msg = s_msg ("contact.forget", "forget:r1", "{\"request\":\"r1\",\"identifiers\":[\"x\"]}");
    CHECK (activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_NOTFOUND);
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
}

int
main (void)
{
    RUN (test_parse_reads_fields_and_bird_id_from_subject);
    RUN (test_parse_rejects_missing_fields_and_ignores_other_topics);
    RUN (test_escalation_gives_note_and_high_task_with_owner);
    RUN (test_tour_meeting_has_start_end_and_timestamp_at_start);
    RUN (test_transcript_coalesces_writes);
    RUN (test_conversation_round_trips_and_transcript_reads_well);
    RUN (test_transcript_stays_under_the_note_limit);
    RUN (test_retention);
    RUN (test_calendar_down_gives_a_note_with_the_link);
    RUN (test_read_takes_its_route_s_kind_and_the_data_handed);
    TEST_EXIT ();
}
