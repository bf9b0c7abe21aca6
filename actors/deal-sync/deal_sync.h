//  deal-sync's pure core: AI conversation stages -> the HubSpot deal
//  pipeline, and a person's stage changes in HubSpot -> Bird. No I/O:
//  every function takes the message, the configuration and what HubSpot
//  answered, and returns the decision. deal_sync_io.c makes the calls.
//
//  Rules:
//    - one deal per Bird contact and pipeline, found and created through
//      the unique deal property zhub_deal_key = "<bird id>/<pipeline>"
//      (batch upsert on it), so a crash or a second replica can never
//      create two deals;
//    - AI stages map to pipeline stages through the configured stage map;
//    - stages move forward only, except to a closed stage (won or lost).
//      "Forward" is the order of the AI stages (lead, qualified,
//      tour_scheduled, tour_completed, application, lease_signed): the
//      default map is not monotonic in HubSpot's own display order
//      (qualifiedtobuy is listed after appointmentscheduled). Stages the
//      map does not name are compared by the pipeline's display order;
//    - a stage a person set in HubSpot after the AI event's time wins: the
//      AI's stage is not written, the other AI properties are, and the
//      skipped update goes to the audit trail. "A person" is any source in
//      the deal's dealstage history other than an integration or the API.
#ifndef DEAL_SYNC_H
#define DEAL_SYNC_H

#include "zhub_common.h"
#include "zhub_forget.h"
#include "zhub_msg.h"

#include <jansson.h>

#define DEAL_SYNC_GROUP "deal-sync"
#define DEAL_SYNC_SOURCE "zhub/deal-sync"
#define DEAL_KEY_PROPERTY "zhub_deal_key"
#define DEAL_MAX_PIPELINE_STAGES 64
#define DEAL_CRM_TOPIC "webhook.hubspot.deal.propertyChange" //  a person's change in HubSpot

//  The AI's stages, in their forward order; the last one is "closed lost".
typedef enum {
    DEAL_AI_LEAD = 0,
    DEAL_AI_QUALIFIED,
    DEAL_AI_TOUR_SCHEDULED,
    DEAL_AI_TOUR_COMPLETED,
    DEAL_AI_APPLICATION,
    DEAL_AI_LEASE_SIGNED,
    DEAL_AI_UNQUALIFIED,
    DEAL_AI_STAGE_COUNT
} deal_ai_stage_t;

//  "lead" ... "unqualified"; NULL for an out-of-range value.
const char *deal_ai_stage_name (int stage);

//  The index of an AI stage name, or -1.
int deal_ai_stage_index (const char *name);

//  -------------------------------------------------------------------
//  Configuration

typedef struct {
    char *id;
    int order;   //  displayOrder
    bool closed; //  metadata.isClosed
} deal_pipeline_stage_t;

typedef struct {
    char *pipeline;                                        //  pipeline id ("default")
    char *stages[DEAL_AI_STAGE_COUNT];                     //  HubSpot stage id per AI stage
    deal_pipeline_stage_t known[DEAL_MAX_PIPELINE_STAGES]; //  from the pipelines API
    size_t known_count;
} deal_sync_config_t;

//  The default stage map: lead->qualifiedtobuy,
//  qualified->appointmentscheduled, tour_scheduled->appointmentscheduled,
//  tour_completed->decisionmakerboughtin, application->contractsent,
//  lease_signed->closedwon, unqualified->closedlost, pipeline "default".
void deal_sync_config_default (deal_sync_config_t *config);

//  Applies the "deal" section of the mapping file (JSON):
//    {"deal": {"pipeline": "default", "stages": {"lead": "qualifiedtobuy", ...}}}
//  Stages not named keep their current value. Returns 0, or -1 with a
//  reason (unknown AI stage, a value that is not a string).
int deal_sync_config_apply (deal_sync_config_t *config, const json_t *root, char *err,
                            size_t err_size);

//  Checks the stage map against HubSpot's deal pipelines (the answer of
//  zhub_hubspot_deal_pipelines): the pipeline must exist and hold every
//  mapped stage. Keeps the pipeline's stages (order, closed) in config.
//  Returns 0, or -1 with a reason.
int deal_sync_config_check (deal_sync_config_t *config, const json_t *pipelines, char *err,
                            size_t err_size);

void deal_sync_config_clear (deal_sync_config_t *config);

//  True when a move from stage `from` (NULL: no deal yet) to `to` is
//  allowed: forward, or to a closed stage; never to the same stage.
bool deal_sync_stage_forward (const deal_sync_config_t *config, const char *from, const char *to);

//  The AI stage whose map gives HubSpot stage `stage` (the first), or NULL.
const char *deal_sync_ai_stage_of (const deal_sync_config_t *config, const char *stage);

//  -------------------------------------------------------------------
//  AI events

typedef struct {
    char *bird_id;
    int stage; //  deal_ai_stage_t, or -1: nothing to move
    char *agent_type;
    char *conversation_id;
    char *property_interest;
    char *tour_date; //  RFC 3339
    int score;       //  0..100, or -1 when absent
    int64_t time_ms; //  the event's time
} deal_ai_event_t;

