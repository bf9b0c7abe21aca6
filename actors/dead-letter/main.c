//  zhub-dead-letter: keeps every dead letter (`dlq.<group>`) with its
//  failure history, applies the operator's replay, edit and purge
//  commands that `zhub dlq` publishes on the bus (docs/adr/0004), and
//  forgets a person on `contact.forget` (GDPR erase). main
//  reads the configuration once, wires the handlers into the shared actor
//  runtime (whose admin listener serves its figures), starts the alert
//  sender, and runs until SIGTERM/SIGINT.
#include "dead_letter_io.h"
#include "zhub_actor.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  ZHUB_DEAD_LETTER_METRICS_LISTEN was this actor's own /metrics listener
//  before the runtime's admin listener served every actor's figures. It
//  stays a deprecated alias of ZHUB_ACTOR_ADMIN_LISTEN (said in the log)
//  so that a deployment that set it keeps its scrape target; both set to
//  different addresses is refused.
static int
s_deprecated_listen (char *err, size_t err_size)
{
    const char *old = zhub_env_str ("ZHUB_DEAD_LETTER_METRICS_LISTEN", "");
    if (!*old)
        return 0;
    const char *admin = zhub_env_str ("ZHUB_ACTOR_ADMIN_LISTEN", "");
    if (*admin && strcmp (admin, old)) {
        snprintf (err, err_size,
                  "ZHUB_DEAD_LETTER_METRICS_LISTEN (deprecated) and ZHUB_ACTOR_ADMIN_LISTEN "
                  "differ: set only ZHUB_ACTOR_ADMIN_LISTEN");
        return -1;
    }
    zhub_warn ("config_deprecated",
               "variable=ZHUB_DEAD_LETTER_METRICS_LISTEN use=ZHUB_ACTOR_ADMIN_LISTEN");
    if (setenv ("ZHUB_ACTOR_ADMIN_LISTEN", old, 1)) {
        snprintf (err, err_size, "cannot set ZHUB_ACTOR_ADMIN_LISTEN");
        return -1;
    }
    return 0;
}

int
main (void)
{
    zhub_log_init (DEAD_LETTER_GROUP);
    zhub_actor_config_t config;
    dead_letter_actor_t state;
    memset (&state, 0, sizeof state);
    char err[256], quoted[300];
    memset (&config, 0, sizeof config);
    if (s_deprecated_listen (err, sizeof err)
        || zhub_actor_config_load (&config, DEAD_LETTER_GROUP, err, sizeof err)
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
