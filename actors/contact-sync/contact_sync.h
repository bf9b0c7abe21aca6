//  contact-sync's pure core: Bird <-> HubSpot contact mapping, validation
//  and echo suppression. No I/O: every function takes the message, the
//  current state and (for later steps) the answers of earlier calls, and
//  returns a plan — the next call to make and the state to write. The I/O
//  side's one executor (contact_sync_exec.c) runs the plan step by step,
//  through the table of "The plan as a state machine" below
//  (contact_sync_plan_answer):
//
//    contact_sync_parse_<route>  message -> contact_event_t (or "not for us"),
//                                one parser per route (see Routes)
//    contact_sync_plan_event     event + state -> IGNORE | SKIP | REJECT
//                                                | FETCH (read the contact first)
//                                                | WRITE
//    contact_sync_plan_fetched   + the fetched contact -> SKIP | REJECT | WRITE
//    contact_sync_plan_conflict  HubSpot 409 on upsert -> WRITE by existing id
//    contact_sync_plan_written   + the write's answer -> DONE (commit plan.next,
//                                publish contact.synced) | WRITE (link back: a new
//                                HubSpot id goes onto the Bird contact as its
//                                hubspot_contact_id attribute, a new Bird id onto
//                                the HubSpot contact as bird_contact_id)
//    contact_sync_plan_queued    a write queued for the batch, resumed by the
//                                flush as the WRITE it was
//
//  Echo suppression: the state keeps, per contact, the values each side
//  holds as far as we know (what we wrote there or read from there). A
//  field is written only when its source value changed since the last sync
//  and the target does not already hold the mapped value — so our own
//  writes, coming back as webhooks, cause no write back.
//
//  Field mapping (Bird -> HubSpot): contact id -> bird_contact_id (a unique
//  property, the upsert key); phonenumber identifier -> phone (E.164);
//  emailaddress identifier -> email (lower case); displayName ->
//  firstname / lastname, split at the first space. HubSpot -> Bird:
//  firstname + " " + lastname -> the attributes displayName, firstName and
//  lastName (Bird's update bodies carry a name only as attributes); phone,
//  email -> identifiers;
//  the HubSpot record id -> attribute hubspot_contact_id. More fields come
//  from the mapping file (contact_field_map_t): by default the
//  conversation's status -> ai_conversation_status and the Bird attribute
//  property_interest <-> urbanhub_property_interest.
//
//  Conflicts: field-level last-writer-wins on the events' times. The state
//  keeps, per field, the time and side of the value both sides agree on; a
//  change older than that loses (a late or reordered webhook), on equal
//  times HubSpot wins. Every decision — applied or lost — becomes an audit
//  entry in the plan (plan->audit), which the I/O side appends to the
//  "audit" table in the commit.
#ifndef CONTACT_SYNC_H
#define CONTACT_SYNC_H

#include "zhub_common.h"
#include "zhub_forget.h"
#include "zhub_msg.h"

#include <jansson.h>

#define CONTACT_SYNC_GROUP "contact-sync"
#define CONTACT_SYNC_SOURCE "zhub/contact-sync"
#define CONTACT_MAX_IDENTIFIERS 8 //  phones / e-mails read from one Bird contact
#define CONTACT_PHONE_MAX 16      //  "+" and up to 15 digits (E.164)
#define CONTACT_EMAIL_MAX 254
//  The HubSpot properties read when a HubSpot contact changes.
#define CONTACT_HUBSPOT_PROPERTIES "email,phone,firstname,lastname,bird_contact_id"

#define CONTACT_MAX_FIELDS 16 //  mapped fields beyond name, phone and e-mail
//  Field names one write changes: four built in (firstname, lastname,
//  phone, email one way; displayName, phonenumber, emailaddress,
//  hubspot_contact_id the other) and every mapped field.
#define CONTACT_MAX_CHANGED (4 + CONTACT_MAX_FIELDS)

//  One operator-mapped field. bird names the Bird side: "attributes.<name>"
//  (a contact attribute, both directions possible) or "conversation.status"
//  (the status a conversation event carries; Bird -> HubSpot only).
typedef struct {
    char *bird;
    char *hubspot; //  HubSpot contact property
    bool to_hubspot;
    bool to_bird;
} contact_field_map_t;