//  A reader of one AI event: msg is the envelope (its type, subject and
//  time), data its data as JSON, decoded once by the runtime (NULL when it
//  has none: refused). ZHUB_OK with *event filled, ZHUB_NOTFOUND (not the
//  reader's type), or ZHUB_REJECT with a reason. The caller clears event in
//  every case.
typedef zhub_rc_t (deal_ai_reader_fn) (const zhub_msg_t *msg, const json_t *data,
                                       deal_ai_event_t *event, char *reason, size_t reason_size);

//  conversation.stage_changed and qualification.completed (qualified ->
//  "qualified", not qualified -> "unqualified"), read by the catalogue's
//  parser (zhub_ai_stage_parse_data). A Bird id longer than an envelope id
//  is refused.
deal_ai_reader_fn deal_sync_read_ai_stage;

//  tour.scheduled (-> "tour_scheduled", agent "scheduler" unless it names
//  one): the Bird id from data.bird_contact_id, else the subject
//  "contact:<id>"; start must be RFC 3339 text, which goes to HubSpot as
//  tour_scheduled_date as it came. Read here, not by zhub_tour_parse, which
//  refuses a tour without booking_id or end (deal-sync needs neither) and
//  keeps the start only as unix ms.
deal_ai_reader_fn deal_sync_read_tour;

//  The reader of msg's type, for code that holds a message of any type
//  (`zhub dlq`'s preview): deal_sync_read_ai_stage or deal_sync_read_tour;
//  ZHUB_NOTFOUND for a type that is not an AI event deal-sync acts on.
//  The actor's own routes call the reader of their topic.
deal_ai_reader_fn deal_sync_parse_ai;

void deal_ai_event_clear (deal_ai_event_t *event);

//  "<bird id>/<pipeline>" (fresh string): the deal's unique key.
char *deal_sync_key (const char *bird_id, const char *pipeline);

//  The Bird id inside a key made for this pipeline (fresh), or NULL.
char *deal_sync_key_bird_id (const char *key, const char *pipeline);

//  -------------------------------------------------------------------
//  The deal as HubSpot has it

typedef struct {
    char *id;
    char *stage;
    char *key;          //  zhub_deal_key, or NULL
    int64_t human_ms;   //  when a person last set the stage; 0 = never
    char *human_stage;  //  the stage that person set
    char *human_source; //  its sourceType ("CRM_UI")
} deal_current_t;

//  Reads a GET deal answer (properties dealstage, zhub_deal_key;
//  propertiesWithHistory dealstage). Returns 0, or -1 without an id.
int deal_sync_read_deal (const json_t *answer, deal_current_t *deal);

void deal_current_clear (deal_current_t *deal);

//  -------------------------------------------------------------------
//  The decision for an AI event

typedef struct {
    json_t *properties;  //  what to write (owned); never empty
    bool create;         //  no deal yet: the upsert creates it
    bool stage_moves;    //  dealstage is in properties
    const char *from;    //  the stage before (borrowed) or NULL
    const char *to;      //  the AI's target stage (borrowed) or NULL
    const char *skipped; //  why the stage was not written, or NULL:
                         //  "human_newer", "not_forward", "same_stage"
} deal_decision_t;

//  Decides what the AI event writes to the deal (current NULL: none yet).
void deal_sync_decide (const deal_sync_config_t *config, const deal_ai_event_t *event,
                       const deal_current_t *current, deal_decision_t *decision);

void deal_decision_clear (deal_decision_t *decision);

//  One audit entry (JSON text, fresh): field, old, new, winner, both
//  times, the source event id, the decision.
char *deal_sync_audit_entry (const deal_ai_event_t *event, const deal_current_t *current,
                             const deal_decision_t *decision, const char *deal_id,
                             const char *event_id, int64_t now_ms);

//  -------------------------------------------------------------------
//  A person's stage change in HubSpot

typedef struct {
    char *deal_id;
    char *stage;
    char *change_source; //  "CRM_UI", "INTEGRATION", ...
    int64_t time_ms;     //  occurredAt
} deal_crm_change_t;

//  Reads webhook.hubspot.deal.propertyChange. ZHUB_OK for a dealstage
//  change, ZHUB_NOTFOUND for anything else, ZHUB_REJECT when malformed.
zhub_rc_t deal_sync_parse_crm (const char *topic, const json_t *data, deal_crm_change_t *change,
                               char *reason, size_t reason_size);

void deal_crm_change_clear (deal_crm_change_t *change);

//  True for a change made by an integration or the API (ours, or
//  another program's), not by a person.
bool deal_sync_change_is_integration (const char *change_source);

//  -------------------------------------------------------------------
//  The result event

//  deal.stage_changed for input (built by zhub_deal_stage_msg): subject
//  contact:<bird id>, id zhub_id_derive ("ds-", input's id, 16) (a
//  redelivery publishes the same event), data {hubspot_deal_id,
//  hubspot_contact_id, bird_contact_id, stage (HubSpot stage id), ai_stage
//  (or absent), by ("ai" / "crm"), cause_id}. NULL with a reason when the
//  event would break the catalogue (an id too long for it).
zhub_msg_t *deal_sync_stage_msg (const zhub_msg_t *input, const char *deal_id,
                                 const char *contact_id, const char *bird_id, const char *stage,
                                 const char *ai_stage, const char *by, int64_t now_ms, char *reason,
                                 size_t reason_size);

#endif
