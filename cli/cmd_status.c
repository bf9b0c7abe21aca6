//  `zhub status`: the broker's STATS, for people (a few aligned tables) or
//  for scripts (--json: the STATS map as JSON, fields as in
//  proto/PROTOCOL.md 5.11). Read-only; exit code 3 means the broker did not
//  answer, which is itself the most useful status there is.
#include "cli.h"
#include "zhub_client.h"
#include "zhub_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_usage =
    "usage: zhub status [--json] [--timeout DUR]\n"
    "       zhub status contact <phone|email|id> [--json]   (see --help there)\n"
    "\n"
    "Shows what the broker holds: the log, messages per topic, consumer groups\n"
    "(members, lag, in flight, waiting retries, redeliveries, dead letters,\n"
    "settings), the store, the tap and the broker process.\n"
    "\n"
    "  --json          print the broker's STATS map as one JSON object\n"
    "  --timeout DUR   how long to wait for the broker (default 5s)\n"
    "\n"
    "The broker is $ZHUB_BROKER (default " ZHUB_BROKER_DEFAULT ").\n"
    "Exit codes: 0 the broker answered, 2 bad arguments, 3 the broker did not\n"
    "answer.\n";

static uint64_t
s_u (json_t *obj, const char *key)
{
    json_t *value = json_object_get (obj, key);
    if (json_is_integer (value))
        return (uint64_t)json_integer_value (value);
    if (json_is_real (value))
        return (uint64_t)json_real_value (value);
    return 0;
}

static void
s_bytes (uint64_t bytes, char *buf, size_t size)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = (double)bytes;
    size_t unit = 0;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        unit++;
    }
    snprintf (buf, size, unit ? "%.1f %s" : "%.0f %s", value, units[unit]);
}

static void
s_duration (int64_t ms, char *buf, size_t size)
{
    if (ms % 3600000 == 0 && ms >= 3600000)
        snprintf (buf, size, "%lldh", (long long)(ms / 3600000));
    else if (ms % 60000 == 0 && ms >= 60000)
        snprintf (buf, size, "%lldm", (long long)(ms / 60000));
    else if (ms % 1000 == 0 && ms >= 1000)
        snprintf (buf, size, "%llds", (long long)(ms / 1000));
    else
        snprintf (buf, size, "%lldms", (long long)ms);
}

