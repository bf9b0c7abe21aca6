//  zhub-contact-sync: keeps Bird and HubSpot contacts in step. main reads
//  the configuration once, wires the pure core (contact_sync.c) and its
//  I/O side (contact_sync_io.c) into the shared actor runtime, and runs it
//  until SIGTERM/SIGINT; the runtime consumes nothing until the HubSpot
//  properties contact-sync writes exist (contact_sync_ready).
#include "contact_sync.h"
#include "contact_sync_io.h"
#include "zhub_actor.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

//  ZHUB_PHONE_DEFAULT_CALLING_CODE: "52" or "+52"; unset = numbers without
//  a country code are rejected. Returns 0 with out ("" when unset), or -1.
static int
s_calling_code (char *out, size_t size)
{
    const char *value = zhub_env_str ("ZHUB_PHONE_DEFAULT_CALLING_CODE", "");
    if (*value == '+')
        value++;
    size_t n = strlen (value);
    if (n > 3 || n + 1 > size)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isdigit ((unsigned char)value[i]) || (i == 0 && value[i] == '0'))
            return -1;
    memcpy (out, value, n + 1);
    return 0;
}

int
main (void)
{
    zhub_log_init (CONTACT_SYNC_GROUP);
    zhub_actor_config_t config;
    char err[256], quoted[300];
    if (zhub_actor_config_load (&config, CONTACT_SYNC_GROUP, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        return 1;
    }
    char calling_code[8];
    if (s_calling_code (calling_code, sizeof calling_code)) {
        zhub_error ("config_invalid",
                    "reason=\"ZHUB_PHONE_DEFAULT_CALLING_CODE must be 1 to 3 digits, e.g. 52\"");
        zhub_actor_config_clear (&config);
        return 1;
    }
    //  Messages in flight: what lets the runtime group many into one store
    //  commit (per-subject order is the broker's: a contact's messages
    //  never run side by side)
    if (!zhub_env_str ("ZHUB_CREDIT", NULL))
        config.credit = CONTACT_SYNC_BATCH_MESSAGES;
    contact_sync_t sync = {.core = {.default_calling_code = *calling_code ? calling_code : NULL}};
    if (zhub_hubspot_config_load (&sync.hubspot_config, err, sizeof err)
        || zhub_bird_config_load (&sync.bird_config, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_config_log (&config);
    zhub_hubspot_config_log (&sync.hubspot_config);
    zhub_bird_config_log (&sync.bird_config);
    zhub_info ("config", "phone_default_calling_code=%s", *calling_code ? calling_code : "unset");

    contact_sync_config_defaults (&sync.core);
    json_t *mapping = zhub_actor_mapping_load (err, sizeof err);
    if (!mapping || contact_sync_config_apply (&sync.core, mapping, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        json_decref (mapping);
        contact_sync_config_clear (&sync.core);
        zhub_actor_config_clear (&config);
        return 1;
    }
    json_decref (mapping);
    //  Batched by default: one call for up to 100 contacts instead of one
    //  each (HubSpot allows 190 calls per 10 s).
    if (zhub_env_duration_ms ("ZHUB_HUBSPOT_BATCH_WINDOW", CONTACT_BATCH_WINDOW_DEFAULT_MS,
                              &sync.batch_window_ms)
        || sync.batch_window_ms < 0) {
        zhub_error ("config_invalid", "reason=\"ZHUB_HUBSPOT_BATCH_WINDOW must be a duration\"");
        contact_sync_config_clear (&sync.core);
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_info ("config", "hubspot_batch_window_ms=%lld", (long long)sync.batch_window_ms);
    if (zhub_sync_results_config_load (&sync.results_policy, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        contact_sync_config_clear (&sync.core);
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_info ("config", "sync_results_retention_ms=%lld sync_results_max=%zu",
               (long long)sync.results_policy.max_age_ms, sync.results_policy.max_count);
    sync.queued = -1; //  unknown until the first tick reads the store
    for (size_t i = 0; i < sync.core.field_count; i++)
        zhub_info ("config", "field_bird=%s field_hubspot=%s to_hubspot=%s to_bird=%s",
                   sync.core.fields[i].bird, sync.core.fields[i].hubspot,
                   sync.core.fields[i].to_hubspot ? "yes" : "no",
                   sync.core.fields[i].to_bird ? "yes" : "no");
    //  One handler per route (contact_sync.h, Routes).
    static const zhub_actor_route_t routes[] = {
        {CONTACT_TOPIC_BIRD, contact_sync_on_bird},
        {CONTACT_TOPIC_HUBSPOT, contact_sync_on_hubspot},
        {CONTACT_TOPIC_CONVERSATION, contact_sync_on_conversation},
        {CONTACT_TOPIC_RECONCILE, contact_sync_on_reconcile},
        {CONTACT_TOPIC_ERASE, contact_sync_on_erase},
    };
    zhub_actor_spec_t spec = {.routes = routes,
                              .route_count = sizeof routes / sizeof routes[0],
                              .schema_version = 1,
                              .open = contact_sync_open,
                              .close = contact_sync_close,
                              .ready = contact_sync_ready,
                              .state = &sync,
                              .tick = contact_sync_flush,
                              .batch_max = CONTACT_SYNC_BATCH_MESSAGES};
    zhub_actor_t *actor = zhub_actor_new (&config, &spec, err, sizeof err);
    if (!actor) {
        zhub_error ("start_failed", "reason=%s", zhub_log_quote (err, quoted, sizeof quoted));
        contact_sync_config_clear (&sync.core);
        zhub_actor_config_clear (&config);
        return 1;
    }
    zhub_actor_handle_signals ();
    int rc = zhub_actor_run (actor);
    zhub_actor_destroy (&actor);
    contact_sync_config_clear (&sync.core);
    zhub_actor_config_clear (&config);
    return rc ? 1 : 0;
}
