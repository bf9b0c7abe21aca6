//  The Bird client (api.bird.com), one per actor, built on zhub_http. It
//  knows the base URL, the access key (sent as `Authorization: AccessKey`,
//  never logged) and the workspace, so callers give paths relative to
//  /workspaces/{ws} (https://docs.bird.com/api). It does not interpret
//  answers: callers read resp->status / resp->json and classify failures
//  with zhub_retry. Every call returns zhub_http_request's 0 / -1.
#ifndef ZHUB_BIRD_H
#define ZHUB_BIRD_H

#include "zhub_http.h"
#include "zhub_pacer.h"

#define ZHUB_BIRD_BASE_URL_DEFAULT "https://api.bird.com"

typedef struct zhub_bird_t zhub_bird_t;

typedef struct {
    const char *base_url;     //  NULL = ZHUB_BIRD_BASE_URL_DEFAULT
    const char *api_key;      //  access key; NULL or "" sends no Authorization
    const char *workspace_id; //  the workspace every path lives under
} zhub_bird_config_t;

//  Reads ZHUB_BIRD_BASE_URL (an absolute http(s) URL: the API's host, no
//  version path; default ZHUB_BIRD_BASE_URL_DEFAULT), ZHUB_BIRD_API_KEY (a
//  secret) and ZHUB_BIRD_WORKSPACE_ID into *config; the strings point into
//  the environment. Bird names workspaces by UUID and answers anything else
//  with an error on every call (https://docs.bird.com/api: workspaceId is
//  "string · uuid" in every path), so a workspace id that is set must be
//  one. Returns 0, or -1 with the variable named in err. For the actors
//  that call Bird, once at start.
int zhub_bird_config_load (zhub_bird_config_t *config, char *err, size_t err_size);

//  Logs the configuration (`event=config`), the key masked.
void zhub_bird_config_log (const zhub_bird_config_t *config);

//  Creates a client over http (borrowed: it must outlive this client).
zhub_bird_t *zhub_bird_new (const zhub_bird_config_t *config, zhub_http_t *http);

//  NULL-safe; nulls *self_p.
void zhub_bird_destroy (zhub_bird_t **self_p);

//  Any workspace call: path starts with "/" and is relative to
//  /workspaces/{ws} ("/contacts/abc"), already escaped. body may be NULL.
int zhub_bird_request (zhub_bird_t *self, const char *method, const char *path, const json_t *body,
                       const char *traceparent, zhub_http_response_t *resp);

//  GET /workspaces/{ws}/contacts/{id}.
int zhub_bird_contact_get (zhub_bird_t *self, const char *id, const char *traceparent,
                           zhub_http_response_t *resp);

//  PATCH /workspaces/{ws}/contacts/identifiers/{key}/{value}: create or
//  update the contact owning that identifier (200 updated, 201 created).
//  key and value are escaped here.
int zhub_bird_contact_upsert (zhub_bird_t *self, const char *key, const char *value,
                              const json_t *body, const char *traceparent,
                              zhub_http_response_t *resp);

//  PATCH /workspaces/{ws}/contacts/{id}.
int zhub_bird_contact_update (zhub_bird_t *self, const char *id, const json_t *body,
                              const char *traceparent, zhub_http_response_t *resp);

//  DELETE /workspaces/{ws}/contacts/{id}: 204; 404 when Bird knows no such
//  contact (an eraser counts that as done).
int zhub_bird_contact_delete (zhub_bird_t *self, const char *id, const char *traceparent,
                              zhub_http_response_t *resp);

//  -------------------------------------------------------------------
//  Channel messages (the scheduler's WhatsApp confirmations, reminders
//  and links)

//  POST /workspaces/{ws}/channels/{channel_id}/messages: sends body (a
//  channel message: receiver, body or template, reference) on the channel;
//  Bird answers 202 once it took the message, whose delivery it reports
//  later (https://docs.bird.com/api/channels-api/api-reference/messaging).
//  channel_id is escaped here.
int zhub_bird_channel_message_send (zhub_bird_t *self, const char *channel_id, const json_t *body,
                                    const char *traceparent, zhub_http_response_t *resp);

//  The pacer of this client's host (rate budget, circuit breaker): its
//  figures are for logs and metrics. Every call goes through it.
const zhub_pacer_t *zhub_bird_pacer (const zhub_bird_t *self);

//  The paths the contact calls above use under /workspaces/{ws} (pure),
//  for showing a call before it is made (`zhub dlq replay --dry-run`):
//  "/contacts/{id}" and "/contacts/identifiers/{key}/{value}", every part
//  escaped. Fresh strings.
char *zhub_bird_contact_path (const char *id);
char *zhub_bird_contact_identifier_path (const char *key, const char *value);

#endif
