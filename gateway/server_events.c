//  POST /v1/events once its event is parsed: may the token it came with
//  publish that type (403 forbidden_topic when not, nothing published),
//  and for an admin token the audit trail: one `event=audit` line and an
//  admin.audited record, put before the event in the same publish so that
//  the record is on the bus whenever the event is. The decisions are
//  gateway/tokens.c's and the record is providers/events.c's; this file
//  only fetches the peer's address and answers.
#include "server_internal.h"

//  "host:port" ("[v6]:port") of the request's peer, or "unknown".
static void
s_peer (struct MHD_Connection *conn, char *out, size_t size)
{
    snprintf (out, size, "unknown");
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *addr = info ? info->client_addr : NULL;
    if (!addr || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
        return;
    socklen_t addr_size =
        addr->sa_family == AF_INET ? sizeof (struct sockaddr_in) : sizeof (struct sockaddr_in6);
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getnameinfo (addr, addr_size, host, sizeof host, port, sizeof port,
                     NI_NUMERICHOST | NI_NUMERICSERV))
        return;
    snprintf (out, size, addr->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

//  One `event=audit` line: who, when, what, from where; decision is
//  "accepted" (an admin token's publish) or "refused" (an admin-only type
//  sent with an events token).
static void
s_audit_log (const char *decision, const zhub_token_t *token, const zhub_msg_t *msg,
             const char *peer, const char *forwarded_for, const char *audit_id, int64_t now_ms)
{
    char at[40], who[ZHUB_TOKEN_NAME_MAX + 1], type[ZHUB_MSG_MAX_TYPE + 1];
    char id[ZHUB_MSG_MAX_ID + 1], subject[ZHUB_MSG_MAX_ID + 1], from[300];
    zhub_time_format (now_ms, at, sizeof at);
    s_sanitise (token->name, who, sizeof who);
    s_sanitise (msg->type, type, sizeof type);
    s_sanitise (msg->id, id, sizeof id);
    s_sanitise (msg->subject ? msg->subject : "-", subject, sizeof subject);
    s_sanitise (forwarded_for && *forwarded_for ? forwarded_for : "-", from, sizeof from);
    zhub_log (strcmp (decision, "accepted") ? ZHUB_LOG_WARN : ZHUB_LOG_INFO, "audit",
              "decision=%s who=%s kind=%s at=%s type=%s id=%s subject=%s peer=%s "
              "forwarded_for=%s audit_id=%s",
              decision, who, token->kind == ZHUB_TOKEN_ADMIN ? "admin" : "events", at, type, id,
              subject, peer, from, audit_id ? audit_id : "-");
}

//  Returns true when the request goes on to be published (list then holds
//  the audit records first, when token is an admin one); false when it was
//  answered here, with *answer the handler's result.
bool
zhub_gateway_server_events_admit (struct MHD_Connection *conn, s_request_t *req,
                                  const zhub_token_t *token, zhub_msg_list_t *list,
                                  enum MHD_Result *answer)
{
    char peer[300];
    s_peer (conn, peer, sizeof peer);
    const char *forwarded_for = zhub_gateway_server_header (conn, "X-Forwarded-For");
    int64_t now_ms = zhub_now_ms ();
    for (size_t i = 0; i < list->count; i++) {
        const zhub_msg_t *msg = list->items[i];
        zhub_scope_t scope = zhub_token_scope (token, msg->type);
        if (scope == ZHUB_SCOPE_ALLOWED)
            continue;
        char message[400], type[ZHUB_MSG_MAX_TYPE + 1];
        s_sanitise (msg->type, type, sizeof type);
        if (scope == ZHUB_SCOPE_ADMIN_ONLY) {
            s_audit_log ("refused", token, msg, peer, forwarded_for, NULL, now_ms);
            snprintf (message, sizeof message,
                      "%s needs an admin token (ZHUB_ADMIN_TOKEN); this token may not publish it",
                      type);
        } else
            snprintf (message, sizeof message, "this token may not publish %s", type);
        *answer = zhub_gateway_server_error (
            conn, req, MHD_HTTP_FORBIDDEN, "forbidden_topic", message,
            scope == ZHUB_SCOPE_ADMIN_ONLY ? "admin_only" : "forbidden_topic", NULL, NULL);
        return false;
    }
    if (token->kind != ZHUB_TOKEN_ADMIN)
        return true;
    //  Every event an admin token publishes is recorded, first.
    zhub_msg_list_t audited = {0};
    for (size_t i = 0; i < list->count; i++) {
        char why[256];
        zhub_msg_t *audit = zhub_events_audit_new (token, list->items[i], peer, forwarded_for,
                                                   now_ms, why, sizeof why);
        if (!audit) {
            //  Nothing of ours may fail silently here: no record, no publish.
            zhub_msg_list_clear (&audited);
            zhub_error ("audit_failed", "reason=\"%s\"", why);
            *answer = zhub_gateway_server_error (conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                                 "internal", "the audit record could not be made",
                                                 "audit_failed", NULL, NULL);
            return false;
        }
        s_audit_log ("accepted", token, list->items[i], peer, forwarded_for, audit->id, now_ms);
        zhub_msg_list_push (&audited, &audit);
    }
    req->audits = audited.count;
    zhub_msg_list_move (&audited, list);
    *list = audited;
    return true;
}
