//  Bearer tokens and their scopes (tokens.h has the syntax). Kept apart
//  from config.c so that the parser and every scope decision are tested
//  without the environment, and from providers/events.c so that the list
//  of what needs an admin token is written once. Only digests of the
//  tokens are kept: nothing here can log, or hand back, a token.
#include "tokens.h"
#include "zhub_catalogue.h"
#include "zhub_common.h"
#include "zhub_msg.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Only an admin token may publish these: each deletes or changes data
//  outside the bus, or the bus's own state, on an operator's word.
static const char *const s_admin_only[] = {
    "contact.erase",         //  erases a person; with upstream in HubSpot, Bird, the calendars
    "contact.forget",        //  every actor deletes what it keeps; the broker redacts its log
    "contact.forgotten",     //  an actor's report on an erase: `zhub erase contact` trusts it
    "contact.erased",        //  the broker's report on an erase: likewise
    "contact.reconcile",     //  contact-sync rewrites contacts from HubSpot (`zhub pub`)
    "dead-letter.command.>", //  replay, edit and purge dead letters (`zhub dlq`)
};

//  No token publishes these through /v1/events (zhub_tokens_reserved).
static const char *const s_reserved[] = {"webhook.>", "dlq.>", "admin.>"};

//  ---------------------------------------------------------------------
//  Patterns

//  A subscription pattern the bus accepts: dotted tokens of [A-Za-z0-9_-],
//  "*" for one token, ">" as the last one. It is valid exactly when it
//  matches the topic made by spelling each wildcard as a plain token.
static bool
s_pattern_valid (const char *pattern)
{
    char topic[ZHUB_MSG_MAX_TYPE + 1];
    size_t size = strlen (pattern);
    if (size == 0 || size > ZHUB_MSG_MAX_TYPE)
        return false;
    for (size_t i = 0; i <= size; i++)
        topic[i] = pattern[i] == '*' || pattern[i] == '>' ? 'x' : pattern[i];
    return zhub_topic_valid (topic) && zhub_topic_match (pattern, topic);
}

//  True when every topic inner matches is matched by outer too (both
//  valid patterns).
static bool
s_within (const char *inner, const char *outer)
{
    const char *p = inner, *q = outer;
    while (*p && *q) {
        size_t np = strcspn (p, "."), nq = strcspn (q, ".");
        if (nq == 1 && *q == '>')
            return true; //  takes the rest, and inner has at least this token
        if (np == 1 && *p == '>')
            return false; //  inner goes on past what one token of outer covers
        bool any = nq == 1 && *q == '*';
        if (!any && ((np == 1 && *p == '*') || np != nq || memcmp (p, q, np)))
            return false;
        p += np + (p[np] == '.');
        q += nq + (q[nq] == '.');
    }
    return !*p && !*q;
}

static bool
s_in (const char *const *patterns, size_t count, const char *type)
{
    for (size_t i = 0; i < count; i++)
        if (zhub_topic_match (patterns[i], type))
            return true;
    return false;
}

#define s_COUNT(array) (sizeof array / sizeof array[0])

bool
zhub_tokens_reserved (const char *type)
{
    if (!type)
        return true;
    for (size_t i = 0; i < s_COUNT (s_reserved); i++) {
        size_t stem = strlen (s_reserved[i]) - 2; //  "webhook" of "webhook.>"
        if (!strncmp (type, s_reserved[i], stem) && (type[stem] == 0 || type[stem] == '.'))
            return true;
    }
    return false;
}

bool
zhub_tokens_admin_only (const char *type)
{
    return type && s_in (s_admin_only, s_COUNT (s_admin_only), type);
}

bool
zhub_tokens_default_type (const char *type)
{
    //  A type of the catalogue, not a form (forms are families: webhook.>)
    const zhub_event_spec_t *spec = zhub_catalogue_find (type);
    return spec && !spec->pattern && spec->producers
           && strstr (spec->producers, ZHUB_CATALOGUE_AI_FLOWS) && !zhub_tokens_admin_only (type)
           && !zhub_tokens_reserved (type);
}

