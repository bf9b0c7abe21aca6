//  `zhub group set GROUP key=value...` and `zhub group reset GROUP --to
//  TIME|OFFSET`: the operator's levers on a consumer group. Both are one
//  request to the broker (GROUP_SET, GROUP_RESET in proto/PROTOCOL.md);
//  the broker stores the change before it answers, so exit code 0 means
//  the change is durable.
#include "cli.h"
#include "zhub_client.h"
#include "zhub_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_usage =
    "usage: zhub group set GROUP key=value... [--json]\n"
    "       zhub group reset GROUP --to TIME|OFFSET [--json]\n"
    "\n"
    "set: changes a consumer group's settings; they apply to deliveries made\n"
    "from now on. Keys:\n"
    "  max_deliveries=N   failed attempts before a message is dead-lettered (1..1000)\n"
    "  ack_deadline=DUR   time a member has to ACK or NACK (e.g. 30s; >= 100ms)\n"
    "  backoff=DUR,...    retry schedule, the last step repeats (e.g. 1s,5s,30s,2m,10m;\n"
    "                     each retry is scaled by a random factor in [0.8, 1.2))\n"
    "  max_in_flight=N    cap on deliveries in flight to each member (0 = no cap)\n"
    "\n"
    "reset: moves the group so that it processes again every matching message\n"
    "from OFFSET (a log offset, e.g. 1200) or from TIME on (RFC 3339, e.g.\n"
    "2026-05-01T10:00:00Z, or a duration ago, e.g. 2h). Messages the retention\n"
    "already trimmed are gone. Deliveries in flight become stale.\n"
    "\n"
    "  --json   print the result as one JSON object\n"
    "\n"
    "The broker is $ZHUB_BROKER (default " ZHUB_BROKER_DEFAULT ").\n"
    "Exit codes: 0 done, 1 refused (no such group, invalid value), 2 bad\n"
    "arguments, 3 the broker did not answer.\n";

#define S_TIMEOUT_MS 5000

static int
s_usage_error (const char *what)
{
    fprintf (stderr, "zhub group: %s\n\n%s", what, s_usage);
    return ZHUB_EXIT_USAGE;
}

static int
s_parse_uint (const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*text || *text == '-')
        return -1;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno || *end || value > max)
        return -1;
    *out = value;
    return 0;
}

static int
s_result (zhub_rc_t rc, const char *err, bool json, const char *action, const char *group,
          uint64_t floor)
{
    if (rc == ZHUB_OK) {
        if (json && floor)
            printf ("{\"ok\":true,\"group\":\"%s\",\"action\":\"%s\",\"offset\":%llu}\n", group,
                    action, (unsigned long long)floor);
        else if (json)
            printf ("{\"ok\":true,\"group\":\"%s\",\"action\":\"%s\"}\n", group, action);
        else if (floor)
            printf ("group %s: reset; it resumes at offset %llu\n", group,
                    (unsigned long long)floor);
        else
            printf ("group %s: settings stored\n", group);
        return ZHUB_EXIT_OK;
    }
    if (json)
        printf ("{\"ok\":false,\"group\":\"%s\",\"error\":\"%s\"}\n", group,
                rc == ZHUB_NOTFOUND ? "no such group"
                : rc == ZHUB_RETRY  ? "unavailable"
                                    : "refused");
    fprintf (stderr, "zhub group %s: %s: %s\n", action, group,
             rc == ZHUB_NOTFOUND ? "no such group" : err);
    return rc == ZHUB_RETRY ? ZHUB_EXIT_UNAVAILABLE : ZHUB_EXIT_FAILURE;
}

//  The group name must be safe to print inside JSON quotes unescaped.
static bool
s_group_ok (const char *group)
{
    //  a group, or one of its replica groups: "<group>~<replica>" (PROTOCOL.md 7.8)
    if (!*group || strlen (group) > 128 + 1 + 64)
        return false;
    int tildes = 0;
    for (const char *p = group; *p; p++) {
        tildes += *p == '~';
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '.' || *p == '_' || *p == '-' || *p == '~'))
            return false;
    }
    return tildes <= 1 && group[0] != '~' && group[strlen (group) - 1] != '~';
}