typedef struct {
    const char *default_calling_code; //  digits ("52") for numbers without "+"; NULL: reject them
    contact_field_map_t fields[CONTACT_MAX_FIELDS];
    size_t field_count;
    char *hubspot_properties; //  what to read from HubSpot; NULL: CONTACT_HUBSPOT_PROPERTIES
} contact_sync_config_t;

//  Adds the default mapped fields (conversation.status -> ai_conversation_status,
//  attributes.property_interest <-> urbanhub_property_interest).
void contact_sync_config_defaults (contact_sync_config_t *config);

//  Applies the "contact" section of the mapping file:
//    {"contact": {"fields": [{"bird": "attributes.budget", "hubspot": "budget",
//                             "direction": "both" | "to_hubspot" | "to_bird"}]}}
//  A field whose hubspot property is already mapped replaces that mapping.
//  Returns 0, or -1 with a reason (config unchanged).
int contact_sync_config_apply (contact_sync_config_t *config, const json_t *root, char *err,
                               size_t err_size);

//  Frees what the config holds (not default_calling_code).
void contact_sync_config_clear (contact_sync_config_t *config);

//  -------------------------------------------------------------------
//  Validation and name handling (pure)

//  Normalises a phone number to E.164: spaces, dashes, dots, slashes and
//  parentheses go; a leading "+" or "00" marks the country code; without
//  either, default_cc (digits) is prefixed after dropping one trunk "0",
//  and without default_cc the number is rejected. Mexico's old mobile "1"
//  (+52 1 xx xxxx xxxx) is dropped. Letters, a "+" inside, fewer than 7 or
//  more than 15 digits are rejected. Returns ZHUB_OK with out (at least
//  CONTACT_PHONE_MAX + 1 bytes), or ZHUB_REJECT with a reason.
zhub_rc_t contact_phone_normalize (const char *text, const char *default_cc, char *out,
                                   size_t out_size, char *reason, size_t reason_size);

//  Checks an e-mail address for a sane shape (one "@", a non-empty local
//  part, a dotted domain without empty labels, no spaces or control bytes,
//  at most 254 bytes) and lower-cases it. ZHUB_OK with out, or ZHUB_REJECT.
zhub_rc_t contact_email_normalize (const char *text, char *out, size_t out_size, char *reason,
                                   size_t reason_size);

//  Trims a display name and collapses runs of white space to one space.
//  Returns a fresh string ("" for NULL).
char *contact_name_clean (const char *text);

//  Splits a display name at the first space: "José María Pérez" gives
//  first "José", last "María Pérez"; one word gives last "". Fresh strings.
void contact_name_split (const char *display, char **first, char **last);

//  first + " " + last, trimmed ("" when both are empty). Fresh string.
char *contact_name_join (const char *first, const char *last);

//  -------------------------------------------------------------------
//  State kept per contact (LMDB, as JSON text)

typedef struct {
    char *firstname;
    char *lastname;
    char *phone; //  E.164
    char *email; //  lower case
} contact_hubspot_values_t;

typedef struct {
    char *display_name;
    char *phone;
    char *email;
} contact_bird_values_t;

typedef struct {
    char *bird_id;
    char *hubspot_id;
    contact_hubspot_values_t hubspot; //  what HubSpot holds, as far as we know
    contact_bird_values_t bird;       //  what Bird holds, as far as we know
    int64_t updated_ms;
    //  Per field ("name", "phone", "email", or a mapped HubSpot property):
    //  {"ms": event time, "side": "bird" | "hubspot"} of the value last
    //  agreed. NULL = no versions yet.
    json_t *versions;
    //  Mapped fields: {"<hubspot property>": {"bird": v, "hubspot": v}},
    //  what each side holds as far as we know. NULL = none.
    json_t *fields;
    //  The HubSpot contact was deleted, or merged into one that belongs to
    //  another Bird contact: Bird changes are no longer synced (a HubSpot
    //  contact naming this Bird contact again links it anew).
    char *unlinked; //  why ("deleted", "merged into 601"), or NULL
} contact_state_t;

