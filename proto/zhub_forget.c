//  contact.forget read once, one matching rule, one contact.forgotten (see
//  zhub_forget.h). Records are walked as msgpack rather than searched as
//  raw bytes: a string's edges are then known (so "501" is not found in
//  "15012", nor in a binary integer whose bytes happen to spell it), and an
//  id sent as a number is found too.
#include "zhub_forget.h"
#include "zhub_id.h"
#include "zhub_keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  contact.forget data: a map of a few fields and one array.
static const zhub_mpack_limits_t s_data_limits = {
    .max_size = 1u << 20, .max_depth = 8, .max_items = 1u << 16};
//  Records: the stores' own records hold envelopes, dead letters among
//  them, as maps or as bins, so they nest as deep as a stored envelope
//  (zhub_msg_stored_limits); msgpack inside a bin is looked into at most
//  S_MAX_NESTING deep. A record that does not decode is searched as text,
//  which finds no id sent as a number: the depth must cover them all.
static const zhub_mpack_limits_t s_walk_limits = {
    .max_size = 64u << 20, .max_depth = ZHUB_MSG_STORED_MAX_DEPTH, .max_items = 1u << 20};
#define S_MAX_NESTING 4

static const char *s_fields[] = {"bird_contact_id", "hubspot_contact_id", "phone", "email"};
#define S_FIELDS (sizeof s_fields / sizeof s_fields[0])

static char **
s_field (zhub_forget_t *f, size_t i)
{
    char **fields[S_FIELDS] = {&f->bird_contact_id, &f->hubspot_contact_id, &f->phone, &f->email};
    return fields[i];
}

//  -------------------------------------------------------------------
//  Reading contact.forget

static void
s_reason (char *reason, size_t reason_size, const char *text)
{
    if (reason && reason_size)
        snprintf (reason, reason_size, "%s", text);
}

//  A string or integer as fresh text; NULL for anything else or "".
static char *
s_text_of (const msgpack_object *obj)
{
    char number[32];
    if (!obj)
        return NULL;
    if (obj->type == MSGPACK_OBJECT_STR)
        return obj->via.str.size ? zhub_mpack_strdup (obj) : NULL;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        snprintf (number, sizeof number, "%" PRIu64, obj->via.u64);
    else if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        snprintf (number, sizeof number, "%" PRId64, obj->via.i64);
    else
        return NULL;
    return zhub_strdup (number);
}

//  Adds one identifier unless known or unusable. -1 when the list is full.
static int
s_add_one (zhub_forget_t *f, const char *id)
{
    if (!id || !*id || strlen (id) > ZHUB_FORGET_MAX_ID_BYTES || zhub_forget_is (f, id))
        return 0;
    if (f->id_count == ZHUB_FORGET_MAX_IDS)
        return -1;
    f->ids = zhub_realloc (f->ids, (f->id_count + 1) * sizeof *f->ids);
    f->ids[f->id_count++] = zhub_strdup (id);
    return 0;
}

//  Adds the identifier and, for a phone-like one ("+" then 7 to 15
//  digits, or only those digits), its form with / without the "+":
//  contact-sync sends both, an older or hand-made message may not.
static int
s_add (zhub_forget_t *f, const char *id)
{
    if (!id)
        return 0;
    if (s_add_one (f, id))
        return -1;
    const char *digits = id[0] == '+' ? id + 1 : id;
    size_t length = strlen (digits);
    if (length < 7 || length > 15 || strspn (digits, "0123456789") != length)
        return 0; //  not a phone number (E.164: at most 15 digits)
    if (id[0] == '+')
        return s_add_one (f, digits);
    char *plus = zhub_sprintf ("+%s", digits);
    int rc = s_add_one (f, plus);
    free (plus);
    return rc;
}

