//  zhub: the operator's command. Dispatches to one function per
//  subcommand; each subcommand parses its own options and has --help.
#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  One row per command: adding a command is one line here plus its own
//  cmd_<name>.c file.
static const struct {
    const char *name;
    int (*run) (int argc, char **argv);
    const char *summary;
} s_commands[] = {
    {"up", zhub_cmd_up, "run the whole hub locally in the foreground (stand-in peers,\n"
                        "              broker, gateway, actors); Ctrl-C stops everything"},
    {"dlq", zhub_cmd_dlq, "dead letters: list, show, replay, edit, purge"},
    {"status", zhub_cmd_status, "the broker's figures: log, topics, groups (lag, in flight,\n"
                                "              retries, dead letters), store, tap; one person's\n"
                                "              sync status in every actor (contact <phone|email|id>)"},
    {"pub", zhub_cmd_pub, "publish one message (TOPIC SUBJECT JSON) and wait for the commit"},
    {"tail", zhub_cmd_tail, "follow committed messages live from the broker's tap [PATTERN]"},
    {"group", zhub_cmd_group, "change a consumer group's settings, or replay it from an\n"
                              "              offset or a time (set | reset)"},
    {"audit", zhub_cmd_audit, "a contact's sync decisions (contact <bird id>): field, old,\n"
                              "              new, winner, both times, source event; an erased\n"
                              "              person's tombstones (erase <request id>)"},
    {"sync", zhub_cmd_sync, "what each sync run did (results): reconciliations and batch\n"
                            "              flushes, created/updated/skipped/failed, conflicts"},
    {"erase", zhub_cmd_erase, "GDPR: erase a person (contact <phone|email|id>) from every\n"
                              "              store zhub keeps; --upstream also in HubSpot and Bird"},
    {"keys", zhub_cmd_keys, "the bus's CURVE keys: new (a client's or the broker's), list,\n"
                            "              revoke (cut off without a restart)"},
    {"hubspot", zhub_cmd_hubspot, "create the custom HubSpot properties the sync needs (setup)"},
    {"backup", zhub_cmd_backup, "a consistent copy of every LMDB environment under the data\n"
                                "              dir while the processes run (DEST folder, .tar or -)"},
    {"restore", zhub_cmd_restore, "bring a backup back into an empty data folder"},
    {"doctor", zhub_cmd_doctor, "check every configured connection live (HubSpot, Bird,\n"
                                "              calendars, broker, public URL) and say what is wrong"},
};

static void
s_usage (FILE *out)
{
    fputs ("usage: zhub <command> [options]\n\nCommands:\n", out);
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        fprintf (out, "  %-11s %s\n", s_commands[i].name, s_commands[i].summary);
    fputs ("  help        show this text\n"
           "  version     print the version\n"
           "\n"
           "Run `zhub <command> --help` for a command's options.\n"
           "\n"
           "Exit codes: 0 success, 1 the operation failed (zhub doctor: a check\n"
           "failed), 2 bad arguments, 3 the broker did not answer, 4 not found (e.g.\n"
           "no such dead letter).\n",
           out);
}

int
zhub_cli_find_program (const char *name, char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t len = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = 0;
        char *slash = strrchr (self, '/');
        if (slash)
            *slash = 0;
        //  installed side by side, or the meson build tree
        const char *layouts[] = {"%s/%s", "%s/../broker/%s", "%s/../gateway/%s",
                                 "%s/../actors/%s/%s"};
        for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
            if (i == 3) {
                //  actors/<name without zhub->/zhub-<name>
                const char *short_name = strncmp (name, "zhub-", 5) == 0 ? name + 5 : name;
                snprintf (out, size, layouts[i], self, short_name, name);
            }
            else
                snprintf (out, size, layouts[i], self, name);
            if (access (out, X_OK) == 0)
                return 0;
        }
    }
    const char *path = getenv ("PATH");
    if (!path)
        return -1;
    char *copy = strdup (path), *save = NULL;
    for (char *dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save)) {
        snprintf (out, size, "%s/%s", dir, name);
        if (access (out, X_OK) == 0) {
            free (copy);
            return 0;
        }
    }
    free (copy);
    return -1;
}

int
main (int argc, char **argv)
{
    if (argc < 2 || !strcmp (argv[1], "help") || !strcmp (argv[1], "--help")
        || !strcmp (argv[1], "-h")) {
        s_usage (stdout);
        return argc < 2 ? ZHUB_EXIT_USAGE : ZHUB_EXIT_OK;
    }
    if (!strcmp (argv[1], "version") || !strcmp (argv[1], "--version")) {
        printf ("zhub %s\n", ZHUB_VERSION);
        return ZHUB_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (!strcmp (argv[1], s_commands[i].name))
            return s_commands[i].run (argc - 1, argv + 1);
    fprintf (stderr, "zhub: unknown command '%s'\n\n", argv[1]);
    s_usage (stderr);
    return ZHUB_EXIT_USAGE;
}
