//  zhub status contact <phone|email|id>: where one person stands in every
//  actor that knows them — contact-sync (synced, or pending and why; last
//  sync; HubSpot and Bird ids), deal-sync (deals and stages), the
//  scheduler (bookings), the
//  conversation bridge (open conversation, last inbound message) and
//  activity-log (ids learned, transcript of each conversation). The
//  per-record sync status, for people or (--json) scripts. The reading is
//  status_contact.c's; this file parses and prints.
#include "cli.h"
#include "status_contact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_DIRS 32

static const char *s_usage =
    "usage: zhub status contact <phone|email|id> [--json] [--data-dir DIR]...\n"
    "\n"
    "Shows where one person stands in every actor that knows them:\n"
    "  contact-sync   synced, or pending and why (a HubSpot write queued for\n"
    "                 the next batch, or deferred: HubSpot's answer), last\n"
    "                 sync, HubSpot and Bird contact ids\n"
    "  deal-sync      their deals: id, stage, since when\n"
    "  scheduler      their tour bookings: status, time, calendar, agent\n"
    "  conversation   the open (or last) conversation, last inbound message\n"
    "  activity-log   the HubSpot ids it learned, each conversation's\n"
    "                 transcript note (written, waiting, not written)\n"
    "  <phone|email|id>  +5215512345678, ana@example.com, a HubSpot contact id\n"
    "                    or a Bird contact id\n"
    "\n"
    "  --json          one JSON object {\"identifier\", \"actors\": {<actor>: {...}}}\n"
    "  --data-dir DIR  the actors' data dir (default $ZHUB_DATA_DIR, else\n"
    "                  ./.zhub-data); repeat it for each replica's\n"
    "\n"
    "Reads the actors' stores read-only; the actors need not be running.\n"
    "Exit codes: 0 shown, 1 no actor knows the person (or a store could not\n"
    "be read), 2 bad arguments.\n";

static int
s_usage_error (const char *what)
{
    fprintf (stderr, "zhub status contact: %s\n\n%s", what, s_usage);
    return ZHUB_EXIT_USAGE;
}

static const char *
s_str (const json_t *obj, const char *key, const char *fallback)
{
    const char *text = json_string_value (json_object_get (obj, key));
    return text ? text : fallback;
}

static json_t *
s_items (const json_t *actors, const char *actor, const char *list)
{
    return json_object_get (json_object_get (actors, actor), list);
}

