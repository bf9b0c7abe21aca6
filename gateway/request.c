//  Header checks and URL reconstruction for webhook requests, kept apart
//  from server.c so that they are tested without a daemon. Everything here
//  reads attacker-controlled text: lengths are bounded, nothing asserts.
#include "request.h"
#include "zhub_common.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

bool
zhub_gateway_content_type_ok (const char *value)
{
    if (!value)
        return false;
    while (*value == ' ' || *value == '\t')
        value++;
    if (strncasecmp (value, "application/json", 16))
        return false;
    const char *p = value + 16;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == 0)
        return true;
    if (*p != ';')
        return false;
    //  parameters: only charset is checked
    while (*p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = strchr (p, ';');
        size_t len = end ? (size_t)(end - p) : strlen (p);
        if (len >= 8 && !strncasecmp (p, "charset=", 8)) {
            const char *cs = p + 8;
            size_t cs_len = len - 8;
            while (cs_len > 0 && (cs[cs_len - 1] == ' ' || cs[cs_len - 1] == '\t'))
                cs_len--;
            if (cs_len >= 2 && cs[0] == '"' && cs[cs_len - 1] == '"') {
                cs++;
                cs_len -= 2;
            }
            if (!((cs_len == 5 && !strncasecmp (cs, "utf-8", 5))
                  || (cs_len == 4 && !strncasecmp (cs, "utf8", 4))))
                return false;
        }
        p += len;
    }
    return true;
}

int
zhub_gateway_parse_length (const char *value, size_t *out)
{
    if (!value || !*value || strlen (value) > 18)
        return -1;
    size_t n = 0;
    for (const char *p = value; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        n = n * 10 + (size_t)(*p - '0');
    }
    *out = n;
    return 0;
}

char *
zhub_gateway_full_url (const char *public_url, const char *target)
{
    if (!target || !*target)
        return zhub_sprintf ("%s/", public_url);
    if (target[0] != '/') {
        const char *scheme = strstr (target, "://");
        if (scheme) {
            const char *path = strchr (scheme + 3, '/');
            const char *query = strchr (scheme + 3, '?');
            if (!path || (query && query < path))
                return zhub_sprintf ("%s/%s", public_url, query ? query : "");
            return zhub_sprintf ("%s%s", public_url, path);
        }
        return zhub_sprintf ("%s/%s", public_url, target);
    }
    return zhub_sprintf ("%s%s", public_url, target);
}

bool
zhub_gateway_traceparent_ok (const char *text)
{
    //  version(2)-trace id(32)-parent id(16)-flags(2)
    if (!text || strlen (text) != 55)
        return false;
    for (int i = 0; i < 55; i++) {
        bool dash = i == 2 || i == 35 || i == 52;
        if (dash ? text[i] != '-' : !isxdigit ((unsigned char)text[i]))
            return false;
    }
    return true;
}
