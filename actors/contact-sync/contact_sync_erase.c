//  contact-sync core: the pure half of a GDPR erase (contact.erase, and
//  HubSpot's contact.privacyDeletion read as one). It reads the request,
//  decides what the identifier names, tells whether a stored state is that
//  person, strips audit entries down to tombstones, and builds the
//  contact.forget / contact.forgotten messages. The I/O side
//  (contact_sync_erase_io.c) looks the person up, makes the calls and
//  commits.
//
//  The identifiers list of contact.forget is what every other actor and
//  the broker erase on, byte for byte: so it carries every spelling of a
//  phone that may have reached them (with and without "+", and Mexico's
//  mobile numbers with and without the old "1" that WhatsApp drops), not
//  only the normalised one contact-sync keeps. Names are not identifiers:
//  matching on "Ana" would erase other people's records.
#include "contact_sync_internal.h"

#define S_PRIVACY_TYPE "contact.privacyDeletion"

void
contact_erase_clear (contact_erase_t *erase)
{
    if (!erase)
        return;
    free (erase->request);
    free (erase->identifier);
    memset (erase, 0, sizeof *erase);
}

//  -------------------------------------------------------------------
//  Classification

static bool
s_all_digits (const char *text)
{
    if (!*text)
        return false;
    for (const char *p = text; *p; p++)
        if (!isdigit ((unsigned char)*p))
            return false;
    return true;
}

void
contact_sync_erase_classify (const char *identifier, bool hubspot_id, contact_erase_t *erase)
{
    char why[200];
    erase->phone[0] = 0;
    erase->email[0] = 0;
    const char *text = identifier ? identifier : "";
    if (hubspot_id)
        erase->by = CONTACT_ERASE_BY_HUBSPOT;
    else if (strchr (text, '@')) {
        erase->by = CONTACT_ERASE_BY_EMAIL;
        if (contact_email_normalize (text, erase->email, sizeof erase->email, why, sizeof why)
            != ZHUB_OK)
            erase->email[0] = 0;
    } else if (text[0] == '+' || s_all_digits (text)) {
        erase->by = text[0] == '+' ? CONTACT_ERASE_BY_PHONE : CONTACT_ERASE_BY_DIGITS;
        //  Digits are a phone typed without its "+", never a national
        //  number: guessing a country could name someone else.
        char *plus = text[0] == '+' ? zhub_strdup (text) : zhub_sprintf ("+%s", text);
        if (contact_phone_normalize (plus, NULL, erase->phone, sizeof erase->phone, why, sizeof why)
            != ZHUB_OK)
            erase->phone[0] = 0;
        free (plus);
    } else
        erase->by = CONTACT_ERASE_BY_BIRD;
}

//  -------------------------------------------------------------------
//  Parsing

//  A request id goes into message ids and audit keys ("erased:<request>|…"):
//  printable, no "|", short enough for "forgotten:contact-sync:<request>".
static bool
s_request_ok (const char *request)
{
    if (contact_sync_empty (request) || strlen (request) > CONTACT_ERASE_REQUEST_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)request; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '|')
            return false;
    return true;
}

//  The identifier without surrounding white space, or NULL when nothing
//  is left or it is too long to be any identifier.
static char *
s_trimmed (const char *text)
{
    if (!text)
        return NULL;
    while (*text == ' ' || *text == '\t')
        text++;
    size_t size = strlen (text);
    while (size && (text[size - 1] == ' ' || text[size - 1] == '\t'))
        size--;
    if (!size || size > ZHUB_MSG_MAX_ID)
        return NULL;
    char *copy = zhub_strdup (text);
    copy[size] = 0;
    for (const unsigned char *p = (const unsigned char *)copy; *p; p++)
        if (*p < ' ' || *p == 0x7f) {
            free (copy);
            return NULL;
        }
    return copy;
}

zhub_rc_t
contact_sync_parse_privacy (const char *topic, const json_t *data, contact_erase_t *erase,
                            char *reason, size_t reason_size)
{
    memset (erase, 0, sizeof *erase);
    const char *type = contact_sync_hubspot_type (topic, &data);
    if (!type || strcmp (type, S_PRIVACY_TYPE))
        return ZHUB_NOTFOUND;
    char *id = contact_sync_json_id (json_object_get (data, "objectId"));
    if (!id || strlen (id) > CONTACT_ERASE_REQUEST_MAX - 16) {
        free (id);
        contact_sync_reason (reason, reason_size, "%s without a usable objectId", S_PRIVACY_TYPE);
        return ZHUB_REJECT;
    }
    erase->request = zhub_sprintf ("hubspot-privacy-%s", id);
    erase->identifier = id;
    erase->privacy = true;
    erase->upstream = false; //  HubSpot has deleted it; Bird keeps its own
    contact_sync_erase_classify (id, true, erase);
    if (!s_request_ok (erase->request)) {
        contact_sync_reason (reason, reason_size, "%s: objectId is not an id", S_PRIVACY_TYPE);
        contact_erase_clear (erase);
        return ZHUB_REJECT;
    }
    return ZHUB_OK;
}

