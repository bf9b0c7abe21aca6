//  `zhub up`: the whole hub on one machine with embedded defaults — the
//  stand-in peers, the broker, the gateway and the actors — supervised in
//  the foreground until Ctrl-C or SIGTERM, which stops every process.
//  Defaults are only defaults: any ZHUB_* variable already set wins.
//
//  Its output is often a pipe (`./dev up | tee up.log`). When the reader
//  goes away (Ctrl-C reaches tee too) a write would raise SIGPIPE and kill
//  the supervisor before it stops its children; so SIGPIPE is ignored, and
//  an output that can no longer be written (EPIPE, or a pipe without a
//  reader) is a request to stop, like SIGINT, SIGTERM and SIGHUP. Children
//  die with the supervisor in any case (supervisor.c).
#include "cli.h"
#include "supervisor.h"
#include "zhub_common.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

//  printf to stdout, flushed; an output nobody reads any more (EPIPE) is a
//  stop request.
static void
s_say (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int rc = vprintf (format, args);
    va_end (args);
    if (rc < 0 || fflush (stdout) == EOF) {
        if (errno == EPIPE)
            s_stop = 1;
        clearerr (stdout);
    }
}

//  Waits up to timeout_ms; true when stdout or stderr has lost its reader
//  (a pipe whose other end is closed reports POLLERR, a hung-up terminal
//  POLLHUP). Regular files and /dev/null report neither; a closed
//  descriptor is left out from then on (poll skips negative ones).
static bool
s_output_gone (int timeout_ms)
{
    static struct pollfd fds[2] = {{.fd = STDOUT_FILENO}, {.fd = STDERR_FILENO}};
    if (poll (fds, 2, timeout_ms) <= 0)
        return false;
    bool gone = false;
    for (int i = 0; i < 2; i++) {
        if (fds[i].revents & POLLNVAL)
            fds[i].fd = -1;
        else if (fds[i].revents & (POLLERR | POLLHUP))
            gone = true;
    }
    return gone;
}

//  Local defaults: no accounts needed, peers on loopback.
static const char *s_defaults[][2] = {
    {"ZHUB_DATA_DIR", ".zhub-data"},
    {"ZHUB_BROKER", "tcp://127.0.0.1:7450"},
    //  every endpoint is on loopback: no keys needed (--curve asks for them)
    {"ZHUB_BUS_SECURITY", "plain"},
    {"ZHUB_GATEWAY_LISTEN", "127.0.0.1:8080"},
    {"ZHUB_ADMIN_LISTEN", "127.0.0.1:8081"},
    {"ZHUB_HUBSPOT_APP_SECRET", "local-hubspot-app-secret"},
    {"ZHUB_BIRD_SIGNING_KEY", "local-bird-signing-key"},
    {"ZHUB_HUBSPOT_TOKEN", "local-hubspot-token"},
    {"ZHUB_BIRD_API_KEY", "local-bird-access-key"},
    //  Bird names workspaces by UUID; the stand-in refuses anything else
    {"ZHUB_BIRD_WORKSPACE_ID", "10ca1000-0000-4000-8000-000000000001"},
};

