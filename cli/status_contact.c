//  `zhub status contact`'s gathering (status_contact.h): each actor's
//  environment under a data dir opened read-only, read through that
//  actor's own store header (contact_sync_status.h, deal_sync_store.h,
//  conversation_store.h, activity_log_store.h, scheduler_store.h), nothing
//  here knows a key
//  format. contact-sync resolves the identifier to the person's ids; the
//  others are asked by those ids.
#include "status_contact.h"
#include "activity_log_store.h"
#include "contact_sync_status.h"
#include "conversation_store.h"
#include "deal_sync_store.h"
#include "scheduler_store.h"
#include "zhub_strlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
s_put_time (json_t *obj, const char *key, int64_t ms)
{
    if (ms <= 0)
        return;
    char stamp[40];
    zhub_time_format (ms, stamp, sizeof stamp);
    json_object_set_new (obj, key, json_string (stamp));
}

static void
s_put (json_t *obj, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new (obj, key, json_string (value));
}

//  actors[actor][list], made when missing.
static json_t *
s_list (json_t *actors, const char *actor, const char *list)
{
    json_t *section = json_object_get (actors, actor);
    if (!section) {
        section = json_object ();
        json_object_set_new (actors, actor, section);
    }
    json_t *items = json_object_get (section, list);
    if (!items) {
        items = json_array ();
        json_object_set_new (section, list, items);
    }
    return items;
}

//  Opens an actor's environment read-only: NULL without an error when it
//  never ran there.
static zhub_store_t *
s_open (const char *data_dir, const char *actor, int *rc)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/%s/data.mdb", data_dir, actor);
    struct stat info;
    if (stat (path, &info))
        return NULL;
    char err[256];
    zhub_store_t *store = zhub_store_open_readonly (data_dir, actor, err, sizeof err);
    if (!store) {
        fprintf (stderr, "zhub status: %s/%s: %s\n", data_dir, actor, err);
        *rc = -1;
    }
    return store;
}

//  -------------------------------------------------------------------
//  contact-sync: who the identifier is

static int
s_contact_sync (const char *data_dir, const char *identifier, json_t *actors, zhub_strlist_t *birds,
                zhub_strlist_t *hubspots, zhub_strlist_t *phones)
{
    contact_sync_reader_t reader;
    char err[256];
    zhub_rc_t rc = contact_sync_reader_open (&reader, data_dir, err, sizeof err);
    if (rc == ZHUB_NOTFOUND)
        return 0;
    if (rc != ZHUB_OK) {
        fprintf (stderr, "zhub status: %s/contact-sync: %s\n", data_dir, err);
        return -1;
    }
    json_t *persons = json_array ();
    rc = contact_sync_reader_find (&reader, identifier, persons);
    contact_sync_reader_close (&reader);
    if (rc != ZHUB_OK)
        fprintf (stderr, "zhub status: %s/contact-sync: cannot read the contacts\n", data_dir);
    size_t i;
    json_t *person;
    json_array_foreach (persons, i, person)
    {
        zhub_strlist_add_unique (birds,
                                 json_string_value (json_object_get (person, "bird_contact_id")));
        zhub_strlist_add_unique (
            hubspots, json_string_value (json_object_get (person, "hubspot_contact_id")));
        zhub_strlist_add_unique (phones, json_string_value (json_object_get (person, "phone")));
        json_array_append (s_list (actors, "contact-sync", "persons"), person);
    }
    json_decref (persons);
    return rc == ZHUB_OK ? 0 : -1;
}

//  -------------------------------------------------------------------
//  deal-sync: the person's deals and their stages

