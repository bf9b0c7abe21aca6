//  `zhub erase contact <phone|email|id>`: the GDPR erase. It publishes
//  `contact.erase`; contact-sync resolves the person and answers with
//  `contact.forget` (every identifier it knew); each actor erases what it
//  keeps and publishes `contact.forgotten`; once every group has processed
//  the forget, the broker redacts its retained log, compacts and publishes
//  `contact.erased`. This command follows that on the tap and reports it.
#include "cli.h"
#include "zhub_client.h"
#include "zhub_env.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static const char *s_usage =
    "usage: zhub erase contact <phone|email|id> [--upstream] [--timeout DUR] [--json]\n"
    "\n"
    "Erases a person from every store zhub keeps (GDPR): contact-sync's links\n"
    "and audit trail (which keeps a tombstone without personal data), deal-sync,\n"
    "activity-log, the scheduler, the dead letters and the broker's retained\n"
    "log; each store is then compacted so no old bytes stay in the files.\n"
    "  <phone|email|id>  +5215512345678, ana@example.com, a HubSpot contact id\n"
    "                    or a Bird contact id\n"
    "  --upstream        also delete the person in HubSpot (GDPR delete) and Bird\n"
    "  --timeout DUR     how long to wait for every store (default 60s)\n"
    "  --json            print {ok, request, forgotten[], redacted} as JSON\n"
    "\n"
    "Every replica of an actor erases in its own store and answers for itself:\n"
    "the broker delivers the request to each, and erases its own log only once\n"
    "every replica has confirmed.\n"
    "Progress is followed on the broker's tap ($ZHUB_BROKER_TAP, by default\n"
    "$ZHUB_BROKER's port + 1). An actor that is down erases when it comes back;\n"
    "the broker's part waits for it.\n"
    "Exit codes: 0 erased everywhere, 1 not confirmed within --timeout (the\n"
    "erase goes on: run `zhub tail contact.>` to follow it), 2 bad arguments,\n"
    "3 the broker did not answer.\n";

static int
s_usage_error (const char *what)
{
    fprintf (stderr, "zhub erase: %s\n\n%s", what, s_usage);
    return ZHUB_EXIT_USAGE;
}

static bool
s_identifier_ok (const char *text)
{
    size_t size = strlen (text);
    if (size == 0 || size > 254)
        return false;
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == 0x7f)
            return false;
    return true;
}

static zhub_msg_t *
s_erase_message (const char *request, const char *identifier, bool upstream)
{
    zhub_msg_t *msg = zhub_msg_new ();
    char *id = zhub_sprintf ("erase:%s", request);
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->subject, id);
    free (id);
    zhub_msg_set (&msg->source, "zhub/cli");
    zhub_msg_set (&msg->type, "contact.erase");
    msg->time_ms = zhub_now_ms ();
    json_t *data = json_pack ("{s:s, s:s, s:b}", "request", request, "identifier", identifier,
                              "upstream", upstream);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

//  Follows the tap until contact.erased for the request, or the deadline.
//  forgotten collects {actor, removed}; *redacted gets the broker's count.
static bool
s_follow (void *sock, const char *request, int64_t deadline, bool json, json_t *forgotten,
          json_int_t *redacted)
{
    while (zhub_mono_ms () < deadline) {
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        int64_t wait = deadline - zhub_mono_ms ();
        if (zmq_poll (&item, 1, wait > 1000 ? 1000 : (long)wait) <= 0)
            continue;
        zmq_msg_t topic, body;
        zmq_msg_init (&topic);
        zmq_msg_init (&body);
        zhub_msg_t *msg = NULL;
        uint64_t offset;
        if (zmq_msg_recv (&topic, sock, 0) >= 0 && zmq_msg_more (&topic)
            && zmq_msg_recv (&body, sock, 0) >= 0)
            msg = zhub_cli_tap_message (zmq_msg_data (&body), zmq_msg_size (&body), &offset);
        zmq_msg_close (&topic);
        zmq_msg_close (&body);
        json_t *data = msg ? zhub_msg_data_json (msg) : NULL;
        const char *of = data ? json_string_value (json_object_get (data, "request")) : NULL;
        bool done = false;
        if (of && !strcmp (of, request)) {
            if (!strcmp (msg->type, "contact.forgotten")) {
                //  one answer per replica of each actor (the broker delivers
                //  the forget to every replica); replica names which
                const char *actor = json_string_value (json_object_get (data, "actor"));
                const char *replica = json_string_value (json_object_get (data, "replica"));
                json_int_t removed = json_integer_value (json_object_get (data, "removed"));
                json_t *entry = json_pack ("{s:s, s:I}", "actor", actor ? actor : "?", "removed",
                                           removed);
                if (replica)
                    json_object_set_new (entry, "replica", json_string (replica));
                json_array_append_new (forgotten, entry);
                if (!json)
                    printf ("%-14s %s%s%sforgotten, %lld record(s) removed\n", actor ? actor : "?",
                            replica ? "(" : "", replica ? replica : "", replica ? ") " : "",
                            (long long)removed);
            } else if (!strcmp (msg->type, "contact.erased")) {
                *redacted = json_integer_value (json_object_get (data, "redacted"));
                if (!json)
                    printf ("%-14s %lld retained message(s) redacted, store compacted\n",
                            "broker", (long long)*redacted);
                done = true;
            }
            fflush (stdout);
        }
        json_decref (data);
        zhub_msg_destroy (&msg);
        if (done)
            return true;
    }
    return false;
}

