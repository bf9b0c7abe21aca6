//  activity-log's pure core (see activity_log.h for the mapping). Bodies
//  are built as jansson objects because that is what zhub_http sends;
//  note bodies are small HTML (HubSpot renders hs_note_body as HTML, so
//  newlines alone would collapse) with every piece of user text escaped.
#include "activity_log.h"
#include "zhub_events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  -------------------------------------------------------------------
//  Reading the message

//  A string field; ids may arrive as JSON numbers (HubSpot record ids).
static char *
s_str (const json_t *obj, const char *key)
{
    const json_t *value = json_object_get (obj, key);
    if (json_is_string (value))
        return json_string_length (value) ? zhub_strdup (json_string_value (value)) : NULL;
    if (json_is_integer (value))
        return zhub_sprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (value));
    return NULL;
}

//  A time field: RFC 3339 text or unix ms. -1 when absent or unreadable.
static int64_t
s_time (const json_t *obj, const char *key)
{
    const json_t *value = json_object_get (obj, key);
    int64_t ms;
    if (json_is_integer (value))
        return json_integer_value (value);
    if (json_is_string (value) && zhub_time_parse (json_string_value (value), &ms) == 0)
        return ms;
    return -1;
}

//  The topics whose messages may be stored (parked) and read back later,
//  with their kind. A delivered message's kind is its route's (main.c).
static const struct {
    const char *type;
    activity_event_kind_t kind;
} s_topics[] = {
    {"conversation.started", ACTIVITY_EV_STARTED},
    {"conversation.message", ACTIVITY_EV_MESSAGE},
    {ZHUB_QUALIFICATION_TOPIC, ACTIVITY_EV_QUALIFIED},
    {ZHUB_TOUR_SCHEDULED_TOPIC, ACTIVITY_EV_TOUR_SCHEDULED},
    {ZHUB_TOUR_CANCELED_TOPIC, ACTIVITY_EV_TOUR_CANCELED},
    {"escalation.triggered", ACTIVITY_EV_ESCALATION},
    {ZHUB_TOUR_CALENDAR_DOWN_TOPIC, ACTIVITY_EV_CALENDAR_DOWN},
    {ZHUB_CONTACT_SYNCED_TOPIC, ACTIVITY_EV_CONTACT_SYNCED},
    {ZHUB_DEAL_STAGE_TOPIC, ACTIVITY_EV_DEAL_STAGE},
    {ACTIVITY_FLUSH_TOPIC, ACTIVITY_EV_FLUSH},
};

//  The Bird contact id: data.bird_contact_id, else the subject's
//  "contact:<id>".
static char *
s_bird_id (const zhub_msg_t *msg, const json_t *data)
{
    char *id = s_str (data, "bird_contact_id");
    if (!id && msg->subject && !strncmp (msg->subject, "contact:", 8) && msg->subject[8])
        id = zhub_strdup (msg->subject + 8);
    return id;
}

//  Hands *from over to *to.
static void
s_take (char **to, char **from)
{
    free (*to);
    *to = *from;
    *from = NULL;
}

//  tour.scheduled, tour.canceled: the catalogue's parser (it refuses what
//  the meeting cannot be written from).
static zhub_rc_t
s_read_tour (const zhub_msg_t *msg, const json_t *data, activity_event_t *ev, char *reason,
             size_t reason_size)
{
    zhub_tour_t t;
    zhub_rc_t rc = zhub_tour_parse_data (msg, data, &t, reason, reason_size);
    if (rc == ZHUB_OK) {
        s_take (&ev->bird_id, &t.bird_contact_id);
        s_take (&ev->conversation_id, &t.conversation_id);
        s_take (&ev->booking_id, &t.booking_id);
        s_take (&ev->platform, &t.platform);
        s_take (&ev->calendar_event_id, &t.calendar_event_id);
        s_take (&ev->confirmation_url, &t.confirmation_url);
        s_take (&ev->location, &t.location);
        s_take (&ev->agent_id, &t.agent_id);
        ev->start_ms = t.start_ms;
        ev->end_ms = t.end_ms;
    }
    zhub_tour_clear (&t);
    return rc;
}

