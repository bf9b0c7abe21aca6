//  The scheduler's pure core (see scheduler.h). Slot picking is a plain
//  scan — a handful of preferred times times a handful of agents — because
//  clarity matters more here than speed: the calendar calls around it take
//  hundreds of milliseconds. Local time goes through localtime_r in the
//  process's TZ (set once at start), so a zone's rules come from the
//  system's tz database rather than from us.
#include "scheduler.h"
#include "zhub_env.h"

#include <ctype.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_MINUTE 60000LL

//  -------------------------------------------------------------------
//  Configuration

static char *
s_dup_str (const json_t *obj, const char *key, const char *fallback)
{
    const char *value = json_string_value (json_object_get (obj, key));
    if (value && *value)
        return zhub_strdup (value);
    return fallback ? zhub_strdup (fallback) : NULL;
}

//  "HH:MM" (00:00 .. 24:00) -> minutes. -1 when malformed.
static int
s_clock (const char *text)
{
    if (!text || strlen (text) != 5 || text[2] != ':' || !isdigit ((unsigned char)text[0])
        || !isdigit ((unsigned char)text[1]) || !isdigit ((unsigned char)text[3])
        || !isdigit ((unsigned char)text[4]))
        return -1;
    int h = (text[0] - '0') * 10 + text[1] - '0', m = (text[3] - '0') * 10 + text[4] - '0';
    if (h > 24 || m > 59 || (h == 24 && m))
        return -1;
    return h * 60 + m;
}

//  {"start","end"} -> minutes; absent keeps the defaults. 0 or -1.
static int
s_hours (const json_t *obj, int *open, int *close)
{
    if (!obj)
        return 0;
    const json_t *start = json_object_get (obj, "start"), *end = json_object_get (obj, "end");
    if (start)
        *open = s_clock (json_string_value (start));
    if (end)
        *close = s_clock (json_string_value (end));
    return *open < 0 || *close < 0 || *open >= *close ? -1 : 0;
}

//  A duration value ("15m" or ms). 0 or -1.
static int
s_duration (const json_t *obj, const char *key, int64_t *out)
{
    const json_t *value = json_object_get (obj, key);
    if (!value)
        return 0;
    if (json_is_integer (value) && json_integer_value (value) >= 0) {
        *out = json_integer_value (value);
        return 0;
    }
    return json_is_string (value) ? zhub_parse_duration_ms (json_string_value (value), out) : -1;
}

