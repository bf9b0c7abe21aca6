//  `zhub doctor`'s live checks, one function per service; each appends its
//  lines to the report. They share one HTTP client and what cmd_doctor.c
//  read once: the mapping file and the scheduler's section of it.
#ifndef ZHUB_DOCTOR_CHECKS_H
#define ZHUB_DOCTOR_CHECKS_H

#include "doctor.h"
#include "scheduler.h"

typedef struct {
    zhub_doctor_report_t *report;
    zhub_http_t *http;
    const json_t *mapping;       //  the mapping file's root ({} when unset); NULL: it did not load
    const sched_config_t *sched; //  the scheduler section; NULL when it did not load
} zhub_doctor_ctx_t;

//  hubspot.token (private-app token introspection and its scopes),
//  hubspot.properties (the custom properties, and the mapped contact
//  fields), hubspot.pipeline (the stage map), hubspot.app-secret.
void zhub_doctor_hubspot (zhub_doctor_ctx_t *ctx);

//  bird.access-key (workspace and key), bird.channel (the scheduler's
//  WhatsApp channel), bird.signing-key.
void zhub_doctor_bird (zhub_doctor_ctx_t *ctx);

//  google (token refresh), graph (client-credentials token), calendly
//  (GET /users/me), scheduler.secret-key.
void zhub_doctor_calendars (zhub_doctor_ctx_t *ctx);

#endif