int
zhub_cmd_erase (int argc, char **argv)
{
    const char *kind = NULL, *identifier = NULL;
    bool json = false, upstream = false;
    int64_t timeout_ms = 60000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        }
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--upstream"))
            upstream = true;
        else if (!strcmp (argv[i], "--timeout") && i + 1 < argc) {
            if (zhub_parse_duration_ms (argv[++i], &timeout_ms) || timeout_ms <= 0)
                return s_usage_error ("--timeout needs a duration, e.g. 60s");
        } else if (!kind)
            kind = argv[i];
        else if (!identifier)
            identifier = argv[i];
        else
            return s_usage_error ("too many arguments");
    }
    if (!kind || strcmp (kind, "contact"))
        return s_usage_error ("expected: erase contact <phone|email|id>");
    if (!identifier || !s_identifier_ok (identifier))
        return s_usage_error ("expected a phone, an email or an id (no spaces)");
    char endpoint[256];
    if (zhub_cli_tap_endpoint (endpoint, sizeof endpoint))
        return s_usage_error ("cannot derive the tap from $ZHUB_BROKER; set $ZHUB_BROKER_TAP");

    uint8_t bytes[12];
    char request[32];
    randombytes_buf (bytes, sizeof bytes);
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf (request + 2 * i, 3, "%02x", bytes[i]);

    //  listen before publishing, so no answer is missed
    void *ctx = zmq_ctx_new ();
    void *sock = zhub_cli_tap_open ("erase", ctx, endpoint);
    if (!sock) {
        zmq_ctx_term (ctx);
        return ZHUB_EXIT_USAGE;
    }
    zmq_setsockopt (sock, ZMQ_SUBSCRIBE, "contact.forgotten", 17);
    zmq_setsockopt (sock, ZMQ_SUBSCRIBE, "contact.erased", 14);
    //  a subscription reaches the broker's XPUB asynchronously
    zmq_pollitem_t none = {sock, 0, ZMQ_POLLIN, 0};
    zmq_poll (&none, 1, 300);

    int exit_code = ZHUB_EXIT_OK;
    zhub_msg_t *msg = s_erase_message (request, identifier, upstream);
    int unused;
    zhub_client_t *client = zhub_cli_client ("erase", NULL, "zhub-cli", &unused);
    char err[256] = "";
    zhub_puback_t ack = {0};
    zhub_rc_t rc = client ? zhub_client_publish (client, msg, 5000, &ack, err, sizeof err)
                          : ZHUB_ERROR;
    zhub_client_destroy (&client);
    zhub_msg_destroy (&msg);
    json_t *forgotten = json_array ();
    json_int_t redacted = 0;
    bool done = false;
    if (rc != ZHUB_OK) {
        fprintf (stderr, "zhub erase: the broker did not take the request: %s\n",
                 *err ? err : "no answer");
        exit_code = rc == ZHUB_REJECT ? ZHUB_EXIT_FAILURE : ZHUB_EXIT_UNAVAILABLE;
    } else {
        if (!json)
            printf ("erase request %s sent; waiting for every store...\n", request);
        done = s_follow (sock, request, zhub_mono_ms () + timeout_ms, json, forgotten, &redacted);
        if (!done) {
            exit_code = ZHUB_EXIT_FAILURE;
            if (!json)
                fprintf (stderr,
                         "zhub erase: not confirmed within the timeout; the erase goes on "
                         "(request %s)\n",
                         request);
        } else if (!json)
            printf ("erased everywhere\n");
    }
    if (json && exit_code != ZHUB_EXIT_UNAVAILABLE) {
        json_t *out = json_pack ("{s:b, s:s, s:O, s:I}", "ok", done, "request", request,
                                 "forgotten", forgotten, "redacted", redacted);
        char *text = json_dumps (out, JSON_COMPACT);
        printf ("%s\n", text ? text : "{}");
        free (text);
        json_decref (out);
    }
    json_decref (forgotten);
    zmq_close (sock);
    zmq_ctx_term (ctx);
    return exit_code;
}
