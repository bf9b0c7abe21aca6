//  `zhub doctor`: checks every configured connection live and says in plain
//  words what is wrong. It reads the same environment and mapping file the
//  processes read, so run it with their configuration (the env file of the
//  deployment). One line per check: ok, FAIL <reason and what to do>, or
//  skip <why> (a connection that is not configured is not a failure);
//  --json gives the same as one JSON document. Exit codes: 0 every check
//  passed or was skipped, 1 a check failed, 2 bad arguments.
//
//  This file holds the command, the broker, public URL and mapping checks;
//  doctor_hubspot.c and doctor_services.c call the providers.
#include "cli.h"
#include "contact_sync.h"
#include "deal_sync.h"
#include "doctor_checks.h"
#include "zhub_actor.h"
#include "zhub_client.h"
#include "zhub_env.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TIMEOUT_DEFAULT_MS 10000

static const char *s_usage =
    "usage: zhub doctor [--json] [--timeout DUR]\n"
    "\n"
    "Checks each configured connection live, with the environment and mapping\n"
    "file the processes use: the broker; the public URL (set, https unless\n"
    "loopback); the mapping file; HubSpot (the private-app token and its scopes,\n"
    "the custom properties zhub writes, the pipeline of the stage map, the app\n"
    "secret); Bird (access key and workspace, the scheduler's WhatsApp channel,\n"
    "the signing key); Google and Microsoft Graph (their token endpoints);\n"
    "Calendly (the token); the scheduler's secret key. A connection that is not\n"
    "configured is reported as skipped, not failed.\n"
    "\n"
    "  --json          one JSON document: {\"ok\": bool, \"checks\": [{\"name\",\n"
    "                  \"status\": \"ok\"|\"fail\"|\"skip\", \"detail\"}]}\n"
    "  --timeout DUR   for each call (default 10s)\n"
    "\n"
    "Exit codes: 0 every check passed (or was skipped), 1 a check failed,\n"
    "2 bad arguments.\n";

static void
s_broker (zhub_doctor_report_t *report, int timeout_ms)
{
    const char *endpoint = zhub_env_str ("ZHUB_BROKER", ZHUB_BROKER_DEFAULT);
    char tap[256] = "";
    zhub_cli_tap_endpoint (tap, sizeof tap);
    const char *endpoints[] = {endpoint, tap[0] ? tap : NULL};
    zhub_bus_auth_t auth;
    char err[600];
    if (zhub_bus_auth_load (&auth, endpoints, 2, err, sizeof err)) {
        zhub_doctor_add (report, "broker", ZHUB_DOCTOR_FAIL, "%.500s", err);
        return;
    }
    zhub_client_t *client = zhub_client_new (endpoint, "zhub-doctor", &auth);
    sodium_memzero (&auth, sizeof auth);
    if (!client) {
        zhub_doctor_add (report, "broker", ZHUB_DOCTOR_FAIL,
                         "ZHUB_BROKER %.200s is not a valid endpoint (tcp://host:port)", endpoint);
        return;
    }
    int64_t started = zhub_mono_ms ();
    if (zhub_client_ping (client, timeout_ms) == ZHUB_OK)
        zhub_doctor_add (report, "broker", ZHUB_DOCTOR_OK, "%.200s answered in %lld ms", endpoint,
                         (long long)(zhub_mono_ms () - started));
    else
        zhub_doctor_add (report, "broker", ZHUB_DOCTOR_FAIL,
                         "the broker at %.200s did not answer within %d ms: is zhub-broker "
                         "running, and is ZHUB_BROKER its address?",
                         endpoint, timeout_ms);
    zhub_client_destroy (&client);
}

