//  `zhub keys new|list|revoke`: the bus's CURVE keys (PROTOCOL.md 16). A
//  client's key pair is a czmq certificate: the secret file stays with
//  the client (ZHUB_BUS_CERT), the public file with its permissions goes
//  into the broker's allow-list ($ZHUB_BUS_KEYS, by default
//  $ZHUB_DATA_DIR/broker/keys), which the broker reads again within a
//  heartbeat: a new key works and a revoked one is cut off without a
//  restart. The format and the checks are proto/zhub_keys.h's.
#include "cli.h"
#include "zhub_env.h"
#include "zhub_keys.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *s_usage =
    "usage: zhub keys new NAME [--publish PATTERNS] [--consume PATTERNS] [--admin]\n"
    "                          [--keys DIR] [--out DIR]\n"
    "       zhub keys new --broker [--out DIR]\n"
    "       zhub keys list [--keys DIR] [--json]\n"
    "       zhub keys revoke NAME [--keys DIR]\n"
    "\n"
    "The bus's CURVE keys (czmq certificates). A client presents its key; the\n"
    "broker lets in only keys of its allow-list and checks each frame against\n"
    "the key's permissions.\n"
    "  new NAME        a key pair for a client: the secret certificate goes to\n"
    "                  OUT/NAME.key_secret (give it to the client as ZHUB_BUS_CERT),\n"
    "                  the public one with its permissions to KEYS/NAME.key\n"
    "  --publish P,..  topic patterns the key may publish (default none)\n"
    "  --consume P,..  patterns it may join groups and tap with (default none)\n"
    "  --admin         may change groups (zhub group), read STATS and publish the\n"
    "                  admin topics (" ZHUB_ADMIN_TOPICS ");\n"
    "                  publish and consume default to > for an admin key\n"
    "  new --broker    the broker's own key pair: OUT/broker.key_secret\n"
    "                  (ZHUB_BROKER_CERT) and OUT/broker.key, whose public key the\n"
    "                  clients need (ZHUB_BROKER_PUBLIC_KEY)\n"
    "  list            the allow-list, and the keys revoked\n"
    "  revoke NAME     moves KEYS/NAME.key to KEYS/revoked/: the broker refuses\n"
    "                  that key from its next heartbeat on, on every connection\n"
    "  --keys DIR      the allow-list (default $ZHUB_BUS_KEYS, else\n"
    "                  $ZHUB_DATA_DIR/broker/keys)\n"
    "  --out DIR       where secret certificates go (default $ZHUB_DATA_DIR/secrets)\n"
    "Exit codes: 0 done, 1 failed, 2 bad arguments, 4 no such key.\n";

static int
s_usage_error (const char *what)
{
    fprintf (stderr, "zhub keys: %s\n\n%s", what, s_usage);
    return ZHUB_EXIT_USAGE;
}

static void
s_default_dirs (char *keys, size_t keys_size, char *out, size_t out_size)
{
    const char *data = zhub_env_str ("ZHUB_DATA_DIR", "./.zhub-data");
    const char *set = zhub_env_str ("ZHUB_BUS_KEYS", NULL);
    if (set)
        snprintf (keys, keys_size, "%s", set);
    else
        snprintf (keys, keys_size, "%s/broker/keys", data);
    snprintf (out, out_size, "%s/secrets", data);
}

