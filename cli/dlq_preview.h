//  What an actor would do with a message under a given mapping: the
//  preview `zhub dlq replay --dry-run` and `zhub dlq edit --dry-run` show
//  after the operator fixed the mapping file (or the message). It runs the
//  actors' own pure code, linked in — contact-sync's plan
//  (contact_sync_plan_event) and deal-sync's decision (deal_sync_decide) —
//  with the configuration each builds from the mapping at start, and with
//  what the actor stored about the contact or deal. Pure: the mapping
//  arrives parsed and the stored records through zhub_dlq_lookup_t, so the
//  unit tests feed both; dlq_mapping.c is the I/O around it.
//
//  It is the first step the actor would take, not the whole run: a plan
//  that must first read the contact from Bird or HubSpot says so, and
//  deal-sync reads the deal from HubSpot before it writes (a stage a person
//  set there later still wins). Nothing is called, nothing is written.
#ifndef ZHUB_DLQ_PREVIEW_H
#define ZHUB_DLQ_PREVIEW_H

#include "contact_sync.h"
#include "deal_sync.h"
#include "zhub_common.h"
#include "zhub_msg.h"

#include <jansson.h>

//  Where the preview finds what the actors stored. Either function may be
//  NULL (nothing stored is known).
typedef struct {
    //  contact-sync's state of a contact, by its Bird id or (bird_id NULL)
    //  by its HubSpot id. ZHUB_OK with *state filled (the preview clears
    //  it), ZHUB_NOTFOUND, or ZHUB_ERROR when the store could not be read.
    zhub_rc_t (*contact) (void *arg, const char *bird_id, const char *hubspot_id,
                          contact_state_t *state);
    //  deal-sync's record of the deal under key (deal_sync_key): ZHUB_OK
    //  with deal->id and deal->stage as deal-sync last wrote or saw them
    //  (the preview clears it), ZHUB_NOTFOUND, or ZHUB_ERROR.
    zhub_rc_t (*deal) (void *arg, const char *key, deal_current_t *deal);
    void *arg;
} zhub_dlq_lookup_t;

typedef struct {
    const json_t *mapping;           //  the mapping file's root ({} = built-in defaults)
    const char *mapping_error;       //  the file did not load: why (mapping is then ignored)
    const char *calling_code;        //  contact-sync's default calling code ("52"), or NULL
    const char *calling_code_error;  //  ZHUB_PHONE_DEFAULT_CALLING_CODE is malformed: why
    const zhub_dlq_lookup_t *lookup; //  NULL: nothing stored is known
} zhub_dlq_preview_input_t;

//  What group (the consumer group that dead-lettered msg) would do with
//  msg. A new JSON object:
//    group     the group
//    outcome   "write"       it would write: see call / changes
//              "fetch"       it would first read the contact (call); what it
//                            writes then depends on the answer
//              "skip"        nothing to write (already synced, older ...)
//              "ignore"      not a message it acts on
//              "reject"      it would dead-letter it again (reason, code)
//              "not_mapped"  no mapping applies to this message or group
//              "bad_mapping" the mapping (or the calling code) does not load:
//                            the actor would refuse to start (reason)
//    summary   one line for people
//    reason    (skip, ignore, reject, not_mapped, bad_mapping) why; code: the
//              reason code of a reject
//    call      (contact-sync) the exact call: {api, method, path, what, body?}
//    target    what the changes go to: "HubSpot contact (bird_contact_id b-1)",
//              "HubSpot deal b-1/default" ...
//    changes   [{field, from?, to}]: from is the value the actor last knew
//              on that side (null: none known), absent when it knows
//              nothing about the record
//    kept      [{field, decision, winner?}]: changes it would not write
//              (older_than_current, not_forward, human_newer ...)
//    stored    "found", "none" or "unreadable": the actor's record of the
//              contact or deal the preview started from
//    notes     [text]: what the preview could not know
json_t *zhub_dlq_preview (const char *group, const zhub_msg_t *msg,
                          const zhub_dlq_preview_input_t *input);

//  The preview as text, one indented line per call, change and note:
//    under the mapping in /etc/zhub/mapping.json, contact-sync would write to HubSpot:
//      POST /crm/v3/objects/contacts/batch/upsert (hubspot upsert contact)
//      HubSpot contact 501 (bird_contact_id b-1):
//        company: (none known) -> "15000"
//      not written: phone (older_than_current; the winner is hubspot)
//      note: ...
//  "under ..." names preview's "mapping" (a file name, or null: the
//  built-in mapping) when present; not_mapped and bad_mapping outcomes
//  print their summary alone. Fresh string.
char *zhub_dlq_preview_text (const json_t *preview);

#endif
