//  The catalogue against the checkout: docs/events.md holds, word for
//  word, the section of every catalogue entry (its subject, every field
//  with its kind and required-ness, producers, consumers, the example) and
//  the index; and every event type zhub's own C sources publish is in the
//  catalogue.
//
//  How the sources are read, and why so: every string literal of every .c
//  and .h under actors/, cli/, broker/, gateway/ and proto/ (comments
//  skipped, the table itself left out) is looked at, not only the few
//  shapes a publish takes today, since a type reaches a message through
//  many paths: zhub_msg_set (&msg->type, "…"), a macro (#define
//  X_TOPIC "…"), a builder's argument (sched_tour_msg ("tour.…", …)), a
//  struct field. A literal is a bus name when it is dotted and its first
//  token is one the catalogue uses (contact, tour, webhook, dlq, …). It
//  must then be a type the catalogue knows, a subscription pattern that
//  matches one, or a prefix of one ("webhook.bird."), unless it is one of
//  the few names listed below that are not zhub events (HubSpot's
//  subscription types, Bird's event names). On top, what is set as a
//  type (->type, "…" or ->type, MACRO) and every #define …_TOPIC must be
//  in the catalogue whatever its first token, so a new namespace cannot
//  slip by. A type built at run time (webhook.<provider>.%s, dlq.%s) is
//  covered by its form in the catalogue. A new literal that is none of
//  these fails this test, naming file and line.
//
//  Run with --print to write the sections docs/events.md must hold.
#include "zhub_catalogue.h"
#include "zhub_test.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>

//  Dotted names in zhub's sources that are not zhub event types.
static const struct {
    const char *name, *why;
} s_not_events[] = {
    {"contact.creation", "HubSpot subscriptionType (webhook.hubspot.contact.creation)"},
    {"contact.propertyChange", "HubSpot subscriptionType"},
    {"contact.merge", "HubSpot subscriptionType"},
    {"contact.deletion", "HubSpot subscriptionType"},
    {"contact.privacyDeletion", "HubSpot subscriptionType"},
    {"conversation.created", "Bird's event name (webhook.bird.conversation.created)"},
    {"conversation.status", "contact-sync's name of a Bird field in its field map"},
    {"scheduler.secret-key", "a check of zhub doctor"},
    {"scheduler.bird_channel_id", "a key of the mapping file, named by zhub doctor"},
};

//  -------------------------------------------------------------------
//  A growable string

typedef struct {
    char *text;
    size_t size, cap;
} s_buf_t;

