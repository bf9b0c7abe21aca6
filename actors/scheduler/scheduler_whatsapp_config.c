//  The scheduler's "whatsapp" configuration (see scheduler_whatsapp.h):
//  the locale, and per kind of message the Bird template to use outside
//  the 24-hour window with the booking fields its variables take. Read
//  with the rest of the "scheduler" section (scheduler_config.c), below
//  the texts and bodies that follow it (scheduler_whatsapp.c). Pure.
#include "scheduler_core_internal.h"
#include "scheduler_whatsapp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const s_kinds[SCHED_WA_KINDS] = {"confirmation", "reminder", "link",
                                                    "alternatives", "cancellation"};
static const char *const s_fields[SCHED_WA_FIELDS] = {"when",  "date", "time",        "location",
                                                      "agent", "url",  "alternatives"};

const char *
sched_wa_kind_name (sched_wa_kind_t kind)
{
    return kind < SCHED_WA_KINDS ? s_kinds[kind] : "?";
}

//  -------------------------------------------------------------------
//  Configuration

//  BCP 47's shape: a two-letter language ("es"), then subtags of letters
//  and digits after single dashes ("-MX", "-419").
static bool
s_locale_ok (const char *locale)
{
    if (!locale || !islower ((unsigned char)locale[0]) || !islower ((unsigned char)locale[1])
        || (locale[2] && locale[2] != '-'))
        return false;
    for (const char *p = locale + 2; *p; p++)
        if (!isalnum ((unsigned char)*p) && !(*p == '-' && isalnum ((unsigned char)p[1])))
            return false;
    return true;
}

int
sched_lang_of (const char *locale, sched_lang_t *lang)
{
    if (!s_locale_ok (locale))
        return -1;
    if (!strncmp (locale, "es", 2))
        *lang = SCHED_LANG_ES;
    else if (!strncmp (locale, "en", 2))
        *lang = SCHED_LANG_EN;
    else
        return -1;
    return 0;
}

int
sched_wa_field_of (const char *name, size_t len, sched_wa_field_t *field)
{
    for (int i = 0; name && i < SCHED_WA_FIELDS; i++)
        if (strlen (s_fields[i]) == len && !strncmp (name, s_fields[i], len)) {
            *field = (sched_wa_field_t)i;
            return 0;
        }
    return -1;
}

static int
s_field_of (const char *name, sched_wa_field_t *field)
{
    return name ? sched_wa_field_of (name, strlen (name), field) : -1;
}

int
sched_wa_text_check (const char *pattern, char *err, size_t err_size)
{
    bool in_group = false;
    if (!pattern || !*pattern || strlen (pattern) > SCHED_WA_TEXT_MAX) {
        snprintf (err, err_size, "a text of 1 to %d bytes", SCHED_WA_TEXT_MAX);
        return -1;
    }
    for (const char *p = pattern; *p; p++) {
        sched_wa_field_t field;
        const char *close = *p == '{' ? strchr (p, '}') : NULL;
        if (*p == '[' && in_group) {
            snprintf (err, err_size, "groups [...] do not nest");
            return -1;
        } else if (*p == ']' && !in_group) {
            snprintf (err, err_size, "a ] without its [");
            return -1;
        } else if (*p == '}') {
            snprintf (err, err_size, "a } without its {");
            return -1;
        } else if (*p == '{'
                   && (!close || sched_wa_field_of (p + 1, (size_t)(close - p - 1), &field))) {
            snprintf (err, err_size,
                      "{...} names one of when, date, time, location, agent, url, alternatives");
            return -1;
        }
        if (*p == '[' || *p == ']')
            in_group = *p == '[';
        if (close)
            p = close;
    }
    if (in_group) {
        snprintf (err, err_size, "a [ without its ]");
        return -1;
    }
    return 0;
}

//  One template; where names the key for err. 0 or -1.
static int
s_template (const json_t *obj, sched_wa_template_t *t, const char *where, char *err,
            size_t err_size)
{
    const json_t *version = json_object_get (obj, "version");
    const json_t *locale = json_object_get (obj, "locale");
    const json_t *params = json_object_get (obj, "parameters");
    const char *bad = NULL;
    t->project_id = s_dup_str (obj, "project_id", NULL);
    t->version = s_dup_str (obj, "version", SCHED_WA_VERSION_DEFAULT);
    t->locale = s_dup_str (obj, "locale", NULL);
    //  Bird's template project ids are UUIDs; the version is "latest" or
    //  a version id (https://docs.bird.com/api/channels-api/message-types/template).
    if (!json_is_object (obj))
        bad = "(an object)";
    else if (!zhub_is_uuid (t->project_id))
        bad = ".project_id (the Bird template project id, a UUID)";
    else if (version
             && (!json_is_string (version)
                 || (strcmp (t->version, "latest") && !zhub_is_uuid (t->version))))
        bad = ".version (\"latest\" or a version id, a UUID)";
    //  Any language WhatsApp has may do for a template; only the form is checked.
    else if (locale && !s_locale_ok (t->locale))
        bad = ".locale (a BCP 47 locale such as es-MX)";
    else if (params && !json_is_object (params))
        bad = ".parameters (an object: template variable -> when, date, time, location, "
              "agent, url or alternatives)";
    else if (json_object_size (params) > SCHED_WA_MAX_PARAMS)
        bad = ".parameters (at most 8)";
    const char *key;
    const json_t *value;
    json_object_foreach ((json_t *)params, key, value)
    {
        if (bad)
            break;
        sched_wa_param_t *p = &t->params[t->param_count];
        if (!*key || s_field_of (json_string_value (value), &p->field))
            bad = ".parameters (each value one of when, date, time, location, agent, url, "
                  "alternatives)";
        else {
            p->key = zhub_strdup (key);
            t->param_count++;
        }
    }
    if (bad) {
        snprintf (err, err_size, "scheduler config: bad whatsapp.templates.%s%s", where, bad);
        return -1;
    }
    return 0;
}

