//  The CLI's way onto the bus, shared by every subcommand that talks to
//  the broker: its authentication read once from the environment (CURVE
//  keys or plain, proto/zhub_bus_auth.h), the bus client made with it, and
//  the broker's tap (proto/PROTOCOL.md "The tap") opened with the same keys.
#include "cli.h"
#include "zhub_client.h"
#include "zhub_env.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

int
zhub_cli_tap_endpoint (char *out, size_t size)
{
    const char *tap = getenv ("ZHUB_BROKER_TAP");
    if (tap && *tap) {
        snprintf (out, size, "%s", tap);
        return 0;
    }
    const char *broker = getenv ("ZHUB_BROKER");
    return zhub_tap_endpoint_for (broker && *broker ? broker : ZHUB_BROKER_DEFAULT, out, size);
}

int
zhub_cli_bus_auth (const char *command, zhub_bus_auth_t *auth)
{
    char tap[256] = "";
    zhub_cli_tap_endpoint (tap, sizeof tap);
    const char *endpoints[] = {zhub_env_str ("ZHUB_BROKER", ZHUB_BROKER_DEFAULT),
                               tap[0] ? tap : NULL};
    char err[600];
    if (zhub_bus_auth_load (auth, endpoints, 2, err, sizeof err)) {
        fprintf (stderr, "zhub %s: %s\n", command, err);
        return -1;
    }
    return 0;
}

zhub_client_t *
zhub_cli_client (const char *command, const char *endpoint, const char *name, int *exit_code)
{
    zhub_bus_auth_t auth;
    *exit_code = ZHUB_EXIT_USAGE;
    if (zhub_cli_bus_auth (command, &auth))
        return NULL;
    if (!endpoint)
        endpoint = zhub_env_str ("ZHUB_BROKER", ZHUB_BROKER_DEFAULT);
    zhub_client_t *client = zhub_client_new (endpoint, name, &auth);
    sodium_memzero (&auth, sizeof auth);
    if (!client)
        fprintf (stderr, "zhub %s: invalid broker endpoint %s\n", command, endpoint);
    return client;
}

void *
zhub_cli_tap_open (const char *command, void *ctx, const char *endpoint)
{
    zhub_bus_auth_t auth;
    if (zhub_cli_bus_auth (command, &auth))
        return NULL;
    void *sock = zmq_socket (ctx, ZMQ_SUB);
    int zero = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof zero);
    int rc = zhub_bus_auth_apply (&auth, sock);
    sodium_memzero (&auth, sizeof auth);
    if (rc || zmq_connect (sock, endpoint)) {
        fprintf (stderr, "zhub %s: invalid tap endpoint %s\n", command, endpoint);
        zmq_close (sock);
        return NULL;
    }
    return sock;
}

zhub_msg_t *
zhub_cli_tap_message (const uint8_t *body, size_t size, uint64_t *offset)
{
    msgpack_unpacked frame;
    zhub_mpack_limits_t limits = {.max_size = ZHUB_FRAME_MAX_SIZE, .max_depth = 4, .max_items = 16};
    if (zhub_mpack_decode (body, size, &limits, &frame, NULL, 0))
        return NULL;
    const msgpack_object *bin = zhub_mpack_get (&frame.data, "msg");
    zhub_msg_t *msg = NULL;
    if (zhub_mpack_uint (zhub_mpack_get (&frame.data, "offset"), offset) == 0 && bin
        && bin->type == MSGPACK_OBJECT_BIN)
        msg = zhub_msg_decode ((const uint8_t *)bin->via.bin.ptr, bin->via.bin.size, NULL, NULL, 0);
    msgpack_unpacked_destroy (&frame);
    return msg;
}
