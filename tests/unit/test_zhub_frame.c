//  Bus commands: every command round trips with its fields, and corrupt or
//  incomplete frames are refused with a reason.
#include "zhub_frame.h"
#include "zhub_test.h"

static zhub_frame_t *
s_round_trip (const zhub_frame_t *frame)
{
    uint8_t *buf;
    size_t size;
    if (zhub_frame_encode (frame, &buf, &size))
        return NULL;
    char err[128];
    zhub_frame_t *back = zhub_frame_decode (buf, size, err, sizeof err);
    if (!back)
        fprintf (stderr, "  decode failed: %s\n", err);
    free (buf);
    return back;
}

static void
test_publish_round_trip (void)
{
    zhub_frame_t *f = zhub_frame_new (ZHUB_CMD_PUBLISH);
    f->seq = 42;
    const uint8_t msg[] = {0x80};
    zhub_frame_set_msg (f, msg, 1);
    zhub_frame_t *back = s_round_trip (f);
    CHECK (back && back->cmd == ZHUB_CMD_PUBLISH && back->seq == 42 && back->msg_size == 1
           && back->msg[0] == 0x80);
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&f);
}

static void
test_join_round_trip_with_group_settings (void)
{
    zhub_frame_t *f = zhub_frame_new (ZHUB_CMD_JOIN);
    f->seq = 7;
    f->group = zhub_strdup ("contact-sync");
    zhub_frame_add_topic (f, "webhook.bird.>");
    zhub_frame_add_topic (f, "conversation.started");
    f->credit = 10;
    f->max_deliveries = 5;
    f->ack_deadline_ms = 30000;
    f->backoff_ms[0] = 1000;
    f->backoff_ms[1] = 5000;
    f->backoff_count = 2;
    f->start = zhub_strdup ("latest");
    zhub_frame_t *back = s_round_trip (f);
    CHECK (back && back->topic_count == 2);
    if (back) {
        CHECK_STR (back->group, "contact-sync");
        CHECK_STR (back->topics[1], "conversation.started");
        CHECK_STR (back->start, "latest");
        CHECK (back->credit == 10 && back->max_deliveries == 5 && back->ack_deadline_ms == 30000);
        CHECK (back->backoff_count == 2 && back->backoff_ms[1] == 5000);
    }
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&f);
}

static void
test_nack_and_deliver_round_trip (void)
{
    zhub_frame_t *f = zhub_frame_new (ZHUB_CMD_NACK);
    f->tag = UINT64_MAX - 1;
    f->delay_ms = 2000;
    f->terminal = true;
    f->code = 422;
    f->reason = zhub_strdup ("invalid phone number");
    zhub_frame_t *back = s_round_trip (f);
    CHECK (back && back->tag == UINT64_MAX - 1 && back->delay_ms == 2000 && back->terminal
           && back->code == 422);
    if (back)
        CHECK_STR (back->reason, "invalid phone number");
    CHECK (back && !back->defer);
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&f);

    //  defer: a retry that is no attempt
    f = zhub_frame_new (ZHUB_CMD_NACK);
    f->tag = 5;
    f->delay_ms = 1500;
    f->defer = true;
    back = s_round_trip (f);
    CHECK (back && back->defer && !back->terminal && back->delay_ms == 1500);
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&f);

    f = zhub_frame_new (ZHUB_CMD_DELIVER);
    f->group = zhub_strdup ("g");
    f->tag = 9;
    f->offset = 77;
    f->attempt = 2;
    const uint8_t msg[] = {0x81, 0xa1, 'a', 0x01};
    zhub_frame_set_msg (f, msg, sizeof msg);
    back = s_round_trip (f);
    CHECK (back && back->tag == 9 && back->offset == 77 && back->attempt == 2
           && back->msg_size == sizeof msg);
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&f);
}

static void
test_every_command_name_maps_back (void)
{
    for (int cmd = 1; cmd < ZHUB_CMD_COUNT_; cmd++) {
        const char *name = zhub_cmd_name ((zhub_cmd_t) cmd);
        CHECK (name && zhub_cmd_from_name (name, strlen (name)) == (zhub_cmd_t) cmd);
    }
    CHECK (zhub_cmd_from_name ("NOPE", 4) == ZHUB_CMD_INVALID);
    CHECK (zhub_cmd_name (ZHUB_CMD_INVALID) == NULL);
}

