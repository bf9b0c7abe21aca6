//  The bearer tokens of /v1/events and the admin API (gateway/tokens.h):
//  the list syntax, every refusal at start (naming the variable and the
//  entry, never the token), the constant-time lookup's answers, and the
//  scope decisions: the default scope is the catalogue's AI events, the
//  admin-only types go to admin tokens alone, reserved types to nobody.
#include "tokens.h"
#include "zhub_catalogue.h"
#include "zhub_test.h"

#define EV "ZHUB_EVENTS_TOKEN"
#define AD "ZHUB_ADMIN_TOKEN"

static int
s_parse (zhub_tokens_t *tokens, zhub_token_kind_t kind, const char *text, bool previous, char *err)
{
    err[0] = 0;
    return zhub_tokens_parse (tokens, kind, kind == ZHUB_TOKEN_ADMIN ? AD : EV, text, previous, err,
                              512);
}

static const zhub_token_t *
s_match (const zhub_tokens_t *tokens, const char *given)
{
    return zhub_tokens_match (tokens, given, strlen (given));
}

static void
test_a_plain_token_is_one_entry_with_the_default_scope (void)
{
    zhub_tokens_t tokens = {0};
    char err[512];
    CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS, "0f3c9a7e51b2d4e8a6c1", false, err) == 0);
    CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS, "  old-token  ", true, err) == 0);
    CHECK (s_parse (&tokens, ZHUB_TOKEN_ADMIN, NULL, false, err) == 0); //  unset
    CHECK (s_parse (&tokens, ZHUB_TOKEN_ADMIN, "   ", true, err) == 0); //  blank
    CHECK (tokens.count == 2);
    const zhub_token_t *token = s_match (&tokens, "0f3c9a7e51b2d4e8a6c1");
    CHECK (token && token->kind == ZHUB_TOKEN_EVENTS && !token->previous);
    if (token) {
        CHECK_STR (token->name, "events-1");
        CHECK_STR (token->variable, EV);
        CHECK (token->patterns == NULL && token->size == 20);
        char scope[64];
        CHECK_STR (zhub_token_scope_text (token, scope, sizeof scope), "default");
    }
    token = s_match (&tokens, "old-token"); //  spaces around an entry are not part of it
    CHECK (token && token->previous);
    if (token)
        CHECK_STR (token->name, "events-previous-1");
    CHECK (zhub_tokens_count (&tokens, ZHUB_TOKEN_EVENTS, false) == 1);
    CHECK (zhub_tokens_count (&tokens, ZHUB_TOKEN_EVENTS, true) == 1);
    CHECK (zhub_tokens_count (&tokens, ZHUB_TOKEN_ADMIN, false) == 0);
    zhub_tokens_clear (&tokens);
    CHECK (tokens.count == 0 && !s_match (&tokens, "0f3c9a7e51b2d4e8a6c1"));
}

static void
test_named_entries_with_patterns (void)
{
    zhub_tokens_t tokens = {0};
    char err[512];
    CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS,
                    " bird-flows@AbC123+/==:conversation.>|tour.requested , crm.sync@x-y_z~9 ,"
                    "legacy",
                    false, err)
           == 0);
    CHECK_STR (err, "");
    CHECK (s_parse (&tokens, ZHUB_TOKEN_ADMIN, "ops-ana@adm1n.ana,ops-luis@adm1n.luis", false, err)
           == 0);
    CHECK (tokens.count == 5);
    const zhub_token_t *bird = s_match (&tokens, "AbC123+/==");
    CHECK (bird && bird->pattern_count == 2);
    if (bird && bird->pattern_count == 2) {
        CHECK_STR (bird->name, "bird-flows");
        CHECK_STR (bird->patterns[0], "conversation.>");
        CHECK_STR (bird->patterns[1], "tour.requested");
        char scope[64];
        CHECK_STR (zhub_token_scope_text (bird, scope, sizeof scope),
                   "conversation.>|tour.requested");
    }
    const zhub_token_t *crm = s_match (&tokens, "x-y_z~9");
    CHECK (crm && !strcmp (crm->name, "crm.sync") && !crm->patterns);
    const zhub_token_t *legacy = s_match (&tokens, "legacy");
    CHECK (legacy && !strcmp (legacy->name, "events-3")); //  its place in the variable
    const zhub_token_t *ana = s_match (&tokens, "adm1n.ana");
    const zhub_token_t *luis = s_match (&tokens, "adm1n.luis");
    CHECK (ana && ana->kind == ZHUB_TOKEN_ADMIN && !strcmp (ana->name, "ops-ana"));
    CHECK (luis && luis->kind == ZHUB_TOKEN_ADMIN && !strcmp (luis->name, "ops-luis"));
    if (ana) {
        char scope[64];
        CHECK_STR (zhub_token_scope_text (ana, scope, sizeof scope), "any");
    }
    zhub_tokens_clear (&tokens);
}

