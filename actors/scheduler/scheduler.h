//  The scheduler's pure core: tour requests -> a slot, an agent and the
//  calendar event to create. No I/O: the configuration (from the
//  "scheduler" section of the mapping file), busy times already fetched,
//  the round-robin position and the request go in; the chosen slot (or the
//  alternatives), the event bodies and the messages to publish come out.
//  The I/O side (scheduler_io.c) asks Google freeBusy and Graph
//  getSchedule, creates the event, keeps bookings and timers in LMDB.
//
//  Time: every instant is unix ms (UTC). Business and working hours are
//  local wall-clock minutes in the configured time zone (default
//  America/Mexico_City); sched_use_time_zone makes that zone the process's
//  TZ once at start, so localtime_r/mktime convert. Picking a slot:
//  preferred times in the order given; for each, the agents in round-robin
//  order starting at rr; the first agent free for [start - buffer,
//  end + buffer) with the slot inside business hours and the agent's
//  working hours wins.
#ifndef SCHEDULER_H
#define SCHEDULER_H

#include "zhub_common.h"
#include "zhub_forget.h"
#include "zhub_msg.h"

#include <jansson.h>

#define SCHEDULER_GROUP "scheduler"
#define SCHEDULER_SOURCE "zhub/scheduler"
#define SCHED_MAX_AGENTS 32
#define SCHED_MAX_PREFERRED 16
#define SCHED_MAX_ALTERNATIVES 8
#define SCHED_MAX_REMINDERS 4
#define SCHED_KEY_BYTES 32 //  secretbox key (ZHUB_SECRET_KEY: 64 hex digits)

typedef enum { SCHED_GOOGLE, SCHED_GRAPH } sched_platform_t;

//  WhatsApp messages (scheduler_whatsapp.h has their functions). Outside
//  the 24-hour customer-service window WhatsApp takes only approved
//  templates, so each kind of message may name one; the texts and dates
//  are in the locale's language.
typedef enum {
    SCHED_WA_CONFIRMATION, //  the tour is booked
    SCHED_WA_REMINDER,     //  before the tour (cfg.reminders_ms)
    SCHED_WA_LINK,         //  self-service, or a calendar down: the Calendly link
    SCHED_WA_ALTERNATIVES, //  no agent free at the asked times: other times
    SCHED_WA_CANCELLATION, //  a booked tour was canceled
    SCHED_WA_KINDS
} sched_wa_kind_t;

typedef enum { SCHED_LANG_ES, SCHED_LANG_EN } sched_lang_t;

//  What a template variable is filled with.
typedef enum {
    SCHED_WA_WHEN,     //  "jueves 5 de marzo, 11:00"
    SCHED_WA_DATE,     //  "jueves 5 de marzo"
    SCHED_WA_TIME,     //  "11:00"
    SCHED_WA_LOCATION, //  the request's location
    SCHED_WA_AGENT,    //  the agent's name
    SCHED_WA_URL,      //  the calendar link, or the Calendly link
    SCHED_WA_ALTS,     //  the alternatives: "jueves 5 de marzo, 11:00; viernes 6 de marzo, 10:00"
    SCHED_WA_FIELDS
} sched_wa_field_t;

#define SCHED_WA_MAX_PARAMS 8

typedef struct {
    char *key; //  the template's variable
    sched_wa_field_t field;
} sched_wa_param_t;

//  A Bird template ("Studio template"): project, version, locale.
typedef struct {
    char *project_id; //  NULL: none configured for this kind
    char *version;    //  "latest" or a version id
    char *locale;     //  NULL: the WhatsApp locale
    sched_wa_param_t params[SCHED_WA_MAX_PARAMS];
    size_t param_count;
} sched_wa_template_t;

typedef struct {
    char *locale;      //  "es-MX" (default): texts, dates, templates
    sched_lang_t lang; //  from the locale: es or en
    sched_wa_template_t templates[SCHED_WA_KINDS];
    //  The free texts of the locale, each a pattern (scheduler_whatsapp.h):
    //  the mapping file's whatsapp.texts for the locale, else the shipped
    //  ones of its language. Owned.
    char *texts[SCHED_WA_KINDS];
} sched_wa_config_t;

typedef struct {
    char *id;          //  our name for the agent ("ana")
    char *name;        //  shown in messages
    char *email;       //  attendee address / Graph mailbox
    char *calendar_id; //  Google calendar id, or the Graph user; default email
    sched_platform_t platform;
    int open_min, close_min; //  working hours, local minutes since midnight
    int64_t buffer_ms;       //  free time wanted before and after a tour
} sched_agent_t;

