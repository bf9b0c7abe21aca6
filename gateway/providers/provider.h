//  The interface every webhook provider implements. A provider is pure: it
//  verifies a request's signature and turns a body into bus messages, given
//  only the request's method, URL, headers, body and the current time. It
//  does no HTTP and no I/O, so unit tests call it directly with vectors.
//
//  Adding a provider: write providers/<name>.{h,c} exporting a
//  zhub_provider_t, add it to the table in provider.c and its secret to
//  gateway/config.c. zhub_provider_route maps a request path to it:
//  /v1/webhooks/<name>, /v1/webhooks/generic/<sender> (Standard Webhooks)
//  and /v1/events (CloudEvents).
#ifndef ZHUB_PROVIDER_H
#define ZHUB_PROVIDER_H

#include "zhub_common.h"
#include "zhub_msg.h"

//  Looks a request header up by name, case-insensitively. Returns the value
//  (not copied, valid for the request) or NULL when absent.
typedef const char *(zhub_header_fn)(void *ctx, const char *name);

//  One webhook request as the provider sees it.
typedef struct {
    const char *method;     //  "POST"
    const char *url;        //  the URL the provider called: scheme://host/path?query,
                            //  exactly as sent (nothing decoded)
    zhub_header_fn *header; //  header lookup (case-insensitive)
    void *header_ctx;
    const char *body; //  raw bytes as received; need not end in NUL
    size_t body_size;
    int64_t now_ms;         //  wall clock, unix ms (tests pass a fixed time)
    const char *route_name; //  the <sender> of /v1/webhooks/generic/<sender>, else NULL
    //  The secrets the request was verified with: parse needs them when a
    //  check is per event (Graph's clientState). May be NULL.
    const struct zhub_verify_opts_t *opts;
} zhub_webhook_t;

//  What a provider checks a signature against. Each secret may have a
//  previous value, accepted as well while a rotation is under way
//  (zhub_provider_verify tries both).
typedef struct zhub_verify_opts_t {
    const char *secret;   //  signing secret; NULL or "" fails every request
    const char *previous; //  the secret being rotated out, or NULL
    const char *token;    //  a handshake token (WhatsApp's verify token), or NULL
    const char *token_previous;
    //  /v1/events: the bearer tokens it accepts (events and admin ones,
    //  gateway/tokens.h), or NULL; the other providers ignore it.
    const struct zhub_tokens_t *tokens;
    int64_t max_age_ms;    //  reject signature timestamps older than now - this
    int64_t max_future_ms; //  reject signature timestamps newer than now + this
} zhub_verify_opts_t;

//  A growable list of messages produced from one request (owned).
typedef struct {
    zhub_msg_t **items;
    size_t count;
    size_t capacity;
} zhub_msg_list_t;

//  Appends *msg_p to the list and takes it over (nulls *msg_p).
void zhub_msg_list_push (zhub_msg_list_t *list, zhub_msg_t **msg_p);

//  Destroys every message and frees the array; the list is empty after.
void zhub_msg_list_clear (zhub_msg_list_t *list);

//  Appends every message of from to to, in order, and leaves from empty.
//  A parse that yields several messages collects them apart and moves
//  them to out only once all are good, since on REJECT out stays empty.
void zhub_msg_list_move (zhub_msg_list_t *to, zhub_msg_list_t *from);

//  The answer to a handshake (a request that proves the endpoint, not an
//  event): status, content type and body. body is owned (free it).
typedef struct {
    unsigned status;
    const char *content_type;
    char *body;
} zhub_handshake_t;

//  Flags of a provider.
#define ZHUB_PROVIDER_OWN_ROUTE 1 //  not reachable under /v1/webhooks/<name>
#define ZHUB_PROVIDER_ALLOW_GET 2 //  GET requests reach its handshake

typedef struct {
    //  Path segment under /v1/webhooks/ and the envelope's `source`.
    const char *name;
    unsigned flags;
    //  The content types its requests may have; NULL means application/json.
    //  value may be NULL (no Content-Type header).
    bool (*content_type_ok) (const char *value);
    //  Optional. Called once the headers are in, before the body: returns
    //  ZHUB_OK with reply filled when the request is a handshake to answer
    //  at once (whatever the status in reply), ZHUB_NOTFOUND when it is an
    //  ordinary event delivery. hook->body is empty here.
    zhub_rc_t (*handshake) (const zhub_webhook_t *hook, const struct zhub_verify_opts_t *opts,
                            zhub_handshake_t *reply);
    //  Default tolerance for the signature timestamp (ms) and clock skew.
    int64_t default_max_age_ms;
    int64_t default_max_future_ms;
    //  Checks the request's signature. Returns ZHUB_OK, or ZHUB_REJECT with
    //  a short reason code in why ("signature_mismatch", "timestamp_stale",
    //  "missing_signature", "secret_unset", ...). The reason never holds a
    //  secret or body bytes; it is logged and returned to the caller.
    zhub_rc_t (*verify) (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, char *why,
                         size_t why_size);
    //  Turns a verified body into messages appended to out (each one
    //  passes zhub_msg_validate). Returns ZHUB_OK, or ZHUB_REJECT with a
    //  human-readable reason in why for a body that can never be accepted;
    //  on REJECT out is left empty.
    zhub_rc_t (*parse) (const zhub_webhook_t *hook, zhub_msg_list_t *out, char *why,
                        size_t why_size);
} zhub_provider_t;

