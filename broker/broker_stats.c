//  STATS figures. Topic counts come from the store (they are kept in the
//  same transaction as the appends), group figures from memory. Lag is
//  what a group still has to work through: its pending window plus the log
//  it has not examined yet.
#include "broker_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAX_TOPICS 10000

typedef struct {
    const broker_stats_input_t *input;
    msgpack_packer *pk;
    uint64_t count; //  log entries
    size_t topic_count;
    msgpack_sbuffer topics, topic_bytes;
    msgpack_packer topics_pk, topic_bytes_pk;
    uint64_t log_bytes;
} s_ctx_t;

static void
s_kv_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    zhub_mpack_pack_str (pk, key);
    msgpack_pack_uint64 (pk, value);
}

static void
s_topic (const char *topic, size_t topic_size, uint64_t count, uint64_t bytes, void *arg)
{
    s_ctx_t *ctx = arg;
    msgpack_pack_str (&ctx->topics_pk, topic_size);
    msgpack_pack_str_body (&ctx->topics_pk, topic, topic_size);
    msgpack_pack_uint64 (&ctx->topics_pk, count);
    msgpack_pack_str (&ctx->topic_bytes_pk, topic_size);
    msgpack_pack_str_body (&ctx->topic_bytes_pk, topic, topic_size);
    msgpack_pack_uint64 (&ctx->topic_bytes_pk, bytes);
    ctx->log_bytes += bytes;
    ctx->topic_count++;
}

static zhub_rc_t
s_read (zhub_txn_t *txn, void *arg)
{
    s_ctx_t *ctx = arg;
    ctx->count = zhub_txn_count (txn, ctx->input->log->log);
    broker_log_topics (ctx->input->log, txn, S_MAX_TOPICS, s_topic, ctx);
    return ZHUB_OK;
}

static void
s_pack_group (s_ctx_t *ctx, const broker_group_t *group)
{
    msgpack_packer *pk = ctx->pk;
    const broker_log_t *log = ctx->input->log;
    uint64_t unscanned = log->last + 1 > group->scan ? log->last + 1 - group->scan : 0;
    zhub_mpack_pack_str (pk, group->name);
    msgpack_pack_map (pk, 17);
    zhub_mpack_pack_str (pk, "patterns");
    msgpack_pack_array (pk, group->settings.pattern_count);
    for (size_t i = 0; i < group->settings.pattern_count; i++)
        zhub_mpack_pack_str (pk, group->settings.patterns[i]);
    zhub_mpack_pack_str (pk, "members");
    msgpack_pack_array (pk, group->member_count);
    for (size_t i = 0; i < group->member_count; i++) {
        const broker_member_t *member = group->members[i];
        msgpack_pack_map (pk, 3);
        zhub_mpack_pack_kv_str (pk, "name", ctx->input->client_label (member->client));
        s_kv_uint (pk, "credit", member->credit);
        s_kv_uint (pk, "in_flight", member->inflight);
    }
    s_kv_uint (pk, "lag", group->count + unscanned);
    s_kv_uint (pk, "pending", group->count);
    s_kv_uint (pk, "unscanned", unscanned);
    s_kv_uint (pk, "in_flight", group->inflight);
    s_kv_uint (pk, "waiting_retry", group->waiting);
    s_kv_uint (pk, "floor", group->floor);
    s_kv_uint (pk, "scan", group->scan);
    s_kv_uint (pk, "delivered", group->delivered);
    s_kv_uint (pk, "redeliveries", group->redelivered);
    s_kv_uint (pk, "acked", group->acked);
    s_kv_uint (pk, "dead_letters", group->dead_letters);
    s_kv_uint (pk, "max_deliveries", group->settings.max_deliveries);
    s_kv_uint (pk, "max_in_flight", group->settings.max_in_flight);
    zhub_mpack_pack_str (pk, "ack_deadline_ms");
    msgpack_pack_int64 (pk, group->settings.ack_deadline_ms);
    zhub_mpack_pack_str (pk, "backoff_ms");
    msgpack_pack_array (pk, group->settings.backoff_count);
    for (size_t i = 0; i < group->settings.backoff_count; i++)
        msgpack_pack_int64 (pk, group->settings.backoff_ms[i]);
}

uint64_t
broker_stats_rss (void)
{
    FILE *file = fopen ("/proc/self/statm", "r");
    if (!file)
        return 0;
    unsigned long long size = 0, resident = 0;
    int n = fscanf (file, "%llu %llu", &size, &resident);
    fclose (file);
    long page = sysconf (_SC_PAGESIZE);
    return n == 2 && page > 0 ? resident * (uint64_t)page : 0;
}

