//  Bus keys: who may talk to the broker, and what each key may do
//  (PROTOCOL.md section 16, docs/adr/0009-curve-keys-and-broadcast-delivery.md).
//
//  A key is a CURVE key pair in czmq's certificate format (zcert). The
//  client keeps the secret file; the broker's allow-list is a directory of
//  public files, one per key, whose metadata says what the key may do:
//
//      metadata
//          name = "gateway"
//          publish = "webhook.>"          patterns (PROTOCOL.md 4.3), comma-separated
//          consume = ""                   patterns a JOIN or a tap subscription may use
//          admin = "false"                GROUP_SET, GROUP_RESET, STATS, admin topics
//      curve
//          public-key = "<40 chars of Z85>"
//
//  The permission checks are pure (no I/O) so the broker calls them on
//  every frame and unit tests call them directly; reading and writing the
//  files is czmq's zcert.
#ifndef ZHUB_KEYS_H
#define ZHUB_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZHUB_KEY_Z85_SIZE 41        //  a 32-byte key in Z85, with the NUL
#define ZHUB_KEY_NAME_MAX 64        //  [A-Za-z0-9_-], so it can name a file
#define ZHUB_KEY_MAX_PATTERNS 32    //  per list (publish, consume)
#define ZHUB_KEY_PATTERNS_TEXT 1000 //  bytes per list: zconfig reads lines of at most 1 KiB

//  The topics only an admin key may publish (on top of its publish
//  patterns): the operator's requests that erase people or change dead
//  letters. The one list; PROTOCOL.md 16.3 says the same.
#define ZHUB_ADMIN_TOPICS "contact.erase,dead-letter.command.>"

typedef struct {
    char name[ZHUB_KEY_NAME_MAX + 1];
    char public_key[ZHUB_KEY_Z85_SIZE];
    char *publish[ZHUB_KEY_MAX_PATTERNS]; //  owned
    size_t publish_count;
    char *consume[ZHUB_KEY_MAX_PATTERNS]; //  owned
    size_t consume_count;
    bool admin;
} zhub_key_t;

//  Frees the patterns; the struct can be reused. NULL-safe.
void zhub_key_clear (zhub_key_t *key);

//  -------------------------------------------------------------------
//  Permissions (pure)

//  True when every topic that pattern matches is also matched by outer
//  (both valid patterns, PROTOCOL.md 4.3): "contact.*" is within
//  "contact.>", "contact.>" is not within "contact.*".
bool zhub_pattern_within (const char *pattern, const char *outer);

//  True when topic is one of ZHUB_ADMIN_TOPICS.
bool zhub_topic_is_admin (const char *topic);

//  May the key publish topic? One of its publish patterns matches, and an
//  admin topic also needs the admin flag.
bool zhub_key_may_publish (const zhub_key_t *key, const char *topic);

//  May the key subscribe with pattern (JOIN)? It must lie within one of
//  its consume patterns, so the group can never hand it anything else.
bool zhub_key_may_consume (const zhub_key_t *key, const char *pattern);

//  May the key hold this tap subscription (a ZeroMQ prefix, not
//  NUL-terminated)? Only when every topic starting with it lies within one
//  of its consume patterns: "contact." for a key with "contact.>", never ""
//  unless it has ">". A prefix subscription is all the tap's XPUB can
//  filter by, so a wider one would leak.
bool zhub_key_may_tap (const zhub_key_t *key, const uint8_t *prefix, size_t size);

//  Parses a comma-separated list of patterns ("webhook.>, contact.*"; ""
//  is none) into out (strings owned by the caller). Returns the count, or
//  -1 when a pattern is invalid or there are more than max.
int zhub_key_parse_patterns (const char *text, char **out, size_t max);

//  True for a key name: 1..ZHUB_KEY_NAME_MAX of [A-Za-z0-9_-].
bool zhub_key_name_valid (const char *name);

//  True for 40 characters of Z85 that decode to a key.
bool zhub_key_z85_valid (const char *text);

//  -------------------------------------------------------------------
//  Key files (czmq's zcert format)

//  Reads a public certificate of the allow-list with its permissions.
//  Returns 0, or -1 with the reason in err (missing or malformed key,
//  name or patterns). key is cleared first.
int zhub_key_load (const char *path, zhub_key_t *key, char *err, size_t err_size);

//  Reads a secret certificate (the file a client or the broker keeps):
//  public and secret key in Z85. Returns 0, or -1 with the reason in err
//  (no such file, not a secret certificate).
int zhub_key_load_secret (const char *path, char *public_key, char *secret_key, char *err,
                          size_t err_size);

//  Reads a public key: 40 characters of Z85 as they are, or the path of a
//  certificate file (public or secret) holding it. Returns 0 or -1.
int zhub_key_read_public (const char *text, char *public_key, char *err, size_t err_size);

//  Makes a new key pair and writes the secret certificate to secret_path
//  (mode 0600) and, when public_path is not NULL, the public one with the
//  permissions to public_path. permissions may be NULL (a server key: no
//  metadata). Refuses to overwrite either file. Returns 0 with the public
//  key in public_key, or -1 with the reason in err.
int zhub_key_create (const zhub_key_t *permissions, const char *secret_path,
                     const char *public_path, char *public_key, char *err, size_t err_size);

#endif
