//  The one logger: one line per event on stderr in logfmt
//  (`ts=… level=info proc=broker event=publish id=… topic=…`).
//  Only main() and actor handlers log; libraries return statuses instead.
//  Never pass secrets or whole bodies as fields.
#ifndef ZHUB_LOG_H
#define ZHUB_LOG_H

typedef enum { ZHUB_LOG_DEBUG = 0, ZHUB_LOG_INFO, ZHUB_LOG_WARN, ZHUB_LOG_ERROR } zhub_log_level_t;

//  Sets the process name and the minimum level. The level comes from
//  $ZHUB_LOG_LEVEL (debug, info, warn, error) when set. Call once in main().
void zhub_log_init (const char *process_name);

//  Logs one event. fields is a printf format producing `key=value` pairs
//  separated by spaces (may be NULL). Values with spaces must be quoted by
//  the caller with %s and zhub_log_quote().
void zhub_log (zhub_log_level_t level, const char *event, const char *fields, ...)
    __attribute__ ((format (printf, 3, 4)));

#define zhub_debug(event, ...) zhub_log (ZHUB_LOG_DEBUG, event, __VA_ARGS__)
#define zhub_info(event, ...) zhub_log (ZHUB_LOG_INFO, event, __VA_ARGS__)
#define zhub_warn(event, ...) zhub_log (ZHUB_LOG_WARN, event, __VA_ARGS__)
#define zhub_error(event, ...) zhub_log (ZHUB_LOG_ERROR, event, __VA_ARGS__)

#endif
