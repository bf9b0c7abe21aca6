//  The event catalogue (see zhub_catalogue.h): s_catalogue is the one
//  table of every event on the bus, with its lookup. The check and
//  zhub_event_new (zhub_catalogue_check.c) read nothing else, and
//  docs/events.md is held to it by a test. Data, no logic: adding an
//  event is adding an entry here.
#include "zhub_catalogue.h"

#include <string.h>

//  -------------------------------------------------------------------
//  The values of the enums

static const char *const s_stages[] = {"lead",           "qualified",   "tour_scheduled",
                                       "tour_completed", "application", "lease_signed",
                                       "unqualified",    NULL};
static const char *const s_agent_types[] = {"qualifier", "warmer", "scheduler", "followup", NULL};
static const char *const s_in_out[] = {"in", "out", NULL};
static const char *const s_senders[] = {"contact", "ai", "agent", NULL};
static const char *const s_sync_directions[] = {"bird_to_hubspot", "hubspot_to_bird", NULL};
static const char *const s_by[] = {"ai", "crm", NULL};
static const char *const s_engagements[] = {"note", "task", "meeting", NULL};
static const char *const s_platforms[] = {"google", "graph", "calendly", NULL};
static const char *const s_calendars[] = {"google", "graph", NULL};
static const char *const s_intents[] = {
    "tour_request", "pricing", "availability", "human", "opt_out", "other", NULL};
static const char *const s_deciders[] = {"rules", "ai", NULL};
static const char *const s_dlq_causes[] = {"terminal", "max_deliveries", NULL};
static const char *const s_workflows[] = {"tour.requested", "escalation.triggered",
                                          "contact.opted_out", NULL};

//  -------------------------------------------------------------------
//  Fields

#define REQ true
#define OPT false
#define F_STR(n, r, a)                                                                             \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_STRING, .required = r, .about = a                            \
    }
#define F_STR_IN(n, r, lo, hi, a)                                                                  \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_STRING, .required = r, .bounded = true, .min = lo,           \
        .max = hi, .about = a                                                                      \
    }
#define F_ID(n, r, a)                                                                              \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_ID, .required = r, .about = a                                \
    }
#define F_INT(n, r, a)                                                                             \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_INTEGER, .required = r, .about = a                           \
    }
#define F_COUNT(n, r, a)                                                                           \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_INTEGER, .required = r, .bounded = true, .min = 0,           \
        .max = 9007199254740991.0, .about = a                                                      \
    }
#define F_INT_IN(n, r, lo, hi, a)                                                                  \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_INTEGER, .required = r, .bounded = true, .min = lo,          \
        .max = hi, .about = a                                                                      \
    }
#define F_NUM_IN(n, r, lo, hi, a)                                                                  \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_NUMBER, .required = r, .bounded = true, .min = lo,           \
        .max = hi, .about = a                                                                      \
    }
#define F_BOOL(n, r, a)                                                                            \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_BOOLEAN, .required = r, .about = a                           \
    }
#define F_TIME(n, r, a)                                                                            \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_TIME, .required = r, .about = a                              \
    }
#define F_ENUM(n, r, v, a)                                                                         \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_ENUM, .required = r, .values = v, .about = a                 \
    }
#define F_OBJ(n, r, a)                                                                             \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_OBJECT, .required = r, .about = a                            \
    }
#define F_ARR(n, r, it, a)                                                                         \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_ARRAY, .item = it, .required = r, .about = a                 \
    }
#define F_ARR_IN(n, r, it, lo, hi, a)                                                              \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_ARRAY, .item = it, .required = r, .bounded = true,           \
        .min = lo, .max = hi, .about = a                                                           \
    }
#define F_BYTES(n, r, a)                                                                           \
    {                                                                                              \
        .name = n, .kind = ZHUB_FIELD_BYTES, .required = r, .about = a                             \
    }
#define F_END                                                                                      \
    {                                                                                              \
        .name = NULL                                                                               \
    }

#define BIRD_ID(r) F_ID ("bird_contact_id", r, "the Bird contact")
#define CONVERSATION_ID(r) F_ID ("conversation_id", r, "the Bird conversation")

static const zhub_field_t s_none[] = {F_END};

static const zhub_field_t s_google_changed[] = {
    F_STR ("channel_id", REQ, "the watch channel (X-Goog-Channel-ID), one per calendar"),
    F_STR ("resource_id", REQ, "the watched calendar's resource (X-Goog-Resource-ID)"),
    F_STR ("resource_state", REQ, "exists or not_exists (sync notifications are not published)"),
    F_COUNT ("message_number", REQ, "X-Goog-Message-Number: grows with each notification"),
    F_STR ("resource_uri", OPT, "X-Goog-Resource-URI, when under 2048 bytes"),
    F_STR ("channel_expiration", OPT, "X-Goog-Channel-Expiration as Google writes it (RFC 1123)"),
    F_END};

static const zhub_field_t s_whatsapp_message[] = {
    F_ID ("entry_id", OPT, "the WhatsApp Business Account of the entry"),
    F_STR ("field", REQ, "the change's field: messages"),
    F_OBJ ("metadata", OPT, "the change's metadata (display_phone_number, phone_number_id)"),
    F_OBJ ("contact", OPT, "the change's contacts[] entry of the customer (profile, wa_id)"),
    F_OBJ ("message", REQ, "one item of the change's messages[], as Meta sent it"),
    F_END};

static const zhub_field_t s_whatsapp_status[] = {
    F_ID ("entry_id", OPT, "the WhatsApp Business Account of the entry"),
    F_STR ("field", REQ, "the change's field: messages"),
    F_OBJ ("metadata", OPT, "the change's metadata (display_phone_number, phone_number_id)"),
    F_OBJ ("contact", OPT, "the change's contacts[] entry of the customer, when sent"),
    F_OBJ ("status", REQ, "one item of the change's statuses[] (id, status, recipient_id, ...)"),
    F_END};

