//  contact-sync's validation: E.164 phone numbers (Mexican numbers
//  included), e-mail shape, display names split and joined with accents
//  kept.
#include "contact_sync.h"
#include "zhub_test.h"

static const char *
s_phone (const char *text, const char *cc)
{
    static char out[CONTACT_PHONE_MAX + 1];
    char reason[200];
    if (contact_phone_normalize (text, cc, out, sizeof out, reason, sizeof reason) != ZHUB_OK)
        return "REJECT";
    return out;
}

static void
test_phone_e164 (void)
{
    CHECK_STR (s_phone ("+3511111111", NULL), "+3511111111");
    CHECK_STR (s_phone ("+1 (555) 123-4567", NULL), "+15551234567");
    CHECK_STR (s_phone ("  +44 20.7946.0958 ", NULL), "+442079460958");
    CHECK_STR (s_phone ("0044 20 7946 0958", NULL), "+442079460958");
    CHECK_STR (s_phone ("+49/30/1234567", NULL), "+49301234567");
}

static void
test_phone_mexico (void)
{
    //  The old mobile "1" after +52 goes: WhatsApp reports +52 55..., and
    //  both spellings must be the same contact.
    CHECK_STR (s_phone ("+52 1 55 1234 5678", NULL), "+525512345678");
    CHECK_STR (s_phone ("+5215512345678", NULL), "+525512345678");
    CHECK_STR (s_phone ("+52 (55) 1234-5678", NULL), "+525512345678");
    CHECK_STR (s_phone ("+52 55 1234 5678", NULL), "+525512345678");
    //  Only the 13-digit form carries the extra "1".
    CHECK_STR (s_phone ("+521234567890", NULL), "+521234567890");
    //  National numbers: only with a configured default calling code.
    CHECK_STR (s_phone ("55 1234 5678", NULL), "REJECT");
    CHECK_STR (s_phone ("55 1234 5678", "52"), "+525512345678");
    CHECK_STR (s_phone ("1 55 1234 5678", "52"), "+525512345678");
    CHECK_STR (s_phone ("07700 900123", "44"), "+447700900123");
}

static void
test_phone_rejects_what_is_not_a_phone (void)
{
    CHECK_STR (s_phone ("", NULL), "REJECT");
    CHECK_STR (s_phone (NULL, NULL), "REJECT");
    CHECK_STR (s_phone ("call me", NULL), "REJECT");
    CHECK_STR (s_phone ("+52 55 1234 5678 ext 12", NULL), "REJECT");
    CHECK_STR (s_phone ("+52+55", NULL), "REJECT");
    CHECK_STR (s_phone ("55+1234", NULL), "REJECT");
    CHECK_STR (s_phone ("+12345", NULL), "REJECT");
    CHECK_STR (s_phone ("+1234567890123456", NULL), "REJECT");
    CHECK_STR (s_phone ("+0123456789", NULL), "REJECT");
    CHECK_STR (s_phone ("ana@example.com", NULL), "REJECT");
    CHECK_STR (s_phone ("+", NULL), "REJECT");
    char out[4], reason[100];
    CHECK (contact_phone_normalize ("+525512345678", NULL, out, sizeof out, reason, sizeof reason)
           == ZHUB_REJECT);
}

static const char *
s_email (const char *text)
{
    static char out[CONTACT_EMAIL_MAX + 1];
    char reason[200];
    if (contact_email_normalize (text, out, sizeof out, reason, sizeof reason) != ZHUB_OK)
        return "REJECT";
    return out;
}

static void
test_email_shape (void)
{
    CHECK_STR (s_email ("Ana.Perez@Example.COM"), "ana.perez@example.com");
    CHECK_STR (s_email (" a+tag@sub.example.mx "), "a+tag@sub.example.mx");
    CHECK_STR (s_email ("x@y.co"), "x@y.co");
    const char *bad[] = {"",
                         "ana",
                         "ana@",
                         "@example.com",
                         "ana@example",
                         "ana@@example.com",
                         "a@b@c.com",
                         "ana @example.com",
                         "ana@exa mple.com",
                         "ana@.example.com",
                         "ana@example.com.",
                         "ana@example..com",
                         ".ana@example.com",
                         "ana.@example.com",
                         "<ana@example.com>",
                         "ana@example.com,bob@x.com",
                         "ana\n@example.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (strcmp (s_email (bad[i]), "REJECT"))
            fprintf (stderr, "  accepted: '%s'\n", bad[i]);
        CHECK_STR (s_email (bad[i]), "REJECT");
    }
    char longest[300];
    memset (longest, 'a', 250);
    strcpy (longest + 250, "@b.co");
    CHECK_STR (s_email (longest), "REJECT");
}

static void
test_name_split_keeps_accents (void)
{
    char *first, *last;
    contact_name_split ("José María Pérez", &first, &last);
    CHECK_STR (first, "José");
    CHECK_STR (last, "María Pérez");
    free (first);
    free (last);
    contact_name_split ("  Zoë   Ångström-Núñez  ", &first, &last);
    CHECK_STR (first, "Zoë");
    CHECK_STR (last, "Ångström-Núñez");
    free (first);
    free (last);
    contact_name_split ("Cher", &first, &last);
    CHECK_STR (first, "Cher");
    CHECK_STR (last, "");
    free (first);
    free (last);
    contact_name_split (NULL, &first, &last);
    CHECK_STR (first, "");
    CHECK_STR (last, "");
    free (first);
    free (last);
}

static void
test_name_join (void)
{
    char *name = contact_name_join ("José", "María Pérez");
    CHECK_STR (name, "José María Pérez");
    free (name);
    name = contact_name_join ("Ana", NULL);
    CHECK_STR (name, "Ana");
    free (name);
    name = contact_name_join (NULL, " López ");
    CHECK_STR (name, "López");
    free (name);
    name = contact_name_join (NULL, NULL);
    CHECK_STR (name, "");
    free (name);
}

int
main (void)
{
    RUN (test_phone_e164);
    RUN (test_phone_mexico);
    RUN (test_phone_rejects_what_is_not_a_phone);
    RUN (test_email_shape);
    RUN (test_name_split_keeps_accents);
    RUN (test_name_join);
    TEST_EXIT ();
}
