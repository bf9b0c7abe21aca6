//  contact-sync's read side for `zhub status contact`: where one person
//  stands in contact-sync — synced, pending and why, when last synced,
//  their HubSpot and Bird ids. The CLI opens contact-sync's store
//  read-only beside the running actor (LMDB serves readers in other
//  processes; docs/adr/0004) and reads through this header only; this
//  file reads through the store's read side (contact_sync_store.h), which
//  alone knows the tables.
#ifndef CONTACT_SYNC_STATUS_H
#define CONTACT_SYNC_STATUS_H

#include "contact_sync.h"
#include "contact_sync_store.h"

#include <jansson.h>

#define CONTACT_STATUS_MAX_PERSONS 8 //  matches of one phone or e-mail shown

typedef struct {
    contact_sync_store_t store; //  opened read-only
} contact_sync_reader_t;

//  Opens $data_dir/contact-sync read-only. ZHUB_OK; ZHUB_NOTFOUND when
//  contact-sync never ran there (nothing created); ZHUB_ERROR with err.
zhub_rc_t contact_sync_reader_open (contact_sync_reader_t *self, const char *data_dir, char *err,
                                    size_t err_size);

//  Closes what open opened; NULL-safe, idempotent.
void contact_sync_reader_close (contact_sync_reader_t *self);

//  Appends to persons (a JSON array) one object per person the identifier
//  names (a Bird contact id, a HubSpot contact id, a phone or an e-mail;
//  contact_sync_erase_classify reads it), at most
//  CONTACT_STATUS_MAX_PERSONS, each as contact_sync_person_status gives
//  it. ZHUB_OK (also when nobody matches) or ZHUB_ERROR.
zhub_rc_t contact_sync_reader_find (const contact_sync_reader_t *self, const char *identifier,
                                    json_t *persons);

//  Pure: one person's standing, from their state, their queued HubSpot
//  write (the store's intent, or NULL) and the HubSpot id still to
//  write onto their Bird contact (or NULL). A fresh object:
//    {"bird_contact_id", "hubspot_contact_id"?, "name"?, "phone"?, "email"?,
//     "status": "synced" | "pending" | "unlinked",
//     "reason"? (why pending or unlinked), "last_sync"? (RFC 3339),
//     "pending"? {"since", "fields": [...], "code"?, "flushes"?},
//     "bird_link_pending"? (the HubSpot id Bird's record does not carry yet)}
//  pending when a HubSpot write is queued (reason: HubSpot's answer when a
//  flush deferred it, else the batch window) or when no HubSpot record is
//  linked yet; unlinked when HubSpot deleted or merged the record away.
json_t *contact_sync_person_status (const contact_state_t *state, const contact_intent_t *pending,
                                    const char *link_pending);

#endif
