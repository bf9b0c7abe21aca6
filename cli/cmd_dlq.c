//  `zhub dlq`: the operator's view of what failed for good. Reads go
//  straight to zhub-dead-letter's LMDB store, opened read-only (LMDB lets
//  any number of readers in other processes beside the one writer), so
//  `list` and `show` work even while the actor is down. Changes (replay,
//  edit, purge) are published on the bus as commands that the actor
//  applies in its own write transaction; the command then waits, by
//  re-reading the store, until the actor has applied them. Why this split:
//  docs/adr/0004-dead-letter-cli-reads-store-writes-through-bus.md.
#include "cli.h"
#include "dead_letter.h"
#include "dead_letter_store.h"
#include "zhub_client.h"
#include "zhub_env.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_PUBLISH_TIMEOUT_MS 5000
#define S_WAIT_DEFAULT_MS 10000
#define S_POLL_MS 100
#define S_MAX_SETS 32

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
    "  zhub dlq replay ID [--again] [--dry-run] [--json]\n"
    "  zhub dlq replay --group G [--since T] [--before T] [--reason TEXT] [--again]\n"
    "                  [--dry-run] [--json]\n"
    "      Republishes to the original topic, as id replay:<n>:<original id> with\n"
    "      data.zhub_replay = {of, n, dead_letter, group}. Replaying a letter again\n"
    "      reuses the same id (the broker's dedup drops the repeat) unless --again\n"
    "      asks for a new replay (n + 1).\n"
    "  zhub dlq edit ID (--set PATH=VALUE ... | --file DATA.json) [--dry-run]\n"
    "      PATH is data.<field>[.<field>...] or subject; VALUE is JSON when it\n"
    "      parses as JSON, else text. --file replaces data with the JSON object.\n"
    "      --dry-run shows the change and stores nothing.\n"
    "  zhub dlq purge (ID ... | --group G [--before T] [--reason TEXT] | --all)\n"
    "                 [--dry-run]\n"
    "\n"
    "Common options: --timeout DURATION  wait this long for zhub-dead-letter to\n"
    "apply a change (default 10s); --json  machine-readable output.\n"
    "Reads $ZHUB_DATA_DIR/dead-letter/ and publishes to $ZHUB_BROKER.\n"
    "\n"
    "Exit codes: 0 done, 1 failed (or not applied in time), 2 bad arguments,\n"
    "3 the broker did not answer, 4 no such dead letter.\n";

typedef struct {
    const char *positional[64];
    size_t positional_count;
    dead_letter_filter_t filter;
    const char *sets[S_MAX_SETS];
    size_t set_count;
    const char *file;
    bool json, dry_run, again, all;
    long limit;
    int64_t timeout_ms;
} s_args_t;

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

static int
s_parse (int argc, char **argv, s_args_t *args)
{
    memset (args, 0, sizeof *args);
    args->timeout_ms = S_WAIT_DEFAULT_MS;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp (arg, "--", 2) != 0) {
            if (args->positional_count == sizeof args->positional / sizeof args->positional[0])
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
            if (!strcmp (name, "--group"))
                args->filter.group = value;
            else if (!strcmp (name, "--topic"))
                args->filter.topic = value;
            else if (!strcmp (name, "--reason"))
                args->filter.reason = value;
            else if (!strcmp (name, "--since") || !strcmp (name, "--before")) {
                int64_t *target = name[2] == 's' ? &args->filter.since_ms : &args->filter.before_ms;
                if (s_parse_time (value, target)) {
                    fprintf (stderr, "zhub dlq: %s: '%s' is neither RFC 3339 nor an age\n", name,
                             value);
                    return -1;
                }
            } else if (!strcmp (name, "--set")) {
                if (args->set_count == S_MAX_SETS)
                    return -1;
                args->sets[args->set_count++] = value;
            } else if (!strcmp (name, "--file"))
                args->file = value;
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
        }
    }
    return 0;
}

//  -------------------------------------------------------------------
//  The store, read-only

typedef struct {
    zhub_store_t *store;
    dead_letter_tables_t tables;
} s_store_t;

