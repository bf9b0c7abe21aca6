//  The scheduler's configuration: the "scheduler" section of the mapping
//  file read once into sched_config_t and checked, with every default in
//  one place, and the time zone made the process's TZ so local time comes
//  from the system's tz database rather than from us.
#include "scheduler_core_internal.h"
#include "scheduler_whatsapp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

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
    cfg->fallback_after = 2;
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
    const json_t *fallback = json_object_get (s, "calendly_fallback_after");
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
    else if (fallback
             && (!json_is_integer (fallback) || json_integer_value (fallback) < 0
                 || json_integer_value (fallback) > 1000))
        bad = "calendly_fallback_after (a delivery attempt, 1..1000, or 0 = never)";
    else if (cfg->self_service && !cfg->calendly_event_type)
        bad = "calendly_event_type (required with self_service)";
    //  Bird names channels by UUID (channelId is "string · uuid" in
    //  https://docs.bird.com/api/channels-api/supported-channels/
    //  programmable-whatsapp/sending-whatsapp-messages); any other value
    //  fails every message, so it is refused here.
    else if (json_object_get (s, "bird_channel_id") && !zhub_is_uuid (cfg->bird_channel_id))
        bad = "bird_channel_id (a Bird channel id is a UUID, e.g. "
              "52ad151f-f7b4-46f9-a5c6-d3318e650c84)";
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
    if (!bad && fallback)
        cfg->fallback_after = (uint32_t)json_integer_value (fallback);
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
    if (sched_wa_config_from_json (json_object_get (s, "whatsapp"), &cfg->whatsapp, err,
                                   err_size)) {
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
    sched_wa_config_clear (&cfg->whatsapp);
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
