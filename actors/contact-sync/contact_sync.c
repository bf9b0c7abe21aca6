//  contact-sync's pure core (see contact_sync.h for the flow). Everything
//  here is a function of its arguments: no clock, no store, no network, so
//  the unit tests feed it samples and compare the plans it returns with
//  what HubSpot and Bird should receive.
//
//  Inputs come from outside (webhooks, API answers) and are treated as
//  untrusted: every field is type-checked, missing or odd fields make the
//  event "not for us" or a REJECT with a reason, never a crash.
#include "contact_sync.h"
#include "zhub_http.h"
#include "zhub_retry.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DIR_BIRD_TO_HUBSPOT "bird_to_hubspot"
#define DIR_HUBSPOT_TO_BIRD "hubspot_to_bird"

//  -------------------------------------------------------------------
//  Small helpers

static bool
s_empty (const char *text)
{
    return !text || !*text;
}

//  Equality where NULL and "" are the same (an absent value).
static bool
s_same (const char *a, const char *b)
{
    return !strcmp (a ? a : "", b ? b : "");
}

static void
s_set (char **field, const char *value)
{
    char *copy = zhub_strdup (value);
    free (*field);
    *field = copy;
}

static const char *
s_json_str (const json_t *obj, const char *key)
{
    return json_is_object (obj) ? json_string_value (json_object_get (obj, key)) : NULL;
}

//  A string or integer id as a fresh string, or NULL.
static char *
s_json_id (const json_t *value)
{
    if (json_is_string (value) && json_string_length (value) > 0
        && json_string_length (value) <= ZHUB_MSG_MAX_ID)
        return zhub_strdup (json_string_value (value));
    if (json_is_integer (value) && json_integer_value (value) >= 0)
        return zhub_sprintf ("%lld", (long long)json_integer_value (value));
    if (json_is_real (value) && json_real_value (value) >= 0 && json_real_value (value) < 1e19) {
        //  A uint64 above INT64_MAX arrives as a real from msgpack.
        return zhub_sprintf ("%.0f", json_real_value (value));
    }
    return NULL;
}

static void s_reason (char *reason, size_t size, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_reason (char *reason, size_t size, const char *fmt, ...)
{
    if (!reason || !size)
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (reason, size, fmt, args);
    va_end (args);
}

//  -------------------------------------------------------------------
//  Validation

zhub_rc_t
contact_phone_normalize (const char *text, const char *default_cc, char *out, size_t out_size,
                         char *reason, size_t reason_size)
{
    char digits[64];
    size_t count = 0;
    bool plus = false, seen_digit = false;
    if (s_empty (text)) {
        s_reason (reason, reason_size, "empty phone number");
        return ZHUB_REJECT;
    }
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isdigit (*p)) {
            if (count == sizeof digits - 1) {
                s_reason (reason, reason_size, "phone number too long");
                return ZHUB_REJECT;
            }
            digits[count++] = (char)*p;
            seen_digit = true;
        } else if (*p == '+' && !seen_digit && !plus)
            plus = true;
        else if (*p == ' ' || *p == '\t' || *p == '-' || *p == '(' || *p == ')' || *p == '.'
                 || *p == '/')
            continue;
        else {
            s_reason (reason, reason_size, "not a phone number (unexpected character)");
            return ZHUB_REJECT;
        }
    }
    digits[count] = 0;
    const char *national = digits;
    char intl[80];
    if (plus)
        snprintf (intl, sizeof intl, "%s", digits);
    else if (count > 2 && digits[0] == '0' && digits[1] == '0')
        snprintf (intl, sizeof intl, "%s", digits + 2);
    else if (!s_empty (default_cc)) {
        if (national[0] == '0')
            national++; //  one national trunk prefix
        snprintf (intl, sizeof intl, "%s%s", default_cc, national);
    } else {
        s_reason (reason, reason_size,
                  "phone number without country code (+...) and no default calling code set");
        return ZHUB_REJECT;
    }
    size_t size = strlen (intl);
    //  Mexico: mobiles used to be dialled +52 1 + 10 digits; since 2019 the
    //  "1" is gone and WhatsApp reports numbers without it.
    if (size == 13 && !strncmp (intl, "521", 3))
        memmove (intl + 2, intl + 3, --size - 1);
    if (size < 7 || size > 15 || intl[0] == '0') {
        s_reason (reason, reason_size, "not a phone number (%zu digits; E.164 has 7 to 15)", size);
        return ZHUB_REJECT;
    }
    if (out_size < size + 2) {
        s_reason (reason, reason_size, "phone buffer too small");
        return ZHUB_REJECT;
    }
    out[0] = '+';
    memcpy (out + 1, intl, size + 1);
    return ZHUB_OK;
}

zhub_rc_t
contact_email_normalize (const char *text, char *out, size_t out_size, char *reason,
                         size_t reason_size)
{
    if (s_empty (text)) {
        s_reason (reason, reason_size, "empty e-mail address");
        return ZHUB_REJECT;
    }
    while (*text == ' ' || *text == '\t')
        text++;
    size_t size = strlen (text);
    while (size && (text[size - 1] == ' ' || text[size - 1] == '\t'))
        size--;
    if (size < 3 || size > CONTACT_EMAIL_MAX || size + 1 > out_size) {
        s_reason (reason, reason_size, "not an e-mail address (length)");
        return ZHUB_REJECT;
    }
    const char *at = NULL;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '@') {
            if (at) {
                s_reason (reason, reason_size, "not an e-mail address (two @)");
                return ZHUB_REJECT;
            }
            at = text + i;
        } else if (c <= ' ' || c == 0x7f || strchr ("\"(),:;<>[\\]", c)) {
            s_reason (reason, reason_size, "not an e-mail address (unexpected character)");
            return ZHUB_REJECT;
        }
    }
    size_t local = at ? (size_t)(at - text) : 0;
    if (!at || local == 0 || local > 64 || local == size - 1) {
        s_reason (reason, reason_size, "not an e-mail address (needs local@domain)");
        return ZHUB_REJECT;
    }
    const char *domain = at + 1;
    size_t domain_size = size - local - 1;
    bool dot = false;
    for (size_t i = 0; i < domain_size; i++) {
        if (domain[i] != '.')
            continue;
        dot = true;
        if (i == 0 || i == domain_size - 1 || domain[i + 1] == '.') {
            s_reason (reason, reason_size, "not an e-mail address (empty domain label)");
            return ZHUB_REJECT;
        }
    }
    if (!dot || text[0] == '.' || text[local - 1] == '.') {
        s_reason (reason, reason_size, "not an e-mail address (domain or dots)");
        return ZHUB_REJECT;
    }
    for (size_t i = 0; i < size; i++)
        out[i] = (char)tolower ((unsigned char)text[i]);
    out[size] = 0;
    return ZHUB_OK;
}

