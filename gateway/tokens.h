//  The bearer tokens of POST /v1/events and of the admin API, and what
//  each may publish. Pure: parsing a configured list, finding the token a
//  request carries (in constant time), and the scope decision for an
//  event type. gateway/config.c reads the variables, providers/events.c
//  authenticates a request, the server answers.
//
//  Syntax of ZHUB_EVENTS_TOKEN and ZHUB_ADMIN_TOKEN (and of their
//  <NAME>_PREVIOUS twins, read the same way):
//
//    list     = entry *( "," entry )        spaces around an entry are ignored
//    entry    = [ name "@" ] token [ ":" pattern *( "|" pattern ) ]
//    name     = 1*32 ( ALPHA / DIGIT / "-" / "_" / "." )
//    token    = 1*1024 ( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" / "=" )
//    pattern  = a bus subscription pattern ("tour.*", "conversation.>")
//
//  A token is what RFC 6750 lets a Bearer credential hold, so none holds
//  ',', '@', ':' or '|' and a plain single token reads as one entry, as
//  it always did. The name says who in the logs and the audit trail (the
//  token itself is never logged, and only its SHA-256 is kept); without
//  one an entry is "<events|admin>-<n>" (n counts from 1 in its variable),
//  "<kind>-previous-<n>" in a _PREVIOUS twin. Patterns belong to events
//  tokens; without them an events token may publish the AI events of the
//  catalogue (zhub_tokens_default_type). Admin tokens take none: they may
//  publish any type /v1/events carries, admin-only ones included, and
//  every such publish is audited (admin.audited).
//
//  Refused at start, naming the variable and the entry, never the token:
//  an empty entry, a bad name or token character, a name or token given
//  twice (in either variable), a malformed pattern, a pattern on an admin
//  token, an events pattern no events token can ever use (one that only
//  matches admin-only or reserved types), more than ZHUB_TOKENS_MAX tokens
//  of a kind or ZHUB_TOKEN_PATTERNS_MAX patterns in an entry.
#ifndef ZHUB_GATEWAY_TOKENS_H
#define ZHUB_GATEWAY_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#define ZHUB_TOKEN_NAME_MAX 32
#define ZHUB_TOKEN_SIZE_MAX 1024
#define ZHUB_TOKENS_MAX 16         //  tokens of one kind (a variable with its _PREVIOUS)
#define ZHUB_TOKEN_PATTERNS_MAX 16 //  patterns of one entry
#define ZHUB_TOKEN_DIGEST_SIZE 32  //  SHA-256
#define ZHUB_TOKENS_SLOTS (2 * ZHUB_TOKENS_MAX)

typedef enum { ZHUB_TOKEN_UNUSED = 0, ZHUB_TOKEN_EVENTS, ZHUB_TOKEN_ADMIN } zhub_token_kind_t;

typedef struct {
    zhub_token_kind_t kind;
    char name[ZHUB_TOKEN_NAME_MAX + 1];
    unsigned char digest[ZHUB_TOKEN_DIGEST_SIZE]; //  SHA-256 of the token
    size_t size;                                  //  the token's length, for the masked log
    const char *variable;                         //  where it was configured (a static string)
    bool previous;                                //  from <variable>_PREVIOUS
    char **patterns;                              //  events: what it may publish; NULL: the default
    size_t pattern_count;
} zhub_token_t;

//  Every configured token. A fixed number of slots so that a lookup
//  compares as many digests whatever is configured.
typedef struct zhub_tokens_t {
    zhub_token_t items[ZHUB_TOKENS_SLOTS];
    size_t count;
} zhub_tokens_t;

//  Adds the entries of one variable's value (text; NULL or blank adds
//  none) as tokens of kind. variable names the variable in messages (keep
//  it static: the tokens point at it); previous marks a _PREVIOUS twin.
//  Returns 0, or -1 with a message in err ("ZHUB_EVENTS_TOKEN entry 2
//  (crm): ...") that never holds token bytes; on -1 self holds what it
//  held before the call.
int zhub_tokens_parse (zhub_tokens_t *self, zhub_token_kind_t kind, const char *variable,
                       const char *text, bool previous, char *err, size_t err_size);

//  Frees the patterns; self is empty after (and reusable).
void zhub_tokens_clear (zhub_tokens_t *self);

//  How many tokens of kind are configured (previous: only _PREVIOUS ones,
//  else only the others).
size_t zhub_tokens_count (const zhub_tokens_t *self, zhub_token_kind_t kind, bool previous);

//  The configured token equal to given (given_size bytes), or NULL. Runs
//  in the same time whichever token matches, none, and however many are
//  configured: the SHA-256 of given is compared with every slot's digest
//  (sodium_memcmp on fixed-size digests), used or not, with no early exit.
const zhub_token_t *zhub_tokens_match (const zhub_tokens_t *self, const char *given,
                                       size_t given_size);

//  ---------------------------------------------------------------------
//  What may be published through /v1/events

//  True for a type no token may publish through /v1/events: webhook.>
//  (a provider's, verified by its signature), dlq.> (the broker's) and
//  admin.> (the gateway's own audit trail), and those words alone.
bool zhub_tokens_reserved (const char *type);

//  True for a type only an admin token may publish: those that delete or
//  change data outside the bus or the bus's own state. Written once, here:
//  contact.erase, contact.forget, contact.forgotten, contact.erased,
//  contact.reconcile and dead-letter.command.>.
bool zhub_tokens_admin_only (const char *type);

//  True for a type an events token without patterns may publish: an event
//  of the catalogue whose producers are ZHUB_CATALOGUE_AI_FLOWS (the Bird
//  AI flows, through /v1/events), unless it is admin-only.
bool zhub_tokens_default_type (const char *type);

typedef enum {
    ZHUB_SCOPE_ALLOWED = 0,
    ZHUB_SCOPE_FORBIDDEN, //  outside the token's patterns (or reserved)
    ZHUB_SCOPE_ADMIN_ONLY //  an admin-only type and not an admin token
} zhub_scope_t;

//  Whether token may publish an event of type. An admin token may publish
//  any type that is not reserved; an events token what its patterns (or
//  the default) match, never an admin-only type.
zhub_scope_t zhub_token_scope (const zhub_token_t *token, const char *type);

//  The token's patterns joined with '|' ("default" without patterns,
//  "any" for an admin token) into out, for logs and /v1/status.
const char *zhub_token_scope_text (const zhub_token_t *token, char *out, size_t out_size);

#endif
