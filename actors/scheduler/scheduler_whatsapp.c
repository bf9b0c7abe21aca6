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

//  The shipped texts, per language and kind (patterns: see
//  scheduler_whatsapp.h). The mapping file's whatsapp.texts replace them
//  per locale.
static const char *const s_texts[2][SCHED_WA_KINDS] = {
    {"Tu visita está confirmada: {when}[, en {location}][, con {agent}].[ Detalles: {url}]",
     "Recordatorio de tu visita: {when}[, en {location}][, con {agent}].[ Detalles: {url}]",
     "Elige la hora de tu visita[ a {location}] aquí: {url}",
     "No hay un asesor libre a la hora que pediste para tu visita[ a {location}].[ Horarios "
     "disponibles: {alternatives}.] Responde a este mensaje con el que prefieras.",
     "Tu visita del {when}[ a {location}] fue cancelada. Si quieres agendar otra, responde a "
     "este mensaje."},
    {"Your property tour is confirmed: {when}[, at {location}][, with {agent}].[ Details: {url}]",
     "Reminder of your property tour: {when}[, at {location}][, with {agent}].[ Details: {url}]",
     "Choose the time of your property tour[ at {location}] here: {url}",
     "No agent is free at the time you asked for your property tour[ at {location}].[ Free "
     "times: {alternatives}.] Reply to this message with the one you prefer.",
     "Your property tour on {when}[ at {location}] was canceled. To book another, reply to this "
     "message."}};

const char *
sched_wa_default_text (sched_lang_t lang, sched_wa_kind_t kind)
{
    return kind < SCHED_WA_KINDS ? s_texts[lang == SCHED_LANG_EN][kind] : NULL;
}

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
    if (field == SCHED_WA_ALTS) {
        //  "jueves 5 de marzo, 11:00; viernes 6 de marzo, 10:00"
        size_t used = 0;
        for (size_t i = 0; i < b->alternative_count && i < SCHED_MAX_ALTERNATIVES; i++) {
            struct tm tm;
            char one[80];
            s_local (b->alternatives[i], &tm);
            if (!sched_format_when (&tm, cfg->whatsapp.lang, SCHED_WHEN_FULL, one, sizeof one))
                continue;
            int n = snprintf (buf + used, size - used, "%s%s", used ? "; " : "", one);
            if (n < 0 || (size_t)n >= size - used)
                break; //  what does not fit whole is left out
            used += (size_t)n;
        }
        return used ? buf : NULL;
    }
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

//  Renders pattern with the booking's values; in a [...] group a
//  placeholder without a value drops the whole group. The pattern passed
//  sched_wa_text_check. Fresh string.
static char *
s_render (const char *pattern, const sched_booking_t *b, const sched_config_t *cfg)
{
    size_t cap = strlen (pattern) + 1, len = 0;
    for (const char *p = pattern; *p; p++)
        if (*p == '{')
            cap += SCHED_WA_VALUE_MAX;
    char *text = zhub_malloc (cap);
    size_t group = 0; //  where the open group began in text
    bool in_group = false, group_ok = true;
    for (const char *p = pattern; *p; p++) {
        if (*p == '[') {
            in_group = true;
            group_ok = true;
            group = len;
        } else if (*p == ']') {
            if (!group_ok)
                len = group;
            in_group = false;
        } else if (*p == '{') {
            const char *close = strchr (p, '}');
            sched_wa_field_t field;
            char buf[SCHED_WA_VALUE_MAX];
            const char *value = NULL;
            if (close && !sched_wa_field_of (p + 1, (size_t)(close - p - 1), &field))
                value = s_value (field, b, cfg, buf, sizeof buf);
            if (value && *value) {
                size_t n = strlen (value);
                if (n > SCHED_WA_VALUE_MAX - 1)
                    n = SCHED_WA_VALUE_MAX - 1;
                memcpy (text + len, value, n);
                len += n;
            } else if (in_group)
                group_ok = false;
            p = close ? close : p + strlen (p) - 1;
        } else
            text[len++] = *p;
    }
    text[len] = 0;
    return text;
}

char *
sched_whatsapp_text (sched_wa_kind_t kind, const sched_booking_t *b, const sched_config_t *cfg)
{
    const char *pattern = kind < SCHED_WA_KINDS ? cfg->whatsapp.texts[kind] : NULL;
    if (!pattern)
        pattern = sched_wa_default_text (cfg->whatsapp.lang, kind);
    return s_render (pattern ? pattern : "", b, cfg);
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
        char buf[SCHED_WA_VALUE_MAX];
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