//  Frees the strings and zeroes the struct; NULL-safe.
void contact_state_clear (contact_state_t *state);

//  Deep copy into dst (cleared first).
void contact_state_copy (contact_state_t *dst, const contact_state_t *src);

//  JSON text of the state (fresh string).
char *contact_state_encode (const contact_state_t *state);

//  Reads JSON text written by contact_state_encode. Returns 0, or -1 when
//  it is not a state (state is then cleared).
int contact_state_decode (const char *text, size_t size, contact_state_t *state);

//  -------------------------------------------------------------------
//  Events

typedef enum { CONTACT_FROM_BIRD = 1, CONTACT_FROM_HUBSPOT = 2 } contact_origin_t;

typedef struct {
    contact_origin_t origin;
    char *kind;       //  "whatsapp.inbound", "conversation.created", "contact",
                      //  "conversation.started", "contact.creation", ...
    char *bird_id;    //  Bird events: the contact
    char *hubspot_id; //  HubSpot events: objectId
    //  Bird events: what the event carries about the contact (raw)
    char *display_name;
    char *phones[CONTACT_MAX_IDENTIFIERS];
    size_t phone_count;
    char *emails[CONTACT_MAX_IDENTIFIERS];
    size_t email_count;
    bool complete; //  a whole contact record: no need to fetch it
    //  HubSpot propertyChange
    char *property_name;
    char *property_value;
    //  For conflict resolution and the audit trail
    int64_t time_ms; //  the event's time (envelope time), 0 = unknown
    char *event_id;  //  the message id
    //  Bird: the contact's attributes (owned) and a conversation's status
    json_t *attributes;
    char *conversation_status;
} contact_event_t;

//  The parsers of a contact to sync, one per route. Each reads msg's data
//  as the runtime decoded it once (data; NULL when it is not JSON) and
//  takes time_ms and event_id from the envelope. ZHUB_OK with *event
//  filled, ZHUB_NOTFOUND when the message names no contact contact-sync
//  handles (ack and move on; reason says so), ZHUB_REJECT with a reason
//  when it is malformed.

//  webhook.bird.>: a channels message (its sender or receiver), a
//  conversation (its first contact participant and its status), or a
//  contact event (the whole record).
zhub_rc_t contact_sync_parse_bird (const zhub_msg_t *msg, const json_t *data,
                                   contact_event_t *event, char *reason, size_t reason_size);

//  webhook.hubspot.contact.> of kind CONTACT_HUBSPOT_CONTACT
//  (contact_sync_hubspot_kind): contact.creation and contact.propertyChange
//  are read; any other type is ZHUB_NOTFOUND.
zhub_rc_t contact_sync_parse_hubspot (const zhub_msg_t *msg, const json_t *data,
                                      contact_event_t *event, char *reason, size_t reason_size);

//  conversation.started {bird_contact_id, status?}: the conversation's
//  status ("active" when absent) goes to the mapped conversation.status.
zhub_rc_t contact_sync_parse_conversation (const zhub_msg_t *msg, const json_t *data,
                                           contact_event_t *event, char *reason,
                                           size_t reason_size);

void contact_event_clear (contact_event_t *event);

//  -------------------------------------------------------------------
//  Routes
//
//  The topics contact-sync consumes. main.c routes each to a handler of its
//  own (contact_sync_io.h); `zhub dlq replay --dry-run` reads a dead letter
//  by the same route (contact_sync_route) with the same parsers.
//
//    webhook.bird.>             contact_sync_parse_bird, then the plan
//    webhook.hubspot.contact.>  contact_sync_hubspot_kind says which parser:
//                               contact_sync_parse_hubspot (then the plan),
//                               _parse_lifecycle, or _parse_privacy (an erase)
//    conversation.started       contact_sync_parse_conversation, then the plan
//    contact.reconcile          a search of what HubSpot changed since
//    contact.erase              contact_sync_parse_erase