zhub_rc_t
contact_sync_parse_erase (const json_t *data, contact_erase_t *erase, char *reason,
                          size_t reason_size)
{
    memset (erase, 0, sizeof *erase);
    const char *request = contact_sync_json_str (data, "request");
    if (!s_request_ok (request)) {
        contact_sync_reason (reason, reason_size,
                             "contact.erase needs a request id (1 to %d printable bytes, no \"|\")",
                             CONTACT_ERASE_REQUEST_MAX);
        return ZHUB_REJECT;
    }
    char *identifier = s_trimmed (contact_sync_json_str (data, "identifier"));
    if (!identifier) {
        contact_sync_reason (reason, reason_size,
                             "contact.erase needs an identifier (phone, e-mail or id)");
        return ZHUB_REJECT;
    }
    const json_t *upstream = json_object_get (data, "upstream");
    if (upstream && !json_is_boolean (upstream) && !json_is_null (upstream)) {
        free (identifier);
        contact_sync_reason (reason, reason_size, "contact.erase: upstream must be true or false");
        return ZHUB_REJECT;
    }
    erase->request = zhub_strdup (request);
    erase->identifier = identifier;
    erase->upstream = json_is_true (upstream);
    contact_sync_erase_classify (identifier, false, erase);
    return ZHUB_OK;
}

//  -------------------------------------------------------------------
//  Matching

//  A stored phone equals the erase's (E.164) one, also when it was stored
//  in another spelling by an older version.
static bool
s_phone_is (const char *stored, const char *phone)
{
    if (contact_sync_empty (stored) || contact_sync_empty (phone))
        return false;
    if (!strcmp (stored, phone))
        return true;
    char normal[CONTACT_PHONE_MAX + 1], why[200];
    return contact_phone_normalize (stored, NULL, normal, sizeof normal, why, sizeof why) == ZHUB_OK
           && !strcmp (normal, phone);
}

static bool
s_email_is (const char *stored, const char *email)
{
    return !contact_sync_empty (stored) && !contact_sync_empty (email)
           && !strcasecmp (stored, email);
}

bool
contact_sync_erase_matches (const contact_erase_t *erase, const contact_state_t *state)
{
    if (!erase || !state)
        return false;
    switch (erase->by) {
        case CONTACT_ERASE_BY_EMAIL:
            return s_email_is (state->hubspot.email, erase->email)
                   || s_email_is (state->bird.email, erase->email);
        case CONTACT_ERASE_BY_PHONE:
        case CONTACT_ERASE_BY_DIGITS:
            return s_phone_is (state->hubspot.phone, erase->phone)
                   || s_phone_is (state->bird.phone, erase->phone);
        case CONTACT_ERASE_BY_BIRD:
            return state->bird_id && !strcmp (state->bird_id, erase->identifier);
        case CONTACT_ERASE_BY_HUBSPOT:
            return state->hubspot_id && !strcmp (state->hubspot_id, erase->identifier);
    }
    return false;
}

const char *
contact_sync_audit_deleted_link (const json_t *entry, const char *hubspot_id)
{
    const char *field = contact_sync_json_str (entry, "field");
    const char *decision = contact_sync_json_str (entry, "decision");
    const char *old = contact_sync_json_str (entry, "old");
    if (!field || !decision || !old || !hubspot_id || strcmp (field, "hubspot_contact_id")
        || strcmp (decision, "deleted_in_hubspot") || strcmp (old, hubspot_id))
        return NULL;
    return contact_sync_json_str (entry, "bird_contact_id");
}

//  -------------------------------------------------------------------
//  Audit tombstones

json_t *
contact_sync_audit_tombstone (const json_t *entry, const char *request)
{
    //  Kept by name, never by dropping known personal keys: a field a later
    //  version adds to audit entries is gone unless listed here.
    static const char *kept[] = {"time",     "actor",    "object",    "field",        "winner",
                                 "decision", "event_id", "bird_time", "hubspot_time", "ai_time"};
    json_t *tombstone = json_object ();
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        json_t *value = json_object_get (entry, kept[i]);
        if (json_is_string (value))
            json_object_set_new (tombstone, kept[i], json_string (json_string_value (value)));
    }
    json_object_set_new (tombstone, "erased", json_true ());
    contact_sync_put (tombstone, "erase_request", request);
    return tombstone;
}

json_t *
contact_sync_erase_entry (const contact_erase_t *erase, const char *event_id, size_t removed)
{
    json_t *entry =
        json_pack ("{s:s, s:s, s:s, s:s, s:b, s:I, s:b, s:s}", "actor", CONTACT_ERASE_ACTOR,
                   "object", "contact", "field", "*", "decision", "erased", "erased", 1, "removed",
                   (json_int_t)removed, "upstream", erase->upstream, "cause",
                   erase->privacy ? "hubspot contact.privacyDeletion" : "contact.erase");
    contact_sync_put (entry, "erase_request", erase->request);
    contact_sync_put (entry, "event_id", event_id);
    return entry;
}

//  -------------------------------------------------------------------
//  contact.forget and contact.forgotten

