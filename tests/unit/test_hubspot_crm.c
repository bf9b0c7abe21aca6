//  The HubSpot CRM calls of deal-sync, activity-log and the CLI, as data:
//  each typed function in, the request line that reached the host out
//  (method, path, query), against HubSpot's objects, pipelines,
//  associations v4 and properties APIs and the private apps' token
//  information (https://developers.hubspot.com/docs/api/crm/understanding-the-crm,
//  github.com/HubSpot/HubSpot-public-api-spec-collection); and the
//  engagement addresses activity-log records, read back. The host is a
//  recorder on 127.0.0.1 in a thread of this test, stopped by it.
#include "hubspot.h"
#include "zhub_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_CALLS 24

//  Answers every request 200 {} and keeps its request line.
typedef struct {
    int fd;
    int port;
    size_t expect;
    char lines[S_CALLS][512];
    size_t count;
} s_recorder_t;

static void *
s_serve (void *arg)
{
    s_recorder_t *rec = arg;
    while (rec->count < rec->expect) {
        int fd = accept (rec->fd, NULL, NULL);
        if (fd < 0)
            break;
        char buf[8192];
        size_t size = 0;
        ssize_t n;
        char *head_end = NULL;
        while (!head_end && size < sizeof buf - 1
               && (n = read (fd, buf + size, sizeof buf - 1 - size)) > 0) {
            size += (size_t)n;
            buf[size] = 0;
            head_end = strstr (buf, "\r\n\r\n");
        }
        //  the body, as long as Content-Length says
        const char *length = strcasestr (buf, "content-length:");
        size_t want = head_end ? (size_t)(head_end + 4 - buf) : size;
        if (length)
            want += (size_t)strtoul (length + 15, NULL, 10);
        while (size < want && size < sizeof buf - 1
               && (n = read (fd, buf + size, sizeof buf - 1 - size)) > 0)
            size += (size_t)n;
        char *eol = strstr (buf, " HTTP/1.1\r\n");
        if (eol)
            *eol = 0;
        snprintf (rec->lines[rec->count++], sizeof rec->lines[0], "%.500s", buf);
        const char *answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
        if (write (fd, answer, strlen (answer)) < 0)
            perror ("write");
        close (fd);
    }
    return NULL;
}

static int
s_listen (s_recorder_t *rec)
{
    rec->fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (rec->fd < 0 || bind (rec->fd, (struct sockaddr *)&addr, sizeof addr) || listen (rec->fd, 8)
        || getsockname (rec->fd, (struct sockaddr *)&addr, &len))
        return -1;
    rec->port = ntohs (addr.sin_port);
    return 0;
}

