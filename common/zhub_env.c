//  Environment parsing with explicit validation, so that a typo in a
//  deployment fails at start with a clear message instead of at 3 a.m.
#include "zhub_env.h"
#include "zhub_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
zhub_env_str (const char *name, const char *fallback)
{
    const char *value = getenv (name);
    return value && *value ? value : fallback;
}

int
zhub_env_int (const char *name, int64_t fallback, int64_t min, int64_t max, int64_t *out)
{
    const char *value = zhub_env_str (name, NULL);
    if (!value) {
        *out = fallback;
        return 0;
    }
    char *end;
    errno = 0;
    long long parsed = strtoll (value, &end, 10);
    if (errno || *end || parsed < min || parsed > max) {
        fprintf (stderr, "zhub: %s=%s is not an integer in [%lld, %lld]\n", name, value,
                 (long long)min, (long long)max);
        return -1;
    }
    *out = parsed;
    return 0;
}

int
zhub_parse_duration_ms (const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    double number = strtod (text, &end);
    if (errno || end == text || number < 0)
        return -1;
    double scale;
    if (!*end || !strcmp (end, "ms"))
        scale = 1;
    else if (!strcmp (end, "s"))
        scale = 1000;
    else if (!strcmp (end, "m"))
        scale = 60000;
    else if (!strcmp (end, "h"))
        scale = 3600000;
    else if (!strcmp (end, "d"))
        scale = 86400000;
    else
        return -1;
    *out = (int64_t)(number * scale);
    return 0;
}

int
zhub_env_duration_ms (const char *name, int64_t fallback, int64_t *out)
{
    const char *value = zhub_env_str (name, NULL);
    if (!value) {
        *out = fallback;
        return 0;
    }
    if (zhub_parse_duration_ms (value, out)) {
        fprintf (stderr, "zhub: %s=%s is not a duration (e.g. 500ms, 30s, 5m, 8d)\n", name, value);
        return -1;
    }
    return 0;
}

const char *
zhub_env_mask (const char *secret, char *buf, int size)
{
    if (!secret || !*secret)
        snprintf (buf, size, "unset");
    else
        snprintf (buf, size, "set(%zu bytes)", strlen (secret));
    return buf;
}

int
zhub_parse_duration_list (const char *text, int64_t *out, int max)
{
    if (!text)
        return 0;
    int count = 0;
    const char *p = text;
    while (*p == ' ')
        p++;
    if (!*p)
        return 0;
    while (true) {
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t)(end - p) : strlen (p);
        char step[64];
        while (len && p[len - 1] == ' ')
            len--;
        if (len == 0 || len >= sizeof step || count == max)
            return -1;
        memcpy (step, p, len);
        step[len] = 0;
        if (zhub_parse_duration_ms (step, &out[count]))
            return -1;
        count++;
        if (!end)
            return count;
        p = end + 1;
        while (*p == ' ')
            p++;
    }
}

char *
zhub_env_public_url (bool *is_default)
{
    const char *value = zhub_env_str ("ZHUB_PUBLIC_URL", NULL);
    if (is_default)
        *is_default = value == NULL;
    if (value)
        return zhub_strdup (value);
    return zhub_sprintf ("http://%s",
                         zhub_env_str ("ZHUB_GATEWAY_LISTEN", ZHUB_GATEWAY_LISTEN_DEFAULT));
}

int
zhub_parse_backoff (const char *text, int64_t *out, int max)
{
    int n = zhub_parse_duration_list (text, out, max);
    for (int i = 0; i < n; i++)
        if (out[i] > ZHUB_BACKOFF_MAX_STEP_MS)
            return -1;
    return n;
}
