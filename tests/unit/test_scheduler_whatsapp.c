//  The scheduler's WhatsApp messages, pure part, as data: dates in words
//  per language, the 24-hour window, the "whatsapp" configuration, the Bird
//  bodies (free text inside the window, the template outside it), and
//  reading Bird's whatsapp.inbound sample. Local times in
//  America/Mexico_City (UTC-6 all year since 2022).
#include "scheduler_whatsapp.h"
#include "zhub_test.h"

#define MIN 60000LL
#define HOUR (60 * MIN)

static const char *s_uuid = "ce6a2fd6-b2fa-4f5a-a2cd-f3bd15883318";

static struct tm
s_tm (int wday, int mday, int mon, int hour, int min)
{
    return (struct tm){
        .tm_wday = wday, .tm_mday = mday, .tm_mon = mon, .tm_hour = hour, .tm_min = min};
}

static void
test_dates_in_spanish_and_english (void)
{
    char buf[80];
    struct tm thursday = s_tm (4, 5, 2, 11, 0); //  Thursday 5 March, 11:00
    CHECK (sched_format_when (&thursday, SCHED_LANG_ES, SCHED_WHEN_FULL, buf, sizeof buf) > 0);
    CHECK_STR (buf, "jueves 5 de marzo, 11:00");
    sched_format_when (&thursday, SCHED_LANG_ES, SCHED_WHEN_DATE, buf, sizeof buf);
    CHECK_STR (buf, "jueves 5 de marzo");
    sched_format_when (&thursday, SCHED_LANG_ES, SCHED_WHEN_TIME, buf, sizeof buf);
    CHECK_STR (buf, "11:00");
    sched_format_when (&thursday, SCHED_LANG_EN, SCHED_WHEN_FULL, buf, sizeof buf);
    CHECK_STR (buf, "Thursday, March 5, 11:00 AM");
    sched_format_when (&thursday, SCHED_LANG_EN, SCHED_WHEN_DATE, buf, sizeof buf);
    CHECK_STR (buf, "Thursday, March 5");

    struct tm saturday = s_tm (6, 19, 8, 15, 5); //  Saturday 19 September, 15:05
    sched_format_when (&saturday, SCHED_LANG_ES, SCHED_WHEN_FULL, buf, sizeof buf);
    CHECK_STR (buf, "sábado 19 de septiembre, 15:05");
    sched_format_when (&saturday, SCHED_LANG_EN, SCHED_WHEN_TIME, buf, sizeof buf);
    CHECK_STR (buf, "3:05 PM");
    struct tm wednesday = s_tm (3, 1, 0, 0, 30); //  midnight and noon in 12-hour time
    sched_format_when (&wednesday, SCHED_LANG_ES, SCHED_WHEN_FULL, buf, sizeof buf);
    CHECK_STR (buf, "miércoles 1 de enero, 00:30");
    sched_format_when (&wednesday, SCHED_LANG_EN, SCHED_WHEN_TIME, buf, sizeof buf);
    CHECK_STR (buf, "12:30 AM");
    wednesday.tm_hour = 12;
    sched_format_when (&wednesday, SCHED_LANG_EN, SCHED_WHEN_TIME, buf, sizeof buf);
    CHECK_STR (buf, "12:30 PM");

    //  out of range: nothing; a small buffer: cut, still terminated
    struct tm bad = s_tm (7, 5, 2, 11, 0);
    CHECK (sched_format_when (&bad, SCHED_LANG_ES, SCHED_WHEN_FULL, buf, sizeof buf) == 0);
    CHECK_STR (buf, "");
    bad = s_tm (4, 5, 12, 11, 0);
    CHECK (sched_format_when (&bad, SCHED_LANG_ES, SCHED_WHEN_FULL, buf, sizeof buf) == 0);
    CHECK (sched_format_when (NULL, SCHED_LANG_ES, SCHED_WHEN_FULL, buf, sizeof buf) == 0);
    char small[8];
    CHECK (sched_format_when (&thursday, SCHED_LANG_ES, SCHED_WHEN_FULL, small, sizeof small)
           == strlen ("jueves 5 de marzo, 11:00"));
    CHECK_STR (small, "jueves ");
}