static void
test_each_call_reaches_its_endpoint (void)
{
    static const char *expected[] = {
        "GET /crm/v3/objects/contacts/b%201?idProperty=bird_contact_id&properties=bird_contact_id",
        "GET /crm/v3/objects/contacts/b-2?idProperty=bird_contact_id",
        "GET /crm/v3/pipelines/deals",
        "GET /crm/v3/objects/deals/901?properties=zhub_deal_key",
        "PATCH /crm/v3/objects/deals/901",
        "POST /crm/v3/objects/deals/batch/read",
        "POST /crm/v3/objects/deals/batch/upsert",
        "PUT /crm/v4/objects/deals/901/associations/default/contacts/501",
        "GET /crm/v4/objects/deals/901/associations/contacts",
        "POST /crm/v3/objects/notes",
        "POST /crm/v3/objects/tasks",
        "PATCH /crm/v3/objects/meetings/77",
        "DELETE /crm/v3/objects/notes/a%2Fb",
        "GET /crm/v3/properties/contacts",
        "GET /crm/v3/properties/deals/zhub_deal_key",
        "GET /crm/v3/properties/contacts/my%20field%2Fx",
        "POST /crm/v3/properties/deals",
        "POST /oauth/v2/private-apps/get/access-token-info",
    };
    size_t count = sizeof expected / sizeof expected[0];
    s_recorder_t rec = {.expect = count};
    CHECK (s_listen (&rec) == 0);
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, s_serve, &rec) == 0);
    char base[64];
    snprintf (base, sizeof base, "http://127.0.0.1:%d", rec.port);
    zhub_http_t *http = zhub_http_new (NULL);
    zhub_hubspot_config_t config = {.base_url = base, .token = "t"};
    zhub_hubspot_t *hs = zhub_hubspot_new (&config, http);
    json_t *body = json_object ();
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    zhub_hubspot_contact_get_by (hs, "bird_contact_id", "b 1", "bird_contact_id", NULL, &resp);
    zhub_hubspot_contact_get_by (hs, "bird_contact_id", "b-2", NULL, NULL, &resp);
    zhub_hubspot_deal_pipelines (hs, NULL, &resp);
    zhub_hubspot_deal_get (hs, "901", "zhub_deal_key", NULL, &resp);
    zhub_hubspot_deal_update (hs, "901", body, NULL, &resp);
    zhub_hubspot_deals_read (hs, body, NULL, &resp);
    zhub_hubspot_deals_upsert (hs, body, NULL, &resp);
    zhub_hubspot_deal_associate_contact (hs, "901", "501", NULL, &resp);
    zhub_hubspot_deal_contacts (hs, "901", NULL, &resp);
    zhub_hubspot_engagement_create (hs, ZHUB_HUBSPOT_NOTE, body, NULL, &resp);
    zhub_hubspot_engagement_create (hs, ZHUB_HUBSPOT_TASK, body, NULL, &resp);
    zhub_hubspot_engagement_update (hs, ZHUB_HUBSPOT_MEETING, "77", body, NULL, &resp);
    zhub_hubspot_engagement_delete (hs, ZHUB_HUBSPOT_NOTE, "a/b", NULL, &resp);
    //  the Properties API (`zhub hubspot setup`, `zhub doctor`, the actors'
    //  readiness) and the token's information (`zhub doctor`)
    zhub_hubspot_properties_get (hs, "contacts", NULL, &resp);
    zhub_hubspot_property_get (hs, "deals", "zhub_deal_key", NULL, &resp);
    zhub_hubspot_property_get (hs, "contacts", "my field/x", NULL, &resp);
    zhub_hubspot_property_create (hs, "deals", body, NULL, &resp);
    zhub_hubspot_token_info (hs, "pat-na1-x", &resp);
    CHECK (resp.status == 200);
    pthread_join (thread, NULL);
    close (rec.fd);
    CHECK (rec.count == count);
    for (size_t i = 0; i < count && i < rec.count; i++)
        CHECK_STR (rec.lines[i], expected[i]);
    zhub_http_response_reset (&resp);
    json_decref (body);
    zhub_hubspot_destroy (&hs);
    zhub_http_destroy (&http);
}

//  What activity-log keeps of every engagement it made (its `made` table)
//  is the engagement's address; it reads it back to delete it.
static void
test_engagement_addresses_read_back (void)
{
    const zhub_hubspot_engagement_t kinds[] = {ZHUB_HUBSPOT_NOTE, ZHUB_HUBSPOT_TASK,
                                               ZHUB_HUBSPOT_MEETING};
    const char *paths[] = {"/crm/v3/objects/notes/4001", "/crm/v3/objects/tasks/4002",
                           "/crm/v3/objects/meetings/4003"};
    for (size_t i = 0; i < 3; i++) {
        char id[16];
        snprintf (id, sizeof id, "%zu", 4001 + i);
        char *path = zhub_hubspot_engagement_path (kinds[i], id);
        CHECK_STR (path, paths[i]);
        zhub_hubspot_engagement_t kind;
        char *back = NULL;
        CHECK (zhub_hubspot_engagement_path_parse (path, &kind, &back) == 0);
        CHECK (kind == kinds[i]);
        CHECK_STR (back, id);
        free (back);
        free (path);
    }
    const char *foreign[] = {"/crm/v3/objects/deals/1",
                             "/crm/v3/objects/notes/",
                             "/crm/v3/objects/notes",
                             "/crm/v3/objects/notesx/1",
                             "/crm/v3/objects/notes/1/associations",
                             "/crm/v4/objects/notes/1",
                             "/crm/v3/objects/notes/1?archived=true",
                             ""};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        zhub_hubspot_engagement_t kind;
        char *back = (char *)"x";
        CHECK (zhub_hubspot_engagement_path_parse (foreign[i], &kind, &back) == -1);
        CHECK (back == NULL);
    }
}

int
main (void)
{
    RUN (test_each_call_reaches_its_endpoint);
    RUN (test_engagement_addresses_read_back);
    TEST_EXIT ();
}
