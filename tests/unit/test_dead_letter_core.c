//  zhub-dead-letter's pure core: reading a dlq message, the stored record,
//  replay ids and messages, edits and their diff, the operator's commands
//  applied to a letter, filters, alert bursts.
#include "dead_letter.h"
#include "zhub_json.h"
#include "zhub_test.h"

#include <sodium.h>

//  A dlq.<group> message as the broker builds it (PROTOCOL.md section 8),
//  from JSON text for the original and attempts.
static zhub_msg_t *
s_dlq (const char *group, const char *original_id, const char *data_json)
{
    char *text = zhub_sprintf (
        "{\"group\":\"%s\",\"offset\":17,\"cause\":\"max_deliveries\",\"reason_code\":503,"
        "\"attempts\":[{\"time\":\"2024-05-08T21:18:21.896Z\",\"code\":501,\"reason\":\"first\"},"
        "{\"time\":\"2024-05-08T21:18:22.896Z\",\"code\":503,\"reason\":\"HubSpot 503\"}],"
        "\"message\":{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"bird\","
        "\"type\":\"webhook.bird.contact.updated\",\"subject\":\"contact:b1\",\"time\":"
        "1715203101896,"
        "\"data\":%s}}",
        group, original_id, data_json);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    char err[128];
    if (zhub_json_text_to_mpack (text, strlen (text), &pk, NULL, err, sizeof err))
        fprintf (stderr, "bad fixture: %s\n", err);
    zhub_msg_t *msg = zhub_msg_new ();
    char *id = zhub_sprintf ("dlq:%s:%s", group, original_id);
    char *type = zhub_sprintf ("dlq.%s", group);
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "zhub/broker");
    zhub_msg_set (&msg->type, type);
    msg->time_ms = 1715203200000;
    zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    free (text);
    free (id);
    free (type);
    return msg;
}

static void
test_dlq_message_becomes_a_record_that_round_trips (void)
{
    zhub_msg_t *msg = s_dlq ("contact-sync", "bird:evt-1",
                             "{\"phone\":\"+15550001\",\"big\":18446744073709551615}");
    dead_letter_t dl, back;
    char err[128];
    CHECK (dead_letter_from_msg (msg, 1715203300000, &dl, err, sizeof err) == ZHUB_OK);
    CHECK_STR (dl.group, "contact-sync");
    CHECK_STR (dl.topic, "webhook.bird.contact.updated");
    CHECK_STR (dl.original_id, "bird:evt-1");
    CHECK_STR (dl.subject, "contact:b1");
    CHECK_STR (dl.cause, "max_deliveries");
    CHECK_STR (dl.reason, "HubSpot 503");
    CHECK (dl.reason_code == 503 && dl.offset == 17);
    CHECK (dl.dead_at_ms == 1715203200000 && dl.stored_at_ms == 1715203300000);
    dl.seq = 7;
    uint8_t *buf;
    size_t size;
    CHECK (dead_letter_encode (&dl, &buf, &size) == 0);
    CHECK (dead_letter_decode (buf, size, &back) == 0);
    CHECK (back.seq == 7 && back.reason_code == 503);
    CHECK_STR (back.dlq_id, "dlq:contact-sync:bird:evt-1");
    CHECK (back.message_size == dl.message_size
           && memcmp (back.message, dl.message, dl.message_size) == 0);
    CHECK (back.original == NULL && back.last_replay_id == NULL);
    //  the uint64 in data survives bit for bit (no JSON on the way)
    zhub_msg_t *original = zhub_msg_decode (back.message, back.message_size, NULL, NULL, 0);
    CHECK (original != NULL);
    msgpack_unpacked result;
    CHECK (zhub_mpack_decode (original->data, original->data_size, NULL, &result, NULL, 0) == 0);
    uint64_t big = 0;
    CHECK (zhub_mpack_uint (zhub_mpack_get (&result.data, "big"), &big) == 0);
    CHECK (big == UINT64_MAX);
    msgpack_unpacked_destroy (&result);
    zhub_msg_destroy (&original);
    json_t *json = dead_letter_to_json (&back, true);
    CHECK (json_array_size (json_object_get (json, "attempts")) == 2);
    CHECK_STR (json_string_value (json_object_get (json_object_get (json, "message"), "id")),
               "bird:evt-1");
    json_decref (json);
    free (buf);
    dead_letter_clear (&back);
    dead_letter_clear (&dl);
    dead_letter_clear (&dl); //  idempotent
    zhub_msg_destroy (&msg);
}

