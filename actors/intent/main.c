//  zhub-intent, the intent router: each inbound conversation.message is
//  classified (rules per language, an optional AI classifier over them)
//  and intent.detected and the workflow event it calls for are published
//  (intent.h). main reads the configuration once, wires one handler per
//  route into the shared actor runtime and runs until SIGTERM/SIGINT.
#include "intent_io.h"
#include "zhub_log.h"

#include <string.h>

int
main (void)
{
    zhub_log_init (INTENT_GROUP);
    zhub_actor_config_t config;
    intent_actor_t state;
    memset (&state, 0, sizeof state);
    char err[256], quoted[300];
    if (zhub_actor_config_load (&config, INTENT_GROUP, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        return 1;
    }
    if (intent_actor_config_load (&state, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        intent_config_clear (&state.config);
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_config_log (&config);
    intent_actor_config_log (&state);

    static const zhub_actor_route_t routes[] = {
        {"conversation.message", intent_handle_message},
        {"intent.workflow.due", intent_handle_due},
        {"tour.requested", intent_handle_workflow},
        {"escalation.triggered", intent_handle_workflow},
        {"contact.opted_out", intent_handle_workflow},
        {"contact.forget", intent_handle_forget},
    };
    zhub_actor_spec_t spec = {.routes = routes,
                              .route_count = sizeof routes / sizeof routes[0],
                              .schema_version = 1,
                              .open = intent_open,
                              .close = intent_close,
                              .tick = intent_tick,
                              .state = &state};
    zhub_actor_t *actor = zhub_actor_new (&config, &spec, err, sizeof err);
    if (!actor) {
        zhub_error ("start_failed", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        intent_config_clear (&state.config);
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_handle_signals ();
    int rc = zhub_actor_run (actor);
    zhub_actor_destroy (&actor);
    intent_config_clear (&state.config);
    zhub_actor_config_clear (&config);
    return rc ? 1 : 0;
}
