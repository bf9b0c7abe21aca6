//  HubSpot webhooks: signature v3 (and v1/v2 when the request says so) and
//  the split of a batch into one message per event. Pure; see provider.h.
//  Facts: https://developers.hubspot.com/docs/api/webhooks/validating-requests, https://developers.hubspot.com/docs/api/webhooks.
#ifndef ZHUB_HUBSPOT_H
#define ZHUB_HUBSPOT_H

#include "provider.h"

//  "Reject the request if the timestamp is older than 5 minutes." The SDKs
//  accept any future timestamp; we allow the same 5 minutes of clock skew.
#define ZHUB_HUBSPOT_MAX_AGE_MS (5 * 60 * 1000)
#define ZHUB_HUBSPOT_MAX_FUTURE_MS (5 * 60 * 1000)

//  "Each request can contain up to 100 events."
#define ZHUB_HUBSPOT_MAX_EVENTS 100

extern const zhub_provider_t zhub_provider_hubspot;

//  The URI as HubSpot signs it for v3: the escapes %3A %2F %3F %40 %21 %24
//  %27 %28 %29 %2A %2C %3B decoded (hex digits in either case), every other
//  byte (e.g. %20, %26, %3D) left as it is. Returns a fresh string.
char *zhub_hubspot_v3_uri (const char *uri);

//  The signature HubSpot would send for this request, into out (at least
//  65 bytes). version is "v1", "v2" or "v3"; v3 uses the decoded URI and
//  the timestamp text; v1 ignores method, uri and timestamp; v2 ignores the
//  timestamp. Returns 0, or -1 for an unknown version.
int zhub_hubspot_signature (const char *version, const char *secret, const char *method,
                            const char *uri, const char *body, size_t body_size,
                            const char *timestamp, char *out, size_t out_size);

#endif
