//  contact-sync core: planning Bird -> HubSpot. Given a Bird contact
//  (from an event or a fetch), decides which mapped fields and which
//  identifiers go to HubSpot, field by field under last-writer-wins.
#include "contact_sync_internal.h"

//  The value of a mapped field in a Bird event, as text (fresh) or NULL.
char *
contact_sync_bird_field_value (const contact_event_t *event, const contact_field_map_t *field)
{
    if (!strcmp (field->bird, "conversation.status"))
        return zhub_strdup (event->conversation_status);
    if (strncmp (field->bird, "attributes.", 11) || !event->attributes)
        return NULL;
    const json_t *value = json_object_get (event->attributes, field->bird + 11);
    if (json_is_string (value))
        return zhub_strdup (json_string_value (value));
    if (json_is_integer (value))
        return zhub_sprintf ("%lld", (long long)json_integer_value (value));
    if (json_is_real (value))
        return zhub_sprintf ("%g", json_real_value (value));
    if (json_is_boolean (value))
        return zhub_strdup (json_is_true (value) ? "true" : "false");
    return NULL;
}

//  Picks the phone (or e-mail) of a Bird record to sync: the one we synced
//  last if Bird still has it (a second number must not flip HubSpot back
//  and forth), else the first valid one. Returns ZHUB_OK with out ("" when
//  the record has none), or ZHUB_REJECT when it has some and none is
//  valid.
static zhub_rc_t
s_pick_identifier (char *const *values, size_t count, const char *known, bool phone,
                   const contact_sync_config_t *config, char *out, size_t out_size, char *reason,
                   size_t reason_size)
{
    out[0] = 0;
    char first_reason[200] = "";
    bool any_valid = false;
    char candidate[CONTACT_EMAIL_MAX + 2];
    for (size_t i = 0; i < count; i++) {
        char why[200];
        zhub_rc_t rc =
            phone
                ? contact_phone_normalize (values[i], config->default_calling_code, candidate,
                                           sizeof candidate, why, sizeof why)
                : contact_email_normalize (values[i], candidate, sizeof candidate, why, sizeof why);
        if (rc != ZHUB_OK) {
            if (!*first_reason)
                snprintf (first_reason, sizeof first_reason, "%s", why);
            continue;
        }
        size_t size = strlen (candidate);
        if (size < out_size && (!any_valid || (known && !strcmp (candidate, known))))
            memcpy (out, candidate, size + 1);
        any_valid = true;
    }
    if (count && !any_valid) {
        contact_sync_reason (reason, reason_size, "%s", first_reason);
        return ZHUB_REJECT;
    }
    return ZHUB_OK;
}