static const zhub_field_t s_conversation_started[] = {
    CONVERSATION_ID (REQ),
    BIRD_ID (REQ),
    F_STR ("channel", REQ, "the channel it runs on: whatsapp, ..."),
    F_ENUM ("agent_type", OPT, s_agent_types, "the AI agent that holds it, when one does"),
    F_STR ("status", OPT,
           "the conversation's status for HubSpot's ai_conversation_status (default active)"),
    F_TIME ("started_at", OPT, "when it began: its first message, or Bird's conversation"),
    F_END};

static const zhub_field_t s_conversation_message[] = {
    CONVERSATION_ID (REQ),
    BIRD_ID (REQ),
    F_ENUM ("direction", REQ, s_in_out, "in: from the contact; out: to the contact"),
    F_STR ("text", REQ, "the message's text"),
    F_TIME ("sent_at", REQ, "when it was sent"),
    F_ID ("message_id", OPT, "Bird's id of the message"),
    F_ENUM ("sender", OPT, s_senders, "who wrote it: the contact, the AI agent or a human agent"),
    F_STR ("channel", OPT, "the channel it came or went on: whatsapp, ..."),
    F_STR ("phone", OPT, "the contact's phone (E.164), when the channel names one"),
    F_END};

static const zhub_field_t s_conversation_ended[] = {
    CONVERSATION_ID (REQ), BIRD_ID (REQ), F_TIME ("ended_at", REQ, "when it ended"),
    F_STR ("reason", REQ, "why it ended: closed in Bird, inactive, ..."), F_END};

static const zhub_field_t s_stage_changed[] = {
    BIRD_ID (REQ),
    CONVERSATION_ID (REQ),
    F_ENUM ("stage", REQ, s_stages, "the stage the AI agent moved the conversation to"),
    F_ENUM ("agent_type", OPT, s_agent_types, "the agent that moved it"),
    F_NUM_IN ("qualification_score", OPT, 0, 100, "the lead's score (deal-sync also reads score)"),
    F_STR ("property_interest", OPT, "the property the contact asks about"),
    F_END};

static const zhub_field_t s_qualification[] = {
    CONVERSATION_ID (REQ),
    BIRD_ID (REQ),
    F_NUM_IN ("score", REQ, 0, 100, "the lead's score"),
    F_BOOL ("qualified", REQ, "the verdict: qualified or unqualified stage"),
    F_STR ("property_interest", OPT, "the property the contact asks about"),
    F_END};

static const zhub_field_t s_escalation[] = {
    CONVERSATION_ID (REQ), BIRD_ID (REQ), F_STR ("reason", REQ, "why a human is needed"),
    F_STR ("priority", OPT, "how urgent: low, normal, high, ..."),
    F_ID ("message_id", OPT, "the inbound message that asked for it, when one did"), F_END};

static const zhub_field_t s_intent[] = {
    F_ID ("message_id", REQ, "Bird's id of the inbound message classified"),
    CONVERSATION_ID (REQ),
    BIRD_ID (REQ),
    F_ENUM ("intent", REQ, s_intents, "what the contact wants"),
    F_NUM_IN ("confidence", REQ, 0, 1, "how sure the decision is"),
    F_ENUM ("decided_by", REQ, s_deciders, "the language's rule table, or the AI classifier"),
    F_STR ("language", REQ, "the language the message was read in (BCP 47: es, en, ...)"),
    F_STR ("ai_error", OPT,
           "why the AI classifier did not decide although one is configured (timeout, HTTP 503, "
           "an answer that is not an intent): the rules did"),
    F_END};

static const zhub_field_t s_intent_due[] = {
    F_ID ("message_id", REQ, "Bird's id of the inbound message classified"),
    CONVERSATION_ID (REQ),
    BIRD_ID (REQ),
    F_ENUM ("workflow", REQ, s_workflows, "the event to publish unless another producer did"),
    F_OBJ ("event", REQ, "that event's data"),
    F_TIME ("since", REQ, "the message's time: the same event from another producer since then "
                          "(less the hold) stands for this one"),
    F_END};

static const zhub_field_t s_opted_out[] = {
    BIRD_ID (REQ), CONVERSATION_ID (REQ),
    F_ID ("message_id", REQ, "Bird's id of the message that opted out"),
    F_STR ("channel", REQ, "the channel the contact left: whatsapp, ..."), F_END};

static const zhub_field_t s_tour_requested[] = {
    BIRD_ID (REQ),
    CONVERSATION_ID (OPT),
    F_ARR_IN ("preferred_times", REQ, ZHUB_FIELD_TIME, 1, 16,
              "the times asked for, best first (flexible: only when the contact asked)"),
    F_INT_IN ("duration_min", OPT, 5, 480, "the tour's length (default: the scheduler's)"),
    F_STR ("location", OPT, "the property to visit"),
    F_STR ("leasing_agent_id", OPT, "the agent asked for (one of the scheduler's agents)"),
    F_STR ("notes", OPT, "for the agent"),
    F_STR ("phone", OPT, "where to send the WhatsApp confirmation"),
    F_STR ("name", OPT, "the contact's name, for the calendar event"),
    F_BOOL ("flexible", OPT,
            "true: the contact named no time; offer free slots from preferred_times on"),
    F_ID ("message_id", OPT, "the inbound message it was read from, when the intent router read it"),
    F_END};

static const zhub_field_t s_contact_synced[] = {
    BIRD_ID (REQ),
    F_ID ("hubspot_contact_id", REQ, "the HubSpot contact"),
    F_ARR ("changed", REQ, ZHUB_FIELD_STRING, "the fields written (HubSpot or Bird names)"),
    F_ENUM ("direction", REQ, s_sync_directions, "which way the change went"),
    F_STR ("cause_id", OPT, "the id of the message that caused it"),
    F_END};

