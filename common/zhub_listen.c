//  Listen addresses (see zhub_listen.h).
#include "zhub_listen.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int
zhub_listen_parse (const char *text, zhub_listen_t *out)
{
    memset (out, 0, sizeof *out);
    if (!text || strlen (text) >= sizeof out->text)
        return -1;
    snprintf (out->text, sizeof out->text, "%s", text);
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr (text, ']');
        if (!close || close[1] != ':' || close == text + 1)
            return -1;
        snprintf (out->host, sizeof out->host, "%.*s", (int)(close - text - 1), text + 1);
        colon = close + 1;
    } else {
        colon = strrchr (text, ':');
        if (!colon || colon == text || memchr (text, ':', colon - text))
            return -1; //  a bare IPv6 address needs brackets
        snprintf (out->host, sizeof out->host, "%.*s", (int)(colon - text), text);
    }
    const char *port = colon + 1;
    if (!*port || strlen (port) > 5)
        return -1;
    int value = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (*p - '0');
    }
    if (value > 65535)
        return -1;
    out->port = value;
    return 0;
}

int
zhub_listen_resolve (const zhub_listen_t *listen, struct sockaddr_storage *addr, bool *ipv6,
                     char *err, size_t err_size)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *found = NULL;
    int gai = getaddrinfo (listen->host, NULL, &hints, &found);
    if (gai || !found) {
        snprintf (err, err_size, "cannot resolve %s: %s", listen->host, gai_strerror (gai));
        if (found)
            freeaddrinfo (found);
        return -1;
    }
    memset (addr, 0, sizeof *addr);
    memcpy (addr, found->ai_addr, found->ai_addrlen);
    *ipv6 = found->ai_family == AF_INET6;
    freeaddrinfo (found);
    if (*ipv6)
        ((struct sockaddr_in6 *)addr)->sin6_port = htons ((uint16_t)listen->port);
    else
        ((struct sockaddr_in *)addr)->sin_port = htons ((uint16_t)listen->port);
    return 0;
}
