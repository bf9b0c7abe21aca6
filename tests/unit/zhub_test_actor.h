//  Test fixture for the actors' store tests that need a whole actor (its
//  store, tables and outbox) but no bus: for the tests of code that links
//  the actor runtime.
#ifndef ZHUB_TEST_ACTOR_H
#define ZHUB_TEST_ACTOR_H

#include "zhub_actor.h"

#include <stdio.h>
#include <stdlib.h>

//  An actor of group over spec, its store in a new folder made from dir (a
//  mkdtemp template, rewritten in place), its configuration read from the
//  environment as the process would, with a broker nobody listens on (zmq
//  connects lazily; nothing is published). Destroy the actor, then clear
//  config. NULL, with the reason printed, when it cannot (config is then
//  cleared already).
static inline zhub_actor_t *
zhub_test_actor_new (char *dir, const char *group, const zhub_actor_spec_t *spec,
                     zhub_actor_config_t *config)
{
    if (!mkdtemp (dir)) {
        perror ("mkdtemp");
        return NULL;
    }
    setenv ("ZHUB_DATA_DIR", dir, 1);
    setenv ("ZHUB_BROKER", "tcp://127.0.0.1:9", 1);
    setenv ("ZHUB_BUS_SECURITY", "plain", 1);
    char err[256];
    if (zhub_actor_config_load (config, group, err, sizeof err)) {
        fprintf (stderr, "  actor config: %s\n", err);
        return NULL;
    }
    zhub_actor_t *actor = zhub_actor_new (config, spec, err, sizeof err);
    if (!actor) {
        fprintf (stderr, "  zhub_actor_new: %s\n", err);
        zhub_actor_config_clear (config);
    }
    return actor;
}

//  Calls a route's handler on msg as the runtime does: with the event
//  decoded once (data as JSON), first attempt.
static inline void
zhub_test_handle (zhub_actor_handler_fn *handler, zhub_actor_ctx_t *ctx, const zhub_msg_t *msg,
                  zhub_outcome_t *out)
{
    json_t *data = zhub_msg_data_json (msg);
    zhub_actor_event_t event = {.msg = msg, .data = data, .attempt = 1};
    handler (ctx, &event, out);
    json_decref (data);
}

#endif