//  mkdir -p with mode for the folders it makes.
static int
s_make_dir (const char *path, mode_t mode)
{
    char buf[1024];
    snprintf (buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir (buf, 0755) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir (buf, mode) && errno != EEXIST ? -1 : 0;
}

int
zhub_cli_key_ensure (const char *name, const char *publish, const char *consume, bool admin,
                     const char *keys_dir, const char *out_dir, char *secret_path,
                     size_t secret_size)
{
    snprintf (secret_path, secret_size, "%s/%s.key_secret", out_dir, name);
    struct stat st;
    if (stat (secret_path, &st) == 0)
        return 0;
    if (s_make_dir (out_dir, 0700) || (keys_dir && s_make_dir (keys_dir, 0755))) {
        fprintf (stderr, "zhub: cannot create %s: %s\n", out_dir, strerror (errno));
        return -1;
    }
    char public_path[1100], public_key[ZHUB_KEY_Z85_SIZE], err[600];
    snprintf (public_path, sizeof public_path, "%s/%s.key", keys_dir ? keys_dir : out_dir, name);
    zhub_key_t key = {0};
    snprintf (key.name, sizeof key.name, "%s", name);
    key.admin = admin;
    int published = zhub_key_parse_patterns (publish, key.publish, ZHUB_KEY_MAX_PATTERNS);
    int consumed = zhub_key_parse_patterns (consume, key.consume, ZHUB_KEY_MAX_PATTERNS);
    key.publish_count = published > 0 ? (size_t)published : 0;
    key.consume_count = consumed > 0 ? (size_t)consumed : 0;
    int rc = published < 0 || consumed < 0
                 ? -1
                 : zhub_key_create (keys_dir ? &key : NULL, secret_path, public_path, public_key,
                                    err, sizeof err);
    if (rc)
        fprintf (stderr, "zhub: key %s: %s\n", name,
                 published < 0 || consumed < 0 ? "invalid patterns" : err);
    zhub_key_clear (&key);
    return rc;
}

static int
s_new (const char *name, const char *publish, const char *consume, bool admin, bool broker,
       const char *keys_dir, const char *out_dir)
{
    if (s_make_dir (out_dir, 0700) || (!broker && s_make_dir (keys_dir, 0755))) {
        fprintf (stderr, "zhub keys: cannot create %s: %s\n", broker ? out_dir : keys_dir,
                 strerror (errno));
        return ZHUB_EXIT_FAILURE;
    }
    zhub_key_t key = {0};
    char err[600], public_key[ZHUB_KEY_Z85_SIZE];
    char secret_path[1100], public_path[1100];
    snprintf (secret_path, sizeof secret_path, "%s/%s.key_secret", out_dir, name);
    if (broker)
        snprintf (public_path, sizeof public_path, "%s/%s.key", out_dir, name);
    else
        snprintf (public_path, sizeof public_path, "%s/%s.key", keys_dir, name);
    if (!broker) {
        snprintf (key.name, sizeof key.name, "%s", name);
        key.admin = admin;
        int published = zhub_key_parse_patterns (publish ? publish
                                                 : admin ? ">"
                                                         : "",
                                                 key.publish, ZHUB_KEY_MAX_PATTERNS);
        int consumed = published < 0 ? -1
                                     : zhub_key_parse_patterns (consume ? consume
                                                                : admin ? ">"
                                                                        : "",
                                                                key.consume, ZHUB_KEY_MAX_PATTERNS);
        key.publish_count = published > 0 ? (size_t)published : 0;
        key.consume_count = consumed > 0 ? (size_t)consumed : 0;
        if (published < 0 || consumed < 0) {
            zhub_key_clear (&key);
            return s_usage_error ("--publish and --consume take comma-separated topic patterns "
                                  "(at most 32 each), e.g. webhook.>,contact.*");
        }
    }
    int rc = broker ? zhub_key_create (NULL, secret_path, public_path, public_key, err, sizeof err)
                    : zhub_key_create (&key, secret_path, public_path, public_key, err, sizeof err);
    zhub_key_clear (&key);
    if (rc) {
        fprintf (stderr, "zhub keys: %s\n", err);
        return ZHUB_EXIT_FAILURE;
    }
    printf ("%s\n", public_key);
    fprintf (stderr, "zhub keys: %s key %s: secret %s, public %s\n", broker ? "broker" : "client",
             name, secret_path, public_path);
    return ZHUB_EXIT_OK;
}

static int
s_compare (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

//  The *.key files of dir, sorted (caller frees).
static size_t
s_key_files (const char *dir, char ***names)
{
    *names = NULL;
    DIR *d = opendir (dir);
    if (!d)
        return 0;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir (d))) {
        size_t len = strlen (entry->d_name);
        if (entry->d_name[0] == '.' || len <= 4 || strcmp (entry->d_name + len - 4, ".key"))
            continue;
        *names = zhub_realloc (*names, (count + 1) * sizeof (char *));
        (*names)[count++] = zhub_strdup (entry->d_name);
    }
    closedir (d);
    qsort (*names, count, sizeof (char *), s_compare);
    return count;
}

static json_t *
s_patterns_json (char *const *patterns, size_t count)
{
    json_t *list = json_array ();
    for (size_t i = 0; i < count; i++)
        json_array_append_new (list, json_string (patterns[i]));
    return list;
}

