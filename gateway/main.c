//  zhub-gateway: reads its configuration once, starts the HTTP edge and
//  waits for SIGTERM/SIGINT. Thin on purpose; the work is in server.c and
//  providers/.
#include "config.h"
#include "server.h"
#include "zhub_log.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  host:port as bound, with brackets around an IPv6 host.
static void
s_address (const char *host, int port, char *buf, size_t size)
{
    snprintf (buf, size, strchr (host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

int
main (void)
{
    zhub_log_init ("gateway");
    if (sodium_init () < 0) {
        zhub_error ("start_failed", "reason=sodium_init");
        return 1;
    }
    zhub_gateway_config_t config;
    if (zhub_gateway_config_load (&config)) {
        zhub_error ("start_failed", "reason=bad_config");
        zhub_gateway_config_free (&config);
        return 2;
    }
    zhub_gateway_config_log (&config);

    //  Block the stop signals before any thread exists (MHD's and ZeroMQ's
    //  threads inherit the mask), then wait for them here with sigwait.
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGTERM);
    sigaddset (&stop, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop, NULL);
    signal (SIGPIPE, SIG_IGN);

    char err[256];
    zhub_gateway_server_t *server = zhub_gateway_server_new (&config, err, sizeof err);
    if (!server) {
        zhub_error ("start_failed", "reason=listen detail=\"%s\"", err);
        zhub_gateway_config_free (&config);
        return 1;
    }
    for (int i = 0; i < ZHUB_SECRET_COUNT; i++)
        if (!config.secrets[i].value && !config.secrets[i].previous)
            zhub_warn ("secret_unset", "source=%s variable=%s effect=every_request_401",
                       config.secrets[i].source, config.secrets[i].variable);
    const zhub_tokens_t *tokens = &config.tokens;
    bool admin_tokens = zhub_tokens_count (tokens, ZHUB_TOKEN_ADMIN, false)
                        + zhub_tokens_count (tokens, ZHUB_TOKEN_ADMIN, true);
    if (!zhub_tokens_count (tokens, ZHUB_TOKEN_EVENTS, false)
        && !zhub_tokens_count (tokens, ZHUB_TOKEN_EVENTS, true))
        zhub_warn ("secret_unset",
                   "source=events variable=" ZHUB_EVENTS_TOKEN_VARIABLE " effect=%s",
                   admin_tokens ? "admin_tokens_only" : "every_request_401");
    if (!admin_tokens)
        zhub_warn ("secret_unset",
                   "source=admin variable=" ZHUB_ADMIN_TOKEN_VARIABLE " effect=admin_status_403");
    char listen[300], admin[300];
    s_address (config.listen.host, zhub_gateway_server_port (server), listen, sizeof listen);
    s_address (config.admin.host, zhub_gateway_server_admin_port (server), admin, sizeof admin);
    zhub_info ("ready", "listen=%s admin=%s public_url=%s broker=%s", listen, admin,
               zhub_gateway_server_public_url (server), config.broker);

    int signo = 0;
    sigwait (&stop, &signo);
    zhub_info ("stopping", "signal=%s", signo == SIGINT ? "SIGINT" : "SIGTERM");
    zhub_gateway_server_destroy (&server);
    zhub_gateway_config_free (&config);
    zhub_info ("stopped", NULL);
    return 0;
}