static void
test_window_is_24_hours_after_the_last_inbound_message (void)
{
    int64_t now = 1772730000000LL;
    CHECK (!sched_wa_window_open (0, now)); //  never wrote in
    CHECK (sched_wa_window_open (now - MIN, now));
    CHECK (sched_wa_window_open (now - 23 * HOUR, now));
    CHECK (sched_wa_window_open (now - 24 * HOUR + SCHED_WA_WINDOW_MARGIN_MS + 1, now));
    //  the last minutes of the window are not used: the message could land after it
    CHECK (!sched_wa_window_open (now - 24 * HOUR + SCHED_WA_WINDOW_MARGIN_MS, now));
    CHECK (!sched_wa_window_open (now - 24 * HOUR, now));
    CHECK (!sched_wa_window_open (now - 25 * HOUR, now));
    CHECK (sched_wa_window_open (now + MIN, now)); //  a clock ahead counts as now
}

static int
s_config (sched_config_t *cfg, const char *text)
{
    json_t *json = json_loads (text, 0, NULL);
    char err[300] = "";
    int rc = sched_config_from_json (json, cfg, err, sizeof err);
    if (rc)
        fprintf (stderr, "  config: %s\n", err);
    json_decref (json);
    return rc;
}

static const char *s_templates =
    "{\"time_zone\":\"America/Mexico_City\","
    "\"agents\":[{\"id\":\"ana\",\"name\":\"Ana\",\"email\":\"ana@x.mx\",\"platform\":\"google\"}],"
    "\"whatsapp\":{\"templates\":{"
    "\"reminder\":{\"project_id\":\"ce6a2fd6-b2fa-4f5a-a2cd-f3bd15883318\","
    "\"parameters\":{\"fecha\":\"when\",\"lugar\":\"location\",\"asesor\":\"agent\","
    "\"hora\":\"time\",\"enlace\":\"url\"}},"
    "\"confirmation\":{\"project_id\":\"0c7a3b1e-5d2f-4a8e-9b6c-1f2e3d4c5b6a\","
    "\"version\":\"9f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b\",\"locale\":\"es-419\"}}}}";