static void
test_not_a_dead_letter_is_rejected (void)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "x");
    zhub_msg_set (&msg->source, "pytest");
    zhub_msg_set (&msg->type, "dlq.g");
    dead_letter_t dl;
    char err[128];
    CHECK (dead_letter_from_msg (msg, 1, &dl, err, sizeof err) == ZHUB_REJECT);
    CHECK (strstr (err, "group") != NULL);
    CHECK (dl.group == NULL);
    const uint8_t garbage[] = {0x93, 0x01};
    CHECK (dead_letter_decode (garbage, sizeof garbage, &dl) == -1);
    zhub_msg_destroy (&msg);
}

static void
test_replay_id_is_stable_per_generation_and_bounded (void)
{
    char *a = dead_letter_replay_id ("bird:evt-1", 1);
    char *b = dead_letter_replay_id ("bird:evt-1", 1);
    char *c = dead_letter_replay_id ("bird:evt-1", 2);
    CHECK_STR (a, "replay:1:bird:evt-1");
    CHECK_STR (a, b);
    CHECK_STR (c, "replay:2:bird:evt-1");
    char long_id[257];
    memset (long_id, 'x', 256);
    long_id[256] = 0;
    char *d = dead_letter_replay_id (long_id, 3);
    //  BLAKE2b-128 of the original id (Python: hashlib.blake2b(digest_size=16))
    CHECK_STR (d, "replay:3:h:0b2c2b0de02938ad7a728b51e8da3357");
    free (a);
    free (b);
    free (c);
    free (d);
    dead_letter_t dl = {0};
    CHECK (dead_letter_replay_generation (&dl, false) == 1);
    dl.replays = 1;
    CHECK (dead_letter_replay_generation (&dl, false) == 1);
    CHECK (dead_letter_replay_generation (&dl, true) == 2);
}

static void
test_replay_message_keeps_topic_and_payload_and_says_it_is_a_replay (void)
{
    zhub_msg_t *msg = s_dlq ("contact-sync", "bird:evt-1",
                             "{\"phone\":\"+15550001\",\"zhub_replay\":{\"of\":\"old\"}}");
    dead_letter_t dl;
    CHECK (dead_letter_from_msg (msg, 1, &dl, NULL, 0) == ZHUB_OK);
    char err[128];
    zhub_msg_t *replay = dead_letter_replay_msg (&dl, 2, err, sizeof err);
    CHECK (replay != NULL);
    CHECK_STR (replay->id, "replay:2:bird:evt-1");
    CHECK_STR (replay->type, "webhook.bird.contact.updated");
    CHECK_STR (replay->subject, "contact:b1");
    CHECK_STR (replay->source, "bird");
    CHECK (replay->time_ms == 1715203101896);
    json_t *data = zhub_msg_data_json (replay);
    CHECK_STR (json_string_value (json_object_get (data, "phone")), "+15550001");
    json_t *mark = json_object_get (data, "zhub_replay");
    CHECK_STR (json_string_value (json_object_get (mark, "of")), "bird:evt-1");
    CHECK (json_integer_value (json_object_get (mark, "n")) == 2);
    CHECK_STR (json_string_value (json_object_get (mark, "group")), "contact-sync");
    CHECK (json_object_size (data) == 2); //  replaced, not added twice
    json_decref (data);
    zhub_msg_destroy (&replay);
    dead_letter_clear (&dl);
    zhub_msg_destroy (&msg);
}

