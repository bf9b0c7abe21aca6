//  The scheduler's store (see scheduler_store.h): bookings, holds, links,
//  tokens, sync tokens and inbound times. The public functions run the
//  transactions; the s_ helpers work inside one. The watches, the
//  reconcile chain and the older timers table are scheduler_store_timers.c,
//  on top of this file (scheduler_store_internal.h).
#include "scheduler_store_internal.h"
#include "zhub_log.h"
#include "zhub_strlist.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_provider[] = {"google", "graph"};

sched_store_t *
sched_store_new (zhub_actor_ctx_t *ctx, const int64_t *reminders_ms, size_t reminder_count,
                 char *err, size_t err_size)
{
    assert (ctx && ctx->store && reminder_count <= SCHED_MAX_REMINDERS);
    sched_store_t *self = zhub_calloc (1, sizeof *self);
    self->ctx = ctx;
    self->store = ctx->store;
    for (size_t i = 0; i < reminder_count; i++)
        self->reminders_ms[i] = reminders_ms[i];
    self->reminder_count = reminder_count;
    zhub_store_t *store = ctx->store;
    if (zhub_store_table (store, SCHED_TABLE_BOOKINGS, &self->bookings)
        || zhub_store_table (store, "holds", &self->holds)
        || zhub_store_table (store, "invitees", &self->invitees)
        || zhub_store_table (store, "tokens", &self->tokens)
        || zhub_store_table (store, "meta", &self->meta)
        || zhub_store_table (store, "watches", &self->watches)
        || zhub_store_table (store, "inbound", &self->inbound)
        || zhub_store_table (store, "timers", &self->timers)) {
        snprintf (err, err_size, "cannot open the scheduler's tables");
        free (self);
        return NULL;
    }
    return self;
}

