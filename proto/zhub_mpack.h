//  Safe msgpack decoding. msgpack-c's unpacker allocates for the element
//  counts a header declares before the bytes arrive, so a 5-byte header can
//  ask for gigabytes. Every msgpack input from outside the process goes
//  through zhub_mpack_decode, which first walks the bytes and checks them
//  against limits, and only then lets msgpack-c build the object tree.
#ifndef ZHUB_MPACK_H
#define ZHUB_MPACK_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t max_size;   //  total bytes accepted
    size_t max_depth;  //  nesting of arrays and maps
    size_t max_items;  //  scalars + containers, counted over the whole object
} zhub_mpack_limits_t;

//  The deepest msgpack that can be decoded at all: msgpack-c's unpacker
//  keeps a fixed stack of MSGPACK_EMBED_STACK_SIZE (32) open arrays and
//  maps and fails on the 33rd. zhub_mpack_decode holds every limit to it.
#define ZHUB_MPACK_MAX_DEPTH 32

//  1 MiB, depth 32, 100,000 items: more than any webhook we accept.
//  Envelopes have their own named limits (zhub_msg.h).
extern const zhub_mpack_limits_t zhub_mpack_default_limits;

//  Checks that buf holds exactly one well-formed msgpack object within
//  limits: every declared length and count fits in the bytes actually
//  present, no reserved byte (0xc1), no trailing bytes. Pure, allocates
//  nothing. Returns 0, or -1 with a reason in err (may be NULL).
int zhub_mpack_check (const uint8_t *buf, size_t size, const zhub_mpack_limits_t *limits,
                      char *err, size_t err_size);

//  Checks, then unpacks into *result (call msgpack_unpacked_destroy after).
//  Nesting deeper than ZHUB_MPACK_MAX_DEPTH is refused whatever limits
//  says. Returns 0, or -1 with a reason in err and *result left empty.
int zhub_mpack_decode (const uint8_t *buf, size_t size, const zhub_mpack_limits_t *limits,
                       msgpack_unpacked *result, char *err, size_t err_size);

//  The value under a string key in a map object, or NULL when obj is not a
//  map or the key is absent.
const msgpack_object *zhub_mpack_get (const msgpack_object *obj, const char *key);

//  A fresh NUL-terminated copy of a str object, or NULL when obj is NULL or
//  not a str or holds a NUL byte.
char *zhub_mpack_strdup (const msgpack_object *obj);

//  True when obj is a str equal to text.
bool zhub_mpack_str_eq (const msgpack_object *obj, const char *text);

//  Reads an integer (positive or negative) into *out. Returns 0, or -1 when
//  obj is NULL, not an integer, or a uint64 above INT64_MAX.
int zhub_mpack_int (const msgpack_object *obj, int64_t *out);

//  Reads an unsigned integer into *out. Returns 0, or -1 otherwise.
int zhub_mpack_uint (const msgpack_object *obj, uint64_t *out);

//  Packs a NUL-terminated string (or nil for NULL).
void zhub_mpack_pack_str (msgpack_packer *pk, const char *text);

//  Packs a key and string value pair into a map being built.
void zhub_mpack_pack_kv_str (msgpack_packer *pk, const char *key, const char *value);

#endif
