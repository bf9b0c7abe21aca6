//  contact-sync's pure core, internal: what its files (contact_sync*.c
//  but not the I/O side) share. Small helpers are static inline so each
//  file keeps its own copy as before the split, named contact_sync_ since
//  several files share them (s_ is for one file's own names); the
//  functions below them are defined once in the file named above each.
#ifndef CONTACT_SYNC_INTERNAL_H
#define CONTACT_SYNC_INTERNAL_H

#include "bird.h"
#include "contact_sync.h"
#include "hubspot.h"
#include "zhub_events.h"
#include "zhub_http.h"
#include "zhub_id.h"
#include "zhub_retry.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DIR_BIRD_TO_HUBSPOT "bird_to_hubspot"
#define DIR_HUBSPOT_TO_BIRD "hubspot_to_bird"

//  -------------------------------------------------------------------
//  Small helpers

static inline bool
contact_sync_empty (const char *text)
{
    return !text || !*text;
}

//  Equality where NULL and "" are the same (an absent value).
static inline bool
contact_sync_same (const char *a, const char *b)
{
    return !strcmp (a ? a : "", b ? b : "");
}

static inline void
contact_sync_set (char **field, const char *value)
{
    char *copy = zhub_strdup (value);
    free (*field);
    *field = copy;
}

static inline const char *
contact_sync_json_str (const json_t *obj, const char *key)
{
    return json_is_object (obj) ? json_string_value (json_object_get (obj, key)) : NULL;
}

//  A string or integer id as a fresh string, or NULL.
static inline char *
contact_sync_json_id (const json_t *value)
{
    if (json_is_string (value) && json_string_length (value) > 0
        && json_string_length (value) <= ZHUB_MSG_MAX_ID)
        return zhub_strdup (json_string_value (value));
    if (json_is_integer (value) && json_integer_value (value) >= 0)
        return zhub_sprintf ("%lld", (long long)json_integer_value (value));
    if (json_is_real (value) && json_real_value (value) >= 0 && json_real_value (value) < 1e19) {
        //  A uint64 above INT64_MAX arrives as a real from msgpack.
        return zhub_sprintf ("%.0f", json_real_value (value));
    }
    return NULL;
}

static inline void contact_sync_reason (char *reason, size_t size, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static inline void
contact_sync_reason (char *reason, size_t size, const char *fmt, ...)
{
    if (!reason || !size)
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (reason, size, fmt, args);
    va_end (args);
}

//  json_pack "s?" packs NULL as null; we prefer absent keys.
static inline void
contact_sync_put (json_t *obj, const char *key, const char *value)
{
    if (value)
        json_object_set_new (obj, key, json_string (value));
}

static inline char *
contact_sync_json_strdup (const json_t *obj, const char *key)
{
    return zhub_strdup (contact_sync_json_str (obj, key));
}

//  contact_sync.c: the mapped field for a HubSpot property, or NULL.
const contact_field_map_t *contact_sync_field_of (const contact_sync_config_t *config,
                                                  const char *hubspot);

//  contact_sync_event.c: reads a Bird contact record (a GET answer, or a
//  contact event's payload): id, display name and identifiers.
bool contact_sync_read_bird_contact (const json_t *contact, contact_event_t *event);

//  contact_sync_event.c: a HubSpot webhook's type (subscriptionType, else
//  eventType, else the topic after "webhook.hubspot."), or NULL; an
//  unsplit batch of one in *data becomes its one event.
const char *contact_sync_hubspot_type (const char *topic, const json_t **data);

//  contact_sync_plan_build.c: what the plan files build a plan with.
void contact_sync_call_clear (contact_call_t *call);
void contact_sync_plan_reason (contact_plan_t *plan, contact_plan_kind_t kind, uint32_t code,
                               const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));
//  Sets the plan's call: op on the record id (copied; NULL for none), body
//  taken over. A BIRD_WRITE by identifier sets call.key and call.value
//  after.
void contact_sync_plan_call (contact_plan_t *plan, contact_plan_kind_t kind, contact_op_t op,
                             const char *id, json_t *body, const char *what);
//  The upsert of properties (taken over; bird_contact_id is added, the
//  upsert's key) for the Bird contact bird_id: plan->hubspot_properties
//  and the call, a WRITE.
void contact_sync_plan_upsert (contact_plan_t *plan, const char *bird_id, json_t *properties);
void contact_sync_changed (contact_plan_t *plan, const char *field);
bool contact_sync_lww (contact_plan_t *plan, const contact_state_t *known,
                       const contact_event_t *event, const char *field, const char *side,
                       const char *old, const char *new);
const char *contact_sync_field_known (const contact_state_t *state, const char *hubspot,
                                      const char *side);
void contact_sync_field_set (contact_state_t *state, const char *hubspot, const char *side,
                             const char *value);

//  contact_sync_plan_bird.c: Bird -> HubSpot.
char *contact_sync_bird_field_value (const contact_event_t *event,
                                     const contact_field_map_t *field);
void contact_sync_plan_bird_to_hubspot (const contact_event_t *event, const contact_state_t *state,
                                        const contact_sync_config_t *config, contact_plan_t *plan);

//  contact_sync_plan_hubspot.c: HubSpot -> Bird.
void contact_sync_plan_hubspot_to_bird (const contact_event_t *event, const contact_state_t *state,
                                        const json_t *answer, const contact_sync_config_t *config,
                                        contact_plan_t *plan);

#endif
