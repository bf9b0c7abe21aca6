//  contact-sync's pure core: Bird <-> HubSpot contact mapping, validation
//  and echo suppression. No I/O: every function takes the message, the
//  current state and (for later steps) the answers of earlier calls, and
//  returns a plan — the next call to make and the state to write. The I/O
//  side (contact_sync_io.c) runs the plan step by step:
//
//    contact_sync_parse          message -> contact_event_t (or "not for us")
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
#define CONTACT_MAX_CHANGED 8
#define CONTACT_MAX_IDENTIFIERS 8 //  phones / e-mails read from one Bird contact
#define CONTACT_PHONE_MAX 16      //  "+" and up to 15 digits (E.164)
#define CONTACT_EMAIL_MAX 254
//  The HubSpot properties read when a HubSpot contact changes.
#define CONTACT_HUBSPOT_PROPERTIES "email,phone,firstname,lastname,bird_contact_id"

#define CONTACT_MAX_FIELDS 16 //  mapped fields beyond name, phone and e-mail

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

//  Reads a bus message (time_ms and event_id come from the envelope).
//  Returns ZHUB_OK with *event filled, ZHUB_NOTFOUND
//  when the message names no contact contact-sync handles (ack and move
//  on), ZHUB_REJECT with a reason when it is malformed.
zhub_rc_t contact_sync_parse (const zhub_msg_t *msg, contact_event_t *event, char *reason,
                              size_t reason_size);

//  Same, from the topic and the data as JSON (what contact_sync_parse uses).
zhub_rc_t contact_sync_parse_json (const char *topic, const json_t *data, contact_event_t *event,
                                   char *reason, size_t reason_size);

void contact_event_clear (contact_event_t *event);

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
//  erase: contact_sync_parse_erase). ZHUB_OK, ZHUB_NOTFOUND (another
//  topic), ZHUB_REJECT when malformed.
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

//  Reads contact.erase {"request", "identifier", "upstream"?} or
//  webhook.hubspot.contact.privacyDeletion (request "hubspot-privacy-<objectId>",
//  identifier objectId, upstream false). ZHUB_OK with *erase filled,
//  ZHUB_NOTFOUND for any other message, ZHUB_REJECT with a reason when
//  malformed (no request or identifier, a request with "|" or control
//  bytes or longer than CONTACT_ERASE_REQUEST_MAX).
zhub_rc_t contact_sync_parse_erase (const char *topic, const json_t *data, contact_erase_t *erase,
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

//  contact.forget from contact-sync replica `replica` (its instance; may
//  be NULL): subject erase:<request>, id forget:<request>~<replica>
//  (forget:<request> without one), data as above (borrowed) with
//  "replica" added; the same request always gives the same id, so the
//  broker's dedup drops what a redelivery publishes again, while each
//  replica's forget (each names what its own store knew) is kept. A new
//  message. (contact.forgotten is zhub_forget_answer (CONTACT_ERASE_ACTOR, ...).)
zhub_msg_t *contact_sync_forget_msg (const zhub_msg_t *input, const contact_erase_t *erase,
                                     const char *replica, const json_t *data, int64_t now_ms);

//  -------------------------------------------------------------------
//  Plans

typedef enum { CONTACT_API_HUBSPOT = 1, CONTACT_API_BIRD = 2 } contact_api_t;

typedef enum {
    CONTACT_OP_NONE = 0,
    CONTACT_OP_BIRD_GET,       //  GET /contacts/{id}
    CONTACT_OP_BIRD_WRITE,     //  PATCH /contacts/identifiers/... or /contacts/{id}
    CONTACT_OP_HUBSPOT_GET,    //  GET /crm/v3/objects/contacts/{id}?properties=...
    CONTACT_OP_HUBSPOT_UPSERT, //  POST /crm/v3/objects/contacts/batch/upsert
    CONTACT_OP_HUBSPOT_UPDATE, //  PATCH /crm/v3/objects/contacts/{id} (after a 409)
    CONTACT_OP_HUBSPOT_LINK,   //  PATCH /crm/v3/objects/contacts/{id} bird_contact_id
    CONTACT_OP_BIRD_LINK       //  PATCH /contacts/{id}: attribute hubspot_contact_id
} contact_op_t;

typedef struct {
    contact_api_t api;
    contact_op_t op;
    const char *method; //  "GET", "POST", "PATCH"
    char *path;         //  HubSpot: from the root; Bird: under /workspaces/{ws}
    json_t *body;       //  owned, or NULL
    const char *what;   //  names the call in reasons: "hubspot upsert contact"
} contact_call_t;

typedef enum {
    CONTACT_PLAN_IGNORE = 0, //  nothing for contact-sync in this message
    CONTACT_PLAN_SKIP,       //  about a contact, but nothing to write (echo, duplicate)
    CONTACT_PLAN_REJECT,     //  invalid record: dead-letter it with reason/code
    CONTACT_PLAN_FETCH,      //  make call, then contact_sync_plan_fetched with the answer
    CONTACT_PLAN_WRITE,      //  make call, then contact_sync_plan_written with the answer
    CONTACT_PLAN_DONE        //  commit next, publish contact.synced, ack
} contact_plan_kind_t;

typedef struct {
    contact_plan_kind_t kind;
    contact_call_t call;
    uint32_t code;                            //  REJECT: zhub_reason_t
    char reason[256];                         //  REJECT, SKIP, IGNORE: why
    const char *direction;                    //  "bird_to_hubspot" / "hubspot_to_bird"
    const char *changed[CONTACT_MAX_CHANGED]; //  field names written (static strings)
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

//  -------------------------------------------------------------------
//  The result event

//  The id of the contact.synced event caused by input message input_id:
//  "cs-" + 32 hex of SHA-256(input_id). The same input always gives the
//  same id, so a redelivery cannot publish two different events.
void contact_sync_synced_id (const char *input_id, char *out, size_t out_size);

//  contact.synced for a DONE plan: subject contact:<bird id>, source
//  zhub/contact-sync, data {bird_contact_id, hubspot_contact_id, changed,
//  direction, cause_id}. Returns a new message.
zhub_msg_t *contact_sync_synced_msg (const zhub_msg_t *input, const contact_plan_t *plan,
                                     int64_t now_ms);

#endif
