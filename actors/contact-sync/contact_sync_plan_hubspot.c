//  contact-sync core: planning HubSpot -> Bird. Given a fetched HubSpot
//  contact, decides which name, identifiers and attributes go to Bird,
//  field by field under last-writer-wins.
#include "contact_sync_internal.h"

//  HubSpot -> Bird, from the fetched HubSpot contact.
void
contact_sync_plan_hubspot_to_bird (const contact_event_t *event, const contact_state_t *state,
                                   const json_t *answer, const contact_sync_config_t *config,
                                   contact_plan_t *plan)
{
    plan->direction = DIR_HUBSPOT_TO_BIRD;
    const json_t *props = json_object_get (answer, "properties");
    char *hubspot_id = contact_sync_json_id (json_object_get (answer, "id"));
    if (!hubspot_id)
        hubspot_id = zhub_strdup (event->hubspot_id);
    const char *raw_phone = contact_sync_json_str (props, "phone");
    const char *raw_email = contact_sync_json_str (props, "email");
    char phone[CONTACT_PHONE_MAX + 1] = "", email[CONTACT_EMAIL_MAX + 1] = "", why[200];
    if (!contact_sync_empty (raw_phone)
        && contact_phone_normalize (raw_phone, config->default_calling_code, phone, sizeof phone,
                                    why, sizeof why)
               != ZHUB_OK) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_INVALID_PHONE,
                                  "hubspot contact %s: %s", hubspot_id, why);
        free (hubspot_id);
        return;
    }
    if (!contact_sync_empty (raw_email)
        && contact_email_normalize (raw_email, email, sizeof email, why, sizeof why) != ZHUB_OK) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_INVALID_EMAIL,
                                  "hubspot contact %s: %s", hubspot_id, why);
        free (hubspot_id);
        return;
    }
    if (!*phone && !*email) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_NO_IDENTIFIER,
                                  "hubspot contact %s has no phone and no email to find it in Bird",
                                  hubspot_id);
        free (hubspot_id);
        return;
    }
    char *first = contact_name_clean (contact_sync_json_str (props, "firstname"));
    char *last = contact_name_clean (contact_sync_json_str (props, "lastname"));
    char *display = contact_name_join (first, last);
    const char *linked = contact_sync_answer_bird_id (answer);
    contact_state_t empty = {0};
    const contact_state_t *known = state ? state : &empty;

    contact_state_t *next = &plan->next;
    contact_state_copy (next, known);
    contact_sync_set (&next->hubspot_id, hubspot_id);
    contact_sync_set (&next->unlinked, NULL); //  HubSpot names this contact again
    if (linked)
        contact_sync_set (&next->bird_id, linked);
    contact_sync_set (&next->hubspot.firstname, *first ? first : NULL);
    contact_sync_set (&next->hubspot.lastname, *last ? last : NULL);
    contact_sync_set (&next->hubspot.phone, *phone ? phone : NULL);
    contact_sync_set (&next->hubspot.email, *email ? email : NULL);

    json_t *body = json_object ();
    json_t *add = json_array ();
    json_t *attributes = json_object ();
    bool name_changed = !contact_sync_same (first, known->hubspot.firstname)
                        || !contact_sync_same (last, known->hubspot.lastname);
    if (*display && name_changed && !contact_sync_same (display, known->bird.display_name)) {
        if (contact_sync_lww (plan, known, event, "name", "hubspot", known->bird.display_name,
                              display)) {
            //  A name is attributes on Bird's update and upsert: their
            //  bodies have no top-level displayName (it is a create-only
            //  field, kept as the displayName attribute), see
            //  https://docs.bird.com/api/contacts-api/api-reference/manage-workspace-contacts/update-a-contact
            //  An empty part is null: it removes what Bird held.
            json_object_set_new (attributes, "displayName", json_string (display));
            json_object_set_new (attributes, "firstName",
                                 *first ? json_string (first) : json_null ());
            json_object_set_new (attributes, "lastName", *last ? json_string (last) : json_null ());
            contact_sync_set (&next->bird.display_name, display);
            contact_sync_changed (plan, "displayName");
        } else {
            //  An older change: what we knew of HubSpot stays, so a later
            //  event compares against it again.
            contact_sync_set (&next->hubspot.firstname, known->hubspot.firstname);
            contact_sync_set (&next->hubspot.lastname, known->hubspot.lastname);
        }
    }
    bool phone_new = *phone && !contact_sync_same (phone, known->hubspot.phone)
                     && !contact_sync_same (phone, known->bird.phone);
    bool email_new = *email && !contact_sync_same (email, known->hubspot.email)
                     && !contact_sync_same (email, known->bird.email);
    if (phone_new
        && !contact_sync_lww (plan, known, event, "phone", "hubspot", known->bird.phone, phone)) {
        phone_new = false;
        contact_sync_set (&next->hubspot.phone, known->hubspot.phone);
    }
    if (email_new
        && !contact_sync_lww (plan, known, event, "email", "hubspot", known->bird.email, email)) {
        email_new = false;
        contact_sync_set (&next->hubspot.email, known->hubspot.email);
    }
    for (size_t i = 0; i < config->field_count; i++) {
        const contact_field_map_t *field = &config->fields[i];
        const char *value = contact_sync_json_str (props, field->hubspot);
        const char *known_bird = contact_sync_field_known (known, field->hubspot, "bird");
        const char *known_hubspot = contact_sync_field_known (known, field->hubspot, "hubspot");
        if (!field->to_bird || strncmp (field->bird, "attributes.", 11)
            || contact_sync_empty (value) || contact_sync_same (value, known_hubspot))
            continue;
        if (contact_sync_same (value, known_bird)) {
            contact_sync_field_set (next, field->hubspot, "hubspot", value);
            continue;
        }
        if (!contact_sync_lww (plan, known, event, field->hubspot, "hubspot", known_bird, value))
            continue;
        json_object_set_new (attributes, field->bird + 11, json_string (value));
        contact_sync_field_set (next, field->hubspot, "hubspot", value);
        contact_sync_field_set (next, field->hubspot, "bird", value);
        contact_sync_changed (plan, field->hubspot);
    }
    if (phone_new) {
        contact_sync_set (&next->bird.phone, phone);
        contact_sync_changed (plan, "phonenumber");
    }
    if (email_new) {
        contact_sync_set (&next->bird.email, email);
        contact_sync_changed (plan, "emailaddress");
    }
    bool link_new = !contact_sync_same (hubspot_id, known->hubspot_id);
    if (link_new) {
        json_object_set_new (attributes, "hubspot_contact_id", json_string (hubspot_id));
        contact_sync_changed (plan, "hubspot_contact_id");
    }
    if (json_object_size (attributes))
        json_object_set_new (body, "attributes", attributes);
    else
        json_decref (attributes);
    //  Which Bird contact: the one we know (or HubSpot names), else upsert
    //  by the phone (WhatsApp's identity), else by the e-mail.
    const char *bird_id = linked ? linked : known->bird_id;
    const char *path_key = bird_id ? NULL : *phone ? "phonenumber" : "emailaddress";
    //  The upsert's own identifier is in the path; the others are added.
    if (phone_new && (!path_key || strcmp (path_key, "phonenumber")))
        json_array_append_new (add, json_pack ("{s:s, s:s}", "key", "phonenumber", "value", phone));
    if (email_new && (!path_key || strcmp (path_key, "emailaddress")))
        json_array_append_new (add,
                               json_pack ("{s:s, s:s}", "key", "emailaddress", "value", email));
    if (json_array_size (add))
        json_object_set_new (body, "addIdentifiers", add);
    else
        json_decref (add);
    plan->link_hubspot = !contact_sync_same (linked, bird_id) || !linked;

    bool nothing = plan->changed_count == 0;
    free (first);
    free (last);
    free (display);
    if (nothing && bird_id) {
        json_decref (body);
        contact_sync_plan_reason (
            plan, CONTACT_PLAN_SKIP, 0,
            plan->audit ? "hubspot contact %s: Bird holds newer values (last writer wins)"
                        : "hubspot contact %s: Bird already has these values",
            hubspot_id);
        free (hubspot_id);
        return;
    }
    free (hubspot_id);
    contact_sync_plan_call (plan, CONTACT_PLAN_WRITE, CONTACT_OP_BIRD_WRITE, bird_id, body,
                            bird_id ? "bird update contact" : "bird upsert contact");
    if (path_key) {
        //  Upserted by the identifier: the connector puts it in the path.
        plan->call.key = path_key;
        plan->call.value = zhub_strdup (*phone ? phone : email);
    }
}
