//  zhub-conversation, the conversation bridge: Bird's channel and
//  conversations webhooks, and WhatsApp Cloud's messages, become
//  conversation.started, conversation.message and conversation.ended
//  (conversation.h). main reads the configuration once, wires one handler
//  per route into the shared actor runtime and runs until SIGTERM/SIGINT.
#include "conversation_io.h"
#include "zhub_log.h"

#include <string.h>

int
main (void)
{
    zhub_log_init (CONVERSATION_GROUP);
    zhub_actor_config_t config;
    conversation_actor_t state;
    memset (&state, 0, sizeof state);
    char err[256], quoted[300];
    if (zhub_actor_config_load (&config, CONVERSATION_GROUP, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        return 1;
    }
    if (conversation_config_load (&state.config, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_config_log (&config);
    conversation_config_log (&state.config);

    static const zhub_actor_route_t routes[] = {
        {"webhook.bird.*.inbound", conversation_handle},
        {"webhook.bird.*.outbound", conversation_handle},
        {"webhook.bird.conversation.*", conversation_handle},
        {"webhook.whatsapp.message", conversation_handle},
        {"contact.forget", conversation_handle_forget},
    };
    zhub_actor_spec_t spec = {.routes = routes,
                              .route_count = sizeof routes / sizeof routes[0],
                              .schema_version = 1,
                              .open = conversation_open,
                              .tick = conversation_tick,
                              .state = &state};
    zhub_actor_t *actor = zhub_actor_new (&config, &spec, err, sizeof err);
    if (!actor) {
        zhub_error ("start_failed", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_handle_signals ();
    int rc = zhub_actor_run (actor);
    zhub_actor_destroy (&actor);
    zhub_actor_config_clear (&config);
    return rc ? 1 : 0;
}