static void
test_the_lookup_finds_exactly_the_token_given (void)
{
    zhub_tokens_t tokens = {0};
    char err[512];
    CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS, "a@tok-one,b@tok-two", false, err) == 0);
    CHECK (s_parse (&tokens, ZHUB_TOKEN_ADMIN, "c@tok-three", false, err) == 0);
    const zhub_token_t *a = s_match (&tokens, "tok-one"), *b = s_match (&tokens, "tok-two");
    const zhub_token_t *c = s_match (&tokens, "tok-three");
    CHECK (a && b && c && a != b && b != c);
    if (a && b && c) {
        CHECK_STR (a->name, "a");
        CHECK_STR (b->name, "b");
        CHECK_STR (c->name, "c");
    }
    static const char *wrong[] = {"tok-on", "tok-one ",  "tok-onee",        "TOK-ONE",
                                  "",       "a@tok-one", "tok-one,tok-two", "Bearer tok-one"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++)
        CHECK (s_match (&tokens, wrong[i]) == NULL);
    CHECK (zhub_tokens_match (&tokens, NULL, 0) == NULL);
    //  the bytes given count, not a C string's end
    CHECK (zhub_tokens_match (&tokens, "tok-one\0x", 9) == NULL);
    CHECK (zhub_tokens_match (&tokens, "tok-onex", 7) == a);
    zhub_tokens_clear (&tokens);
}

