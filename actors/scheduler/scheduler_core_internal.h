//  What the files of the scheduler's pure core share: a few JSON and time
//  helpers that config, requests, booking records, calendar bodies,
//  messages and calendar subscriptions all need. Internal to the core
//  library (the I/O side has scheduler_internal.h); static inline so each
//  file keeps only what it uses.
#ifndef SCHEDULER_CORE_INTERNAL_H
#define SCHEDULER_CORE_INTERNAL_H

#include "scheduler.h"
#include "zhub_env.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#define S_MINUTE 60000LL

//  A non-empty string member, copied; else a copy of fallback (or NULL).
static inline char *
s_dup_str (const json_t *obj, const char *key, const char *fallback)
{
    const char *value = json_string_value (json_object_get (obj, key));
    if (value && *value)
        return zhub_strdup (value);
    return fallback ? zhub_strdup (fallback) : NULL;
}

//  A string (non-empty) or integer member as a new string; else NULL.
static inline char *
s_str (const json_t *obj, const char *key)
{
    const json_t *value = json_object_get (obj, key);
    if (json_is_string (value) && json_string_length (value))
        return zhub_strdup (json_string_value (value));
    if (json_is_integer (value))
        return zhub_sprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (value));
    return NULL;
}

//  An RFC 3339 string or unix ms -> ms, or -1.
static inline int64_t
s_when (const json_t *value)
{
    int64_t ms;
    if (json_is_integer (value))
        return json_integer_value (value);
    if (json_is_string (value) && zhub_time_parse (json_string_value (value), &ms) == 0)
        return ms;
    return -1;
}

//  Sets a string member; a NULL value leaves it out.
static inline void
s_set (json_t *obj, const char *key, const char *value)
{
    if (value)
        json_object_set_new (obj, key, json_string (value));
}

//  Unix ms as an RFC 3339 JSON string.
static inline json_t *
s_rfc3339 (int64_t ms)
{
    char text[40];
    zhub_time_format (ms, text, sizeof text);
    return json_string (text);
}

static inline void
s_set_time (json_t *obj, const char *key, int64_t ms)
{
    json_object_set_new (obj, key, s_rfc3339 (ms));
}

//  Local wall-clock time in the process's TZ (see sched_use_time_zone).
static inline void
s_local (int64_t ms, struct tm *tm)
{
    time_t t = (time_t)(ms / 1000);
    localtime_r (&t, tm);
}

#endif
