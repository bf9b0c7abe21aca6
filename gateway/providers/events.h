//  CloudEvents over HTTP for our own services: POST /v1/events in the
//  structured (application/cloudevents+json) or binary (ce-* headers, the
//  body is the data) content mode, with `Authorization: Bearer
//  $ZHUB_EVENTS_TOKEN`. The event's type is the topic as it is, so any
//  service can publish catalogue events (conversation.started,
//  tour.requested, ...) without a bus client. Pure; see provider.h.
#ifndef ZHUB_EVENTS_H
#define ZHUB_EVENTS_H

#include "provider.h"

#define ZHUB_EVENTS_MAX_AGE_MS 0
#define ZHUB_EVENTS_MAX_FUTURE_MS 0

extern const zhub_provider_t zhub_provider_events;

//  True for a type a service may publish through /v1/events: a valid topic
//  outside webhook.> and dlq.> (those are the gateway's and the broker's;
//  a token holder must not be able to forge a provider's webhook).
bool zhub_events_type_allowed (const char *type);

#endif
