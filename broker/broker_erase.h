//  GDPR erase in the broker's retained log (the pure part).
//
//  contact-sync answers `zhub erase contact` with a `contact.forget`
//  message naming every identifier of the person (ids, phone, email). Once
//  every group subscribed to it has processed it, the broker rewrites each
//  retained record that mentions one of them with its data replaced by
//  {"zhub_erased": true}, clears the failure reasons stored for it, then
//  compacts its store (broker_server_erase.c). This file decides what
//  "mentions" means and builds the redacted envelope; no I/O.
#ifndef BROKER_ERASE_H
#define BROKER_ERASE_H

#include "zhub_common.h"

#include <stddef.h>
#include <stdint.h>

#define BROKER_ERASE_TOPIC "contact.forget"
#define BROKER_ERASED_TOPIC "contact.erased"
#define BROKER_ERASE_MAX_NEEDLES 16

typedef struct {
    char *request;                          //  data.request of the contact.forget
    char *items[BROKER_ERASE_MAX_NEEDLES];  //  identifiers, without duplicates
    size_t count;
} broker_needles_t;

//  Reads the identifiers of a contact.forget message's data (msgpack map:
//  "identifiers" array plus bird_contact_id, hubspot_contact_id, phone,
//  email). Empty strings are skipped; a phone is also searched without its
//  "+". Returns 0, or -1 when data is not a map or names no identifier.
int broker_needles_from_data (const uint8_t *data, size_t size, broker_needles_t *needles);

//  Encodes / decodes needles for the erasures table (msgpack). 0 or -1.
int broker_needles_encode (const broker_needles_t *needles, uint8_t **buf, size_t *size);
int broker_needles_decode (const uint8_t *buf, size_t size, broker_needles_t *needles);

void broker_needles_clear (broker_needles_t *needles);

//  True when a msgpack value (an envelope, or a dead letter wrapping one)
//  mentions the person: a string holding an identifier of 5 bytes or more
//  (emails case-insensitively), a string equal to a shorter one, or an
//  integer equal to a numeric one (HubSpot's objectId is an integer).
//  Binary values are searched as nested msgpack.
bool broker_erase_mentions (const uint8_t *bytes, size_t size, const broker_needles_t *needles);

//  The envelope with its data replaced by {"zhub_erased": true} and its
//  subject cleared when it mentions the person; id, type, source and time
//  are kept (the id stays in the dedup window). Returns 0, or -1 when the
//  envelope cannot be decoded.
int broker_erase_redact (const uint8_t *envelope, size_t size, const broker_needles_t *needles,
                         uint8_t **out, size_t *out_size);

#endif
