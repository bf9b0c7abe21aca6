//  Conversation events (see zhub_conversation.h): JSON objects handed to
//  zhub_event_new, so the catalogue is the only judge of what is valid,
//  and the parser of conversation.message the intent router reads.
#include "zhub_conversation.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
zhub_conversation_time (int64_t unix_ms, char *buf, size_t size)
{
    time_t seconds = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    strftime (buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

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
    zhub_conversation_time (ms, text, sizeof text);
    json_object_set_new (data, key, json_string (text));
}

//  The message of type about bird_id with data (taken over), or NULL.
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

zhub_msg_t *
zhub_conversation_started_msg (const zhub_conversation_started_t *ev, const char *id,
                               const char *source, const char *traceparent, int64_t time_ms,
                               char *reason, size_t reason_size)
{
    json_t *data = json_object ();
    s_put (data, "conversation_id", ev->conversation_id);
    s_put (data, "bird_contact_id", ev->bird_contact_id);
    s_put (data, "channel", ev->channel);
    s_put (data, "agent_type", ev->agent_type);
    s_put (data, "status", ev->status);
    if (ev->started_ms >= 0)
        s_put_time (data, "started_at", ev->started_ms);
    return s_new (ZHUB_CONVERSATION_STARTED_TOPIC, source, ev->bird_contact_id, id, traceparent,
                  time_ms, data, reason, reason_size);
}

zhub_msg_t *
zhub_conversation_message_msg (const zhub_conversation_message_t *ev, const char *id,
                               const char *source, const char *traceparent, int64_t time_ms,
                               char *reason, size_t reason_size)
{
    json_t *data = json_object ();
    s_put (data, "conversation_id", ev->conversation_id);
    s_put (data, "bird_contact_id", ev->bird_contact_id);
    s_put (data, "direction", ev->direction);
    s_put (data, "text", ev->text);
    s_put_time (data, "sent_at", ev->sent_ms);
    s_put (data, "message_id", ev->message_id);
    s_put (data, "sender", ev->sender);
    s_put (data, "channel", ev->channel);
    s_put (data, "phone", ev->phone);
    return s_new (ZHUB_CONVERSATION_MESSAGE_TOPIC, source, ev->bird_contact_id, id, traceparent,
                  time_ms, data, reason, reason_size);
}

zhub_msg_t *
zhub_conversation_ended_msg (const zhub_conversation_ended_t *ev, const char *id,
                             const char *source, const char *traceparent, int64_t time_ms,
                             char *reason, size_t reason_size)
{
    json_t *data = json_object ();
    s_put (data, "conversation_id", ev->conversation_id);
    s_put (data, "bird_contact_id", ev->bird_contact_id);
    s_put_time (data, "ended_at", ev->ended_ms);
    s_put (data, "reason", ev->reason);
    return s_new (ZHUB_CONVERSATION_ENDED_TOPIC, source, ev->bird_contact_id, id, traceparent,
                  time_ms, data, reason, reason_size);
}

json_t *
zhub_tour_requested_data (const zhub_tour_requested_t *ev)
{
    json_t *data = json_object (), *times = json_array ();
    s_put (data, "bird_contact_id", ev->bird_contact_id);
    s_put (data, "conversation_id", ev->conversation_id);
    for (size_t i = 0; i < ev->preferred_count && i < ZHUB_TOUR_REQUESTED_MAX_TIMES; i++) {
        char text[40];
        zhub_conversation_time (ev->preferred_ms[i], text, sizeof text);
        json_array_append_new (times, json_string (text));
    }
    json_object_set_new (data, "preferred_times", times);
    if (ev->flexible)
        json_object_set_new (data, "flexible", json_true ());
    if (ev->duration_min > 0)
        json_object_set_new (data, "duration_min", json_integer (ev->duration_min));
    s_put (data, "location", ev->location);
    s_put (data, "notes", ev->notes);
    s_put (data, "phone", ev->phone);
    s_put (data, "name", ev->name);
    s_put (data, "message_id", ev->message_id);
    return data;
}

zhub_msg_t *
zhub_tour_requested_msg (const zhub_tour_requested_t *ev, const char *id, const char *source,
                         const char *traceparent, int64_t time_ms, char *reason, size_t reason_size)
{
    return s_new (ZHUB_TOUR_REQUESTED_TOPIC, source, ev->bird_contact_id, id, traceparent, time_ms,
                  zhub_tour_requested_data (ev), reason, reason_size);
}

//  -------------------------------------------------------------------
//  Parsing conversation.message

static zhub_rc_t
s_refuse (char *reason, size_t reason_size, const char *what)
{
    snprintf (reason, reason_size, "conversation.message: %s", what);
    return ZHUB_REJECT;
}

static char *
s_text (const json_t *value)
{
    if (json_is_string (value))
        return json_string_length (value) ? zhub_strdup (json_string_value (value)) : NULL;
    if (json_is_integer (value) && json_integer_value (value) >= 0)
        return zhub_sprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (value));
    return NULL;
}

