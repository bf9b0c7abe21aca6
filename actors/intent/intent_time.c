//  Time expressions in Spanish and English (see intent.h, "Times"): what
//  a customer writes when asking for a tour ("mañana a las 11", "el jueves
//  por la tarde", "hoy 5pm", "15/03 a las 10:30", "next Monday at 3").
//  The normalised text is read word by word into days (hoy, mañana, a
//  weekday, a date, el próximo día hábil) and times (a las 11, 5pm, 10:30,
//  mediodía) or parts of the day (por la tarde); each day takes the times
//  after it (the times before the first day go to it), and a day named
//  without a time borrows those of the next day named, else of the one
//  before ("el jueves o el viernes por la tarde": both afternoons), else
//  INTENT_DEFAULT_HOUR. Times alone fall on today, or tomorrow once past.
//
//  The choices where the words are ambiguous:
//  - an hour without am/pm: 1 to 7 is afternoon (a tour "a las 5" is at
//    17:00), 8 to 12 as written, 13 to 23 as written;
//  - "mañana" after "la" is the morning ("por la mañana"), else tomorrow;
//    "tarde" counts only after "la" ("llego tarde" names no time);
//  - a weekday is its next occurrence after today ("el jueves" said on a
//    Thursday is next week's), today only with "este"/"this";
//  - a date is day first (15/03 is 15 March, as written in Mexico); without
//    a year it is the next such date from today (on 30 December, "el 2 de
//    enero" is next year's);
//  - "el próximo día hábil" / "next business day" skips weekends and the
//    holidays (Mexico's statutory rest days by default); a day named
//    outright is kept even when it is a holiday (the scheduler's business
//    hours decide whether agents work then);
//  - a time already past is dropped; none left: no time named.
#include "intent.h"
#include "zhub_tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_TOKENS 160
#define S_MAX_ITEMS 32

typedef enum { S_DAY = 1, S_TIME, S_PART } s_kind_t;

typedef struct {
    s_kind_t kind;
    int year, month, day; //  S_DAY: a local date (may roll over: day 32)
    int hour, minute;     //  S_TIME; S_PART: the part's hour
    bool marked;          //  S_TIME: am/pm or 24 h said outright
} s_item_t;

typedef struct {
    const char *tokens[S_MAX_TOKENS];
    size_t count;
    zhub_local_t today;
    s_item_t items[S_MAX_ITEMS];
    size_t item_count;
    const intent_holidays_t *holidays;
} s_scan_t;

static const char *const s_weekdays[][7] = {
    {"lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"},
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}};
static const char *const s_months[][12] = {
    {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
     "octubre", "noviembre", "diciembre"},
    {"january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"},
    {"jan", "feb", "", "", "", "", "", "aug", "sept", "oct", "nov", "dec"},
    {"", "", "", "", "", "", "", "", "setiembre", "", "", ""}};

//  -------------------------------------------------------------------
//  Holidays

static int
s_nth_monday (int year, int month, int nth)
{
    int first = zhub_tz_weekday (year, month, 1);
    return 1 + (7 - first) % 7 + 7 * (nth - 1);
}

bool
intent_is_holiday (const intent_holidays_t *holidays, int year, int month, int day)
{
    if (!holidays)
        return false;
    for (size_t i = 0; i < holidays->extra_count; i++)
        if (holidays->extra[i].year == year && holidays->extra[i].month == month
            && holidays->extra[i].day == day)
            return true;
    if (!holidays->mexican)
        return false;
    //  Ley Federal del Trabajo, art. 74: 1 January; the first Monday of
    //  February; the third Monday of March; 1 May; 16 September; the third
    //  Monday of November; 1 October every six years when a president takes
    //  office (2024, 2030, ...); 25 December.
    return (month == 1 && day == 1) || (month == 2 && day == s_nth_monday (year, 2, 1))
           || (month == 3 && day == s_nth_monday (year, 3, 3)) || (month == 5 && day == 1)
           || (month == 9 && day == 16) || (month == 11 && day == s_nth_monday (year, 11, 3))
           || (month == 10 && day == 1 && year >= 2024 && (year - 2024) % 6 == 0)
           || (month == 12 && day == 25);
}

//  -------------------------------------------------------------------
//  Words

static const char *
s_tok (const s_scan_t *scan, size_t i)
{
    return i < scan->count ? scan->tokens[i] : "";
}

