//  The intent rules (see intent.h): the text normalisation, the shipped
//  Spanish and English tables, the mapping file's overrides, and the
//  classification. Tables are data: a phrase is matched as whole words in
//  the normalised text, a one-word phrase of INTENT_FUZZY_MIN letters or
//  more also one typo away (a letter missing, extra, wrong, or two
//  swapped: "ajendar", "vicita", "recorido"), and "=x" only when the whole
//  message is x ("baja" alone opts out; "¿baja el precio?" does not).
#include "intent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_names[INTENT_COUNT] = {"tour_request", "pricing", "availability",
                                                  "human",        "opt_out", "other"};

const char *
intent_name (intent_kind_t kind)
{
    return kind >= 0 && kind < INTENT_COUNT ? s_names[kind] : "other";
}

int
intent_from_name (const char *name)
{
    for (int i = 0; name && i < INTENT_COUNT; i++)
        if (!strcmp (name, s_names[i]))
            return i;
    return -1;
}

//  -------------------------------------------------------------------
//  Normalising

//  Latin-1 supplement letters U+00C0..U+00FF folded to ASCII lower case;
//  0 for the signs (× ÷), which become spaces.
static const char s_fold[64] = "aaaaaaaceeeeiiiidnooooo\0ouuuuyts"
                               "aaaaaaaceeeeiiiidnooooo\0ouuuuyty";

char *
intent_normalize (const char *text)
{
    size_t size = text ? strlen (text) : 0;
    char *out = zhub_malloc (size + 1);
    size_t n = 0;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)text[i];
        char letter = 0;
        if (c >= 'A' && c <= 'Z')
            letter = (char)(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            letter = (char)c;
        else if (c == '\'')
            continue; //  "don't" -> "dont"
        else if (c == 0xC3 && i + 1 < size && (unsigned char)text[i + 1] >= 0x80
                 && (unsigned char)text[i + 1] <= 0xBF) {
            letter = s_fold[(unsigned char)text[i + 1] - 0x80];
            i++;
        } else if (c == 0xE2 && i + 2 < size && (unsigned char)text[i + 1] == 0x80
                   && (unsigned char)text[i + 2] == 0x99) {
            i += 2; //  ’ as an apostrophe
            continue;
        } else if ((c == ':' || c == '/') && n > 0 && out[n - 1] >= '0' && out[n - 1] <= '9'
                   && i + 1 < size && text[i + 1] >= '0' && text[i + 1] <= '9')
            letter = (char)c;
        else if (c >= 0x80) {
            //  another UTF-8 sequence (¿ ¡ emoji ...): one space
            while (i + 1 < size && ((unsigned char)text[i + 1] & 0xC0) == 0x80)
                i++;
        }
        if (!letter) {
            if (n > 0 && out[n - 1] != ' ')
                out[n++] = ' ';
            continue;
        }
        out[n++] = letter;
    }
    //  "holaaa" -> "hola": a run of three or more equal letters is one
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        char c = out[i];
        size_t run = 1;
        while (c >= 'a' && c <= 'z' && i + run < n && out[i + run] == c)
            run++;
        out[kept++] = c;
        if (run >= 3)
            i += run - 1;
    }
    n = kept;
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = 0;
    return out;
}

//  -------------------------------------------------------------------
//  The shipped tables

typedef struct {
    const char *code;
    const char *const *lists[INTENT_OTHER];
    const char *const *hints;
} s_table_t;

static const char *const s_es_tour[] = {"agendar",
                                        "agenda",
                                        "agendar una visita",
                                        "visita",
                                        "visitar",
                                        "visitarlo",
                                        "visitarla",
                                        "cita",
                                        "una cita",
                                        "recorrido",
                                        "ver el depa",
                                        "ver el departamento",
                                        "ver el depto",
                                        "ver la casa",
                                        "ver el inmueble",
                                        "ver la propiedad",
                                        "conocer el depa",
                                        "conocer el departamento",
                                        "ir a ver",
                                        "pasar a ver",
                                        "verlo",
                                        "verla",
                                        "puedo ir",
                                        "programar una visita",
                                        "apartar una cita",
                                        "mostrar el depa",
                                        "ensenar el depa",
                                        "tour",
                                        "ajendar",
                                        "bisita",
                                        "vicita",
                                        "recorido",
                                        "departamentito",
                                        NULL};
