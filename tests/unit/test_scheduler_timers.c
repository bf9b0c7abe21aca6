//  zhub-scheduler's timers: messages to itself that the broker holds until
//  they are due. What each kind's message holds, how it is named and held
//  (and held again past the broker's limit); and on a real store, with the
//  messages read from the outbox: a booking arms its reminders in the
//  transaction that books it, a reminder arrives as tour.reminder only
//  for the booking as it stands (not once canceled, moved or erased), the
//  reconcile timers form one chain that a redelivery does not double, a
//  token timer armed before a later refresh is dropped, and the timers an
//  older scheduler kept in its table move onto the bus once.
#include "scheduler_internal.h"
#include "scheduler_timer.h"
#include "zhub_catalogue.h"
#include "zhub_test.h"
#include "zhub_test_actor.h"
#include "zhub_test_outbox.h"

#include <stdlib.h>

#define HOUR (3600 * 1000LL)
#define DAY (24 * HOUR)

static const char *
s_data_str (const zhub_msg_t *msg, const char *key, char *buf, size_t size)
{
    json_t *data = zhub_msg_data_json (msg);
    const json_t *value = json_object_get (data, key);
    if (json_is_string (value))
        snprintf (buf, size, "%s", json_string_value (value));
    else if (json_is_integer (value))
        snprintf (buf, size, "%lld", (long long)json_integer_value (value));
    else
        snprintf (buf, size, "(none)");
    json_decref (data);
    return buf;
}

//  -------------------------------------------------------------------
//  The messages