//  Returns 0, or -1 when there is no dead-letter store yet (nothing has
//  been dead-lettered since zhub-dead-letter first ran, or it never ran).
static int
s_store_open (s_store_t *self, bool quiet)
{
    const char *data_dir = zhub_env_str ("ZHUB_DATA_DIR", "./.zhub-data");
    char err[512];
    self->store = zhub_store_open_readonly (data_dir, DEAD_LETTER_GROUP, err, sizeof err);
    if (self->store && dead_letter_tables_open (self->store, &self->tables)) {
        snprintf (err, sizeof err, "%s/%s: the dead-letter tables are missing", data_dir,
                  DEAD_LETTER_GROUP);
        zhub_store_destroy (&self->store);
    }
    if (!self->store && !quiet)
        fprintf (stderr, "zhub dlq: %s (has zhub-dead-letter run with this ZHUB_DATA_DIR?)\n", err);
    return self->store ? 0 : -1;
}

typedef struct {
    s_store_t *store;
    const char *ref;
    uint64_t seq;
    dead_letter_t *dl;
} s_find_t;

static zhub_rc_t
s_find_fn (zhub_txn_t *txn, void *arg)
{
    s_find_t *find = arg;
    if (find->ref)
        return dead_letter_store_find (&find->store->tables, txn, find->ref, find->dl);
    return dead_letter_store_get (&find->store->tables, txn, find->seq, find->dl);
}

static zhub_rc_t
s_find (s_store_t *store, const char *ref, uint64_t seq, dead_letter_t *dl)
{
    s_find_t find = {.store = store, .ref = ref, .seq = seq, .dl = dl};
    memset (dl, 0, sizeof *dl);
    return zhub_store_read (store->store, s_find_fn, &find);
}

typedef struct {
    s_store_t *store;
    const dead_letter_filter_t *filter;
    dead_letter_each_fn *fn;
    void *arg;
} s_each_t;

static zhub_rc_t
s_each_fn (zhub_txn_t *txn, void *arg)
{
    s_each_t *each = arg;
    return dead_letter_store_each (&each->store->tables, txn, each->filter, each->fn, each->arg);
}

//  Collects matching letters' numbers.
typedef struct {
    uint64_t *seqs;
    size_t count, size;
    long limit;
    json_t *rows; //  list: JSON rows, or NULL
    bool table;   //  list: print table rows
} s_collect_t;