typedef struct {
    char *time_zone;         //  "America/Mexico_City"
    int open_min, close_min; //  business hours (local)
    unsigned days;           //  bit n = tm_wday n is a business day
    int64_t buffer_ms;       //  default agent buffer
    int64_t default_duration_ms;
    int64_t slot_step_ms; //  alternatives are this far apart (30 min)
    int64_t horizon_ms;   //  alternatives are sought this far after the first preference
    size_t max_alternatives;
    bool self_service;         //  Calendly scheduling link instead of a calendar event
    char *calendly_event_type; //  event type URI (self-service, and the calendar-down fallback)
    //  A tour request whose calendar fails by no fault of the customer's
    //  (5xx, timeout, connection, breaker open) gets a Calendly link
    //  instead on this delivery attempt (1 = the first; the breaker being
    //  open falls back at once). 0 = never. Needs calendly_event_type.
    uint32_t fallback_after;
    char *bird_channel_id;     //  WhatsApp channel for confirmations and reminders (a UUID)
    char *graph_user;          //  mailbox that asks getSchedule; default the first Graph agent
    int64_t reminders_ms[SCHED_MAX_REMINDERS]; //  before the tour (24h, 2h)
    size_t reminder_count;
    int64_t reconcile_every_ms; //  contact.reconcile period; 0 = off
    sched_wa_config_t whatsapp; //  the "whatsapp" key (scheduler_whatsapp.h)
    sched_agent_t agents[SCHED_MAX_AGENTS];
    size_t agent_count;
} sched_config_t;

//  Reads the "scheduler" section of the mapping file (NULL or {} = the
//  defaults: no agents). Shape, every key optional:
//    {"time_zone":"America/Mexico_City",
//     "business_hours":{"start":"09:00","end":"19:00","days":[1,2,3,4,5,6]},
//     "buffer":"15m","default_duration":"45m","slot_step":"30m","horizon":"7d",
//     "alternatives":3,"self_service":false,"calendly_event_type":"https://…",
//     "calendly_fallback_after":2,
//     "bird_channel_id":"…","graph_user":"…","reminders":["24h","2h"],
//     "reconcile_every":"0",
//     "whatsapp":{"locale":"es-MX","templates":{"reminder":{"project_id":"<uuid>",
//                 "version":"latest","parameters":{"fecha":"when"}}},
//                 "texts":{"es-MX":{"reminder":"Mañana: {when}[ en {location}]"}}},
//     "agents":[{"id":"ana","name":"Ana","email":"ana@x.mx","platform":"google",
//                "calendar_id":"ana@x.mx","working_hours":{"start":"10:00",
//                "end":"18:00"},"buffer":"10m"}]}
//  Returns 0, or -1 with the offending key in err (cfg cleared).
int sched_config_from_json (const json_t *section, sched_config_t *cfg, char *err, size_t err_size);
void sched_config_clear (sched_config_t *cfg);

//  Index of the agent with that id, or -1.
int sched_agent_index (const sched_config_t *cfg, const char *id);

//  Makes zone the process's time zone (setenv TZ + tzset). 0, or -1 when
//  the zone is not in the system's database.
int sched_use_time_zone (const char *zone);

//  True when [start, end) lies within one local day, on a business day,
//  inside business hours and the agent's working hours (agent may be NULL).
bool sched_within_hours (const sched_config_t *cfg, const sched_agent_t *agent, int64_t start,
                         int64_t end);

//  Busy times of one agent.
typedef struct {
    int64_t start, end;
} sched_span_t;

typedef struct {
    sched_span_t *spans;
    size_t count, cap;
} sched_busy_t;

void sched_busy_add (sched_busy_t *busy, int64_t start, int64_t end);
void sched_busy_clear (sched_busy_t *busy);

//  True when nothing busy overlaps [start - buffer, end + buffer).
bool sched_agent_free (const sched_busy_t *busy, int64_t start, int64_t end, int64_t buffer_ms);

typedef struct {
    int64_t start, end;
    int agent; //  index in cfg->agents
} sched_slot_t;

//  The first preferred time (in order) at which an eligible agent (in
//  round-robin order from rr) is free. busy and eligible have
//  cfg->agent_count entries. Returns true with *slot.
bool sched_pick (const sched_config_t *cfg, const int64_t *preferred, size_t preferred_count,
                 int64_t duration_ms, const sched_busy_t *busy, const bool *eligible, size_t rr,
                 sched_slot_t *slot);

//  Up to max free slots from `from` on (rounded up to slot_step, within
//  horizon), each with the first free agent, at most one per start time.
//  Returns the count.
size_t sched_alternatives (const sched_config_t *cfg, int64_t from, int64_t duration_ms,
                           const sched_busy_t *busy, const bool *eligible, size_t rr,
                           sched_slot_t *out, size_t max);

//  -------------------------------------------------------------------
//  Requests and bookings

