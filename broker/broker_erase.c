//  How a record the erase matched is redacted: the envelope stays (offsets,
//  ids and the dedup window do not move), its personal content goes.
#include "broker_erase.h"

#include "zhub_mpack.h"
#include "zhub_msg.h"

#include <string.h>

int
broker_erase_redact (const uint8_t *envelope, size_t size, const zhub_forget_t *f, uint8_t **out,
                     size_t *out_size)
{
    zhub_msg_t *msg = zhub_msg_decode (envelope, size, &zhub_msg_stored_limits, NULL, 0);
    if (!msg)
        return -1;
    zhub_msg_erase (msg);
    if (msg->subject && zhub_forget_mentions_text (f, msg->subject, strlen (msg->subject)))
        zhub_msg_set (&msg->subject, "erased");
    if (msg->traceparent)
        zhub_msg_set (&msg->traceparent, NULL);
    int rc = zhub_msg_encode (msg, out, out_size, NULL, 0);
    zhub_msg_destroy (&msg);
    return rc;
}
