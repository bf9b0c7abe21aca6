//  The envelope decode limits (zhub_msg.h) hold together: the largest and
//  deepest envelope a publish may carry still gives a dead letter (built by
//  the broker's own code) that every reader can decode and that travels
//  in one DELIVER frame; its data reads as JSON; and nothing deeper than
//  msgpack-c can unpack gets past zhub_mpack_decode with a vague reason.
#include "broker_dlq.h"
#include "zhub_frame.h"
#include "zhub_msg.h"
#include "zhub_test.h"

#include <stdlib.h>

#define S_STRING_BYTES 19 //  a fixstr of 19 bytes takes 20: 100,000 fill 2 MB

//  Items of a decoded object as zhub_mpack_check counts them.
static size_t
s_items (const msgpack_object *obj)
{
    size_t n = 1;
    if (obj->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < obj->via.array.size; i++)
            n += s_items (&obj->via.array.ptr[i]);
    if (obj->type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < obj->via.map.size; i++)
            n += s_items (&obj->via.map.ptr[i].key) + s_items (&obj->via.map.ptr[i].val);
    return n;
}

//  data = {"deep": <levels nested maps>, "list": [<count> strings]}
static void
s_data (zhub_msg_t *msg, size_t levels, size_t count)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    zhub_mpack_pack_str (&pk, "deep");
    for (size_t i = 0; i < levels; i++) {
        msgpack_pack_map (&pk, 1);
        zhub_mpack_pack_str (&pk, "k");
    }
    msgpack_pack_true (&pk);
    zhub_mpack_pack_str (&pk, "list");
    msgpack_pack_array (&pk, (uint32_t)count);
    char text[S_STRING_BYTES + 1];
    memset (text, 's', S_STRING_BYTES);
    text[S_STRING_BYTES] = 0;
    for (size_t i = 0; i < count; i++)
        zhub_mpack_pack_str (&pk, text);
    zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
}

//  The envelope with data 30 levels deep and exactly ZHUB_MSG_MAX_ITEMS
//  items (extra_items more, extra_levels deeper), as bytes.
static uint8_t *
s_largest (size_t extra_levels, size_t extra_items, size_t *size)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "hubspot:evt-8841");
    zhub_msg_set (&msg->source, "hubspot");
    zhub_msg_set (&msg->type, "webhook.hubspot.contact.propertyChange");
    zhub_msg_set (&msg->subject, "hubspot:contact:501");
    zhub_msg_set (&msg->traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    msg->time_ms = 1715203101896;
    //  envelope (1), data (2), then the nested maps down to the limit
    size_t levels = ZHUB_MSG_MAX_DEPTH - 2 + extra_levels;
    s_data (msg, levels, 0);
    uint8_t *buf;
    CHECK (zhub_msg_encode (msg, &buf, size, NULL, 0) == 0);
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    size_t offset = 0;
    CHECK (msgpack_unpack_next (&result, (const char *)buf, *size, &offset)
           == MSGPACK_UNPACK_SUCCESS);
    size_t overhead = s_items (&result.data);
    msgpack_unpacked_destroy (&result);
    free (buf);
    s_data (msg, levels, ZHUB_MSG_MAX_ITEMS - overhead + extra_items);
    CHECK (zhub_msg_encode (msg, &buf, size, NULL, 0) == 0);
    zhub_msg_destroy (&msg);
    return buf;
}

static void
test_the_largest_publishable_envelope_is_accepted_and_no_more (void)
{
    size_t size;
    char err[128];
    uint8_t *buf = s_largest (0, 0, &size);
    CHECK (size <= ZHUB_MSG_MAX_SIZE && size > ZHUB_MSG_MAX_SIZE * 9 / 10);
    zhub_msg_t *msg = zhub_msg_decode (buf, size, &zhub_msg_publish_limits, err, sizeof err);
    CHECK (msg != NULL);
    zhub_msg_destroy (&msg);
    free (buf);
    buf = s_largest (1, 0, &size);
    CHECK (zhub_msg_decode (buf, size, &zhub_msg_publish_limits, err, sizeof err) == NULL);
    CHECK (strstr (err, "nesting too deep") != NULL);
    free (buf);
    buf = s_largest (0, 1, &size);
    CHECK (zhub_msg_decode (buf, size, &zhub_msg_publish_limits, err, sizeof err) == NULL);
    CHECK (strstr (err, "too many items") != NULL);
    free (buf);
}

