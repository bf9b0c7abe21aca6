//  Typed catalogue events (see zhub_events.h). Builders make a JSON object
//  and hand it to zhub_event_new, so the table in zhub_catalogue.c is the
//  only place that says what a valid event is; parsers read data as the
//  consumers do today (lenient where they are lenient) and say which
//  field was wrong where they refuse.
#include "zhub_events.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static zhub_rc_t s_reason (char *reason, size_t reason_size, zhub_rc_t rc, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static zhub_rc_t
s_reason (char *reason, size_t reason_size, zhub_rc_t rc, const char *format, ...)
{
    if (reason && reason_size) {
        va_list args;
        va_start (args, format);
        vsnprintf (reason, reason_size, format, args);
        va_end (args);
    }
    return rc;
}

//  -------------------------------------------------------------------
//  Building

static void
s_put (json_t *data, const char *key, const char *value)
{
    if (value)
        json_object_set_new (data, key, json_string (value));
}

static void
s_put_time (json_t *data, const char *key, int64_t ms)
{
    char text[40];
    zhub_time_format (ms, text, sizeof text);
    json_object_set_new (data, key, json_string (text));
}

//  The message of type about the Bird contact bird_id, from source, with
//  data (taken over), or NULL with a reason.
static zhub_msg_t *
s_new (const char *type, const char *source, const char *bird_id, const char *id,
       const char *traceparent, int64_t time_ms, json_t *data, char *reason, size_t reason_size)
{
    char *subject = bird_id ? zhub_sprintf ("contact:%s", bird_id) : NULL;
    zhub_msg_t *msg =
        zhub_event_new (type, id, source, subject, time_ms, traceparent, data, reason, reason_size);
    free (subject);
    json_decref (data);
    return msg;
}

//  -------------------------------------------------------------------
//  Parsing

//  A string (not empty) or a number as fresh text, or NULL: ids arrive as
//  JSON numbers from HubSpot, and as both from other services.
static char *
s_text (const json_t *value)
{
    if (json_is_string (value))
        return json_string_length (value) ? zhub_strdup (json_string_value (value)) : NULL;
    if (json_is_integer (value))
        return zhub_sprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (value));
    if (json_is_real (value) && json_real_value (value) >= 0 && json_real_value (value) < 1e19)
        return zhub_sprintf ("%.0f", json_real_value (value));
    return NULL;
}

static char *
s_get (const json_t *data, const char *key)
{
    return s_text (json_object_get (data, key));
}

//  An RFC 3339 string or unix ms; -1 when absent or unreadable.
static int64_t
s_time (const json_t *data, const char *key)
{
    const json_t *value = json_object_get (data, key);
    int64_t ms;
    if (json_is_integer (value))
        return json_integer_value (value);
    if (json_is_string (value) && zhub_time_parse (json_string_value (value), &ms) == 0)
        return ms;
    return -1;
}

//  The Bird contact: data.bird_contact_id, else the subject's "contact:<id>".
static char *
s_bird_id (const zhub_msg_t *msg, const json_t *data)
{
    char *id = s_get (data, "bird_contact_id");
    if (!id && msg->subject && !strncmp (msg->subject, "contact:", 8) && msg->subject[8])
        id = zhub_strdup (msg->subject + 8);
    return id;
}

static bool
s_is (const zhub_msg_t *msg, const char *type)
{
    return msg && msg->type && !strcmp (msg->type, type);
}

//  Reads data (a JSON object) into the parser's struct out.
typedef zhub_rc_t (s_read_fn) (const zhub_msg_t *msg, const json_t *data, void *out, char *reason,
                               size_t reason_size);

