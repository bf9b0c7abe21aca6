//  An OpenAI-compatible chat-completions client (OpenAI's API, and the
//  servers that speak it: vLLM, llama.cpp, Ollama, Azure's, ...): one
//  call, POST {base}/chat/completions with a system and a user message,
//  answered by choices[0].message.content. Reference:
//  https://platform.openai.com/docs/api-reference/chat/create (request:
//  model, messages [{role, content}], temperature, response_format
//  {type: json_object}; answer: {id, object: "chat.completion", choices:
//  [{index, message: {role, content}, finish_reason}], usage}). On the
//  shared request path (zhub_connector), unpaced: its callers degrade
//  without it rather than retry it. The key is sent as
//  `Authorization: Bearer`, never logged.
#ifndef ZHUB_LLM_H
#define ZHUB_LLM_H

#include "zhub_http.h"

#include <stdbool.h>

#define ZHUB_LLM_TIMEOUT_DEFAULT_MS 5000
#define ZHUB_LLM_TIMEOUT_MAX_MS 60000
#define ZHUB_LLM_CONTENT_MAX 16384 //  bytes of an answer's content read

typedef struct zhub_llm_t zhub_llm_t;

typedef struct {
    const char *base_url; //  ".../v1"; NULL = no classifier configured
    const char *model;
    const char *api_key; //  NULL or "": no Authorization (a local server)
    int64_t timeout_ms;  //  the whole call
} zhub_llm_config_t;

//  The names of the four variables a caller reads its classifier from
//  (whole names, so that the configuration reference can be checked
//  against the sources).
typedef struct {
    const char *url, *model, *key, *timeout;
} zhub_llm_env_t;

//  Reads env->url (an absolute http(s) URL, the API's base, e.g.
//  https://api.openai.com/v1; unset: no classifier), env->model (required
//  with a URL), env->key (secret) and env->timeout (duration, default 5s,
//  100ms to 60s) into *config; the strings point into the environment.
//  0, or -1 with the variable named in err.
int zhub_llm_config_load (zhub_llm_config_t *config, const zhub_llm_env_t *env, char *err,
                          size_t err_size);
void zhub_llm_config_log (const zhub_llm_config_t *config);

//  A client over http (borrowed); NULL when config names no URL.
zhub_llm_t *zhub_llm_new (const zhub_llm_config_t *config, zhub_http_t *http);
void zhub_llm_destroy (zhub_llm_t **self_p);

//  The request body for system and user (a new JSON object). Pure.
json_t *zhub_llm_body (const char *model, const char *system, const char *user);

//  The answer's choices[0].message.content, copied into a fresh string,
//  or NULL with the reason ("no choices[0].message.content"). Pure.
char *zhub_llm_content (const json_t *answer, char *reason, size_t reason_size);

//  One chat completion. Returns 0 with *content (fresh) set, or -1 with
//  the reason: "timeout", "HTTP 503", a transport error, an answer without
//  content.
int zhub_llm_chat (zhub_llm_t *self, const char *system, const char *user, const char *traceparent,
                   char **content, char *reason, size_t reason_size);

#endif
