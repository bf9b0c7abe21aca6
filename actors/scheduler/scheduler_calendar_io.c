//  scheduler's calendar calls: OAuth2 tokens for Google and Graph (kept
//  sealed in the store, refreshed before they expire), availability
//  (free/busy of the eligible agents plus our own holds) and step 2 of a
//  request, creating the calendar event with our booking id as its
//  idempotency key.
#include "scheduler_internal.h"

//  -------------------------------------------------------------------
//  OAuth2 tokens

//  Seals the token (with the key from ZHUB_SECRET_KEY) and stores it with
//  its next refresh, which becomes the one that counts (an older refresh
//  timer is dropped when it arrives).
static zhub_rc_t
s_token_put (scheduler_t *self, int provider, const char *access, const char *refresh,
             int64_t expires_at, int64_t refresh_due)
{
    json_t *obj =
        json_pack ("{s:s, s:I}", "access_token", access, "expires_at", (json_int_t)expires_at);
    if (refresh)
        json_object_set_new (obj, "refresh_token", json_string (refresh));
    char *text = json_dumps (obj, JSON_COMPACT);
    json_decref (obj);
    uint8_t *box;
    size_t size;
    sched_seal (self->key, text, &box, &size);
    sodium_memzero (text, strlen (text));
    free (text);
    zhub_rc_t rc =
        sched_store_token_put (self->db, (sched_platform_t)provider, box, size, refresh_due);
    free (box);
    return rc;
}

//  The stored token JSON of provider (unsealed), or NULL.
static json_t *
s_token_load (scheduler_t *self, int provider)
{
    uint8_t *box;
    size_t size;
    if (!self->have_key
        || sched_store_token (self->db, (sched_platform_t)provider, &box, &size) != ZHUB_OK)
        return NULL;
    char *text = sched_unseal (self->key, box, size);
    free (box);
    if (!text) {
        zhub_warn ("token_unreadable", "provider=%s note=\"sealed with another key\"",
                   scheduler_provider_name[provider]);
        return NULL;
    }
    json_t *obj = json_loads (text, 0, NULL);
    sodium_memzero (text, strlen (text));
    free (text);
    return obj;
}

//  Gets a fresh token from the provider and stores it. ZHUB_OK, or
//  RETRY / REJECT with *out set.
zhub_rc_t
scheduler_token_refresh (scheduler_t *self, int provider, zhub_outcome_t *out)
{
    if (!self->have_key) {
        zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "%s: no ZHUB_SECRET_KEY to keep tokens",
                             scheduler_provider_name[provider]);
        return ZHUB_REJECT;
    }
    json_t *stored = s_token_load (self, provider);
    const char *refresh = json_string_value (json_object_get (stored, "refresh_token"));
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    if (provider == S_GOOGLE) {
        if (!refresh || !*refresh)
            refresh = self->google_refresh_token;
        zhub_google_token_refresh (self->google, self->google_client_id, self->google_client_secret,
                                   refresh, &resp);
    } else
        zhub_graph_token (self->graph, self->graph_client_id, self->graph_client_secret, &resp);
    const char *access = json_string_value (json_object_get (resp.json, "access_token"));
    const json_t *ttl = json_object_get (resp.json, "expires_in");
    zhub_rc_t rc = ZHUB_OK;
    if (resp.status == 200 && access && json_is_integer (ttl) && json_integer_value (ttl) > 0) {
        int64_t now = zhub_now_ms (), expires = now + json_integer_value (ttl) * 1000;
        int64_t due = expires - self->refresh_margin_ms;
        if (due < now + 1000)
            due = now + (expires - now) / 2;
        //  Google may hand out a new refresh token; keep the newest.
        const char *new_refresh = json_string_value (json_object_get (resp.json, "refresh_token"));
        if (s_token_put (self, provider, access, new_refresh ? new_refresh : refresh, expires, due)
            != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot store the token");
            rc = ZHUB_RETRY;
        } else {
            if (self->access[provider]) {
                sodium_memzero (self->access[provider], strlen (self->access[provider]));
                free (self->access[provider]);
            }
            self->access[provider] = zhub_strdup (access);
            self->expires[provider] = expires;
            zhub_info ("token_refreshed", "provider=%s expires_in_s=%lld",
                       scheduler_provider_name[provider], (long long)json_integer_value (ttl));
        }
    } else if (resp.status == 200) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "%s token answer without a token",
                            scheduler_provider_name[provider]);
        rc = ZHUB_RETRY;
    } else {
        char what[48];
        snprintf (what, sizeof what, "%s token refresh", scheduler_provider_name[provider]);
        zhub_retry_classify (&resp, what, zhub_now_ms (), out);
        rc = out->rc;
    }
    char labels[64] = "";
    zhub_metrics_label (labels, sizeof labels, "provider", scheduler_provider_name[provider]);
    zhub_metrics_label (labels, sizeof labels, "outcome", rc == ZHUB_OK ? "ok" : "failed");
    zhub_metrics_count (self->metrics, "zhub_actor_token_refresh_total", labels, 1);
    //  The answer held the token: wipe it before freeing.
    if (resp.body)
        sodium_memzero (resp.body, resp.body_size);
    zhub_http_response_reset (&resp);
    json_decref (stored);
    return rc;
}