char *
contact_name_clean (const char *text)
{
    if (!text)
        return zhub_strdup ("");
    char *out = zhub_malloc (strlen (text) + 1);
    size_t w = 0;
    bool space = false;
    for (const char *p = text; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = w > 0;
            continue;
        }
        if (space)
            out[w++] = ' ';
        space = false;
        out[w++] = *p;
    }
    out[w] = 0;
    return out;
}

void
contact_name_split (const char *display, char **first, char **last)
{
    char *clean = contact_name_clean (display);
    char *space = strchr (clean, ' ');
    if (space) {
        *last = zhub_strdup (space + 1);
        *space = 0;
    } else
        *last = zhub_strdup ("");
    *first = clean;
}

char *
contact_name_join (const char *first, const char *last)
{
    char *joined = zhub_sprintf ("%s %s", first ? first : "", last ? last : "");
    char *clean = contact_name_clean (joined);
    free (joined);
    return clean;
}

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
    if (s_empty (name) || strlen (name) > 100 || !islower ((unsigned char)name[0]))
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
        s_reason (err, err_size, "contact.fields must be a list");
        return -1;
    }
    static const char *core[] = {"email", "phone", "firstname", "lastname", "bird_contact_id"};
    size_t i;
    json_t *item;
    //  Check everything first: a bad file changes nothing.
    json_array_foreach (fields, i, item)
    {
        const char *bird = s_json_str (item, "bird");
        const char *hubspot = s_json_str (item, "hubspot");
        const char *direction = s_json_str (item, "direction");
        bool status = bird && !strcmp (bird, "conversation.status");
        if (!bird || (!status && (strncmp (bird, "attributes.", 11) || !bird[11]))) {
            s_reason (err, err_size,
                      "contact.fields[%zu].bird must be \"attributes.<name>\" or "
                      "\"conversation.status\"",
                      i);
            return -1;
        }
        if (!s_property_name_ok (hubspot)) {
            s_reason (err, err_size,
                      "contact.fields[%zu].hubspot must be a property name (a-z, 0-9, _)", i);
            return -1;
        }
        for (size_t k = 0; k < sizeof core / sizeof core[0]; k++)
            if (!strcmp (hubspot, core[k])) {
                s_reason (err, err_size, "contact.fields[%zu]: %s is mapped already (built in)", i,
                          hubspot);
                return -1;
            }
        if (direction && strcmp (direction, "both") && strcmp (direction, "to_hubspot")
            && strcmp (direction, "to_bird")) {
            s_reason (err, err_size,
                      "contact.fields[%zu].direction must be both, to_hubspot or to_bird", i);
            return -1;
        }
        if (status && direction && strcmp (direction, "to_hubspot")) {
            s_reason (err, err_size,
                      "contact.fields[%zu]: conversation.status can only go to_hubspot", i);
            return -1;
        }
    }
    json_array_foreach (fields, i, item)
    {
        const char *bird = s_json_str (item, "bird");
        const char *direction = s_json_str (item, "direction");
        bool status = !strcmp (bird, "conversation.status");
        if (!direction)
            direction = status ? "to_hubspot" : "both";
        s_add_field (config, bird, s_json_str (item, "hubspot"), strcmp (direction, "to_bird") != 0,
                     strcmp (direction, "to_hubspot") != 0);
    }
    return 0;
}

static const contact_field_map_t *
s_field_of (const contact_sync_config_t *config, const char *hubspot)
{
    for (size_t i = 0; hubspot && i < config->field_count; i++)
        if (!strcmp (config->fields[i].hubspot, hubspot))
            return &config->fields[i];
    return NULL;
}

//  -------------------------------------------------------------------
//  State

void
contact_state_clear (contact_state_t *state)
{
    if (!state)
        return;
    free (state->bird_id);
    free (state->hubspot_id);
    free (state->hubspot.firstname);
    free (state->hubspot.lastname);
    free (state->hubspot.phone);
    free (state->hubspot.email);
    free (state->bird.display_name);
    free (state->bird.phone);
    free (state->bird.email);
    json_decref (state->versions);
    json_decref (state->fields);
    free (state->unlinked);
    memset (state, 0, sizeof *state);
}

void
contact_state_copy (contact_state_t *dst, const contact_state_t *src)
{
    contact_state_clear (dst);
    dst->bird_id = zhub_strdup (src->bird_id);
    dst->hubspot_id = zhub_strdup (src->hubspot_id);
    dst->hubspot.firstname = zhub_strdup (src->hubspot.firstname);
    dst->hubspot.lastname = zhub_strdup (src->hubspot.lastname);
    dst->hubspot.phone = zhub_strdup (src->hubspot.phone);
    dst->hubspot.email = zhub_strdup (src->hubspot.email);
    dst->bird.display_name = zhub_strdup (src->bird.display_name);
    dst->bird.phone = zhub_strdup (src->bird.phone);
    dst->bird.email = zhub_strdup (src->bird.email);
    dst->updated_ms = src->updated_ms;
    dst->versions = src->versions ? json_deep_copy (src->versions) : NULL;
    dst->fields = src->fields ? json_deep_copy (src->fields) : NULL;
    dst->unlinked = zhub_strdup (src->unlinked);
}

//  json_pack "s?" packs NULL as null; we prefer absent keys.
static void
s_put (json_t *obj, const char *key, const char *value)
{
    if (value)
        json_object_set_new (obj, key, json_string (value));
}

