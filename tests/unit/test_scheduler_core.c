//  The scheduler's pure core, as data: configuration in, slots out; busy
//  times from the providers' answer shapes; secrets sealed and opened.
//  Times are in America/Mexico_City (UTC-6 all year since 2022).
#include "scheduler.h"
#include "zhub_test.h"

#include <sodium.h>

#define MIN 60000LL
#define HOUR (60 * MIN)

static int64_t
s_t (const char *text)
{
    int64_t ms = -1;
    zhub_time_parse (text, &ms);
    return ms;
}

static int
s_config (sched_config_t *cfg, const char *text)
{
    json_t *json = json_loads (text, 0, NULL);
    char err[200] = "";
    int rc = sched_config_from_json (json, cfg, err, sizeof err);
    if (rc)
        fprintf (stderr, "  config: %s\n", err);
    json_decref (json);
    return rc;
}

static const char *s_two =
    "{\"business_hours\":{\"start\":\"09:00\",\"end\":\"19:00\",\"days\":[1,2,3,4,5,6]},"
    "\"buffer\":\"15m\",\"agents\":["
    "{\"id\":\"ana\",\"email\":\"ana@x.mx\",\"platform\":\"google\"},"
    "{\"id\":\"luis\",\"email\":\"luis@x.mx\",\"platform\":\"graph\","
    "\"working_hours\":{\"start\":\"12:00\",\"end\":\"18:00\"},\"buffer\":\"30m\"}]}";

static void
test_config_defaults_and_errors (void)
{
    sched_config_t cfg;
    CHECK (s_config (&cfg, "{}") == 0);
    CHECK_STR (cfg.time_zone, "America/Mexico_City");
    CHECK (cfg.open_min == 540 && cfg.close_min == 1140);
    CHECK (cfg.reminder_count == 2 && cfg.reminders_ms[0] == 24 * HOUR);
    sched_config_clear (&cfg);
    CHECK (s_config (&cfg, s_two) == 0);
    CHECK (cfg.agent_count == 2 && cfg.agents[1].platform == SCHED_GRAPH);
    CHECK_STR (cfg.agents[0].calendar_id, "ana@x.mx");
    CHECK_STR (cfg.graph_user, "luis@x.mx");
    CHECK (cfg.agents[1].open_min == 720 && cfg.agents[1].buffer_ms == 30 * MIN);
    sched_config_clear (&cfg);
    json_t *bad =
        json_loads ("{\"business_hours\":{\"start\":\"19:00\",\"end\":\"09:00\"}}", 0, NULL);
    char err[200];
    CHECK (sched_config_from_json (bad, &cfg, err, sizeof err) == -1);
    CHECK (strstr (err, "business_hours") != NULL);
    json_decref (bad);
    bad = json_loads ("{\"agents\":[{\"id\":\"a\",\"email\":\"a@x\",\"platform\":\"zoom\"}]}", 0,
                      NULL);
    CHECK (sched_config_from_json (bad, &cfg, err, sizeof err) == -1);
    json_decref (bad);
    bad = json_loads ("{\"self_service\":true}", 0, NULL);
    CHECK (sched_config_from_json (bad, &cfg, err, sizeof err) == -1);
    json_decref (bad);
    //  Bird channel ids are UUIDs: anything else is refused, naming the key
    const char *channels[] = {"{\"bird_channel_id\":\"ch-whatsapp\"}", "{\"bird_channel_id\":\"\"}",
                              "{\"bird_channel_id\":42}"};
    for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++) {
        bad = json_loads (channels[i], 0, NULL);
        CHECK (sched_config_from_json (bad, &cfg, err, sizeof err) == -1);
        CHECK (strstr (err, "bird_channel_id") != NULL);
        json_decref (bad);
    }
    CHECK (s_config (&cfg, "{\"bird_channel_id\":\"52ad151f-f7b4-46f9-a5c6-d3318e650c84\"}") == 0);
    CHECK_STR (cfg.bird_channel_id, "52ad151f-f7b4-46f9-a5c6-d3318e650c84");
    sched_config_clear (&cfg);
}

