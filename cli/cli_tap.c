//  Reading the broker's tap (proto/PROTOCOL.md "The tap"), shared by
//  `zhub tail` and `zhub erase`.
#include "cli.h"
#include "zhub_client.h"

#include <stdio.h>
#include <stdlib.h>

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
