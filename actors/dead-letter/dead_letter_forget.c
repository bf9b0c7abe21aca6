//  zhub-dead-letter's pure part of a GDPR erase (see dead_letter.h,
//  "Forgetting a person"). A dead letter is an opaque copy of any message,
//  so the person is looked for everywhere in it. The envelopes are walked
//  as msgpack rather than searched as raw bytes: a string's edges are then
//  known (so "501" is not found in "15012", nor in a binary integer whose
//  bytes happen to spell it), and an id sent as a number (HubSpot's
//  objectId) is found too.
#include "dead_letter.h"
#include "zhub_mpack.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  Envelopes inside a record are kept under 1 MiB by the broker; the
//  history is small. msgpack inside a bin inside the envelope is looked
//  into at most S_MAX_NESTING deep.
static const zhub_mpack_limits_t s_walk_limits = {
    .max_size = 8u << 20, .max_depth = 32, .max_items = 1000000};
#define S_MAX_NESTING 4

//  -------------------------------------------------------------------
//  contact.forget and contact.forgotten

static bool
s_known (const dead_letter_forget_t *f, const char *id)
{
    for (size_t i = 0; i < f->id_count; i++)
        if (!strcasecmp (f->ids[i], id))
            return true;
    return false;
}

static void
s_add_one (dead_letter_forget_t *f, const char *id)
{
    if (!id || !*id || strlen (id) > DEAD_LETTER_FORGET_MAX_ID_BYTES || s_known (f, id)
        || f->id_count == DEAD_LETTER_FORGET_MAX_IDS)
        return;
    f->ids[f->id_count++] = zhub_strdup (id);
}