static const char *const s_es_pricing[] = {
    "precio", "precios", "cuanto cuesta", "cuanto es",   "cuanto sale", "cuanto cobran",
    "costo",  "costos",  "renta",         "mensualidad", "deposito",    "cotizacion",
    "presio", "cuesta",  "mantenimiento", NULL};
static const char *const s_es_availability[] = {"disponible",
                                                "disponibles",
                                                "disponibilidad",
                                                "sigue disponible",
                                                "esta disponible",
                                                "hay departamentos",
                                                "hay depas",
                                                "tienen departamentos",
                                                "quedan departamentos",
                                                "libre",
                                                "desocupado",
                                                "cuando puedo mudarme",
                                                "mudarme",
                                                "disponivle",
                                                NULL};
static const char *const s_es_human[] = {"hablar con un asesor",
                                         "hablar con una persona",
                                         "hablar con alguien",
                                         "asesor",
                                         "asesora",
                                         "persona",
                                         "una persona real",
                                         "humano",
                                         "agente",
                                         "ejecutivo",
                                         "ejecutiva",
                                         "operador",
                                         "que me llamen",
                                         "llamenme",
                                         "marquenme",
                                         "atencion personal",
                                         "un humano",
                                         NULL};
static const char *const s_es_opt_out[] = {"=baja",
                                           "=stop",
                                           "=alto",
                                           "=cancelar",
                                           "darme de baja",
                                           "dar de baja",
                                           "dame de baja",
                                           "denme de baja",
                                           "no me escriban",
                                           "no me manden mensajes",
                                           "ya no me manden",
                                           "ya no me escriban",
                                           "dejen de escribirme",
                                           "deja de escribirme",
                                           "no quiero mensajes",
                                           "no quiero recibir mensajes",
                                           "cancelar suscripcion",
                                           "no me contacten",
                                           NULL};
static const char *const s_es_hints[] = {
    "hola", "buenas", "buenos", "dias", "tardes", "quiero", "quisiera", "gracias", "por favor",
    "el",   "la",     "los",    "las",  "de",     "que",    "para",     "una",     "un",
    "me",   "manana", "hoy",    "si",   "con",    "en",     "por",      NULL};

static const char *const s_en_tour[] = {"schedule a tour",
                                        "tour",
                                        "visit",
                                        "a visit",
                                        "viewing",
                                        "showing",
                                        "see the apartment",
                                        "see the unit",
                                        "see the place",
                                        "see it",
                                        "book a visit",
                                        "book a tour",
                                        "come by",
                                        "stop by",
                                        "schedule a visit",
                                        "appointment",
                                        "schedual",
                                        "apartment tour",
                                        NULL};
static const char *const s_en_pricing[] = {"price",   "prices", "pricing", "how much", "cost",
                                           "costs",   "rent",   "deposit", "fees",     "fee",
                                           "monthly", "quote",  NULL};
static const char *const s_en_availability[] = {"available", "availability", "vacancy",
                                                "vacancies", "any units",    "still available",
                                                "move in",   "openings",     NULL};
static const char *const s_en_human[] = {"talk to a person",
                                         "speak to a person",
                                         "talk to someone",
                                         "speak to someone",
                                         "speak with someone",
                                         "real person",
                                         "human",
                                         "agent",
                                         "representative",
                                         "advisor",
                                         "call me",
                                         "a person",
                                         NULL};
static const char *const s_en_opt_out[] = {
    "=stop",          "=unsubscribe", "unsubscribe", "stop messaging", "stop texting",
    "stop sending",   "opt out",      "remove me",   "dont text me",   "dont message me",
    "do not contact", "do not text",  NULL};
static const char *const s_en_hints[] = {
    "hi", "hello", "hey", "want",     "would", "like", "thanks", "thank", "please", "the", "i",
    "to", "is",    "can", "tomorrow", "today", "you",  "my",     "for",   "and",    NULL};

static const s_table_t s_tables[] = {
    {"es", {s_es_tour, s_es_pricing, s_es_availability, s_es_human, s_es_opt_out}, s_es_hints},
    {"en", {s_en_tour, s_en_pricing, s_en_availability, s_en_human, s_en_opt_out}, s_en_hints},
};

static void
s_list_add (intent_list_t *list, const char *phrase)
{
    if (list->count >= INTENT_MAX_PHRASES)
        return;
    char *normalized = intent_normalize (phrase[0] == '=' ? phrase + 1 : phrase);
    if (!*normalized) {
        free (normalized);
        return;
    }
    list->phrases = zhub_realloc (list->phrases, (list->count + 1) * sizeof *list->phrases);
    list->phrases[list->count++] =
        phrase[0] == '=' ? zhub_sprintf ("=%s", normalized) : zhub_strdup (normalized);
    free (normalized);
}