static void
test_each_timer_is_a_message_named_by_its_cause_held_until_due (void)
{
    char reason[256], buf[64];
    int64_t now = 1893000000000LL; //  2029-12-27
    int64_t start = 1893600000000LL;
    sched_timer_t t = {.kind = SCHED_TIMER_REMINDER,
                       .booking_id = "bk7d8e3db3569fe32633fddba10a3f51c4",
                       .index = 1,
                       .start = start,
                       .due = start - 2 * HOUR};
    zhub_msg_t *msg = sched_timer_msg (&t, now, now, reason, sizeof reason);
    CHECK (msg != NULL);
    CHECK_STR (msg->type, SCHED_TIMER_REMINDER_TOPIC);
    CHECK_STR (msg->id, "timer:reminder:bk7d8e3db3569fe32633fddba10a3f51c4:1:1893600000000");
    CHECK_STR (msg->subject, "booking:bk7d8e3db3569fe32633fddba10a3f51c4");
    CHECK_STR (msg->source, SCHEDULER_SOURCE);
    CHECK (msg->deliver_at_ms == t.due && msg->time_ms == now);
    CHECK (zhub_event_check_msg (msg, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (s_data_str (msg, "start", buf, sizeof buf), "2030-01-02T16:00:00.000Z");
    CHECK_STR (s_data_str (msg, "hop", buf, sizeof buf), "(none)");
    json_t *data = zhub_msg_data_json (msg);
    sched_timer_t back;
    CHECK (sched_timer_parse (SCHED_TIMER_REMINDER, data, &back, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (back.booking_id, t.booking_id);
    CHECK (back.index == 1 && back.start == start && back.due == t.due && back.hop == 0);
    CHECK (!sched_timer_early (&back, msg)); //  held until due: it is due
    sched_timer_clear (&back);
    //  what is not a timer of that kind is refused, naming what is wrong
    CHECK (sched_timer_parse (SCHED_TIMER_TOKEN, data, &back, reason, sizeof reason)
           == ZHUB_REJECT);
    CHECK_STR (reason, "scheduler.timer.token without a valid provider");
    json_object_del (data, "due");
    CHECK (sched_timer_parse (SCHED_TIMER_REMINDER, data, &back, reason, sizeof reason)
           == ZHUB_REJECT);
    CHECK_STR (reason, "scheduler.timer.reminder without a valid due (unix ms)");
    CHECK (back.booking_id == NULL);
    json_decref (data);
    zhub_msg_destroy (&msg);

    sched_timer_t reconcile = {.kind = SCHED_TIMER_RECONCILE, .since = now, .due = now + HOUR};
    msg = sched_timer_msg (&reconcile, now, now, reason, sizeof reason);
    CHECK (msg && !strcmp (msg->id, "timer:reconcile:1893000000000"));
    CHECK (msg && !strcmp (msg->subject, "reconcile") && msg->deliver_at_ms == now + HOUR);
    zhub_msg_destroy (&msg);
    sched_timer_t token = {.kind = SCHED_TIMER_TOKEN, .platform = SCHED_GRAPH, .due = now + 60000};
    msg = sched_timer_msg (&token, now, now, reason, sizeof reason);
    CHECK (msg && !strcmp (msg->id, "timer:token:graph:1893000060000"));
    CHECK (msg && !strcmp (msg->subject, "token:graph"));
    zhub_msg_destroy (&msg);
    sched_timer_t watch = {
        .kind = SCHED_TIMER_WATCH, .platform = SCHED_GOOGLE, .target = "ana@x.mx", .due = now};
    msg = sched_timer_msg (&watch, now, now, reason, sizeof reason);
    CHECK (msg && !strcmp (msg->id, "timer:watch:sub:google:fec236b47a1c1e7d:1893000000000"));
    CHECK (msg && !strcmp (msg->subject, "sub:google:fec236b47a1c1e7d"));
    CHECK (msg && zhub_event_check_msg (msg, reason, sizeof reason) == ZHUB_OK);
    zhub_msg_destroy (&msg);
}

static void
test_a_timer_past_the_brokers_limit_is_held_again_until_due (void)
{
    char reason[256];
    int64_t now = 1893000000000LL;
    sched_timer_t t = {.kind = SCHED_TIMER_REMINDER,
                       .booking_id = "bk1",
                       .index = 0,
                       .start = now + 700 * DAY,
                       .due = now + 699 * DAY};
    zhub_msg_t *first = sched_timer_msg (&t, now, now, reason, sizeof reason);
    CHECK (first && first->deliver_at_ms == now + SCHED_TIMER_HORIZON_MS);
    CHECK (SCHED_TIMER_HORIZON_MS < ZHUB_MSG_MAX_DELAY_MS);
    CHECK (first && sched_timer_early (&t, first));
    //  the next hop is held from when the first was held until, whenever it
    //  is handled: a redelivery makes the same message
    t.hop = 1;
    zhub_msg_t *second =
        sched_timer_msg (&t, first->deliver_at_ms, now + 400 * DAY, reason, sizeof reason);
    zhub_msg_t *again =
        sched_timer_msg (&t, first->deliver_at_ms, now + 401 * DAY, reason, sizeof reason);
    CHECK (second && second->deliver_at_ms == t.due && !sched_timer_early (&t, second));
    CHECK (second && !strcmp (second->id, "timer:reminder:bk1:0:1953480000000:hop1"));
    CHECK (second && again && !strcmp (second->id, again->id)
           && second->deliver_at_ms == again->deliver_at_ms);
    zhub_msg_destroy (&first);
    zhub_msg_destroy (&second);
    zhub_msg_destroy (&again);
}

//  -------------------------------------------------------------------
//  On a real store

typedef struct {
    char dir[40];
    scheduler_t self;
    zhub_actor_config_t config;
    zhub_actor_spec_t spec;
    zhub_actor_t *actor;
    zhub_actor_ctx_t *ctx;
    zhub_test_outbox_t box;
} s_hub_t;

static bool
s_start (s_hub_t *hub, const char *section)
{
    memset (hub, 0, sizeof *hub);
    snprintf (hub->dir, sizeof hub->dir, "/tmp/zhub-timers-XXXXXX");
    char err[256];
    json_t *json = json_loads (section, 0, NULL);
    CHECK (sched_config_from_json (json, &hub->self.cfg, err, sizeof err) == 0);
    json_decref (json);
    hub->spec =
        (zhub_actor_spec_t){.open = scheduler_open, .close = scheduler_close, .state = &hub->self};
    hub->actor = zhub_test_actor_new (hub->dir, "scheduler", &hub->spec, &hub->config);
    CHECK (hub->actor != NULL);
    if (hub->actor)
        hub->ctx = zhub_actor_ctx (hub->actor);
    return hub->actor != NULL;
}

static void
s_stop (s_hub_t *hub)
{
    zhub_test_outbox_clear (&hub->box);
    zhub_actor_destroy (&hub->actor);
    zhub_actor_config_clear (&hub->config);
    sched_config_clear (&hub->self.cfg);
    char cmd[80];
    snprintf (cmd, sizeof cmd, "rm -rf %s", hub->dir);
    CHECK (system (cmd) == 0);
}

//  What the outbox holds now (taken out of it).
static zhub_test_outbox_t *
s_outbox (s_hub_t *hub)
{
    CHECK (zhub_test_outbox_take (hub->ctx->store, &hub->box) == 0);
    return &hub->box;
}

//  Runs handler on msg; the outcome's label.
static const char *
s_handle (s_hub_t *hub, zhub_actor_handler_fn *handler, const zhub_msg_t *msg)
{
    static char label[64];
    zhub_outcome_t out;
    memset (&out, 0, sizeof out);
    zhub_test_handle (handler, hub->ctx, msg, &out);
    snprintf (label, sizeof label, "%s",
              out.rc != ZHUB_OK ? "not ok"
              : out.outcome     ? out.outcome
                                : "");
    return label;
}

static zhub_rc_t
s_save (s_hub_t *hub, const sched_booking_t *b, bool arm)
{
    sched_save_t save = {.booking = b, .arm = arm};
    return sched_store_save (hub->self.db, &save);
}

static void
test_a_reminder_comes_only_for_the_booking_as_it_stands (void)
{
    s_hub_t hub;
    if (!s_start (&hub, "{\"reminders\":[\"24h\",\"2h\"]}"))
        return;
    char buf[64];
    int64_t now = zhub_now_ms ();
    sched_booking_t b = {.booking_id = "bk-ana",
                         .bird_id = "b-ana",
                         .agent_id = "ana",
                         .platform = "google",
                         .status = "scheduled",
                         .start = now + 3 * DAY,
                         .end = now + 3 * DAY + HOUR};
    //  booked: both reminders armed with the booking, due before its start
    CHECK (s_save (&hub, &b, true) == ZHUB_OK);
    zhub_test_outbox_t *box = s_outbox (&hub);
    CHECK (box->count == 2 && zhub_test_outbox_count (box, SCHED_TIMER_REMINDER_TOPIC) == 2);
    CHECK (box->msgs[0]->deliver_at_ms == b.start - DAY);
    CHECK (box->msgs[1]->deliver_at_ms == b.start - 2 * HOUR);
    zhub_msg_t *first = zhub_msg_dup (box->msgs[0]), *second = zhub_msg_dup (box->msgs[1]);
    //  due: tour.reminder for the booking, as the scheduler always sent it
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reminder, first), "reminder_due");
    box = s_outbox (&hub);
    const zhub_msg_t *reminder = zhub_test_outbox_find (box, "tour.reminder");
    CHECK (box->count == 1 && reminder != NULL);
    CHECK (reminder && !strcmp (reminder->id, "tour.reminder-bk-ana-r0"));
    CHECK (reminder && !strcmp (reminder->subject, "contact:b-ana"));
    CHECK_STR (s_data_str (reminder, "before_ms", buf, sizeof buf), "86400000");
    //  a redelivery queues the same id (the broker keeps one)
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reminder, first), "reminder_due");
    box = s_outbox (&hub);
    CHECK (box->count == 1 && !strcmp (box->msgs[0]->id, "tour.reminder-bk-ana-r0"));

    //  moved an hour later: new reminders; the old second one is stale
    b.start += HOUR;
    b.end += HOUR;
    CHECK (s_save (&hub, &b, true) == ZHUB_OK);
    box = s_outbox (&hub);
    CHECK (box->count == 2 && box->msgs[1]->deliver_at_ms == b.start - 2 * HOUR);
    CHECK (strcmp (box->msgs[1]->id, second->id) != 0);
    zhub_msg_t *moved = zhub_msg_dup (box->msgs[1]);
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reminder, second), "stale");
    CHECK (s_outbox (&hub)->count == 0);
    //  canceled: nothing
    b.status = "canceled";
    CHECK (s_save (&hub, &b, false) == ZHUB_OK);
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reminder, moved), "stale");
    CHECK (s_outbox (&hub)->count == 0);
    //  erased (gone from the store): nothing either
    b.status = "scheduled";
    CHECK (s_save (&hub, &b, false) == ZHUB_OK);
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reminder, moved), "reminder_due");
    CHECK (s_outbox (&hub)->count == 1);
    sched_save_t release = {.booking = &b, .release = true};
    CHECK (sched_store_save (hub.self.db, &release) == ZHUB_OK);
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reminder, moved), "unknown_booking");
    CHECK (s_outbox (&hub)->count == 0);
    zhub_msg_destroy (&first);
    zhub_msg_destroy (&second);
    zhub_msg_destroy (&moved);

    //  a tour two years ahead: held as far as the broker holds, then again
    sched_booking_t far = b;
    far.booking_id = "bk-far";
    far.start = now + 730 * DAY;
    far.end = far.start + HOUR;
    CHECK (s_save (&hub, &far, true) == ZHUB_OK);
    box = s_outbox (&hub);
    CHECK (box->count == 2);
    int64_t held = box->msgs[0]->deliver_at_ms;
    CHECK (held >= now + SCHED_TIMER_HORIZON_MS && held < far.start - DAY);
    first = zhub_msg_dup (box->msgs[0]);
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reminder, first), "held_again");
    box = s_outbox (&hub);
    CHECK (box->count == 1 && box->msgs[0]->deliver_at_ms == far.start - DAY);
    CHECK (!strncmp (box->msgs[0]->id, "timer:reminder:bk-far:0:", 24));
    CHECK (strstr (box->msgs[0]->id, ":hop1") != NULL);
    CHECK_STR (s_data_str (box->msgs[0], "hop", buf, sizeof buf), "1");
    second = zhub_msg_dup (box->msgs[0]);
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reminder, second), "reminder_due");
    reminder = zhub_test_outbox_find (s_outbox (&hub), "tour.reminder");
    CHECK (reminder && !strcmp (reminder->id, "tour.reminder-bk-far-r0"));
    zhub_msg_destroy (&first);
    zhub_msg_destroy (&second);
    s_stop (&hub);
}

