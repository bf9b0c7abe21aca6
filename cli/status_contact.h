//  What `zhub status contact` gathers: where one person stands in every
//  actor that knows them, read from the actors' LMDB environments opened
//  read-only beside the running actors (docs/adr/0004), each through that
//  actor's store header. Printing is cmd_status_contact.c's.
#ifndef ZHUB_STATUS_CONTACT_H
#define ZHUB_STATUS_CONTACT_H

#include <jansson.h>
#include <stdbool.h>

//  Adds to actors (a JSON object, one member per actor that knows the
//  person) what the actors under data_dir know of the person identifier
//  names (a phone, an e-mail, a HubSpot or a Bird contact id):
//    "contact-sync"  {"persons": [contact_sync_person_status objects]}
//    "deal-sync"     {"deals": [{"deal_id", "key", "stage", "stage_since"?,
//                     "hubspot_contact_id"?, "associated"}]}
//    "conversation"  {"conversations": [{"bird_contact_id", "conversation_id",
//                     "open", "channel"?, "holder"?, "started"?, "last_message"?,
//                     "last_inbound"?}]}
//    "scheduler"     {"bookings": [{"booking_id", "status", "start", "end",
//                     "platform", "agent_id", "conversation_id"?,
//                     "confirmation_url"?, "confirmed"}]}
//    "activity-log"  {"contacts": [{"bird_contact_id", "hubspot_contact_id"?,
//                     "hubspot_deal_id"?}], "conversations": [{"conversation_id",
//                     "transcript_note_id"?, "lines", "transcript": "written" |
//                     "waiting" | "not written", "last_message"?, "flush_due"?}]}
//  The Bird ids contact-sync names (or the identifier itself when it can
//  only be a Bird id) key the others. A member already there (another
//  replica's data dir) gets its lists appended. Returns 0, or -1 when a
//  store could not be read (the reason on stderr; what could be read is
//  added).
int zhub_status_contact_gather (const char *data_dir, const char *identifier, json_t *actors);

#endif