//  A token valid for at least the margin. NULL with *out set on failure.
const char *
scheduler_token (scheduler_t *self, int provider, zhub_outcome_t *out)
{
    int64_t now = zhub_now_ms ();
    if (self->access[provider] && self->expires[provider] - now > 5000)
        return self->access[provider];
    json_t *stored = s_token_load (self, provider);
    const char *access = json_string_value (json_object_get (stored, "access_token"));
    int64_t expires = json_integer_value (json_object_get (stored, "expires_at"));
    if (access && expires - now > 5000) {
        free (self->access[provider]);
        self->access[provider] = zhub_strdup (access);
        self->expires[provider] = expires;
    }
    json_decref (stored);
    if (self->access[provider] && self->expires[provider] - now > 5000)
        return self->access[provider];
    return scheduler_token_refresh (self, provider, out) == ZHUB_OK ? self->access[provider] : NULL;
}

//  A 401 from the API: the token is no good any more.
static void
s_token_drop (scheduler_t *self, int provider)
{
    self->expires[provider] = 0;
}

//  -------------------------------------------------------------------
//  Availability

bool
scheduler_answer_ok (scheduler_t *self, int provider, zhub_http_response_t *resp, const char *what,
                     zhub_outcome_t *out)
{
    if (resp->status >= 200 && resp->status < 300)
        return true;
    if (resp->status == 401) {
        s_token_drop (self, provider);
        zhub_outcome_retry (out, 0, 401, "%s: token refused, refreshing", what);
        return false;
    }
    zhub_retry_classify (resp, what, zhub_now_ms (), out);
    return false;
}

//  Fills busy[] for the eligible agents over [from, to). true, or false
//  with *out set.
bool
scheduler_availability (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const bool *eligible,
                        int64_t from, int64_t to, sched_busy_t *busy, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool ok = true;
    json_t *body = sched_google_freebusy_body (&self->cfg, eligible, from, to);
    if (body) {
        const char *token = scheduler_token (self, S_GOOGLE, out);
        ok = token != NULL;
        if (ok) {
            zhub_google_freebusy (self->google, body, token, msg->traceparent, &resp);
            ok = scheduler_answer_ok (self, S_GOOGLE, &resp, "google freeBusy", out);
        }
        if (ok && sched_google_busy_read (&self->cfg, resp.json, busy)) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "google freeBusy: unreadable");
            ok = false;
        }
        json_decref (body);
    }
    body = ok ? sched_graph_schedule_body (&self->cfg, eligible, from, to) : NULL;
    if (body) {
        const char *token = scheduler_token (self, S_GRAPH, out);
        ok = token != NULL;
        if (ok) {
            zhub_http_response_reset (&resp);
            zhub_graph_get_schedule (self->graph, self->cfg.graph_user, body, token,
                                     msg->traceparent, &resp);
            ok = scheduler_answer_ok (self, S_GRAPH, &resp, "graph getSchedule", out);
        }
        if (ok && sched_graph_busy_read (&self->cfg, resp.json, busy)) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "graph getSchedule: unreadable");
            ok = false;
        }
        json_decref (body);
    }
    zhub_http_response_reset (&resp);
    for (size_t i = 0; ok && i < self->cfg.agent_count; i++) {
        if (!eligible[i])
            continue;
        if (sched_store_busy (self->db, self->cfg.agents[i].id, &busy[i]) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read holds");
            ok = false;
        }
    }
    return ok;
}

//  -------------------------------------------------------------------
//  Step 2: the calendar event

//  Creates the event; true with b->event_id / confirmation_url set.
bool
scheduler_create_event (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, sched_booking_t *b,
                        const sched_request_t *req, zhub_outcome_t *out)
{
    scheduler_t *self = ctx->state;
    int index = sched_agent_index (&self->cfg, b->agent_id);
    if (index < 0) {
        zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "agent %s left the configuration",
                             b->agent_id);
        return false;
    }
    const sched_agent_t *agent = &self->cfg.agents[index];
    int provider = agent->platform == SCHED_GOOGLE ? S_GOOGLE : S_GRAPH;
    const char *token = scheduler_token (self, provider, out);
    if (!token)
        return false;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    bool ok;
    if (provider == S_GOOGLE) {
        json_t *body = sched_google_event_body (b, agent, req);
        zhub_google_event_insert (self->google, agent->calendar_id, body, token, msg->traceparent,
                                  &resp);
        json_decref (body);
        if (resp.status == 409) {
            //  Made by an earlier attempt of this very booking: read it back.
            zhub_http_response_reset (&resp);
            zhub_google_event_get (self->google, agent->calendar_id, b->booking_id, token,
                                   msg->traceparent, &resp);
        }
        ok = scheduler_answer_ok (self, S_GOOGLE, &resp, "google events.insert", out);
        if (ok) {
            s_set_str (&b->event_id, json_string_value (json_object_get (resp.json, "id")));
            s_set_str (&b->confirmation_url,
                       json_string_value (json_object_get (resp.json, "htmlLink")));
        }
    } else {
        json_t *body = sched_graph_event_body (b, agent, req);
        zhub_graph_event_create (self->graph, agent->calendar_id, body, token, msg->traceparent,
                                 &resp);
        json_decref (body);
        ok = scheduler_answer_ok (self, S_GRAPH, &resp, "graph create event", out);
        if (ok) {
            s_set_str (&b->event_id, json_string_value (json_object_get (resp.json, "id")));
            s_set_str (&b->confirmation_url,
                       json_string_value (json_object_get (resp.json, "webLink")));
        }
    }
    if (ok && !b->event_id) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "event answer without an id");
        ok = false;
    }
    zhub_http_response_reset (&resp);
    return ok;
}