static void
test_reconcile_timers_form_one_chain (void)
{
    s_hub_t hub;
    if (!s_start (&hub, "{\"reconcile_every\":\"1h\"}"))
        return;
    char buf[64];
    //  started once, at the first start
    zhub_test_outbox_t *box = s_outbox (&hub);
    CHECK (box->count == 1 && zhub_test_outbox_count (box, SCHED_TIMER_RECONCILE_TOPIC) == 1);
    CHECK (box->msgs[0]->deliver_at_ms > zhub_now_ms () + HOUR - 60000);
    zhub_msg_t *timer = zhub_msg_dup (box->msgs[0]);
    scheduler_close (hub.ctx);
    CHECK (scheduler_open (hub.ctx) == 0);
    CHECK (s_outbox (&hub)->count == 0);
    //  due: contact.reconcile, and the next timer
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reconcile, timer), "reconcile_due");
    box = s_outbox (&hub);
    const zhub_msg_t *reconcile = zhub_test_outbox_find (box, "contact.reconcile");
    const zhub_msg_t *next = zhub_test_outbox_find (box, SCHED_TIMER_RECONCILE_TOPIC);
    CHECK (box->count == 2 && reconcile && next);
    char id[64];
    snprintf (id, sizeof id, "reconcile-%lld", (long long)timer->deliver_at_ms);
    CHECK (reconcile && !strcmp (reconcile->id, id) && !strcmp (reconcile->subject, "reconcile"));
    CHECK (reconcile && strlen (s_data_str (reconcile, "since", buf, sizeof buf)) == 24);
    snprintf (id, sizeof id, "timer:reconcile:%lld", (long long)timer->deliver_at_ms);
    CHECK (next && !strcmp (next->id, id));
    zhub_msg_t *second = next ? zhub_msg_dup (next) : NULL;
    //  a redelivery of the first starts no second chain
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reconcile, timer), "stale");
    CHECK (s_outbox (&hub)->count == 0);
    //  switched off: the last one publishes, and the chain ends ...
    hub.self.cfg.reconcile_every_ms = 0;
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reconcile, second), "reconcile_due");
    box = s_outbox (&hub);
    CHECK (box->count == 1 && zhub_test_outbox_find (box, "contact.reconcile"));
    scheduler_close (hub.ctx);
    CHECK (scheduler_open (hub.ctx) == 0);
    CHECK (s_outbox (&hub)->count == 0);
    //  ... to start again once switched on again
    hub.self.cfg.reconcile_every_ms = HOUR;
    scheduler_close (hub.ctx);
    CHECK (scheduler_open (hub.ctx) == 0);
    CHECK (zhub_test_outbox_count (s_outbox (&hub), SCHED_TIMER_RECONCILE_TOPIC) == 1);
    zhub_msg_destroy (&timer);
    zhub_msg_destroy (&second);
    s_stop (&hub);
}

