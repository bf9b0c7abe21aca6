//  logfmt logger. A single write() per line keeps lines from interleaving
//  when several threads (the gateway's workers) log at once.
//
//  ZHUB_LOG_FORMAT=json turns each line into one JSON object instead, for
//  log pipelines that want JSON: the logfmt fields are parsed back (bare
//  tokens and "quoted" values) so every call site stays as it is; values
//  that are plain integers become JSON numbers. logfmt is the default.
#include "zhub_log.h"
#include "zhub_common.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_process[64] = "zhub";
static zhub_log_level_t s_level = ZHUB_LOG_INFO;
static int s_json = 0;

void
zhub_log_init (const char *process_name)
{
    snprintf (s_process, sizeof s_process, "%s", process_name);
    const char *format = getenv ("ZHUB_LOG_FORMAT");
    s_json = format && !strcmp (format, "json");
    const char *level = getenv ("ZHUB_LOG_LEVEL");
    if (!level)
        return;
    if (!strcmp (level, "debug"))
        s_level = ZHUB_LOG_DEBUG;
    else if (!strcmp (level, "warn"))
        s_level = ZHUB_LOG_WARN;
    else if (!strcmp (level, "error"))
        s_level = ZHUB_LOG_ERROR;
}

//  Appends text[0..size) as a JSON string (quotes included) to out. Never
//  writes at or past cap: a value cut short there still closes its quote
//  when one byte is left, and control bytes are escaped by hand rather than
//  through snprintf, whose return value would have to be clamped.
static size_t
s_json_str (char *out, size_t used, size_t cap, const char *text, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    if (used >= cap)
        return used;
    out[used++] = '"';
    for (size_t i = 0; i < size && used + 7 < cap; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\') {
            out[used++] = '\\';
            out[used++] = (char)c;
        } else if (c < 0x20) {
            memcpy (out + used, "\\u00", 4);
            out[used + 4] = hex[c >> 4];
            out[used + 5] = hex[c & 0x0f];
            used += 6;
        } else
            out[used++] = (char)c;
    }
    if (used < cap)
        out[used++] = '"';
    return used;
}

static int
s_is_integer (const char *text, size_t size)
{
    size_t i = text[0] == '-' ? 1 : 0;
    if (size == i || size - i > 18 || (text[i] == '0' && size - i > 1))
        return 0;
    for (; i < size; i++)
        if (text[i] < '0' || text[i] > '9')
            return 0;
    return 1;
}

//  logfmt "k=v k2=\"quoted v\"" -> JSON members appended to out.
static size_t
s_json_fields (char *out, size_t used, size_t cap, const char *fields)
{
    const char *p = fields;
    while (*p && used + 8 < cap) {
        while (*p == ' ')
            p++;
        const char *key = p;
        while (*p && *p != '=' && *p != ' ')
            p++;
        size_t key_size = (size_t)(p - key);
        if (key_size == 0)
            break;
        const char *value = "";
        size_t value_size = 0;
        int quoted = 0;
        if (*p == '=') {
            p++;
            if (*p == '"') {
                quoted = 1;
                value = ++p;
                while (*p && !(*p == '"' && p[-1] != '\\'))
                    p++;
                value_size = (size_t)(p - value);
                if (*p == '"')
                    p++;
            } else {
                value = p;
                while (*p && *p != ' ')
                    p++;
                value_size = (size_t)(p - value);
            }
        }
        out[used++] = ',';
        used = s_json_str (out, used, cap, key, key_size);
        if (used < cap)
            out[used++] = ':';
        if (!quoted && value_size > 0 && s_is_integer (value, value_size)
            && used + value_size < cap) {
            memcpy (out + used, value, value_size);
            used += value_size;
        } else
            used = s_json_str (out, used, cap, value, value_size);
    }
    return used;
}

void
zhub_log (zhub_log_level_t level, const char *event, const char *fields, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < s_level)
        return;
    char line[2048], ts[32];
    zhub_time_format (zhub_now_ms (), ts, sizeof ts);
    if (s_json) {
        char text[1536] = "";
        if (fields) {
            va_list args;
            va_start (args, fields);
            vsnprintf (text, sizeof text, fields, args);
            va_end (args);
        }
        size_t cap = sizeof line - 2;
        size_t n = (size_t)snprintf (line, cap, "{\"ts\":\"%s\",\"level\":\"%s\",\"proc\":", ts,
                                     names[level]);
        n = s_json_str (line, n, cap, s_process, strlen (s_process));
        if (n < cap)
            line[n++] = ',';
        n = s_json_str (line, n, cap, "event", 5);
        if (n < cap)
            line[n++] = ':';
        n = s_json_str (line, n, cap, event, strlen (event));
        n = s_json_fields (line, n, cap, text);
        if (n > cap - 1)
            n = cap - 1;
        line[n++] = '}';
        line[n++] = '\n';
        ssize_t rc = write (STDERR_FILENO, line, n);
        (void)rc;
        return;
    }
    int used = snprintf (line, sizeof line, "ts=%s level=%s proc=%s event=%s", ts, names[level],
                         s_process, event);
    if (fields && used < (int)sizeof line - 2) {
        line[used++] = ' ';
        va_list args;
        va_start (args, fields);
        int more = vsnprintf (line + used, sizeof line - used, fields, args);
        va_end (args);
        used = more < 0 ? used : used + more;
    }
    if (used > (int)sizeof line - 2)
        used = sizeof line - 2;
    line[used++] = '\n';
    ssize_t rc = write (STDERR_FILENO, line, used);
    (void)rc;
}

const char *
zhub_log_quote (const char *text, char *buf, size_t size)
{
    if (size < 3) {
        if (size)
            buf[0] = 0;
        return buf;
    }
    size_t w = 0;
    buf[w++] = '"';
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        if (w + 2 >= size)
            break;
        unsigned char c = *p;
        buf[w++] = (c == '"') ? '\'' : (c == '\\' || c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    buf[w++] = '"';
    buf[w] = 0;
    return buf;
}

const char *
zhub_log_safe (const char *text, char *buf, size_t size)
{
    if (!size)
        return buf;
    size_t used = 0;
    for (const char *p = text ? text : ""; *p && used + 1 < size && used < 64; p++) {
        unsigned char c = (unsigned char)*p;
        bool ok = c > 0x20 && c < 0x7f && c != '"' && c != '\\';
        buf[used++] = ok ? (char)c : '_';
    }
    buf[used] = 0;
    if (used == 0 && size > 1)
        snprintf (buf, size, "-");
    return buf;
}
