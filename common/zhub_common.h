//  Shared return codes and small helpers used by every zhub library and
//  process. Kept tiny on purpose: anything bigger gets its own class.
#ifndef ZHUB_COMMON_H
#define ZHUB_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Result of an operation whose caller must branch on the outcome.
typedef enum {
    ZHUB_OK = 0,        //  done
    ZHUB_RETRY = 1,     //  transient failure: try again later
    ZHUB_REJECT = 2,    //  permanent failure: the input can never succeed
    ZHUB_NOTFOUND = 3,  //  the thing asked for does not exist
    ZHUB_ERROR = 4      //  internal fault (I/O, memory, our own bug)
} zhub_rc_t;

//  Name of a result code, for logs: "ok", "retry", "reject", ...
const char *zhub_rc_name (zhub_rc_t rc);

//  Wall clock in milliseconds since the Unix epoch.
int64_t zhub_now_ms (void);

//  Monotonic clock in milliseconds (for deadlines and timeouts).
int64_t zhub_mono_ms (void);

//  Formats a unix-ms time as RFC 3339 UTC with milliseconds
//  ("2024-05-08T21:18:21.896Z") into buf (at least 32 bytes).
void zhub_time_format (int64_t unix_ms, char *buf, size_t size);

//  Parses RFC 3339 (with 'Z' or an offset, optional fraction) into unix ms.
//  Returns 0 on success, -1 on malformed input.
int zhub_time_parse (const char *text, int64_t *unix_ms);

//  Constant-time comparison of two byte strings; different lengths compare
//  unequal (the length itself is not secret). Returns true when equal.
bool zhub_secure_equal (const void *a, size_t a_size, const void *b, size_t b_size);

//  True when text is a UUID in its canonical text form: 36 characters,
//  hex digits in groups of 8-4-4-4-12 joined by '-', either case (RFC 9562
//  section 4). Bird names workspaces, channels and template projects so
//  and refuses anything else, so configuration is checked with this at
//  start. NULL is not a UUID.
bool zhub_is_uuid (const char *text);

//  Duplicates a string; aborts the process on out-of-memory (we do not try
//  to limp on without memory). NULL in gives NULL out.
char *zhub_strdup (const char *s);

//  malloc/calloc/realloc that abort on out-of-memory.
void *zhub_malloc (size_t size);
void *zhub_calloc (size_t count, size_t size);
void *zhub_realloc (void *ptr, size_t size);

//  printf into a fresh heap string; aborts on out-of-memory.
char *zhub_sprintf (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

#endif
