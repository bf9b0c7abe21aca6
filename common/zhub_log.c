//  logfmt logger. A single write() per line keeps lines from interleaving
//  when several threads (the gateway's workers) log at once.
#include "zhub_log.h"
#include "zhub_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_process[64] = "zhub";
static zhub_log_level_t s_level = ZHUB_LOG_INFO;

void
zhub_log_init (const char *process_name)
{
    snprintf (s_process, sizeof s_process, "%s", process_name);
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

void
zhub_log (zhub_log_level_t level, const char *event, const char *fields, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < s_level)
        return;
    char line[2048], ts[32];
    zhub_time_format (zhub_now_ms (), ts, sizeof ts);
    int used = snprintf (line, sizeof line, "ts=%s level=%s proc=%s event=%s", ts, names[level],
                         s_process, event);
    if (fields && used < (int) sizeof line - 2) {
        line[used++] = ' ';
        va_list args;
        va_start (args, fields);
        int more = vsnprintf (line + used, sizeof line - used, fields, args);
        va_end (args);
        used = more < 0 ? used : used + more;
    }
    if (used > (int) sizeof line - 2)
        used = sizeof line - 2;
    line[used++] = '\n';
    ssize_t rc = write (STDERR_FILENO, line, used);
    (void) rc;
}
