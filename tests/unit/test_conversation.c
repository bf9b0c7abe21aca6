//  The conversation bridge's core and store: Bird's channel messages (the
//  sample in tests/fixtures), Bird's conversations and WhatsApp Cloud's
//  messages read into inputs; what is published for a first message, a
//  reply, a retry or a status of a known message, a failed message, a
//  message after the idle gap, Bird closing the conversation; the store's
//  records, their retention and their erase.
#include "conversation_store.h"
#include "zhub_test.h"

#include <stdlib.h>
#include <unistd.h>

static const conversation_config_t s_config = {.idle_gap_ms = 24LL * 3600 * 1000,
                                               .retention_ms = 90LL * 86400 * 1000};

static json_t *
s_fixture (const char *name)
{
    char path[512];
    snprintf (path, sizeof path, "%s/samples/%s", zhub_test_fixtures_dir (), name);
    json_error_t error;
    json_t *json = json_load_file (path, 0, &error);
    CHECK (json != NULL);
    return json;
}

static json_t *
s_data_of (const zhub_msg_t *msg)
{
    return zhub_msg_data_json (msg);
}

static void
test_birds_inbound_sample_reads_as_a_message_from_the_contact (void)
{
    json_t *data = s_fixture ("bird-message-created.json");
    conv_input_t in;
    char reason[200];
    CHECK (conversation_parse ("webhook.bird.whatsapp.inbound", data, 1, &in, reason, sizeof reason)
           == ZHUB_OK);
    CHECK (in.kind == CONV_MESSAGE && !in.outbound && !in.failed);
    CHECK_STR (in.contact, "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4");
    CHECK_STR (in.channel, "whatsapp");
    CHECK_STR (in.message_id, "404544c5-9920-45f1-8990-0855634ab7ac");
    CHECK_STR (in.text, "Test");
    CHECK_STR (in.sender, "contact");
    CHECK_STR (in.phone, "+3511111111");
    int64_t created;
    zhub_time_parse ("2023-12-13T19:34:01.858Z", &created);
    CHECK (in.sent_ms == created);
    conv_input_clear (&in);
    json_decref (data);
}

static void
test_a_first_message_starts_a_conversation (void)
{
    json_t *data = s_fixture ("bird-message-created.json");
    conv_input_t in;
    char reason[200];
    CHECK (conversation_parse ("webhook.bird.whatsapp.inbound", data, 1, &in, reason, sizeof reason)
           == ZHUB_OK);
    conv_plan_t plan;
    CHECK (conversation_decide (&s_config, &in, NULL, false, NULL, &plan) == ZHUB_OK);
    CHECK (plan.publish_count == 2);
    CHECK_STR (plan.publish[0]->type, "conversation.started");
    CHECK_STR (plan.publish[1]->type, "conversation.message");
    for (size_t i = 0; i < plan.publish_count; i++) {
        CHECK (zhub_event_check_msg (plan.publish[i], reason, sizeof reason) == ZHUB_OK);
        CHECK_STR (plan.publish[i]->subject, "contact:d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4");
        CHECK_STR (plan.publish[i]->source, "zhub/conversation");
    }
    json_t *started = s_data_of (plan.publish[0]), *message = s_data_of (plan.publish[1]);
    const char *conversation = json_string_value (json_object_get (started, "conversation_id"));
    CHECK (conversation && !strncmp (conversation, "zc", 2) && strlen (conversation) == 34);
    CHECK_STR (json_string_value (json_object_get (message, "conversation_id")), conversation);
    CHECK_STR (json_string_value (json_object_get (message, "direction")), "in");
    CHECK_STR (json_string_value (json_object_get (message, "sender")), "contact");
    CHECK_STR (json_string_value (json_object_get (message, "sent_at")), "2023-12-13T19:34:01Z");
    CHECK (plan.write_state && plan.record_message && plan.next.open);
    CHECK (plan.next.last_in_ms == in.sent_ms);
    //  The same Bird message again (a retry, a status): nothing
    conv_plan_t again;
    CHECK (conversation_decide (&s_config, &in, &plan.next, true, NULL, &again) == ZHUB_OK);
    CHECK (again.publish_count == 0 && !again.write_state);
    //  Ids come from Bird's message id: a new decision gives the same ids
    conv_plan_t same;
    CHECK (conversation_decide (&s_config, &in, NULL, false, NULL, &same) == ZHUB_OK);
    CHECK_STR (same.publish[1]->id, plan.publish[1]->id);
    json_decref (started);
    json_decref (message);
    conv_plan_clear (&plan);
    conv_plan_clear (&again);
    conv_plan_clear (&same);
    conv_input_clear (&in);
    json_decref (data);
}

