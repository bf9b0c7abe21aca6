//  The OpenAI-compatible chat-completions client's pure parts: the
//  request body and the reading of an answer (shapes from
//  https://platform.openai.com/docs/api-reference/chat/create), and its
//  configuration.
#include "llm.h"
#include "zhub_test.h"

#include <stdlib.h>

static void
test_the_body_has_the_model_two_messages_and_json_mode (void)
{
    json_t *body = zhub_llm_body ("gpt-4o-mini", "classify", "hola");
    CHECK_STR (json_string_value (json_object_get (body, "model")), "gpt-4o-mini");
    const json_t *messages = json_object_get (body, "messages");
    CHECK (json_array_size (messages) == 2);
    CHECK_STR (json_string_value (json_object_get (json_array_get (messages, 0), "role")),
               "system");
    CHECK_STR (json_string_value (json_object_get (json_array_get (messages, 1), "content")),
               "hola");
    CHECK_STR (
        json_string_value (json_object_get (json_object_get (body, "response_format"), "type")),
        "json_object");
    json_decref (body);
}

static void
test_the_content_of_the_first_choice_is_read (void)
{
    json_error_t error;
    json_t *answer = json_loads (
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
        "\"{\\\"intent\\\":\\\"other\\\"}\"},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}",
        0, &error);
    char reason[160];
    char *content = zhub_llm_content (answer, reason, sizeof reason);
    CHECK_STR (content, "{\"intent\":\"other\"}");
    free (content);
    json_decref (answer);
    const char *bad[] = {"{}", "{\"choices\":[]}", "{\"choices\":[{\"message\":{}}]}",
                         "{\"choices\":[{\"message\":{\"content\":null}}]}", NULL};
    for (size_t i = 0; bad[i]; i++) {
        json_t *a = json_loads (bad[i], 0, &error);
        CHECK (zhub_llm_content (a, reason, sizeof reason) == NULL);
        json_decref (a);
    }
}

static void
test_the_configuration_needs_a_model_with_a_url (void)
{
    zhub_llm_config_t config;
    char err[200];
    static const zhub_llm_env_t env = {.url = "ZHUB_T_LLM_URL",
                                       .model = "ZHUB_T_LLM_MODEL",
                                       .key = "ZHUB_T_LLM_KEY",
                                       .timeout = "ZHUB_T_LLM_TIMEOUT"};
    unsetenv ("ZHUB_T_LLM_URL");
    unsetenv ("ZHUB_T_LLM_MODEL");
    unsetenv ("ZHUB_T_LLM_TIMEOUT");
    CHECK (zhub_llm_config_load (&config, &env, err, sizeof err) == 0);
    CHECK (config.base_url == NULL && config.timeout_ms == ZHUB_LLM_TIMEOUT_DEFAULT_MS);
    setenv ("ZHUB_T_LLM_URL", "http://127.0.0.1:1/v1", 1);
    CHECK (zhub_llm_config_load (&config, &env, err, sizeof err) == -1);
    CHECK (strstr (err, "ZHUB_T_LLM_MODEL") != NULL);
    setenv ("ZHUB_T_LLM_MODEL", "m", 1);
    setenv ("ZHUB_T_LLM_TIMEOUT", "2m", 1);
    CHECK (zhub_llm_config_load (&config, &env, err, sizeof err) == -1);
    setenv ("ZHUB_T_LLM_TIMEOUT", "2s", 1);
    CHECK (zhub_llm_config_load (&config, &env, err, sizeof err) == 0);
    CHECK (config.timeout_ms == 2000);
    setenv ("ZHUB_T_LLM_URL", "api.openai.com/v1", 1);
    CHECK (zhub_llm_config_load (&config, &env, err, sizeof err) == -1);
}

int
main (void)
{
    RUN (test_the_body_has_the_model_two_messages_and_json_mode);
    RUN (test_the_content_of_the_first_choice_is_read);
    RUN (test_the_configuration_needs_a_model_with_a_url);
    TEST_EXIT ();
}
