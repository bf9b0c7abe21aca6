//  Dead letters carry the original envelope as a map (its bytes are
//  spliced in, not re-encoded, so the original is exactly what was
//  published) next to the failure history. Written once for the broker and
//  for the actors that dead-letter what they had already acked.
#include "zhub_dlq.h"
#include "zhub_mpack.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

char *
zhub_dlq_id (const char *group, const char *original_id)
{
    char *id = zhub_sprintf ("dlq:%s:%s", group, original_id);
    if (strlen (id) <= ZHUB_MSG_MAX_ID)
        return id;
    free (id);
    uint8_t hash[16];
    crypto_generichash (hash, sizeof hash, (const uint8_t *)original_id, strlen (original_id), NULL,
                        0);
    char hex[33];
    sodium_bin2hex (hex, sizeof hex, hash, sizeof hash);
    return zhub_sprintf ("dlq:%s:h:%s", group, hex);
}

zhub_msg_t *
zhub_dlq_build (const zhub_dlq_spec_t *spec)
{
    zhub_mpack_limits_t limits = {
        .max_size = spec->envelope_size, .max_depth = 64, .max_items = 1000000};
    zhub_msg_t *original = zhub_msg_decode (spec->envelope, spec->envelope_size, &limits, NULL, 0);
    if (!original)
        return NULL;
    zhub_msg_t *dead = zhub_msg_new ();
    char *id = zhub_dlq_id (spec->group, original->id);
    zhub_msg_set (&dead->id, id);
    free (id);
    char *topic = zhub_sprintf ("dlq.%s", spec->group);
    zhub_msg_set (&dead->type, topic);
    free (topic);
    zhub_msg_set (&dead->source, spec->source);
    zhub_msg_set (&dead->subject, original->subject);
    zhub_msg_set (&dead->traceparent, original->traceparent);
    dead->time_ms = spec->now_ms;

    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, spec->has_offset ? 6 : 5);
    zhub_mpack_pack_kv_str (&pk, "group", spec->group);
    if (spec->has_offset) {
        zhub_mpack_pack_str (&pk, "offset");
        msgpack_pack_uint64 (&pk, spec->offset);
    }
    zhub_mpack_pack_kv_str (&pk, "cause", spec->cause);
    zhub_mpack_pack_str (&pk, "reason_code");
    msgpack_pack_uint32 (&pk, spec->reason_code);
    zhub_mpack_pack_str (&pk, "attempts");
    msgpack_pack_array (&pk, spec->attempt_count);
    for (size_t i = 0; i < spec->attempt_count; i++) {
        const zhub_dlq_attempt_t *attempt = &spec->attempts[i];
        char time[40];
        zhub_time_format (attempt->time_ms, time, sizeof time);
        msgpack_pack_map (&pk, 3);
        zhub_mpack_pack_kv_str (&pk, "time", time);
        zhub_mpack_pack_str (&pk, "code");
        msgpack_pack_uint32 (&pk, attempt->code);
        zhub_mpack_pack_kv_str (&pk, "reason", attempt->reason ? attempt->reason : "");
    }
    zhub_mpack_pack_str (&pk, "message");
    msgpack_sbuffer_write (&sbuf, (const char *)spec->envelope, spec->envelope_size);
    dead->data = zhub_realloc (dead->data, sbuf.size);
    memcpy (dead->data, sbuf.data, sbuf.size);
    dead->data_size = sbuf.size;
    msgpack_sbuffer_destroy (&sbuf);
    zhub_msg_destroy (&original);
    return dead;
}
