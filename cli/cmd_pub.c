//  `zhub pub TOPIC SUBJECT JSON`: publishes one message with confirmation,
//  the way any service does. The JSON becomes the envelope's data
//  faithfully (64-bit integers kept). The id is random unless --id is
//  given; with --id, running the command again is idempotent within the
//  dedup window (the broker answers "duplicate").
#include "cli.h"
#include "zhub_client.h"
#include "zhub_env.h"
#include "zhub_json.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_usage =
    "usage: zhub pub TOPIC SUBJECT JSON [--id ID] [--source NAME] [--json]\n"
    "\n"
    "Publishes one message and waits until the broker has committed it.\n"
    "  TOPIC     e.g. contact.synced (dot-separated [A-Za-z0-9_-] tokens)\n"
    "  SUBJECT   the ordering key, e.g. contact:42; \"-\" or \"\" for none\n"
    "  JSON      the data, a JSON object, e.g. '{\"email\":\"a@b.example\"}'\n"
    "\n"
    "  --id ID         the message id (default: cli:<random>); same id = same message\n"
    "  --source NAME   the envelope's source (default zhub/cli)\n"
    "  --timeout DUR   how long to wait for the confirmation (default 5s)\n"
    "  --json          print {\"ok\",\"id\",\"offset\",\"duplicate\"} as JSON\n"
    "\n"
    "The broker is $ZHUB_BROKER (default " ZHUB_BROKER_DEFAULT ").\n"
    "Exit codes: 0 committed (or already stored: duplicate), 1 refused by the\n"
    "broker, 2 bad arguments (invalid topic or JSON), 3 the broker did not\n"
    "answer (the message may or may not be stored: run again with the same --id).\n";

static int
s_usage_error (const char *what)
{
    fprintf (stderr, "zhub pub: %s\n\n%s", what, s_usage);
    return ZHUB_EXIT_USAGE;
}

int
zhub_cmd_pub (int argc, char **argv)
{
    const char *positional[3], *id = NULL, *source = "zhub/cli";
    int count = 0;
    bool json = false;
    int64_t timeout_ms = 5000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        }
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--id") && i + 1 < argc)
            id = argv[++i];
        else if (!strcmp (argv[i], "--source") && i + 1 < argc)
            source = argv[++i];
        else if (!strcmp (argv[i], "--timeout") && i + 1 < argc) {
            if (zhub_parse_duration_ms (argv[++i], &timeout_ms) || timeout_ms <= 0)
                return s_usage_error ("--timeout needs a duration, e.g. 5s");
        } else if (count < 3)
            positional[count++] = argv[i]; //  "-" (no subject) is a positional too
        else
            return s_usage_error ("too many arguments");
    }
    if (count != 3)
        return s_usage_error ("expected TOPIC SUBJECT JSON");
    const char *topic = positional[0], *subject = positional[1], *text = positional[2];
    if (!zhub_topic_valid (topic))
        return s_usage_error ("invalid topic");
    //  data must be a map; the converter below checks the rest
    const char *first = text + strspn (text, " \t\r\n");
    if (*first != '{')
        return s_usage_error ("JSON must be an object, e.g. '{\"k\": 1}'");

    zhub_msg_t *msg = zhub_msg_new ();
    char random_id[48];
    if (!id) {
        uint8_t bytes[12];
        randombytes_buf (bytes, sizeof bytes);
        size_t used = (size_t)snprintf (random_id, sizeof random_id, "cli:");
        for (size_t i = 0; i < sizeof bytes; i++)
            used += (size_t)snprintf (random_id + used, sizeof random_id - used, "%02x", bytes[i]);
        id = random_id;
    }
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, source);
    zhub_msg_set (&msg->type, topic);
    if (*subject && strcmp (subject, "-"))
        zhub_msg_set (&msg->subject, subject);
    msg->time_ms = zhub_now_ms ();
    //  data through the faithful JSON -> msgpack path (uint64 kept)
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    char err[256] = "";
    if (zhub_json_text_to_mpack (text, strlen (text), &pk, NULL, err, sizeof err)) {
        msgpack_sbuffer_destroy (&sbuf);
        zhub_msg_destroy (&msg);
        return s_usage_error ("invalid JSON");
    }
    zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    if (zhub_msg_validate (msg, err, sizeof err)) {
        zhub_msg_destroy (&msg);
        return s_usage_error (err);
    }

    int exit_code;
    zhub_client_t *client = zhub_cli_client ("pub", NULL, "zhub-cli", &exit_code);
    if (!client) {
        zhub_msg_destroy (&msg);
        return exit_code;
    }
    zhub_puback_t ack = {0};
    zhub_rc_t rc = zhub_client_publish (client, msg, (int)timeout_ms, &ack, err, sizeof err);
    zhub_client_destroy (&client);
    exit_code = rc == ZHUB_OK       ? ZHUB_EXIT_OK
                    : rc == ZHUB_REJECT ? ZHUB_EXIT_FAILURE
                                        : ZHUB_EXIT_UNAVAILABLE;
    if (json) {
        json_t *out =
            json_pack ("{s:b, s:s, s:s}", "ok", rc == ZHUB_OK, "id", msg->id, "topic", msg->type);
        if (rc == ZHUB_OK) {
            json_object_set_new (out, "offset", json_integer ((json_int_t)ack.offset));
            json_object_set_new (out, "duplicate", json_boolean (ack.duplicate));
        } else
            json_object_set_new (out, "error",
                                 json_string (rc == ZHUB_REJECT ? err : "unavailable"));
        char *dump = json_dumps (out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf ("%s\n", dump);
        free (dump);
        json_decref (out);
    } else if (rc == ZHUB_OK)
        printf ("%s %s at offset %llu\n", msg->id, ack.duplicate ? "already stored" : "published",
                (unsigned long long)ack.offset);
    if (rc == ZHUB_REJECT)
        fprintf (stderr, "zhub pub: refused: %s\n", err);
    else if (rc != ZHUB_OK)
        fprintf (stderr, "zhub pub: the broker did not confirm; run again with --id %s\n", msg->id);
    zhub_msg_destroy (&msg);
    return exit_code;
}