char *
contact_state_encode (const contact_state_t *state)
{
    json_t *root = json_object ();
    json_object_set_new (root, "v", json_integer (1));
    s_put (root, "bird_id", state->bird_id);
    s_put (root, "hubspot_id", state->hubspot_id);
    json_t *hubspot = json_object ();
    s_put (hubspot, "firstname", state->hubspot.firstname);
    s_put (hubspot, "lastname", state->hubspot.lastname);
    s_put (hubspot, "phone", state->hubspot.phone);
    s_put (hubspot, "email", state->hubspot.email);
    json_object_set_new (root, "hubspot", hubspot);
    json_t *bird = json_object ();
    s_put (bird, "displayName", state->bird.display_name);
    s_put (bird, "phone", state->bird.phone);
    s_put (bird, "email", state->bird.email);
    json_object_set_new (root, "bird", bird);
    json_object_set_new (root, "updated_ms", json_integer (state->updated_ms));
    if (state->versions)
        json_object_set (root, "versions", state->versions);
    if (state->fields)
        json_object_set (root, "fields", state->fields);
    s_put (root, "unlinked", state->unlinked);
    char *text = json_dumps (root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (root);
    return text;
}

static char *
s_json_strdup (const json_t *obj, const char *key)
{
    return zhub_strdup (s_json_str (obj, key));
}

int
contact_state_decode (const char *text, size_t size, contact_state_t *state)
{
    memset (state, 0, sizeof *state);
    json_t *root = json_loadb (text, size, 0, NULL);
    if (!json_is_object (root) || !s_json_str (root, "bird_id")) {
        json_decref (root);
        return -1;
    }
    state->bird_id = s_json_strdup (root, "bird_id");
    state->hubspot_id = s_json_strdup (root, "hubspot_id");
    json_t *hubspot = json_object_get (root, "hubspot");
    state->hubspot.firstname = s_json_strdup (hubspot, "firstname");
    state->hubspot.lastname = s_json_strdup (hubspot, "lastname");
    state->hubspot.phone = s_json_strdup (hubspot, "phone");
    state->hubspot.email = s_json_strdup (hubspot, "email");
    json_t *bird = json_object_get (root, "bird");
    state->bird.display_name = s_json_strdup (bird, "displayName");
    state->bird.phone = s_json_strdup (bird, "phone");
    state->bird.email = s_json_strdup (bird, "email");
    json_t *updated = json_object_get (root, "updated_ms");
    state->updated_ms = json_is_integer (updated) ? json_integer_value (updated) : 0;
    json_t *versions = json_object_get (root, "versions");
    if (json_is_object (versions))
        state->versions = json_incref (versions);
    json_t *fields = json_object_get (root, "fields");
    if (json_is_object (fields))
        state->fields = json_incref (fields);
    state->unlinked = s_json_strdup (root, "unlinked");
    json_decref (root);
    return 0;
}

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
    if (!key || s_empty (value))
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
        const char *key = s_json_str (item, "key");
        const char *value = s_json_str (item, "value");
        if (!key) {
            key = s_json_str (item, "identifierKey");
            value = s_json_str (item, "identifierValue");
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
static bool
s_read_bird_contact (const json_t *contact, contact_event_t *event)
{
    char *id = s_json_id (json_object_get (contact, "id"));
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
    const char *names[] = {s_json_str (contact, "displayName"),
                           s_json_str (attributes, "displayName"),
                           s_json_str (contact, "computedDisplayName")};
    for (size_t i = 0; i < 3; i++) {
        if (s_empty (names[i]) || s_is_identifier_value (event, names[i]))
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
    char *id = s_json_id (json_object_get (ref, "id"));
    if (!id)
        id = s_json_id (fallback_id);
    if (!id)
        return false;
    free (event->bird_id);
    event->bird_id = id;
    s_add_identifier (event, s_json_str (ref, "identifierKey"),
                      s_json_str (ref, "identifierValue"));
    const char *name = s_json_str (ref, "displayName");
    if (!s_empty (name) && !s_is_identifier_value (event, name))
        event->display_name = contact_name_clean (name);
    event->complete = false;
    return true;
}

static zhub_rc_t
s_parse_bird (const char *topic, const json_t *data, contact_event_t *event)
{
    event->origin = CONTACT_FROM_BIRD;
    const json_t *payload = json_object_get (data, "payload");
    if (!json_is_object (payload))
        payload = data; //  a gateway that unwrapped the envelope
    const char *kind = s_json_str (data, "event");
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
    if (!strncmp (event->kind, "conversation.", 13) && s_json_str (payload, "status"))
        event->conversation_status = s_json_strdup (payload, "status");
    const json_t *participants = json_object_get (payload, "featuredParticipants");
    size_t i;
    json_t *participant;
    json_array_foreach (participants, i, participant)
    {
        if (!s_json_str (participant, "type")
            || strcmp (s_json_str (participant, "type"), "contact"))
            continue;
        const json_t *contact = json_object_get (participant, "contact");
        if (!json_is_object (contact))
            contact = participant;
        if (s_read_contact_ref (contact, json_object_get (participant, "id"), event))
            return ZHUB_OK;
    }
    //  Contact events: the payload is the contact (or holds it).
    const json_t *contact = json_object_get (payload, "contact");
    if (json_is_object (contact) && s_read_bird_contact (contact, event))
        return ZHUB_OK;
    if (json_object_get (payload, "featuredIdentifiers") || json_object_get (payload, "identifiers")
        || json_object_get (payload, "computedDisplayName")) {
        if (s_read_bird_contact (payload, event))
            return ZHUB_OK;
    }
    return ZHUB_NOTFOUND;
}

static zhub_rc_t
s_parse_hubspot (const char *topic, const json_t *data, contact_event_t *event, char *reason,
                 size_t reason_size)
{
    event->origin = CONTACT_FROM_HUBSPOT;
    if (json_is_array (data) && json_array_size (data) == 1)
        data = json_array_get (data, 0); //  an unsplit batch of one
    const char *type = s_json_str (data, "subscriptionType");
    if (!type)
        type = s_json_str (data, "eventType");
    if (!type)
        type = topic + strlen ("webhook.hubspot.");
    if (strcmp (type, "contact.creation") && strcmp (type, "contact.propertyChange"))
        return ZHUB_NOTFOUND;
    event->kind = zhub_strdup (type);
    event->hubspot_id = s_json_id (json_object_get (data, "objectId"));
    if (!event->hubspot_id) {
        s_reason (reason, reason_size, "HubSpot %s event without objectId", type);
        return ZHUB_REJECT;
    }
    if (!strcmp (type, "contact.propertyChange")) {
        event->property_name = s_json_strdup (data, "propertyName");
        const json_t *value = json_object_get (data, "propertyValue");
        if (json_is_string (value))
            event->property_value = zhub_strdup (json_string_value (value));
        if (!event->property_name) {
            s_reason (reason, reason_size, "HubSpot propertyChange without propertyName");
            return ZHUB_REJECT;
        }
    }
    return ZHUB_OK;
}

zhub_rc_t
contact_sync_parse_json (const char *topic, const json_t *data, contact_event_t *event,
                         char *reason, size_t reason_size)
{
    memset (event, 0, sizeof *event);
    zhub_rc_t rc = ZHUB_NOTFOUND;
    if (!topic || !(json_is_object (data) || json_is_array (data))) {
        s_reason (reason, reason_size, "message data is not an object");
        return ZHUB_REJECT;
    }
    if (!strncmp (topic, "webhook.bird.", 13))
        rc = s_parse_bird (topic, data, event);
    else if (!strncmp (topic, "webhook.hubspot.contact.", 24))
        rc = s_parse_hubspot (topic, data, event, reason, reason_size);
    else if (!strcmp (topic, "conversation.started")) {
        event->origin = CONTACT_FROM_BIRD;
        event->kind = zhub_strdup (topic);
        event->bird_id = s_json_id (json_object_get (data, "bird_contact_id"));
        const char *status = s_json_str (data, "status");
        event->conversation_status = zhub_strdup (status ? status : "active");
        if (event->bird_id)
            rc = ZHUB_OK;
        else {
            s_reason (reason, reason_size, "conversation.started without bird_contact_id");
            rc = ZHUB_REJECT;
        }
    }
    if (rc == ZHUB_NOTFOUND)
        s_reason (reason, reason_size, "no contact in %s", topic);
    if (rc != ZHUB_OK)
        contact_event_clear (event);
    return rc;
}

zhub_rc_t
contact_sync_parse (const zhub_msg_t *msg, contact_event_t *event, char *reason, size_t reason_size)
{
    json_t *data = zhub_msg_data_json (msg);
    zhub_rc_t rc = contact_sync_parse_json (msg->type, data, event, reason, reason_size);
    json_decref (data);
    if (rc == ZHUB_OK) {
        event->time_ms = msg->time_ms;
        event->event_id = zhub_strdup (msg->id);
    }
    return rc;
}

//  -------------------------------------------------------------------
//  Plans

void
contact_plan_init (contact_plan_t *plan)
{
    memset (plan, 0, sizeof *plan);
}

static void
s_call_clear (contact_call_t *call)
{
    free (call->path);
    if (call->body)
        json_decref (call->body);
    memset (call, 0, sizeof *call);
}

void
contact_plan_clear (contact_plan_t *plan)
{
    if (!plan)
        return;
    s_call_clear (&plan->call);
    contact_state_clear (&plan->next);
    if (plan->hubspot_properties)
        json_decref (plan->hubspot_properties);
    json_decref (plan->audit);
    memset (plan, 0, sizeof *plan);
}

static void s_plan_reason (contact_plan_t *plan, contact_plan_kind_t kind, uint32_t code,
                           const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

static void
s_plan_reason (contact_plan_t *plan, contact_plan_kind_t kind, uint32_t code, const char *fmt, ...)
{
    s_call_clear (&plan->call);
    plan->kind = kind;
    plan->code = code;
    va_list args;
    va_start (args, fmt);
    vsnprintf (plan->reason, sizeof plan->reason, fmt, args);
    va_end (args);
}

static void
s_plan_call (contact_plan_t *plan, contact_plan_kind_t kind, contact_api_t api, contact_op_t op,
             const char *method, char *path, json_t *body, const char *what)
{
    s_call_clear (&plan->call);
    plan->kind = kind;
    plan->call = (contact_call_t){
        .api = api, .op = op, .method = method, .path = path, .body = body, .what = what};
}

static void
s_changed (contact_plan_t *plan, const char *field)
{
    for (size_t i = 0; i < plan->changed_count; i++)
        if (!strcmp (plan->changed[i], field))
            return;
    if (plan->changed_count < CONTACT_MAX_CHANGED)
        plan->changed[plan->changed_count++] = field;
}

//  Field-level last-writer-wins. A change of `field` from `side` at the
//  event's time may be written unless the value both sides agree on is
//  newer, or as new and from HubSpot (a tie goes to HubSpot). Either way
//  the decision is appended to plan->audit; a win also moves the field's
//  version in plan->next. old is the value the change replaces (the other
//  side's, as far as we know), new the changed value.
static bool
s_lww (contact_plan_t *plan, const contact_state_t *known, const contact_event_t *event,
       const char *field, const char *side, const char *old, const char *new)
{
    const json_t *version = known->versions ? json_object_get (known->versions, field) : NULL;
    const json_t *ms_value = json_object_get (version, "ms");
    int64_t current_ms = json_is_integer (ms_value) ? json_integer_value (ms_value) : -1;
    const char *current_side = s_json_str (version, "side");
    int64_t t = event->time_ms;
    const char *decision = "applied";
    if (current_ms > t)
        decision = "older_than_current";
    else if (current_ms == t && current_side && !strcmp (current_side, "hubspot")
             && strcmp (side, "hubspot"))
        decision = "tie_hubspot_wins";
    bool wins = !strcmp (decision, "applied");

    if (!plan->audit)
        plan->audit = json_array ();
    char stamp[40];
    json_t *entry = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "actor", CONTACT_SYNC_GROUP, "object",
                               "contact", "field", field, "decision", decision, "winner",
                               wins ? side : (current_side ? current_side : "hubspot"));
    s_put (entry, "old", old);
    s_put (entry, "new", new);
    s_put (entry, "event_id", event->event_id);
    s_put (entry, "bird_contact_id", known->bird_id ? known->bird_id : event->bird_id);
    zhub_time_format (t, stamp, sizeof stamp);
    json_object_set_new (entry, !strcmp (side, "bird") ? "bird_time" : "hubspot_time",
                         json_string (stamp));
    if (current_ms >= 0 && current_side && strcmp (current_side, side)) {
        zhub_time_format (current_ms, stamp, sizeof stamp);
        json_object_set_new (entry, !strcmp (current_side, "bird") ? "bird_time" : "hubspot_time",
                             json_string (stamp));
    }
    if (current_ms >= 0) {
        zhub_time_format (current_ms, stamp, sizeof stamp);
        json_object_set_new (entry, "current_time", json_string (stamp));
    }
    json_array_append_new (plan->audit, entry);
    if (wins) {
        if (!plan->next.versions)
            plan->next.versions = json_object ();
        json_object_set_new (plan->next.versions, field,
                             json_pack ("{s:I, s:s}", "ms", (json_int_t)t, "side", side));
    }
    return wins;
}

//  What one side holds of a mapped field, as far as we know (or NULL).
static const char *
s_field_known (const contact_state_t *state, const char *hubspot, const char *side)
{
    return state && state->fields ? s_json_str (json_object_get (state->fields, hubspot), side)
                                  : NULL;
}

static void
s_field_set (contact_state_t *state, const char *hubspot, const char *side, const char *value)
{
    if (!state->fields)
        state->fields = json_object ();
    json_t *entry = json_object_get (state->fields, hubspot);
    if (!entry) {
        entry = json_object ();
        json_object_set_new (state->fields, hubspot, entry);
    }
    if (value)
        json_object_set_new (entry, side, json_string (value));
    else
        json_object_del (entry, side);
}

//  The value of a mapped field in a Bird event, as text (fresh) or NULL.
static char *
s_bird_field_value (const contact_event_t *event, const contact_field_map_t *field)
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
        s_reason (reason, reason_size, "%s", first_reason);
        return ZHUB_REJECT;
    }
    return ZHUB_OK;
}

//  Bird -> HubSpot, once the Bird side of the contact is known.
static void
s_plan_bird_to_hubspot (const contact_event_t *event, const contact_state_t *state,
                        const contact_sync_config_t *config, contact_plan_t *plan)
{
    plan->direction = DIR_BIRD_TO_HUBSPOT;
    char phone[CONTACT_PHONE_MAX + 1], email[CONTACT_EMAIL_MAX + 1], why[200];
    if (s_pick_identifier (event->phones, event->phone_count, state ? state->bird.phone : NULL,
                           true, config, phone, sizeof phone, why, sizeof why)
        != ZHUB_OK) {
        s_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_INVALID_PHONE, "bird contact %s: %s",
                       event->bird_id, why);
        return;
    }
    if (s_pick_identifier (event->emails, event->email_count, state ? state->bird.email : NULL,
                           false, config, email, sizeof email, why, sizeof why)
        != ZHUB_OK) {
        s_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_INVALID_EMAIL, "bird contact %s: %s",
                       event->bird_id, why);
        return;
    }
    char *name = contact_name_clean (event->display_name);
    contact_state_t empty = {0};
    const contact_state_t *known = state ? state : &empty;

    //  The next state starts from what we knew; Bird's side becomes what
    //  we just read, HubSpot's side gains what we write.
    contact_state_t *next = &plan->next;
    contact_state_copy (next, known);
    s_set (&next->bird_id, event->bird_id);
    if (*name)
        s_set (&next->bird.display_name, name);
    if (*phone)
        s_set (&next->bird.phone, phone);
    if (*email)
        s_set (&next->bird.email, email);

    json_t *props = json_object ();
    if (*name && !s_same (name, known->bird.display_name)) {
        char *first, *last;
        contact_name_split (name, &first, &last);
        char *hubspot_name = contact_name_join (known->hubspot.firstname, known->hubspot.lastname);
        bool differs =
            !s_same (first, known->hubspot.firstname) || !s_same (last, known->hubspot.lastname);
        if (differs
            && s_lww (plan, known, event, "name", "bird", *hubspot_name ? hubspot_name : NULL,
                      name)) {
            if (!s_same (first, known->hubspot.firstname)) {
                json_object_set_new (props, "firstname", json_string (first));
                s_set (&next->hubspot.firstname, first);
                s_changed (plan, "firstname");
            }
            //  A one-word name clears an old last name only when we had
            //  synced one; a first sync never writes an empty value.
            if (!s_same (last, known->hubspot.lastname)) {
                json_object_set_new (props, "lastname", json_string (last));
                s_set (&next->hubspot.lastname, last);
                s_changed (plan, "lastname");
            }
        } else if (differs)
            s_set (&next->bird.display_name, known->bird.display_name); //  a stale value
        free (hubspot_name);
        free (first);
        free (last);
    }
    if (*phone && !s_same (phone, known->bird.phone) && !s_same (phone, known->hubspot.phone)) {
        if (s_lww (plan, known, event, "phone", "bird", known->hubspot.phone, phone)) {
            json_object_set_new (props, "phone", json_string (phone));
            s_set (&next->hubspot.phone, phone);
            s_changed (plan, "phone");
        } else
            s_set (&next->bird.phone, known->bird.phone);
    }
    if (*email && !s_same (email, known->bird.email) && !s_same (email, known->hubspot.email)) {
        if (s_lww (plan, known, event, "email", "bird", known->hubspot.email, email)) {
            json_object_set_new (props, "email", json_string (email));
            s_set (&next->hubspot.email, email);
            s_changed (plan, "email");
        } else
            s_set (&next->bird.email, known->bird.email);
    }
    for (size_t i = 0; i < config->field_count; i++) {
        const contact_field_map_t *field = &config->fields[i];
        char *value = field->to_hubspot ? s_bird_field_value (event, field) : NULL;
        const char *known_bird = s_field_known (known, field->hubspot, "bird");
        const char *known_hubspot = s_field_known (known, field->hubspot, "hubspot");
        if (value && *value && !s_same (value, known_bird) && !s_same (value, known_hubspot)
            && s_lww (plan, known, event, field->hubspot, "bird", known_hubspot, value)) {
            json_object_set_new (props, field->hubspot, json_string (value));
            s_field_set (next, field->hubspot, "bird", value);
            s_field_set (next, field->hubspot, "hubspot", value);
            s_changed (plan, field->hubspot);
        }
        free (value);
    }
    free (name);

    if (json_object_size (props) == 0) {
        json_decref (props);
        if (plan->audit && state && state->hubspot_id)
            s_plan_reason (plan, CONTACT_PLAN_SKIP, 0,
                           "bird contact %s: HubSpot holds newer values (last writer wins)",
                           event->bird_id);
        else if (state && state->hubspot_id)
            s_plan_reason (plan, CONTACT_PLAN_SKIP, 0,
                           "bird contact %s: HubSpot already has these values", event->bird_id);
        else
            s_plan_reason (plan, CONTACT_PLAN_SKIP, 0,
                           "bird contact %s has no name, phone or e-mail to sync", event->bird_id);
        return;
    }
    json_object_set_new (props, "bird_contact_id", json_string (event->bird_id));
    plan->hubspot_properties = json_deep_copy (props);
    json_t *body = json_pack ("{s:[{s:s, s:s, s:o}]}", "inputs", "id", event->bird_id, "idProperty",
                              "bird_contact_id", "properties", props);
    s_plan_call (plan, CONTACT_PLAN_WRITE, CONTACT_API_HUBSPOT, CONTACT_OP_HUBSPOT_UPSERT, "POST",
                 zhub_strdup ("/crm/v3/objects/contacts/batch/upsert"), body,
                 "hubspot upsert contact");
}

