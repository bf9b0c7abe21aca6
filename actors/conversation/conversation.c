//  The conversation bridge's pure core (see conversation.h): payload
//  shapes in, events and state out.
//
//  Shapes read, from the providers' references:
//  - Bird channels messages (`<platform>.inbound` / `.outbound`): the
//    message object, `{id, channelId, sender: {contact: {id, identifierKey,
//    identifierValue}} | {connector}, receiver: {contacts: [...]}, body:
//    {type, text: {text}}, status, direction, createdAt, ...}`;
//    https://docs.bird.com/api/channels-api/message-status-and-interactions
//    (statuses: accepted, processing, sent, delivered, sending_failed,
//    delivery_failed, ...), https://docs.bird.com/api/channels-api/api-reference/messaging,
//    and the sample in tests/fixtures/samples/bird-message-created.json.
//  - Bird conversations (`conversation.created`, `.updated`, `.deleted`):
//    the conversation object, `{id, status: active | closed,
//    featuredParticipants: [{id, type: contact | user | flow | bot |
//    accessKey | ..., contact: {identifierKey, identifierValue}}],
//    channelId, createdAt, updatedAt, ...}`;
//    https://docs.bird.com/api/conversations-api/api-reference/events,
//    https://docs.bird.com/api/conversations-api/api-reference/conversations-management/get-conversation,
//    participant types:
//    https://docs.bird.com/api/conversations-api/api-reference/conversation-participants
//  - WhatsApp Cloud (`webhook.whatsapp.message`, one item of messages[]):
//    `{from, id, timestamp (unix seconds as text), type, text: {body} |
//    button: {text} | interactive: {button_reply|list_reply: {title}} |
//    image|video|document: {caption}}`;
//    https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
#include "conversation.h"
#include "zhub_id.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static zhub_rc_t s_why (char *reason, size_t reason_size, zhub_rc_t rc, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static zhub_rc_t
s_why (char *reason, size_t reason_size, zhub_rc_t rc, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (reason, reason_size, format, args);
    va_end (args);
    return rc;
}

static const char *
s_str (const json_t *object, const char *key)
{
    const char *value = json_string_value (json_object_get (object, key));
    return value && *value ? value : NULL;
}

static char *
s_dup (const char *text)
{
    return text ? zhub_strdup (text) : NULL;
}

//  text cut to at most max bytes, not inside a UTF-8 sequence.
static char *
s_cut (const char *text, size_t max)
{
    size_t size = strlen (text);
    if (size <= max)
        return zhub_strdup (text);
    while (max > 0 && ((unsigned char)text[max] & 0xC0) == 0x80)
        max--;
    char *copy = zhub_malloc (max + 1);
    memcpy (copy, text, max);
    copy[max] = 0;
    return copy;
}

//  Participant type -> who wrote: contact, ai (flows and bots), agent
//  (workspace users); NULL for the others (access keys, connectors).
static const char *
s_writer (const char *type)
{
    if (!type)
        return NULL;
    if (!strcmp (type, "contact"))
        return "contact";
    if (!strcmp (type, "user"))
        return "agent";
    if (!strcmp (type, "flow") || !strcmp (type, "bot")
        || !strcmp (type, "collaborationAutomation"))
        return "ai";
    return NULL;
}

static bool
s_failed_status (const char *status)
{
    if (!status)
        return false;
    size_t size = strlen (status);
    return !strcmp (status, "failed") || !strcmp (status, "rejected") || !strcmp (status, "deleted")
           || (size > 7 && !strcmp (status + size - 7, "_failed"));
}

//  The text of a Bird message body: body.text.text, else the text of the
//  body of its type (an image's caption), else "[<type>]".
static char *
s_bird_text (const json_t *body)
{
    const char *type = s_str (body, "type");
    const char *text = json_string_value (json_object_get (json_object_get (body, "text"), "text"));
    if (!text && type)
        text = json_string_value (json_object_get (json_object_get (body, type), "text"));
    if (text)
        return s_cut (text, CONVERSATION_TEXT_MAX);
    return zhub_sprintf ("[%s]", type ? type : "message");
}

