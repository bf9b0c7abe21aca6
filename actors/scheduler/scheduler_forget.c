//  The scheduler's pure part of a GDPR erase (see scheduler.h, "Forgetting
//  a person"): read contact.forget, decide whether a booking names the
//  person, build contact.forgotten. A booking is matched on whole values
//  (its Bird contact id, its phone) rather than on substrings, because a
//  short identifier such as a HubSpot id would otherwise match digits of
//  unrelated bookings.
#include "scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static bool
s_known (const sched_forget_t *f, const char *id)
{
    for (size_t i = 0; i < f->id_count; i++)
        if (!strcasecmp (f->ids[i], id))
            return true;
    return false;
}

static void
s_add_one (sched_forget_t *f, const char *id)
{
    if (!id || !*id || strlen (id) > SCHED_FORGET_MAX_ID_BYTES || s_known (f, id)
        || f->id_count == SCHED_FORGET_MAX_IDS)
        return;
    f->ids[f->id_count++] = zhub_strdup (id);
}

//  Adds the identifier and, for a phone-like one ("+" then 7 to 15 digits,
//  or only those digits), its form with / without the leading "+":
//  contact-sync sends both, but an older or hand-made message may not.
static void
s_add (sched_forget_t *f, const json_t *value)
{
    char number[32];
    const char *id = json_string_value (value);
    if (json_is_integer (value)) {
        snprintf (number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
        id = number;
    }
    if (!id || !*id)
        return;
    s_add_one (f, id);
    const char *digits = id[0] == '+' ? id + 1 : id;
    size_t length = strlen (digits);
    if (length < 7 || length > 15 || strspn (digits, "0123456789") != length)
        return; //  not a phone number (E.164: at most 15 digits)
    if (id[0] == '+')
        s_add_one (f, digits);
    else {
        char *plus = zhub_sprintf ("+%s", digits);
        s_add_one (f, plus);
        free (plus);
    }
}

zhub_rc_t
sched_forget_parse (const zhub_msg_t *msg, sched_forget_t *f, char *reason, size_t reason_size)
{
    memset (f, 0, sizeof *f);
    json_t *data = zhub_msg_data_json (msg);
    const char *request = json_string_value (json_object_get (data, "request"));
    if (!request || !*request) {
        snprintf (reason, reason_size, "contact.forget without data.request");
        json_decref (data);
        return ZHUB_REJECT;
    }
    f->request = zhub_strdup (request);
    static const char *fields[] = {"bird_contact_id", "hubspot_contact_id", "phone", "email"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        s_add (f, json_object_get (data, fields[i]));
    size_t index;
    json_t *value;
    json_array_foreach (json_object_get (data, "identifiers"), index, value) s_add (f, value);
    json_decref (data);
    return ZHUB_OK;
}

void
sched_forget_clear (sched_forget_t *f)
{
    free (f->request);
    for (size_t i = 0; i < f->id_count; i++)
        free (f->ids[i]);
    memset (f, 0, sizeof *f);
}

bool
sched_booking_refers_to (const sched_booking_t *b, const sched_forget_t *f)
{
    if (b->bird_id && s_known (f, b->bird_id))
        return true;
    if (!b->phone || !*b->phone)
        return false;
    //  The phone as kept, and without its "+" (the identifiers hold both
    //  forms of the person's phone; the booking may hold either).
    return s_known (f, b->phone)
           || (b->phone[0] == '+' && b->phone[1] && s_known (f, b->phone + 1));
}

//  Message ids, subjects: at most ZHUB_MSG_MAX_ID bytes.
static char *
s_cut (char *text)
{
    if (strlen (text) > ZHUB_MSG_MAX_ID)
        text[ZHUB_MSG_MAX_ID] = 0;
    return text;
}

zhub_msg_t *
sched_forgotten_msg (const sched_forget_t *f, size_t removed, const char *traceparent,
                     int64_t now_ms)
{
    zhub_msg_t *msg = zhub_msg_new ();
    char *text = zhub_sprintf ("forgotten:%s:%s", SCHEDULER_GROUP, f->request);
    zhub_msg_set (&msg->id, s_cut (text));
    free (text);
    text = zhub_sprintf ("erase:%s", f->request);
    zhub_msg_set (&msg->subject, s_cut (text));
    free (text);
    zhub_msg_set (&msg->source, SCHEDULER_SOURCE);
    zhub_msg_set (&msg->type, "contact.forgotten");
    zhub_msg_set (&msg->traceparent, traceparent);
    msg->time_ms = now_ms;
    json_t *data = json_pack ("{s:s, s:s, s:I}", "request", f->request, "actor", SCHEDULER_GROUP,
                              "removed", (json_int_t)removed);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}
