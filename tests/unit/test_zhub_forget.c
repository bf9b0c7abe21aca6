//  zhub_forget: reading contact.forget, the one rule for "does this
//  mention the person" (text and msgpack, as deal-sync, activity-log, the
//  scheduler, dead-letter and the broker apply it), and contact.forgotten.
#include "zhub_forget.h"
#include "zhub_json.h"
#include "zhub_test.h"
#include "zhub_test_forget.h"

#include <stdlib.h>

#define ANA_PHONE ZHUB_TEST_ANA_PHONE
#define ANA_DIGITS ZHUB_TEST_ANA_DIGITS
#define ANA_EMAIL ZHUB_TEST_ANA_EMAIL
#define TRACE "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

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

static zhub_rc_t
s_parse (const char *data_json, zhub_forget_t *f, char *reason, size_t reason_size)
{
    size_t size;
    uint8_t *data = s_pack (data_json, &size);
    zhub_rc_t rc = zhub_forget_parse_data (data, size, f, reason, reason_size);
    free (data);
    return rc;
}

//  What contact-sync sends for Ana.
static void
s_ana (zhub_forget_t *f)
{
    CHECK (zhub_test_forget (ZHUB_TEST_ANA_FORGET, f) == ZHUB_OK);
}

static bool
s_text (const zhub_forget_t *f, const char *text)
{
    return zhub_forget_mentions_text (f, text, strlen (text));
}

static bool
s_value (const zhub_forget_t *f, const char *json)
{
    size_t size;
    uint8_t *bytes = s_pack (json, &size);
    bool found = zhub_forget_mentions_msgpack (f, bytes, size);
    free (bytes);
    return found;
}

static void
test_forget_reads_every_identifier_once (void)
{
    zhub_forget_t f;
    char reason[128];
    CHECK (s_parse ("{\"request\":\"r1\",\"hubspot_contact_id\":501,\"phone\":\"" ANA_PHONE "\","
                    "\"email\":\"" ANA_EMAIL "\",\"identifiers\":[\"" ANA_PHONE "\","
                    "\"ANA@example.com\",\"\",7,null,{\"x\":1},\"b-ana\"]}",
                    &f, reason, sizeof reason)
           == ZHUB_OK);
    CHECK_STR (f.request, "r1");
    CHECK (f.bird_contact_id == NULL);
    CHECK_STR (f.hubspot_contact_id, "501"); //  an integer, as its text
    CHECK_STR (f.phone, ANA_PHONE);
    CHECK_STR (f.email, ANA_EMAIL);
    //  the named fields first; the phone both ways; the e-mail once (case
    //  ignored); the number as text (too short for a phone: no "+7"); the
    //  empty one, null and the object skipped
    CHECK (f.id_count == 6);
    if (f.id_count == 6) {
        CHECK_STR (f.ids[0], "501");
        CHECK_STR (f.ids[1], ANA_PHONE);
        CHECK_STR (f.ids[2], ANA_DIGITS);
        CHECK_STR (f.ids[3], ANA_EMAIL);
        CHECK_STR (f.ids[4], "7");
        CHECK_STR (f.ids[5], "b-ana");
    }
    CHECK (zhub_forget_is (&f, "501") && zhub_forget_is (&f, ANA_DIGITS));
    CHECK (zhub_forget_is (&f, "B-ANA") && zhub_forget_is (&f, "Ana@Example.com"));
    CHECK (!zhub_forget_is (&f, "50") && !zhub_forget_is (&f, "5010")
           && !zhub_forget_is (&f, NULL));
    zhub_forget_clear (&f);

    //  only identifiers[] (contact-sync found nobody): the phone both ways
    CHECK (s_parse ("{\"request\":\"r2\",\"identifiers\":[\"" ANA_DIGITS "\",\"\"]}", &f, reason,
                    sizeof reason)
           == ZHUB_OK);
    CHECK (f.id_count == 2 && !strcmp (f.ids[0], ANA_DIGITS) && !strcmp (f.ids[1], ANA_PHONE));
    zhub_forget_clear (&f);
    //  nobody named at all: valid, nothing to remove
    CHECK (s_parse ("{\"request\":\"r3\"}", &f, reason, sizeof reason) == ZHUB_OK);
    CHECK (f.id_count == 0 && !zhub_forget_mentions_msgpack (&f, "\x80", 1));
    zhub_forget_clear (&f);
    zhub_forget_clear (&f); //  idempotent
}

