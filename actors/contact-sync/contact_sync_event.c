//  contact-sync core: the edges of the flow. Reads incoming Bird and
//  HubSpot events (and lifecycle events: merges, deletions) into
//  contact_event_t / contact_lifecycle_t, and builds the contact.synced
//  message that reports a finished plan (the catalogue's typed builder,
//  proto/zhub_events.h).
#include "contact_sync_internal.h"

//  -------------------------------------------------------------------
//  Events

void
contact_event_clear (contact_event_t *event)
{
    if (!event)
        return;
    free (event->kind);
    free (event->bird_id);
    free (event->hubspot_id);
    free (event->display_name);
    for (size_t i = 0; i < event->phone_count; i++)
        free (event->phones[i]);
    for (size_t i = 0; i < event->email_count; i++)
        free (event->emails[i]);
    free (event->property_name);
    free (event->property_value);
    free (event->event_id);
    json_decref (event->attributes);
    free (event->conversation_status);
    memset (event, 0, sizeof *event);
}

static void
s_add_identifier (contact_event_t *event, const char *key, const char *value)
{
    if (!key || contact_sync_empty (value))
        return;
    if (!strcmp (key, "phonenumber") && event->phone_count < CONTACT_MAX_IDENTIFIERS)
        event->phones[event->phone_count++] = zhub_strdup (value);
    else if (!strcmp (key, "emailaddress") && event->email_count < CONTACT_MAX_IDENTIFIERS)
        event->emails[event->email_count++] = zhub_strdup (value);
}

//  An identifier list: [{"key": "...", "value": "..."}] (also accepts
//  identifierKey / identifierValue, as message events spell them).
static void
s_add_identifier_list (contact_event_t *event, const json_t *list)
{
    size_t i;
    json_t *item;
    json_array_foreach (list, i, item)
    {
        const char *key = contact_sync_json_str (item, "key");
        const char *value = contact_sync_json_str (item, "value");
        if (!key) {
            key = contact_sync_json_str (item, "identifierKey");
            value = contact_sync_json_str (item, "identifierValue");
        }
        s_add_identifier (event, key, value);
    }
}

static bool
s_is_identifier_value (const contact_event_t *event, const char *text)
{
    for (size_t i = 0; i < event->phone_count; i++)
        if (!strcmp (event->phones[i], text))
            return true;
    for (size_t i = 0; i < event->email_count; i++)
        if (!strcasecmp (event->emails[i], text))
            return true;
    return false;
}

//  Reads a Bird contact record (a GET answer, or a contact event's
//  payload): id, display name and identifiers.
bool
contact_sync_read_bird_contact (const json_t *contact, contact_event_t *event)
{
    char *id = contact_sync_json_id (json_object_get (contact, "id"));
    if (!id)
        return false;
    free (event->bird_id);
    event->bird_id = id;
    s_add_identifier_list (event, json_object_get (contact, "featuredIdentifiers"));
    s_add_identifier_list (event, json_object_get (contact, "identifiers"));
    json_t *attributes = json_object_get (contact, "attributes");
    if (json_is_object (attributes)) {
        json_decref (event->attributes);
        event->attributes = json_deep_copy (attributes);
    }
    static const char *keys[] = {"phonenumber", "emailaddress"};
    for (size_t k = 0; k < 2; k++) {
        json_t *values = json_object_get (attributes, keys[k]);
        size_t i;
        json_t *value;
        if (json_is_string (values))
            s_add_identifier (event, keys[k], json_string_value (values));
        json_array_foreach (values, i, value)
        {
            bool known = false;
            const char *text = json_string_value (value);
            for (size_t j = 0; text && j < event->phone_count; j++)
                known |= !strcmp (event->phones[j], text);
            for (size_t j = 0; text && j < event->email_count; j++)
                known |= !strcasecmp (event->emails[j], text);
            if (!known)
                s_add_identifier (event, keys[k], text);
        }
    }
    //  Bird falls back to an identifier when a contact has no name:
    //  "computedDisplayName": "+3511111111" is not a name.
    const char *names[] = {contact_sync_json_str (contact, "displayName"),
                           contact_sync_json_str (attributes, "displayName"),
                           contact_sync_json_str (contact, "computedDisplayName")};
    for (size_t i = 0; i < 3; i++) {
        if (contact_sync_empty (names[i]) || s_is_identifier_value (event, names[i]))
            continue;
        free (event->display_name);
        event->display_name = contact_name_clean (names[i]);
        if (*event->display_name)
            break;
    }
    event->complete = true;
    return true;
}

