//  The STATS_REPLY figures: one msgpack map built from the broker's state,
//  described in PROTOCOL.md ("STATS"). Read-only over its inputs.
#ifndef BROKER_STATS_H
#define BROKER_STATS_H

#include "broker_group.h"
#include "broker_log.h"

typedef struct {
    broker_log_t *log;
    broker_groups_t *groups;
    zhub_store_t *store;
    size_t clients; //  peers currently known
    int64_t uptime_ms;
    uint64_t published, duplicates, rejected; //  since start
    //  A printable name for a member's client handle.
    const char *(*client_label) (void *client);
} broker_stats_input_t;

//  Builds the map into a fresh buffer (caller frees). Returns 0 or -1 when
//  the store could not be read.
int broker_stats_build (const broker_stats_input_t *input, uint8_t **buf, size_t *size);

#endif