int
broker_stats_build (const broker_stats_input_t *input, uint8_t **buf, size_t *size)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    s_ctx_t ctx = {.input = input, .pk = &pk};
    msgpack_sbuffer_init (&ctx.topics);
    msgpack_packer_init (&ctx.topics_pk, &ctx.topics, msgpack_sbuffer_write);
    msgpack_sbuffer_init (&ctx.topic_bytes);
    msgpack_packer_init (&ctx.topic_bytes_pk, &ctx.topic_bytes, msgpack_sbuffer_write);
    if (zhub_store_read (input->store, s_read, &ctx) != ZHUB_OK) {
        msgpack_sbuffer_destroy (&ctx.topics);
        msgpack_sbuffer_destroy (&ctx.topic_bytes);
        msgpack_sbuffer_destroy (&sbuf);
        return -1;
    }
    zhub_store_stats_t store_stats;
    zhub_store_stats (input->store, &store_stats);

    msgpack_pack_map (&pk, 9);
    zhub_mpack_pack_str (&pk, "log");
    msgpack_pack_map (&pk, 5);
    s_kv_uint (&pk, "size", ctx.count);
    s_kv_uint (&pk, "first", input->log->first);
    s_kv_uint (&pk, "last", input->log->last);
    s_kv_uint (&pk, "bytes", ctx.log_bytes);
    s_kv_uint (&pk, "trimmed", input->trimmed);

    zhub_mpack_pack_str (&pk, "topics");
    msgpack_pack_map (&pk, ctx.topic_count);
    msgpack_sbuffer_write (&sbuf, ctx.topics.data, ctx.topics.size);
    msgpack_sbuffer_destroy (&ctx.topics);

    zhub_mpack_pack_str (&pk, "topic_bytes");
    msgpack_pack_map (&pk, ctx.topic_count);
    msgpack_sbuffer_write (&sbuf, ctx.topic_bytes.data, ctx.topic_bytes.size);
    msgpack_sbuffer_destroy (&ctx.topic_bytes);

    zhub_mpack_pack_str (&pk, "retention");
    msgpack_pack_map (&pk, 2);
    zhub_mpack_pack_str (&pk, "max_age_ms");
    msgpack_pack_int64 (&pk, input->retention_ms);
    s_kv_uint (&pk, "max_bytes", input->retention_bytes);

    zhub_mpack_pack_str (&pk, "tap");
    msgpack_pack_map (&pk, 3);
    zhub_mpack_pack_str (&pk, "endpoint");
    if (input->tap)
        zhub_mpack_pack_str (&pk, input->tap);
    else
        msgpack_pack_nil (&pk);
    s_kv_uint (&pk, "subscriptions", input->tap_subscriptions);
    s_kv_uint (&pk, "sent", input->tapped);

    zhub_mpack_pack_str (&pk, "groups");
    msgpack_pack_map (&pk, input->groups->count);
    for (size_t i = 0; i < input->groups->count; i++)
        s_pack_group (&ctx, input->groups->list[i]);

    zhub_mpack_pack_str (&pk, "store");
    msgpack_pack_map (&pk, 3);
    s_kv_uint (&pk, "map_bytes", store_stats.map_size);
    s_kv_uint (&pk, "used_bytes", store_stats.used_bytes);
    s_kv_uint (&pk, "readers", store_stats.readers);

    zhub_mpack_pack_str (&pk, "broker");
    msgpack_pack_map (&pk, 8);
    s_kv_uint (&pk, "uptime_ms", (uint64_t)input->uptime_ms);
    s_kv_uint (&pk, "rss_bytes", broker_stats_rss ());
    s_kv_uint (&pk, "clients", input->clients);
    s_kv_uint (&pk, "published", input->published);
    s_kv_uint (&pk, "duplicates", input->duplicates);
    s_kv_uint (&pk, "rejected", input->rejected);
    s_kv_uint (&pk, "delayed", input->held);
    s_kv_uint (&pk, "next_release_ms", (uint64_t)input->next_release_ms);

    zhub_mpack_pack_str (&pk, "version");
    msgpack_pack_uint32 (&pk, ZHUB_PROTO_VERSION);
    *buf = (uint8_t *)sbuf.data;
    *size = sbuf.size;
    return 0;
}
