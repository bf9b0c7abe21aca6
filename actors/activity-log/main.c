//  zhub-activity-log: conversation events become HubSpot notes, tasks and
//  meetings. main reads the configuration once, wires the pure core
//  (activity_log.c) and its handlers (activity_log_actor.h: one per route)
//  into the shared actor runtime, and runs it until SIGTERM/SIGINT.
#include "activity_log.h"
#include "activity_log_actor.h"
#include "zhub_actor.h"
#include "zhub_events.h"
#include "zhub_log.h"

#include <stdio.h>

int
main (void)
{
    zhub_log_init (ACTIVITY_LOG_GROUP);
    zhub_actor_config_t config;
    char err[256], quoted[300];
    activity_log_t log;
    if (zhub_actor_config_load (&config, ACTIVITY_LOG_GROUP, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        return 1;
    }
    if (activity_log_config (&log, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_config_log (&config);
    zhub_hubspot_config_log (&log.hubspot_config);
    zhub_info ("config", "transcript_interval_ms=%lld retention_ms=%lld owner_id=%s",
               (long long)log.transcript_interval_ms, (long long)log.retention_ms,
               log.owner_id ? log.owner_id : "unset");

    static const zhub_actor_route_t routes[] = {
        {"conversation.started", activity_log_handle_started},
        {"conversation.message", activity_log_handle_message},
        {ZHUB_QUALIFICATION_TOPIC, activity_log_handle_qualification},
        {"escalation.triggered", activity_log_handle_escalation},
        {ZHUB_TOUR_SCHEDULED_TOPIC, activity_log_handle_tour_scheduled},
        {ZHUB_TOUR_CANCELED_TOPIC, activity_log_handle_tour_canceled},
        {ZHUB_TOUR_CALENDAR_DOWN_TOPIC, activity_log_handle_calendar_down},
        {ZHUB_CONTACT_SYNCED_TOPIC, activity_log_handle_contact_synced},
        {ZHUB_DEAL_STAGE_TOPIC, activity_log_handle_deal_stage},
        {ZHUB_FORGET_TOPIC, activity_log_handle_forget},
        {ACTIVITY_FLUSH_TOPIC, activity_log_handle_flush},
    };
    zhub_actor_spec_t spec = {.routes = routes,
                              .route_count = sizeof routes / sizeof routes[0],
                              .schema_version = 1,
                              .open = activity_log_open,
                              .close = activity_log_close,
                              .tick = activity_log_tick,
                              .state = &log};
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
