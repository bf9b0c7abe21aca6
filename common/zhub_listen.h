//  Listen addresses as operators write them ("host:port", "[v6 host]:port"),
//  read once at start and resolved to a socket address: for every HTTP
//  listener of zhub (the gateway's two, the actors' admin listener).
#ifndef ZHUB_LISTEN_H
#define ZHUB_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct {
    char host[256];
    int port;       //  0 lets the kernel choose (tests)
    char text[300]; //  as configured, for logs and the default public URL
} zhub_listen_t;

//  Parses "host:port" or "[host]:port" (port 0..65535). Returns 0, or -1
//  when malformed. Pure.
int zhub_listen_parse (const char *text, zhub_listen_t *out);

//  Resolves the host (getaddrinfo: a name or a literal) into *addr with the
//  port set; *ipv6 says which family. Returns 0, or -1 with the reason in
//  err.
int zhub_listen_resolve (const zhub_listen_t *listen, struct sockaddr_storage *addr, bool *ipv6,
                         char *err, size_t err_size);

#endif
