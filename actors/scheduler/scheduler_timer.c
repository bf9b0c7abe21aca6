//  The scheduler's timers as messages (see scheduler_timer.h): what each
//  kind's message holds, how it is named and how long the broker holds it.
#include "scheduler_timer.h"
#include "scheduler_core_internal.h"
#include "scheduler_watch.h"
#include "zhub_catalogue.h"

#include <stdio.h>
#include <stdlib.h>

static const char *s_topic[] = {SCHED_TIMER_REMINDER_TOPIC, SCHED_TIMER_RECONCILE_TOPIC,
                                SCHED_TIMER_TOKEN_TOPIC, SCHED_TIMER_WATCH_TOPIC};
static const char *s_platform[] = {"google", "graph"};

//  The id (without the hop) and the subject of t: both name its cause.
static void
s_names (const sched_timer_t *t, char **id, char **subject)
{
    char name[SCHED_WATCH_NAME_BYTES];
    switch (t->kind) {
        case SCHED_TIMER_REMINDER:
            *id = zhub_sprintf ("timer:reminder:%s:%lld:%lld", t->booking_id, (long long)t->index,
                                (long long)t->start);
            *subject = zhub_sprintf ("booking:%s", t->booking_id);
            break;
        case SCHED_TIMER_RECONCILE:
            //  one chain: each timer is armed by the one before, since then
            *id = zhub_sprintf ("timer:reconcile:%lld", (long long)t->since);
            *subject = zhub_strdup ("reconcile");
            break;
        case SCHED_TIMER_TOKEN:
            *id = zhub_sprintf ("timer:token:%s:%lld", s_platform[t->platform], (long long)t->due);
            *subject = zhub_sprintf ("token:%s", s_platform[t->platform]);
            break;
        default:
            sched_watch_name (t->platform, t->target, name, sizeof name);
            *id = zhub_sprintf ("timer:watch:%s:%lld", name, (long long)t->due);
            *subject = zhub_strdup (name);
            break;
    }
}

zhub_msg_t *
sched_timer_msg (const sched_timer_t *t, int64_t held_from, int64_t now_ms, char *reason,
                 size_t reason_size)
{
    json_t *data = json_object ();
    switch (t->kind) {
        case SCHED_TIMER_REMINDER:
            s_set (data, "booking_id", t->booking_id);
            json_object_set_new (data, "reminder", json_integer (t->index));
            s_set_time (data, "start", t->start);
            break;
        case SCHED_TIMER_RECONCILE: s_set_time (data, "since", t->since); break;
        case SCHED_TIMER_TOKEN: s_set (data, "provider", s_platform[t->platform]); break;
        default:
            s_set (data, "platform", s_platform[t->platform]);
            s_set (data, "target", t->target);
            break;
    }
    json_object_set_new (data, "due", json_integer (t->due));
    char *id, *subject;
    s_names (t, &id, &subject);
    if (t->hop) {
        json_object_set_new (data, "hop", json_integer (t->hop));
        char *hop = zhub_sprintf ("%s:hop%u", id, t->hop);
        free (id);
        id = hop;
    }
    zhub_msg_t *msg = zhub_event_new (s_topic[t->kind], id, SCHEDULER_SOURCE, subject, now_ms, NULL,
                                      data, reason, reason_size);
    if (msg)
        msg->deliver_at_ms = t->due - held_from > SCHED_TIMER_HORIZON_MS
                                 ? held_from + SCHED_TIMER_HORIZON_MS
                                 : t->due;
    free (id);
    free (subject);
    json_decref (data);
    return msg;
}

//  A platform's name -> sched_platform_t. 0, or -1.
static int
s_platform_of (const char *name, sched_platform_t *platform)
{
    for (int p = SCHED_GOOGLE; p <= SCHED_GRAPH; p++)
        if (name && !strcmp (name, s_platform[p])) {
            *platform = (sched_platform_t)p;
            return 0;
        }
    return -1;
}

zhub_rc_t
sched_timer_parse (sched_timer_kind_t kind, const json_t *data, sched_timer_t *t, char *reason,
                   size_t reason_size)
{
    memset (t, 0, sizeof *t);
    t->kind = kind;
    const json_t *due = json_object_get (data, "due");
    const json_t *hop = json_object_get (data, "hop");
    const json_t *index = json_object_get (data, "reminder");
    const char *bad = NULL;
    if (!json_is_integer (due) || json_integer_value (due) < 0)
        bad = "due (unix ms)";
    else if (hop && (!json_is_integer (hop) || json_integer_value (hop) < 0))
        bad = "hop";
    t->due = json_integer_value (due);
    t->hop = (uint32_t)json_integer_value (hop);
    switch (kind) {
        case SCHED_TIMER_REMINDER:
            t->booking_id = s_str (data, "booking_id");
            t->index = json_integer_value (index);
            t->start = s_when (json_object_get (data, "start"));
            if (!bad && !t->booking_id)
                bad = "booking_id";
            else if (!bad && (!json_is_integer (index) || t->index < 0))
                bad = "reminder";
            else if (!bad && t->start < 0)
                bad = "start";
            break;
        case SCHED_TIMER_RECONCILE:
            t->since = s_when (json_object_get (data, "since"));
            if (!bad && t->since < 0)
                bad = "since";
            break;
        case SCHED_TIMER_TOKEN:
            if (!bad
                && s_platform_of (json_string_value (json_object_get (data, "provider")),
                                  &t->platform))
                bad = "provider";
            break;
        default:
            t->target = s_str (data, "target");
            if (!bad
                && s_platform_of (json_string_value (json_object_get (data, "platform")),
                                  &t->platform))
                bad = "platform";
            else if (!bad && !t->target)
                bad = "target";
            break;
    }
    if (!bad)
        return ZHUB_OK;
    snprintf (reason, reason_size, "%s without a valid %s", s_topic[kind], bad);
    sched_timer_clear (t);
    return ZHUB_REJECT;
}

bool
sched_timer_early (const sched_timer_t *t, const zhub_msg_t *msg)
{
    return msg->deliver_at_ms > 0 && msg->deliver_at_ms < t->due;
}

void
sched_timer_clear (sched_timer_t *t)
{
    free (t->booking_id);
    free (t->target);
    memset (t, 0, sizeof *t);
}
