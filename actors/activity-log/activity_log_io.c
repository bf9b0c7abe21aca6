//  Runs activity-log's decisions. Each engagement is created with one
//  HubSpot call and then recorded, with its activity.logged event in the
//  runtime's outbox, in one LMDB transaction; a redelivered event finds
//  the record and makes no second call. The window between HubSpot's
//  answer and our commit (a crash right there) can still leave a duplicate:
//  HubSpot has no idempotency key for engagement creation.
//
//  The transcript note (conversation.message, activity.transcript.flush)
//  is written by activity_log_transcript.c with the helpers this file
//  shares through activity_log_internal.h.
#include "activity_log_internal.h"
#include "zhub_env.h"
#include "zhub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
activity_log_config (activity_log_t *self, char *err, size_t err_size)
{
    memset (self, 0, sizeof *self);
    if (zhub_hubspot_config_load (&self->hubspot_config, err, err_size))
        return -1;
    if (zhub_env_duration_ms ("ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL", 30000,
                              &self->transcript_interval_ms)
        || self->transcript_interval_ms < 0) {
        snprintf (err, err_size, "ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL must be a duration");
        return -1;
    }
    if (zhub_env_duration_ms ("ZHUB_ACTIVITY_RETENTION", 30LL * 86400000, &self->retention_ms)
        || self->retention_ms < 0) {
        snprintf (err, err_size, "ZHUB_ACTIVITY_RETENTION must be a duration (0 = keep)");
        return -1;
    }
    const char *owner = zhub_env_str ("ZHUB_ACTIVITY_OWNER_ID", "");
    self->owner_id = *owner ? owner : NULL;
    return 0;
}

int
activity_log_open (zhub_actor_ctx_t *ctx)
{
    activity_log_t *self = ctx->state;
    self->hubspot = zhub_hubspot_new (&self->hubspot_config, ctx->http);
    if (zhub_store_table (ctx->store, "contacts", &self->contacts)
        || zhub_store_table (ctx->store, "conversations", &self->conversations)
        || zhub_store_table (ctx->store, "engagements", &self->engagements)
        || zhub_store_table (ctx->store, "parked", &self->parked)
        || zhub_store_table (ctx->store, "made", &self->made))
        return -1;
    return 0;
}

void
activity_log_close (zhub_actor_ctx_t *ctx)
{
    activity_log_t *self = ctx->state;
    zhub_hubspot_destroy (&self->hubspot);
}

//  -------------------------------------------------------------------
//  Small store helpers (JSON values)

typedef struct {
    zhub_table_t table;
    const char *key;
    json_t *value; //  out
    char *text;    //  out (conversations)
    size_t size;
} s_get_t;

static zhub_rc_t
s_get_fn (zhub_txn_t *txn, void *arg)
{
    s_get_t *get = arg;
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, get->table, get->key, strlen (get->key), &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    get->text = zhub_malloc (size + 1);
    memcpy (get->text, value, size);
    get->text[size] = 0;
    get->size = size;
    return ZHUB_OK;
}

//  Reads key as JSON. ZHUB_OK with *value (caller decrefs), NOTFOUND, ERROR.
static zhub_rc_t
s_get_json (zhub_store_t *store, zhub_table_t table, const char *key, json_t **value)
{
    s_get_t get = {.table = table, .key = key};
    *value = NULL;
    zhub_rc_t rc = zhub_store_read (store, s_get_fn, &get);
    if (rc != ZHUB_OK)
        return rc;
    *value = json_loadb (get.text, get.size, 0, NULL);
    free (get.text);
    return *value ? ZHUB_OK : ZHUB_ERROR;
}

zhub_rc_t
alog_conv_load (zhub_store_t *store, activity_log_t *self, const char *id, activity_conv_t *conv)
{
    s_get_t get = {.table = self->conversations, .key = id};
    zhub_rc_t rc = zhub_store_read (store, s_get_fn, &get);
    if (rc != ZHUB_OK)
        return rc;
    rc = activity_conv_decode (get.text, get.size, conv) ? ZHUB_ERROR : ZHUB_OK;
    free (get.text);
    return rc;
}