//  Runs read on data, or, when data is NULL, on msg's data decoded here;
//  refuses data that is not a map.
static zhub_rc_t
s_read (s_read_fn *read, const zhub_msg_t *msg, const json_t *data, void *out, char *reason,
        size_t reason_size)
{
    json_t *own = data ? NULL : zhub_msg_data_json (msg);
    if (!data)
        data = own;
    zhub_rc_t rc = json_is_object (data) ? read (msg, data, out, reason, reason_size)
                                         : s_reason (reason, reason_size, ZHUB_REJECT,
                                                     "%s: data is not a map", msg->type);
    json_decref (own);
    return rc;
}

//  -------------------------------------------------------------------
//  contact.synced

zhub_msg_t *
zhub_contact_synced_msg (const zhub_contact_synced_t *ev, const char *id, const char *traceparent,
                         int64_t time_ms, char *reason, size_t reason_size)
{
    json_t *data = json_object (), *changed = json_array ();
    s_put (data, "bird_contact_id", ev->bird_contact_id);
    s_put (data, "hubspot_contact_id", ev->hubspot_contact_id);
    for (size_t i = 0; i < ev->changed_count; i++)
        json_array_append_new (changed, json_string (ev->changed[i] ? ev->changed[i] : ""));
    json_object_set_new (data, "changed", changed);
    s_put (data, "direction", ev->direction);
    s_put (data, "cause_id", ev->cause_id);
    return s_new (ZHUB_CONTACT_SYNCED_TOPIC, "zhub/contact-sync", ev->bird_contact_id, id,
                  traceparent, time_ms, data, reason, reason_size);
}

static zhub_rc_t
s_contact_synced_read (const zhub_msg_t *msg, const json_t *data, void *out, char *reason,
                       size_t reason_size)
{
    zhub_contact_synced_t *ev = out;
    zhub_rc_t rc = ZHUB_OK;
    ev->bird_contact_id = s_bird_id (msg, data);
    ev->hubspot_contact_id = s_get (data, "hubspot_contact_id");
    ev->direction = s_get (data, "direction");
    ev->cause_id = s_get (data, "cause_id");
    const json_t *changed = json_object_get (data, "changed");
    if (!ev->bird_contact_id)
        rc = s_reason (reason, reason_size, ZHUB_REJECT,
                       "contact.synced: data.bird_contact_id "
                       "is missing");
    else if (changed && !json_is_array (changed))
        rc = s_reason (reason, reason_size, ZHUB_REJECT,
                       "contact.synced: data.changed must be an array of strings");
    for (size_t i = 0; rc == ZHUB_OK && i < json_array_size (changed); i++) {
        const char *name = json_string_value (json_array_get (changed, i));
        if (!name) {
            rc = s_reason (reason, reason_size, ZHUB_REJECT,
                           "contact.synced: data.changed must be an array of strings");
            break;
        }
        ev->changed = zhub_realloc (ev->changed, (i + 1) * sizeof *ev->changed);
        ev->changed[ev->changed_count++] = zhub_strdup (name);
    }
    if (rc != ZHUB_OK)
        zhub_contact_synced_clear (ev);
    return rc;
}

zhub_rc_t
zhub_contact_synced_parse_data (const zhub_msg_t *msg, const json_t *data,
                                zhub_contact_synced_t *ev, char *reason, size_t reason_size)
{
    memset (ev, 0, sizeof *ev);
    if (!s_is (msg, ZHUB_CONTACT_SYNCED_TOPIC))
        return s_reason (reason, reason_size, ZHUB_NOTFOUND, "not a contact.synced");
    return s_read (s_contact_synced_read, msg, data, ev, reason, reason_size);
}

zhub_rc_t
zhub_contact_synced_parse (const zhub_msg_t *msg, zhub_contact_synced_t *ev, char *reason,
                           size_t reason_size)
{
    return zhub_contact_synced_parse_data (msg, NULL, ev, reason, reason_size);
}

void
zhub_contact_synced_clear (zhub_contact_synced_t *ev)
{
    if (!ev)
        return;
    free (ev->bird_contact_id);
    free (ev->hubspot_contact_id);
    for (size_t i = 0; i < ev->changed_count; i++)
        free (ev->changed[i]);
    free (ev->changed);
    free (ev->direction);
    free (ev->cause_id);
    memset (ev, 0, sizeof *ev);
}