//  A request header's value, or NULL when absent or empty.
const char *zhub_webhook_header (const zhub_webhook_t *hook, const char *name);

//  Writes reason into why and returns ZHUB_REJECT: the one-line exit of
//  every verify and parse function.
zhub_rc_t zhub_provider_reject (char *why, size_t why_size, const char *reason);

//  The providers in table order (for configuration and metrics).
size_t zhub_provider_count (void);
const zhub_provider_t *zhub_provider_at (size_t index);

//  The provider serving /v1/webhooks/<name>, or NULL when there is none.
const zhub_provider_t *zhub_provider_find (const char *name);

//  The provider serving a (decoded) request path, or NULL (404). For
//  /v1/webhooks/generic/<sender> *route_name points at <sender> inside
//  path, which must be 1..64 of [a-z0-9_-]; else *route_name is NULL.
const zhub_provider_t *zhub_provider_route (const char *path, const char **route_name);

//  Runs provider->verify with opts->secret, then, when that fails with
//  signature_mismatch and a previous secret is set, with the previous one
//  (key rotation). Same contract as verify.
zhub_rc_t zhub_provider_verify (const zhub_provider_t *provider, const zhub_webhook_t *hook,
                                const struct zhub_verify_opts_t *opts, char *why, size_t why_size);

//  True when value equals secret or previous (constant time for each).
bool zhub_provider_secret_match (const char *value, size_t value_size, const char *secret,
                                 const char *previous);

//  The last step of every verify: compares the signature the request
//  carries (given) with the one made with opts->secret (expected; for a
//  bearer token, the secret itself) in constant time. Returns ZHUB_OK, or
//  ZHUB_REJECT with "signature_mismatch", the one reason on which
//  zhub_provider_verify tries the previous secret, so it must not vary.
zhub_rc_t zhub_provider_check_signature (const char *expected, const char *given, char *why,
                                         size_t why_size);

//  Checks a signature's timestamp, the guard against a captured request
//  sent again later: stamp is decimal digits counting units of unit_ms
//  (1000: seconds, 1: ms) since the epoch, and must lie within
//  now - opts->max_age_ms .. now + opts->max_future_ms. Returns ZHUB_OK, or
//  ZHUB_REJECT with "missing_timestamp" (stamp NULL), "malformed_timestamp",
//  "timestamp_stale" or "timestamp_future".
zhub_rc_t zhub_provider_check_time (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts,
                                    const char *stamp, int64_t unit_ms, char *why, size_t why_size);

//  ---------------------------------------------------------------------
//  Helpers shared by the providers (pure).

//  Standard base64 (with padding) of HMAC-SHA256(key, parts...) into out
//  (at least 45 bytes). parts/sizes are concatenated in order.
void zhub_provider_hmac_b64 (const char *key, const void *const *parts, const size_t *sizes,
                             size_t count, char *out, size_t out_size);

//  Hex (lower case) of HMAC-SHA256(key, parts...) into out (>= 65 bytes).
void zhub_provider_hmac_hex (const void *key, size_t key_size, const void *const *parts,
                             const size_t *sizes, size_t count, char *out, size_t out_size);

//  "<prefix>" + hex SHA-256 of parts joined with '\n' (each NULL part
//  counts as empty). Fresh string. For ids built from what names an event.
char *zhub_provider_hash_id (const char *prefix, const char *const *parts, size_t count);

//  A string field of a map as a fresh NUL-terminated string, or NULL.
char *zhub_provider_str (const msgpack_object *map, const char *key);

//  The value of query parameter key in url (after '?'), percent- and
//  '+'-decoded, as a fresh string; NULL when absent, undecodable or
//  holding a NUL byte.
char *zhub_provider_query (const char *url, const char *key);

//  Parses a non-negative decimal integer made of digits only (no sign, no
//  spaces) that fits int64. Returns 0, or -1 when malformed.
int zhub_provider_parse_digits (const char *text, int64_t *out);

//  Converts a JSON body faithfully (proto/zhub_json.h) into *sbuf as
//  msgpack and unpacks it into *result. The unpacked strings point into
//  sbuf, so the caller keeps sbuf until done with result, then calls
//  zhub_provider_json_body_destroy (also on failure). Returns 0, or -1
//  with a reason in why.
int zhub_provider_json_body (const zhub_webhook_t *hook, msgpack_sbuffer *sbuf,
                             msgpack_unpacked *result, char *why, size_t why_size);

//  Frees what zhub_provider_json_body set up (result, then sbuf).
void zhub_provider_json_body_destroy (msgpack_sbuffer *sbuf, msgpack_unpacked *result);

//  Validates *msg_p and appends it to out (taking it over): the last step
//  of building each message. Returns ZHUB_OK, or ZHUB_REJECT with
//  zhub_msg_validate's reason in why and *msg_p destroyed.
zhub_rc_t zhub_provider_push_valid (zhub_msg_list_t *out, zhub_msg_t **msg_p, char *why,
                                    size_t why_size);

//  Copies a msgpack object (a map) into msg->data, re-packed as is: the
//  same values, types and key order as the JSON it came from.
void zhub_provider_set_data (zhub_msg_t *msg, const msgpack_object *obj);

//  Writes an id component from an integer or a short plain string object
//  into buf. Returns 0, or -1 when obj is absent or of another kind (or a
//  string with characters other than [A-Za-z0-9_.-], or too long).
int zhub_provider_id_part (const msgpack_object *obj, char *buf, size_t size);

#endif