typedef struct {
    char *event_id;
    char *bird_id;
    char *conversation_id;
    char *location;
    char *agent_id; //  leasing_agent_id: only this agent, or NULL
    char *notes;
    char *phone; //  contact phone (E.164) for WhatsApp, or NULL: by Bird contact id
    char *name;
    int64_t preferred[SCHED_MAX_PREFERRED];
    size_t preferred_count;
    int64_t duration_ms;
} sched_request_t;

//  Reads tour.requested: the envelope msg (its id and subject) and its
//  data as the runtime decoded it (NULL when not representable as JSON).
//  ZHUB_OK, or ZHUB_REJECT with a reason (no preferred time, a time that
//  is not RFC 3339, an unknown agent...).
zhub_rc_t sched_parse_request (const zhub_msg_t *msg, const json_t *data, const sched_config_t *cfg,
                               sched_request_t *req, char *reason, size_t reason_size);
void sched_request_clear (sched_request_t *req);

typedef struct {
    char *booking_id;
    char *request_id;
    char *bird_id;
    char *conversation_id;
    char *agent_id;
    char *platform;    //  "google", "graph", "calendly"
    char *calendar_id; //  where the event lives
    char *event_id;    //  the calendar's event id
    char *confirmation_url;
    char *location;
    char *phone;
    char *status; //  "pending" (slot held, event not yet made), "scheduled", "canceled"
    int64_t start, end;
    bool confirmed;          //  the WhatsApp confirmation (or link, or alternatives) went out
    unsigned reminders_sent; //  bit i: reminder i went out
    char *canceled_sent;     //  id of the tour.canceled whose WhatsApp went out, or NULL
    //  A Calendly link sent because the calendar was down: the call that
    //  failed and how ("google freeBusy: HTTP 503"), or NULL.
    char *fallback_reason;
    //  status "unavailable": the start times offered instead
    int64_t alternatives[SCHED_MAX_ALTERNATIVES];
    size_t alternative_count;
} sched_booking_t;

char *sched_booking_encode (const sched_booking_t *b);
int sched_booking_decode (const char *text, size_t size, sched_booking_t *b);
void sched_booking_clear (sched_booking_t *b);

//  "bk" + 32 hex digits of SHA-256(request id): stable across redeliveries
//  and a valid Google event id (base32hex: 0-9 a-v).
void sched_booking_id (const char *request_id, char *out, size_t out_size);

//  events.insert body (with "id" = booking id, so a retry is a 409).
json_t *sched_google_event_body (const sched_booking_t *b, const sched_agent_t *agent,
                                 const sched_request_t *req);

//  Graph event body (with "transactionId" = booking id).
json_t *sched_graph_event_body (const sched_booking_t *b, const sched_agent_t *agent,
                                const sched_request_t *req);

//  freeBusy body for the Google agents among eligible; NULL when none.
json_t *sched_google_freebusy_body (const sched_config_t *cfg, const bool *eligible, int64_t from,
                                    int64_t to);

//  getSchedule body for the Graph agents among eligible; NULL when none.
json_t *sched_graph_schedule_body (const sched_config_t *cfg, const bool *eligible, int64_t from,
                                   int64_t to);

//  Reads a freeBusy answer into busy[] (by agent calendar id). Returns 0,
//  or -1 when the answer is not one, or a calendar reports errors.
int sched_google_busy_read (const sched_config_t *cfg, const json_t *answer, sched_busy_t *busy);

//  Reads a getSchedule answer (times in UTC) into busy[]. Every item whose
//  status is not "free" counts. 0 or -1.
int sched_graph_busy_read (const sched_config_t *cfg, const json_t *answer, sched_busy_t *busy);

//  -------------------------------------------------------------------
//  Messages

//  tour.scheduled / tour.canceled for a booking, built by the catalogue's
//  zhub_tour_msg: id "<type>-<booking id>-<salt>" (cut to ZHUB_MSG_MAX_ID),
//  so one cause gives one message. NULL with the reason when the booking
//  breaks the catalogue (zhub_tour_msg refuses it).
zhub_msg_t *sched_tour_msg (const char *type, const sched_booking_t *b, const char *salt,
                            const char *traceparent, int64_t now_ms, char *reason,
                            size_t reason_size);

//  tour.reminder number index (0 = the first) of a booking, for the
//  reminder that came due at due: id "tour.reminder-<booking id>-r<index>",
//  before_ms the booking's start minus due. NULL with the reason as above.
zhub_msg_t *sched_reminder_msg (const sched_booking_t *b, int64_t index, int64_t due,
                                int64_t now_ms, char *reason, size_t reason_size);

//  contact.reconcile of the reconcile timer due at due: id
//  "reconcile-<due>", subject "reconcile", data.since RFC 3339.
zhub_msg_t *sched_reconcile_msg (int64_t due, int64_t since, int64_t now_ms);

