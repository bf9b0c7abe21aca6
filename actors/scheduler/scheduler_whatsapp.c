//  The scheduler's WhatsApp messages, pure part (see scheduler_whatsapp.h):
//  dates and texts from our own tables per language (setlocale would make
//  the words depend on the machine's installed locales and is
//  process-wide), the window decision, and the Bird message body, free
//  text or template. The "whatsapp" configuration they follow is read by
//  scheduler_whatsapp_config.c.
#include "scheduler_whatsapp.h"
#include "scheduler_core_internal.h"

#include <stdio.h>
#include <stdlib.h>

//  -------------------------------------------------------------------
//  Words, per language (index: sched_lang_t)

static const char *const s_days[2][7] = {
    {"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
    {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}};
static const char *const s_months[2][12] = {
    {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
     "octubre", "noviembre", "diciembre"},
    {"January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"}};

//  The sentences: head, then ", en <location>", ", con <agent>", ".", and
//  " Detalles: <url>"; the link offer is "<head>[ a <location>]<tail><url>".
typedef struct {
    const char *head[SCHED_WA_KINDS];
    const char *at, *with, *details, *link_at, *link_tail;
} s_words_t;

static const s_words_t s_words[2] = {
    {.head = {"Tu visita está confirmada: ", "Recordatorio de tu visita: ",
              "Elige la hora de tu visita"},
     .at = ", en ",
     .with = ", con ",
     .details = " Detalles: ",
     .link_at = " a ",
     .link_tail = " aquí: "},
    {.head = {"Your property tour is confirmed: ", "Reminder of your property tour: ",
              "Choose the time of your property tour"},
     .at = ", at ",
     .with = ", with ",
     .details = " Details: ",
     .link_at = " at ",
     .link_tail = " here: "}};

size_t
sched_format_when (const struct tm *tm, sched_lang_t lang, sched_when_part_t part, char *buf,
                   size_t size)
{
    if (size)
        buf[0] = 0;
    if (!tm || (lang != SCHED_LANG_ES && lang != SCHED_LANG_EN) || tm->tm_wday < 0
        || tm->tm_wday > 6 || tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1
        || tm->tm_mday > 31 || tm->tm_hour < 0 || tm->tm_hour > 23 || tm->tm_min < 0
        || tm->tm_min > 59 || !size)
        return 0;
    const char *day = s_days[lang][tm->tm_wday], *month = s_months[lang][tm->tm_mon];
    char date[64], clock[16];
    if (lang == SCHED_LANG_ES) {
        snprintf (date, sizeof date, "%s %d de %s", day, tm->tm_mday, month);
        snprintf (clock, sizeof clock, "%02d:%02d", tm->tm_hour, tm->tm_min);
    } else {
        int hour = tm->tm_hour % 12 ? tm->tm_hour % 12 : 12;
        snprintf (date, sizeof date, "%s, %s %d", day, month, tm->tm_mday);
        snprintf (clock, sizeof clock, "%d:%02d %s", hour, tm->tm_min,
                  tm->tm_hour < 12 ? "AM" : "PM");
    }
    int n = part == SCHED_WHEN_DATE   ? snprintf (buf, size, "%s", date)
            : part == SCHED_WHEN_TIME ? snprintf (buf, size, "%s", clock)
                                      : snprintf (buf, size, "%s, %s", date, clock);
    return n > 0 ? (size_t)n : 0;
}

bool
sched_wa_window_open (int64_t last_inbound_ms, int64_t now_ms)
{
    if (last_inbound_ms <= 0)
        return false;
    int64_t age = now_ms - last_inbound_ms;
    return age < SCHED_WA_WINDOW_MS - SCHED_WA_WINDOW_MARGIN_MS;
}

//  -------------------------------------------------------------------
//  Texts and bodies

//  The value of a field for the booking, or NULL when it has none.
static const char *
s_value (sched_wa_field_t field, const sched_booking_t *b, const sched_config_t *cfg, char *buf,
         size_t size)
{
    if (field <= SCHED_WA_TIME) {
        if (b->start <= 0)
            return NULL;
        struct tm tm;
        s_local (b->start, &tm);
        sched_when_part_t part = field == SCHED_WA_WHEN   ? SCHED_WHEN_FULL
                                 : field == SCHED_WA_DATE ? SCHED_WHEN_DATE
                                                          : SCHED_WHEN_TIME;
        return sched_format_when (&tm, cfg->whatsapp.lang, part, buf, size) ? buf : NULL;
    }
    if (field == SCHED_WA_LOCATION)
        return b->location;
    if (field == SCHED_WA_URL)
        return b->confirmation_url;
    int agent = sched_agent_index (cfg, b->agent_id);
    return agent >= 0 ? cfg->agents[agent].name : NULL;
}

//  Appends a and b (NULL: nothing) to a growing string.
static void
s_add (char **text, const char *a, const char *b)
{
    char *joined = zhub_sprintf ("%s%s%s", *text ? *text : "", a ? a : "", b ? b : "");
    free (*text);
    *text = joined;
}

char *
sched_whatsapp_text (sched_wa_kind_t kind, const sched_booking_t *b, const sched_config_t *cfg)
{
    const s_words_t *w = &s_words[cfg->whatsapp.lang == SCHED_LANG_EN];
    char when[80], scratch[8];
    const char *place = s_value (SCHED_WA_LOCATION, b, cfg, scratch, sizeof scratch);
    const char *url = s_value (SCHED_WA_URL, b, cfg, scratch, sizeof scratch);
    char *text = NULL;
    if (kind == SCHED_WA_LINK) {
        s_add (&text, w->head[SCHED_WA_LINK], NULL);
        if (place)
            s_add (&text, w->link_at, place);
        s_add (&text, w->link_tail, url);
        return text;
    }
    const char *agent = s_value (SCHED_WA_AGENT, b, cfg, scratch, sizeof scratch);
    const char *at = s_value (SCHED_WA_WHEN, b, cfg, when, sizeof when);
    s_add (&text, w->head[kind == SCHED_WA_REMINDER], at);
    if (place)
        s_add (&text, w->at, place);
    if (agent)
        s_add (&text, w->with, agent);
    s_add (&text, ".", NULL);
    if (url)
        s_add (&text, w->details, url);
    return text;
}

json_t *
sched_whatsapp_body (sched_wa_kind_t kind, const sched_booking_t *b, const sched_config_t *cfg,
                     bool window_open, bool *templated, char *why, size_t why_size)
{
    const sched_wa_template_t *t = kind < SCHED_WA_KINDS ? &cfg->whatsapp.templates[kind] : NULL;
    *templated = false;
    if (!window_open && (!t || !t->project_id)) {
        snprintf (why, why_size,
                  "outside the 24-hour WhatsApp window and no %s template configured "
                  "(whatsapp.templates.%s)",
                  sched_wa_kind_name (kind), sched_wa_kind_name (kind));
        return NULL;
    }
    json_t *receiver = b->phone ? json_pack ("{s:s, s:s}", "identifierKey", "phonenumber",
                                             "identifierValue", b->phone)
                                : json_pack ("{s:s}", "id", b->bird_id ? b->bird_id : "");
    json_t *body = json_pack ("{s:{s:[o]}, s:s}", "receiver", "contacts", receiver, "reference",
                              b->booking_id ? b->booking_id : "");
    if (window_open) {
        char *text = sched_whatsapp_text (kind, b, cfg);
        json_object_set_new (body, "body",
                             json_pack ("{s:s, s:{s:s}}", "type", "text", "text", "text", text));
        free (text);
        return body;
    }
    //  A variable whose value the booking lacks is left out rather than
    //  sent empty (WhatsApp refuses empty parameters).
    json_t *params = json_array ();
    for (size_t i = 0; i < t->param_count; i++) {
        char buf[80];
        const char *value = s_value (t->params[i].field, b, cfg, buf, sizeof buf);
        if (value && *value)
            json_array_append_new (params, json_pack ("{s:s, s:s, s:s}", "type", "string", "key",
                                                      t->params[i].key, "value", value));
    }
    json_object_set_new (
        body, "template",
        json_pack ("{s:s, s:s, s:s, s:o}", "projectId", t->project_id, "version", t->version,
                   "locale", t->locale ? t->locale : cfg->whatsapp.locale, "parameters", params));
    *templated = true;
    return body;
}

zhub_rc_t
sched_wa_inbound_read (const json_t *data, int64_t fallback_ms, char **contact_id, int64_t *at_ms)
{
    *contact_id = NULL;
    *at_ms = fallback_ms;
    const json_t *payload = json_object_get (data, "payload");
    const char *direction = json_string_value (json_object_get (payload, "direction"));
    const json_t *contact = json_object_get (json_object_get (payload, "sender"), "contact");
    char *id = s_str (contact, "id");
    //  Bird's channel messages say "incoming" for what a person sent
    //  (https://docs.bird.com/api/channels-api/message-status-and-interactions).
    if (!id || (direction && strcmp (direction, "incoming"))) {
        free (id);
        return ZHUB_REJECT;
    }
    int64_t created = s_when (json_object_get (payload, "createdAt"));
    if (created > 0)
        *at_ms = created;
    *contact_id = id;
    return ZHUB_OK;
}
