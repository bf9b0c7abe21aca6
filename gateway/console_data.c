//  Gathering the console's snapshot (console_data.h). Every source is
//  asked on each request, with short timeouts, and a source that does not
//  answer is shown as such rather than failing the snapshot: the console
//  is most useful exactly when something is down.
#include "console_data.h"
#include "console_letters.h"
#include "zhub_http.h"
#include "zhub_store.h"
#include "zhub_sync_results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct zhub_console_t {
    const zhub_console_config_t *config;
    zhub_client_t *client;
    zhub_http_t *http;
};

zhub_console_t *
zhub_console_new (const zhub_console_config_t *config)
{
    zhub_console_t *self = zhub_calloc (1, sizeof *self);
    self->config = config;
    zhub_http_config_t http = {.connect_timeout_ms = ZHUB_CONSOLE_PROBE_TIMEOUT_MS,
                               .total_timeout_ms = ZHUB_CONSOLE_PROBE_TIMEOUT_MS,
                               .user_agent = "zhub-console"};
    self->http = zhub_http_new (&http);
    return self;
}

void
zhub_console_destroy (zhub_console_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_console_t *self = *self_p;
    zhub_client_destroy (&self->client);
    zhub_http_destroy (&self->http);
    free (self);
    *self_p = NULL;
}

zhub_client_t *
zhub_console_client (zhub_console_t *self)
{
    if (!self->client)
        self->client =
            zhub_client_new (self->config->broker, "zhub-gateway-console", self->config->bus);
    return self->client;
}

//  GET http://<address><path>: the status (0: no answer) and, for want_body,
//  the body (fresh) in *body.
static long
s_get (zhub_console_t *self, const zhub_listen_t *address, const char *path, char **body, char *err,
       size_t err_size)
{
    bool v6 = strchr (address->host, ':') != NULL;
    char *url = zhub_sprintf ("http://%s%s%s:%d%s", v6 ? "[" : "", address->host, v6 ? "]" : "",
                              address->port, path);
    zhub_http_call_t call = {.method = "GET", .url = url};
    zhub_http_response_t resp;
    zhub_http_response_init (&resp);
    long status = 0;
    if (self->http && zhub_http_request (self->http, &call, &resp) == 0 && resp.status > 0)
        status = resp.status;
    else
        snprintf (err, err_size, "%s", resp.timed_out ? "no answer in time" : "no answer");
    if (body) {
        *body = status == 200 && resp.body ? resp.body : NULL;
        if (*body)
            resp.body = NULL;
    }
    zhub_http_response_reset (&resp);
    free (url);
    return status;
}

static json_t *
s_probe (zhub_console_t *self, const zhub_console_target_t *target)
{
    json_t *row = json_pack ("{s:s,s:s}", "name", target->name, "address", target->address.text);
    char err[128] = "";
    long health = s_get (self, &target->address, "/healthz", NULL, err, sizeof err);
    json_object_set_new (row, "healthy", json_boolean (health == 200));
    if (!health) {
        json_object_set_new (row, "ready", json_false ());
        json_object_set_new (row, "error", json_string (err));
        return row;
    }
    long ready = s_get (self, &target->address, "/readyz", NULL, err, sizeof err);
    json_object_set_new (row, "ready", json_boolean (ready == 200));
    if (health != 200)
        json_object_set_new (row, "error", json_sprintf ("/healthz answered %ld", health));
    char *text = NULL;
    if (s_get (self, &target->address, "/metrics", &text, err, sizeof err) == 200 && text)
        json_object_set_new (row, "metrics", zhub_console_metrics_summary (text));
    free (text);
    return row;
}

json_t *
zhub_console_snapshot (zhub_console_t *self, const char *gateway_metrics, bool broker_up)
{
    json_t *gateway =
        json_pack ("{s:s,s:b,s:b,s:o}", "name", "gateway", "healthy", true, "ready", broker_up,
                   "metrics", zhub_console_metrics_summary (gateway_metrics));
    json_t *stats = NULL;
    zhub_client_t *client = zhub_console_client (self);
    if (client && zhub_client_stats (client, self->config->stats_timeout_ms, &stats) != ZHUB_OK) {
        json_decref (stats);
        stats = NULL;
    }
    json_t *processes = json_array ();
    for (size_t i = 0; self->config->targets && i < self->config->targets->count; i++)
        json_array_append_new (processes, s_probe (self, &self->config->targets->items[i]));
    return json_pack ("{s:I,s:o,s:{s:b,s:o},s:o,s:o}", "time_ms", (json_int_t)zhub_now_ms (),
                      "gateway", gateway, "broker", "reachable", stats != NULL, "stats",
                      stats ? stats : json_null (), "processes", processes, "letters",
                      zhub_console_letters (self->config->data_dir));
}

//  ---------------------------------------------------------------------
//  Recent decisions: contact-sync's audit table ("<bird id>|<16 hex
//  ms>|<event id>|<n>" -> JSON entry, contact_sync_io.h), scanned once in a
//  read snapshot, keeping the newest entries by the time in their key.

typedef struct {
    zhub_table_t table;
    struct {
        uint64_t ms;
        json_t *entry;
    } kept[ZHUB_CONSOLE_DECISIONS_MAX];
    size_t count;
} s_recent_t;

//  The ms of a key "<bird id>|<16 hex>|...", or false (tombstones under
//  "erased:" keep no values worth showing here).
static bool
s_key_ms (const char *key, size_t size, uint64_t *ms)
{
    if (size > 7 && !memcmp (key, "erased:", 7))
        return false;
    const char *bar = memchr (key, '|', size);
    if (!bar || (size_t)(key + size - bar) < 18 || bar[17] != '|')
        return false;
    uint64_t value = 0;
    for (int i = 1; i <= 16; i++) {
        char c = bar[i];
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0)
            return false;
        value = value << 4 | (uint64_t)digit;
    }
    *ms = value;
    return true;
}