static void
s_list_clear (intent_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free (list->phrases[i]);
    free (list->phrases);
    memset (list, 0, sizeof *list);
}

void
intent_rules_default (intent_rules_t *rules)
{
    memset (rules, 0, sizeof *rules);
    for (size_t t = 0; t < sizeof s_tables / sizeof s_tables[0]; t++) {
        intent_language_t *language = &rules->languages[rules->count++];
        snprintf (language->code, sizeof language->code, "%s", s_tables[t].code);
        for (int k = 0; k < INTENT_OTHER; k++)
            for (const char *const *p = s_tables[t].lists[k]; *p; p++)
                s_list_add (&language->lists[k], *p);
        for (const char *const *p = s_tables[t].hints; *p; p++)
            s_list_add (&language->hints, *p);
    }
}

void
intent_rules_clear (intent_rules_t *rules)
{
    for (size_t i = 0; i < rules->count; i++) {
        for (int k = 0; k < INTENT_OTHER; k++)
            s_list_clear (&rules->languages[i].lists[k]);
        s_list_clear (&rules->languages[i].hints);
    }
    memset (rules, 0, sizeof *rules);
}

static int
s_language (intent_rules_t *rules, const char *code)
{
    for (size_t i = 0; i < rules->count; i++)
        if (!strcmp (rules->languages[i].code, code))
            return (int)i;
    return -1;
}

//  A list of the mapping file replaces list. -1 with err set.
static int
s_read_list (intent_list_t *list, const json_t *value, const char *path, char *err, size_t err_size)
{
    if (!json_is_array (value) || json_array_size (value) > INTENT_MAX_PHRASES) {
        snprintf (err, err_size, "%s must be an array of at most %d phrases", path,
                  INTENT_MAX_PHRASES);
        return -1;
    }
    size_t i;
    const json_t *item;
    json_array_foreach (value, i, item)
    {
        if (!json_is_string (item) || json_string_length (item) == 0
            || json_string_length (item) > 200) {
            snprintf (err, err_size, "%s[%zu] must be a phrase of 1 to 200 bytes", path, i);
            return -1;
        }
    }
    s_list_clear (list);
    json_array_foreach (value, i, item) s_list_add (list, json_string_value (item));
    return 0;
}

int
intent_rules_apply (intent_rules_t *rules, const json_t *section, char *err, size_t err_size)
{
    if (!section)
        return 0;
    const json_t *languages = json_object_get (section, "languages");
    if (languages && !json_is_object (languages)) {
        snprintf (err, err_size, "intent.languages must be an object");
        return -1;
    }
    const char *code;
    const json_t *lists;
    json_object_foreach ((json_t *)languages, code, lists)
    {
        size_t size = strlen (code);
        if (size < 2 || size > 15 || !json_is_object (lists)) {
            snprintf (err, err_size,
                      "intent.languages.%.32s must be a language code (es, en, pt-BR) with an "
                      "object of lists",
                      code);
            return -1;
        }
        int index = s_language (rules, code);
        if (index < 0) {
            if (rules->count >= INTENT_MAX_LANGUAGES) {
                snprintf (err, err_size, "intent.languages: at most %d languages",
                          INTENT_MAX_LANGUAGES);
                return -1;
            }
            index = (int)rules->count++;
            snprintf (rules->languages[index].code, sizeof rules->languages[index].code, "%s",
                      code);
        }
        const char *name;
        const json_t *value;
        json_object_foreach ((json_t *)lists, name, value)
        {
            char path[96];
            snprintf (path, sizeof path, "intent.languages.%s.%.32s", code, name);
            int kind = intent_from_name (name);
            intent_list_t *list = !strcmp (name, "hints") ? &rules->languages[index].hints
                                  : kind >= 0 && kind < INTENT_OTHER
                                      ? &rules->languages[index].lists[kind]
                                      : NULL;
            if (!list) {
                snprintf (err, err_size,
                          "%s: not a list (tour_request, pricing, availability, human, opt_out, "
                          "hints)",
                          path);
                return -1;
            }
            if (s_read_list (list, value, path, err, err_size))
                return -1;
        }
    }
    const json_t *fallback = json_object_get (section, "default_language");
    if (fallback) {
        int index =
            json_is_string (fallback) ? s_language (rules, json_string_value (fallback)) : -1;
        if (index < 0) {
            snprintf (err, err_size, "intent.default_language must name a language of the rules");
            return -1;
        }
        rules->fallback = index;
    }
    return 0;
}