//  Adds the identifier and, for a phone-like one ("+" then 7 to 15
//  digits, or only those digits), its form with / without the "+".
static void
s_add (dead_letter_forget_t *f, const json_t *value)
{
    char number[32];
    const char *id = json_string_value (value);
    if (json_is_integer (value)) {
        snprintf (number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
        id = number;
    }
    if (!id || !*id)
        return;
    s_add_one (f, id);
    const char *digits = id[0] == '+' ? id + 1 : id;
    size_t length = strlen (digits);
    if (length < 7 || length > 15 || strspn (digits, "0123456789") != length)
        return; //  not a phone number (E.164: at most 15 digits)
    if (id[0] == '+')
        s_add_one (f, digits);
    else {
        char *plus = zhub_sprintf ("+%s", digits);
        s_add_one (f, plus);
        free (plus);
    }
}

zhub_rc_t
dead_letter_forget_parse (const zhub_msg_t *msg, dead_letter_forget_t *f, char *reason,
                          size_t reason_size)
{
    memset (f, 0, sizeof *f);
    json_t *data = zhub_msg_data_json (msg);
    const char *request = json_string_value (json_object_get (data, "request"));
    if (!request || !*request) {
        snprintf (reason, reason_size, "contact.forget without data.request");
        json_decref (data);
        return ZHUB_REJECT;
    }
    f->request = zhub_strdup (request);
    static const char *fields[] = {"bird_contact_id", "hubspot_contact_id", "phone", "email"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        s_add (f, json_object_get (data, fields[i]));
    size_t index;
    json_t *value;
    json_array_foreach (json_object_get (data, "identifiers"), index, value) s_add (f, value);
    json_decref (data);
    return ZHUB_OK;
}

void
dead_letter_forget_clear (dead_letter_forget_t *f)
{
    free (f->request);
    for (size_t i = 0; i < f->id_count; i++)
        free (f->ids[i]);
    memset (f, 0, sizeof *f);
}

static char *
s_cut (char *text)
{
    if (strlen (text) > ZHUB_MSG_MAX_ID)
        text[ZHUB_MSG_MAX_ID] = 0;
    return text;
}

zhub_msg_t *
dead_letter_forgotten_msg (const dead_letter_forget_t *f, size_t removed, const char *traceparent,
                           int64_t now_ms)
{
    zhub_msg_t *msg = zhub_msg_new ();
    char *text = zhub_sprintf ("forgotten:%s:%s", DEAD_LETTER_GROUP, f->request);
    zhub_msg_set (&msg->id, s_cut (text));
    free (text);
    text = zhub_sprintf ("erase:%s", f->request);
    zhub_msg_set (&msg->subject, s_cut (text));
    free (text);
    zhub_msg_set (&msg->source, "zhub/" DEAD_LETTER_GROUP);
    zhub_msg_set (&msg->type, "contact.forgotten");
    zhub_msg_set (&msg->traceparent, traceparent);
    msg->time_ms = now_ms;
    json_t *data = json_pack ("{s:s, s:s, s:I}", "request", f->request, "actor", DEAD_LETTER_GROUP,
                              "removed", (json_int_t)removed);
    zhub_msg_set_data_json (msg, data);
    json_decref (data);
    return msg;
}

//  -------------------------------------------------------------------
//  Looking for the person in a letter

//  Characters that continue a token when a letter or digit follows them
//  (inside an e-mail, a domain, an id): "ana@example.com" must not be
//  found in "diana@example.com" nor in "x.ana@example.com".
static bool
s_joiner (int c)
{
    return c == '.' || c == '_' || c == '-' || c == '@' || c == '+';
}

static bool
s_alnum (const uint8_t *text, size_t len, size_t i)
{
    return i < len && isalnum (text[i]);
}

//  True when text[at, at + n) is a whole token (see dead_letter_mentions).
static bool
s_whole (const uint8_t *text, size_t len, size_t at, size_t n)
{
    bool joined_before = at > 0
                         && (isalnum (text[at - 1])
                             || (s_joiner (text[at - 1]) && at > 1 && isalnum (text[at - 2])));
    size_t end = at + n;
    bool joined_after = s_alnum (text, len, end)
                        || (end < len && s_joiner (text[end]) && s_alnum (text, len, end + 1));
    return !joined_before && !joined_after;
}

//  A short identifier (a small HubSpot id such as "501") is too likely to
//  be a token of unrelated text ("HubSpot said 501"): it counts only as a
//  whole value, or as the last part of one after a ':' (a subject such as
//  "hubspot:contact:501").
static bool
s_short_mentions (const uint8_t *text, size_t len, const char *id, size_t n)
{
    if (len == n)
        return !strncasecmp ((const char *)text, id, n);
    return len > n && text[len - n - 1] == ':'
           && !strncasecmp ((const char *)text + len - n, id, n);
}

static bool
s_text_mentions (const uint8_t *text, size_t len, const dead_letter_forget_t *f)
{
    for (size_t i = 0; i < f->id_count; i++) {
        const char *id = f->ids[i];
        size_t n = strlen (id);
        if (n < DEAD_LETTER_FORGET_SHORT_ID) {
            if (s_short_mentions (text, len, id, n))
                return true;
            continue;
        }
        for (size_t at = 0; n && at + n <= len; at++)
            if (tolower (text[at]) == tolower ((unsigned char)id[0])
                && !strncasecmp ((const char *)text + at, id, n) && s_whole (text, len, at, n))
                return true;
    }
    return false;
}

static bool
s_number_mentions (const char *number, const dead_letter_forget_t *f)
{
    for (size_t i = 0; i < f->id_count; i++)
        if (!strcmp (f->ids[i], number))
            return true;
    return false;
}

static bool s_bytes_mention (const uint8_t *bytes, size_t size, const dead_letter_forget_t *f,
                             int nesting);

static bool
s_object_mentions (const msgpack_object *obj, const dead_letter_forget_t *f, int nesting)
{
    char number[32];
    switch (obj->type) {
        case MSGPACK_OBJECT_STR:
            return s_text_mentions ((const uint8_t *)obj->via.str.ptr, obj->via.str.size, f);
        case MSGPACK_OBJECT_BIN:
            return s_bytes_mention ((const uint8_t *)obj->via.bin.ptr, obj->via.bin.size, f,
                                    nesting + 1);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            snprintf (number, sizeof number, "%" PRIu64, obj->via.u64);
            return s_number_mentions (number, f);
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            snprintf (number, sizeof number, "%" PRId64, obj->via.i64);
            return s_number_mentions (number, f);
        case MSGPACK_OBJECT_ARRAY:
            for (uint32_t i = 0; i < obj->via.array.size; i++)
                if (s_object_mentions (&obj->via.array.ptr[i], f, nesting))
                    return true;
            return false;
        case MSGPACK_OBJECT_MAP:
            for (uint32_t i = 0; i < obj->via.map.size; i++)
                if (s_object_mentions (&obj->via.map.ptr[i].key, f, nesting)
                    || s_object_mentions (&obj->via.map.ptr[i].val, f, nesting))
                    return true;
            return false;
        default: return false;
    }
}

//  A msgpack map or array is walked; anything else (text that happens to
//  decode as one scalar, such as "5", included) is searched as text.
static bool
s_bytes_mention (const uint8_t *bytes, size_t size, const dead_letter_forget_t *f, int nesting)
{
    if (!bytes || !size)
        return false;
    msgpack_unpacked result;
    if (nesting > S_MAX_NESTING
        || zhub_mpack_decode (bytes, size, &s_walk_limits, &result, NULL, 0))
        return s_text_mentions (bytes, size, f);
    bool found = result.data.type == MSGPACK_OBJECT_MAP || result.data.type == MSGPACK_OBJECT_ARRAY
                     ? s_object_mentions (&result.data, f, nesting)
                     : s_text_mentions (bytes, size, f);
    msgpack_unpacked_destroy (&result);
    return found;
}

bool
dead_letter_bytes_mention (const uint8_t *bytes, size_t size, const dead_letter_forget_t *f)
{
    return s_bytes_mention (bytes, size, f, 0);
}

static bool
s_str_mentions (const char *text, const dead_letter_forget_t *f)
{
    return text && s_text_mentions ((const uint8_t *)text, strlen (text), f);
}

bool
dead_letter_mentions (const dead_letter_t *self, const dead_letter_forget_t *f)
{
    if (!f->id_count)
        return false;
    return s_str_mentions (self->dlq_id, f) || s_str_mentions (self->original_id, f)
           || s_str_mentions (self->subject, f) || s_str_mentions (self->reason, f)
           || s_str_mentions (self->last_replay_id, f)
           || dead_letter_bytes_mention (self->message, self->message_size, f)
           || dead_letter_bytes_mention (self->original, self->original_size, f)
           || dead_letter_bytes_mention (self->attempts, self->attempts_size, f);
}