static zhub_rc_t
s_scan_recent (zhub_txn_t *txn, void *arg)
{
    s_recent_t *recent = arg;
    zhub_cursor_t *cursor = zhub_cursor_open (txn, recent->table);
    if (!cursor)
        return ZHUB_ERROR;
    const void *key, *value;
    size_t key_size, value_size;
    zhub_rc_t rc = zhub_cursor_seek (cursor, NULL, 0, &key, &key_size, &value, &value_size);
    while (rc == ZHUB_OK) {
        uint64_t ms;
        size_t n = recent->count;
        if (s_key_ms (key, key_size, &ms)
            && (n < ZHUB_CONSOLE_DECISIONS_MAX || ms > recent->kept[n - 1].ms)) {
            json_t *entry = json_loadb (value, value_size, 0, NULL);
            if (json_is_object (entry)) {
                if (n == ZHUB_CONSOLE_DECISIONS_MAX)
                    json_decref (recent->kept[--n].entry); //  the oldest kept goes
                size_t at = n;
                while (at > 0 && recent->kept[at - 1].ms < ms) { //  newest first
                    recent->kept[at] = recent->kept[at - 1];
                    at--;
                }
                recent->kept[at].ms = ms;
                recent->kept[at].entry = entry;
                recent->count = n + 1;
            } else
                json_decref (entry);
        }
        rc = zhub_cursor_next (cursor, &key, &key_size, &value, &value_size);
    }
    zhub_cursor_destroy (&cursor);
    return rc == ZHUB_ERROR ? ZHUB_ERROR : ZHUB_OK;
}

json_t *
zhub_console_decisions (zhub_console_t *self)
{
    const char *actor = "contact-sync";
    char path[4096];
    snprintf (path, sizeof path, "%s/%s/data.mdb", self->config->data_dir, actor);
    struct stat info;
    if (stat (path, &info))
        return json_pack ("{s:b,s:s,s:[]}", "available", false, "reason",
                          "no contact-sync store under ZHUB_DATA_DIR", "decisions");
    char err[256];
    zhub_store_t *store = zhub_store_open_readonly (self->config->data_dir, actor, err, sizeof err);
    if (!store)
        return json_pack ("{s:b,s:s,s:[]}", "available", false, "reason", err, "decisions");
    s_recent_t recent = {0};
    json_t *decisions = json_array ();
    //  A contact-sync that never decided anything has no audit table yet.
    bool ok = zhub_store_table (store, "audit", &recent.table) != 0
              || zhub_store_read (store, s_scan_recent, &recent) == ZHUB_OK;
    for (size_t i = 0; i < recent.count; i++)
        json_array_append_new (decisions, recent.kept[i].entry);
    zhub_store_destroy (&store);
    if (!ok) {
        json_decref (decisions);
        return json_pack ("{s:b,s:s,s:[]}", "available", false, "reason",
                          "contact-sync's audit table could not be read", "decisions");
    }
    return json_pack ("{s:b,s:o}", "available", true, "decisions", decisions);
}

//  -------------------------------------------------------------------
//  Sync results: read through the runtime's read side (it alone knows the
//  table), as `zhub sync results` reads them.

static int
s_newest_first (const void *a, const void *b)
{
    json_int_t ta = json_integer_value (json_object_get (*(json_t *const *)a, "started_ms"));
    json_int_t tb = json_integer_value (json_object_get (*(json_t *const *)b, "started_ms"));
    return ta < tb ? 1 : ta > tb ? -1 : 0;
}

json_t *
zhub_console_sync_results (zhub_console_t *self)
{
    json_t *runs = json_array ();
    bool found = false;
    char reason[300] = "no actor keeps sync results under ZHUB_DATA_DIR yet";
    for (size_t i = 0; i < zhub_sync_results_actor_count; i++) {
        const char *actor = zhub_sync_results_actors[i];
        zhub_store_t *store;
        zhub_table_t table;
        char err[256];
        zhub_rc_t rc = zhub_sync_results_open_readonly (self->config->data_dir, actor, &store,
                                                        &table, err, sizeof err);
        if (rc == ZHUB_NOTFOUND)
            continue;
        if (rc != ZHUB_OK) {
            snprintf (reason, sizeof reason, "%s: %s", actor, err);
            continue;
        }
        //  each actor's newest are enough: the merge keeps the newest of all
        if (zhub_sync_results_list (store, table, ZHUB_CONSOLE_RESULTS_MAX, runs) == ZHUB_OK)
            found = true;
        else
            snprintf (reason, sizeof reason, "%s: its sync results could not be read", actor);
        zhub_store_destroy (&store);
    }
    if (!found) {
        json_decref (runs);
        return json_pack ("{s:b,s:s,s:[]}", "available", false, "reason", reason, "results");
    }
    size_t count = json_array_size (runs);
    json_t **items = zhub_calloc (count ? count : 1, sizeof *items);
    for (size_t i = 0; i < count; i++)
        items[i] = json_incref (json_array_get (runs, i));
    qsort (items, count, sizeof *items, s_newest_first);
    json_t *newest = json_array ();
    for (size_t i = 0; i < count; i++) {
        if (i < ZHUB_CONSOLE_RESULTS_MAX)
            json_array_append (newest, items[i]);
        json_decref (items[i]);
    }
    free (items);
    json_decref (runs);
    return json_pack ("{s:b,s:o}", "available", true, "results", newest);
}
