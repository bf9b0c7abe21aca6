//  Test fixture for the GDPR erase: a contact.forget as contact-sync
//  publishes it, read as every actor and the broker read it
//  (zhub_forget_parse). For the tests of code that links proto.
#ifndef ZHUB_TEST_FORGET_H
#define ZHUB_TEST_FORGET_H

#include "zhub_forget.h"

#include <stdio.h>

#define ZHUB_TEST_ANA_PHONE "+5215512345678"
#define ZHUB_TEST_ANA_DIGITS "5215512345678"
#define ZHUB_TEST_ANA_EMAIL "ana@example.com"

//  What contact-sync sends for Ana (Bird b-ana, HubSpot 501).
#define ZHUB_TEST_ANA_FORGET                                                                       \
    "{\"request\":\"r1\",\"bird_contact_id\":\"b-ana\",\"hubspot_contact_id\":\"501\","            \
    "\"phone\":\"" ZHUB_TEST_ANA_PHONE "\",\"email\":\"" ZHUB_TEST_ANA_EMAIL "\","                 \
    "\"identifiers\":[\"b-ana\",\"501\",\"" ZHUB_TEST_ANA_PHONE "\",\"" ZHUB_TEST_ANA_DIGITS       \
    "\",\"" ZHUB_TEST_ANA_EMAIL "\"]}"

//  *f from a contact.forget whose data is data_json (clear it after).
//  ZHUB_OK, or what zhub_forget_parse refused it with.
static inline zhub_rc_t
zhub_test_forget (const char *data_json, zhub_forget_t *f)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, "forget:r1");
    zhub_msg_set (&msg->source, "zhub/contact-sync");
    zhub_msg_set (&msg->type, ZHUB_FORGET_TOPIC);
    zhub_msg_set (&msg->subject, "erase:r1");
    json_t *data = json_loads (data_json, 0, NULL);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    char reason[128] = "";
    zhub_rc_t rc = zhub_forget_parse (msg, f, reason, sizeof reason);
    if (rc != ZHUB_OK)
        fprintf (stderr, "contact.forget refused: %s\n", reason);
    zhub_msg_destroy (&msg);
    return rc;
}

#endif
