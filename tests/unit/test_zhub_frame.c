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
    TEST_EXIT ();
}