//  contact.synced, deal.stage_changed: the ids they teach, read by the
//  catalogue's parsers.
static zhub_rc_t
s_read_ids (const zhub_msg_t *msg, const json_t *data, activity_event_t *ev, char *reason,
            size_t reason_size)
{
    zhub_rc_t rc;
    if (ev->kind == ACTIVITY_EV_CONTACT_SYNCED) {
        zhub_contact_synced_t synced;
        rc = zhub_contact_synced_parse_data (msg, data, &synced, reason, reason_size);
        s_take (&ev->bird_id, &synced.bird_contact_id);
        s_take (&ev->hubspot_contact_id, &synced.hubspot_contact_id);
        zhub_contact_synced_clear (&synced);
    } else {
        zhub_deal_stage_t deal;
        rc = zhub_deal_stage_parse_data (msg, data, &deal, reason, reason_size);
        s_take (&ev->bird_id, &deal.bird_contact_id);
        s_take (&ev->hubspot_contact_id, &deal.hubspot_contact_id);
        s_take (&ev->hubspot_deal_id, &deal.hubspot_deal_id);
        zhub_deal_stage_clear (&deal);
    }
    return rc;
}

//  The fields of the events with no parser in the catalogue's code, each
//  kind its own.
static void
s_read_fields (const zhub_msg_t *msg, const json_t *data, activity_event_t *ev)
{
    ev->bird_id = s_bird_id (msg, data);
    ev->conversation_id = s_str (data, "conversation_id");
    switch (ev->kind) {
        case ACTIVITY_EV_STARTED:
            ev->channel = s_str (data, "channel");
            ev->agent_type = s_str (data, "agent_type");
            break;
        case ACTIVITY_EV_MESSAGE:
            ev->direction = s_str (data, "direction");
            ev->text = s_str (data, "text");
            ev->sent_ms = s_time (data, "sent_at");
            break;
        case ACTIVITY_EV_QUALIFIED: {
            const json_t *score = json_object_get (data, "score");
            if (json_is_number (score))
                ev->score = (int64_t)json_number_value (score);
            const json_t *qualified = json_object_get (data, "qualified");
            if (json_is_boolean (qualified))
                ev->qualified = json_is_true (qualified);
            ev->property_interest = s_str (data, "property_interest");
            break;
        }
        case ACTIVITY_EV_ESCALATION:
            ev->reason = s_str (data, "reason");
            ev->priority = s_str (data, "priority");
            ev->owner_id = s_str (data, "owner_id");
            if (!ev->owner_id)
                ev->owner_id = s_str (data, "hubspot_owner_id");
            break;
        case ACTIVITY_EV_CALENDAR_DOWN:
            ev->booking_id = s_str (data, "booking_id");
            ev->platform = s_str (data, "platform");
            ev->reason = s_str (data, "reason");
            ev->confirmation_url = s_str (data, "confirmation_url");
            ev->location = s_str (data, "location");
            break;
        default: break;
    }
}

