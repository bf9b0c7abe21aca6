//  Microsoft Graph provider: the validationToken handshake (URL-decoded,
//  text/plain), clientState checked per notification (the documented
//  sample; a mismatch dropped, a batch where none matches refused, the
//  previous value accepted during rotation), the batch split, and the
//  clientState never reaching the data.
#include "graph.h"
#include "test_provider_util.h"

static void
test_validation_handshake_echoes_the_decoded_token (void)
{
    zhub_handshake_t reply = {0};
    zhub_webhook_t hook = t_hook (
        "POST",
        "https://x/v1/webhooks/graph?validationToken=Validation%3A+Testing+client+application",
        NULL, NULL, 0, 1);
    CHECK (zhub_provider_graph.handshake (&hook, NULL, &reply) == ZHUB_OK);
    CHECK (reply.status == 200);
    CHECK_STR (reply.content_type, "text/plain");
    CHECK_STR (reply.body, "Validation: Testing client application");
    free (reply.body);
    hook.url = "https://x/v1/webhooks/graph?validationToken=%zz";
    CHECK (zhub_provider_graph.handshake (&hook, NULL, &reply) == ZHUB_NOTFOUND);
    hook.url = "https://x/v1/webhooks/graph";
    CHECK (zhub_provider_graph.handshake (&hook, NULL, &reply) == ZHUB_NOTFOUND);
    CHECK (zhub_provider_graph.content_type_ok ("text/plain; charset=utf-8"));
    CHECK (zhub_provider_graph.content_type_ok ("application/json"));
    CHECK (!zhub_provider_graph.content_type_ok ("application/xml"));
}

static zhub_rc_t
s_run (const char *body, const char *secret, const char *previous, zhub_msg_list_t *list, char *why)
{
    zhub_webhook_t hook = t_hook ("POST", "https://x/", NULL, body, strlen (body), 77);
    zhub_verify_opts_t opts = t_opts (&zhub_provider_graph, secret, previous);
    return t_run (&zhub_provider_graph, &hook, &opts, list, why, 256);
}

static void
test_documented_notification_is_checked_and_published (void)
{
    size_t size;
    char *body = t_load ("samples/msgraph-change-notification.json", &size);
    zhub_msg_list_t list = {0}, again = {0};
    char why[256];
    CHECK (s_run (body, "secretClientValue", NULL, &list, why) == ZHUB_OK);
    CHECK (list.count == 1);
    CHECK (s_run (body, "secretClientValue", NULL, &again, why) == ZHUB_OK);
    if (list.count == 1 && again.count == 1) {
        zhub_msg_t *msg = list.items[0];
        CHECK_STR (msg->type, "webhook.graph.created");
        CHECK_STR (msg->source, "graph");
        CHECK (!strncmp (msg->id, "graph:", 6));
        CHECK_STR (msg->id, again.items[0]->id); //  a retry collapses
        CHECK_STR (msg->subject, "graph:users/{user_guid}@{tenant_guid}/messages/{long_id_string}");
        json_t *data = t_data (msg);
        CHECK (json_object_get (data, "clientState") == NULL);
        CHECK_STR (json_string_value (json_object_get (data, "changeType")), "created");
        json_decref (data);
    }
    zhub_msg_list_clear (&list);
    zhub_msg_list_clear (&again);
    CHECK (s_run (body, "wrong", NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "signature_mismatch");
    CHECK (s_run (body, "new-state", "secretClientValue", &list, why) == ZHUB_OK);
    CHECK (list.count == 1);
    zhub_msg_list_clear (&list);
    CHECK (s_run (body, NULL, NULL, &list, why) == ZHUB_REJECT);
    CHECK_STR (why, "secret_unset");
    free (body);
}

static void
test_batch_is_split_and_mismatches_dropped (void)
{
    const char *body =
        "{\"value\":["
        "{\"subscriptionId\":\"s1\",\"clientState\":\"cs\",\"changeType\":\"updated\","
        "\"resource\":\"me/events/1\",\"resourceData\":{\"@odata.etag\":\"W/1\"}},"
        "{\"subscriptionId\":\"s1\",\"clientState\":\"forged\",\"changeType\":\"deleted\","
        "\"resource\":\"me/events/2\"},"
        "{\"subscriptionId\":\"s1\",\"changeType\":\"deleted\",\"resource\":\"me/events/3\"},"
        "{\"subscriptionId\":\"s1\",\"clientState\":\"cs\",\"lifecycleEvent\":"
        "\"reauthorizationRequired\"},"
        "{\"subscriptionId\":\"s1\",\"clientState\":\"cs\",\"changeType\":\"updated\","
        "\"resource\":\"me/events/1\",\"resourceData\":{\"@odata.etag\":\"W/2\"}}]}";
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (s_run (body, "cs", NULL, &list, why) == ZHUB_OK);
    CHECK (list.count == 3);
    if (list.count == 3) {
        CHECK_STR (list.items[0]->type, "webhook.graph.updated");
        CHECK_STR (list.items[1]->type, "webhook.graph.lifecycle.reauthorizationRequired");
        CHECK_STR (list.items[2]->subject, "graph:me/events/1");
        CHECK (strcmp (list.items[0]->id, list.items[2]->id)); //  another etag, another change
    }
    zhub_msg_list_clear (&list);
    static const char *bad[] = {"[]", "{\"value\":{}}", "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK (s_run (bad[i], "cs", NULL, &list, why) == ZHUB_REJECT);
    const char *bad_type = "{\"value\":[{\"subscriptionId\":\"s\",\"clientState\":\"cs\","
                           "\"changeType\":\"a.b\"}]}";
    CHECK (s_run (bad_type, "cs", NULL, &list, why) == ZHUB_REJECT);
    CHECK (list.count == 0);
}

int
main (void)
{
    RUN (test_validation_handshake_echoes_the_decoded_token);
    RUN (test_documented_notification_is_checked_and_published);
    RUN (test_batch_is_split_and_mismatches_dropped);
    TEST_EXIT ();
}
