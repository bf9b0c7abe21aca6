//  The pure parts of handling a webhook request: header checks and the URL
//  a provider signed. No I/O, so unit tests reach them directly; server.c
//  does the HTTP around them.
#ifndef ZHUB_GATEWAY_REQUEST_H
#define ZHUB_GATEWAY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

//  True for "application/json" with optional parameters; a charset, if
//  given, must be utf-8. Case-insensitive.
bool zhub_gateway_content_type_ok (const char *value);

//  Parses a Content-Length value (digits only). Returns 0, or -1.
int zhub_gateway_parse_length (const char *value, size_t *out);

//  The URL the provider called: public_url + the request target as it
//  arrived (path and query, nothing decoded). An absolute-form target
//  ("http://internal/path") keeps only its path and query. Fresh string.
char *zhub_gateway_full_url (const char *public_url, const char *target);

//  True when text is a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>").
bool zhub_gateway_traceparent_ok (const char *text);

#endif
