//  The floor for bench/gateway/run: a libmicrohttpd server in the gateway's
//  threading mode (a thread per connection) that reads the whole body and
//  answers 200 "{}" — what the gateway costs beyond MHD itself is the
//  difference between the two.
//
//  usage: bare_mhd PORT   (stops on SIGTERM/SIGINT)
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    if (!*con_cls) {
        *con_cls = conn;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer (3, (void *)"{}\n", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header (response, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response (conn, 200, response);
    MHD_destroy_response (response);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc != 2)
        return 2;
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGTERM);
    sigaddset (&stop, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop, NULL);
    struct MHD_Daemon *daemon = MHD_start_daemon (
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION, (uint16_t)atoi (argv[1]),
        NULL, NULL, s_handler, NULL, MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
    if (!daemon)
        return 1;
    printf ("READY\n");
    fflush (stdout);
    int signo;
    sigwait (&stop, &signo);
    MHD_stop_daemon (daemon);
    return 0;
}
