//  activity-log's part of the GDPR erase (contact.forget): the person's
//  id map entries, conversations, parked events and engagement records;
//  with "upstream", first the engagements we made about them in HubSpot.
//  HubSpot's GDPR delete of the contact deletes its activity, but a note
//  or meeting also associated with a deal stays on the deal's timeline,
//  with the transcript in it: those are deleted here (404: gone already).
//  A failure retries the whole message with nothing deleted here yet.
#include "activity_log_io.h"
#include "zhub_log.h"
#include "zhub_strlist.h"

#include <stdlib.h>
#include <string.h>

//  -------------------------------------------------------------------
//  Forgetting a person (contact.forget)
//
//  One write transaction removes every record that refers to the person
//  and queues contact.forgotten, so the answer is never sent for an erase
//  that did not commit, and a redelivery finds nothing left and answers
//  again with the same id (the broker's dedup keeps one). Stored ids are
//  compared as whole values; free text (transcript lines, parked events,
//  event ids in engagement keys) is searched for the identifiers by
//  zhub_forget.h's rule.

typedef struct {
    activity_log_t *self;
    const zhub_forget_t *who;
    zhub_strlist_t birds; //  Bird ids the id map ties to the person's HubSpot id
    size_t removed;
} s_forget_t;

static void
s_forget_reset (s_forget_t *f)
{
    zhub_strlist_clear (&f->birds);
    f->removed = 0;
}

//  True when bird is one of the person's Bird contact ids.
static bool
s_forget_bird (const s_forget_t *f, const char *bird)
{
    if (!bird)
        return false;
    if (zhub_forget_is (f->who, bird))
        return true;
    return zhub_strlist_has (&f->birds, bird);
}

static char *
s_text (const void *bytes, size_t size)
{
    char *text = zhub_malloc (size + 1);
    memcpy (text, bytes, size);
    text[size] = 0;
    return text;
}

//  The id map: entries under one of the person's ids or pointing at their
//  HubSpot contact. Their keys join the person's Bird ids.
static bool
s_forget_contact_matches (const void *key, size_t key_size, const void *value, size_t value_size,
                          void *arg)
{
    s_forget_t *f = arg;
    char *bird = s_text (key, key_size);
    json_t *obj = json_loadb (value, value_size, 0, NULL);
    bool match = zhub_forget_is (f->who, bird)
                 || zhub_forget_is (f->who, json_string_value (json_object_get (obj, "contact")));
    json_decref (obj);
    if (match)
        zhub_strlist_take (&f->birds, bird);
    else
        free (bird);
    return match;
}

//  A conversation cache of the person, or one whose lines mention them.
static bool
s_forget_conv_matches (const void *key, size_t key_size, const void *value, size_t value_size,
                       void *arg)
{
    s_forget_t *f = arg;
    if (zhub_forget_mentions_text (f->who, key, key_size))
        return true;
    activity_conv_t conv;
    if (activity_conv_decode (value, value_size, &conv))
        return zhub_forget_mentions_text (f->who, value, value_size); //  opaque: its bytes
    bool match = s_forget_bird (f, conv.bird_id);
    for (size_t i = 0; !match && i < conv.count; i++)
        match =
            conv.lines[i].text
            && zhub_forget_mentions_text (f->who, conv.lines[i].text, strlen (conv.lines[i].text));
    activity_conv_clear (&conv);
    return match;
}

//  A parked event of the person (by its key's Bird id or its ids), or one
//  whose envelope (subject, data) mentions them.
static bool
s_forget_parked_matches (const void *key, size_t key_size, const void *value, size_t value_size,
                         void *arg)
{
    s_forget_t *f = arg;
    if (key_size >= 9) {
        char *bird = s_text (key, key_size - 9);
        bool match = s_forget_bird (f, bird);
        free (bird);
        if (match)
            return true;
    }
    if (zhub_forget_mentions_msgpack (f->who, value, value_size))
        return true;
    char err[128];
    zhub_msg_t *msg =
        zhub_msg_decode (value, value_size, &zhub_mpack_default_limits, err, sizeof err);
    if (!msg)
        return false;
    activity_event_t ev;
    char reason[128];
    bool match =
        activity_parse (msg, &ev, reason, sizeof reason) == ZHUB_OK
        && (s_forget_bird (f, ev.bird_id) || zhub_forget_is (f->who, ev.hubspot_contact_id));
    activity_event_clear (&ev);
    zhub_msg_destroy (&msg);
    return match;
}

//  Engagement records hold HubSpot ids only; their keys name the event or
//  booking, which a provider may have derived from the person.
static bool
s_forget_engagement_matches (const void *key, size_t key_size, const void *value, size_t value_size,
                             void *arg)
{
    const s_forget_t *f = arg;
    (void)value;
    (void)value_size;
    return zhub_forget_mentions_text (f->who, key, key_size);
}