//  An outbound Bird message to the contact, with status.
static json_t *
s_outbound (const char *id, const char *status, const char *created, const char *sender_type)
{
    json_t *payload = json_pack (
        "{s:s, s:s, s:{s:{s:s}}, s:{s:[{s:s, s:s, s:s}]}, s:{s:s, s:{s:s}}, s:s, s:s, s:s}", "id",
        id, "channelId", "52ad151f-f7b4-46f9-a5c6-d3318e650c84", "sender", "connector", "id",
        "60bf59d6-fc6f-4511-89c4-75d9127d7a7c", "receiver", "contacts", "id", "b-ana",
        "identifierKey", "phonenumber", "identifierValue", "+5215512345678", "body", "type", "text",
        "text", "text", "¡Claro! ¿A qué hora?", "status", status, "direction", "outgoing",
        "createdAt", created);
    if (sender_type)
        json_object_set_new (json_object_get (payload, "sender"), "type",
                             json_string (sender_type));
    return json_pack ("{s:s, s:s, s:o}", "service", "channels", "event", "whatsapp.outbound",
                      "payload", payload);
}

static conv_state_t
s_open_state (const char *last)
{
    conv_state_t state = {.conversation_id = zhub_strdup ("zc-open"),
                          .channel = zhub_strdup ("whatsapp"),
                          .open = true};
    zhub_time_parse (last, &state.last_ms);
    state.started_ms = state.last_in_ms = state.last_ms;
    return state;
}

static void
test_a_reply_joins_the_open_conversation_and_says_who_wrote_it (void)
{
    conv_state_t state = s_open_state ("2030-01-10T15:00:00Z");
    json_t *data = s_outbound ("m-out-1", "accepted", "2030-01-10T15:01:00Z", "flow");
    conv_input_t in;
    char reason[200];
    CHECK (
        conversation_parse ("webhook.bird.whatsapp.outbound", data, 1, &in, reason, sizeof reason)
        == ZHUB_OK);
    CHECK (in.outbound);
    conv_plan_t plan;
    CHECK (conversation_decide (&s_config, &in, &state, false, NULL, &plan) == ZHUB_OK);
    CHECK (plan.publish_count == 1);
    json_t *message = s_data_of (plan.publish[0]);
    CHECK_STR (json_string_value (json_object_get (message, "conversation_id")), "zc-open");
    CHECK_STR (json_string_value (json_object_get (message, "direction")), "out");
    CHECK_STR (json_string_value (json_object_get (message, "sender")), "ai");
    CHECK_STR (json_string_value (json_object_get (message, "text")), "¡Claro! ¿A qué hora?");
    CHECK (plan.next.last_in_ms == state.last_in_ms); //  only inbound moves the window
    json_decref (message);
    conv_plan_clear (&plan);
    conv_input_clear (&in);
    json_decref (data);
    conv_state_clear (&state);
}

static void
test_a_failed_message_is_not_part_of_the_conversation (void)
{
    conv_state_t state = s_open_state ("2030-01-10T15:00:00Z");
    json_t *data = s_outbound ("m-out-2", "delivery_failed", "2030-01-10T15:01:00Z", NULL);
    conv_input_t in;
    char reason[200];
    CHECK (
        conversation_parse ("webhook.bird.whatsapp.outbound", data, 1, &in, reason, sizeof reason)
        == ZHUB_OK);
    CHECK (in.failed);
    conv_plan_t plan;
    CHECK (conversation_decide (&s_config, &in, &state, false, NULL, &plan) == ZHUB_OK);
    CHECK (plan.publish_count == 0 && !plan.record_message);
    CHECK_STR (plan.outcome, "failed_message");
    conv_plan_clear (&plan);
    conv_input_clear (&in);
    json_decref (data);
    conv_state_clear (&state);
}

