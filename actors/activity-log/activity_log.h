//  activity-log's pure core: conversation events -> HubSpot engagements.
//  No I/O: it reads a message into activity_event_t, builds the bodies of
//  the engagement calls (notes, tasks, meetings with their associations),
//  keeps the transcript of a conversation and decides when the transcript
//  note is written. The I/O side (activity_log_io.c) makes the calls and
//  keeps the state in LMDB (activity_log_store.c).
//
//  Mapping (event catalogue in DESIGN.md):
//    conversation.started     -> NOTE
//    conversation.message     -> the conversation's transcript NOTE: one
//                                note per conversation, created with the
//                                first message and updated (PATCH) at most
//                                once per transcript interval
//    qualification.completed  -> TASK (NOT_STARTED, MEDIUM, TODO)
//    tour.scheduled           -> MEETING (start, end, SCHEDULED); the same
//                                booking again is a reschedule: PATCH
//    tour.canceled            -> the booking's MEETING gets outcome CANCELED
//    escalation.triggered     -> NOTE + TASK (HIGH) for the owner
//    tour.calendar_down       -> NOTE: the calendar was down, the contact
//                                got a Calendly link instead
//    contact.forget           -> GDPR erase: every record about the person
//                                is deleted, contact.forgotten answers
//  Every engagement is titled "AI Agent Activity: {event_type}", has the
//  event's time as hs_timestamp and is associated with the HubSpot contact
//  and, when known, the deal (HUBSPOT_DEFINED type ids from
//  https://developers.hubspot.com/docs/api/crm/understanding-the-crm and
//  github.com/HubSpot/HubSpot-public-api-spec-collection).
#ifndef ACTIVITY_LOG_H
#define ACTIVITY_LOG_H

#include "zhub_common.h"
#include "zhub_forget.h"
#include "zhub_msg.h"

#include <jansson.h>

#define ACTIVITY_LOG_GROUP "activity-log"
#define ACTIVITY_LOG_SOURCE "zhub/activity-log"
#define ACTIVITY_FLUSH_TOPIC "activity.transcript.flush"
#define ACTIVITY_SUBJECT_PREFIX "AI Agent Activity: "
//  hs_note_body holds at most 65,536 characters; the transcript keeps the
//  newest lines that fit well inside (HTML escaping can grow a line).
#define ACTIVITY_NOTE_MAX 60000
#define ACTIVITY_TRANSCRIPT_MAX_LINES 400 //  lines kept in the cache per conversation
#define ACTIVITY_TEXT_MAX 4000            //  characters kept of one message
#define ACTIVITY_SEEN_MAX 64              //  event ids remembered per conversation (redelivery)

typedef enum {
    ACTIVITY_EV_STARTED,
    ACTIVITY_EV_MESSAGE,
    ACTIVITY_EV_QUALIFIED,
    ACTIVITY_EV_TOUR_SCHEDULED,
    ACTIVITY_EV_TOUR_CANCELED,
    ACTIVITY_EV_ESCALATION,
    ACTIVITY_EV_CALENDAR_DOWN,  //  the scheduler sent a Calendly link instead
    ACTIVITY_EV_CONTACT_SYNCED, //  learn the HubSpot contact id
    ACTIVITY_EV_DEAL_STAGE,     //  learn the HubSpot deal id
    ACTIVITY_EV_FLUSH           //  our own transcript timer
} activity_event_kind_t;

typedef enum { ACTIVITY_NOTE, ACTIVITY_TASK, ACTIVITY_MEETING } activity_kind_t;

//  One event, read from a message. Strings are owned (NULL when absent).
typedef struct {
    activity_event_kind_t kind;
    char *type; //  the topic
    char *event_id;
    int64_t time_ms; //  the event's time (envelope time)
    char *bird_id;
    char *conversation_id;
    char *hubspot_contact_id;
    char *hubspot_deal_id;
    char *channel, *agent_type; //  started
    char *direction, *text;     //  message
    int64_t sent_ms;            //  message: sent_at, else time_ms
    int64_t score;              //  qualification: -1 when absent
    int qualified;              //  -1 absent, 0, 1
    char *property_interest;    //  qualification
    char *booking_id, *platform, *calendar_event_id, *confirmation_url, *location, *agent_id;
    int64_t start_ms, end_ms;           //  tour
    char *reason, *priority, *owner_id; //  escalation (reason: also calendar down)
    int64_t due_ms;                     //  flush: when its timer was due; -1 when absent
} activity_event_t;

//  Reads msg as an event of kind (its route's): data is msg's data as
//  JSON, decoded once by the runtime (NULL when it has none: refused).
//  tour.* go through zhub_tour_parse_data, contact.synced and
//  deal.stage_changed through their parsers in zhub_events.h; the others
//  have none there and are read here. ZHUB_OK with *event filled;
//  ZHUB_REJECT when a required field is missing or malformed. The caller
//  clears event in every case.
zhub_rc_t activity_read (activity_event_kind_t kind, const zhub_msg_t *msg, const json_t *data,
                         activity_event_t *event, char *reason, size_t reason_size);

