//  contact-sync's erase, the pure half: what an identifier names, which
//  stored states it matches, what an audit tombstone keeps, and the
//  contact.forget message. No sockets, no store.
#include "contact_sync.h"
#include "zhub_test.h"

static json_t *
s_json (const char *text)
{
    json_error_t error;
    json_t *json = json_loads (text, 0, &error);
    if (!json)
        fprintf (stderr, "  bad test JSON: %s\n", error.text);
    return json;
}

static contact_erase_t
s_classified (const char *identifier, bool hubspot_id)
{
    contact_erase_t erase = {.identifier = (char *)identifier, .request = (char *)"r1"};
    contact_sync_erase_classify (identifier, hubspot_id, &erase);
    return erase;
}

//  The erase as the handler of topic's route reads it: contact.erase's,
//  or the HubSpot route's privacy parser (called for any type, so that
//  what it is not for shows).
static zhub_rc_t
s_parse (const char *topic, const char *data_text, contact_erase_t *erase)
{
    json_t *data = s_json (data_text);
    char reason[256] = "";
    zhub_rc_t rc = ZHUB_NOTFOUND;
    memset (erase, 0, sizeof *erase);
    if (contact_sync_route (topic) == CONTACT_ROUTE_ERASE)
        rc = contact_sync_parse_erase (data, erase, reason, sizeof reason);
    else if (contact_sync_route (topic) == CONTACT_ROUTE_HUBSPOT)
        rc = contact_sync_parse_privacy (topic, data, erase, reason, sizeof reason);
    json_decref (data);
    if (rc == ZHUB_REJECT)
        CHECK (*reason);
    return rc;
}

static bool
s_has (const json_t *list, const char *value)
{
    size_t i;
    json_t *item;
    json_array_foreach (list, i, item)
    {
        if (!strcmp (json_string_value (item), value))
            return true;
    }
    return false;
}

static bool
s_unique (const json_t *list)
{
    for (size_t i = 0; i < json_array_size (list); i++)
        for (size_t k = i + 1; k < json_array_size (list); k++)
            if (json_equal (json_array_get (list, i), json_array_get (list, k)))
                return false;
    return true;
}

//  -------------------------------------------------------------------

static void
test_identifier_classification (void)
{
    contact_erase_t e = s_classified ("Ana@Example.com", false);
    CHECK (e.by == CONTACT_ERASE_BY_EMAIL);
    CHECK_STR (e.email, "ana@example.com");
    CHECK (!*e.phone);

    e = s_classified ("+52 1 55 1234 5678", false);
    CHECK (e.by == CONTACT_ERASE_BY_PHONE);
    CHECK_STR (e.phone, "+525512345678"); //  E.164, Mexico's old "1" dropped

    e = s_classified ("+5215512345678", false);
    CHECK (e.by == CONTACT_ERASE_BY_PHONE);
    CHECK_STR (e.phone, "+525512345678");

    //  all digits: a HubSpot id when one is known, else the phone without "+"
    e = s_classified ("5215512345678", false);
    CHECK (e.by == CONTACT_ERASE_BY_DIGITS);
    CHECK_STR (e.phone, "+525512345678");
    e = s_classified ("501", false);
    CHECK (e.by == CONTACT_ERASE_BY_DIGITS);
    CHECK (!*e.phone); //  too short to be a phone: only a HubSpot id can match

    e = s_classified ("+12", false);
    CHECK (e.by == CONTACT_ERASE_BY_PHONE && !*e.phone);

    e = s_classified ("d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4", false);
    CHECK (e.by == CONTACT_ERASE_BY_BIRD);
    e = s_classified ("55-1234", false); //  not all digits, no "+": a Bird id
    CHECK (e.by == CONTACT_ERASE_BY_BIRD);

    e = s_classified ("501", true);
    CHECK (e.by == CONTACT_ERASE_BY_HUBSPOT && !*e.phone);
}