static void s_add (s_buf_t *buf, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_add (s_buf_t *buf, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int n = vsnprintf (NULL, 0, format, args);
    va_end (args);
    if (buf->size + (size_t)n + 1 > buf->cap) {
        buf->cap = (buf->size + (size_t)n + 1) * 2;
        buf->text = realloc (buf->text, buf->cap);
    }
    va_start (args, format);
    vsnprintf (buf->text + buf->size, buf->cap - buf->size, format, args);
    va_end (args);
    buf->size += (size_t)n;
}

static char *
s_read (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    s_buf_t buf = {0};
    char chunk[65536];
    size_t got;
    s_add (&buf, "%s", "");
    while ((got = fread (chunk, 1, sizeof chunk, file)) > 0)
        s_add (&buf, "%.*s", (int)got, chunk);
    fclose (file);
    if (size)
        *size = buf.size;
    return buf.text;
}

//  -------------------------------------------------------------------
//  The sections docs/events.md must hold

//  GitHub's anchor of a heading "`type`": lower case, only letters,
//  digits, - and _.
static void
s_anchor (const char *type, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = type; *p && n + 1 < size; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')
            out[n++] = *p;
        else if (*p >= 'A' && *p <= 'Z')
            out[n++] = (char)(*p - 'A' + 'a');
    out[n] = 0;
}

static bool
s_in_words (const char *form)
{
    bool inside = false;
    for (const char *p = form; *p; p++)
        if (*p == '<' || *p == '>')
            inside = *p == '<';
        else if (*p == ' ' && !inside)
            return true;
    return false;
}

static char *
s_index (void)
{
    size_t count;
    const zhub_event_spec_t *all = zhub_catalogue (&count);
    s_buf_t buf = {0};
    s_add (&buf, "| type | produced by | consumed by |\n|---|---|---|\n");
    for (size_t i = 0; i < count; i++) {
        char anchor[300];
        s_anchor (all[i].type, anchor, sizeof anchor);
        s_add (&buf, "| [`%s`](#%s) | %s | %s |\n", all[i].type, anchor, all[i].producers,
               all[i].consumers);
    }
    return buf.text;
}

static char *
s_section (const zhub_event_spec_t *spec)
{
    s_buf_t buf = {0};
    s_add (&buf, "### `%s`\n\n%s\n\n", spec->type, spec->about);
    if (s_in_words (spec->subject))
        s_add (&buf, "- subject: %s\n", spec->subject);
    else
        s_add (&buf, "- subject: `%s`\n", spec->subject);
    if (spec->pattern)
        s_add (&buf, "- matches: `%s` (for instance `%s`)\n", spec->pattern, spec->example_type);
    s_add (&buf, "- produced by: %s\n- consumed by: %s\n", spec->producers, spec->consumers);
    if (!spec->fields[0].name)
        s_add (&buf, "- data: no field is checked\n\n");
    else {
        s_add (&buf, "- other fields: %s\n\n",
               spec->closed ? "refused (closed)" : "allowed (open)");
        s_add (&buf, "| field | kind | required | meaning |\n|---|---|---|---|\n");
        for (const zhub_field_t *f = spec->fields; f->name; f++) {
            char kind[300];
            zhub_field_describe (f, kind, sizeof kind);
            s_add (&buf, "| `%s` | %s | %s | %s |\n", f->name, kind, f->required ? "yes" : "no",
                   f->about);
        }
        s_add (&buf, "\n");
    }
    json_t *example = json_loads (spec->example, 0, NULL);
    char *pretty = json_dumps (example, JSON_INDENT (2));
    s_add (&buf, "```json\n%s\n```\n", pretty ? pretty : "(not JSON)");
    free (pretty);
    json_decref (example);
    return buf.text;
}

//  -------------------------------------------------------------------
//  docs/events.md

//  The text of the doc from the line "### `type`" to the next heading.
static char *
s_doc_section (const char *doc, const char *type)
{
    char *heading = zhub_sprintf ("\n### `%s`\n", type);
    const char *start = strstr (doc, heading);
    free (heading);
    if (!start)
        return NULL;
    start++;
    const char *end = start + 1;
    while ((end = strchr (end, '\n')) && strncmp (end + 1, "#", 1))
        end++;
    size_t size = end ? (size_t)(end + 1 - start) : strlen (start);
    //  without the blank lines before the next heading
    while (size > 1 && start[size - 1] == '\n' && start[size - 2] == '\n')
        size--;
    char *text = malloc (size + 1);
    memcpy (text, start, size);
    text[size] = 0;
    return text;
}

//  Prints the first line where have and want part.
static void
s_first_difference (const char *what, const char *have, const char *want)
{
    int line = 1;
    while (*have && *have == *want) {
        line += *have == '\n';
        have++;
        want++;
    }
    const char *have_end = strchr (have, '\n'), *want_end = strchr (want, '\n');
    fprintf (stderr,
             "  docs/events.md, %s, line %d of the section:\n    has   \"%.*s\"\n"
             "    wants \"%.*s\"\n",
             what, line, have_end ? (int)(have_end - have) : (int)strlen (have), have,
             want_end ? (int)(want_end - want) : (int)strlen (want), want);
}

static char *
s_docs (void)
{
    char *path = zhub_sprintf ("%s/docs/events.md", ZHUB_SOURCE_DIR);
    char *doc = s_read (path, NULL);
    if (!doc)
        fprintf (stderr, "  cannot read %s\n", path);
    free (path);
    return doc;
}

static void
test_the_docs_hold_every_entry_as_the_table_has_it (void)
{
    char *doc = s_docs ();
    CHECK (doc != NULL);
    if (!doc)
        return;
    size_t count;
    const zhub_event_spec_t *all = zhub_catalogue (&count);
    for (size_t i = 0; i < count; i++) {
        char *want = s_section (&all[i]);
        char *have = s_doc_section (doc, all[i].type);
        if (!have)
            fprintf (stderr, "  docs/events.md has no section \"### `%s`\"\n", all[i].type);
        else if (strcmp (have, want))
            s_first_difference (all[i].type, have, want);
        CHECK (have && !strcmp (have, want));
        free (have);
        free (want);
    }
    char *index = s_index ();
    if (!strstr (doc, index))
        fprintf (stderr, "  docs/events.md does not hold the index as the table has it\n");
    CHECK (strstr (doc, index) != NULL);
    free (index);
    free (doc);
}

//  And no section for an event the catalogue does not have.
static void
test_the_docs_list_nothing_beyond_the_table (void)
{
    char *doc = s_docs ();
    if (!doc)
        return;
    for (const char *p = doc; (p = strstr (p, "\n### `")); p++) {
        const char *name = p + 6, *end = strchr (name, '`');
        char *type = strndup (name, end ? (size_t)(end - name) : 0);
        size_t count;
        const zhub_event_spec_t *all = zhub_catalogue (&count);
        bool known = false;
        for (size_t i = 0; i < count && !known; i++)
            known = !strcmp (all[i].type, type);
        if (!known)
            fprintf (stderr, "  docs/events.md documents %s, which the catalogue lacks\n", type);
        CHECK (known);
        free (type);
    }
    //  the whole catalogue is here, not in a design note beside the checkout
    //  (.ci/run refuses paths outside it in any file)
    CHECK (!strstr (doc, "DESIGN.md"));
    free (doc);
}

//  -------------------------------------------------------------------
//  The sources

typedef struct {
    char name[64];
    char value[256];
} s_macro_t;

typedef struct {
    s_macro_t *macros;
    size_t macro_count;
    size_t files, literals, names, failures;
    bool quiet; //  count failures without printing them
} s_scan_t;

//  The file with comments and character literals blanked out (newlines
//  kept, so line numbers hold); string literals stay.
static void
s_strip (char *text)
{
    for (char *p = text; *p; p++) {
        if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                *p++ = ' ';
            if (!*p)
                return;
        } else if (p[0] == '/' && p[1] == '*') {
            while (*p && !(p[0] == '*' && p[1] == '/')) {
                if (*p != '\n')
                    *p = ' ';
                p++;
            }
            if (!*p)
                return;
            p[0] = p[1] = ' ';
            p++;
        } else if (*p == '\'') {
            *p++ = ' ';
            while (*p && *p != '\'' && *p != '\n') {
                if (*p == '\\' && p[1])
                    *p++ = ' ';
                *p++ = ' ';
            }
            if (*p == '\'')
                *p = ' ';
        } else if (*p == '"') {
            p++;
            while (*p && *p != '"' && *p != '\n')
                p += *p == '\\' && p[1] ? 2 : 1;
            if (!*p)
                return;
        }
    }
}

