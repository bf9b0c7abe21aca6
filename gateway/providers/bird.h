//  Bird (api.bird.com) webhooks: the messagebird-signature check and the
//  envelope {"service","event","payload"} turned into one message. Pure;
//  see provider.h. Facts: https://docs.bird.com/api.
//
//  The message's data is the whole envelope (service, event, payload),
//  converted faithfully: consumers read data.payload.
#ifndef ZHUB_BIRD_H
#define ZHUB_BIRD_H

#include "provider.h"

//  Bird retries a failed delivery "over a period of 8 hours" and a retry
//  keeps the original timestamp, so a 5-minute window would drop every
//  retry. An hour of margin on top; replays inside the window are made
//  harmless by the id-based dedup on the bus.
#define ZHUB_BIRD_MAX_AGE_MS (9 * 3600 * 1000LL)
#define ZHUB_BIRD_MAX_FUTURE_MS (5 * 60 * 1000)

extern const zhub_provider_t zhub_provider_bird;

//  base64(HMAC-SHA256(key, timestamp + "\n" + url + "\n" + SHA256(body)))
//  with the body hash as 32 raw bytes, into out (at least 45 bytes).
void zhub_bird_signature (const char *key, const char *timestamp, const char *url, const char *body,
                          size_t body_size, char *out, size_t out_size);

#endif