//  A message read back from the store (a parked event): its kind from its
//  type, its data decoded here, then activity_read. ZHUB_NOTFOUND for a
//  topic activity-log does not log (reason says so).
zhub_rc_t activity_parse (const zhub_msg_t *msg, activity_event_t *event, char *reason,
                          size_t reason_size);
void activity_event_clear (activity_event_t *event);

//  "note", "task", "meeting".
const char *activity_kind_name (activity_kind_t kind);

//  The association type id from an engagement to a contact or a deal.
int activity_association_type (activity_kind_t kind, bool to_deal);

//  Escapes text for an HTML note body (& < > " '), newlines become <br>.
//  Fresh string.
char *activity_html_escape (const char *text);

//  Body of the create call for one engagement of an event:
//  {"properties":{…},"associations":[…]}. deal_id may be NULL; owner_id
//  NULL leaves hubspot_owner_id out. For ESCALATION, kind NOTE gives the
//  note and TASK the high-priority task. Fresh reference, or NULL when the
//  event has no such engagement.
json_t *activity_engagement_body (const activity_event_t *event, activity_kind_t kind,
                                  const char *contact_id, const char *deal_id,
                                  const char *owner_id);

//  Body of the PATCH that moves or cancels a booking's meeting:
//  {"properties":{…}}. Fresh reference.
json_t *activity_meeting_update_body (const activity_event_t *event);

//  -------------------------------------------------------------------
//  The conversation cache and the transcript note

typedef struct {
    char *direction; //  "in" / "out"
    char *text;
    int64_t sent_ms;
} activity_line_t;

typedef struct {
    char *conversation_id;
    char *bird_id;
    char *note_id;        //  the transcript note in HubSpot, or NULL
    int64_t updated_ms;   //  last message seen (retention counts from here)
    int64_t flushed_ms;   //  last write of the transcript note (0 = never)
    bool dirty;           //  lines newer than the note
    int64_t flush_due_ms; //  0 = no flush timer pending, else when it fires
    size_t dropped;       //  oldest lines let go to stay within the limits
    activity_line_t *lines;
    size_t count;
    char **seen; //  newest event ids appended, ring of ACTIVITY_SEEN_MAX
    size_t seen_count;
} activity_conv_t;

void activity_conv_init (activity_conv_t *conv, const char *conversation_id, const char *bird_id);
void activity_conv_clear (activity_conv_t *conv);

//  JSON text <-> conversation. encode returns a fresh string; decode
//  returns 0 or -1 (conv cleared) for text that is not a conversation.
char *activity_conv_encode (const activity_conv_t *conv);
int activity_conv_decode (const char *text, size_t size, activity_conv_t *conv);

//  Appends a message line unless event_id was appended before (a
//  redelivery). Returns true when it appended. Drops the oldest lines
//  beyond ACTIVITY_TRANSCRIPT_MAX_LINES.
bool activity_conv_append (activity_conv_t *conv, const char *event_id, const char *direction,
                           const char *text, int64_t sent_ms, int64_t now_ms);

//  The transcript note's body: "AI Agent Activity: conversation.message",
//  then one line per message, newest last, cut to ACTIVITY_NOTE_MAX
//  (oldest lines first). Fresh string.
char *activity_transcript_html (const activity_conv_t *conv);

typedef enum {
    ACTIVITY_TRANSCRIPT_NOTHING, //  the note is up to date
    ACTIVITY_TRANSCRIPT_CREATE,  //  no note yet: create it now
    ACTIVITY_TRANSCRIPT_UPDATE,  //  PATCH the note now
    ACTIVITY_TRANSCRIPT_DEFER    //  written less than interval ago: wait until *due_ms
} activity_transcript_action_t;

//  Coalescing: the first message creates the note at once; later ones
//  update it at most once per interval_ms, so a burst of N messages costs
//  one create and one update. Pure.
activity_transcript_action_t activity_transcript_decide (const activity_conv_t *conv,
                                                         int64_t now_ms, int64_t interval_ms,
                                                         int64_t *due_ms);

//  True when something last touched at updated_ms is past retention.
bool activity_expired (int64_t updated_ms, int64_t now_ms, int64_t retention_ms);

//  activity.logged for an engagement made for input (input may be NULL),
//  built by zhub_event_new: id "al-<kind>-<event id, or the booking for a
//  meeting>-<hubspot id>" and subject "contact:<bird id>", each cut to an
//  envelope id's length as they always were. A fresh message, or NULL with
//  a reason when it would break the catalogue (no Bird contact, an id
//  longer than the catalogue takes).
zhub_msg_t *activity_logged_msg (const zhub_msg_t *input, const activity_event_t *event,
                                 activity_kind_t kind, const char *hubspot_id, int64_t now_ms,
                                 char *reason, size_t reason_size);

//  The transcript timer message (topic ACTIVITY_FLUSH_TOPIC, id
//  "al-flush-<due>-<conversation>", subject "transcript:<conversation>",
//  data {conversation_id, due}), built by zhub_event_new, with deliverat
//  due_ms: the broker holds it until then (PROTOCOL.md 6.3), so the timer
//  is durable and costs no delivery attempt. A fresh message, or NULL with
//  a reason as above.
zhub_msg_t *activity_flush_msg (const activity_conv_t *conv, int64_t due_ms, int64_t now_ms,
                                char *reason, size_t reason_size);

#endif