//  A contact reference {id, identifierKey, identifierValue}.
static void
s_contact_ref (const json_t *ref, conv_input_t *in)
{
    const char *id = s_str (ref, "id");
    if (id && !in->contact)
        in->contact = zhub_strdup (id);
    const char *key = s_str (ref, "identifierKey");
    const char *value = s_str (ref, "identifierValue");
    if (key && value && !strcmp (key, "phonenumber") && value[0] == '+' && !in->phone)
        in->phone = zhub_strdup (value);
}

static zhub_rc_t
s_parse_bird_message (const char *event, const json_t *payload, int64_t time_ms, conv_input_t *in,
                      char *reason, size_t reason_size)
{
    const char *dot = strrchr (event, '.');
    in->kind = CONV_MESSAGE;
    in->outbound = !strcmp (dot + 1, "outbound");
    in->channel = zhub_sprintf ("%.*s", (int)(dot - event), event);
    const char *id = s_str (payload, "id");
    if (!id)
        return s_why (reason, reason_size, ZHUB_REJECT, "bird %s without payload.id", event);
    in->message_id = zhub_strdup (id);
    in->message_key = zhub_sprintf ("bird:%s", id);
    const json_t *sender = json_object_get (payload, "sender");
    if (in->outbound) {
        const json_t *receivers =
            json_object_get (json_object_get (payload, "receiver"), "contacts");
        s_contact_ref (json_array_get (receivers, 0), in);
        //  A Conversations-style sender names its participant type.
        const char *type = s_str (sender, "type");
        if (!type)
            type = s_str (json_object_get (sender, "participant"), "type");
        const char *writer = s_writer (type);
        in->sender = writer && strcmp (writer, "contact") ? zhub_strdup (writer) : NULL;
    } else {
        s_contact_ref (json_object_get (sender, "contact"), in);
        in->sender = zhub_strdup ("contact");
    }
    if (!in->contact)
        return s_why (reason, reason_size, ZHUB_NOTFOUND, "bird %s names no contact", event);
    in->text = s_bird_text (json_object_get (payload, "body"));
    in->failed = s_failed_status (s_str (payload, "status"));
    const char *created = s_str (payload, "createdAt");
    if (!created || zhub_time_parse (created, &in->sent_ms))
        in->sent_ms = time_ms;
    return ZHUB_OK;
}

static zhub_rc_t
s_parse_bird_conversation (const char *event, const json_t *payload, int64_t time_ms,
                           conv_input_t *in, char *reason, size_t reason_size)
{
    in->kind = CONV_CONVERSATION;
    in->event = zhub_strdup (event + strlen ("conversation."));
    const char *id = s_str (payload, "id");
    if (!id)
        return s_why (reason, reason_size, ZHUB_REJECT, "bird %s without payload.id", event);
    in->conversation_id = zhub_strdup (id);
    const char *status = s_str (payload, "status");
    in->closed = status && !strcmp (status, "closed");
    const json_t *people = json_object_get (payload, "featuredParticipants");
    size_t i;
    const json_t *person;
    json_array_foreach (people, i, person)
    {
        const char *writer = s_writer (s_str (person, "type"));
        if (!writer)
            continue;
        if (!strcmp (writer, "contact")) {
            if (!in->contact && s_str (person, "id"))
                in->contact = zhub_strdup (s_str (person, "id"));
            s_contact_ref (json_object_get (person, "contact"), in);
        } else if (!in->holder || !strcmp (writer, "agent"))
            //  a person among the participants holds it, whatever bots are there
            zhub_msg_set (&in->holder, writer);
    }
    if (!in->contact)
        return s_why (reason, reason_size, ZHUB_NOTFOUND,
                      "bird %s has no contact among its featured participants", event);
    const char *at = s_str (payload, "updatedAt");
    if (!at || zhub_time_parse (at, &in->at_ms))
        in->at_ms = time_ms;
    return ZHUB_OK;
}

