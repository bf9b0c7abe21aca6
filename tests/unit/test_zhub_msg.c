//  The envelope: round trips, validation, decoding of corrupt input, and
//  the topic grammar with wildcard patterns.
#include "zhub_msg.h"
#include "zhub_test.h"

static zhub_msg_t *
s_sample (void)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "hubspot:62515:12345:1:123:1564113600000");
    zhub_msg_set (&msg->source, "hubspot");
    zhub_msg_set (&msg->type, "webhook.hubspot.contact.creation");
    zhub_msg_set (&msg->subject, "hubspot:contact:123");
    zhub_msg_set (&msg->traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    msg->time_ms = 1564113600000;
    json_t *data = json_pack ("{s:i, s:s, s:[]}", "objectId", 123, "name", "Zoë", "empty");
    CHECK (zhub_msg_set_data_json (msg, data) == 0);
    json_decref (data);
    return msg;
}

static void
test_round_trip_keeps_every_field (void)
{
    zhub_msg_t *msg = s_sample ();
    uint8_t *buf;
    size_t size;
    CHECK (zhub_msg_encode (msg, &buf, &size, NULL, 0) == 0);
    char err[128];
    zhub_msg_t *back = zhub_msg_decode (buf, size, NULL, err, sizeof err);
    CHECK (back != NULL);
    if (back) {
        CHECK_STR (back->id, msg->id);
        CHECK_STR (back->source, msg->source);
        CHECK_STR (back->type, msg->type);
        CHECK_STR (back->subject, msg->subject);
        CHECK_STR (back->traceparent, msg->traceparent);
        CHECK (back->time_ms == msg->time_ms);
        CHECK (back->data_size == msg->data_size && !memcmp (back->data, msg->data, msg->data_size));
        json_t *data = zhub_msg_data_json (back);
        CHECK_STR (json_string_value (json_object_get (data, "name")), "Zoë");
        json_decref (data);
        //  re-encoding gives the same bytes
        uint8_t *again;
        size_t again_size;
        CHECK (zhub_msg_encode (back, &again, &again_size, NULL, 0) == 0);
        CHECK (again_size == size && !memcmp (again, buf, size));
        free (again);
    }
    zhub_msg_destroy (&back);
    free (buf);
    zhub_msg_destroy (&msg);
    CHECK (msg == NULL);
    zhub_msg_destroy (&msg);   //  idempotent
}

//  deliverat (delayed delivery) travels only when set, and must be unix ms.
static void
test_deliverat_round_trips_and_must_be_unix_ms (void)
{
    zhub_msg_t *msg = s_sample ();
    uint8_t *buf;
    size_t size, plain_size;
    CHECK (zhub_msg_encode (msg, &buf, &plain_size, NULL, 0) == 0);
    free (buf);
    msg->deliver_at_ms = 1893456000000LL;
    CHECK (zhub_msg_encode (msg, &buf, &size, NULL, 0) == 0);
    CHECK (size > plain_size);
    zhub_msg_t *back = zhub_msg_decode (buf, size, NULL, NULL, 0);
    CHECK (back && back->deliver_at_ms == 1893456000000LL);
    zhub_msg_t *copy = back ? zhub_msg_dup (back) : NULL;
    CHECK (copy && copy->deliver_at_ms == 1893456000000LL);
    zhub_msg_destroy (&copy);
    zhub_msg_destroy (&back);
    free (buf);
    //  {"specversion":"1.0","id":"x","source":"s","type":"a.b","deliverat":"soon"}
    const uint8_t text[] = {0x85, 0xab, 's', 'p', 'e', 'c', 'v', 'e', 'r', 's', 'i', 'o', 'n',
                            0xa3, '1', '.', '0', 0xa2, 'i', 'd', 0xa1, 'x', 0xa6, 's', 'o',
                            'u', 'r', 'c', 'e', 0xa1, 's', 0xa4, 't', 'y', 'p', 'e', 0xa3,
                            'a', '.', 'b', 0xa9, 'd', 'e', 'l', 'i', 'v', 'e', 'r', 'a', 't',
                            0xa4, 's', 'o', 'o', 'n'};
    char err[128] = "";
    CHECK (zhub_msg_decode (text, sizeof text, NULL, err, sizeof err) == NULL);
    CHECK (strstr (err, "deliverat") != NULL);
    zhub_msg_destroy (&msg);
}

static void
test_invalid_messages_are_not_encoded (void)
{
    zhub_msg_t *msg = s_sample ();
    uint8_t *buf;
    size_t size;
    char err[128];
    zhub_msg_set (&msg->type, "webhook..double");
    CHECK (zhub_msg_encode (msg, &buf, &size, err, sizeof err) == -1);
    zhub_msg_set (&msg->type, "ok.topic");
    zhub_msg_set (&msg->id, NULL);
    CHECK (zhub_msg_encode (msg, &buf, &size, err, sizeof err) == -1);
    CHECK (strstr (err, "id") != NULL);
    zhub_msg_destroy (&msg);
}

