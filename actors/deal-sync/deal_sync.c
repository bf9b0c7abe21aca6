//  deal-sync's pure core (see deal_sync.h for the rules). Everything here
//  is a function of its arguments — no clock, no store, no network — so
//  the unit tests feed it events and HubSpot answers and compare the
//  decisions with what HubSpot should receive. Inputs are untrusted:
//  every field is type-checked; odd input gives a status, never a crash.
#include "deal_sync.h"
#include "zhub_events.h"
#include "zhub_id.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_ai_names[DEAL_AI_STAGE_COUNT] = {
    "lead",        "qualified",    "tour_scheduled", "tour_completed",
    "application", "lease_signed", "unqualified"};

static const char *s_default_map[DEAL_AI_STAGE_COUNT] = {"qualifiedtobuy",
                                                         "appointmentscheduled",
                                                         "appointmentscheduled",
                                                         "decisionmakerboughtin",
                                                         "contractsent",
                                                         "closedwon",
                                                         "closedlost"};

const char *
deal_ai_stage_name (int stage)
{
    return stage >= 0 && stage < DEAL_AI_STAGE_COUNT ? s_ai_names[stage] : NULL;
}

int
deal_ai_stage_index (const char *name)
{
    for (int i = 0; name && i < DEAL_AI_STAGE_COUNT; i++)
        if (!strcmp (name, s_ai_names[i]))
            return i;
    return -1;
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

static void
s_set (char **field, const char *value)
{
    char *copy = zhub_strdup (value);
    free (*field);
    *field = copy;
}

static const char *
s_str (const json_t *obj, const char *key)
{
    const char *text = json_is_object (obj) ? json_string_value (json_object_get (obj, key)) : NULL;
    return text && *text ? text : NULL;
}

//  A string or integer id as a fresh string, or NULL.
static char *
s_id (const json_t *value)
{
    if (json_is_string (value) && json_string_length (value) > 0
        && json_string_length (value) <= ZHUB_MSG_MAX_ID)
        return zhub_strdup (json_string_value (value));
    if (json_is_integer (value) && json_integer_value (value) >= 0)
        return zhub_sprintf ("%lld", (long long)json_integer_value (value));
    if (json_is_real (value) && json_real_value (value) >= 0 && json_real_value (value) < 1e19)
        return zhub_sprintf ("%.0f", json_real_value (value));
    return NULL;
}

//  -------------------------------------------------------------------
//  Configuration

void
deal_sync_config_default (deal_sync_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->pipeline = zhub_strdup ("default");
    for (int i = 0; i < DEAL_AI_STAGE_COUNT; i++)
        config->stages[i] = zhub_strdup (s_default_map[i]);
}

void
deal_sync_config_clear (deal_sync_config_t *config)
{
    if (!config)
        return;
    free (config->pipeline);
    for (int i = 0; i < DEAL_AI_STAGE_COUNT; i++)
        free (config->stages[i]);
    for (size_t i = 0; i < config->known_count; i++)
        free (config->known[i].id);
    memset (config, 0, sizeof *config);
}

int
deal_sync_config_apply (deal_sync_config_t *config, const json_t *root, char *err, size_t err_size)
{
    const json_t *deal = json_object_get (root, "deal");
    if (!deal)
        return 0;
    if (!json_is_object (deal)) {
        s_reason (err, err_size, "\"deal\" must be an object");
        return -1;
    }
    const json_t *pipeline = json_object_get (deal, "pipeline");
    if (pipeline && !s_str (deal, "pipeline")) {
        s_reason (err, err_size, "deal.pipeline must be a non-empty string");
        return -1;
    }
    const json_t *stages = json_object_get (deal, "stages");
    if (stages && !json_is_object (stages)) {
        s_reason (err, err_size, "deal.stages must be an object");
        return -1;
    }
    const char *name;
    json_t *value;
    json_object_foreach ((json_t *)stages, name, value)
    {
        if (deal_ai_stage_index (name) < 0) {
            s_reason (err, err_size, "deal.stages: unknown AI stage \"%.64s\"", name);
            return -1;
        }
        if (!json_is_string (value) || !json_string_length (value)) {
            s_reason (err, err_size, "deal.stages.%s must be a stage id", name);
            return -1;
        }
    }
    if (pipeline)
        s_set (&config->pipeline, json_string_value (pipeline));
    json_object_foreach ((json_t *)stages, name, value)
        s_set (&config->stages[deal_ai_stage_index (name)], json_string_value (value));
    return 0;
}

int
deal_sync_config_check (deal_sync_config_t *config, const json_t *pipelines, char *err,
                        size_t err_size)
{
    const json_t *results = json_object_get (pipelines, "results");
    const json_t *found = NULL;
    size_t i;
    json_t *item;
    json_array_foreach (results, i, item)
    {
        const char *id = s_str (item, "id");
        if (id && !strcmp (id, config->pipeline))
            found = item;
    }
    if (!found) {
        s_reason (err, err_size, "HubSpot has no deal pipeline \"%s\"", config->pipeline);
        return -1;
    }
    for (size_t k = 0; k < config->known_count; k++)
        free (config->known[k].id);
    config->known_count = 0;
    json_array_foreach (json_object_get (found, "stages"), i, item)
    {
        const char *id = s_str (item, "id");
        if (!id || config->known_count == DEAL_MAX_PIPELINE_STAGES)
            continue;
        deal_pipeline_stage_t *stage = &config->known[config->known_count++];
        stage->id = zhub_strdup (id);
        const json_t *order = json_object_get (item, "displayOrder");
        stage->order = json_is_integer (order) ? (int)json_integer_value (order) : (int)i;
        const json_t *closed = json_object_get (json_object_get (item, "metadata"), "isClosed");
        stage->closed =
            json_is_true (closed)
            || (json_is_string (closed) && !strcmp (json_string_value (closed), "true"));
    }
    for (int s = 0; s < DEAL_AI_STAGE_COUNT; s++) {
        bool ok = false;
        for (size_t k = 0; k < config->known_count; k++)
            ok |= !strcmp (config->known[k].id, config->stages[s]);
        if (!ok) {
            s_reason (err, err_size,
                      "pipeline \"%s\" has no stage \"%s\" (mapped from AI stage %s)",
                      config->pipeline, config->stages[s], s_ai_names[s]);
            return -1;
        }
    }
    return 0;
}

static const deal_pipeline_stage_t *
s_known (const deal_sync_config_t *config, const char *stage)
{
    for (size_t k = 0; stage && k < config->known_count; k++)
        if (!strcmp (config->known[k].id, stage))
            return &config->known[k];
    return NULL;
}

static bool
s_closed (const deal_sync_config_t *config, const char *stage)
{
    const deal_pipeline_stage_t *known = s_known (config, stage);
    if (known)
        return known->closed;
    return stage
           && (!strcmp (stage, config->stages[DEAL_AI_LEASE_SIGNED])
               || !strcmp (stage, config->stages[DEAL_AI_UNQUALIFIED]));
}

//  The lowest / highest AI rank mapping to stage (closed lost excluded,
//  it is not on the forward path); -1 when none.
static int
s_rank (const deal_sync_config_t *config, const char *stage, bool highest)
{
    int rank = -1;
    for (int i = 0; stage && i < DEAL_AI_UNQUALIFIED; i++)
        if (!strcmp (config->stages[i], stage) && (rank < 0 || highest))
            rank = i;
    return rank;
}

bool
deal_sync_stage_forward (const deal_sync_config_t *config, const char *from, const char *to)
{
    if (!to)
        return false;
    if (!from)
        return true;
    if (!strcmp (from, to))
        return false;
    if (s_closed (config, to))
        return true;
    if (s_closed (config, from))
        return false;
    int from_rank = s_rank (config, from, true), to_rank = s_rank (config, to, false);
    if (from_rank >= 0 && to_rank >= 0)
        return to_rank > from_rank;
    const deal_pipeline_stage_t *a = s_known (config, from), *b = s_known (config, to);
    if (a && b)
        return b->order > a->order;
    return from_rank < 0; //  from a stage we cannot place: let the AI's stage through
}

const char *
deal_sync_ai_stage_of (const deal_sync_config_t *config, const char *stage)
{
    for (int i = 0; stage && i < DEAL_AI_STAGE_COUNT; i++)
        if (!strcmp (config->stages[i], stage))
            return s_ai_names[i];
    return NULL;
}

//  -------------------------------------------------------------------
//  AI events

void
deal_ai_event_clear (deal_ai_event_t *event)
{
    if (!event)
        return;
    free (event->bird_id);
    free (event->agent_type);
    free (event->conversation_id);
    free (event->property_interest);
    free (event->tour_date);
    memset (event, 0, sizeof *event);
    event->stage = -1;
    event->score = -1;
}

static void
s_event_init (deal_ai_event_t *event, int64_t time_ms)
{
    memset (event, 0, sizeof *event);
    event->stage = -1;
    event->score = -1;
    event->time_ms = time_ms;
}

//  Hands *from over to *to.
static void
s_take (char **to, char **from)
{
    free (*to);
    *to = *from;
    *from = NULL;
}

zhub_rc_t
deal_sync_read_ai_stage (const zhub_msg_t *msg, const json_t *data, deal_ai_event_t *event,
                         char *reason, size_t reason_size)
{
    s_event_init (event, msg->time_ms);
    zhub_ai_stage_t ai;
    zhub_rc_t rc = zhub_ai_stage_parse_data (msg, data, &ai, reason, reason_size);
    if (rc == ZHUB_OK && strlen (ai.bird_contact_id) > ZHUB_MSG_MAX_ID) {
        s_reason (reason, reason_size, "%s: data.bird_contact_id is longer than %d bytes",
                  msg->type, ZHUB_MSG_MAX_ID);
        rc = ZHUB_REJECT;
    }
    if (rc == ZHUB_OK) {
        s_take (&event->bird_id, &ai.bird_contact_id);
        s_take (&event->conversation_id, &ai.conversation_id);
        s_take (&event->agent_type, &ai.agent_type);
        s_take (&event->property_interest, &ai.property_interest);
        event->stage = deal_ai_stage_index (ai.stage);
        event->score = ai.score;
    }
    zhub_ai_stage_clear (&ai);
    return rc;
}

zhub_rc_t
deal_sync_read_tour (const zhub_msg_t *msg, const json_t *data, deal_ai_event_t *event,
                     char *reason, size_t reason_size)
{
    s_event_init (event, msg->time_ms);
    const char *topic = msg->type ? msg->type : "";
    if (strcmp (topic, ZHUB_TOUR_SCHEDULED_TOPIC)) {
        s_reason (reason, reason_size, "topic %.64s is not a tour.scheduled", topic);
        return ZHUB_NOTFOUND;
    }
    if (!json_is_object (data)) {
        s_reason (reason, reason_size, "%s: data is not an object", topic);
        return ZHUB_REJECT;
    }
    event->bird_id = s_id (json_object_get (data, "bird_contact_id"));
    if (!event->bird_id && msg->subject && !strncmp (msg->subject, "contact:", 8)
        && msg->subject[8])
        event->bird_id = zhub_strdup (msg->subject + 8);
    if (!event->bird_id) {
        s_reason (reason, reason_size, "%s names no Bird contact", topic);
        return ZHUB_REJECT;
    }
    event->conversation_id = s_id (json_object_get (data, "conversation_id"));
    event->agent_type = zhub_strdup (s_str (data, "agent_type"));
    event->property_interest = zhub_strdup (s_str (data, "property_interest"));
    const json_t *score = json_object_get (data, "qualification_score");
    if (!score)
        score = json_object_get (data, "score");
    if (score) {
        double value = json_is_number (score) ? json_number_value (score) : -1;
        if (value < 0 || value > 100) {
            s_reason (reason, reason_size, "%s: score must be a number 0..100", topic);
            return ZHUB_REJECT;
        }
        event->score = (int)(value + 0.5);
    }
    const char *start = s_str (data, "start");
    int64_t ms;
    if (!start || zhub_time_parse (start, &ms)) {
        s_reason (reason, reason_size, "%s: start must be an RFC 3339 time", topic);
        return ZHUB_REJECT;
    }
    event->tour_date = zhub_strdup (start);
    event->stage = DEAL_AI_TOUR_SCHEDULED;
    if (!event->agent_type)
        event->agent_type = zhub_strdup ("scheduler");
    return ZHUB_OK;
}

zhub_rc_t
deal_sync_parse_ai (const zhub_msg_t *msg, const json_t *data, deal_ai_event_t *event, char *reason,
                    size_t reason_size)
{
    const char *topic = msg->type ? msg->type : "";
    if (!strcmp (topic, ZHUB_STAGE_CHANGED_TOPIC) || !strcmp (topic, ZHUB_QUALIFICATION_TOPIC))
        return deal_sync_read_ai_stage (msg, data, event, reason, reason_size);
    if (!strcmp (topic, ZHUB_TOUR_SCHEDULED_TOPIC))
        return deal_sync_read_tour (msg, data, event, reason, reason_size);
    s_event_init (event, msg->time_ms);
    s_reason (reason, reason_size, "topic %.64s is not a deal event", topic);
    return ZHUB_NOTFOUND;
}

char *
deal_sync_key (const char *bird_id, const char *pipeline)
{
    return zhub_sprintf ("%s/%s", bird_id, pipeline);
}

char *
deal_sync_key_bird_id (const char *key, const char *pipeline)
{
    if (!key || !pipeline)
        return NULL;
    size_t size = strlen (key), tail = strlen (pipeline);
    if (size < tail + 2 || key[size - tail - 1] != '/' || strcmp (key + size - tail, pipeline))
        return NULL;
    char *bird = zhub_strdup (key);
    bird[size - tail - 1] = 0;
    return bird;
}

//  -------------------------------------------------------------------
//  The deal as HubSpot has it

void
deal_current_clear (deal_current_t *deal)
{
    if (!deal)
        return;
    free (deal->id);
    free (deal->stage);
    free (deal->key);
    free (deal->human_stage);
    free (deal->human_source);
    memset (deal, 0, sizeof *deal);
}

bool
deal_sync_change_is_integration (const char *source)
{
    return source && (!strcmp (source, "INTEGRATION") || !strcmp (source, "API"));
}

int
deal_sync_read_deal (const json_t *answer, deal_current_t *deal)
{
    memset (deal, 0, sizeof *deal);
    deal->id = s_id (json_object_get (answer, "id"));
    if (!deal->id)
        return -1;
    const json_t *props = json_object_get (answer, "properties");
    deal->stage = zhub_strdup (s_str (props, "dealstage"));
    deal->key = zhub_strdup (s_str (props, DEAL_KEY_PROPERTY));
    const json_t *history =
        json_object_get (json_object_get (answer, "propertiesWithHistory"), "dealstage");
    //  The newest entry decides; HubSpot lists newest first, but do not
    //  rely on the order.
    int64_t newest = -1;
    const json_t *latest = NULL;
    size_t i;
    json_t *entry;
    json_array_foreach (history, i, entry)
    {
        int64_t ms;
        const char *stamp = s_str (entry, "timestamp");
        if (stamp && !zhub_time_parse (stamp, &ms) && ms > newest) {
            newest = ms;
            latest = entry;
        }
    }
    if (latest && !deal_sync_change_is_integration (s_str (latest, "sourceType"))) {
        deal->human_ms = newest;
        deal->human_stage = zhub_strdup (s_str (latest, "value"));
        deal->human_source = zhub_strdup (s_str (latest, "sourceType"));
    }
    return 0;
}

//  -------------------------------------------------------------------
//  Decisions

void
deal_decision_clear (deal_decision_t *decision)
{
    if (!decision)
        return;
    json_decref (decision->properties);
    memset (decision, 0, sizeof *decision);
}

void
deal_sync_decide (const deal_sync_config_t *config, const deal_ai_event_t *event,
                  const deal_current_t *current, deal_decision_t *decision)
{
    memset (decision, 0, sizeof *decision);
    json_t *props = json_object ();
    decision->properties = props;
    decision->create = current == NULL;
    decision->from = current ? current->stage : NULL;
    decision->to = event->stage >= 0 ? config->stages[event->stage] : NULL;

    char stamp[40];
    zhub_time_format (event->time_ms, stamp, sizeof stamp);
    json_object_set_new (props, "last_ai_interaction", json_string (stamp));
    if (event->agent_type)
        json_object_set_new (props, "ai_agent_type", json_string (event->agent_type));
    if (event->conversation_id)
        json_object_set_new (props, "conversation_id", json_string (event->conversation_id));
    //  Property values are strings on the wire, numbers included
    //  (SimplePublicObjectInput.properties: string values in the spec).
    if (event->score >= 0) {
        char score[16];
        snprintf (score, sizeof score, "%d", event->score);
        json_object_set_new (props, "qualification_score", json_string (score));
    }
    if (event->property_interest)
        json_object_set_new (props, "property_interest", json_string (event->property_interest));
    if (event->tour_date)
        json_object_set_new (props, "tour_scheduled_date", json_string (event->tour_date));

    if (decision->create) {
        char *name = zhub_sprintf ("WhatsApp lead %s", event->bird_id);
        json_object_set_new (props, "dealname", json_string (name));
        free (name);
        json_object_set_new (props, "pipeline", json_string (config->pipeline));
        //  A new deal needs a stage; an event without one starts it at
        //  the first AI stage.
        const char *stage = decision->to ? decision->to : config->stages[DEAL_AI_LEAD];
        json_object_set_new (props, "dealstage", json_string (stage));
        decision->to = stage;
        decision->stage_moves = true;
        return;
    }
    if (!decision->to)
        return;
    if (current->human_ms > event->time_ms) {
        decision->skipped = "human_newer";
        return;
    }
    if (!deal_sync_stage_forward (config, current->stage, decision->to)) {
        decision->skipped =
            current->stage && !strcmp (current->stage, decision->to) ? "same_stage" : "not_forward";
        return;
    }
    json_object_set_new (props, "dealstage", json_string (decision->to));
    decision->stage_moves = true;
}

char *
deal_sync_audit_entry (const deal_ai_event_t *event, const deal_current_t *current,
                       const deal_decision_t *decision, const char *deal_id, const char *event_id,
                       int64_t now_ms)
{
    char ai_time[40], now[40], human[40] = "";
    zhub_time_format (event->time_ms, ai_time, sizeof ai_time);
    zhub_time_format (now_ms, now, sizeof now);
    if (current && current->human_ms > 0)
        zhub_time_format (current->human_ms, human, sizeof human);
    json_t *entry = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "actor", DEAL_SYNC_GROUP, "time", now,
                               "object", "deal", "field", "dealstage", "ai_time", ai_time);
    if (deal_id)
        json_object_set_new (entry, "deal_id", json_string (deal_id));
    json_object_set_new (entry, "bird_contact_id", json_string (event->bird_id));
    if (decision->from)
        json_object_set_new (entry, "old", json_string (decision->from));
    if (decision->to)
        json_object_set_new (entry, "new", json_string (decision->to));
    json_object_set_new (
        entry, "winner",
        json_string (decision->stage_moves ? "ai"
                     : decision->skipped && !strcmp (decision->skipped, "human_newer")
                         ? "hubspot"
                         : "unchanged"));
    json_object_set_new (entry, "decision",
                         json_string (decision->stage_moves ? "applied" : decision->skipped));
    if (*human) {
        json_object_set_new (entry, "hubspot_time", json_string (human));
        if (current->human_source)
            json_object_set_new (entry, "hubspot_source", json_string (current->human_source));
    }
    if (event_id)
        json_object_set_new (entry, "event_id", json_string (event_id));
    char *text = json_dumps (entry, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (entry);
    return text;
}

//  -------------------------------------------------------------------
//  A person's stage change

void
deal_crm_change_clear (deal_crm_change_t *change)
{
    if (!change)
        return;
    free (change->deal_id);
    free (change->stage);
    free (change->change_source);
    memset (change, 0, sizeof *change);
}

zhub_rc_t
deal_sync_parse_crm (const char *topic, const json_t *data, deal_crm_change_t *change, char *reason,
                     size_t reason_size)
{
    memset (change, 0, sizeof *change);
    if (strcmp (topic, DEAL_CRM_TOPIC)) {
        s_reason (reason, reason_size, "topic %.64s is not a deal stage change", topic);
        return ZHUB_NOTFOUND;
    }
    if (!json_is_object (data)) {
        s_reason (reason, reason_size, "deal.propertyChange: data is not an object");
        return ZHUB_REJECT;
    }
    const char *name = s_str (data, "propertyName");
    if (!name || strcmp (name, "dealstage")) {
        s_reason (reason, reason_size, "property %.64s is not dealstage", name ? name : "");
        return ZHUB_NOTFOUND;
    }
    change->deal_id = s_id (json_object_get (data, "objectId"));
    change->stage = zhub_strdup (s_str (data, "propertyValue"));
    if (!change->deal_id || !change->stage) {
        s_reason (reason, reason_size, "deal.propertyChange without objectId or propertyValue");
        deal_crm_change_clear (change);
        return ZHUB_REJECT;
    }
    change->change_source = zhub_strdup (s_str (data, "changeSource"));
    const json_t *at = json_object_get (data, "occurredAt");
    change->time_ms = json_is_integer (at) ? json_integer_value (at) : 0;
    return ZHUB_OK;
}

//  -------------------------------------------------------------------
//  deal.stage_changed

zhub_msg_t *
deal_sync_stage_msg (const zhub_msg_t *input, const char *deal_id, const char *contact_id,
                     const char *bird_id, const char *stage, const char *ai_stage, const char *by,
                     int64_t now_ms, char *reason, size_t reason_size)
{
    //  The same cause gives the same id: a redelivery publishes it again,
    //  and the broker's dedup keeps one.
    const char *cause = input->id ? input->id : "";
    char id[ZHUB_MSG_MAX_ID + 1];
    zhub_id_derive (id, sizeof id, "ds-", cause, 16);
    zhub_deal_stage_t ev = {.hubspot_deal_id = (char *)deal_id,
                            .bird_contact_id = (char *)bird_id,
                            .stage = (char *)stage,
                            .by = (char *)by,
                            .cause_id = (char *)cause,
                            .hubspot_contact_id = (char *)contact_id,
                            .ai_stage = (char *)ai_stage};
    return zhub_deal_stage_msg (&ev, id, input->traceparent, now_ms, reason, reason_size);
}
