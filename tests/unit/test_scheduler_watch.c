//  zhub-scheduler's calendar change subscriptions (Google watch channels,
//  Graph subscriptions): when a renewal is due, the bodies Google and Graph
//  get, reading their answers, the record kept per calendar, which
//  settings turn them off; and on a real store, that the renewal timers
//  (messages in the outbox) are armed once per calendar across restarts,
//  again when the public URL moves, and that timers re-armed since and
//  switched-off platforms are dropped without a call.
#include "scheduler_internal.h"
#include "scheduler_watch.h"
#include "zhub_test.h"
#include "zhub_test_actor.h"
#include "zhub_test_outbox.h"

#include <unistd.h>

#define SEC 1000LL
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)

static json_t *
s_json (const char *text)
{
    return json_loads (text, 0, NULL);
}

//  True when a JSON value equals the JSON in text.
static bool
s_same (const json_t *value, const char *text)
{
    json_t *want = s_json (text);
    bool same = json_equal (value, want);
    if (!same) {
        char *got = json_dumps (value, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf (stderr, "  got  %s\n  want %s\n", got, text);
        free (got);
    }
    json_decref (want);
    return same;
}

static sched_watch_config_t
s_on (void)
{
    return (sched_watch_config_t){.enabled = true,
                                  .public_url = "https://hooks.example.com/zhub/",
                                  .channel_token = "chan-token",
                                  .client_state = "graph-state",
                                  .google_ttl_ms = SCHED_GOOGLE_WATCH_TTL_MS,
                                  .graph_ttl_ms = SCHED_GRAPH_SUB_TTL_MS,
                                  .margin_ms = SCHED_WATCH_MARGIN_MS,
                                  .retry_ms = SCHED_WATCH_RETRY_MS};
}

static void
test_renewal_is_due_a_margin_before_the_end_or_halfway_when_short (void)
{
    int64_t now = 1900000000000LL;
    //  a week-long channel: an hour before it ends
    CHECK (sched_watch_renew_at (now, now + 7 * DAY, HOUR) == now + 7 * DAY - HOUR);
    //  a 70 h subscription: the same
    CHECK (sched_watch_renew_at (now, now + 70 * HOUR, HOUR) == now + 69 * HOUR);
    //  6 s (tests): halfway, not an hour before (which is in the past)
    CHECK (sched_watch_renew_at (now, now + 6 * SEC, HOUR) == now + 3 * SEC);
    //  no margin: at the end
    CHECK (sched_watch_renew_at (now, now + 10 * SEC, 0) == now + 10 * SEC);
    //  ended already, or an answer with an expiration in the past: soon, not now
    CHECK (sched_watch_renew_at (now, now - HOUR, HOUR) == now + SCHED_WATCH_MIN_GAP_MS);
    CHECK (sched_watch_renew_at (now, now + 100, HOUR) == now + SCHED_WATCH_MIN_GAP_MS);
}

static void
test_settings_turn_platforms_off_and_are_checked (void)
{
    sched_watch_config_t w = s_on ();
    char err[200] = "";
    CHECK (sched_watch_config_check (&w, err, sizeof err) == 0);
    CHECK (sched_watch_off_reason (&w, SCHED_GOOGLE) == NULL);
    CHECK (sched_watch_off_reason (&w, SCHED_GRAPH) == NULL);
    w.client_state = NULL;
    CHECK_STR (sched_watch_off_reason (&w, SCHED_GRAPH), "ZHUB_GRAPH_CLIENT_STATE is not set");
    CHECK (sched_watch_off_reason (&w, SCHED_GOOGLE) == NULL);
    w.channel_token = NULL;
    CHECK_STR (sched_watch_off_reason (&w, SCHED_GOOGLE), "ZHUB_GOOGLE_CHANNEL_TOKEN is not set");
    w.enabled = false;
    CHECK_STR (sched_watch_off_reason (&w, SCHED_GRAPH), "ZHUB_CALENDAR_NOTIFICATIONS is off");

    w = s_on ();
    w.graph_ttl_ms = 4231LL * 60 * SEC; //  over Graph's cap for events
    CHECK (sched_watch_config_check (&w, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_GRAPH_SUBSCRIPTION_TTL") != NULL);
    w.graph_ttl_ms = 4230LL * 60 * SEC;
    CHECK (sched_watch_config_check (&w, err, sizeof err) == 0);
    w.retry_ms = 0;
    CHECK (sched_watch_config_check (&w, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_CALENDAR_WATCH_RETRY") != NULL);
    w = s_on ();
    w.public_url = "hooks.example.com";
    CHECK (sched_watch_config_check (&w, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_PUBLIC_URL") != NULL);
}

//  What Google and Graph would refuse is refused at start: a notification
//  address that is not https (but on this machine, for a local run), one
//  on this machine while the API is the real one, a clientState over
//  Graph's 128 characters.
static void
test_settings_the_providers_would_refuse_are_refused (void)
{
    char err[256] = "";
    sched_watch_config_t w = s_on ();
    w.used[SCHED_GOOGLE] = w.used[SCHED_GRAPH] = true;
    CHECK (sched_watch_config_check (&w, err, sizeof err) == 0);
    //  plain http to a public host: neither takes it
    w.public_url = "http://hooks.example.com";
    CHECK (sched_watch_config_check (&w, err, sizeof err) == -1);
    CHECK_STR (err, "ZHUB_PUBLIC_URL=http://hooks.example.com: Google watch channels need "
                    "https:// (http:// only on 127.0.0.1, localhost or ::1)");
    w.used[SCHED_GOOGLE] = false;
    CHECK (sched_watch_config_check (&w, err, sizeof err) == -1);
    CHECK (strstr (err, "Graph subscriptions need https://") != NULL);
    //  ...unless that platform gets no subscriptions
    w.client_state = NULL;
    CHECK (sched_watch_config_check (&w, err, sizeof err) == 0);
    w = s_on ();
    w.used[SCHED_GRAPH] = true;
    w.enabled = false;
    w.public_url = "http://hooks.example.com";
    CHECK (sched_watch_config_check (&w, err, sizeof err) == 0);
    //  this machine, over http: fine with local stand-ins...
    w = s_on ();
    w.used[SCHED_GOOGLE] = w.used[SCHED_GRAPH] = true;
    w.api_local[SCHED_GOOGLE] = w.api_local[SCHED_GRAPH] = true;
    const char *local[] = {"http://127.0.0.1:8080", "http://localhost:9000/zhub",
                           "http://[::1]:8080", "http://LOCALHOST"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        w.public_url = local[i];
        CHECK (sched_watch_config_check (&w, err, sizeof err) == 0);
    }
    w.public_url = "http://127.0.0.2:8080";
    CHECK (sched_watch_config_check (&w, err, sizeof err) == -1);
    //  ...but not with the real Google, which cannot reach it
    w.public_url = "http://127.0.0.1:8080";
    w.public_url_default = true;
    w.api_local[SCHED_GOOGLE] = false;
    CHECK (sched_watch_config_check (&w, err, sizeof err) == -1);
    CHECK_STR (err, "ZHUB_PUBLIC_URL=http://127.0.0.1:8080 (the default, from "
                    "ZHUB_GATEWAY_LISTEN): this machine, where Google cannot deliver "
                    "notifications: set the gateway's public https:// URL, or "
                    "ZHUB_CALENDAR_NOTIFICATIONS=off");
    //  Graph's clientState: at most 128 characters
    w = s_on ();
    char state[130];
    memset (state, 'x', sizeof state);
    state[128] = 0;
    w.client_state = state;
    CHECK (sched_watch_config_check (&w, err, sizeof err) == 0);
    state[128] = 'x';
    state[129] = 0;
    CHECK (sched_watch_config_check (&w, err, sizeof err) == -1);
    CHECK_STR (err, "ZHUB_GRAPH_CLIENT_STATE must be at most 128 characters (Graph's limit for "
                    "clientState)");
}

static void
test_addresses_names_and_channel_ids (void)
{
    char *google = sched_watch_address ("https://hooks.example.com/zhub//", SCHED_GOOGLE);
    char *graph = sched_watch_address ("http://127.0.0.1:8080", SCHED_GRAPH);
    CHECK_STR (google, "https://hooks.example.com/zhub/v1/webhooks/google");
    CHECK_STR (graph, "http://127.0.0.1:8080/v1/webhooks/graph");
    free (google);
    free (graph);

    char a[SCHED_WATCH_NAME_BYTES], b[SCHED_WATCH_NAME_BYTES], c[SCHED_WATCH_NAME_BYTES];
    sched_watch_name (SCHED_GOOGLE, "ana@x.mx", a, sizeof a);
    sched_watch_name (SCHED_GRAPH, "ana@x.mx", b, sizeof b);
    sched_watch_name (SCHED_GOOGLE, "ana@x.mx", c, sizeof c);
    CHECK (!strncmp (a, "sub:google:", 11) && strlen (a) == 11 + 16);
    CHECK (!strncmp (b, "sub:graph:", 10) && strlen (b) == 10 + 16);
    CHECK_STR (a, c);
    CHECK (strcmp (a + 11, b + 10) == 0); //  the hash is of the calendar alone
    //  the key stored: 8 bytes of SHA-256(calendar) in hex
    CHECK_STR (a, "sub:google:fec236b47a1c1e7d");
    //  a calendar id of any length fits a key
    char long_id[600];
    memset (long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    sched_watch_name (SCHED_GOOGLE, long_id, c, sizeof c);
    CHECK (strlen (c) == 27);

    uint8_t random[16];
    memset (random, 0xFF, sizeof random);
    char id[40];
    sched_watch_uuid (random, id, sizeof id);
    CHECK_STR (id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    memset (random, 0, sizeof random);
    sched_watch_uuid (random, id, sizeof id);
    CHECK_STR (id, "00000000-0000-4000-8000-000000000000");
}

static void
test_google_watch_body_and_answer (void)
{
    json_t *body = sched_google_watch_body ("0b9a7e0c-2f1d-4a55-9d0e-6f1f5a1c2b3d",
                                            "https://h.example/v1/webhooks/google", "chan-token",
                                            1900000000000LL);
    CHECK (s_same (body, "{\"id\":\"0b9a7e0c-2f1d-4a55-9d0e-6f1f5a1c2b3d\",\"type\":\"web_hook\","
                         "\"address\":\"https://h.example/v1/webhooks/google\","
                         "\"token\":\"chan-token\",\"expiration\":1900000000000}"));
    json_decref (body);
    body = sched_google_watch_body ("c1", "https://h", NULL, 5);
    CHECK (json_object_get (body, "token") == NULL);
    json_decref (body);
    body = sched_google_stop_body ("c1", "res-1");
    CHECK (s_same (body, "{\"id\":\"c1\",\"resourceId\":\"res-1\"}"));
    json_decref (body);

    char *resource = NULL;
    int64_t until = 0;
    json_t *answer = s_json ("{\"kind\":\"api#channel\",\"id\":\"c1\",\"resourceId\":\"r-9\","
                             "\"resourceUri\":\"https://www.googleapis.com/calendar/v3/calendars/"
                             "ana@x.mx/events\",\"expiration\":\"1900000000000\"}");
    CHECK (sched_google_watch_read (answer, 7, &resource, &until) == 0);
    CHECK_STR (resource, "r-9");
    CHECK (until == 1900000000000LL);
    free (resource);
    json_decref (answer);
    //  Google may answer an earlier expiration than asked, or none (asked)
    answer = s_json ("{\"resourceId\":\"r-9\",\"expiration\":1800000000000}");
    CHECK (sched_google_watch_read (answer, 7, &resource, &until) == 0 && until == 1800000000000LL);
    free (resource);
    json_decref (answer);
    answer = s_json ("{\"resourceId\":\"r-9\"}");
    CHECK (sched_google_watch_read (answer, 7, &resource, &until) == 0 && until == 7);
    free (resource);
    json_decref (answer);
    const char *bad[] = {"{\"id\":\"c1\"}", "{\"resourceId\":\"\"}",
                         "{\"resourceId\":\"r\",\"expiration\":\"soon\"}",
                         "{\"resourceId\":\"r\",\"expiration\":[1]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        answer = s_json (bad[i]);
        resource = NULL;
        CHECK (sched_google_watch_read (answer, 7, &resource, &until) == -1);
        CHECK (resource == NULL);
        json_decref (answer);
    }
}

static void
test_graph_subscription_bodies_and_answers (void)
{
    int64_t when = 0;
    zhub_time_parse ("2030-03-05T17:00:00Z", &when);
    json_t *body = sched_graph_subscription_body (
        "luis@x.mx", "https://h.example/v1/webhooks/graph", "graph-state", when);
    CHECK (s_same (body, "{\"changeType\":\"updated,deleted\","
                         "\"notificationUrl\":\"https://h.example/v1/webhooks/graph\","
                         "\"resource\":\"/users/luis@x.mx/events\","
                         "\"expirationDateTime\":\"2030-03-05T17:00:00.000Z\","
                         "\"clientState\":\"graph-state\"}"));
    json_decref (body);
    body = sched_graph_renew_body (when + 1500);
    CHECK (s_same (body, "{\"expirationDateTime\":\"2030-03-05T17:00:01.500Z\"}"));
    json_decref (body);

    //  Graph's seven fraction digits
    json_t *answer = s_json ("{\"id\":\"7f105c7d-2dc5-4530-97cd-4e7ae6534c07\","
                             "\"expirationDateTime\":\"2030-03-05T17:00:00.9356913Z\"}");
    char *id = NULL;
    int64_t until = 0;
    CHECK (sched_graph_subscription_read (answer, 7, &id, &until) == 0);
    CHECK_STR (id, "7f105c7d-2dc5-4530-97cd-4e7ae6534c07");
    CHECK (until == when + 935);
    free (id);
    json_decref (answer);
    answer = s_json ("{\"id\":\"s1\"}");
    CHECK (sched_graph_subscription_read (answer, 7, &id, &until) == 0 && until == 7);
    free (id);
    json_decref (answer);
    answer = s_json ("{\"id\":\"s1\",\"expirationDateTime\":\"tomorrow\"}");
    id = NULL;
    CHECK (sched_graph_subscription_read (answer, 7, &id, &until) == -1 && id == NULL);
    json_decref (answer);
    answer = s_json ("{\"error\":{\"code\":\"InvalidRequest\"}}");
    CHECK (sched_graph_subscription_read (answer, 7, &id, &until) == -1 && id == NULL);
    json_decref (answer);

    //  one made by an attempt whose answer was lost is found again
    answer = s_json ("{\"value\":["
                     "{\"id\":\"a\",\"resource\":\"/users/luis@x.mx/events\","
                     "\"notificationUrl\":\"https://old.example/v1/webhooks/graph\"},"
                     "{\"id\":\"b\",\"resource\":\"/users/ana@x.mx/events\","
                     "\"notificationUrl\":\"https://h.example/v1/webhooks/graph\"},"
                     "{\"id\":\"c\",\"resource\":\"Users/LUIS@x.mx/Events\","
                     "\"notificationUrl\":\"https://h.example/v1/webhooks/graph\"}]}");
    const json_t *found =
        sched_graph_subscription_find (answer, "luis@x.mx", "https://h.example/v1/webhooks/graph");
    CHECK (found && !strcmp (json_string_value (json_object_get (found, "id")), "c"));
    CHECK (sched_graph_subscription_find (answer, "eva@x.mx", "https://h.example/v1/webhooks/graph")
           == NULL);
    json_decref (answer);
    json_t *empty = s_json ("{}");
    CHECK (sched_graph_subscription_find (empty, "luis@x.mx", "https://h") == NULL);
    json_decref (empty);
}

static void
test_record_round_trip_and_when_to_arm (void)
{
    sched_watch_t w = {.platform = SCHED_GRAPH,
                       .target = "luis@x.mx",
                       .id = "s1",
                       .address = "https://h.example/v1/webhooks/graph",
                       .expires_at = 1900000000000LL,
                       .timer_due = 1899999000000LL};
    char *text = sched_watch_encode (&w);
    sched_watch_t back;
    CHECK (sched_watch_decode (text, strlen (text), &back) == 0);
    CHECK (back.platform == SCHED_GRAPH);
    CHECK_STR (back.target, "luis@x.mx");
    CHECK_STR (back.id, "s1");
    CHECK (back.resource_id == NULL);
    CHECK_STR (back.address, w.address);
    CHECK (back.expires_at == w.expires_at && back.timer_due == w.timer_due);
    free (text);

    int64_t now = 5000;
    //  the timer armed before stands
    CHECK (sched_watch_arm_due (&back, "https://h.example/v1/webhooks/graph", now) == -1);
    //  the public URL moved: now
    CHECK (sched_watch_arm_due (&back, "https://new.example/v1/webhooks/graph", now) == now);
    //  no timer (switched off before): now
    back.timer_due = 0;
    CHECK (sched_watch_arm_due (&back, "https://h.example/v1/webhooks/graph", now) == now);
    sched_watch_clear (&back);
    //  no record, or never made yet: now
    CHECK (sched_watch_arm_due (NULL, "https://h", now) == now);
    sched_watch_t fresh = {.platform = SCHED_GOOGLE, .timer_due = 77};
    CHECK (sched_watch_arm_due (&fresh, "https://h", now) == now);

    CHECK (sched_watch_decode ("{\"platform\":\"outlook\",\"target\":\"x\"}", 35, &back) == -1);
    CHECK (sched_watch_decode ("not json", 8, &back) == -1);
    CHECK (back.target == NULL);
}

//  -------------------------------------------------------------------
//  On a real store, with the timers in the outbox

static const char *s_agents =
    "{\"agents\":[{\"id\":\"ana\",\"email\":\"ana@x.mx\",\"platform\":\"google\"},"
    "{\"id\":\"eva\",\"email\":\"ana@x.mx\",\"platform\":\"google\"},"
    "{\"id\":\"luis\",\"email\":\"luis@x.mx\",\"platform\":\"graph\"}]}";

typedef struct {
    zhub_table_t watches; //  the store's table of records (scheduler_store.h)
    size_t watches_n;     //  records
    size_t armed;         //  records with a timer
    int64_t due[2];       //  their timers, Google's then Graph's
} s_count_t;

static zhub_rc_t
s_count_fn (zhub_txn_t *txn, void *arg)
{
    s_count_t *c = arg;
    c->watches_n = c->armed = 0;
    c->due[0] = c->due[1] = 0;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, c->watches);
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        sched_watch_t w;
        if (sched_watch_decode (value, value_size, &w) == 0) {
            c->watches_n++;
            c->armed += w.timer_due > 0;
            c->due[w.platform] = w.timer_due;
            sched_watch_clear (&w);
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    return ZHUB_OK;
}

//  Makes both records look made (an id, delivering to public URL
//  `address`), renewal at due (the timer of an earlier start).
typedef struct {
    zhub_table_t watches;
    int64_t due;
    const char *address;
} s_made_t;

static zhub_rc_t
s_made_fn (zhub_txn_t *txn, void *arg)
{
    s_made_t *m = arg;
    const char *targets[2] = {"ana@x.mx", "luis@x.mx"};
    for (int p = SCHED_GOOGLE; p <= SCHED_GRAPH; p++) {
        char name[SCHED_WATCH_NAME_BYTES];
        sched_watch_name ((sched_platform_t)p, targets[p], name, sizeof name);
        const void *value;
        size_t size;
        sched_watch_t w;
        if (zhub_txn_get (txn, m->watches, name, strlen (name), &value, &size) != ZHUB_OK
            || sched_watch_decode (value, size, &w))
            return ZHUB_ERROR;
        s_set_str (&w.id, "made-1");
        char *address = sched_watch_address (m->address, (sched_platform_t)p);
        s_set_str (&w.address, address);
        free (address);
        w.timer_due = m->due;
        w.expires_at = m->due + HOUR;
        char *text = sched_watch_encode (&w);
        zhub_txn_put (txn, m->watches, name, strlen (name), text, strlen (text));
        free (text);
        sched_watch_clear (&w);
    }
    return ZHUB_OK;
}

//  A restart: the API clients made again, the tables opened, the timers
//  that are not armed armed.
static void
s_reopen (zhub_actor_ctx_t *ctx)
{
    scheduler_close (ctx);
    CHECK (scheduler_open (ctx) == 0);
}

//  The watch timers in the outbox now (taken out of it) into box; their
//  count.
static size_t
s_timers (zhub_actor_ctx_t *ctx, zhub_test_outbox_t *box)
{
    CHECK (zhub_test_outbox_take (ctx->store, box) == 0);
    size_t n = zhub_test_outbox_count (box, SCHED_TIMER_WATCH_TOPIC);
    CHECK (n == box->count); //  nothing else
    return n;
}

//  Runs the route on timer message msg.
static const char *
s_fire (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg)
{
    zhub_outcome_t out;
    memset (&out, 0, sizeof out);
    zhub_test_handle (scheduler_handle_timer_watch, ctx, msg, &out);
    CHECK (out.rc == ZHUB_OK);
    return out.outcome ? out.outcome : "";
}

static void
test_timers_are_armed_once_per_calendar_across_restarts (void)
{
    char dir[] = "/tmp/zhub-watch-XXXXXX", err[256];
    scheduler_t self;
    memset (&self, 0, sizeof self);
    json_t *section = s_json (s_agents);
    CHECK (sched_config_from_json (section, &self.cfg, err, sizeof err) == 0);
    json_decref (section);
    self.watch = s_on ();
    zhub_actor_spec_t spec = {.open = scheduler_open, .close = scheduler_close, .state = &self};
    zhub_actor_config_t config;
    //  two agents share ana@x.mx: one Google record, one Graph record,
    //  each with a timer due now
    int64_t before = zhub_now_ms ();
    zhub_actor_t *actor = zhub_test_actor_new (dir, "scheduler", &spec, &config);
    CHECK (actor != NULL);
    if (!actor)
        return;
    zhub_actor_ctx_t *ctx = zhub_actor_ctx (actor);
    s_count_t count;
    CHECK (zhub_store_table (ctx->store, "watches", &count.watches) == 0);
    zhub_test_outbox_t box = {.count = 0};
    CHECK (s_timers (ctx, &box) == 2);
    zhub_store_read (ctx->store, s_count_fn, &count);
    CHECK (count.watches_n == 2 && count.armed == 2);
    CHECK (box.msgs[0]->deliver_at_ms >= before && box.msgs[0]->deliver_at_ms <= zhub_now_ms ());
    CHECK (box.msgs[0]->deliver_at_ms == count.due[0]
           || box.msgs[0]->deliver_at_ms == count.due[1]);
    CHECK (!strncmp (box.msgs[0]->subject, "sub:", 4));

    //  once made, a restart keeps the timers armed before: no second
    //  subscription, no earlier renewal
    int64_t later = zhub_now_ms () + DAY;
    s_made_t made = {.watches = count.watches, .due = later, .address = self.watch.public_url};
    CHECK (zhub_store_write (ctx->store, s_made_fn, &made) == ZHUB_OK);
    s_reopen (ctx);
    CHECK (s_timers (ctx, &box) == 0);
    zhub_store_read (ctx->store, s_count_fn, &count);
    CHECK (count.watches_n == 2 && count.armed == 2);
    CHECK (count.due[0] == later && count.due[1] == later);

    //  the public URL moved: both due now, one new timer each; the timers
    //  of before no longer count and are dropped when they come due
    self.watch.public_url = "https://new.example.com";
    s_reopen (ctx);
    CHECK (s_timers (ctx, &box) == 2);
    zhub_store_read (ctx->store, s_count_fn, &count);
    CHECK (count.due[0] < later && count.due[1] < later);
    sched_timer_t old = {
        .kind = SCHED_TIMER_WATCH, .platform = SCHED_GOOGLE, .target = "ana@x.mx", .due = later};
    char reason[256];
    zhub_msg_t *stale =
        sched_timer_msg (&old, zhub_now_ms (), zhub_now_ms (), reason, sizeof reason);
    CHECK (stale && stale->deliver_at_ms == later);
    CHECK_STR (s_fire (ctx, stale), "stale");
    zhub_msg_destroy (&stale);

    //  switched off: the due timers come and make no call; the records
    //  stay, without timers
    self.watch.enabled = false;
    for (size_t i = 0; i < box.count; i++)
        CHECK_STR (s_fire (ctx, box.msgs[i]), "watch_dropped");
    CHECK (s_timers (ctx, &box) == 0);
    zhub_store_read (ctx->store, s_count_fn, &count);
    CHECK (count.watches_n == 2 && count.armed == 0);
    //  switched off at start: nothing is armed
    s_reopen (ctx);
    CHECK (s_timers (ctx, &box) == 0);
    //  on again: the start re-arms them
    self.watch.enabled = true;
    s_reopen (ctx);
    CHECK (s_timers (ctx, &box) == 2);
    zhub_store_read (ctx->store, s_count_fn, &count);
    CHECK (count.armed == 2);

    //  Luis leaves (and Google is off): his record goes when its timer
    //  comes, Ana's stays without a timer; a second delivery of either
    //  finds it handled
    sched_config_clear (&self.cfg);
    section = s_json ("{\"agents\":[{\"id\":\"ana\",\"email\":\"ana@x.mx\","
                      "\"platform\":\"google\"}]}");
    CHECK (sched_config_from_json (section, &self.cfg, err, sizeof err) == 0);
    json_decref (section);
    self.watch.channel_token = NULL;
    for (size_t i = 0; i < box.count; i++)
        CHECK_STR (s_fire (ctx, box.msgs[i]), "watch_dropped");
    for (size_t i = 0; i < box.count; i++)
        CHECK_STR (s_fire (ctx, box.msgs[i]), "stale");
    zhub_store_read (ctx->store, s_count_fn, &count);
    CHECK (count.watches_n == 1 && count.armed == 0);
    CHECK (s_timers (ctx, &box) == 0);

    zhub_test_outbox_clear (&box);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
    sched_config_clear (&self.cfg);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK (system (cmd) == 0);
}

int
main (void)
{
    RUN (test_renewal_is_due_a_margin_before_the_end_or_halfway_when_short);
    RUN (test_settings_turn_platforms_off_and_are_checked);
    RUN (test_settings_the_providers_would_refuse_are_refused);
    RUN (test_addresses_names_and_channel_ids);
    RUN (test_google_watch_body_and_answer);
    RUN (test_graph_subscription_bodies_and_answers);
    RUN (test_record_round_trip_and_when_to_arm);
    RUN (test_timers_are_armed_once_per_calendar_across_restarts);
    TEST_EXIT ();
}
