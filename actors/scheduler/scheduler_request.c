//  tour.requested -> sched_request_t: the one place that decides what a
//  tour request must carry, so a bad one is rejected with a reason before
//  any calendar is asked.
#include "scheduler_core_internal.h"

#include <stdio.h>
#include <stdlib.h>

zhub_rc_t
sched_parse_request (const zhub_msg_t *msg, const json_t *data, const sched_config_t *cfg,
                     sched_request_t *req, char *reason, size_t reason_size)
{
    memset (req, 0, sizeof *req);
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