#define CONTACT_TOPIC_BIRD "webhook.bird.>"
#define CONTACT_TOPIC_HUBSPOT "webhook.hubspot.contact.>"
#define CONTACT_TOPIC_CONVERSATION "conversation.started"
#define CONTACT_TOPIC_RECONCILE "contact.reconcile"
#define CONTACT_TOPIC_ERASE "contact.erase"

typedef enum {
    CONTACT_ROUTE_NONE = 0, //  not a topic contact-sync consumes
    CONTACT_ROUTE_BIRD,
    CONTACT_ROUTE_HUBSPOT,
    CONTACT_ROUTE_CONVERSATION,
    CONTACT_ROUTE_RECONCILE,
    CONTACT_ROUTE_ERASE
} contact_route_t;

//  The route of a topic (the pattern it matches, as the runtime matches it).
contact_route_t contact_sync_route (const char *topic);

//  What a HubSpot contact webhook is, by its subscriptionType (else
//  eventType, else the topic's last part; an unsplit batch of one read as
//  its one event).
typedef enum {
    CONTACT_HUBSPOT_CONTACT = 1, //  anything else: contact_sync_parse_hubspot
    CONTACT_HUBSPOT_LIFECYCLE,   //  contact.merge, contact.deletion: contact_sync_parse_lifecycle
    CONTACT_HUBSPOT_PRIVACY      //  contact.privacyDeletion: contact_sync_parse_privacy
} contact_hubspot_kind_t;

contact_hubspot_kind_t contact_sync_hubspot_kind (const char *topic, const json_t *data);

//  -------------------------------------------------------------------
//  Lifecycle: HubSpot contact.merge and contact.deletion

#define CONTACT_MAX_MERGED 16

typedef struct {
    bool merge;                           //  true: contact.merge; false: contact.deletion
    char *object_id;                      //  deletion: the contact
    char *primary_id;                     //  merge: primaryObjectId (the winner)
    char *new_id;                         //  merge: newObjectId (or the primary when absent)
    char *merged_ids[CONTACT_MAX_MERGED]; //  merge: mergedObjectIds
    size_t merged_count;
} contact_lifecycle_t;

//  Reads webhook.hubspot.contact.merge / .deletion (.privacyDeletion is an
//  erase: contact_sync_parse_privacy). ZHUB_OK, ZHUB_NOTFOUND (another
//  type), ZHUB_REJECT when malformed.
zhub_rc_t contact_sync_parse_lifecycle (const char *topic, const json_t *data,
                                        contact_lifecycle_t *event, char *reason,
                                        size_t reason_size);

void contact_lifecycle_clear (contact_lifecycle_t *event);

//  Applies a merge to the states of the Bird contacts linked to any of the
//  merged HubSpot ids (in place): the one linked to the primary (else the
//  first) is linked to the merge's result; the others are unlinked, since
//  the surviving contact's bird_contact_id names only one of them.
void contact_sync_apply_merge (const contact_lifecycle_t *merge, contact_state_t *states,
                               size_t count);

//  Applies a deletion: unlinks the state (hubspot_id cleared, unlinked set).
void contact_sync_apply_deletion (contact_state_t *state);

//  The audit entry of a merge or deletion for one Bird contact, whose
//  state is as after contact_sync_apply_*: field hubspot_contact_id, winner
//  hubspot at the event's time, decision deleted_in_hubspot, merged or
//  unlinked_by_merge, old (old_id, the HubSpot id it had) and new (the one
//  it has). A fresh object.
json_t *contact_sync_relink_entry (const contact_lifecycle_t *event, const contact_state_t *state,
                                   const char *old_id, int64_t time_ms, const char *event_id);

//  -------------------------------------------------------------------
//  Erase (GDPR): contact.erase and HubSpot's contact.privacyDeletion
//
//  contact-sync is the one consumer of contact.erase. It finds the person
//  from what it keeps, deletes every record about them, turns their audit
//  entries into tombstones, optionally deletes them in HubSpot and Bird,
//  and announces contact.forget (the identifiers every other actor and the
//  broker erase on) and contact.forgotten. The pure parts are here; the
//  store and the calls are in contact_sync_erase_io.c.

