//  The scheduler's WhatsApp messages through Bird, pure part: which form a
//  message takes, in which words, and the Bird body that carries it.
//
//  WhatsApp's rule (Meta's "customer service window"): when a person
//  writes to the business a 24-hour window opens (or starts again); inside
//  it any message may be sent, outside it only an approved template
//  (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows,
//  and Bird's
//  https://docs.bird.com/api/channels-api/supported-channels/programmable-whatsapp/customer-service-window).
//  Bird accepts a free-text message outside the window with 202 and it then
//  fails (Meta error 131047), so the choice is made before sending: free
//  text while the window is open, with a margin, else the kind's template;
//  with no template the message is not sent (and the log says why).
//
//  The last time each contact wrote in comes from Bird's whatsapp.inbound
//  webhooks on the bus; the I/O side keeps it in the "inbound" table
//  (scheduler_io.h) and hands it to sched_wa_window_open.
//
//  Texts and dates are in the configured locale's language, Spanish by
//  default, from the tables in scheduler_whatsapp.c ("jueves 5 de marzo,
//  11:00"; "Thursday, March 5, 11:00 AM"), not from the C library's locale.
//  Five kinds: the confirmation, each reminder, the Calendly link
//  (self-service, or a calendar down), the alternatives when no agent is
//  free, the cancellation. The free texts are patterns: "{when}",
//  "{date}", "{time}", "{location}", "{agent}", "{url}", "{alternatives}"
//  are the booking's values; a "[...]" group (not nested) is left out
//  whole when a value in it is missing ("[, en {location}]"). Spanish and
//  English ones are shipped; the mapping file's whatsapp.texts replaces
//  them per locale.
//
//  Bird's template message: "template": {"projectId", "version", "locale",
//  "parameters": [{"type": "string", "key", "value"}]} instead of "body"
//  (https://docs.bird.com/api/channels-api/message-types/template).
#ifndef SCHEDULER_WHATSAPP_H
#define SCHEDULER_WHATSAPP_H

#include "scheduler.h"

#include <time.h>

#define SCHED_WA_WINDOW_MS (24 * 3600 * 1000LL) //  Meta's customer-service window
//  Free text only while this much of the window is left: a message sent
//  in the last minutes may reach WhatsApp after the window closed.
#define SCHED_WA_WINDOW_MARGIN_MS (10 * 60 * 1000LL)
#define SCHED_WA_LOCALE_DEFAULT "es-MX"
#define SCHED_WA_VERSION_DEFAULT "latest"
#define SCHED_WA_VALUE_MAX 512  //  longest value put in a text or template variable
#define SCHED_WA_TEXT_MAX 1024  //  longest text pattern (WhatsApp's body takes 4096)

//  "confirmation", "reminder", "link", "alternatives", "cancellation".
const char *sched_wa_kind_name (sched_wa_kind_t kind);

//  Reads the "whatsapp" key of the scheduler section (NULL = defaults:
//  locale es-MX, no templates, the shipped texts). Shape, every key
//  optional:
//    {"locale": "es-MX",
//     "templates": {"<kind>":
//        {"project_id": "<uuid>", "version": "latest" | "<uuid>",
//         "locale": "es-MX",
//         "parameters": {"<template variable>": "when" | "date" | "time" |
//                        "location" | "agent" | "url" | "alternatives", ...}}},
//     "texts": {"<locale>": {"<kind>": "<pattern>", ...}, ...}}
//  The locale's language must be es or en (the dates we have); a template
//  needs a project_id; texts are for es or en locales, each a pattern that
//  sched_wa_text_check takes. The texts used are those of the locale, else
//  of its language ("es"), kind by kind, else the shipped ones. Returns 0,
//  or -1 with the offending key in err (cfg cleared).
int sched_wa_config_from_json (const json_t *section, sched_wa_config_t *cfg, char *err,
                               size_t err_size);
void sched_wa_config_clear (sched_wa_config_t *cfg);

//  The language of a locale ("es-MX" -> es, "en" -> en). 0, or -1 for
//  another language or a malformed locale.
int sched_lang_of (const char *locale, sched_lang_t *lang);

//  The shipped text pattern of a kind in a language.
const char *sched_wa_default_text (sched_lang_t lang, sched_wa_kind_t kind);

//  The field a placeholder names (name: len bytes, not NUL-terminated):
//  0 with *field, or -1.
int sched_wa_field_of (const char *name, size_t len, sched_wa_field_t *field);

//  0 when pattern is a text pattern: known placeholders, groups closed and
//  not nested, at most SCHED_WA_TEXT_MAX bytes; else -1 with what is
//  wrong in err.
int sched_wa_text_check (const char *pattern, char *err, size_t err_size);

typedef enum { SCHED_WHEN_FULL, SCHED_WHEN_DATE, SCHED_WHEN_TIME } sched_when_part_t;

//  A local date and time in words: es "jueves 5 de marzo, 11:00" (date
//  "jueves 5 de marzo", time "11:00"); en "Thursday, March 5, 11:00 AM".
//  tm is local time (tm_wday, tm_mday, tm_mon, tm_hour, tm_min are read).
//  Returns the length written (snprintf's, the text cut to size), or 0
//  when tm is out of range.
size_t sched_format_when (const struct tm *tm, sched_lang_t lang, sched_when_part_t part, char *buf,
                          size_t size);

//  True when free text may go: the contact wrote in (last_inbound_ms > 0)
//  less than SCHED_WA_WINDOW_MS - SCHED_WA_WINDOW_MARGIN_MS before now. A
//  last message stamped after now (clock skew) counts as now.
bool sched_wa_window_open (int64_t last_inbound_ms, int64_t now_ms);

//  The text of a message of this kind for the booking: the locale's
//  pattern rendered with the booking's values, dates in the configured
//  language and the process's time zone. Fresh string.
char *sched_whatsapp_text (sched_wa_kind_t kind, const sched_booking_t *b,
                           const sched_config_t *cfg);

//  The Bird channel message for the booking's contact (by phone when known,
//  else by Bird contact id), with the booking id as "reference": free text
//  when window_open, else the kind's template. NULL when it cannot be sent
//  (outside the window and no template for the kind), with the reason in
//  why. *templated says which form it took.
json_t *sched_whatsapp_body (sched_wa_kind_t kind, const sched_booking_t *b,
                             const sched_config_t *cfg, bool window_open, bool *templated,
                             char *why, size_t why_size);

//  Reads a Bird whatsapp.inbound event (the gateway's data: {"service",
//  "event", "payload"}): the Bird contact that wrote (payload.sender.
//  contact.id) and when (payload.createdAt; fallback_ms when absent or
//  unreadable). ZHUB_OK with *contact_id fresh, or ZHUB_REJECT when it is
//  not an incoming message from a contact.
zhub_rc_t sched_wa_inbound_read (const json_t *data, int64_t fallback_ms, char **contact_id,
                                 int64_t *at_ms);

#endif