//  The keys of --curve: each program may publish and consume what it needs
//  and nothing else (PROTOCOL.md 16; docs/operations.md "Bus keys" has the
//  same table). The CLI's key "zhub" is an admin key.
static const struct {
    const char *program, *key, *publish, *consume;
    bool admin;
} s_keys[] = {
    {"zhub-broker", NULL, NULL, NULL, false},
    //  webhooks, and what POST /v1/events tokens may publish with their
    //  admin.audited records (gateway/tokens.c decides per token; the
    //  admin topics stay refused: no admin flag)
    {"zhub-gateway", "gateway", ">", "", false},
    {"zhub-contact-sync", "contact-sync", "contact.>,dlq.contact-sync",
     "webhook.bird.>,webhook.hubspot.contact.>,conversation.started,contact.reconcile,"
     "contact.erase,contact.forget",
     false},
    {"zhub-deal-sync", "deal-sync", "deal.>,contact.forgotten",
     "conversation.stage_changed,qualification.completed,tour.scheduled,webhook.hubspot.deal.>,"
     "contact.synced,contact.forget",
     false},
    {"zhub-dead-letter", "dead-letter", ">", "dlq.>,dead-letter.command.>,contact.forget", false},
    {"zhub-activity-log", "activity-log", "activity.>,contact.forgotten",
     "conversation.started,conversation.message,qualification.completed,escalation.triggered,"
     "tour.scheduled,tour.canceled,tour.calendar_down,contact.synced,deal.stage_changed,"
     "contact.forget,activity.transcript.flush",
     false},
    {"zhub-scheduler", "scheduler", "tour.>,contact.reconcile,contact.forgotten,scheduler.timer.>",
     "tour.requested,tour.reminder,tour.canceled,webhook.calendly.invitee.>,webhook.google.calendar.changed,"
     "webhook.graph.updated,webhook.graph.deleted,webhook.bird.whatsapp.inbound,"
     "webhook.bird.whatsapp.outbound,contact.forget,scheduler.timer.>",
     false},
    {"zhub-conversation", "conversation", "conversation.>,contact.forgotten",
     "webhook.bird.*.inbound,webhook.bird.*.outbound,webhook.bird.conversation.*,"
     "webhook.whatsapp.message,contact.forget",
     false},
    {"zhub-intent", "intent",
     "intent.>,tour.requested,escalation.triggered,contact.opted_out,contact.forgotten",
     "conversation.message,intent.workflow.due,tour.requested,escalation.triggered,"
     "contact.opted_out,contact.forget",
     false},
    {NULL, "zhub", ">", ">", true},
};

//  --curve: makes the keys that are missing (in $ZHUB_DATA_DIR/secrets and
//  the broker's allow-list) and points every program at its own.
static int
s_curve_keys (zhub_supervisor_t *sup, const char *const *programs, size_t count)
{
    char secrets[1024], keys[1024], path[1200], broker_public[1200];
    const char *data = getenv ("ZHUB_DATA_DIR");
    snprintf (secrets, sizeof secrets, "%s/secrets", data);
    const char *set = getenv ("ZHUB_BUS_KEYS");
    snprintf (keys, sizeof keys, "%s", set && *set ? set : "");
    if (!keys[0])
        snprintf (keys, sizeof keys, "%s/broker/keys", data);
    setenv ("ZHUB_BUS_SECURITY", "curve", 1);
    setenv ("ZHUB_BUS_KEYS", keys, 1);
    for (size_t k = 0; k < sizeof s_keys / sizeof s_keys[0]; k++) {
        bool broker = s_keys[k].key == NULL;
        const char *name = broker ? "broker" : s_keys[k].key;
        if (zhub_cli_key_ensure (name, broker ? "" : s_keys[k].publish,
                                 broker ? "" : s_keys[k].consume, s_keys[k].admin,
                                 broker ? NULL : keys, secrets, path, sizeof path))
            return -1;
        if (broker) {
            setenv ("ZHUB_BROKER_CERT", path, 1);
            snprintf (broker_public, sizeof broker_public, "%s/broker.key", secrets);
            setenv ("ZHUB_BROKER_PUBLIC_KEY", broker_public, 1);
        } else if (!s_keys[k].program)
            s_say ("  CLI key           export ZHUB_BUS_SECURITY=curve ZHUB_BUS_CERT=%s "
                   "ZHUB_BROKER_PUBLIC_KEY=%s\n",
                   path, broker_public);
        for (size_t p = 0; p < count && s_keys[k].program && !broker; p++)
            if (programs[p] && !strcmp (programs[p], s_keys[k].program))
                zhub_supervisor_setenv (sup, (int)p, "ZHUB_BUS_CERT", path);
    }
    return 0;
}