//  Longest request id: the one every actor reading contact.forget accepts.
#define CONTACT_ERASE_REQUEST_MAX ZHUB_FORGET_REQUEST_MAX
#define CONTACT_ERASE_MAX_PERSONS 16 //  states one identifier may match
#define CONTACT_ERASE_ACTOR "contact-sync"

//  What the identifier names (contact_sync_erase_classify).
typedef enum {
    CONTACT_ERASE_BY_EMAIL = 1, //  contains "@": an e-mail, case-insensitive
    CONTACT_ERASE_BY_PHONE,     //  starts with "+": a phone
    CONTACT_ERASE_BY_DIGITS,    //  all digits: a HubSpot id when one is known, else a phone
    CONTACT_ERASE_BY_HUBSPOT,   //  privacyDeletion's objectId: a HubSpot id, nothing else
    CONTACT_ERASE_BY_BIRD       //  anything else: a Bird contact id
} contact_erase_by_t;

typedef struct {
    char *request;    //  the erase request id
    char *identifier; //  what the operator typed (trimmed), or the objectId
    bool upstream;    //  also delete the person in HubSpot and Bird
    bool privacy;     //  from HubSpot's contact.privacyDeletion
    contact_erase_by_t by;
    char phone[CONTACT_PHONE_MAX + 1]; //  PHONE, DIGITS: E.164, "" when not a phone
    char email[CONTACT_EMAIL_MAX + 1]; //  EMAIL: lower case, "" when not an address
    //  Set by the I/O side: the digits named a HubSpot id it knew (or knew
    //  once, before HubSpot deleted the contact).
    bool hubspot_known;
} contact_erase_t;

//  Reads contact.erase's data {"request", "identifier", "upstream"?}.
//  ZHUB_OK with *erase filled, ZHUB_REJECT with a reason when malformed
//  (no request or identifier, a request with "|" or control bytes or
//  longer than CONTACT_ERASE_REQUEST_MAX, an upstream not a boolean).
zhub_rc_t contact_sync_parse_erase (const json_t *data, contact_erase_t *erase, char *reason,
                                    size_t reason_size);

//  Reads webhook.hubspot.contact.privacyDeletion as an erase: request
//  "hubspot-privacy-<objectId>", identifier objectId, upstream false.
//  ZHUB_OK, ZHUB_NOTFOUND for another type, ZHUB_REJECT without a usable
//  objectId.
zhub_rc_t contact_sync_parse_privacy (const char *topic, const json_t *data, contact_erase_t *erase,
                                      char *reason, size_t reason_size);

void contact_erase_clear (contact_erase_t *erase);

//  Sets erase->by, phone and email from identifier (hubspot_id: it is a
//  HubSpot record id, as privacyDeletion's objectId is). Phones are
//  normalised to E.164 ("+52 1 55 1234 5678" and "5215512345678" both give
//  +525512345678); digits are read as a phone with its "+" left out.
void contact_sync_erase_classify (const char *identifier, bool hubspot_id, contact_erase_t *erase);

//  True when the state is the person the erase names by e-mail (either
//  side's), phone (either side's), Bird id or HubSpot id. DIGITS match as
//  a phone: the HubSpot id lookup is the I/O side's (by its id map).
bool contact_sync_erase_matches (const contact_erase_t *erase, const contact_state_t *state);

//  The Bird contact id of an audit entry recording that HubSpot deleted
//  the contact hubspot_id linked to it (decision deleted_in_hubspot), or
//  NULL. HubSpot sends contact.deletion beside contact.privacyDeletion, in
//  any order: after the deletion only the audit trail still links the two.
const char *contact_sync_audit_deleted_link (const json_t *entry, const char *hubspot_id);

//  The tombstone of an audit entry: time, actor, object, field, winner,
//  decision, event id and the sides' times are kept; every value (old,
//  new, the contact's ids) goes; "erased": true and "erase_request" are
//  added. A fresh object.
json_t *contact_sync_audit_tombstone (const json_t *entry, const char *request);