static bool
s_is (const s_scan_t *scan, size_t i, const char *word)
{
    return i < scan->count && !strcmp (scan->tokens[i], word);
}

//  The number a token is (1 to 4 digits, or an ordinal: 1st, 2nd, 15th,
//  1ro, 1o), else -1.
static int
s_number (const char *token)
{
    if (!strcmp (token, "primero") || !strcmp (token, "first"))
        return 1;
    int value = 0, digits = 0;
    const char *p = token;
    while (*p >= '0' && *p <= '9' && digits < 5) {
        value = value * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits || digits > 4)
        return -1;
    if (!*p || !strcmp (p, "st") || !strcmp (p, "nd") || !strcmp (p, "rd") || !strcmp (p, "th")
        || !strcmp (p, "ro") || !strcmp (p, "o"))
        return value;
    return -1;
}

static int
s_month (const char *token)
{
    for (size_t t = 0; t < sizeof s_months / sizeof s_months[0]; t++)
        for (int m = 0; m < 12; m++)
            if (*s_months[t][m] && !strcmp (token, s_months[t][m]))
                return m + 1;
    return 0;
}

static int
s_weekday (const char *token)
{
    for (size_t t = 0; t < 2; t++)
        for (int d = 0; d < 7; d++)
            if (!strcmp (token, s_weekdays[t][d]))
                return d;
    return -1;
}

static void
s_add (s_scan_t *scan, s_item_t item)
{
    if (scan->item_count < S_MAX_ITEMS)
        scan->items[scan->item_count++] = item;
}

static void
s_add_day (s_scan_t *scan, int offset)
{
    s_add (scan, (s_item_t){.kind = S_DAY,
                            .year = scan->today.year,
                            .month = scan->today.month,
                            .day = scan->today.day + offset});
}

static void
s_add_part (s_scan_t *scan, int hour)
{
    s_add (scan, (s_item_t){.kind = S_PART, .hour = hour});
}

//  A real calendar date?
static bool
s_valid_date (int year, int month, int day)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= days[month - 1] + (month == 2 && leap);
}

//  A date without a year is the next one from today.
static void
s_add_date (s_scan_t *scan, int year, int month, int day)
{
    if (year >= 0 && year < 100)
        year += 2000;
    if (year < 0) {
        year = scan->today.year;
        if (month < scan->today.month || (month == scan->today.month && day < scan->today.day))
            year++;
    }
    if (s_valid_date (year, month, day))
        s_add (scan, (s_item_t){.kind = S_DAY, .year = year, .month = month, .day = day});
}

//  -------------------------------------------------------------------
//  Times

//  Reads "10:30", "10:30am", "5pm", "11am", "11" into h, m and whether it
//  says am (1) or pm (2). false when token is none of these.
static bool
s_clock (const char *token, int *h, int *m, int *ampm)
{
    *h = *m = *ampm = 0;
    const char *p = token;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 3) {
        *h = *h * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits || digits > 2)
        return false;
    if (*p == ':') {
        p++;
        if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9'))
            return false;
        *m = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
    }
    if (!strcmp (p, "am"))
        *ampm = 1;
    else if (!strcmp (p, "pm"))
        *ampm = 2;
    else if (!strcmp (p, "h") || !strcmp (p, "hrs") || !strcmp (p, "hs"))
        *ampm = 3; //  24 h
    else if (*p)
        return false;
    return *h <= 23 && *m <= 59;
}