static void
test_whatsapp_config_defaults_and_errors (void)
{
    sched_config_t cfg;
    CHECK (s_config (&cfg, "{}") == 0);
    CHECK_STR (cfg.whatsapp.locale, "es-MX");
    CHECK (cfg.whatsapp.lang == SCHED_LANG_ES);
    for (int k = 0; k < SCHED_WA_KINDS; k++)
        CHECK (cfg.whatsapp.templates[k].project_id == NULL);
    sched_config_clear (&cfg);

    CHECK (s_config (&cfg, s_templates) == 0);
    const sched_wa_template_t *reminder = &cfg.whatsapp.templates[SCHED_WA_REMINDER];
    CHECK_STR (reminder->project_id, s_uuid);
    CHECK_STR (reminder->version, "latest");
    CHECK (reminder->locale == NULL && reminder->param_count == 5);
    CHECK_STR (reminder->params[0].key, "fecha");
    CHECK (reminder->params[0].field == SCHED_WA_WHEN);
    CHECK (reminder->params[4].field == SCHED_WA_URL);
    const sched_wa_template_t *confirmation = &cfg.whatsapp.templates[SCHED_WA_CONFIRMATION];
    CHECK_STR (confirmation->version, "9f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b");
    CHECK_STR (confirmation->locale, "es-419");
    CHECK (confirmation->param_count == 0);
    CHECK (cfg.whatsapp.templates[SCHED_WA_LINK].project_id == NULL);
    sched_config_clear (&cfg);

    CHECK (s_config (&cfg, "{\"whatsapp\":{\"locale\":\"en-US\"}}") == 0);
    CHECK (cfg.whatsapp.lang == SCHED_LANG_EN);
    sched_config_clear (&cfg);

    //  Each refused with the key named.
    const char *bad[][2] = {
        {"{\"whatsapp\":[]}", "whatsapp"},
        {"{\"whatsapp\":{\"locale\":\"fr-FR\"}}", "whatsapp.locale"},
        {"{\"whatsapp\":{\"locale\":\"es_MX\"}}", "whatsapp.locale"},
        {"{\"whatsapp\":{\"locale\":\"ES\"}}", "whatsapp.locale"},
        {"{\"whatsapp\":{\"templates\":[]}}", "whatsapp.templates"},
        {"{\"whatsapp\":{\"templates\":{\"reminders\":{}}}}", "whatsapp.templates.reminders"},
        {"{\"whatsapp\":{\"templates\":{\"reminder\":{}}}}",
         "whatsapp.templates.reminder.project_id"},
        {"{\"whatsapp\":{\"templates\":{\"reminder\":{\"project_id\":\"reminder-v1\"}}}}",
         "whatsapp.templates.reminder.project_id"},
        {"{\"whatsapp\":{\"templates\":{\"link\":{\"project_id\":\"ce6a2fd6-b2fa-4f5a-a2cd-"
         "f3bd15883318\",\"version\":\"v2\"}}}}",
         "whatsapp.templates.link.version"},
        {"{\"whatsapp\":{\"templates\":{\"link\":{\"project_id\":\"ce6a2fd6-b2fa-4f5a-a2cd-"
         "f3bd15883318\",\"locale\":\"spanish\"}}}}",
         "whatsapp.templates.link.locale"},
        {"{\"whatsapp\":{\"templates\":{\"link\":{\"project_id\":\"ce6a2fd6-b2fa-4f5a-a2cd-"
         "f3bd15883318\",\"parameters\":{\"fecha\":\"fecha\"}}}}}",
         "whatsapp.templates.link.parameters"},
        {"{\"whatsapp\":{\"templates\":{\"link\":{\"project_id\":\"ce6a2fd6-b2fa-4f5a-a2cd-"
         "f3bd15883318\",\"parameters\":[\"when\"]}}}}",
         "whatsapp.templates.link.parameters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *json = json_loads (bad[i][0], 0, NULL);
        char err[300] = "";
        CHECK (json != NULL);
        CHECK (sched_config_from_json (json, &cfg, err, sizeof err) == -1);
        if (!strstr (err, bad[i][1]))
            fprintf (stderr, "  %s -> %s\n", bad[i][0], err);
        CHECK (strstr (err, bad[i][1]) != NULL);
        CHECK (cfg.whatsapp.locale == NULL); //  cleared
        json_decref (json);
    }
}

//  Thursday 5 March 2026, 11:00 in Mexico City.
static sched_booking_t
s_booking (void)
{
    int64_t start = 0;
    zhub_time_parse ("2026-03-05T17:00:00Z", &start);
    return (sched_booking_t){.booking_id = "bk0123456789abcdef0123456789abcdef",
                             .bird_id = "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4",
                             .agent_id = "ana",
                             .location = "Torre Reforma",
                             .phone = "+5215512345678",
                             .confirmation_url = "https://calendar.example/e/1",
                             .start = start,
                             .end = start + 45 * MIN};
}

static bool
s_json_is (const json_t *got, const char *want)
{
    json_t *expected = json_loads (want, 0, NULL);
    bool same = expected && got && json_equal (expected, got);
    if (!same) {
        char *text = got ? json_dumps (got, JSON_SORT_KEYS) : NULL;
        fprintf (stderr, "  got:  %s\n  want: %s\n", text ? text : "(none)", want);
        free (text);
    }
    json_decref (expected);
    return same;
}

static void
test_texts_follow_the_locale (void)
{
    CHECK (sched_use_time_zone ("America/Mexico_City") == 0);
    sched_config_t cfg;
    CHECK (s_config (&cfg, s_templates) == 0);
    sched_booking_t b = s_booking ();
    char *text = sched_whatsapp_text (SCHED_WA_CONFIRMATION, &b, &cfg);
    CHECK_STR (text, "Tu visita está confirmada: jueves 5 de marzo, 11:00, en Torre Reforma, con "
                     "Ana. Detalles: https://calendar.example/e/1");
    free (text);
    text = sched_whatsapp_text (SCHED_WA_REMINDER, &b, &cfg);
    CHECK_STR (text, "Recordatorio de tu visita: jueves 5 de marzo, 11:00, en Torre Reforma, con "
                     "Ana. Detalles: https://calendar.example/e/1");
    free (text);
    b.location = NULL;
    text = sched_whatsapp_text (SCHED_WA_LINK, &b, &cfg);
    CHECK_STR (text, "Elige la hora de tu visita aquí: https://calendar.example/e/1");
    free (text);
    sched_config_clear (&cfg);

    CHECK (s_config (&cfg, "{\"whatsapp\":{\"locale\":\"en-US\"},\"agents\":[{\"id\":\"ana\","
                           "\"name\":\"Ana\",\"email\":\"ana@x.mx\",\"platform\":\"google\"}]}")
           == 0);
    b = s_booking ();
    text = sched_whatsapp_text (SCHED_WA_CONFIRMATION, &b, &cfg);
    CHECK_STR (text, "Your property tour is confirmed: Thursday, March 5, 11:00 AM, at Torre "
                     "Reforma, with Ana. Details: https://calendar.example/e/1");
    free (text);
    text = sched_whatsapp_text (SCHED_WA_LINK, &b, &cfg);
    CHECK_STR (text, "Choose the time of your property tour at Torre Reforma here: "
                     "https://calendar.example/e/1");
    free (text);
    sched_config_clear (&cfg);
}

static void
test_body_is_text_inside_the_window_and_a_template_outside (void)
{
    CHECK (sched_use_time_zone ("America/Mexico_City") == 0);
    sched_config_t cfg;
    CHECK (s_config (&cfg, s_templates) == 0);
    sched_booking_t b = s_booking ();
    bool templated = true;
    char why[200] = "";

    //  inside the window: free text, even where a template exists
    json_t *body =
        sched_whatsapp_body (SCHED_WA_REMINDER, &b, &cfg, true, &templated, why, sizeof why);
    CHECK (!templated);
    CHECK (s_json_is (
        body,
        "{\"receiver\":{\"contacts\":[{\"identifierKey\":\"phonenumber\","
        "\"identifierValue\":\"+5215512345678\"}]},"
        "\"reference\":\"bk0123456789abcdef0123456789abcdef\","
        "\"body\":{\"type\":\"text\",\"text\":{\"text\":\"Recordatorio de tu visita: jueves 5 "
        "de marzo, 11:00, en Torre Reforma, con Ana. Detalles: "
        "https://calendar.example/e/1\"}}}"));
    json_decref (body);

    //  outside: Bird's template shape, values from the booking
    body = sched_whatsapp_body (SCHED_WA_REMINDER, &b, &cfg, false, &templated, why, sizeof why);
    CHECK (templated);
    CHECK (s_json_is (
        body, "{\"receiver\":{\"contacts\":[{\"identifierKey\":\"phonenumber\","
              "\"identifierValue\":\"+5215512345678\"}]},"
              "\"reference\":\"bk0123456789abcdef0123456789abcdef\","
              "\"template\":{\"projectId\":\"ce6a2fd6-b2fa-4f5a-a2cd-f3bd15883318\","
              "\"version\":\"latest\",\"locale\":\"es-MX\",\"parameters\":["
              "{\"type\":\"string\",\"key\":\"fecha\",\"value\":\"jueves 5 de marzo, 11:00\"},"
              "{\"type\":\"string\",\"key\":\"lugar\",\"value\":\"Torre Reforma\"},"
              "{\"type\":\"string\",\"key\":\"asesor\",\"value\":\"Ana\"},"
              "{\"type\":\"string\",\"key\":\"hora\",\"value\":\"11:00\"},"
              "{\"type\":\"string\",\"key\":\"enlace\",\"value\":"
              "\"https://calendar.example/e/1\"}]}}"));
    json_decref (body);

    //  a value the booking lacks is left out; no phone: by Bird contact id;
    //  the template's own locale wins
    b.location = NULL;
    b.phone = NULL;
    body = sched_whatsapp_body (SCHED_WA_REMINDER, &b, &cfg, false, &templated, why, sizeof why);
    json_t *params = json_object_get (json_object_get (body, "template"), "parameters");
    CHECK (json_array_size (params) == 4);
    CHECK (s_json_is (json_object_get (body, "receiver"),
                      "{\"contacts\":[{\"id\":\"d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4\"}]}"));
    json_decref (body);
    body =
        sched_whatsapp_body (SCHED_WA_CONFIRMATION, &b, &cfg, false, &templated, why, sizeof why);
    CHECK (s_json_is (json_object_get (body, "template"),
                      "{\"projectId\":\"0c7a3b1e-5d2f-4a8e-9b6c-1f2e3d4c5b6a\","
                      "\"version\":\"9f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b\",\"locale\":\"es-419\","
                      "\"parameters\":[]}"));
    json_decref (body);

    //  outside with no template for the kind: nothing to send, and why
    body = sched_whatsapp_body (SCHED_WA_LINK, &b, &cfg, false, &templated, why, sizeof why);
    CHECK (body == NULL && !templated);
    CHECK (strstr (why, "24-hour") != NULL && strstr (why, "whatsapp.templates.link") != NULL);
    sched_config_clear (&cfg);
}

static void
test_inbound_read_from_birds_sample (void)
{
    char path[512];
    snprintf (path, sizeof path, "%s/samples/bird-message-created.json", zhub_test_fixtures_dir ());
    FILE *file = fopen (path, "rb");
    CHECK (file != NULL);
    json_t *sample = file ? json_loadf (file, 0, NULL) : NULL;
    if (file)
        fclose (file);
    CHECK (sample != NULL);
    char *id = NULL;
    int64_t at = 0, created = 0;
    zhub_time_parse ("2023-12-13T19:34:01.858Z", &created);
    CHECK (sched_wa_inbound_read (sample, 42, &id, &at) == ZHUB_OK);
    CHECK_STR (id, "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4");
    CHECK (at == created);
    free (id);

    json_t *payload = json_object_get (sample, "payload");
    json_object_del (payload, "createdAt");
    CHECK (sched_wa_inbound_read (sample, 42, &id, &at) == ZHUB_OK && at == 42);
    free (id);
    //  what we sent is not the person writing
    json_object_set_new (payload, "direction", json_string ("outgoing"));
    CHECK (sched_wa_inbound_read (sample, 42, &id, &at) == ZHUB_REJECT && id == NULL);
    json_object_set_new (payload, "direction", json_string ("incoming"));
    json_object_del (payload, "sender");
    CHECK (sched_wa_inbound_read (sample, 42, &id, &at) == ZHUB_REJECT);
    CHECK (sched_wa_inbound_read (NULL, 42, &id, &at) == ZHUB_REJECT);
    json_decref (sample);
}

//  The two kinds that came last: no slot (the alternatives) and a
//  cancellation, in both shipped languages; free text inside the window
//  and their templates outside it.
static void
test_alternatives_and_cancellation_texts_and_templates (void)
{
    CHECK (sched_use_time_zone ("America/Mexico_City") == 0);
    sched_config_t cfg;
    CHECK (s_config (&cfg, "{\"whatsapp\":{\"templates\":{"
                           "\"alternatives\":{\"project_id\":\"ce6a2fd6-b2fa-4f5a-a2cd-f3bd15883318\","
                           "\"parameters\":{\"horarios\":\"alternatives\",\"lugar\":\"location\"}},"
                           "\"cancellation\":{\"project_id\":\"0c7a3b1e-5d2f-4a8e-9b6c-1f2e3d4c5b6a\","
                           "\"parameters\":{\"fecha\":\"when\"}}}}}")
           == 0);
    sched_booking_t b = s_booking ();
    b.alternatives[0] = b.start + 60 * MIN; //  12:00
    b.alternatives[1] = b.start + 24 * 60 * MIN; //  Friday 11:00
    b.alternative_count = 2;
    char *text = sched_whatsapp_text (SCHED_WA_ALTERNATIVES, &b, &cfg);
    CHECK_STR (text, "No hay un asesor libre a la hora que pediste para tu visita a Torre Reforma. "
                     "Horarios disponibles: jueves 5 de marzo, 12:00; viernes 6 de marzo, 11:00. "
                     "Responde a este mensaje con el que prefieras.");
    free (text);
    text = sched_whatsapp_text (SCHED_WA_CANCELLATION, &b, &cfg);
    CHECK_STR (text, "Tu visita del jueves 5 de marzo, 11:00 a Torre Reforma fue cancelada. Si "
                     "quieres agendar otra, responde a este mensaje.");
    free (text);
    bool templated;
    char why[200];
    json_t *body = sched_whatsapp_body (SCHED_WA_ALTERNATIVES, &b, &cfg, false, &templated, why,
                                        sizeof why);
    CHECK (templated);
    CHECK (s_json_is (json_object_get (body, "template"),
                      "{\"projectId\":\"ce6a2fd6-b2fa-4f5a-a2cd-f3bd15883318\",\"version\":"
                      "\"latest\",\"locale\":\"es-MX\",\"parameters\":[{\"type\":\"string\","
                      "\"key\":\"horarios\",\"value\":\"jueves 5 de marzo, 12:00; viernes 6 de "
                      "marzo, 11:00\"},{\"type\":\"string\",\"key\":\"lugar\",\"value\":"
                      "\"Torre Reforma\"}]}"));
    json_decref (body);
    body = sched_whatsapp_body (SCHED_WA_CANCELLATION, &b, &cfg, true, &templated, why,
                                sizeof why);
    CHECK (!templated && json_object_get (body, "template") == NULL);
    CHECK (strstr (json_string_value (json_object_get (
                       json_object_get (json_object_get (body, "body"), "text"), "text")),
                   "fue cancelada")
           != NULL);
    json_decref (body);
    //  no alternative at all: the sentence that lists them is left out
    b.alternative_count = 0;
    b.location = NULL;
    text = sched_whatsapp_text (SCHED_WA_ALTERNATIVES, &b, &cfg);
    CHECK_STR (text, "No hay un asesor libre a la hora que pediste para tu visita. Responde a "
                     "este mensaje con el que prefieras.");
    free (text);
    sched_config_clear (&cfg);

    CHECK (s_config (&cfg, "{\"whatsapp\":{\"locale\":\"en-US\"}}") == 0);
    b = s_booking ();
    b.alternatives[0] = b.start + 90 * MIN;
    b.alternative_count = 1;
    text = sched_whatsapp_text (SCHED_WA_ALTERNATIVES, &b, &cfg);
    CHECK_STR (text, "No agent is free at the time you asked for your property tour at Torre "
                     "Reforma. Free times: Thursday, March 5, 12:30 PM. Reply to this message "
                     "with the one you prefer.");
    free (text);
    text = sched_whatsapp_text (SCHED_WA_CANCELLATION, &b, &cfg);
    CHECK_STR (text, "Your property tour on Thursday, March 5, 11:00 AM at Torre Reforma was "
                     "canceled. To book another, reply to this message.");
    free (text);
    sched_config_clear (&cfg);
}

//  whatsapp.texts: the locale's own, else its language's, else shipped;
//  a pattern that cannot be rendered is refused at start.
static void
test_texts_from_the_mapping_file_per_locale (void)
{
    CHECK (sched_use_time_zone ("America/Mexico_City") == 0);
    sched_config_t cfg;
    const char *texts =
        "{\"whatsapp\":{\"locale\":\"%s\",\"texts\":{"
        "\"es-MX\":{\"confirmation\":\"¡Listo! {date} a las {time}[ en {location}][ con "
        "{agent}].\"},"
        "\"es\":{\"confirmation\":\"Confirmada: {when}.\",\"cancellation\":\"Cancelada: "
        "{when}.\"},"
        "\"en-US\":{\"reminder\":\"See you {when}[ at {location}]!\"}}},"
        "\"agents\":[{\"id\":\"ana\",\"name\":\"Ana\",\"email\":\"ana@x.mx\","
        "\"platform\":\"google\"}]}";
    char text_cfg[800];
    sched_booking_t b = s_booking ();
    snprintf (text_cfg, sizeof text_cfg, texts, "es-MX");
    CHECK (s_config (&cfg, text_cfg) == 0);
    char *text = sched_whatsapp_text (SCHED_WA_CONFIRMATION, &b, &cfg);
    CHECK_STR (text, "¡Listo! jueves 5 de marzo a las 11:00 en Torre Reforma con Ana.");
    free (text);
    //  kind by kind: es-MX names no cancellation, "es" does; neither names
    //  the reminder: the shipped one
    text = sched_whatsapp_text (SCHED_WA_CANCELLATION, &b, &cfg);
    CHECK_STR (text, "Cancelada: jueves 5 de marzo, 11:00.");
    free (text);
    text = sched_whatsapp_text (SCHED_WA_REMINDER, &b, &cfg);
    CHECK (strncmp (text, "Recordatorio de tu visita: jueves 5 de marzo, 11:00", 51) == 0);
    free (text);
    sched_config_clear (&cfg);

    snprintf (text_cfg, sizeof text_cfg, texts, "es-AR"); //  no own set: the language's
    CHECK (s_config (&cfg, text_cfg) == 0);
    text = sched_whatsapp_text (SCHED_WA_CANCELLATION, &b, &cfg);
    CHECK_STR (text, "Cancelada: jueves 5 de marzo, 11:00.");
    free (text);
    sched_config_clear (&cfg);

    snprintf (text_cfg, sizeof text_cfg, texts, "en-US");
    CHECK (s_config (&cfg, text_cfg) == 0);
    text = sched_whatsapp_text (SCHED_WA_REMINDER, &b, &cfg);
    CHECK_STR (text, "See you Thursday, March 5, 11:00 AM at Torre Reforma!");
    free (text);
    text = sched_whatsapp_text (SCHED_WA_CONFIRMATION, &b, &cfg); //  shipped English
    CHECK (strncmp (text, "Your property tour is confirmed:", 32) == 0);
    free (text);
    sched_config_clear (&cfg);

    const char *bad[][2] = {
        {"{\"whatsapp\":{\"texts\":[]}}", "whatsapp.texts"},
        {"{\"whatsapp\":{\"texts\":{\"fr-FR\":{}}}}", "whatsapp.texts.fr-FR"},
        {"{\"whatsapp\":{\"texts\":{\"es\":[]}}}", "whatsapp.texts.es"},
        {"{\"whatsapp\":{\"texts\":{\"es\":{\"reminders\":\"x\"}}}}",
         "whatsapp.texts.es.reminders"},
        {"{\"whatsapp\":{\"texts\":{\"es\":{\"reminder\":\"el {fecha}\"}}}}",
         "whatsapp.texts.es.reminder ({...} names"},
        {"{\"whatsapp\":{\"texts\":{\"en\":{\"link\":\"[a [b] c]\"}}}}",
         "whatsapp.texts.en.link (groups"},
        {"{\"whatsapp\":{\"texts\":{\"en\":{\"link\":\"[at {location}\"}}}}",
         "whatsapp.texts.en.link (a [ without"},
        {"{\"whatsapp\":{\"texts\":{\"en\":{\"link\":\"{url\"}}}}", "whatsapp.texts.en.link"},
        {"{\"whatsapp\":{\"texts\":{\"en\":{\"link\":\"\"}}}}", "whatsapp.texts.en.link"},
        {"{\"whatsapp\":{\"texts\":{\"en\":{\"link\":7}}}}", "whatsapp.texts.en.link"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *json = json_loads (bad[i][0], 0, NULL);
        char err[300] = "";
        CHECK (json != NULL);
        CHECK (sched_config_from_json (json, &cfg, err, sizeof err) == -1);
        if (!strstr (err, bad[i][1]))
            fprintf (stderr, "  %s -> %s\n", bad[i][0], err);
        CHECK (strstr (err, bad[i][1]) != NULL);
        json_decref (json);
    }
}

//  When a failed calendar call hands the request to Calendly.
static void
test_fallback_only_for_the_calendars_own_failures (void)
{
    CHECK (sched_fallback_due (503, false, 2, 2));
    CHECK (sched_fallback_due (500, false, 5, 2));
    CHECK (!sched_fallback_due (503, false, 1, 2)); //  one more try first
    CHECK (sched_fallback_due (1001, false, 2, 2)); //  connection refused
    CHECK (sched_fallback_due (1002, false, 2, 2)); //  timeout
    CHECK (sched_fallback_due (429, true, 1, 2));   //  breaker open: at once
    CHECK (!sched_fallback_due (429, false, 9, 2)); //  a rate limit passes
    CHECK (!sched_fallback_due (401, false, 9, 2)); //  the token, refreshed
    CHECK (!sched_fallback_due (3001, false, 9, 2)); //  our own store
    CHECK (!sched_fallback_due (503, true, 9, 0));  //  0 = never
    CHECK (sched_fallback_due (503, false, 1, 1));
    CHECK_STR (sched_fallback_platform ("google freeBusy: HTTP 503"), "google");
    CHECK_STR (sched_fallback_platform ("graph create event: timeout"), "graph");
    CHECK (sched_fallback_platform ("cannot read holds") == NULL);

    sched_config_t cfg;
    CHECK (s_config (&cfg, "{}") == 0 && cfg.fallback_after == 2);
    sched_config_clear (&cfg);
    CHECK (s_config (&cfg, "{\"calendly_fallback_after\":0}") == 0 && cfg.fallback_after == 0);
    sched_config_clear (&cfg);
    json_t *json = json_loads ("{\"calendly_fallback_after\":\"2\"}", 0, NULL);
    char err[300] = "";
    CHECK (sched_config_from_json (json, &cfg, err, sizeof err) == -1);
    CHECK (strstr (err, "calendly_fallback_after") != NULL);
    json_decref (json);
}

int
main (void)
{
    RUN (test_dates_in_spanish_and_english);
    RUN (test_window_is_24_hours_after_the_last_inbound_message);
    RUN (test_whatsapp_config_defaults_and_errors);
    RUN (test_texts_follow_the_locale);
    RUN (test_body_is_text_inside_the_window_and_a_template_outside);
    RUN (test_inbound_read_from_birds_sample);
    RUN (test_alternatives_and_cancellation_texts_and_templates);
    RUN (test_texts_from_the_mapping_file_per_locale);
    RUN (test_fallback_only_for_the_calendars_own_failures);
    TEST_EXIT ();
}
