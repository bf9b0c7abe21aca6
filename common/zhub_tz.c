//  The process's time zone (see zhub_tz.h): a name checked against the
//  zone files, then TZ and the C library's localtime_r / mktime.
#include "zhub_tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool
zhub_tz_known (const char *zone)
{
    if (!zone || !*zone || zone[0] == '/' || strstr (zone, "..") || strlen (zone) > 200)
        return false;
    const char *dir = getenv ("TZDIR");
    char path[512];
    snprintf (path, sizeof path, "%s/%s", dir && *dir ? dir : ZHUB_TZ_DIR_DEFAULT, zone);
    FILE *file = fopen (path, "rb");
    if (!file)
        return !strcmp (zone, "UTC");
    char magic[4] = {0};
    bool tzif = fread (magic, 1, 4, file) == 4 && !memcmp (magic, "TZif", 4);
    fclose (file);
    return tzif;
}

int
zhub_tz_use (const char *zone)
{
    if (!zhub_tz_known (zone))
        return -1;
    setenv ("TZ", zone, 1);
    tzset ();
    return 0;
}

void
zhub_tz_local (int64_t unix_ms, zhub_local_t *out)
{
    time_t seconds = (time_t)(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
    struct tm tm;
    localtime_r (&seconds, &tm);
    out->year = tm.tm_year + 1900;
    out->month = tm.tm_mon + 1;
    out->day = tm.tm_mday;
    out->hour = tm.tm_hour;
    out->minute = tm.tm_min;
    out->weekday = (tm.tm_wday + 6) % 7;
}

int64_t
zhub_tz_unix_ms (int year, int month, int day, int hour, int minute)
{
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = minute,
                    .tm_isdst = -1};
    return (int64_t)mktime (&tm) * 1000;
}

int
zhub_tz_weekday (int year, int month, int day)
{
    //  Sakamoto's method: 0 = Sunday, turned into 0 = Monday.
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (month < 3)
        year -= 1;
    int sunday_first = (year + year / 4 - year / 100 + year / 400 + t[month - 1] + day) % 7;
    return (sunday_first + 6) % 7;
}