//  A pattern whose every match an events token is refused anyway.
static bool
s_pattern_useless (const char *pattern)
{
    for (size_t i = 0; i < s_COUNT (s_admin_only); i++)
        if (s_within (pattern, s_admin_only[i]))
            return true;
    for (size_t i = 0; i < s_COUNT (s_reserved); i++)
        if (s_within (pattern, s_reserved[i]))
            return true;
    //  the words alone ("webhook", "dlq", "admin") are reserved too
    return !strchr (pattern, '*') && !strchr (pattern, '>') && zhub_tokens_reserved (pattern);
}

zhub_scope_t
zhub_token_scope (const zhub_token_t *token, const char *type)
{
    if (!token || !type || zhub_tokens_reserved (type))
        return ZHUB_SCOPE_FORBIDDEN;
    if (token->kind == ZHUB_TOKEN_ADMIN)
        return ZHUB_SCOPE_ALLOWED;
    if (token->kind != ZHUB_TOKEN_EVENTS)
        return ZHUB_SCOPE_FORBIDDEN;
    if (zhub_tokens_admin_only (type))
        return ZHUB_SCOPE_ADMIN_ONLY;
    bool allowed = token->patterns
                       ? s_in ((const char *const *)token->patterns, token->pattern_count, type)
                       : zhub_tokens_default_type (type);
    return allowed ? ZHUB_SCOPE_ALLOWED : ZHUB_SCOPE_FORBIDDEN;
}

const char *
zhub_token_scope_text (const zhub_token_t *token, char *out, size_t out_size)
{
    if (!out_size)
        return out;
    out[0] = 0;
    if (token->kind == ZHUB_TOKEN_ADMIN)
        snprintf (out, out_size, "any");
    else if (!token->patterns)
        snprintf (out, out_size, "default");
    else {
        size_t used = 0;
        for (size_t i = 0; i < token->pattern_count && used < out_size; i++)
            used += (size_t)snprintf (out + used, out_size - used, "%s%s", i ? "|" : "",
                                      token->patterns[i]);
    }
    return out;
}

//  ---------------------------------------------------------------------
//  The list

static bool
s_name_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
           || c == '_' || c == '.';
}

//  RFC 6750 b64token characters ('=' anywhere: a lenient reading of its
//  trailing padding that still keeps every separator out).
static bool
s_token_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
           || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

static void
s_token_free (zhub_token_t *token)
{
    for (size_t i = 0; i < token->pattern_count; i++)
        free (token->patterns[i]);
    free (token->patterns);
    sodium_memzero (token, sizeof *token);
}

typedef struct {
    const char *variable;
    bool previous;
    size_t entry; //  1-based
    const char *name;
    char *err;
    size_t err_size;
} s_where_t;

