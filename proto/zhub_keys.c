//  Bus keys (see zhub_keys.h): the permission checks, pure, and the key
//  files, which are czmq's zcert certificates with our metadata.
#include "zhub_keys.h"
#include "zhub_common.h"
#include "zhub_msg.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
zhub_key_clear (zhub_key_t *key)
{
    if (!key)
        return;
    for (size_t i = 0; i < key->publish_count; i++)
        free (key->publish[i]);
    for (size_t i = 0; i < key->consume_count; i++)
        free (key->consume[i]);
    memset (key, 0, sizeof *key);
}

//  -------------------------------------------------------------------
//  Permissions

//  The token at *p (up to '.' or the end); advances *p past it and its dot.
static size_t
s_token (const char **p, const char **start)
{
    *start = *p;
    size_t len = strcspn (*p, ".");
    *p += len;
    if (**p == '.')
        (*p)++;
    return len;
}

bool
zhub_pattern_within (const char *pattern, const char *outer)
{
    if (!pattern || !outer)
        return false;
    const char *p = pattern, *q = outer;
    while (true) {
        if (!*q)
            return !*p; //  outer ends: pattern must end too
        const char *qt, *pt;
        size_t q_len = s_token (&q, &qt);
        if (q_len == 1 && *qt == '>')
            return *p != 0; //  one or more tokens of anything: pattern has some
        if (!*p)
            return false; //  outer wants more tokens than pattern has
        size_t p_len = s_token (&p, &pt);
        if (p_len == 1 && *pt == '>')
            return false; //  any number of tokens is more than outer's one
        if (q_len == 1 && *qt == '*')
            continue; //  any one token, "*" or a literal
        if (p_len != q_len || memcmp (pt, qt, q_len))
            return false;
    }
}

bool
zhub_topic_is_admin (const char *topic)
{
    char list[] = ZHUB_ADMIN_TOPICS;
    char *save = NULL;
    for (char *pattern = strtok_r (list, ",", &save); pattern;
         pattern = strtok_r (NULL, ",", &save))
        if (zhub_topic_match (pattern, topic))
            return true;
    return false;
}

bool
zhub_key_may_publish (const zhub_key_t *key, const char *topic)
{
    if (zhub_topic_is_admin (topic) && !key->admin)
        return false;
    for (size_t i = 0; i < key->publish_count; i++)
        if (zhub_topic_match (key->publish[i], topic))
            return true;
    return false;
}

bool
zhub_key_may_consume (const zhub_key_t *key, const char *pattern)
{
    for (size_t i = 0; i < key->consume_count; i++)
        if (zhub_pattern_within (pattern, key->consume[i]))
            return true;
    return false;
}

//  Every topic that starts with prefix is matched by outer: the complete
//  tokens of the prefix match outer's first tokens and outer then says ">"
//  (the rest of the prefix and anything after it is arbitrary).
static bool
s_prefix_within (const uint8_t *prefix, size_t size, const char *outer)
{
    const char *q = outer;
    size_t at = 0;
    while (true) {
        const uint8_t *dot = memchr (prefix + at, '.', size - at);
        const char *qt;
        if (!*q)
            return false;
        size_t q_len = s_token (&q, &qt);
        if (q_len == 1 && *qt == '>')
            return true;
        if (!dot)
            return false; //  the prefix's last token is open; only ">" covers it
        size_t p_len = (size_t)(dot - (prefix + at));
        if (!(q_len == 1 && *qt == '*') && (p_len != q_len || memcmp (prefix + at, qt, q_len)))
            return false;
        at += p_len + 1;
    }
}

bool
zhub_key_may_tap (const zhub_key_t *key, const uint8_t *prefix, size_t size)
{
    for (size_t i = 0; i < key->consume_count; i++)
        if (s_prefix_within (prefix, size, key->consume[i]))
            return true;
    return false;
}

static bool
s_pattern_valid (const char *pattern)
{
    //  valid when it matches the topic made by spelling out its wildcards
    if (!*pattern || strlen (pattern) > ZHUB_MSG_MAX_TYPE)
        return false;
    char topic[ZHUB_MSG_MAX_TYPE + 1];
    size_t i = 0;
    for (; pattern[i]; i++)
        topic[i] = pattern[i] == '*' || pattern[i] == '>' ? 'x' : pattern[i];
    topic[i] = 0;
    return zhub_topic_valid (topic) && zhub_topic_match (pattern, topic);
}