static void
test_edit_sets_paths_and_the_diff_shows_only_the_change (void)
{
    zhub_msg_t *msg = s_dlq ("g", "e-1", "{\"phone\":\"5550005\",\"name\":\"Ana\",\"n\":1}");
    dead_letter_t dl;
    CHECK (dead_letter_from_msg (msg, 1, &dl, NULL, 0) == ZHUB_OK);
    uint8_t *one, *two;
    size_t one_size, two_size;
    char err[160];
    CHECK (dead_letter_edit_set (dl.message, dl.message_size, "data.phone=+525550005", &one,
                                 &one_size, err, sizeof err)
           == 0);
    CHECK (dead_letter_edit_set (one, one_size, "data.address.city=\"CDMX\"", &two, &two_size, err,
                                 sizeof err)
           == 0);
    char *diff = dead_letter_diff (dl.message, dl.message_size, two, two_size);
    CHECK_STR (diff, "- data.phone: \"5550005\"\n+ data.phone: \"+525550005\"\n"
                     "+ data.address: {\"city\":\"CDMX\"}\n");
    free (diff);
    diff = dead_letter_diff (dl.message, dl.message_size, dl.message, dl.message_size);
    CHECK_STR (diff, "");
    free (diff);
    free (two);
    //  JSON values, subject, errors
    CHECK (dead_letter_edit_set (one, one_size, "data.n=42", &two, &two_size, err, sizeof err)
           == 0);
    diff = dead_letter_diff (one, one_size, two, two_size);
    CHECK_STR (diff, "- data.n: 1\n+ data.n: 42\n");
    free (diff);
    free (two);
    CHECK (
        dead_letter_edit_set (one, one_size, "subject=contact:b2", &two, &two_size, err, sizeof err)
        == 0);
    diff = dead_letter_diff (one, one_size, two, two_size);
    CHECK_STR (diff, "- subject: \"contact:b1\"\n+ subject: \"contact:b2\"\n");
    free (diff);
    free (two);
    CHECK (dead_letter_edit_set (one, one_size, "type=x", &two, &two_size, err, sizeof err) == -1);
    CHECK (dead_letter_edit_set (one, one_size, "novalue", &two, &two_size, err, sizeof err) == -1);
    CHECK (dead_letter_edit_set (one, one_size, "data.phone.x=1", &two, &two_size, err, sizeof err)
           == -1);
    //  whole data from a file
    const char *text = "{\"phone\":\"+1\",\"id\":18446744073709551615}";
    CHECK (
        dead_letter_edit_data (one, one_size, text, strlen (text), &two, &two_size, err, sizeof err)
        == 0);
    diff = dead_letter_diff (one, one_size, two, two_size);
    CHECK (strstr (diff, "- data.name: \"Ana\"") != NULL);
    CHECK (strstr (diff, "+ data.phone: \"+1\"") != NULL);
    free (diff);
    free (two);
    CHECK (dead_letter_edit_data (one, one_size, "[1]", 3, &two, &two_size, err, sizeof err) == -1);
    CHECK (dead_letter_edit_data (one, one_size, "{", 1, &two, &two_size, err, sizeof err) == -1);
    free (one);
    dead_letter_clear (&dl);
    zhub_msg_destroy (&msg);
}

static void
test_commands_apply_once_and_mark_the_letter (void)
{
    zhub_msg_t *msg = s_dlq ("contact-sync", "bird:evt-1", "{\"phone\":\"+15550001\"}");
    dead_letter_t dl;
    char err[128];
    CHECK (dead_letter_from_msg (msg, 1000, &dl, err, sizeof err) == ZHUB_OK);
    //  a replay: the message to publish, and the letter says so
    dead_letter_command_t cmd = {.id = "dlcmd:replay:1", .now_ms = 5000};
    zhub_msg_t *replay;
    CHECK (dead_letter_command_replay (&dl, &cmd, &replay));
    CHECK_STR (cmd.result, "replayed");
    CHECK (replay && !strcmp (replay->id, "replay:1:bird:evt-1") && cmd.generation == 1);
    CHECK (dl.replays == 1 && dl.last_replay_ms == 5000);
    CHECK_STR (dl.last_replay_id, "replay:1:bird:evt-1");
    CHECK_STR (dl.last_command, "dlcmd:replay:1");
    CHECK_STR (dl.last_result, "replayed");
    zhub_msg_destroy (&replay);
    //  the same command again (a redelivery): nothing, nothing to write
    CHECK (!dead_letter_command_replay (&dl, &cmd, &replay));
    CHECK (replay == NULL);
    CHECK_STR (cmd.result, "already_applied");
    //  an edit against the revision the operator saw
    zhub_msg_t *original = zhub_msg_decode (dl.message, dl.message_size, NULL, NULL, 0);
    json_t *data = json_pack ("{s:s}", "phone", "+15550002");
    zhub_msg_set_data_json (original, data);
    json_decref (data);
    uint8_t *edited;
    size_t edited_size;
    CHECK (zhub_msg_encode (original, &edited, &edited_size, NULL, 0) == 0);
    size_t first_size = dl.message_size;
    dead_letter_command_t edit = {
        .id = "dlcmd:edit:1", .revision = 0, .message = edited, .message_size = edited_size};
    CHECK (dead_letter_command_edit (&dl, &edit));
    CHECK_STR (edit.result, "edited");
    CHECK (dl.revision == 1 && dl.original_size == first_size && dl.message_size == edited_size
           && !memcmp (dl.message, edited, edited_size));
    //  someone else's edit came first: refused, the letter unchanged
    edit.id = "dlcmd:edit:2";
    CHECK (dead_letter_command_edit (&dl, &edit));
    CHECK_STR (edit.result, "stale");
    CHECK (dl.revision == 1);
    CHECK_STR (dl.last_command, "dlcmd:edit:2");
    //  another topic is not an edit
    zhub_msg_set (&original->type, "webhook.bird.other");
    free (edited);
    CHECK (zhub_msg_encode (original, &edited, &edited_size, NULL, 0) == 0);
    dead_letter_command_t other = {
        .id = "dlcmd:edit:3", .revision = 1, .message = edited, .message_size = edited_size};
    CHECK (dead_letter_command_edit (&dl, &other));
    CHECK_STR (other.result, "invalid");
    CHECK_STR (other.err, "an edit may not change the topic");
    CHECK (dl.revision == 1);
    //  the next replay is a new generation only when asked
    dead_letter_command_t again = {.id = "dlcmd:replay:2", .again = true, .now_ms = 6000};
    CHECK (dead_letter_command_replay (&dl, &again, &replay));
    CHECK (replay && !strcmp (replay->id, "replay:2:bird:evt-1") && dl.replays == 2);
    zhub_msg_destroy (&replay);
    free (edited);
    zhub_msg_destroy (&original);
    dead_letter_clear (&dl);
    zhub_msg_destroy (&msg);
}

