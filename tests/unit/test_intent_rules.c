//  The intent router's rule tables: the normalisation, the shipped Spanish
//  and English phrases (accents, typos and letters held down included),
//  the priority among intents, the language read, and the mapping file's
//  overrides.
#include "intent.h"
#include "zhub_test.h"

#include <stdlib.h>

static void
test_normalize_folds_accents_case_and_punctuation (void)
{
    struct {
        const char *in, *out;
    } cases[] = {
        {"¡Hola! ¿Quiero AGENDAR una visita?", "hola quiero agendar una visita"},
        {"Mañana a las 10:30, ¿sí?", "manana a las 10:30 si"},
        {"el 15/03 por favor", "el 15/03 por favor"},
        {"don't text me", "dont text me"},
        {"don’t", "dont"},
        {"holaaaa   👋 buenas", "hola buenas"},
        {"ÁÉÍÓÚ ÑÜ ç", "aeiou nu c"},
        {"12: 30 a/b", "12 30 a b"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = intent_normalize (cases[i].in);
        CHECK_STR (out, cases[i].out);
        free (out);
    }
}

typedef struct {
    const char *text;
    const char *intent;
    const char *language;
} s_case_t;

static const s_case_t s_cases[] = {
    {"Hola, quiero agendar una visita mañana a las 11", "tour_request", "es"},
    {"quisiera ver el depa", "tour_request", "es"},
    {"me gustaria conocer el departamento", "tour_request", "es"},
    {"¿puedo ir a ver la casa?", "tour_request", "es"},
    {"quiero hacer un recorrido", "tour_request", "es"},
    {"quiero ajendar una cita", "tour_request", "es"},   //  misspelt
    {"quiero agnedar una vicita", "tour_request", "es"}, //  two typos, each one away
    {"una cita para el sabado", "tour_request", "es"},
    {"¿Cuánto cuesta la renta?", "pricing", "es"},
    {"cual es el precio del depto", "pricing", "es"},
    {"¿sigue disponible?", "availability", "es"},
    {"¿tienen departamentos disponibles?", "availability", "es"},
    {"quiero hablar con una persona", "human", "es"},
    {"hablar con un asesor por favor", "human", "es"},
    {"¿eres humano?", "human", "es"},
    {"Baja", "opt_out", "es"},
    {"BAJA!!!", "opt_out", "es"},
    {"stop", "opt_out", "es"}, //  in both tables: the default language
    {"ya no me manden mensajes", "opt_out", "es"},
    {"por favor darme de baja", "opt_out", "es"},
    {"¿baja el precio si pago un año?", "pricing", "es"}, //  "baja" inside a sentence
    {"hola buenas tardes", "other", "es"},
    {"I'd like to schedule a tour", "tour_request", "en"},
    {"can I see the apartment tomorrow?", "tour_request", "en"},
    {"how much is the rent?", "pricing", "en"},
    {"is it still available?", "availability", "en"},
    {"I want to talk to a person", "human", "en"},
    {"please unsubscribe me", "opt_out", "en"},
    {"STOP texting me please", "opt_out", "en"},
    {"thanks, that's all", "other", "en"},
    //  several intents: the more urgent one wins
    {"quiero agendar una visita pero antes hablar con un asesor", "human", "es"},
    {"no me escriban, no quiero agendar nada", "opt_out", "es"},
};

static void
test_the_shipped_tables_classify_spanish_and_english (void)
{
    intent_rules_t rules;
    intent_rules_default (&rules);
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        char *normalized = intent_normalize (s_cases[i].text);
        intent_verdict_t verdict;
        intent_classify (&rules, normalized, &verdict);
        if (strcmp (intent_name (verdict.intent), s_cases[i].intent)
            || strcmp (verdict.language, s_cases[i].language))
            fprintf (stderr, "  \"%s\": %s/%s, expected %s/%s\n", s_cases[i].text,
                     intent_name (verdict.intent), verdict.language, s_cases[i].intent,
                     s_cases[i].language);
        CHECK_STR (intent_name (verdict.intent), s_cases[i].intent);
        CHECK_STR (verdict.language, s_cases[i].language);
        free (normalized);
    }
    intent_rules_clear (&rules);
}

static void
test_confidence_says_how_the_rules_decided (void)
{
    intent_rules_t rules;
    intent_rules_default (&rules);
    intent_verdict_t v;
    intent_classify (&rules, "quiero agendar una visita", &v);
    CHECK (v.confidence > 0.89 && v.confidence < 0.91);
    intent_classify (&rules, "quiero agemdar", &v); //  through a typo
    CHECK (v.intent == INTENT_TOUR && v.confidence > 0.74 && v.confidence < 0.76);
    intent_classify (&rules, "quiero agendar y saber el precio", &v);
    CHECK (v.intent == INTENT_TOUR && v.confidence > 0.59 && v.confidence < 0.61);
    intent_classify (&rules, "hola", &v);
    CHECK (v.intent == INTENT_OTHER && v.confidence > 0.49 && v.confidence < 0.51);
    intent_rules_clear (&rules);
}

static void
test_the_mapping_file_replaces_lists_and_adds_languages (void)
{
    intent_rules_t rules;
    intent_rules_default (&rules);
    json_error_t error;
    json_t *section = json_loads (
        "{\"default_language\": \"en\", \"languages\": {\"es\": {\"opt_out\": [\"=basta\"]},"
        " \"pt\": {\"tour_request\": [\"agendar uma visita\", \"visitar\"],"
        " \"hints\": [\"ola\", \"obrigado\", \"voce\"]}}}",
        0, &error);
    char err[200] = "";
    CHECK (intent_rules_apply (&rules, section, err, sizeof err) == 0);
    intent_verdict_t v;
    intent_classify (&rules, "baja", &v); //  no longer Spanish opt-out
    CHECK (v.intent == INTENT_OTHER);
    intent_classify (&rules, "basta", &v);
    CHECK (v.intent == INTENT_OPT_OUT);
    intent_classify (&rules, "ola obrigado quero agendar uma visita voce", &v);
    CHECK (v.intent == INTENT_TOUR);
    CHECK_STR (v.language, "pt");
    intent_classify (&rules, "zzz", &v); //  nothing matches: the default language
    CHECK_STR (v.language, "en");
    json_decref (section);

    //  Bad sections are refused naming the key
    const char *bad[] = {"{\"languages\": []}", "{\"languages\": {\"es\": {\"prices\": []}}}",
                         "{\"languages\": {\"es\": {\"pricing\": [1]}}}",
                         "{\"default_language\": \"fr\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *s = json_loads (bad[i], 0, &error);
        err[0] = 0;
        CHECK (intent_rules_apply (&rules, s, err, sizeof err) == -1);
        CHECK (strstr (err, "intent.") != NULL);
        json_decref (s);
    }
    intent_rules_clear (&rules);
}

int
main (void)
{
    RUN (test_normalize_folds_accents_case_and_punctuation);
    RUN (test_the_shipped_tables_classify_spanish_and_english);
    RUN (test_confidence_says_how_the_rules_decided);
    RUN (test_the_mapping_file_replaces_lists_and_adds_languages);
    TEST_EXIT ();
}
