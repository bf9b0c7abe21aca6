//  A record a GDPR erase matched in the broker's log, redacted (what
//  matches is test_zhub_forget's).
#include "broker_erase.h"
#include "zhub_msg.h"
#include "zhub_test.h"

#include <stdlib.h>

//  The person, as the broker reads a contact.forget.
static void
s_who (zhub_forget_t *who)
{
    zhub_msg_t *forget = zhub_msg_new ();
    json_t *data = json_loads ("{\"request\":\"r1\",\"bird_contact_id\":\"b-7f3a\","
                               "\"hubspot_contact_id\":\"51\",\"phone\":\"+5215512345678\","
                               "\"email\":\"Ana@Example.com\"}",
                               0, NULL);
    zhub_msg_set_data_json (forget, data);
    json_decref (data);
    CHECK (zhub_forget_parse (forget, who, NULL, 0) == ZHUB_OK);
    zhub_msg_destroy (&forget);
}

//  A webhook envelope with subject and data (taken), which must mention the
//  person; redacted, checked to mention them no more, decoded again.
static zhub_msg_t *
s_redacted (const zhub_forget_t *who, const char *subject, json_t *data)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "evt-1");
    zhub_msg_set (&msg->source, "bird");
    zhub_msg_set (&msg->type, "webhook.bird.contact.updated");
    zhub_msg_set (&msg->subject, subject);
    msg->time_ms = 1700000000000;
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    uint8_t *raw = NULL, *out = NULL;
    size_t raw_size = 0, out_size;
    zhub_msg_t *back = NULL;
    CHECK (zhub_msg_encode (msg, &raw, &raw_size, NULL, 0) == 0);
    CHECK (zhub_forget_mentions_msgpack (who, raw, raw_size));
    CHECK (broker_erase_redact (raw, raw_size, who, &out, &out_size) == 0);
    if (out) {
        CHECK (!zhub_forget_mentions_msgpack (who, out, out_size));
        back = zhub_msg_decode (out, out_size, &zhub_mpack_default_limits, NULL, 0);
    }
    CHECK (back != NULL);
    zhub_msg_destroy (&msg);
    free (raw);
    free (out);
    return back;
}

static void
test_redacted_envelope_keeps_identity_and_drops_data (void)
{
    zhub_forget_t who;
    s_who (&who);
    zhub_msg_t *back =
        s_redacted (&who, "contact:b-7f3a",
                    json_pack ("{s:s, s:s}", "email", "ana@example.com", "name", "Ana"));
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
    uint8_t *out;
    size_t out_size;
    CHECK (broker_erase_redact ((const uint8_t *)"\xc1", 1, &who, &out, &out_size) == -1);
    zhub_forget_clear (&who);
}

static void
test_a_subject_that_names_someone_else_stays (void)
{
    zhub_forget_t who;
    s_who (&who);
    //  found by the objectId; the subject is another contact's ("5151", not "51")
    zhub_msg_t *back =
        s_redacted (&who, "hubspot:contact:5151", json_pack ("{s:I}", "objectId", (json_int_t)51));
    CHECK (back && !strcmp (back->subject, "hubspot:contact:5151"));
    zhub_msg_destroy (&back);
    zhub_forget_clear (&who);
}

int
main (void)
{
    RUN (test_redacted_envelope_keeps_identity_and_drops_data);
    RUN (test_a_subject_that_names_someone_else_stays);
    TEST_EXIT ();
}
