//  contact-sync core: validation of what Bird and HubSpot send as contact
//  details. Phones become E.164, e-mails are checked and lower-cased,
//  names are cleaned and split or joined; anything that does not pass
//  gives a reason, never a crash, because every value comes from outside.
#include "contact_sync_internal.h"

//  -------------------------------------------------------------------
//  Validation

zhub_rc_t
contact_phone_normalize (const char *text, const char *default_cc, char *out, size_t out_size,
                         char *reason, size_t reason_size)
{
    char digits[64];
    size_t count = 0;
    bool plus = false, seen_digit = false;
    if (contact_sync_empty (text)) {
        contact_sync_reason (reason, reason_size, "empty phone number");
        return ZHUB_REJECT;
    }
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isdigit (*p)) {
            if (count == sizeof digits - 1) {
                contact_sync_reason (reason, reason_size, "phone number too long");
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
            contact_sync_reason (reason, reason_size, "not a phone number (unexpected character)");
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
    else if (!contact_sync_empty (default_cc)) {
        if (national[0] == '0')
            national++; //  one national trunk prefix
        snprintf (intl, sizeof intl, "%s%s", default_cc, national);
    } else {
        contact_sync_reason (
            reason, reason_size,
            "phone number without country code (+...) and no default calling code set");
        return ZHUB_REJECT;
    }
    size_t size = strlen (intl);
    //  Mexico: mobiles used to be dialled +52 1 + 10 digits; since 2019 the
    //  "1" is gone and WhatsApp reports numbers without it.
    if (size == 13 && !strncmp (intl, "521", 3))
        memmove (intl + 2, intl + 3, --size - 1);
    if (size < 7 || size > 15 || intl[0] == '0') {
        contact_sync_reason (reason, reason_size,
                             "not a phone number (%zu digits; E.164 has 7 to 15)", size);
        return ZHUB_REJECT;
    }
    if (out_size < size + 2) {
        contact_sync_reason (reason, reason_size, "phone buffer too small");
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
    if (contact_sync_empty (text)) {
        contact_sync_reason (reason, reason_size, "empty e-mail address");
        return ZHUB_REJECT;
    }
    while (*text == ' ' || *text == '\t')
        text++;
    size_t size = strlen (text);
    while (size && (text[size - 1] == ' ' || text[size - 1] == '\t'))
        size--;
    if (size < 3 || size > CONTACT_EMAIL_MAX || size + 1 > out_size) {
        contact_sync_reason (reason, reason_size, "not an e-mail address (length)");
        return ZHUB_REJECT;
    }
    const char *at = NULL;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '@') {
            if (at) {
                contact_sync_reason (reason, reason_size, "not an e-mail address (two @)");
                return ZHUB_REJECT;
            }
            at = text + i;
        } else if (c <= ' ' || c == 0x7f || strchr ("\"(),:;<>[\\]", c)) {
            contact_sync_reason (reason, reason_size,
                                 "not an e-mail address (unexpected character)");
            return ZHUB_REJECT;
        }
    }
    size_t local = at ? (size_t)(at - text) : 0;
    if (!at || local == 0 || local > 64 || local == size - 1) {
        contact_sync_reason (reason, reason_size, "not an e-mail address (needs local@domain)");
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
            contact_sync_reason (reason, reason_size, "not an e-mail address (empty domain label)");
            return ZHUB_REJECT;
        }
    }
    if (!dot || text[0] == '.' || text[local - 1] == '.') {
        contact_sync_reason (reason, reason_size, "not an e-mail address (domain or dots)");
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
