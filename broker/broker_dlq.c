//  Dead letters carry the original envelope as a map (its stored bytes are
//  spliced in, not re-encoded, so the original is exactly what was
//  published) next to the group's failure history.
#include "broker_dlq.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

char *
broker_dlq_id (const char *group, const char *original_id)
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
broker_dlq_build (const char *group, const uint8_t *envelope, size_t envelope_size, uint64_t offset,
                  const broker_attempt_t *attempts, size_t count, uint32_t reason_code,
                  const char *cause, int64_t now_ms)
{
    zhub_mpack_limits_t limits = {.max_size = envelope_size, .max_depth = 64, .max_items = 1000000};
    zhub_msg_t *original = zhub_msg_decode (envelope, envelope_size, &limits, NULL, 0);
    if (!original)
        return NULL;
    zhub_msg_t *dead = zhub_msg_new ();
    char *id = broker_dlq_id (group, original->id);
    zhub_msg_set (&dead->id, id);
    free (id);
    char *topic = zhub_sprintf ("dlq.%s", group);
    zhub_msg_set (&dead->type, topic);
    free (topic);
    zhub_msg_set (&dead->source, "zhub/broker");
    zhub_msg_set (&dead->subject, original->subject);
    zhub_msg_set (&dead->traceparent, original->traceparent);
    dead->time_ms = now_ms;

    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 6);
    zhub_mpack_pack_kv_str (&pk, "group", group);
    zhub_mpack_pack_str (&pk, "offset");
    msgpack_pack_uint64 (&pk, offset);
    zhub_mpack_pack_kv_str (&pk, "cause", cause);
    zhub_mpack_pack_str (&pk, "reason_code");
    msgpack_pack_uint32 (&pk, reason_code);
    zhub_mpack_pack_str (&pk, "attempts");
    msgpack_pack_array (&pk, count);
    for (size_t i = 0; i < count; i++) {
        char time[40];
        zhub_time_format (attempts[i].time_ms, time, sizeof time);
        msgpack_pack_map (&pk, 3);
        zhub_mpack_pack_kv_str (&pk, "time", time);
        zhub_mpack_pack_str (&pk, "code");
        msgpack_pack_uint32 (&pk, attempts[i].code);
        zhub_mpack_pack_kv_str (&pk, "reason", attempts[i].reason ? attempts[i].reason : "");
    }
    zhub_mpack_pack_str (&pk, "message");
    msgpack_sbuffer_write (&sbuf, (const char *)envelope, envelope_size);
    dead->data = zhub_realloc (dead->data, sbuf.size);
    memcpy (dead->data, sbuf.data, sbuf.size);
    dead->data_size = sbuf.size;
    msgpack_sbuffer_destroy (&sbuf);
    zhub_msg_destroy (&original);
    return dead;
}