static int
s_set (const char *group, char **pairs, int count, bool json)
{
    zhub_group_settings_t settings = {0};
    int64_t backoff[ZHUB_FRAME_MAX_BACKOFF];
    if (count == 0)
        return s_usage_error ("set needs at least one key=value");
    for (int i = 0; i < count; i++) {
        char *eq = strchr (pairs[i], '=');
        if (!eq)
            return s_usage_error ("expected key=value");
        *eq = 0;
        const char *key = pairs[i], *value = eq + 1;
        uint64_t n;
        int64_t ms;
        if (!strcmp (key, "max_deliveries")) {
            if (s_parse_uint (value, 1000, &n) || n == 0)
                return s_usage_error ("max_deliveries must be 1..1000");
            settings.max_deliveries = (uint32_t)n;
        } else if (!strcmp (key, "ack_deadline")) {
            if (zhub_parse_duration_ms (value, &ms) || ms < 100)
                return s_usage_error ("ack_deadline must be a duration of at least 100ms");
            settings.ack_deadline_ms = ms;
        } else if (!strcmp (key, "backoff")) {
            int steps = zhub_parse_backoff (value, backoff, ZHUB_FRAME_MAX_BACKOFF);
            if (steps <= 0)
                return s_usage_error (
                    "backoff must be 1 to 16 durations of at most 366d, e.g. 1s,5s,30s");
            settings.backoff_ms = backoff;
            settings.backoff_count = (size_t)steps;
        } else if (!strcmp (key, "max_in_flight")) {
            if (s_parse_uint (value, 1000000, &n))
                return s_usage_error ("max_in_flight must be 0..1000000");
            settings.max_in_flight = n == 0 ? 1000000 : (uint32_t)n;
        } else {
            char what[160];
            snprintf (what, sizeof what, "unknown key '%.100s'", key);
            return s_usage_error (what);
        }
    }
    int exit_code;
    zhub_client_t *client = zhub_cli_client ("group", NULL, "zhub-cli", &exit_code);
    if (!client)
        return exit_code;
    char err[256] = "";
    zhub_rc_t rc = zhub_client_group_set (client, group, &settings, S_TIMEOUT_MS, err, sizeof err);
    zhub_client_destroy (&client);
    return s_result (rc, err, json, "set", group, 0);
}

//  TIME: RFC 3339, or a duration meaning that long ago.
static int
s_parse_to (const char *text, uint64_t *offset, int64_t *time_ms)
{
    uint64_t n;
    int64_t ms;
    if (s_parse_uint (text, UINT64_MAX, &n) == 0) {
        if (n == 0)
            return -1;
        *offset = n;
        return 0;
    }
    if (zhub_time_parse (text, &ms) == 0) {
        *time_ms = ms;
        return 0;
    }
    if (zhub_parse_duration_ms (text, &ms) == 0) {
        *time_ms = zhub_now_ms () - ms;
        return 0;
    }
    return -1;
}

static int
s_reset (const char *group, char **args, int count, bool json)
{
    const char *to = NULL;
    for (int i = 0; i < count; i++) {
        if (!strcmp (args[i], "--to") && i + 1 < count)
            to = args[++i];
        else if (!strncmp (args[i], "--to=", 5))
            to = args[i] + 5;
        else
            return s_usage_error ("reset takes --to TIME|OFFSET");
    }
    uint64_t offset = 0;
    int64_t time_ms = 0;
    if (!to || s_parse_to (to, &offset, &time_ms))
        return s_usage_error ("--to needs an offset (>= 1), an RFC 3339 time or a duration ago");
    int exit_code;
    zhub_client_t *client = zhub_cli_client ("group", NULL, "zhub-cli", &exit_code);
    if (!client)
        return exit_code;
    char err[256] = "";
    uint64_t floor = 0;
    zhub_rc_t rc = zhub_client_group_reset (client, group, offset, time_ms, S_TIMEOUT_MS, &floor,
                                            err, sizeof err);
    zhub_client_destroy (&client);
    return s_result (rc, err, json, "reset", group, floor ? floor : 1);
}

int
zhub_cmd_group (int argc, char **argv)
{
    bool json = false;
    char *args[64];
    int count = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        }
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (count < 64)
            args[count++] = argv[i];
        else
            return s_usage_error ("too many arguments");
    }
    if (count < 2)
        return s_usage_error ("expected: set GROUP key=value... | reset GROUP --to TIME|OFFSET");
    if (!s_group_ok (args[1]))
        return s_usage_error ("invalid group name");
    if (!strcmp (args[0], "set"))
        return s_set (args[1], args + 2, count - 2, json);
    if (!strcmp (args[0], "reset"))
        return s_reset (args[1], args + 2, count - 2, json);
    return s_usage_error ("unknown subcommand (set or reset)");
}
