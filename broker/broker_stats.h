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
    uint64_t held;                            //  delayed messages held now
    int64_t next_release_ms;                  //  the earliest held one's deliverat (0: none)
    uint64_t trimmed;                         //  log records removed by retention, since start
    const char *tap;                          //  tap endpoint, NULL when off
    uint64_t tap_subscriptions, tapped;       //  active subscriptions; messages sent, since start
    int64_t retention_ms;                     //  the default retention (age; 0 = forever)
    uint64_t retention_bytes;                 //  the default size limit per topic (0 = none)
    //  A printable name for a member's client handle.
    const char *(*client_label) (void *client);
} broker_stats_input_t;

//  Resident memory of this process in bytes (0 when unknown).
uint64_t broker_stats_rss (void);

//  Builds the map into a fresh buffer (caller frees). Returns 0 or -1 when
//  the store could not be read.
int broker_stats_build (const broker_stats_input_t *input, uint8_t **buf, size_t *size);

#endif
