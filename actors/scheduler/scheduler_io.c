//  Runs the scheduler (see scheduler_io.h for the tables). A tour request
//  goes through three committed steps, so a redelivery resumes where the
//  last one stopped and never books twice:
//
//    1. hold     the slot is taken in LMDB (booking "pending" + hold), after
//                checking the holds again inside that write transaction;
//    2. event    the calendar event is created with our booking id as its
//                idempotency key (Google: event "id", a retry answers 409;
//                Graph: "transactionId"); the booking becomes "scheduled",
//                reminders are armed and tour.scheduled goes to the outbox,
//                all in one transaction;
//    3. confirm  the WhatsApp confirmation goes out through Bird and the
//                booking is marked confirmed.
//
//  Timers are messages to ourselves that the broker holds until they are
//  due, queued in the outbox in the transaction that makes them needed
//  (the booking, for its reminders), so none is lost or doubled by a
//  crash (scheduler_timers.c). A reminder timer puts tour.reminder in the
//  outbox when its booking still stands; the WhatsApp is then sent by this
//  actor's own tour.reminder handler, with the bus's retries and a
//  sent-flag in the booking.
//
//  This file reads the configuration and opens the store; main.c routes
//  each topic to its handler (scheduler_io.h lists them). The rest is
//  split by job: scheduler_store.c and scheduler_store_timers.c (every
//  table, key and transaction: scheduler_store.h), scheduler_calendar_io.c
//  (OAuth2 tokens, availability, the calendar event), scheduler_booking.c
//  (the request steps, WhatsApp, reminders), scheduler_notify.c (Calendly
//  and Graph notifications), scheduler_google_sync.c (Google
//  notifications, read with sync tokens), scheduler_timers.c (the timers)
//  and scheduler_forget_io.c (contact.forget: a GDPR erase);
//  scheduler_watch_io.c keeps the Google channels and Graph subscriptions
//  that tell us about calendar edits. What they share is declared in
//  scheduler_internal.h.
#include "scheduler_internal.h"

const char *scheduler_provider_name[] = {"google", "graph"};

//  -------------------------------------------------------------------
//  Configuration

int
scheduler_config (scheduler_t *self, char *err, size_t err_size)
{
    memset (self, 0, sizeof *self);
    json_t *mapping = zhub_actor_mapping_load (err, err_size);
    if (!mapping)
        return -1;
    int rc =
        sched_config_from_json (json_object_get (mapping, "scheduler"), &self->cfg, err, err_size);
    json_decref (mapping);
    if (rc)
        return -1;
    if (sched_use_time_zone (self->cfg.time_zone)) {
        snprintf (err, err_size, "scheduler config: unknown time_zone %.64s", self->cfg.time_zone);
        sched_config_clear (&self->cfg);
        return -1;
    }
    const char *key = zhub_env_str ("ZHUB_SECRET_KEY", "");
    if (*key) {
        if (sched_key_parse (key, self->key)) {
            snprintf (err, err_size, "ZHUB_SECRET_KEY must be 64 hex digits (32 bytes)");
            sched_config_clear (&self->cfg);
            return -1;
        }
        self->have_key = true;
    }
    self->google_client_id = zhub_env_str ("ZHUB_GOOGLE_CLIENT_ID", "");
    self->google_client_secret = zhub_env_str ("ZHUB_GOOGLE_CLIENT_SECRET", "");
    self->google_refresh_token = zhub_env_str ("ZHUB_GOOGLE_REFRESH_TOKEN", "");
    self->graph_client_id = zhub_env_str ("ZHUB_GRAPH_CLIENT_ID", "");
    self->graph_client_secret = zhub_env_str ("ZHUB_GRAPH_CLIENT_SECRET", "");
    self->google_config =
        (zhub_google_config_t){.base_url = zhub_env_str ("ZHUB_GOOGLE_BASE_URL", NULL),
                               .token_url = zhub_env_str ("ZHUB_GOOGLE_TOKEN_URL", NULL)};
    self->graph_config =
        (zhub_graph_config_t){.base_url = zhub_env_str ("ZHUB_GRAPH_BASE_URL", NULL),
                              .token_url = zhub_env_str ("ZHUB_GRAPH_TOKEN_URL", NULL),
                              .tenant = zhub_env_str ("ZHUB_GRAPH_TENANT_ID", NULL),
                              .scope = zhub_env_str ("ZHUB_GRAPH_SCOPE", NULL)};
    self->calendly_config =
        (zhub_calendly_config_t){.base_url = zhub_env_str ("ZHUB_CALENDLY_BASE_URL", NULL),
                                 .token = zhub_env_str ("ZHUB_CALENDLY_TOKEN", NULL)};
    const zhub_google_config_t *google = &self->google_config;
    const zhub_graph_config_t *graph = &self->graph_config;
    //  Graph is in use when an agent's calendar is there or its app
    //  credentials are set: then its tenant is required (app-only tokens
    //  come from one tenant) and its URLs must be ones Graph answers.
    bool graph_used = *self->graph_client_id || *self->graph_client_secret;
    for (size_t i = 0; i < self->cfg.agent_count; i++)
        graph_used |= self->cfg.agents[i].platform == SCHED_GRAPH;
    self->graph_used = graph_used;
    if (zhub_google_config_check (google, err, err_size)
        || (graph_used && zhub_graph_config_check (graph, err, err_size))
        || zhub_bird_config_load (&self->bird_config, err, err_size)) {
        sched_config_clear (&self->cfg);
        return -1;
    }
    bool bad = scheduler_watch_config (self, google->base_url, graph->base_url, err, err_size);
    if (!bad
        && zhub_env_duration_ms ("ZHUB_OAUTH_REFRESH_MARGIN", 300000, &self->refresh_margin_ms)) {
        snprintf (err, err_size, "ZHUB_OAUTH_REFRESH_MARGIN must be a duration");
        bad = true;
    }
    if (!bad && !self->have_key && (*self->google_refresh_token || *self->graph_client_secret)) {
        snprintf (err, err_size,
                  "ZHUB_SECRET_KEY is required to keep OAuth tokens (64 hex digits)");
        bad = true;
    }
    if (bad) {
        free (self->public_url);
        self->public_url = NULL;
        sched_config_clear (&self->cfg);
        return -1;
    }
    char masked[3][32];
    zhub_info ("config",
               "time_zone=%s agents=%zu business_hours=%02d:%02d-%02d:%02d self_service=%s "
               "reminders=%zu reconcile_every_ms=%lld secret_key=%s google_refresh_token=%s "
               "graph_client_secret=%s",
               self->cfg.time_zone, self->cfg.agent_count, self->cfg.open_min / 60,
               self->cfg.open_min % 60, self->cfg.close_min / 60, self->cfg.close_min % 60,
               self->cfg.self_service ? "yes" : "no", self->cfg.reminder_count,
               (long long)self->cfg.reconcile_every_ms,
               zhub_env_mask (key, masked[0], sizeof masked[0]),
               zhub_env_mask (self->google_refresh_token, masked[1], sizeof masked[1]),
               zhub_env_mask (self->graph_client_secret, masked[2], sizeof masked[2]));
    zhub_bird_config_log (&self->bird_config);
    scheduler_whatsapp_config_log (self);
    return 0;
}