static zhub_rc_t
s_parse_whatsapp (const json_t *data, int64_t time_ms, conv_input_t *in, char *reason,
                  size_t reason_size)
{
    const json_t *message = json_object_get (data, "message");
    const char *from = s_str (message, "from");
    const char *id = s_str (message, "id");
    if (!from || !id)
        return s_why (reason, reason_size, ZHUB_REJECT,
                      "webhook.whatsapp.message without message.from and message.id");
    in->kind = CONV_MESSAGE;
    in->channel = zhub_strdup ("whatsapp");
    in->contact = zhub_sprintf ("+%s", from);
    in->phone = zhub_sprintf ("+%s", from);
    in->message_id = zhub_strdup (id);
    in->message_key = zhub_sprintf ("whatsapp:%s", id);
    in->sender = zhub_strdup ("contact");
    const char *type = s_str (message, "type");
    const json_t *content = type ? json_object_get (message, type) : NULL;
    const char *text = NULL;
    if (type && !strcmp (type, "text"))
        text = s_str (content, "body");
    else if (type && !strcmp (type, "button"))
        text = s_str (content, "text");
    else if (type && !strcmp (type, "interactive")) {
        text = s_str (json_object_get (content, "button_reply"), "title");
        if (!text)
            text = s_str (json_object_get (content, "list_reply"), "title");
    } else
        text = s_str (content, "caption");
    in->text =
        text ? s_cut (text, CONVERSATION_TEXT_MAX) : zhub_sprintf ("[%s]", type ? type : "message");
    const char *stamp = s_str (message, "timestamp");
    char *end = NULL;
    long long seconds = stamp ? strtoll (stamp, &end, 10) : -1;
    in->sent_ms = stamp && end && !*end && seconds > 0 ? seconds * 1000 : time_ms;
    return ZHUB_OK;
}

zhub_rc_t
conversation_parse (const char *topic, const json_t *data, int64_t time_ms, conv_input_t *in,
                    char *reason, size_t reason_size)
{
    memset (in, 0, sizeof *in);
    zhub_rc_t rc;
    if (!topic || !json_is_object (data))
        rc = s_why (reason, reason_size, ZHUB_REJECT, "data is not a map");
    else if (!strcmp (topic, "webhook.whatsapp.message"))
        rc = s_parse_whatsapp (data, time_ms, in, reason, reason_size);
    else if (!strncmp (topic, "webhook.bird.", 13)) {
        const char *event = s_str (data, "event");
        const json_t *payload = json_object_get (data, "payload");
        const char *dot = event ? strrchr (event, '.') : NULL;
        if (!event || !json_is_object (payload))
            rc = s_why (reason, reason_size, ZHUB_REJECT, "bird webhook without event and payload");
        else if (!strncmp (event, "conversation.", 13)
                 && (!strcmp (event + 13, "created") || !strcmp (event + 13, "updated")
                     || !strcmp (event + 13, "deleted")))
            rc = s_parse_bird_conversation (event, payload, time_ms, in, reason, reason_size);
        else if (dot && dot > event && strchr (event, '.') == dot
                 && (!strcmp (dot, ".inbound") || !strcmp (dot, ".outbound")))
            rc = s_parse_bird_message (event, payload, time_ms, in, reason, reason_size);
        else
            rc = s_why (reason, reason_size, ZHUB_NOTFOUND, "bird event %.64s is not read", event);
    } else
        rc = s_why (reason, reason_size, ZHUB_NOTFOUND, "topic %.64s is not read", topic);
    if (rc != ZHUB_OK)
        conv_input_clear (in);
    return rc;
}

void
conv_input_clear (conv_input_t *in)
{
    if (!in)
        return;
    char **fields[] = {&in->contact, &in->channel, &in->message_key, &in->message_id,
                       &in->text,    &in->sender,  &in->phone,       &in->conversation_id,
                       &in->event,   &in->holder};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free (*fields[i]);
    memset (in, 0, sizeof *in);
}

void
conv_state_clear (conv_state_t *state)
{
    if (!state)
        return;
    free (state->conversation_id);
    free (state->bird_conversation_id);
    free (state->channel);
    free (state->holder);
    free (state->phone);
    memset (state, 0, sizeof *state);
}

void
conv_plan_clear (conv_plan_t *plan)
{
    if (!plan)
        return;
    conv_state_clear (&plan->next);
    for (size_t i = 0; i < plan->publish_count; i++)
        zhub_msg_destroy (&plan->publish[i]);
    memset (plan, 0, sizeof *plan);
}

