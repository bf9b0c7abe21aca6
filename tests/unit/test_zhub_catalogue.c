//  The event catalogue: every entry is well formed and its example keeps
//  to it; the check accepts valid data and refuses, naming the field, a
//  missing required field, a wrong kind, a value outside an enum or a
//  range, an extra field of a closed entry; zhub_event_new builds only
//  messages that keep to the catalogue and the envelope rules.
#include "zhub_catalogue.h"
#include "zhub_test.h"

#include <stdlib.h>

#define BIRD "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"

static zhub_rc_t
s_check (const char *type, const char *json, char *reason, size_t reason_size)
{
    json_error_t error;
    json_t *data = json_loads (json, 0, &error);
    if (!data)
        fprintf (stderr, "  test JSON: %s\n", error.text);
    reason[0] = 0;
    zhub_rc_t rc = zhub_event_check (type, data, reason, reason_size);
    json_decref (data);
    return rc;
}

//  ZHUB_REJECT and a reason holding expected.
static bool
s_refused (const char *type, const char *json, const char *expected)
{
    char reason[256];
    zhub_rc_t rc = s_check (type, json, reason, sizeof reason);
    if (rc != ZHUB_REJECT || !strstr (reason, expected)) {
        fprintf (stderr, "  %s %s: rc %s, reason \"%s\", wanted \"%s\"\n", type, json,
                 zhub_rc_name (rc), reason, expected);
        return false;
    }
    return true;
}

static bool
s_ok (const char *type, const char *json)
{
    char reason[256];
    zhub_rc_t rc = s_check (type, json, reason, sizeof reason);
    if (rc != ZHUB_OK)
        fprintf (stderr, "  %s %s: %s\n", type, json, reason);
    return rc == ZHUB_OK;
}

static void
test_every_entry_is_well_formed_and_its_example_keeps_to_it (void)
{
    size_t count;
    const zhub_event_spec_t *all = zhub_catalogue (&count);
    CHECK (count >= 31);
    for (size_t i = 0; i < count; i++) {
        const zhub_event_spec_t *spec = &all[i];
        const char *type = spec->pattern ? spec->example_type : spec->type;
        CHECK (type && zhub_topic_valid (type));
        //  a plain type is a topic; a form has a pattern that finds it
        CHECK (spec->pattern ? (strchr (spec->type, '<') && zhub_topic_match (spec->pattern, type))
                             : !strcmp (spec->type, type));
        if (zhub_catalogue_find (type) != spec)
            fprintf (stderr, "  %s finds another entry\n", type);
        CHECK (zhub_catalogue_find (type) == spec);
        CHECK (spec->subject && *spec->subject && spec->about && *spec->about);
        CHECK (spec->producers && *spec->producers && spec->consumers && *spec->consumers);
        for (const zhub_field_t *f = spec->fields; f->name; f++) {
            CHECK (zhub_event_field (spec, f->name) == f); //  no name twice
            CHECK (f->about && *f->about);
            CHECK (f->kind != ZHUB_FIELD_ENUM || (f->values && f->values[0]));
            CHECK (f->kind != ZHUB_FIELD_ARRAY || (f->item && f->item != ZHUB_FIELD_ARRAY));
            CHECK (!f->bounded || f->min <= f->max);
        }
        CHECK (s_ok (type, spec->example));
    }
}

static void
test_valid_data_passes (void)
{
    CHECK (s_ok ("contact.synced", "{\"bird_contact_id\":\"" BIRD "\",\"hubspot_contact_id\":501,"
                                   "\"changed\":[],\"direction\":\"hubspot_to_bird\"}"));
    //  open: fields beyond the catalogue's are allowed; nil is absent
    CHECK (s_ok ("conversation.message",
                 "{\"conversation_id\":\"c1\",\"bird_contact_id\":\"" BIRD "\",\"direction\":"
                 "\"out\",\"text\":\"\",\"sent_at\":\"2030-01-01T10:00:00.123+02:00\","
                 "\"sender\":null,\"tone\":\"friendly\"}"));
    CHECK (s_ok ("tour.requested", "{\"bird_contact_id\":\"b1\",\"preferred_times\":"
                                   "[\"2030-01-02T16:00:00Z\"],\"duration_min\":5}"));
    CHECK (s_ok ("intent.detected",
                 "{\"message_id\":\"m1\",\"conversation_id\":\"c1\",\"bird_contact_id\":\"b1\","
                 "\"intent\":\"opt_out\",\"confidence\":1,\"decided_by\":\"ai\",\"language\":"
                 "\"en\"}"));
    CHECK (s_ok ("dlq.deal-sync", "{\"group\":\"deal-sync\",\"offset\":0,\"cause\":\"terminal\","
                                  "\"reason_code\":422,\"attempts\":[],\"message\":{}}"));
    CHECK (s_ok ("webhook.calendly.invitee.created", "{\"anything\":[1,2,{\"goes\":true}]}"));
    CHECK (s_ok ("contact.reconcile", "{}"));
}