static void
s_print_row (const dead_letter_t *dl)
{
    char when[40];
    zhub_time_format (dl->dead_at_ms, when, sizeof when);
    when[19] = 0; //  seconds are enough in a table
    char reason[41];
    snprintf (reason, sizeof reason, "%s", dl->reason);
    for (char *p = reason; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    printf ("%-6llu %-19s %-16s %-34s %-5u %-7u %s\n", (unsigned long long)dl->seq, when, dl->group,
            dl->topic, dl->reason_code, dl->replays, reason);
}

static bool
s_collect (const dead_letter_t *dl, void *arg)
{
    s_collect_t *collect = arg;
    if (collect->count == collect->size) {
        collect->size = collect->size ? collect->size * 2 : 64;
        collect->seqs = zhub_realloc (collect->seqs, collect->size * sizeof *collect->seqs);
    }
    collect->seqs[collect->count++] = dl->seq;
    if (collect->rows)
        json_array_append_new (collect->rows, dead_letter_to_json (dl, false));
    if (collect->table)
        s_print_row (dl);
    return collect->limit == 0 || (long)collect->count < collect->limit;
}

static int
s_select (s_store_t *store, const dead_letter_filter_t *filter, s_collect_t *collect)
{
    s_each_t each = {.store = store, .filter = filter, .fn = s_collect, .arg = collect};
    return zhub_store_read (store->store, s_each_fn, &each) == ZHUB_OK ? 0 : -1;
}

static void
s_print_json (json_t *json)
{
    char *text = json_dumps (json, JSON_INDENT (2) | JSON_ENCODE_ANY);
    printf ("%s\n", text ? text : "null");
    free (text);
}

//  -------------------------------------------------------------------
//  Commands on the bus

static char *
s_command_id (const char *action)
{
    uint8_t random[8];
    randombytes_buf (random, sizeof random);
    char hex[17];
    sodium_bin2hex (hex, sizeof hex, random, sizeof random);
    return zhub_sprintf ("dlcmd:%s:%lld:%s", action, (long long)zhub_now_ms (), hex);
}

static zhub_client_t *
s_client (void)
{
    const char *broker = zhub_env_str ("ZHUB_BROKER", ZHUB_BROKER_DEFAULT);
    zhub_client_t *client = zhub_client_new (broker, "zhub-dlq");
    if (!client)
        fprintf (stderr, "zhub dlq: invalid broker endpoint %s\n", broker);
    return client;
}

//  Publishes a command whose data the packer built. Returns an exit code.
static int
s_publish (zhub_client_t *client, const char *type, const char *id, msgpack_sbuffer *data)
{
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->id, id);
    zhub_msg_set (&msg->source, "zhub/cli");
    zhub_msg_set (&msg->type, type);
    zhub_msg_set (&msg->subject, DEAD_LETTER_GROUP);
    msg->time_ms = zhub_now_ms ();
    zhub_msg_set_data (msg, (const uint8_t *)data->data, data->size);
    char err[256] = "";
    zhub_rc_t rc = zhub_client_publish (client, msg, S_PUBLISH_TIMEOUT_MS, NULL, err, sizeof err);
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

//  Waits until each letter's last_command is its command id (or, with
//  gone, until the letter is gone). results[i] gets the actor's last_result
//  (heap) or NULL when not applied in time. Returns how many were applied.
static size_t
s_wait (s_store_t *store, const uint64_t *seqs, char **ids, size_t count, bool gone,
        int64_t timeout_ms, char **results)
{
    int64_t deadline = zhub_mono_ms () + timeout_ms;
    size_t done = 0;
    s_progress (0, count);
    while (true) {
        for (size_t i = 0; i < count; i++) {
            if (results[i])
                continue;
            dead_letter_t dl;
            zhub_rc_t rc = s_find (store, NULL, seqs[i], &dl);
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
        usleep (S_POLL_MS * 1000);
    }
    if (done < count && count > 1 && isatty (STDERR_FILENO))
        fputc ('\n', stderr);
    return done;
}

//  -------------------------------------------------------------------
//  list, show

static int
s_list (s_args_t *args)
{
    s_store_t store;
    s_collect_t collect = {.limit = args->limit};
    if (s_store_open (&store, true)) {
        //  No store yet: nothing was ever dead-lettered here.
        if (args->json)
            printf ("[]\n");
        else
            fprintf (stderr, "no dead letters (no dead-letter store yet)\n");
        return ZHUB_EXIT_OK;
    }
    if (args->json)
        collect.rows = json_array ();
    else {
        collect.table = true;
        printf ("%-6s %-19s %-16s %-34s %-5s %-7s %s\n", "ID", "DEAD AT (UTC)", "GROUP", "TOPIC",
                "CODE", "REPLAYS", "REASON");
    }
    int rc = s_select (&store, &args->filter, &collect);
    if (args->json)
        s_print_json (collect.rows);
    else if (collect.count == 0)
        fprintf (stderr, "no dead letters match\n");
    json_decref (collect.rows);
    free (collect.seqs);
    zhub_store_destroy (&store.store);
    return rc ? ZHUB_EXIT_FAILURE : ZHUB_EXIT_OK;
}

static int
s_load_one (s_store_t *store, const char *ref, dead_letter_t *dl)
{
    if (s_store_open (store, false))
        return ZHUB_EXIT_NOTFOUND;
    zhub_rc_t rc = s_find (store, ref, 0, dl);
    if (rc == ZHUB_OK)
        return ZHUB_EXIT_OK;
    zhub_store_destroy (&store->store);
    if (rc == ZHUB_NOTFOUND) {
        fprintf (stderr, "zhub dlq: no dead letter %s\n", ref);
        return ZHUB_EXIT_NOTFOUND;
    }
    fprintf (stderr, "zhub dlq: cannot read dead letter %s\n", ref);
    return ZHUB_EXIT_FAILURE;
}

static int
s_show (s_args_t *args)
{
    if (args->positional_count != 1) {
        fprintf (stderr, "usage: zhub dlq show ID [--json]\n");
        return ZHUB_EXIT_USAGE;
    }
    s_store_t store;
    dead_letter_t dl;
    int rc = s_load_one (&store, args->positional[0], &dl);
    if (rc)
        return rc;
    json_t *json = dead_letter_to_json (&dl, true);
    if (args->json)
        s_print_json (json);
    else {
        const char *keys[] = {"id",          "dlq_id",  "group",          "topic",
                              "original_id", "subject", "cause",          "reason_code",
                              "reason",      "dead_at", "stored_at",      "offset",
                              "revision",    "replays", "last_replay_id", "last_replay_at"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            json_t *value = json_object_get (json, keys[i]);
            char *text = json_is_string (value) ? zhub_strdup (json_string_value (value))
                                                : json_dumps (value, JSON_ENCODE_ANY);
            printf ("%-15s %s\n", keys[i], text ? text : "");
            free (text);
        }
        printf ("\nfailure history (oldest first):\n");
        size_t i;
        json_t *attempt;
        json_array_foreach (json_object_get (json, "attempts"), i, attempt)
        {
            const char *reason = json_string_value (json_object_get (attempt, "reason"));
            const char *time = json_string_value (json_object_get (attempt, "time"));
            printf ("  %zu. %s  code %lld  %s\n", i + 1, time ? time : "?",
                    (long long)json_integer_value (json_object_get (attempt, "code")),
                    reason ? reason : "");
        }
        printf ("\nmessage%s:\n", dl.revision ? " (edited)" : "");
        s_print_json (json_object_get (json, "message"));
    }
    json_decref (json);
    dead_letter_clear (&dl);
    zhub_store_destroy (&store.store);
    return ZHUB_EXIT_OK;
}

//  -------------------------------------------------------------------
//  replay

static int
s_replay_dry_run (s_store_t *store, const uint64_t *seqs, size_t count, bool again, bool json)
{
    json_t *rows = json_array ();
    for (size_t i = 0; i < count; i++) {
        dead_letter_t dl;
        if (s_find (store, NULL, seqs[i], &dl) != ZHUB_OK)
            continue;
        uint32_t generation = dead_letter_replay_generation (&dl, again);
        char err[256];
        zhub_msg_t *msg = dead_letter_replay_msg (&dl, generation, err, sizeof err);
        if (msg) {
            uint8_t *buf;
            size_t size;
            if (zhub_msg_encode (msg, &buf, &size, err, sizeof err) == 0) {
                json_t *envelope = dead_letter_envelope_json (buf, size);
                json_t *row =
                    json_pack ("{s:I, s:s, s:b, s:o}", "id", (json_int_t)dl.seq, "replay_id",
                               msg->id, "collapses", generation == dl.replays, "message",
                               envelope ? envelope : json_null ());
                json_array_append_new (rows, row);
                if (!json)
                    printf ("%llu: would publish %s to %s%s\n", (unsigned long long)dl.seq, msg->id,
                            msg->type,
                            generation == dl.replays ? " (already replayed with this id: the "
                                                       "broker's dedup will drop it)"
                                                     : "");
                free (buf);
            }
            zhub_msg_destroy (&msg);
        }
        dead_letter_clear (&dl);
    }
    if (json)
        s_print_json (rows);
    else if (count == 1 && json_array_size (rows) == 1)
        s_print_json (json_object_get (json_array_get (rows, 0), "message"));
    json_decref (rows);
    return ZHUB_EXIT_OK;
}

static int
s_replay (s_args_t *args)
{
    bool by_filter = args->positional_count == 0;
    if (by_filter && !args->filter.group && !args->all) {
        fprintf (stderr, "usage: zhub dlq replay ID [--again] [--dry-run]\n"
                         "       zhub dlq replay --group G [--since T] [--reason TEXT]\n");
        return ZHUB_EXIT_USAGE;
    }
    s_store_t store;
    s_collect_t collect = {0};
    if (by_filter) {
        if (s_store_open (&store, false))
            return ZHUB_EXIT_NOTFOUND;
        s_select (&store, &args->filter, &collect);
        if (collect.count == 0) {
            fprintf (stderr, "zhub dlq: no dead letters match\n");
            zhub_store_destroy (&store.store);
            return args->json ? (printf ("[]\n"), ZHUB_EXIT_OK) : ZHUB_EXIT_OK;
        }
    } else {
        for (size_t i = 0; i < args->positional_count; i++) {
            dead_letter_t dl;
            int rc = s_load_one (&store, args->positional[i], &dl);
            if (rc) {
                free (collect.seqs);
                return rc;
            }
            s_collect (&dl, &collect);
            dead_letter_clear (&dl);
            zhub_store_destroy (&store.store);
        }
        s_store_open (&store, false);
    }
    int exit_code = ZHUB_EXIT_OK;
    if (args->dry_run) {
        exit_code = s_replay_dry_run (&store, collect.seqs, collect.count, args->again, args->json);
        goto done;
    }
    zhub_client_t *client = s_client ();
    if (!client) {
        exit_code = ZHUB_EXIT_USAGE;
        goto done;
    }
    char **ids = zhub_calloc (collect.count, sizeof *ids);
    char **results = zhub_calloc (collect.count, sizeof *results);
    size_t sent = 0;
    for (; sent < collect.count; sent++) {
        ids[sent] = s_command_id ("replay");
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, 2);
        zhub_mpack_pack_str (&pk, "letter");
        msgpack_pack_uint64 (&pk, collect.seqs[sent]);
        zhub_mpack_pack_str (&pk, "again");
        args->again ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
        exit_code = s_publish (client, DEAD_LETTER_CMD_REPLAY, ids[sent], &sbuf);
        msgpack_sbuffer_destroy (&sbuf);
        if (exit_code)
            break;
    }
    size_t applied = s_wait (&store, collect.seqs, ids, sent, false, args->timeout_ms, results);
    json_t *rows = json_array ();
    for (size_t i = 0; i < sent; i++) {
        dead_letter_t dl;
        const char *replay_id = NULL;
        if (s_find (&store, NULL, collect.seqs[i], &dl) == ZHUB_OK)
            replay_id = dl.last_replay_id;
        json_array_append_new (rows, json_pack ("{s:I, s:s?, s:s?, s:s}", "id",
                                                (json_int_t)collect.seqs[i], "result", results[i],
                                                "replay_id", results[i] ? replay_id : NULL,
                                                "command_id", ids[i]));
        if (!args->json) {
            if (results[i])
                printf ("%llu: %s%s%s\n", (unsigned long long)collect.seqs[i], results[i],
                        replay_id ? " as " : "", replay_id ? replay_id : "");
            else
                printf ("%llu: not applied yet (command %s queued)\n",
                        (unsigned long long)collect.seqs[i], ids[i]);
        }
        if (results[i] && strcmp (results[i], "replayed") && exit_code == ZHUB_EXIT_OK)
            exit_code = ZHUB_EXIT_FAILURE;
        dead_letter_clear (&dl);
    }
    if (args->json)
        s_print_json (rows);
    json_decref (rows);
    if (applied < sent) {
        fprintf (stderr,
                 "zhub dlq: %zu of %zu replay command(s) were not applied within the timeout; "
                 "is zhub-dead-letter running? They stay queued on the bus.\n",
                 sent - applied, sent);
        if (exit_code == ZHUB_EXIT_OK)
            exit_code = ZHUB_EXIT_FAILURE;
    }
    for (size_t i = 0; i < collect.count; i++) {
        free (ids[i]);
        free (results[i]);
    }
    free (ids);
    free (results);
    zhub_client_destroy (&client);
done:
    free (collect.seqs);
    zhub_store_destroy (&store.store);
    return exit_code;
}

//  -------------------------------------------------------------------
//  edit

static int
s_read_file (const char *path, char **text, size_t *size)
{
    FILE *file = !strcmp (path, "-") ? stdin : fopen (path, "rb");
    if (!file)
        return -1;
    size_t cap = 4096, used = 0;
    char *buf = zhub_malloc (cap);
    size_t n;
    while ((n = fread (buf + used, 1, cap - used, file)) > 0) {
        used += n;
        if (used == cap)
            buf = zhub_realloc (buf, cap *= 2);
        if (used > (1u << 20)) {
            break;
        }
    }
    if (file != stdin)
        fclose (file);
    *text = buf;
    *size = used;
    return used > (1u << 20) ? -1 : 0;
}

static int
s_edit (s_args_t *args)
{
    if (args->positional_count != 1 || (!args->set_count && !args->file)) {
        fprintf (stderr, "usage: zhub dlq edit ID (--set PATH=VALUE ... | --file DATA.json) "
                         "[--dry-run]\n");
        return ZHUB_EXIT_USAGE;
    }
    s_store_t store;
    dead_letter_t dl;
    int rc = s_load_one (&store, args->positional[0], &dl);
    if (rc)
        return rc;
    uint8_t *edited = zhub_malloc (dl.message_size);
    memcpy (edited, dl.message, dl.message_size);
    size_t edited_size = dl.message_size;
    char err[256];
    int exit_code = ZHUB_EXIT_OK;
    if (args->file) {
        char *text = NULL;
        size_t size;
        uint8_t *next;
        size_t next_size;
        if (s_read_file (args->file, &text, &size)) {
            fprintf (stderr, "zhub dlq: cannot read %s (or over 1 MiB)\n", args->file);
            exit_code = ZHUB_EXIT_USAGE;
        } else if (dead_letter_edit_data (edited, edited_size, text, size, &next, &next_size, err,
                                          sizeof err)) {
            fprintf (stderr, "zhub dlq: %s: %s\n", args->file, err);
            exit_code = ZHUB_EXIT_USAGE;
        } else {
            free (edited);
            edited = next;
            edited_size = next_size;
        }
        free (text);
    }
    for (size_t i = 0; i < args->set_count && exit_code == ZHUB_EXIT_OK; i++) {
        uint8_t *next;
        size_t next_size;
        if (dead_letter_edit_set (edited, edited_size, args->sets[i], &next, &next_size, err,
                                  sizeof err)) {
            fprintf (stderr, "zhub dlq: --set %s: %s\n", args->sets[i], err);
            exit_code = ZHUB_EXIT_USAGE;
            break;
        }
        free (edited);
        edited = next;
        edited_size = next_size;
    }
    if (exit_code)
        goto done;
    char *diff = dead_letter_diff (dl.message, dl.message_size, edited, edited_size);
    if (args->json) {
        json_t *json = json_pack ("{s:I, s:s, s:b}", "id", (json_int_t)dl.seq, "diff",
                                  diff ? diff : "", "dry_run", args->dry_run);
        s_print_json (json);
        json_decref (json);
    } else
        fputs (diff && *diff ? diff : "(no change)\n", stdout);
    bool unchanged = !diff || !*diff;
    free (diff);
    if (args->dry_run || unchanged) {
        if (args->dry_run && !args->json)
            printf ("(dry run: nothing was changed)\n");
        goto done;
    }
    zhub_client_t *client = s_client ();
    if (!client) {
        exit_code = ZHUB_EXIT_USAGE;
        goto done;
    }
    char *id = s_command_id ("edit");
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    zhub_mpack_pack_str (&pk, "letter");
    msgpack_pack_uint64 (&pk, dl.seq);
    zhub_mpack_pack_str (&pk, "revision");
    msgpack_pack_uint32 (&pk, dl.revision);
    zhub_mpack_pack_str (&pk, "message");
    msgpack_pack_bin (&pk, edited_size);
    msgpack_pack_bin_body (&pk, edited, edited_size);
    exit_code = s_publish (client, DEAD_LETTER_CMD_EDIT, id, &sbuf);
    msgpack_sbuffer_destroy (&sbuf);
    zhub_client_destroy (&client);
    if (exit_code == ZHUB_EXIT_OK) {
        char *result = NULL;
        s_wait (&store, &dl.seq, &id, 1, false, args->timeout_ms, &result);
        if (!result) {
            fprintf (stderr,
                     "zhub dlq: the edit was not applied within the timeout; is "
                     "zhub-dead-letter running? (command %s stays queued)\n",
                     id);
            exit_code = ZHUB_EXIT_FAILURE;
        } else if (strcmp (result, "edited")) {
            fprintf (stderr, "zhub dlq: not edited: %s%s\n", result,
                     !strcmp (result, "stale") ? " (it was edited meanwhile; look again)" : "");
            exit_code = ZHUB_EXIT_FAILURE;
        } else if (!args->json)
            printf ("edited %llu (revision %u); replay it with `zhub dlq replay %llu`\n",
                    (unsigned long long)dl.seq, dl.revision + 1, (unsigned long long)dl.seq);
        free (result);
    }
    free (id);
done:
    free (edited);
    dead_letter_clear (&dl);
    zhub_store_destroy (&store.store);
    return exit_code;
}

//  -------------------------------------------------------------------
//  purge

static int
s_purge (s_args_t *args)
{
    bool by_filter = args->positional_count == 0;
    if (by_filter && !args->filter.group && !args->all && !args->filter.before_ms
        && !args->filter.reason && !args->filter.topic) {
        fprintf (stderr, "usage: zhub dlq purge (ID ... | --group G [--before T] | --all) "
                         "[--dry-run]\n");
        return ZHUB_EXIT_USAGE;
    }
    s_store_t store;
    if (s_store_open (&store, false))
        return ZHUB_EXIT_NOTFOUND;
    s_collect_t collect = {0};
    int exit_code = ZHUB_EXIT_OK;
    if (by_filter)
        s_select (&store, &args->filter, &collect);
    else
        for (size_t i = 0; i < args->positional_count; i++) {
            dead_letter_t dl;
            zhub_rc_t rc = s_find (&store, args->positional[i], 0, &dl);
            if (rc != ZHUB_OK) {
                fprintf (stderr, "zhub dlq: no dead letter %s\n", args->positional[i]);
                exit_code = ZHUB_EXIT_NOTFOUND;
                goto done;
            }
            s_collect (&dl, &collect);
            dead_letter_clear (&dl);
        }
    if (args->dry_run || collect.count == 0) {
        if (args->json) {
            json_t *ids = json_array ();
            for (size_t i = 0; i < collect.count; i++)
                json_array_append_new (ids, json_integer ((json_int_t)collect.seqs[i]));
            json_t *json = json_pack ("{s:o, s:b}", "would_purge", ids, "dry_run", true);
            s_print_json (json);
            json_decref (json);
        } else
            printf ("%s %zu dead letter(s)\n", args->dry_run ? "would purge" : "purged",
                    collect.count);
        goto done;
    }
    zhub_client_t *client = s_client ();
    if (!client) {
        exit_code = ZHUB_EXIT_USAGE;
        goto done;
    }
    char **ids = zhub_calloc (collect.count, sizeof *ids);
    char **results = zhub_calloc (collect.count, sizeof *results);
    for (size_t start = 0; start < collect.count && !exit_code; start += DEAD_LETTER_PURGE_BATCH) {
        size_t n = collect.count - start < DEAD_LETTER_PURGE_BATCH ? collect.count - start
                                                                   : DEAD_LETTER_PURGE_BATCH;
        char *id = s_command_id ("purge");
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, 1);
        zhub_mpack_pack_str (&pk, "letters");
        msgpack_pack_array (&pk, (uint32_t)n);
        for (size_t i = 0; i < n; i++)
            msgpack_pack_uint64 (&pk, collect.seqs[start + i]);
        exit_code = s_publish (client, DEAD_LETTER_CMD_PURGE, id, &sbuf);
        msgpack_sbuffer_destroy (&sbuf);
        free (id);
    }
    zhub_client_destroy (&client);
    size_t applied = 0;
    if (!exit_code)
        applied =
            s_wait (&store, collect.seqs, ids, collect.count, true, args->timeout_ms, results);
    if (!exit_code && applied < collect.count) {
        fprintf (stderr,
                 "zhub dlq: %zu of %zu not purged within the timeout; is "
                 "zhub-dead-letter running?\n",
                 collect.count - applied, collect.count);
        exit_code = ZHUB_EXIT_FAILURE;
    }
    if (args->json) {
        json_t *json = json_pack ("{s:I}", "purged", (json_int_t)applied);
        s_print_json (json);
        json_decref (json);
    } else if (!exit_code)
        printf ("purged %zu dead letter(s)\n", applied);
    for (size_t i = 0; i < collect.count; i++)
        free (results[i]);
    free (ids);
    free (results);
done:
    free (collect.seqs);
    zhub_store_destroy (&store.store);
    return exit_code;
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
    s_args_t args;
    if (s_parse (argc - 2, argv + 2, &args)) {
        fprintf (stderr, "zhub dlq %s: bad arguments (see zhub dlq --help)\n", argv[1]);
        return ZHUB_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp (sub, "list") || !strcmp (sub, "ls"))
        return s_list (&args);
    if (!strcmp (sub, "show"))
        return s_show (&args);
    if (!strcmp (sub, "replay"))
        return s_replay (&args);
    if (!strcmp (sub, "edit"))
        return s_edit (&args);
    if (!strcmp (sub, "purge"))
        return s_purge (&args);
    fprintf (stderr, "zhub dlq: unknown subcommand '%s'\n\n%s", sub, s_usage);
    return ZHUB_EXIT_USAGE;
}
