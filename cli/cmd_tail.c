//  `zhub tail [PATTERN]`: follows committed messages live on the broker's
//  tap (a ZeroMQ PUB mirror, see proto/PROTOCOL.md "The tap"). Read-only
//  and best effort: it never joins a group, so it takes nothing from any
//  consumer, and a tail that falls behind misses messages rather than
//  slowing the broker down.
#include "cli.h"
#include "zhub_client.h"
#include "zhub_env.h"
#include "zhub_json.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static const char *s_usage =
    "usage: zhub tail [PATTERN] [--count N] [--timeout DUR] [--json]\n"
    "\n"
    "Prints messages as the broker commits them, one per line, until Ctrl-C.\n"
    "  PATTERN         topics to show: * is one token, > (last) one or more\n"
    "                  (default >, everything), e.g. webhook.hubspot.>\n"
    "  --count N       stop after N messages\n"
    "  --timeout DUR   stop after DUR (e.g. 30s)\n"
    "  --json          one JSON object per line: offset, topic, id, subject,\n"
    "                  source, time (RFC 3339), data\n"
    "\n"
    "The tap is $ZHUB_BROKER_TAP, by default $ZHUB_BROKER's port + 1\n"
    "(tcp://127.0.0.1:7451). It is a live mirror: nothing from before the tail\n"
    "started, and a reader that falls behind loses messages.\n"
    "Exit codes: 0 stopped by Ctrl-C, --count reached, or --timeout without\n"
    "--count; 1 --count not reached within --timeout; 2 bad arguments.\n";

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int sig)
{
    (void)sig;
    s_stop = 1;
}

static int
s_usage_error (const char *what)
{
    fprintf (stderr, "zhub tail: %s\n\n%s", what, s_usage);
    return ZHUB_EXIT_USAGE;
}

//  Prints one tapped message. Returns 0, or -1 when it was not readable.
static int
s_print (const char *topic, const uint8_t *body, size_t size, bool json)
{
    uint64_t offset = 0;
    zhub_msg_t *msg = zhub_cli_tap_message (body, size, &offset);
    if (!msg)
        return -1;
    char when[40];
    zhub_time_format (msg->time_ms, when, sizeof when);
    json_t *data = zhub_msg_data_json (msg);
    char *data_text = data ? json_dumps (data, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (json) {
        json_t *out = json_object ();
        json_object_set_new (out, "offset", json_integer ((json_int_t)offset));
        json_object_set_new (out, "topic", json_string (topic));
        json_object_set_new (out, "id", json_string (msg->id));
        json_object_set_new (out, "subject",
                             msg->subject ? json_string (msg->subject) : json_null ());
        json_object_set_new (out, "source", json_string (msg->source));
        json_object_set_new (out, "time", json_string (when));
        json_object_set_new (out, "data", data ? json_incref (data) : json_null ());
        char *line = json_dumps (out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf ("%s\n", line ? line : "{}");
        free (line);
        json_decref (out);
    } else
        printf ("%s %llu %s %s %s %s\n", when, (unsigned long long)offset, topic,
                msg->subject && *msg->subject ? msg->subject : "-", msg->id,
                data_text ? data_text : "{}");
    fflush (stdout);
    free (data_text);
    json_decref (data);
    zhub_msg_destroy (&msg);
    return 0;
}

int
zhub_cmd_tail (int argc, char **argv)
{
    const char *pattern = ">";
    bool json = false, have_pattern = false;
    long long count = 0;
    int64_t timeout_ms = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        }
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--count") && i + 1 < argc) {
            char *end;
            errno = 0;
            count = strtoll (argv[++i], &end, 10);
            if (errno || *end || count <= 0)
                return s_usage_error ("--count needs a positive integer");
        } else if (!strcmp (argv[i], "--timeout") && i + 1 < argc) {
            if (zhub_parse_duration_ms (argv[++i], &timeout_ms) || timeout_ms <= 0)
                return s_usage_error ("--timeout needs a duration, e.g. 30s");
        } else if (!have_pattern && argv[i][0] != '-') {
            pattern = argv[i];
            have_pattern = true;
        } else
            return s_usage_error ("unexpected argument");
    }
    //  a pattern is checked by matching it against itself with wildcards
    //  spelled out: every token must be a topic token, * or a final >
    {
        char probe[300];
        snprintf (probe, sizeof probe, "%s", pattern);
        bool ok = strlen (pattern) < 256 && *pattern;
        char *save = NULL;
        for (char *t = strtok_r (probe, ".", &save); t && ok; t = strtok_r (NULL, ".", &save)) {
            bool last = save == NULL || *save == 0;
            ok = (!strcmp (t, ">") && last) || !strcmp (t, "*") || zhub_topic_valid (t);
        }
        if (!ok || pattern[strlen (pattern) - 1] == '.' || strstr (pattern, ".."))
            return s_usage_error ("invalid PATTERN");
    }
    char endpoint[256];
    if (zhub_cli_tap_endpoint (endpoint, sizeof endpoint))
        return s_usage_error ("cannot derive the tap from $ZHUB_BROKER; set $ZHUB_BROKER_TAP");
    //  the signal goes to this thread (zmq_poll returns EINTR), not to
    //  libzmq's threads
    sigset_t stop_signals, previous;
    sigemptyset (&stop_signals);
    sigaddset (&stop_signals, SIGTERM);
    sigaddset (&stop_signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop_signals, &previous);
    void *ctx = zmq_ctx_new ();
    void *sock = zhub_cli_tap_open ("tail", ctx, endpoint);
    pthread_sigmask (SIG_SETMASK, &previous, NULL);
    if (!sock) {
        zmq_ctx_term (ctx);
        return ZHUB_EXIT_USAGE;
    }
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);

    //  ZeroMQ filters by prefix: subscribe to the literal part before the
    //  first wildcard, match the rest here
    size_t prefix = strcspn (pattern, "*>");
    zmq_setsockopt (sock, ZMQ_SUBSCRIBE, pattern, prefix);
    int64_t deadline = timeout_ms ? zhub_mono_ms () + timeout_ms : INT64_MAX;
    long long seen = 0;
    int rc = ZHUB_EXIT_OK;
    while (!s_stop && (count == 0 || seen < count)) {
        int64_t now = zhub_mono_ms ();
        if (now >= deadline) {
            rc = count ? ZHUB_EXIT_FAILURE : ZHUB_EXIT_OK;
            break;
        }
        int64_t wait = deadline - now;
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, wait > 1000 ? 1000 : (long)wait) <= 0)
            continue;
        zmq_msg_t topic, body;
        zmq_msg_init (&topic);
        zmq_msg_init (&body);
        if (zmq_msg_recv (&topic, sock, 0) >= 0 && zmq_msg_more (&topic)
            && zmq_msg_recv (&body, sock, 0) >= 0) {
            char name[ZHUB_MSG_MAX_TYPE + 1];
            size_t size = zmq_msg_size (&topic);
            if (size < sizeof name) {
                memcpy (name, zmq_msg_data (&topic), size);
                name[size] = 0;
                if (zhub_topic_match (pattern, name)
                    && s_print (name, zmq_msg_data (&body), zmq_msg_size (&body), json) == 0)
                    seen++;
            }
        }
        //  drop any further parts of an unexpected message
        while (zmq_msg_more (&body)) {
            zmq_msg_close (&body);
            zmq_msg_init (&body);
            zmq_msg_recv (&body, sock, 0);
        }
        zmq_msg_close (&topic);
        zmq_msg_close (&body);
    }
    zmq_close (sock);
    zmq_ctx_term (ctx);
    return rc;
}