static void
test_a_message_after_the_idle_gap_ends_the_old_conversation_and_starts_one (void)
{
    conv_state_t state = s_open_state ("2030-01-08T15:00:00Z"); //  two days before
    json_t *data = s_outbound ("m-out-3", "sent", "2030-01-10T15:00:00Z", "user");
    conv_input_t in;
    char reason[200];
    CHECK (
        conversation_parse ("webhook.bird.whatsapp.outbound", data, 1, &in, reason, sizeof reason)
        == ZHUB_OK);
    conv_plan_t plan;
    CHECK (conversation_decide (&s_config, &in, &state, false, NULL, &plan) == ZHUB_OK);
    CHECK (plan.publish_count == 3);
    CHECK_STR (plan.publish[0]->type, "conversation.ended");
    CHECK_STR (plan.publish[1]->type, "conversation.started");
    CHECK_STR (plan.publish[2]->type, "conversation.message");
    json_t *ended = s_data_of (plan.publish[0]), *message = s_data_of (plan.publish[2]);
    CHECK_STR (json_string_value (json_object_get (ended, "conversation_id")), "zc-open");
    CHECK_STR (json_string_value (json_object_get (ended, "reason")), "inactive");
    CHECK_STR (json_string_value (json_object_get (ended, "ended_at")), "2030-01-08T15:00:00Z");
    CHECK (strcmp (json_string_value (json_object_get (message, "conversation_id")), "zc-open"));
    CHECK_STR (json_string_value (json_object_get (message, "sender")), "agent");
    json_decref (ended);
    json_decref (message);
    conv_plan_clear (&plan);
    conv_input_clear (&in);
    json_decref (data);
    conv_state_clear (&state);
}

static json_t *
s_conversation (const char *event, const char *status, const char *updated)
{
    //  The shape of Bird's conversation.updated example
    //  (https://docs.bird.com/api/conversations-api/api-reference/events)
    return json_pack (
        "{s:s, s:s, s:{s:s, s:s, s:[{s:s, s:s, s:s, s:{s:s, s:s}}, {s:s, s:s, s:s}], s:s, s:s}}",
        "service", "conversations", "event", event, "payload", "id",
        "badbf15c-bad3-4bf3-9223-6b7f414f9770", "status", status, "featuredParticipants", "id",
        "b-ana", "type", "contact", "status", "active", "contact", "identifierKey", "phonenumber",
        "identifierValue", "+5215512345678", "id", "5795352d-f111-407b-be33-c9db94e4a666", "type",
        "user", "status", "active", "createdAt", "2030-01-10T14:00:00Z", "updatedAt", updated);
}

static void
test_birds_conversations_start_link_and_end (void)
{
    char reason[200];
    conv_input_t in;
    conv_plan_t plan;
    //  Bird names the conversation before any message: it starts with Bird's id
    json_t *created = s_conversation ("conversation.created", "active", "2030-01-10T14:00:00Z");
    CHECK (conversation_parse ("webhook.bird.conversation.created", created, 1, &in, reason,
                               sizeof reason)
           == ZHUB_OK);
    CHECK_STR (in.contact, "b-ana");
    CHECK_STR (in.holder, "agent");
    CHECK (conversation_decide (&s_config, &in, NULL, false, NULL, &plan) == ZHUB_OK);
    CHECK (plan.publish_count == 1);
    CHECK_STR (plan.publish[0]->type, "conversation.started");
    CHECK_STR (plan.next.conversation_id, "badbf15c-bad3-4bf3-9223-6b7f414f9770");
    conv_state_t state = plan.next;
    memset (&plan.next, 0, sizeof plan.next);
    conv_plan_clear (&plan);
    conv_input_clear (&in);
    //  Bird closes it
    json_t *closed = s_conversation ("conversation.updated", "closed", "2030-01-10T16:00:00Z");
    CHECK (conversation_parse ("webhook.bird.conversation.updated", closed, 1, &in, reason,
                               sizeof reason)
           == ZHUB_OK);
    CHECK (in.closed);
    CHECK (conversation_decide (&s_config, &in, &state, false, NULL, &plan) == ZHUB_OK);
    CHECK (plan.publish_count == 1);
    CHECK_STR (plan.publish[0]->type, "conversation.ended");
    json_t *ended = s_data_of (plan.publish[0]);
    CHECK_STR (json_string_value (json_object_get (ended, "reason")), "closed");
    CHECK_STR (json_string_value (json_object_get (ended, "ended_at")), "2030-01-10T16:00:00Z");
    CHECK (!plan.next.open);
    //  closed again (a retry): nothing
    conv_plan_t again;
    CHECK (conversation_decide (&s_config, &in, &plan.next, false, NULL, &again) == ZHUB_OK);
    CHECK (again.publish_count == 0);
    json_decref (ended);
    conv_plan_clear (&again);
    conv_plan_clear (&plan);
    conv_input_clear (&in);
    conv_state_clear (&state);
    //  A conversation opened by its first message is linked when Bird names it
    conv_state_t open = s_open_state ("2030-01-10T14:00:00Z");
    CHECK (conversation_parse ("webhook.bird.conversation.created", created, 1, &in, reason,
                               sizeof reason)
           == ZHUB_OK);
    CHECK (conversation_decide (&s_config, &in, &open, false, NULL, &plan) == ZHUB_OK);
    CHECK (plan.publish_count == 0);
    CHECK_STR (plan.outcome, "linked");
    CHECK_STR (plan.next.conversation_id, "zc-open");
    CHECK_STR (plan.next.bird_conversation_id, "badbf15c-bad3-4bf3-9223-6b7f414f9770");
    conv_plan_clear (&plan);
    conv_input_clear (&in);
    conv_state_clear (&open);
    json_decref (created);
    json_decref (closed);
}