zhub_rc_t
zhub_conversation_message_parse (const zhub_msg_t *msg, zhub_conversation_message_t *ev,
                                 char *reason, size_t reason_size)
{
    memset (ev, 0, sizeof *ev);
    if (!msg || !msg->type || strcmp (msg->type, ZHUB_CONVERSATION_MESSAGE_TOPIC)) {
        snprintf (reason, reason_size, "not a conversation.message");
        return ZHUB_NOTFOUND;
    }
    json_t *data = zhub_msg_data_json (msg);
    zhub_rc_t rc = ZHUB_OK;
    if (!json_is_object (data)) {
        json_decref (data);
        return s_refuse (reason, reason_size, "data is not a map");
    }
    ev->bird_contact_id = s_text (json_object_get (data, "bird_contact_id"));
    if (!ev->bird_contact_id && msg->subject && !strncmp (msg->subject, "contact:", 8)
        && msg->subject[8])
        ev->bird_contact_id = zhub_strdup (msg->subject + 8);
    ev->conversation_id = s_text (json_object_get (data, "conversation_id"));
    ev->message_id = s_text (json_object_get (data, "message_id"));
    const char *direction = json_string_value (json_object_get (data, "direction"));
    const json_t *text = json_object_get (data, "text");
    const json_t *sent = json_object_get (data, "sent_at");
    ev->sent_ms = msg->time_ms;
    if (!ev->bird_contact_id)
        rc = s_refuse (reason, reason_size, "data.bird_contact_id is missing");
    else if (!direction || (strcmp (direction, "in") && strcmp (direction, "out")))
        rc = s_refuse (reason, reason_size, "data.direction must be in or out");
    else if (!json_is_string (text))
        rc = s_refuse (reason, reason_size, "data.text must be a string");
    else if (sent && !json_is_null (sent)
             && (!json_is_string (sent)
                 || zhub_time_parse (json_string_value (sent), &ev->sent_ms)))
        rc = s_refuse (reason, reason_size, "data.sent_at must be an RFC 3339 time");
    if (rc == ZHUB_OK) {
        ev->direction = zhub_strdup (direction);
        ev->text = zhub_strdup (json_string_value (text));
        const char *sender = json_string_value (json_object_get (data, "sender"));
        const char *channel = json_string_value (json_object_get (data, "channel"));
        const char *phone = json_string_value (json_object_get (data, "phone"));
        ev->sender = sender ? zhub_strdup (sender) : NULL;
        ev->channel = channel && *channel ? zhub_strdup (channel) : NULL;
        ev->phone = phone && *phone ? zhub_strdup (phone) : NULL;
    } else
        zhub_conversation_message_clear (ev);
    json_decref (data);
    return rc;
}

void
zhub_conversation_message_clear (zhub_conversation_message_t *ev)
{
    if (!ev)
        return;
    char **fields[] = {&ev->conversation_id, &ev->bird_contact_id, &ev->direction, &ev->text,
                       &ev->message_id,      &ev->sender,          &ev->channel,   &ev->phone};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free (*fields[i]);
    memset (ev, 0, sizeof *ev);
}