int
sched_config_from_json (const json_t *section, sched_config_t *cfg, char *err, size_t err_size)
{
    memset (cfg, 0, sizeof *cfg);
    cfg->open_min = 9 * 60;
    cfg->close_min = 19 * 60;
    cfg->days = 0x7E; //  Monday .. Saturday
    cfg->buffer_ms = 15 * S_MINUTE;
    cfg->default_duration_ms = 45 * S_MINUTE;
    cfg->slot_step_ms = 30 * S_MINUTE;
    cfg->horizon_ms = 7 * 24 * 60 * S_MINUTE;
    cfg->max_alternatives = 3;
    cfg->reminders_ms[0] = 24 * 60 * S_MINUTE;
    cfg->reminders_ms[1] = 2 * 60 * S_MINUTE;
    cfg->reminder_count = 2;
    const json_t *s = section && json_is_object (section) ? section : NULL;
    const char *bad = NULL;
    cfg->time_zone = s_dup_str (s, "time_zone", "America/Mexico_City");
    cfg->calendly_event_type = s_dup_str (s, "calendly_event_type", NULL);
    cfg->bird_channel_id = s_dup_str (s, "bird_channel_id", NULL);
    cfg->graph_user = s_dup_str (s, "graph_user", NULL);
    cfg->self_service = json_is_true (json_object_get (s, "self_service"));
    const json_t *hours = json_object_get (s, "business_hours");
    const json_t *days = json_object_get (hours, "days");
    const json_t *alts = json_object_get (s, "alternatives");
    const json_t *reminders = json_object_get (s, "reminders");
    const json_t *agents = json_object_get (s, "agents");
    if (s_hours (hours, &cfg->open_min, &cfg->close_min))
        bad = "business_hours (start/end as HH:MM, start before end)";
    else if (days && !json_is_array (days))
        bad = "business_hours.days (a list of 0..6, 0 = Sunday)";
    else if (s_duration (s, "buffer", &cfg->buffer_ms))
        bad = "buffer";
    else if (s_duration (s, "default_duration", &cfg->default_duration_ms)
             || cfg->default_duration_ms <= 0)
        bad = "default_duration";
    else if (s_duration (s, "slot_step", &cfg->slot_step_ms) || cfg->slot_step_ms < S_MINUTE)
        bad = "slot_step (at least 1m)";
    else if (s_duration (s, "horizon", &cfg->horizon_ms))
        bad = "horizon";
    else if (s_duration (s, "reconcile_every", &cfg->reconcile_every_ms))
        bad = "reconcile_every";
    else if (alts
             && (!json_is_integer (alts) || json_integer_value (alts) < 0
                 || json_integer_value (alts) > SCHED_MAX_ALTERNATIVES))
        bad = "alternatives (0..8)";
    else if (reminders
             && (!json_is_array (reminders) || json_array_size (reminders) > SCHED_MAX_REMINDERS))
        bad = "reminders (a list of up to 4 durations)";
    else if (agents && (!json_is_array (agents) || json_array_size (agents) > SCHED_MAX_AGENTS))
        bad = "agents (a list of up to 32)";
    else if (cfg->self_service && !cfg->calendly_event_type)
        bad = "calendly_event_type (required with self_service)";
    if (!bad && days) {
        cfg->days = 0;
        size_t i;
        const json_t *day;
        json_array_foreach (days, i, day)
        {
            if (!json_is_integer (day) || json_integer_value (day) < 0
                || json_integer_value (day) > 6)
                bad = "business_hours.days (a list of 0..6, 0 = Sunday)";
            else
                cfg->days |= 1u << json_integer_value (day);
        }
    }
    if (!bad && alts)
        cfg->max_alternatives = (size_t)json_integer_value (alts);
    if (!bad && reminders) {
        cfg->reminder_count = 0;
        size_t i;
        const json_t *value;
        json_array_foreach (reminders, i, value)
        {
            int64_t ms;
            if (!json_is_string (value) || zhub_parse_duration_ms (json_string_value (value), &ms)
                || ms <= 0)
                bad = "reminders (a list of up to 4 durations)";
            else
                cfg->reminders_ms[cfg->reminder_count++] = ms;
        }
    }
    size_t i;
    const json_t *a;
    static char where[96];
    json_array_foreach (agents, i, a)
    {
        if (bad)
            break;
        sched_agent_t *agent = &cfg->agents[cfg->agent_count++];
        agent->id = s_dup_str (a, "id", NULL);
        agent->email = s_dup_str (a, "email", NULL);
        agent->name = s_dup_str (a, "name", agent->id);
        agent->calendar_id = s_dup_str (a, "calendar_id", agent->email);
        const char *platform = json_string_value (json_object_get (a, "platform"));
        agent->open_min = cfg->open_min;
        agent->close_min = cfg->close_min;
        agent->buffer_ms = cfg->buffer_ms;
        snprintf (where, sizeof where, "agents[%zu]", i);
        if (!agent->id || !agent->calendar_id)
            bad = "agents[] (each needs id and email or calendar_id)";
        else if (!platform || (strcmp (platform, "google") && strcmp (platform, "graph")))
            bad = "agents[].platform (google or graph)";
        else if (s_hours (json_object_get (a, "working_hours"), &agent->open_min,
                          &agent->close_min))
            bad = "agents[].working_hours";
        else if (s_duration (a, "buffer", &agent->buffer_ms))
            bad = "agents[].buffer";
        else if (sched_agent_index (cfg, agent->id) != (int)cfg->agent_count - 1)
            bad = "agents[].id (ids must be unique)";
        if (!bad)
            agent->platform = !strcmp (platform, "google") ? SCHED_GOOGLE : SCHED_GRAPH;
        if (!bad && agent->platform == SCHED_GRAPH && !cfg->graph_user)
            cfg->graph_user = zhub_strdup (agent->calendar_id);
    }
    if (bad) {
        snprintf (err, err_size, "scheduler config: bad %s", bad);
        sched_config_clear (cfg);
        return -1;
    }
    return 0;
}

void
sched_config_clear (sched_config_t *cfg)
{
    for (size_t i = 0; i < cfg->agent_count; i++) {
        free (cfg->agents[i].id);
        free (cfg->agents[i].name);
        free (cfg->agents[i].email);
        free (cfg->agents[i].calendar_id);
    }
    free (cfg->time_zone);
    free (cfg->calendly_event_type);
    free (cfg->bird_channel_id);
    free (cfg->graph_user);
    memset (cfg, 0, sizeof *cfg);
}

int
sched_agent_index (const sched_config_t *cfg, const char *id)
{
    for (size_t i = 0; id && i < cfg->agent_count; i++)
        if (cfg->agents[i].id && !strcmp (cfg->agents[i].id, id))
            return (int)i;
    return -1;
}