//  The audit entry of the erase itself (a tombstone from the start):
//  decision "erased", the records removed, whether upstream was asked.
json_t *contact_sync_erase_entry (const contact_erase_t *erase, const char *event_id,
                                  size_t removed);

//  Data of contact.forget for the persons found (count 0: nobody):
//  {"request", "bird_contact_id"?, "hubspot_contact_id"?, "phone"?, "email"?,
//   "identifiers": [every id, phone and e-mail known of them, the
//   identifier as typed, each phone with and without "+" (and, for a
//   Mexican mobile, with and without the old "1" after 52), no duplicates],
//   "upstream": true when the erase asked for it (others delete in their
//   outside systems too)}.
//  The single fields are the first person's; with nobody found, what the
//  identifier itself is (an e-mail, a valid phone, a Bird id, or
//  privacyDeletion's HubSpot id). A fresh object.
json_t *contact_sync_forget_data (const contact_erase_t *erase, const contact_state_t *states,
                                  size_t count);

//  contact.forget: subject erase:<request>, id forget:<request>, data as
//  above (borrowed); the same request always gives the same id, so the
//  broker's dedup drops what a redelivery publishes again. A new message.
//  (contact.forgotten is zhub_forget_answer (CONTACT_ERASE_ACTOR, ...).)
zhub_msg_t *contact_sync_forget_msg (const zhub_msg_t *input, const contact_erase_t *erase,
                                     const json_t *data, int64_t now_ms);

//  -------------------------------------------------------------------
//  Plans

typedef enum { CONTACT_API_HUBSPOT = 1, CONTACT_API_BIRD = 2 } contact_api_t;

//  The calls a plan makes, each through the typed connector function
//  named (actors/connectors: the paths are the connectors', nowhere else).
typedef enum {
    CONTACT_OP_NONE = 0,
    CONTACT_OP_BIRD_GET,       //  zhub_bird_contact_get (id)
    CONTACT_OP_BIRD_WRITE,     //  zhub_bird_contact_update (id), or without id
                               //  zhub_bird_contact_upsert (key, value)
    CONTACT_OP_HUBSPOT_GET,    //  zhub_hubspot_contact_get (id, properties)
    CONTACT_OP_HUBSPOT_UPSERT, //  zhub_hubspot_contacts_upsert (keyed on bird_contact_id)
    CONTACT_OP_HUBSPOT_UPDATE, //  zhub_hubspot_contact_update (id), after a 409
    CONTACT_OP_HUBSPOT_LINK,   //  zhub_hubspot_contact_update (id): bird_contact_id
    CONTACT_OP_BIRD_LINK       //  zhub_bird_contact_update (id): attribute hubspot_contact_id
} contact_op_t;

typedef struct {
    contact_api_t api;
    contact_op_t op;
    const char *method; //  what the op sends: "GET", "POST", "PATCH"
    char *id;           //  the record: the Bird contact (BIRD_*) or the HubSpot one
                        //  (HUBSPOT_GET, _UPDATE, _LINK); NULL for HUBSPOT_UPSERT and
                        //  a BIRD_WRITE by identifier
    const char *key;    //  a BIRD_WRITE by identifier: "phonenumber" or "emailaddress"
    char *value;        //  ... and its value
    char *properties;   //  HUBSPOT_GET: what to read (a comma list)
    json_t *body;       //  owned, or NULL
    const char *what;   //  names the call in reasons: "hubspot upsert contact"
} contact_call_t;

//  The path the call goes to (the connector's, as it sends it; for Bird,
//  under the workspace), for showing a call before it is made. A fresh
//  string, or NULL for CONTACT_OP_NONE.
char *contact_sync_call_path (const contact_call_t *call);

typedef enum {
    CONTACT_PLAN_IGNORE = 0, //  nothing for contact-sync in this message
    CONTACT_PLAN_SKIP,       //  about a contact, but nothing to write (echo, duplicate)
    CONTACT_PLAN_REJECT,     //  invalid record: dead-letter it with reason/code
    CONTACT_PLAN_FETCH,      //  make call, then contact_sync_plan_answer with the answer
    CONTACT_PLAN_WRITE,      //  make call, then contact_sync_plan_answer with the answer
    CONTACT_PLAN_DONE,       //  commit next, publish contact.synced, ack
    CONTACT_PLAN_QUEUED      //  the HubSpot upsert waits for the batch: commit next with
                             //  the intent, ack; the flush resumes it (contact_sync_plan_queued)
} contact_plan_kind_t;