//  Every malformed entry stops the start with a message naming the
//  variable and entry, never holding the token, and leaves the list as it
//  was.
static void
test_malformed_entries_are_refused_without_the_token (void)
{
    static const struct {
        zhub_token_kind_t kind;
        bool previous;
        const char *text, *message;
    } bad[] = {
        {ZHUB_TOKEN_EVENTS, false, "S3CRETxyz,,b@S3CRETabc", EV " entry 2: empty"},
        {ZHUB_TOKEN_EVENTS, false, "S3CRETxyz,", EV " entry 2: empty"},
        {ZHUB_TOKEN_EVENTS, true, " , S3CRETxyz", EV "_PREVIOUS entry 1: empty"},
        {ZHUB_TOKEN_EVENTS, false, "@S3CRETxyz", EV " entry 1: the name before '@'"},
        {ZHUB_TOKEN_EVENTS, false, "bad name@S3CRETxyz", EV " entry 1: the name before '@'"},
        {ZHUB_TOKEN_EVENTS, false, "a-name-that-is-longer-than-32-chars@S3CRETxyz",
         EV " entry 1: the name before '@' must be 1..32"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRET xyz", EV " entry 1 (n): the token may hold only"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRET\"xyz", EV " entry 1 (n): the token may hold only"},
        {ZHUB_TOKEN_EVENTS, false, "S3CRET;xyz", EV " entry 1: the token may hold only"},
        {ZHUB_TOKEN_EVENTS, false, "n@", EV " entry 1 (n): no token"},
        {ZHUB_TOKEN_EVENTS, false, "n@:tour.*", EV " entry 1 (n): no token"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:", EV " entry 1 (n): an empty topic pattern"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:tour.*|", EV " entry 1 (n): an empty topic"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:tour..x", EV " entry 1 (n): \"tour..x\" is not"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:a.>.b", EV " entry 1 (n): \"a.>.b\" is not"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:tour.re*", EV " entry 1 (n): \"tour.re*\" is not"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:contact.erase",
         EV " entry 1 (n): \"contact.erase\" matches only types an events token may not"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:tour.*|dead-letter.command.*",
         EV " entry 1 (n): \"dead-letter.command.*\" matches only"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:dead-letter.command.>",
         EV " entry 1 (n): \"dead-letter.command.>\" matches only"},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:webhook.>", EV " entry 1 (n): \"webhook.>\""},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:webhook", EV " entry 1 (n): \"webhook\""},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:admin.audited", EV " entry 1 (n): \"admin."},
        {ZHUB_TOKEN_EVENTS, false, "n@S3CRETxyz:dlq.*", EV " entry 1 (n): \"dlq.*\""},
        {ZHUB_TOKEN_EVENTS, false, "a@S3CRETxyz,b@S3CRETxyz",
         EV " entry 2 (b): the same token is configured as " EV " (a)"},
        {ZHUB_TOKEN_EVENTS, false, "a@S3CRETxyz,a@OTHERabc",
         EV " entry 2 (a): the name a is also given to a token of " EV},
        {ZHUB_TOKEN_ADMIN, false, "ops@S3CRETadm:tour.*",
         AD " entry 1 (ops): an admin token takes no topic patterns"},
        //  the events token, configured first below, again as an admin one
        {ZHUB_TOKEN_ADMIN, false, "ops@S3CRETkept",
         AD " entry 1 (ops): the same token is configured as " EV " (kept)"},
        {ZHUB_TOKEN_ADMIN, true, "kept@S3CRETadm",
         AD "_PREVIOUS entry 1 (kept): the name kept is also given to a token of " EV},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zhub_tokens_t tokens = {0};
        char err[512];
        CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS, "kept@S3CRETkept", false, err) == 0);
        int rc = s_parse (&tokens, bad[i].kind, bad[i].text, bad[i].previous, err);
        if (rc == 0 || strncmp (err, bad[i].message, strlen (bad[i].message)))
            fprintf (stderr, "  %s -> %d \"%s\"\n", bad[i].text, rc, err);
        CHECK (rc == -1);
        CHECK (!strncmp (err, bad[i].message, strlen (bad[i].message)));
        CHECK (!strstr (err, "S3CRET")); //  never the token, nor a piece of it
        CHECK (tokens.count == 1 && s_match (&tokens, "S3CRETkept"));
        CHECK (!s_match (&tokens, "S3CRETxyz") && !s_match (&tokens, "S3CRETabc"));
        zhub_tokens_clear (&tokens);
    }
}

static void
test_limits_are_named_and_enforced (void)
{
    char text[4096] = "", err[512];
    size_t used = 0;
    for (int i = 0; i < ZHUB_TOKENS_MAX; i++)
        used += (size_t)snprintf (text + used, sizeof text - used, "%stoken-%02d", i ? "," : "", i);
    zhub_tokens_t tokens = {0};
    CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS, text, false, err) == 0);
    CHECK (tokens.count == ZHUB_TOKENS_MAX);
    //  one more of the kind, even in the twin, is refused; another kind is not
    CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS, "one-more", true, err) == -1);
    CHECK (strstr (err, "more than 16 tokens") != NULL);
    CHECK (s_parse (&tokens, ZHUB_TOKEN_ADMIN, "admin-one", false, err) == 0);
    CHECK (tokens.count == ZHUB_TOKENS_MAX + 1);
    zhub_tokens_clear (&tokens);

    snprintf (text, sizeof text, "many@tok:");
    used = strlen (text);
    for (int i = 0; i <= ZHUB_TOKEN_PATTERNS_MAX; i++)
        used += (size_t)snprintf (text + used, sizeof text - used, "%stour.t%d", i ? "|" : "", i);
    CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS, text, false, err) == -1);
    CHECK (strstr (err, "more than 16 topic patterns") != NULL);
    CHECK (tokens.count == 0);
    char *long_token = zhub_malloc (ZHUB_TOKEN_SIZE_MAX + 2);
    memset (long_token, 'a', ZHUB_TOKEN_SIZE_MAX + 1);
    long_token[ZHUB_TOKEN_SIZE_MAX + 1] = 0;
    CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS, long_token, false, err) == -1);
    long_token[ZHUB_TOKEN_SIZE_MAX] = 0;
    CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS, long_token, false, err) == 0);
    free (long_token);
    zhub_tokens_clear (&tokens);
}

