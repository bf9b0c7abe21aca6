//  zhub hubspot setup: creates the custom HubSpot properties the sync
//  actors write (contact-sync's and deal-sync's), once per portal.
//  Idempotent: each property is looked up first (GET), created only when
//  absent (POST), and a 409 from a concurrent run counts as "exists". It
//  reports what existed, what it created, and what exists with the wrong
//  shape (a unique key that is not unique cannot be fixed by an API call:
//  HubSpot does not let hasUniqueValue change, so it is reported, not
//  patched). Uses the same HTTP client and connector as the actors, and
//  the same table of properties they check before they start consuming
//  (zhub_hubspot_properties in actors/connectors/hubspot_properties.c).
#include "cli.h"
#include "hubspot.h"
#include "zhub_http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_help (FILE *out)
{
    fputs ("usage: zhub hubspot setup [--json] [--dry-run]\n"
           "\n"
           "Creates the custom contact and deal properties zhub's sync writes\n"
           "(bird_contact_id and zhub_deal_key as unique-value properties), using\n"
           "ZHUB_HUBSPOT_BASE_URL and ZHUB_HUBSPOT_TOKEN. Safe to run again: what\n"
           "exists is reported and left alone.\n"
           "\n"
           "  --json     one JSON object {\"properties\": [{object, name, status}]}\n"
           "             status: exists | created | missing (dry run) | mismatch | failed\n"
           "  --dry-run  only look, create nothing\n"
           "\n"
           "Exit codes: 0 every property exists (or was created), 1 a property is\n"
           "missing, mismatched or could not be created, 2 bad arguments,\n"
           "3 HubSpot did not answer.\n",
           out);
}

static const char *
s_group (const char *object)
{
    return !strcmp (object, "deals") ? "dealinformation" : "contactinformation";
}

//  One property: returns its status word; *unreachable when HubSpot gave
//  no answer at all.
static const char *
s_setup_one (zhub_hubspot_t *hubspot, const zhub_hubspot_property_t *p, bool dry_run, char *detail,
             size_t detail_size, bool *unreachable)
{
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    const char *status = "failed";
    *detail = 0;
    if (zhub_hubspot_property_get (hubspot, p->object, p->name, NULL, &resp)) {
        snprintf (detail, detail_size, "%s", resp.error);
        *unreachable = true;
        goto done;
    }
    if (resp.status == 200) {
        status = zhub_hubspot_property_compare (p, resp.json, detail, detail_size)
                         == ZHUB_HUBSPOT_PROPERTY_OK
                     ? "exists"
                     : "mismatch";
        goto done;
    }
    if (resp.status != 404) {
        snprintf (detail, detail_size, "GET answered HTTP %ld", resp.status);
        goto done;
    }
    if (dry_run) {
        status = "missing";
        goto done;
    }
    json_t *body =
        json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "name", p->name, "label", p->label,
                   "type", p->type, "fieldType", p->field, "groupName", s_group (p->object),
                   "description", p->description, "hasUniqueValue", p->unique);
    int rc = zhub_hubspot_property_create (hubspot, p->object, body, NULL, &resp);
    json_decref (body);
    if (rc) {
        snprintf (detail, detail_size, "%s", resp.error);
        *unreachable = true;
    } else if (resp.status == 200 || resp.status == 201)
        status = "created";
    else if (resp.status == 409)
        status = "exists"; //  created by a concurrent run
    else {
        const char *message = json_string_value (json_object_get (resp.json, "message"));
        snprintf (detail, detail_size, "POST answered HTTP %ld: %.150s", resp.status,
                  message ? message : "");
    }
done:
    zhub_http_response_reset (&resp);
    return status;
}

static int
s_setup (bool json, bool dry_run)
{
    const char *base = getenv ("ZHUB_HUBSPOT_BASE_URL");
    const char *token = getenv ("ZHUB_HUBSPOT_TOKEN");
    if (!token || !*token) {
        fprintf (stderr, "zhub hubspot setup: ZHUB_HUBSPOT_TOKEN is not set\n");
        return ZHUB_EXIT_USAGE;
    }
    zhub_http_config_t http_config = {.total_timeout_ms = 15000};
    zhub_http_t *http = zhub_http_new (&http_config);
    zhub_hubspot_config_t config = {.base_url = base && *base ? base : NULL, .token = token};
    zhub_hubspot_t *hubspot = http ? zhub_hubspot_new (&config, http) : NULL;
    if (!hubspot) {
        fprintf (stderr, "zhub hubspot setup: cannot start the HTTP client\n");
        zhub_http_destroy (&http);
        return ZHUB_EXIT_FAILURE;
    }
    int rc = ZHUB_EXIT_OK;
    json_t *report = json_array ();
    size_t count;
    const zhub_hubspot_property_t *properties = zhub_hubspot_properties (&count);
    for (size_t i = 0; i < count; i++) {
        const zhub_hubspot_property_t *p = &properties[i];
        char detail[256];
        bool unreachable = false;
        const char *status = s_setup_one (hubspot, p, dry_run, detail, sizeof detail, &unreachable);
        if (strcmp (status, "exists") && strcmp (status, "created"))
            rc = unreachable ? ZHUB_EXIT_UNAVAILABLE : ZHUB_EXIT_FAILURE;
        if (json) {
            json_t *row = json_pack ("{s:s, s:s, s:s, s:b}", "object", p->object, "name", p->name,
                                     "status", status, "unique", p->unique);
            if (*detail)
                json_object_set_new (row, "detail", json_string (detail));
            json_array_append_new (report, row);
        } else
            printf ("%-9s %-28s %-8s%s%s\n", p->object, p->name, status, *detail ? " " : "",
                    detail);
        if (unreachable)
            break;
    }
    if (json) {
        json_t *root = json_pack ("{s:o}", "properties", report);
        char *text = json_dumps (root, JSON_COMPACT);
        puts (text);
        free (text);
        json_decref (root);
    } else
        json_decref (report);
    zhub_hubspot_destroy (&hubspot);
    zhub_http_destroy (&http);
    return rc;
}

int
zhub_cmd_hubspot (int argc, char **argv)
{
    bool json = false, dry_run = false;
    const char *action = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            s_help (stdout);
            return ZHUB_EXIT_OK;
        } else if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--dry-run"))
            dry_run = true;
        else if (argv[i][0] != '-' && !action)
            action = argv[i];
        else {
            fprintf (stderr, "zhub hubspot: unexpected argument %s\n", argv[i]);
            s_help (stderr);
            return ZHUB_EXIT_USAGE;
        }
    }
    if (!action || strcmp (action, "setup")) {
        s_help (stderr);
        return ZHUB_EXIT_USAGE;
    }
    return s_setup (json, dry_run);
}
