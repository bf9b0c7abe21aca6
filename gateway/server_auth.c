//  The admin bearer token check, shared by every endpoint of the admin
//  listener that needs it (/v1/status, the console's API): one place, so
//  that each refuses the same way (401 JSON error with WWW-Authenticate,
//  403 when the admin API is closed or the token is not an admin one).
#include "server_internal.h"

//  Lets a request through when it carries one of the admin tokens (any of
//  them: a rotation keeps several), looked up in constant time among every
//  configured token. An events token is known but refused (403).
enum MHD_Result
zhub_gateway_server_admin_auth (struct MHD_Connection *conn, s_request_t *req)
{
    const zhub_tokens_t *tokens = &req->server->config->tokens;
    if (!zhub_tokens_count (tokens, ZHUB_TOKEN_ADMIN, false)
        && !zhub_tokens_count (tokens, ZHUB_TOKEN_ADMIN, true))
        return zhub_gateway_server_error (conn, req, MHD_HTTP_FORBIDDEN, "forbidden",
                                          "the admin API is closed: ZHUB_ADMIN_TOKEN is not set",
                                          "admin_token_unset", NULL, NULL);
    const char *auth = zhub_gateway_server_header (conn, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *given = auth && !strncasecmp (auth, "Bearer ", 7) ? auth + 7 : NULL;
    const zhub_token_t *token = given ? zhub_tokens_match (tokens, given, strlen (given)) : NULL;
    if (!token)
        return zhub_gateway_server_error (
            conn, req, MHD_HTTP_UNAUTHORIZED, "unauthorized", "a valid bearer token is required",
            given ? "bad_token" : "missing_token", MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    snprintf (req->who, sizeof req->who, "%s", token->name);
    if (token->kind != ZHUB_TOKEN_ADMIN)
        return zhub_gateway_server_error (conn, req, MHD_HTTP_FORBIDDEN, "forbidden",
                                          "this token is not an admin token (ZHUB_ADMIN_TOKEN)",
                                          "not_admin_token", NULL, NULL);
    return MHD_YES;
}