//  whatsapp.texts: every locale's texts checked; kept, kind by kind,
//  the configured locale's, else its language's. 0 or -1.
static int
s_texts (const json_t *texts, sched_wa_config_t *cfg, char *err, size_t err_size)
{
    char lang[3] = {cfg->locale[0], cfg->locale[1], 0};
    const json_t *mine = json_object_get (texts, cfg->locale);
    const json_t *language = strcmp (lang, cfg->locale) ? json_object_get (texts, lang) : NULL;
    const char *locale;
    const json_t *set;
    json_object_foreach ((json_t *)texts, locale, set)
    {
        sched_lang_t lang;
        if (sched_lang_of (locale, &lang)) {
            snprintf (err, err_size,
                      "scheduler config: bad whatsapp.texts.%.40s (texts are for es-… or en-… "
                      "locales, e.g. es-MX, en-US, or es / en: the languages our dates are in)",
                      locale);
            return -1;
        }
        if (!json_is_object (set)) {
            snprintf (err, err_size,
                      "scheduler config: bad whatsapp.texts.%.40s (an object: kind -> text)",
                      locale);
            return -1;
        }
        const char *key;
        const json_t *value;
        json_object_foreach ((json_t *)set, key, value)
        {
            int kind = 0;
            char why[160];
            while (kind < SCHED_WA_KINDS && strcmp (key, s_kinds[kind]))
                kind++;
            if (kind == SCHED_WA_KINDS) {
                snprintf (err, err_size,
                          "scheduler config: bad whatsapp.texts.%.40s.%.40s (the kinds are "
                          "confirmation, reminder, link, alternatives and cancellation)",
                          locale, key);
                return -1;
            }
            if (sched_wa_text_check (json_string_value (value), why, sizeof why)) {
                snprintf (err, err_size, "scheduler config: bad whatsapp.texts.%.40s.%s (%s)",
                          locale, key, why);
                return -1;
            }
            if (set == mine || (set == language && !json_object_get (mine, key))) {
                free (cfg->texts[kind]);
                cfg->texts[kind] = zhub_strdup (json_string_value (value));
            }
        }
    }
    return 0;
}

int
sched_wa_config_from_json (const json_t *section, sched_wa_config_t *cfg, char *err,
                           size_t err_size)
{
    memset (cfg, 0, sizeof *cfg);
    const json_t *s = json_is_object (section) ? section : NULL;
    const json_t *locale = json_object_get (s, "locale");
    const json_t *templates = json_object_get (s, "templates");
    cfg->locale = s_dup_str (s, "locale", SCHED_WA_LOCALE_DEFAULT);
    const char *bad = NULL;
    if (section && !s)
        bad = "whatsapp (an object)";
    else if ((locale && !json_is_string (locale)) || sched_lang_of (cfg->locale, &cfg->lang))
        bad = "whatsapp.locale (es-… or en-…, e.g. es-MX: the languages our texts are in)";
    else if (templates && !json_is_object (templates))
        bad = "whatsapp.templates (an object: confirmation, reminder, link, alternatives, "
              "cancellation)";
    else if (json_object_get (s, "texts") && !json_is_object (json_object_get (s, "texts")))
        bad = "whatsapp.texts (an object: locale -> {kind: text})";
    if (bad) {
        snprintf (err, err_size, "scheduler config: bad %s", bad);
        sched_wa_config_clear (cfg);
        return -1;
    }
    const char *key;
    const json_t *value;
    json_object_foreach ((json_t *)templates, key, value)
    {
        int kind = 0;
        while (kind < SCHED_WA_KINDS && strcmp (key, s_kinds[kind]))
            kind++;
        if (kind == SCHED_WA_KINDS) {
            snprintf (err, err_size,
                      "scheduler config: bad whatsapp.templates.%.40s (the kinds are "
                      "confirmation, reminder, link, alternatives and cancellation)",
                      key);
            sched_wa_config_clear (cfg);
            return -1;
        }
        if (s_template (value, &cfg->templates[kind], key, err, err_size)) {
            sched_wa_config_clear (cfg);
            return -1;
        }
    }
    if (s_texts (json_object_get (s, "texts"), cfg, err, err_size)) {
        sched_wa_config_clear (cfg);
        return -1;
    }
    return 0;
}

void
sched_wa_config_clear (sched_wa_config_t *cfg)
{
    for (int k = 0; k < SCHED_WA_KINDS; k++) {
        sched_wa_template_t *t = &cfg->templates[k];
        free (t->project_id);
        free (t->version);
        free (t->locale);
        for (size_t i = 0; i < t->param_count; i++)
            free (t->params[i].key);
        free (cfg->texts[k]);
    }
    free (cfg->locale);
    memset (cfg, 0, sizeof *cfg);
}