//  Reads the time at token i (after "a las", "at", or a clock with ':' or
//  am/pm, or a number followed by a marker), with what follows it (y
//  media, de la tarde, pm, hrs). Returns the tokens used, 0 for none.
static size_t
s_time (s_scan_t *scan, size_t i, bool announced)
{
    int h, m, ampm;
    if (!s_clock (s_tok (scan, i), &h, &m, &ampm))
        return 0;
    size_t used = 1;
    bool colon = strchr (s_tok (scan, i), ':') != NULL;
    int part = 0; //  1 morning, 2 afternoon / evening
    for (bool more = true; more;) {
        size_t j = i + used;
        more = false;
        if (s_is (scan, j, "y") && s_is (scan, j + 1, "media"))
            m = 30, used += 2, more = true;
        else if (s_is (scan, j, "y") && s_is (scan, j + 1, "cuarto"))
            m = 15, used += 2, more = true;
        else if (s_is (scan, j, "menos") && s_is (scan, j + 1, "cuarto") && h > 0)
            h -= 1, m = 45, used += 2, more = true;
        else if (s_is (scan, j, "am") || (s_is (scan, j, "a") && s_is (scan, j + 1, "m")))
            ampm = 1, used += s_is (scan, j, "am") ? 1 : 2;
        else if (s_is (scan, j, "pm") || (s_is (scan, j, "p") && s_is (scan, j + 1, "m")))
            ampm = 2, used += s_is (scan, j, "pm") ? 1 : 2;
        else if (s_is (scan, j, "hrs") || s_is (scan, j, "horas") || s_is (scan, j, "h")
                 || s_is (scan, j, "hs"))
            ampm = 3, used += 1;
        else if (s_is (scan, j, "en") && s_is (scan, j + 1, "punto"))
            used += 2, more = true;
        else if ((s_is (scan, j, "de") || s_is (scan, j, "en") || s_is (scan, j, "por"))
                 && s_is (scan, j + 1, "la")) {
            const char *word = s_tok (scan, j + 2);
            if (!strcmp (word, "manana"))
                part = 1, used += 3;
            else if (!strcmp (word, "tarde") || !strcmp (word, "noche"))
                part = 2, used += 3;
        } else if (s_is (scan, j, "in") && s_is (scan, j + 1, "the")) {
            const char *word = s_tok (scan, j + 2);
            if (!strcmp (word, "morning"))
                part = 1, used += 3;
            else if (!strcmp (word, "afternoon") || !strcmp (word, "evening"))
                part = 2, used += 3;
        } else if (s_is (scan, j, "at") && s_is (scan, j + 1, "night"))
            part = 2, used += 2;
    }
    if (!announced && !colon && !ampm && !part)
        return 0; //  a bare number ("2 recámaras") is no time
    if (ampm == 1 || ampm == 2) {
        if (h < 1 || h > 12)
            return 0;
        h = h % 12 + (ampm == 2 ? 12 : 0);
    } else if (part == 2 && h < 12)
        h += 12;
    else if (part == 1 && h == 12)
        h = 0;
    else if (!ampm && !part && h >= 1 && h <= 7)
        h += 12;
    s_add (scan, (s_item_t){.kind = S_TIME, .hour = h, .minute = m, .marked = ampm || part});
    return used;
}

//  -------------------------------------------------------------------
//  Days

//  The next business day after today.
static int
s_business_offset (const s_scan_t *scan)
{
    for (int offset = 1; offset < 30; offset++) {
        int64_t noon =
            zhub_tz_unix_ms (scan->today.year, scan->today.month, scan->today.day + offset, 12, 0);
        zhub_local_t day;
        zhub_tz_local (noon, &day);
        if (day.weekday < 5 && !intent_is_holiday (scan->holidays, day.year, day.month, day.day))
            return offset;
    }
    return 1;
}

//  Reads a date starting at token i: "15 de marzo [de 2030]", "15 march
//  [2030]", "march 15[th] [2030]", "marzo 15". Returns the tokens used.
static size_t
s_date_words (s_scan_t *scan, size_t i)
{
    int day = s_number (s_tok (scan, i)), month = 0, year = -1;
    size_t used = 0;
    if (day >= 1 && day <= 31) {
        size_t j = i + 1 + (s_is (scan, i + 1, "de") || s_is (scan, i + 1, "of"));
        month = s_month (s_tok (scan, j));
        used = month ? j - i + 1 : 0;
    } else if ((month = s_month (s_tok (scan, i)))) {
        day = s_number (s_tok (scan, i + 1));
        used = day >= 1 && day <= 31 ? 2 : 0;
    }
    if (!used)
        return 0;
    size_t j = i + used;
    size_t skip = s_is (scan, j, "de") || s_is (scan, j, "del");
    int number = s_number (s_tok (scan, j + skip));
    if (number >= 2000 && number <= 2100) {
        year = number;
        used += skip + 1;
    }
    s_add_date (scan, year, month, day);
    return used;
}

//  dd/mm or dd/mm/yyyy.
static bool
s_date_slash (s_scan_t *scan, const char *token)
{
    int day, month, year = -1;
    char extra;
    int n = sscanf (token, "%2d/%2d/%4d%c", &day, &month, &year, &extra);
    if (n == 2 || n == 3) {
        if (n == 2)
            year = -1;
        s_add_date (scan, year, month, day);
        return true;
    }
    return false;
}

