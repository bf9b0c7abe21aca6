//  WhatsApp (Meta) provider: the self-computed X-Hub-Signature-256 vector,
//  tampering, wrong secret, rotation, missing header; the GET verification
//  handshake (right token, wrong token, no token configured, bad mode);
//  and the documented sample split into one message per inbound message
//  and per status, ids from the wamid.
#include "test_provider_util.h"
#include "whatsapp.h"

static zhub_rc_t
s_check (const char *signature, const char *body, const char *secret, const char *previous,
         zhub_msg_list_t *list, char *why)
{
    t_headers_t headers = {0};
    if (signature)
        t_add (&headers, "X-Hub-Signature-256", signature);
    zhub_webhook_t hook =
        t_hook ("POST", "https://x/v1/webhooks/whatsapp", &headers, body, strlen (body), 1);
    zhub_verify_opts_t opts = t_opts (&zhub_provider_whatsapp, secret, previous);
    return t_run (&zhub_provider_whatsapp, &hook, &opts, list, why, 256);
}

static void
test_self_computed_vector_verifies (void)
{
    json_t *file = t_json ("vectors/self-computed-vectors.json");
    json_t *v = json_object_get (json_object_get (file, "vectors"), "meta_whatsapp");
    const char *secret = json_string_value (json_object_get (v, "appSecret"));
    const char *body = json_string_value (json_object_get (v, "body"));
    const char *header = json_string_value (json_object_get (v, "X-Hub-Signature-256"));
    char computed[80], why[256];
    zhub_whatsapp_signature (secret, body, strlen (body), computed, sizeof computed);
    CHECK_STR (computed, header);
    zhub_msg_list_t list = {0};
    CHECK (s_check (header, body, secret, NULL, &list, why) == ZHUB_OK);
    CHECK (list.count == 0); //  an empty entry list: nothing to publish
    CHECK (s_check (header, body, "wrong", NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "signature_mismatch");
    CHECK (s_check (header, body, "new-secret", secret, &list, why) == ZHUB_OK);
    char *tampered = zhub_strdup (body);
    tampered[2] = 'X';
    CHECK (s_check (header, tampered, secret, NULL, &list, why) == ZHUB_REJECT);
    free (tampered);
    CHECK (s_check (NULL, body, secret, NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "missing_signature");
    CHECK (s_check (header, body, NULL, NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "secret_unset");
    //  upper-case hex or a bare hex without "sha256=" is not what Meta sends
    CHECK (s_check (header + 7, body, secret, NULL, &list, why) == ZHUB_REJECT);
    zhub_msg_list_clear (&list);
    json_decref (file);
}

static zhub_rc_t
s_handshake (const char *method, const char *url, const char *token, const char *previous,
             zhub_handshake_t *reply)
{
    zhub_webhook_t hook = t_hook (method, url, NULL, NULL, 0, 1);
    zhub_verify_opts_t opts = {.token = token, .token_previous = previous};
    memset (reply, 0, sizeof *reply);
    return zhub_provider_whatsapp.handshake (&hook, &opts, reply);
}

static void
test_verification_handshake (void)
{
    zhub_handshake_t reply;
    const char *base = "https://x/v1/webhooks/whatsapp";
    char url[256];
    snprintf (url, sizeof url,
              "%s?hub.mode=subscribe&hub.verify_token=my%%20token&hub.challenge=1158201444", base);
    CHECK (s_handshake ("GET", url, "my token", NULL, &reply) == ZHUB_OK);
    CHECK (reply.status == 200);
    CHECK_STR (reply.body, "1158201444");
    CHECK_STR (reply.content_type, "text/plain");
    free (reply.body);
    //  rotation of the verify token
    CHECK (s_handshake ("GET", url, "new", "my token", &reply) == ZHUB_OK && reply.status == 200);
    free (reply.body);
    CHECK (s_handshake ("GET", url, "other", NULL, &reply) == ZHUB_OK && reply.status == 403);
    free (reply.body);
    CHECK (s_handshake ("GET", url, NULL, NULL, &reply) == ZHUB_OK && reply.status == 403);
    free (reply.body);
    snprintf (url, sizeof url, "%s?hub.mode=unsubscribe&hub.verify_token=t&hub.challenge=1", base);
    CHECK (s_handshake ("GET", url, "t", NULL, &reply) == ZHUB_OK && reply.status == 400);
    free (reply.body);
    snprintf (url, sizeof url, "%s?hub.mode=subscribe&hub.verify_token=t", base);
    CHECK (s_handshake ("GET", url, "t", NULL, &reply) == ZHUB_OK && reply.status == 400);
    free (reply.body);
    //  a POST is an event delivery, not a handshake
    CHECK (s_handshake ("POST", url, "t", NULL, &reply) == ZHUB_NOTFOUND);
}

static void
test_sample_message_becomes_one_message (void)
{
    size_t size;
    char *body = t_load ("samples/whatsapp-message.json", &size);
    zhub_webhook_t hook = t_hook ("POST", "https://x/", NULL, body, size, 42);
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (zhub_provider_whatsapp.parse (&hook, &list, why, sizeof why) == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1) {
        zhub_msg_t *msg = list.items[0];
        CHECK_STR (msg->id,
                   "whatsapp:wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
        CHECK_STR (msg->type, "webhook.whatsapp.message");
        CHECK_STR (msg->source, "whatsapp");
        CHECK_STR (msg->subject, "whatsapp:16505551234");
        CHECK (msg->time_ms == 1749416383000LL);
        json_t *data = t_data (msg);
        CHECK_STR (json_string_value (json_object_get (
                       json_object_get (json_object_get (data, "message"), "text"), "body")),
                   "Does it come in another color?");
        CHECK_STR (json_string_value (json_object_get (
                       json_object_get (json_object_get (data, "contact"), "profile"), "name")),
                   "Sheena Nelson");
        CHECK_STR (json_string_value (
                       json_object_get (json_object_get (data, "metadata"), "phone_number_id")),
                   "106540352242922");
        json_decref (data);
    }
    zhub_msg_list_clear (&list);
    free (body);
}

static void
test_batch_with_statuses_is_split (void)
{
    const char *body =
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":["
        "{\"field\":\"messages\",\"value\":{\"statuses\":["
        "{\"id\":\"wamid.A\",\"status\":\"sent\",\"timestamp\":\"100\",\"recipient_id\":\"155\"},"
        "{\"id\":\"wamid.A\",\"status\":\"read\",\"timestamp\":\"101\",\"recipient_id\":\"155\"}]}}"
        ","
        "{\"field\":\"message_template_status_update\",\"value\":{\"event\":\"APPROVED\"}}]}]}";
    zhub_webhook_t hook = t_hook ("POST", "https://x/", NULL, body, strlen (body), 42);
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (zhub_provider_whatsapp.parse (&hook, &list, why, sizeof why) == ZHUB_OK);
    CHECK (list.count == 3);
    if (list.count == 3) {
        CHECK_STR (list.items[0]->id, "whatsapp:wamid.A:sent");
        CHECK_STR (list.items[1]->id, "whatsapp:wamid.A:read");
        CHECK_STR (list.items[1]->type, "webhook.whatsapp.status");
        CHECK (list.items[1]->time_ms == 101000);
        CHECK_STR (list.items[2]->type, "webhook.whatsapp.message_template_status_update");
        CHECK (!strncmp (list.items[2]->id, "whatsapp:message_template_status_update:", 40));
    }
    zhub_msg_list_clear (&list);
    static const char *bad[] = {
        "{}", "{\"entry\":{}}", "{\"entry\":[{\"changes\":[{\"field\":\"a.b\"}]}]}",
        "{\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":[{\"id\":\"x\"}]"
        "}}]}]}",
        "{\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":{}}}]}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hook.body = bad[i];
        hook.body_size = strlen (bad[i]);
        CHECK (zhub_provider_whatsapp.parse (&hook, &list, why, sizeof why) == ZHUB_REJECT);
        CHECK (list.count == 0);
    }
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    RUN (test_self_computed_vector_verifies);
    RUN (test_verification_handshake);
    RUN (test_sample_message_becomes_one_message);
    RUN (test_batch_with_statuses_is_split);
    TEST_EXIT ();
}
