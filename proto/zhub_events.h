//  Typed builders and parsers for the catalogue events that more than one
//  place builds or reads (zhub_catalogue.h has the table, zhub_forget.h
//  contact.forget). A builder takes a struct and returns the message
//  through zhub_event_new, so what it builds keeps to the catalogue or is
//  not built; a parser turns a delivered message into the struct.
//
//  Parsers read what the consumers of today accept, so that moving a
//  consumer onto one changes no outcome: the Bird contact comes from
//  data.bird_contact_id or else from the subject "contact:<id>"; ids may
//  be strings or integers (kept as decimal text); a field the catalogue
//  requires of producers but the consumer can do without is left NULL
//  (or -1) instead of refused. A parser refuses (ZHUB_REJECT, the reason
//  naming the field) what no consumer can act on, and answers
//  ZHUB_NOTFOUND for a type it does not read. Free what a parser or a
//  caller filled with the matching _clear (NULL-safe, idempotent).
//
//  Each parser comes in two forms. _parse_data reads the data it is handed:
//  the message's data as JSON, decoded once by whoever holds the message
//  (an actor's runtime decodes each delivery once and hands it to the
//  handler), so the envelope gives only the type and the subject; data
//  NULL means "not decoded": it is decoded here (a message whose data has
//  no JSON form is then refused, as data that is not a map). _parse is
//  _parse_data with data NULL.
//
//  | event | build | parse | today built in / read in |
//  |---|---|---|---|
//  | contact.synced | zhub_contact_synced_msg | zhub_contact_synced_parse | contact_sync_event.c,
//  contact_sync_batch.c / deal_sync_io.c, activity_log.c | | deal.stage_changed |
//  zhub_deal_stage_msg | zhub_deal_stage_parse | deal_sync.c / activity_log.c | | tour.scheduled,
//  .canceled, .reminder | zhub_tour_msg | zhub_tour_parse | scheduler_messages.c,
//  scheduler_timers.c / deal_sync.c, activity_log.c, scheduler_io.c | | conversation.stage_changed,
//  qualification.completed | | zhub_ai_stage_parse | Bird / deal_sync.c, activity_log.c |
//
//  Pure: no I/O.
#ifndef ZHUB_EVENTS_H
#define ZHUB_EVENTS_H

#include "zhub_catalogue.h"

#define ZHUB_CONTACT_SYNCED_TOPIC "contact.synced"
#define ZHUB_DEAL_STAGE_TOPIC "deal.stage_changed"
#define ZHUB_TOUR_SCHEDULED_TOPIC "tour.scheduled"
#define ZHUB_TOUR_CANCELED_TOPIC "tour.canceled"
#define ZHUB_TOUR_REMINDER_TOPIC "tour.reminder"
#define ZHUB_TOUR_CALENDAR_DOWN_TOPIC "tour.calendar_down"
#define ZHUB_STAGE_CHANGED_TOPIC "conversation.stage_changed"
#define ZHUB_QUALIFICATION_TOPIC "qualification.completed"

//  -------------------------------------------------------------------
//  contact.synced (contact-sync, source zhub/contact-sync)

typedef struct {
    char *bird_contact_id;    //  parse: never NULL
    char *hubspot_contact_id; //  parse: NULL when absent (deal-sync then has nothing to learn)
    char **changed;           //  field names written
    size_t changed_count;
    char *direction; //  "bird_to_hubspot" or "hubspot_to_bird"; parse: NULL when absent
    char *cause_id;  //  NULL when absent
} zhub_contact_synced_t;

//  contact.synced for ev with envelope id id (zhub_id_derive ("cs-", the
//  cause's id, 16)), subject "contact:<bird_contact_id>". A new message,
//  or NULL with a reason when ev breaks the catalogue.
zhub_msg_t *zhub_contact_synced_msg (const zhub_contact_synced_t *ev, const char *id,
                                     const char *traceparent, int64_t time_ms, char *reason,
                                     size_t reason_size);

//  Refuses a message that names no Bird contact, or whose changed is not
//  an array of strings.
zhub_rc_t zhub_contact_synced_parse (const zhub_msg_t *msg, zhub_contact_synced_t *ev, char *reason,
                                     size_t reason_size);
zhub_rc_t zhub_contact_synced_parse_data (const zhub_msg_t *msg, const json_t *data,
                                          zhub_contact_synced_t *ev, char *reason,
                                          size_t reason_size);
void zhub_contact_synced_clear (zhub_contact_synced_t *ev);

