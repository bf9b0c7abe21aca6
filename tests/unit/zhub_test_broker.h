//  Test fixture: a real broker loop running in a thread of the test's
//  process, on a loopback port (for the tests of the C client and of the
//  actor runtime's publishing), and the removal of a test's folder.
#ifndef ZHUB_TEST_BROKER_H
#define ZHUB_TEST_BROKER_H

#include "broker_server.h"
#include "zhub_common.h"

#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    broker_server_t *server;
    pthread_t thread;
    volatile sig_atomic_t stop;
} zhub_test_broker_t;

static inline void *
zhub_test_broker_run (void *arg)
{
    zhub_test_broker_t *broker = (zhub_test_broker_t *)arg;
    broker_server_run (broker->server, &broker->stop);
    return NULL;
}

//  Starts a broker on config (its endpoint and data_dir set by the test;
//  the tap is given an ephemeral port of its own, so that parallel runs
//  never collide). NULL, with the reason printed, when it cannot.
static inline zhub_test_broker_t *
zhub_test_broker_start (broker_config_t *config)
{
    snprintf (config->tap, sizeof config->tap, "tcp://127.0.0.1:*");
    char err[256];
    zhub_test_broker_t *broker = (zhub_test_broker_t *)zhub_calloc (1, sizeof *broker);
    broker->server = broker_server_new (config, err, sizeof err);
    if (!broker->server) {
        fprintf (stderr, "  broker: %s\n", err);
        free (broker);
        return NULL;
    }
    pthread_create (&broker->thread, NULL, zhub_test_broker_run, broker);
    return broker;
}

//  Stops the loop, waits for its thread and frees it; NULL-safe; nulls
//  *broker_p.
static inline void
zhub_test_broker_stop (zhub_test_broker_t **broker_p)
{
    zhub_test_broker_t *broker = *broker_p;
    if (!broker)
        return;
    broker->stop = 1;
    pthread_join (broker->thread, NULL);
    broker_server_destroy (&broker->server);
    free (broker);
    *broker_p = NULL;
}

static inline int
zhub_test_rm_one (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove (path);
}

//  Removes the folder dir and all it holds.
static inline void
zhub_test_rm_tree (const char *dir)
{
    nftw (dir, zhub_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
