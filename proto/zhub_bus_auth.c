//  A bus client's authentication settings (see zhub_bus_auth.h).
#include "zhub_bus_auth.h"
#include "zhub_env.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

bool
zhub_endpoint_is_local (const char *endpoint)
{
    if (!endpoint)
        return false;
    if (!strncmp (endpoint, "ipc://", 6) || !strncmp (endpoint, "inproc://", 9))
        return true;
    if (strncmp (endpoint, "tcp://", 6))
        return false;
    const char *host = endpoint + 6;
    //  tcp://[::1]:7450
    if (*host == '[') {
        const char *end = strchr (host, ']');
        return end && (size_t)(end - host - 1) == 3 && !strncmp (host + 1, "::1", 3);
    }
    const char *colon = strrchr (host, ':');
    size_t len = colon ? (size_t)(colon - host) : strlen (host);
    char name[64];
    if (len == 0 || len >= sizeof name)
        return false;
    memcpy (name, host, len);
    name[len] = 0;
    if (!strcmp (name, "localhost"))
        return true;
    struct in_addr addr;
    return inet_pton (AF_INET, name, &addr) == 1 && (ntohl (addr.s_addr) >> 24) == 127;
}

int
zhub_bus_auth_curve (zhub_bus_auth_t *auth, const char *cert_path, const char *broker_key,
                     char *err, size_t err_size)
{
    memset (auth, 0, sizeof *auth);
    auth->security = ZHUB_BUS_CURVE;
    char reason[400];
    if (!cert_path || !*cert_path) {
        snprintf (err, err_size,
                  "ZHUB_BUS_CERT is not set: the bus uses CURVE (ZHUB_BUS_SECURITY=curve, the "
                  "default) and needs this process's secret certificate (zhub keys new); for a "
                  "local run on loopback set ZHUB_BUS_SECURITY=plain");
        return -1;
    }
    if (zhub_key_load_secret (cert_path, auth->public_key, auth->secret_key, reason,
                              sizeof reason)) {
        snprintf (err, err_size, "ZHUB_BUS_CERT %s", reason);
        return -1;
    }
    if (!broker_key || !*broker_key) {
        snprintf (err, err_size,
                  "ZHUB_BROKER_PUBLIC_KEY is not set: CURVE needs the broker's public key "
                  "(Z85) or its public certificate file");
        return -1;
    }
    if (zhub_key_read_public (broker_key, auth->server_key, reason, sizeof reason)) {
        snprintf (err, err_size, "ZHUB_BROKER_PUBLIC_KEY %s", reason);
        return -1;
    }
    return 0;
}

int
zhub_bus_auth_load (zhub_bus_auth_t *auth, const char *const *endpoints, size_t count, char *err,
                    size_t err_size)
{
    memset (auth, 0, sizeof *auth);
    const char *security = zhub_env_str ("ZHUB_BUS_SECURITY", "curve");
    if (!strcmp (security, "plain")) {
        for (size_t i = 0; i < count; i++) {
            if (endpoints[i] && !zhub_endpoint_is_local (endpoints[i])) {
                snprintf (err, err_size,
                          "ZHUB_BUS_SECURITY=plain is only for endpoints on this machine "
                          "(loopback, ipc); %s is not: use curve",
                          endpoints[i]);
                return -1;
            }
        }
        auth->security = ZHUB_BUS_PLAIN;
        return 0;
    }
    if (strcmp (security, "curve")) {
        snprintf (err, err_size, "ZHUB_BUS_SECURITY must be curve or plain");
        return -1;
    }
    return zhub_bus_auth_curve (auth, zhub_env_str ("ZHUB_BUS_CERT", NULL),
                                zhub_env_str ("ZHUB_BROKER_PUBLIC_KEY", NULL), err, err_size);
}

int
zhub_bus_auth_apply (const zhub_bus_auth_t *auth, void *socket)
{
    if (!auth || auth->security == ZHUB_BUS_PLAIN)
        return 0;
    if (zmq_setsockopt (socket, ZMQ_CURVE_SERVERKEY, auth->server_key, 40)
        || zmq_setsockopt (socket, ZMQ_CURVE_PUBLICKEY, auth->public_key, 40)
        || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, auth->secret_key, 40))
        return -1;
    return 0;
}

const char *
zhub_bus_auth_describe (const zhub_bus_auth_t *auth, char *buf, size_t size)
{
    if (!auth || auth->security == ZHUB_BUS_PLAIN)
        snprintf (buf, size, "plain");
    else
        snprintf (buf, size, "curve key=%s broker_key=%s", auth->public_key, auth->server_key);
    return buf;
}