//  -------------------------------------------------------------------
//  deal.stage_changed

zhub_msg_t *
zhub_deal_stage_msg (const zhub_deal_stage_t *ev, const char *id, const char *traceparent,
                     int64_t time_ms, char *reason, size_t reason_size)
{
    json_t *data = json_object ();
    s_put (data, "hubspot_deal_id", ev->hubspot_deal_id);
    s_put (data, "bird_contact_id", ev->bird_contact_id);
    s_put (data, "stage", ev->stage);
    s_put (data, "by", ev->by);
    s_put (data, "cause_id", ev->cause_id);
    s_put (data, "hubspot_contact_id", ev->hubspot_contact_id);
    s_put (data, "ai_stage", ev->ai_stage);
    return s_new (ZHUB_DEAL_STAGE_TOPIC, "zhub/deal-sync", ev->bird_contact_id, id, traceparent,
                  time_ms, data, reason, reason_size);
}

static zhub_rc_t
s_deal_stage_read (const zhub_msg_t *msg, const json_t *data, void *out, char *reason,
                   size_t reason_size)
{
    zhub_deal_stage_t *ev = out;
    ev->bird_contact_id = s_bird_id (msg, data);
    ev->hubspot_deal_id = s_get (data, "hubspot_deal_id");
    ev->stage = s_get (data, "stage");
    ev->by = s_get (data, "by");
    ev->cause_id = s_get (data, "cause_id");
    ev->hubspot_contact_id = s_get (data, "hubspot_contact_id");
    ev->ai_stage = s_get (data, "ai_stage");
    if (ev->bird_contact_id)
        return ZHUB_OK;
    zhub_deal_stage_clear (ev);
    return s_reason (reason, reason_size, ZHUB_REJECT,
                     "deal.stage_changed: data.bird_contact_id is missing");
}

zhub_rc_t
zhub_deal_stage_parse_data (const zhub_msg_t *msg, const json_t *data, zhub_deal_stage_t *ev,
                            char *reason, size_t reason_size)
{
    memset (ev, 0, sizeof *ev);
    if (!s_is (msg, ZHUB_DEAL_STAGE_TOPIC))
        return s_reason (reason, reason_size, ZHUB_NOTFOUND, "not a deal.stage_changed");
    return s_read (s_deal_stage_read, msg, data, ev, reason, reason_size);
}

zhub_rc_t
zhub_deal_stage_parse (const zhub_msg_t *msg, zhub_deal_stage_t *ev, char *reason,
                       size_t reason_size)
{
    return zhub_deal_stage_parse_data (msg, NULL, ev, reason, reason_size);
}

void
zhub_deal_stage_clear (zhub_deal_stage_t *ev)
{
    if (!ev)
        return;
    char **fields[] = {&ev->hubspot_deal_id, &ev->bird_contact_id,    &ev->stage,   &ev->by,
                       &ev->cause_id,        &ev->hubspot_contact_id, &ev->ai_stage};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free (*fields[i]);
    memset (ev, 0, sizeof *ev);
}

//  -------------------------------------------------------------------
//  tour.*

static bool
s_tour_type (const char *type)
{
    return type
           && (!strcmp (type, ZHUB_TOUR_SCHEDULED_TOPIC) || !strcmp (type, ZHUB_TOUR_CANCELED_TOPIC)
               || !strcmp (type, ZHUB_TOUR_REMINDER_TOPIC));
}

