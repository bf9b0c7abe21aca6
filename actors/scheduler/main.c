//  zhub-scheduler: tour booking across Google Calendar and Microsoft Graph,
//  with durable timers (reminders, reconciliation ticks, token refresh,
//  calendar renewals) held by the broker as messages to itself.
//  main reads the configuration once, wires the pure core (scheduler_*.c, see scheduler.h)
//  and its I/O side (scheduler_io.c) into the shared actor runtime, and
//  runs it until SIGTERM/SIGINT.
#include "scheduler.h"
#include "scheduler_io.h"
#include "scheduler_timer.h"
#include "zhub_actor.h"
#include "zhub_log.h"

#include <sodium.h>
#include <stdio.h>

int
main (void)
{
    zhub_log_init (SCHEDULER_GROUP);
    if (sodium_init () < 0) {
        zhub_error ("start_failed", "reason=\"libsodium cannot start\"");
        return 1;
    }
    zhub_actor_config_t config;
    char err[256], quoted[300];
    static scheduler_t sched;
    if (zhub_actor_config_load (&config, SCHEDULER_GROUP, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        return 1;
    }
    if (scheduler_config (&sched, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_config_log (&config);
    static const zhub_actor_route_t routes[] = {
        {"tour.requested", scheduler_handle_request},
        {"tour.reminder", scheduler_handle_reminder},
        //  our own: the WhatsApp cancellation of a booking that ended
        {"tour.canceled", scheduler_handle_canceled},
        {"webhook.calendly.invitee.>", scheduler_handle_invitee},
        {"webhook.google.calendar.changed", scheduler_handle_google_changed},
        {"webhook.graph.updated", scheduler_handle_graph_updated},
        {"webhook.graph.deleted", scheduler_handle_graph_deleted},
        {"contact.forget", scheduler_handle_forget},
        //  when each contact last wrote (WhatsApp's 24-hour window), and
        //  Bird's reports of our messages failing
        {"webhook.bird.whatsapp.inbound", scheduler_handle_whatsapp_inbound},
        {"webhook.bird.whatsapp.outbound", scheduler_handle_whatsapp_outbound},
        //  our own timers, held by the broker until due (scheduler_timer.h)
        {SCHED_TIMER_REMINDER_TOPIC, scheduler_handle_timer_reminder},
        {SCHED_TIMER_RECONCILE_TOPIC, scheduler_handle_timer_reconcile},
        {SCHED_TIMER_TOKEN_TOPIC, scheduler_handle_timer_token},
        {SCHED_TIMER_WATCH_TOPIC, scheduler_handle_timer_watch},
    };
    zhub_actor_spec_t spec = {.routes = routes,
                              .route_count = sizeof routes / sizeof routes[0],
                              .schema_version = 1,
                              .open = scheduler_open,
                              .close = scheduler_close,
                              .state = &sched};
    zhub_actor_t *actor = zhub_actor_new (&config, &spec, err, sizeof err);
    if (!actor) {
        zhub_error ("start_failed", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        scheduler_clear (&sched);
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_handle_signals ();
    int rc = zhub_actor_run (actor);
    zhub_actor_destroy (&actor);
    scheduler_clear (&sched);
    zhub_actor_config_clear (&config);
    return rc ? 1 : 0;
}
