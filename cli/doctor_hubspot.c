//  `zhub doctor`'s HubSpot checks, live: the private-app token (is it
//  accepted, which portal, which scopes), the custom properties zhub writes
//  (the list `zhub hubspot setup` creates, zhub_hubspot_properties, and the contact
//  fields of the mapping file) and the deal pipeline the stage map names,
//  checked by deal-sync's own code. Through the actors' connector and HTTP
//  client.
#include "contact_sync.h"
#include "deal_sync.h"
#include "doctor_checks.h"
#include "hubspot.h"
#include "hubspot_needs.h"
#include "zhub_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Private-app token information (zhub_hubspot_token_info): the portal
//  and the scopes the token has. Returns true when the token is accepted
//  (the other checks can go on).
static bool
s_token (zhub_doctor_ctx_t *ctx, zhub_hubspot_t *hubspot, const char *token)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_hubspot_token_info (hubspot, token, &resp);
    char why[400];
    bool accepted = false;
    if (resp.status == 200 && json_is_array (json_object_get (resp.json, "scopes"))) {
        accepted = true;
        const json_t *scopes = json_object_get (resp.json, "scopes");
        char missing[300], setup[200];
        json_int_t portal = json_integer_value (json_object_get (resp.json, "hubId"));
        if (zhub_hubspot_missing_scopes (scopes, false, missing, sizeof missing))
            zhub_doctor_add (ctx->report, "hubspot.token", ZHUB_DOCTOR_FAIL,
                             "the token of portal %lld lacks %s: add the scope(s) to the private "
                             "app (Development > Legacy apps > the app > Scopes) and commit",
                             (long long)portal, missing);
        else if (zhub_hubspot_missing_scopes (scopes, true, setup, sizeof setup))
            zhub_doctor_add (ctx->report, "hubspot.token", ZHUB_DOCTOR_OK,
                             "portal %lld, every scope the actors need (without %s, `zhub "
                             "hubspot setup` cannot create properties)",
                             (long long)portal, setup);
        else
            zhub_doctor_add (ctx->report, "hubspot.token", ZHUB_DOCTOR_OK,
                             "portal %lld, every scope zhub needs", (long long)portal);
    } else if (resp.status == 400 || resp.status == 401 || resp.status == 403
               || resp.status == 404) {
        zhub_doctor_describe ("HubSpot", &resp, why, sizeof why);
        zhub_doctor_add (ctx->report, "hubspot.token", ZHUB_DOCTOR_FAIL,
                         "HubSpot does not accept ZHUB_HUBSPOT_TOKEN (%s): it is wrong, revoked or "
                         "rotated; copy the app's current access token",
                         why);
    } else {
        zhub_doctor_describe ("HubSpot", &resp, why, sizeof why);
        zhub_doctor_add (ctx->report, "hubspot.token", ZHUB_DOCTOR_FAIL,
                         "%s; try again, and check ZHUB_HUBSPOT_BASE_URL", why);
    }
    zhub_http_response_reset (&resp);
    return accepted;
}

//  The property object.name (zhub_hubspot_property_get): 1 when it exists as needed (or
//  exists at all, with p NULL), 0 missing, -1 exists but wrong (detail), -2
//  no usable answer (detail).
static int
s_property (zhub_hubspot_t *hubspot, const char *object, const char *name,
            const zhub_hubspot_property_t *p, char *detail, size_t detail_size)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_hubspot_property_get (hubspot, object, name, NULL, &resp);
    int rc;
    if (resp.status == 200)
        rc = !p
                     || zhub_hubspot_property_compare (p, resp.json, detail, detail_size)
                            == ZHUB_HUBSPOT_PROPERTY_OK
                 ? 1
                 : -1;
    else if (resp.status == 404)
        rc = 0;
    else {
        zhub_doctor_describe ("HubSpot", &resp, detail, detail_size);
        rc = -2;
    }
    zhub_http_response_reset (&resp);
    return rc;
}

