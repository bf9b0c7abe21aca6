//  A webhook request once its body is in: the provider verifies and parses
//  it, the messages go to the publisher (or the spool) and the answer waits
//  for their confirmation. Also the webhook daemon's handler, which walks a
//  request through headers, body and completion.
#include "server_internal.h"

//  The body of a 200: {"accepted": the sender's events (the audit records
//  the gateway added are not theirs), "spooled": true when in the spool}.
static json_t *
s_accepted (const s_request_t *req, size_t count, bool spooled)
{
    json_t *body = json_object ();
    json_object_set_new (
        body, "accepted",
        json_integer ((json_int_t)(count > req->audits ? count - req->audits : 0)));
    if (spooled)
        json_object_set_new (body, "spooled", json_true ());
    return body;
}

//  Commits the messages to the spool and answers: 200 once committed,
//  503 + Retry-After when full or when the disk failed (a fault of ours is
//  never a 4xx: some providers never retry one).
static enum MHD_Result
s_spool (struct MHD_Connection *conn, s_request_t *req, zhub_msg_list_t *list,
         const char *retry_after)
{
    zhub_gateway_server_t *self = req->server;
    zhub_rc_t rc = zhub_gateway_spool_append (self->spool, list);
    if (rc == ZHUB_OK) {
        zhub_gateway_metrics_spooled (self->metrics, list->count);
        zhub_gateway_server_drain_wake (self);
        snprintf (req->reason, sizeof req->reason, "spooled");
        return zhub_gateway_server_reply (conn, req, MHD_HTTP_OK,
                                          s_accepted (req, list->count, true), NULL, NULL);
    }
    return zhub_gateway_server_error (
        conn, req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
        rc == ZHUB_RETRY ? "the spool is full and the message bus is not reachable; "
                           "retry later"
                         : "the event could not be stored; retry later",
        rc == ZHUB_RETRY ? "spool_full" : "spool_error", MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
}

static void
s_published (void *arg)
{
    s_request_t *req = arg;
    MHD_resume_connection (req->conn); //  the handler runs again: s_publish_finish
}

//  Hands the messages (taken over from *list into the request) to the
//  publisher and suspends the connection until they are confirmed; the
//  answer is then given by s_publish_finish. With the spool on, events go
//  to the spool instead while it holds anything (so that nothing overtakes
//  what waits there) or while the broker is known to be away (so that no
//  request waits for a timeout).
static enum MHD_Result
s_publish (struct MHD_Connection *conn, s_request_t *req, zhub_msg_list_t *list)
{
    zhub_gateway_server_t *self = req->server;
    req->list = *list;
    memset (list, 0, sizeof *list);
    char retry_after[24];
    snprintf (retry_after, sizeof retry_after, "%lld", (long long)self->config->retry_after_s);
    if (req->list.count == 0)
        return zhub_gateway_server_reply (conn, req, MHD_HTTP_OK,
                                          json_pack ("{s:i}", "accepted", 0), NULL, NULL);
    if (self->spool
        && (zhub_gateway_spool_depth (self->spool) > 0 || !atomic_load (&self->broker_up)))
        return s_spool (conn, req, &req->list, retry_after);

    req->results = zhub_calloc (req->list.count, sizeof *req->results);
    req->job = (zhub_publish_job_t){.msgs = req->list.items,
                                    .count = req->list.count,
                                    .results = req->results,
                                    .timeout_ms = (int)self->config->publish_timeout_ms,
                                    .done_fn = s_published,
                                    .done_arg = req};
    req->conn = conn;
    req->publishing = true;
    req->publish_started_ms = zhub_mono_ms ();
    //  Suspend first: the job may complete (and resume) before we return.
    MHD_suspend_connection (conn);
    zhub_publisher_submit (self->publisher, &req->job);
    return MHD_YES;
}

//  The publisher is done with the request's messages: answer.
static enum MHD_Result
s_publish_finish (struct MHD_Connection *conn, s_request_t *req)
{
    zhub_gateway_server_t *self = req->server;
    req->publishing = false;
    char retry_after[24];
    snprintf (retry_after, sizeof retry_after, "%lld", (long long)self->config->retry_after_s);
    zhub_rc_t rc = zhub_publish_job_rc (&req->job);
    size_t confirmed = 0;
    for (size_t i = 0; i < req->list.count; i++)
        confirmed += req->results[i] == ZHUB_OK;
    if (rc == ZHUB_OK) {
        zhub_gateway_metrics_publish_latency (self->metrics,
                                              (double)(zhub_mono_ms () - req->publish_started_ms));
        return zhub_gateway_server_reply (conn, req, MHD_HTTP_OK,
                                          s_accepted (req, confirmed, false), NULL, NULL);
    }
    char reason[64];
    snprintf (reason, sizeof reason, "publish_%s confirmed=%zu", zhub_rc_name (rc), confirmed);
    if (rc == ZHUB_REJECT)
        //  Every message passed zhub_msg_validate; a refusal by the broker is
        //  a disagreement between our own parts, not the sender's fault.
        return zhub_gateway_server_error (conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                          "the message bus refused the event", reason, NULL, NULL);
    if (atomic_exchange (&self->broker_up, false))
        zhub_warn ("broker_down", "via=publish reason=\"%s\"", reason);
    if (self->spool)
        //  Some may be stored already: the drain publishes them again with
        //  the same ids, and the broker's dedup keeps one of each.
        return s_spool (conn, req, &req->list, retry_after);
    return zhub_gateway_server_error (conn, req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                      "the message bus did not confirm in time; retry later",
                                      reason, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
}

//  The whole body is in: verify, parse, publish.
static enum MHD_Result
s_webhook_complete (struct MHD_Connection *conn, s_request_t *req)
{
    zhub_gateway_server_t *self = req->server;
    const zhub_provider_t *provider = req->provider;
    char *url = zhub_gateway_full_url (self->public_url, req->target);
    zhub_webhook_t hook = {.method = req->method,
                           .url = url,
                           .header = zhub_gateway_server_header,
                           .header_ctx = conn,
                           .body = req->body ? req->body : "",
                           .body_size = req->body_size,
                           .now_ms = zhub_now_ms (),
                           .route_name = req->route[0] ? req->route : NULL};
    zhub_verify_opts_t opts;
    zhub_gateway_config_verify_opts (self->config, provider, hook.route_name, &opts);
    hook.opts = &opts;
    char why[256];
    enum MHD_Result result;
    //  /v1/events: which token, since what it may publish depends on it
    const zhub_token_t *token = NULL;
    zhub_rc_t verified;
    if (provider == &zhub_provider_events) {
        token = zhub_events_authenticate (&hook, opts.tokens, why, sizeof why);
        verified = token ? ZHUB_OK : ZHUB_REJECT;
        if (token)
            snprintf (req->who, sizeof req->who, "%s", token->name);
    } else
        verified = zhub_provider_verify (provider, &hook, &opts, why, sizeof why);
    if (verified != ZHUB_OK) {
        zhub_gateway_metrics_signature_failure (self->metrics, req->source, why);
        char message[320];
        snprintf (message, sizeof message, "signature verification failed: %s", why);
        result = zhub_gateway_server_error (conn, req, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                                            message, why, NULL, NULL);
        free (url);
        return result;
    }
    zhub_msg_list_t list = {0};
    if (provider->parse (&hook, &list, why, sizeof why) != ZHUB_OK) {
        zhub_msg_list_clear (&list);
        free (url);
        return zhub_gateway_server_error (conn, req, MHD_HTTP_BAD_REQUEST, "bad_request", why,
                                          "malformed_body", NULL, NULL);
    }
    free (url);
    const char *traceparent = zhub_gateway_server_header (conn, "traceparent");
    for (size_t i = 0; i < list.count; i++)
        if (zhub_gateway_traceparent_ok (traceparent))
            zhub_msg_set (&list.items[i]->traceparent, traceparent);
    if (token && !zhub_gateway_server_events_admit (conn, req, token, &list, &result)) {
        zhub_msg_list_clear (&list);
        return result;
    }
    req->events = list.count;
    size_t used = 0;
    req->ids[0] = 0;
    for (size_t i = 0; i < list.count; i++) {
        if (list.count <= s_LOG_IDS_MAX && used < sizeof req->ids) {
            char id[ZHUB_MSG_MAX_ID + 1];
            s_sanitise (list.items[i]->id, id, sizeof id);
            used += snprintf (req->ids + used, sizeof req->ids - used, "%s%s", i ? "," : "", id);
        }
    }
    return s_publish (conn, req, &list);
}

static enum MHD_Result s_webhook_handle (void *cls, struct MHD_Connection *conn, const char *url,
                                         const char *method, const char *version,
                                         const char *upload_data, size_t *upload_data_size,
                                         void **con_cls);

enum MHD_Result
zhub_gateway_server_webhook_handler (void *cls, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **con_cls)
{
    enum MHD_Result rc =
        s_webhook_handle (cls, conn, url, method, version, upload_data, upload_data_size, con_cls);
    s_request_t *req = *con_cls;
    if (req && req->responded)
        zhub_gateway_server_conn_mark (cls, conn, true);
    return rc;
}

static enum MHD_Result
s_webhook_handle (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                  const char *version, const char *upload_data, size_t *upload_data_size,
                  void **con_cls)
{
    (void)cls;
    (void)version;
    s_request_t *req = *con_cls;
    if (!req)
        return MHD_NO; //  the URI callback always runs first; never happens
    if (!req->started) {
        req->started = true;
        snprintf (req->method, sizeof req->method, "%s", method);
        s_sanitise (url, req->path, sizeof req->path);
        return zhub_gateway_server_webhook_headers (conn, req, url);
    }
    if (*upload_data_size > 0) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        if (req->responded)
            return MHD_YES; //  answered already: drop the rest
        return zhub_gateway_server_webhook_body (req, upload_data, size);
    }
    if (req->publishing)
        return s_publish_finish (conn, req); //  resumed by the publisher
    if (req->responded)
        return MHD_YES;
    if (req->too_large)
        //  The whole upload was read (and dropped): the sender is listening
        //  now. The connection is not kept for another request.
        return zhub_gateway_server_error (conn, req, MHD_HTTP_CONTENT_TOO_LARGE,
                                          "payload_too_large", "the body is over the size limit",
                                          "body_over_limit", MHD_HTTP_HEADER_CONNECTION, "close");
    return s_webhook_complete (conn, req);
}