//  The events Bird's AI flows send, as docs/configuration.md lists them.
static const char *s_ai_events[] = {"conversation.started",       "conversation.message",
                                    "conversation.stage_changed", "qualification.completed",
                                    "escalation.triggered",       "tour.requested"};

static bool
s_is_ai_event (const char *type)
{
    for (size_t i = 0; i < sizeof s_ai_events / sizeof s_ai_events[0]; i++)
        if (!strcmp (s_ai_events[i], type))
            return true;
    return false;
}

//  The default scope is derived from the catalogue: the entries whose
//  producers are the AI flows through /v1/events, and nothing else.
static void
test_the_default_scope_is_the_catalogues_ai_events (void)
{
    size_t count;
    const zhub_event_spec_t *all = zhub_catalogue (&count);
    size_t granted = 0;
    for (size_t i = 0; i < count; i++) {
        bool ai = !all[i].pattern && strstr (all[i].producers, ZHUB_CATALOGUE_AI_FLOWS);
        bool by_default = zhub_tokens_default_type (all[i].type);
        if (by_default != ai || by_default != s_is_ai_event (all[i].type))
            fprintf (stderr, "  %s: default %d, ai %d\n", all[i].type, by_default, ai);
        CHECK (by_default == ai);
        CHECK (by_default == s_is_ai_event (all[i].type));
        granted += by_default;
    }
    CHECK (granted == sizeof s_ai_events / sizeof s_ai_events[0]);
    for (size_t i = 0; i < sizeof s_ai_events / sizeof s_ai_events[0]; i++)
        CHECK (zhub_catalogue_find (s_ai_events[i]) != NULL);
    CHECK (!zhub_tokens_default_type ("not.in.the.catalogue"));
    CHECK (!zhub_tokens_default_type (NULL));
}