zhub_rc_t
zhub_forget_parse_data (const uint8_t *data, size_t size, zhub_forget_t *f, char *reason,
                        size_t reason_size)
{
    memset (f, 0, sizeof *f);
    msgpack_unpacked result;
    if (!data || !size || zhub_mpack_decode (data, size, &s_data_limits, &result, NULL, 0)) {
        s_reason (reason, reason_size, "contact.forget data is not a msgpack map");
        return ZHUB_REJECT;
    }
    const msgpack_object *map = &result.data;
    const msgpack_object *request = zhub_mpack_get (map, "request");
    zhub_rc_t rc = ZHUB_OK;
    if (map->type != MSGPACK_OBJECT_MAP) {
        s_reason (reason, reason_size, "contact.forget data is not a msgpack map");
        rc = ZHUB_REJECT;
    } else if (!request || request->type != MSGPACK_OBJECT_STR || !request->via.str.size
               || request->via.str.size > ZHUB_FORGET_REQUEST_MAX
               || !(f->request = zhub_mpack_strdup (request))) {
        s_reason (reason, reason_size, "contact.forget without a usable data.request");
        rc = ZHUB_REJECT;
    }
    int full = 0;
    for (size_t i = 0; rc == ZHUB_OK && i < S_FIELDS; i++) {
        char **field = s_field (f, i);
        *field = s_text_of (zhub_mpack_get (map, s_fields[i]));
        full |= s_add (f, *field);
    }
    const msgpack_object *replica = zhub_mpack_get (map, "replica");
    if (rc == ZHUB_OK && replica) {
        f->replica = replica->type == MSGPACK_OBJECT_STR && replica->via.str.size <= 64
                         ? zhub_mpack_strdup (replica)
                         : NULL;
        if (!f->replica || !zhub_key_name_valid (f->replica)) {
            s_reason (reason, reason_size,
                      "contact.forget with a data.replica that is not an instance name");
            rc = ZHUB_REJECT;
        }
    }
    const msgpack_object *upstream = zhub_mpack_get (map, "upstream");
    f->upstream = rc == ZHUB_OK && upstream && upstream->type == MSGPACK_OBJECT_BOOLEAN
                  && upstream->via.boolean;
    const msgpack_object *list = zhub_mpack_get (map, "identifiers");
    if (rc == ZHUB_OK && list && list->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < list->via.array.size; i++) {
            char *id = s_text_of (&list->via.array.ptr[i]);
            full |= s_add (f, id);
            free (id);
        }
    if (rc == ZHUB_OK && full) {
        s_reason (reason, reason_size, "contact.forget names too many identifiers");
        rc = ZHUB_REJECT;
    }
    msgpack_unpacked_destroy (&result);
    return rc;
}

zhub_rc_t
zhub_forget_parse (const zhub_msg_t *msg, zhub_forget_t *f, char *reason, size_t reason_size)
{
    return zhub_forget_parse_data (msg->data, msg->data_size, f, reason, reason_size);
}

void
zhub_forget_encode (const zhub_forget_t *f, uint8_t **data, size_t *size)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    const char *values[S_FIELDS] = {f->bird_contact_id, f->hubspot_contact_id, f->phone, f->email};
    size_t named = 0;
    for (size_t i = 0; i < S_FIELDS; i++)
        named += values[i] != NULL;
    msgpack_pack_map (&pk, 2 + named + f->upstream + (f->replica != NULL));
    zhub_mpack_pack_kv_str (&pk, "request", f->request ? f->request : "");
    if (f->replica)
        zhub_mpack_pack_kv_str (&pk, "replica", f->replica);
    if (f->upstream) {
        zhub_mpack_pack_str (&pk, "upstream");
        msgpack_pack_true (&pk);
    }
    for (size_t i = 0; i < S_FIELDS; i++)
        if (values[i])
            zhub_mpack_pack_kv_str (&pk, s_fields[i], values[i]);
    zhub_mpack_pack_str (&pk, "identifiers");
    msgpack_pack_array (&pk, f->id_count);
    for (size_t i = 0; i < f->id_count; i++)
        zhub_mpack_pack_str (&pk, f->ids[i]);
    *data = (uint8_t *)sbuf.data;
    *size = sbuf.size;
}

void
zhub_forget_clear (zhub_forget_t *f)
{
    if (!f)
        return;
    free (f->request);
    free (f->replica);
    for (size_t i = 0; i < S_FIELDS; i++)
        free (*s_field (f, i));
    for (size_t i = 0; i < f->id_count; i++)
        free (f->ids[i]);
    free (f->ids);
    memset (f, 0, sizeof *f);
}

//  -------------------------------------------------------------------
//  The matching rule

bool
zhub_forget_is (const zhub_forget_t *f, const char *value)
{
    for (size_t i = 0; value && i < f->id_count; i++)
        if (!strcasecmp (f->ids[i], value))
            return true;
    return false;
}