void
alog_commit_put (alog_commit_t *commit, zhub_table_t table, const char *key, char *value)
{
    commit->table[commit->puts] = table;
    commit->key[commit->puts] = key;
    commit->value[commit->puts++] = value;
}

static zhub_rc_t
s_commit_fn (zhub_txn_t *txn, void *arg)
{
    alog_commit_t *commit = arg;
    for (size_t i = 0; i < commit->puts; i++)
        if (zhub_txn_put (txn, commit->table[i], commit->key[i], strlen (commit->key[i]),
                          commit->value[i], strlen (commit->value[i]))
            != ZHUB_OK)
            return ZHUB_ERROR;
    for (size_t i = 0; i < commit->publishes; i++)
        if (zhub_actor_outbox_put (commit->ctx, txn, commit->publish[i]) != ZHUB_OK)
            return ZHUB_ERROR;
    return ZHUB_OK;
}

zhub_rc_t
alog_commit (zhub_store_t *store, alog_commit_t *commit)
{
    zhub_rc_t rc = zhub_store_write (store, s_commit_fn, commit);
    for (size_t i = 0; i < commit->puts; i++)
        free (commit->value[i]);
    for (size_t i = 0; i < commit->publishes; i++)
        zhub_msg_destroy (&commit->publish[i]);
    commit->puts = commit->publishes = 0;
    return rc;
}

//  -------------------------------------------------------------------
//  Contact and deal ids

void
alog_ids_clear (alog_ids_t *ids)
{
    free (ids->contact_id);
    free (ids->deal_id);
    ids->contact_id = ids->deal_id = NULL;
}

zhub_rc_t
alog_ids_load (zhub_store_t *store, activity_log_t *self, const char *bird_id, alog_ids_t *ids)
{
    json_t *value;
    zhub_rc_t rc = s_get_json (store, self->contacts, bird_id, &value);
    if (rc != ZHUB_OK)
        return rc;
    const char *contact = json_string_value (json_object_get (value, "contact"));
    const char *deal = json_string_value (json_object_get (value, "deal"));
    ids->contact_id = contact ? zhub_strdup (contact) : NULL;
    ids->deal_id = deal ? zhub_strdup (deal) : NULL;
    json_decref (value);
    return ZHUB_OK;
}

//  Merges what we learned into the id map. ZHUB_OK or ZHUB_ERROR.
static zhub_rc_t
s_ids_learn (zhub_store_t *store, activity_log_t *self, const char *bird_id, const char *contact_id,
             const char *deal_id)
{
    alog_ids_t ids = {0};
    if (alog_ids_load (store, self, bird_id, &ids) == ZHUB_ERROR)
        return ZHUB_ERROR;
    if (contact_id) {
        free (ids.contact_id);
        ids.contact_id = zhub_strdup (contact_id);
    }
    if (deal_id) {
        free (ids.deal_id);
        ids.deal_id = zhub_strdup (deal_id);
    }
    json_t *obj = json_object ();
    if (ids.contact_id)
        json_object_set_new (obj, "contact", json_string (ids.contact_id));
    if (ids.deal_id)
        json_object_set_new (obj, "deal", json_string (ids.deal_id));
    alog_commit_t commit = {0};
    alog_commit_put (&commit, self->contacts, bird_id, json_dumps (obj, JSON_COMPACT));
    json_decref (obj);
    alog_ids_clear (&ids);
    return alog_commit (store, &commit);
}