static void
test_whatsapp_cloud_messages_take_the_same_path (void)
{
    json_t *sample = s_fixture ("whatsapp-message.json");
    //  The gateway publishes one item of messages[] per event (docs/events.md)
    const json_t *value = json_object_get (
        json_array_get (
            json_object_get (json_array_get (json_object_get (sample, "entry"), 0), "changes"), 0),
        "value");
    json_t *data = json_pack ("{s:s, s:O, s:O}", "field", "messages", "contact",
                              json_array_get (json_object_get (value, "contacts"), 0), "message",
                              json_array_get (json_object_get (value, "messages"), 0));
    conv_input_t in;
    char reason[200];
    CHECK (conversation_parse ("webhook.whatsapp.message", data, 1, &in, reason, sizeof reason)
           == ZHUB_OK);
    const char *from = json_string_value (
        json_object_get (json_array_get (json_object_get (value, "messages"), 0), "from"));
    char expected[64];
    snprintf (expected, sizeof expected, "+%s", from);
    CHECK_STR (in.contact, expected);
    CHECK_STR (in.phone, expected);
    CHECK (in.text && *in.text);
    CHECK (!strncmp (in.message_key, "whatsapp:wamid.", 15));
    conv_plan_t plan;
    CHECK (conversation_decide (&s_config, &in, NULL, false, NULL, &plan) == ZHUB_OK);
    CHECK (plan.publish_count == 2);
    CHECK (zhub_event_check_msg (plan.publish[1], reason, sizeof reason) == ZHUB_OK);
    conv_plan_clear (&plan);
    conv_input_clear (&in);
    json_decref (data);
    json_decref (sample);
}

static void
test_what_the_bridge_does_not_read_is_named (void)
{
    conv_input_t in;
    char reason[200];
    json_t *contact = json_pack ("{s:s, s:s, s:{s:s}}", "service", "contacts", "event",
                                 "contact.updated", "payload", "id", "b-ana");
    CHECK (
        conversation_parse ("webhook.bird.contact.updated", contact, 1, &in, reason, sizeof reason)
        == ZHUB_NOTFOUND);
    json_t *broken =
        json_pack ("{s:s, s:s, s:{}}", "service", "channels", "event", "sms.inbound", "payload");
    CHECK (conversation_parse ("webhook.bird.sms.inbound", broken, 1, &in, reason, sizeof reason)
           == ZHUB_REJECT);
    CHECK (strstr (reason, "payload.id") != NULL);
    json_decref (contact);
    json_decref (broken);
}

//  -------------------------------------------------------------------
//  The store

typedef struct {
    conversation_tables_t *tables;
    zhub_forget_t *forget;
    size_t removed;
} s_arg_t;