int
zhub_key_parse_patterns (const char *text, char **out, size_t max)
{
    if (!text || strlen (text) > ZHUB_KEY_PATTERNS_TEXT)
        return -1;
    char buf[ZHUB_KEY_PATTERNS_TEXT + 1];
    snprintf (buf, sizeof buf, "%s", text);
    size_t count = 0;
    char *save = NULL;
    for (char *item = strtok_r (buf, ",", &save); item; item = strtok_r (NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        size_t len = strlen (item);
        while (len && item[len - 1] == ' ')
            item[--len] = 0;
        if (!len)
            continue;
        if (count == max || !s_pattern_valid (item)) {
            for (size_t i = 0; i < count; i++)
                free (out[i]);
            return -1;
        }
        out[count++] = zhub_strdup (item);
    }
    return (int)count;
}

bool
zhub_key_name_valid (const char *name)
{
    size_t len = name ? strlen (name) : 0;
    if (len == 0 || len > ZHUB_KEY_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z')
              || (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-'))
            return false;
    return true;
}

bool
zhub_key_z85_valid (const char *text)
{
    uint8_t bytes[32];
    return text && strlen (text) == 40 && zmq_z85_decode (bytes, text) != NULL;
}

//  -------------------------------------------------------------------
//  Files

static int
s_fail (char *err, size_t err_size, const char *path, const char *what)
{
    snprintf (err, err_size, "%s: %s", path, what);
    return -1;
}

static bool
s_all_zero (const uint8_t *bytes, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (bytes[i])
            return false;
    return true;
}

int
zhub_key_load (const char *path, zhub_key_t *key, char *err, size_t err_size)
{
    memset (key, 0, sizeof *key);
    //  zcert_load prefers <path>_secret: an allow-list holds public files only
    zconfig_t *root = zconfig_load (path);
    if (!root)
        return s_fail (err, err_size, path, "cannot read the certificate");
    int rc = -1;
    const char *public_key = zconfig_get (root, "/curve/public-key", NULL);
    const char *name = zconfig_get (root, "/metadata/name", NULL);
    const char *publish = zconfig_get (root, "/metadata/publish", "");
    const char *consume = zconfig_get (root, "/metadata/consume", "");
    const char *admin = zconfig_get (root, "/metadata/admin", "false");
    if (zconfig_get (root, "/curve/secret-key", NULL))
        s_fail (err, err_size, path, "holds a secret key; the allow-list takes public files only");
    else if (!zhub_key_z85_valid (public_key))
        s_fail (err, err_size, path, "no valid curve public-key");
    else if (!zhub_key_name_valid (name))
        s_fail (err, err_size, path, "metadata name must be 1..64 of [A-Za-z0-9_-]");
    else if (strcmp (admin, "true") && strcmp (admin, "false"))
        s_fail (err, err_size, path, "metadata admin must be true or false");
    else {
        int published = zhub_key_parse_patterns (publish, key->publish, ZHUB_KEY_MAX_PATTERNS);
        int consumed = published < 0
                           ? -1
                           : zhub_key_parse_patterns (consume, key->consume, ZHUB_KEY_MAX_PATTERNS);
        key->publish_count = published > 0 ? (size_t)published : 0;
        key->consume_count = consumed > 0 ? (size_t)consumed : 0;
        if (published < 0 || consumed < 0)
            s_fail (err, err_size, path,
                    "metadata publish and consume must be comma-separated topic patterns "
                    "(at most 32 each)");
        else {
            snprintf (key->name, sizeof key->name, "%s", name);
            snprintf (key->public_key, sizeof key->public_key, "%s", public_key);
            key->admin = !strcmp (admin, "true");
            rc = 0;
        }
    }
    zconfig_destroy (&root);
    if (rc)
        zhub_key_clear (key);
    return rc;
}

int
zhub_key_load_secret (const char *path, char *public_key, char *secret_key, char *err,
                      size_t err_size)
{
    zconfig_t *root = zconfig_load (path);
    if (!root)
        return s_fail (err, err_size, path, "cannot read the certificate");
    const char *public_text = zconfig_get (root, "/curve/public-key", NULL);
    const char *secret_text = zconfig_get (root, "/curve/secret-key", NULL);
    uint8_t secret[32] = {0};
    int rc = -1;
    if (!zhub_key_z85_valid (public_text) || !zhub_key_z85_valid (secret_text))
        s_fail (err, err_size, path, "not a secret certificate (public-key and secret-key)");
    else if (!zmq_z85_decode (secret, secret_text) || s_all_zero (secret, sizeof secret))
        s_fail (err, err_size, path, "the secret key is empty");
    else {
        snprintf (public_key, ZHUB_KEY_Z85_SIZE, "%s", public_text);
        snprintf (secret_key, ZHUB_KEY_Z85_SIZE, "%s", secret_text);
        rc = 0;
    }
    sodium_memzero (secret, sizeof secret);
    zconfig_destroy (&root);
    return rc;
}

int
zhub_key_read_public (const char *text, char *public_key, char *err, size_t err_size)
{
    if (zhub_key_z85_valid (text)) {
        snprintf (public_key, ZHUB_KEY_Z85_SIZE, "%s", text);
        return 0;
    }
    zconfig_t *root = text && *text ? zconfig_load (text) : NULL;
    const char *found = root ? zconfig_get (root, "/curve/public-key", NULL) : NULL;
    int rc = zhub_key_z85_valid (found) ? 0 : -1;
    if (rc == 0)
        snprintf (public_key, ZHUB_KEY_Z85_SIZE, "%s", found);
    else
        s_fail (err, err_size, text && *text ? text : "(empty)",
                "neither a Z85 public key (40 characters) nor a certificate file holding one");
    zconfig_destroy (&root);
    return rc;
}

//  Makes path with mode (refusing one that exists), so a secret file is
//  never readable by others, not even for a moment; zcert then writes it.
static int
s_reserve (const char *path, mode_t mode, char *err, size_t err_size)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0)
        return s_fail (err, err_size, path,
                       errno == EEXIST ? "exists already (not overwritten)" : strerror (errno));
    close (fd);
    return 0;
}

static void
s_join_patterns (char *const *patterns, size_t count, char *out, size_t size)
{
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < count && used < size; i++)
        used += snprintf (out + used, size - used, "%s%s", i ? "," : "", patterns[i]);
}