static void
s_print (const char *identifier, const json_t *actors)
{
    printf ("contact %s\n", identifier);
    size_t i;
    json_t *item;
    json_array_foreach (s_items (actors, "contact-sync", "persons"), i, item)
    {
        printf ("  %-14s %-8s bird=%s hubspot=%s last_sync=%s\n", "contact-sync",
                s_str (item, "status", "?"), s_str (item, "bird_contact_id", "-"),
                s_str (item, "hubspot_contact_id", "-"), s_str (item, "last_sync", "never"));
        if (json_object_get (item, "name") || json_object_get (item, "phone")
            || json_object_get (item, "email"))
            printf ("  %-14s name=\"%s\" phone=%s email=%s\n", "", s_str (item, "name", ""),
                    s_str (item, "phone", "-"), s_str (item, "email", "-"));
        if (json_object_get (item, "reason"))
            printf ("  %-14s why: %s\n", "", s_str (item, "reason", ""));
        const json_t *pending = json_object_get (item, "pending");
        if (pending) {
            char *fields = json_dumps (json_object_get (pending, "fields"), JSON_COMPACT);
            printf ("  %-14s queued since %s, fields %s\n", "", s_str (pending, "since", "?"),
                    fields ? fields : "[]");
            free (fields);
        }
        if (json_object_get (item, "bird_link_pending"))
            printf ("  %-14s HubSpot id %s not yet written onto the Bird contact\n", "",
                    s_str (item, "bird_link_pending", ""));
    }
    json_array_foreach (s_items (actors, "deal-sync", "deals"), i, item)
    {
        printf ("  %-14s deal %s stage=%s since=%s associated=%s\n", "deal-sync",
                s_str (item, "deal_id", "-"), s_str (item, "stage", "-"),
                s_str (item, "stage_since", "-"),
                json_is_true (json_object_get (item, "associated")) ? "yes" : "no");
    }
    json_array_foreach (s_items (actors, "scheduler", "bookings"), i, item)
    {
        printf ("  %-14s booking %s %s %s..%s on %s agent=%s\n", "scheduler",
                s_str (item, "booking_id", "-"), s_str (item, "status", "-"),
                s_str (item, "start", "?"), s_str (item, "end", "?"), s_str (item, "platform", "-"),
                s_str (item, "agent_id", "-"));
    }
    json_array_foreach (s_items (actors, "conversation", "conversations"), i, item)
    {
        printf ("  %-14s conversation %s %s channel=%s last_inbound=%s last_message=%s\n",
                "conversation", s_str (item, "conversation_id", "-"),
                json_is_true (json_object_get (item, "open")) ? "open" : "closed",
                s_str (item, "channel", "-"), s_str (item, "last_inbound", "never"),
                s_str (item, "last_message", "-"));
    }
    json_array_foreach (s_items (actors, "activity-log", "contacts"), i, item)
    {
        printf ("  %-14s hubspot contact=%s deal=%s\n", "activity-log",
                s_str (item, "hubspot_contact_id", "-"), s_str (item, "hubspot_deal_id", "-"));
    }
    json_array_foreach (s_items (actors, "activity-log", "conversations"), i, item)
    {
        printf ("  %-14s conversation %s transcript %s (note %s, %lld line(s))\n", "activity-log",
                s_str (item, "conversation_id", "-"), s_str (item, "transcript", "-"),
                s_str (item, "transcript_note_id", "-"),
                (long long)json_integer_value (json_object_get (item, "lines")));
    }
}

int
zhub_cmd_status_contact (int argc, char **argv)
{
    bool json = false;
    const char *identifier = NULL;
    const char *dirs[S_MAX_DIRS];
    size_t dir_count = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        } else if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--data-dir") && i + 1 < argc) {
            if (dir_count == S_MAX_DIRS)
                return s_usage_error ("too many --data-dir");
            dirs[dir_count++] = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != 0 && argv[i][0] != '+') {
            char what[128];
            snprintf (what, sizeof what, "unknown option %.60s", argv[i]);
            return s_usage_error (what);
        } else if (!identifier)
            identifier = argv[i];
        else
            return s_usage_error ("too many arguments");
    }
    if (!identifier)
        return s_usage_error ("expected: status contact <phone|email|id>");
    size_t size = strlen (identifier);
    bool printable = size > 0 && size <= 254;
    for (const char *p = identifier; printable && *p; p++)
        printable = (unsigned char)*p > 0x20 && *p != 0x7f;
    if (!printable)
        return s_usage_error ("expected a phone, an e-mail or an id (no spaces)");
    if (!dir_count) {
        const char *data_dir = getenv ("ZHUB_DATA_DIR");
        dirs[dir_count++] = data_dir && *data_dir ? data_dir : "./.zhub-data";
    }
    json_t *actors = json_object ();
    int failed = 0;
    for (size_t i = 0; i < dir_count; i++)
        failed |= zhub_status_contact_gather (dirs[i], identifier, actors);
    int rc = ZHUB_EXIT_OK;
    if (!json_object_size (actors)) {
        fprintf (stderr, "zhub status contact: no actor knows %s%s\n", identifier,
                 failed ? " (and a store could not be read)" : "");
        rc = ZHUB_EXIT_FAILURE;
    } else if (json) {
        json_t *root = json_pack ("{s:s, s:O}", "identifier", identifier, "actors", actors);
        char *text = json_dumps (root, JSON_COMPACT);
        puts (text);
        free (text);
        json_decref (root);
    } else
        s_print (identifier, actors);
    if (failed)
        rc = ZHUB_EXIT_FAILURE;
    json_decref (actors);
    return rc;
}
