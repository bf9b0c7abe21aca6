//  zhub-intent, the intent router: every inbound conversation.message is
//  classified (a tour request, a pricing or availability inquiry, a
//  request for a human, an opt-out, or other) and the workflow it calls
//  for is published: intent.detected for each, and tour.requested,
//  escalation.triggered or contact.opted_out (PipeWise's flow: message ->
//  intent -> the right workflow). This header is the pure core:
//
//    rules     keyword and phrase tables per language, editable in the
//              mapping file's "intent" section (intent_rules.c);
//    text      the one normalisation both the rules and the times read
//              (lower case, accents folded, punctuation out);
//    times     Spanish and English time expressions, local to the
//              process's time zone (intent_time.c);
//    decide    the verdict of the rules or of the AI classifier's answer,
//              and the events it calls for (intent.c).
//
//  No I/O: intent_io.c calls the AI classifier and the store.
#ifndef INTENT_H
#define INTENT_H

#include "zhub_conversation.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define INTENT_GROUP "intent"
#define INTENT_SOURCE "zhub/intent"
#define INTENT_DUE_TOPIC "intent.workflow.due"
#define INTENT_DETECTED_TOPIC "intent.detected"
#define INTENT_OPTED_OUT_TOPIC "contact.opted_out"
#define INTENT_ESCALATION_TOPIC "escalation.triggered"

typedef enum {
    INTENT_TOUR = 0,
    INTENT_PRICING,
    INTENT_AVAILABILITY,
    INTENT_HUMAN,
    INTENT_OPT_OUT,
    INTENT_OTHER,
    INTENT_COUNT
} intent_kind_t;

//  The catalogue's name ("tour_request", "pricing", ...), and back (-1
//  for a name that is none).
const char *intent_name (intent_kind_t kind);
int intent_from_name (const char *name);

//  -------------------------------------------------------------------
//  Text

//  A fresh copy of text for matching: UTF-8 Latin letters folded to ASCII
//  lower case (á -> a, Ñ -> n), digits kept, ':' and '/' kept between
//  digits ("10:30", "15/03"), apostrophes dropped ("don't" -> "dont"),
//  everything else one space, runs of three or more equal letters one
//  ("holaaa" -> "hola"), no space at either end.
char *intent_normalize (const char *text);

//  -------------------------------------------------------------------
//  Rules

#define INTENT_MAX_LANGUAGES 8
#define INTENT_MAX_PHRASES 256 //  per intent per language
#define INTENT_FUZZY_MIN 5     //  a one-word phrase this long also matches one typo away

typedef struct {
    char **phrases; //  normalised; "=x" matches only a message that is x
    size_t count;
} intent_list_t;

typedef struct {
    char code[16];                     //  "es", "en": BCP 47
    intent_list_t lists[INTENT_OTHER]; //  per intent but other
    intent_list_t hints;               //  words that tell the language only
} intent_language_t;

typedef struct {
    intent_language_t languages[INTENT_MAX_LANGUAGES];
    size_t count;
    int fallback; //  the language of a message no list matches (the first: es)
} intent_rules_t;

//  The shipped tables: Spanish (first: the default language) and English.
void intent_rules_default (intent_rules_t *rules);

//  Applies the mapping file's "intent" section over the defaults:
//  {"default_language": "es", "languages": {"es": {"tour_request": [...],
//  "pricing": [...], "availability": [...], "human": [...], "opt_out":
//  [...], "hints": [...]}, "pt": {...}}}. A list given replaces that list;
//  a language not shipped is added. 0, or -1 with the offending path in
//  err (the rules may then hold part of the section: the caller stops).
int intent_rules_apply (intent_rules_t *rules, const json_t *section, char *err, size_t err_size);
void intent_rules_clear (intent_rules_t *rules);

typedef struct {
    intent_kind_t intent;
    double confidence; //  0..1
    char language[16];
    char matched[64]; //  the phrase that decided, for the log
} intent_verdict_t;

//  Classifies normalised text by the rules. Every language's lists are
//  tried; the language is the one with the most lists matched and hints
//  found, the fallback on a tie ("stop" alone reads as the default). Among the intents matched, the
//  first of opt_out, human, tour_request, availability, pricing wins. Confidence: 0.9 for one
//  intent matched exactly, 0.75 through a typo, 0.6 when several intents matched; other: 0.5.
void intent_classify (const intent_rules_t *rules, const char *normalized,
                      intent_verdict_t *verdict);

//  -------------------------------------------------------------------
//  Times