static const zhub_field_t s_reconcile[] = {
    F_TIME ("since", OPT, "look at contacts changed since then (default: the last watermark)"),
    F_END};

static const zhub_field_t s_reconciled[] = {
    F_COUNT ("found", REQ, "contacts HubSpot listed as changed"),
    F_COUNT ("drift", REQ, "of those, changes no webhook had brought"),
    F_COUNT ("drift_total", REQ, "drift found since the store was made"),
    F_TIME ("since", REQ, "where the pass started"),
    F_TIME ("watermark", REQ, "the last change seen: where the next pass starts"),
    F_END};

static const zhub_field_t s_deal_stage[] = {
    F_ID ("hubspot_deal_id", REQ, "the HubSpot deal"),
    BIRD_ID (REQ),
    F_STR ("stage", REQ, "the deal's new HubSpot pipeline stage id"),
    F_ENUM ("by", REQ, s_by, "ai: an AI event moved it; crm: a person in HubSpot did"),
    F_STR ("cause_id", REQ, "the id of the event that caused it"),
    F_ID ("hubspot_contact_id", OPT, "the HubSpot contact, when known"),
    F_ENUM ("ai_stage", OPT, s_stages, "the AI stage that maps to stage, when one does"),
    F_END};

static const zhub_field_t s_activity_logged[] = {
    F_ENUM ("kind", REQ, s_engagements, "the HubSpot engagement written"),
    F_ID ("hubspot_id", REQ, "its HubSpot id"),
    F_STR ("event_type", REQ, "the type of the event logged"),
    BIRD_ID (REQ),
    CONVERSATION_ID (OPT),
    F_STR ("cause_id", OPT, "the id of the event logged"),
    F_END};

static const zhub_field_t s_transcript_flush[] = {
    CONVERSATION_ID (REQ),
    F_COUNT ("due", REQ, "unix ms when the coalesced transcript is to be written"), F_END};

#define TOUR_FIELDS                                                                                \
    F_ID ("booking_id", REQ, "the booking (bk + 32 hex, from the tour.requested id)"),             \
        BIRD_ID (REQ), F_TIME ("start", REQ, "the tour's start"),                                  \
        F_TIME ("end", REQ, "the tour's end"),                                                     \
        F_ENUM ("platform", OPT, s_platforms, "where the calendar event lives"),                   \
        F_STR ("calendar_event_id", OPT, "the event's id on that platform"),                       \
        F_STR ("confirmation_url", OPT, "the link the contact got"),                               \
        F_STR ("agent_id", OPT, "the leasing agent"), CONVERSATION_ID (OPT),                       \
        F_STR ("location", OPT, "the property")

static const zhub_field_t s_tour[] = {TOUR_FIELDS, F_END};

static const zhub_field_t s_tour_reminder[] = {
    TOUR_FIELDS, F_COUNT ("reminder", REQ, "which reminder of the booking: 0 for the first"),
    F_INT ("before_ms", REQ, "how long before the start it fires"), F_END};

static const zhub_field_t s_tour_unavailable[] = {
    F_ID ("booking_id", REQ, "the booking that could not be made"),
    BIRD_ID (REQ),
    F_STR ("reason", REQ, "why"),
    F_ARR ("requested", REQ, ZHUB_FIELD_TIME, "the preferred times asked for"),
    F_ARR ("alternatives", REQ, ZHUB_FIELD_OBJECT, "free slots to offer: {start, end, agent_id}"),
    CONVERSATION_ID (OPT),
    F_STR ("location", OPT, "the property"),
    F_END};

static const zhub_field_t s_tour_calendar_down[] = {
    F_ID ("booking_id", REQ, "the booking (bk + 32 hex, from the tour.requested id)"),
    BIRD_ID (REQ),
    F_ENUM ("platform", REQ, s_calendars, "the calendar that failed"),
    F_STR ("reason", REQ, "the call that failed and how (\"google freeBusy: HTTP 503\")"),
    F_STR ("confirmation_url", REQ, "the single-use Calendly link sent to the contact instead"),
    CONVERSATION_ID (OPT),
    F_STR ("location", OPT, "the property"),
    F_END};

//  The scheduler's timers: messages to itself, held by the broker until due
#define TIMER_FIELDS                                                                               \
    F_COUNT ("due", REQ, "unix ms when the timer is due"),                                         \
        F_COUNT ("hop", OPT, "held again how many times: a timer due beyond the broker's limit")

static const zhub_field_t s_timer_reminder[] = {
    F_ID ("booking_id", REQ, "the booking"),
    F_COUNT ("reminder", REQ, "which reminder of the booking: 0 for the first"),
    F_TIME ("start", REQ, "the tour's start it was armed for (a moved tour has other reminders)"),
    TIMER_FIELDS, F_END};

static const zhub_field_t s_timer_reconcile[] = {
    F_TIME ("since", REQ, "the since of the contact.reconcile it publishes"), TIMER_FIELDS, F_END};

static const zhub_field_t s_timer_token[] = {
    F_ENUM ("provider", REQ, s_calendars, "whose OAuth token to refresh"), TIMER_FIELDS, F_END};

static const zhub_field_t s_timer_watch[] = {
    F_ENUM ("platform", REQ, s_calendars, "the calendar's platform"),
    F_STR ("target", REQ, "the Google calendar id or Graph mailbox"), TIMER_FIELDS, F_END};

static const zhub_field_t s_erase[] = {
    F_STR_IN ("request", REQ, 1, 200, "names the erase (printable, no |)"),
    F_STR_IN ("identifier", REQ, 1, 254, "a phone, e-mail, HubSpot or Bird id"),
    F_BOOL ("upstream", OPT, "delete in HubSpot and Bird too"), F_END};