static void
test_parse_contact_erase (void)
{
    contact_erase_t e;
    CHECK (
        s_parse ("contact.erase",
                 "{\"request\":\"req-1\",\"identifier\":\"  Ana@Example.com \",\"upstream\":true}",
                 &e)
        == ZHUB_OK);
    CHECK_STR (e.request, "req-1");
    CHECK_STR (e.identifier, "Ana@Example.com");
    CHECK (e.upstream && !e.privacy && e.by == CONTACT_ERASE_BY_EMAIL);
    contact_erase_clear (&e);
    CHECK (e.request == NULL);

    CHECK (
        s_parse ("contact.erase", "{\"request\":\"req-2\",\"identifier\":\"+5215512345678\"}", &e)
        == ZHUB_OK);
    CHECK (!e.upstream && e.by == CONTACT_ERASE_BY_PHONE);
    contact_erase_clear (&e);

    //  malformed: a terminal reject with a reason, never a crash
    CHECK (s_parse ("contact.erase", "{\"identifier\":\"+5215512345678\"}", &e) == ZHUB_REJECT);
    CHECK (s_parse ("contact.erase", "{\"request\":\"a|b\",\"identifier\":\"x\"}", &e)
           == ZHUB_REJECT);
    CHECK (s_parse ("contact.erase", "{\"request\":\"a b\",\"identifier\":\"x\"}", &e)
           == ZHUB_REJECT);
    CHECK (s_parse ("contact.erase", "{\"request\":\"r\",\"identifier\":\"   \"}", &e)
           == ZHUB_REJECT);
    CHECK (s_parse ("contact.erase", "{\"request\":\"r\",\"identifier\":7}", &e) == ZHUB_REJECT);
    CHECK (s_parse ("contact.erase",
                    "{\"request\":\"r\",\"identifier\":\"x\",\"upstream\":\"yes\"}", &e)
           == ZHUB_REJECT);
    char *long_request = zhub_sprintf ("{\"request\":\"%0*d\",\"identifier\":\"x\"}",
                                       CONTACT_ERASE_REQUEST_MAX + 1, 0);
    CHECK (s_parse ("contact.erase", long_request, &e) == ZHUB_REJECT);
    free (long_request);
    //  the id of contact.forgotten must fit a message id
    CHECK (strlen ("forgotten:contact-sync:") + CONTACT_ERASE_REQUEST_MAX <= ZHUB_MSG_MAX_ID);

    CHECK (s_parse ("contact.synced", "{\"request\":\"r\",\"identifier\":\"x\"}", &e)
           == ZHUB_NOTFOUND);
}

static void
test_privacy_deletion_is_an_erase (void)
{
    const char *event = "[{\"eventId\":7,\"subscriptionId\":1005,\"portalId\":62515,"
                        "\"occurredAt\":1700000000000,\"subscriptionType\":"
                        "\"contact.privacyDeletion\",\"attemptNumber\":0,\"objectId\":501}]";
    contact_erase_t e;
    CHECK (s_parse ("webhook.hubspot.contact.privacyDeletion", event, &e) == ZHUB_OK);
    CHECK_STR (e.request, "hubspot-privacy-501");
    CHECK_STR (e.identifier, "501");
    CHECK (e.privacy && !e.upstream && e.by == CONTACT_ERASE_BY_HUBSPOT);
    contact_erase_clear (&e);

    //  no longer a lifecycle event (an unlink): it is the erase above
    json_t *data = s_json (event);
    contact_lifecycle_t life;
    char reason[256];
    CHECK (contact_sync_parse_lifecycle ("webhook.hubspot.contact.privacyDeletion", data, &life,
                                         reason, sizeof reason)
           == ZHUB_NOTFOUND);

    //  the HubSpot route's handler sends it to the erase
    CHECK (contact_sync_hubspot_kind ("webhook.hubspot.contact.privacyDeletion", data)
           == CONTACT_HUBSPOT_PRIVACY);
    json_decref (data);

    //  deletion stays a lifecycle event, not an erase
    CHECK (s_parse ("webhook.hubspot.contact.deletion",
                    "{\"subscriptionType\":\"contact.deletion\",\"objectId\":501}", &e)
           == ZHUB_NOTFOUND);
    data = s_json ("{\"subscriptionType\":\"contact.deletion\",\"objectId\":501}");
    CHECK (contact_sync_hubspot_kind ("webhook.hubspot.contact.deletion", data)
           == CONTACT_HUBSPOT_LIFECYCLE);
    json_decref (data);
    CHECK (s_parse ("webhook.hubspot.contact.privacyDeletion",
                    "{\"subscriptionType\":\"contact.privacyDeletion\"}", &e)
           == ZHUB_REJECT);
}

