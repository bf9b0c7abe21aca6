//  zhub audit contact <bird id>: the audit trail of one contact — every
//  field decision contact-sync and deal-sync made (field, old, new, winner,
//  both times, the source event id), oldest first.
//  zhub audit erase <request>: what is left of an erased person's trail —
//  tombstones (keys "erased:<request>|..."): times, decisions and event
//  ids, no value, since the erase removed the person's ids from the keys.
//
//  It opens the actors' own LMDB environments read-only beside the running
//  actors: LMDB is built for many readers in many processes, so no bus
//  round trip and no actor needs to be up to answer. Each actor's trail is
//  read through its store's read side (contact_sync_store_audit,
//  deal_sync_store_audit), which alone knows its keys. An environment that
//  does not exist is skipped, never created. With several replicas (each
//  its own data dir) point ZHUB_DATA_DIR at each in turn, or use --data-dir.
#include "cli.h"
#include "contact_sync_store.h"
#include "deal_sync_store.h"
#include "zhub_store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_help (FILE *out)
{
    fputs ("usage: zhub audit contact <bird contact id> [--json] [--data-dir DIR]\n"
           "       zhub audit erase <request id> [--json] [--data-dir DIR]\n"
           "\n"
           "Shows the conflict decisions recorded for one contact by contact-sync\n"
           "and deal-sync (field, old and new value, the winner, both sides' times,\n"
           "the event that caused it), oldest first. Reads the actors' LMDB\n"
           "environments under $ZHUB_DATA_DIR (default ./.zhub-data) read-only.\n"
           "\n"
           "A contact erased with `zhub erase contact` has no entries under its id\n"
           "any more: its trail is kept as tombstones (times, decisions, event ids,\n"
           "no values) under the erase's request id, shown by `audit erase`.\n"
           "\n"
           "  --json          one JSON object {\"contact\" (or \"erase_request\"), \"entries\": "
           "[...]}\n"
           "  --data-dir DIR  instead of $ZHUB_DATA_DIR\n"
           "\n"
           "Exit codes: 0 shown (also when there are no entries), 1 a store could\n"
           "not be read, 2 bad arguments.\n",
           out);
}

//  contact-sync's entries of a contact (or an erase's tombstones), read by
//  its store. 0 (also when it has no store here), -1 on a store error.
static int
s_read_contact_sync (const char *data_dir, const char *id, bool erase, json_t *entries)
{
    contact_sync_store_t store;
    char err[256] = "";
    zhub_rc_t rc = contact_sync_store_open_readonly (&store, data_dir, err, sizeof err);
    if (rc == ZHUB_NOTFOUND)
        return 0;
    if (rc == ZHUB_OK && contact_sync_store_audit (&store, id, erase, entries) != ZHUB_OK)
        snprintf (err, sizeof err, "cannot read the audit table");
    else if (rc == ZHUB_OK)
        *err = 0;
    contact_sync_store_close (&store);
    if (*err) {
        fprintf (stderr, "zhub audit: %s: %s\n", CONTACT_SYNC_GROUP, err);
        return -1;
    }
    return 0;
}

//  deal-sync's entries of the contact bird_id into entries. 0 (also when
//  deal-sync has no store there), -1 on a store error.
static int
s_read_deal_sync (const char *data_dir, const char *bird_id, json_t *entries)
{
    zhub_store_t *store;
    deal_sync_tables_t tables;
    char err[256];
    zhub_rc_t rc = deal_sync_store_open_readonly (data_dir, &store, &tables, err, sizeof err);
    if (rc == ZHUB_NOTFOUND)
        return 0;
    if (rc == ZHUB_ERROR) {
        fprintf (stderr, "zhub audit: %s: %s\n", DEAL_SYNC_GROUP, err);
        return -1;
    }
    rc = deal_sync_store_audit (store, &tables, bird_id, entries);
    if (rc != ZHUB_OK)
        fprintf (stderr, "zhub audit: %s: cannot read the audit table\n", DEAL_SYNC_GROUP);
    zhub_store_destroy (&store);
    return rc == ZHUB_OK ? 0 : -1;
}