//  The HubSpot ids of the event's contact: the event's own, the id map, or
//  HubSpot itself (the contact whose unique bird_contact_id is the Bird id).
//  ZHUB_OK with ids->contact_id; ZHUB_NOTFOUND when HubSpot does not know
//  the contact yet; ZHUB_RETRY / ZHUB_REJECT with *out filled.
static zhub_rc_t
s_resolve (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const activity_event_t *ev,
           alog_ids_t *ids, zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    if (alog_ids_load (ctx->store, self, ev->bird_id, ids) == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read the id map");
        return ZHUB_RETRY;
    }
    if (ev->hubspot_contact_id || ev->hubspot_deal_id) {
        if (ev->hubspot_contact_id
            && (!ids->contact_id || strcmp (ids->contact_id, ev->hubspot_contact_id))) {
            free (ids->contact_id);
            ids->contact_id = zhub_strdup (ev->hubspot_contact_id);
        }
        if (ev->hubspot_deal_id) {
            free (ids->deal_id);
            ids->deal_id = zhub_strdup (ev->hubspot_deal_id);
        }
        s_ids_learn (ctx->store, self, ev->bird_id, ev->hubspot_contact_id, ev->hubspot_deal_id);
    }
    if (ids->contact_id)
        return ZHUB_OK;
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_hubspot_contact_get_by (self->hubspot, "bird_contact_id", ev->bird_id, NULL,
                                 msg->traceparent, &resp);
    zhub_rc_t rc = ZHUB_NOTFOUND;
    const char *id = json_string_value (json_object_get (resp.json, "id"));
    if (resp.status == 200 && id) {
        ids->contact_id = zhub_strdup (id);
        if (s_ids_learn (ctx->store, self, ev->bird_id, id, NULL) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot write the id map");
            rc = ZHUB_RETRY;
        } else
            rc = ZHUB_OK;
    } else if (resp.status == 404 || resp.status == 400)
        rc = ZHUB_NOTFOUND; //  unknown, or the portal has no bird_contact_id property
    else {
        zhub_retry_classify (&resp, "hubspot read contact by bird_contact_id", zhub_now_ms (), out);
        rc = out->rc == ZHUB_OK ? ZHUB_NOTFOUND : out->rc;
    }
    zhub_http_response_reset (&resp);
    return rc;
}

//  -------------------------------------------------------------------
//  Parking

typedef struct {
    activity_log_t *self;
    uint8_t *key;
    size_t key_size;
    uint8_t *value;
    size_t value_size;
} s_park_t;

static zhub_rc_t
s_park_fn (zhub_txn_t *txn, void *arg)
{
    s_park_t *park = arg;
    return zhub_txn_put (txn, park->self->parked, park->key, park->key_size, park->value,
                         park->value_size);
}

//  bird id, NUL, big-endian u64: cursors walk one contact's events in order.
static uint8_t *
s_park_key (const char *bird_id, uint64_t seq, size_t *size)
{
    size_t n = strlen (bird_id);
    uint8_t *key = zhub_malloc (n + 9);
    memcpy (key, bird_id, n);
    key[n] = 0;
    zhub_store_key_u64 (key + n + 1, seq);
    *size = n + 9;
    return key;
}

static zhub_rc_t
s_park (zhub_store_t *store, activity_log_t *self, const zhub_msg_t *msg, const char *bird_id)
{
    char err[128];
    s_park_t park = {.self = self};
    if (zhub_msg_encode (msg, &park.value, &park.value_size, err, sizeof err))
        return ZHUB_ERROR;
    uint64_t seq = ((uint64_t)zhub_now_ms () << 16) | (self->park_counter++ & 0xffff);
    park.key = s_park_key (bird_id, seq, &park.key_size);
    zhub_rc_t rc = zhub_store_write (store, s_park_fn, &park);
    free (park.key);
    free (park.value);
    return rc;
}

//  -------------------------------------------------------------------
//  Engagements

//  The HubSpot id recorded under key, or NULL.
static char *
s_engagement_id (zhub_store_t *store, activity_log_t *self, const char *key, zhub_rc_t *rc)
{
    json_t *value;
    *rc = s_get_json (store, self->engagements, key, &value);
    if (*rc != ZHUB_OK)
        return NULL;
    const char *id = json_string_value (json_object_get (value, "id"));
    char *copy = id ? zhub_strdup (id) : NULL;
    json_decref (value);
    return copy;
}

