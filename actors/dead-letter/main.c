//  zhub-dead-letter: keeps every dead letter (`dlq.<group>`) with its
//  failure history, applies the operator's replay, edit and purge
//  commands that `zhub dlq` publishes on the bus (docs/adr/0004), and
//  forgets a person on `contact.forget` (GDPR erase). main
//  reads the configuration once, wires the handlers into the shared actor
//  runtime, starts the /metrics listener and the alert sender, and runs
//  until SIGTERM/SIGINT.
#include "dead_letter_io.h"
#include "zhub_actor.h"
#include "zhub_log.h"

#include <stdio.h>
#include <string.h>

int
main (void)
{
    zhub_log_init (DEAD_LETTER_GROUP);
    zhub_actor_config_t config;
    dead_letter_actor_t state;
    memset (&state, 0, sizeof state);
    char err[256], quoted[300];
    if (zhub_actor_config_load (&config, DEAD_LETTER_GROUP, err, sizeof err)
        || dead_letter_config_load (&state, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_config_log (&config);
    dead_letter_config_log (&state);

    static const zhub_actor_route_t routes[] = {
        {"dlq.>", dead_letter_handle_dlq},
        {DEAD_LETTER_CMD_REPLAY, dead_letter_handle_replay},
        {DEAD_LETTER_CMD_EDIT, dead_letter_handle_edit},
        {DEAD_LETTER_CMD_PURGE, dead_letter_handle_purge},
        {"contact.forget", dead_letter_handle_forget},
    };
    zhub_actor_spec_t spec = {.routes = routes,
                              .route_count = sizeof routes / sizeof routes[0],
                              .schema_version = 1,
                              .open = dead_letter_open,
                              .close = dead_letter_close,
                              .state = &state};
    zhub_actor_t *actor = zhub_actor_new (&config, &spec, err, sizeof err);
    if (!actor || dead_letter_services_start (&state, err, sizeof err)) {
        zhub_error ("start_failed", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        dead_letter_services_stop (&state);
        zhub_actor_destroy (&actor);
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_handle_signals ();
    int rc = zhub_actor_run (actor);
    dead_letter_services_stop (&state);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
    pthread_mutex_destroy (&state.lock);
    return rc ? 1 : 0;
}