static zhub_rc_t
s_fill (zhub_txn_t *txn, void *arg)
{
    s_arg_t *a = arg;
    conv_state_t old = s_open_state ("2020-01-01T00:00:00Z");
    conv_state_t ana = s_open_state ("2030-01-10T15:00:00Z");
    zhub_msg_set (&ana.phone, "+5215512345678");
    CHECK (conversation_state_put (a->tables, txn, "b-old", &old) == ZHUB_OK);
    CHECK (conversation_state_put (a->tables, txn, "b-ana", &ana) == ZHUB_OK);
    CHECK (conversation_message_put (a->tables, txn, "bird:m1", "b-ana", ana.last_ms) == ZHUB_OK);
    CHECK (conversation_message_put (a->tables, txn, "bird:m0", "b-old", old.last_ms) == ZHUB_OK);
    conv_state_clear (&old);
    conv_state_clear (&ana);
    return ZHUB_OK;
}

static zhub_rc_t
s_sweep (zhub_txn_t *txn, void *arg)
{
    s_arg_t *a = arg;
    int64_t before;
    zhub_time_parse ("2029-01-01T00:00:00Z", &before);
    return conversation_store_sweep (a->tables, txn, before, &a->removed);
}

static zhub_rc_t
s_forget (zhub_txn_t *txn, void *arg)
{
    s_arg_t *a = arg;
    return conversation_store_forget (a->tables, txn, a->forget, &a->removed);
}

static zhub_rc_t
s_check_left (zhub_txn_t *txn, void *arg)
{
    s_arg_t *a = arg;
    conv_state_t ana, old;
    a->removed = (conversation_state_get (a->tables, txn, "b-ana", &ana) == ZHUB_OK)
                 + (conversation_message_seen (a->tables, txn, "bird:m1") == ZHUB_OK)
                 + (conversation_state_get (a->tables, txn, "b-old", &old) == ZHUB_OK);
    conv_state_clear (&ana);
    conv_state_clear (&old);
    return ZHUB_OK;
}

static void
test_the_store_keeps_states_sweeps_old_ones_and_forgets_a_person (void)
{
    char dir[] = "/tmp/zhub-test-conversation-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char err[200];
    zhub_store_config_t sc = {.data_dir = dir, .process = "conversation"};
    zhub_store_t *store = zhub_store_open (&sc, err, sizeof err);
    CHECK (store != NULL);
    conversation_tables_t tables;
    CHECK (conversation_tables_open (store, &tables) == 0);
    s_arg_t arg = {.tables = &tables};
    CHECK (zhub_store_write (store, s_fill, &arg) == ZHUB_OK);
    CHECK (zhub_store_write (store, s_sweep, &arg) == ZHUB_OK);
    CHECK (arg.removed == 2); //  b-old and its message
    CHECK (zhub_store_read (store, s_check_left, &arg) == ZHUB_OK);
    CHECK (arg.removed == 2); //  b-ana and its message are left
    //  Erase by phone
    zhub_forget_t forget = {0};
    char *ids[] = {"+5215512345678", "5215512345678"};
    forget.ids = ids;
    forget.id_count = 2;
    arg.forget = &forget;
    arg.removed = 0;
    CHECK (zhub_store_write (store, s_forget, &arg) == ZHUB_OK);
    CHECK (arg.removed == 1); //  the state (its message names the Bird id only)
    ids[0] = "b-ana";
    arg.removed = 0;
    CHECK (zhub_store_write (store, s_forget, &arg) == ZHUB_OK);
    CHECK (arg.removed == 1); //  the message
    CHECK (zhub_store_read (store, s_check_left, &arg) == ZHUB_OK);
    CHECK (arg.removed == 0);
    zhub_store_destroy (&store);
    char command[300];
    snprintf (command, sizeof command, "rm -rf %s", dir);
    CHECK (system (command) == 0);
}

int
main (void)
{
    RUN (test_birds_inbound_sample_reads_as_a_message_from_the_contact);
    RUN (test_a_first_message_starts_a_conversation);
    RUN (test_a_reply_joins_the_open_conversation_and_says_who_wrote_it);
    RUN (test_a_failed_message_is_not_part_of_the_conversation);
    RUN (test_a_message_after_the_idle_gap_ends_the_old_conversation_and_starts_one);
    RUN (test_birds_conversations_start_link_and_end);
    RUN (test_whatsapp_cloud_messages_take_the_same_path);
    RUN (test_what_the_bridge_does_not_read_is_named);
    RUN (test_the_store_keeps_states_sweeps_old_ones_and_forgets_a_person);
    TEST_EXIT ();
}
