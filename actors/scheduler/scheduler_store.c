//  scheduler's store helpers: reads and writes of the LMDB tables (see
//  scheduler_io.h) as transaction callbacks. Step 1 of a request (hold
//  the slot, re-checking the holds inside the write transaction) and the
//  commit of a booking record with its outbox message and reminder timers
//  live here, because each is one transaction.
#include "scheduler_internal.h"
#include "scheduler_timer.h"

//  -------------------------------------------------------------------
//  Store helpers

typedef struct {
    zhub_table_t table;
    const void *key;
    size_t key_size;
    char *value;
    size_t size;
} s_get_t;

static zhub_rc_t
s_get_fn (zhub_txn_t *txn, void *arg)
{
    s_get_t *get = arg;
    const void *value;
    size_t size;
    zhub_rc_t rc = zhub_txn_get (txn, get->table, get->key, get->key_size, &value, &size);
    if (rc != ZHUB_OK)
        return rc;
    get->value = zhub_malloc (size + 1);
    memcpy (get->value, value, size);
    get->value[size] = 0;
    get->size = size;
    return ZHUB_OK;
}

zhub_rc_t
scheduler_get (zhub_store_t *store, zhub_table_t table, const void *key, size_t key_size,
               char **value, size_t *size)
{
    s_get_t get = {.table = table, .key = key, .key_size = key_size};
    zhub_rc_t rc = zhub_store_read (store, s_get_fn, &get);
    *value = get.value;
    *size = get.size;
    return rc;
}

zhub_rc_t
scheduler_load_booking (zhub_store_t *store, scheduler_t *self, const char *id, sched_booking_t *b)
{
    char *text;
    size_t size;
    zhub_rc_t rc = scheduler_get (store, self->bookings, id, strlen (id), &text, &size);
    if (rc != ZHUB_OK)
        return rc;
    rc = sched_booking_decode (text, size, b) ? ZHUB_ERROR : ZHUB_OK;
    free (text);
    return rc;
}

static uint8_t *
s_hold_key (const char *agent_id, int64_t start, size_t *size)
{
    size_t n = strlen (agent_id);
    uint8_t *key = zhub_malloc (n + 9);
    memcpy (key, agent_id, n);
    key[n] = 0;
    zhub_store_key_u64 (key + n + 1, (uint64_t)start);
    *size = n + 9;
    return key;
}