typedef struct {
    contact_plan_kind_t kind;
    contact_call_t call;
    uint32_t code;                            //  REJECT: zhub_reason_t
    char reason[256];                         //  REJECT, SKIP, IGNORE: why
    const char *direction;                    //  "bird_to_hubspot" / "hubspot_to_bird"
    const char *changed[CONTACT_MAX_CHANGED]; //  field names written (static strings, or
                                              //  strings that outlive the plan)
    size_t changed_count;
    contact_state_t next;       //  the state to commit once DONE
    bool link_hubspot;          //  after the Bird write, set bird_contact_id
    json_t *hubspot_properties; //  the properties of a Bird -> HubSpot write
    //  Audit entries (JSON objects: actor, object, field, old, new, winner,
    //  bird_time, hubspot_time, decision, event_id); the I/O side adds
    //  "time" and appends them, for DONE and for SKIP plans alike.
    json_t *audit;
} contact_plan_t;

void contact_plan_init (contact_plan_t *plan);
void contact_plan_clear (contact_plan_t *plan);

//  Step 1: what to do with an event, given the stored state of its contact
//  (NULL when none).
void contact_sync_plan_event (const contact_event_t *event, const contact_state_t *state,
                              const contact_sync_config_t *config, contact_plan_t *plan);

//  Step 2, after a FETCH answered 2xx with answer (the Bird or HubSpot
//  contact). state may have been looked up again (see
//  contact_sync_answer_bird_id).
void contact_sync_plan_fetched (const contact_event_t *event, const contact_state_t *state,
                                const json_t *answer, const contact_sync_config_t *config,
                                contact_plan_t *plan);

//  The value HubSpot holds of a property, as far as the state knows: the
//  built-in fields (firstname, lastname, phone, email), then the mapped
//  ones; NULL when none is known.
const char *contact_sync_known_hubspot (const contact_state_t *state, const char *name);

//  The bird_contact_id a fetched HubSpot contact carries, or NULL. Lets
//  the I/O side find the state of a contact known by its Bird id.
const char *contact_sync_answer_bird_id (const json_t *answer);

//  HubSpot answered 409 to the upsert: a contact with the same e-mail
//  exists ("... Existing ID: 501"). Replaces the call with an update of
//  that contact. Returns ZHUB_OK, or ZHUB_REJECT (plan set to REJECT) when
//  the answer names no id.
zhub_rc_t contact_sync_plan_conflict (contact_plan_t *plan, const json_t *answer);

//  The record id a HubSpot 409 names ("Contact already exists. Existing
//  ID: 501") into id (digits only); 0, or -1 when it names none.
int contact_sync_conflict_id (const json_t *answer, char *id, size_t id_size);

//  HubSpot refused for good to hold properties (what a Bird -> HubSpot
//  write sent, as written) for the contact of state. The state stops
//  claiming either side holds those values, so the next change of the
//  contact (or a replay of the message) is compared with nothing and the
//  values are written again, once they are valid; a value the state holds
//  that differs from the refused one (newer) is left alone. Field versions
//  (last writer wins) stay.
void contact_sync_withdraw (contact_state_t *state, const json_t *properties);

//  After a WRITE answered 2xx: reads the record ids from answer into
//  plan->next. The plan becomes DONE, or another WRITE (linking the
//  HubSpot contact to the Bird one), or REJECT when the answer lacks the
//  id.
void contact_sync_plan_written (contact_plan_t *plan, const json_t *answer);