static void
test_forget_without_a_usable_request_is_refused (void)
{
    zhub_forget_t f;
    char reason[128];
    CHECK (s_parse ("{\"identifiers\":[\"" ANA_EMAIL "\"]}", &f, reason, sizeof reason)
           == ZHUB_REJECT);
    CHECK (strstr (reason, "request") != NULL);
    zhub_forget_clear (&f);
    CHECK (s_parse ("{\"request\":\"\"}", &f, reason, sizeof reason) == ZHUB_REJECT);
    zhub_forget_clear (&f);
    CHECK (s_parse ("{\"request\":7}", &f, reason, sizeof reason) == ZHUB_REJECT);
    zhub_forget_clear (&f);
    //  "forgotten:<actor>:<request>" would not fit an envelope id
    char *json = zhub_sprintf ("{\"request\":\"%0*d\"}", ZHUB_FORGET_REQUEST_MAX + 1, 0);
    CHECK (s_parse (json, &f, reason, sizeof reason) == ZHUB_REJECT);
    zhub_forget_clear (&f);
    free (json);
    CHECK (s_parse ("[\"r1\"]", &f, reason, sizeof reason) == ZHUB_REJECT);
    zhub_forget_clear (&f);
    CHECK (zhub_forget_parse_data ((const uint8_t *)"\xc1", 1, &f, reason, sizeof reason)
           == ZHUB_REJECT);
    zhub_forget_clear (&f);
    //  more identifiers than one erase can name: refused, not cut short
    char *list = zhub_strdup ("");
    for (int i = 0; i <= ZHUB_FORGET_MAX_IDS; i++) {
        char *longer = zhub_sprintf ("%s%s\"id-%d\"", list, i ? "," : "", i);
        free (list);
        list = longer;
    }
    json = zhub_sprintf ("{\"request\":\"r1\",\"identifiers\":[%s]}", list);
    CHECK (s_parse (json, &f, reason, sizeof reason) == ZHUB_REJECT);
    CHECK (strstr (reason, "too many") != NULL);
    zhub_forget_clear (&f);
    free (json);
    free (list);
}