static void
test_a_missing_required_field_is_named (void)
{
    CHECK (s_refused ("contact.synced",
                      "{\"bird_contact_id\":\"b1\",\"changed\":[],\"direction\":"
                      "\"bird_to_hubspot\"}",
                      "contact.synced: data.hubspot_contact_id is missing"));
    //  nil is absent
    CHECK (s_refused ("qualification.completed",
                      "{\"conversation_id\":\"c1\",\"bird_contact_id\":\"b1\",\"score\":82,"
                      "\"qualified\":null}",
                      "data.qualified is missing"));
    CHECK (s_refused ("contact.opted_out",
                      "{\"bird_contact_id\":\"b1\",\"conversation_id\":\"c1\","
                      "\"channel\":\"whatsapp\"}",
                      "data.message_id is missing"));
}

static void
test_a_wrong_kind_is_named (void)
{
    CHECK (s_refused ("contact.synced",
                      "{\"bird_contact_id\":\"b1\",\"hubspot_contact_id\":\"501\",\"changed\":"
                      "\"firstname\",\"direction\":\"bird_to_hubspot\"}",
                      "data.changed must be an array of strings"));
    CHECK (s_refused ("contact.synced",
                      "{\"bird_contact_id\":\"b1\",\"hubspot_contact_id\":\"501\",\"changed\":"
                      "[\"firstname\",7],\"direction\":\"bird_to_hubspot\"}",
                      "data.changed must be an array of strings"));
    //  ids: a string of 1 to 256 bytes or an integer >= 0
    CHECK (s_refused ("contact.synced",
                      "{\"bird_contact_id\":\"\",\"hubspot_contact_id\":\"501\",\"changed\":[],"
                      "\"direction\":\"bird_to_hubspot\"}",
                      "data.bird_contact_id must be an id"));
    CHECK (s_refused ("contact.synced",
                      "{\"bird_contact_id\":\"b1\",\"hubspot_contact_id\":-501,\"changed\":[],"
                      "\"direction\":\"bird_to_hubspot\"}",
                      "data.hubspot_contact_id must be an id"));
    //  times are RFC 3339 strings, not unix ms nor prose
    const char *message = "{\"conversation_id\":\"c1\",\"bird_contact_id\":\"b1\",\"direction\":"
                          "\"in\",\"text\":\"hola\",\"sent_at\":%s}";
    char json[256];
    snprintf (json, sizeof json, message, "1893492000000");
    CHECK (s_refused ("conversation.message", json, "data.sent_at must be a time"));
    snprintf (json, sizeof json, message, "\"yesterday\"");
    CHECK (s_refused ("conversation.message", json, "data.sent_at must be a time"));
    CHECK (s_refused ("qualification.completed",
                      "{\"conversation_id\":\"c1\",\"bird_contact_id\":\"b1\",\"score\":\"82\","
                      "\"qualified\":true}",
                      "data.score must be a number 0..100"));
    CHECK (s_refused ("contact.erased", "{\"request\":\"r1\",\"redacted\":1.5}",
                      "data.redacted must be an integer >= 0"));
    char reason[128];
    CHECK (zhub_event_check ("contact.erased", NULL, reason, sizeof reason) == ZHUB_REJECT);
    CHECK (strstr (reason, "data must be an object") != NULL);
}

