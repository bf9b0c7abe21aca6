//  Calendly webhooks v2: `Calendly-Webhook-Signature: t=<unix s>,v1=<hex>`
//  with v1 = hex(HMAC-SHA256(signing key, t + "." + raw body)), and the
//  envelope {created_at, created_by, event, payload{invitee}} turned into
//  one message. Pure; see provider.h. Facts: https://developer.calendly.com/api-docs.
#ifndef ZHUB_CALENDLY_H
#define ZHUB_CALENDLY_H

#include "provider.h"

//  Calendly's own example middleware rejects signatures older than three
//  minutes; each retry is signed afresh, so a short window costs nothing.
#define ZHUB_CALENDLY_MAX_AGE_MS (3 * 60 * 1000)
#define ZHUB_CALENDLY_MAX_FUTURE_MS (5 * 60 * 1000)

extern const zhub_provider_t zhub_provider_calendly;

//  The header value Calendly would send for this body at time t (unix
//  seconds, as text) into out (at least 80 bytes).
void zhub_calendly_signature (const char *key, const char *t, const char *body, size_t body_size,
                              char *out, size_t out_size);

#endif