zhub_msg_t *
zhub_tour_msg (const char *type, const zhub_tour_t *t, const char *id, const char *traceparent,
               int64_t time_ms, char *reason, size_t reason_size)
{
    if (!s_tour_type (type)) {
        s_reason (reason, reason_size, ZHUB_REJECT, "%.64s is not a tour event",
                  type ? type : "(no type)");
        return NULL;
    }
    json_t *data = json_object ();
    s_put (data, "booking_id", t->booking_id);
    s_put_time (data, "start", t->start_ms);
    s_put_time (data, "end", t->end_ms);
    s_put (data, "platform", t->platform);
    s_put (data, "calendar_event_id", t->calendar_event_id);
    s_put (data, "confirmation_url", t->confirmation_url);
    s_put (data, "agent_id", t->agent_id);
    s_put (data, "bird_contact_id", t->bird_contact_id);
    s_put (data, "conversation_id", t->conversation_id);
    s_put (data, "location", t->location);
    if (!strcmp (type, ZHUB_TOUR_REMINDER_TOPIC)) {
        json_object_set_new (data, "reminder", json_integer (t->reminder));
        json_object_set_new (data, "before_ms", json_integer (t->before_ms));
    }
    return s_new (type, "zhub/scheduler", t->bird_contact_id, id, traceparent, time_ms, data,
                  reason, reason_size);
}

static zhub_rc_t
s_tour_read (const zhub_msg_t *msg, const json_t *data, void *out, char *reason, size_t reason_size)
{
    zhub_tour_t *t = out;
    t->booking_id = s_get (data, "booking_id");
    t->bird_contact_id = s_bird_id (msg, data);
    t->start_ms = s_time (data, "start");
    t->end_ms = s_time (data, "end");
    t->platform = s_get (data, "platform");
    t->calendar_event_id = s_get (data, "calendar_event_id");
    t->confirmation_url = s_get (data, "confirmation_url");
    t->agent_id = s_get (data, "agent_id");
    t->conversation_id = s_get (data, "conversation_id");
    t->location = s_get (data, "location");
    if (s_is (msg, ZHUB_TOUR_REMINDER_TOPIC)) {
        const json_t *reminder = json_object_get (data, "reminder");
        const json_t *before = json_object_get (data, "before_ms");
        t->reminder = json_is_integer (reminder) ? json_integer_value (reminder) : -1;
        t->before_ms = json_is_integer (before) ? json_integer_value (before) : -1;
    }
    const char *missing = !t->bird_contact_id ? "bird_contact_id"
                          : !t->booking_id    ? "booking_id"
                                              : NULL;
    if (!missing && s_is (msg, ZHUB_TOUR_SCHEDULED_TOPIC)) {
        if (t->start_ms < 0)
            missing = "start";
        else if (t->end_ms < t->start_ms)
            missing = "end (at or after start)";
    }
    if (!missing)
        return ZHUB_OK;
    s_reason (reason, reason_size, ZHUB_REJECT, "%s: data.%s is missing", msg->type, missing);
    zhub_tour_clear (t);
    return ZHUB_REJECT;
}

zhub_rc_t
zhub_tour_parse_data (const zhub_msg_t *msg, const json_t *data, zhub_tour_t *t, char *reason,
                      size_t reason_size)
{
    memset (t, 0, sizeof *t);
    t->start_ms = t->end_ms = t->reminder = t->before_ms = -1;
    if (!msg || !s_tour_type (msg->type))
        return s_reason (reason, reason_size, ZHUB_NOTFOUND, "not a tour event");
    return s_read (s_tour_read, msg, data, t, reason, reason_size);
}

zhub_rc_t
zhub_tour_parse (const zhub_msg_t *msg, zhub_tour_t *t, char *reason, size_t reason_size)
{
    return zhub_tour_parse_data (msg, NULL, t, reason, reason_size);
}

void
zhub_tour_clear (zhub_tour_t *t)
{
    if (!t)
        return;
    char **fields[] = {&t->booking_id,        &t->bird_contact_id,  &t->platform,
                       &t->calendar_event_id, &t->confirmation_url, &t->agent_id,
                       &t->conversation_id,   &t->location};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free (*fields[i]);
    memset (t, 0, sizeof *t);
    t->start_ms = t->end_ms = t->reminder = t->before_ms = -1;
}

