//  Standard Webhooks (https://www.standardwebhooks.com) for any sender we
//  have no provider for: POST /v1/webhooks/generic/<sender> with
//  webhook-id, webhook-timestamp (unix seconds) and webhook-signature (a
//  space-separated list of "v1,<base64 HMAC-SHA256>"), the secret a
//  "whsec_" + base64 key configured per sender. Pure; see provider.h.
//  Facts: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md.
#ifndef ZHUB_GENERIC_H
#define ZHUB_GENERIC_H

#include "provider.h"

//  The libraries reject timestamps more than 5 minutes off either way.
#define ZHUB_GENERIC_MAX_AGE_MS (5 * 60 * 1000)
#define ZHUB_GENERIC_MAX_FUTURE_MS (5 * 60 * 1000)

//  A sender name: 1..64 of [a-z0-9_-] (it becomes a topic token and the
//  suffix of ZHUB_GENERIC_SECRET_<NAME>).
#define ZHUB_GENERIC_NAME_MAX 64

//  The longest webhook-id accepted (it becomes part of the message id).
#define ZHUB_GENERIC_ID_MAX 180

extern const zhub_provider_t zhub_provider_generic;

//  Decodes a "whsec_<base64>" (or bare base64, padded or not) secret into
//  key. Returns the key size, or -1 when it is not base64 or too long.
int zhub_generic_secret_key (const char *secret, unsigned char *key, size_t key_size);

//  "v1,<base64>" for id, timestamp text and body under secret, into out
//  (at least 48 bytes). Returns 0, or -1 for a bad secret.
int zhub_generic_signature (const char *secret, const char *id, const char *timestamp,
                            const char *body, size_t body_size, char *out, size_t out_size);

#endif