static int
s_deal_sync (const char *data_dir, const zhub_strlist_t *ids, json_t *actors)
{
    zhub_store_t *store;
    deal_sync_tables_t tables;
    char err[256];
    zhub_rc_t rc = deal_sync_store_open_readonly (data_dir, &store, &tables, err, sizeof err);
    if (rc == ZHUB_NOTFOUND || !ids->count) {
        zhub_store_destroy (&store);
        return 0;
    }
    if (rc != ZHUB_OK) {
        fprintf (stderr, "zhub status: %s/deal-sync: %s\n", data_dir, err);
        return -1;
    }
    //  Found as deal-sync's erase finds a person: by any of their ids.
    zhub_forget_t who = {.ids = ids->items, .id_count = ids->count};
    zhub_strlist_t deal_ids = {0};
    rc = deal_sync_store_deals_of (store, &tables, &who, &deal_ids);
    for (size_t i = 0; rc == ZHUB_OK && i < deal_ids.count; i++) {
        char *key = NULL;
        deal_state_t state = {0};
        zhub_rc_t got =
            deal_sync_store_deal_by_id (store, &tables, deal_ids.items[i], &key, &state);
        if (got == ZHUB_OK) {
            json_t *deal = json_pack ("{s:s, s:s, s:b}", "deal_id", deal_ids.items[i], "key", key,
                                      "associated", state.associated);
            s_put (deal, "stage", state.stage);
            s_put_time (deal, "stage_since", state.stage_ms);
            s_put (deal, "hubspot_contact_id", state.contact_id);
            s_put (deal, "bird_contact_id", state.bird_id);
            json_array_append_new (s_list (actors, "deal-sync", "deals"), deal);
        } else if (got == ZHUB_ERROR)
            rc = ZHUB_ERROR;
        free (key);
        deal_state_clear (&state);
    }
    zhub_strlist_clear (&deal_ids);
    zhub_store_destroy (&store);
    if (rc != ZHUB_OK)
        fprintf (stderr, "zhub status: %s/deal-sync: cannot read the deals\n", data_dir);
    return rc == ZHUB_OK ? 0 : -1;
}

//  -------------------------------------------------------------------
//  The scheduler: the person's bookings

static int
s_scheduler (const char *data_dir, const zhub_strlist_t *ids, json_t *actors)
{
    if (!ids->count)
        return 0;
    zhub_forget_t who = {.ids = ids->items, .id_count = ids->count};
    json_t *bookings = json_array ();
    char err[256];
    zhub_rc_t rc = sched_store_bookings_of_readonly (data_dir, &who, bookings, err, sizeof err);
    if (rc == ZHUB_ERROR)
        fprintf (stderr, "zhub status: %s/scheduler: %s\n", data_dir, err);
    if (json_array_size (bookings))
        json_array_extend (s_list (actors, "scheduler", "bookings"), bookings);
    json_decref (bookings);
    return rc == ZHUB_ERROR ? -1 : 0;
}

//  -------------------------------------------------------------------
//  The conversation bridge: the open conversation, the last inbound

typedef struct {
    const conversation_tables_t *tables;
    const char *contact;
    conv_state_t state;
} s_conv_read_t;

static zhub_rc_t
s_conv_read (zhub_txn_t *txn, void *arg)
{
    s_conv_read_t *read = arg;
    conv_state_clear (&read->state);
    return conversation_state_get (read->tables, txn, read->contact, &read->state);
}

static int
s_conversation (const char *data_dir, const zhub_strlist_t *contacts, json_t *actors,
                zhub_strlist_t *conversations)
{
    int rc = 0;
    zhub_store_t *store = s_open (data_dir, "conversation", &rc);
    conversation_tables_t tables;
    if (!store || conversation_tables_open (store, &tables)) {
        zhub_store_destroy (&store);
        return rc;
    }
    for (size_t i = 0; i < contacts->count; i++) {
        s_conv_read_t read = {.tables = &tables, .contact = contacts->items[i]};
        zhub_rc_t got = zhub_store_read (store, s_conv_read, &read);
        if (got == ZHUB_OK) {
            const conv_state_t *s = &read.state;
            json_t *conv = json_pack ("{s:s, s:b}", "contact", contacts->items[i], "open", s->open);
            s_put (conv, "conversation_id", s->conversation_id);
            s_put (conv, "bird_conversation_id", s->bird_conversation_id);
            s_put (conv, "channel", s->channel);
            s_put (conv, "holder", s->holder);
            s_put_time (conv, "started", s->started_ms);
            s_put_time (conv, "last_message", s->last_ms);
            s_put_time (conv, "last_inbound", s->last_in_ms);
            json_array_append_new (s_list (actors, "conversation", "conversations"), conv);
            zhub_strlist_add_unique (conversations, s->conversation_id);
            zhub_strlist_add_unique (conversations, s->bird_conversation_id);
        } else if (got == ZHUB_ERROR) {
            fprintf (stderr, "zhub status: %s/conversation: cannot read %s\n", data_dir,
                     contacts->items[i]);
            rc = -1;
        }
        conv_state_clear (&read.state);
    }
    zhub_store_destroy (&store);
    return rc;
}

//  -------------------------------------------------------------------
//  activity-log: the ids it learned, the transcript of each conversation

