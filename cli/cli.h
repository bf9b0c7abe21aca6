//  The zhub command's shared pieces: exit codes that scripts can rely on,
//  and how a subcommand finds the other zhub programs.
#ifndef ZHUB_CLI_H
#define ZHUB_CLI_H

#include "zhub_msg.h"

#include <stddef.h>

//  Exit codes (documented in `zhub --help`).
#define ZHUB_EXIT_OK 0
#define ZHUB_EXIT_FAILURE 1      //  the operation failed
#define ZHUB_EXIT_USAGE 2        //  bad arguments
#define ZHUB_EXIT_UNAVAILABLE 3  //  the broker did not answer
#define ZHUB_EXIT_NOTFOUND 4     //  the thing named does not exist (zhub dlq show 42)

//  Finds a sibling program: next to this executable, then in the build
//  tree layout (../broker/zhub-broker, ../actors/<name>/...), then $PATH.
//  Returns 0 with the path in out, -1 when not found.
int zhub_cli_find_program (const char *name, char *out, size_t size);

//  The broker's tap: its endpoint ($ZHUB_BROKER_TAP, else $ZHUB_BROKER's
//  port + 1; 0 or -1), and the message in one tapped frame (NULL when
//  unreadable).
int zhub_cli_tap_endpoint (char *out, size_t size);
zhub_msg_t *zhub_cli_tap_message (const uint8_t *body, size_t size, uint64_t *offset);

int zhub_cmd_up (int argc, char **argv);
int zhub_cmd_erase (int argc, char **argv);
int zhub_cmd_dlq (int argc, char **argv);
int zhub_cmd_group (int argc, char **argv);
int zhub_cmd_status (int argc, char **argv);
int zhub_cmd_status_contact (int argc, char **argv);
int zhub_cmd_pub (int argc, char **argv);
int zhub_cmd_tail (int argc, char **argv);
int zhub_cmd_audit (int argc, char **argv);
int zhub_cmd_hubspot (int argc, char **argv);
int zhub_cmd_doctor (int argc, char **argv);
int zhub_cmd_sync (int argc, char **argv);

#endif
