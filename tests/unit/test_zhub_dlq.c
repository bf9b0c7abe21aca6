//  The dead letter as PROTOCOL.md §8 has it, built by the broker or by an
//  actor for a message it had acked: the original envelope spliced in as
//  sent, the failure history, the deterministic id.
#include "zhub_dlq.h"
#include "zhub_mpack.h"
#include "zhub_test.h"

static void
test_an_actors_dead_letter_carries_the_original_and_its_error (void)
{
    zhub_msg_t *original = zhub_msg_new ();
    zhub_msg_set (&original->id, "bird:abc");
    zhub_msg_set (&original->source, "bird");
    zhub_msg_set (&original->type, "webhook.bird.contact.updated");
    zhub_msg_set (&original->subject, "contact:b-1");
    zhub_msg_set (&original->traceparent,
                  "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    original->time_ms = 1700000000000;
    json_t *data = json_pack ("{s:s}", "event", "contact.updated");
    zhub_msg_set_data_json (original, data);
    json_decref (data);
    uint8_t *bytes;
    size_t size;
    char err[128];
    CHECK (zhub_msg_encode (original, &bytes, &size, err, sizeof err) == 0);
    zhub_dlq_attempt_t attempt = {.time_ms = 1700000001000,
                                  .code = 400,
                                  .reason = "hubspot upsert contact: VALIDATION_ERROR"};
    zhub_dlq_spec_t spec = {.group = "contact-sync",
                            .source = "zhub/contact-sync",
                            .envelope = bytes,
                            .envelope_size = size,
                            .attempts = &attempt,
                            .attempt_count = 1,
                            .reason_code = 400,
                            .cause = "terminal",
                            .now_ms = 1700000002000};
    zhub_msg_t *dead = zhub_dlq_build (&spec);
    CHECK (dead != NULL);
    CHECK_STR (dead->id, "dlq:contact-sync:bird:abc");
    CHECK_STR (dead->type, "dlq.contact-sync");
    CHECK_STR (dead->source, "zhub/contact-sync");
    CHECK_STR (dead->subject, "contact:b-1");
    CHECK_STR (dead->traceparent, original->traceparent);
    CHECK (dead->time_ms == 1700000002000);
    json_t *letter = zhub_msg_data_json (dead);
    CHECK_STR (json_string_value (json_object_get (letter, "group")), "contact-sync");
    CHECK_STR (json_string_value (json_object_get (letter, "cause")), "terminal");
    CHECK (json_integer_value (json_object_get (letter, "reason_code")) == 400);
    CHECK (json_object_get (letter, "offset") == NULL); //  an actor knows none
    const json_t *first = json_array_get (json_object_get (letter, "attempts"), 0);
    CHECK_STR (json_string_value (json_object_get (first, "reason")),
               "hubspot upsert contact: VALIDATION_ERROR");
    CHECK_STR (json_string_value (json_object_get (first, "time")), "2023-11-14T22:13:21.000Z");
    const json_t *message = json_object_get (letter, "message");
    CHECK_STR (json_string_value (json_object_get (message, "id")), "bird:abc");
    CHECK_STR (json_string_value (json_object_get (json_object_get (message, "data"), "event")),
               "contact.updated");
    json_decref (letter);
    zhub_msg_destroy (&dead);

    //  the broker's: with the offset
    spec.has_offset = true;
    spec.offset = 42;
    spec.source = "zhub/broker";
    dead = zhub_dlq_build (&spec);
    letter = zhub_msg_data_json (dead);
    CHECK (json_integer_value (json_object_get (letter, "offset")) == 42);
    json_decref (letter);
    zhub_msg_destroy (&dead);

    //  not an envelope: no letter
    spec.envelope_size = 3;
    CHECK (zhub_dlq_build (&spec) == NULL);
    free (bytes);
    zhub_msg_destroy (&original);
}

static void
test_long_ids_are_hashed (void)
{
    char long_id[300];
    memset (long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    char *id = zhub_dlq_id ("g", long_id), *again = zhub_dlq_id ("g", long_id);
    CHECK (strlen (id) <= ZHUB_MSG_MAX_ID && !strncmp (id, "dlq:g:h:", 8));
    CHECK_STR (id, again);
    free (id);
    free (again);
}

int
main (void)
{
    RUN (test_an_actors_dead_letter_carries_the_original_and_its_error);
    RUN (test_long_ids_are_hashed);
    TEST_EXIT ();
}