zhub_rc_t
activity_read (activity_event_kind_t kind, const zhub_msg_t *msg, const json_t *data,
               activity_event_t *event, char *reason, size_t reason_size)
{
    memset (event, 0, sizeof *event);
    event->score = -1;
    event->qualified = -1;
    event->start_ms = event->end_ms = event->sent_ms = event->due_ms = -1;
    event->kind = kind;
    event->type = zhub_strdup (msg->type ? msg->type : "");
    event->event_id = zhub_strdup (msg->id ? msg->id : "");
    event->time_ms = msg->time_ms > 0 ? msg->time_ms : zhub_now_ms ();
    if (!json_is_object (data)) {
        snprintf (reason, reason_size, "data is not a map");
        return ZHUB_REJECT;
    }
    //  Any event may bring the HubSpot ids it knows (s_resolve uses them).
    event->hubspot_contact_id = s_str (data, "hubspot_contact_id");
    event->hubspot_deal_id = s_str (data, "hubspot_deal_id");
    zhub_rc_t rc = ZHUB_OK;
    const char *missing = NULL;
    switch (kind) {
        case ACTIVITY_EV_TOUR_SCHEDULED:
        case ACTIVITY_EV_TOUR_CANCELED:
            rc = s_read_tour (msg, data, event, reason, reason_size);
            break;
        case ACTIVITY_EV_CONTACT_SYNCED:
        case ACTIVITY_EV_DEAL_STAGE: rc = s_read_ids (msg, data, event, reason, reason_size); break;
        case ACTIVITY_EV_FLUSH:
            event->conversation_id = s_str (data, "conversation_id");
            event->due_ms = s_time (data, "due");
            if (!event->conversation_id)
                missing = "conversation_id";
            break;
        default:
            s_read_fields (msg, data, event);
            if (kind == ACTIVITY_EV_MESSAGE && !event->conversation_id)
                missing = "conversation_id";
            else if (kind == ACTIVITY_EV_MESSAGE && !event->text)
                missing = "text";
            else if (!event->bird_id)
                missing = "bird_contact_id";
            else if (kind == ACTIVITY_EV_CALENDAR_DOWN && !event->confirmation_url)
                missing = "confirmation_url";
            break;
    }
    if (rc != ZHUB_OK)
        return rc;
    if (missing) {
        snprintf (reason, reason_size, "%s without %s", event->type, missing);
        return ZHUB_REJECT;
    }
    if (event->sent_ms < 0)
        event->sent_ms = event->time_ms;
    return ZHUB_OK;
}

zhub_rc_t
activity_parse (const zhub_msg_t *msg, activity_event_t *event, char *reason, size_t reason_size)
{
    size_t i, n = sizeof s_topics / sizeof s_topics[0];
    for (i = 0; i < n; i++)
        if (msg->type && !strcmp (msg->type, s_topics[i].type))
            break;
    if (i == n) {
        memset (event, 0, sizeof *event);
        snprintf (reason, reason_size, "topic %.100s is not logged", msg->type ? msg->type : "");
        return ZHUB_NOTFOUND;
    }
    json_t *data = zhub_msg_data_json (msg);
    zhub_rc_t rc = activity_read (s_topics[i].kind, msg, data, event, reason, reason_size);
    json_decref (data);
    return rc;
}

void
activity_event_clear (activity_event_t *event)
{
    char **fields[] = {&event->type,
                       &event->event_id,
                       &event->bird_id,
                       &event->conversation_id,
                       &event->hubspot_contact_id,
                       &event->hubspot_deal_id,
                       &event->channel,
                       &event->agent_type,
                       &event->direction,
                       &event->text,
                       &event->property_interest,
                       &event->booking_id,
                       &event->platform,
                       &event->calendar_event_id,
                       &event->confirmation_url,
                       &event->location,
                       &event->agent_id,
                       &event->reason,
                       &event->priority,
                       &event->owner_id};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free (*fields[i]);
        *fields[i] = NULL;
    }
}

//  -------------------------------------------------------------------
//  Engagements

const char *
activity_kind_name (activity_kind_t kind)
{
    return kind == ACTIVITY_NOTE ? "note" : kind == ACTIVITY_TASK ? "task" : "meeting";
}

int
activity_association_type (activity_kind_t kind, bool to_deal)
{
    //  note->contact 202, note->deal 214; task 204 / 216; meeting 200 / 212
    switch (kind) {
        case ACTIVITY_NOTE: return to_deal ? 214 : 202;
        case ACTIVITY_TASK: return to_deal ? 216 : 204;
        default: return to_deal ? 212 : 200;
    }
}