static contact_state_t
s_state (void)
{
    contact_state_t state = {
        .bird_id = (char *)"b-ana",
        .hubspot_id = (char *)"501",
        .hubspot = {.email = (char *)"ana@example.com", .phone = (char *)"+525512345678"},
        .bird = {.phone = (char *)"+525512345678", .email = (char *)"ana@example.com"}};
    return state;
}

static void
test_matching (void)
{
    contact_state_t ana = s_state ();
    contact_erase_t e = s_classified ("ANA@example.COM", false);
    CHECK (contact_sync_erase_matches (&e, &ana));
    e = s_classified ("+52 1 55 1234 5678", false);
    CHECK (contact_sync_erase_matches (&e, &ana));
    e = s_classified ("525512345678", false);
    CHECK (contact_sync_erase_matches (&e, &ana));
    e = s_classified ("b-ana", false);
    CHECK (contact_sync_erase_matches (&e, &ana));
    e = s_classified ("501", true);
    CHECK (contact_sync_erase_matches (&e, &ana));

    e = s_classified ("bo@example.com", false);
    CHECK (!contact_sync_erase_matches (&e, &ana));
    e = s_classified ("+525512345679", false);
    CHECK (!contact_sync_erase_matches (&e, &ana));
    e = s_classified ("501", false); //  digits: the id map decides, not the matcher
    CHECK (!contact_sync_erase_matches (&e, &ana));
    e = s_classified ("b-an", false);
    CHECK (!contact_sync_erase_matches (&e, &ana));

    //  only one side known, stored in another spelling by an older version
    contact_state_t bird_only = {.bird_id = (char *)"b-x",
                                 .bird = {.phone = (char *)"+52 1 55 1234 5678"}};
    e = s_classified ("+525512345678", false);
    CHECK (contact_sync_erase_matches (&e, &bird_only));
    contact_state_t empty = {.bird_id = (char *)"b-y"};
    CHECK (!contact_sync_erase_matches (&e, &empty));
    e = s_classified ("a@b.com", false);
    CHECK (!contact_sync_erase_matches (&e, &empty));
}

static void
test_audit_deleted_link (void)
{
    json_t *entry = s_json ("{\"actor\":\"contact-sync\",\"field\":\"hubspot_contact_id\","
                            "\"old\":\"501\",\"decision\":\"deleted_in_hubspot\","
                            "\"bird_contact_id\":\"b-ana\"}");
    CHECK_STR (contact_sync_audit_deleted_link (entry, "501"), "b-ana");
    CHECK (contact_sync_audit_deleted_link (entry, "502") == NULL);
    json_object_set_new (entry, "decision", json_string ("merged"));
    CHECK (contact_sync_audit_deleted_link (entry, "501") == NULL);
    json_decref (entry);
    CHECK (contact_sync_audit_deleted_link (NULL, "501") == NULL);
}

static void
test_tombstone_keeps_no_personal_value (void)
{
    json_t *entry = s_json (
        "{\"actor\":\"contact-sync\",\"object\":\"contact\",\"field\":\"phone\",\"old\":null,"
        "\"new\":\"+525512345678\",\"winner\":\"bird\",\"bird_time\":\"2024-05-01T10:00:00Z\","
        "\"hubspot_time\":\"2024-05-01T09:00:00Z\",\"decision\":\"applied\",\"event_id\":\"e1\","
        "\"time\":\"2024-05-01T10:00:01Z\",\"bird_contact_id\":\"b-ana\","
        "\"note\":\"Ana Paz asked\"}");
    json_t *stone = contact_sync_audit_tombstone (entry, "req-1");
    json_t *expected = s_json (
        "{\"actor\":\"contact-sync\",\"object\":\"contact\",\"field\":\"phone\","
        "\"winner\":\"bird\",\"bird_time\":\"2024-05-01T10:00:00Z\","
        "\"hubspot_time\":\"2024-05-01T09:00:00Z\",\"decision\":\"applied\",\"event_id\":\"e1\","
        "\"time\":\"2024-05-01T10:00:01Z\",\"erased\":true,\"erase_request\":\"req-1\"}");
    CHECK (json_equal (stone, expected));
    char *text = json_dumps (stone, JSON_COMPACT);
    CHECK (!strstr (text, "5512345678") && !strstr (text, "b-ana") && !strstr (text, "Ana"));
    free (text);
    json_decref (expected);
    json_decref (stone);
    json_decref (entry);

    //  a value where a time should be is dropped too
    entry = s_json ("{\"time\":{\"x\":\"ana@example.com\"},\"decision\":\"lost\"}");
    stone = contact_sync_audit_tombstone (entry, "req-1");
    CHECK (!json_object_get (stone, "time"));
    CHECK_STR (json_string_value (json_object_get (stone, "decision")), "lost");
    json_decref (stone);
    json_decref (entry);

    contact_erase_t e = s_classified ("ana@example.com", false);
    json_t *own = contact_sync_erase_entry (&e, "erase:req-1", 7);
    CHECK_STR (json_string_value (json_object_get (own, "decision")), "erased");
    CHECK (json_is_true (json_object_get (own, "erased")));
    CHECK (json_integer_value (json_object_get (own, "removed")) == 7);
    text = json_dumps (own, JSON_COMPACT);
    CHECK (!strstr (text, "ana@"));
    free (text);
    json_decref (own);
}