static void
test_business_hours_in_local_time (void)
{
    sched_config_t cfg;
    s_config (&cfg, s_two);
    //  Tuesday 2030-03-05: 11:00 local = 17:00Z
    CHECK (sched_within_hours (&cfg, NULL, s_t ("2030-03-05T17:00:00Z"),
                               s_t ("2030-03-05T17:45:00Z")));
    //  08:30 local: before opening
    CHECK (!sched_within_hours (&cfg, NULL, s_t ("2030-03-05T14:30:00Z"),
                                s_t ("2030-03-05T15:15:00Z")));
    //  18:30-19:15 local runs past closing
    CHECK (!sched_within_hours (&cfg, NULL, s_t ("2030-03-06T00:30:00Z"),
                                s_t ("2030-03-06T01:15:00Z")));
    //  Sunday 2030-03-03 is closed
    CHECK (!sched_within_hours (&cfg, NULL, s_t ("2030-03-03T17:00:00Z"),
                                s_t ("2030-03-03T17:45:00Z")));
    //  Luis works from 12:00 only
    CHECK (!sched_within_hours (&cfg, &cfg.agents[1], s_t ("2030-03-05T17:00:00Z"),
                                s_t ("2030-03-05T17:45:00Z")));
    sched_config_clear (&cfg);
}

static void
test_pick_prefers_order_round_robin_and_buffers (void)
{
    sched_config_t cfg;
    s_config (&cfg, s_two);
    sched_busy_t busy[2] = {{0}, {0}};
    bool eligible[2] = {true, true};
    int64_t slot11 = s_t ("2030-03-05T17:00:00Z"), slot13 = s_t ("2030-03-05T19:00:00Z");
    int64_t pref[] = {slot11, slot13};
    sched_slot_t slot;
    //  11:00: only Ana works then
    CHECK (sched_pick (&cfg, pref, 2, 45 * MIN, busy, eligible, 1, &slot));
    CHECK (slot.agent == 0 && slot.start == slot11);
    //  Ana busy until 10:50 local: inside her 15 min buffer -> 13:00 with
    //  round robin starting at Luis
    sched_busy_add (&busy[0], slot11 - HOUR, slot11 - 10 * MIN);
    CHECK (sched_pick (&cfg, pref, 2, 45 * MIN, busy, eligible, 1, &slot));
    CHECK (slot.start == slot13 && slot.agent == 1);
    //  ...and at Ana when the round robin says so
    CHECK (sched_pick (&cfg, pref, 2, 45 * MIN, busy, eligible, 0, &slot));
    CHECK (slot.start == slot13 && slot.agent == 0);
    //  Busy ending exactly at start - buffer is fine
    sched_busy_clear (&busy[0]);
    sched_busy_add (&busy[0], slot11 - HOUR, slot11 - 15 * MIN);
    CHECK (sched_pick (&cfg, pref, 1, 45 * MIN, busy, eligible, 0, &slot) && slot.agent == 0);
    //  Only Luis eligible at 11:00: nothing
    bool only_luis[2] = {false, true};
    CHECK (!sched_pick (&cfg, pref, 1, 45 * MIN, busy, only_luis, 0, &slot));
    sched_busy_clear (&busy[0]);
    sched_busy_clear (&busy[1]);
    sched_config_clear (&cfg);
}

static void
test_alternatives_skip_closed_hours_and_busy_time (void)
{
    sched_config_t cfg;
    s_config (&cfg, "{\"buffer\":\"0\",\"agents\":[{\"id\":\"ana\",\"email\":\"a@x\","
                    "\"platform\":\"google\"}]}");
    sched_busy_t busy[1] = {{0}};
    bool eligible[1] = {true};
    //  Saturday 2030-03-09 18:40 local: 18:40 + 45 min runs past 19:00;
    //  Sunday is closed; Monday 09:00 is busy until 10:00
    sched_busy_add (&busy[0], s_t ("2030-03-11T15:00:00Z"), s_t ("2030-03-11T16:00:00Z"));
    sched_slot_t alts[3];
    size_t n = sched_alternatives (&cfg, s_t ("2030-03-10T00:40:00Z"), 45 * MIN, busy, eligible, 0,
                                   alts, 3);
    CHECK (n == 3);
    CHECK (alts[0].start == s_t ("2030-03-11T16:00:00Z"));
    CHECK (alts[1].start == s_t ("2030-03-11T16:30:00Z"));
    sched_busy_clear (&busy[0]);
    sched_config_clear (&cfg);
}