//  made: "<bird id>|<hubspot id>" of one of the person's Bird ids.
static bool
s_forget_made_matches (const void *key, size_t key_size, const void *value, size_t value_size,
                       void *arg)
{
    const s_forget_t *f = arg;
    (void)value;
    (void)value_size;
    const char *bar = memchr (key, '|', key_size);
    if (!bar)
        return false;
    char *bird = s_text (key, (size_t)(bar - (const char *)key));
    bool match = s_forget_bird (f, bird);
    free (bird);
    return match;
}

//  Deletes every entry of table that match says is the person's. The
//  match functions above are zhub_store_row_fn with f as arg; they may
//  widen what f knows of the person.
static zhub_rc_t
s_forget_table (zhub_txn_t *txn, s_forget_t *f, zhub_table_t table, zhub_store_row_fn *match)
{
    return zhub_txn_delete_where (txn, table, match, f, &f->removed);
}

zhub_rc_t
activity_log_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *who,
                    size_t *removed)
{
    activity_log_t *self = ctx->state;
    s_forget_t f = {.self = self, .who = who};
    //  The id map first: it names the person's other Bird ids.
    zhub_rc_t rc = ZHUB_ERROR;
    if (s_forget_table (txn, &f, self->contacts, s_forget_contact_matches) == ZHUB_OK
        && s_forget_table (txn, &f, self->conversations, s_forget_conv_matches) == ZHUB_OK
        && s_forget_table (txn, &f, self->parked, s_forget_parked_matches) == ZHUB_OK
        && s_forget_table (txn, &f, self->engagements, s_forget_engagement_matches) == ZHUB_OK
        && s_forget_table (txn, &f, self->made, s_forget_made_matches) == ZHUB_OK)
        rc = ZHUB_OK;
    *removed = f.removed;
    s_forget_reset (&f);
    return rc;
}

//  -------------------------------------------------------------------
//  Upstream: the engagements we made about the person

typedef struct {
    s_forget_t f;
    zhub_strlist_t paths; //  API paths of the person's engagements
} s_made_t;

static void
s_made_clear (s_made_t *made)
{
    zhub_strlist_clear (&made->paths);
    s_forget_reset (&made->f);
}

//  zhub_store_walk_fn over contacts: learns the person's Bird ids.
static zhub_walk_t
s_learn_birds (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_forget_contact_matches (key, key_size, value, value_size, arg);
    return ZHUB_WALK_NEXT;
}

//  zhub_store_walk_fn over made: keeps the person's paths.
static zhub_walk_t
s_collect_made (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_made_t *made = arg;
    if (s_forget_made_matches (key, key_size, value, value_size, &made->f))
        zhub_strlist_take (&made->paths, s_text (value, value_size));
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_read_made (zhub_txn_t *txn, void *arg)
{
    s_made_t *made = arg;
    if (zhub_txn_walk (txn, made->f.self->contacts, s_learn_birds, &made->f) != ZHUB_OK)
        return ZHUB_ERROR;
    return zhub_txn_walk (txn, made->f.self->made, s_collect_made, made);
}

//  zhub_actor_upstream_fn: every engagement made about the person deleted
//  (or gone already). true, or false with *out set.
static bool
s_delete_made (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const zhub_forget_t *who,
               zhub_outcome_t *out)
{
    s_made_t made = {.f = {.self = ctx->state, .who = who}};
    bool ok = zhub_store_read (ctx->store, s_read_made, &made) == ZHUB_OK;
    if (!ok)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the engagements made");
    for (size_t i = 0; ok && i < made.paths.count; i++) {
        zhub_hubspot_engagement_t kind;
        char *id;
        if (zhub_hubspot_engagement_path_parse (made.paths.items[i], &kind, &id)) {
            //  not an address we recorded: nothing we could delete
            zhub_warn ("engagement_unknown", "id=%s path=%s", msg->id, made.paths.items[i]);
            continue;
        }
        zhub_http_response_t resp;
        zhub_http_response_init (&resp);
        zhub_hubspot_engagement_delete (((activity_log_t *)ctx->state)->hubspot, kind, id,
                                        msg->traceparent, &resp);
        free (id);
        ok = (resp.status >= 200 && resp.status < 300) || resp.status == 404;
        if (ok)
            zhub_info ("engagement_deleted", "id=%s path=%s status=%ld", msg->id,
                       made.paths.items[i], resp.status);
        else
            zhub_retry_classify (&resp, "hubspot delete engagement", zhub_now_ms (), out);
        zhub_http_response_reset (&resp);
    }
    s_made_clear (&made);
    return ok;
}

void
activity_log_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                            zhub_outcome_t *out)
{
    zhub_actor_forget_upstream (ctx, ev->msg, ACTIVITY_LOG_GROUP, s_delete_made, activity_log_erase,
                                out);
}