static void
s_print (json_t *stats)
{
    char a[32], b[32];
    json_t *log = json_object_get (stats, "log"), *broker = json_object_get (stats, "broker");
    json_t *store = json_object_get (stats, "store"), *tap = json_object_get (stats, "tap");
    s_bytes (s_u (broker, "rss_bytes"), a, sizeof a);
    printf ("broker   up %llus, %llu clients, rss %s; published %llu, duplicates %llu, "
            "rejected %llu\n",
            (unsigned long long)(s_u (broker, "uptime_ms") / 1000),
            (unsigned long long)s_u (broker, "clients"), a,
            (unsigned long long)s_u (broker, "published"),
            (unsigned long long)s_u (broker, "duplicates"),
            (unsigned long long)s_u (broker, "rejected"));
    s_bytes (s_u (log, "bytes"), a, sizeof a);
    printf ("log      %llu messages (%s), offsets %llu..%llu, trimmed %llu\n",
            (unsigned long long)s_u (log, "size"), a, (unsigned long long)s_u (log, "first"),
            (unsigned long long)s_u (log, "last"), (unsigned long long)s_u (log, "trimmed"));
    s_bytes (s_u (store, "used_bytes"), a, sizeof a);
    s_bytes (s_u (store, "map_bytes"), b, sizeof b);
    printf ("store    %s used of a %s map, %llu readers\n", a, b,
            (unsigned long long)s_u (store, "readers"));
    json_t *endpoint = json_object_get (tap, "endpoint");
    printf ("tap      %s, %llu subscriptions, %llu sent\n",
            json_is_string (endpoint) ? json_string_value (endpoint) : "off",
            (unsigned long long)s_u (tap, "subscriptions"), (unsigned long long)s_u (tap, "sent"));

    json_t *topics = json_object_get (stats, "topics");
    json_t *sizes = json_object_get (stats, "topic_bytes");
    printf ("\n%-44s %10s %12s\n", "TOPIC", "MESSAGES", "BYTES");
    const char *topic;
    json_t *count;
    json_object_foreach (topics, topic, count)
    {
        s_bytes ((uint64_t)json_integer_value (json_object_get (sizes, topic)), a, sizeof a);
        printf ("%-44s %10lld %12s\n", topic, (long long)json_integer_value (count), a);
    }

    json_t *groups = json_object_get (stats, "groups");
    printf ("\n%-24s %7s %8s %9s %8s %9s %8s %7s\n", "GROUP", "MEMBERS", "LAG", "IN_FLIGHT",
            "WAITING", "REDELIV", "DEAD", "FLOOR");
    const char *name;
    json_t *group;
    json_object_foreach (groups, name, group)
    {
        printf ("%-24s %7zu %8llu %9llu %8llu %9llu %8llu %7llu\n", name,
                json_array_size (json_object_get (group, "members")),
                (unsigned long long)s_u (group, "lag"),
                (unsigned long long)s_u (group, "in_flight"),
                (unsigned long long)s_u (group, "waiting_retry"),
                (unsigned long long)s_u (group, "redeliveries"),
                (unsigned long long)s_u (group, "dead_letters"),
                (unsigned long long)s_u (group, "floor"));
    }
    json_object_foreach (groups, name, group)
    {
        char backoff[160] = "";
        size_t used = 0;
        json_t *steps = json_object_get (group, "backoff_ms"), *step;
        size_t i;
        json_array_foreach (steps, i, step)
        {
            s_duration (json_integer_value (step), a, sizeof a);
            used += snprintf (backoff + used, used < sizeof backoff ? sizeof backoff - used : 0,
                              "%s%s", i ? "," : "", a);
            if (used >= sizeof backoff)
                break;
        }
        s_duration ((int64_t)s_u (group, "ack_deadline_ms"), a, sizeof a);
        uint64_t cap = s_u (group, "max_in_flight");
        printf ("\n%s: patterns", name);
        json_t *pattern;
        json_array_foreach (json_object_get (group, "patterns"), i, pattern)
            printf (" %s", json_string_value (pattern));
        printf ("\n  max_deliveries=%llu ack_deadline=%s backoff=%s max_in_flight=%s\n",
                (unsigned long long)s_u (group, "max_deliveries"), a, backoff,
                cap ? (snprintf (b, sizeof b, "%llu", (unsigned long long)cap), b) : "none");
        json_t *member;
        json_array_foreach (json_object_get (group, "members"), i, member)
            printf ("  member %s credit=%llu in_flight=%llu\n",
                    json_string_value (json_object_get (member, "name")),
                    (unsigned long long)s_u (member, "credit"),
                    (unsigned long long)s_u (member, "in_flight"));
    }
}

int
zhub_cmd_status (int argc, char **argv)
{
    //  `zhub status contact <id>`: one person, from the actors' stores
    if (argc >= 2 && !strcmp (argv[1], "contact"))
        return zhub_cmd_status_contact (argc - 1, argv + 1);
    bool json = false;
    int64_t timeout_ms = 5000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        }
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--timeout") && i + 1 < argc
                 && zhub_parse_duration_ms (argv[++i], &timeout_ms) == 0)
            ;
        else {
            fprintf (stderr, "zhub status: unexpected argument '%s'\n\n%s", argv[i], s_usage);
            return ZHUB_EXIT_USAGE;
        }
    }
    int exit_code;
    zhub_client_t *client = zhub_cli_client ("status", NULL, "zhub-cli", &exit_code);
    if (!client)
        return exit_code;
    json_t *stats = NULL;
    zhub_rc_t rc = zhub_client_stats (client, (int)timeout_ms, &stats);
    zhub_client_destroy (&client);
    if (rc != ZHUB_OK) {
        if (json)
            printf ("{\"ok\":false,\"error\":\"unavailable\"}\n");
        fprintf (stderr, "zhub status: the broker did not answer\n");
        return ZHUB_EXIT_UNAVAILABLE;
    }
    if (json) {
        char *text = json_dumps (stats, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf ("%s\n", text ? text : "{}");
        free (text);
    } else
        s_print (stats);
    json_decref (stats);
    return ZHUB_EXIT_OK;
}
