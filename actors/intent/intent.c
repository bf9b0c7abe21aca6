//  The intent router's decisions (see intent.h): the AI classifier's
//  prompt and the reading of its answer, the events a verdict calls for,
//  and the held intent.workflow.due that keeps them from doubling what an
//  AI agent publishes itself. Pure: messages are built, never sent.
#include "intent.h"
#include "zhub_id.h"
#include "zhub_tz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NOTES_MAX 500 //  bytes of the customer's text passed to the agent as notes

void
intent_config_default (intent_config_t *config)
{
    memset (config, 0, sizeof *config);
    intent_rules_default (&config->rules);
    config->holidays.mexican = true;
    config->time_zone = zhub_strdup ("America/Mexico_City");
    config->hold_ms = 10000;
    config->retention_ms = 30LL * 86400 * 1000;
}

int
intent_config_apply (intent_config_t *config, const json_t *section, char *err, size_t err_size)
{
    if (!section)
        return 0;
    if (!json_is_object (section)) {
        snprintf (err, err_size, "intent must be an object");
        return -1;
    }
    if (intent_rules_apply (&config->rules, section, err, err_size))
        return -1;
    const json_t *zone = json_object_get (section, "time_zone");
    if (zone) {
        if (!json_is_string (zone) || !zhub_tz_known (json_string_value (zone))) {
            snprintf (err, err_size,
                      "intent.time_zone must name a time zone of the tz database "
                      "(America/Mexico_City)");
            return -1;
        }
        free (config->time_zone);
        config->time_zone = zhub_strdup (json_string_value (zone));
    }
    const json_t *mexican = json_object_get (section, "mexican_holidays");
    if (mexican) {
        if (!json_is_boolean (mexican)) {
            snprintf (err, err_size, "intent.mexican_holidays must be true or false");
            return -1;
        }
        config->holidays.mexican = json_is_true (mexican);
    }
    const json_t *dates = json_object_get (section, "holidays");
    if (dates) {
        if (!json_is_array (dates) || json_array_size (dates) > 1000) {
            snprintf (err, err_size, "intent.holidays must be an array of dates (YYYY-MM-DD)");
            return -1;
        }
        free (config->holidays.extra);
        config->holidays.extra = zhub_calloc (json_array_size (dates) + 1, sizeof (intent_date_t));
        config->holidays.extra_count = 0;
        size_t i;
        const json_t *date;
        json_array_foreach (dates, i, date)
        {
            intent_date_t *d = &config->holidays.extra[config->holidays.extra_count];
            char tail;
            const char *text = json_string_value (date);
            if (!text || sscanf (text, "%4d-%2d-%2d%c", &d->year, &d->month, &d->day, &tail) != 3
                || d->month < 1 || d->month > 12 || d->day < 1 || d->day > 31) {
                snprintf (err, err_size, "intent.holidays[%zu] must be a date (YYYY-MM-DD)", i);
                return -1;
            }
            config->holidays.extra_count++;
        }
    }
    const json_t *duration = json_object_get (section, "tour_duration_min");
    if (duration) {
        if (!json_is_integer (duration) || json_integer_value (duration) < 5
            || json_integer_value (duration) > 480) {
            snprintf (err, err_size, "intent.tour_duration_min must be 5..480");
            return -1;
        }
        config->tour_duration_min = (int)json_integer_value (duration);
    }
    return 0;
}

void
intent_config_clear (intent_config_t *config)
{
    if (!config)
        return;
    intent_rules_clear (&config->rules);
    free (config->holidays.extra);
    free (config->time_zone);
    memset (config, 0, sizeof *config);
}

//  -------------------------------------------------------------------
//  The AI classifier

const char *
intent_ai_prompt (void)
{
    return "You classify one message that a customer of a residential leasing company wrote "
           "on WhatsApp. Answer with one JSON object and nothing else: {\"intent\": one of "
           "\"tour_request\" (wants to visit or see a property, book a viewing), \"pricing\" "
           "(asks about the price, rent, deposit or other costs), \"availability\" (asks "
           "whether units are available or when they could move in), \"human\" (asks to talk "
           "to a person, an advisor or an agent), \"opt_out\" (asks to receive no more "
           "messages), \"other\"; \"confidence\": a number from 0 to 1; \"language\": the "
           "message's language as a BCP 47 code such as \"es\" or \"en\"}.";
}