int
sched_use_time_zone (const char *zone)
{
    if (!zone || !*zone || strstr (zone, ".."))
        return -1;
    char path[512];
    snprintf (path, sizeof path, "/usr/share/zoneinfo/%s", zone);
    FILE *file = fopen (path, "rb");
    if (!file && strcmp (zone, "UTC"))
        return -1;
    if (file)
        fclose (file);
    setenv ("TZ", zone, 1);
    tzset ();
    return 0;
}

//  -------------------------------------------------------------------
//  Slots

static void
s_local (int64_t ms, struct tm *tm)
{
    time_t t = (time_t)(ms / 1000);
    localtime_r (&t, tm);
}

bool
sched_within_hours (const sched_config_t *cfg, const sched_agent_t *agent, int64_t start,
                    int64_t end)
{
    if (end <= start)
        return false;
    struct tm a, b;
    s_local (start, &a);
    s_local (end - 1, &b);
    if (a.tm_year != b.tm_year || a.tm_yday != b.tm_yday)
        return false;
    if (!(cfg->days & (1u << a.tm_wday)))
        return false;
    int64_t from = a.tm_hour * 60 + a.tm_min;
    int64_t to = from + (end - start + S_MINUTE - 1) / S_MINUTE;
    int open = cfg->open_min, close = cfg->close_min;
    if (agent) {
        open = agent->open_min > open ? agent->open_min : open;
        close = agent->close_min < close ? agent->close_min : close;
    }
    return from >= open && to <= close;
}

void
sched_busy_add (sched_busy_t *busy, int64_t start, int64_t end)
{
    if (end <= start)
        return;
    if (busy->count == busy->cap) {
        busy->cap = busy->cap ? busy->cap * 2 : 8;
        busy->spans = zhub_realloc (busy->spans, busy->cap * sizeof *busy->spans);
    }
    busy->spans[busy->count++] = (sched_span_t){start, end};
}

void
sched_busy_clear (sched_busy_t *busy)
{
    free (busy->spans);
    memset (busy, 0, sizeof *busy);
}

bool
sched_agent_free (const sched_busy_t *busy, int64_t start, int64_t end, int64_t buffer_ms)
{
    int64_t from = start - buffer_ms, to = end + buffer_ms;
    for (size_t i = 0; i < busy->count; i++)
        if (busy->spans[i].start < to && busy->spans[i].end > from)
            return false;
    return true;
}

//  The first eligible agent (round robin from rr) free for [start, end).
static int
s_free_agent (const sched_config_t *cfg, int64_t start, int64_t end, const sched_busy_t *busy,
              const bool *eligible, size_t rr)
{
    for (size_t k = 0; k < cfg->agent_count; k++) {
        size_t i = (rr + k) % cfg->agent_count;
        const sched_agent_t *agent = &cfg->agents[i];
        if (eligible[i] && sched_within_hours (cfg, agent, start, end)
            && sched_agent_free (&busy[i], start, end, agent->buffer_ms))
            return (int)i;
    }
    return -1;
}

bool
sched_pick (const sched_config_t *cfg, const int64_t *preferred, size_t preferred_count,
            int64_t duration_ms, const sched_busy_t *busy, const bool *eligible, size_t rr,
            sched_slot_t *slot)
{
    for (size_t p = 0; p < preferred_count; p++) {
        int agent =
            s_free_agent (cfg, preferred[p], preferred[p] + duration_ms, busy, eligible, rr);
        if (agent >= 0) {
            *slot = (sched_slot_t){preferred[p], preferred[p] + duration_ms, agent};
            return true;
        }
    }
    return false;
}

size_t
sched_alternatives (const sched_config_t *cfg, int64_t from, int64_t duration_ms,
                    const sched_busy_t *busy, const bool *eligible, size_t rr, sched_slot_t *out,
                    size_t max)
{
    size_t count = 0;
    int64_t step = cfg->slot_step_ms;
    int64_t t = (from + step - 1) / step * step;
    for (; t < from + cfg->horizon_ms && count < max; t += step) {
        int agent = s_free_agent (cfg, t, t + duration_ms, busy, eligible, rr);
        if (agent >= 0)
            out[count++] = (sched_slot_t){t, t + duration_ms, agent};
    }
    return count;
}

//  -------------------------------------------------------------------
//  Requests

static char *
s_str (const json_t *obj, const char *key)
{
    const json_t *value = json_object_get (obj, key);
    if (json_is_string (value) && json_string_length (value))
        return zhub_strdup (json_string_value (value));
    if (json_is_integer (value))
        return zhub_sprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (value));
    return NULL;
}

static int64_t
s_when (const json_t *value)
{
    int64_t ms;
    if (json_is_integer (value))
        return json_integer_value (value);
    if (json_is_string (value) && zhub_time_parse (json_string_value (value), &ms) == 0)
        return ms;
    return -1;
}