static void
s_add_unique (json_t *list, const char *value)
{
    if (contact_sync_empty (value))
        return;
    size_t i;
    json_t *item;
    json_array_foreach (list, i, item)
    {
        if (!strcmp (json_string_value (item), value))
            return;
    }
    json_array_append_new (list, json_string (value));
}

//  A phone as every actor may have stored it: with and without "+" and,
//  for a Mexican mobile (+52 and ten digits), with and without the "1"
//  that numbers carried before 2019 and Bird may still report.
static void
s_add_phone (json_t *list, const char *phone)
{
    if (contact_sync_empty (phone))
        return;
    const char *digits = phone[0] == '+' ? phone + 1 : phone;
    char *plus = zhub_sprintf ("+%s", digits);
    s_add_unique (list, plus);
    s_add_unique (list, digits);
    free (plus);
    size_t size = strlen (digits);
    char other[CONTACT_PHONE_MAX + 4] = "";
    if (size == 12 && !strncmp (digits, "52", 2) && s_all_digits (digits))
        snprintf (other, sizeof other, "521%s", digits + 2);
    else if (size == 13 && !strncmp (digits, "521", 3) && s_all_digits (digits))
        snprintf (other, sizeof other, "52%s", digits + 3);
    if (*other) {
        char *other_plus = zhub_sprintf ("+%s", other);
        s_add_unique (list, other_plus);
        s_add_unique (list, other);
        free (other_plus);
    }
}

static const char *
s_first (const char *a, const char *b)
{
    return !contact_sync_empty (a) ? a : !contact_sync_empty (b) ? b : NULL;
}

json_t *
contact_sync_forget_data (const contact_erase_t *erase, const contact_state_t *states, size_t count)
{
    json_t *data = json_object ();
    json_t *ids = json_array ();
    contact_sync_put (data, "request", erase->request);
    bool hubspot_named = erase->by == CONTACT_ERASE_BY_HUBSPOT
                         || (erase->by == CONTACT_ERASE_BY_DIGITS && erase->hubspot_known);
    if (count) {
        const contact_state_t *first = &states[0];
        contact_sync_put (data, "bird_contact_id", first->bird_id);
        //  A contact HubSpot deleted first keeps no HubSpot id: the
        //  identifier was it.
        contact_sync_put (data, "hubspot_contact_id",
                          s_first (first->hubspot_id, hubspot_named ? erase->identifier : NULL));
        contact_sync_put (data, "phone", s_first (first->bird.phone, first->hubspot.phone));
        contact_sync_put (data, "email", s_first (first->bird.email, first->hubspot.email));
    } else if (erase->by == CONTACT_ERASE_BY_EMAIL)
        contact_sync_put (data, "email", s_first (erase->email, NULL));
    else if (erase->by == CONTACT_ERASE_BY_PHONE || erase->by == CONTACT_ERASE_BY_DIGITS)
        contact_sync_put (data, "phone", s_first (erase->phone, NULL));
    else if (erase->by == CONTACT_ERASE_BY_BIRD)
        contact_sync_put (data, "bird_contact_id", erase->identifier);
    else
        contact_sync_put (data, "hubspot_contact_id", erase->identifier);

    s_add_unique (ids, erase->identifier);
    //  Spellings of a phone only when it is one ("+501" would match records
    //  that have nothing to do with the person); of the typed form only when
    //  it is bare digits, as normalising may have changed them (Mexico's "1").
    if ((erase->by == CONTACT_ERASE_BY_PHONE || erase->by == CONTACT_ERASE_BY_DIGITS)
        && *erase->phone) {
        const char *typed = erase->identifier;
        if (s_all_digits (typed[0] == '+' ? typed + 1 : typed))
            s_add_phone (ids, typed);
        s_add_phone (ids, erase->phone);
    }
    s_add_unique (ids, erase->email);
    for (size_t i = 0; i < count; i++) {
        s_add_unique (ids, states[i].bird_id);
        s_add_unique (ids, states[i].hubspot_id);
        s_add_phone (ids, states[i].bird.phone);
        s_add_phone (ids, states[i].hubspot.phone);
        s_add_unique (ids, states[i].bird.email);
        s_add_unique (ids, states[i].hubspot.email);
    }
    json_object_set_new (data, "identifiers", ids);
    if (erase->upstream)
        json_object_set_new (data, "upstream", json_true ());
    return data;
}

zhub_msg_t *
contact_sync_forget_msg (const zhub_msg_t *input, const contact_erase_t *erase, const json_t *data,
                         int64_t now_ms)
{
    zhub_msg_t *msg = zhub_msg_new ();
    char *text = zhub_sprintf ("forget:%s", erase->request);
    zhub_msg_set (&msg->id, text);
    free (text);
    text = zhub_sprintf ("erase:%s", erase->request);
    zhub_msg_set (&msg->subject, text);
    free (text);
    zhub_msg_set (&msg->source, CONTACT_SYNC_SOURCE);
    zhub_msg_set (&msg->type, ZHUB_FORGET_TOPIC);
    zhub_msg_set (&msg->traceparent, input ? input->traceparent : NULL);
    msg->time_ms = now_ms;
    zhub_msg_set_data_json (msg, data);
    return msg;
}
