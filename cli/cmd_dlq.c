//  `zhub dlq`: the operator's view of what failed for good. Reads go
//  straight to zhub-dead-letter's LMDB store, opened read-only (LMDB lets
//  any number of readers in other processes beside the one writer), so
//  `list`, `show` and every --dry-run work even while the actor is down.
//  Changes (replay, edit, purge) are published on the bus as commands that
//  the actor applies in its own write transaction; the command then waits,
//  by re-reading the store, until the actor has applied them. Why this
//  split: docs/adr/0004-dead-letter-cli-reads-store-writes-through-bus.md.
//
//  This file holds the usage text, the options and the dispatch; each
//  subcommand has its own file (dlq.h lists them).
#include "dlq.h"
#include "zhub_env.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_usage =
    "usage: zhub dlq <list|show|replay|edit|purge> [options]\n"
    "\n"
    "Dead letters are messages a consumer group gave up on (terminal NACK or too\n"
    "many failed deliveries). zhub-dead-letter keeps each with its failure history.\n"
    "\n"
    "  zhub dlq list [--group G] [--since T] [--before T] [--reason TEXT]\n"
    "                [--topic PATTERN] [--limit N] [--json]\n"
    "      T is RFC 3339 (2024-05-08T21:00:00Z) or an age (30m, 2h, 7d).\n"
    "      TEXT is a reason code (422) or part of the reason text.\n"
    "  zhub dlq show ID [--json]\n"
    "      ID is the number shown by list, or the dead letter's dlq:... id.\n"
    "  zhub dlq replay ID [--again] [--dry-run [--mapping FILE]] [--json]\n"
    "  zhub dlq replay --group G [--since T] [--before T] [--reason TEXT] [--again]\n"
    "                  [--dry-run [--mapping FILE]] [--json]\n"
    "      Republishes to the original topic, as id replay:<n>:<original id> with\n"
    "      data.zhub_replay = {of, n, dead_letter, group}; the running actor\n"
    "      handles it again under the mapping it read at start (the re-run after\n"
    "      a mapping fix: restart the actor after changing the file). Replaying a\n"
    "      letter again reuses the same id (the broker's dedup drops the repeat)\n"
    "      unless --again asks for a new replay (n + 1).\n"
    "      --dry-run publishes nothing: it shows the message a replay would\n"
    "      publish and what the letter's group would now do with it under the\n"
    "      current mapping ($ZHUB_MAPPING_FILE, or --mapping FILE to try a file\n"
    "      before deploying it): for contact-sync and deal-sync the call and the\n"
    "      HubSpot or Bird fields it would write, a validation error it would\n"
    "      still hit, or that no mapping applies to the message.\n"
    "  zhub dlq edit ID (--set PATH=VALUE ... | --file DATA.json)\n"
    "                [--dry-run [--mapping FILE]]\n"
    "      PATH is data.<field>[.<field>...] or subject; VALUE is JSON when it\n"
    "      parses as JSON, else text. --file replaces data with the JSON object.\n"
    "      --dry-run shows the change, and what the group would do with the\n"
    "      edited message under the mapping (as replay --dry-run); stores nothing.\n"
    "  zhub dlq purge (ID ... | --group G [--before T] [--reason TEXT] | --all)\n"
    "                 [--dry-run]\n"
    "\n"
    "Common options: --timeout DURATION  wait this long for zhub-dead-letter to\n"
    "apply a change (default 10s); --json  machine-readable output.\n"
    "Reads $ZHUB_DATA_DIR/dead-letter/ (and, for previews, contact-sync's and\n"
    "deal-sync's stores there, read-only) and publishes to $ZHUB_BROKER.\n"
    "\n"
    "Exit codes: 0 done, 1 failed (or not applied in time), 2 bad arguments,\n"
    "3 the broker did not answer, 4 no such dead letter.\n";

//  RFC 3339, or an age ("2h" = two hours ago).
static int
s_parse_time (const char *text, int64_t *out)
{
    if (zhub_time_parse (text, out) == 0)
        return 0;
    int64_t age;
    if (zhub_parse_duration_ms (text, &age) == 0) {
        *out = zhub_now_ms () - age;
        return 0;
    }
    return -1;
}