//  A contact reference inside a message event: {"id", "identifierKey",
//  "identifierValue"} (maybe with a displayName). Not a complete record.
static bool
s_read_contact_ref (const json_t *ref, const json_t *fallback_id, contact_event_t *event)
{
    char *id = contact_sync_json_id (json_object_get (ref, "id"));
    if (!id)
        id = contact_sync_json_id (fallback_id);
    if (!id)
        return false;
    free (event->bird_id);
    event->bird_id = id;
    s_add_identifier (event, contact_sync_json_str (ref, "identifierKey"),
                      contact_sync_json_str (ref, "identifierValue"));
    const char *name = contact_sync_json_str (ref, "displayName");
    if (!contact_sync_empty (name) && !s_is_identifier_value (event, name))
        event->display_name = contact_name_clean (name);
    event->complete = false;
    return true;
}

//  The envelope's part of an event: its time and id.
static void
s_stamp (contact_event_t *event, const zhub_msg_t *msg)
{
    event->time_ms = msg->time_ms;
    event->event_id = zhub_strdup (msg->id);
}

//  Every parser's first check: data the runtime could not read as JSON, or
//  a scalar, names nothing.
static bool
s_data_ok (const zhub_msg_t *msg, const json_t *data, char *reason, size_t reason_size)
{
    if (msg && msg->type && (json_is_object (data) || json_is_array (data)))
        return true;
    contact_sync_reason (reason, reason_size, "message data is not an object");
    return false;
}

//  The outcome of a parser: what was found is stamped, what was not is
//  cleared.
static zhub_rc_t
s_parsed (zhub_rc_t rc, const zhub_msg_t *msg, contact_event_t *event, char *reason,
          size_t reason_size)
{
    if (rc == ZHUB_NOTFOUND)
        contact_sync_reason (reason, reason_size, "no contact in %s", msg->type);
    if (rc == ZHUB_OK)
        s_stamp (event, msg);
    else
        contact_event_clear (event);
    return rc;
}

//  A parser of one route, from data that is an object or an array.
typedef zhub_rc_t (s_reader_fn) (const char *topic, const json_t *data, contact_event_t *event,
                                 char *reason, size_t reason_size);

static zhub_rc_t
s_read (s_reader_fn *reader, const zhub_msg_t *msg, const json_t *data, contact_event_t *event,
        char *reason, size_t reason_size)
{
    memset (event, 0, sizeof *event);
    if (!s_data_ok (msg, data, reason, reason_size))
        return ZHUB_REJECT;
    return s_parsed (reader (msg->type, data, event, reason, reason_size), msg, event, reason,
                     reason_size);
}

