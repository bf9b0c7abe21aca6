//  JSON <-> msgpack, faithfully. Webhook bodies are converted straight from
//  their text (not through jansson) so that integers keep every digit up to
//  the full uint64 range, strings keep their exact UTF-8 (escapes decoded,
//  surrogate pairs joined), and key order is preserved.
#ifndef ZHUB_JSON_H
#define ZHUB_JSON_H

#include "zhub_mpack.h"

#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>

//  max_depth: nesting of arrays and objects; 0 means ZHUB_MPACK_MAX_DEPTH,
//  as deeper msgpack could not be decoded. JSON that becomes an envelope's
//  data takes ZHUB_MSG_DATA_MAX_DEPTH (zhub_msg.h).
typedef struct {
    size_t max_depth;
} zhub_json_limits_t;

//  Converts one JSON text (RFC 8259; surrounding whitespace allowed) into
//  msgpack appended to pk. Integers that fit int64/uint64 become msgpack
//  integers; larger integers and numbers with a fraction or exponent
//  become float64. Rejects invalid UTF-8, lone surrogates, control
//  characters in strings, trailing garbage. Returns 0, or -1 with a reason
//  (and the byte offset) in err. On failure pk may hold a partial value.
int zhub_json_text_to_mpack (const char *text, size_t size, msgpack_packer *pk,
                             const zhub_json_limits_t *limits, char *err, size_t err_size);

//  Packs a jansson value (objects, arrays, strings, integers, reals,
//  booleans, null) into pk.
void zhub_json_pack (msgpack_packer *pk, const json_t *json);

//  Converts a msgpack object to a new jansson value. uint64 above INT64_MAX
//  becomes a real; bin becomes a base64 string; ext becomes null.
//  Returns NULL only on out-of-memory.
json_t *zhub_json_from_mpack (const msgpack_object *obj);

#endif