static const zhub_field_t s_forget[] = {
    F_STR_IN ("request", REQ, 1, 200, "names the erase"),
    F_ID ("bird_contact_id", OPT, "the Bird contact, when known"),
    F_ID ("hubspot_contact_id", OPT, "the HubSpot contact, when known"),
    F_STR ("phone", OPT, "E.164, when known"),
    F_STR ("email", OPT, "when known"),
    F_ARR_IN ("identifiers", REQ, ZHUB_FIELD_ID, 0, 256,
              "every identifier of the person, the phone with and without +"),
    F_BOOL ("upstream", OPT, "delete in outside systems too (calendar events, ...)"),
    F_END};

static const zhub_field_t s_forgotten[] = {
    F_STR ("request", REQ, "the erase answered"),
    F_STR ("actor", REQ,
           "who answers: deal-sync, activity-log, scheduler, dead-letter, conversation, intent"),
    F_COUNT ("removed", REQ, "records deleted"), F_END};

static const zhub_field_t s_erased[] = {F_STR ("request", REQ, "the erase answered"),
                                        F_COUNT ("redacted", REQ, "retained messages rewritten"),
                                        F_END};

static const zhub_field_t s_dlq[] = {
    F_STR ("group", REQ, "the consumer group it failed in"),
    F_COUNT ("offset", OPT,
             "the original's offset in the log (absent when an actor dead-letters what it had "
             "acked, e.g. a contact HubSpot refused in a batched write)"),
    F_ENUM ("cause", REQ, s_dlq_causes, "terminal NACK, or too many deliveries"),
    F_COUNT ("reason_code", REQ, "the code of the last failure (408: a missed deadline)"),
    F_ARR_IN ("attempts", REQ, ZHUB_FIELD_OBJECT, 0, 33,
              "the failures, oldest first: {time, code, reason}"),
    F_OBJ ("message", REQ, "the original envelope, as published"),
    F_END};

static const zhub_field_t s_hubspot_write[] = {
    F_ID ("bird_contact_id", REQ, "the Bird contact"),
    F_OBJ ("properties", REQ, "the HubSpot properties that were to be written"), F_END};

static const zhub_field_t s_cmd_replay[] = {
    F_COUNT ("letter", REQ, "the dead letter's number"),
    F_BOOL ("again", OPT, "publish a new replay id even if it was replayed before"), F_END};

static const zhub_field_t s_cmd_edit[] = {
    F_COUNT ("letter", REQ, "the dead letter's number"),
    F_COUNT ("revision", REQ, "the revision the operator edited (a newer one refuses it)"),
    F_BYTES ("message", REQ, "the edited envelope's msgpack bytes (same type)"), F_END};

static const zhub_field_t s_cmd_purge[] = {
    F_ARR_IN ("letters", REQ, ZHUB_FIELD_INTEGER, 1, 1000, "the dead letters' numbers"), F_END};

static const zhub_field_t s_audited[] = {
    F_STR_IN ("who", REQ, 1, 32, "the name of the admin token used (never the token)"),
    F_TIME ("at", REQ, "when the gateway accepted the request"),
    F_STR_IN ("type", REQ, 1, 255, "the type of the event published with the admin token"),
    F_ID ("id", REQ, "its id"),
    F_STR ("subject", OPT, "its subject, when it has one"),
    F_STR ("source", REQ, "its source, as the sender gave it"),
    F_STR ("peer", REQ, "the address the request came from (a proxy in front shows as itself)"),
    F_STR ("forwarded_for", OPT, "the request's X-Forwarded-For, as sent (not verified)"),
    F_END};

//  -------------------------------------------------------------------
//  The catalogue

#define CONTACT "contact:<bird id>"
#define AI_FLOWS ZHUB_CATALOGUE_AI_FLOWS

