//  What the provider unit tests share: a header table standing in for a
//  request's headers, the files in tests/fixtures, and one call that runs
//  a provider the way the server does (handshake, verify with rotation,
//  parse). Header-only so each test stays one executable.
#ifndef ZHUB_TEST_PROVIDER_UTIL_H
#define ZHUB_TEST_PROVIDER_UTIL_H

#include "provider.h"
#include "zhub_test.h"

#include <jansson.h>
#include <sodium.h>
#include <strings.h>

typedef struct {
    const char *names[16];
    const char *values[16];
    int count;
} t_headers_t;

static const char *
t_header (void *ctx, const char *name)
{
    t_headers_t *h = ctx;
    for (int i = 0; i < h->count; i++)
        if (!strcasecmp (h->names[i], name))
            return h->values[i];
    return NULL;
}

static inline void
t_add (t_headers_t *h, const char *name, const char *value)
{
    h->names[h->count] = name;
    h->values[h->count++] = value;
}

//  A file of tests/fixtures, NUL-terminated; *size without the NUL.
static inline char *
t_load (const char *relative, size_t *size)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", zhub_test_fixtures_dir (), relative);
    FILE *file = fopen (path, "rb");
    if (!file) {
        fprintf (stderr, "  cannot open %s\n", path);
        *size = 0;
        return NULL;
    }
    fseek (file, 0, SEEK_END);
    long length = ftell (file);
    fseek (file, 0, SEEK_SET);
    char *bytes = malloc ((size_t)length + 1);
    *size = fread (bytes, 1, (size_t)length, file);
    bytes[*size] = 0;
    fclose (file);
    return bytes;
}

//  vectors/<file> as JSON (caller decrefs).
static inline json_t *
t_json (const char *relative)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", zhub_test_fixtures_dir (), relative);
    json_t *file = json_load_file (path, 0, NULL);
    if (!file)
        fprintf (stderr, "  cannot load %s\n", path);
    return file;
}

static inline zhub_webhook_t
t_hook (const char *method, const char *url, t_headers_t *headers, const char *body, size_t size,
        int64_t now_ms)
{
    zhub_webhook_t hook = {.method = method,
                           .url = url,
                           .header = t_header,
                           .header_ctx = headers,
                           .body = body ? body : "",
                           .body_size = body ? size : 0,
                           .now_ms = now_ms};
    return hook;
}

static inline zhub_verify_opts_t
t_opts (const zhub_provider_t *provider, const char *secret, const char *previous)
{
    zhub_verify_opts_t opts = {.secret = secret,
                               .previous = previous,
                               .max_age_ms = provider->default_max_age_ms,
                               .max_future_ms = provider->default_max_future_ms};
    return opts;
}

//  Verifies (with rotation) and, when that passes, parses into list.
//  Returns the first non-OK status; why holds the reason.
static inline zhub_rc_t
t_run (const zhub_provider_t *provider, zhub_webhook_t *hook, const zhub_verify_opts_t *opts,
       zhub_msg_list_t *list, char *why, size_t why_size)
{
    hook->opts = opts;
    why[0] = 0;
    zhub_rc_t rc = zhub_provider_verify (provider, hook, opts, why, why_size);
    if (rc != ZHUB_OK)
        return rc;
    return provider->parse (hook, list, why, why_size);
}

//  data of a message as JSON (caller decrefs).
static inline json_t *
t_data (const zhub_msg_t *msg)
{
    return zhub_msg_data_json (msg);
}

#endif