static const char *s_usage =
    "usage: zhub up [--curve] [--peers DIR] [--no-peers] [--peer-port-base N]\n"
    "\n"
    "Runs the whole hub in the foreground: the stand-in HubSpot and Bird servers\n"
    "(from DIR, default tests/peers next to the build), zhub-broker, zhub-gateway\n"
    "and every actor, restarting any that dies. Ctrl-C, SIGTERM, SIGHUP or an\n"
    "output nobody reads any more (a closed pipe) stops them all; killed outright,\n"
    "zhub up takes its children along (each gets SIGTERM).\n"
    "Every ZHUB_* variable already in the environment is kept; the rest get\n"
    "local defaults (see docs/configuration.md).\n"
    "\n"
    "  --curve           the bus with CURVE keys, as in production: a key per\n"
    "                    program (made once in $ZHUB_DATA_DIR/secrets, allowed in\n"
    "                    $ZHUB_DATA_DIR/broker/keys), each with only what it needs;\n"
    "                    without it the bus is plain on loopback (ZHUB_BUS_SECURITY)\n"
    "  --peers DIR       folder holding hubspot_peer.py and bird_peer.py\n"
    "  --no-peers        do not start stand-ins (use real services from ZHUB_*_BASE_URL)\n"
    "  --peer-port-base N  stand-ins listen on N (HubSpot), N+2 (Bird), N+3 (Google),\n"
    "                      N+4 (Microsoft Graph), N+5 (Calendly); default 8090\n";