static void
test_busy_read_from_google_and_graph_answers (void)
{
    sched_config_t cfg;
    s_config (&cfg, s_two);
    sched_busy_t busy[2] = {{0}, {0}};
    json_t *google =
        json_loads ("{\"kind\":\"calendar#freeBusy\",\"calendars\":{\"ana@x.mx\":{\"busy\":["
                    "{\"start\":\"2030-03-05T17:00:00Z\",\"end\":\"2030-03-05T18:00:00Z\"}]}}}",
                    0, NULL);
    CHECK (sched_google_busy_read (&cfg, google, busy) == 0);
    CHECK (busy[0].count == 1 && busy[0].spans[0].start == s_t ("2030-03-05T17:00:00Z"));
    json_decref (google);
    //  Graph answer shaped like samples/msgraph-getschedule-response.json, in UTC
    json_t *graph = json_loads (
        "{\"value\":[{\"scheduleId\":\"LUIS@x.mx\",\"availabilityView\":\"0220\","
        "\"scheduleItems\":[{\"status\":\"busy\",\"start\":{\"dateTime\":"
        "\"2030-03-05T18:00:00.0000000\",\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":"
        "\"2030-03-05T19:00:00.0000000\",\"timeZone\":\"UTC\"}},{\"status\":\"free\","
        "\"start\":{\"dateTime\":\"2030-03-05T20:00:00.0000000\",\"timeZone\":\"UTC\"},"
        "\"end\":{\"dateTime\":\"2030-03-05T21:00:00.0000000\",\"timeZone\":\"UTC\"}}]}]}",
        0, NULL);
    CHECK (sched_graph_busy_read (&cfg, graph, busy) == 0);
    CHECK (busy[1].count == 1 && busy[1].spans[0].end == s_t ("2030-03-05T19:00:00Z"));
    json_decref (graph);
    json_t *bad = json_loads ("{\"calendars\":{\"ana@x.mx\":{\"errors\":[{\"reason\":"
                              "\"notFound\"}]}}}",
                              0, NULL);
    CHECK (sched_google_busy_read (&cfg, bad, busy) == -1);
    json_decref (bad);
    sched_busy_clear (&busy[0]);
    sched_busy_clear (&busy[1]);
    sched_config_clear (&cfg);
}

static void
test_booking_id_is_stable_base32hex (void)
{
    char a[40], b[40];
    sched_booking_id ("req-1", a, sizeof a);
    sched_booking_id ("req-1", b, sizeof b);
    CHECK_STR (a, b);
    CHECK (strlen (a) == 34);
    for (const char *p = a; *p; p++)
        CHECK ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'v'));
    sched_booking_id ("req-2", b, sizeof b);
    CHECK (strcmp (a, b) != 0);
    //  the id stored and on the wire: "bk" + the first 16 bytes of
    //  SHA-256(request id) in hex (Python: hashlib.sha256(b"req-1"))
    CHECK_STR (a, "bk9456bdfa12ea76959c94a3572f5d91c7");
    sched_booking_id ("hubspot:evt-8841", a, sizeof a);
    CHECK_STR (a, "bk7d8e3db3569fe32633fddba10a3f51c4");
}

static void
test_tokens_sealed_and_opened (void)
{
    uint8_t key[SCHED_KEY_BYTES], other[SCHED_KEY_BYTES];
    CHECK (sched_key_parse ("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", key)
           == 0);
    CHECK (sched_key_parse ("tooshort", other) == -1);
    memset (other, 7, sizeof other);
    uint8_t *box;
    size_t size;
    sched_seal (key, "{\"access_token\":\"ya29.secret\"}", &box, &size);
    CHECK (!memmem (box, size, "ya29.secret", 11));
    char *text = sched_unseal (key, box, size);
    CHECK_STR (text, "{\"access_token\":\"ya29.secret\"}");
    free (text);
    CHECK (sched_unseal (other, box, size) == NULL);
    box[size - 1] ^= 1;
    CHECK (sched_unseal (key, box, size) == NULL);
    free (box);
}