static void
test_missing_required_fields_are_refused (void)
{
    //  {"cmd":"PUBLISH","seq":1} without msg
    const uint8_t nomsg[] = {0x82, 0xa3, 'c', 'm', 'd', 0xa7, 'P', 'U', 'B', 'L', 'I', 'S', 'H',
                             0xa3, 's', 'e', 'q', 0x01};
    char err[128];
    CHECK (zhub_frame_decode (nomsg, sizeof nomsg, err, sizeof err) == NULL);
    CHECK (strstr (err, "missing") != NULL);
    //  {"cmd":"ACK","tag":"x"}: wrong type
    const uint8_t badtag[] = {0x82, 0xa3, 'c', 'm', 'd', 0xa3, 'A', 'C', 'K', 0xa3, 't', 'a', 'g',
                              0xa1, 'x'};
    CHECK (zhub_frame_decode (badtag, sizeof badtag, err, sizeof err) == NULL);
    //  unknown command, and no command
    const uint8_t unknown[] = {0x81, 0xa3, 'c', 'm', 'd', 0xa3, 'F', 'O', 'O'};
    CHECK (zhub_frame_decode (unknown, sizeof unknown, err, sizeof err) == NULL);
    const uint8_t empty[] = {0x80};
    CHECK (zhub_frame_decode (empty, sizeof empty, err, sizeof err) == NULL);
    //  unknown keys are ignored (forward compatible)
    const uint8_t extra[] = {0x82, 0xa3, 'c', 'm', 'd', 0xa4, 'P', 'I', 'N', 'G', 0xa3, 'n', 'e',
                             'w', 0xc3};
    zhub_frame_t *ping = zhub_frame_decode (extra, sizeof extra, err, sizeof err);
    CHECK (ping && ping->cmd == ZHUB_CMD_PING);
    zhub_frame_destroy (&ping);
}

static void
test_truncated_frames_are_refused (void)
{
    zhub_frame_t *f = zhub_frame_new (ZHUB_CMD_ERROR);
    f->seq = 3;
    f->code = ZHUB_ERR_MALFORMED;
    f->reason = zhub_strdup ("bad envelope");
    uint8_t *buf;
    size_t size;
    CHECK (zhub_frame_encode (f, &buf, &size) == 0);
    for (size_t cut = 0; cut < size; cut++)
        CHECK (zhub_frame_decode (buf, cut, NULL, 0) == NULL);
    free (buf);
    zhub_frame_destroy (&f);
}

//  HELLO's instance (PROTOCOL.md 7.8) travels when set and only then; an
//  older HELLO without it still decodes.
static void
test_hello_carries_the_instance_when_set (void)
{
    zhub_frame_t *hello = zhub_frame_new (ZHUB_CMD_HELLO);
    hello->version = 1;
    hello->name = zhub_strdup ("contact-sync");
    hello->instance = zhub_strdup ("host-a_1");
    uint8_t *buf;
    size_t size;
    CHECK (zhub_frame_encode (hello, &buf, &size) == 0);
    zhub_frame_t *back = zhub_frame_decode (buf, size, NULL, 0);
    CHECK (back && back->instance && !strcmp (back->instance, "host-a_1"));
    zhub_frame_destroy (&back);
    free (buf);
    free (hello->instance);
    hello->instance = NULL;
    CHECK (zhub_frame_encode (hello, &buf, &size) == 0);
    back = zhub_frame_decode (buf, size, NULL, 0);
    CHECK (back && back->instance == NULL && !strcmp (back->name, "contact-sync"));
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&hello);
    free (buf);
}

//  PUBACKS (PROTOCOL.md 5.2): seq is the first publish it confirms, one
//  offset per publish, duplicates by position.
static void
test_pubacks_round_trip (void)
{
    zhub_frame_t *f = zhub_frame_new (ZHUB_CMD_PUBACKS);
    f->seq = 100;
    CHECK (zhub_frame_add_ack (f, 7, false) == 0);
    CHECK (zhub_frame_add_ack (f, 9, true) == 0);
    CHECK (zhub_frame_add_ack (f, 0, false) == 0); //  held (deliverat): offset 0
    zhub_frame_t *back = s_round_trip (f);
    CHECK (back && back->cmd == ZHUB_CMD_PUBACKS && back->seq == 100 && back->ack_count == 3);
    if (back && back->ack_count == 3) {
        CHECK (back->ack_offsets[0] == 7 && back->ack_offsets[1] == 9 && back->ack_offsets[2] == 0);
        CHECK (!back->ack_duplicates[0] && back->ack_duplicates[1] && !back->ack_duplicates[2]);
    }
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&f);

    //  the largest one, every publish a duplicate, stays within the
    //  decoder's item limit
    f = zhub_frame_new (ZHUB_CMD_PUBACKS);
    f->seq = 1;
    for (int i = 0; i < ZHUB_FRAME_MAX_ACKS; i++)
        CHECK (zhub_frame_add_ack (f, UINT64_MAX - (uint64_t)i, true) == 0);
    CHECK (zhub_frame_add_ack (f, 1, false) == -1);
    back = s_round_trip (f);
    CHECK (back && back->ack_count == ZHUB_FRAME_MAX_ACKS
           && back->ack_offsets[ZHUB_FRAME_MAX_ACKS - 1] == UINT64_MAX - (ZHUB_FRAME_MAX_ACKS - 1)
           && back->ack_duplicates[ZHUB_FRAME_MAX_ACKS - 1]);
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&f);

    //  nothing to confirm is not a frame
    f = zhub_frame_new (ZHUB_CMD_PUBACKS);
    uint8_t *buf = NULL;
    size_t size;
    CHECK (zhub_frame_encode (f, &buf, &size) == -1);
    zhub_frame_destroy (&f);
}

