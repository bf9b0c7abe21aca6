//  scheduler's side of a GDPR erase: contact.forget deletes every booking
//  that names the person and what points at it (holds, reminder timers,
//  Calendly invitee and Graph event links), and queues contact.forgotten,
//  in one write transaction; the runtime then compacts the store so the
//  deleted bytes leave the file too. The OAuth tokens, the round-robin
//  position and the periodic timers are not about anyone and stay.
//
//  Idempotent: a second contact.forget for the same person finds nothing,
//  removes 0 and answers contact.forgotten again under the same id (the
//  broker's dedup drops the repeat).
#include "scheduler_internal.h"

//  The person being erased and the ids of their bookings, gathered as
//  those go (a person has a handful at most).
typedef struct {
    const zhub_forget_t *f;
    char **ids;
    size_t count;
} s_ids_t;

static bool
s_has (const s_ids_t *ids, const void *id, size_t size)
{
    for (size_t i = 0; i < ids->count; i++)
        if (strlen (ids->ids[i]) == size && !memcmp (ids->ids[i], id, size))
            return true;
    return false;
}

static void
s_ids_clear (s_ids_t *ids)
{
    for (size_t i = 0; i < ids->count; i++)
        free (ids->ids[i]);
    free (ids->ids);
    memset (ids, 0, sizeof *ids);
}

//  bookings: the ones that name the person go, and their ids join arg's
//  list; a record that does not decode stays. This, s_points_at and
//  s_reminds_of are zhub_store_row_fn with an s_ids_t as arg.
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
    if (doomed) {
        ids->ids = zhub_realloc (ids->ids, (ids->count + 1) * sizeof (char *));
        ids->ids[ids->count++] = zhub_strdup (b.booking_id);
    }
    sched_booking_clear (&b);
    return doomed;
}

//  holds and invitees: the value is the booking id.
static bool
s_points_at (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)key;
    (void)key_size;
    return s_has (arg, value, size);
}

//  timers: {"kind":"reminder","booking_id":…}.
static bool
s_reminds_of (const void *key, size_t key_size, const void *value, size_t size, void *arg)
{
    (void)key;
    (void)key_size;
    const s_ids_t *ids = arg;
    json_t *what = json_loadb (value, size, 0, NULL);
    const char *kind = json_string_value (json_object_get (what, "kind"));
    const char *id = json_string_value (json_object_get (what, "booking_id"));
    bool doomed = kind && !strcmp (kind, "reminder") && id && s_has (ids, id, strlen (id));
    json_decref (what);
    return doomed;
}

zhub_rc_t
scheduler_forget_records (zhub_txn_t *txn, scheduler_t *self, const zhub_forget_t *f,
                          size_t *removed)
{
    *removed = 0;
    s_ids_t ids = {.f = f};
    zhub_rc_t rc = zhub_txn_delete_where (txn, self->bookings, s_names_person, &ids, removed);
    //  Nothing booked for the person: nothing can point at it either.
    if (rc == ZHUB_OK && ids.count
        && (zhub_txn_delete_where (txn, self->holds, s_points_at, &ids, removed) != ZHUB_OK
            || zhub_txn_delete_where (txn, self->timers, s_reminds_of, &ids, removed) != ZHUB_OK
            || zhub_txn_delete_where (txn, self->invitees, s_points_at, &ids, removed) != ZHUB_OK))
        rc = ZHUB_ERROR;
    s_ids_clear (&ids);
    return rc;
}

//  scheduler_forget_records as the runtime's erase step.
static zhub_rc_t
s_erase (zhub_actor_ctx_t *ctx, zhub_txn_t *txn, const zhub_forget_t *f, size_t *removed)
{
    return scheduler_forget_records (txn, ctx->state, f, removed);
}

void
scheduler_forget (zhub_actor_ctx_t *ctx, const zhub_msg_t *msg, zhub_outcome_t *out)
{
    zhub_actor_forget (ctx, msg, SCHEDULER_GROUP, s_erase, out);
}
