//  `zhub doctor`'s report and its pure verdicts. A check has a name
//  ("hubspot.token"), a status and one plain sentence: what is fine, what
//  is wrong and what to do, or why it was not checked. The checks
//  themselves (doctor_hubspot.c, doctor_services.c, cmd_doctor.c) make the
//  calls; what an answer or a setting means is decided here where it needs
//  no I/O, so unit tests reach it.
#ifndef ZHUB_DOCTOR_H
#define ZHUB_DOCTOR_H

#include "zhub_http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define ZHUB_DOCTOR_MAX_CHECKS 32
#define ZHUB_DOCTOR_DETAIL_MAX 600

typedef enum {
    ZHUB_DOCTOR_OK,   //  checked, fine
    ZHUB_DOCTOR_FAIL, //  checked, wrong: the sentence says what to do
    ZHUB_DOCTOR_SKIP  //  not checked: not configured, or an earlier check failed
} zhub_doctor_status_t;

typedef struct {
    char name[32];
    zhub_doctor_status_t status;
    char detail[ZHUB_DOCTOR_DETAIL_MAX];
} zhub_doctor_check_t;

typedef struct {
    zhub_doctor_check_t checks[ZHUB_DOCTOR_MAX_CHECKS];
    size_t count;
} zhub_doctor_report_t;

//  Appends one check; the detail is printf-formatted. Past
//  ZHUB_DOCTOR_MAX_CHECKS checks are dropped (a programmer's error).
void zhub_doctor_add (zhub_doctor_report_t *report, const char *name, zhub_doctor_status_t status,
                      const char *format, ...) __attribute__ ((format (printf, 4, 5)));

//  True when any check failed.
bool zhub_doctor_failed (const zhub_doctor_report_t *report);

//  One line per check: "<name>  ok <detail>" / "FAIL <reason>" /
//  "skip <why>".
void zhub_doctor_print (const zhub_doctor_report_t *report, FILE *out);

//  {"ok": bool, "checks": [{"name", "status": "ok"|"fail"|"skip",
//  "detail"}]} (a new reference).
json_t *zhub_doctor_json (const zhub_doctor_report_t *report);

//  "ok" / "fail" / "skip".
const char *zhub_doctor_status_name (zhub_doctor_status_t status);

//  The public URL (ZHUB_PUBLIC_URL; NULL or "" when unset): set, http(s),
//  with a host, no query or fragment, and https unless the host is a
//  loopback address (providers call only https URLs; loopback is a local
//  run). Fills detail.
zhub_doctor_status_t zhub_doctor_public_url (const char *url, char *detail, size_t detail_size);

//  One sentence for a call that did not give the answer wanted: the
//  transport error, or the status with the provider's own words (HubSpot's
//  and Bird's "message", Google's and Microsoft's "error_description" /
//  "error.message", Calendly's "title"/"message"). who names the service.
void zhub_doctor_describe (const char *who, const zhub_http_response_t *resp, char *out,
                           size_t out_size);

#endif