static char *
s_engagement_record (const char *id, int64_t now_ms)
{
    json_t *obj = json_pack ("{s:s, s:I}", "id", id, "at", (json_int_t)now_ms);
    char *text = json_dumps (obj, JSON_COMPACT);
    json_decref (obj);
    return text;
}

//  The HubSpot object an engagement of kind is.
static zhub_hubspot_engagement_t
s_object (activity_kind_t kind)
{
    return kind == ACTIVITY_NOTE   ? ZHUB_HUBSPOT_NOTE
           : kind == ACTIVITY_TASK ? ZHUB_HUBSPOT_TASK
                                   : ZHUB_HUBSPOT_MEETING;
}

char *
alog_made_put (alog_commit_t *commit, activity_log_t *self, const char *bird_id,
               activity_kind_t kind, const char *id)
{
    if (!bird_id || !*bird_id)
        return NULL;
    char *key = zhub_sprintf ("%s|%s", bird_id, id);
    alog_commit_put (commit, self->made, key, zhub_hubspot_engagement_path (s_object (kind), id));
    return key;
}

bool
alog_answered (const zhub_msg_t *msg, const char *what, zhub_http_response_t *resp,
               zhub_outcome_t *out)
{
    zhub_debug ("call", "id=%s what=\"%s\" status=%ld ms=%lld", msg->id, what, resp->status,
                (long long)resp->elapsed_ms);
    if (resp->status >= 200 && resp->status < 300)
        return true;
    zhub_retry_classify (resp, what, zhub_now_ms (), out);
    return false;
}

//  Creates the engagement of kind for ev unless key says it exists.
//  Returns true when done (created now or before); false with *out set.
static bool
s_engage (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const activity_event_t *ev,
          activity_kind_t kind, const char *key, const alog_ids_t *ids, const char *owner_id,
          zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    zhub_rc_t rc;
    char *existing = s_engagement_id (ctx->store, self, key, &rc);
    if (rc == ZHUB_ERROR) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read engagement ids");
        return false;
    }
    if (existing) {
        free (existing);
        return true;
    }
    json_t *body = activity_engagement_body (ev, kind, ids->contact_id, ids->deal_id, owner_id);
    if (!body) {
        zhub_outcome_reject (out, ZHUB_REASON_INTERNAL, "no %s for %s", activity_kind_name (kind),
                             ev->type);
        return false;
    }
    char what[64];
    snprintf (what, sizeof what, "hubspot create %s", activity_kind_name (kind));
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_hubspot_engagement_create (self->hubspot, s_object (kind), body, msg->traceparent, &resp);
    bool ok = alog_answered (msg, what, &resp, out);
    json_decref (body);
    const char *id = ok ? json_string_value (json_object_get (resp.json, "id")) : NULL;
    if (ok && !id) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_BAD_ANSWER, "%s: answer without an id", what);
        ok = false;
    }
    if (ok) {
        int64_t now = zhub_now_ms ();
        alog_commit_t commit = {.ctx = ctx};
        alog_commit_put (&commit, self->engagements, key, s_engagement_record (id, now));
        char *made = alog_made_put (&commit, self, ev->bird_id, kind, id);
        commit.publish[commit.publishes++] = activity_logged_msg (msg, ev, kind, id, now);
        if (alog_commit (ctx->store, &commit) != ZHUB_OK) {
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot record the %s",
                                activity_kind_name (kind));
            ok = false;
        } else
            zhub_info ("engagement", "id=%s kind=%s hubspot_id=%s event=%s", msg->id,
                       activity_kind_name (kind), id, ev->type);
        free (made);
    }
    zhub_http_response_reset (&resp);
    return ok;
}

