//  CloudEvents over HTTP for our own services: POST /v1/events in the
//  structured (application/cloudevents+json) or binary (ce-* headers, the
//  body is the data) content mode, with `Authorization: Bearer <token>`,
//  one of ZHUB_EVENTS_TOKEN's or ZHUB_ADMIN_TOKEN's (gateway/tokens.h).
//  The event's type is the topic as it is, so any service can publish
//  catalogue events (conversation.started, tour.requested, ...) without a
//  bus client; which types a token may publish is its scope, and what an
//  admin token publishes is audited (zhub_events_audit_new). Pure; see
//  provider.h.
#ifndef ZHUB_EVENTS_H
#define ZHUB_EVENTS_H

#include "provider.h"
#include "tokens.h"

#define ZHUB_EVENTS_MAX_AGE_MS 0
#define ZHUB_EVENTS_MAX_FUTURE_MS 0

extern const zhub_provider_t zhub_provider_events;

//  True for a type a service may publish through /v1/events: a valid topic
//  outside webhook.>, dlq.> and admin.> (zhub_tokens_reserved: those are a
//  provider's, the broker's and the audit trail's; a token holder must not
//  be able to forge a provider's webhook or an audit record).
bool zhub_events_type_allowed (const char *type);

//  The token a request's `Authorization: Bearer` carries, looked up in
//  tokens in constant time (zhub_tokens_match), or NULL with the reason
//  in why: "secret_unset" (no token configured), "missing_signature" (no
//  Authorization), "not_bearer", "signature_mismatch" (no such token).
//  The provider's verify is this, with opts->tokens.
const zhub_token_t *zhub_events_authenticate (const zhub_webhook_t *hook,
                                              const zhub_tokens_t *tokens, char *why,
                                              size_t why_size);

//  The audit record (admin.audited, closed) of msg, published through
//  /v1/events with token (an admin one) from peer ("host:port"), at
//  now_ms; forwarded_for is the request's X-Forwarded-For or NULL. Its
//  id is "audit:" + hex SHA-256 of the token's name and msg's id: a retry
//  of the same request is stored once, another admin's is not. Copies no
//  data of msg. NULL with a reason in why when it cannot be built (a
//  value past the catalogue's bounds, which a validated msg never has).
zhub_msg_t *zhub_events_audit_new (const zhub_token_t *token, const zhub_msg_t *msg,
                                   const char *peer, const char *forwarded_for, int64_t now_ms,
                                   char *why, size_t why_size);

#endif
