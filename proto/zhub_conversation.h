//  Typed builders and parsers of the conversation events (the table is
//  zhub_catalogue.c; zhub_events.h holds the other typed events):
//
//  | event | build | parse | built in / read in |
//  |---|---|---|---|
//  | conversation.started | zhub_conversation_started_msg | | actors/conversation |
//  | conversation.message | zhub_conversation_message_msg | zhub_conversation_message_parse |
//  actors/conversation / actors/intent |
//  | conversation.ended | zhub_conversation_ended_msg | | actors/conversation |
//  | tour.requested | zhub_tour_requested_msg | | actors/intent (read in the scheduler) |
//
//  Builders go through zhub_event_new, so what they build keeps to the
//  catalogue or is not built (NULL with a reason). Every one of them says
//  who it is from (source) and gives the subject "contact:<bird id>".
//  Pure: no I/O.
#ifndef ZHUB_CONVERSATION_H
#define ZHUB_CONVERSATION_H

#include "zhub_catalogue.h"

#define ZHUB_CONVERSATION_STARTED_TOPIC "conversation.started"
#define ZHUB_CONVERSATION_MESSAGE_TOPIC "conversation.message"
#define ZHUB_CONVERSATION_ENDED_TOPIC "conversation.ended"
#define ZHUB_TOUR_REQUESTED_TOPIC "tour.requested"

typedef struct {
    char *conversation_id;
    char *bird_contact_id;
    char *channel;      //  "whatsapp", ...
    char *agent_type;   //  one of the catalogue's agent types, or NULL
    char *status;       //  NULL = absent (consumers read "active")
    int64_t started_ms; //  unix ms; < 0 = absent
} zhub_conversation_started_t;

zhub_msg_t *zhub_conversation_started_msg (const zhub_conversation_started_t *ev, const char *id,
                                           const char *source, const char *traceparent,
                                           int64_t time_ms, char *reason, size_t reason_size);

typedef struct {
    char *conversation_id;
    char *bird_contact_id;
    char *direction; //  "in" or "out"
    char *text;
    int64_t sent_ms;  //  unix ms
    char *message_id; //  the provider's id of the message, or NULL
    char *sender;     //  "contact", "ai", "agent", or NULL (unknown)
    char *channel;    //  or NULL
    char *phone;      //  E.164, or NULL
} zhub_conversation_message_t;

zhub_msg_t *zhub_conversation_message_msg (const zhub_conversation_message_t *ev, const char *id,
                                           const char *source, const char *traceparent,
                                           int64_t time_ms, char *reason, size_t reason_size);

//  Reads a conversation.message as its consumers need it: refuses
//  (ZHUB_REJECT, naming the field) one without a Bird contact (data or
//  subject), a direction other than in or out, a text that is not a
//  string, a sent_at that is not a time; conversation_id and message_id
//  are NULL when absent (older producers), sent_ms the envelope's time
//  when sent_at is absent. ZHUB_NOTFOUND for another type.
zhub_rc_t zhub_conversation_message_parse (const zhub_msg_t *msg, zhub_conversation_message_t *ev,
                                           char *reason, size_t reason_size);
void zhub_conversation_message_clear (zhub_conversation_message_t *ev);

typedef struct {
    char *conversation_id;
    char *bird_contact_id;
    int64_t ended_ms;
    char *reason; //  "closed", "deleted", "inactive", ...
} zhub_conversation_ended_t;

zhub_msg_t *zhub_conversation_ended_msg (const zhub_conversation_ended_t *ev, const char *id,
                                         const char *source, const char *traceparent,
                                         int64_t time_ms, char *reason, size_t reason_size);

#define ZHUB_TOUR_REQUESTED_MAX_TIMES 16

typedef struct {
    char *bird_contact_id;
    char *conversation_id; //  or NULL
    int64_t preferred_ms[ZHUB_TOUR_REQUESTED_MAX_TIMES];
    size_t preferred_count;                             //  1..16
    bool flexible;                                      //  no time was named: offer free slots
    int duration_min;                                   //  0 = absent (the scheduler's default)
    char *location, *notes, *phone, *name, *message_id; //  or NULL
} zhub_tour_requested_t;

//  The data of a tour.request (a new JSON object; times as RFC 3339 UTC
//  without milliseconds), for a message or for a held intent.workflow.due.
json_t *zhub_tour_requested_data (const zhub_tour_requested_t *ev);

zhub_msg_t *zhub_tour_requested_msg (const zhub_tour_requested_t *ev, const char *id,
                                     const char *source, const char *traceparent, int64_t time_ms,
                                     char *reason, size_t reason_size);

//  Time as the catalogue writes it in data: "2030-01-02T17:00:00Z" (UTC,
//  whole seconds).
void zhub_conversation_time (int64_t unix_ms, char *buf, size_t size);

#endif