char *
activity_html_escape (const char *text)
{
    if (!text)
        return zhub_strdup ("");
    size_t size = 1;
    for (const char *p = text; *p; p++)
        size += 6;
    char *out = zhub_malloc (size), *q = out;
    for (const char *p = text; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '>': rep = "&gt;"; break;
            case '"': rep = "&quot;"; break;
            case '\'': rep = "&#39;"; break;
            case '\n': rep = "<br>"; break;
            case '\r': rep = ""; break;
            default: break;
        }
        if (rep) {
            size_t n = strlen (rep);
            memcpy (q, rep, n);
            q += n;
        } else
            *q++ = *p;
    }
    *q = 0;
    return out;
}

//  A growing string for note bodies.
typedef struct {
    char *text;
    size_t size, cap;
} s_buf_t;

static void
s_add (s_buf_t *buf, const char *text)
{
    size_t n = strlen (text);
    if (buf->size + n + 1 > buf->cap) {
        buf->cap = (buf->size + n + 1) * 2;
        buf->text = zhub_realloc (buf->text, buf->cap);
    }
    memcpy (buf->text + buf->size, text, n + 1);
    buf->size += n;
}

//  Appends "<p><b>label:</b> value</p>" when value is set, escaped.
static void
s_field (s_buf_t *buf, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    char *escaped = activity_html_escape (value);
    char *line = zhub_sprintf ("<p><b>%s:</b> %s</p>", label, escaped);
    s_add (buf, line);
    free (line);
    free (escaped);
}

static void
s_time_field (s_buf_t *buf, const char *label, int64_t ms)
{
    if (ms < 0)
        return;
    char when[40];
    zhub_time_format (ms, when, sizeof when);
    s_field (buf, label, when);
}

//  The readable summary of an event (HTML). Fresh string.
static char *
s_summary (const activity_event_t *ev, bool escalation_task)
{
    s_buf_t buf = {0};
    char *title = activity_html_escape (ev->type);
    char *head = zhub_sprintf ("<p><b>" ACTIVITY_SUBJECT_PREFIX "%s</b></p>", title);
    s_add (&buf, head);
    free (head);
    free (title);
    char number[32];
    switch (ev->kind) {
        case ACTIVITY_EV_STARTED:
            s_add (&buf, "<p>The AI agent started a conversation with this contact.</p>");
            s_field (&buf, "Channel", ev->channel);
            s_field (&buf, "Agent", ev->agent_type);
            break;
        case ACTIVITY_EV_QUALIFIED:
            s_add (&buf, "<p>The AI agent finished qualifying this contact.</p>");
            if (ev->score >= 0) {
                snprintf (number, sizeof number, "%" PRId64 " / 100", ev->score);
                s_field (&buf, "Score", number);
            }
            if (ev->qualified >= 0)
                s_field (&buf, "Qualified", ev->qualified ? "yes" : "no");
            s_field (&buf, "Property interest", ev->property_interest);
            break;
        case ACTIVITY_EV_TOUR_SCHEDULED:
            s_add (&buf, "<p>The AI agent booked a tour.</p>");
            s_time_field (&buf, "Start", ev->start_ms);
            s_time_field (&buf, "End", ev->end_ms);
            s_field (&buf, "Location", ev->location);
            s_field (&buf, "Calendar", ev->platform);
            s_field (&buf, "Leasing agent", ev->agent_id);
            s_field (&buf, "Booking", ev->booking_id);
            s_field (&buf, "Confirmation", ev->confirmation_url);
            break;
        case ACTIVITY_EV_ESCALATION:
            s_add (&buf, escalation_task
                             ? "<p>The AI agent handed this conversation to a person: please "
                               "follow up.</p>"
                             : "<p>The AI agent escalated this conversation.</p>");
            s_field (&buf, "Reason", ev->reason);
            s_field (&buf, "Priority", ev->priority);
            break;
        case ACTIVITY_EV_CALENDAR_DOWN:
            s_add (&buf, "<p>The calendar was down, so the tour could not be booked: the contact "
                         "was sent a Calendly link on WhatsApp to pick a time.</p>");
            s_field (&buf, "Calendar", ev->platform);
            s_field (&buf, "Error", ev->reason);
            s_field (&buf, "Link sent", ev->confirmation_url);
            s_field (&buf, "Location", ev->location);
            s_field (&buf, "Booking", ev->booking_id);
            break;
        default: break;
    }
    s_field (&buf, "Conversation", ev->conversation_id);
    return buf.text;
}

