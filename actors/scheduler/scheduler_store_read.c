//  The scheduler store's read side for another process (`zhub status
//  contact`): the bookings that name a person, read from the scheduler's
//  environment opened read-only beside the running actor (LMDB serves
//  readers in other processes; docs/adr/0004). Kept apart from
//  scheduler_store.c, whose store is always the actor's own.
#include "scheduler_store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    zhub_table_t bookings;
    const zhub_forget_t *who;
    json_t *out;
} s_read_t;

static void
s_put (json_t *obj, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new (obj, key, json_string (value));
}

static void
s_put_time (json_t *obj, const char *key, int64_t ms)
{
    if (ms <= 0)
        return;
    char stamp[40];
    zhub_time_format (ms, stamp, sizeof stamp);
    json_object_set_new (obj, key, json_string (stamp));
}

static zhub_walk_t
s_one (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)key, (void)key_size;
    s_read_t *read = arg;
    sched_booking_t b;
    if (sched_booking_decode (value, value_size, &b))
        return ZHUB_WALK_NEXT; //  a record that does not decode names nobody
    if (sched_booking_refers_to (&b, read->who)) {
        json_t *booking = json_pack ("{s:b}", "confirmed", b.confirmed);
        s_put (booking, "booking_id", b.booking_id);
        s_put (booking, "status", b.status);
        s_put_time (booking, "start", b.start);
        s_put_time (booking, "end", b.end);
        s_put (booking, "platform", b.platform);
        s_put (booking, "agent_id", b.agent_id);
        s_put (booking, "conversation_id", b.conversation_id);
        s_put (booking, "confirmation_url", b.confirmation_url);
        json_array_append_new (read->out, booking);
    }
    sched_booking_clear (&b);
    return ZHUB_WALK_NEXT;
}

static zhub_rc_t
s_read_fn (zhub_txn_t *txn, void *arg)
{
    s_read_t *read = arg;
    json_array_clear (read->out);
    return zhub_txn_walk (txn, read->bookings, s_one, read);
}

zhub_rc_t
sched_store_bookings_of_readonly (const char *data_dir, const zhub_forget_t *who, json_t *bookings,
                                  char *err, size_t err_size)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/scheduler/data.mdb", data_dir);
    struct stat info;
    if (stat (path, &info))
        return ZHUB_NOTFOUND;
    zhub_store_t *store = zhub_store_open_readonly (data_dir, "scheduler", err, err_size);
    if (!store)
        return ZHUB_ERROR;
    s_read_t read = {.who = who, .out = json_array ()};
    zhub_rc_t rc = ZHUB_NOTFOUND; //  no bookings table: the scheduler never got that far
    if (!zhub_store_table (store, SCHED_TABLE_BOOKINGS, &read.bookings)) {
        rc = zhub_store_read (store, s_read_fn, &read);
        if (rc != ZHUB_OK)
            snprintf (err, err_size, "cannot read the bookings");
    }
    if (rc == ZHUB_OK)
        json_array_extend (bookings, read.out);
    json_decref (read.out);
    zhub_store_destroy (&store);
    return rc;
}
