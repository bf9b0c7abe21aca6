//  GDPR erase in the broker's retained log (the pure part).
//
//  contact-sync answers `zhub erase contact` with a `contact.forget`
//  message naming every identifier of the person (ids, phone, email). Once
//  every group subscribed to it has processed it, the broker rewrites each
//  retained record that mentions one of them with its data replaced by
//  {"zhub_erased": true}, clears the failure reasons stored for it, then
//  compacts its store (broker_server_erase.c). What "mentions" means, and
//  how the message is read, is zhub_forget.h's, as in every actor; this
//  file builds the redacted envelope. No I/O.
#ifndef BROKER_ERASE_H
#define BROKER_ERASE_H

#include "zhub_common.h"
#include "zhub_forget.h"

#include <stddef.h>
#include <stdint.h>

#define BROKER_ERASE_TOPIC ZHUB_FORGET_TOPIC
//  The request contact-sync answers with contact.forget. Every replica of
//  contact-sync searches its own store, so the log is not redacted before
//  every group taking it is past the forget too: the request itself names
//  the person, and a replica still to handle it would get it redacted,
//  ack it untouched and never publish its own forget.
#define BROKER_ERASE_REQUEST_TOPIC "contact.erase"
#define BROKER_ERASED_TOPIC "contact.erased"

//  The envelope with its data replaced by {"zhub_erased": true} and its
//  subject set to "erased" when it mentions the person
//  (zhub_forget_mentions_text); id, type, source and time are kept (the id
//  stays in the dedup window), the traceparent goes. Returns 0, or -1 when
//  the envelope cannot be decoded.
int broker_erase_redact (const uint8_t *envelope, size_t size, const zhub_forget_t *f,
                         uint8_t **out, size_t *out_size);

#endif