//  A HubSpot write that waited for the batch (QUEUED), resumed by the
//  flush as the WRITE it was: the upsert of properties (what HubSpot should
//  end up with) for the contact of state (as stored now; its next state),
//  bird_to_hubspot, with the names of every change merged into it (changed,
//  borrowed: it must outlive the plan) and their audit entries (audit,
//  copied; NULL for none). The flush sends it with others in one batch
//  call, and the answer for it goes through contact_sync_plan_answer as
//  any other.
void contact_sync_plan_queued (const contact_state_t *state, const json_t *properties,
                               const json_t *changed, const json_t *audit, contact_plan_t *plan);

//  -------------------------------------------------------------------
//  The plan as a state machine
//
//  A plan's kind is its state; the answer to the call a FETCH or WRITE
//  names is the event; contact_sync_plan_answer is the table. One executor
//  (contact_sync_exec.c) drives it: it makes the call (through the typed
//  connector function of the op), reads the answer, takes the step, and
//  when the plan rests, commits what it says. A message handled at once,
//  a write queued for the batch and the batch flush all go through it.
//
//  | state | op             | answer   | action                     | next                   |
//  |-------|----------------|----------|----------------------------|------------------------|
//  | FETCH | any            | OK       | contact_sync_plan_fetched  | SKIP, REJECT, WRITE    |
//  | WRITE | any            | OK       | contact_sync_plan_written  | WRITE (a link), DONE,  |
//  |       |                |          |                            | REJECT                 |
//  | WRITE | HUBSPOT_UPSERT | CONFLICT | contact_sync_plan_conflict | WRITE (update), REJECT |
//  | WRITE | HUBSPOT_UPSERT | QUEUED   | (the call waits)           | QUEUED                 |
//  | WRITE | BIRD_LINK      | QUEUED   | contact_sync_plan_written  | DONE                   |
//  | *     | *              | *        | reject: no step            | REJECT                 |
//
//  Before FETCH × OK of a HubSpot contact it has no state for, the executor
//  looks the state up by the record's bird_contact_id
//  (contact_sync_answer_bird_id). A call that failed ends the run with the
//  one classification (zhub_retry): the message is retried or
//  dead-lettered; in the flush, its intent waits or is dead-lettered.
//
//  Where the plan rests, the executor:
//    DONE    commits next, the id map, the audit entries and contact.synced
//            (contact_sync_synced_msg) in one transaction; the flush also
//            drops the intent and keeps a new HubSpot id for the Bird link
//    SKIP    commits the audit entries (a change that lost)
//    QUEUED  commits next with the intent (contact_sync_store_queue)
//    IGNORE  acks
//    REJECT  dead-letters (the flush: the intent's own dead letter)

typedef enum {
    CONTACT_ANSWER_OK = 1,   //  2xx: the record read (FETCH) or written (WRITE)
    CONTACT_ANSWER_CONFLICT, //  HubSpot's 409 to the upsert: its error, naming the contact
    CONTACT_ANSWER_QUEUED    //  batching: the call waits (an upsert for the flush, a Bird
                             //  link for the tick); no answer
} contact_answer_t;

//  One step of the table above: moves plan (FETCH or WRITE) by the answer
//  (json, NULL for QUEUED) to its call. event, state and config are what
//  the plan started from (state NULL when none). A pair the table does
//  not name makes the plan REJECT (an internal error, with the pair).
void contact_sync_plan_answer (contact_plan_t *plan, contact_answer_t answer, const json_t *json,
                               const contact_event_t *event, const contact_state_t *state,
                               const contact_sync_config_t *config);

//  -------------------------------------------------------------------
//  The result event

//  contact.synced for a DONE plan (zhub_contact_synced_msg): id
//  zhub_id_derive ("cs-", id_of, 16), so that the same cause always gives
//  the same id and a redelivery cannot publish two events (id_of: the
//  message's id; for a batched write, the first cause's id + ":batch");
//  subject contact:<bird id>, data {bird_contact_id, hubspot_contact_id,
//  changed, direction, cause_id (NULL: left out)}. A new message, or NULL
//  with a reason when the plan breaks the catalogue.
zhub_msg_t *contact_sync_synced_msg (const contact_plan_t *plan, const char *id_of,
                                     const char *cause_id, const char *traceparent, int64_t now_ms,
                                     char *reason, size_t reason_size);

#endif