static int
s_line (const char *text, const char *at)
{
    int line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    return line;
}

static bool
s_token_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
           || c == '-';
}

//  True when text is wholly a bus name: dotted tokens of [A-Za-z0-9_-],
//  "*" or a last ">" (a pattern), or ending in "." (a prefix).
static bool
s_bus_name (const char *text)
{
    if (!strchr (text, '.'))
        return false;
    for (const char *p = text; *p;) {
        size_t n = 0;
        while (s_token_char (p[n]))
            n++;
        if (!n && (*p == '*' || *p == '>'))
            n = 1;
        if (!n || (*p == '>' && p[1]))
            return false;
        p += n;
        if (*p && *p++ != '.')
            return false;
    }
    return true;
}

//  True when text's first dotted token is one the catalogue's types use.
static bool
s_catalogue_namespace (const char *text)
{
    const char *dot = strchr (text, '.');
    if (!dot)
        return false;
    size_t count, n = (size_t)(dot - text);
    const zhub_event_spec_t *all = zhub_catalogue (&count);
    for (size_t i = 0; i < count; i++)
        if (!strncmp (all[i].type, text, n) && all[i].type[n] == '.')
            return true;
    return false;
}

//  Two subscription patterns match a common topic.
static bool
s_overlap (const char *a, const char *b)
{
    while (*a && *b) {
        if (*a == '>' || *b == '>')
            return true;
        size_t na = strcspn (a, "."), nb = strcspn (b, ".");
        if (!(na == 1 && *a == '*') && !(nb == 1 && *b == '*') && (na != nb || strncmp (a, b, na)))
            return false;
        a += na + (a[na] == '.');
        b += nb + (b[nb] == '.');
    }
    return !*a && !*b;
}