//  True when every identifier the event carries is one we already synced:
//  a message from a known contact brings nothing new worth a fetch.
static bool
s_event_known (const contact_event_t *event, const contact_state_t *state,
               const contact_sync_config_t *config)
{
    if (!state || !state->hubspot_id)
        return false;
    if (event->display_name && !s_same (event->display_name, state->bird.display_name))
        return false;
    for (size_t i = 0; i < event->phone_count; i++) {
        char phone[CONTACT_PHONE_MAX + 1];
        if (contact_phone_normalize (event->phones[i], config->default_calling_code, phone,
                                     sizeof phone, NULL, 0)
                != ZHUB_OK
            || !s_same (phone, state->bird.phone))
            return false;
    }
    for (size_t i = 0; i < event->email_count; i++) {
        char email[CONTACT_EMAIL_MAX + 1];
        if (contact_email_normalize (event->emails[i], email, sizeof email, NULL, 0) != ZHUB_OK
            || !s_same (email, state->bird.email))
            return false;
    }
    //  A conversation status we have not passed on yet is news.
    for (size_t i = 0; i < config->field_count; i++) {
        const contact_field_map_t *field = &config->fields[i];
        char *value = field->to_hubspot ? s_bird_field_value (event, field) : NULL;
        bool news =
            value && *value && !s_same (value, s_field_known (state, field->hubspot, "bird"));
        free (value);
        if (news)
            return false;
    }
    return true;
}