//  An entry of the store's meta table (be64 values: scheduler_store.h).
typedef struct {
    zhub_table_t meta;
    const char *name;
    uint64_t value;
} s_meta_t;

static zhub_rc_t
s_meta_put_fn (zhub_txn_t *txn, void *arg)
{
    s_meta_t *m = arg;
    uint8_t bytes[8];
    zhub_store_key_u64 (bytes, m->value);
    return zhub_txn_put (txn, m->meta, m->name, strlen (m->name), bytes, 8);
}

static void
s_meta_put (s_hub_t *hub, const char *name, uint64_t value)
{
    s_meta_t m = {.name = name, .value = value};
    CHECK (zhub_store_table (hub->ctx->store, "meta", &m.meta) == 0);
    CHECK (zhub_store_write (hub->ctx->store, s_meta_put_fn, &m) == ZHUB_OK);
}

static uint64_t
s_meta (s_hub_t *hub, const char *name)
{
    zhub_table_t meta;
    CHECK (zhub_store_table (hub->ctx->store, "meta", &meta) == 0);
    char *value;
    size_t size;
    uint64_t v = 0;
    if (zhub_store_get_copy (hub->ctx->store, meta, name, strlen (name), &value, &size) == ZHUB_OK
        && size == 8)
        v = zhub_store_u64 (value);
    free (value);
    return v;
}

