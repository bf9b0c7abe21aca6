//  OpenAI-compatible chat completions (see llm.h): a body, one call with
//  its own timeout, the content of the first choice. Nothing is retried
//  here: the caller decides without an answer.
#include "llm.h"
#include "zhub_connector.h"
#include "zhub_env.h"
#include "zhub_log.h"
#include "zhub_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zhub_llm_t {
    zhub_connector_t core;
    char *model;
    int64_t timeout_ms;
};

int
zhub_llm_config_load (zhub_llm_config_t *config, const zhub_llm_env_t *env, char *err,
                      size_t err_size)
{
    memset (config, 0, sizeof *config);
    config->base_url = zhub_env_str (env->url, NULL);
    config->model = zhub_env_str (env->model, NULL);
    config->api_key = zhub_env_str (env->key, NULL);
    if (zhub_env_duration_ms (env->timeout, ZHUB_LLM_TIMEOUT_DEFAULT_MS, &config->timeout_ms)
        || config->timeout_ms < 100 || config->timeout_ms > ZHUB_LLM_TIMEOUT_MAX_MS) {
        snprintf (err, err_size, "%s must be a duration from 100ms to 60s", env->timeout);
        return -1;
    }
    if (!config->base_url)
        return 0;
    if (strncmp (config->base_url, "http://", 7) && strncmp (config->base_url, "https://", 8)) {
        snprintf (err, err_size,
                  "%s must be an absolute http(s) URL (e.g. https://api.openai.com/v1)", env->url);
        return -1;
    }
    if (!config->model) {
        snprintf (err, err_size, "%s is required when %s is set", env->model, env->url);
        return -1;
    }
    return 0;
}

void
zhub_llm_config_log (const zhub_llm_config_t *config)
{
    char masked[64];
    zhub_info (
        "config", "llm_url=%s llm_model=%s llm_key=%s llm_timeout_ms=%lld",
        config->base_url ? config->base_url : "unset", config->model ? config->model : "unset",
        zhub_env_mask (config->api_key, masked, sizeof masked), (long long)config->timeout_ms);
}

zhub_llm_t *
zhub_llm_new (const zhub_llm_config_t *config, zhub_http_t *http)
{
    if (!config || !config->base_url)
        return NULL;
    zhub_llm_t *self = zhub_calloc (1, sizeof *self);
    zhub_connector_init (&self->core, http,
                         &(zhub_connector_config_t){.base_url = config->base_url,
                                                    .default_base_url = config->base_url,
                                                    .auth_scheme = "Bearer",
                                                    .secret = config->api_key,
                                                    .paced = false});
    self->model = zhub_strdup (config->model);
    self->timeout_ms = config->timeout_ms;
    return self;
}

void
zhub_llm_destroy (zhub_llm_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_connector_fini (&(*self_p)->core);
    free ((*self_p)->model);
    free (*self_p);
    *self_p = NULL;
}

json_t *
zhub_llm_body (const char *model, const char *system, const char *user)
{
    return json_pack ("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:i, s:{s:s}}", "model", model, "messages",
                      "role", "system", "content", system, "role", "user", "content", user,
                      "temperature", 0, "response_format", "type", "json_object");
}

char *
zhub_llm_content (const json_t *answer, char *reason, size_t reason_size)
{
    const json_t *choice = json_array_get (json_object_get (answer, "choices"), 0);
    const json_t *content = json_object_get (json_object_get (choice, "message"), "content");
    if (!json_is_string (content)) {
        snprintf (reason, reason_size, "no choices[0].message.content in the answer");
        return NULL;
    }
    size_t size = json_string_length (content);
    if (size > ZHUB_LLM_CONTENT_MAX) {
        snprintf (reason, reason_size, "an answer of %zu bytes (at most %d read)", size,
                  ZHUB_LLM_CONTENT_MAX);
        return NULL;
    }
    return zhub_strdup (json_string_value (content));
}

int
zhub_llm_chat (zhub_llm_t *self, const char *system, const char *user, const char *traceparent,
               char **content, char *reason, size_t reason_size)
{
    *content = NULL;
    json_t *body = zhub_llm_body (self->model, system, user);
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_connector_call_t call = {.method = "POST",
                                  .path = "/chat/completions",
                                  .body = body,
                                  .traceparent = traceparent,
                                  .timeout_ms = self->timeout_ms};
    int rc = zhub_connector_request (&self->core, &call, &resp);
    json_decref (body);
    if (rc != 0)
        snprintf (reason, reason_size, "%s", resp.timed_out ? "timeout" : "transport error");
    else if (resp.status < 200 || resp.status > 299)
        snprintf (reason, reason_size, "HTTP %ld", resp.status);
    else
        *content = zhub_llm_content (resp.json, reason, reason_size);
    zhub_http_response_reset (&resp);
    return *content ? 0 : -1;
}