static bool
s_synced_property (const char *name, const contact_sync_config_t *config)
{
    const contact_field_map_t *field = s_field_of (config, name);
    return !strcmp (name, "firstname") || !strcmp (name, "lastname") || !strcmp (name, "phone")
           || !strcmp (name, "email") || (field && field->to_bird);
}

//  The value HubSpot's side holds for a property, as far as we know.
static const char *
s_known_hubspot (const contact_state_t *state, const char *name)
{
    if (!strcmp (name, "firstname"))
        return state->hubspot.firstname;
    if (!strcmp (name, "lastname"))
        return state->hubspot.lastname;
    if (!strcmp (name, "phone"))
        return state->hubspot.phone;
    if (!strcmp (name, "email"))
        return state->hubspot.email;
    return s_field_known (state, name, "hubspot");
}

//  A propertyChange whose new value is the one we wrote (or last read):
//  our own write coming back.
static bool
s_property_echo (const contact_event_t *event, const contact_state_t *state,
                 const contact_sync_config_t *config)
{
    if (!state || !event->property_name)
        return false;
    const char *known = s_known_hubspot (state, event->property_name);
    const char *value = event->property_value;
    char normal[CONTACT_EMAIL_MAX + 2];
    if (!s_empty (value) && !strcmp (event->property_name, "phone")
        && contact_phone_normalize (value, config->default_calling_code, normal, sizeof normal,
                                    NULL, 0)
               == ZHUB_OK)
        value = normal;
    else if (!s_empty (value) && !strcmp (event->property_name, "email")
             && contact_email_normalize (value, normal, sizeof normal, NULL, 0) == ZHUB_OK)
        value = normal;
    return s_same (value, known);
}