//  -------------------------------------------------------------------
//  conversation.stage_changed, qualification.completed

static zhub_rc_t
s_ai_stage_read (const zhub_msg_t *msg, const json_t *data, void *out, char *reason,
                 size_t reason_size)
{
    zhub_ai_stage_t *ev = out;
    bool staged = s_is (msg, ZHUB_STAGE_CHANGED_TOPIC);
    zhub_rc_t rc = ZHUB_OK;
    ev->bird_contact_id = s_bird_id (msg, data);
    ev->conversation_id = s_get (data, "conversation_id");
    ev->agent_type = s_get (data, "agent_type");
    ev->property_interest = s_get (data, "property_interest");
    const json_t *score = json_object_get (data, "qualification_score");
    const char *score_name = "qualification_score";
    if (!score) {
        score = json_object_get (data, "score");
        score_name = "score";
    }
    const zhub_field_t *stage =
        zhub_event_field (zhub_catalogue_find (ZHUB_STAGE_CHANGED_TOPIC), "stage");
    if (!ev->bird_contact_id)
        rc = s_reason (reason, reason_size, ZHUB_REJECT, "%s: data.bird_contact_id is missing",
                       msg->type);
    else if (score
             && (!json_is_number (score) || !isfinite (json_number_value (score))
                 || json_number_value (score) < 0 || json_number_value (score) > 100))
        rc = s_reason (reason, reason_size, ZHUB_REJECT, "%s: data.%s must be a number 0..100",
                       msg->type, score_name);
    else if (staged) {
        const char *name = json_string_value (json_object_get (data, "stage"));
        for (size_t i = 0; name && stage && stage->values[i] && !ev->stage; i++)
            if (!strcmp (name, stage->values[i]))
                ev->stage = zhub_strdup (name);
        if (!ev->stage)
            rc = s_reason (reason, reason_size, ZHUB_REJECT,
                           "%s: data.stage \"%.64s\" is not a stage of the catalogue", msg->type,
                           name ? name : "");
    } else {
        const json_t *qualified = json_object_get (data, "qualified");
        if (json_is_boolean (qualified)) {
            ev->qualified = json_is_true (qualified);
            ev->stage = zhub_strdup (ev->qualified ? "qualified" : "unqualified");
        } else
            rc = s_reason (reason, reason_size, ZHUB_REJECT, "%s: data.qualified must be a boolean",
                           msg->type);
    }
    if (rc == ZHUB_OK && score)
        ev->score = (int)(json_number_value (score) + 0.5);
    if (rc != ZHUB_OK)
        zhub_ai_stage_clear (ev);
    return rc;
}

zhub_rc_t
zhub_ai_stage_parse_data (const zhub_msg_t *msg, const json_t *data, zhub_ai_stage_t *ev,
                          char *reason, size_t reason_size)
{
    memset (ev, 0, sizeof *ev);
    ev->score = ev->qualified = -1;
    if (!s_is (msg, ZHUB_STAGE_CHANGED_TOPIC) && !s_is (msg, ZHUB_QUALIFICATION_TOPIC))
        return s_reason (reason, reason_size, ZHUB_NOTFOUND, "not an AI stage event");
    return s_read (s_ai_stage_read, msg, data, ev, reason, reason_size);
}

zhub_rc_t
zhub_ai_stage_parse (const zhub_msg_t *msg, zhub_ai_stage_t *ev, char *reason, size_t reason_size)
{
    return zhub_ai_stage_parse_data (msg, NULL, ev, reason, reason_size);
}

void
zhub_ai_stage_clear (zhub_ai_stage_t *ev)
{
    if (!ev)
        return;
    free (ev->bird_contact_id);
    free (ev->conversation_id);
    free (ev->agent_type);
    free (ev->property_interest);
    free (ev->stage);
    memset (ev, 0, sizeof *ev);
    ev->score = ev->qualified = -1;
}