//  Loads the mapping file with the actors' own loader and each section
//  with its actor's own parser: what would stop an actor at start.
//  Returns the root (or NULL) and fills *sched when its section parses.
static json_t *
s_mapping (zhub_doctor_report_t *report, sched_config_t *sched, bool *sched_ok)
{
    const char *path = zhub_env_str ("ZHUB_MAPPING_FILE", "");
    char err[512];
    *sched_ok = false;
    json_t *root = zhub_actor_mapping_load (err, sizeof err);
    if (!root) {
        zhub_doctor_add (report, "mapping", ZHUB_DOCTOR_FAIL,
                         "%s: contact-sync, deal-sync and the scheduler refuse to start", err);
        return NULL;
    }
    contact_sync_config_t contact = {0};
    contact_sync_config_defaults (&contact);
    deal_sync_config_t deal;
    deal_sync_config_default (&deal);
    const char *bad = NULL;
    if (contact_sync_config_apply (&contact, root, err, sizeof err))
        bad = "contact-sync";
    else if (deal_sync_config_apply (&deal, root, err, sizeof err))
        bad = "deal-sync";
    else if (sched_config_from_json (json_object_get (root, "scheduler"), sched, err, sizeof err))
        bad = "the scheduler";
    else
        *sched_ok = true;
    contact_sync_config_clear (&contact);
    deal_sync_config_clear (&deal);
    if (bad)
        zhub_doctor_add (report, "mapping", ZHUB_DOCTOR_FAIL, "%.200s: %s; %s refuses to start",
                         path, err, bad);
    else if (!*path)
        zhub_doctor_add (report, "mapping", ZHUB_DOCTOR_SKIP,
                         "not configured (ZHUB_MAPPING_FILE is not set: the built-in field and "
                         "stage maps, no scheduler agents)");
    else
        zhub_doctor_add (report, "mapping", ZHUB_DOCTOR_OK, "%.200s loads (%zu scheduler agents)",
                         path, sched->agent_count);
    return root;
}

int
zhub_cmd_doctor (int argc, char **argv)
{
    bool json = false;
    int64_t timeout_ms = S_TIMEOUT_DEFAULT_MS;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        } else if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--timeout") && i + 1 < argc) {
            if (zhub_parse_duration_ms (argv[++i], &timeout_ms) || timeout_ms <= 0
                || timeout_ms > 300000) {
                fprintf (stderr, "zhub doctor: --timeout takes a duration up to 5m (e.g. 10s)\n");
                return ZHUB_EXIT_USAGE;
            }
        } else {
            fprintf (stderr, "zhub doctor: unexpected argument '%s'\n%s", argv[i], s_usage);
            return ZHUB_EXIT_USAGE;
        }
    }
    zhub_doctor_report_t *report = zhub_calloc (1, sizeof *report);
    zhub_http_config_t http_config = {.connect_timeout_ms = timeout_ms,
                                      .total_timeout_ms = timeout_ms,
                                      .user_agent = "zhub-doctor/" ZHUB_VERSION};
    zhub_http_t *http = zhub_http_new (&http_config);
    if (!http) {
        fprintf (stderr, "zhub doctor: cannot start the HTTP client\n");
        free (report);
        return ZHUB_EXIT_FAILURE;
    }
    s_broker (report, (int)timeout_ms);
    char detail[ZHUB_DOCTOR_DETAIL_MAX];
    zhub_doctor_status_t status =
        zhub_doctor_public_url (zhub_env_str ("ZHUB_PUBLIC_URL", ""), detail, sizeof detail);
    zhub_doctor_add (report, "public-url", status, "%s", detail);
    sched_config_t sched;
    bool sched_ok;
    json_t *mapping = s_mapping (report, &sched, &sched_ok);
    zhub_doctor_ctx_t ctx = {
        .report = report, .http = http, .mapping = mapping, .sched = sched_ok ? &sched : NULL};
    zhub_doctor_hubspot (&ctx);
    zhub_doctor_bird (&ctx);
    zhub_doctor_calendars (&ctx);

    if (json) {
        json_t *doc = zhub_doctor_json (report);
        char *text = json_dumps (doc, JSON_INDENT (2));
        puts (text);
        free (text);
        json_decref (doc);
    } else
        zhub_doctor_print (report, stdout);
    int rc = zhub_doctor_failed (report) ? ZHUB_EXIT_FAILURE : ZHUB_EXIT_OK;
    if (sched_ok)
        sched_config_clear (&sched);
    json_decref (mapping);
    zhub_http_destroy (&http);
    free (report);
    return rc;
}