static void
test_forget_encodes_what_it_reads (void)
{
    zhub_forget_t f, again;
    s_ana (&f);
    uint8_t *data;
    size_t size;
    zhub_forget_encode (&f, &data, &size);
    char reason[128];
    CHECK (zhub_forget_parse_data (data, size, &again, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (again.request, "r1");
    CHECK_STR (again.bird_contact_id, "b-ana");
    CHECK_STR (again.hubspot_contact_id, "501");
    CHECK (again.id_count == f.id_count);
    for (size_t i = 0; i < f.id_count && i < again.id_count; i++)
        CHECK_STR (again.ids[i], f.ids[i]);
    CHECK (!again.upstream);
    free (data);
    zhub_forget_clear (&again);
    //  upstream goes along when set
    f.upstream = true;
    zhub_forget_encode (&f, &data, &size);
    CHECK (zhub_forget_parse_data (data, size, &again, reason, sizeof reason) == ZHUB_OK);
    CHECK (again.upstream);
    CHECK (again.id_count == f.id_count);
    free (data);
    zhub_forget_clear (&again);
    zhub_forget_clear (&f);
    //  only a true boolean asks for it
    CHECK (s_parse ("{\"request\":\"r1\",\"upstream\":\"yes\"}", &f, reason, sizeof reason)
           == ZHUB_OK);
    CHECK (!f.upstream);
    zhub_forget_clear (&f);
}

static void
test_text_mentions_the_person_as_whole_tokens (void)
{
    zhub_forget_t f;
    s_ana (&f);
    //  found wherever it is, any case
    CHECK (s_text (&f, "mi correo: " ANA_EMAIL "."));
    CHECK (s_text (&f, "write to ANA@example.COM please"));
    CHECK (s_text (&f, "mailto:" ANA_EMAIL "."));
    CHECK (s_text (&f, "HubSpot: " ANA_EMAIL " already exists"));
    CHECK (s_text (&f, "tel " ANA_PHONE));
    CHECK (s_text (&f, "whatsapp:" ANA_PHONE));
    CHECK (s_text (&f, "tel:" ANA_DIGITS ","));
    CHECK (s_text (&f, "\"from\":\"" ANA_DIGITS "\""));
    CHECK (s_text (&f, "evt:wa-" ANA_DIGITS "-1:note")); //  an id derived from her number
    CHECK (s_text (&f, "contact:b-ana"));
    //  ...and not in someone else's
    CHECK (!s_text (&f, "juana@example.com"));
    CHECK (!s_text (&f, "diana@example.com"));
    CHECK (!s_text (&f, "x.ana@example.com"));
    CHECK (!s_text (&f, "ana@example.com.mx"));
    CHECK (!s_text (&f, "ana.maria@example.com"));
    CHECK (!s_text (&f, "52155123456789")); //  a longer number
    CHECK (!s_text (&f, "+52155123456789"));
    CHECK (!s_text (&f, "+52 1 55 1234 5678")); //  spaced: not the same bytes
    CHECK (!s_text (&f, "contact:b-ana2"));
    //  a short id (HubSpot's "501") counts as a whole value, or as the last
    //  part of a subject, never as a word of text
    CHECK (s_text (&f, "501"));
    CHECK (s_text (&f, "hubspot:contact:501"));
    CHECK (!s_text (&f, "depto 501, piso 5"));
    CHECK (!s_text (&f, "HubSpot said 501"));
    CHECK (!s_text (&f, "15012") && !s_text (&f, "501x") && !s_text (&f, "contact:5010"));
    CHECK (!zhub_forget_mentions_text (&f, NULL, 0));
    zhub_forget_clear (&f);
}

static void
test_msgpack_mentions_the_person_in_any_value (void)
{
    zhub_forget_t f;
    s_ana (&f);
    CHECK (s_value (&f, "{\"text\":\"write to ANA@example.COM please\"}"));
    CHECK (s_value (&f, "{\"contact\":{\"wa_id\":\"" ANA_DIGITS "\"}}"));
    CHECK (s_value (&f, "[{\"objectId\":501,\"subscriptionType\":\"contact.creation\"}]"));
    CHECK (s_value (&f, "{\"hs_object_id\":\"501\"}"));
    CHECK (s_value (&f, "{\"subject\":\"hubspot:contact:501\"}"));
    CHECK (s_value (&f, "{\"deep\":[{\"a\":{\"" ANA_EMAIL "\":1}}]}")); //  a map key
    //  "501" inside another value or as an unrelated number's digits is not her
    CHECK (!s_value (&f, "{\"objectId\":5010,\"note\":\"room 501B\",\"n\":\"1501\",\"m\":-501}"));
    CHECK (!s_value (&f, "{\"email\":\"bob@example.com\",\"phone\":\"+5215599999999\"}"));
    //  not msgpack (or a lone scalar): searched as text
    CHECK (zhub_forget_mentions_msgpack (&f, "to " ANA_EMAIL, strlen ("to " ANA_EMAIL)));
    CHECK (!zhub_forget_mentions_msgpack (&f, "5", 1));
    CHECK (!zhub_forget_mentions_msgpack (&f, NULL, 0));

    //  a dead letter: a map holding the original envelope as bin, whose
    //  data is a bin again
    size_t data_size, inner_size;
    uint8_t *data = s_pack ("{\"email\":\"" ANA_EMAIL "\"}", &data_size);
    msgpack_sbuffer inner;
    msgpack_sbuffer_init (&inner);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &inner, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    zhub_mpack_pack_str (&pk, "data");
    msgpack_pack_bin (&pk, data_size);
    msgpack_pack_bin_body (&pk, data, data_size);
    inner_size = inner.size;
    msgpack_sbuffer outer;
    msgpack_sbuffer_init (&outer);
    msgpack_packer_init (&pk, &outer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    zhub_mpack_pack_str (&pk, "message");
    msgpack_pack_bin (&pk, inner_size);
    msgpack_pack_bin_body (&pk, inner.data, inner_size);
    CHECK (zhub_forget_mentions_msgpack (&f, outer.data, outer.size));
    msgpack_sbuffer_destroy (&outer);
    msgpack_sbuffer_destroy (&inner);
    free (data);
    zhub_forget_clear (&f);
}

//  A dead letter as the broker publishes it holds the original envelope as
//  a map two levels below its own (envelope, data, message): an original
//  as deep as a publish may be makes a record as deep as any stored one.
//  Ana's HubSpot id sent as a number at the bottom is found: a walk that
//  could not decode the record would fall back to a text search, which
//  cannot see a binary integer.
static void
test_a_dead_letter_of_the_deepest_envelope_is_walked_through (void)
{
    zhub_forget_t f;
    s_ana (&f);
    char json[1024] = "";
    for (int i = 0; i < ZHUB_MSG_STORED_MAX_DEPTH - 1; i++)
        strcat (json, "{\"k\":");
    strcat (json, "{\"objectId\":501}");
    for (int i = 0; i < ZHUB_MSG_STORED_MAX_DEPTH - 1; i++)
        strcat (json, "}");
    size_t size;
    uint8_t *bytes = s_pack (json, &size);
    CHECK (zhub_mpack_check (bytes, size, &zhub_msg_stored_limits, NULL, 0) == 0);
    CHECK (zhub_mpack_check (bytes, size, &zhub_msg_publish_limits, NULL, 0) != 0);
    CHECK (zhub_forget_mentions_msgpack (&f, bytes, size));
    free (bytes);
    zhub_forget_clear (&f);
}

static void
test_answer_names_the_actor_and_the_request (void)
{
    zhub_msg_t *answer = zhub_forget_answer ("dead-letter", NULL, NULL, "r1", 3, TRACE, 1000);
    CHECK_STR (answer->id, "forgotten:dead-letter:r1");
    CHECK_STR (answer->subject, "erase:r1");
    CHECK_STR (answer->type, "contact.forgotten");
    CHECK_STR (answer->source, "zhub/dead-letter");
    CHECK_STR (answer->traceparent, TRACE);
    CHECK (answer->time_ms == 1000);
    json_t *data = zhub_msg_data_json (answer);
    json_t *expected =
        json_loads ("{\"request\":\"r1\",\"actor\":\"dead-letter\",\"removed\":3}", 0, NULL);
    CHECK (json_equal (data, expected));
    json_decref (expected);
    json_decref (data);
    char err[128];
    CHECK (zhub_msg_validate (answer, err, sizeof err) == 0);
    zhub_msg_destroy (&answer);

    //  the longest request every actor accepts still fits an envelope id
    char request[ZHUB_FORGET_REQUEST_MAX + 1];
    memset (request, 'r', ZHUB_FORGET_REQUEST_MAX);
    request[ZHUB_FORGET_REQUEST_MAX] = 0;
    answer = zhub_forget_answer ("activity-log", NULL, NULL, request, 0, NULL, 1000);
    CHECK (strlen (answer->id) == strlen ("forgotten:activity-log:") + ZHUB_FORGET_REQUEST_MAX);
    CHECK (answer->traceparent == NULL);
    CHECK (zhub_msg_validate (answer, err, sizeof err) == 0);
    zhub_msg_destroy (&answer);
}

//  Each contact-sync replica publishes its own forget (data.replica) and
//  each replica of an actor answers each of them under its own id.
static void
test_each_replica_answers_each_forget_under_its_own_id (void)
{
    zhub_forget_t f;
    char reason[128] = "";
    CHECK (s_parse ("{\"request\":\"r1\",\"replica\":\"cs-b\",\"identifiers\":[\"x\"]}", &f, reason,
                    sizeof reason)
           == ZHUB_OK);
    CHECK_STR (f.replica, "cs-b");
    uint8_t *data;
    size_t size;
    zhub_forget_encode (&f, &data, &size);
    zhub_forget_t back;
    CHECK (zhub_forget_parse_data (data, size, &back, reason, sizeof reason) == ZHUB_OK);
    CHECK_STR (back.replica, "cs-b");
    free (data);
    zhub_forget_clear (&back);
    zhub_forget_clear (&f);
    CHECK (s_parse ("{\"request\":\"r1\",\"replica\":\"a b\"}", &f, reason, sizeof reason)
           == ZHUB_REJECT);
    CHECK (strstr (reason, "replica"));
    zhub_forget_clear (&f);
    CHECK (s_parse ("{\"request\":\"r1\",\"replica\":3}", &f, reason, sizeof reason)
           == ZHUB_REJECT);
    zhub_forget_clear (&f);

    zhub_msg_t *a = zhub_forget_answer ("activity-log", "al-1", "cs-b", "r1", 2, NULL, 1000);
    zhub_msg_t *b = zhub_forget_answer ("activity-log", "al-2", "cs-b", "r1", 0, NULL, 1000);
    zhub_msg_t *c = zhub_forget_answer ("activity-log", "al-1", "cs-c", "r1", 0, NULL, 1000);
    CHECK_STR (a->id, "forgotten:activity-log:r1~al-1~cs-b");
    CHECK (strcmp (a->id, b->id) && strcmp (a->id, c->id) && strcmp (b->id, c->id));
    json_t *data_a = zhub_msg_data_json (a);
    CHECK_STR (json_string_value (json_object_get (data_a, "replica")), "al-1");
    CHECK_STR (json_string_value (json_object_get (data_a, "from")), "cs-b");
    json_decref (data_a);
    zhub_msg_destroy (&a);
    zhub_msg_destroy (&b);
    zhub_msg_destroy (&c);
    //  a long request still gives a valid id, one per replica
    char request[ZHUB_FORGET_REQUEST_MAX + 1];
    memset (request, 'r', ZHUB_FORGET_REQUEST_MAX);
    request[ZHUB_FORGET_REQUEST_MAX] = 0;
    char replica[65];
    memset (replica, 'x', 64);
    replica[64] = 0;
    a = zhub_forget_answer ("activity-log", replica, "cs-b", request, 0, NULL, 1000);
    b = zhub_forget_answer ("activity-log", replica, "cs-c", request, 0, NULL, 1000);
    char err[128];
    CHECK (zhub_msg_validate (a, err, sizeof err) == 0);
    CHECK (strcmp (a->id, b->id));
    zhub_msg_destroy (&a);
    zhub_msg_destroy (&b);
}

int
main (void)
{
    RUN (test_each_replica_answers_each_forget_under_its_own_id);
    RUN (test_forget_reads_every_identifier_once);
    RUN (test_forget_without_a_usable_request_is_refused);
    RUN (test_forget_encodes_what_it_reads);
    RUN (test_text_mentions_the_person_as_whole_tokens);
    RUN (test_msgpack_mentions_the_person_in_any_value);
    RUN (test_a_dead_letter_of_the_deepest_envelope_is_walked_through);
    RUN (test_answer_names_the_actor_and_the_request);
    TEST_EXIT ();
}
