//  zhub-broker: the durable bus. main() only reads the configuration,
//  installs the signal handlers and runs the server loop; everything else
//  lives in broker_*.c.
#include "broker_config.h"
#include "broker_server.h"
#include "zhub_log.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int signum)
{
    (void)signum;
    s_stop = 1;
}

int
main (void)
{
    zhub_log_init ("broker");
    broker_config_t config;
    char err[512];
    if (broker_config_load (&config, err, sizeof err)) {
        zhub_error ("config_invalid", "reason=\"%s\"", err);
        return 2;
    }
    broker_config_log (&config);

    //  libzmq starts its I/O threads with the signal mask of the thread that
    //  creates the first socket. Block the stop signals while the server
    //  starts so they are delivered to this thread only, where they
    //  interrupt zmq_poll (EINTR) and the loop sees the flag at once.
    sigset_t stop_signals, previous;
    sigemptyset (&stop_signals);
    sigaddset (&stop_signals, SIGTERM);
    sigaddset (&stop_signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop_signals, &previous);
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    signal (SIGPIPE, SIG_IGN);

    broker_server_t *server = broker_server_new (&config, err, sizeof err);
    pthread_sigmask (SIG_SETMASK, &previous, NULL);
    if (!server) {
        zhub_error ("start_failed", "reason=\"%s\"", err);
        return 1;
    }
    zhub_info ("ready", "endpoint=%s tap=%s data_dir=%s", broker_server_endpoint (server),
               broker_server_tap_endpoint (server), config.data_dir);
    int rc = broker_server_run (server, &s_stop);
    zhub_info ("stopping", "reason=%s", rc ? "fault" : "signal");
    broker_server_destroy (&server);
    zhub_info ("stopped", NULL);
    return rc ? 1 : 0;
}