//  tour.calendar_down: the calendar failed (b->fallback_reason) and the
//  contact got the single-use Calendly link b->confirmation_url. Built by
//  the catalogue's zhub_event_new: id "tour.calendar_down-<booking id>".
//  NULL with the reason when the booking breaks the catalogue.
zhub_msg_t *sched_calendar_down_msg (const sched_booking_t *b, const char *traceparent,
                                     int64_t now_ms, char *reason, size_t reason_size);

//  Whether a failed calendar call (its outcome's code and defer flag, see
//  zhub_retry.h) on delivery attempt `attempt` hands the request to the
//  Calendly fallback: only the calendar's own failures (5xx, timeout,
//  connection, the breaker open) count, not a rate limit, a refused token
//  or our own; the breaker open falls back at once, the others from
//  attempt `after` on (0 = never). Pure.
bool sched_fallback_due (uint32_t code, bool deferred, uint32_t attempt, uint32_t after);

//  "google" or "graph": which calendar a failure reason names (the reasons
//  the scheduler builds start with the call, "google freeBusy: ..."), or
//  NULL.
const char *sched_fallback_platform (const char *reason);

//  tour.unavailable with alternatives[].
zhub_msg_t *sched_unavailable_msg (const sched_request_t *req, const sched_config_t *cfg,
                                   const sched_slot_t *alts, size_t count, const char *traceparent,
                                   int64_t now_ms);

//  The single-use Calendly link with our booking id as utm_content, which
//  Calendly hands back in the invitee's tracking. Fresh string.
char *sched_link_with_booking (const char *booking_url, const char *booking_id);

//  Reads a Calendly invitee.created / invitee.canceled envelope (the
//  gateway's data). Strings are owned; absent ones NULL; times -1.
typedef struct {
    char *event; //  "invitee.created" / "invitee.canceled"
    char *invitee_uri;
    char *event_uri;    //  the scheduled event
    char *utm_content;  //  our booking id, when booked through our link
    char *old_invitee;  //  created by a reschedule: the invitee it replaces
    bool rescheduled;   //  canceled because of a reschedule
    int64_t start, end; //  from payload.scheduled_event, when present
} sched_invitee_t;

zhub_rc_t sched_parse_invitee (const json_t *data, sched_invitee_t *inv, char *reason,
                               size_t reason_size);
void sched_invitee_clear (sched_invitee_t *inv);

//  What a calendar event, as the calendar now has it, means for the
//  booking it carries: nothing, canceled, or moved (new *start / *end).
typedef enum { SCHED_CHANGE_NONE, SCHED_CHANGE_CANCELED, SCHED_CHANGE_MOVED } sched_change_t;

//  A Google event resource (events.list item): status "cancelled" or new
//  start.dateTime / end.dateTime.
sched_change_t sched_google_change (const json_t *event, const sched_booking_t *b, int64_t *start,
                                    int64_t *end);

//  The same for a Microsoft Graph event resource (isCancelled, start/end
//  {dateTime,timeZone:"UTC"}).
sched_change_t sched_graph_change (const json_t *event, const sched_booking_t *b, int64_t *start,
                                   int64_t *end);

//  The calendar id in a push notification's X-Goog-Resource-URI
//  (".../calendars/{id}/events?..."), percent-decoded. Fresh, or NULL.
char *sched_google_resource_calendar (const char *uri);

//  -------------------------------------------------------------------
//  Forgetting a person (contact.forget, GDPR erase)
//
//  contact-sync resolves the person and publishes contact.forget with what
//  it knew: bird_contact_id, hubspot_contact_id, phone, email and
//  identifiers[] (all of them, the phone with and without its "+").
//  The scheduler deletes every booking that names the person, with the
//  holds and invitee links that point at it, and answers
//  contact.forgotten in the same transaction (its reminder timers, held by
//  the broker, then find no booking).

//  True when the booking names the person (f from zhub_forget_parse): its
//  Bird contact id or its phone (with or without "+") is one of the
//  identifiers (zhub_forget_is: whole values, ASCII case ignored), so one
//  person's erase never takes another's booking whose phone merely
//  contains the digits.
bool sched_booking_refers_to (const sched_booking_t *b, const zhub_forget_t *f);

//  -------------------------------------------------------------------
//  Secrets at rest

//  Parses ZHUB_SECRET_KEY (64 hex digits). 0, or -1.
int sched_key_parse (const char *text, uint8_t key[SCHED_KEY_BYTES]);

//  Seals text with XSalsa20-Poly1305 (crypto_secretbox): nonce || box.
//  Fresh buffer in *out.
void sched_seal (const uint8_t key[SCHED_KEY_BYTES], const char *text, uint8_t **out,
                 size_t *out_size);

//  Opens what sched_seal made. Fresh NUL-terminated string, or NULL when
//  the box was tampered with or the key is wrong.
char *sched_unseal (const uint8_t key[SCHED_KEY_BYTES], const uint8_t *box, size_t size);

#endif