static const zhub_event_spec_t s_catalogue[] = {
    //  What arrives: the gateway, one message per provider event
    {.type = "webhook.google.calendar.changed",
     .subject = "google:resource:<resource id>",
     .about = "A watched Google calendar changed. Push notifications carry no event: the "
              "scheduler syncs that calendar.",
     .fields = s_google_changed,
     .producers = "gateway",
     .consumers = "scheduler",
     .example = "{\"channel_id\":\"zhub-ana-1\",\"resource_id\":\"ret08u3rv24htgh289g\","
                "\"resource_state\":\"exists\",\"message_number\":7,\"resource_uri\":"
                "\"https://www.googleapis.com/calendar/v3/calendars/ana%40example.com/events\"}"},
    {.type = "webhook.whatsapp.message",
     .subject = "whatsapp:<wa id>",
     .about = "A WhatsApp Cloud API message from a customer, one per item of messages[] "
              "(id `whatsapp:<wamid>`).",
     .fields = s_whatsapp_message,
     .producers = "gateway",
     .consumers = "conversation",
     .example = "{\"entry_id\":\"102290129340398\",\"field\":\"messages\",\"metadata\":"
                "{\"display_phone_number\":\"15550783881\",\"phone_number_id\":"
                "\"106540352242922\"},\"contact\":{\"profile\":{\"name\":\"Sheena Nelson\"},"
                "\"wa_id\":\"16505551234\"},\"message\":{\"from\":\"16505551234\",\"id\":"
                "\"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=\","
                "\"timestamp\":\"1749416383\",\"type\":\"text\",\"text\":{\"body\":"
                "\"Does it come in another color?\"}}}"},
    {.type = "webhook.whatsapp.status",
     .subject = "whatsapp:<wa id>",
     .about = "A WhatsApp message's status (sent, delivered, read, failed), one per item of "
              "statuses[] (id `whatsapp:<wamid>:<status>`).",
     .fields = s_whatsapp_status,
     .producers = "gateway",
     .consumers = "none in zhub (a status carries no text; the conversation bridge takes Bird's "
                  "statuses, and WhatsApp Cloud's messages)",
     .example = "{\"entry_id\":\"102290129340398\",\"field\":\"messages\",\"status\":"
                "{\"id\":\"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=\","
                "\"status\":\"read\",\"timestamp\":\"1749416400\",\"recipient_id\":"
                "\"16505551234\"}}"},
    {.type = "webhook.<source>.<event>",
     .pattern = "webhook.>",
     .example_type = "webhook.hubspot.contact.propertyChange",
     .subject = "the provider's object: `hubspot:<object>:<id>`, `contact:<bird id>`, "
                "`calendly:event:<uuid>`, `graph:<resource>`, `whatsapp:account:<id>`, "
                "`<sender>:<object>`",
     .about = "What a provider sent, converted faithfully: one HubSpot event of a batch "
              "(`webhook.hubspot.<subscriptionType>`), Bird's envelope "
              "(`webhook.bird.<event>`), Calendly's (`webhook.calendly.<event>`), one Graph "
              "notification without clientState (`webhook.graph.<changeType>`, "
              "`webhook.graph.lifecycle.<event>`), another WhatsApp change whole "
              "(`webhook.whatsapp.<field>`), a Standard Webhooks sender's body "
              "(`webhook.<sender>.<type>`).",
     .fields = s_none,
     .producers = "gateway",
     .consumers = "contact-sync (`webhook.bird.>`, `webhook.hubspot.contact.>`), deal-sync "
                  "(`webhook.hubspot.deal.propertyChange`), scheduler "
                  "(`webhook.calendly.invitee.>`, `webhook.graph.updated`, "
                  "`webhook.graph.deleted`, `webhook.bird.whatsapp.inbound` and "
                  "`.outbound`: WhatsApp's 24-hour window and failed messages), conversation "
                  "(`webhook.bird.*.inbound`, `webhook.bird.*.outbound`, "
                  "`webhook.bird.conversation.*`)",
     .example = "{\"eventId\":3029365631,\"subscriptionId\":686627,\"portalId\":891472211,"
                "\"appId\":7906213,\"occurredAt\":1715203101896,\"subscriptionType\":"
                "\"contact.propertyChange\",\"attemptNumber\":0,\"objectId\":847297356,"
                "\"propertyName\":\"firstname\",\"propertyValue\":\"Ana\",\"changeSource\":"
                "\"CRM_UI\",\"sourceId\":\"userId:882761034\"}"},

    //  Conversations: the AI agents, the conversation bridge, the intent router
    {.type = "conversation.started",
     .subject = CONTACT,
     .about = "A conversation with a contact began.",
     .fields = s_conversation_started,
     .producers = AI_FLOWS "; conversation",
     .consumers = "contact-sync, activity-log",
     .example = "{\"conversation_id\":\"c-7f3a\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"channel\":\"whatsapp\","
                "\"agent_type\":\"qualifier\"}"},
    {.type = "conversation.message",
     .subject = CONTACT,
     .about = "One message of a conversation, either way.",
     .fields = s_conversation_message,
     .producers = AI_FLOWS "; conversation",
     .consumers = "activity-log, intent",
     .example = "{\"conversation_id\":\"c-7f3a\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"direction\":\"in\",\"text\":"
                "\"Hola, ¿puedo visitar el depto mañana?\",\"sent_at\":\"2030-01-01T10:00:00Z\","
                "\"message_id\":\"404544c5-9920-45f1-8990-0855634ab7ac\",\"sender\":\"contact\"}"},
    {.type = "conversation.ended",
     .subject = CONTACT,
     .about = "A conversation ended.",
     .fields = s_conversation_ended,
     .producers = "conversation",
     .consumers = "none in zhub yet",
     .example = "{\"conversation_id\":\"c-7f3a\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"ended_at\":\"2030-01-01T10:30:00Z\","
                "\"reason\":\"closed\"}"},
    {.type = "conversation.stage_changed",
     .subject = CONTACT,
     .about = "The AI agent moved the conversation to a stage of the pipeline.",
     .fields = s_stage_changed,
     .producers = AI_FLOWS,
     .consumers = "deal-sync",
     .example = "{\"bird_contact_id\":\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\","
                "\"conversation_id\":\"c-7f3a\",\"stage\":\"qualified\",\"agent_type\":"
                "\"qualifier\",\"qualification_score\":82,\"property_interest\":"
                "\"Torre Reforma 2BR\"}"},
    {.type = "qualification.completed",
     .subject = CONTACT,
     .about = "The AI agent scored the lead.",
     .fields = s_qualification,
     .producers = AI_FLOWS,
     .consumers = "deal-sync, activity-log",
     .example = "{\"conversation_id\":\"c-7f3a\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"score\":82,\"qualified\":true,"
                "\"property_interest\":\"Torre Reforma 2BR\"}"},
    {.type = "escalation.triggered",
     .subject = CONTACT,
     .about = "The conversation needs a human.",
     .fields = s_escalation,
     .producers = AI_FLOWS "; intent",
     .consumers = "activity-log; intent (so as not to double one an AI agent raised)",
     .example = "{\"conversation_id\":\"c-7f3a\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"reason\":\"asks for a human\","
                "\"priority\":\"high\"}"},
    {.type = "intent.detected",
     .subject = CONTACT,
     .about = "What an inbound message asks for, by the rules of its language or the AI "
              "classifier.",
     .fields = s_intent,
     .producers = "intent",
     .consumers = "none in zhub yet (the AI qualifier reads pricing and availability inquiries)",
     .example = "{\"message_id\":\"404544c5-9920-45f1-8990-0855634ab7ac\",\"conversation_id\":"
                "\"c-7f3a\",\"bird_contact_id\":\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\","
                "\"intent\":\"tour_request\",\"confidence\":0.92,\"decided_by\":\"rules\","
                "\"language\":\"es\"}"},
    {.type = "contact.opted_out",
     .subject = CONTACT,
     .about = "The contact asked to receive no more messages on a channel.",
     .fields = s_opted_out,
     .producers = "intent",
     .consumers = "intent (so as not to double one an AI agent published)",
     .example = "{\"bird_contact_id\":\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\","
                "\"conversation_id\":\"c-7f3a\",\"message_id\":"
                "\"7b1c2d3e-0000-4000-8000-000000000001\",\"channel\":\"whatsapp\"}"},
    {.type = "tour.requested",
     .subject = CONTACT,
     .about = "The contact wants to visit a property: book a leasing agent.",
     .fields = s_tour_requested,
     .producers = AI_FLOWS "; intent",
     .consumers = "scheduler; intent (so as not to double one an AI agent published)",
     .example = "{\"bird_contact_id\":\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\","
                "\"conversation_id\":\"c-7f3a\",\"preferred_times\":[\"2030-01-02T16:00:00Z\","
                "\"2030-01-03T17:00:00Z\"],\"duration_min\":45,\"location\":"
                "\"Torre Reforma 2BR\",\"phone\":\"+5215512345678\"}"},
    {.type = "intent.workflow.due",
     .subject = CONTACT,
     .about = "A workflow event the intent router holds back for a while (deliverat: "
              "ZHUB_INTENT_HOLD), so that it does not double the same event an AI agent "
              "publishes itself: on delivery it is published unless one came meanwhile.",
     .fields = s_intent_due,
     .producers = "intent",
     .consumers = "intent",
     .example = "{\"message_id\":\"404544c5-9920-45f1-8990-0855634ab7ac\",\"conversation_id\":"
                "\"c-7f3a\",\"bird_contact_id\":\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\","
                "\"workflow\":\"escalation.triggered\",\"event\":{\"conversation_id\":"
                "\"c-7f3a\",\"bird_contact_id\":\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\","
                "\"reason\":\"asks for a human\",\"priority\":\"high\"},\"since\":"
                "\"2030-01-01T10:00:00Z\"}"},

    //  What zhub's actors publish
    {.type = "contact.synced",
     .subject = CONTACT,
     .about = "contact-sync wrote a contact change to HubSpot or Bird (and linked the two).",
     .fields = s_contact_synced,
     .producers = "contact-sync",
     .consumers = "deal-sync, activity-log",
     .example = "{\"bird_contact_id\":\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\","
                "\"hubspot_contact_id\":\"501\",\"changed\":[\"firstname\",\"phone\"],"
                "\"direction\":\"bird_to_hubspot\",\"cause_id\":\"bird:7d8e3db3\"}"},
    {.type = "contact.reconcile",
     .subject = "reconcile",
     .about = "Compare HubSpot's recently changed contacts with what contact-sync knows, and "
              "repair the drift.",
     .fields = s_reconcile,
     .producers = "scheduler (its reconcile timer); an operator (`zhub pub`)",
     .consumers = "contact-sync",
     .example = "{\"since\":\"2030-01-01T00:00:00.000Z\"}"},
    {.type = "contact.reconciled",
     .subject = "reconcile",
     .about = "A reconcile pass finished.",
     .fields = s_reconciled,
     .producers = "contact-sync",
     .consumers = "none in zhub (operators, dashboards)",
     .example = "{\"found\":120,\"drift\":2,\"drift_total\":9,\"since\":"
                "\"2030-01-01T00:00:00.000Z\",\"watermark\":\"2030-01-01T06:00:00.000Z\"}"},
    {.type = "deal.stage_changed",
     .subject = CONTACT,
     .about = "The contact's deal moved to another stage.",
     .fields = s_deal_stage,
     .producers = "deal-sync",
     .consumers = "activity-log",
     .example = "{\"hubspot_deal_id\":\"9001\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"stage\":\"appointmentscheduled\","
                "\"by\":\"ai\",\"cause_id\":\"ai-evt-1\",\"hubspot_contact_id\":\"501\","
                "\"ai_stage\":\"tour_scheduled\"}"},
    {.type = "activity.logged",
     .subject = CONTACT,
     .about = "activity-log wrote a HubSpot note, task or meeting.",
     .fields = s_activity_logged,
     .producers = "activity-log",
     .consumers = "none in zhub",
     .example = "{\"kind\":\"task\",\"hubspot_id\":\"77001\",\"event_type\":"
                "\"qualification.completed\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"conversation_id\":\"c-7f3a\","
                "\"cause_id\":\"ai-evt-2\"}"},
    {.type = "activity.transcript.flush",
     .subject = "transcript:<conversation id>",
     .about = "Write the coalesced transcript of a conversation. Published with deliverat "
              "= due: the broker holds it until then (proto/PROTOCOL.md 6.3), so the timer is "
              "durable and spends no delivery attempt.",
     .fields = s_transcript_flush,
     .producers = "activity-log",
     .consumers = "activity-log",
     .example = "{\"conversation_id\":\"c-7f3a\",\"due\":1893492000000}"},
    {.type = "tour.scheduled",
     .subject = CONTACT,
     .about = "A tour is booked (or moved).",
     .fields = s_tour,
     .producers = "scheduler",
     .consumers = "deal-sync, activity-log",
     .example = "{\"booking_id\":\"bk7d8e3db3569fe32633fddba10a3f51c4\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"start\":\"2030-01-02T16:00:00.000Z\","
                "\"end\":\"2030-01-02T16:45:00.000Z\",\"platform\":\"google\","
                "\"calendar_event_id\":\"evt-1\",\"agent_id\":\"ana\",\"conversation_id\":"
                "\"c-7f3a\",\"location\":\"Torre Reforma 2BR\"}"},
    {.type = "tour.canceled",
     .subject = CONTACT,
     .about = "A booked tour was canceled.",
     .fields = s_tour,
     .producers = "scheduler",
     .consumers = "activity-log, scheduler (its own: the WhatsApp cancellation)",
     .example = "{\"booking_id\":\"bk7d8e3db3569fe32633fddba10a3f51c4\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"start\":\"2030-01-02T16:00:00.000Z\","
                "\"end\":\"2030-01-02T16:45:00.000Z\",\"platform\":\"calendly\"}"},
    {.type = "tour.reminder",
     .subject = CONTACT,
     .about = "A reminder of a booked tour is due: the scheduler sends the WhatsApp reminder.",
     .fields = s_tour_reminder,
     .producers = "scheduler",
     .consumers = "scheduler",
     .example = "{\"booking_id\":\"bk7d8e3db3569fe32633fddba10a3f51c4\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"start\":\"2030-01-02T16:00:00.000Z\","
                "\"end\":\"2030-01-02T16:45:00.000Z\",\"platform\":\"google\",\"reminder\":0,"
                "\"before_ms\":86400000}"},
    {.type = "tour.unavailable",
     .subject = CONTACT,
     .about = "No agent is free at the preferred times: free slots to offer instead.",
     .fields = s_tour_unavailable,
     .producers = "scheduler",
     .consumers = "none in zhub (the scheduler sends the alternatives on WhatsApp itself; the AI "
                  "agent may offer them too)",
     .example = "{\"booking_id\":\"bk7d8e3db3569fe32633fddba10a3f51c4\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"reason\":"
                "\"no agent is free at the preferred times\",\"requested\":"
                "[\"2030-01-02T16:00:00.000Z\"],\"alternatives\":[{\"start\":"
                "\"2030-01-02T18:00:00.000Z\",\"end\":\"2030-01-02T18:45:00.000Z\","
                "\"agent_id\":\"ana\"}]}"},
    {.type = "tour.calendar_down",
     .subject = CONTACT,
     .about = "A tour could not be booked because the calendar (Google or Microsoft Graph) failed "
              "by no fault of the contact's (5xx, timeout, connection, breaker open): the contact "
              "got a single-use Calendly link on WhatsApp instead. Published once the link went "
              "out; the booking then waits for Calendly's invitee.created like a self-service one.",
     .fields = s_tour_calendar_down,
     .producers = "scheduler",
     .consumers = "activity-log (a note on the contact)",
     .example = "{\"booking_id\":\"bk7d8e3db3569fe32633fddba10a3f51c4\",\"bird_contact_id\":"
                "\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\",\"platform\":\"google\",\"reason\":"
                "\"google freeBusy: HTTP 503\",\"confirmation_url\":"
                "\"https://calendly.com/d/abcd-brv8/15-minute-meeting?utm_source=zhub&utm_content="
                "bk7d8e3db3569fe32633fddba10a3f51c4\",\"conversation_id\":\"c-7f3a\"}"},
    {.type = "scheduler.timer.reminder",
     .subject = "booking:<booking id>",
     .about = "The scheduler's timer: a booking's reminder is due. Held by the broker until then "
              "(deliverat); dropped when it arrives for a booking canceled, erased or moved since, "
              "else the scheduler publishes tour.reminder.",
     .fields = s_timer_reminder,
     .producers = "scheduler (when a tour is booked or moved)",
     .consumers = "scheduler",
     .example = "{\"booking_id\":\"bk7d8e3db3569fe32633fddba10a3f51c4\",\"reminder\":0,"
                "\"start\":\"2030-01-02T16:00:00.000Z\",\"due\":1893513600000}"},
    {.type = "scheduler.timer.reconcile",
     .subject = "reconcile",
     .about = "The scheduler's timer: contact.reconcile is due. Each one arms the next, every "
              "reconcile_every.",
     .fields = s_timer_reconcile,
     .producers = "scheduler",
     .consumers = "scheduler",
     .example = "{\"since\":\"2030-01-01T00:00:00.000Z\",\"due\":1893459600000}"},
    {.type = "scheduler.timer.token",
     .subject = "token:<provider>",
     .about = "The scheduler's timer: an OAuth token is to be refreshed before it expires. Dropped "
              "when the token was refreshed since.",
     .fields = s_timer_token,
     .producers = "scheduler",
     .consumers = "scheduler",
     .example = "{\"provider\":\"google\",\"due\":1893459300000}"},
    {.type = "scheduler.timer.watch",
     .subject = "sub:<platform>:<16 hex of SHA-256 of the calendar>",
     .about = "The scheduler's timer: a calendar's Google channel or Graph subscription is to be "
              "renewed. Dropped when the renewal was armed again since.",
     .fields = s_timer_watch,
     .producers = "scheduler",
     .consumers = "scheduler",
     .example = "{\"platform\":\"graph\",\"target\":\"luis@urbanhub.mx\",\"due\":"
                "1893459600000}"},

    //  Erasing a person (docs/operations.md, "Erasing a person")
    {.type = "contact.erase",
     .subject = "erase:<request>",
     .about = "An operator asks to erase a person everywhere.",
     .fields = s_erase,
     .producers = "`zhub erase contact`",
     .consumers = "contact-sync",
     .example = "{\"request\":\"r-20300101-1\",\"identifier\":\"+5215512345678\","
                "\"upstream\":false}"},
    {.type = "contact.forget",
     .subject = "erase:<request>",
     .about = "Forget this person: every identifier contact-sync knew of them.",
     .fields = s_forget,
     .producers = "contact-sync",
     .consumers = "deal-sync, activity-log, scheduler, dead-letter, conversation, intent, and "
                  "the broker (it redacts its log once every group processed it)",
     .example = "{\"request\":\"r-20300101-1\",\"bird_contact_id\":\"b-ana\","
                "\"hubspot_contact_id\":\"501\",\"phone\":\"+5215512345678\",\"email\":"
                "\"ana@example.com\",\"identifiers\":[\"b-ana\",\"501\",\"+5215512345678\","
                "\"5215512345678\",\"ana@example.com\"],\"upstream\":false}"},
    {.type = "contact.forgotten",
     .subject = "erase:<request>",
     .about = "An actor deleted what it kept about the person (id `forgotten:<actor>:<request>`).",
     .fields = s_forgotten,
     .producers = "deal-sync, activity-log, scheduler, dead-letter, conversation, intent",
     .consumers = "`zhub erase contact`",
     .example = "{\"request\":\"r-20300101-1\",\"actor\":\"deal-sync\",\"removed\":3}"},
    {.type = "contact.erased",
     .subject = "erase:<request>",
     .about = "The broker redacted its retained log for the erase.",
     .fields = s_erased,
     .producers = "broker",
     .consumers = "`zhub erase contact`",
     .example = "{\"request\":\"r-20300101-1\",\"redacted\":12}"},

    //  Failures (proto/PROTOCOL.md 8, docs/adr/0004)
    {.type = "dlq.<group>",
     .pattern = "dlq.>",
     .example_type = "dlq.contact-sync",
     .subject = "the original message's subject",
     .about = "A message failed for good in a group (id `dlq:<group>:<original id>`).",
     .fields = s_dlq,
     .producers = "broker; contact-sync (`dlq.contact-sync`: a contact HubSpot refused in a "
                  "batched write, after the message was acked)",
     .consumers = "dead-letter",
     .example = "{\"group\":\"contact-sync\",\"offset\":4711,\"cause\":\"max_deliveries\","
                "\"reason_code\":503,\"attempts\":[{\"time\":\"2030-01-01T10:00:00.000Z\","
                "\"code\":503,\"reason\":\"hubspot: HTTP 503\"}],\"message\":{\"specversion\":"
                "\"1.0\",\"id\":\"hubspot:evt-8841\",\"source\":\"hubspot\",\"type\":"
                "\"webhook.hubspot.contact.propertyChange\",\"subject\":\"hubspot:contact:501\","
                "\"time\":1715203101896,\"data\":{\"objectId\":501}}}"},
    {.type = "contact.hubspot_write",
     .subject = "contact:<bird id>",
     .about = "Only inside a `dlq.contact-sync` letter: a HubSpot write contact-sync had "
              "queued before it kept each write's original message, refused by HubSpot. A "
              "replay reaches no actor; the next change of the contact writes it again.",
     .fields = s_hubspot_write,
     .producers = "contact-sync (as the message of a dead letter)",
     .consumers = "none (read in `zhub dlq show`)",
     .example = "{\"bird_contact_id\":\"10d8cabb-0227-4fbe-b158-6bf735a0dac8\","
                "\"properties\":{\"email\":\"ana@example.com\"}}"},
    {.type = "dead-letter.command.replay",
     .subject = "dead-letter",
     .about = "Publish a dead letter's message again (`zhub dlq replay`).",
     .fields = s_cmd_replay,
     .closed = true,
     .producers = "`zhub dlq replay`",
     .consumers = "dead-letter",
     .example = "{\"letter\":12,\"again\":false}"},
    {.type = "dead-letter.command.edit",
     .subject = "dead-letter",
     .about = "Replace a dead letter's message before a replay (`zhub dlq edit`).",
     .fields = s_cmd_edit,
     .closed = true,
     .producers = "`zhub dlq edit`",
     .consumers = "dead-letter",
     .example = "{\"letter\":12,\"revision\":0,\"message\":\"gqtzcGVjdmVyc2lvbqMxLjA=\"}"},
    {.type = "dead-letter.command.purge",
     .subject = "dead-letter",
     .about = "Delete dead letters (`zhub dlq purge`).",
     .fields = s_cmd_purge,
     .closed = true,
     .producers = "`zhub dlq purge`",
     .consumers = "dead-letter",
     .example = "{\"letters\":[12,13]}"},

    //  Administration (docs/operations.md, "Tokens of /v1/events")
    {.type = "admin.audited",
     .subject = "admin:<token name>",
     .about = "An event was published through the gateway's /v1/events with an admin token "
              "(id `audit:<64 hex>`). The gateway publishes this record in the same request, "
              "before the event itself; the event's data is not copied (an erase's holds the "
              "person's identifiers).",
     .fields = s_audited,
     .closed = true,
     .producers = "gateway",
     .consumers = "none in zhub (operators: `zhub tail admin.>`)",
     .example = "{\"who\":\"ops-ana\",\"at\":\"2030-01-01T10:00:00.000Z\",\"type\":"
                "\"contact.erase\",\"id\":\"erase:r-20300101-1\",\"subject\":"
                "\"erase:r-20300101-1\",\"source\":\"ops/runbook\",\"peer\":"
                "\"10.0.0.5:51514\",\"forwarded_for\":\"203.0.113.7\"}"},
};

#define S_COUNT (sizeof s_catalogue / sizeof s_catalogue[0])

const zhub_event_spec_t *
zhub_catalogue (size_t *count)
{
    if (count)
        *count = S_COUNT;
    return s_catalogue;
}

const zhub_event_spec_t *
zhub_catalogue_find (const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; i < S_COUNT; i++)
        if (!s_catalogue[i].pattern && !strcmp (s_catalogue[i].type, type))
            return &s_catalogue[i];
    for (size_t i = 0; i < S_COUNT; i++)
        if (s_catalogue[i].pattern && zhub_topic_match (s_catalogue[i].pattern, type))
            return &s_catalogue[i];
    return NULL;
}

const zhub_field_t *
zhub_event_field (const zhub_event_spec_t *spec, const char *name)
{
    for (const zhub_field_t *f = spec ? spec->fields : NULL; f && f->name && name; f++)
        if (!strcmp (f->name, name))
            return f;
    return NULL;
}