static void
s_set_str (json_t *obj, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new (obj, key, json_string (value));
}

static void
s_set_time (json_t *obj, const char *key, int64_t ms)
{
    char text[40];
    zhub_time_format (ms, text, sizeof text);
    json_object_set_new (obj, key, json_string (text));
}

static json_t *
s_association (activity_kind_t kind, const char *id, bool to_deal)
{
    json_t *type = json_pack ("{s:s, s:i}", "associationCategory", "HUBSPOT_DEFINED",
                              "associationTypeId", activity_association_type (kind, to_deal));
    return json_pack ("{s:{s:s}, s:[o]}", "to", "id", id, "types", type);
}

json_t *
activity_engagement_body (const activity_event_t *ev, activity_kind_t kind, const char *contact_id,
                          const char *deal_id, const char *owner_id)
{
    json_t *props = json_object ();
    char *summary = NULL;
    char *subject = zhub_sprintf (ACTIVITY_SUBJECT_PREFIX "%s", ev->type);
    int64_t stamp = ev->time_ms;
    bool ok = true;
    switch (kind) {
        case ACTIVITY_NOTE:
            ok = ev->kind == ACTIVITY_EV_STARTED || ev->kind == ACTIVITY_EV_ESCALATION
                 || ev->kind == ACTIVITY_EV_CALENDAR_DOWN;
            summary = s_summary (ev, false);
            s_set_str (props, "hs_note_body", summary);
            break;
        case ACTIVITY_TASK:
            ok = ev->kind == ACTIVITY_EV_QUALIFIED || ev->kind == ACTIVITY_EV_ESCALATION;
            summary = s_summary (ev, ev->kind == ACTIVITY_EV_ESCALATION);
            s_set_str (props, "hs_task_subject", subject);
            s_set_str (props, "hs_task_body", summary);
            s_set_str (props, "hs_task_status", "NOT_STARTED");
            s_set_str (props, "hs_task_priority",
                       ev->kind == ACTIVITY_EV_ESCALATION ? "HIGH" : "MEDIUM");
            s_set_str (props, "hs_task_type", "TODO");
            break;
        case ACTIVITY_MEETING:
            ok = ev->kind == ACTIVITY_EV_TOUR_SCHEDULED;
            summary = s_summary (ev, false);
            stamp = ev->start_ms;
            s_set_str (props, "hs_meeting_title", subject);
            s_set_str (props, "hs_meeting_body", summary);
            s_set_time (props, "hs_meeting_start_time", ev->start_ms);
            s_set_time (props, "hs_meeting_end_time", ev->end_ms);
            s_set_str (props, "hs_meeting_location", ev->location);
            s_set_str (props, "hs_meeting_external_url", ev->confirmation_url);
            s_set_str (props, "hs_meeting_outcome", "SCHEDULED");
            break;
    }
    free (subject);
    free (summary);
    if (!ok) {
        json_decref (props);
        return NULL;
    }
    //  HubSpot wants hs_timestamp equal to the meeting's start.
    s_set_time (props, "hs_timestamp", stamp);
    s_set_str (props, "hubspot_owner_id", owner_id);
    json_t *assoc = json_array ();
    if (contact_id)
        json_array_append_new (assoc, s_association (kind, contact_id, false));
    if (deal_id)
        json_array_append_new (assoc, s_association (kind, deal_id, true));
    return json_pack ("{s:o, s:o}", "properties", props, "associations", assoc);
}

