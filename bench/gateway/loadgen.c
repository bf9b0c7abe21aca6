//  A small HTTP/1.1 load generator for bench/gateway/run. Unlike wrk it
//  signs every request on its own (HubSpot v3: HMAC-SHA256 over method,
//  URL, body and timestamp) and gives every request a distinct eventId, so
//  the gateway's write path is measured, never the broker's dedup.
//
//  One thread per keep-alive connection, blocking sockets: simple, and the
//  same generator drives every target (gateway, nginx, bare MHD), so the
//  comparison is fair. Reports requests/s, p50/p99 latency and non-2xx.
//
//  With a tenth argument, BODIES (a file of one JSON body per line), it
//  posts each line once instead, signed as Bird signs its webhooks
//  (bench/sync's ingest), and stops when every line is sent.
//
//  usage: loadgen HOST PORT PATH PUBLIC_URL SECRET CONNECTIONS SECONDS BODY_BYTES ID_BASE [BODIES]
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *host;
    int port;
    const char *path;
    const char *public_url;
    const char *secret;
    double seconds;
    size_t body_bytes;
    uint64_t id_base;
    char **bodies; //  Bird mode: the lines of BODIES
    size_t body_count;
} s_config_t;

typedef struct {
    const s_config_t *config;
    int index;
    uint32_t *latencies_us; //  one per completed request
    size_t count, capacity;
    uint64_t errors;   //  non-2xx answers
    uint64_t failures; //  connection errors
} s_worker_t;

static atomic_uint_fast64_t s_next_id;
static atomic_size_t s_next_body;

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
s_connect (const s_config_t *config)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)config->port)};
    inet_pton (AF_INET, config->host, &addr.sin_addr);
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval timeout = {.tv_sec = 10}; //  a stuck target cannot hang the run
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect (fd, (struct sockaddr *)&addr, sizeof addr)) {
        close (fd);
        return -1;
    }
    return fd;
}

typedef struct {
    const void *bytes;
    size_t size;
} s_part_t;