static void
test_calendar_changes_and_calendly_envelopes (void)
{
    sched_booking_t b = {.start = s_t ("2030-03-05T17:00:00Z"),
                         .end = s_t ("2030-03-05T17:45:00Z")};
    int64_t start = 0, end = 0;
    json_t *ev = json_loads ("{\"status\":\"confirmed\",\"start\":{\"dateTime\":"
                             "\"2030-03-05T17:00:00Z\"},\"end\":{\"dateTime\":"
                             "\"2030-03-05T17:45:00Z\"}}",
                             0, NULL);
    CHECK (sched_google_change (ev, &b, &start, &end) == SCHED_CHANGE_NONE);
    json_object_set_new (json_object_get (ev, "start"), "dateTime",
                         json_string ("2030-03-05T19:00:00-00:00"));
    json_object_set_new (json_object_get (ev, "end"), "dateTime",
                         json_string ("2030-03-05T19:45:00Z"));
    CHECK (sched_google_change (ev, &b, &start, &end) == SCHED_CHANGE_MOVED);
    CHECK (start == s_t ("2030-03-05T19:00:00Z") && end == s_t ("2030-03-05T19:45:00Z"));
    json_object_set_new (ev, "status", json_string ("cancelled"));
    CHECK (sched_google_change (ev, &b, &start, &end) == SCHED_CHANGE_CANCELED);
    json_decref (ev);
    ev = json_loads ("{\"isCancelled\":false,\"start\":{\"dateTime\":"
                     "\"2030-03-05T20:00:00.0000000\",\"timeZone\":\"UTC\"},\"end\":{"
                     "\"dateTime\":\"2030-03-05T20:45:00.0000000\",\"timeZone\":\"UTC\"}}",
                     0, NULL);
    CHECK (sched_graph_change (ev, &b, &start, &end) == SCHED_CHANGE_MOVED);
    CHECK (start == s_t ("2030-03-05T20:00:00Z"));
    json_object_set_new (ev, "isCancelled", json_true ());
    CHECK (sched_graph_change (ev, &b, &start, &end) == SCHED_CHANGE_CANCELED);
    json_decref (ev);

    char *cal = sched_google_resource_calendar (
        "https://www.googleapis.com/calendar/v3/calendars/ana%40x.mx/events?alt=json");
    CHECK_STR (cal, "ana@x.mx");
    free (cal);
    CHECK (sched_google_resource_calendar ("https://example.com/other") == NULL);

    char *url = sched_link_with_booking ("https://calendly.com/d/abc/tour", "bk1");
    CHECK_STR (url, "https://calendly.com/d/abc/tour?utm_source=zhub&utm_content=bk1");
    free (url);

    //  Calendly's sample (older shape: the scheduled event as payload.event)
    char path[512];
    snprintf (path, sizeof path, "%s/samples/calendly-invitee-created.json",
              zhub_test_fixtures_dir ());
    json_t *sample = json_load_file (path, 0, NULL);
    CHECK (sample != NULL);
    sched_invitee_t inv;
    char reason[200];
    CHECK (sched_parse_invitee (sample, &inv, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (inv.event, "invitee.created");
    CHECK_STR (inv.event_uri, "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2");
    CHECK (inv.start == -1 && inv.utm_content == NULL && !inv.rescheduled);
    sched_invitee_clear (&inv);
    json_decref (sample);
    json_t *bad = json_loads ("{\"event\":\"invitee.created\",\"payload\":{}}", 0, NULL);
    CHECK (sched_parse_invitee (bad, &inv, reason, sizeof reason) == ZHUB_REJECT);
    sched_invitee_clear (&inv);
    json_decref (bad);
}

//  What the answers to the customer keep in the booking record: the
//  alternatives offered, the cancellation sent, the calendar's failure.
static void
test_booking_record_keeps_what_the_answers_need (void)
{
    sched_booking_t b = {.booking_id = "bk1", .status = "unavailable",
                         .canceled_sent = "tour.canceled-bk1-x",
                         .fallback_reason = "graph getSchedule: HTTP 504",
                         .alternatives = {1893513600000, 1893515400000},
                         .alternative_count = 2};
    char *text = sched_booking_encode (&b);
    sched_booking_t back;
    CHECK (sched_booking_decode (text, strlen (text), &back) == 0);
    CHECK_STR (back.canceled_sent, "tour.canceled-bk1-x");
    CHECK_STR (back.fallback_reason, "graph getSchedule: HTTP 504");
    CHECK (back.alternative_count == 2 && back.alternatives[1] == 1893515400000);
    sched_booking_clear (&back);
    free (text);
    //  a record written before these fields: none of them
    const char *old = "{\"booking_id\":\"bk2\",\"status\":\"scheduled\",\"start\":1,\"end\":2}";
    CHECK (sched_booking_decode (old, strlen (old), &back) == 0);
    CHECK (!back.canceled_sent && !back.fallback_reason && back.alternative_count == 0);
    sched_booking_clear (&back);
}

int
main (void)
{
    if (sodium_init () < 0 || sched_use_time_zone ("America/Mexico_City")) {
        fprintf (stderr, "skip: no libsodium or no tz database\n");
        return 77;
    }
    RUN (test_config_defaults_and_errors);
    RUN (test_business_hours_in_local_time);
    RUN (test_pick_prefers_order_round_robin_and_buffers);
    RUN (test_alternatives_skip_closed_hours_and_busy_time);
    RUN (test_busy_read_from_google_and_graph_answers);
    RUN (test_booking_id_is_stable_base32hex);
    RUN (test_tokens_sealed_and_opened);
    RUN (test_calendar_changes_and_calendly_envelopes);
    RUN (test_booking_record_keeps_what_the_answers_need);
    TEST_EXIT ();
}