//  Bird -> HubSpot, once the Bird side of the contact is known.
void
contact_sync_plan_bird_to_hubspot (const contact_event_t *event, const contact_state_t *state,
                                   const contact_sync_config_t *config, contact_plan_t *plan)
{
    plan->direction = DIR_BIRD_TO_HUBSPOT;
    char phone[CONTACT_PHONE_MAX + 1], email[CONTACT_EMAIL_MAX + 1], why[200];
    if (s_pick_identifier (event->phones, event->phone_count, state ? state->bird.phone : NULL,
                           true, config, phone, sizeof phone, why, sizeof why)
        != ZHUB_OK) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_INVALID_PHONE,
                                  "bird contact %s: %s", event->bird_id, why);
        return;
    }
    if (s_pick_identifier (event->emails, event->email_count, state ? state->bird.email : NULL,
                           false, config, email, sizeof email, why, sizeof why)
        != ZHUB_OK) {
        contact_sync_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_INVALID_EMAIL,
                                  "bird contact %s: %s", event->bird_id, why);
        return;
    }
    char *name = contact_name_clean (event->display_name);
    contact_state_t empty = {0};
    const contact_state_t *known = state ? state : &empty;

    //  The next state starts from what we knew; Bird's side becomes what
    //  we just read, HubSpot's side gains what we write.
    contact_state_t *next = &plan->next;
    contact_state_copy (next, known);
    contact_sync_set (&next->bird_id, event->bird_id);
    if (*name)
        contact_sync_set (&next->bird.display_name, name);
    if (*phone)
        contact_sync_set (&next->bird.phone, phone);
    if (*email)
        contact_sync_set (&next->bird.email, email);

    json_t *props = json_object ();
    if (*name && !contact_sync_same (name, known->bird.display_name)) {
        char *first, *last;
        contact_name_split (name, &first, &last);
        char *hubspot_name = contact_name_join (known->hubspot.firstname, known->hubspot.lastname);
        bool differs = !contact_sync_same (first, known->hubspot.firstname)
                       || !contact_sync_same (last, known->hubspot.lastname);
        if (differs
            && contact_sync_lww (plan, known, event, "name", "bird",
                                 *hubspot_name ? hubspot_name : NULL, name)) {
            if (!contact_sync_same (first, known->hubspot.firstname)) {
                json_object_set_new (props, "firstname", json_string (first));
                contact_sync_set (&next->hubspot.firstname, first);
                contact_sync_changed (plan, "firstname");
            }
            //  A one-word name clears an old last name only when we had
            //  synced one; a first sync never writes an empty value.
            if (!contact_sync_same (last, known->hubspot.lastname)) {
                json_object_set_new (props, "lastname", json_string (last));
                contact_sync_set (&next->hubspot.lastname, last);
                contact_sync_changed (plan, "lastname");
            }
        } else if (differs)
            contact_sync_set (&next->bird.display_name, known->bird.display_name); //  a stale value
        free (hubspot_name);
        free (first);
        free (last);
    }
    if (*phone && !contact_sync_same (phone, known->bird.phone)
        && !contact_sync_same (phone, known->hubspot.phone)) {
        if (contact_sync_lww (plan, known, event, "phone", "bird", known->hubspot.phone, phone)) {
            json_object_set_new (props, "phone", json_string (phone));
            contact_sync_set (&next->hubspot.phone, phone);
            contact_sync_changed (plan, "phone");
        } else
            contact_sync_set (&next->bird.phone, known->bird.phone);
    }
    if (*email && !contact_sync_same (email, known->bird.email)
        && !contact_sync_same (email, known->hubspot.email)) {
        if (contact_sync_lww (plan, known, event, "email", "bird", known->hubspot.email, email)) {
            json_object_set_new (props, "email", json_string (email));
            contact_sync_set (&next->hubspot.email, email);
            contact_sync_changed (plan, "email");
        } else
            contact_sync_set (&next->bird.email, known->bird.email);
    }
    for (size_t i = 0; i < config->field_count; i++) {
        const contact_field_map_t *field = &config->fields[i];
        char *value = field->to_hubspot ? contact_sync_bird_field_value (event, field) : NULL;
        const char *known_bird = contact_sync_field_known (known, field->hubspot, "bird");
        const char *known_hubspot = contact_sync_field_known (known, field->hubspot, "hubspot");
        if (value && *value && !contact_sync_same (value, known_bird)
            && !contact_sync_same (value, known_hubspot)
            && contact_sync_lww (plan, known, event, field->hubspot, "bird", known_hubspot,
                                 value)) {
            json_object_set_new (props, field->hubspot, json_string (value));
            contact_sync_field_set (next, field->hubspot, "bird", value);
            contact_sync_field_set (next, field->hubspot, "hubspot", value);
            contact_sync_changed (plan, field->hubspot);
        }
        free (value);
    }
    free (name);

    if (json_object_size (props) == 0) {
        json_decref (props);
        if (plan->audit && state && state->hubspot_id)
            contact_sync_plan_reason (
                plan, CONTACT_PLAN_SKIP, 0,
                "bird contact %s: HubSpot holds newer values (last writer wins)", event->bird_id);
        else if (state && state->hubspot_id)
            contact_sync_plan_reason (plan, CONTACT_PLAN_SKIP, 0,
                                      "bird contact %s: HubSpot already has these values",
                                      event->bird_id);
        else
            contact_sync_plan_reason (plan, CONTACT_PLAN_SKIP, 0,
                                      "bird contact %s has no name, phone or e-mail to sync",
                                      event->bird_id);
        return;
    }
    contact_sync_plan_upsert (plan, event->bird_id, props);
}
