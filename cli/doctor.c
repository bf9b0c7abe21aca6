//  `zhub doctor`'s report (text and JSON) and the verdicts that need no
//  I/O: see doctor.h.
#include "doctor.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

void
zhub_doctor_add (zhub_doctor_report_t *report, const char *name, zhub_doctor_status_t status,
                 const char *format, ...)
{
    if (report->count == ZHUB_DOCTOR_MAX_CHECKS)
        return;
    zhub_doctor_check_t *check = &report->checks[report->count++];
    snprintf (check->name, sizeof check->name, "%s", name);
    check->status = status;
    va_list args;
    va_start (args, format);
    vsnprintf (check->detail, sizeof check->detail, format, args);
    va_end (args);
}

bool
zhub_doctor_failed (const zhub_doctor_report_t *report)
{
    for (size_t i = 0; i < report->count; i++)
        if (report->checks[i].status == ZHUB_DOCTOR_FAIL)
            return true;
    return false;
}

const char *
zhub_doctor_status_name (zhub_doctor_status_t status)
{
    return status == ZHUB_DOCTOR_OK ? "ok" : status == ZHUB_DOCTOR_FAIL ? "fail" : "skip";
}

void
zhub_doctor_print (const zhub_doctor_report_t *report, FILE *out)
{
    for (size_t i = 0; i < report->count; i++) {
        const zhub_doctor_check_t *check = &report->checks[i];
        const char *word = check->status == ZHUB_DOCTOR_OK     ? "ok"
                           : check->status == ZHUB_DOCTOR_FAIL ? "FAIL"
                                                               : "skip";
        fprintf (out, "%-20s %s%s%s\n", check->name, word, check->detail[0] ? " " : "",
                 check->detail);
    }
}

json_t *
zhub_doctor_json (const zhub_doctor_report_t *report)
{
    json_t *checks = json_array ();
    for (size_t i = 0; i < report->count; i++) {
        const zhub_doctor_check_t *check = &report->checks[i];
        json_array_append_new (checks, json_pack ("{s:s, s:s, s:s}", "name", check->name, "status",
                                                  zhub_doctor_status_name (check->status), "detail",
                                                  check->detail));
    }
    return json_pack ("{s:b, s:o}", "ok", !zhub_doctor_failed (report), "checks", checks);
}

//  The host of an authority ("user@host:port", "[::1]:8080"), into out.
static void
s_host (const char *authority, size_t size, char *out, size_t out_size)
{
    const char *at = memchr (authority, '@', size);
    if (at) {
        size -= (size_t)(at + 1 - authority);
        authority = at + 1;
    }
    size_t len = size;
    if (size && authority[0] == '[') {
        const char *close = memchr (authority, ']', size);
        len = close ? (size_t)(close - authority) - 1 : size - 1;
        authority++;
    } else {
        const char *colon = memchr (authority, ':', size);
        if (colon)
            len = (size_t)(colon - authority);
    }
    snprintf (out, out_size, "%.*s", (int)len, authority);
}

//  localhost, 127.0.0.0/8 or ::1 (as literals: "127.0.0.1.example.com" is
//  a public name).
static bool
s_loopback (const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (!strcasecmp (host, "localhost"))
        return true;
    if (inet_pton (AF_INET, host, &v4) == 1)
        return (ntohl (v4.s_addr) >> 24) == 127;
    return inet_pton (AF_INET6, host, &v6) == 1 && IN6_IS_ADDR_LOOPBACK (&v6);
}

zhub_doctor_status_t
zhub_doctor_public_url (const char *url, char *detail, size_t detail_size)
{
    if (!url || !*url) {
        snprintf (detail, detail_size,
                  "ZHUB_PUBLIC_URL is not set: providers sign the URL they call, so the gateway "
                  "would check every signature against http://<ZHUB_GATEWAY_LISTEN> and refuse "
                  "them, and the scheduler opens no calendar notifications; set it to the https "
                  "address in front of the gateway");
        return ZHUB_DOCTOR_FAIL;
    }
    bool https = !strncmp (url, "https://", 8), http = !strncmp (url, "http://", 7);
    if (!https && !http) {
        snprintf (detail, detail_size, "ZHUB_PUBLIC_URL %.200s is not an http(s) URL", url);
        return ZHUB_DOCTOR_FAIL;
    }
    const char *authority = url + (https ? 8 : 7);
    size_t size = strcspn (authority, "/?#");
    if (strpbrk (url, "?#")) {
        snprintf (detail, detail_size,
                  "ZHUB_PUBLIC_URL %.200s has a query or fragment; it must be scheme://host[:port]"
                  "[/prefix]",
                  url);
        return ZHUB_DOCTOR_FAIL;
    }
    char host[256];
    s_host (authority, size, host, sizeof host);
    if (!host[0]) {
        snprintf (detail, detail_size, "ZHUB_PUBLIC_URL %.200s has no host", url);
        return ZHUB_DOCTOR_FAIL;
    }
    if (http && !s_loopback (host)) {
        snprintf (detail, detail_size,
                  "ZHUB_PUBLIC_URL %.200s is plain http on a public host: HubSpot, Google and "
                  "Microsoft call only https webhook URLs; put TLS in front of the gateway "
                  "and use https://",
                  url);
        return ZHUB_DOCTOR_FAIL;
    }
    snprintf (detail, detail_size, "%.200s%s", url,
              http ? " (loopback: a local run; production needs https)" : "");
    return ZHUB_DOCTOR_OK;
}

static const char *
s_str (const json_t *obj, const char *key)
{
    return json_is_object (obj) ? json_string_value (json_object_get (obj, key)) : NULL;
}

void
zhub_doctor_describe (const char *who, const zhub_http_response_t *resp, char *out, size_t out_size)
{
    if (resp->status == 0) {
        snprintf (out, out_size, "%s did not answer: %.200s", who,
                  resp->error[0] ? resp->error : "no answer");
        return;
    }
    const json_t *json = resp->json;
    const json_t *error = json_object_get (json, "error");
    const char *code = json_is_string (error)     ? json_string_value (error)
                       : s_str (json, "category") ? s_str (json, "category")
                                                  : s_str (json, "code");
    if (!code)
        code = s_str (error, "code") ? s_str (error, "code") : s_str (json, "title");
    const char *words = s_str (json, "error_description");
    if (!words)
        words = s_str (json, "message") ? s_str (json, "message") : s_str (error, "message");
    snprintf (out, out_size, "%s answered HTTP %ld%s%.80s%s%.240s", who, resp->status,
              code ? " " : "", code ? code : "", words ? ": " : "", words ? words : "");
}