zhub_rc_t
sched_parse_request (const zhub_msg_t *msg, const sched_config_t *cfg, sched_request_t *req,
                     char *reason, size_t reason_size)
{
    memset (req, 0, sizeof *req);
    json_t *data = zhub_msg_data_json (msg);
    req->event_id = zhub_strdup (msg->id ? msg->id : "");
    req->bird_id = s_str (data, "bird_contact_id");
    if (!req->bird_id && msg->subject && !strncmp (msg->subject, "contact:", 8) && msg->subject[8])
        req->bird_id = zhub_strdup (msg->subject + 8);
    req->conversation_id = s_str (data, "conversation_id");
    req->location = s_str (data, "location");
    req->agent_id = s_str (data, "leasing_agent_id");
    req->notes = s_str (data, "notes");
    req->phone = s_str (data, "phone");
    req->name = s_str (data, "name");
    const json_t *times = json_object_get (data, "preferred_times");
    const json_t *duration = json_object_get (data, "duration_min");
    req->duration_ms = cfg->default_duration_ms;
    const char *bad = NULL;
    if (!json_is_object (data))
        bad = "data is not a map";
    else if (!req->bird_id)
        bad = "tour.requested without bird_contact_id";
    else if (!json_is_array (times) || !json_array_size (times))
        bad = "tour.requested without preferred_times";
    else if (json_array_size (times) > SCHED_MAX_PREFERRED)
        bad = "more than 16 preferred_times";
    else if (duration
             && (!json_is_integer (duration) || json_integer_value (duration) < 5
                 || json_integer_value (duration) > 480))
        bad = "duration_min must be 5..480";
    else if (req->agent_id && sched_agent_index (cfg, req->agent_id) < 0)
        bad = "unknown leasing_agent_id";
    if (!bad) {
        if (duration)
            req->duration_ms = json_integer_value (duration) * S_MINUTE;
        size_t i;
        const json_t *value;
        json_array_foreach (times, i, value)
        {
            int64_t ms = s_when (value);
            if (ms < 0) {
                bad = "a preferred time is not RFC 3339";
                break;
            }
            req->preferred[req->preferred_count++] = ms;
        }
    }
    json_decref (data);
    if (bad) {
        snprintf (reason, reason_size, "%s", bad);
        return ZHUB_REJECT;
    }
    return ZHUB_OK;
}

void
sched_request_clear (sched_request_t *req)
{
    free (req->event_id);
    free (req->bird_id);
    free (req->conversation_id);
    free (req->location);
    free (req->agent_id);
    free (req->notes);
    free (req->phone);
    free (req->name);
    memset (req, 0, sizeof *req);
}

//  -------------------------------------------------------------------
//  Bookings

static void
s_set (json_t *obj, const char *key, const char *value)
{
    if (value)
        json_object_set_new (obj, key, json_string (value));
}

static void
s_set_time (json_t *obj, const char *key, int64_t ms)
{
    char text[40];
    zhub_time_format (ms, text, sizeof text);
    json_object_set_new (obj, key, json_string (text));
}

char *
sched_booking_encode (const sched_booking_t *b)
{
    json_t *obj =
        json_pack ("{s:I, s:I, s:b, s:I}", "start", (json_int_t)b->start, "end", (json_int_t)b->end,
                   "confirmed", b->confirmed, "reminders_sent", (json_int_t)b->reminders_sent);
    s_set (obj, "booking_id", b->booking_id);
    s_set (obj, "request_id", b->request_id);
    s_set (obj, "bird_contact_id", b->bird_id);
    s_set (obj, "conversation_id", b->conversation_id);
    s_set (obj, "agent_id", b->agent_id);
    s_set (obj, "platform", b->platform);
    s_set (obj, "calendar_id", b->calendar_id);
    s_set (obj, "event_id", b->event_id);
    s_set (obj, "confirmation_url", b->confirmation_url);
    s_set (obj, "location", b->location);
    s_set (obj, "phone", b->phone);
    s_set (obj, "status", b->status);
    char *text = json_dumps (obj, JSON_COMPACT);
    json_decref (obj);
    return text;
}

