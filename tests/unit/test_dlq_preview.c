//  The mapping preview of `zhub dlq replay --dry-run`: a dead letter's
//  message, a mapping and what the actor stored in; what the actor would
//  do out. Each case checks what an operator reads: the call, the fields
//  and values HubSpot or Bird would get, the error it would still hit, or
//  that no mapping applies.
#include "dlq_preview.h"
#include "zhub_test.h"

#include <sodium.h>

//  -------------------------------------------------------------------
//  Inputs

static zhub_msg_t *
s_msg (const char *type, const char *subject, const char *data_json)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "evt-1");
    zhub_msg_set (&msg->source, "test");
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->subject, subject);
    msg->time_ms = 1700000000000LL;
    json_error_t error;
    json_t *data = json_loads (data_json, 0, &error);
    if (!data)
        fprintf (stderr, "bad test JSON: %s\n", error.text);
    CHECK (data && zhub_msg_set_data_json (msg, data) == 0);
    json_decref (data);
    return msg;
}

//  A Bird contact event: Ana, her phone, and a budget attribute.
static zhub_msg_t *
s_bird_contact (const char *phone, const char *budget)
{
    char data[1024];
    snprintf (data, sizeof data,
              "{\"service\": \"contacts\", \"event\": \"contact.updated\", \"payload\": "
              "{\"id\": \"b-1\", \"computedDisplayName\": \"Ana López\", "
              "\"featuredIdentifiers\": [{\"key\": \"phonenumber\", \"value\": \"%s\"}], "
              "\"attributes\": {\"budget\": \"%s\"}}}",
              phone, budget);
    return s_msg ("webhook.bird.contact.updated", "contact:b-1", data);
}

static json_t *
s_json (const char *text)
{
    json_t *json = json_loads (text, 0, NULL);
    CHECK (json != NULL);
    return json;
}

//  What the fake stores hold.
typedef struct {
    zhub_rc_t contact_rc;
    const contact_state_t *contact;
    char asked_bird[64], asked_hubspot[64]; //  what the preview looked up
    zhub_rc_t deal_rc;
    const char *deal_id, *deal_stage; //  deal-sync's record of the deal
    char asked_key[128];
} s_store_t;

static zhub_rc_t
s_contact (void *arg, const char *bird_id, const char *hubspot_id, contact_state_t *state)
{
    s_store_t *store = arg;
    snprintf (store->asked_bird, sizeof store->asked_bird, "%s", bird_id ? bird_id : "");
    snprintf (store->asked_hubspot, sizeof store->asked_hubspot, "%s",
              hubspot_id ? hubspot_id : "");
    if (store->contact_rc == ZHUB_OK)
        contact_state_copy (state, store->contact);
    return store->contact_rc;
}

static zhub_rc_t
s_deal (void *arg, const char *key, deal_current_t *deal)
{
    s_store_t *store = arg;
    snprintf (store->asked_key, sizeof store->asked_key, "%s", key);
    if (store->deal_rc == ZHUB_OK) {
        deal->id = zhub_strdup (store->deal_id);
        deal->stage = zhub_strdup (store->deal_stage);
    }
    return store->deal_rc;
}

static json_t *
s_preview (const char *group, const zhub_msg_t *msg, const char *mapping_json, s_store_t *store)
{
    json_t *mapping = s_json (mapping_json);
    zhub_dlq_lookup_t lookup = {.contact = s_contact, .deal = s_deal, .arg = store};
    zhub_dlq_preview_input_t input = {.mapping = mapping, .lookup = store ? &lookup : NULL};
    json_t *preview = zhub_dlq_preview (group, msg, &input);
    json_decref (mapping);
    return preview;
}