static void
test_forget_data_for_a_person (void)
{
    contact_state_t ana = s_state ();
    contact_erase_t e = s_classified ("ANA@example.com", false);
    json_t *data = contact_sync_forget_data (&e, &ana, 1);
    CHECK_STR (json_string_value (json_object_get (data, "request")), "r1");
    CHECK_STR (json_string_value (json_object_get (data, "bird_contact_id")), "b-ana");
    CHECK_STR (json_string_value (json_object_get (data, "hubspot_contact_id")), "501");
    CHECK_STR (json_string_value (json_object_get (data, "phone")), "+525512345678");
    CHECK_STR (json_string_value (json_object_get (data, "email")), "ana@example.com");
    json_t *ids = json_object_get (data, "identifiers");
    const char *want[] = {"ANA@example.com", "ana@example.com", "b-ana",          "501",
                          "+525512345678",   "525512345678",    "+5215512345678", "5215512345678"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!s_has (ids, want[i]))
            fprintf (stderr, "  missing identifier %s\n", want[i]);
        CHECK (s_has (ids, want[i]));
    }
    CHECK (json_array_size (ids) == sizeof want / sizeof want[0]);
    CHECK (s_unique (ids));
    CHECK (!json_object_get (data, "upstream"));
    json_decref (data);
    //  with --upstream the others are asked to delete outside too
    e.upstream = true;
    data = contact_sync_forget_data (&e, &ana, 1);
    CHECK (json_is_true (json_object_get (data, "upstream")));
    json_decref (data);

    //  found by a HubSpot id HubSpot deleted first: the state has none left
    contact_state_t unlinked = {.bird_id = (char *)"b-bo",
                                .unlinked = (char *)"deleted in HubSpot"};
    e = s_classified ("502", true);
    data = contact_sync_forget_data (&e, &unlinked, 1);
    CHECK_STR (json_string_value (json_object_get (data, "hubspot_contact_id")), "502");
    CHECK_STR (json_string_value (json_object_get (data, "bird_contact_id")), "b-bo");
    ids = json_object_get (data, "identifiers");
    CHECK (json_array_size (ids) == 2 && s_has (ids, "502") && s_has (ids, "b-bo"));
    json_decref (data);
}

