//  deal-sync's side of a GDPR erase (contact.forget): the erase step that
//  deletes the person from every table (deal_sync_erase) and, with
//  "upstream" (zhub erase contact --upstream), what ties the person's
//  deals in HubSpot to them.
//
//  HubSpot's GDPR delete of the contact (contact-sync's upstream step)
//  leaves its deals. Ours are named after the person's Bird contact id and
//  keyed by it (zhub_deal_key "<bird id>/<pipeline>"), and a later deal
//  webhook would bring that id back into this store. So with upstream,
//  before anything is deleted here, each of the person's deals is renamed
//  DEAL_SYNC_ERASED_NAME and loses zhub_deal_key and conversation_id; the
//  deal itself, its stage and amount stay (sales records are the
//  company's). A deal HubSpot no longer has (its 404 OBJECT_NOT_FOUND)
//  counts as done; any other failure retries the whole message with
//  nothing deleted here yet.
#include "deal_sync_io.h"
#include "deal_sync_state.h"
#include "zhub_log.h"
#include "zhub_strlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  -------------------------------------------------------------------
//  The erase step
//
//  One write transaction deletes every record that refers to the person
//  and queues contact.forgotten, so the answer never goes out for an erase
//  that did not commit, and a redelivery finds nothing and answers again
//  with the same id (the broker's dedup keeps one). Every table holds ids
//  only, compared as whole values: with the person's identifiers
//  (zhub_forget_is), widened by what the tables tie to them (a Bird id
//  whose contact is their HubSpot id, the deals of those ids).

typedef struct {
    const deal_sync_t *self;
    const zhub_forget_t *who;
    zhub_strlist_t people; //  the person's Bird and HubSpot contact ids found in the tables
    zhub_strlist_t deals;  //  their HubSpot deal ids
    zhub_strlist_t keys;   //  their deal keys
    size_t removed;
} s_forget_t;

static void
s_forget_reset (s_forget_t *f)
{
    zhub_strlist_clear (&f->people);
    zhub_strlist_clear (&f->deals);
    zhub_strlist_clear (&f->keys);
    f->removed = 0;
}

static bool
s_forget_person (const s_forget_t *f, const char *id)
{
    return id && (zhub_forget_is (f->who, id) || zhub_strlist_has (&f->people, id));
}

//  True when a row is the person's; may widen what f knows of them.
typedef bool (s_forget_row_fn) (s_forget_t *f, const char *key, const void *value,
                                size_t value_size);

//  contacts: Bird id -> HubSpot contact id.
static bool
s_forget_contact_row (s_forget_t *f, const char *key, const void *value, size_t value_size)
{
    char *contact = deal_dup_value (value, value_size);
    bool drop = s_forget_person (f, key) || s_forget_person (f, contact);
    if (drop) {
        zhub_strlist_add_unique (&f->people, key);
        zhub_strlist_add_unique (&f->people, contact);
    }
    free (contact);
    return drop;
}

//  deals: "<bird id>/<pipeline>" -> state.
static bool
s_forget_deal_row (s_forget_t *f, const char *key, const void *value, size_t value_size)
{
    deal_state_t state;
    bool have = deal_state_decode (value, value_size, &state) == 0;
    //  The key's Bird id, whatever pipeline the deal was made for.
    const char *slash = strrchr (key, '/');
    char *bird = slash ? deal_dup_value (key, (size_t)(slash - key)) : NULL;
    bool drop =
        s_forget_person (f, bird)
        || (have && (s_forget_person (f, state.bird_id) || s_forget_person (f, state.contact_id)));
    if (drop) {
        zhub_strlist_add_unique (&f->people, bird);
        zhub_strlist_add_unique (&f->keys, key);
        if (have) {
            zhub_strlist_add_unique (&f->people, state.bird_id);
            zhub_strlist_add_unique (&f->people, state.contact_id);
            zhub_strlist_add_unique (&f->deals, state.deal_id);
        }
    }
    free (bird);
    if (have)
        deal_state_clear (&state);
    return drop;
}

//  deal_ids: HubSpot deal id -> deal key.
static bool
s_forget_deal_id_row (s_forget_t *f, const char *key, const void *value, size_t value_size)
{
    char *deal_key = deal_dup_value (value, value_size);
    bool drop = zhub_strlist_has (&f->deals, key) || zhub_strlist_has (&f->keys, deal_key);
    free (deal_key);
    return drop;
}

//  audit: "<bird id>|<16 hex ms>|<event id>" -> entry (bird_contact_id, deal_id).
static bool
s_forget_audit_row (s_forget_t *f, const char *key, const void *value, size_t value_size)
{
    const char *bar = strchr (key, '|');
    char *bird = bar ? deal_dup_value (key, (size_t)(bar - key)) : NULL;
    json_t *entry = json_loadb (value, value_size, 0, NULL);
    bool drop = s_forget_person (f, bird)
                || s_forget_person (f, deal_json_str (entry, "bird_contact_id"))
                || zhub_strlist_has (&f->deals, deal_json_str (entry, "deal_id"));
    json_decref (entry);
    free (bird);
    return drop;
}

