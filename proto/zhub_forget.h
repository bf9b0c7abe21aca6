//  Forgetting a person (GDPR erase): the one reading of `contact.forget`,
//  the one rule for "does this mention the person", and the one
//  `contact.forgotten` answer. See docs/operations.md, "Erasing a person",
//  and docs/events.md.
//
//  contact-sync publishes contact.forget with every identifier it knew of
//  the person; deal-sync, activity-log, the scheduler and dead-letter each
//  delete what they keep about them and answer contact.forgotten; the
//  broker redacts its log. All of them read the message and match stored
//  values here, so that a record one of them erases is erased by the
//  others too. Pure: no I/O.
#ifndef ZHUB_FORGET_H
#define ZHUB_FORGET_H

#include "zhub_common.h"
#include "zhub_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZHUB_FORGET_TOPIC "contact.forget"
#define ZHUB_FORGOTTEN_TOPIC "contact.forgotten"

//  The longest request id: "forgotten:<actor>:<request>" must fit an
//  envelope id (ZHUB_MSG_MAX_ID) for every actor.
#define ZHUB_FORGET_REQUEST_MAX 200
//  Identifiers one message may name: more is refused, not cut short (a
//  partial erase would go unnoticed). contact-sync sends a dozen per person.
#define ZHUB_FORGET_MAX_IDS 256
//  Longer identifiers cannot be anyone's id, phone or e-mail: ignored.
#define ZHUB_FORGET_MAX_ID_BYTES 320
//  Identifiers shorter than this (a small HubSpot id such as "501") are
//  only matched as whole values: see zhub_forget_mentions_text.
#define ZHUB_FORGET_SHORT_ID 6

typedef struct {
    char *request;            //  data.request: names the answer
    char *bird_contact_id;    //  the named fields as sent (an integer as its
    char *hubspot_contact_id; //  decimal text), or NULL
    char *phone;
    char *email;
    char **ids;      //  every identifier: the named fields, then identifiers[],
    size_t id_count; //  no duplicates (ASCII case ignored), phones both ways
    bool upstream;   //  data.upstream: delete in the outside systems too
                     //  (`zhub erase contact --upstream`), e.g. the calendar
                     //  events the scheduler made for the person
    char *replica;   //  data.replica: the contact-sync replica (its instance,
                     //  PROTOCOL.md 7.8) that published this forget, or NULL.
                     //  Every contact-sync replica searches its own store and
                     //  publishes its own forget; this tells them apart.
} zhub_forget_t;

//  Reads the data of a contact.forget (msgpack bytes of a map): "request"
//  (required, a string of 1 to ZHUB_FORGET_REQUEST_MAX bytes), the named
//  fields bird_contact_id, hubspot_contact_id, phone and email, the array
//  "identifiers", "upstream" (true, or absent / anything else: false) and
//  "replica" (absent, or an instance name: 1 to 64 bytes of [A-Za-z0-9_-]).
//  An identifier is a
//  string or an integer (kept as its decimal text); empty ones, other types and ones longer than
//  ZHUB_FORGET_MAX_ID_BYTES are skipped. A phone-like identifier ("+" and
//  7 to 15 digits, or those digits alone) is also kept in its other form,
//  without / with the "+". Returns ZHUB_OK with *f filled (no identifier
//  at all is valid: there is nothing to remove), or ZHUB_REJECT with a
//  reason when the data is not a map, has no usable request, a replica that
//  is not an instance name, or names more than ZHUB_FORGET_MAX_IDS
//  identifiers. Either way call zhub_forget_clear.
zhub_rc_t zhub_forget_parse_data (const uint8_t *data, size_t size, zhub_forget_t *f, char *reason,
                                  size_t reason_size);

//  The same on a message's data.
zhub_rc_t zhub_forget_parse (const zhub_msg_t *msg, zhub_forget_t *f, char *reason,
                             size_t reason_size);

//  The data of a contact.forget for f (request, the named fields that are
//  set, replica when set, identifiers), which zhub_forget_parse_data reads back to the same
//  f. A fresh msgpack buffer in *data (free it).
void zhub_forget_encode (const zhub_forget_t *f, uint8_t **data, size_t *size);

void zhub_forget_clear (zhub_forget_t *f);

//  -------------------------------------------------------------------
//  The matching rule (one for every store)
//
//  A stored id is the person's when it equals one of the identifiers,
//  ASCII case ignored (zhub_forget_is).
//
//  Text mentions the person (zhub_forget_mentions_text) when it holds one
//  of the identifiers, ASCII case ignored, as a whole token: where the
//  identifier begins or ends with a letter or digit, the text must not
//  carry on with a letter or digit on that side; for an e-mail address (an
//  identifier with "@") not with one of ". _ - + @" and a letter or digit
//  beyond it either, as that would still be part of an address. So
//  "ana@example.com" is in "mailto:ana@example.com." but not in
//  "diana@example.com", "x.ana@example.com" nor "ana@example.com.mx";
//  "5215512345678" is in "+5215512345678" and "wa-5215512345678-1" but not
//  in "15215512345678"; "+5215512345678" is a token after anything.
//  An identifier shorter than ZHUB_FORGET_SHORT_ID is too likely to be a
//  word of unrelated text ("apartment 501"): text mentions it only by
//  being it, or by ending in ":<it>" (a subject such as
//  "hubspot:contact:501").
//
//  A msgpack value mentions the person (zhub_forget_mentions_msgpack) when
//  any string in it does (map keys included), when an integer in it equals
//  an identifier of digits (HubSpot sends objectId as a number), or when a
//  binary value does, read as nested msgpack (an envelope's data, a dead
//  letter's message). Bytes that are not a msgpack map or array are
//  searched as text.

//  True when value (may be NULL) is one of the identifiers.
bool zhub_forget_is (const zhub_forget_t *f, const char *value);

//  True when text[0, size) mentions one of the identifiers (NULL: false).
bool zhub_forget_mentions_text (const zhub_forget_t *f, const void *text, size_t size);

//  True when the msgpack bytes mention one of the identifiers (NULL: false).
bool zhub_forget_mentions_msgpack (const zhub_forget_t *f, const void *bytes, size_t size);

//  -------------------------------------------------------------------
//  The answer

//  contact.forgotten from replica `replica` (its instance, may be NULL) of
//  actor for request, answering the forget that contact-sync replica
//  `from` published (may be NULL: a forget without a replica, or
//  contact-sync's own answer to contact.erase): id
//  "forgotten:<actor>:<request>", followed by "~<replica>" and
//  "~<from>" for those set, cut to an envelope id by zhub_id_bounded
//  (the same every time, so the broker's dedup drops what a redelivery
//  publishes again, while each replica's answer to each forget is kept),
//  subject "erase:<request>", source "zhub/<actor>", the given traceparent
//  (may be NULL), data {"request", "actor", "removed"} and "replica",
//  "from" when set. A fresh message.
zhub_msg_t *zhub_forget_answer (const char *actor, const char *replica, const char *from,
                                const char *request, size_t removed, const char *traceparent,
                                int64_t now_ms);

#endif