int
sched_booking_decode (const char *text, size_t size, sched_booking_t *b)
{
    memset (b, 0, sizeof *b);
    json_t *obj = json_loadb (text, size, 0, NULL);
    if (!json_is_object (obj) || !json_is_string (json_object_get (obj, "booking_id"))) {
        json_decref (obj);
        return -1;
    }
    b->booking_id = s_dup_str (obj, "booking_id", NULL);
    b->request_id = s_dup_str (obj, "request_id", NULL);
    b->bird_id = s_dup_str (obj, "bird_contact_id", NULL);
    b->conversation_id = s_dup_str (obj, "conversation_id", NULL);
    b->agent_id = s_dup_str (obj, "agent_id", NULL);
    b->platform = s_dup_str (obj, "platform", NULL);
    b->calendar_id = s_dup_str (obj, "calendar_id", NULL);
    b->event_id = s_dup_str (obj, "event_id", NULL);
    b->confirmation_url = s_dup_str (obj, "confirmation_url", NULL);
    b->location = s_dup_str (obj, "location", NULL);
    b->phone = s_dup_str (obj, "phone", NULL);
    b->status = s_dup_str (obj, "status", "pending");
    b->start = json_integer_value (json_object_get (obj, "start"));
    b->end = json_integer_value (json_object_get (obj, "end"));
    b->confirmed = json_is_true (json_object_get (obj, "confirmed"));
    b->reminders_sent = (unsigned)json_integer_value (json_object_get (obj, "reminders_sent"));
    json_decref (obj);
    return 0;
}

void
sched_booking_clear (sched_booking_t *b)
{
    char **fields[] = {&b->booking_id,       &b->request_id, &b->bird_id,     &b->conversation_id,
                       &b->agent_id,         &b->platform,   &b->calendar_id, &b->event_id,
                       &b->confirmation_url, &b->location,   &b->phone,       &b->status};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free (*fields[i]);
    memset (b, 0, sizeof *b);
}

void
sched_booking_id (const char *request_id, char *out, size_t out_size)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (hash, (const unsigned char *)request_id, strlen (request_id));
    char hex[33];
    sodium_bin2hex (hex, sizeof hex, hash, 16);
    snprintf (out, out_size, "bk%s", hex);
}

static char *
s_description (const sched_booking_t *b, const sched_request_t *req)
{
    return zhub_sprintf ("Property tour booked by the AI agent.\nContact: %s%s%s\n"
                         "Conversation: %s\nBooking: %s%s%s",
                         req && req->name ? req->name : "", req && req->name ? " / " : "",
                         b->bird_id ? b->bird_id : "",
                         b->conversation_id ? b->conversation_id : "-", b->booking_id,
                         req && req->notes ? "\nNotes: " : "", req && req->notes ? req->notes : "");
}

json_t *
sched_google_event_body (const sched_booking_t *b, const sched_agent_t *agent,
                         const sched_request_t *req)
{
    char *summary = zhub_sprintf ("Tour: %s", b->location ? b->location : "property");
    char *description = s_description (b, req);
    json_t *start = json_object (), *end = json_object ();
    s_set_time (start, "dateTime", b->start);
    s_set_time (end, "dateTime", b->end);
    json_t *body = json_pack ("{s:s, s:s, s:s, s:o, s:o}", "id", b->booking_id, "summary", summary,
                              "description", description, "start", start, "end", end);
    s_set (body, "location", b->location);
    if (agent->email)
        json_object_set_new (body, "attendees",
                             json_pack ("[{s:s, s:s}]", "email", agent->email, "displayName",
                                        agent->name ? agent->name : agent->email));
    json_object_set_new (body, "extendedProperties",
                         json_pack ("{s:{s:s, s:s}}", "private", "zhub_booking_id", b->booking_id,
                                    "bird_contact_id", b->bird_id ? b->bird_id : ""));
    free (summary);
    free (description);
    return body;
}

//  Graph wants "2030-03-05T17:00:00" with a separate timeZone.
static json_t *
s_graph_time (int64_t ms)
{
    char text[40];
    zhub_time_format (ms, text, sizeof text);
    text[19] = 0;
    return json_pack ("{s:s, s:s}", "dateTime", text, "timeZone", "UTC");
}

json_t *
sched_graph_event_body (const sched_booking_t *b, const sched_agent_t *agent,
                        const sched_request_t *req)
{
    (void)agent;
    char *subject = zhub_sprintf ("Tour: %s", b->location ? b->location : "property");
    char *description = s_description (b, req);
    json_t *body =
        json_pack ("{s:s, s:{s:s, s:s}, s:o, s:o, s:s}", "subject", subject, "body", "contentType",
                   "text", "content", description, "start", s_graph_time (b->start), "end",
                   s_graph_time (b->end), "transactionId", b->booking_id);
    if (b->location)
        json_object_set_new (body, "location", json_pack ("{s:s}", "displayName", b->location));
    free (subject);
    free (description);
    return body;
}

