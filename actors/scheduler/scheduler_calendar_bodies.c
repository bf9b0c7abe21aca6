//  What the scheduler says to and reads from Google Calendar and Microsoft
//  Graph: event bodies, freeBusy/getSchedule bodies and their busy
//  answers, event changes, and the calendar named by a Google resource URI.
//  Google takes RFC 3339 instants; Graph a local dateTime with a separate
//  timeZone, which we always send and expect as UTC.
#include "scheduler_core_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

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

//  The event's times [s, e) against the booking's: moved only when they
//  are valid and differ.
static sched_change_t
s_moved (int64_t s, int64_t e, const sched_booking_t *b, int64_t *start, int64_t *end)
{
    if (s < 0 || e <= s || (s == b->start && e == b->end))
        return SCHED_CHANGE_NONE;
    *start = s;
    *end = e;
    return SCHED_CHANGE_MOVED;
}

sched_change_t
sched_google_change (const json_t *event, const sched_booking_t *b, int64_t *start, int64_t *end)
{
    const char *status = json_string_value (json_object_get (event, "status"));
    if (status && !strcmp (status, "cancelled"))
        return SCHED_CHANGE_CANCELED;
    int64_t s = s_when (json_object_get (json_object_get (event, "start"), "dateTime"));
    int64_t e = s_when (json_object_get (json_object_get (event, "end"), "dateTime"));
    return s_moved (s, e, b, start, end);
}

sched_change_t
sched_graph_change (const json_t *event, const sched_booking_t *b, int64_t *start, int64_t *end)
{
    if (json_is_true (json_object_get (event, "isCancelled")))
        return SCHED_CHANGE_CANCELED;
    int64_t s = s_graph_when (json_object_get (event, "start"));
    int64_t e = s_graph_when (json_object_get (event, "end"));
    return s_moved (s, e, b, start, end);
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