static void
test_forget_data_for_nobody (void)
{
    //  a phone: as typed, with and without "+" (and the Mexican "1" variants)
    contact_erase_t e = s_classified ("+5215512345678", false);
    json_t *data = contact_sync_forget_data (&e, NULL, 0);
    json_t *ids = json_object_get (data, "identifiers");
    CHECK (s_has (ids, "+5215512345678") && s_has (ids, "5215512345678"));
    CHECK (s_has (ids, "+525512345678") && s_has (ids, "525512345678"));
    CHECK (json_array_size (ids) == 4 && s_unique (ids));
    CHECK_STR (json_string_value (json_object_get (data, "phone")), "+525512345678");
    CHECK (!json_object_get (data, "bird_contact_id"));
    json_decref (data);

    //  typed with spaces: as typed, then the normalised number both ways
    e = s_classified ("+34 612 34 56 78", false);
    data = contact_sync_forget_data (&e, NULL, 0);
    ids = json_object_get (data, "identifiers");
    CHECK (json_array_size (ids) == 3 && s_has (ids, "+34 612 34 56 78")
           && s_has (ids, "+34612345678") && s_has (ids, "34612345678"));
    json_decref (data);

    //  a non-Mexican number: two spellings only
    e = s_classified ("+34612345678", false);
    data = contact_sync_forget_data (&e, NULL, 0);
    ids = json_object_get (data, "identifiers");
    CHECK (json_array_size (ids) == 2 && s_has (ids, "34612345678"));
    json_decref (data);

    //  an e-mail as typed and lower-cased
    e = s_classified ("Ana@Example.com", false);
    data = contact_sync_forget_data (&e, NULL, 0);
    ids = json_object_get (data, "identifiers");
    CHECK (json_array_size (ids) == 2 && s_has (ids, "ana@example.com"));
    CHECK_STR (json_string_value (json_object_get (data, "email")), "ana@example.com");
    json_decref (data);

    //  digits too short for a phone: only themselves
    e = s_classified ("501", false);
    data = contact_sync_forget_data (&e, NULL, 0);
    ids = json_object_get (data, "identifiers");
    CHECK (json_array_size (ids) == 1 && s_has (ids, "501"));
    CHECK (!json_object_get (data, "phone") && !json_object_get (data, "hubspot_contact_id"));
    json_decref (data);

    //  privacyDeletion of a contact we never saw: its HubSpot id
    e = s_classified ("501", true);
    data = contact_sync_forget_data (&e, NULL, 0);
    CHECK_STR (json_string_value (json_object_get (data, "hubspot_contact_id")), "501");
    CHECK (json_array_size (json_object_get (data, "identifiers")) == 1);
    json_decref (data);

    e = s_classified ("b-zed", false);
    data = contact_sync_forget_data (&e, NULL, 0);
    CHECK_STR (json_string_value (json_object_get (data, "bird_contact_id")), "b-zed");
    json_decref (data);
}

static void
test_forget_message (void)
{
    zhub_msg_t *input = zhub_msg_new ();
    zhub_msg_set (&input->id, "erase:req-1");
    zhub_msg_set (&input->traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    contact_erase_t e = s_classified ("+5215512345678", false);
    e.request = (char *)"req-1";
    json_t *data = contact_sync_forget_data (&e, NULL, 0);
    zhub_msg_t *forget = contact_sync_forget_msg (input, &e, data, 1700000000000);
    CHECK_STR (forget->id, "forget:req-1");
    CHECK_STR (forget->type, "contact.forget");
    CHECK_STR (forget->subject, "erase:req-1");
    CHECK_STR (forget->source, "zhub/contact-sync");
    CHECK_STR (forget->traceparent, input->traceparent);
    json_t *sent = zhub_msg_data_json (forget);
    CHECK (json_equal (sent, data));
    json_decref (sent);
    char err[128];
    CHECK (zhub_msg_validate (forget, err, sizeof err) == 0);
    //  what every other actor and the broker read of it: each identifier
    zhub_forget_t f;
    CHECK (zhub_forget_parse (forget, &f, err, sizeof err) == ZHUB_OK);
    CHECK_STR (f.request, "req-1");
    size_t i;
    json_t *id;
    json_array_foreach (json_object_get (data, "identifiers"), i, id)
    {
        CHECK (zhub_forget_is (&f, json_string_value (id)));
    }
    CHECK (f.id_count >= 2);
    zhub_forget_clear (&f);
    json_decref (data);
    zhub_msg_destroy (&forget);
    zhub_msg_destroy (&input);
}

int
main (void)
{
    RUN (test_identifier_classification);
    RUN (test_parse_contact_erase);
    RUN (test_privacy_deletion_is_an_erase);
    RUN (test_matching);
    RUN (test_audit_deleted_link);
    RUN (test_tombstone_keeps_no_personal_value);
    RUN (test_forget_data_for_a_person);
    RUN (test_forget_data_for_nobody);
    RUN (test_forget_message);
    TEST_EXIT ();
}