static void
test_time_accepts_rfc3339_from_other_clients (void)
{
    //  {"specversion":"1.0","id":"x","source":"s","type":"t","time":"2024-05-08T21:18:21.896Z"}
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 5);
    zhub_mpack_pack_kv_str (&pk, "specversion", "1.0");
    zhub_mpack_pack_kv_str (&pk, "id", "x");
    zhub_mpack_pack_kv_str (&pk, "source", "s");
    zhub_mpack_pack_kv_str (&pk, "type", "t");
    zhub_mpack_pack_kv_str (&pk, "time", "2024-05-08T21:18:21.896Z");
    zhub_msg_t *msg = zhub_msg_decode ((uint8_t *) sbuf.data, sbuf.size, NULL, NULL, 0);
    CHECK (msg && msg->time_ms == 1715203101896LL);
    CHECK (msg && msg->data_size == 1 && msg->data[0] == 0x80);   //  absent data = {}
    zhub_msg_destroy (&msg);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_corrupt_envelopes_are_rejected (void)
{
    zhub_msg_t *msg = s_sample ();
    uint8_t *buf;
    size_t size;
    CHECK (zhub_msg_encode (msg, &buf, &size, NULL, 0) == 0);
    //  every truncation fails cleanly
    for (size_t cut = 0; cut < size; cut++)
        CHECK (zhub_msg_decode (buf, cut, NULL, NULL, 0) == NULL);
    //  every single-byte corruption either decodes to a valid message or fails cleanly
    for (size_t i = 0; i < size; i++) {
        uint8_t saved = buf[i];
        buf[i] ^= 0xa5;
        zhub_msg_t *m = zhub_msg_decode (buf, size, NULL, NULL, 0);
        if (m)
            CHECK (zhub_msg_validate (m, NULL, 0) == 0);
        zhub_msg_destroy (&m);
        buf[i] = saved;
    }
    //  a non-map, and a map without specversion
    const uint8_t number[] = {0x01};
    CHECK (zhub_msg_decode (number, 1, NULL, NULL, 0) == NULL);
    const uint8_t nospec[] = {0x81, 0xa2, 'i', 'd', 0xa1, 'x'};
    char err[128];
    CHECK (zhub_msg_decode (nospec, sizeof nospec, NULL, err, sizeof err) == NULL);
    CHECK (strstr (err, "specversion") != NULL);
    //  oversized input is refused by the limits
    zhub_mpack_limits_t small = {.max_size = 16, .max_depth = 8, .max_items = 100};
    CHECK (zhub_msg_decode (buf, size, &small, NULL, 0) == NULL);
    free (buf);
    zhub_msg_destroy (&msg);
}

static void
test_an_erased_message_is_told_from_one_that_only_looks_alike (void)
{
    zhub_msg_t *msg = s_sample ();
    CHECK (!zhub_msg_is_erased (msg));
    zhub_msg_erase (msg);
    CHECK (zhub_msg_is_erased (msg));
    json_t *data = zhub_msg_data_json (msg);
    CHECK (json_object_size (data) == 1 && json_is_true (json_object_get (data, "zhub_erased")));
    json_decref (data);
    //  a sender's own field of that name with another value, or beside
    //  other fields, is data like any other
    data = json_pack ("{s:b}", "zhub_erased", 0);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    CHECK (!zhub_msg_is_erased (msg));
    data = json_pack ("{s:b, s:i}", "zhub_erased", 1, "objectId", 7);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    CHECK (!zhub_msg_is_erased (msg));
    zhub_msg_destroy (&msg);
}

static void
test_topic_grammar_and_patterns (void)
{
    CHECK (zhub_topic_valid ("webhook.hubspot.contact.propertyChange"));
    CHECK (zhub_topic_valid ("dlq.contact-sync"));
    CHECK (!zhub_topic_valid (""));
    CHECK (!zhub_topic_valid ("a..b"));
    CHECK (!zhub_topic_valid (".a"));
    CHECK (!zhub_topic_valid ("a."));
    CHECK (!zhub_topic_valid ("a b"));
    CHECK (!zhub_topic_valid ("a.*"));
    CHECK (zhub_topic_match ("webhook.bird.>", "webhook.bird.whatsapp.inbound"));
    CHECK (!zhub_topic_match ("webhook.bird.>", "webhook.bird"));
    CHECK (zhub_topic_match ("webhook.*.contact.creation", "webhook.hubspot.contact.creation"));
    CHECK (!zhub_topic_match ("webhook.*", "webhook.hubspot.contact"));
    CHECK (zhub_topic_match ("conversation.started", "conversation.started"));
    CHECK (!zhub_topic_match ("conversation.started", "conversation.started.x"));
    CHECK (!zhub_topic_match ("conversation.started.x", "conversation.started"));
    CHECK (zhub_topic_match (">", "anything.at.all"));
    CHECK (!zhub_topic_match ("a.>.b", "a.x.b"));
    CHECK (zhub_topic_match ("*.*", "a.b"));
    CHECK (!zhub_topic_match ("*.*", "a"));
}

int
main (void)
{
    RUN (test_round_trip_keeps_every_field);
    RUN (test_invalid_messages_are_not_encoded);
    RUN (test_deliverat_round_trips_and_must_be_unix_ms);
    RUN (test_time_accepts_rfc3339_from_other_clients);
    RUN (test_corrupt_envelopes_are_rejected);
    RUN (test_an_erased_message_is_told_from_one_that_only_looks_alike);
    RUN (test_topic_grammar_and_patterns);
    TEST_EXIT ();
}