json_t *
activity_meeting_update_body (const activity_event_t *ev)
{
    json_t *props = json_object ();
    if (ev->kind == ACTIVITY_EV_TOUR_CANCELED)
        s_set_str (props, "hs_meeting_outcome", "CANCELED");
    else {
        char *summary = s_summary (ev, false);
        s_set_str (props, "hs_meeting_body", summary);
        free (summary);
        s_set_time (props, "hs_timestamp", ev->start_ms);
        s_set_time (props, "hs_meeting_start_time", ev->start_ms);
        s_set_time (props, "hs_meeting_end_time", ev->end_ms);
        s_set_str (props, "hs_meeting_location", ev->location);
        s_set_str (props, "hs_meeting_external_url", ev->confirmation_url);
        s_set_str (props, "hs_meeting_outcome", "RESCHEDULED");
    }
    return json_pack ("{s:o}", "properties", props);
}

//  -------------------------------------------------------------------
//  Conversation cache

void
activity_conv_init (activity_conv_t *conv, const char *conversation_id, const char *bird_id)
{
    memset (conv, 0, sizeof *conv);
    conv->conversation_id = zhub_strdup (conversation_id ? conversation_id : "");
    conv->bird_id = bird_id ? zhub_strdup (bird_id) : NULL;
}

void
activity_conv_clear (activity_conv_t *conv)
{
    free (conv->conversation_id);
    free (conv->bird_id);
    free (conv->note_id);
    for (size_t i = 0; i < conv->count; i++) {
        free (conv->lines[i].direction);
        free (conv->lines[i].text);
    }
    free (conv->lines);
    for (size_t i = 0; i < conv->seen_count; i++)
        free (conv->seen[i]);
    free (conv->seen);
    memset (conv, 0, sizeof *conv);
}

char *
activity_conv_encode (const activity_conv_t *conv)
{
    json_t *lines = json_array (), *seen = json_array ();
    for (size_t i = 0; i < conv->count; i++)
        json_array_append_new (lines, json_pack ("{s:s, s:s, s:I}", "d", conv->lines[i].direction,
                                                 "t", conv->lines[i].text, "at",
                                                 (json_int_t)conv->lines[i].sent_ms));
    for (size_t i = 0; i < conv->seen_count; i++)
        json_array_append_new (seen, json_string (conv->seen[i]));
    json_t *obj = json_pack ("{s:s, s:I, s:I, s:b, s:I, s:I, s:o, s:o}", "conversation_id",
                             conv->conversation_id, "updated", (json_int_t)conv->updated_ms,
                             "flushed", (json_int_t)conv->flushed_ms, "dirty", conv->dirty,
                             "flush_due", (json_int_t)conv->flush_due_ms, "dropped",
                             (json_int_t)conv->dropped, "lines", lines, "seen", seen);
    s_set_str (obj, "bird_contact_id", conv->bird_id);
    s_set_str (obj, "note_id", conv->note_id);
    char *text = json_dumps (obj, JSON_COMPACT);
    json_decref (obj);
    return text;
}

int
activity_conv_decode (const char *text, size_t size, activity_conv_t *conv)
{
    memset (conv, 0, sizeof *conv);
    json_error_t error;
    json_t *obj = json_loadb (text, size, 0, &error);
    const char *id = json_string_value (json_object_get (obj, "conversation_id"));
    const json_t *lines = json_object_get (obj, "lines"), *seen = json_object_get (obj, "seen");
    if (!json_is_object (obj) || !id || !json_is_array (lines) || !json_is_array (seen)) {
        json_decref (obj);
        return -1;
    }
    activity_conv_init (conv, id, json_string_value (json_object_get (obj, "bird_contact_id")));
    const char *note = json_string_value (json_object_get (obj, "note_id"));
    conv->note_id = note ? zhub_strdup (note) : NULL;
    conv->updated_ms = json_integer_value (json_object_get (obj, "updated"));
    conv->flushed_ms = json_integer_value (json_object_get (obj, "flushed"));
    conv->dirty = json_is_true (json_object_get (obj, "dirty"));
    conv->flush_due_ms = json_integer_value (json_object_get (obj, "flush_due"));
    conv->dropped = (size_t)json_integer_value (json_object_get (obj, "dropped"));
    size_t n = json_array_size (lines);
    conv->lines = zhub_calloc (n ? n : 1, sizeof *conv->lines);
    for (size_t i = 0; i < n; i++) {
        const json_t *line = json_array_get (lines, i);
        const char *d = json_string_value (json_object_get (line, "d"));
        const char *t = json_string_value (json_object_get (line, "t"));
        if (!d || !t)
            continue;
        activity_line_t *out = &conv->lines[conv->count++];
        out->direction = zhub_strdup (d);
        out->text = zhub_strdup (t);
        out->sent_ms = json_integer_value (json_object_get (line, "at"));
    }
    n = json_array_size (seen);
    conv->seen = zhub_calloc (ACTIVITY_SEEN_MAX, sizeof *conv->seen);
    for (size_t i = 0; i < n && conv->seen_count < ACTIVITY_SEEN_MAX; i++) {
        const char *s = json_string_value (json_array_get (seen, i));
        if (s)
            conv->seen[conv->seen_count++] = zhub_strdup (s);
    }
    json_decref (obj);
    return 0;
}