//  tour.scheduled / tour.canceled: one meeting per booking.
static void
s_tour (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const activity_event_t *ev,
        const alog_ids_t *ids, zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    char *key = zhub_sprintf ("booking:%s", ev->booking_id);
    zhub_rc_t rc;
    char *meeting = s_engagement_id (ctx->store, self, key, &rc);
    if (rc == ZHUB_ERROR)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read engagement ids");
    else if (!meeting && ev->kind == ACTIVITY_EV_TOUR_CANCELED)
        zhub_outcome_ok (out, "unknown_booking");
    else if (!meeting) {
        if (s_engage (ctx, msg, ev, ACTIVITY_MEETING, key, ids, NULL, out))
            zhub_outcome_ok (out, "meeting");
    } else {
        //  A booking we logged before: moved or canceled.
        json_t *body = activity_meeting_update_body (ev);
        zhub_http_response_t resp;
        zhub_http_response_init (&resp);
        zhub_hubspot_engagement_update (self->hubspot, ZHUB_HUBSPOT_MEETING, meeting, body,
                                        msg->traceparent, &resp);
        if (alog_answered (msg, "hubspot update meeting", &resp, out))
            zhub_outcome_ok (out, ev->kind == ACTIVITY_EV_TOUR_CANCELED ? "meeting_canceled"
                                                                        : "meeting_moved");
        else if (resp.status == 404)
            zhub_outcome_ok (out, "meeting_gone"); //  deleted in HubSpot by a person
        zhub_http_response_reset (&resp);
        json_decref (body);
    }
    free (meeting);
    free (key);
}

//  -------------------------------------------------------------------
//  One conversation event, contact known or not

static void
s_process (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, const activity_event_t *ev,
           zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    alog_ids_t ids = {0};
    zhub_rc_t rc = s_resolve (ctx, msg, ev, &ids, out);
    if (rc == ZHUB_NOTFOUND) {
        if (s_park (ctx->store, self, msg, ev->bird_id) == ZHUB_OK)
            zhub_outcome_ok (out, "parked");
        else
            zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot park the event");
        alog_ids_clear (&ids);
        return;
    }
    if (rc != ZHUB_OK) {
        alog_ids_clear (&ids);
        return;
    }
    char *key = NULL;
    switch (ev->kind) {
        case ACTIVITY_EV_STARTED:
            key = zhub_sprintf ("evt:%s:note", ev->event_id);
            if (s_engage (ctx, msg, ev, ACTIVITY_NOTE, key, &ids, NULL, out))
                zhub_outcome_ok (out, "note");
            break;
        case ACTIVITY_EV_QUALIFIED:
            key = zhub_sprintf ("evt:%s:task", ev->event_id);
            if (s_engage (ctx, msg, ev, ACTIVITY_TASK, key, &ids, NULL, out))
                zhub_outcome_ok (out, "task");
            break;
        case ACTIVITY_EV_ESCALATION: {
            key = zhub_sprintf ("evt:%s:note", ev->event_id);
            const char *owner = ev->owner_id ? ev->owner_id : self->owner_id;
            if (s_engage (ctx, msg, ev, ACTIVITY_NOTE, key, &ids, NULL, out)) {
                free (key);
                key = zhub_sprintf ("evt:%s:task", ev->event_id);
                if (s_engage (ctx, msg, ev, ACTIVITY_TASK, key, &ids, owner, out))
                    zhub_outcome_ok (out, "note_and_task");
            }
            break;
        }
        case ACTIVITY_EV_TOUR_SCHEDULED:
        case ACTIVITY_EV_TOUR_CANCELED: s_tour (ctx, msg, ev, &ids, out); break;
        case ACTIVITY_EV_MESSAGE: alog_transcript_message (ctx, msg, ev, &ids, out); break;
        default: zhub_outcome_ok (out, "ignored"); break;
    }
    free (key);
    alog_ids_clear (&ids);
}

//  -------------------------------------------------------------------
//  Replaying parked events once the contact is known

