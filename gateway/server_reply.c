//  Queuing responses: JSON bodies (answers and {"error","message"}) and
//  plain text (handshakes, metrics). Each records the status and why, for
//  the request's log line.
#include "server_internal.h"

//  Queues a JSON response (takes the reference to body). header/value add
//  one extra header (Allow, Retry-After) when not NULL.
enum MHD_Result
zhub_gateway_server_reply (struct MHD_Connection *conn, s_request_t *req, unsigned status,
                           json_t *body, const char *header, const char *value)
{
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    if (!text)
        text = zhub_strdup ("{}");
    size_t size = strlen (text);
    char *line = zhub_realloc (text, size + 2);
    line[size++] = '\n';
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, line, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (line);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (header)
        MHD_add_response_header (response, header, value);
    enum MHD_Result rc = MHD_queue_response (conn, status, response);
    MHD_destroy_response (response);
    if (rc == MHD_YES) {
        req->status = status;
        req->responded = true;
    }
    return rc;
}

//  {"error":code,"message":message}; reason (may be NULL) goes to the log.
enum MHD_Result
zhub_gateway_server_error (struct MHD_Connection *conn, s_request_t *req, unsigned status,
                           const char *code, const char *message, const char *reason,
                           const char *header, const char *value)
{
    snprintf (req->reason, sizeof req->reason, "%.*s", (int)sizeof req->reason - 1,
              reason ? reason : code);
    return zhub_gateway_server_reply (conn, req, status,
                                      json_pack ("{s:s,s:s}", "error", code, "message", message),
                                      header, value);
}

//  A plain response (handshakes, metrics); takes body.
enum MHD_Result
zhub_gateway_server_text (struct MHD_Connection *conn, s_request_t *req, unsigned status,
                          const char *content_type, char *body)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response (conn, status, response);
    MHD_destroy_response (response);
    if (rc == MHD_YES) {
        req->status = status;
        req->responded = true;
    }
    return rc;
}