//  The admin-only list names catalogue events, so it cannot drift from
//  what the actors consume.
static void
test_the_admin_only_types_are_catalogue_commands (void)
{
    static const char *admin_only[] = {"contact.erase",
                                       "contact.forget",
                                       "contact.forgotten",
                                       "contact.erased",
                                       "contact.reconcile",
                                       "dead-letter.command.replay",
                                       "dead-letter.command.edit",
                                       "dead-letter.command.purge"};
    for (size_t i = 0; i < sizeof admin_only / sizeof admin_only[0]; i++) {
        CHECK (zhub_tokens_admin_only (admin_only[i]));
        CHECK (zhub_catalogue_find (admin_only[i]) != NULL);
    }
    static const char *ordinary[] = {"contact.synced",     "contact.opted_out",
                                     "contact.reconciled", "dead-letter.commands",
                                     "tour.requested",     "contact.erase.extra"};
    for (size_t i = 0; i < sizeof ordinary / sizeof ordinary[0]; i++)
        CHECK (!zhub_tokens_admin_only (ordinary[i]));
    static const char *reserved[] = {"webhook", "webhook.hubspot.contact.creation",
                                     "dlq",     "dlq.contact-sync",
                                     "admin",   "admin.audited"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        CHECK (zhub_tokens_reserved (reserved[i]));
    static const char *not_reserved[] = {"webhooks.x", "dlqs", "administration.changed",
                                         "contact.admin"};
    for (size_t i = 0; i < sizeof not_reserved / sizeof not_reserved[0]; i++)
        CHECK (!zhub_tokens_reserved (not_reserved[i]));
}

static void
test_scope_decisions (void)
{
    zhub_tokens_t tokens = {0};
    char err[512];
    CHECK (s_parse (&tokens, ZHUB_TOKEN_EVENTS,
                    "flows@t-default,tours@t-tours:tour.*,crm@t-contacts:contact.>|deal.*", false,
                    err)
           == 0);
    CHECK (s_parse (&tokens, ZHUB_TOKEN_ADMIN, "ops@t-admin", false, err) == 0);
    const zhub_token_t *flows = s_match (&tokens, "t-default");
    const zhub_token_t *tours = s_match (&tokens, "t-tours");
    const zhub_token_t *crm = s_match (&tokens, "t-contacts");
    const zhub_token_t *ops = s_match (&tokens, "t-admin");
    CHECK (flows && tours && crm && ops);
    if (!(flows && tours && crm && ops))
        return;
    static const struct {
        const char *type;
        zhub_scope_t flows, tours, crm, ops;
    } table[] = {
        //  type                          default  tour.*   contact.>|deal.*  admin
        {"conversation.started", ZHUB_SCOPE_ALLOWED, ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN,
         ZHUB_SCOPE_ALLOWED},
        {"tour.requested", ZHUB_SCOPE_ALLOWED, ZHUB_SCOPE_ALLOWED, ZHUB_SCOPE_FORBIDDEN,
         ZHUB_SCOPE_ALLOWED},
        {"tour.scheduled", ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_ALLOWED, ZHUB_SCOPE_FORBIDDEN,
         ZHUB_SCOPE_ALLOWED},
        {"tour.requested.again", ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN,
         ZHUB_SCOPE_ALLOWED},
        {"contact.synced", ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_ALLOWED,
         ZHUB_SCOPE_ALLOWED},
        {"deal.stage_changed", ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_ALLOWED,
         ZHUB_SCOPE_ALLOWED},
        {"contact.erase", ZHUB_SCOPE_ADMIN_ONLY, ZHUB_SCOPE_ADMIN_ONLY, ZHUB_SCOPE_ADMIN_ONLY,
         ZHUB_SCOPE_ALLOWED},
        {"contact.forget", ZHUB_SCOPE_ADMIN_ONLY, ZHUB_SCOPE_ADMIN_ONLY, ZHUB_SCOPE_ADMIN_ONLY,
         ZHUB_SCOPE_ALLOWED},
        {"contact.reconcile", ZHUB_SCOPE_ADMIN_ONLY, ZHUB_SCOPE_ADMIN_ONLY, ZHUB_SCOPE_ADMIN_ONLY,
         ZHUB_SCOPE_ALLOWED},
        {"dead-letter.command.purge", ZHUB_SCOPE_ADMIN_ONLY, ZHUB_SCOPE_ADMIN_ONLY,
         ZHUB_SCOPE_ADMIN_ONLY, ZHUB_SCOPE_ALLOWED},
        {"webhook.hubspot.contact.creation", ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN,
         ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN},
        {"dlq.contact-sync", ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN,
         ZHUB_SCOPE_FORBIDDEN},
        {"admin.audited", ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN, ZHUB_SCOPE_FORBIDDEN,
         ZHUB_SCOPE_FORBIDDEN},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        zhub_scope_t got[4] = {
            zhub_token_scope (flows, table[i].type), zhub_token_scope (tours, table[i].type),
            zhub_token_scope (crm, table[i].type), zhub_token_scope (ops, table[i].type)};
        zhub_scope_t want[4] = {table[i].flows, table[i].tours, table[i].crm, table[i].ops};
        for (int k = 0; k < 4; k++) {
            if (got[k] != want[k])
                fprintf (stderr, "  %s, token %d: %d, want %d\n", table[i].type, k, got[k],
                         want[k]);
            CHECK (got[k] == want[k]);
        }
    }
    CHECK (zhub_token_scope (NULL, "tour.requested") == ZHUB_SCOPE_FORBIDDEN);
    CHECK (zhub_token_scope (ops, NULL) == ZHUB_SCOPE_FORBIDDEN);
    zhub_tokens_clear (&tokens);
}

int
main (void)
{
    RUN (test_a_plain_token_is_one_entry_with_the_default_scope);
    RUN (test_named_entries_with_patterns);
    RUN (test_the_lookup_finds_exactly_the_token_given);
    RUN (test_malformed_entries_are_refused_without_the_token);
    RUN (test_limits_are_named_and_enforced);
    RUN (test_the_default_scope_is_the_catalogues_ai_events);
    RUN (test_the_admin_only_types_are_catalogue_commands);
    RUN (test_scope_decisions);
    TEST_EXIT ();
}
