//  The one logger: one line per event on stderr in logfmt
//  (`ts=… level=info proc=broker event=publish id=… topic=…`).
//  Only main() and actor handlers log; libraries return statuses instead.
//  Never pass secrets or whole bodies as fields.
#ifndef ZHUB_LOG_H
#define ZHUB_LOG_H

#include <stddef.h>

typedef enum { ZHUB_LOG_DEBUG = 0, ZHUB_LOG_INFO, ZHUB_LOG_WARN, ZHUB_LOG_ERROR } zhub_log_level_t;

//  Sets the process name and the minimum level. The level comes from
//  $ZHUB_LOG_LEVEL (debug, info, warn, error) when set. Call once in main().
void zhub_log_init (const char *process_name);

//  Logs one event. fields is a printf format producing `key=value` pairs
//  separated by spaces (may be NULL). Values with spaces must be quoted by
//  the caller with %s and zhub_log_quote().
void zhub_log (zhub_log_level_t level, const char *event, const char *fields, ...)
    __attribute__ ((format (printf, 3, 4)));

//  A log value for text that may hold spaces (reasons, names): the text in
//  double quotes, its quotes turned into ' and its backslashes and control
//  bytes into spaces, cut to fit size (at least 3 bytes for ""). Returns
//  buf, to use with %s.
const char *zhub_log_quote (const char *text, char *buf, size_t size);

//  A bare log value for untrusted tokens (ids, topics, peer names): at most
//  64 bytes, anything that could break a logfmt line (space, quote,
//  backslash, control or non-ASCII byte) replaced by '_'; "-" when empty.
//  Returns buf.
const char *zhub_log_safe (const char *text, char *buf, size_t size);

#define zhub_debug(event, ...) zhub_log (ZHUB_LOG_DEBUG, event, __VA_ARGS__)
#define zhub_info(event, ...) zhub_log (ZHUB_LOG_INFO, event, __VA_ARGS__)
#define zhub_warn(event, ...) zhub_log (ZHUB_LOG_WARN, event, __VA_ARGS__)
#define zhub_error(event, ...) zhub_log (ZHUB_LOG_ERROR, event, __VA_ARGS__)

#endif
