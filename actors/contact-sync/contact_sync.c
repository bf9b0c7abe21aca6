//  contact-sync's pure core (see contact_sync.h for the flow). Everything
//  here is a function of its arguments: no clock, no store, no network, so
//  the unit tests feed it samples and compare the plans it returns with
//  what HubSpot and Bird should receive.
//
//  Inputs come from outside (webhooks, API answers) and are treated as
//  untrusted: every field is type-checked, missing or odd fields make the
//  event "not for us" or a REJECT with a reason, never a crash.
//
//  The core is split by job: this file holds the configuration (which
//  fields are mapped between Bird and HubSpot); contact_sync_validate.c
//  normalizes phones, e-mails and names; contact_sync_state.c encodes
//  and decodes what we know of a contact; contact_sync_event.c reads the
//  incoming events and builds contact.synced; the plan stands in three
//  floors: contact_sync_plan_build.c (the plan's life cycle, calls,
//  last-writer-wins), contact_sync_plan_bird.c / _plan_hubspot.c (each
//  direction), contact_sync_plan.c (the entry points and the table of
//  answers); contact_sync_erase.c is the erase's pure half. Helpers they
//  share are in contact_sync_internal.h.
#include "contact_sync_internal.h"

//  -------------------------------------------------------------------
//  Configuration: mapped fields

static void
s_add_field (contact_sync_config_t *config, const char *bird, const char *hubspot, bool to_hubspot,
             bool to_bird)
{
    contact_field_map_t *field = NULL;
    for (size_t i = 0; i < config->field_count; i++)
        if (!strcmp (config->fields[i].hubspot, hubspot))
            field = &config->fields[i];
    if (!field) {
        if (config->field_count == CONTACT_MAX_FIELDS)
            return;
        field = &config->fields[config->field_count++];
    } else {
        free (field->bird);
        free (field->hubspot);
    }
    field->bird = zhub_strdup (bird);
    field->hubspot = zhub_strdup (hubspot);
    field->to_hubspot = to_hubspot;
    field->to_bird = to_bird;
    //  The properties a HubSpot read asks for: the core ones and every
    //  mapped one.
    free (config->hubspot_properties);
    char *list = zhub_strdup (CONTACT_HUBSPOT_PROPERTIES);
    for (size_t i = 0; i < config->field_count; i++) {
        char *longer = zhub_sprintf ("%s,%s", list, config->fields[i].hubspot);
        free (list);
        list = longer;
    }
    config->hubspot_properties = list;
}

void
contact_sync_config_defaults (contact_sync_config_t *config)
{
    s_add_field (config, "conversation.status", "ai_conversation_status", true, false);
    s_add_field (config, "attributes.property_interest", "urbanhub_property_interest", true, true);
}

void
contact_sync_config_clear (contact_sync_config_t *config)
{
    if (!config)
        return;
    for (size_t i = 0; i < config->field_count; i++) {
        free (config->fields[i].bird);
        free (config->fields[i].hubspot);
    }
    free (config->hubspot_properties);
    config->field_count = 0;
    config->hubspot_properties = NULL;
}

static bool
s_property_name_ok (const char *name)
{
    if (contact_sync_empty (name) || strlen (name) > 100 || !islower ((unsigned char)name[0]))
        return false;
    for (const char *p = name; *p; p++)
        if (!islower ((unsigned char)*p) && !isdigit ((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

int
contact_sync_config_apply (contact_sync_config_t *config, const json_t *root, char *err,
                           size_t err_size)
{
    const json_t *contact = json_object_get (root, "contact");
    if (!contact)
        return 0;
    const json_t *fields = json_object_get (contact, "fields");
    if (!json_is_object (contact) || (fields && !json_is_array (fields))) {
        contact_sync_reason (err, err_size, "contact.fields must be a list");
        return -1;
    }
    static const char *core[] = {"email", "phone", "firstname", "lastname", "bird_contact_id"};
    size_t i;
    json_t *item;
    //  Check everything first: a bad file changes nothing.
    json_array_foreach (fields, i, item)
    {
        const char *bird = contact_sync_json_str (item, "bird");
        const char *hubspot = contact_sync_json_str (item, "hubspot");
        const char *direction = contact_sync_json_str (item, "direction");
        bool status = bird && !strcmp (bird, "conversation.status");
        if (!bird || (!status && (strncmp (bird, "attributes.", 11) || !bird[11]))) {
            contact_sync_reason (err, err_size,
                                 "contact.fields[%zu].bird must be \"attributes.<name>\" or "
                                 "\"conversation.status\"",
                                 i);
            return -1;
        }
        if (!s_property_name_ok (hubspot)) {
            contact_sync_reason (
                err, err_size, "contact.fields[%zu].hubspot must be a property name (a-z, 0-9, _)",
                i);
            return -1;
        }
        for (size_t k = 0; k < sizeof core / sizeof core[0]; k++)
            if (!strcmp (hubspot, core[k])) {
                contact_sync_reason (err, err_size,
                                     "contact.fields[%zu]: %s is mapped already (built in)", i,
                                     hubspot);
                return -1;
            }
        if (direction && strcmp (direction, "both") && strcmp (direction, "to_hubspot")
            && strcmp (direction, "to_bird")) {
            contact_sync_reason (
                err, err_size, "contact.fields[%zu].direction must be both, to_hubspot or to_bird",
                i);
            return -1;
        }
        if (status && direction && strcmp (direction, "to_hubspot")) {
            contact_sync_reason (err, err_size,
                                 "contact.fields[%zu]: conversation.status can only go to_hubspot",
                                 i);
            return -1;
        }
    }
    json_array_foreach (fields, i, item)
    {
        const char *bird = contact_sync_json_str (item, "bird");
        const char *direction = contact_sync_json_str (item, "direction");
        bool status = !strcmp (bird, "conversation.status");
        if (!direction)
            direction = status ? "to_hubspot" : "both";
        s_add_field (config, bird, contact_sync_json_str (item, "hubspot"),
                     strcmp (direction, "to_bird") != 0, strcmp (direction, "to_hubspot") != 0);
    }
    return 0;
}

const contact_field_map_t *
contact_sync_field_of (const contact_sync_config_t *config, const char *hubspot)
{
    for (size_t i = 0; hubspot && i < config->field_count; i++)
        if (!strcmp (config->fields[i].hubspot, hubspot))
            return &config->fields[i];
    return NULL;
}
