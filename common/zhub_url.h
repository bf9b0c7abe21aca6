//  Reading the absolute http(s) URLs an operator configures (the public
//  URL, the providers' base and token URLs), so that every process checks
//  them the same way at start: scheme, host, port and path apart, and
//  whether the host is this machine. Pure.
#ifndef ZHUB_URL_H
#define ZHUB_URL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    bool https;       //  https:// (else http://); the scheme in any case
    char host[256];   //  as written, without the brackets of an IPv6 literal
    int port;         //  -1 when absent
    const char *path; //  points into the text: "" or from the first '/'
    size_t path_size; //  up to the end, without trailing '/'
} zhub_url_t;

//  Parses "http[s]://host[:port][/path]" with a non-empty host and no
//  user info, query, fragment or whitespace (a configured base URL has
//  none). Returns 0 with *out filled, or -1.
int zhub_url_parse (const char *text, zhub_url_t *out);

//  True when the host is this machine as a local run names it: localhost
//  (any case), 127.0.0.1 or ::1.
bool zhub_url_is_loopback (const zhub_url_t *url);

//  True when the path ends with segments, whole segments starting with
//  '/' ("/v1.0" in "https://graph.microsoft.com/v1.0/", "/calendar/v3").
bool zhub_url_path_ends_with (const zhub_url_t *url, const char *segments);

#endif
