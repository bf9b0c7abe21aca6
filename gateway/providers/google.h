//  Google Calendar push notifications: headers only (no body). The channel
//  token we set when watching is checked in constant time; the first
//  message of a channel (resource state "sync") is acknowledged and not
//  forwarded; every other one becomes webhook.google.calendar.changed,
//  which asks the scheduler to run an incremental sync of that calendar
//  (the notification says only that something changed). Pure; see
//  provider.h. Facts: https://developers.google.com/calendar/api/v3/reference.
#ifndef ZHUB_GOOGLE_H
#define ZHUB_GOOGLE_H

#include "provider.h"

//  No timestamp is signed; these are unused.
#define ZHUB_GOOGLE_MAX_AGE_MS 0
#define ZHUB_GOOGLE_MAX_FUTURE_MS 0

//  The topic a change notification is published under.
#define ZHUB_GOOGLE_CHANGED_TOPIC "webhook.google.calendar.changed"

extern const zhub_provider_t zhub_provider_google;

#endif