void
sched_store_destroy (sched_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

//  -------------------------------------------------------------------
//  Inside a transaction: what the other store functions share

uint64_t
sched_store_meta_u64 (const sched_store_t *self, zhub_txn_t *txn, const char *name)
{
    const void *value;
    size_t size;
    if (zhub_txn_get (txn, self->meta, name, strlen (name), &value, &size) == ZHUB_OK && size == 8)
        return zhub_store_u64 (value);
    return 0;
}

zhub_rc_t
sched_store_meta_put (const sched_store_t *self, zhub_txn_t *txn, const char *name, uint64_t value)
{
    uint8_t bytes[8];
    zhub_store_key_u64 (bytes, value);
    return zhub_txn_put (txn, self->meta, name, strlen (name), bytes, 8);
}

zhub_rc_t
sched_store_meta_del (const sched_store_t *self, zhub_txn_t *txn, const char *name)
{
    zhub_rc_t rc = zhub_txn_del (txn, self->meta, name, strlen (name));
    return rc == ZHUB_NOTFOUND ? ZHUB_OK : rc;
}

zhub_rc_t
sched_store_arm (const sched_store_t *self, zhub_txn_t *txn, const sched_timer_t *t,
                 int64_t held_from)
{
    char reason[256], quoted[300];
    zhub_msg_t *msg = sched_timer_msg (t, held_from, zhub_now_ms (), reason, sizeof reason);
    if (!msg) {
        //  our own data: a bug, and the change that needs the timer waits
        zhub_error ("timer_refused", "due=%lld reason=%s", (long long)t->due,
                    zhub_log_quote (reason, quoted, sizeof quoted));
        return ZHUB_REJECT;
    }
    zhub_rc_t rc = zhub_actor_outbox_put (self->ctx, txn, msg);
    zhub_msg_destroy (&msg);
    return rc;
}

zhub_rc_t
sched_store_booking_in (const sched_store_t *self, zhub_txn_t *txn, const char *id,
                        sched_booking_t *b)
{
    memset (b, 0, sizeof *b);
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, self->bookings, id, strlen (id), &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    return sched_booking_decode (value, size, b) ? ZHUB_ERROR : ZHUB_OK;
}

//  "<provider>" / "token_due:<provider>"
static void
s_token_due_key (sched_platform_t provider, char *key, size_t size)
{
    snprintf (key, size, "token_due:%s", s_provider[provider]);
}

//  Puts a value that is a C string (keys the same).
static zhub_rc_t
s_put_str (zhub_txn_t *txn, zhub_table_t table, const char *key, const char *value)
{
    return zhub_txn_put (txn, table, key, strlen (key), value, strlen (value));
}

//  A key read in a transaction of its own, as a C string.
static zhub_rc_t
s_get_str (const sched_store_t *self, zhub_table_t table, const char *key, char **value)
{
    return zhub_store_get_copy (self->store, table, key, strlen (key), value, NULL);
}

//  agent id NUL be64 start (key of holds); *size its size.
static uint8_t *
s_hold_key (const char *agent_id, int64_t start, size_t *size)
{
    size_t n = strlen (agent_id);
    uint8_t *key = zhub_malloc (n + 9);
    memcpy (key, agent_id, n);
    key[n] = 0;
    zhub_store_key_u64 (key + n + 1, (uint64_t)(start < 0 ? 0 : start));
    *size = n + 9;
    return key;
}

static zhub_rc_t
s_hold_put (const sched_store_t *self, zhub_txn_t *txn, const sched_booking_t *b)
{
    size_t size;
    uint8_t *key = s_hold_key (b->agent_id, b->start, &size);
    zhub_rc_t rc =
        zhub_txn_put (txn, self->holds, key, size, b->booking_id, strlen (b->booking_id));
    free (key);
    return rc;
}

static zhub_rc_t
s_hold_del (const sched_store_t *self, zhub_txn_t *txn, const char *agent_id, int64_t start)
{
    size_t size;
    uint8_t *key = s_hold_key (agent_id, start, &size);
    zhub_rc_t rc = zhub_txn_del (txn, self->holds, key, size);
    free (key);
    return rc == ZHUB_NOTFOUND ? ZHUB_OK : rc;
}

static zhub_rc_t
s_booking_put (const sched_store_t *self, zhub_txn_t *txn, const sched_booking_t *b)
{
    char *text = sched_booking_encode (b);
    zhub_rc_t rc = s_put_str (txn, self->bookings, b->booking_id, text);
    free (text);
    return rc;
}

//  Every hold of an agent as busy time (the booking holds the end).
static zhub_rc_t
s_busy (const sched_store_t *self, zhub_txn_t *txn, const char *agent_id, sched_busy_t *busy)
{
    size_t prefix;
    uint8_t *start_key = s_hold_key (agent_id, 0, &prefix);
    prefix -= 8;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, self->holds);
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc =
        cursor ? zhub_cursor_seek (cursor, start_key, prefix, &key, &key_size, &value, &value_size)
               : ZHUB_ERROR;
    while (rc == ZHUB_OK && key_size == prefix + 8 && !memcmp (key, start_key, prefix)) {
        const void *record;
        size_t size;
        sched_booking_t b;
        if (zhub_txn_get (txn, self->bookings, value, value_size, &record, &size) == ZHUB_OK
            && sched_booking_decode (record, size, &b) == 0) {
            if (strcmp (b.status, "canceled"))
                sched_busy_add (busy, b.start, b.end);
            sched_booking_clear (&b);
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    free (start_key);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

//  -------------------------------------------------------------------
//  Bookings and holds

zhub_rc_t
sched_store_booking (sched_store_t *self, const char *id, sched_booking_t *b)
{
    memset (b, 0, sizeof *b);
    char *text;
    size_t size;
    zhub_rc_t rc = zhub_store_get_copy (self->store, self->bookings, id, strlen (id), &text, &size);
    if (rc == ZHUB_OK && sched_booking_decode (text, size, b))
        rc = ZHUB_ERROR;
    free (text);
    return rc;
}

typedef struct {
    const sched_store_t *self;
    const char *agent_id;
    sched_busy_t *busy;
} s_busy_t;

static zhub_rc_t
s_busy_fn (zhub_txn_t *txn, void *arg)
{
    s_busy_t *b = arg;
    return s_busy (b->self, txn, b->agent_id, b->busy);
}

zhub_rc_t
sched_store_busy (sched_store_t *self, const char *agent_id, sched_busy_t *busy)
{
    s_busy_t args = {.self = self, .agent_id = agent_id, .busy = busy};
    return zhub_store_read (self->store, s_busy_fn, &args);
}

uint64_t
sched_store_rr (sched_store_t *self)
{
    char *value;
    size_t size;
    uint64_t rr = 0;
    if (zhub_store_get_copy (self->store, self->meta, "rr", 2, &value, &size) == ZHUB_OK
        && size == 8)
        rr = zhub_store_u64 (value);
    free (value);
    return rr;
}

typedef struct {
    const sched_store_t *self;
    const sched_booking_t *booking;
    int64_t buffer_ms;
    bool taken;
} s_hold_t;

static zhub_rc_t
s_hold_fn (zhub_txn_t *txn, void *arg)
{
    s_hold_t *h = arg;
    const sched_store_t *self = h->self;
    const sched_booking_t *b = h->booking;
    //  Check again inside the write: a concurrent request may have won.
    sched_busy_t busy = {0};
    zhub_rc_t rc = s_busy (self, txn, b->agent_id, &busy);
    h->taken = rc == ZHUB_OK && !sched_agent_free (&busy, b->start, b->end, h->buffer_ms);
    sched_busy_clear (&busy);
    if (rc != ZHUB_OK || h->taken)
        return rc;
    if ((rc = s_hold_put (self, txn, b)) != ZHUB_OK
        || (rc = s_booking_put (self, txn, b)) != ZHUB_OK)
        return rc;
    return sched_store_meta_put (self, txn, "rr", sched_store_meta_u64 (self, txn, "rr") + 1);
}

zhub_rc_t
sched_store_hold (sched_store_t *self, const sched_booking_t *b, int64_t buffer_ms, bool *taken)
{
    assert (b && b->booking_id && b->agent_id && taken);
    s_hold_t hold = {.self = self, .booking = b, .buffer_ms = buffer_ms};
    zhub_rc_t rc = zhub_store_write (self->store, s_hold_fn, &hold);
    *taken = rc == ZHUB_OK && hold.taken;
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

typedef struct {
    const sched_store_t *self;
    const sched_save_t *save;
} s_save_t;

static zhub_rc_t
s_save_fn (zhub_txn_t *txn, void *arg)
{
    const sched_store_t *self = ((s_save_t *)arg)->self;
    const sched_save_t *s = ((s_save_t *)arg)->save;
    const sched_booking_t *b = s->booking;
    zhub_rc_t rc;
    if (s->release) {
        if (b->agent_id && (rc = s_hold_del (self, txn, b->agent_id, b->start)) != ZHUB_OK)
            return rc;
        rc = zhub_txn_del (txn, self->bookings, b->booking_id, strlen (b->booking_id));
        return rc == ZHUB_NOTFOUND ? ZHUB_OK : rc;
    }
    if (b->agent_id && s->hold_from > 0
        && (rc = s_hold_del (self, txn, b->agent_id, s->hold_from)) != ZHUB_OK)
        return rc;
    if (b->agent_id && s->hold_put && (rc = s_hold_put (self, txn, b)) != ZHUB_OK)
        return rc;
    if (s->link && (rc = s_put_str (txn, self->invitees, s->link, b->booking_id)) != ZHUB_OK)
        return rc;
    if ((rc = s_booking_put (self, txn, b)) != ZHUB_OK)
        return rc;
    //  The reminders of this start: one held message each. Those of an
    //  earlier start are dropped when they arrive (the start differs).
    int64_t now = zhub_now_ms ();
    for (size_t i = 0; s->arm && i < self->reminder_count; i++) {
        sched_timer_t reminder = {.kind = SCHED_TIMER_REMINDER,
                                  .booking_id = b->booking_id,
                                  .index = (int64_t)i,
                                  .start = b->start,
                                  .due = b->start - self->reminders_ms[i]};
        if (reminder.due <= now)
            continue; //  too late for this one
        if ((rc = sched_store_arm (self, txn, &reminder, now)) != ZHUB_OK)
            return rc;
    }
    return s->publish ? zhub_actor_outbox_put (self->ctx, txn, s->publish) : ZHUB_OK;
}

zhub_rc_t
sched_store_save (sched_store_t *self, const sched_save_t *save)
{
    assert (save && save->booking && save->booking->booking_id);
    s_save_t args = {.self = self, .save = save};
    zhub_rc_t rc = zhub_store_write (self->store, s_save_fn, &args);
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

zhub_rc_t
sched_store_link (sched_store_t *self, const char *key, char **booking_id)
{
    return s_get_str (self, self->invitees, key, booking_id);
}

//  -------------------------------------------------------------------
//  A person's bookings

typedef struct {
    const zhub_forget_t *f;
    sched_booking_t *events;
    size_t count;
} s_events_t;

static zhub_walk_t
s_collect_event (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)key;
    (void)key_size;
    s_events_t *found = arg;
    sched_booking_t b;
    if (sched_booking_decode (value, size, &b))
        return ZHUB_WALK_NEXT;
    if (sched_booking_refers_to (&b, found->f) && b.event_id && b.calendar_id && b.platform
        && (!strcmp (b.platform, "google") || !strcmp (b.platform, "graph"))) {
        found->events = zhub_realloc (found->events, (found->count + 1) * sizeof *found->events);
        found->events[found->count++] =
            (sched_booking_t){.booking_id = zhub_strdup (b.booking_id),
                              .platform = zhub_strdup (b.platform),
                              .calendar_id = zhub_strdup (b.calendar_id),
                              .event_id = zhub_strdup (b.event_id)};
    }
    sched_booking_clear (&b);
    return ZHUB_WALK_NEXT;
}

typedef struct {
    const sched_store_t *self;
    s_events_t found;
} s_events_read_t;

static zhub_rc_t
s_events_fn (zhub_txn_t *txn, void *arg)
{
    s_events_read_t *r = arg;
    return zhub_txn_walk (txn, r->self->bookings, s_collect_event, &r->found);
}

zhub_rc_t
sched_store_events_of (sched_store_t *self, const zhub_forget_t *f, sched_booking_t **events,
                       size_t *count)
{
    s_events_read_t read = {.self = self, .found = {.f = f}};
    zhub_rc_t rc = zhub_store_read (self->store, s_events_fn, &read);
    if (rc != ZHUB_OK) {
        for (size_t i = 0; i < read.found.count; i++)
            sched_booking_clear (&read.found.events[i]);
        free (read.found.events);
        read.found.events = NULL;
        read.found.count = 0;
    }
    *events = read.found.events;
    *count = read.found.count;
    return rc;
}

//  The person being erased and the ids of their bookings, gathered as
//  those go (a person has a handful at most).
typedef struct {
    const zhub_forget_t *f;
    zhub_strlist_t bookings;
} s_ids_t;

//  bookings: the ones that name the person go, and their ids join arg's
//  list; a record that does not decode stays. This, s_points_at and
//  s_is_person are zhub_store_row_fn.
static bool
s_names_person (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)key;
    (void)key_size;
    s_ids_t *ids = arg;
    sched_booking_t b;
    if (sched_booking_decode (value, size, &b))
        return false;
    bool doomed = sched_booking_refers_to (&b, ids->f);
    if (doomed)
        zhub_strlist_add (&ids->bookings, b.booking_id);
    sched_booking_clear (&b);
    return doomed;
}

//  holds and links: the value is the booking id.
static bool
s_points_at (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)key;
    (void)key_size;
    const s_ids_t *ids = arg;
    return zhub_strlist_has_bytes (&ids->bookings, value, size);
}

//  inbound: keyed by one of the person's ids.
static bool
s_is_person (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)value;
    (void)size;
    char *id = zhub_malloc (key_size + 1);
    memcpy (id, key, key_size);
    id[key_size] = 0;
    bool doomed = zhub_forget_is (arg, id);
    free (id);
    return doomed;
}

zhub_rc_t
sched_store_forget (sched_store_t *self, zhub_txn_t *txn, const zhub_forget_t *f, size_t *removed)
{
    *removed = 0;
    s_ids_t ids = {.f = f};
    zhub_rc_t rc = zhub_txn_delete_where (txn, self->bookings, s_names_person, &ids, removed);
    //  Nothing booked for the person: nothing can point at it either.
    if (rc == ZHUB_OK && ids.bookings.count
        && (zhub_txn_delete_where (txn, self->holds, s_points_at, &ids, removed) != ZHUB_OK
            || zhub_txn_delete_where (txn, self->invitees, s_points_at, &ids, removed) != ZHUB_OK))
        rc = ZHUB_ERROR;
    zhub_strlist_clear (&ids.bookings);
    //  When the person last wrote on WhatsApp (keyed by their Bird id).
    if (rc == ZHUB_OK
        && zhub_txn_delete_where (txn, self->inbound, s_is_person, (void *)f, removed) != ZHUB_OK)
        rc = ZHUB_ERROR;
    return rc;
}

//  -------------------------------------------------------------------
//  OAuth tokens

zhub_rc_t
sched_store_token (sched_store_t *self, sched_platform_t provider, uint8_t **box, size_t *size)
{
    const char *name = s_provider[provider];
    char *value;
    zhub_rc_t rc =
        zhub_store_get_copy (self->store, self->tokens, name, strlen (name), &value, size);
    *box = (uint8_t *)value;
    return rc;
}

typedef struct {
    const sched_store_t *self;
    sched_platform_t provider;
    const uint8_t *box;
    size_t size;
    int64_t fired; //  retry: the timer that failed
    int64_t due;
} s_token_t;

//  Arms the next refresh, which becomes the one that counts.
static zhub_rc_t
s_token_arm (const s_token_t *t, zhub_txn_t *txn)
{
    sched_timer_t timer = {.kind = SCHED_TIMER_TOKEN, .platform = t->provider, .due = t->due};
    char key[40];
    s_token_due_key (t->provider, key, sizeof key);
    zhub_rc_t rc = sched_store_arm (t->self, txn, &timer, zhub_now_ms ());
    return rc == ZHUB_OK ? sched_store_meta_put (t->self, txn, key, (uint64_t)t->due) : rc;
}

static zhub_rc_t
s_token_put_fn (zhub_txn_t *txn, void *arg)
{
    s_token_t *t = arg;
    const char *name = s_provider[t->provider];
    zhub_rc_t rc = zhub_txn_put (txn, t->self->tokens, name, strlen (name), t->box, t->size);
    return rc == ZHUB_OK ? s_token_arm (t, txn) : rc;
}

zhub_rc_t
sched_store_token_put (sched_store_t *self, sched_platform_t provider, const uint8_t *box,
                       size_t size, int64_t refresh_due)
{
    s_token_t put = {
        .self = self, .provider = provider, .box = box, .size = size, .due = refresh_due};
    return zhub_store_write (self->store, s_token_put_fn, &put) == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

int64_t
sched_store_token_due (sched_store_t *self, sched_platform_t provider)
{
    char key[40], *value;
    size_t size;
    s_token_due_key (provider, key, sizeof key);
    int64_t due = 0;
    if (zhub_store_get_copy (self->store, self->meta, key, strlen (key), &value, &size) == ZHUB_OK
        && size == 8)
        due = (int64_t)zhub_store_u64 (value);
    free (value);
    return due;
}

static zhub_rc_t
s_token_retry_fn (zhub_txn_t *txn, void *arg)
{
    s_token_t *t = arg;
    char key[40];
    s_token_due_key (t->provider, key, sizeof key);
    if (sched_store_meta_u64 (t->self, txn, key) != (uint64_t)t->fired)
        return ZHUB_NOTFOUND;
    return s_token_arm (t, txn);
}

zhub_rc_t
sched_store_token_retry (sched_store_t *self, sched_platform_t provider, int64_t fired,
                         int64_t next)
{
    s_token_t retry = {.self = self, .provider = provider, .fired = fired, .due = next};
    zhub_rc_t rc = zhub_store_write (self->store, s_token_retry_fn, &retry);
    return rc == ZHUB_OK || rc == ZHUB_NOTFOUND ? rc : ZHUB_ERROR;
}

//  -------------------------------------------------------------------
//  Google sync tokens (meta "gtoken:<calendar>"; "gsync:<calendar>" was
//  the watermark of older versions)

static void
s_sync_keys (const char *calendar, char *token_key, char *old_key, size_t size)
{
    snprintf (token_key, size, "gtoken:%.280s", calendar);
    snprintf (old_key, size, "gsync:%.280s", calendar);
}

zhub_rc_t
sched_store_sync_token (sched_store_t *self, const char *calendar, char **token)
{
    char key[300], old_key[300];
    s_sync_keys (calendar, key, old_key, sizeof key);
    return s_get_str (self, self->meta, key, token);
}

typedef struct {
    const sched_store_t *self;
    const char *calendar, *token;
} s_sync_put_t;

static zhub_rc_t
s_sync_put_fn (zhub_txn_t *txn, void *arg)
{
    s_sync_put_t *p = arg;
    char key[300], old_key[300];
    s_sync_keys (p->calendar, key, old_key, sizeof key);
    zhub_rc_t rc = s_put_str (txn, p->self->meta, key, p->token);
    return rc == ZHUB_OK ? sched_store_meta_del (p->self, txn, old_key) : rc;
}

zhub_rc_t
sched_store_sync_token_put (sched_store_t *self, const char *calendar, const char *token)
{
    s_sync_put_t put = {.self = self, .calendar = calendar, .token = token};
    return zhub_store_write (self->store, s_sync_put_fn, &put) == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

//  -------------------------------------------------------------------
//  Inbound times

int64_t
sched_store_inbound (sched_store_t *self, const char *bird_id)
{
    char *value;
    size_t size;
    int64_t at = 0;
    if (bird_id
        && zhub_store_get_copy (self->store, self->inbound, bird_id, strlen (bird_id), &value,
                                &size)
               == ZHUB_OK) {
        at = size == 8 ? (int64_t)zhub_store_u64 (value) : 0;
        free (value);
    }
    return at;
}

typedef struct {
    const sched_store_t *self;
    const char *bird_id;
    int64_t at;
    bool newer;
} s_inbound_t;

static zhub_rc_t
s_inbound_fn (zhub_txn_t *txn, void *arg)
{
    s_inbound_t *in = arg;
    const void *value;
    size_t size;
    size_t key_size = strlen (in->bird_id);
    in->newer = false;
    zhub_rc_t rc = zhub_txn_get (txn, in->self->inbound, in->bird_id, key_size, &value, &size);
    if (rc == ZHUB_ERROR)
        return rc;
    //  Webhooks may come late or twice: the newest message wins.
    if (rc == ZHUB_OK && size == 8 && (int64_t)zhub_store_u64 (value) >= in->at)
        return ZHUB_OK;
    uint8_t stamp[8];
    zhub_store_key_u64 (stamp, (uint64_t)in->at);
    in->newer = true;
    return zhub_txn_put (txn, in->self->inbound, in->bird_id, key_size, stamp, sizeof stamp);
}

zhub_rc_t
sched_store_inbound_put (sched_store_t *self, const char *bird_id, int64_t at, bool *newer)
{
    s_inbound_t in = {.self = self, .bird_id = bird_id, .at = at};
    zhub_rc_t rc = zhub_store_write (self->store, s_inbound_fn, &in);
    *newer = rc == ZHUB_OK && in.newer;
    return rc == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

//  -------------------------------------------------------------------
//  Messages and timers queued on their own

typedef struct {
    const sched_store_t *self;
    const zhub_msg_t *msg;
    const sched_timer_t *timer;
    int64_t held_from;
} s_queue_t;

static zhub_rc_t
s_queue_fn (zhub_txn_t *txn, void *arg)
{
    s_queue_t *q = arg;
    if (q->timer)
        return sched_store_arm (q->self, txn, q->timer, q->held_from);
    return zhub_actor_outbox_put (q->self->ctx, txn, q->msg);
}

zhub_rc_t
sched_store_publish (sched_store_t *self, const zhub_msg_t *msg)
{
    s_queue_t queue = {.self = self, .msg = msg};
    return zhub_store_write (self->store, s_queue_fn, &queue) == ZHUB_OK ? ZHUB_OK : ZHUB_ERROR;
}

zhub_rc_t
sched_store_timer_put (sched_store_t *self, const sched_timer_t *t, int64_t held_from)
{
    s_queue_t queue = {.self = self, .timer = t, .held_from = held_from};
    zhub_rc_t rc = zhub_store_write (self->store, s_queue_fn, &queue);
    return rc == ZHUB_OK || rc == ZHUB_REJECT ? rc : ZHUB_ERROR;
}
