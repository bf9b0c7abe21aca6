//  Derived ids (see zhub_id.h): one SHA-256 digest form and one bounded
//  form, so that the processes that publish because of another message
//  compute their ids one way.
#include "zhub_id.h"
#include "zhub_common.h"
#include "zhub_msg.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_write (char *out, size_t out_size, const char *prefix, const unsigned char *digest, size_t bytes)
{
    char hex[2 * ZHUB_ID_DIGEST_MAX + 1];
    sodium_bin2hex (hex, sizeof hex, digest, bytes);
    int length = snprintf (out, out_size, "%s%s", prefix, hex);
    if (length < 0 || (size_t)length >= out_size) {
        out[0] = 0;
        return -1;
    }
    return 0;
}

static bool
s_args_ok (char *out, size_t out_size, const char *prefix, size_t bytes)
{
    if (!out || !out_size)
        return false;
    out[0] = 0;
    return prefix && bytes >= 1 && bytes <= ZHUB_ID_DIGEST_MAX;
}

int
zhub_id_derive (char *out, size_t out_size, const char *prefix, const char *text, size_t bytes)
{
    if (!s_args_ok (out, out_size, prefix, bytes) || !text)
        return -1;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, (const unsigned char *)text, strlen (text));
    return s_write (out, out_size, prefix, digest, bytes);
}

int
zhub_id_derive_parts (char *out, size_t out_size, const char *prefix, const char *const *parts,
                      size_t count, size_t bytes)
{
    if (!s_args_ok (out, out_size, prefix, bytes) || (count && !parts))
        return -1;
    crypto_hash_sha256_state state;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init (&state);
    for (size_t i = 0; i < count; i++) {
        if (parts[i])
            crypto_hash_sha256_update (&state, (const unsigned char *)parts[i], strlen (parts[i]));
        crypto_hash_sha256_update (&state, (const unsigned char *)"\n", 1);
    }
    crypto_hash_sha256_final (&state, digest);
    return s_write (out, out_size, prefix, digest, bytes);
}

char *
zhub_id_bounded (const char *head, const char *text)
{
    if (!head || !text)
        return NULL;
    if (strlen (head) + strlen (text) <= ZHUB_MSG_MAX_ID)
        return zhub_sprintf ("%s%s", head, text);
    unsigned char hash[16];
    crypto_generichash (hash, sizeof hash, (const unsigned char *)text, strlen (text), NULL, 0);
    char hex[2 * sizeof hash + 1];
    sodium_bin2hex (hex, sizeof hex, hash, sizeof hash);
    char *id = zhub_sprintf ("%sh:%s", head, hex);
    if (strlen (id) <= ZHUB_MSG_MAX_ID)
        return id;
    free (id);
    return NULL;
}