static zhub_rc_t
s_parse_bird (const char *topic, const json_t *data, contact_event_t *event, char *reason,
              size_t reason_size)
{
    (void)reason, (void)reason_size;
    if (strncmp (topic, "webhook.bird.", 13))
        return ZHUB_NOTFOUND;
    event->origin = CONTACT_FROM_BIRD;
    const json_t *payload = json_object_get (data, "payload");
    if (!json_is_object (payload))
        payload = data; //  a gateway that unwrapped the envelope
    const char *kind = contact_sync_json_str (data, "event");
    event->kind = zhub_strdup (kind ? kind : topic + strlen ("webhook.bird."));

    //  Channels message: the contact is the sender (inbound) or the
    //  receiver (outbound).
    const json_t *sender = json_object_get (json_object_get (payload, "sender"), "contact");
    if (json_is_object (sender) && s_read_contact_ref (sender, NULL, event))
        return ZHUB_OK;
    const json_t *receivers = json_object_get (json_object_get (payload, "receiver"), "contacts");
    if (json_is_array (receivers) && json_array_size (receivers) > 0
        && s_read_contact_ref (json_array_get (receivers, 0), NULL, event))
        return ZHUB_OK;
    //  conversation.created / .updated: the first contact participant; the
    //  conversation's status is a mapped field (ai_conversation_status).
    if (!strncmp (event->kind, "conversation.", 13) && contact_sync_json_str (payload, "status"))
        event->conversation_status = contact_sync_json_strdup (payload, "status");
    const json_t *participants = json_object_get (payload, "featuredParticipants");
    size_t i;
    json_t *participant;
    json_array_foreach (participants, i, participant)
    {
        if (!contact_sync_json_str (participant, "type")
            || strcmp (contact_sync_json_str (participant, "type"), "contact"))
            continue;
        const json_t *contact = json_object_get (participant, "contact");
        if (!json_is_object (contact))
            contact = participant;
        if (s_read_contact_ref (contact, json_object_get (participant, "id"), event))
            return ZHUB_OK;
    }
    //  Contact events: the payload is the contact (or holds it).
    const json_t *contact = json_object_get (payload, "contact");
    if (json_is_object (contact) && contact_sync_read_bird_contact (contact, event))
        return ZHUB_OK;
    if (json_object_get (payload, "featuredIdentifiers") || json_object_get (payload, "identifiers")
        || json_object_get (payload, "computedDisplayName")) {
        if (contact_sync_read_bird_contact (payload, event))
            return ZHUB_OK;
    }
    return ZHUB_NOTFOUND;
}

const char *
contact_sync_hubspot_type (const char *topic, const json_t **data)
{
    if (json_is_array (*data) && json_array_size (*data) == 1)
        *data = json_array_get (*data, 0); //  an unsplit batch of one
    const char *type = contact_sync_json_str (*data, "subscriptionType");
    if (!type)
        type = contact_sync_json_str (*data, "eventType");
    if (!type && topic && !strncmp (topic, "webhook.hubspot.", 16))
        type = topic + 16;
    return type;
}

contact_hubspot_kind_t
contact_sync_hubspot_kind (const char *topic, const json_t *data)
{
    const char *type = contact_sync_hubspot_type (topic, &data);
    if (!type)
        return CONTACT_HUBSPOT_CONTACT;
    if (!strcmp (type, "contact.merge") || !strcmp (type, "contact.deletion"))
        return CONTACT_HUBSPOT_LIFECYCLE;
    if (!strcmp (type, "contact.privacyDeletion"))
        return CONTACT_HUBSPOT_PRIVACY;
    return CONTACT_HUBSPOT_CONTACT;
}

static zhub_rc_t
s_parse_hubspot (const char *topic, const json_t *data, contact_event_t *event, char *reason,
                 size_t reason_size)
{
    event->origin = CONTACT_FROM_HUBSPOT;
    const char *type = contact_sync_hubspot_type (topic, &data);
    if (!type || (strcmp (type, "contact.creation") && strcmp (type, "contact.propertyChange")))
        return ZHUB_NOTFOUND;
    event->kind = zhub_strdup (type);
    event->hubspot_id = contact_sync_json_id (json_object_get (data, "objectId"));
    if (!event->hubspot_id) {
        contact_sync_reason (reason, reason_size, "HubSpot %s event without objectId", type);
        return ZHUB_REJECT;
    }
    if (!strcmp (type, "contact.propertyChange")) {
        event->property_name = contact_sync_json_strdup (data, "propertyName");
        const json_t *value = json_object_get (data, "propertyValue");
        if (json_is_string (value))
            event->property_value = zhub_strdup (json_string_value (value));
        if (!event->property_name) {
            contact_sync_reason (reason, reason_size,
                                 "HubSpot propertyChange without propertyName");
            return ZHUB_REJECT;
        }
    }
    return ZHUB_OK;
}