int
zhub_cmd_up (int argc, char **argv)
{
    const char *peers_dir = ZHUB_SOURCE_ROOT "/tests/peers";
    bool with_peers = true, curve = false;
    int port_base = 8090;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return 0;
        }
        else if (!strcmp (argv[i], "--peers") && i + 1 < argc)
            peers_dir = argv[++i];
        else if (!strcmp (argv[i], "--no-peers"))
            with_peers = false;
        else if (!strcmp (argv[i], "--curve"))
            curve = true;
        else if (!strcmp (argv[i], "--peer-port-base") && i + 1 < argc)
            port_base = atoi (argv[++i]);
        else {
            fprintf (stderr, "zhub up: unknown argument '%s'\n%s", argv[i], s_usage);
            return ZHUB_EXIT_USAGE;
        }
    }
    if (port_base <= 0 || port_base > 65530) {
        fprintf (stderr, "zhub up: --peer-port-base must be 1..65530\n");
        return ZHUB_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof s_defaults / sizeof s_defaults[0]; i++)
        setenv (s_defaults[i][0], s_defaults[i][1], 0);
    //  Every actor would refuse it and be restarted forever: say it once.
    if (!zhub_is_uuid (getenv ("ZHUB_BIRD_WORKSPACE_ID"))) {
        fprintf (stderr,
                 "zhub up: ZHUB_BIRD_WORKSPACE_ID must be a Bird workspace id, a UUID such as "
                 "a1405560-c8d3-4b1a-877d-3f449ad95352 (got '%s')\n",
                 getenv ("ZHUB_BIRD_WORKSPACE_ID"));
        return ZHUB_EXIT_USAGE;
    }
    int hubspot_port = port_base, bird_port = port_base + 2, google_port = port_base + 3,
        graph_port = port_base + 4, calendly_port = port_base + 5;
    char hubspot_url[64], bird_url[64];
    snprintf (hubspot_url, sizeof hubspot_url, "http://127.0.0.1:%d", hubspot_port);
    snprintf (bird_url, sizeof bird_url, "http://127.0.0.1:%d", bird_port);
    if (with_peers) {
        setenv ("ZHUB_HUBSPOT_BASE_URL", hubspot_url, 0);
        setenv ("ZHUB_BIRD_BASE_URL", bird_url, 0);
    }
    char public_url[300];
    snprintf (public_url, sizeof public_url, "http://%s", getenv ("ZHUB_GATEWAY_LISTEN"));
    setenv ("ZHUB_PUBLIC_URL", public_url, 0);
    public_url[0] = 0;
    snprintf (public_url, sizeof public_url, "%s", getenv ("ZHUB_PUBLIC_URL"));

    zhub_supervisor_t *sup = zhub_supervisor_new ();
    char path[PATH_MAX], port[16];
    if (with_peers) {
        char hubspot_hook[400], bird_hook[400];
        snprintf (hubspot_hook, sizeof hubspot_hook, "%s/v1/webhooks/hubspot", public_url);
        snprintf (bird_hook, sizeof bird_hook, "%s/v1/webhooks/bird", public_url);
        const char *python = access ("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
        snprintf (path, sizeof path, "%s/hubspot_peer.py", peers_dir);
        snprintf (port, sizeof port, "%d", hubspot_port);
        char *hubspot[] = {(char *) python, path, "--port", port, "--max-seconds", "31536000",
                           "--webhook-url", hubspot_hook, "--app-secret",
                           getenv ("ZHUB_HUBSPOT_APP_SECRET"), NULL};
        zhub_supervisor_add (sup, "hubspot-peer", hubspot);
        snprintf (path, sizeof path, "%s/bird_peer.py", peers_dir);
        snprintf (port, sizeof port, "%d", bird_port);
        char *bird[] = {(char *) python, path, "--port", port, "--max-seconds", "31536000",
                        "--webhook-url", bird_hook, "--signing-key", getenv ("ZHUB_BIRD_SIGNING_KEY"),
                        "--workspace-id", getenv ("ZHUB_BIRD_WORKSPACE_ID"), NULL};
        zhub_supervisor_add (sup, "bird-peer", bird);
        //  Calendars for the scheduler: Google (with its token endpoint),
        //  Microsoft Graph and Calendly, on base+3 / +4 / +5, with the
        //  stand-ins' own client credentials; a local-only key seals the
        //  tokens at rest.
        char google_url[64], graph_url[64], google_token[96], graph_token[112], calendly_url[64];
        char google_port_text[16], graph_port_text[16], calendly_port_text[16];
        snprintf (google_port_text, sizeof google_port_text, "%d", google_port);
        snprintf (graph_port_text, sizeof graph_port_text, "%d", graph_port);
        snprintf (calendly_port_text, sizeof calendly_port_text, "%d", calendly_port);
        snprintf (google_url, sizeof google_url, "http://127.0.0.1:%d", google_port);
        snprintf (graph_url, sizeof graph_url, "http://127.0.0.1:%d/v1.0", graph_port);
        snprintf (calendly_url, sizeof calendly_url, "http://127.0.0.1:%d", calendly_port);
        snprintf (google_token, sizeof google_token, "%s/token", google_url);
        snprintf (graph_token, sizeof graph_token,
                  "http://127.0.0.1:%d/{tenant}/oauth2/v2.0/token", graph_port);
        const char *calendar_env[][2] = {
            {"ZHUB_GOOGLE_BASE_URL", google_url},
            {"ZHUB_GOOGLE_TOKEN_URL", google_token},
            {"ZHUB_GOOGLE_CLIENT_ID", "google-client-id"},
            {"ZHUB_GOOGLE_CLIENT_SECRET", "google-client-secret"},
            {"ZHUB_GOOGLE_REFRESH_TOKEN", "google-refresh-token"},
            {"ZHUB_GRAPH_BASE_URL", graph_url},
            {"ZHUB_GRAPH_TOKEN_URL", graph_token},
            {"ZHUB_GRAPH_TENANT_ID", "local-tenant"},
            {"ZHUB_GRAPH_CLIENT_ID", "graph-client-id"},
            {"ZHUB_GRAPH_CLIENT_SECRET", "graph-client-secret"},
            {"ZHUB_SECRET_KEY", "6c6f63616c2d6f6e6c792d6b65792d6e6f742d666f722d70726f64756374696f"},
            {"ZHUB_CALENDLY_BASE_URL", calendly_url},
            {"ZHUB_CALENDLY_TOKEN", "local-calendly-token"},
            //  shared by the gateway and the scheduler: the stand-ins' change
            //  notifications come back through the gateway
            {"ZHUB_GOOGLE_CHANNEL_TOKEN", "local-google-channel-token"},
            {"ZHUB_GRAPH_CLIENT_STATE", "local-graph-client-state"},
        };
        for (size_t i = 0; i < sizeof calendar_env / sizeof calendar_env[0]; i++)
            setenv (calendar_env[i][0], calendar_env[i][1], 0);
        snprintf (path, sizeof path, "%s/google_peer.py", peers_dir);
        char *google[] = {(char *) python, path, "--port", google_port_text, "--max-seconds", "31536000",
                          NULL};
        zhub_supervisor_add (sup, "google-peer", google);
        snprintf (path, sizeof path, "%s/graph_peer.py", peers_dir);
        char *graph[] = {(char *) python, path, "--port", graph_port_text, "--max-seconds", "31536000",
                         NULL};
        zhub_supervisor_add (sup, "graph-peer", graph);
        snprintf (path, sizeof path, "%s/calendly_peer.py", peers_dir);
        char *calendly[] = {(char *) python, path, "--port", calendly_port_text, "--max-seconds", "31536000",
                            NULL};
        zhub_supervisor_add (sup, "calendly-peer", calendly);
    }
    //  Started in this order, stopped in reverse. One line per program.
    const char *programs[] = {
        "zhub-broker",
        "zhub-gateway",
        "zhub-contact-sync",
        "zhub-deal-sync",
        "zhub-dead-letter",
        "zhub-activity-log",
        "zhub-scheduler",
        "zhub-conversation",
        "zhub-intent",
    };
    int first_program = with_peers ? 5 : 0;
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
        if (zhub_cli_find_program (programs[i], path, sizeof path)) {
            fprintf (stderr, "zhub up: cannot find %s next to zhub or in the build tree\n", programs[i]);
            zhub_supervisor_destroy (&sup);
            return ZHUB_EXIT_FAILURE;
        }
        char *child[] = {path, NULL};
        zhub_supervisor_add (sup, programs[i], child);
    }
    if (curve) {
        //  the supervisor's indexes of the programs: after the stand-ins
        const char *by_index[32] = {0};
        for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++)
            by_index[first_program + (int)i] = programs[i];
        if (s_curve_keys (sup, by_index, (size_t)first_program + sizeof programs / sizeof programs[0])) {
            zhub_supervisor_destroy (&sup);
            return ZHUB_EXIT_FAILURE;
        }
    }

    struct sigaction action = {.sa_handler = s_on_signal};
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGHUP, &action, NULL);
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigaction (SIGPIPE, &ignore, NULL);
    int children = (with_peers ? 5 : 0) + (int) (sizeof programs / sizeof programs[0]);
    for (int i = 0; i < children; i++)
        if (zhub_supervisor_start (sup, i) < 0)
            fprintf (stderr, "zhub up: could not start child %d\n", i);

    s_say ("\nzhub is up (data in %s)\n", getenv ("ZHUB_DATA_DIR"));
    s_say ("  HubSpot webhooks  POST %s/v1/webhooks/hubspot   (app secret from ZHUB_HUBSPOT_APP_SECRET)\n",
           public_url);
    s_say ("  Bird webhooks     POST %s/v1/webhooks/bird      (signing key from ZHUB_BIRD_SIGNING_KEY)\n",
           public_url);
    s_say ("  health            GET  http://%s/healthz  /readyz\n", getenv ("ZHUB_ADMIN_LISTEN"));
    s_say ("  console           http://%s/console/   (%s)\n", getenv ("ZHUB_ADMIN_LISTEN"),
           getenv ("ZHUB_ADMIN_TOKEN") && *getenv ("ZHUB_ADMIN_TOKEN")
               ? "sign in with a ZHUB_ADMIN_TOKEN token"
               : "set ZHUB_ADMIN_TOKEN to open it");
    s_say ("  bus               %s (%s)\n", getenv ("ZHUB_BROKER"),
           curve ? "CURVE: a key per program" : "plain, loopback only");
    if (with_peers)
        s_say ("  stand-in HubSpot  %s   stand-in Bird  %s   (state: GET /__peer/state)\n",
               hubspot_url, bird_url);
    s_say ("Press Ctrl-C to stop.\n\n");

    while (!s_stop) {
        zhub_supervisor_tick (sup);
        if (s_output_gone (100))
            s_stop = 1;
    }
    s_say ("\nzhub up: stopping\n");
    int rc = zhub_supervisor_stop_all (sup, 10000);
    zhub_supervisor_destroy (&sup);
    return rc == 0 ? 0 : ZHUB_EXIT_FAILURE;
}
