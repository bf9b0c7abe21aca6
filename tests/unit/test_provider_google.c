//  Google Calendar push provider: the documented sample's headers (no
//  body) verified by channel token in constant time, rotation, wrong or
//  missing token; "sync" acknowledged with nothing published; "exists"
//  becoming one webhook.google.calendar.changed with channel and resource
//  ids, and an id that a retry of the same message number repeats.
#include "google.h"
#include "test_provider_util.h"

static void
s_sample_headers (json_t *sample, t_headers_t *headers)
{
    const char *key;
    json_t *value;
    json_object_foreach (json_object_get (sample, "headers"), key, value)
        t_add (headers, key, json_string_value (value));
}

static void
test_documented_notification_triggers_a_sync (void)
{
    json_t *sample = t_json ("samples/google-calendar-push-notification.json");
    t_headers_t headers = {0};
    s_sample_headers (sample, &headers);
    zhub_webhook_t hook = t_hook ("POST", "https://x/v1/webhooks/google", &headers, NULL, 0, 42);
    zhub_verify_opts_t opts = t_opts (&zhub_provider_google, "398348u3tu83ut8uu38", NULL);
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (t_run (&zhub_provider_google, &hook, &opts, &list, why, sizeof why) == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1) {
        zhub_msg_t *msg = list.items[0];
        CHECK_STR (msg->type, "webhook.google.calendar.changed");
        CHECK_STR (msg->id, "google:4ba78bf0-6a47-11e2-bcfd-0800200c9a66:10");
        CHECK_STR (msg->subject, "google:resource:ret08u3rv24htgh289g");
        CHECK_STR (msg->source, "google");
        json_t *data = t_data (msg);
        CHECK_STR (json_string_value (json_object_get (data, "channel_id")),
                   "4ba78bf0-6a47-11e2-bcfd-0800200c9a66");
        CHECK_STR (json_string_value (json_object_get (data, "resource_id")),
                   "ret08u3rv24htgh289g");
        CHECK_STR (json_string_value (json_object_get (data, "resource_state")), "exists");
        CHECK (json_integer_value (json_object_get (data, "message_number")) == 10);
        CHECK_STR (json_string_value (json_object_get (data, "resource_uri")),
                   "https://www.googleapis.com/calendar/v3/calendars/my_calendar@gmail.com/events");
        json_decref (data);
    }
    zhub_msg_list_clear (&list);
    //  the content type Google sends ("application/json; utf-8") is fine
    CHECK (zhub_provider_google.content_type_ok ("application/json; utf-8"));
    CHECK (zhub_provider_google.content_type_ok (NULL));
    json_decref (sample);
}

static void
test_token_is_checked (void)
{
    json_t *sample = t_json ("samples/google-calendar-push-notification.json");
    t_headers_t headers = {0};
    s_sample_headers (sample, &headers);
    zhub_webhook_t hook = t_hook ("POST", "https://x/", &headers, NULL, 0, 42);
    zhub_msg_list_t list = {0};
    char why[256];
    zhub_verify_opts_t opts = t_opts (&zhub_provider_google, "other-token", NULL);
    CHECK (t_run (&zhub_provider_google, &hook, &opts, &list, why, sizeof why) == ZHUB_REJECT);
    CHECK_STR (why, "signature_mismatch");
    opts = t_opts (&zhub_provider_google, "new-token", "398348u3tu83ut8uu38");
    CHECK (t_run (&zhub_provider_google, &hook, &opts, &list, why, sizeof why) == ZHUB_OK);
    zhub_msg_list_clear (&list);
    opts = t_opts (&zhub_provider_google, NULL, NULL);
    CHECK (t_run (&zhub_provider_google, &hook, &opts, &list, why, sizeof why) == ZHUB_REJECT);
    CHECK_STR (why, "secret_unset");
    t_headers_t none = {0};
    hook.header_ctx = &none;
    opts = t_opts (&zhub_provider_google, "398348u3tu83ut8uu38", NULL);
    CHECK (t_run (&zhub_provider_google, &hook, &opts, &list, why, sizeof why) == ZHUB_REJECT);
    CHECK_STR (why, "missing_signature");
    CHECK (list.count == 0);
    json_decref (sample);
}

static void
test_sync_is_acknowledged_and_not_forwarded (void)
{
    t_headers_t headers = {0};
    t_add (&headers, "X-Goog-Channel-ID", "chan-1");
    t_add (&headers, "X-Goog-Channel-Token", "tok");
    t_add (&headers, "X-Goog-Resource-ID", "res-1");
    t_add (&headers, "X-Goog-Resource-State", "sync");
    t_add (&headers, "X-Goog-Message-Number", "1");
    zhub_webhook_t hook = t_hook ("POST", "https://x/", &headers, NULL, 0, 42);
    zhub_verify_opts_t opts = t_opts (&zhub_provider_google, "tok", NULL);
    zhub_msg_list_t list = {0};
    char why[256];
    CHECK (t_run (&zhub_provider_google, &hook, &opts, &list, why, sizeof why) == ZHUB_OK);
    CHECK (list.count == 0);
    headers.values[3] = "not_exists";
    CHECK (t_run (&zhub_provider_google, &hook, &opts, &list, why, sizeof why) == ZHUB_OK);
    CHECK (list.count == 1);
    if (list.count == 1)
        CHECK_STR (list.items[0]->id, "google:chan-1:1");
    zhub_msg_list_clear (&list);
    headers.values[4] = "ten"; //  a message number must be a number
    CHECK (t_run (&zhub_provider_google, &hook, &opts, &list, why, sizeof why) == ZHUB_REJECT);
    headers.values[4] = "2";
    headers.values[0] = "has space";
    CHECK (t_run (&zhub_provider_google, &hook, &opts, &list, why, sizeof why) == ZHUB_REJECT);
    CHECK (list.count == 0);
}

int
main (void)
{
    RUN (test_documented_notification_triggers_a_sync);
    RUN (test_token_is_checked);
    RUN (test_sync_is_acknowledged_and_not_forwarded);
    TEST_EXIT ();
}