bool
activity_conv_append (activity_conv_t *conv, const char *event_id, const char *direction,
                      const char *text, int64_t sent_ms, int64_t now_ms)
{
    if (!conv->seen)
        conv->seen = zhub_calloc (ACTIVITY_SEEN_MAX, sizeof *conv->seen);
    for (size_t i = 0; event_id && i < conv->seen_count; i++)
        if (!strcmp (conv->seen[i], event_id))
            return false;
    if (event_id) {
        if (conv->seen_count == ACTIVITY_SEEN_MAX) {
            free (conv->seen[0]);
            memmove (conv->seen, conv->seen + 1, (ACTIVITY_SEEN_MAX - 1) * sizeof *conv->seen);
            conv->seen_count--;
        }
        conv->seen[conv->seen_count++] = zhub_strdup (event_id);
    }
    if (conv->count == ACTIVITY_TRANSCRIPT_MAX_LINES) {
        free (conv->lines[0].direction);
        free (conv->lines[0].text);
        memmove (conv->lines, conv->lines + 1, (conv->count - 1) * sizeof *conv->lines);
        conv->count--;
        conv->dropped++;
    }
    conv->lines = zhub_realloc (conv->lines, (conv->count + 1) * sizeof *conv->lines);
    activity_line_t *line = &conv->lines[conv->count++];
    line->direction = zhub_strdup (direction && !strcmp (direction, "out") ? "out" : "in");
    size_t n = strlen (text);
    if (n > ACTIVITY_TEXT_MAX) {
        //  Cut on a UTF-8 character boundary.
        n = ACTIVITY_TEXT_MAX;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    line->text = zhub_malloc (n + 1);
    memcpy (line->text, text, n);
    line->text[n] = 0;
    line->sent_ms = sent_ms;
    conv->updated_ms = now_ms;
    conv->dirty = true;
    return true;
}

char *
activity_transcript_html (const activity_conv_t *conv)
{
    //  Render each line, then keep the newest that fit.
    char **rendered = zhub_calloc (conv->count ? conv->count : 1, sizeof *rendered);
    size_t total = 0, first = conv->count;
    for (size_t i = conv->count; i-- > 0;) {
        const activity_line_t *line = &conv->lines[i];
        char when[40];
        zhub_time_format (line->sent_ms, when, sizeof when);
        char *text = activity_html_escape (line->text);
        rendered[i] =
            zhub_sprintf ("<p>[%s] <b>%s:</b> %s</p>", when,
                          !strcmp (line->direction, "out") ? "AI agent" : "Contact", text);
        free (text);
        size_t n = strlen (rendered[i]);
        if (total + n > ACTIVITY_NOTE_MAX - 512)
            break;
        total += n;
        first = i;
    }
    s_buf_t buf = {0};
    s_add (&buf, "<p><b>" ACTIVITY_SUBJECT_PREFIX "conversation.message</b></p>");
    char *id = activity_html_escape (conv->conversation_id);
    char *head = zhub_sprintf ("<p><b>Transcript of conversation</b> %s</p>", id);
    s_add (&buf, head);
    free (head);
    free (id);
    size_t omitted = conv->dropped + first;
    if (omitted) {
        char note[80];
        snprintf (note, sizeof note, "<p><i>%zu earlier message(s) omitted</i></p>", omitted);
        s_add (&buf, note);
    }
    for (size_t i = first; i < conv->count; i++)
        s_add (&buf, rendered[i]);
    for (size_t i = 0; i < conv->count; i++)
        free (rendered[i]);
    free (rendered);
    return buf.text;
}

activity_transcript_action_t
activity_transcript_decide (const activity_conv_t *conv, int64_t now_ms, int64_t interval_ms,
                            int64_t *due_ms)
{
    *due_ms = 0;
    if (!conv->note_id)
        return conv->count ? ACTIVITY_TRANSCRIPT_CREATE : ACTIVITY_TRANSCRIPT_NOTHING;
    if (!conv->dirty)
        return ACTIVITY_TRANSCRIPT_NOTHING;
    if (now_ms - conv->flushed_ms >= interval_ms)
        return ACTIVITY_TRANSCRIPT_UPDATE;
    *due_ms = conv->flushed_ms + interval_ms;
    return ACTIVITY_TRANSCRIPT_DEFER;
}

bool
activity_expired (int64_t updated_ms, int64_t now_ms, int64_t retention_ms)
{
    return retention_ms > 0 && updated_ms + retention_ms <= now_ms;
}

//  -------------------------------------------------------------------
//  Messages we publish

//  text cut to an envelope id's length (ids and subjects of ours stay
//  within it, as they always did; a fresh string).
static char *
s_bounded (char *text)
{
    if (strlen (text) > ZHUB_MSG_MAX_ID)
        text[ZHUB_MSG_MAX_ID] = 0;
    return text;
}

zhub_msg_t *
activity_logged_msg (const zhub_msg_t *input, const activity_event_t *ev, activity_kind_t kind,
                     const char *hubspot_id, int64_t now_ms, char *reason, size_t reason_size)
{
    char *id = s_bounded (zhub_sprintf (
        "al-%s-%s-%s", activity_kind_name (kind),
        ev->booking_id && kind == ACTIVITY_MEETING ? ev->booking_id : ev->event_id, hubspot_id));
    char *subject = s_bounded (zhub_sprintf ("contact:%s", ev->bird_id ? ev->bird_id : ""));
    json_t *data = json_pack ("{s:s, s:s, s:s}", "kind", activity_kind_name (kind), "hubspot_id",
                              hubspot_id, "event_type", ev->type);
    s_set_str (data, "conversation_id", ev->conversation_id);
    s_set_str (data, "bird_contact_id", ev->bird_id);
    s_set_str (data, "cause_id", ev->event_id);
    zhub_msg_t *msg = zhub_event_new ("activity.logged", id, ACTIVITY_LOG_SOURCE, subject, now_ms,
                                      input ? input->traceparent : NULL, data, reason, reason_size);
    json_decref (data);
    free (subject);
    free (id);
    return msg;
}

zhub_msg_t *
activity_flush_msg (const activity_conv_t *conv, int64_t due_ms, int64_t now_ms, char *reason,
                    size_t reason_size)
{
    char *id = s_bounded (zhub_sprintf ("al-flush-%" PRId64 "-%s", due_ms, conv->conversation_id));
    char *subject = s_bounded (zhub_sprintf ("transcript:%s", conv->conversation_id));
    json_t *data = json_pack ("{s:s, s:I}", "conversation_id", conv->conversation_id, "due",
                              (json_int_t)due_ms);
    zhub_msg_t *msg = zhub_event_new (ACTIVITY_FLUSH_TOPIC, id, ACTIVITY_LOG_SOURCE, subject,
                                      now_ms, NULL, data, reason, reason_size);
    if (msg)
        msg->deliver_at_ms = due_ms;
    json_decref (data);
    free (subject);
    free (id);
    return msg;
}
