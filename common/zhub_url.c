//  Configured URLs, checked once at start (see zhub_url.h). Hand-written
//  rather than curl's URL API so that common/ stays free of libcurl and the
//  rules are exactly the few a configured base URL needs.
#include "zhub_url.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int
zhub_url_parse (const char *text, zhub_url_t *out)
{
    memset (out, 0, sizeof *out);
    out->port = -1;
    if (!text)
        return -1;
    const char *host;
    if (!strncasecmp (text, "https://", 8)) {
        out->https = true;
        host = text + 8;
    } else if (!strncasecmp (text, "http://", 7))
        host = text + 7;
    else
        return -1;
    if (strpbrk (text, "?# \t\r\n@"))
        return -1;
    const char *end = host + strcspn (host, "/");
    const char *colon;
    if (*host == '[') {
        const char *close = memchr (host, ']', (size_t)(end - host));
        if (!close || close == host + 1 || (close + 1 != end && close[1] != ':'))
            return -1;
        snprintf (out->host, sizeof out->host, "%.*s", (int)(close - host - 1), host + 1);
        colon = close + 1 != end ? close + 1 : NULL;
    } else {
        colon = memchr (host, ':', (size_t)(end - host));
        size_t size = (size_t)((colon ? colon : end) - host);
        if (size == 0 || size >= sizeof out->host)
            return -1;
        snprintf (out->host, sizeof out->host, "%.*s", (int)size, host);
    }
    if (colon) {
        int port = 0;
        const char *p = colon + 1;
        if (p == end || end - p > 5)
            return -1;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535)
            return -1;
        out->port = port;
    }
    out->path = end;
    out->path_size = strlen (end);
    while (out->path_size && end[out->path_size - 1] == '/')
        out->path_size--;
    return 0;
}

bool
zhub_url_is_loopback (const zhub_url_t *url)
{
    return !strcasecmp (url->host, "localhost") || !strcmp (url->host, "127.0.0.1")
           || !strcmp (url->host, "::1");
}

bool
zhub_url_path_ends_with (const zhub_url_t *url, const char *segments)
{
    size_t size = strlen (segments);
    return size && segments[0] == '/' && url->path_size >= size
           && !strncmp (url->path + url->path_size - size, segments, size);
}