static int
s_activity_log (const char *data_dir, const zhub_strlist_t *birds,
                const zhub_strlist_t *conversations, json_t *actors)
{
    int rc = 0;
    zhub_store_t *store = s_open (data_dir, "activity-log", &rc);
    activity_log_tables_t tables;
    if (!store || activity_log_tables_open (store, &tables)) {
        zhub_store_destroy (&store);
        return rc;
    }
    for (size_t i = 0; i < birds->count; i++) {
        activity_log_ids_t ids = {0};
        zhub_rc_t got = activity_log_store_ids (store, &tables, birds->items[i], &ids);
        if (got == ZHUB_OK) {
            json_t *entry = json_pack ("{s:s}", "bird_contact_id", birds->items[i]);
            s_put (entry, "hubspot_contact_id", ids.contact_id);
            s_put (entry, "hubspot_deal_id", ids.deal_id);
            json_array_append_new (s_list (actors, "activity-log", "contacts"), entry);
        } else if (got == ZHUB_ERROR)
            rc = -1;
        activity_log_ids_clear (&ids);
    }
    for (size_t i = 0; i < conversations->count; i++) {
        activity_conv_t conv;
        memset (&conv, 0, sizeof conv);
        zhub_rc_t got = activity_log_store_conv (store, &tables, conversations->items[i], &conv);
        if (got == ZHUB_OK) {
            json_t *entry =
                json_pack ("{s:s, s:I, s:s}", "conversation_id", conversations->items[i], "lines",
                           (json_int_t)conv.count, "transcript",
                           !conv.note_id ? "not written"
                           : conv.dirty  ? "waiting"
                                         : "written");
            s_put (entry, "transcript_note_id", conv.note_id);
            s_put_time (entry, "last_message", conv.updated_ms);
            s_put_time (entry, "transcript_written", conv.flushed_ms);
            s_put_time (entry, "flush_due", conv.flush_due_ms);
            json_array_append_new (s_list (actors, "activity-log", "conversations"), entry);
        } else if (got == ZHUB_ERROR)
            rc = -1;
        activity_conv_clear (&conv);
    }
    if (rc)
        fprintf (stderr, "zhub status: %s/activity-log: cannot read the person's records\n",
                 data_dir);
    zhub_store_destroy (&store);
    return rc;
}

//  -------------------------------------------------------------------

int
zhub_status_contact_gather (const char *data_dir, const char *identifier, json_t *actors)
{
    zhub_strlist_t birds = {0}, hubspots = {0}, phones = {0}, ids = {0}, conversations = {0};
    int rc = s_contact_sync (data_dir, identifier, actors, &birds, &hubspots, &phones);
    //  Unknown to contact-sync: an identifier that can only be a Bird id
    //  (no "@", no "+", not all digits) still keys the others.
    contact_erase_t who = {.identifier = (char *)identifier};
    contact_sync_erase_classify (identifier, false, &who);
    if (!birds.count && who.by == CONTACT_ERASE_BY_BIRD)
        zhub_strlist_add_unique (&birds, identifier);
    if (who.by == CONTACT_ERASE_BY_PHONE || who.by == CONTACT_ERASE_BY_DIGITS)
        zhub_strlist_add_unique (&phones, who.phone);
    for (size_t i = 0; i < birds.count; i++)
        zhub_strlist_add_unique (&ids, birds.items[i]);
    for (size_t i = 0; i < hubspots.count; i++)
        zhub_strlist_add_unique (&ids, hubspots.items[i]);
    //  the bridge keys a WhatsApp Cloud contact by "+<wa id>"
    zhub_strlist_t contacts = {0};
    for (size_t i = 0; i < birds.count; i++)
        zhub_strlist_add_unique (&contacts, birds.items[i]);
    for (size_t i = 0; i < phones.count; i++)
        zhub_strlist_add_unique (&contacts, phones.items[i]);
    if (s_deal_sync (data_dir, &ids, actors))
        rc = -1;
    //  the scheduler knows a person by Bird id or phone (with or without "+")
    zhub_strlist_t people = {0};
    for (size_t i = 0; i < ids.count; i++)
        zhub_strlist_add_unique (&people, ids.items[i]);
    for (size_t i = 0; i < phones.count; i++) {
        zhub_strlist_add_unique (&people, phones.items[i]);
        zhub_strlist_add_unique (&people, phones.items[i] + (phones.items[i][0] == '+'));
    }
    if (s_scheduler (data_dir, &people, actors))
        rc = -1;
    zhub_strlist_clear (&people);
    if (s_conversation (data_dir, &contacts, actors, &conversations))
        rc = -1;
    if (s_activity_log (data_dir, &birds, &conversations, actors))
        rc = -1;
    zhub_strlist_clear (&birds);
    zhub_strlist_clear (&hubspots);
    zhub_strlist_clear (&phones);
    zhub_strlist_clear (&ids);
    zhub_strlist_clear (&contacts);
    zhub_strlist_clear (&conversations);
    return rc;
}