//  The broker dead-letters that envelope after the longest history it
//  keeps (33 failures, reasons cut to 512 bytes): every reader decodes it.
static void
test_the_dead_letter_of_the_largest_envelope_reads_everywhere (void)
{
    size_t size;
    uint8_t *original = s_largest (0, 0, &size);
    broker_attempt_t attempts[33];
    char reason[513];
    memset (reason, 'r', 512);
    reason[512] = 0;
    for (size_t i = 0; i < 33; i++)
        attempts[i] = (broker_attempt_t){
            .time_ms = 1715203101896 + (int64_t)i, .code = 503, .reason = reason};
    zhub_msg_t *dead = broker_dlq_build ("contact-sync", original, size, 42, attempts, 33, 503,
                                         "max_deliveries", 1715203200000);
    CHECK (dead != NULL);
    uint8_t *bytes = NULL;
    size_t bytes_size = 0;
    CHECK (dead && zhub_msg_encode (dead, &bytes, &bytes_size, NULL, 0) == 0);
    zhub_msg_destroy (&dead);

    //  as the broker's log, a client's DELIVER, the tap and an erase read it
    char err[128] = "";
    dead = zhub_msg_decode (bytes, bytes_size, &zhub_msg_stored_limits, err, sizeof err);
    CHECK (dead != NULL);
    if (!dead)
        fprintf (stderr, "  dead letter: %s\n", err);
    //  as the dead-letter service reads its data, and the original in it
    json_t *data = dead ? zhub_msg_data_json (dead) : NULL;
    CHECK (json_is_object (data));
    CHECK (json_array_size (json_object_get (data, "attempts")) == 33);
    msgpack_unpacked result;
    CHECK (dead
           && zhub_mpack_decode (dead->data, dead->data_size, &zhub_msg_stored_limits, &result,
                                 NULL, 0)
                  == 0);
    zhub_msg_t *inner =
        dead ? zhub_msg_from_object (zhub_mpack_get (&result.data, "message"), err, sizeof err)
             : NULL;
    CHECK (inner && !strcmp (inner->id, "hubspot:evt-8841"));
    zhub_msg_destroy (&inner);
    if (dead)
        msgpack_unpacked_destroy (&result);
    json_decref (data);
    zhub_msg_destroy (&dead);

    //  in one DELIVER frame
    zhub_frame_t *frame = zhub_frame_new (ZHUB_CMD_DELIVER);
    frame->group = zhub_strdup ("dead-letter");
    frame->tag = 7;
    frame->offset = 43;
    frame->attempt = 1;
    zhub_frame_set_msg (frame, bytes, bytes_size);
    uint8_t *wire;
    size_t wire_size;
    CHECK (zhub_frame_encode (frame, &wire, &wire_size) == 0);
    CHECK (wire_size <= ZHUB_FRAME_MAX_SIZE);
    zhub_frame_t *back = zhub_frame_decode (wire, wire_size, err, sizeof err);
    CHECK (back && back->msg_size == bytes_size);
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&frame);
    free (wire);
    free (bytes);
    free (original);
}

//  msgpack-c unpacks 32 levels and fails on the 33rd whatever the limits
//  say; zhub_mpack_decode says so before it tries.
static void
test_nothing_deeper_than_msgpack_can_unpack_passes_the_check (void)
{
    zhub_mpack_limits_t generous = {.max_size = 1000, .max_depth = 100, .max_items = 1000};
    uint8_t buf[40];
    for (size_t depth = ZHUB_MPACK_MAX_DEPTH; depth <= ZHUB_MPACK_MAX_DEPTH + 1; depth++) {
        for (size_t i = 0; i < depth; i++)
            buf[i] = 0x91; //  [ ... ]
        buf[depth] = 0x01;
        msgpack_unpacked result;
        char err[128] = "";
        int rc = zhub_mpack_decode (buf, depth + 1, &generous, &result, err, sizeof err);
        if (depth == ZHUB_MPACK_MAX_DEPTH) {
            CHECK (rc == 0);
            msgpack_unpacked_destroy (&result);
        } else {
            CHECK (rc == -1);
            CHECK (strstr (err, "nesting too deep") != NULL);
        }
    }
    //  and the stored limits are exactly what can be unpacked
    CHECK (zhub_msg_stored_limits.max_depth == ZHUB_MPACK_MAX_DEPTH);
    CHECK (zhub_msg_publish_limits.max_depth + 2 == zhub_msg_stored_limits.max_depth);
}

int
main (void)
{
    RUN (test_the_largest_publishable_envelope_is_accepted_and_no_more);
    RUN (test_the_dead_letter_of_the_largest_envelope_reads_everywhere);
    RUN (test_nothing_deeper_than_msgpack_can_unpack_passes_the_check);
    TEST_EXIT ();
}
