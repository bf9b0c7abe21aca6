//  The one config loader's primitives: read a ZHUB_* environment variable
//  with a default and validate it. Each process reads its whole
//  configuration once at start into a struct with these, then passes the
//  struct down; nothing reads the environment later.
#ifndef ZHUB_ENV_H
#define ZHUB_ENV_H

#include <stdbool.h>
#include <stdint.h>

//  The value of name, or fallback when unset or empty. Not copied.
const char *zhub_env_str (const char *name, const char *fallback);

//  Parses an integer within [min, max]; unset gives fallback. Returns 0, or
//  -1 with a message on stderr naming the variable when invalid.
int zhub_env_int (const char *name, int64_t fallback, int64_t min, int64_t max, int64_t *out);

//  Parses a duration: plain milliseconds or a number with unit ms, s, m, h,
//  d ("250ms", "30s", "8d"). Returns 0, or -1 with a message when invalid.
int zhub_env_duration_ms (const char *name, int64_t fallback, int64_t *out);

//  Parses a duration string as zhub_env_duration_ms does. Returns 0 or -1.
int zhub_parse_duration_ms (const char *text, int64_t *out);

//  Parses a comma-separated list of durations ("1s, 5s,30s,2m") into at
//  most max values. Returns the count (0 for an empty text), or -1 when a
//  step is malformed, empty, or there are more than max.
int zhub_parse_duration_list (const char *text, int64_t *out, int max);

//  The longest step of a retry backoff schedule (the broker's limit).
#define ZHUB_BACKOFF_MAX_STEP_MS (366LL * 86400000)

//  The one parser of a retry backoff schedule ("1s,5s,30s"), for the broker
//  (ZHUB_BROKER_BACKOFF) and the actors (ZHUB_BACKOFF) alike: a duration
//  list (zhub_parse_duration_list: no empty step) of at most max steps,
//  each at most ZHUB_BACKOFF_MAX_STEP_MS. Returns the count (0 for an empty
//  text), or -1.
int zhub_parse_backoff (const char *text, int64_t *out, int max);

//  Where the gateway listens unless ZHUB_GATEWAY_LISTEN says otherwise.
#define ZHUB_GATEWAY_LISTEN_DEFAULT "127.0.0.1:8080"

//  ZHUB_PUBLIC_URL, the gateway as providers reach it; unset or empty:
//  "http://" + ZHUB_GATEWAY_LISTEN (default ZHUB_GATEWAY_LISTEN_DEFAULT).
//  The one default of the gateway (which checks signatures against this
//  URL) and the scheduler (which gives Google and Graph its webhook paths
//  as notification addresses), so the two never disagree. Fresh string;
//  *is_default (when not NULL) says whether it is the default. Not checked.
char *zhub_env_public_url (bool *is_default);

//  Masks a secret for logs: "set (N bytes)" or "unset". Never the value.
const char *zhub_env_mask (const char *secret, char *buf, int size);

#endif
