//  zhub-conversation, the conversation bridge: Bird's channel webhooks
//  (`<platform>.inbound`, `<platform>.outbound` with their delivery
//  statuses), its conversations webhooks (`conversation.created`,
//  `.updated`, `.deleted`) and WhatsApp Cloud's messages become the
//  catalogue's conversation.started, conversation.message and
//  conversation.ended. This is the pure core: it reads a delivery into a
//  conv_input_t (conversation_parse) and decides, from that and what the
//  store holds about the contact, what to publish and what to keep
//  (conversation_decide). No I/O; conversation_io.c runs the decisions.
//
//  The rules (docs/operations.md, "Conversations"):
//  - a conversation is open from its first message (or Bird's
//    conversation.created) until Bird closes or deletes it, or until a
//    message comes more than idle_gap after the last one: that message
//    ends it (conversation.ended, reason "inactive", at the last message's
//    time) and starts the next;
//  - its id is Bird's conversation id when Bird's conversations webhook
//    named it first, else "zc" + 32 hex derived from the first message's
//    provider id (channel messages carry no conversation id); a Bird
//    conversation named later is linked to the open one and ends it;
//  - one conversation.message per provider message, whatever number of
//    statuses and retries bring it (its id comes from the provider's
//    message id); an outbound message whose first status is a failure is
//    not published (the customer never read it);
//  - who wrote an outbound message: the participant type when the payload
//    names one (user: agent; flow, bot: ai), else who holds the
//    conversation (a human user among Bird's participants: agent).
#ifndef CONVERSATION_H
#define CONVERSATION_H

#include "zhub_conversation.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CONVERSATION_GROUP "conversation"
#define CONVERSATION_SOURCE "zhub/conversation"

//  Settings (conversation_io.c reads them from the environment).
#define CONVERSATION_IDLE_GAP_DEFAULT_MS (24LL * 3600 * 1000)   //  ZHUB_CONVERSATION_IDLE_GAP
#define CONVERSATION_RETENTION_DEFAULT_MS (90LL * 86400 * 1000) //  ZHUB_CONVERSATION_RETENTION
#define CONVERSATION_TEXT_MAX 4096 //  bytes of a message's text passed on (cut on a UTF-8 boundary)

typedef struct {
    int64_t idle_gap_ms;
    int64_t retention_ms;
} conversation_config_t;

typedef enum { CONV_MESSAGE = 1, CONV_CONVERSATION } conv_kind_t;

//  One delivery, read.
typedef struct {
    conv_kind_t kind;
    char *contact; //  the Bird contact id; for WhatsApp Cloud "+" + wa_id
    char *channel; //  "whatsapp", "sms", ... (messages; conversations: NULL)
    //  CONV_MESSAGE
    char *message_key; //  "bird:<id>" or "whatsapp:<wamid>": what names it for ids
    char *message_id;  //  the provider's id as sent
    bool outbound;
    char *text;
    char *sender; //  "contact", "ai", "agent", or NULL (not said)
    bool failed;  //  a failure status (sending_failed, delivery_failed, ...)
    char *phone;  //  E.164 when the channel names one
    int64_t sent_ms;
    //  CONV_CONVERSATION
    char *conversation_id; //  Bird's
    char *event;           //  "created", "updated", "deleted"
    bool closed;           //  status closed
    char *holder;          //  "agent" when a human user takes part, "ai" for a flow or bot
    int64_t at_ms;
} conv_input_t;

//  Reads a delivery of topic with data (the provider's envelope as the
//  gateway published it) and the envelope's time. ZHUB_OK; ZHUB_NOTFOUND
//  for what the bridge does not act on (another Bird service, a message
//  without a contact), with the reason; ZHUB_REJECT for a payload that
//  breaks the provider's documented shape (no id).
zhub_rc_t conversation_parse (const char *topic, const json_t *data, int64_t time_ms,
                              conv_input_t *in, char *reason, size_t reason_size);
void conv_input_clear (conv_input_t *in);

//  What the store keeps per contact.
typedef struct {
    char *conversation_id;      //  the open (or last) conversation
    char *bird_conversation_id; //  Bird's, when linked; else NULL
    char *channel;
    char *holder; //  "ai" / "agent" / NULL
    char *phone;
    bool open;
    int64_t started_ms, last_ms, last_in_ms; //  last_in_ms: 0 = never (WhatsApp's 24 h window)
} conv_state_t;

void conv_state_clear (conv_state_t *state);

//  The decision for one input.
typedef struct {
    conv_state_t next; //  to write when write_state
    bool write_state;
    bool record_message;    //  remember in->message_key as published
    zhub_msg_t *publish[3]; //  in this order: ended, started, message
    size_t publish_count;
    const char *outcome; //  for the log line
    char note[160];
} conv_plan_t;

void conv_plan_clear (conv_plan_t *plan);

//  Decides for in, given the contact's state (NULL: none kept) and
//  whether in's message was published before (seen). traceparent is
//  passed on. Returns ZHUB_OK (plan filled, maybe with nothing to do), or
//  ZHUB_REJECT with the reason in plan->note when an event cannot be
//  built (the catalogue refuses it).
zhub_rc_t conversation_decide (const conversation_config_t *config, const conv_input_t *in,
                               const conv_state_t *state, bool seen, const char *traceparent,
                               conv_plan_t *plan);

#endif
