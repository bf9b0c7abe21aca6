//  The one way a zhub process learns it should stop: SIGTERM and SIGINT
//  set a flag that the main loop polls. Installed without SA_RESTART, so a
//  blocking call (zmq_poll, a sleep) returns EINTR and the loop notices at
//  once.
#ifndef ZHUB_SIGNAL_H
#define ZHUB_SIGNAL_H

#include <stdbool.h>

//  Installs the handlers for SIGTERM and SIGINT and ignores SIGPIPE.
void zhub_signal_install (void);

//  True once SIGTERM or SIGINT arrived.
bool zhub_signal_stop_requested (void);

#endif