//  base64 (HMAC-SHA256 (secret, the parts in order)) into signature[64];
//  parts end with {NULL, 0}.
static void
s_sign (const char *secret, char *signature, const s_part_t *parts)
{
    crypto_auth_hmacsha256_state state;
    unsigned char mac[32];
    crypto_auth_hmacsha256_init (&state, (const unsigned char *)secret, strlen (secret));
    for (; parts->bytes; parts++)
        crypto_auth_hmacsha256_update (&state, parts->bytes, parts->size);
    crypto_auth_hmacsha256_final (&state, mac);
    sodium_bin2base64 (signature, 64, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
}

//  Bird mode: the next line of BODIES as a signed Bird webhook
//  (messagebird-signature: HMAC-SHA256 over "timestamp\nurl\n" and the
//  body's SHA-256); 0 when every line is sent.
static size_t
s_bird_request (const s_config_t *config, char *out, size_t cap)
{
    size_t index = atomic_fetch_add (&s_next_body, 1);
    if (index >= config->body_count)
        return 0;
    const char *body = config->bodies[index];
    size_t size = strlen (body);
    char stamp[32], url[512];
    snprintf (stamp, sizeof stamp, "%lld", (long long)time (NULL));
    snprintf (url, sizeof url, "%s%s", config->public_url, config->path);
    unsigned char digest[32];
    crypto_hash_sha256 (digest, (const unsigned char *)body, size);
    char signature[64];
    s_sign (config->secret, signature,
            (s_part_t[]){{stamp, strlen (stamp)},
                         {"\n", 1},
                         {url, strlen (url)},
                         {"\n", 1},
                         {digest, sizeof digest},
                         {NULL, 0}});
    int n = snprintf (out, cap,
                      "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nmessagebird-signature: %s\r\n"
                      "messagebird-request-timestamp: %s\r\n"
                      "messagebird-request-id: loadgen-%zu\r\n\r\n",
                      config->path, config->host, config->port, size, signature, stamp, index);
    if ((size_t)n + size > cap)
        return 0;
    memcpy (out + n, body, size);
    return (size_t)n + size;
}

//  Builds one signed request into out; returns its size.
static size_t
s_request (const s_config_t *config, char *out, size_t cap, char *body, size_t body_cap)
{
    if (config->bodies)
        return s_bird_request (config, out, cap);
    uint64_t id = config->id_base + atomic_fetch_add (&s_next_id, 1);
    struct timespec wall;
    clock_gettime (CLOCK_REALTIME, &wall);
    long long now_ms = (long long)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
    //  ~1 KiB: one contact.propertyChange event with a padded value
    int head = snprintf (body, body_cap,
                         "[{\"eventId\":%llu,\"subscriptionId\":42,\"portalId\":62515,"
                         "\"appId\":54321,\"occurredAt\":%lld,\"subscriptionType\":"
                         "\"contact.propertyChange\",\"attemptNumber\":0,\"objectId\":%llu,"
                         "\"changeSource\":\"CRM\",\"propertyName\":\"notes\",\"propertyValue\":\"",
                         (unsigned long long)id, now_ms, (unsigned long long)(id % 100000));
    size_t size = (size_t)head;
    while (size + 4 < config->body_bytes && size + 4 < body_cap)
        body[size++] = 'x';
    memcpy (body + size, "\"}]", 3);
    size += 3;
    char stamp[32], url[512];
    snprintf (stamp, sizeof stamp, "%lld", now_ms);
    snprintf (url, sizeof url, "%s%s", config->public_url, config->path);
    char signature[64];
    s_sign (config->secret, signature,
            (s_part_t[]){{"POST", 4}, {url, strlen (url)}, {body, size}, {stamp, strlen (stamp)},
                         {NULL, 0}});
    int n = snprintf (out, cap,
                      "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nX-HubSpot-Signature-v3: %s\r\n"
                      "X-HubSpot-Request-Timestamp: %s\r\n\r\n",
                      config->path, config->host, config->port, size, signature, stamp);
    memcpy (out + n, body, size);
    return (size_t)n + size;
}

//  Reads one response; returns its status, or -1 when the connection failed.
static int
s_response (int fd, char *buf, size_t cap)
{
    size_t used = 0;
    char *end = NULL;
    while (!end) {
        ssize_t n = recv (fd, buf + used, cap - used - 1, 0);
        if (n <= 0)
            return -1;
        used += (size_t)n;
        buf[used] = 0;
        end = strstr (buf, "\r\n\r\n");
        if (!end && used + 1 >= cap)
            return -1;
    }
    int status = atoi (buf + 9);
    size_t length = 0;
    for (char *p = buf; p < end; p++)
        if ((*p == '\n') && !strncasecmp (p + 1, "content-length:", 15)) {
            length = (size_t)strtoul (p + 16, NULL, 10);
            break;
        }
    size_t have = used - (size_t)(end + 4 - buf);
    while (have < length) {
        ssize_t n = recv (fd, buf, cap, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    return status;
}

static void *
s_work (void *arg)
{
    s_worker_t *w = arg;
    const s_config_t *config = w->config;
    size_t cap = config->body_bytes + 4096;
    char *request = malloc (cap), *body = malloc (config->body_bytes + 1024),
         *reply = malloc (65536);
    int fd = s_connect (config);
    int64_t until = s_now_us () + (int64_t)(config->seconds * 1e6);
    while (s_now_us () < until) {
        if (fd < 0) {
            w->failures++;
            usleep (1000);
            fd = s_connect (config);
            continue;
        }
        size_t size = s_request (config, request, cap, body, config->body_bytes + 1024);
        if (!size)
            break; //  Bird mode: every line sent
        int64_t started = s_now_us ();
        size_t sent = 0;
        while (sent < size) {
            ssize_t n = send (fd, request + sent, size - sent, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += (size_t)n;
        }
        int status = sent == size ? s_response (fd, reply, 65536) : -1;
        if (status < 0) {
            w->failures++;
            close (fd);
            fd = s_connect (config);
            continue;
        }
        if (status < 200 || status > 299)
            w->errors++;
        if (w->count == w->capacity) {
            w->capacity = w->capacity ? w->capacity * 2 : 4096;
            w->latencies_us = realloc (w->latencies_us, w->capacity * sizeof *w->latencies_us);
        }
        w->latencies_us[w->count++] = (uint32_t)(s_now_us () - started);
    }
    if (fd >= 0)
        close (fd);
    free (request);
    free (body);
    free (reply);
    return NULL;
}

static int
s_cmp (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

//  Reads BODIES, one request body per non-empty line; 0 on success.
static int
s_read_lines (const char *path, s_config_t *config)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char *line = NULL;
    size_t line_cap = 0, cap = 0;
    ssize_t n;
    while ((n = getline (&line, &line_cap, file)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (!n)
            continue;
        if (config->body_count == cap) {
            cap = cap ? cap * 2 : 1024;
            config->bodies = realloc (config->bodies, cap * sizeof *config->bodies);
        }
        config->bodies[config->body_count++] = strdup (line);
    }
    free (line);
    fclose (file);
    return config->body_count ? 0 : -1;
}

int
main (int argc, char **argv)
{
    if ((argc != 10 && argc != 11) || sodium_init () < 0) {
        fprintf (stderr, "usage: loadgen HOST PORT PATH PUBLIC_URL SECRET CONNECTIONS SECONDS "
                         "BODY_BYTES ID_BASE [BODIES]\n");
        return 2;
    }
    s_config_t config = {.host = argv[1],
                         .port = atoi (argv[2]),
                         .path = argv[3],
                         .public_url = argv[4],
                         .secret = argv[5],
                         .seconds = atof (argv[7]),
                         .body_bytes = (size_t)atol (argv[8]),
                         .id_base = strtoull (argv[9], NULL, 10)};
    if (argc == 11 && s_read_lines (argv[10], &config)) {
        fprintf (stderr, "loadgen: cannot read %s\n", argv[10]);
        return 2;
    }
    int connections = atoi (argv[6]);
    s_worker_t *workers = calloc ((size_t)connections, sizeof *workers);
    pthread_t *threads = calloc ((size_t)connections, sizeof *threads);
    int64_t started = s_now_us ();
    for (int i = 0; i < connections; i++) {
        workers[i] = (s_worker_t){.config = &config, .index = i};
        pthread_create (&threads[i], NULL, s_work, &workers[i]);
    }
    size_t total = 0;
    uint64_t errors = 0, failures = 0;
    for (int i = 0; i < connections; i++) {
        pthread_join (threads[i], NULL);
        total += workers[i].count;
        errors += workers[i].errors;
        failures += workers[i].failures;
    }
    double elapsed = (double)(s_now_us () - started) / 1e6;
    uint32_t *all = malloc ((total ? total : 1) * sizeof *all);
    size_t used = 0;
    for (int i = 0; i < connections; i++) {
        memcpy (all + used, workers[i].latencies_us, workers[i].count * sizeof *all);
        used += workers[i].count;
        free (workers[i].latencies_us);
    }
    qsort (all, total, sizeof *all, s_cmp);
    double p50 = total ? all[total / 2] / 1000.0 : 0,
           p99 = total ? all[total * 99 / 100] / 1000.0 : 0;
    //  one line of key=value for the run script to pick up
    printf ("requests=%zu seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f non2xx=%llu "
            "conn_errors=%llu\n",
            total, elapsed, total / elapsed, p50, p99, (unsigned long long)errors,
            (unsigned long long)failures);
    free (all);
    for (size_t i = 0; i < config.body_count; i++)
        free (config.bodies[i]);
    free (config.bodies);
    free (workers);
    free (threads);
    return 0;
}