//  Appends ", <object>.<name>[ <detail>]" to a list.
static void
s_list (char *list, size_t size, const char *object, const char *name, const char *detail)
{
    size_t used = strlen (list);
    if (used < size)
        snprintf (list + used, size - used, "%s%s.%s%s%s%s", used ? ", " : "", object, name,
                  detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
}

static void
s_properties (zhub_doctor_ctx_t *ctx, zhub_hubspot_t *hubspot)
{
    char missing[400] = "", wrong[500] = "", detail[300];
    size_t checked = 0;
    size_t count;
    const zhub_hubspot_property_t *properties = zhub_hubspot_properties (&count);
    for (size_t i = 0; i < count; i++) {
        const zhub_hubspot_property_t *p = &properties[i];
        int rc = s_property (hubspot, p->object, p->name, p, detail, sizeof detail);
        if (rc == -2) {
            zhub_doctor_add (ctx->report, "hubspot.properties", ZHUB_DOCTOR_FAIL,
                             "reading %s.%s: %s", p->object, p->name, detail);
            return;
        }
        checked++;
        if (rc == 0)
            s_list (missing, sizeof missing, p->object, p->name, NULL);
        else if (rc < 0)
            s_list (wrong, sizeof wrong, p->object, p->name, detail);
    }
    //  The mapping file's contact fields are written too: they must exist
    //  (their type is the operator's choice).
    contact_sync_config_t contact = {0};
    contact_sync_config_defaults (&contact);
    char err[256];
    if (ctx->mapping && contact_sync_config_apply (&contact, ctx->mapping, err, sizeof err) == 0)
        for (size_t i = 0; i < contact.field_count; i++) {
            const char *name = contact.fields[i].hubspot;
            bool known = zhub_hubspot_property_find ("contacts", name) != NULL;
            if (known || !contact.fields[i].to_hubspot)
                continue;
            int rc = s_property (hubspot, "contacts", name, NULL, detail, sizeof detail);
            checked++;
            if (rc == 0)
                s_list (missing, sizeof missing, "contacts", name, "named by the mapping file");
            else if (rc == -2)
                s_list (wrong, sizeof wrong, "contacts", name, detail);
        }
    contact_sync_config_clear (&contact);
    if (!*missing && !*wrong) {
        zhub_doctor_add (ctx->report, "hubspot.properties", ZHUB_DOCTOR_OK,
                         "%zu properties present with the type and uniqueness zhub writes",
                         checked);
        return;
    }
    //  Setup creates what is missing; a property of the wrong shape it
    //  cannot fix (HubSpot does not let hasUniqueValue change).
    zhub_doctor_add (ctx->report, "hubspot.properties", ZHUB_DOCTOR_FAIL, "%s%s%s%s%s; %s",
                     *missing ? "missing: " : "", missing, *missing && *wrong ? "; " : "",
                     *wrong ? "wrong shape: " : "", wrong,
                     *wrong ? "delete those in HubSpot (Settings > Properties), then run `zhub "
                              "hubspot setup`"
                            : "run `zhub hubspot setup`");
}

static void
s_pipeline (zhub_doctor_ctx_t *ctx, zhub_hubspot_t *hubspot)
{
    deal_sync_config_t deal;
    deal_sync_config_default (&deal);
    char err[300];
    if (!ctx->mapping || deal_sync_config_apply (&deal, ctx->mapping, err, sizeof err)) {
        zhub_doctor_add (ctx->report, "hubspot.pipeline", ZHUB_DOCTOR_SKIP,
                         "the mapping file's deal section does not load (see mapping)");
        deal_sync_config_clear (&deal);
        return;
    }
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_hubspot_deal_pipelines (hubspot, NULL, &resp);
    if (resp.status != 200) {
        zhub_doctor_describe ("HubSpot", &resp, err, sizeof err);
        zhub_doctor_add (ctx->report, "hubspot.pipeline", ZHUB_DOCTOR_FAIL,
                         "reading the deal pipelines: %s", err);
    } else if (deal_sync_config_check (&deal, resp.json, err, sizeof err))
        zhub_doctor_add (ctx->report, "hubspot.pipeline", ZHUB_DOCTOR_FAIL,
                         "%s: deal-sync refuses to start; fix the mapping file's deal section "
                         "(stage ids: HubSpot > Settings > Objects > Deals > Pipelines)",
                         err);
    else
        zhub_doctor_add (ctx->report, "hubspot.pipeline", ZHUB_DOCTOR_OK,
                         "pipeline %s holds every stage of the stage map", deal.pipeline);
    zhub_http_response_reset (&resp);
    deal_sync_config_clear (&deal);
}

void
zhub_doctor_hubspot (zhub_doctor_ctx_t *ctx)
{
    const char *token = zhub_env_str ("ZHUB_HUBSPOT_TOKEN", "");
    const char *secret = zhub_env_str ("ZHUB_HUBSPOT_APP_SECRET", "");
    const char *names[] = {"hubspot.token", "hubspot.properties", "hubspot.pipeline"};
    if (!*token) {
        for (size_t i = 0; i < 3; i++)
            zhub_doctor_add (ctx->report, names[i], ZHUB_DOCTOR_SKIP,
                             "not configured (ZHUB_HUBSPOT_TOKEN is not set)");
        zhub_doctor_add (ctx->report, "hubspot.app-secret", ZHUB_DOCTOR_SKIP, "not configured");
        return;
    }
    const char *base = zhub_env_str ("ZHUB_HUBSPOT_BASE_URL", ZHUB_HUBSPOT_BASE_URL_DEFAULT);
    if (strncmp (base, "https://", 8) && strncmp (base, "http://", 7)) {
        zhub_doctor_add (ctx->report, "hubspot.token", ZHUB_DOCTOR_FAIL,
                         "ZHUB_HUBSPOT_BASE_URL %.200s is not an http(s) URL (the default "
                         "is " ZHUB_HUBSPOT_BASE_URL_DEFAULT ")",
                         base);
        for (size_t i = 1; i < 3; i++)
            zhub_doctor_add (ctx->report, names[i], ZHUB_DOCTOR_SKIP,
                             "the HubSpot base URL is wrong");
    } else {
        zhub_hubspot_config_t config = {.base_url = base, .token = token};
        zhub_hubspot_t *hubspot = zhub_hubspot_new (&config, ctx->http);
        if (s_token (ctx, hubspot, token)) {
            s_properties (ctx, hubspot);
            s_pipeline (ctx, hubspot);
        } else
            for (size_t i = 1; i < 3; i++)
                zhub_doctor_add (ctx->report, names[i], ZHUB_DOCTOR_SKIP,
                                 "HubSpot did not accept the token");
        zhub_hubspot_destroy (&hubspot);
    }
    if (*secret)
        zhub_doctor_add (ctx->report, "hubspot.app-secret", ZHUB_DOCTOR_OK,
                         "set (%zu bytes); HubSpot webhooks are checked with it", strlen (secret));
    else
        zhub_doctor_add (ctx->report, "hubspot.app-secret", ZHUB_DOCTOR_FAIL,
                         "ZHUB_HUBSPOT_APP_SECRET is not set: the gateway answers 401 to every "
                         "HubSpot webhook; set the app's client secret (the app's Auth tab)");
}
