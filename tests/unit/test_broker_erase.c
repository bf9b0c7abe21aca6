//  What a GDPR erase matches in the broker's log, and the redacted record.
#include "broker_erase.h"
#include "zhub_json.h"
#include "zhub_msg.h"
#include "zhub_test.h"

#include <stdlib.h>

//  msgpack bytes of a JSON text (the test's own input, always valid)
static uint8_t *
s_pack (const char *json, size_t *size)
{
    json_t *value = json_loads (json, JSON_DECODE_ANY, NULL);
    CHECK (value != NULL);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    zhub_json_pack (&pk, value);
    json_decref (value);
    *size = sbuf.size;
    return (uint8_t *)sbuf.data;
}

static void
s_needles (broker_needles_t *needles)
{
    size_t size;
    uint8_t *data = s_pack ("{\"request\":\"r1\",\"bird_contact_id\":\"b-7f3a\","
                            "\"hubspot_contact_id\":\"51\",\"phone\":\"+5215512345678\","
                            "\"email\":\"Ana@Example.com\",\"identifiers\":[\"ana@example.com\"]}",
                            &size);
    CHECK (broker_needles_from_data (data, size, needles) == 0);
    free (data);
}

static bool
s_mentions (const char *json, const broker_needles_t *needles)
{
    size_t size;
    uint8_t *bytes = s_pack (json, &size);
    bool found = broker_erase_mentions (bytes, size, needles);
    free (bytes);
    return found;
}

static void
test_needles_come_from_every_field_without_duplicates (void)
{
    broker_needles_t needles;
    s_needles (&needles);
    CHECK_STR (needles.request, "r1");
    //  ana@example.com, b-7f3a, 51, +5215512345678, 5215512345678, Ana@Example.com
    CHECK (needles.count == 6);
    uint8_t *packed;
    size_t size;
    CHECK (broker_needles_encode (&needles, &packed, &size) == 0);
    broker_needles_t again;
    CHECK (broker_needles_decode (packed, size, &again) == 0);
    CHECK (again.count == needles.count);
    CHECK_STR (again.request, "r1");
    free (packed);
    broker_needles_clear (&again);
    broker_needles_clear (&needles);
    size_t empty_size;
    uint8_t *empty = s_pack ("{\"request\":\"r2\",\"identifiers\":[]}", &empty_size);
    CHECK (broker_needles_from_data (empty, empty_size, &needles) == -1);
    free (empty);
}

static void
test_matches_whole_values_for_short_ids_and_substrings_for_long_ones (void)
{
    broker_needles_t needles;
    s_needles (&needles);
    CHECK (s_mentions ("{\"text\":\"write to ANA@example.COM please\"}", &needles));
    CHECK (s_mentions ("{\"contact\":{\"wa_id\":\"5215512345678\"}}", &needles));
    CHECK (s_mentions ("[{\"objectId\":51,\"subscriptionType\":\"contact.creation\"}]", &needles));
    CHECK (s_mentions ("{\"hubspot_contact_id\":\"51\"}", &needles));
    CHECK (s_mentions ("{\"subject\":\"contact:b-7f3a\"}", &needles));
    //  "51" inside another value or as an unrelated number's digits is not the person
    CHECK (!s_mentions ("{\"objectId\":5151,\"note\":\"room 51B\",\"n\":\"1051\"}", &needles));
    CHECK (!s_mentions ("{\"email\":\"bob@example.com\",\"phone\":\"+5215599999999\"}", &needles));
    broker_needles_clear (&needles);
}

static void
test_dead_letters_are_searched_inside_the_wrapped_message (void)
{
    broker_needles_t needles;
    s_needles (&needles);
    size_t inner_size;
    uint8_t *inner = s_pack ("{\"email\":\"ana@example.com\"}", &inner_size);
    //  a map holding the inner envelope as bin
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str (&pk, 7);
    msgpack_pack_str_body (&pk, "message", 7);
    msgpack_pack_bin (&pk, inner_size);
    msgpack_pack_bin_body (&pk, inner, inner_size);
    CHECK (broker_erase_mentions ((uint8_t *)sbuf.data, sbuf.size, &needles));
    msgpack_sbuffer_destroy (&sbuf);
    free (inner);
    broker_needles_clear (&needles);
}

static void
test_redacted_envelope_keeps_identity_and_drops_data (void)
{
    broker_needles_t needles;
    s_needles (&needles);
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "evt-1");
    zhub_msg_set (&msg->source, "bird");
    zhub_msg_set (&msg->type, "webhook.bird.contact.updated");
    zhub_msg_set (&msg->subject, "contact:b-7f3a");
    msg->time_ms = 1700000000000;
    json_t *data = json_pack ("{s:s, s:s}", "email", "ana@example.com", "name", "Ana");
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    uint8_t *raw, *out;
    size_t raw_size, out_size;
    CHECK (zhub_msg_encode (msg, &raw, &raw_size, NULL, 0) == 0);
    CHECK (broker_erase_redact (raw, raw_size, &needles, &out, &out_size) == 0);
    CHECK (!broker_erase_mentions (out, out_size, &needles));
    zhub_msg_t *back = zhub_msg_decode (out, out_size, &zhub_mpack_default_limits, NULL, 0);
    CHECK (back != NULL);
    if (back) {
        CHECK_STR (back->id, "evt-1");
        CHECK_STR (back->type, "webhook.bird.contact.updated");
        CHECK_STR (back->subject, "erased");
        CHECK (back->time_ms == 1700000000000);
        json_t *json = zhub_msg_data_json (back);
        CHECK (json && json_is_true (json_object_get (json, "zhub_erased"))
               && json_object_size (json) == 1);
        json_decref (json);
    }
    zhub_msg_destroy (&back);
    zhub_msg_destroy (&msg);
    free (raw);
    free (out);
    CHECK (broker_erase_redact ((const uint8_t *)"\xc1", 1, &needles, &out, &out_size) == -1);
    broker_needles_clear (&needles);
}

int
main (void)
{
    RUN (test_needles_come_from_every_field_without_duplicates);
    RUN (test_matches_whole_values_for_short_ids_and_substrings_for_long_ones);
    RUN (test_dead_letters_are_searched_inside_the_wrapped_message);
    RUN (test_redacted_envelope_keeps_identity_and_drops_data);
    TEST_EXIT ();
}