//  Reads what token i starts; returns the tokens used (at least 1).
static size_t
s_word (s_scan_t *scan, size_t i)
{
    const char *t = s_tok (scan, i);
    const char *before = i > 0 ? s_tok (scan, i - 1) : "";
    size_t used;
    if (!strcmp (t, "pasado") && s_is (scan, i + 1, "manana")) {
        s_add_day (scan, 2);
        return 2;
    }
    if (!strcmp (t, "day") && s_is (scan, i + 1, "after") && s_is (scan, i + 2, "tomorrow")) {
        s_add_day (scan, 2);
        return 3;
    }
    if (!strcmp (t, "manana")) {
        if (!strcmp (before, "la"))
            s_add_part (scan, INTENT_MORNING_HOUR);
        else
            s_add_day (scan, 1);
        return 1;
    }
    if (!strcmp (t, "tomorrow")) {
        s_add_day (scan, 1);
        return 1;
    }
    if (!strcmp (t, "hoy") || !strcmp (t, "today")) {
        s_add_day (scan, 0);
        return 1;
    }
    if (!strcmp (t, "tonight")) {
        s_add_day (scan, 0);
        s_add_part (scan, INTENT_EVENING_HOUR);
        return 1;
    }
    int weekday = s_weekday (t);
    if (weekday >= 0) {
        int offset = (weekday - scan->today.weekday + 7) % 7;
        bool this =
            !strcmp (before, "este") || !strcmp (before, "esta") || !strcmp (before, "this");
        s_add_day (scan, offset == 0 && !this ? 7 : offset);
        return 1;
    }
    if ((!strcmp (t, "fin") && s_is (scan, i + 1, "de") && s_is (scan, i + 2, "semana"))
        || !strcmp (t, "weekend")) {
        int offset = (5 - scan->today.weekday + 7) % 7;
        s_add_day (scan, offset);
        return !strcmp (t, "fin") ? 3 : 1;
    }
    if ((!strcmp (t, "dia") && (s_is (scan, i + 1, "habil") || s_is (scan, i + 1, "laboral")))
        || ((!strcmp (t, "business") || !strcmp (t, "working")) && s_is (scan, i + 1, "day"))) {
        s_add_day (scan, s_business_offset (scan));
        return 2;
    }
    if ((!strcmp (t, "semana")
         && (!strcmp (before, "proxima") || !strcmp (before, "siguiente")
             || (s_is (scan, i + 1, "que") && s_is (scan, i + 2, "viene"))))
        || (!strcmp (t, "week") && !strcmp (before, "next"))) {
        s_add_day (scan, 7 - scan->today.weekday);
        return 1;
    }
    if ((!strcmp (t, "en") || !strcmp (t, "in") || !strcmp (t, "dentro"))) {
        size_t j = i + 1 + (!strcmp (t, "dentro") && s_is (scan, i + 1, "de"));
        int n = s_number (s_tok (scan, j));
        if (n >= 1 && n <= 60 && (s_is (scan, j + 1, "dias") || s_is (scan, j + 1, "days"))) {
            s_add_day (scan, n);
            return j - i + 2;
        }
    }
    if (!strcmp (t, "mediodia") || !strcmp (t, "noon")
        || (!strcmp (t, "medio") && s_is (scan, i + 1, "dia"))) {
        s_add (scan, (s_item_t){.kind = S_TIME, .hour = 12, .marked = true});
        return !strcmp (t, "medio") ? 2 : 1;
    }
    if ((!strcmp (t, "tarde") || !strcmp (t, "noche")) && !strcmp (before, "la")) {
        s_add_part (scan, !strcmp (t, "tarde") ? INTENT_AFTERNOON_HOUR : INTENT_EVENING_HOUR);
        return 1;
    }
    if (!strcmp (t, "morning") || !strcmp (t, "afternoon") || !strcmp (t, "evening")) {
        s_add_part (scan, !strcmp (t, "morning")     ? INTENT_MORNING_HOUR
                          : !strcmp (t, "afternoon") ? INTENT_AFTERNOON_HOUR
                                                     : INTENT_EVENING_HOUR);
        return 1;
    }
    if (strchr (t, '/') && s_date_slash (scan, t))
        return 1;
    if ((used = s_date_words (scan, i)))
        return used;
    bool announced = !strcmp (before, "las") || !strcmp (before, "la") || !strcmp (before, "at")
                     || !strcmp (before, "around") || !strcmp (before, "eso");
    if ((used = s_time (scan, i, announced)))
        return used;
    return 1;
}

