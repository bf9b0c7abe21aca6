//  zhub-deal-sync: AI conversation stages -> the HubSpot deal pipeline,
//  and a person's stage changes back to Bird. main reads the configuration
//  once (environment + the "deal" section of $ZHUB_MAPPING_FILE), checks
//  the stage map against HubSpot's pipelines, waits (consuming nothing)
//  until the deal properties it writes exist, wires the pure core
//  (deal_sync.c) and its I/O side (deal_sync_io.c) into the shared actor
//  runtime, and runs it until SIGTERM/SIGINT.
#include "deal_sync.h"
#include "deal_sync_io.h"
#include "zhub_actor.h"
#include "zhub_events.h"
#include "zhub_log.h"

#include <stdio.h>
#include <string.h>

int
main (void)
{
    zhub_log_init (DEAL_SYNC_GROUP);
    zhub_actor_config_t config;
    char err[256], quoted[300];
    if (zhub_actor_config_load (&config, DEAL_SYNC_GROUP, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        return 1;
    }
    deal_sync_t sync;
    memset (&sync, 0, sizeof sync);
    deal_sync_config_default (&sync.core);
    json_t *mapping = zhub_actor_mapping_load (err, sizeof err);
    if (!mapping || deal_sync_config_apply (&sync.core, mapping, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        json_decref (mapping);
        deal_sync_config_clear (&sync.core);
        zhub_actor_config_clear (&config);
        return 1;
    }
    json_decref (mapping);
    if (zhub_hubspot_config_load (&sync.hubspot_config, err, sizeof err)
        || zhub_bird_config_load (&sync.bird_config, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        deal_sync_config_clear (&sync.core);
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_config_log (&config);
    zhub_hubspot_config_log (&sync.hubspot_config);
    zhub_bird_config_log (&sync.bird_config);
    for (int i = 0; i < DEAL_AI_STAGE_COUNT; i++)
        zhub_info ("config", "pipeline=%s ai_stage=%s stage=%s", sync.core.pipeline,
                   deal_ai_stage_name (i), sync.core.stages[i]);

    static const zhub_actor_route_t routes[] = {
        {ZHUB_STAGE_CHANGED_TOPIC, deal_sync_handle_stage_changed},
        {ZHUB_QUALIFICATION_TOPIC, deal_sync_handle_qualification},
        {ZHUB_TOUR_SCHEDULED_TOPIC, deal_sync_handle_tour},
        {DEAL_CRM_TOPIC, deal_sync_handle_crm},
        {ZHUB_CONTACT_SYNCED_TOPIC, deal_sync_handle_synced},
        {ZHUB_FORGET_TOPIC, deal_sync_handle_forget},
    };
    zhub_actor_spec_t spec = {.routes = routes,
                              .route_count = sizeof routes / sizeof routes[0],
                              .schema_version = 1,
                              .open = deal_sync_open,
                              .close = deal_sync_close,
                              .ready = deal_sync_ready,
                              .state = &sync};
    zhub_actor_t *actor = zhub_actor_new (&config, &spec, err, sizeof err);
    if (!actor) {
        zhub_error ("start_failed", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        deal_sync_config_clear (&sync.core);
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_handle_signals ();
    int rc = 1;
    *err = 0;
    if (deal_sync_check_pipelines (zhub_actor_ctx (actor), err, sizeof err) == 0)
        rc = zhub_actor_run (actor) ? 1 : 0;
    else if (zhub_actor_stopping ())
        rc = 0;
    else
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
    zhub_actor_destroy (&actor);
    deal_sync_config_clear (&sync.core);
    zhub_actor_config_clear (&config);
    return rc;
}