static const char *
s_str (const json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

//  The change of field, or NULL.
static const json_t *
s_change (const json_t *preview, const char *field)
{
    size_t i;
    json_t *change;
    json_array_foreach (json_object_get (preview, "changes"), i,
                        change) if (!strcmp (s_str (change, "field"), field)) return change;
    return NULL;
}

static bool
s_has_note (const json_t *preview, const char *part)
{
    size_t i;
    json_t *note;
    json_array_foreach (json_object_get (preview, "notes"), i,
                        note) if (strstr (json_string_value (note), part)) return true;
    return false;
}

#define BUDGET_TO_COMPANY                                                                          \
    "{\"contact\": {\"fields\": [{\"bird\": \"attributes.budget\", \"hubspot\": \"company\", "     \
    "\"direction\": \"to_hubspot\"}]}}"

//  -------------------------------------------------------------------
//  contact-sync

static void
test_bird_contact_goes_to_the_property_the_mapping_names (void)
{
    zhub_msg_t *msg = s_bird_contact ("+52 1 55 1234 5678", "15000");
    s_store_t store = {.contact_rc = ZHUB_NOTFOUND};
    json_t *preview = s_preview ("contact-sync", msg, BUDGET_TO_COMPANY, &store);
    CHECK_STR (s_str (preview, "group"), "contact-sync");
    CHECK_STR (s_str (preview, "outcome"), "write");
    CHECK_STR (s_str (preview, "stored"), "none");
    CHECK_STR (store.asked_bird, "b-1");
    const json_t *call = json_object_get (preview, "call");
    CHECK_STR (s_str (call, "api"), "hubspot");
    CHECK_STR (s_str (call, "method"), "POST");
    CHECK_STR (s_str (call, "path"), "/crm/v3/objects/contacts/batch/upsert");
    const json_t *sent = json_object_get (
        json_object_get (
            json_array_get (json_object_get (json_object_get (call, "body"), "inputs"), 0),
            "properties"),
        "company");
    CHECK_STR (json_string_value (sent), "15000");
    const json_t *company = s_change (preview, "company");
    CHECK_STR (s_str (company, "to"), "15000");
    CHECK (company && !json_object_get (company, "from")); //  nothing known of it
    CHECK_STR (s_str (s_change (preview, "phone"), "to"), "+525512345678");
    CHECK_STR (s_str (s_change (preview, "firstname"), "to"), "Ana");
    CHECK (s_change (preview, "bird_contact_id") == NULL); //  the upsert key: in target
    CHECK (strstr (s_str (preview, "target"), "bird_contact_id b-1") != NULL);
    CHECK (s_has_note (preview, "no record of this contact"));
    json_decref (preview);

    //  Without the field in the mapping, budget goes nowhere.
    preview = s_preview ("contact-sync", msg, "{}", &store);
    CHECK_STR (s_str (preview, "outcome"), "write");
    CHECK (s_change (preview, "company") == NULL);
    CHECK (s_change (preview, "firstname") != NULL);
    json_decref (preview);
    zhub_msg_destroy (&msg);
}

static void
s_known_ana (contact_state_t *state, int64_t company_ms)
{
    memset (state, 0, sizeof *state);
    state->bird_id = zhub_strdup ("b-1");
    state->hubspot_id = zhub_strdup ("501");
    state->hubspot.firstname = zhub_strdup ("Ana");
    state->hubspot.lastname = zhub_strdup ("López");
    state->hubspot.phone = zhub_strdup ("+525512345678");
    state->bird.display_name = zhub_strdup ("Ana López");
    state->bird.phone = zhub_strdup ("+525512345678");
    state->fields = s_json ("{\"company\": {\"bird\": \"9000\", \"hubspot\": \"9000\"}}");
    state->versions =
        json_pack ("{s:{s:I, s:s}}", "company", "ms", (json_int_t)company_ms, "side", "hubspot");
}

static void
test_known_contact_shows_what_changes_from_what (void)
{
    contact_state_t known;
    s_known_ana (&known, 1600000000000LL); //  older than the event
    s_store_t store = {.contact_rc = ZHUB_OK, .contact = &known};
    zhub_msg_t *msg = s_bird_contact ("+5215512345678", "15000");
    json_t *preview = s_preview ("contact-sync", msg, BUDGET_TO_COMPANY, &store);
    CHECK_STR (s_str (preview, "outcome"), "write");
    CHECK_STR (s_str (preview, "stored"), "found");
    const json_t *company = s_change (preview, "company");
    CHECK_STR (s_str (company, "from"), "9000");
    CHECK_STR (s_str (company, "to"), "15000");
    CHECK (s_change (preview, "phone") == NULL); //  already synced
    CHECK (strstr (s_str (preview, "target"), "HubSpot contact 501") != NULL);
    json_decref (preview);

    //  HubSpot's value is newer than the event (a replay keeps the
    //  original time): last writer wins, nothing is written.
    contact_state_clear (&known);
    s_known_ana (&known, 1800000000000LL);
    preview = s_preview ("contact-sync", msg, BUDGET_TO_COMPANY, &store);
    CHECK_STR (s_str (preview, "outcome"), "skip");
    const json_t *kept = json_array_get (json_object_get (preview, "kept"), 0);
    CHECK_STR (s_str (kept, "field"), "company");
    CHECK_STR (s_str (kept, "decision"), "older_than_current");
    CHECK_STR (s_str (kept, "winner"), "hubspot");
    char *text = zhub_dlq_preview_text (preview);
    CHECK (strstr (text, "contact-sync would write nothing") != NULL);
    CHECK (strstr (text, "not written: company (older_than_current; the winner is hubspot)")
           != NULL);
    free (text);
    json_decref (preview);
    contact_state_clear (&known);
    zhub_msg_destroy (&msg);
}

static void
test_a_validation_error_the_mapping_cannot_fix_is_a_reject (void)
{
    zhub_msg_t *msg = s_bird_contact ("12", "15000");
    json_t *preview = s_preview ("contact-sync", msg, BUDGET_TO_COMPANY, NULL);
    CHECK_STR (s_str (preview, "outcome"), "reject");
    CHECK (json_integer_value (json_object_get (preview, "code")) == 2002);
    CHECK (strstr (s_str (preview, "summary"), "would reject it again (code 2002)") != NULL);
    CHECK (json_object_get (preview, "call") == NULL);
    json_decref (preview);
    zhub_msg_destroy (&msg);
}

static void
test_a_mapping_the_actor_would_refuse_says_so (void)
{
    zhub_msg_t *msg = s_bird_contact ("+5215512345678", "15000");
    json_t *preview = s_preview ("contact-sync", msg, "{\"contact\": {\"fields\": 7}}", NULL);
    CHECK_STR (s_str (preview, "outcome"), "bad_mapping");
    CHECK_STR (s_str (preview, "reason"), "contact.fields must be a list");
    CHECK (strstr (s_str (preview, "summary"), "contact-sync would refuse to start") != NULL);
    json_decref (preview);
    //  The file itself did not load.
    zhub_dlq_preview_input_t input = {.mapping_error = "ZHUB_MAPPING_FILE m.json: line 1: x"};
    preview = zhub_dlq_preview ("deal-sync", msg, &input);
    CHECK_STR (s_str (preview, "outcome"), "bad_mapping");
    CHECK_STR (s_str (preview, "reason"), "ZHUB_MAPPING_FILE m.json: line 1: x");
    json_decref (preview);
    //  contact-sync's calling code is part of its configuration too.
    input = (zhub_dlq_preview_input_t){.calling_code_error = "must be 1 to 3 digits"};
    preview = zhub_dlq_preview ("contact-sync", msg, &input);
    CHECK_STR (s_str (preview, "reason"), "must be 1 to 3 digits");
    json_decref (preview);
    //  ... and a number without "+" reads in its country.
    zhub_msg_destroy (&msg);
    msg = s_bird_contact ("55 1234 5678", "15000");
    input = (zhub_dlq_preview_input_t){.calling_code = "52"};
    preview = zhub_dlq_preview ("contact-sync", msg, &input);
    CHECK_STR (s_str (s_change (preview, "phone"), "to"), "+525512345678");
    json_decref (preview);
    zhub_msg_destroy (&msg);
}

static void
test_hubspot_property_change_follows_the_mapping (void)
{
    zhub_msg_t *msg = s_msg ("webhook.hubspot.contact.propertyChange", "hubspot:contact:501",
                             "{\"objectId\": 501, \"subscriptionType\": "
                             "\"contact.propertyChange\", \"propertyName\": \"budget\", "
                             "\"propertyValue\": \"20000\"}");
    s_store_t store = {.contact_rc = ZHUB_NOTFOUND};
    json_t *preview = s_preview ("contact-sync", msg, "{}", &store);
    CHECK_STR (s_str (preview, "outcome"), "ignore");
    CHECK (strstr (s_str (preview, "reason"), "property budget is not synced") != NULL);
    json_decref (preview);
    preview = s_preview ("contact-sync", msg,
                         "{\"contact\": {\"fields\": [{\"bird\": \"attributes.budget\", "
                         "\"hubspot\": \"budget\"}]}}",
                         &store);
    CHECK_STR (s_str (preview, "outcome"), "fetch");
    CHECK_STR (store.asked_hubspot, "501");
    CHECK (strstr (s_str (json_object_get (preview, "call"), "path"), "budget") != NULL);
    CHECK (strstr (s_str (preview, "summary"), "first read the contact from HubSpot") != NULL);
    json_decref (preview);
    zhub_msg_destroy (&msg);
}

static void
test_an_unreadable_store_is_said (void)
{
    zhub_msg_t *msg = s_bird_contact ("+5215512345678", "15000");
    s_store_t store = {.contact_rc = ZHUB_ERROR};
    json_t *preview = s_preview ("contact-sync", msg, "{}", &store);
    CHECK_STR (s_str (preview, "stored"), "unreadable");
    CHECK (s_has_note (preview, "could not be read"));
    CHECK_STR (s_str (preview, "outcome"), "write");
    json_decref (preview);
    zhub_msg_destroy (&msg);
}

//  -------------------------------------------------------------------
//  deal-sync

#define APPLICATION_PRESENTATION                                                                   \
    "{\"deal\": {\"stages\": {\"application\": \"presentationscheduled\"}}}"

static void
test_ai_stage_goes_to_the_stage_the_map_names (void)
{
    zhub_msg_t *msg = s_msg ("conversation.stage_changed", "contact:b-7",
                             "{\"bird_contact_id\": \"b-7\", \"stage\": \"application\", "
                             "\"agent_type\": \"followup\", \"qualification_score\": 80}");
    s_store_t store = {.deal_rc = ZHUB_OK, .deal_id = "d-9", .deal_stage = "qualifiedtobuy"};
    json_t *preview = s_preview ("deal-sync", msg, APPLICATION_PRESENTATION, &store);
    CHECK_STR (store.asked_key, "b-7/default");
    CHECK_STR (s_str (preview, "outcome"), "write");
    CHECK_STR (s_str (preview, "stored"), "found");
    CHECK_STR (s_str (preview, "target"), "HubSpot deal d-9 (zhub_deal_key b-7/default)");
    const json_t *stage = s_change (preview, "dealstage");
    CHECK_STR (s_str (stage, "from"), "qualifiedtobuy");
    CHECK_STR (s_str (stage, "to"), "presentationscheduled");
    //  a HubSpot property value: a string
    CHECK_STR (s_str (s_change (preview, "qualification_score"), "to"), "80");
    CHECK (s_change (preview, "dealname") == NULL); //  the deal exists
    json_decref (preview);

    //  The default map, and a pipeline of its own: another deal key.
    store.deal_rc = ZHUB_NOTFOUND;
    preview = s_preview ("deal-sync", msg, "{\"deal\": {\"pipeline\": \"rentals\"}}", &store);
    CHECK_STR (store.asked_key, "b-7/rentals");
    CHECK_STR (s_str (s_change (preview, "dealstage"), "to"), "contractsent");
    CHECK_STR (s_str (s_change (preview, "pipeline"), "to"), "rentals");
    CHECK (s_change (preview, "dealname") != NULL); //  created
    json_decref (preview);

    //  A closed deal does not move back.
    store.deal_rc = ZHUB_OK;
    store.deal_stage = "closedwon";
    preview = s_preview ("deal-sync", msg, APPLICATION_PRESENTATION, &store);
    CHECK (s_change (preview, "dealstage") == NULL);
    const json_t *kept = json_array_get (json_object_get (preview, "kept"), 0);
    CHECK_STR (s_str (kept, "field"), "dealstage");
    CHECK_STR (s_str (kept, "decision"), "not_forward");
    json_decref (preview);
    zhub_msg_destroy (&msg);

    //  An AI stage that does not exist: no map can fix that.
    msg = s_msg ("conversation.stage_changed", "contact:b-7",
                 "{\"bird_contact_id\": \"b-7\", \"stage\": \"viewing\"}");
    preview = s_preview ("deal-sync", msg, APPLICATION_PRESENTATION, &store);
    CHECK_STR (s_str (preview, "outcome"), "reject");
    CHECK (
        strstr (s_str (preview, "reason"), "data.stage \"viewing\" is not a stage of the catalogue")
        != NULL);
    json_decref (preview);
    zhub_msg_destroy (&msg);
}

static void
test_a_person_s_stage_maps_back_to_an_ai_stage (void)
{
    zhub_msg_t *msg = s_msg ("webhook.hubspot.deal.propertyChange", "hubspot:deal:d-9",
                             "{\"objectId\": \"d-9\", \"propertyName\": \"dealstage\", "
                             "\"propertyValue\": \"presentationscheduled\", "
                             "\"changeSource\": \"CRM_UI\", \"occurredAt\": 1700000000000}");
    json_t *preview = s_preview ("deal-sync", msg, APPLICATION_PRESENTATION, NULL);
    CHECK_STR (s_str (preview, "outcome"), "write");
    CHECK_STR (s_str (s_change (preview, "ai_deal_stage"), "to"), "application");
    CHECK_STR (s_str (s_change (preview, "hubspot_deal_stage"), "to"), "presentationscheduled");
    json_decref (preview);
    //  The default map names no AI stage for it.
    preview = s_preview ("deal-sync", msg, "{}", NULL);
    CHECK (s_change (preview, "ai_deal_stage") == NULL);
    CHECK (s_has_note (preview, "no AI stage maps to presentationscheduled"));
    json_decref (preview);
    zhub_msg_destroy (&msg);
    //  Our own write coming back is an echo.
    msg = s_msg ("webhook.hubspot.deal.propertyChange", "hubspot:deal:d-9",
                 "{\"objectId\": \"d-9\", \"propertyName\": \"dealstage\", "
                 "\"propertyValue\": \"contractsent\", \"changeSource\": \"INTEGRATION\"}");
    preview = s_preview ("deal-sync", msg, "{}", NULL);
    CHECK_STR (s_str (preview, "outcome"), "skip");
    json_decref (preview);
    zhub_msg_destroy (&msg);
}

//  -------------------------------------------------------------------
//  Where no mapping applies

static void
test_messages_and_groups_no_mapping_applies_to (void)
{
    struct {
        const char *group, *type, *data;
    } cases[] = {
        {"deal-sync", "contact.synced", "{\"bird_contact_id\": \"b-1\"}"},
        {"contact-sync", "contact.reconcile", "{}"},
        {"contact-sync", "contact.erase", "{\"request\": \"r-1\", \"identifier\": \"b-1\"}"},
        {"contact-sync", "webhook.hubspot.contact.deletion",
         "{\"objectId\": 501, \"subscriptionType\": \"contact.deletion\"}"},
        {"activity-log", "conversation.message", "{\"bird_contact_id\": \"b-1\"}"},
        {"scheduler", "tour.requested", "{\"bird_contact_id\": \"b-1\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zhub_msg_t *msg = s_msg (cases[i].type, "contact:b-1", cases[i].data);
        json_t *preview = s_preview (cases[i].group, msg, BUDGET_TO_COMPANY, NULL);
        if (strcmp (s_str (preview, "outcome"), "not_mapped"))
            fprintf (stderr, "  case %zu: %s\n", i, s_str (preview, "outcome"));
        CHECK_STR (s_str (preview, "outcome"), "not_mapped");
        char *text = zhub_dlq_preview_text (preview);
        CHECK (!strncmp (text, "no mapping applies: ", 20));
        free (text);
        json_decref (preview);
        zhub_msg_destroy (&msg);
    }
}

//  -------------------------------------------------------------------
//  As text

static void
test_text_names_the_mapping_the_call_and_each_change (void)
{
    contact_state_t known;
    s_known_ana (&known, 1600000000000LL);
    s_store_t store = {.contact_rc = ZHUB_OK, .contact = &known};
    zhub_msg_t *msg = s_bird_contact ("+5215512345678", "15000");
    json_t *preview = s_preview ("contact-sync", msg, BUDGET_TO_COMPANY, &store);
    json_object_set_new (preview, "mapping", json_string ("/etc/zhub/mapping.json"));
    char *text = zhub_dlq_preview_text (preview);
    CHECK_STR (text, "under the mapping in /etc/zhub/mapping.json, contact-sync would write to "
                     "HubSpot:\n"
                     "  POST /crm/v3/objects/contacts/batch/upsert (hubspot upsert contact)\n"
                     "  HubSpot contact 501 (bird_contact_id b-1):\n"
                     "    company: \"9000\" -> \"15000\"\n");
    free (text);
    json_object_set_new (preview, "mapping", json_null ());
    text = zhub_dlq_preview_text (preview);
    CHECK (!strncmp (text, "under the built-in mapping (ZHUB_MAPPING_FILE unset), ", 54));
    free (text);
    json_decref (preview);
    contact_state_clear (&known);
    zhub_msg_destroy (&msg);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    RUN (test_bird_contact_goes_to_the_property_the_mapping_names);
    RUN (test_known_contact_shows_what_changes_from_what);
    RUN (test_a_validation_error_the_mapping_cannot_fix_is_a_reject);
    RUN (test_a_mapping_the_actor_would_refuse_says_so);
    RUN (test_hubspot_property_change_follows_the_mapping);
    RUN (test_an_unreadable_store_is_said);
    RUN (test_ai_stage_goes_to_the_stage_the_map_names);
    RUN (test_a_person_s_stage_maps_back_to_an_ai_stage);
    RUN (test_messages_and_groups_no_mapping_applies_to);
    RUN (test_text_names_the_mapping_the_call_and_each_change);
    TEST_EXIT ();
}