void
scheduler_clear (scheduler_t *self)
{
    free (self->public_url);
    self->public_url = NULL;
    for (int i = 0; i < 2; i++)
        if (self->access[i]) {
            sodium_memzero (self->access[i], strlen (self->access[i]));
            free (self->access[i]);
        }
    sodium_memzero (self->key, sizeof self->key);
    sched_config_clear (&self->cfg);
}

//  -------------------------------------------------------------------
//  Start

int
scheduler_open (zhub_actor_ctx_t *ctx)
{
    scheduler_t *self = ctx->state;
    self->google = zhub_google_new (&self->google_config, ctx->http);
    self->graph = zhub_graph_new (&self->graph_config, ctx->http);
    self->calendly = zhub_calendly_new (&self->calendly_config, ctx->http);
    self->bird = zhub_bird_new (&self->bird_config, ctx->http);
    self->metrics = ctx->metrics;
    zhub_metrics_declare (self->metrics, "zhub_actor_token_refresh_total", ZHUB_COUNTER,
                          "OAuth2 access token refreshes, by provider and outcome (ok, failed).",
                          NULL, 0);
    //  Where the calendar calls go, said once (no secrets in URLs).
    zhub_info (
        "config_calendars",
        "google_base_url=%s%s google_token_url=%s graph=%s graph_base_url=%s "
        "graph_token_url=%s graph_scope=%s",
        self->google_config.base_url ? self->google_config.base_url : ZHUB_GOOGLE_BASE_URL_DEFAULT,
        ZHUB_GOOGLE_SERVICE_PATH,
        self->google_config.token_url ? self->google_config.token_url
                                      : ZHUB_GOOGLE_TOKEN_URL_DEFAULT,
        self->graph_used ? "on" : "off",
        self->graph_config.base_url ? self->graph_config.base_url : ZHUB_GRAPH_BASE_URL_DEFAULT,
        zhub_graph_token_url (self->graph) ? zhub_graph_token_url (self->graph) : "-",
        self->graph_config.scope ? self->graph_config.scope : ZHUB_GRAPH_SCOPE_DEFAULT);
    char err[128];
    self->db =
        sched_store_new (ctx, self->cfg.reminders_ms, self->cfg.reminder_count, err, sizeof err);
    if (!self->db) {
        zhub_error ("store_failed", "reason=\"%s\"", err);
        return -1;
    }
    if (scheduler_timers_open (ctx))
        return -1;
    //  Google watch channels and Graph subscriptions, one per agent calendar.
    return scheduler_watch_open (ctx);
}

void
scheduler_close (zhub_actor_ctx_t *ctx)
{
    scheduler_t *self = ctx->state;
    zhub_google_destroy (&self->google);
    zhub_graph_destroy (&self->graph);
    zhub_calendly_destroy (&self->calendly);
    zhub_bird_destroy (&self->bird);
    sched_store_destroy (&self->db);
}