void
contact_sync_plan_event (const contact_event_t *event, const contact_state_t *state,
                         const contact_sync_config_t *config, contact_plan_t *plan)
{
    contact_plan_clear (plan);
    if (event->origin == CONTACT_FROM_BIRD) {
        plan->direction = DIR_BIRD_TO_HUBSPOT;
        if (state && state->unlinked) {
            s_plan_reason (plan, CONTACT_PLAN_SKIP, 0,
                           "bird contact %s is unlinked from HubSpot (%s): not synced",
                           event->bird_id, state->unlinked);
            return;
        }
        if (event->complete) {
            s_plan_bird_to_hubspot (event, state, config, plan);
            return;
        }
        if (s_event_known (event, state, config)) {
            s_plan_reason (plan, CONTACT_PLAN_SKIP, 0, "bird contact %s already synced",
                           event->bird_id);
            return;
        }
        char *id = zhub_http_escape (event->bird_id);
        s_plan_call (plan, CONTACT_PLAN_FETCH, CONTACT_API_BIRD, CONTACT_OP_BIRD_GET, "GET",
                     zhub_sprintf ("/contacts/%s", id), NULL, "bird get contact");
        free (id);
        return;
    }
    plan->direction = DIR_HUBSPOT_TO_BIRD;
    if (event->property_name && !s_synced_property (event->property_name, config)) {
        s_plan_reason (plan, CONTACT_PLAN_IGNORE, 0, "property %.64s is not synced",
                       event->property_name);
        return;
    }
    if (s_property_echo (event, state, config)) {
        s_plan_reason (plan, CONTACT_PLAN_SKIP, 0, "hubspot contact %s: %s already synced (echo)",
                       event->hubspot_id, event->property_name);
        return;
    }
    char *id = zhub_http_escape (event->hubspot_id);
    s_plan_call (plan, CONTACT_PLAN_FETCH, CONTACT_API_HUBSPOT, CONTACT_OP_HUBSPOT_GET, "GET",
                 zhub_sprintf ("/crm/v3/objects/contacts/%s?properties=%s", id,
                               config->hubspot_properties ? config->hubspot_properties
                                                          : CONTACT_HUBSPOT_PROPERTIES),
                 NULL, "hubspot get contact");
    free (id);
}

const char *
contact_sync_answer_bird_id (const json_t *answer)
{
    const char *id = s_json_str (json_object_get (answer, "properties"), "bird_contact_id");
    return s_empty (id) ? NULL : id;
}