//  conversation.started {bird_contact_id, status?}
static zhub_rc_t
s_parse_conversation (const char *topic, const json_t *data, contact_event_t *event, char *reason,
                      size_t reason_size)
{
    event->origin = CONTACT_FROM_BIRD;
    event->kind = zhub_strdup (topic);
    event->bird_id = contact_sync_json_id (json_object_get (data, "bird_contact_id"));
    const char *status = contact_sync_json_str (data, "status");
    event->conversation_status = zhub_strdup (status ? status : "active");
    if (event->bird_id)
        return ZHUB_OK;
    contact_sync_reason (reason, reason_size, "%s without bird_contact_id", topic);
    return ZHUB_REJECT;
}

zhub_rc_t
contact_sync_parse_bird (const zhub_msg_t *msg, const json_t *data, contact_event_t *event,
                         char *reason, size_t reason_size)
{
    return s_read (s_parse_bird, msg, data, event, reason, reason_size);
}

zhub_rc_t
contact_sync_parse_hubspot (const zhub_msg_t *msg, const json_t *data, contact_event_t *event,
                            char *reason, size_t reason_size)
{
    return s_read (s_parse_hubspot, msg, data, event, reason, reason_size);
}

zhub_rc_t
contact_sync_parse_conversation (const zhub_msg_t *msg, const json_t *data, contact_event_t *event,
                                 char *reason, size_t reason_size)
{
    return s_read (s_parse_conversation, msg, data, event, reason, reason_size);
}

contact_route_t
contact_sync_route (const char *topic)
{
    static const struct {
        const char *pattern;
        contact_route_t route;
    } routes[] = {{CONTACT_TOPIC_BIRD, CONTACT_ROUTE_BIRD},
                  {CONTACT_TOPIC_HUBSPOT, CONTACT_ROUTE_HUBSPOT},
                  {CONTACT_TOPIC_CONVERSATION, CONTACT_ROUTE_CONVERSATION},
                  {CONTACT_TOPIC_RECONCILE, CONTACT_ROUTE_RECONCILE},
                  {CONTACT_TOPIC_ERASE, CONTACT_ROUTE_ERASE}};
    for (size_t i = 0; topic && i < sizeof routes / sizeof routes[0]; i++)
        if (zhub_topic_match (routes[i].pattern, topic))
            return routes[i].route;
    return CONTACT_ROUTE_NONE;
}

//  -------------------------------------------------------------------
//  Lifecycle

void
contact_lifecycle_clear (contact_lifecycle_t *event)
{
    if (!event)
        return;
    free (event->object_id);
    free (event->primary_id);
    free (event->new_id);
    for (size_t i = 0; i < event->merged_count; i++)
        free (event->merged_ids[i]);
    memset (event, 0, sizeof *event);
}

