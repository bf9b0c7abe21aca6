//  What every API connector (bird, calendly, google, graph, hubspot) does
//  the same way, written once: it picks and trims its base URL, holds a
//  fixed Authorization line or makes a per-call Bearer line from an access
//  token, joins base URL and path, and sends the call through its host's
//  pacer or straight to the shared zhub_http client; OAuth2 token requests
//  are a form POST built here. Secrets it formats are wiped before they are
//  freed. The connectors keep only their API's paths and bodies.
#ifndef ZHUB_CONNECTOR_H
#define ZHUB_CONNECTOR_H

#include "zhub_http.h"
#include "zhub_pacer.h"

//  Embedded in each connector's struct. Read-only outside zhub_connector.c,
//  except that a connector may replace base_url (a heap string) right after
//  zhub_connector_init, e.g. to append a fixed prefix.
typedef struct {
    zhub_http_t *http;   //  borrowed: it must outlive the connector
    char *base_url;      //  no trailing '/'
    char *auth_header;   //  "Authorization: <scheme> <secret>" sent on every call, or NULL
    zhub_pacer_t *pacer; //  rate budget and circuit breaker of the host; NULL = unpaced
} zhub_connector_t;

typedef struct {
    const char *base_url;         //  as configured; NULL or "" = default_base_url
    const char *default_base_url; //  the API's public address
    const char *auth_scheme;      //  "Bearer", "AccessKey"; with secret, the fixed header
    const char *secret;           //  NULL or "" = no fixed Authorization
    bool paced;                   //  calls go through a pacer (hosts with a rate budget)
} zhub_connector_config_t;

//  One call. Exactly one of path and url says where it goes.
typedef struct {
    const char *method;       //  "GET", "POST", "PATCH", "PUT", "DELETE"
    const char *path;         //  after base_url; starts with '/', already escaped
    const char *url;          //  absolute (used when path is NULL)
    const json_t *body;       //  JSON body or NULL
    const char *access_token; //  not NULL (even ""): "Authorization: Bearer <it>" for this
                              //  call, instead of the fixed header
    const char *extra_header; //  one more "Name: value" line, or NULL
    const char *traceparent;  //  or NULL
    bool search;              //  the pacer's search spacing applies
    int64_t timeout_ms;       //  this call's timeout (0 = the HTTP client's)
} zhub_connector_call_t;

//  Fills *self over http (borrowed). Never fails.
void zhub_connector_init (zhub_connector_t *self, zhub_http_t *http,
                          const zhub_connector_config_t *config);

//  Wipes the fixed Authorization line and frees what self holds; self may
//  be initialised again. NULL-safe.
void zhub_connector_fini (zhub_connector_t *self);

//  Makes one call (through the pacer when there is one). Returns what
//  zhub_http_request / zhub_pacer_call return: 0 when an answer arrived,
//  -1 on a transport failure.
int zhub_connector_request (zhub_connector_t *self, const zhub_connector_call_t *call,
                            zhub_http_response_t *resp);

//  One field of a form body.
typedef struct {
    const char *name;  //  sent as given
    const char *value; //  escaped here; NULL is sent empty
} zhub_connector_field_t;

//  POST url with the form "name=value&…" of the count fields, in order,
//  and no Authorization header (not even the fixed one): for OAuth2 token
//  endpoints, which take the secrets in the form. The form is wiped
//  afterwards. Returns as zhub_connector_request.
int zhub_connector_token (zhub_connector_t *self, const char *url,
                          const zhub_connector_field_t *fields, size_t count,
                          zhub_http_response_t *resp);

#endif