//  -------------------------------------------------------------------
//  Deciding

static void
s_copy_state (conv_state_t *to, const conv_state_t *from)
{
    memset (to, 0, sizeof *to);
    if (!from)
        return;
    *to = *from;
    to->conversation_id = s_dup (from->conversation_id);
    to->bird_conversation_id = s_dup (from->bird_conversation_id);
    to->channel = s_dup (from->channel);
    to->holder = s_dup (from->holder);
    to->phone = s_dup (from->phone);
}

//  Queues msg (NULL: the builder refused; reason says why).
static bool
s_queue (conv_plan_t *plan, zhub_msg_t *msg, const char *reason)
{
    if (!msg) {
        snprintf (plan->note, sizeof plan->note, "%s", reason);
        return false;
    }
    plan->publish[plan->publish_count++] = msg;
    return true;
}

static bool
s_end (conv_plan_t *plan, const char *contact, const char *reason_text, int64_t at_ms,
       const char *traceparent)
{
    char id[64], reason[160];
    char *cause = zhub_sprintf ("%s:%s", plan->next.conversation_id, reason_text);
    zhub_id_derive (id, sizeof id, "cve-", cause, 16);
    free (cause);
    zhub_conversation_ended_t ended = {.conversation_id = plan->next.conversation_id,
                                       .bird_contact_id = (char *)contact,
                                       .ended_ms = at_ms,
                                       .reason = (char *)reason_text};
    plan->next.open = false;
    return s_queue (plan,
                    zhub_conversation_ended_msg (&ended, id, CONVERSATION_SOURCE, traceparent,
                                                 at_ms, reason, sizeof reason),
                    reason);
}

static bool
s_start (conv_plan_t *plan, const char *contact, const char *conversation_id, bool bird,
         const char *channel, int64_t at_ms, const char *traceparent)
{
    char id[64], reason[160];
    zhub_id_derive (id, sizeof id, "cvs-", conversation_id, 16);
    conv_state_t *next = &plan->next;
    zhub_msg_set (&next->conversation_id, conversation_id);
    zhub_msg_set (&next->bird_conversation_id, bird ? conversation_id : NULL);
    if (channel)
        zhub_msg_set (&next->channel, channel);
    next->open = true;
    next->started_ms = next->last_ms = at_ms;
    zhub_conversation_started_t started = {.conversation_id = next->conversation_id,
                                           .bird_contact_id = (char *)contact,
                                           .channel = next->channel ? next->channel : "unknown",
                                           .started_ms = at_ms};
    return s_queue (plan,
                    zhub_conversation_started_msg (&started, id, CONVERSATION_SOURCE, traceparent,
                                                   at_ms, reason, sizeof reason),
                    reason);
}

static bool
s_open_at (const conversation_config_t *config, const conv_state_t *state, int64_t at_ms)
{
    return state && state->open && state->conversation_id
           && at_ms - state->last_ms <= config->idle_gap_ms;
}