static int
s_by_time (const void *a, const void *b)
{
    const char *ta = json_string_value (json_object_get (*(json_t *const *)a, "time"));
    const char *tb = json_string_value (json_object_get (*(json_t *const *)b, "time"));
    return strcmp (ta ? ta : "", tb ? tb : "");
}

static const char *
s_field (const json_t *entry, const char *key)
{
    const char *text = json_string_value (json_object_get (entry, key));
    return text ? text : "-";
}

int
zhub_cmd_audit (int argc, char **argv)
{
    bool json = false;
    const char *kind = NULL, *id = NULL;
    const char *data_dir = getenv ("ZHUB_DATA_DIR");
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            s_help (stdout);
            return ZHUB_EXIT_OK;
        } else if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--data-dir") && i + 1 < argc)
            data_dir = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf (stderr, "zhub audit: unknown option %s\n", argv[i]);
            s_help (stderr);
            return ZHUB_EXIT_USAGE;
        } else if (!kind)
            kind = argv[i];
        else if (!id)
            id = argv[i];
        else {
            s_help (stderr);
            return ZHUB_EXIT_USAGE;
        }
    }
    bool erase = kind && !strcmp (kind, "erase");
    if (!kind || (strcmp (kind, "contact") && !erase) || !id || !*id || strchr (id, '|')
        || strlen (id) > 300) {
        s_help (stderr);
        return ZHUB_EXIT_USAGE;
    }
    if (!data_dir || !*data_dir)
        data_dir = "./.zhub-data";
    json_t *entries = json_array ();
    int rc = ZHUB_EXIT_OK;
    if (s_read_contact_sync (data_dir, id, erase, entries))
        rc = ZHUB_EXIT_FAILURE;
    //  deal-sync keeps no tombstones: its erase deletes the entries
    if (!erase && s_read_deal_sync (data_dir, id, entries))
        rc = ZHUB_EXIT_FAILURE;
    //  Oldest first across both actors.
    size_t count = json_array_size (entries);
    json_t **sorted = calloc (count ? count : 1, sizeof *sorted);
    for (size_t i = 0; i < count; i++)
        sorted[i] = json_array_get (entries, i);
    qsort (sorted, count, sizeof *sorted, s_by_time);
    if (json) {
        json_t *list = json_array ();
        for (size_t i = 0; i < count; i++)
            json_array_append (list, sorted[i]);
        json_t *root =
            json_pack ("{s:s, s:o}", erase ? "erase_request" : "contact", id, "entries", list);
        char *text = json_dumps (root, JSON_COMPACT);
        puts (text);
        free (text);
        json_decref (root);
    } else {
        if (!count)
            printf ("no audit entries for %s %s%s\n", erase ? "erase request" : "contact", id,
                    erase ? "" : " (an erased contact's trail: zhub audit erase <request>)");
        for (size_t i = 0; i < count; i++) {
            const json_t *e = sorted[i];
            //  A tombstone has no values left: say so rather than "- -> -".
            bool erased = json_is_true (json_object_get (e, "erased"));
            const char *old = erased ? "[erased]" : s_field (e, "old");
            const char *new = erased ? "[erased]" : s_field (e, "new");
            printf ("%s %-12s %-8s %-18s %s -> %s  winner=%s decision=%s", s_field (e, "time"),
                    s_field (e, "actor"), s_field (e, "object"), s_field (e, "field"), old, new,
                    s_field (e, "winner"), s_field (e, "decision"));
            if (json_object_get (e, "ai_time"))
                printf (" ai_time=%s", s_field (e, "ai_time"));
            if (json_object_get (e, "bird_time"))
                printf (" bird_time=%s", s_field (e, "bird_time"));
            if (json_object_get (e, "hubspot_time"))
                printf (" hubspot_time=%s", s_field (e, "hubspot_time"));
            if (json_is_integer (json_object_get (e, "removed")))
                printf (" removed=%lld upstream=%s",
                        (long long)json_integer_value (json_object_get (e, "removed")),
                        json_is_true (json_object_get (e, "upstream")) ? "yes" : "no");
            if (erased)
                printf (" erased=%s", s_field (e, "erase_request"));
            printf (" event=%s\n", s_field (e, "event_id"));
        }
    }
    free (sorted);
    json_decref (entries);
    return rc;
}
