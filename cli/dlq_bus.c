//  `zhub dlq`: changes (replay, edit, purge) are commands published on the
//  bus that zhub-dead-letter applies in its own write transaction; the CLI
//  then waits, by re-reading the store, until the letter says the command
//  was applied (its last_command) or is gone (docs/adr/0004).
#include "dlq.h"
#include "zhub_env.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
zhub_dlq_command_id (const char *action)
{
    uint8_t random[8];
    randombytes_buf (random, sizeof random);
    char hex[17];
    sodium_bin2hex (hex, sizeof hex, random, sizeof random);
    return zhub_sprintf ("dlcmd:%s:%lld:%s", action, (long long)zhub_now_ms (), hex);
}

zhub_client_t *
zhub_dlq_client (void)
{
    int exit_code;
    return zhub_cli_client ("dlq", NULL, "zhub-dlq", &exit_code);
}

int
zhub_dlq_publish (zhub_client_t *client, const char *type, const char *id, msgpack_sbuffer *data)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "zhub/cli");
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->subject, DEAD_LETTER_GROUP);
    msg->time_ms = zhub_now_ms ();
    zhub_msg_set_data (msg, (const uint8_t *)data->data, data->size);
    char err[256] = "";
    zhub_rc_t rc =
        zhub_client_publish (client, msg, ZHUB_DLQ_PUBLISH_TIMEOUT_MS, NULL, err, sizeof err);
    zhub_msg_destroy (&msg);
    if (rc == ZHUB_OK)
        return ZHUB_EXIT_OK;
    if (rc == ZHUB_RETRY) {
        fprintf (stderr, "zhub dlq: the broker did not confirm (%s)\n",
                 zhub_env_str ("ZHUB_BROKER", ZHUB_BROKER_DEFAULT));
        return ZHUB_EXIT_UNAVAILABLE;
    }
    fprintf (stderr, "zhub dlq: the broker refused the command: %s\n", err);
    return ZHUB_EXIT_FAILURE;
}

static void
s_progress (size_t done, size_t total)
{
    if (total < 2 || !isatty (STDERR_FILENO))
        return;
    int width = 30, filled = (int)(done * (size_t)width / total);
    fprintf (stderr, "\r[%.*s%.*s] %zu/%zu", filled, "##############################",
             width - filled, "..............................", done, total);
    if (done == total)
        fputc ('\n', stderr);
    fflush (stderr);
}

size_t
zhub_dlq_wait (dead_letter_store_t *store, const uint64_t *seqs, char **ids, size_t count,
               bool gone, int64_t timeout_ms, char **results)
{
    int64_t deadline = zhub_mono_ms () + timeout_ms;
    size_t done = 0;
    s_progress (0, count);
    while (true) {
        for (size_t i = 0; i < count; i++) {
            if (results[i])
                continue;
            dead_letter_t dl;
            zhub_rc_t rc = dead_letter_store_get (store, seqs[i], &dl);
            if (gone && rc == ZHUB_NOTFOUND)
                results[i] = zhub_strdup ("purged");
            else if (!gone && rc == ZHUB_OK && dl.last_command && !strcmp (dl.last_command, ids[i]))
                results[i] = zhub_strdup (dl.last_result ? dl.last_result : "applied");
            if (results[i])
                done++;
            dead_letter_clear (&dl);
        }
        s_progress (done, count);
        if (done == count || zhub_mono_ms () > deadline)
            break;
        usleep (ZHUB_DLQ_POLL_MS * 1000);
    }
    if (done < count && count > 1 && isatty (STDERR_FILENO))
        fputc ('\n', stderr);
    return done;
}