static void
test_a_value_outside_its_enum_or_range_is_named (void)
{
    CHECK (s_refused ("conversation.message",
                      "{\"conversation_id\":\"c1\",\"bird_contact_id\":\"b1\",\"direction\":"
                      "\"sideways\",\"text\":\"hola\",\"sent_at\":\"2030-01-01T10:00:00Z\"}",
                      "data.direction must be one of `in`, `out`"));
    CHECK (s_refused ("conversation.stage_changed",
                      "{\"bird_contact_id\":\"b1\",\"conversation_id\":\"c1\",\"stage\":\"won\"}",
                      "data.stage must be one of `lead`"));
    CHECK (s_refused ("qualification.completed",
                      "{\"conversation_id\":\"c1\",\"bird_contact_id\":\"b1\",\"score\":100.5,"
                      "\"qualified\":true}",
                      "data.score must be a number 0..100"));
    CHECK (s_refused ("intent.detected",
                      "{\"message_id\":\"m1\",\"conversation_id\":\"c1\",\"bird_contact_id\":"
                      "\"b1\",\"intent\":\"pricing\",\"confidence\":1.01,\"decided_by\":\"ai\","
                      "\"language\":\"es\"}",
                      "data.confidence must be a number 0..1"));
    const char *request = "{\"bird_contact_id\":\"b1\",\"preferred_times\":[%s]%s}";
    char json[1024];
    snprintf (json, sizeof json, request, "", "");
    CHECK (s_refused ("tour.requested", json,
                      "data.preferred_times must be an array of times (1..16)"));
    char times[1024] = "";
    for (int i = 0; i < 17; i++)
        strcat (times, i ? ",\"2030-01-02T16:00:00Z\"" : "\"2030-01-02T16:00:00Z\"");
    snprintf (json, sizeof json, request, times, "");
    CHECK (s_refused ("tour.requested", json, "data.preferred_times must be"));
    snprintf (json, sizeof json, request, "\"2030-01-02T16:00:00Z\"", ",\"duration_min\":4");
    CHECK (s_refused ("tour.requested", json, "data.duration_min must be an integer 5..480"));
    snprintf (json, sizeof json, request, "\"2030-01-02T16:00:00Z\"", ",\"duration_min\":481");
    CHECK (s_refused ("tour.requested", json, "data.duration_min must be an integer 5..480"));
    char request_id[300];
    memset (request_id, 'r', 201);
    request_id[201] = 0;
    snprintf (json, sizeof json, "{\"request\":\"%s\",\"identifier\":\"x\"}", request_id);
    CHECK (s_refused ("contact.erase", json, "data.request must be a string (1..200 bytes)"));
}

static void
test_a_closed_entry_refuses_other_fields_and_unknown_types_are_not_found (void)
{
    CHECK (s_ok ("dead-letter.command.replay", "{\"letter\":12}"));
    CHECK (s_refused ("dead-letter.command.replay", "{\"letter\":12,\"force\":true}",
                      "data.force is not part of dead-letter.command.replay"));
    char reason[128];
    CHECK (s_check ("invoice.paid", "{}", reason, sizeof reason) == ZHUB_NOTFOUND);
    CHECK (strstr (reason, "invoice.paid is not in the catalogue") != NULL);
    CHECK (zhub_catalogue_find ("dlq.a.b") == zhub_catalogue_find ("dlq.contact-sync"));
    CHECK (zhub_catalogue_find ("dlq") == NULL);
    CHECK (zhub_catalogue_find (NULL) == NULL);
    CHECK_STR (zhub_catalogue_find ("webhook.google.calendar.changed")->type,
               "webhook.google.calendar.changed");
    CHECK_STR (zhub_catalogue_find ("webhook.graph.updated")->type, "webhook.<source>.<event>");
}

//  A BYTES field is bin in msgpack; JSON can only carry it as text, which
//  the JSON check accepts but a message cannot (the consumer needs bin).
static void
test_bytes_are_bin_in_a_message (void)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    zhub_mpack_pack_str (&pk, "letter");
    msgpack_pack_uint64 (&pk, 12);
    zhub_mpack_pack_str (&pk, "revision");
    msgpack_pack_uint32 (&pk, 0);
    zhub_mpack_pack_str (&pk, "message");
    msgpack_pack_bin (&pk, 2);
    msgpack_pack_bin_body (&pk, "\x80\x80", 2);
    char reason[128];
    CHECK (zhub_event_check_data ("dead-letter.command.edit", (const uint8_t *)sbuf.data, sbuf.size,
                                  reason, sizeof reason)
           == ZHUB_OK);
    msgpack_sbuffer_destroy (&sbuf);
    json_t *data = json_pack ("{s:i, s:i, s:s}", "letter", 12, "revision", 0, "message", "gA==");
    CHECK (zhub_event_check ("dead-letter.command.edit", data, reason, sizeof reason) == ZHUB_OK);
    zhub_msg_t *msg = zhub_event_new ("dead-letter.command.edit", "dlcmd:edit:1", "zhub/cli",
                                      "dead-letter", 1, NULL, data, reason, sizeof reason);
    CHECK (msg == NULL);
    CHECK (strstr (reason, "data.message must be bytes (msgpack bin)") != NULL);
    json_decref (data);
}