//  Where a bus name of the sources stands in the catalogue; NULL when it is
//  known, else what is wrong.
static const char *
s_classify (const char *name, bool must_be_type)
{
    size_t count, size = strlen (name);
    const zhub_event_spec_t *all = zhub_catalogue (&count);
    if (strchr (name, '*') || strchr (name, '>')) {
        for (size_t i = 0; i < count; i++)
            if ((all[i].pattern && s_overlap (name, all[i].pattern))
                || zhub_topic_match (name, all[i].pattern ? all[i].example_type : all[i].type))
                return NULL;
        return "a subscription pattern that matches no catalogue event";
    }
    if (size && name[size - 1] == '.') {
        char *probe = zhub_sprintf ("%sx", name);
        bool known = zhub_catalogue_find (probe) != NULL;
        for (size_t i = 0; i < count && !known; i++)
            known = !strncmp (all[i].type, name, size);
        free (probe);
        return known ? NULL : "a prefix of no catalogue event";
    }
    if (zhub_catalogue_find (name))
        return NULL;
    for (size_t i = 0; i < count; i++)
        if (!strcmp (all[i].type, name))
            return NULL; //  a form itself ("dlq.<group>")
    for (size_t i = 0; !must_be_type && i < sizeof s_not_events / sizeof s_not_events[0]; i++)
        if (!strcmp (s_not_events[i].name, name))
            return NULL;
    return "an event type the catalogue does not have";
}

static void
s_fail (s_scan_t *scan, const char *path, int line, const char *name, const char *why)
{
    if (!scan->quiet)
        fprintf (stderr, "  %s:%d: \"%s\" is %s\n", path + strlen (ZHUB_SOURCE_DIR) + 1, line, name,
                 why);
    scan->failures++;
}

//  The string literal at p (p at its opening quote) into out; returns the
//  character after it.
static const char *
s_literal (const char *p, char *out, size_t size)
{
    size_t n = 0;
    for (p++; *p && *p != '"' && *p != '\n'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (n + 1 < size)
            out[n++] = *p;
    }
    out[n] = 0;
    return *p == '"' ? p + 1 : p;
}

static const char *
s_macro (const s_scan_t *scan, const char *name, size_t size)
{
    for (size_t i = 0; i < scan->macro_count; i++)
        if (strlen (scan->macros[i].name) == size && !strncmp (scan->macros[i].name, name, size))
            return scan->macros[i].value;
    return NULL;
}

