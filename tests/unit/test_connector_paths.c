//  The paths the HubSpot and Bird connectors send their contact calls to,
//  as their pure builders give them (the typed calls use the same): ids,
//  identifier keys and values escaped, HubSpot's properties list sent as
//  given. The paths are those of HubSpot's CRM v3 contacts API
//  (https://developers.hubspot.com/docs/api/crm/contacts) and of Bird's
//  contacts API under a workspace
//  (https://docs.bird.com/api/contacts-api/api-reference/manage-workspace-contacts).
#include "bird.h"
#include "hubspot.h"
#include "zhub_test.h"

static void
s_check (char *got, const char *want)
{
    CHECK_STR (got, want);
    free (got);
}

static void
test_hubspot_contact_paths (void)
{
    s_check (zhub_hubspot_contact_path ("501", NULL), "/crm/v3/objects/contacts/501");
    s_check (zhub_hubspot_contact_path ("501", "email,phone"),
             "/crm/v3/objects/contacts/501?properties=email,phone");
    //  an id is one path segment, whatever it holds
    s_check (zhub_hubspot_contact_path ("a b/../c?d", NULL),
             "/crm/v3/objects/contacts/a%20b%2F..%2Fc%3Fd");
    CHECK_STR (ZHUB_HUBSPOT_CONTACTS_UPSERT_PATH, "/crm/v3/objects/contacts/batch/upsert");
    CHECK_STR (ZHUB_HUBSPOT_CONTACTS_SEARCH_PATH, "/crm/v3/objects/contacts/search");
}

static void
test_bird_contact_paths (void)
{
    s_check (zhub_bird_contact_path ("d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"),
             "/contacts/d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4");
    s_check (zhub_bird_contact_path ("x/y"), "/contacts/x%2Fy");
    s_check (zhub_bird_contact_identifier_path ("phonenumber", "+525512345678"),
             "/contacts/identifiers/phonenumber/%2B525512345678");
    s_check (zhub_bird_contact_identifier_path ("emailaddress", "zoe+crm@example.com"),
             "/contacts/identifiers/emailaddress/zoe%2Bcrm%40example.com");
}

int
main (void)
{
    RUN (test_hubspot_contact_paths);
    RUN (test_bird_contact_paths);
    TEST_EXIT ();
}