zhub_rc_t
contact_sync_parse_lifecycle (const char *topic, const json_t *data, contact_lifecycle_t *event,
                              char *reason, size_t reason_size)
{
    memset (event, 0, sizeof *event);
    const char *type = contact_sync_hubspot_type (topic, &data);
    //  contact.privacyDeletion is not a lifecycle change but an erase
    //  (contact_sync_parse_privacy): the person's data must go, not just the link.
    if (!type || (strcmp (type, "contact.merge") && strcmp (type, "contact.deletion")))
        return ZHUB_NOTFOUND;
    event->merge = !strcmp (type, "contact.merge");
    if (!event->merge) {
        event->object_id = contact_sync_json_id (json_object_get (data, "objectId"));
        if (!event->object_id) {
            contact_sync_reason (reason, reason_size, "%s without objectId", type);
            return ZHUB_REJECT;
        }
        return ZHUB_OK;
    }
    event->primary_id = contact_sync_json_id (json_object_get (data, "primaryObjectId"));
    event->new_id = contact_sync_json_id (json_object_get (data, "newObjectId"));
    size_t i;
    json_t *id;
    json_array_foreach (json_object_get (data, "mergedObjectIds"), i, id)
    {
        char *text = contact_sync_json_id (id);
        if (text && event->merged_count < CONTACT_MAX_MERGED)
            event->merged_ids[event->merged_count++] = text;
        else
            free (text);
    }
    if (!event->primary_id || !event->merged_count) {
        contact_sync_reason (reason, reason_size,
                             "contact.merge without primaryObjectId or mergedObjectIds");
        contact_lifecycle_clear (event);
        return ZHUB_REJECT;
    }
    if (!event->new_id)
        event->new_id = zhub_strdup (event->primary_id);
    return ZHUB_OK;
}

void
contact_sync_apply_merge (const contact_lifecycle_t *merge, contact_state_t *states, size_t count)
{
    size_t keep = count;
    for (size_t i = 0; i < count; i++)
        if (states[i].hubspot_id && !strcmp (states[i].hubspot_id, merge->primary_id))
            keep = i;
    if (keep == count)
        keep = 0;
    for (size_t i = 0; i < count; i++) {
        if (i == keep) {
            contact_sync_set (&states[i].hubspot_id, merge->new_id);
            contact_sync_set (&states[i].unlinked, NULL);
        } else {
            char *why = zhub_sprintf ("merged into %s", merge->new_id);
            contact_sync_set (&states[i].hubspot_id, NULL);
            contact_sync_set (&states[i].unlinked, why);
            free (why);
        }
    }
}

void
contact_sync_apply_deletion (contact_state_t *state)
{
    contact_sync_set (&state->hubspot_id, NULL);
    contact_sync_set (&state->unlinked, "deleted in HubSpot");
}

json_t *
contact_sync_relink_entry (const contact_lifecycle_t *event, const contact_state_t *state,
                           const char *old_id, int64_t time_ms, const char *event_id)
{
    char stamp[40];
    zhub_time_format (time_ms, stamp, sizeof stamp);
    json_t *entry = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "actor", CONTACT_SYNC_GROUP,
                               "object", "contact", "field", "hubspot_contact_id", "winner",
                               "hubspot", "hubspot_time", stamp, "decision",
                               !event->merge       ? "deleted_in_hubspot"
                               : state->hubspot_id ? "merged"
                                                   : "unlinked_by_merge");
    contact_sync_put (entry, "old", old_id);
    contact_sync_put (entry, "new", state->hubspot_id);
    contact_sync_put (entry, "event_id", event_id);
    return entry;
}

//  -------------------------------------------------------------------
//  contact.synced

zhub_msg_t *
contact_sync_synced_msg (const contact_plan_t *plan, const char *id_of, const char *cause_id,
                         const char *traceparent, int64_t now_ms, char *reason, size_t reason_size)
{
    char id[64];
    if (zhub_id_derive (id, sizeof id, "cs-", id_of ? id_of : "", 16)) {
        contact_sync_reason (reason, reason_size, "contact.synced: no id");
        return NULL;
    }
    zhub_contact_synced_t ev = {.bird_contact_id = plan->next.bird_id,
                                .hubspot_contact_id = plan->next.hubspot_id,
                                .changed = (char **)plan->changed,
                                .changed_count = plan->changed_count,
                                .direction = (char *)plan->direction,
                                .cause_id = (char *)cause_id};
    return zhub_contact_synced_msg (&ev, id, traceparent, now_ms, reason, reason_size);
}