zhub_rc_t
scheduler_holds_fn (zhub_txn_t *txn, void *arg)
{
    scheduler_holds_t *h = arg;
    size_t prefix;
    uint8_t *start_key = s_hold_key (h->agent_id, 0, &prefix);
    prefix -= 8;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, h->self->holds);
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc =
        cursor ? zhub_cursor_seek (cursor, start_key, prefix, &key, &key_size, &value, &value_size)
               : ZHUB_ERROR;
    while (rc == ZHUB_OK && key_size == prefix + 8 && !memcmp (key, start_key, prefix)) {
        //  value: booking id; the booking holds the end
        const void *bval;
        size_t bsize;
        if (zhub_txn_get (txn, h->self->bookings, value, value_size, &bval, &bsize) == ZHUB_OK) {
            sched_booking_t b;
            if (sched_booking_decode (bval, bsize, &b) == 0) {
                if (strcmp (b.status, "canceled"))
                    sched_busy_add (h->busy, b.start, b.end);
                sched_booking_clear (&b);
            }
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    free (start_key);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

uint64_t
scheduler_meta_u64 (zhub_txn_t *txn, scheduler_t *self, const char *name)
{
    const void *value;
    size_t size;
    if (zhub_txn_get (txn, self->meta, name, strlen (name), &value, &size) == ZHUB_OK && size == 8)
        return zhub_store_u64 (value);
    return 0;
}

zhub_rc_t
scheduler_meta_put_u64 (zhub_txn_t *txn, scheduler_t *self, const char *name, uint64_t v)
{
    uint8_t bytes[8];
    zhub_store_key_u64 (bytes, v);
    return zhub_txn_put (txn, self->meta, name, strlen (name), bytes, 8);
}

zhub_rc_t
scheduler_meta_fn (zhub_txn_t *txn, void *arg)
{
    scheduler_meta_t *m = arg;
    return scheduler_meta_put_u64 (txn, m->self, m->name, m->value);
}

//  -------------------------------------------------------------------
//  Step 1: hold the slot

zhub_rc_t
scheduler_hold_fn (zhub_txn_t *txn, void *arg)
{
    scheduler_hold_t *h = arg;
    scheduler_t *self = h->self;
    const sched_booking_t *b = h->booking;
    //  Check again inside the write: a concurrent request may have won.
    sched_busy_t busy = {0};
    scheduler_holds_t holds = {.self = self, .agent_id = b->agent_id, .busy = &busy};
    if (scheduler_holds_fn (txn, &holds) != ZHUB_OK)
        return ZHUB_ERROR;
    h->taken = !sched_agent_free (&busy, b->start, b->end, h->buffer_ms);
    sched_busy_clear (&busy);
    if (h->taken)
        return ZHUB_OK;
    size_t size;
    uint8_t *key = s_hold_key (b->agent_id, b->start, &size);
    zhub_rc_t rc =
        zhub_txn_put (txn, self->holds, key, size, b->booking_id, strlen (b->booking_id));
    free (key);
    char *text = sched_booking_encode (b);
    if (rc == ZHUB_OK)
        rc = zhub_txn_put (txn, self->bookings, b->booking_id, strlen (b->booking_id), text,
                           strlen (text));
    free (text);
    if (rc == ZHUB_OK)
        rc = scheduler_meta_put_u64 (txn, self, "rr", scheduler_meta_u64 (txn, self, "rr") + 1);
    return rc;
}

zhub_rc_t
scheduler_save_fn (zhub_txn_t *txn, void *arg)
{
    scheduler_save_t *s = arg;
    scheduler_t *self = s->self;
    const sched_booking_t *b = s->booking;
    zhub_rc_t rc;
    if (s->release) {
        size_t size;
        uint8_t *key = s_hold_key (b->agent_id, b->start, &size);
        rc = zhub_txn_del (txn, self->holds, key, size);
        free (key);
        if (rc == ZHUB_ERROR)
            return rc;
        rc = zhub_txn_del (txn, self->bookings, b->booking_id, strlen (b->booking_id));
        return rc == ZHUB_ERROR ? rc : ZHUB_OK;
    }
    if ((s->hold_from > 0 || s->hold_put) && b->agent_id) {
        size_t size;
        uint8_t *key;
        if (s->hold_from > 0) {
            key = s_hold_key (b->agent_id, s->hold_from, &size);
            rc = zhub_txn_del (txn, self->holds, key, size);
            free (key);
            if (rc == ZHUB_ERROR)
                return rc;
        }
        if (s->hold_put) {
            key = s_hold_key (b->agent_id, b->start, &size);
            rc = zhub_txn_put (txn, self->holds, key, size, b->booking_id, strlen (b->booking_id));
            free (key);
            if (rc != ZHUB_OK)
                return rc;
        }
    }
    if (s->invitee
        && zhub_txn_put (txn, self->invitees, s->invitee, strlen (s->invitee), b->booking_id,
                         strlen (b->booking_id))
               != ZHUB_OK)
        return ZHUB_ERROR;
    char *text = sched_booking_encode (b);
    rc = zhub_txn_put (txn, self->bookings, b->booking_id, strlen (b->booking_id), text,
                       strlen (text));
    free (text);
    if (rc != ZHUB_OK)
        return rc;
    //  The reminders of this start: one held message each. Those of an
    //  earlier start are dropped when they arrive (the start differs).
    int64_t now = zhub_now_ms ();
    for (size_t i = 0; s->arm && i < self->cfg.reminder_count; i++) {
        sched_timer_t reminder = {.kind = SCHED_TIMER_REMINDER,
                                  .booking_id = b->booking_id,
                                  .index = (int64_t)i,
                                  .start = b->start,
                                  .due = b->start - self->cfg.reminders_ms[i]};
        if (reminder.due <= now)
            continue; //  too late for this one
        if ((rc = scheduler_timer_arm (s->ctx, txn, &reminder, now)) != ZHUB_OK)
            return rc;
    }
    if (s->publish)
        return zhub_actor_outbox_put (s->ctx, txn, s->publish);
    return ZHUB_OK;
}

zhub_rc_t
scheduler_save (zhub_actor_ctx_t *ctx, const sched_booking_t *b, zhub_msg_t *publish, bool arm,
                bool release)
{
    scheduler_save_t save = {.ctx = ctx,
                             .self = ctx->state,
                             .booking = b,
                             .publish = publish,
                             .arm = arm,
                             .release = release};
    return zhub_store_write (ctx->store, scheduler_save_fn, &save);
}