int
zhub_key_create (const zhub_key_t *permissions, const char *secret_path, const char *public_path,
                 char *public_key, char *err, size_t err_size)
{
    if (permissions && !zhub_key_name_valid (permissions->name))
        return s_fail (err, err_size, secret_path, "invalid key name");
    if (s_reserve (secret_path, 0600, err, err_size))
        return -1;
    if (public_path && s_reserve (public_path, 0644, err, err_size)) {
        unlink (secret_path);
        return -1;
    }
    zcert_t *cert = zcert_new ();
    if (permissions) {
        char text[ZHUB_KEY_PATTERNS_TEXT + 300];
        zcert_set_meta (cert, "name", "%s", permissions->name);
        s_join_patterns (permissions->publish, permissions->publish_count, text, sizeof text);
        zcert_set_meta (cert, "publish", "%s", text);
        s_join_patterns (permissions->consume, permissions->consume_count, text, sizeof text);
        zcert_set_meta (cert, "consume", "%s", text);
        zcert_set_meta (cert, "admin", "%s", permissions->admin ? "true" : "false");
    }
    int rc = zcert_save_secret (cert, secret_path);
    if (rc == 0 && public_path)
        rc = zcert_save_public (cert, public_path);
    if (rc == 0)
        snprintf (public_key, ZHUB_KEY_Z85_SIZE, "%s", zcert_public_txt (cert));
    else {
        unlink (secret_path);
        if (public_path)
            unlink (public_path);
        s_fail (err, err_size, secret_path, "cannot write the certificate");
    }
    zcert_destroy (&cert);
    return rc ? -1 : 0;
}