typedef struct {
    activity_log_t *self;
    const char *bird_id;
    zhub_msg_t *msgs[ACTIVITY_REPLAY_BATCH];
    uint8_t *keys[ACTIVITY_REPLAY_BATCH];
    size_t key_sizes[ACTIVITY_REPLAY_BATCH];
    size_t count;
    bool del; //  delete the keys instead of reading
} s_parked_t;

static zhub_rc_t
s_parked_fn (zhub_txn_t *txn, void *arg)
{
    s_parked_t *p = arg;
    if (p->del) {
        for (size_t i = 0; i < p->count; i++)
            if (zhub_txn_del (txn, p->self->parked, p->keys[i], p->key_sizes[i]) == ZHUB_ERROR)
                return ZHUB_ERROR;
        return ZHUB_OK;
    }
    size_t prefix_size;
    uint8_t *prefix = s_park_key (p->bird_id, 0, &prefix_size);
    prefix_size -= 8;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, p->self->parked);
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = cursor ? zhub_cursor_seek (cursor, prefix, prefix_size, &key, &key_size, &value,
                                              &value_size)
                          : ZHUB_ERROR;
    while (rc == ZHUB_OK && key_size == prefix_size + 8 && !memcmp (key, prefix, prefix_size)) {
        if (p->count == ACTIVITY_REPLAY_BATCH)
            break;
        char err[128];
        zhub_msg_t *msg =
            zhub_msg_decode (value, value_size, &zhub_mpack_default_limits, err, sizeof err);
        p->keys[p->count] = zhub_malloc (key_size);
        memcpy (p->keys[p->count], key, key_size);
        p->key_sizes[p->count] = key_size;
        p->msgs[p->count++] = msg; //  NULL when undecodable: dropped below
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    free (prefix);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

static void
s_parked_clear (s_parked_t *p)
{
    for (size_t i = 0; i < p->count; i++) {
        zhub_msg_destroy (&p->msgs[i]);
        free (p->keys[i]);
    }
    p->count = 0;
}

//  Runs the contact's parked events in order. Returns true when all ran;
//  false with *out set when one must be retried (it stays parked).
static bool
s_replay (zhub_actor_ctx_t *ctx, const char *bird_id, zhub_outcome_t *out, size_t *replayed)
{
    activity_log_t *self = ctx->state;
    *replayed = 0;
    s_parked_t *p = zhub_calloc (1, sizeof *p);
    p->self = self;
    p->bird_id = bird_id;
    bool ok = true;
    if (zhub_store_read (ctx->store, s_parked_fn, p) != ZHUB_OK) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot read parked events");
        free (p);
        return false;
    }
    size_t done = 0;
    for (; done < p->count && ok; done++) {
        zhub_outcome_t sub;
        memset (&sub, 0, sizeof sub);
        zhub_outcome_ok (&sub, "ok");
        activity_event_t ev;
        memset (&ev, 0, sizeof ev);
        char reason[256];
        zhub_rc_t rc = p->msgs[done] ? activity_parse (p->msgs[done], &ev, reason, sizeof reason)
                                     : ZHUB_REJECT;
        if (rc == ZHUB_OK) {
            s_process (ctx, p->msgs[done], &ev, &sub);
            if (sub.rc == ZHUB_RETRY || (sub.outcome && !strcmp (sub.outcome, "parked"))) {
                *out = sub;
                ok = false;
                activity_event_clear (&ev);
                break;
            }
            if (sub.rc == ZHUB_REJECT)
                zhub_error ("parked_rejected", "id=%s code=%u", p->msgs[done]->id, sub.code);
            (*replayed)++;
        }
        activity_event_clear (&ev);
    }
    //  Delete what ran (and what could not be read).
    size_t total = p->count;
    p->count = done;
    p->del = true;
    zhub_rc_t rc = zhub_store_write (ctx->store, s_parked_fn, p);
    p->count = total;
    s_parked_clear (p);
    free (p);
    if (rc != ZHUB_OK && ok) {
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot delete replayed events");
        ok = false;
    }
    //  A full batch: more may wait; the next contact.synced (or this one's
    //  redelivery) continues.
    if (ok && total == ACTIVITY_REPLAY_BATCH)
        zhub_outcome_retry (out, 0, 0, "more parked events");
    return ok && total < ACTIVITY_REPLAY_BATCH;
}