//  HubSpot -> Bird, from the fetched HubSpot contact.
static void
s_plan_hubspot_to_bird (const contact_event_t *event, const contact_state_t *state,
                        const json_t *answer, const contact_sync_config_t *config,
                        contact_plan_t *plan)
{
    plan->direction = DIR_HUBSPOT_TO_BIRD;
    const json_t *props = json_object_get (answer, "properties");
    char *hubspot_id = s_json_id (json_object_get (answer, "id"));
    if (!hubspot_id)
        hubspot_id = zhub_strdup (event->hubspot_id);
    const char *raw_phone = s_json_str (props, "phone");
    const char *raw_email = s_json_str (props, "email");
    char phone[CONTACT_PHONE_MAX + 1] = "", email[CONTACT_EMAIL_MAX + 1] = "", why[200];
    if (!s_empty (raw_phone)
        && contact_phone_normalize (raw_phone, config->default_calling_code, phone, sizeof phone,
                                    why, sizeof why)
               != ZHUB_OK) {
        s_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_INVALID_PHONE,
                       "hubspot contact %s: %s", hubspot_id, why);
        free (hubspot_id);
        return;
    }
    if (!s_empty (raw_email)
        && contact_email_normalize (raw_email, email, sizeof email, why, sizeof why) != ZHUB_OK) {
        s_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_INVALID_EMAIL,
                       "hubspot contact %s: %s", hubspot_id, why);
        free (hubspot_id);
        return;
    }
    if (!*phone && !*email) {
        s_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_NO_IDENTIFIER,
                       "hubspot contact %s has no phone and no email to find it in Bird",
                       hubspot_id);
        free (hubspot_id);
        return;
    }
    char *first = contact_name_clean (s_json_str (props, "firstname"));
    char *last = contact_name_clean (s_json_str (props, "lastname"));
    char *display = contact_name_join (first, last);
    const char *linked = contact_sync_answer_bird_id (answer);
    contact_state_t empty = {0};
    const contact_state_t *known = state ? state : &empty;

    contact_state_t *next = &plan->next;
    contact_state_copy (next, known);
    s_set (&next->hubspot_id, hubspot_id);
    s_set (&next->unlinked, NULL); //  HubSpot names this contact again
    if (linked)
        s_set (&next->bird_id, linked);
    s_set (&next->hubspot.firstname, *first ? first : NULL);
    s_set (&next->hubspot.lastname, *last ? last : NULL);
    s_set (&next->hubspot.phone, *phone ? phone : NULL);
    s_set (&next->hubspot.email, *email ? email : NULL);

    json_t *body = json_object ();
    json_t *add = json_array ();
    bool name_changed =
        !s_same (first, known->hubspot.firstname) || !s_same (last, known->hubspot.lastname);
    if (*display && name_changed && !s_same (display, known->bird.display_name)) {
        if (s_lww (plan, known, event, "name", "hubspot", known->bird.display_name, display)) {
            json_object_set_new (body, "displayName", json_string (display));
            s_set (&next->bird.display_name, display);
            s_changed (plan, "displayName");
        } else {
            //  An older change: what we knew of HubSpot stays, so a later
            //  event compares against it again.
            s_set (&next->hubspot.firstname, known->hubspot.firstname);
            s_set (&next->hubspot.lastname, known->hubspot.lastname);
        }
    }
    bool phone_new =
        *phone && !s_same (phone, known->hubspot.phone) && !s_same (phone, known->bird.phone);
    bool email_new =
        *email && !s_same (email, known->hubspot.email) && !s_same (email, known->bird.email);
    if (phone_new && !s_lww (plan, known, event, "phone", "hubspot", known->bird.phone, phone)) {
        phone_new = false;
        s_set (&next->hubspot.phone, known->hubspot.phone);
    }
    if (email_new && !s_lww (plan, known, event, "email", "hubspot", known->bird.email, email)) {
        email_new = false;
        s_set (&next->hubspot.email, known->hubspot.email);
    }
    json_t *attributes = json_object ();
    for (size_t i = 0; i < config->field_count; i++) {
        const contact_field_map_t *field = &config->fields[i];
        const char *value = s_json_str (props, field->hubspot);
        const char *known_bird = s_field_known (known, field->hubspot, "bird");
        const char *known_hubspot = s_field_known (known, field->hubspot, "hubspot");
        if (!field->to_bird || strncmp (field->bird, "attributes.", 11) || s_empty (value)
            || s_same (value, known_hubspot))
            continue;
        if (s_same (value, known_bird)) {
            s_field_set (next, field->hubspot, "hubspot", value);
            continue;
        }
        if (!s_lww (plan, known, event, field->hubspot, "hubspot", known_bird, value))
            continue;
        json_object_set_new (attributes, field->bird + 11, json_string (value));
        s_field_set (next, field->hubspot, "hubspot", value);
        s_field_set (next, field->hubspot, "bird", value);
        s_changed (plan, field->hubspot);
    }
    if (phone_new) {
        s_set (&next->bird.phone, phone);
        s_changed (plan, "phonenumber");
    }
    if (email_new) {
        s_set (&next->bird.email, email);
        s_changed (plan, "emailaddress");
    }
    bool link_new = !s_same (hubspot_id, known->hubspot_id);
    if (link_new) {
        json_object_set_new (attributes, "hubspot_contact_id", json_string (hubspot_id));
        s_changed (plan, "hubspot_contact_id");
    }
    if (json_object_size (attributes))
        json_object_set_new (body, "attributes", attributes);
    else
        json_decref (attributes);
    //  Which Bird contact: the one we know (or HubSpot names), else upsert
    //  by the phone (WhatsApp's identity), else by the e-mail.
    const char *bird_id = linked ? linked : known->bird_id;
    char *path = NULL;
    const char *path_key = NULL;
    if (bird_id) {
        char *id = zhub_http_escape (bird_id);
        path = zhub_sprintf ("/contacts/%s", id);
        free (id);
    } else {
        path_key = *phone ? "phonenumber" : "emailaddress";
        char *value = zhub_http_escape (*phone ? phone : email);
        path = zhub_sprintf ("/contacts/identifiers/%s/%s", path_key, value);
        free (value);
    }
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
    plan->link_hubspot = !s_same (linked, bird_id) || !linked;

    bool nothing = plan->changed_count == 0;
    free (first);
    free (last);
    free (display);
    if (nothing && bird_id) {
        json_decref (body);
        free (path);
        s_plan_reason (plan, CONTACT_PLAN_SKIP, 0,
                       plan->audit
                           ? "hubspot contact %s: Bird holds newer values (last writer wins)"
                           : "hubspot contact %s: Bird already has these values",
                       hubspot_id);
        free (hubspot_id);
        return;
    }
    free (hubspot_id);
    s_plan_call (plan, CONTACT_PLAN_WRITE, CONTACT_API_BIRD, CONTACT_OP_BIRD_WRITE, "PATCH", path,
                 body, bird_id ? "bird update contact" : "bird upsert contact");
}

void
contact_sync_plan_fetched (const contact_event_t *event, const contact_state_t *state,
                           const json_t *answer, const contact_sync_config_t *config,
                           contact_plan_t *plan)
{
    contact_plan_clear (plan);
    if (!json_is_object (answer)) {
        s_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_BAD_ANSWER,
                       "the fetched contact is not a JSON object");
        return;
    }
    if (event->origin == CONTACT_FROM_HUBSPOT) {
        s_plan_hubspot_to_bird (event, state, answer, config, plan);
        return;
    }
    if (state && state->unlinked) {
        s_plan_reason (plan, CONTACT_PLAN_SKIP, 0, "bird contact is unlinked from HubSpot (%s)",
                       state->unlinked);
        return;
    }
    contact_event_t record = {.origin = CONTACT_FROM_BIRD, .time_ms = event->time_ms};
    if (!s_read_bird_contact (answer, &record)) {
        s_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_BAD_ANSWER,
                       "the fetched Bird contact has no id");
        contact_event_clear (&record);
        return;
    }
    //  What the event itself said, beyond the record: its id, its
    //  conversation's status.
    record.event_id = zhub_strdup (event->event_id);
    record.conversation_status = zhub_strdup (event->conversation_status);
    s_plan_bird_to_hubspot (&record, state, config, plan);
    contact_event_clear (&record);
}