//  Encodes {cmd: "PUBACKS", seq: 5, <key>: <values>} plus duplicates.
static zhub_frame_t *
s_decode_pubacks (int offsets, int dup, bool dups_as_str, char *err, size_t err_size)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2 + (offsets >= 0) + (dup >= 0 || dups_as_str));
    zhub_mpack_pack_kv_str (&pk, "cmd", "PUBACKS");
    zhub_mpack_pack_str (&pk, "seq");
    msgpack_pack_uint64 (&pk, 5);
    if (offsets >= 0) {
        zhub_mpack_pack_str (&pk, "offsets");
        msgpack_pack_array (&pk, (size_t)offsets);
        for (int i = 0; i < offsets; i++)
            msgpack_pack_uint64 (&pk, 10 + (uint64_t)i);
    }
    if (dups_as_str)
        zhub_mpack_pack_kv_str (&pk, "duplicates", "0");
    else if (dup >= 0) {
        zhub_mpack_pack_str (&pk, "duplicates");
        msgpack_pack_array (&pk, 1);
        msgpack_pack_uint64 (&pk, (uint64_t)dup);
    }
    zhub_frame_t *frame = zhub_frame_decode ((const uint8_t *)sbuf.data, sbuf.size, err, err_size);
    msgpack_sbuffer_destroy (&sbuf);
    return frame;
}

static void
test_pubacks_with_bad_fields_are_refused (void)
{
    char err[128];
    zhub_frame_t *ok = s_decode_pubacks (2, 1, false, err, sizeof err);
    CHECK (ok && ok->ack_count == 2 && ok->ack_duplicates[1] && !ok->ack_duplicates[0]);
    zhub_frame_destroy (&ok);
    CHECK (s_decode_pubacks (-1, -1, false, err, sizeof err) == NULL); //  no offsets
    CHECK (strstr (err, "missing") != NULL);
    CHECK (s_decode_pubacks (0, -1, false, err, sizeof err) == NULL); //  empty
    CHECK (strstr (err, "offsets") != NULL);
    CHECK (s_decode_pubacks (ZHUB_FRAME_MAX_ACKS + 1, -1, false, err, sizeof err) == NULL);
    CHECK (s_decode_pubacks (2, 2, false, err, sizeof err) == NULL); //  position past the end
    CHECK (strstr (err, "duplicates") != NULL);
    CHECK (s_decode_pubacks (2, -1, true, err, sizeof err) == NULL); //  not an array
}

//  batch_acks travels only when set: a HELLO without it is byte for byte
//  what older clients send, and an older broker ignores the key.
static void
test_hello_asks_for_batch_acks_only_when_set (void)
{
    zhub_frame_t *f = zhub_frame_new (ZHUB_CMD_HELLO);
    f->version = 1;
    uint8_t *plain;
    size_t plain_size;
    CHECK (zhub_frame_encode (f, &plain, &plain_size) == 0);
    CHECK (memmem (plain, plain_size, "batch_acks", 10) == NULL);
    free (plain);
    f->batch_acks = true;
    zhub_frame_t *back = s_round_trip (f);
    CHECK (back && back->cmd == ZHUB_CMD_HELLO && back->batch_acks);
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&f);
    f = zhub_frame_new (ZHUB_CMD_WELCOME);
    f->version = 1;
    f->batch_acks = true;
    back = s_round_trip (f);
    CHECK (back && back->cmd == ZHUB_CMD_WELCOME && back->batch_acks);
    zhub_frame_destroy (&back);
    zhub_frame_destroy (&f);
}

int
main (void)
{
    RUN (test_publish_round_trip);
    RUN (test_join_round_trip_with_group_settings);
    RUN (test_nack_and_deliver_round_trip);
    RUN (test_every_command_name_maps_back);
    RUN (test_missing_required_fields_are_refused);
    RUN (test_truncated_frames_are_refused);
    RUN (test_hello_carries_the_instance_when_set);
    RUN (test_pubacks_round_trip);
    RUN (test_pubacks_with_bad_fields_are_refused);
    RUN (test_hello_asks_for_batch_acks_only_when_set);
    TEST_EXIT ();
}