//  Pass 1: #define NAME "literal", from every file (a header's macro is
//  used in other files).
static void
s_collect_macros (s_scan_t *scan, const char *text)
{
    for (const char *p = text; (p = strstr (p, "#define ")); p++) {
        const char *name = p + 8;
        while (*name == ' ')
            name++;
        size_t n = 0;
        while (s_token_char (name[n]) && name[n] != '-')
            n++;
        const char *value = name + n;
        while (*value == ' ' || *value == '\t')
            value++;
        if (!n || n >= sizeof scan->macros[0].name || *value != '"')
            continue;
        scan->macros = realloc (scan->macros, (scan->macro_count + 1) * sizeof *scan->macros);
        s_macro_t *macro = &scan->macros[scan->macro_count++];
        snprintf (macro->name, sizeof macro->name, "%.*s", (int)n, name);
        s_literal (value, macro->value, sizeof macro->value);
        //  a define followed by more than one literal is not a name
        const char *after = s_literal (value, (char[2]){0}, 1);
        while (*after == ' ' || *after == '\t')
            after++;
        if (*after == '"')
            scan->macro_count--;
    }
}

//  Pass 2 for one file.
static void
s_check_file (s_scan_t *scan, const char *path, const char *text)
{
    scan->files++;
    char name[256];
    //  every literal that is a bus name
    for (const char *p = text; (p = strchr (p, '"'));) {
        const char *at = p;
        p = s_literal (p, name, sizeof name);
        scan->literals++;
        size_t size = strlen (name);
        bool file =
            size > 2 && name[size - 2] == '.' && (name[size - 1] == 'h' || name[size - 1] == 'c');
        if (!s_bus_name (name) || file || !s_catalogue_namespace (name))
            continue;
        scan->names++;
        const char *why = s_classify (name, false);
        if (why)
            s_fail (scan, path, s_line (text, at), name, why);
    }
    //  what is set as a type, and every …_TOPIC macro
    for (const char *p = text; (p = strstr (p, "->type,")); p++) {
        //  zhub_msg_set (&msg->type, …): the field's address, not its value
        const char *start = p;
        while (start > text
               && (s_token_char (start[-1]) || start[-1] == '.' || start[-1] == '>'
                   || (start[-1] == '-' && start[0] == '>')))
            start--;
        if (start == text || start[-1] != '&')
            continue;
        int depth = 0;
        for (const char *q = p + 7; *q && depth >= 0 && *q != ';'; q++) {
            if (*q == '(')
                depth++;
            else if (*q == ')')
                depth--;
            else if (*q == '"') {
                q = s_literal (q, name, sizeof name) - 1;
                const char *why = s_classify (name, true);
                if (why)
                    s_fail (scan, path, s_line (text, p), name, why);
            } else if (*q >= 'A' && *q <= 'Z' && !s_token_char (q[-1])) {
                size_t n = 0;
                while (s_token_char (q[n]) && q[n] != '-')
                    n++;
                const char *value = s_macro (scan, q, n);
                const char *why = value ? s_classify (value, true) : NULL;
                if (why)
                    s_fail (scan, path, s_line (text, p), value, why);
                q += n - 1;
            }
        }
    }
    for (size_t i = 0; i < scan->macro_count; i++) {
        size_t n = strlen (scan->macros[i].name);
        if (n < 6 || strcmp (scan->macros[i].name + n - 6, "_TOPIC"))
            continue;
        char *define = zhub_sprintf ("#define %s ", scan->macros[i].name);
        const char *at = strstr (text, define);
        free (define);
        const char *why = at ? s_classify (scan->macros[i].value, true) : NULL;
        if (why)
            s_fail (scan, path, s_line (text, at), scan->macros[i].value, why);
    }
}

typedef void (s_visit_fn) (s_scan_t *scan, const char *path, const char *text);

static void
s_walk (s_scan_t *scan, const char *dir, s_visit_fn *visit)
{
    DIR *d = opendir (dir);
    CHECK (d != NULL);
    if (!d)
        return;
    struct dirent *entry;
    while ((entry = readdir (d))) {
        if (entry->d_name[0] == '.')
            continue;
        char *path = zhub_sprintf ("%s/%s", dir, entry->d_name);
        struct stat st;
        size_t n = strlen (entry->d_name);
        if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
            s_walk (scan, path, visit);
        else if (n > 2 && entry->d_name[n - 2] == '.'
                 && (entry->d_name[n - 1] == 'c' || entry->d_name[n - 1] == 'h')
                 && strcmp (entry->d_name, "zhub_catalogue.c")) {
            char *text = s_read (path, NULL);
            if (text) {
                s_strip (text);
                visit (scan, path, text);
            }
            free (text);
        }
        free (path);
    }
    closedir (d);
}