int
intent_ai_verdict (const char *content, intent_verdict_t *verdict, char *reason, size_t reason_size)
{
    const char *open = content ? strchr (content, '{') : NULL;
    const char *close = content ? strrchr (content, '}') : NULL;
    if (!open || !close || close < open) {
        snprintf (reason, reason_size, "the AI answer holds no JSON object");
        return -1;
    }
    json_t *answer = json_loadb (open, (size_t)(close - open + 1), 0, NULL);
    const char *name = json_string_value (json_object_get (answer, "intent"));
    const json_t *confidence = json_object_get (answer, "confidence");
    const char *language = json_string_value (json_object_get (answer, "language"));
    int kind = intent_from_name (name);
    int rc = -1;
    if (!json_is_object (answer))
        snprintf (reason, reason_size, "the AI answer is not a JSON object");
    else if (kind < 0)
        snprintf (reason, reason_size, "the AI answer's intent is not one of the catalogue's");
    else if (!json_is_number (confidence) || !isfinite (json_number_value (confidence))
             || json_number_value (confidence) < 0 || json_number_value (confidence) > 1)
        snprintf (reason, reason_size, "the AI answer's confidence is not a number 0..1");
    else {
        verdict->intent = kind;
        verdict->confidence = json_number_value (confidence);
        size_t size = language ? strlen (language) : 0;
        if (size >= 2 && size < sizeof verdict->language
            && strspn (language, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") == size)
            snprintf (verdict->language, sizeof verdict->language, "%s", language);
        snprintf (verdict->matched, sizeof verdict->matched, "ai");
        rc = 0;
    }
    json_decref (answer);
    return rc;
}

//  -------------------------------------------------------------------
//  Events

void
intent_plan_clear (intent_plan_t *plan)
{
    if (!plan)
        return;
    zhub_msg_destroy (&plan->detected);
    zhub_msg_destroy (&plan->workflow);
    memset (plan, 0, sizeof *plan);
}

static void
s_put (json_t *data, const char *key, const char *value)
{
    if (value)
        json_object_set_new (data, key, json_string (value));
}

//  text cut to max bytes on a UTF-8 boundary (a fresh string).
static char *
s_cut (const char *text, size_t max)
{
    size_t size = strlen (text);
    if (size > max) {
        size = max;
        while (size > 0 && ((unsigned char)text[size] & 0xC0) == 0x80)
            size--;
    }
    char *copy = zhub_malloc (size + 1);
    memcpy (copy, text, size);
    copy[size] = 0;
    return copy;
}

static const struct {
    intent_kind_t kind;
    const char *type;
    const char *prefix; //  of the derived id
} s_workflows[] = {
    {INTENT_TOUR, ZHUB_TOUR_REQUESTED_TOPIC, "itr-"},
    {INTENT_HUMAN, INTENT_ESCALATION_TOPIC, "ies-"},
    {INTENT_OPT_OUT, INTENT_OPTED_OUT_TOPIC, "ioo-"},
};

static const char *
s_prefix_of (const char *type)
{
    for (size_t i = 0; i < sizeof s_workflows / sizeof s_workflows[0]; i++)
        if (type && !strcmp (type, s_workflows[i].type))
            return s_workflows[i].prefix;
    return NULL;
}

//  The workflow event's data for verdict, or NULL (none called for).
static json_t *
s_workflow_data (const intent_config_t *config, const zhub_conversation_message_t *m,
                 const char *message_id, intent_kind_t kind, intent_plan_t *plan)
{
    if (kind == INTENT_TOUR) {
        zhub_tour_requested_t tour = {.bird_contact_id = m->bird_contact_id,
                                      .conversation_id = m->conversation_id,
                                      .duration_min = config->tour_duration_min,
                                      .phone = m->phone,
                                      .message_id = (char *)message_id};
        char *normalized = intent_normalize (m->text);
        tour.preferred_count =
            intent_times (normalized, m->sent_ms, &config->holidays, tour.preferred_ms);
        free (normalized);
        plan->times = tour.preferred_count;
        if (!tour.preferred_count) {
            //  No time named: from when they asked on, the scheduler offers
            //  the free slots (all past: tour.unavailable with alternatives).
            tour.preferred_ms[0] = m->sent_ms;
            tour.preferred_count = 1;
            tour.flexible = true;
        }
        tour.notes = s_cut (m->text, S_NOTES_MAX);
        json_t *data = zhub_tour_requested_data (&tour);
        free (tour.notes);
        return data;
    }
    json_t *data = json_object ();
    if (kind == INTENT_HUMAN) {
        s_put (data, "conversation_id", m->conversation_id);
        s_put (data, "bird_contact_id", m->bird_contact_id);
        s_put (data, "reason", "the contact asks for a person");
        s_put (data, "priority", "high");
        s_put (data, "message_id", message_id);
    } else if (kind == INTENT_OPT_OUT) {
        s_put (data, "bird_contact_id", m->bird_contact_id);
        s_put (data, "conversation_id", m->conversation_id);
        s_put (data, "message_id", message_id);
        s_put (data, "channel", m->channel ? m->channel : "unknown");
    } else {
        json_decref (data);
        return NULL;
    }
    return data;
}

static const char *
s_type_of (intent_kind_t kind)
{
    for (size_t i = 0; i < sizeof s_workflows / sizeof s_workflows[0]; i++)
        if (s_workflows[i].kind == kind)
            return s_workflows[i].type;
    return NULL;
}

zhub_rc_t
intent_decide (const intent_config_t *config, const zhub_msg_t *msg,
               const zhub_conversation_message_t *m, const intent_verdict_t *verdict,
               const char *decided_by, const char *ai_error, int64_t now_ms, intent_plan_t *plan)
{
    memset (plan, 0, sizeof *plan);
    //  Bird's id of the message; an older producer's message without one
    //  is named by its envelope id
    const char *message_id = m->message_id ? m->message_id : msg->id;
    char subject[300], id[64], reason[150];
    snprintf (subject, sizeof subject, "contact:%s", m->bird_contact_id);
    if (!m->conversation_id) {
        snprintf (plan->note, sizeof plan->note,
                  "conversation.message: data.conversation_id is "
                  "missing");
        return ZHUB_REJECT;
    }
    json_t *data = json_object ();
    s_put (data, "message_id", message_id);
    s_put (data, "conversation_id", m->conversation_id);
    s_put (data, "bird_contact_id", m->bird_contact_id);
    s_put (data, "intent", intent_name (verdict->intent));
    json_object_set_new (data, "confidence", json_real (verdict->confidence));
    s_put (data, "decided_by", decided_by);
    s_put (data, "language", verdict->language);
    s_put (data, "ai_error", ai_error);
    zhub_id_derive (id, sizeof id, "int-", msg->id, 16);
    plan->detected = zhub_event_new (INTENT_DETECTED_TOPIC, id, INTENT_SOURCE, subject, m->sent_ms,
                                     msg->traceparent, data, reason, sizeof reason);
    json_decref (data);
    if (!plan->detected) {
        snprintf (plan->note, sizeof plan->note, "%s", reason);
        return ZHUB_REJECT;
    }
    json_t *event = s_workflow_data (config, m, message_id, verdict->intent, plan);
    if (!event)
        return ZHUB_OK;
    plan->workflow_type = s_type_of (verdict->intent);
    if (config->hold_ms > 0) {
        char since[40];
        zhub_conversation_time (m->sent_ms, since, sizeof since);
        json_t *due = json_object ();
        s_put (due, "message_id", message_id);
        s_put (due, "conversation_id", m->conversation_id);
        s_put (due, "bird_contact_id", m->bird_contact_id);
        s_put (due, "workflow", plan->workflow_type);
        json_object_set_new (due, "event", event);
        s_put (due, "since", since);
        zhub_id_derive (id, sizeof id, "idu-", msg->id, 16);
        plan->workflow = zhub_event_new (INTENT_DUE_TOPIC, id, INTENT_SOURCE, subject, now_ms,
                                         msg->traceparent, due, reason, sizeof reason);
        json_decref (due);
        if (plan->workflow)
            plan->workflow->deliver_at_ms = now_ms + config->hold_ms;
    } else {
        zhub_id_derive (id, sizeof id, s_prefix_of (plan->workflow_type), msg->id, 16);
        plan->workflow = zhub_event_new (plan->workflow_type, id, INTENT_SOURCE, subject, now_ms,
                                         msg->traceparent, event, reason, sizeof reason);
        json_decref (event);
    }
    if (!plan->workflow) {
        intent_plan_clear (plan);
        snprintf (plan->note, sizeof plan->note, "%s", reason);
        return ZHUB_REJECT;
    }
    return ZHUB_OK;
}

zhub_rc_t
intent_due_parse (const zhub_msg_t *due, char **workflow, char **contact, int64_t *since_ms,
                  char *reason, size_t reason_size)
{
    *workflow = *contact = NULL;
    json_t *data = zhub_msg_data_json (due);
    const char *type = json_string_value (json_object_get (data, "workflow"));
    const char *bird = json_string_value (json_object_get (data, "bird_contact_id"));
    const char *since = json_string_value (json_object_get (data, "since"));
    zhub_rc_t rc = ZHUB_OK;
    if (!s_prefix_of (type) || !bird || !*bird || !since || zhub_time_parse (since, since_ms)
        || !json_is_object (json_object_get (data, "event"))) {
        snprintf (reason, reason_size,
                  "intent.workflow.due: needs workflow, bird_contact_id, since and event");
        rc = ZHUB_REJECT;
    } else {
        *workflow = zhub_strdup (type);
        *contact = zhub_strdup (bird);
    }
    json_decref (data);
    return rc;
}

zhub_msg_t *
intent_due_release (const zhub_msg_t *due, int64_t now_ms, char *reason, size_t reason_size)
{
    json_t *data = zhub_msg_data_json (due);
    const char *type = json_string_value (json_object_get (data, "workflow"));
    const char *prefix = s_prefix_of (type);
    zhub_msg_t *msg = NULL;
    if (!prefix)
        snprintf (reason, reason_size, "intent.workflow.due: data.workflow is not a workflow");
    else {
        char id[64];
        zhub_id_derive (id, sizeof id, prefix, due->id, 16);
        msg = zhub_event_new (type, id, INTENT_SOURCE, due->subject, now_ms, due->traceparent,
                              json_object_get (data, "event"), reason, reason_size);
    }
    json_decref (data);
    return msg;
}