static bool
s_alnum (unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char
s_lower (unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool
s_same (const unsigned char *text, const char *id, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s_lower (text[k]) != s_lower ((unsigned char)id[k]))
            return false;
    return true;
}

//  Characters that carry an e-mail address on when a letter or digit lies
//  beyond them: "ana@example.com" is not "x.ana@example.com".
static bool
s_joiner (unsigned char c)
{
    return c == '.' || c == '_' || c == '-' || c == '+' || c == '@';
}

//  True when text[at, at + n) is a whole token for id (see the header).
static bool
s_whole (const unsigned char *text, size_t len, size_t at, size_t n, const char *id, bool email)
{
    size_t end = at + n;
    if (s_alnum ((unsigned char)id[0]) && at > 0
        && (s_alnum (text[at - 1])
            || (email && s_joiner (text[at - 1]) && at > 1 && s_alnum (text[at - 2]))))
        return false;
    if (s_alnum ((unsigned char)id[n - 1]) && end < len
        && (s_alnum (text[end])
            || (email && s_joiner (text[end]) && end + 1 < len && s_alnum (text[end + 1]))))
        return false;
    return true;
}

static bool
s_text_has (const unsigned char *text, size_t len, const char *id)
{
    size_t n = strlen (id);
    if (n < ZHUB_FORGET_SHORT_ID) //  whole value, or the last part of a subject
        return (len == n && s_same (text, id, n))
               || (len > n && text[len - n - 1] == ':' && s_same (text + len - n, id, n));
    bool email = strchr (id, '@') != NULL;
    for (size_t at = 0; at + n <= len; at++)
        if (s_same (text + at, id, n) && s_whole (text, len, at, n, id, email))
            return true;
    return false;
}

bool
zhub_forget_mentions_text (const zhub_forget_t *f, const void *text, size_t size)
{
    for (size_t i = 0; text && i < f->id_count; i++)
        if (s_text_has (text, size, f->ids[i]))
            return true;
    return false;
}

static bool
s_number_is (const zhub_forget_t *f, const char *number)
{
    for (size_t i = 0; i < f->id_count; i++)
        if (!strcmp (f->ids[i], number))
            return true;
    return false;
}

static bool s_bytes_mention (const zhub_forget_t *f, const uint8_t *bytes, size_t size,
                             int nesting);

static bool
s_object_mentions (const zhub_forget_t *f, const msgpack_object *obj, int nesting)
{
    char number[32];
    switch (obj->type) {
        case MSGPACK_OBJECT_STR:
            return zhub_forget_mentions_text (f, obj->via.str.ptr, obj->via.str.size);
        case MSGPACK_OBJECT_BIN:
            return s_bytes_mention (f, (const uint8_t *)obj->via.bin.ptr, obj->via.bin.size,
                                    nesting + 1);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            snprintf (number, sizeof number, "%" PRIu64, obj->via.u64);
            return s_number_is (f, number);
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            snprintf (number, sizeof number, "%" PRId64, obj->via.i64);
            return s_number_is (f, number);
        case MSGPACK_OBJECT_ARRAY:
            for (uint32_t i = 0; i < obj->via.array.size; i++)
                if (s_object_mentions (f, &obj->via.array.ptr[i], nesting))
                    return true;
            return false;
        case MSGPACK_OBJECT_MAP:
            for (uint32_t i = 0; i < obj->via.map.size; i++)
                if (s_object_mentions (f, &obj->via.map.ptr[i].key, nesting)
                    || s_object_mentions (f, &obj->via.map.ptr[i].val, nesting))
                    return true;
            return false;
        default: return false;
    }
}

//  A msgpack map or array is walked; anything else (text that happens to
//  decode as one scalar, such as "5", included) is searched as text.
static bool
s_bytes_mention (const zhub_forget_t *f, const uint8_t *bytes, size_t size, int nesting)
{
    if (!bytes || !size)
        return false;
    msgpack_unpacked result;
    if (nesting > S_MAX_NESTING
        || zhub_mpack_decode (bytes, size, &s_walk_limits, &result, NULL, 0))
        return zhub_forget_mentions_text (f, bytes, size);
    bool found = result.data.type == MSGPACK_OBJECT_MAP || result.data.type == MSGPACK_OBJECT_ARRAY
                     ? s_object_mentions (f, &result.data, nesting)
                     : zhub_forget_mentions_text (f, bytes, size);
    msgpack_unpacked_destroy (&result);
    return found;
}

bool
zhub_forget_mentions_msgpack (const zhub_forget_t *f, const void *bytes, size_t size)
{
    return f->id_count && s_bytes_mention (f, bytes, size, 0);
}

//  -------------------------------------------------------------------
//  The answer

//  Ids and subjects are at most ZHUB_MSG_MAX_ID bytes; a parsed request
//  with an actor's name always fits, this only guards other callers.
static void
s_set_cut (char **field, char *text)
{
    if (strlen (text) > ZHUB_MSG_MAX_ID)
        text[ZHUB_MSG_MAX_ID] = 0;
    zhub_msg_set (field, text);
    free (text);
}

zhub_msg_t *
zhub_forget_answer (const char *actor, const char *replica, const char *from, const char *request,
                    size_t removed, const char *traceparent, int64_t now_ms)
{
    zhub_msg_t *msg = zhub_msg_new ();
    if (replica || from) {
        char *head = zhub_sprintf ("forgotten:%s:", actor);
        char *text = zhub_sprintf ("%s%s%s%s%s", request, replica ? "~" : "",
                                   replica ? replica : "", from ? "~" : "", from ? from : "");
        char *id = zhub_id_bounded (head, text);
        s_set_cut (&msg->id, id ? id : zhub_sprintf ("%s%s", head, request));
        free (head);
        free (text);
    } else
        s_set_cut (&msg->id, zhub_sprintf ("forgotten:%s:%s", actor, request));
    s_set_cut (&msg->subject, zhub_sprintf ("erase:%s", request));
    s_set_cut (&msg->source, zhub_sprintf ("zhub/%s", actor));
    zhub_msg_set (&msg->type, ZHUB_FORGOTTEN_TOPIC);
    zhub_msg_set (&msg->traceparent, traceparent);
    msg->time_ms = now_ms;
    json_t *data = json_pack ("{s:s, s:s, s:I}", "request", request, "actor", actor, "removed",
                              (json_int_t)removed);
    if (replica)
        json_object_set_new (data, "replica", json_string (replica));
    if (from)
        json_object_set_new (data, "from", json_string (from));
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}