static void
s_visit_macros (s_scan_t *scan, const char *path, const char *text)
{
    (void)path;
    s_collect_macros (scan, text);
}

static const char *s_dirs[] = {"actors", "cli", "broker", "gateway", "proto"};

static void
test_every_type_the_sources_publish_is_in_the_catalogue (void)
{
    s_scan_t scan = {0};
    for (size_t i = 0; i < sizeof s_dirs / sizeof s_dirs[0]; i++) {
        char *dir = zhub_sprintf ("%s/%s", ZHUB_SOURCE_DIR, s_dirs[i]);
        s_walk (&scan, dir, s_visit_macros);
        free (dir);
    }
    for (size_t i = 0; i < sizeof s_dirs / sizeof s_dirs[0]; i++) {
        char *dir = zhub_sprintf ("%s/%s", ZHUB_SOURCE_DIR, s_dirs[i]);
        s_walk (&scan, dir, s_check_file);
        free (dir);
    }
    printf ("  %zu files, %zu string literals, %zu bus names, %zu not in the catalogue\n",
            scan.files, scan.literals, scan.names, scan.failures);
    //  a scan that found nothing would pass without looking
    CHECK (scan.files > 100 && scan.names > 50);
    CHECK (scan.failures == 0);
    free (scan.macros);
}

//  The scan itself: it finds what it must and lets through what it may.
static void
test_the_scan_tells_events_from_other_names (void)
{
    s_scan_t scan = {.quiet = true};
    char text[] = "#define X_TOPIC \"invoice.paid\"\n"
                  "#define Y_EVENT \"contact.upserted\"\n"
                  "zhub_msg_set (&msg->type, Y_EVENT);\n"
                  "zhub_msg_set (&msg->type, ok ? \"contact.synced\" : \"tour.moved\");\n"
                  "// \"contact.commented\" in a comment is not code\n"
                  "{\"webhook.bird.>\", handler}, {\"tour.>\", h}, {\"dlq.>\", h}\n"
                  "strncmp (topic, \"webhook.hubspot.\", 16); \"contact.merge\"; \"dlq.h\"\n"
                  "\"contact.synced without both ids\"; \"deal.%s\"; \"api.hubapi.com\"\n"
                  "\"<p>conversation.message</p>\"; \"tour.scheduled<\"\n";
    s_strip (text);
    char path[] = ZHUB_SOURCE_DIR "/cli/example.c";
    s_collect_macros (&scan, text);
    s_check_file (&scan, path, text);
    //  invoice.paid as a _TOPIC; contact.upserted and tour.moved both as
    //  contact.* / tour.* names and as what is set as a type
    CHECK (scan.failures == 5);
    //  contact.upserted, contact.synced, tour.moved, three patterns, a
    //  prefix, contact.merge; not the comment, the file, the sentence, the
    //  format, the host
    CHECK (scan.names == 8);
    free (scan.macros);
}

int
main (int argc, char **argv)
{
    if (argc > 1 && !strcmp (argv[1], "--print")) {
        char *index = s_index ();
        printf ("%s\n", index);
        free (index);
        size_t count;
        const zhub_event_spec_t *all = zhub_catalogue (&count);
        for (size_t i = 0; i < count; i++) {
            char *section = s_section (&all[i]);
            printf ("%s\n", section);
            free (section);
        }
        return 0;
    }
    RUN (test_the_docs_hold_every_entry_as_the_table_has_it);
    RUN (test_the_docs_list_nothing_beyond_the_table);
    RUN (test_every_type_the_sources_publish_is_in_the_catalogue);
    RUN (test_the_scan_tells_events_from_other_names);
    TEST_EXIT ();
}
