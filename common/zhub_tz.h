//  Local time in one IANA time zone per process. zhub keeps every time in
//  UTC; what people say ("mañana a las 11") is local to a zone, and only a
//  process that reads such words sets one (the scheduler, the intent
//  router). The zone is the process's TZ, set once at start, so that the C
//  library's own tables (tzdata: daylight-saving rules included) convert:
//  nothing here parses zone files. Not for processes that need two zones.
#ifndef ZHUB_TZ_H
#define ZHUB_TZ_H

#include <stdbool.h>
#include <stdint.h>

//  The zone database: $TZDIR when set, else the system's.
#define ZHUB_TZ_DIR_DEFAULT "/usr/share/zoneinfo"

//  True when zone names a zone of the database ("America/Mexico_City",
//  "UTC"): the C library falls back to UTC for a name it does not know,
//  silently, so a name is checked against the files first.
bool zhub_tz_known (const char *zone);

//  Makes zone the process's time zone (TZ, tzset). Call once at start,
//  before other threads. Returns 0, or -1 (nothing changed) for a zone
//  zhub_tz_known refuses.
int zhub_tz_use (const char *zone);

//  A local date and time (of the process's zone).
typedef struct {
    int year, month, day; //  month 1..12, day 1..31
    int hour, minute;     //  0..23, 0..59
    int weekday;          //  0 = Monday .. 6 = Sunday (read only)
} zhub_local_t;

//  unix ms -> the local date and time it falls on.
void zhub_tz_local (int64_t unix_ms, zhub_local_t *out);

//  A local date and time -> unix ms. Fields out of range roll over (day 32
//  is the next month's first: how "mañana" crosses a month or a year). A
//  time that does not exist (the hour skipped when clocks go forward) is
//  read as the C library reads it (shifted by the gap); one that exists
//  twice gets the first.
int64_t zhub_tz_unix_ms (int year, int month, int day, int hour, int minute);

//  The weekday (0 = Monday) of a calendar date; pure, zone-free.
int zhub_tz_weekday (int year, int month, int day);

#endif