typedef struct {
    s_forget_t *f;
    s_forget_row_fn *row;
} s_forget_pass_t;

//  zhub_store_row_fn: row on the key as text.
static bool
s_forget_pass_row (const void *key, size_t key_size, const void *value, size_t value_size,
                   void *arg)
{
    s_forget_pass_t *pass = arg;
    char *text = deal_dup_value (key, key_size);
    bool drop = pass->row (pass->f, text, value, value_size);
    free (text);
    return drop;
}

//  Walks table and deletes the rows row says are the person's.
static zhub_rc_t
s_forget_table (zhub_txn_t *txn, s_forget_t *f, zhub_table_t table, s_forget_row_fn *row)
{
    s_forget_pass_t pass = {.f = f, .row = row};
    return zhub_txn_delete_where (txn, table, s_forget_pass_row, &pass, &f->removed);
}

zhub_rc_t
deal_sync_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *who, size_t *removed)
{
    const deal_sync_t *self = ctx->state;
    s_forget_t f = {.self = self, .who = who};
    //  contacts first and again after deals: a deal may name a Bird id the
    //  first pass did not know was the person's.
    zhub_rc_t rc = ZHUB_ERROR;
    if (s_forget_table (txn, &f, self->contacts, s_forget_contact_row) == ZHUB_OK
        && s_forget_table (txn, &f, self->deals, s_forget_deal_row) == ZHUB_OK
        && s_forget_table (txn, &f, self->contacts, s_forget_contact_row) == ZHUB_OK
        && s_forget_table (txn, &f, self->deal_ids, s_forget_deal_id_row) == ZHUB_OK
        && s_forget_table (txn, &f, self->audit, s_forget_audit_row) == ZHUB_OK)
        rc = ZHUB_OK;
    *removed = f.removed;
    s_forget_reset (&f);
    return rc;
}

//  -------------------------------------------------------------------
//  Upstream: the person's deals in HubSpot

//  zhub_store_walk_fn: row on the key as text, keeping nothing.
static zhub_walk_t
s_find_row (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_forget_pass_row (key, key_size, value, value_size, arg);
    return ZHUB_WALK_NEXT;
}

//  The same passes as the erase, reading only: f->deals ends up with the
//  person's HubSpot deal ids.
static zhub_rc_t
s_find_deals (zhub_txn_t *txn, void *arg)
{
    s_forget_t *f = arg;
    s_forget_reset (f);
    s_forget_pass_t contacts = {.f = f, .row = s_forget_contact_row};
    s_forget_pass_t deals = {.f = f, .row = s_forget_deal_row};
    if (zhub_txn_walk (txn, f->self->contacts, s_find_row, &contacts) != ZHUB_OK
        || zhub_txn_walk (txn, f->self->deals, s_find_row, &deals) != ZHUB_OK
        || zhub_txn_walk (txn, f->self->contacts, s_find_row, &contacts) != ZHUB_OK)
        return ZHUB_ERROR;
    return ZHUB_OK;
}

//  zhub_actor_upstream_fn: true when every deal of the person is redacted
//  (or gone), else false with *out set.
static bool
s_redact_deals (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const zhub_forget_t *who,
                zhub_outcome_t *out)
{
    s_forget_t f = {.self = ctx->state, .who = who};
    if (zhub_store_read (ctx->store, s_find_deals, &f) != ZHUB_OK) {
        s_forget_reset (&f);
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the deals");
        return false;
    }
    json_t *body = json_pack ("{s:{s:s, s:s, s:s}}", "properties", "dealname",
                              DEAL_SYNC_ERASED_NAME, "zhub_deal_key", "", "conversation_id", "");
    bool ok = true;
    for (size_t i = 0; ok && i < f.deals.count; i++) {
        zhub_http_response_t resp;
        zhub_http_response_init (&resp);
        zhub_hubspot_deal_update (((deal_sync_t *)ctx->state)->hubspot, f.deals.items[i], body,
                                  msg->traceparent, &resp);
        ok = deal_sync_answered ("hubspot deal redact", msg, &resp, true, out)
             || zhub_hubspot_not_found (&resp);
        if (ok)
            zhub_info ("deal_redacted", "id=%s deal=%s status=%ld", msg->id, f.deals.items[i],
                       resp.status);
        zhub_http_response_reset (&resp);
    }
    json_decref (body);
    s_forget_reset (&f);
    return ok;
}

void
deal_sync_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, zhub_outcome_t *out)
{
    const zhub_msg_t *msg = ev->msg;
    zhub_actor_forget_upstream (ctx, msg, DEAL_SYNC_GROUP, s_redact_deals, deal_sync_erase, out);
}
