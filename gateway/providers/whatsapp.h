//  WhatsApp Cloud API (Meta) webhooks: the GET verification handshake
//  (hub.mode, hub.verify_token, hub.challenge), `X-Hub-Signature-256:
//  sha256=<hex HMAC-SHA256(app secret, raw body)>`, and the split of a
//  whatsapp_business_account notification into one message per inbound
//  message or status update. Pure; see provider.h. Facts:
//  https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks.
#ifndef ZHUB_WHATSAPP_H
#define ZHUB_WHATSAPP_H

#include "provider.h"

//  Meta signs no timestamp: these are unused, and a replay of a signed body
//  is collapsed by the id (the wamid) in the broker's dedup window.
#define ZHUB_WHATSAPP_MAX_AGE_MS 0
#define ZHUB_WHATSAPP_MAX_FUTURE_MS 0

//  The longest hub.challenge echoed back (Meta sends a decimal number).
#define ZHUB_WHATSAPP_CHALLENGE_MAX 256

extern const zhub_provider_t zhub_provider_whatsapp;

//  "sha256=" + hex HMAC into out (at least 72 bytes).
void zhub_whatsapp_signature (const char *app_secret, const char *body, size_t body_size, char *out,
                              size_t out_size);

#endif
