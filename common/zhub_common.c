//  Return-code names, clocks, RFC 3339 time, constant-time compare, the
//  UUID check and allocation helpers that abort on out-of-memory.
#include "zhub_common.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *
zhub_rc_name (zhub_rc_t rc)
{
    switch (rc) {
        case ZHUB_OK: return "ok";
        case ZHUB_RETRY: return "retry";
        case ZHUB_REJECT: return "reject";
        case ZHUB_NOTFOUND: return "notfound";
        case ZHUB_ERROR: return "error";
    }
    return "unknown";
}

int64_t
zhub_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
zhub_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
zhub_time_format (int64_t unix_ms, char *buf, size_t size)
{
    time_t secs = (time_t) (unix_ms / 1000);
    int millis = (int) (unix_ms % 1000);
    if (millis < 0) {
        millis += 1000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r (&secs, &tm);
    snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

static int
s_digits (const char **p, int count, int *out)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        value = value * 10 + (c - '0');
    }
    *p += count;
    *out = value;
    return 0;
}

int
zhub_time_parse (const char *text, int64_t *unix_ms)
{
    if (!text)
        return -1;
    const char *p = text;
    int year, mon, day, hour, min, sec, millis = 0;
    if (s_digits (&p, 4, &year) || *p++ != '-' || s_digits (&p, 2, &mon) || *p++ != '-'
        || s_digits (&p, 2, &day))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (s_digits (&p, 2, &hour) || *p++ != ':' || s_digits (&p, 2, &min) || *p++ != ':'
        || s_digits (&p, 2, &sec))
        return -1;
    if (*p == '.') {
        p++;
        int scale = 100, seen = 0;
        while (*p >= '0' && *p <= '9') {
            millis += (*p - '0') * scale;
            scale /= 10;
            p++;
            seen++;
        }
        if (!seen)
            return -1;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (s_digits (&p, 2, &oh) || *p++ != ':' || s_digits (&p, 2, &om))
            return -1;
        offset_min = sign * (oh * 60 + om);
    }
    else
        return -1;
    if (*p || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return -1;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    time_t secs = timegm (&tm);
    *unix_ms = ((int64_t) secs - (int64_t) offset_min * 60) * 1000 + millis;
    return 0;
}

bool
zhub_secure_equal (const void *a, size_t a_size, const void *b, size_t b_size)
{
    if (a_size != b_size)
        return false;
    if (a_size == 0)
        return true;
    return sodium_memcmp (a, b, a_size) == 0;
}

bool
zhub_is_uuid (const char *text)
{
    if (!text || strlen (text) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !isxdigit ((unsigned char)text[i]))
            return false;
    }
    return true;
}

static void *
s_check (void *ptr)
{
    if (!ptr) {
        fputs ("zhub: out of memory\n", stderr);
        abort ();
    }
    return ptr;
}

void *
zhub_malloc (size_t size)
{
    return s_check (malloc (size ? size : 1));
}

void *
zhub_calloc (size_t count, size_t size)
{
    return s_check (calloc (count ? count : 1, size ? size : 1));
}

void *
zhub_realloc (void *ptr, size_t size)
{
    return s_check (realloc (ptr, size ? size : 1));
}

char *
zhub_strdup (const char *s)
{
    return s ? s_check (strdup (s)) : NULL;
}

char *
zhub_sprintf (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *out = NULL;
    int rc = vasprintf (&out, format, args);
    va_end (args);
    if (rc < 0)
        s_check (NULL);
    return out;
}