static void
s_list_dir (const char *dir, bool revoked, json_t *out, bool json)
{
    char **names;
    size_t count = s_key_files (dir, &names);
    for (size_t i = 0; i < count; i++) {
        char *path = zhub_sprintf ("%s/%s", dir, names[i]);
        zhub_key_t key;
        char err[600];
        if (zhub_key_load (path, &key, err, sizeof err)) {
            if (json)
                json_array_append_new (out, json_pack ("{s:s, s:s}", "file", path, "error", err));
            else
                printf ("%-20s INVALID  %s\n", names[i], err);
        } else if (json) {
            json_array_append_new (
                out, json_pack ("{s:s, s:s, s:b, s:o, s:o, s:b, s:s}", "name", key.name,
                                "public_key", key.public_key, "admin", key.admin, "publish",
                                s_patterns_json (key.publish, key.publish_count), "consume",
                                s_patterns_json (key.consume, key.consume_count), "revoked",
                                revoked, "file", path));
        } else {
            char publish[1100] = "", consume[1100] = "";
            size_t used = 0;
            for (size_t p = 0; p < key.publish_count; p++)
                used += snprintf (publish + used, sizeof publish - used, "%s%s", p ? "," : "",
                                  key.publish[p]);
            used = 0;
            for (size_t p = 0; p < key.consume_count; p++)
                used += snprintf (consume + used, sizeof consume - used, "%s%s", p ? "," : "",
                                  key.consume[p]);
            printf ("%-20s %s%s%s publish=%s consume=%s\n", key.name, key.public_key,
                    key.admin ? " admin" : "", revoked ? " REVOKED" : "",
                    publish[0] ? publish : "-", consume[0] ? consume : "-");
        }
        zhub_key_clear (&key);
        free (path);
        free (names[i]);
    }
    free (names);
}

static int
s_list (const char *keys_dir, bool json)
{
    json_t *out = json_array ();
    s_list_dir (keys_dir, false, out, json);
    char *revoked = zhub_sprintf ("%s/revoked", keys_dir);
    s_list_dir (revoked, true, out, json);
    free (revoked);
    if (json) {
        char *text = json_dumps (out, JSON_COMPACT);
        printf ("%s\n", text ? text : "[]");
        free (text);
    }
    json_decref (out);
    return ZHUB_EXIT_OK;
}

static int
s_revoke (const char *name, const char *keys_dir)
{
    char from[1100], dir[1100], to[1200];
    snprintf (from, sizeof from, "%s/%s.key", keys_dir, name);
    snprintf (dir, sizeof dir, "%s/revoked", keys_dir);
    struct stat st;
    if (stat (from, &st)) {
        fprintf (stderr, "zhub keys: no key %s in %s\n", name, keys_dir);
        return ZHUB_EXIT_NOTFOUND;
    }
    if (s_make_dir (dir, 0755)) {
        fprintf (stderr, "zhub keys: cannot create %s: %s\n", dir, strerror (errno));
        return ZHUB_EXIT_FAILURE;
    }
    //  a name revoked before keeps its old file too
    snprintf (to, sizeof to, "%s/%s.key", dir, name);
    if (stat (to, &st) == 0)
        snprintf (to, sizeof to, "%s/%s-%lld.key", dir, name, (long long)time (NULL));
    if (rename (from, to)) {
        fprintf (stderr, "zhub keys: cannot move %s to %s: %s\n", from, to, strerror (errno));
        return ZHUB_EXIT_FAILURE;
    }
    printf ("revoked %s (kept as %s); the broker refuses it from its next heartbeat\n", name, to);
    return ZHUB_EXIT_OK;
}

int
zhub_cmd_keys (int argc, char **argv)
{
    char keys_dir[1024], out_dir[1024];
    s_default_dirs (keys_dir, sizeof keys_dir, out_dir, sizeof out_dir);
    const char *action = NULL, *name = NULL, *publish = NULL, *consume = NULL;
    bool admin = false, broker = false, json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        }
        bool value = i + 1 < argc;
        if (!strcmp (argv[i], "--admin"))
            admin = true;
        else if (!strcmp (argv[i], "--broker"))
            broker = true;
        else if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--publish") && value)
            publish = argv[++i];
        else if (!strcmp (argv[i], "--consume") && value)
            consume = argv[++i];
        else if (!strcmp (argv[i], "--keys") && value)
            snprintf (keys_dir, sizeof keys_dir, "%s", argv[++i]);
        else if (!strcmp (argv[i], "--out") && value)
            snprintf (out_dir, sizeof out_dir, "%s", argv[++i]);
        else if (argv[i][0] == '-')
            return s_usage_error ("unknown option");
        else if (!action)
            action = argv[i];
        else if (!name)
            name = argv[i];
        else
            return s_usage_error ("too many arguments");
    }
    if (!action)
        return s_usage_error ("expected new, list or revoke");
    if (!strcmp (action, "list"))
        return name ? s_usage_error ("list takes no NAME") : s_list (keys_dir, json);
    if (!strcmp (action, "revoke")) {
        if (!zhub_key_name_valid (name))
            return s_usage_error ("revoke needs the NAME of a key");
        return s_revoke (name, keys_dir);
    }
    if (strcmp (action, "new"))
        return s_usage_error ("expected new, list or revoke");
    if (broker) {
        if (name || publish || consume || admin)
            return s_usage_error ("new --broker takes no NAME and no permissions");
        name = "broker";
    }
    if (!zhub_key_name_valid (name))
        return s_usage_error ("NAME must be 1..64 of [A-Za-z0-9_-]");
    return s_new (name, publish, consume, admin, broker, keys_dir, out_dir);
}
