//  The HubSpot CRM calls of deal-sync and activity-log: a contact by a
//  unique property of its own, deals (read and upsert in batches by their
//  unique key, get, update, their pipelines, their association with a
//  contact) and engagements (notes, tasks, meetings). The paths live here
//  and nowhere else, so an actor names the call it makes and never spells
//  an endpoint; ids are escaped here as path segments. Paths and methods
//  are HubSpot's CRM v3 objects, pipelines and v4 associations APIs
//  (https://developers.hubspot.com/docs/api/crm/understanding-the-crm,
//  github.com/HubSpot/HubSpot-public-api-spec-collection: CRM/Objects,
//  CRM/Pipelines, CRM/Associations v4).
#include "hubspot.h"

#include <stdlib.h>
#include <string.h>

#define S_OBJECTS "/crm/v3/objects/"

//  The object types of the engagements, as the objects API names them.
static const char *s_engagements[] = {"notes", "tasks", "meetings"};

//  method on path (a fresh string, freed here).
static int
s_call (zhub_hubspot_t *self, const char *method, char *path, const json_t *body,
        const char *traceparent, zhub_http_response_t *resp)
{
    int rc = zhub_hubspot_request (self, method, path, body, traceparent, resp);
    free (path);
    return rc;
}

//  method on /crm/v3/objects/{type}/{id}?{query}: id escaped as a path
//  segment (NULL: the type's collection), query already escaped (NULL:
//  none).
static int
s_object (zhub_hubspot_t *self, const char *method, const char *type, const char *id,
          const char *query, const json_t *body, const char *traceparent,
          zhub_http_response_t *resp)
{
    char *eid = id ? zhub_http_escape (id) : NULL;
    char *path = zhub_sprintf (S_OBJECTS "%s%s%s%s%s", type, eid ? "/" : "", eid ? eid : "",
                               query ? "?" : "", query ? query : "");
    free (eid);
    return s_call (self, method, path, body, traceparent, resp);
}

//  -------------------------------------------------------------------
//  Contacts

int
zhub_hubspot_contact_get_by (zhub_hubspot_t *self, const char *id_property, const char *value,
                             const char *properties, const char *traceparent,
                             zhub_http_response_t *resp)
{
    char *ep = zhub_http_escape (id_property);
    char *query = properties ? zhub_sprintf ("idProperty=%s&properties=%s", ep, properties)
                             : zhub_sprintf ("idProperty=%s", ep);
    free (ep);
    int rc = s_object (self, "GET", "contacts", value ? value : "", query, NULL, traceparent, resp);
    free (query);
    return rc;
}

//  -------------------------------------------------------------------
//  Deals

int
zhub_hubspot_deal_pipelines (zhub_hubspot_t *self, const char *traceparent,
                             zhub_http_response_t *resp)
{
    return zhub_hubspot_request (self, "GET", "/crm/v3/pipelines/deals", NULL, traceparent, resp);
}

int
zhub_hubspot_deal_get (zhub_hubspot_t *self, const char *id, const char *properties,
                       const char *traceparent, zhub_http_response_t *resp)
{
    char *query = properties ? zhub_sprintf ("properties=%s", properties) : NULL;
    int rc = s_object (self, "GET", "deals", id ? id : "", query, NULL, traceparent, resp);
    free (query);
    return rc;
}

int
zhub_hubspot_deal_update (zhub_hubspot_t *self, const char *id, const json_t *body,
                          const char *traceparent, zhub_http_response_t *resp)
{
    return s_object (self, "PATCH", "deals", id ? id : "", NULL, body, traceparent, resp);
}

int
zhub_hubspot_deals_read (zhub_hubspot_t *self, const json_t *body, const char *traceparent,
                         zhub_http_response_t *resp)
{
    return s_object (self, "POST", "deals/batch/read", NULL, NULL, body, traceparent, resp);
}

int
zhub_hubspot_deals_upsert (zhub_hubspot_t *self, const json_t *body, const char *traceparent,
                           zhub_http_response_t *resp)
{
    return s_object (self, "POST", "deals/batch/upsert", NULL, NULL, body, traceparent, resp);
}

int
zhub_hubspot_deal_associate_contact (zhub_hubspot_t *self, const char *deal_id,
                                     const char *contact_id, const char *traceparent,
                                     zhub_http_response_t *resp)
{
    char *deal = zhub_http_escape (deal_id ? deal_id : "");
    char *contact = zhub_http_escape (contact_id ? contact_id : "");
    char *path =
        zhub_sprintf ("/crm/v4/objects/deals/%s/associations/default/contacts/%s", deal, contact);
    free (deal);
    free (contact);
    return s_call (self, "PUT", path, NULL, traceparent, resp);
}

int
zhub_hubspot_deal_contacts (zhub_hubspot_t *self, const char *deal_id, const char *traceparent,
                            zhub_http_response_t *resp)
{
    char *deal = zhub_http_escape (deal_id ? deal_id : "");
    char *path = zhub_sprintf ("/crm/v4/objects/deals/%s/associations/contacts", deal);
    free (deal);
    return s_call (self, "GET", path, NULL, traceparent, resp);
}

//  -------------------------------------------------------------------
//  Engagements

int
zhub_hubspot_engagement_create (zhub_hubspot_t *self, zhub_hubspot_engagement_t kind,
                                const json_t *body, const char *traceparent,
                                zhub_http_response_t *resp)
{
    return s_object (self, "POST", s_engagements[kind], NULL, NULL, body, traceparent, resp);
}

int
zhub_hubspot_engagement_update (zhub_hubspot_t *self, zhub_hubspot_engagement_t kind,
                                const char *id, const json_t *body, const char *traceparent,
                                zhub_http_response_t *resp)
{
    return s_object (self, "PATCH", s_engagements[kind], id ? id : "", NULL, body, traceparent,
                     resp);
}

int
zhub_hubspot_engagement_delete (zhub_hubspot_t *self, zhub_hubspot_engagement_t kind,
                                const char *id, const char *traceparent, zhub_http_response_t *resp)
{
    return s_object (self, "DELETE", s_engagements[kind], id ? id : "", NULL, NULL, traceparent,
                     resp);
}

char *
zhub_hubspot_engagement_path (zhub_hubspot_engagement_t kind, const char *id)
{
    return zhub_sprintf (S_OBJECTS "%s/%s", s_engagements[kind], id ? id : "");
}

int
zhub_hubspot_engagement_path_parse (const char *path, zhub_hubspot_engagement_t *kind, char **id)
{
    *id = NULL;
    size_t head = strlen (S_OBJECTS);
    if (!path || strncmp (path, S_OBJECTS, head))
        return -1;
    for (int k = ZHUB_HUBSPOT_NOTE; k <= ZHUB_HUBSPOT_MEETING; k++) {
        size_t n = strlen (s_engagements[k]);
        const char *rest = path + head + n;
        if (!strncmp (path + head, s_engagements[k], n) && rest[0] == '/' && rest[1]
            && !strchr (rest + 1, '/') && !strchr (rest + 1, '?')) {
            *kind = (zhub_hubspot_engagement_t)k;
            *id = zhub_strdup (rest + 1);
            return 0;
        }
    }
    return -1;
}