//  -------------------------------------------------------------------
//  Putting days and times together

typedef struct {
    int year, month, day;
    s_item_t times[S_MAX_ITEMS];
    size_t count;
} s_group_t;

static void
s_emit (int64_t *out, size_t *count, int64_t when, int64_t now_ms)
{
    if (when < now_ms || *count >= INTENT_MAX_TIMES)
        return;
    for (size_t i = 0; i < *count; i++)
        if (out[i] == when)
            return;
    out[(*count)++] = when;
}

size_t
intent_times (const char *normalized, int64_t now_ms, const intent_holidays_t *holidays,
              int64_t *out)
{
    s_scan_t scan;
    memset (&scan, 0, sizeof scan);
    scan.holidays = holidays;
    zhub_tz_local (now_ms, &scan.today);
    char *copy = zhub_strdup (normalized ? normalized : "");
    for (char *save = NULL, *t = strtok_r (copy, " ", &save); t && scan.count < S_MAX_TOKENS;
         t = strtok_r (NULL, " ", &save))
        scan.tokens[scan.count++] = t;
    for (size_t i = 0; i < scan.count;)
        i += s_word (&scan, i);

    s_group_t groups[S_MAX_ITEMS], loose = {0};
    size_t group_count = 0;
    for (size_t i = 0; i < scan.item_count; i++) {
        s_item_t *item = &scan.items[i];
        if (item->kind == S_DAY) {
            s_group_t *g = &groups[group_count++];
            memset (g, 0, sizeof *g);
            g->year = item->year, g->month = item->month, g->day = item->day;
            if (group_count == 1) { //  the times said before the first day
                memcpy (g->times, loose.times, loose.count * sizeof loose.times[0]);
                g->count = loose.count;
                loose.count = 0;
            }
        } else {
            s_group_t *g = group_count ? &groups[group_count - 1] : &loose;
            if (g->count < S_MAX_ITEMS)
                g->times[g->count++] = *item;
        }
    }
    size_t count = 0;
    if (!group_count) {
        //  Times alone: today, or tomorrow once past.
        for (size_t t = 0; t < loose.count; t++) {
            int64_t when = zhub_tz_unix_ms (scan.today.year, scan.today.month, scan.today.day,
                                            loose.times[t].hour, loose.times[t].minute);
            if (when < now_ms)
                when = zhub_tz_unix_ms (scan.today.year, scan.today.month, scan.today.day + 1,
                                        loose.times[t].hour, loose.times[t].minute);
            s_emit (out, &count, when, now_ms);
        }
        free (copy);
        return count;
    }
    for (size_t g = 0; g < group_count; g++) {
        const s_group_t *from = &groups[g];
        //  Nothing said for this day: the next day's times, else the last's.
        for (size_t n = g + 1; !from->count && n < group_count; n++)
            if (groups[n].count)
                from = &groups[n];
        for (size_t p = g; !from->count && p-- > 0;)
            if (groups[p].count)
                from = &groups[p];
        //  A part of the day said beside times turns the unmarked ones.
        int part = 0;
        bool timed = false;
        for (size_t t = 0; t < from->count; t++) {
            if (from->times[t].kind == S_PART)
                part = from->times[t].hour;
            else
                timed = true;
        }
        if (!from->count)
            s_emit (out, &count,
                    zhub_tz_unix_ms (groups[g].year, groups[g].month, groups[g].day,
                                     INTENT_DEFAULT_HOUR, 0),
                    now_ms);
        for (size_t t = 0; t < from->count; t++) {
            const s_item_t *item = &from->times[t];
            if (item->kind == S_PART && timed)
                continue;
            int hour = item->hour;
            if (item->kind == S_TIME && !item->marked && part >= 12 && hour < 12)
                hour += 12;
            if (item->kind == S_TIME && !item->marked && part && part < 12 && hour > 12
                && hour - 12 <= 7)
                hour -= 12; //  "a las 7 de la mañana" said apart
            s_emit (out, &count,
                    zhub_tz_unix_ms (groups[g].year, groups[g].month, groups[g].day, hour,
                                     item->minute),
                    now_ms);
        }
    }
    free (copy);
    return count;
}