static void
test_event_new_builds_only_what_keeps_to_the_catalogue (void)
{
    char reason[256] = "";
    json_t *data =
        json_pack ("{s:s, s:s, s:[s], s:s}", "bird_contact_id", BIRD, "hubspot_contact_id", "501",
                   "changed", "email", "direction", "bird_to_hubspot");
    zhub_msg_t *msg = zhub_event_new ("contact.synced", "cs-1", "zhub/contact-sync",
                                      "contact:" BIRD, 1000, NULL, data, reason, sizeof reason);
    CHECK (msg != NULL);
    if (msg) {
        CHECK_STR (msg->type, "contact.synced");
        CHECK_STR (msg->id, "cs-1");
        CHECK_STR (msg->source, "zhub/contact-sync");
        CHECK_STR (msg->subject, "contact:" BIRD);
        CHECK (msg->time_ms == 1000 && msg->traceparent == NULL);
        json_t *back = zhub_msg_data_json (msg);
        CHECK (json_equal (back, data));
        json_decref (back);
        CHECK (zhub_event_check_msg (msg, reason, sizeof reason) == ZHUB_OK);
    }
    zhub_msg_destroy (&msg);
    //  the subject must have the entry's form
    msg = zhub_event_new ("contact.synced", "cs-1", "zhub/contact-sync", "hubspot:contact:501",
                          1000, NULL, data, reason, sizeof reason);
    CHECK (msg == NULL
           && strstr (reason, "subject \"hubspot:contact:501\" is not contact:<bird id>"));
    msg = zhub_event_new ("contact.synced", "cs-1", "zhub/contact-sync", "contact:", 1000, NULL,
                          data, reason, sizeof reason);
    CHECK (msg == NULL);
    //  and the envelope its rules
    msg = zhub_event_new ("contact.synced", NULL, "zhub/contact-sync", "contact:" BIRD, 1000, NULL,
                          data, reason, sizeof reason);
    CHECK (msg == NULL && strstr (reason, "id is required"));
    json_object_del (data, "direction");
    msg = zhub_event_new ("contact.synced", "cs-1", "zhub/contact-sync", "contact:" BIRD, 1000,
                          NULL, data, reason, sizeof reason);
    CHECK (msg == NULL && strstr (reason, "data.direction is missing"));
    json_decref (data);
    data = json_object ();
    msg = zhub_event_new ("invoice.paid", "i1", "billing", NULL, 1, NULL, data, reason,
                          sizeof reason);
    CHECK (msg == NULL && strstr (reason, "not in the catalogue"));
    //  an exact subject form, and a form in words that is not checked
    msg = zhub_event_new ("contact.reconcile", "rc-1", "zhub/scheduler", "reconcile", 1, NULL, data,
                          reason, sizeof reason);
    CHECK (msg != NULL);
    zhub_msg_destroy (&msg);
    msg = zhub_event_new ("contact.reconcile", "rc-1", "zhub/scheduler", "reconcile:now", 1, NULL,
                          data, reason, sizeof reason);
    CHECK (msg == NULL);
    msg = zhub_event_new ("webhook.hubspot.contact.creation", "hubspot:1", "hubspot",
                          "hubspot:contact:501", 1, NULL, data, reason, sizeof reason);
    CHECK (msg != NULL);
    zhub_msg_destroy (&msg);
    json_decref (data);
    msg = zhub_event_new ("contact.reconcile", "rc-1", "zhub/scheduler", "reconcile", 1, NULL, NULL,
                          reason, sizeof reason);
    CHECK (msg == NULL && strstr (reason, "data must be an object"));
}

static void
test_kinds_read_as_the_docs_write_them (void)
{
    const zhub_event_spec_t *request = zhub_catalogue_find ("tour.requested");
    char text[200];
    zhub_field_describe (zhub_event_field (request, "preferred_times"), text, sizeof text);
    CHECK_STR (text, "array of times (1..16)");
    zhub_field_describe (zhub_event_field (request, "duration_min"), text, sizeof text);
    CHECK_STR (text, "integer 5..480");
    zhub_field_describe (zhub_event_field (request, "bird_contact_id"), text, sizeof text);
    CHECK_STR (text, "id");
    const zhub_event_spec_t *message = zhub_catalogue_find ("conversation.message");
    zhub_field_describe (zhub_event_field (message, "sender"), text, sizeof text);
    CHECK_STR (text, "one of `contact`, `ai`, `agent`");
    zhub_field_describe (zhub_event_field (zhub_catalogue_find ("contact.erased"), "redacted"),
                         text, sizeof text);
    CHECK_STR (text, "integer >= 0");
    char small[8];
    zhub_field_describe (zhub_event_field (message, "sender"), small, sizeof small);
    CHECK (strlen (small) == sizeof small - 1); //  cut, terminated
}

int
main (void)
{
    RUN (test_every_entry_is_well_formed_and_its_example_keeps_to_it);
    RUN (test_valid_data_passes);
    RUN (test_a_missing_required_field_is_named);
    RUN (test_a_wrong_kind_is_named);
    RUN (test_a_value_outside_its_enum_or_range_is_named);
    RUN (test_a_closed_entry_refuses_other_fields_and_unknown_types_are_not_found);
    RUN (test_bytes_are_bin_in_a_message);
    RUN (test_event_new_builds_only_what_keeps_to_the_catalogue);
    RUN (test_kinds_read_as_the_docs_write_them);
    TEST_EXIT ();
}