static int s_fail (const s_where_t *where, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_fail (const s_where_t *where, const char *format, ...)
{
    int used = snprintf (where->err, where->err_size, "%s%s entry %zu%s%s%s: ", where->variable,
                         where->previous ? "_PREVIOUS" : "", where->entry, where->name ? " (" : "",
                         where->name ? where->name : "", where->name ? ")" : "");
    if (used >= 0 && (size_t)used < where->err_size) {
        va_list args;
        va_start (args, format);
        vsnprintf (where->err + used, where->err_size - (size_t)used, format, args);
        va_end (args);
    }
    return -1;
}

//  Parses the patterns of one entry (text up to end, after the ':') into
//  token. Returns 0 or -1.
static int
s_parse_patterns (zhub_token_t *token, zhub_token_kind_t kind, const char *text, const char *end,
                  const s_where_t *where)
{
    if (kind == ZHUB_TOKEN_ADMIN)
        return s_fail (where, "an admin token takes no topic patterns (it may publish any type)");
    token->patterns = zhub_calloc (ZHUB_TOKEN_PATTERNS_MAX, sizeof *token->patterns);
    const char *p = text;
    while (true) {
        const char *bar = memchr (p, '|', (size_t)(end - p));
        const char *stop = bar ? bar : end;
        char pattern[ZHUB_MSG_MAX_TYPE + 1];
        size_t size = (size_t)(stop - p);
        if (size == 0)
            return s_fail (where, "an empty topic pattern (patterns are separated by '|')");
        if (size > ZHUB_MSG_MAX_TYPE)
            return s_fail (where, "a topic pattern is longer than %d bytes", ZHUB_MSG_MAX_TYPE);
        memcpy (pattern, p, size);
        pattern[size] = 0;
        if (!s_pattern_valid (pattern))
            return s_fail (where,
                           "\"%s\" is not a topic pattern (dotted tokens of [A-Za-z0-9_-], "
                           "'*' for one token, '>' last for the rest)",
                           pattern);
        if (s_pattern_useless (pattern))
            return s_fail (where,
                           "\"%s\" matches only types an events token may not publish "
                           "(admin-only ones need ZHUB_ADMIN_TOKEN; webhook.>, dlq.> and "
                           "admin.> go through no token)",
                           pattern);
        if (token->pattern_count == ZHUB_TOKEN_PATTERNS_MAX)
            return s_fail (where, "more than %d topic patterns", ZHUB_TOKEN_PATTERNS_MAX);
        token->patterns[token->pattern_count++] = zhub_strdup (pattern);
        if (!bar)
            return 0;
        p = bar + 1;
    }
}

//  Parses one entry (text up to end, trimmed) into token: name, digest,
//  patterns. Returns 0 or -1.
static int
s_parse_entry (const zhub_tokens_t *self, zhub_token_t *token, zhub_token_kind_t kind,
               const char *text, const char *end, s_where_t *where)
{
    const char *colon = memchr (text, ':', (size_t)(end - text));
    const char *head_end = colon ? colon : end;
    const char *at = memchr (text, '@', (size_t)(head_end - text));
    const char *secret = at ? at + 1 : text;
    if (at) {
        size_t size = (size_t)(at - text);
        if (size == 0 || size > ZHUB_TOKEN_NAME_MAX)
            return s_fail (where, "the name before '@' must be 1..%d characters",
                           ZHUB_TOKEN_NAME_MAX);
        for (const char *p = text; p < at; p++)
            if (!s_name_char (*p))
                return s_fail (where, "the name before '@' may hold only letters, digits, "
                                      "'-', '_' and '.'");
        memcpy (token->name, text, size);
        token->name[size] = 0;
        where->name = token->name;
    }
    size_t size = (size_t)(head_end - secret);
    if (size == 0)
        return s_fail (where, "no token");
    if (size > ZHUB_TOKEN_SIZE_MAX)
        return s_fail (where, "the token is longer than %d bytes", ZHUB_TOKEN_SIZE_MAX);
    for (const char *p = secret; p < head_end; p++)
        if (!s_token_char (*p))
            return s_fail (where,
                           "the token may hold only letters, digits and -._~+/= (what a Bearer "
                           "token may hold; ',' '@' ':' '|' separate entries, names and "
                           "patterns)");
    crypto_hash_sha256 (token->digest, (const unsigned char *)secret, size);
    token->size = size;
    for (size_t i = 0; i < ZHUB_TOKENS_SLOTS; i++) {
        const zhub_token_t *other = &self->items[i];
        if (other->kind && !memcmp (other->digest, token->digest, sizeof token->digest))
            return s_fail (where, "the same token is configured as %s%s (%s)", other->variable,
                           other->previous ? "_PREVIOUS" : "", other->name);
    }
    if (colon && s_parse_patterns (token, kind, colon + 1, end, where))
        return -1;
    if (!token->name[0])
        snprintf (token->name, sizeof token->name, "%s-%s%zu",
                  kind == ZHUB_TOKEN_ADMIN ? "admin" : "events", where->previous ? "previous-" : "",
                  where->entry);
    for (size_t i = 0; i < ZHUB_TOKENS_SLOTS; i++)
        if (self->items[i].kind && !strcmp (self->items[i].name, token->name))
            return s_fail (where, "the name %s is also given to a token of %s%s", token->name,
                           self->items[i].variable, self->items[i].previous ? "_PREVIOUS" : "");
    return 0;
}

//  Adds one entry (first..last, trimmed) to self; filled marks its slot.
static int
s_add_entry (zhub_tokens_t *self, zhub_token_kind_t kind, const char *first, const char *last,
             s_where_t *where, bool *filled)
{
    if (first == last)
        return s_fail (where, "empty (entries are separated by ',')");
    size_t slot = 0;
    while (slot < ZHUB_TOKENS_SLOTS && self->items[slot].kind)
        slot++;
    if (slot == ZHUB_TOKENS_SLOTS
        || zhub_tokens_count (self, kind, false) + zhub_tokens_count (self, kind, true)
               >= ZHUB_TOKENS_MAX)
        return s_fail (where, "more than %d tokens of this kind", ZHUB_TOKENS_MAX);
    //  built whole apart, so that a half-parsed entry never counts in the
    //  checks of the next ones
    zhub_token_t token = {.variable = where->variable, .previous = where->previous};
    if (s_parse_entry (self, &token, kind, first, last, where)) {
        s_token_free (&token);
        return -1;
    }
    token.kind = kind;
    self->items[slot] = token;
    filled[slot] = true;
    self->count++;
    return 0;
}

int
zhub_tokens_parse (zhub_tokens_t *self, zhub_token_kind_t kind, const char *variable,
                   const char *text, bool previous, char *err, size_t err_size)
{
    s_where_t where = {
        .variable = variable, .previous = previous, .err = err, .err_size = err_size};
    bool filled[ZHUB_TOKENS_SLOTS] = {false};
    const char *p = text ? text : "";
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return 0; //  unset
    int rc = 0;
    while (rc == 0) {
        const char *comma = strchr (p, ',');
        const char *end = comma ? comma : p + strlen (p);
        const char *first = p, *last = end;
        while (first < last && (*first == ' ' || *first == '\t'))
            first++;
        while (last > first && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        where.entry++;
        where.name = NULL;
        rc = s_add_entry (self, kind, first, last, &where, filled);
        if (!comma)
            break;
        p = comma + 1;
    }
    for (size_t i = 0; rc && i < ZHUB_TOKENS_SLOTS; i++)
        if (filled[i]) {
            s_token_free (&self->items[i]);
            self->count--;
        }
    return rc;
}

void
zhub_tokens_clear (zhub_tokens_t *self)
{
    for (size_t i = 0; i < ZHUB_TOKENS_SLOTS; i++)
        if (self->items[i].kind)
            s_token_free (&self->items[i]);
    memset (self, 0, sizeof *self);
}

size_t
zhub_tokens_count (const zhub_tokens_t *self, zhub_token_kind_t kind, bool previous)
{
    size_t count = 0;
    for (size_t i = 0; i < ZHUB_TOKENS_SLOTS; i++)
        count += self->items[i].kind == kind && self->items[i].previous == previous;
    return count;
}

const zhub_token_t *
zhub_tokens_match (const zhub_tokens_t *self, const char *given, size_t given_size)
{
    unsigned char digest[ZHUB_TOKEN_DIGEST_SIZE];
    crypto_hash_sha256 (digest, (const unsigned char *)(given ? given : ""),
                        given ? given_size : 0);
    //  Every slot is compared, used or not, and nothing ends the loop
    //  early: the time tells neither which token matched nor how many
    //  there are. The match is kept with masks, not a branch.
    size_t found = ZHUB_TOKENS_SLOTS;
    for (size_t i = 0; i < ZHUB_TOKENS_SLOTS; i++) {
        const zhub_token_t *token = &self->items[i];
        size_t equal = (size_t)(1 + sodium_memcmp (digest, token->digest, sizeof digest));
        equal &= (size_t)(token->kind != ZHUB_TOKEN_UNUSED);
        size_t mask = (size_t)0 - equal;
        found = (found & ~mask) | (i & mask);
    }
    sodium_memzero (digest, sizeof digest);
    return found < ZHUB_TOKENS_SLOTS ? &self->items[found] : NULL;
}