//  -------------------------------------------------------------------
//  Matching

//  Damerau-Levenshtein distance of a and b is at most 1.
static bool
s_one_typo (const char *a, size_t na, const char *b, size_t nb)
{
    if (na > nb + 1 || nb > na + 1)
        return false;
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    if (i == na && i == nb)
        return true;
    if (na == nb) {
        if (!strncmp (a + i + 1, b + i + 1, na - i - 1))
            return true; //  one wrong letter
        return i + 1 < na && a[i] == b[i + 1] && a[i + 1] == b[i]
               && !strncmp (a + i + 2, b + i + 2, na - i - 2); //  two swapped
    }
    if (na > nb)
        return !strncmp (a + i + 1, b + i, nb - i);
    return !strncmp (a + i, b + i + 1, na - i);
}

//  2: phrase found as it is; 1: one typo away (one word); 0: not found.
static int
s_match (const char *text, const char *phrase)
{
    if (phrase[0] == '=')
        return !strcmp (text, phrase + 1) ? 2 : 0;
    size_t size = strlen (phrase);
    for (const char *at = strstr (text, phrase); at; at = strstr (at + 1, phrase))
        if ((at == text || at[-1] == ' ') && (at[size] == 0 || at[size] == ' '))
            return 2;
    if (size < INTENT_FUZZY_MIN || strchr (phrase, ' '))
        return 0;
    for (const char *word = text; *word;) {
        const char *end = strchr (word, ' ');
        size_t length = end ? (size_t)(end - word) : strlen (word);
        if (length >= INTENT_FUZZY_MIN - 1 && s_one_typo (word, length, phrase, size))
            return 1;
        word = end ? end + 1 : word + length;
    }
    return 0;
}

void
intent_classify (const intent_rules_t *rules, const char *normalized, intent_verdict_t *verdict)
{
    static const intent_kind_t order[] = {INTENT_OPT_OUT, INTENT_HUMAN, INTENT_TOUR,
                                          INTENT_AVAILABILITY, INTENT_PRICING};
    memset (verdict, 0, sizeof *verdict);
    int best_language = rules->fallback, best_score = 0;
    int found[INTENT_MAX_LANGUAGES][INTENT_OTHER];
    const char *phrase[INTENT_MAX_LANGUAGES][INTENT_OTHER];
    memset (found, 0, sizeof found);
    for (size_t l = 0; l < rules->count; l++) {
        const intent_language_t *language = &rules->languages[l];
        int score = 0;
        for (int k = 0; k < INTENT_OTHER; k++) {
            phrase[l][k] = NULL;
            for (size_t p = 0; p < language->lists[k].count; p++) {
                int m = s_match (normalized, language->lists[k].phrases[p]);
                if (m > found[l][k]) {
                    found[l][k] = m;
                    phrase[l][k] = language->lists[k].phrases[p];
                }
            }
            score += found[l][k] > 0; //  a list, not its phrases: variants do not outvote
        }
        for (size_t p = 0; p < language->hints.count; p++)
            score += s_match (normalized, language->hints.phrases[p]) == 2;
        if (score > best_score) {
            best_score = score;
            best_language = (int)l;
        }
    }
    snprintf (verdict->language, sizeof verdict->language, "%s",
              rules->count ? rules->languages[best_language].code : "und");
    //  The intents any language's lists found (a Spanish speaker writes
    //  "stop" too); the best language's first.
    int hits = 0, exact = 0;
    verdict->intent = INTENT_OTHER;
    for (size_t o = 0; o < sizeof order / sizeof order[0]; o++) {
        intent_kind_t k = order[o];
        int best = found[best_language][k];
        const char *which = phrase[best_language][k];
        for (size_t l = 0; l < rules->count && !best; l++)
            if (found[l][k]) {
                best = found[l][k];
                which = phrase[l][k];
            }
        if (!best)
            continue;
        hits++;
        if (verdict->intent == INTENT_OTHER) {
            verdict->intent = k;
            exact = best == 2;
            snprintf (verdict->matched, sizeof verdict->matched, "%s", which);
        }
    }
    verdict->confidence = hits == 0 ? 0.5 : hits > 1 ? 0.6 : exact ? 0.9 : 0.75;
}
