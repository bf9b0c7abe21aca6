//  The event catalogue as code: one table of every event type on the bus
//  (its subject, the fields of its data with their kinds, who produces and
//  who consumes it, an example), the check of a message against it, and
//  zhub_event_new, which builds only messages that keep to it. It is the
//  contract other services program against; docs/events.md says the same
//  in prose and a unit test holds the two together, and holds the types
//  zhub's own sources publish to the table (test_zhub_catalogue_tree).
//
//  Conventions of every entry (docs/events.md, "Reading the catalogue"):
//  - a field is checked only for its kind and range; a field given as nil
//    counts as absent;
//  - an entry is open (fields beyond those listed are allowed, as newer
//    producers add them) unless it is closed;
//  - times are RFC 3339 strings, ids strings (an integer is accepted as
//    one: HubSpot sends its ids as numbers).
//
//  Adding an event: add its entry to s_catalogue in zhub_catalogue.c,
//  then its section to docs/events.md (test_zhub_catalogue_tree --print
//  writes it out); a typed builder and parser in zhub_events.h when more
//  than one place builds or reads it. Pure: no I/O.
#ifndef ZHUB_CATALOGUE_H
#define ZHUB_CATALOGUE_H

#include "zhub_common.h"
#include "zhub_msg.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    ZHUB_FIELD_STRING = 1, //  a string; bounded: its length in bytes
    ZHUB_FIELD_ID,         //  an id: a string of 1 to ZHUB_MSG_MAX_ID bytes, or an integer >= 0
    ZHUB_FIELD_INTEGER,    //  an integer; bounded: its value
    ZHUB_FIELD_NUMBER,     //  an integer or a fraction; bounded: its value
    ZHUB_FIELD_BOOLEAN,
    ZHUB_FIELD_TIME,   //  an RFC 3339 string ("2030-01-01T10:00:00Z")
    ZHUB_FIELD_ENUM,   //  one of the strings in values
    ZHUB_FIELD_OBJECT, //  a map, its members not checked
    ZHUB_FIELD_ARRAY,  //  an array whose items are each of kind item; bounded: their count
    ZHUB_FIELD_BYTES   //  msgpack bin (no JSON form: zhub_event_check_data only)
} zhub_field_kind_t;

typedef struct {
    const char *name;
    zhub_field_kind_t kind;
    zhub_field_kind_t item; //  ARRAY: the kind of every item (not ARRAY, ENUM or BYTES)
    bool required;          //  a producer must send it
    bool bounded;           //  min and max hold (see the kinds)
    double min, max;
    const char *const *values; //  ENUM: the allowed values, NULL-terminated
    const char *about;         //  what it is, one line
} zhub_field_t;

typedef struct {
    //  The type, or the form of a family of types with <placeholders>:
    //  "dlq.<group>". A form stands for the topics its pattern matches.
    const char *type;
    const char *pattern;      //  a form's subscription pattern ("dlq.>"); NULL for a type
    const char *example_type; //  a form's type in the example ("dlq.contact-sync")
    //  The subject: "contact:<bird id>" must begin with "contact:" and go
    //  on; "reconcile" must be just that; a form in words (a space outside
    //  <...>: "the original message's subject") is not checked.
    const char *subject;
    const char *about;          //  what it means, for docs/events.md
    const zhub_field_t *fields; //  ends with a field named NULL
    bool closed;                //  no field beyond these (zhub_event_check refuses one)
    const char *producers;      //  who publishes it, as text
    const char *consumers;      //  who reads it, as text
    const char *example;        //  an example's data, as JSON (it passes zhub_event_check)
} zhub_event_spec_t;

//  The producer named by the events Bird's AI flows send through the
//  gateway's POST /v1/events. The entries whose producers name it are what
//  an events token may publish by default (gateway/tokens.c derives the
//  list from the table, so a new AI event is granted by writing it here).
#define ZHUB_CATALOGUE_AI_FLOWS "Bird AI flows (through the gateway's /v1/events)"

//  The whole catalogue, in the order docs/events.md lists it; *count gets
//  the number of entries.
const zhub_event_spec_t *zhub_catalogue (size_t *count);

//  The entry of type: the entry of that exact type, else the first form
//  whose pattern matches it (forms are listed after the types they would
//  also match: webhook.google.calendar.changed before webhook.<source>.<event>).
//  NULL when the catalogue does not know it.
const zhub_event_spec_t *zhub_catalogue_find (const char *type);

//  The field of an entry, or NULL.
const zhub_field_t *zhub_event_field (const zhub_event_spec_t *spec, const char *name);

//  The field's kind as docs/events.md writes it: "string", "id",
//  "integer 0..100", "enum: `in` `out`", "array of times (1..16)" ...
void zhub_field_describe (const zhub_field_t *field, char *out, size_t out_size);

//  -------------------------------------------------------------------
//  Checking (the reason names the field: "contact.synced: data.changed
//  must be an array of strings")

//  Checks data (a JSON object) against type's entry. ZHUB_OK; ZHUB_REJECT
//  when data is not an object, a required field is missing, a field is of
//  another kind, outside its range or enum, or not part of a closed
//  entry; ZHUB_NOTFOUND when the catalogue does not know type.
zhub_rc_t zhub_event_check (const char *type, const json_t *data, char *reason, size_t reason_size);

//  The same on data as msgpack bytes (a message's data; the only form in
//  which a BYTES field can be told apart).
zhub_rc_t zhub_event_check_data (const char *type, const uint8_t *data, size_t size, char *reason,
                                 size_t reason_size);

//  The same on a whole message: its data, and its subject against the
//  entry's subject form.
zhub_rc_t zhub_event_check_msg (const zhub_msg_t *msg, char *reason, size_t reason_size);

//  A new message of type, with these envelope attributes (subject and
//  traceparent may be NULL) and data (a JSON object, copied), or NULL with
//  a reason when the result would break the catalogue (zhub_event_check_msg)
//  or the envelope rules (zhub_msg_validate): a producer that builds its
//  messages here cannot drift from the contract.
zhub_msg_t *zhub_event_new (const char *type, const char *id, const char *source,
                            const char *subject, int64_t time_ms, const char *traceparent,
                            const json_t *data, char *reason, size_t reason_size);

#endif
