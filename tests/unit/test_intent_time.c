//  The intent router's time expressions: a table of Spanish and English
//  phrasings, each said at a reference time in a zone, with the times it
//  must give (UTC, written out by hand from the local times: Mexico City
//  is UTC-6 all year since 2022; New York's cases cross its daylight-saving
//  changes). Month and year ends, a leap day, and Mexico's statutory
//  holidays for "el próximo día hábil" are in it.
#include "intent.h"
#include "zhub_test.h"
#include "zhub_tz.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *zone, *now, *text;
    const char *expected[INTENT_MAX_TIMES];
} s_case_t;

static const s_case_t s_cases[] = {
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "Hola, quiero agendar una visita mañana a las 11",
     {"2030-01-11T17:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "mañana a las 11", {"2030-01-11T17:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "Mañana a las 11:30", {"2030-01-11T17:30:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "mañana 11am", {"2030-01-11T17:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "mañana a las 4", {"2030-01-11T22:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana a las 4 de la tarde",
     {"2030-01-11T22:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana a las 8 de la noche",
     {"2030-01-12T02:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana a las 7 de la mañana",
     {"2030-01-11T13:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana en la mañana",
     {"2030-01-11T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana por la tarde",
     {"2030-01-11T22:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "mañana en la noche", {"2030-01-12T01:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "mañana a mediodía", {"2030-01-11T18:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana a las 3 y media",
     {"2030-01-11T21:30:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana a las 10 y cuarto",
     {"2030-01-11T16:15:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana a las 11 menos cuarto",
     {"2030-01-11T16:45:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana a las 17 hrs",
     {"2030-01-11T23:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "mañana a las 9", {"2030-01-11T15:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "mañana a la 1", {"2030-01-11T19:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "mañana", {"2030-01-11T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "pasado mañana a las 12",
     {"2030-01-12T18:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "hoy 5pm", {"2030-01-10T23:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "hoy a las 5 p.m.", {"2030-01-10T23:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "hoy a las 8", {NULL}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "hoy por la tarde", {"2030-01-10T22:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "a las 6pm", {"2030-01-11T00:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "a las 8am", {"2030-01-11T14:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "el jueves por la tarde",
     {"2030-01-17T22:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "este jueves por la tarde",
     {"2030-01-10T22:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "el viernes a las 10",
     {"2030-01-11T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "el sábado a las 12:30",
     {"2030-01-12T18:30:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "el lunes", {"2030-01-14T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "el próximo lunes a las 4pm",
     {"2030-01-14T22:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "el miercoles a las 5",
     {"2030-01-16T23:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "el jueves o el viernes por la tarde",
     {"2030-01-17T22:00:00Z", "2030-01-11T22:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana a las 11 o el lunes",
     {"2030-01-11T17:00:00Z", "2030-01-14T17:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "mañana a las 11 o a las 4",
     {"2030-01-11T17:00:00Z", "2030-01-11T22:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "el fin de semana", {"2030-01-12T16:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "la próxima semana", {"2030-01-14T16:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "en 3 días a las 10", {"2030-01-13T16:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "dentro de 2 dias", {"2030-01-12T16:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "15/03 a las 10:30", {"2030-03-15T16:30:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "el 15/03/2030 a las 10:30",
     {"2030-03-15T16:30:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "el 15 de marzo a las 10:30",
     {"2030-03-15T16:30:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "el 15 de marzo de 2031",
     {"2031-03-15T16:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "marzo 15 a las 6pm", {"2030-03-16T00:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "el 5 de enero", {"2031-01-05T16:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "quiero ver el depa", {NULL}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "tengo 2 recamaras y 3 baños", {NULL}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "Hola! quisiera agendar una cita", {NULL}},
    {"America/Mexico_City", "2030-01-01T00:00:00Z", "mañana a las 10", {"2030-01-01T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-01T00:00:00Z",
     "el próximo día hábil",
     {"2030-01-02T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-01T00:00:00Z",
     "el 2 de enero a las 11",
     {"2030-01-02T17:00:00Z"}},
    {"America/Mexico_City", "2030-01-01T00:00:00Z", "el 1 de enero", {"2030-01-01T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-01T00:00:00Z",
     "hoy a las 7 de la noche",
     {"2030-01-01T01:00:00Z"}},
    {"America/Mexico_City", "2030-01-01T00:00:00Z", "02/01 a las 9:30", {"2030-01-02T15:30:00Z"}},
    {"America/Mexico_City", "2030-03-01T02:00:00Z", "mañana a las 11", {"2030-03-01T17:00:00Z"}},
    {"America/Mexico_City", "2030-03-01T02:00:00Z", "pasado mañana", {"2030-03-02T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-03-01T02:00:00Z",
     "el lunes temprano a las 9",
     {"2030-03-04T15:00:00Z"}},
    {"America/Mexico_City", "2028-02-28T18:00:00Z", "mañana a las 11", {"2028-02-29T17:00:00Z"}},
    {"America/Mexico_City",
     "2028-02-28T18:00:00Z",
     "el 29 de febrero a las 3",
     {"2028-02-29T21:00:00Z"}},
    {"America/Mexico_City",
     "2030-03-15T22:00:00Z",
     "el próximo día hábil a las 11",
     {"2030-03-19T17:00:00Z"}},
    {"America/Mexico_City", "2030-03-15T22:00:00Z", "el lunes a las 11", {"2030-03-18T17:00:00Z"}},
    {"America/Mexico_City",
     "2030-11-15T16:00:00Z",
     "next business day at 3pm",
     {"2030-11-19T21:00:00Z"}},
    {"America/Mexico_City",
     "2030-12-24T16:00:00Z",
     "el siguiente dia habil",
     {"2030-12-26T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-09-30T16:00:00Z",
     "el próximo día hábil",
     {"2030-10-02T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-09-13T16:00:00Z",
     "proximo dia habil a las 12",
     {"2030-09-17T18:00:00Z"}},
    {"America/Mexico_City",
     "2030-02-01T16:00:00Z",
     "el proximo dia habil",
     {"2030-02-05T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-04-30T16:00:00Z",
     "el próximo día hábil",
     {"2030-05-02T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "schedule a tour tomorrow at 11am",
     {"2030-01-11T17:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "tomorrow at 3", {"2030-01-11T21:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "tomorrow afternoon", {"2030-01-11T22:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "tomorrow morning", {"2030-01-11T16:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "today at 5:30pm", {"2030-01-10T23:30:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "tonight", {"2030-01-11T01:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "next monday at 10", {"2030-01-14T16:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "this saturday at noon",
     {"2030-01-12T18:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "friday or saturday in the afternoon",
     {"2030-01-11T22:00:00Z", "2030-01-12T22:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "March 15th at 10:30am",
     {"2030-03-15T16:30:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "15 march at 2pm", {"2030-03-15T20:00:00Z"}},
    {"America/Mexico_City",
     "2030-01-10T15:00:00Z",
     "the day after tomorrow at 9am",
     {"2030-01-12T15:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "on the weekend", {"2030-01-12T16:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "in 2 days at 4pm", {"2030-01-12T22:00:00Z"}},
    {"America/Mexico_City", "2030-01-10T15:00:00Z", "at 11 tomorrow", {"2030-01-11T17:00:00Z"}},
    {"America/New_York", "2030-03-09T17:00:00Z", "tomorrow at 10am", {"2030-03-10T14:00:00Z"}},
    {"America/New_York", "2030-11-02T16:00:00Z", "tomorrow at 10am", {"2030-11-03T15:00:00Z"}},
};

static int s_skipped = 0;

static void
test_the_table_of_phrasings_gives_the_expected_times (void)
{
    size_t count = sizeof s_cases / sizeof s_cases[0];
    CHECK (count >= 60);
    intent_holidays_t holidays = {.mexican = true};
    for (size_t i = 0; i < count; i++) {
        const s_case_t *c = &s_cases[i];
        if (zhub_tz_use (c->zone)) {
            s_skipped = 1;
            return;
        }
        int64_t now;
        CHECK (zhub_time_parse (c->now, &now) == 0);
        char *normalized = intent_normalize (c->text);
        int64_t times[INTENT_MAX_TIMES];
        size_t found = intent_times (normalized, now, &holidays, times);
        size_t expected = 0;
        while (expected < INTENT_MAX_TIMES && c->expected[expected])
            expected++;
        int wrong = found != expected;
        for (size_t t = 0; !wrong && t < found; t++) {
            char text[40];
            zhub_conversation_time (times[t], text, sizeof text);
            wrong = strcmp (text, c->expected[t]) != 0;
        }
        if (wrong) {
            fprintf (stderr, "  \"%s\" at %s (%s): got", c->text, c->now, c->zone);
            for (size_t t = 0; t < found; t++) {
                char text[40];
                zhub_conversation_time (times[t], text, sizeof text);
                fprintf (stderr, " %s", text);
            }
            fprintf (stderr, ", expected");
            for (size_t t = 0; t < expected; t++)
                fprintf (stderr, " %s", c->expected[t]);
            fprintf (stderr, "\n");
        }
        CHECK (!wrong);
        free (normalized);
    }
}

static void
test_mexican_holidays_follow_the_federal_labour_law (void)
{
    intent_holidays_t mx = {.mexican = true};
    //  2030: 1 Jan, 4 Feb (first Monday), 18 Mar (third Monday), 1 May,
    //  16 Sep, 1 Oct (a president takes office), 18 Nov (third Monday), 25 Dec
    int days[][2] = {{1, 1}, {2, 4}, {3, 18}, {5, 1}, {9, 16}, {10, 1}, {11, 18}, {12, 25}};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++)
        CHECK (intent_is_holiday (&mx, 2030, days[i][0], days[i][1]));
    CHECK (!intent_is_holiday (&mx, 2030, 3, 21));  //  the old fixed date
    CHECK (!intent_is_holiday (&mx, 2031, 10, 1));  //  only every six years
    CHECK (!intent_is_holiday (&mx, 2030, 12, 12)); //  a feast, not a rest day by law
    intent_date_t extra = {2030, 12, 12};
    intent_holidays_t mine = {.mexican = false, .extra = &extra, .extra_count = 1};
    CHECK (intent_is_holiday (&mine, 2030, 12, 12));
    CHECK (!intent_is_holiday (&mine, 2030, 12, 25));
}

static void
test_the_next_business_day_without_holidays_is_the_next_weekday (void)
{
    if (zhub_tz_use ("America/Mexico_City"))
        return;
    intent_holidays_t none = {.mexican = false};
    int64_t now, times[INTENT_MAX_TIMES];
    CHECK (zhub_time_parse ("2030-03-15T22:00:00Z", &now) == 0); //  Friday 16:00
    CHECK (intent_times ("el proximo dia habil", now, &none, times) == 1);
    char text[40];
    zhub_conversation_time (times[0], text, sizeof text);
    CHECK_STR (text, "2030-03-18T16:00:00Z"); //  Monday 10:00, no holiday this time
}

int
main (void)
{
    RUN (test_the_table_of_phrasings_gives_the_expected_times);
    RUN (test_mexican_holidays_follow_the_federal_labour_law);
    RUN (test_the_next_business_day_without_holidays_is_the_next_weekday);
    if (s_skipped) {
        printf ("SKIP: the tz database (%s) lacks the zones these cases use\n",
                ZHUB_TZ_DIR_DEFAULT);
        return 77;
    }
    TEST_EXIT ();
}
