//  Booking records as stored: sched_booking_t to and from compact JSON, and
//  the booking id derived from the request id so a redelivered request
//  lands on the same booking. Pure; scheduler_booking.c does the I/O.
#include "scheduler_core_internal.h"
#include "zhub_id.h"

#include <stdio.h>
#include <stdlib.h>

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
    s_set (obj, "canceled_sent", b->canceled_sent);
    s_set (obj, "fallback_reason", b->fallback_reason);
    if (b->alternative_count) {
        json_t *alts = json_array ();
        for (size_t i = 0; i < b->alternative_count && i < SCHED_MAX_ALTERNATIVES; i++)
            json_array_append_new (alts, json_integer (b->alternatives[i]));
        json_object_set_new (obj, "alternatives", alts);
    }
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
    b->canceled_sent = s_dup_str (obj, "canceled_sent", NULL);
    b->fallback_reason = s_dup_str (obj, "fallback_reason", NULL);
    size_t i;
    const json_t *alt;
    json_array_foreach (json_object_get (obj, "alternatives"), i, alt)
    {
        if (b->alternative_count < SCHED_MAX_ALTERNATIVES && json_is_integer (alt))
            b->alternatives[b->alternative_count++] = json_integer_value (alt);
    }
    json_decref (obj);
    return 0;
}

void
sched_booking_clear (sched_booking_t *b)
{
    char **fields[] = {&b->booking_id,       &b->request_id, &b->bird_id,     &b->conversation_id,
                       &b->agent_id,         &b->platform,   &b->calendar_id, &b->event_id,
                       &b->confirmation_url, &b->location,   &b->phone,       &b->status,
                       &b->canceled_sent,    &b->fallback_reason};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free (*fields[i]);
    memset (b, 0, sizeof *b);
}

void
sched_booking_id (const char *request_id, char *out, size_t out_size)
{
    zhub_id_derive (out, out_size, "bk", request_id, 16);
}