//  -------------------------------------------------------------------
//  The handlers (one per route, main.c)

//  A conversation event of kind (its route's): resolve the contact, then
//  write its engagement, or park it until the contact is known.
static void
s_conversation_event (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                      activity_event_kind_t kind, zhub_outcome_t *out)
{
    activity_event_t event;
    char reason[256] = "";
    if (activity_read (kind, ev->msg, ev->data, &event, reason, sizeof reason) != ZHUB_OK)
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
    else
        s_process (ctx, ev->msg, &event, out);
    activity_event_clear (&event);
}

void
activity_log_handle_started (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                             zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_STARTED, out);
}

void
activity_log_handle_message (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                             zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_MESSAGE, out);
}

void
activity_log_handle_qualification (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                   zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_QUALIFIED, out);
}

void
activity_log_handle_escalation (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_ESCALATION, out);
}

void
activity_log_handle_tour_scheduled (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                    zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_TOUR_SCHEDULED, out);
}

void
activity_log_handle_tour_canceled (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                   zhub_outcome_t *out)
{
    s_conversation_event (ctx, ev, ACTIVITY_EV_TOUR_CANCELED, out);
}

//  contact.synced, deal.stage_changed: learn the HubSpot ids, then replay
//  what was parked for the contact.
static void
s_learn (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev, activity_event_kind_t kind,
         zhub_outcome_t *out)
{
    activity_log_t *self = ctx->state;
    activity_event_t event;
    char reason[256] = "";
    size_t replayed = 0;
    if (activity_read (kind, ev->msg, ev->data, &event, reason, sizeof reason) != ZHUB_OK)
        zhub_outcome_reject (out, ZHUB_REASON_INVALID_INPUT, "%s", reason);
    else if (!event.hubspot_contact_id && !event.hubspot_deal_id)
        zhub_outcome_ok (out, "no_ids");
    else if (s_ids_learn (ctx->store, self, event.bird_id, event.hubspot_contact_id,
                          event.hubspot_deal_id)
             != ZHUB_OK)
        zhub_outcome_retry (out, -1, ZHUB_REASON_INTERNAL, "cannot write the id map");
    else if (s_replay (ctx, event.bird_id, out, &replayed)) {
        zhub_outcome_ok (out, "learned");
        snprintf (out->reason, sizeof out->reason, "replayed=%zu", replayed);
    }
    activity_event_clear (&event);
}

void
activity_log_handle_contact_synced (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                    zhub_outcome_t *out)
{
    s_learn (ctx, ev, ACTIVITY_EV_CONTACT_SYNCED, out);
}

void
activity_log_handle_deal_stage (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out)
{
    s_learn (ctx, ev, ACTIVITY_EV_DEAL_STAGE, out);
}

//  -------------------------------------------------------------------
//  Periodic work

void
activity_log_tick (zhub_actor_ctx_t *ctx)
{
    activity_log_t *self = ctx->state;
    if (!self->retention_ms)
        return;
    int64_t now = zhub_now_ms ();
    int64_t every = self->retention_ms / 2 < ACTIVITY_PRUNE_EVERY_MS ? self->retention_ms / 2
                                                                     : ACTIVITY_PRUNE_EVERY_MS;
    if (now - self->last_prune_ms < every)
        return;
    self->last_prune_ms = now;
    int deleted = activity_log_prune (ctx->store, self, now);
    if (deleted)
        zhub_info ("retention", "deleted=%d", deleted);
}