zhub_rc_t
contact_sync_plan_conflict (contact_plan_t *plan, const json_t *answer)
{
    //  HubSpot: "Contact already exists. Existing ID: 501"
    const char *message = s_json_str (answer, "message");
    const char *mark = message ? strstr (message, "Existing ID: ") : NULL;
    char id[32] = "";
    if (mark) {
        mark += strlen ("Existing ID: ");
        size_t n = 0;
        while (n < sizeof id - 1 && isdigit ((unsigned char)mark[n])) {
            id[n] = mark[n];
            n++;
        }
        id[n] = 0;
    }
    if (!*id || plan->call.op != CONTACT_OP_HUBSPOT_UPSERT || !plan->hubspot_properties) {
        s_plan_reason (plan, CONTACT_PLAN_REJECT, 409,
                       "hubspot upsert contact: HTTP 409 without an existing id");
        return ZHUB_REJECT;
    }
    json_t *body = json_pack ("{s:O}", "properties", plan->hubspot_properties);
    s_plan_call (plan, CONTACT_PLAN_WRITE, CONTACT_API_HUBSPOT, CONTACT_OP_HUBSPOT_UPDATE, "PATCH",
                 zhub_sprintf ("/crm/v3/objects/contacts/%s", id), body,
                 "hubspot update existing contact");
    return ZHUB_OK;
}

void
contact_sync_plan_written (contact_plan_t *plan, const json_t *answer)
{
    contact_op_t op = plan->call.op;
    char *id = NULL;
    if (op == CONTACT_OP_BIRD_LINK) {
        s_call_clear (&plan->call);
        plan->kind = CONTACT_PLAN_DONE;
        return;
    }
    if (op == CONTACT_OP_HUBSPOT_UPSERT) {
        const json_t *results = json_object_get (answer, "results");
        id = s_json_id (json_object_get (json_array_get (results, 0), "id"));
    } else
        id = s_json_id (json_object_get (answer, "id"));
    if (!id) {
        s_plan_reason (plan, CONTACT_PLAN_REJECT, ZHUB_REASON_BAD_ANSWER,
                       "%s: the answer carries no record id", plan->call.what);
        return;
    }
    if (op == CONTACT_OP_BIRD_WRITE) {
        s_set (&plan->next.bird_id, id);
        if (plan->link_hubspot && plan->next.hubspot_id) {
            plan->link_hubspot = false;
            char *hid = zhub_http_escape (plan->next.hubspot_id);
            json_t *body = json_pack ("{s:{s:s}}", "properties", "bird_contact_id", id);
            s_plan_call (plan, CONTACT_PLAN_WRITE, CONTACT_API_HUBSPOT, CONTACT_OP_HUBSPOT_LINK,
                         "PATCH", zhub_sprintf ("/crm/v3/objects/contacts/%s", hid), body,
                         "hubspot link contact");
            free (hid);
            free (id);
            return;
        }
    } else if (op == CONTACT_OP_HUBSPOT_UPSERT || op == CONTACT_OP_HUBSPOT_UPDATE) {
        //  A HubSpot id Bird does not know yet goes onto the Bird contact.
        bool new_link = plan->next.bird_id && !s_same (id, plan->next.hubspot_id);
        s_set (&plan->next.hubspot_id, id);
        if (new_link) {
            char *bid = zhub_http_escape (plan->next.bird_id);
            json_t *body = json_pack ("{s:{s:s}}", "attributes", "hubspot_contact_id", id);
            s_plan_call (plan, CONTACT_PLAN_WRITE, CONTACT_API_BIRD, CONTACT_OP_BIRD_LINK, "PATCH",
                         zhub_sprintf ("/contacts/%s", bid), body, "bird link contact");
            free (bid);
            free (id);
            return;
        }
    }
    free (id);
    s_call_clear (&plan->call);
    plan->kind = CONTACT_PLAN_DONE;
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
    if (json_is_array (data) && json_array_size (data) == 1)
        data = json_array_get (data, 0);
    const char *type = s_json_str (data, "subscriptionType");
    if (!type)
        type = s_json_str (data, "eventType");
    if (!type && topic && !strncmp (topic, "webhook.hubspot.", 16))
        type = topic + 16;
    if (!type
        || (strcmp (type, "contact.merge") && strcmp (type, "contact.deletion")
            && strcmp (type, "contact.privacyDeletion")))
        return ZHUB_NOTFOUND;
    event->merge = !strcmp (type, "contact.merge");
    if (!event->merge) {
        event->object_id = s_json_id (json_object_get (data, "objectId"));
        if (!event->object_id) {
            s_reason (reason, reason_size, "%s without objectId", type);
            return ZHUB_REJECT;
        }
        return ZHUB_OK;
    }
    event->primary_id = s_json_id (json_object_get (data, "primaryObjectId"));
    event->new_id = s_json_id (json_object_get (data, "newObjectId"));
    size_t i;
    json_t *id;
    json_array_foreach (json_object_get (data, "mergedObjectIds"), i, id)
    {
        char *text = s_json_id (id);
        if (text && event->merged_count < CONTACT_MAX_MERGED)
            event->merged_ids[event->merged_count++] = text;
        else
            free (text);
    }
    if (!event->primary_id || !event->merged_count) {
        s_reason (reason, reason_size, "contact.merge without primaryObjectId or mergedObjectIds");
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
            s_set (&states[i].hubspot_id, merge->new_id);
            s_set (&states[i].unlinked, NULL);
        } else {
            char *why = zhub_sprintf ("merged into %s", merge->new_id);
            s_set (&states[i].hubspot_id, NULL);
            s_set (&states[i].unlinked, why);
            free (why);
        }
    }
}

void
contact_sync_apply_deletion (contact_state_t *state)
{
    s_set (&state->hubspot_id, NULL);
    s_set (&state->unlinked, "deleted in HubSpot");
}

//  -------------------------------------------------------------------
//  contact.synced

void
contact_sync_synced_id (const char *input_id, char *out, size_t out_size)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (hash, (const unsigned char *)input_id, strlen (input_id));
    char hex[2 * 16 + 1];
    sodium_bin2hex (hex, sizeof hex, hash, 16);
    snprintf (out, out_size, "cs-%s", hex);
}

zhub_msg_t *
contact_sync_synced_msg (const zhub_msg_t *input, const contact_plan_t *plan, int64_t now_ms)
{
    char id[64];
    contact_sync_synced_id (input->id ? input->id : "", id, sizeof id);
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, CONTACT_SYNC_SOURCE);
    zhub_msg_set (&msg->type, "contact.synced");
    char *subject = zhub_sprintf ("contact:%s", plan->next.bird_id ? plan->next.bird_id : "");
    zhub_msg_set (&msg->subject, subject);
    free (subject);
    zhub_msg_set (&msg->traceparent, input->traceparent);
    msg->time_ms = now_ms;
    json_t *changed = json_array ();
    for (size_t i = 0; i < plan->changed_count; i++)
        json_array_append_new (changed, json_string (plan->changed[i]));
    json_t *data = json_object ();
    s_put (data, "bird_contact_id", plan->next.bird_id);
    s_put (data, "hubspot_contact_id", plan->next.hubspot_id);
    json_object_set_new (data, "changed", changed);
    s_put (data, "direction", plan->direction);
    s_put (data, "cause_id", input->id);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}
