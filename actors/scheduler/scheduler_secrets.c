//  Secrets at rest: calendar tokens are sealed with a key from the
//  environment (libsodium secretbox, a random nonce in front) before they
//  reach LMDB, so a copied store does not leak them.
#include "scheduler.h"
#include "zhub_env.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int
sched_key_parse (const char *text, uint8_t key[SCHED_KEY_BYTES])
{
    if (sodium_init () < 0 || !text || strlen (text) != 2 * SCHED_KEY_BYTES)
        return -1;
    size_t len = 0;
    if (sodium_hex2bin (key, SCHED_KEY_BYTES, text, strlen (text), NULL, &len, NULL)
        || len != SCHED_KEY_BYTES)
        return -1;
    return 0;
}

void
sched_seal (const uint8_t key[SCHED_KEY_BYTES], const char *text, uint8_t **out, size_t *out_size)
{
    size_t n = strlen (text);
    *out_size = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    *out = zhub_malloc (*out_size);
    randombytes_buf (*out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy (*out + crypto_secretbox_NONCEBYTES, (const unsigned char *)text, n, *out,
                           key);
}

char *
sched_unseal (const uint8_t key[SCHED_KEY_BYTES], const uint8_t *box, size_t size)
{
    if (size < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return NULL;
    size_t n = size - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *text = zhub_malloc (n + 1);
    if (crypto_secretbox_open_easy ((unsigned char *)text, box + crypto_secretbox_NONCEBYTES,
                                    size - crypto_secretbox_NONCEBYTES, box, key)) {
        free (text);
        return NULL;
    }
    text[n] = 0;
    return text;
}