static void
test_filter_by_group_topic_time_and_reason (void)
{
    dead_letter_t dl = {.group = "contact-sync",
                        .topic = "webhook.bird.contact.updated",
                        .cause = "terminal",
                        .reason = "invalid phone number",
                        .reason_code = 2002,
                        .dead_at_ms = 1000};
    dead_letter_filter_t f = {0};
    CHECK (dead_letter_match (&dl, &f));
    f.group = "deal-sync";
    CHECK (!dead_letter_match (&dl, &f));
    f.group = "contact-sync";
    f.topic = "webhook.bird.>";
    CHECK (dead_letter_match (&dl, &f));
    f.topic = "webhook.hubspot.>";
    CHECK (!dead_letter_match (&dl, &f));
    f.topic = NULL;
    f.since_ms = 1000;
    CHECK (dead_letter_match (&dl, &f));
    f.since_ms = 1001;
    CHECK (!dead_letter_match (&dl, &f));
    f.since_ms = 0;
    f.before_ms = 1000;
    CHECK (!dead_letter_match (&dl, &f));
    f.before_ms = 0;
    f.reason = "PHONE";
    CHECK (dead_letter_match (&dl, &f));
    f.reason = "2002";
    CHECK (dead_letter_match (&dl, &f));
    f.reason = "422";
    CHECK (!dead_letter_match (&dl, &f));
    f.reason = "terminal";
    CHECK (dead_letter_match (&dl, &f));
}

static void
test_alert_one_message_per_burst_then_rate_limited (void)
{
    dead_letter_alert_t a;
    dead_letter_alert_init (&a, 500, 10000);
    CHECK (!dead_letter_alert_due (&a, 0));
    dead_letter_alert_note (&a, "contact-sync", 1000);
    dead_letter_alert_note (&a, "contact-sync", 1100);
    dead_letter_alert_note (&a, "deal-sync", 1200);
    CHECK (!dead_letter_alert_due (&a, 1499)); //  the burst is still gathering
    CHECK (dead_letter_alert_due (&a, 1500));
    char *text = dead_letter_alert_text (&a);
    CHECK_STR (text, "zhub: 3 new dead letters (contact-sync 2, deal-sync 1). Review with "
                     "`zhub dlq list`.");
    free (text);
    dead_letter_alert_sent (&a, true, 1500);
    CHECK (!dead_letter_alert_due (&a, 1600));
    dead_letter_alert_note (&a, "deal-sync", 2000);
    CHECK (!dead_letter_alert_due (&a, 11499)); //  the interval holds it back
    CHECK (dead_letter_alert_due (&a, 11500));
    text = dead_letter_alert_text (&a);
    CHECK_STR (text, "zhub: 1 new dead letter (deal-sync 1). Review with `zhub dlq list`.");
    free (text);
    //  a failed send keeps the count and waits for the interval
    dead_letter_alert_sent (&a, false, 11500);
    CHECK (a.pending == 1 && !dead_letter_alert_due (&a, 12000));
    CHECK (dead_letter_alert_due (&a, 21500));
    //  many groups: the rest are summed
    dead_letter_alert_init (&a, 0, 0);
    for (int i = 0; i < DEAD_LETTER_ALERT_GROUPS + 3; i++) {
        char name[16];
        snprintf (name, sizeof name, "g%d", i);
        dead_letter_alert_note (&a, name, 1);
    }
    text = dead_letter_alert_text (&a);
    CHECK (strstr (text, "other groups 3") != NULL);
    free (text);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    RUN (test_dlq_message_becomes_a_record_that_round_trips);
    RUN (test_not_a_dead_letter_is_rejected);
    RUN (test_replay_id_is_stable_per_generation_and_bounded);
    RUN (test_replay_message_keeps_topic_and_payload_and_says_it_is_a_replay);
    RUN (test_edit_sets_paths_and_the_diff_shows_only_the_change);
    RUN (test_commands_apply_once_and_mark_the_letter);
    RUN (test_filter_by_group_topic_time_and_reason);
    RUN (test_alert_one_message_per_burst_then_rate_limited);
    TEST_EXIT ();
}