static zhub_rc_t
s_decide_message (const conversation_config_t *config, const conv_input_t *in,
                  const conv_state_t *state, bool seen, const char *traceparent, conv_plan_t *plan)
{
    if (seen) {
        plan->outcome = "duplicate";
        snprintf (plan->note, sizeof plan->note, "message already published");
        return ZHUB_OK;
    }
    if (in->failed) {
        plan->outcome = "failed_message";
        snprintf (plan->note, sizeof plan->note,
                  "outbound message failed: not in the conversation");
        return ZHUB_OK;
    }
    conv_state_t *next = &plan->next;
    bool ok = true;
    if (!s_open_at (config, state, in->sent_ms)) {
        if (state && state->open && state->conversation_id)
            ok = s_end (plan, in->contact, "inactive", state->last_ms, traceparent);
        char conversation[64];
        zhub_id_derive (conversation, sizeof conversation, "zc", in->message_key, 16);
        ok = ok
             && s_start (plan, in->contact, conversation, false, in->channel, in->sent_ms,
                         traceparent);
    }
    if (!ok)
        return ZHUB_REJECT;
    if (in->sent_ms > next->last_ms)
        next->last_ms = in->sent_ms;
    if (!in->outbound && in->sent_ms > next->last_in_ms)
        next->last_in_ms = in->sent_ms;
    if (in->phone)
        zhub_msg_set (&next->phone, in->phone);
    if (in->channel && !next->channel)
        zhub_msg_set (&next->channel, in->channel);
    const char *sender = in->sender;
    if (in->outbound && sender)
        zhub_msg_set (&next->holder, sender);
    else if (in->outbound)
        sender = next->holder;
    char id[64], reason[160];
    zhub_id_derive (id, sizeof id, "cvm-", in->message_key, 16);
    zhub_conversation_message_t message = {.conversation_id = next->conversation_id,
                                           .bird_contact_id = in->contact,
                                           .direction = in->outbound ? "out" : "in",
                                           .text = in->text,
                                           .sent_ms = in->sent_ms,
                                           .message_id = in->message_id,
                                           .sender = (char *)sender,
                                           .channel = in->channel,
                                           .phone = in->phone ? in->phone : next->phone};
    if (!s_queue (plan,
                  zhub_conversation_message_msg (&message, id, CONVERSATION_SOURCE, traceparent,
                                                 in->sent_ms, reason, sizeof reason),
                  reason))
        return ZHUB_REJECT;
    plan->write_state = plan->record_message = true;
    plan->outcome = plan->publish_count > 1 ? "started" : "message";
    snprintf (plan->note, sizeof plan->note, "conversation=%s direction=%s", next->conversation_id,
              in->outbound ? "out" : "in");
    return ZHUB_OK;
}

static zhub_rc_t
s_decide_conversation (const conversation_config_t *config, const conv_input_t *in,
                       const conv_state_t *state, const char *traceparent, conv_plan_t *plan)
{
    conv_state_t *next = &plan->next;
    bool ends = in->closed || !strcmp (in->event, "deleted");
    bool open = s_open_at (config, state, in->at_ms);
    bool same = open
                && ((state->bird_conversation_id
                     && !strcmp (state->bird_conversation_id, in->conversation_id))
                    || !strcmp (state->conversation_id, in->conversation_id));
    bool ok = true;
    if (in->holder)
        zhub_msg_set (&next->holder, in->holder);
    plan->write_state = true;
    if (ends) {
        if (!same) {
            plan->outcome = "not_open";
            snprintf (plan->note, sizeof plan->note, "bird conversation %.64s is not the open one",
                      in->conversation_id);
            return ZHUB_OK;
        }
        ok = s_end (plan, in->contact, in->closed ? "closed" : "deleted", in->at_ms, traceparent);
        plan->outcome = "ended";
    } else if (same) {
        plan->outcome = "known";
        snprintf (plan->note, sizeof plan->note, "conversation=%s", next->conversation_id);
        return ZHUB_OK;
    } else if (open && !state->bird_conversation_id) {
        //  Opened by its first message before Bird named it: link.
        zhub_msg_set (&next->bird_conversation_id, in->conversation_id);
        plan->outcome = "linked";
    } else {
        if (open)
            ok = s_end (plan, in->contact, "superseded", in->at_ms, traceparent);
        ok =
            ok
            && s_start (plan, in->contact, in->conversation_id, true, NULL, in->at_ms, traceparent);
        plan->outcome = "started";
    }
    if (!ok)
        return ZHUB_REJECT;
    snprintf (plan->note, sizeof plan->note, "conversation=%s bird=%.64s", next->conversation_id,
              in->conversation_id);
    return ZHUB_OK;
}

zhub_rc_t
conversation_decide (const conversation_config_t *config, const conv_input_t *in,
                     const conv_state_t *state, bool seen, const char *traceparent,
                     conv_plan_t *plan)
{
    memset (plan, 0, sizeof *plan);
    s_copy_state (&plan->next, state);
    zhub_rc_t rc = in->kind == CONV_MESSAGE
                       ? s_decide_message (config, in, state, seen, traceparent, plan)
                       : s_decide_conversation (config, in, state, traceparent, plan);
    if (rc != ZHUB_OK) {
        char note[sizeof plan->note];
        memcpy (note, plan->note, sizeof note);
        conv_plan_clear (plan);
        memcpy (plan->note, note, sizeof note);
    }
    return rc;
}