#define INTENT_MAX_TIMES 8
#define INTENT_DEFAULT_HOUR 10   //  a day named without a time
#define INTENT_MORNING_HOUR 10   //  "por la mañana", "in the morning"
#define INTENT_AFTERNOON_HOUR 16 //  "por la tarde", "in the afternoon"
#define INTENT_EVENING_HOUR 19   //  "por la noche", "in the evening", "tonight"

typedef struct {
    int year, month, day;
} intent_date_t;

//  Holidays for "el próximo día hábil" / "next business day": Mexico's
//  statutory rest days (Ley Federal del Trabajo, art. 74) unless
//  mexican is false, plus the extra dates.
typedef struct {
    bool mexican;
    intent_date_t *extra;
    size_t extra_count;
} intent_holidays_t;

//  True when y-m-d is a holiday of the set.
bool intent_is_holiday (const intent_holidays_t *holidays, int year, int month, int day);

//  The times normalised text names, as unix ms, in the order named, none
//  before now_ms, no repeats, at most INTENT_MAX_TIMES; local to the
//  process's time zone (zhub_tz_use). Returns the count.
size_t intent_times (const char *normalized, int64_t now_ms, const intent_holidays_t *holidays,
                     int64_t *times);

//  -------------------------------------------------------------------
//  Deciding

typedef struct {
    intent_rules_t rules;
    intent_holidays_t holidays;
    char *time_zone;       //  for the log; the process uses it (zhub_tz_use)
    int64_t hold_ms;       //  ZHUB_INTENT_HOLD: how long a workflow event waits
    int64_t retention_ms;  //  ZHUB_INTENT_RETENTION
    int tour_duration_min; //  0: the scheduler's default
} intent_config_t;

void intent_config_default (intent_config_t *config);

//  Applies the mapping file's "intent" section (NULL: nothing): the rule
//  tables (intent_rules_apply), "time_zone" (default
//  America/Mexico_City), "holidays" (extra dates, "YYYY-MM-DD"),
//  "mexican_holidays" (default true), "tour_duration_min" (5..480; default
//  the scheduler's). 0, or -1 with the offending key in err.
int intent_config_apply (intent_config_t *config, const json_t *section, char *err,
                         size_t err_size);
void intent_config_clear (intent_config_t *config);

//  The system prompt the AI classifier gets (the user message is the
//  customer's text as written).
const char *intent_ai_prompt (void);

//  Reads the AI classifier's content: a JSON object {"intent": one of the
//  catalogue's intents, "confidence": 0..1, "language"?} (a code fence
//  around it is tolerated). 0 with the verdict filled (language from the
//  answer, else kept), or -1 with the reason.
int intent_ai_verdict (const char *content, intent_verdict_t *verdict, char *reason,
                       size_t reason_size);

//  What one inbound message leads to.
typedef struct {
    zhub_msg_t *detected;      //  intent.detected
    zhub_msg_t *workflow;      //  the workflow event (NULL for pricing, availability, other), or,
                               //  with a hold, the intent.workflow.due that carries it
    const char *workflow_type; //  "tour.requested", ... or NULL
    size_t times;              //  preferred times found (tour requests)
    char note[160];
} intent_plan_t;

void intent_plan_clear (intent_plan_t *plan);

//  The events for message msg (its parsed form m) classified as verdict
//  (decided_by "rules" or "ai"; ai_error: why the AI did not decide, or
//  NULL), at now_ms. With config->hold_ms > 0 the workflow event is
//  wrapped in an intent.workflow.due held until now_ms + hold_ms.
//  ZHUB_OK, or ZHUB_REJECT with the reason in plan->note (an event the
//  catalogue refuses).
zhub_rc_t intent_decide (const intent_config_t *config, const zhub_msg_t *msg,
                         const zhub_conversation_message_t *m, const intent_verdict_t *verdict,
                         const char *decided_by, const char *ai_error, int64_t now_ms,
                         intent_plan_t *plan);

//  The workflow event a delivered intent.workflow.due carries, its id
//  derived from the due's (so a redelivered due publishes the same id),
//  time now_ms. NULL with a reason.
zhub_msg_t *intent_due_release (const zhub_msg_t *due, int64_t now_ms, char *reason,
                                size_t reason_size);

//  Reads an intent.workflow.due's workflow type, contact and since.
zhub_rc_t intent_due_parse (const zhub_msg_t *due, char **workflow, char **contact,
                            int64_t *since_ms, char *reason, size_t reason_size);

#endif