json_t *
sched_google_freebusy_body (const sched_config_t *cfg, const bool *eligible, int64_t from,
                            int64_t to)
{
    json_t *items = json_array ();
    for (size_t i = 0; i < cfg->agent_count; i++)
        if (eligible[i] && cfg->agents[i].platform == SCHED_GOOGLE)
            json_array_append_new (items, json_pack ("{s:s}", "id", cfg->agents[i].calendar_id));
    if (!json_array_size (items)) {
        json_decref (items);
        return NULL;
    }
    json_t *body = json_pack ("{s:s, s:o}", "timeZone", "UTC", "items", items);
    s_set_time (body, "timeMin", from);
    s_set_time (body, "timeMax", to);
    return body;
}

json_t *
sched_graph_schedule_body (const sched_config_t *cfg, const bool *eligible, int64_t from,
                           int64_t to)
{
    json_t *schedules = json_array ();
    for (size_t i = 0; i < cfg->agent_count; i++)
        if (eligible[i] && cfg->agents[i].platform == SCHED_GRAPH)
            json_array_append_new (schedules, json_string (cfg->agents[i].calendar_id));
    if (!json_array_size (schedules)) {
        json_decref (schedules);
        return NULL;
    }
    return json_pack ("{s:o, s:o, s:o, s:i}", "schedules", schedules, "startTime",
                      s_graph_time (from), "endTime", s_graph_time (to), "availabilityViewInterval",
                      15);
}

int
sched_google_busy_read (const sched_config_t *cfg, const json_t *answer, sched_busy_t *busy)
{
    const json_t *calendars = json_object_get (answer, "calendars");
    if (!json_is_object (calendars))
        return -1;
    for (size_t i = 0; i < cfg->agent_count; i++) {
        if (cfg->agents[i].platform != SCHED_GOOGLE)
            continue;
        const json_t *cal = json_object_get (calendars, cfg->agents[i].calendar_id);
        if (!cal)
            continue;
        if (json_array_size (json_object_get (cal, "errors")))
            return -1;
        size_t k;
        const json_t *span;
        json_array_foreach (json_object_get (cal, "busy"), k, span)
        {
            int64_t s = s_when (json_object_get (span, "start"));
            int64_t e = s_when (json_object_get (span, "end"));
            if (s < 0 || e < 0)
                return -1;
            sched_busy_add (&busy[i], s, e);
        }
    }
    return 0;
}

//  {"dateTime":"2019-03-15T12:00:00.0000000","timeZone":"UTC"} -> ms, or -1.
static int64_t
s_graph_when (const json_t *value)
{
    const char *text = json_string_value (json_object_get (value, "dateTime"));
    const char *zone = json_string_value (json_object_get (value, "timeZone"));
    if (!text || strlen (text) < 19 || (zone && strcmp (zone, "UTC")))
        return -1;
    char buf[24];
    memcpy (buf, text, 19);
    memcpy (buf + 19, "Z", 2);
    int64_t ms;
    return zhub_time_parse (buf, &ms) == 0 ? ms : -1;
}

int
sched_graph_busy_read (const sched_config_t *cfg, const json_t *answer, sched_busy_t *busy)
{
    const json_t *value = json_object_get (answer, "value");
    if (!json_is_array (value))
        return -1;
    size_t k;
    const json_t *schedule;
    json_array_foreach (value, k, schedule)
    {
        const char *id = json_string_value (json_object_get (schedule, "scheduleId"));
        int agent = -1;
        for (size_t i = 0; id && i < cfg->agent_count; i++)
            if (cfg->agents[i].platform == SCHED_GRAPH
                && !strcasecmp (cfg->agents[i].calendar_id, id))
                agent = (int)i;
        if (agent < 0)
            continue;
        if (json_object_get (schedule, "error"))
            return -1;
        size_t j;
        const json_t *item;
        json_array_foreach (json_object_get (schedule, "scheduleItems"), j, item)
        {
            const char *status = json_string_value (json_object_get (item, "status"));
            if (status && !strcmp (status, "free"))
                continue;
            int64_t s = s_graph_when (json_object_get (item, "start"));
            int64_t e = s_graph_when (json_object_get (item, "end"));
            if (s < 0 || e < 0)
                return -1;
            sched_busy_add (&busy[agent], s, e);
        }
    }
    return 0;
}

//  -------------------------------------------------------------------
//  Messages

static char *
s_cut_id (char *id)
{
    if (strlen (id) > ZHUB_MSG_MAX_ID)
        id[ZHUB_MSG_MAX_ID] = 0;
    return id;
}

static zhub_msg_t *
s_msg (const char *type, char *id, const char *bird_id, const char *traceparent, int64_t now_ms)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, s_cut_id (id));
    zhub_msg_set (&msg->source, SCHEDULER_SOURCE);
    zhub_msg_set (&msg->type, type);
    char *subject = zhub_sprintf ("contact:%s", bird_id ? bird_id : "");
    zhub_msg_set (&msg->subject, s_cut_id (subject));
    free (subject);
    zhub_msg_set (&msg->traceparent, traceparent);
    msg->time_ms = now_ms;
    return msg;
}