//  -------------------------------------------------------------------
//  deal.stage_changed (deal-sync, source zhub/deal-sync)

typedef struct {
    char *hubspot_deal_id;
    char *bird_contact_id;
    char *stage; //  the HubSpot pipeline stage id
    char *by;    //  "ai" or "crm"
    char *cause_id;
    char *hubspot_contact_id; //  NULL when unknown
    char *ai_stage;           //  NULL when no AI stage maps to stage
} zhub_deal_stage_t;

//  deal.stage_changed for ev, id zhub_id_derive ("ds-", cause_id, 16),
//  subject "contact:<bird_contact_id>"; NULL with a reason as above.
zhub_msg_t *zhub_deal_stage_msg (const zhub_deal_stage_t *ev, const char *id,
                                 const char *traceparent, int64_t time_ms, char *reason,
                                 size_t reason_size);

//  Refuses a message that names no Bird contact. The other fields are
//  NULL when absent (activity-log needs only the contact and the deal).
zhub_rc_t zhub_deal_stage_parse (const zhub_msg_t *msg, zhub_deal_stage_t *ev, char *reason,
                                 size_t reason_size);
zhub_rc_t zhub_deal_stage_parse_data (const zhub_msg_t *msg, const json_t *data,
                                      zhub_deal_stage_t *ev, char *reason, size_t reason_size);
void zhub_deal_stage_clear (zhub_deal_stage_t *ev);

//  -------------------------------------------------------------------
//  tour.scheduled, tour.canceled, tour.reminder (scheduler, source
//  zhub/scheduler)

typedef struct {
    char *booking_id;
    char *bird_contact_id;
    int64_t start_ms, end_ms; //  unix ms; parse: -1 when absent
    char *platform;           //  "google", "graph", "calendly", or NULL
    char *calendar_event_id, *confirmation_url, *agent_id, *conversation_id, *location;
    int64_t reminder;  //  tour.reminder: which reminder (0 = the first); else -1
    int64_t before_ms; //  tour.reminder: how long before the start
} zhub_tour_t;

//  The message of type (one of the three) for t, with the scheduler's id
//  ("<type>-<booking>-<salt>"), subject "contact:<bird_contact_id>"; times
//  written as RFC 3339 with milliseconds; reminder and before_ms only for
//  tour.reminder. NULL with a reason as above.
zhub_msg_t *zhub_tour_msg (const char *type, const zhub_tour_t *t, const char *id,
                           const char *traceparent, int64_t time_ms, char *reason,
                           size_t reason_size);

//  Reads the three types (ZHUB_NOTFOUND for any other). Times may be RFC
//  3339 or unix ms (older producers). Refuses a message without a Bird
//  contact or booking_id, and a tour.scheduled without start and an end
//  not before it (activity-log writes the meeting from them).
zhub_rc_t zhub_tour_parse (const zhub_msg_t *msg, zhub_tour_t *t, char *reason, size_t reason_size);
zhub_rc_t zhub_tour_parse_data (const zhub_msg_t *msg, const json_t *data, zhub_tour_t *t,
                                char *reason, size_t reason_size);
void zhub_tour_clear (zhub_tour_t *t);

//  -------------------------------------------------------------------
//  conversation.stage_changed and qualification.completed (Bird's AI)

typedef struct {
    char *bird_contact_id;
    char *conversation_id;   //  NULL when absent
    char *agent_type;        //  NULL when absent
    char *property_interest; //  NULL when absent
    char *stage;             //  conversation.stage_changed: one of the catalogue's stages;
                             //  qualification.completed: qualified or unqualified
    int score;               //  qualification_score (or score), rounded: 0..100; -1 when absent
    int qualified;           //  qualification.completed: 1 or 0; -1 otherwise
} zhub_ai_stage_t;

//  Reads either type, as deal-sync does: refuses a message without a Bird
//  contact, a score that is not a number 0..100, a stage the catalogue
//  does not list, a qualification.completed whose qualified is not a
//  boolean. ZHUB_NOTFOUND for other types.
zhub_rc_t zhub_ai_stage_parse (const zhub_msg_t *msg, zhub_ai_stage_t *ev, char *reason,
                               size_t reason_size);
zhub_rc_t zhub_ai_stage_parse_data (const zhub_msg_t *msg, const json_t *data, zhub_ai_stage_t *ev,
                                    char *reason, size_t reason_size);
void zhub_ai_stage_clear (zhub_ai_stage_t *ev);

#endif