//  An option that takes a value ("--group G" or "--group=G"). Returns 0,
//  or -1 (said on stderr when it helps).
static int
s_option (const char *name, const char *value, zhub_dlq_args_t *args)
{
    if (!strcmp (name, "--group"))
        args->filter.group = value;
    else if (!strcmp (name, "--topic"))
        args->filter.topic = value;
    else if (!strcmp (name, "--reason"))
        args->filter.reason = value;
    else if (!strcmp (name, "--since") || !strcmp (name, "--before")) {
        int64_t *target = name[2] == 's' ? &args->filter.since_ms : &args->filter.before_ms;
        if (s_parse_time (value, target)) {
            fprintf (stderr, "zhub dlq: %s: '%s' is neither RFC 3339 nor an age\n", name, value);
            return -1;
        }
    } else if (!strcmp (name, "--set")) {
        if (args->set_count == ZHUB_DLQ_MAX_SETS)
            return -1;
        args->sets[args->set_count++] = value;
    } else if (!strcmp (name, "--file"))
        args->file = value;
    else if (!strcmp (name, "--mapping"))
        args->mapping = value;
    else if (!strcmp (name, "--limit")) {
        char *end;
        args->limit = strtol (value, &end, 10);
        if (*end || args->limit < 0)
            return -1;
    } else if (!strcmp (name, "--timeout")) {
        if (zhub_parse_duration_ms (value, &args->timeout_ms))
            return -1;
    } else {
        fprintf (stderr, "zhub dlq: unknown option %s\n", name);
        return -1;
    }
    return 0;
}

static int
s_parse (int argc, char **argv, zhub_dlq_args_t *args)
{
    memset (args, 0, sizeof *args);
    args->timeout_ms = ZHUB_DLQ_WAIT_DEFAULT_MS;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp (arg, "--", 2) != 0) {
            if (args->positional_count == ZHUB_DLQ_MAX_POSITIONAL)
                return -1;
            args->positional[args->positional_count++] = arg;
            continue;
        }
        //  flags without a value
        if (!strcmp (arg, "--json"))
            args->json = true;
        else if (!strcmp (arg, "--dry-run"))
            args->dry_run = true;
        else if (!strcmp (arg, "--again"))
            args->again = true;
        else if (!strcmp (arg, "--all"))
            args->all = true;
        else {
            const char *value = NULL;
            char name[32];
            const char *eq = strchr (arg, '=');
            if (eq && (size_t)(eq - arg) < sizeof name) {
                memcpy (name, arg, (size_t)(eq - arg));
                name[eq - arg] = 0;
                value = eq + 1;
            } else if (!eq && strlen (arg) < sizeof name) {
                snprintf (name, sizeof name, "%s", arg);
                if (i + 1 >= argc) {
                    fprintf (stderr, "zhub dlq: %s needs a value\n", arg);
                    return -1;
                }
                value = argv[++i];
            } else
                return -1;
            if (s_option (name, value, args))
                return -1;
        }
    }
    return 0;
}

int
zhub_cmd_dlq (int argc, char **argv)
{
    if (argc < 2 || !strcmp (argv[1], "--help") || !strcmp (argv[1], "-h")
        || !strcmp (argv[1], "help")) {
        fputs (s_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? ZHUB_EXIT_USAGE : ZHUB_EXIT_OK;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        }
    if (sodium_init () < 0)
        return ZHUB_EXIT_FAILURE;
    zhub_dlq_args_t args;
    if (s_parse (argc - 2, argv + 2, &args)) {
        fprintf (stderr, "zhub dlq %s: bad arguments (see zhub dlq --help)\n", argv[1]);
        return ZHUB_EXIT_USAGE;
    }
    static const struct {
        const char *name;
        int (*run) (zhub_dlq_args_t *args);
    } subcommands[] = {{"list", zhub_dlq_list}, {"ls", zhub_dlq_list},
                       {"show", zhub_dlq_show}, {"replay", zhub_dlq_replay},
                       {"edit", zhub_dlq_edit}, {"purge", zhub_dlq_purge}};
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp (argv[1], subcommands[i].name))
            return subcommands[i].run (&args);
    fprintf (stderr, "zhub dlq: unknown subcommand '%s'\n\n%s", argv[1], s_usage);
    return ZHUB_EXIT_USAGE;
}