static void
test_a_token_timer_armed_before_a_later_refresh_is_dropped (void)
{
    s_hub_t hub;
    if (!s_start (&hub, "{}"))
        return;
    char reason[256];
    //  the refresh armed last is due at 5000; one due at 4000 comes late
    s_meta_put (&hub, "token_due:google", 5000);
    sched_timer_t t = {.kind = SCHED_TIMER_TOKEN, .platform = SCHED_GOOGLE, .due = 4000};
    zhub_msg_t *msg = sched_timer_msg (&t, 0, 0, reason, sizeof reason);
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_token, msg), "stale");
    CHECK (s_outbox (&hub)->count == 0 && s_meta (&hub, "token_due:google") == 5000);
    zhub_msg_destroy (&msg);
    s_stop (&hub);
}

//  What an older scheduler kept: u64 due + name -> {"kind": ...} in its
//  timers table, and meta "reconcile_armed".
typedef struct {
    zhub_table_t timers, meta;
} s_legacy_t;

static zhub_rc_t
s_legacy_fn (zhub_txn_t *txn, void *arg)
{
    s_legacy_t *self = arg;
    const struct {
        int64_t due;
        const char *name, *what;
    } rows[] = {
        {9000, "reminder:bk-on:0", "{\"kind\":\"reminder\",\"booking_id\":\"bk-on\",\"index\":0}"},
        {9100, "reminder:bk-off:0",
         "{\"kind\":\"reminder\",\"booking_id\":\"bk-off\",\"index\":0}"},
        {9200, "reconcile", "{\"kind\":\"reconcile\",\"since\":8000}"},
        {9300, "token:graph", "{\"kind\":\"token\",\"provider\":\"graph\"}"},
        {9400, "sub:graph:0123456789abcdef",
         "{\"kind\":\"subscription\",\"platform\":\"graph\",\"target\":\"luis@x.mx\"}"},
        {9500, "watch:ana@x.mx", "{\"kind\":\"watch\",\"calendar\":\"ana@x.mx\"}"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t key[64];
        size_t n = strlen (rows[i].name);
        zhub_store_key_u64 (key, (uint64_t)rows[i].due);
        memcpy (key + 8, rows[i].name, n);
        if (zhub_txn_put (txn, self->timers, key, n + 8, rows[i].what, strlen (rows[i].what))
            != ZHUB_OK)
            return ZHUB_ERROR;
    }
    uint8_t one[8];
    zhub_store_key_u64 (one, 1);
    return zhub_txn_put (txn, self->meta, "reconcile_armed", 15, one, 8);
}

static void
test_the_timers_an_older_scheduler_kept_move_onto_the_bus_once (void)
{
    s_hub_t hub;
    if (!s_start (&hub, "{\"reconcile_every\":\"1h\"}"))
        return;
    char buf[64];
    zhub_test_outbox_clear (s_outbox (&hub)); //  the reconcile chain of this start
    sched_booking_t on = {.booking_id = "bk-on",
                          .bird_id = "b-1",
                          .platform = "google",
                          .status = "scheduled",
                          .start = 9000 + DAY,
                          .end = 9000 + DAY + HOUR};
    sched_booking_t off = on;
    off.booking_id = "bk-off";
    off.status = "canceled";
    CHECK (s_save (&hub, &on, false) == ZHUB_OK && s_save (&hub, &off, false) == ZHUB_OK);
    //  as an older scheduler left them: its timers, and no reconcile_due
    s_meta_put (&hub, "reconcile_due", 0);
    s_legacy_t legacy;
    CHECK (zhub_store_table (hub.ctx->store, "timers", &legacy.timers) == 0);
    CHECK (zhub_store_table (hub.ctx->store, "meta", &legacy.meta) == 0);
    CHECK (zhub_store_write (hub.ctx->store, s_legacy_fn, &legacy) == ZHUB_OK);
    scheduler_close (hub.ctx);
    CHECK (scheduler_open (hub.ctx) == 0);
    zhub_test_outbox_t *box = s_outbox (&hub);
    //  each as the message it stands for, due when it was; the reminder of
    //  a canceled booking and the leftover watch timer are dropped
    CHECK (box->count == 4);
    const zhub_msg_t *reminder = zhub_test_outbox_find (box, SCHED_TIMER_REMINDER_TOPIC);
    CHECK (reminder && reminder->deliver_at_ms == 9000
           && !strcmp (s_data_str (reminder, "booking_id", buf, sizeof buf), "bk-on"));
    const zhub_msg_t *reconcile = zhub_test_outbox_find (box, SCHED_TIMER_RECONCILE_TOPIC);
    CHECK (
        reconcile && reconcile->deliver_at_ms == 9200
        && !strcmp (s_data_str (reconcile, "since", buf, sizeof buf), "1970-01-01T00:00:08.000Z"));
    const zhub_msg_t *token = zhub_test_outbox_find (box, SCHED_TIMER_TOKEN_TOPIC);
    CHECK (token && token->deliver_at_ms == 9300);
    const zhub_msg_t *watch = zhub_test_outbox_find (box, SCHED_TIMER_WATCH_TOPIC);
    CHECK (watch && watch->deliver_at_ms == 9400
           && !strcmp (s_data_str (watch, "target", buf, sizeof buf), "luis@x.mx"));
    //  the meta entries name them: they count when they arrive
    CHECK (s_meta (&hub, "reconcile_due") == 9200 && s_meta (&hub, "token_due:graph") == 9300);
    CHECK (s_meta (&hub, "reconcile_armed") == 0);
    zhub_msg_t *moved = reconcile ? zhub_msg_dup (reconcile) : NULL;
    //  once: the table is empty, and the next start moves nothing
    scheduler_close (hub.ctx);
    CHECK (scheduler_open (hub.ctx) == 0);
    CHECK (s_outbox (&hub)->count == 0);
    //  the reconcile timer moved is the chain's
    CHECK_STR (s_handle (&hub, scheduler_handle_timer_reconcile, moved), "reconcile_due");
    zhub_msg_destroy (&moved);
    s_stop (&hub);
}

int
main (void)
{
    RUN (test_each_timer_is_a_message_named_by_its_cause_held_until_due);
    RUN (test_a_timer_past_the_brokers_limit_is_held_again_until_due);
    RUN (test_a_reminder_comes_only_for_the_booking_as_it_stands);
    RUN (test_reconcile_timers_form_one_chain);
    RUN (test_a_token_timer_armed_before_a_later_refresh_is_dropped);
    RUN (test_the_timers_an_older_scheduler_kept_move_onto_the_bus_once);
    TEST_EXIT ();
}