zhub_msg_t *
sched_tour_msg (const char *type, const sched_booking_t *b, const char *salt,
                const char *traceparent, int64_t now_ms)
{
    char *id = zhub_sprintf ("%s-%s-%s", type, b->booking_id, salt ? salt : "");
    zhub_msg_t *msg = s_msg (type, id, b->bird_id, traceparent, now_ms);
    free (id);
    json_t *data = json_object ();
    s_set (data, "booking_id", b->booking_id);
    s_set_time (data, "start", b->start);
    s_set_time (data, "end", b->end);
    s_set (data, "platform", b->platform);
    s_set (data, "calendar_event_id", b->event_id);
    s_set (data, "confirmation_url", b->confirmation_url);
    s_set (data, "agent_id", b->agent_id);
    s_set (data, "bird_contact_id", b->bird_id);
    s_set (data, "conversation_id", b->conversation_id);
    s_set (data, "location", b->location);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

zhub_msg_t *
sched_unavailable_msg (const sched_request_t *req, const sched_config_t *cfg,
                       const sched_slot_t *alts, size_t count, const char *traceparent,
                       int64_t now_ms)
{
    char booking[40];
    sched_booking_id (req->event_id, booking, sizeof booking);
    char *id = zhub_sprintf ("tour.unavailable-%s", booking);
    zhub_msg_t *msg = s_msg ("tour.unavailable", id, req->bird_id, traceparent, now_ms);
    free (id);
    json_t *data = json_object (), *list = json_array (), *asked = json_array ();
    for (size_t i = 0; i < count; i++) {
        json_t *alt = json_object ();
        s_set_time (alt, "start", alts[i].start);
        s_set_time (alt, "end", alts[i].end);
        s_set (alt, "agent_id", cfg->agents[alts[i].agent].id);
        json_array_append_new (list, alt);
    }
    for (size_t i = 0; i < req->preferred_count; i++) {
        char text[40];
        zhub_time_format (req->preferred[i], text, sizeof text);
        json_array_append_new (asked, json_string (text));
    }
    s_set (data, "booking_id", booking);
    s_set (data, "bird_contact_id", req->bird_id);
    s_set (data, "conversation_id", req->conversation_id);
    s_set (data, "location", req->location);
    s_set (data, "reason", "no agent is free at the preferred times");
    json_object_set_new (data, "requested", asked);
    json_object_set_new (data, "alternatives", list);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

char *
sched_whatsapp_text (const char *kind, const sched_booking_t *b, const sched_config_t *cfg)
{
    struct tm tm;
    s_local (b->start, &tm);
    char when[64];
    strftime (when, sizeof when, "%a %d %b %Y %H:%M", &tm);
    int agent = sched_agent_index (cfg, b->agent_id);
    const char *with = agent >= 0 ? cfg->agents[agent].name : NULL;
    const char *head = !strcmp (kind, "reminder") ? "Reminder: your property tour is on"
                                                  : "Your property tour is confirmed for";
    return zhub_sprintf (
        "%s %s (%s)%s%s%s%s.%s%s", head, when, cfg->time_zone, b->location ? " at " : "",
        b->location ? b->location : "", with ? " with " : "", with ? with : "",
        b->confirmation_url ? " Details: " : "", b->confirmation_url ? b->confirmation_url : "");
}

char *
sched_link_with_booking (const char *booking_url, const char *booking_id)
{
    return zhub_sprintf ("%s%cutm_source=zhub&utm_content=%s", booking_url,
                         strchr (booking_url, '?') ? '&' : '?', booking_id);
}

char *
sched_link_text (const sched_booking_t *b)
{
    return zhub_sprintf ("Choose the time of your property tour%s%s here: %s",
                         b->location ? " at " : "", b->location ? b->location : "",
                         b->confirmation_url ? b->confirmation_url : "");
}

zhub_rc_t
sched_parse_invitee (const json_t *data, sched_invitee_t *inv, char *reason, size_t reason_size)
{
    memset (inv, 0, sizeof *inv);
    inv->start = inv->end = -1;
    const json_t *payload = json_object_get (data, "payload");
    inv->event = s_str (data, "event");
    inv->invitee_uri = s_str (payload, "uri");
    const json_t *scheduled = json_object_get (payload, "scheduled_event");
    inv->event_uri = s_str (scheduled, "uri");
    if (!inv->event_uri)
        inv->event_uri = s_str (payload, "event");
    inv->utm_content = s_str (json_object_get (payload, "tracking"), "utm_content");
    inv->old_invitee = s_str (payload, "old_invitee");
    inv->rescheduled = json_is_true (json_object_get (payload, "rescheduled"));
    inv->start = s_when (json_object_get (scheduled, "start_time"));
    inv->end = s_when (json_object_get (scheduled, "end_time"));
    if (!inv->event || !inv->invitee_uri || !inv->event_uri) {
        snprintf (reason, reason_size,
                  "calendly envelope without event, payload.uri or the "
                  "scheduled event");
        return ZHUB_REJECT;
    }
    return ZHUB_OK;
}

void
sched_invitee_clear (sched_invitee_t *inv)
{
    free (inv->event);
    free (inv->invitee_uri);
    free (inv->event_uri);
    free (inv->utm_content);
    free (inv->old_invitee);
    memset (inv, 0, sizeof *inv);
}

sched_change_t
sched_google_change (const json_t *event, const sched_booking_t *b, int64_t *start, int64_t *end)
{
    const char *status = json_string_value (json_object_get (event, "status"));
    if (status && !strcmp (status, "cancelled"))
        return SCHED_CHANGE_CANCELED;
    int64_t s = s_when (json_object_get (json_object_get (event, "start"), "dateTime"));
    int64_t e = s_when (json_object_get (json_object_get (event, "end"), "dateTime"));
    if (s < 0 || e <= s || (s == b->start && e == b->end))
        return SCHED_CHANGE_NONE;
    *start = s;
    *end = e;
    return SCHED_CHANGE_MOVED;
}

sched_change_t
sched_graph_change (const json_t *event, const sched_booking_t *b, int64_t *start, int64_t *end)
{
    if (json_is_true (json_object_get (event, "isCancelled")))
        return SCHED_CHANGE_CANCELED;
    int64_t s = s_graph_when (json_object_get (event, "start"));
    int64_t e = s_graph_when (json_object_get (event, "end"));
    if (s < 0 || e <= s || (s == b->start && e == b->end))
        return SCHED_CHANGE_NONE;
    *start = s;
    *end = e;
    return SCHED_CHANGE_MOVED;
}

char *
sched_google_resource_calendar (const char *uri)
{
    const char *from = uri ? strstr (uri, "/calendars/") : NULL;
    if (!from)
        return NULL;
    from += strlen ("/calendars/");
    const char *to = strstr (from, "/events");
    if (!to || to == from)
        return NULL;
    char *out = zhub_malloc ((size_t)(to - from) + 1), *q = out;
    for (const char *p = from; p < to; p++) {
        if (*p == '%' && p + 2 < to && isxdigit ((unsigned char)p[1])
            && isxdigit ((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0};
            *q++ = (char)strtol (hex, NULL, 16);
            p += 2;
        } else
            *q++ = *p;
    }
    *q = 0;
    return out;
}

json_t *
sched_bird_message (const sched_booking_t *b, const char *text)
{
    json_t *receiver = b->phone ? json_pack ("{s:s, s:s}", "identifierKey", "phonenumber",
                                             "identifierValue", b->phone)
                                : json_pack ("{s:s}", "id", b->bird_id ? b->bird_id : "");
    return json_pack ("{s:{s:[o]}, s:{s:s, s:{s:s}}, s:s}", "receiver", "contacts", receiver,
                      "body", "type", "text", "text", "text", text, "reference", b->booking_id);
}

//  -------------------------------------------------------------------
//  Secrets at rest

int
sched_key_parse (const char *text, uint8_t key[SCHED_KEY_BYTES])
{
    if (sodium_init () < 0 || !text || strlen (text) != 2 * SCHED_KEY_BYTES)
        return -1;
    size_t len = 0;
    if (sodium_hex2bin (key, SCHED_KEY_BYTES, text, strlen (text), NULL, &len, NULL)
        || len != SCHED_KEY_BYTES)
        return -1;
    return 0;
}

void
sched_seal (const uint8_t key[SCHED_KEY_BYTES], const char *text, uint8_t **out, size_t *out_size)
{
    size_t n = strlen (text);
    *out_size = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    *out = zhub_malloc (*out_size);
    randombytes_buf (*out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy (*out + crypto_secretbox_NONCEBYTES, (const unsigned char *)text, n, *out,
                           key);
}

char *
sched_unseal (const uint8_t key[SCHED_KEY_BYTES], const uint8_t *box, size_t size)
{
    if (size < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return NULL;
    size_t n = size - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *text = zhub_malloc (n + 1);
    if (crypto_secretbox_open_easy ((unsigned char *)text, box + crypto_secretbox_NONCEBYTES,
                                    size - crypto_secretbox_NONCEBYTES, box, key)) {
        free (text);
        return NULL;
    }
    text[n] = 0;
    return text;
}
