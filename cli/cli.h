//  The zhub command's shared pieces: exit codes that scripts can rely on,
//  and how a subcommand finds the other zhub programs.
#ifndef ZHUB_CLI_H
#define ZHUB_CLI_H

#include "zhub_client.h"
#include "zhub_msg.h"

#include <stdbool.h>
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

//  The bus's authentication for `zhub <command>` (cli_bus.c): CURVE keys
//  from ZHUB_BUS_CERT and ZHUB_BROKER_PUBLIC_KEY, or plain on loopback
//  (ZHUB_BUS_SECURITY). On a bad setting it says why on stderr and
//  returns -1.
int zhub_cli_bus_auth (const char *command, zhub_bus_auth_t *auth);

//  A bus client to endpoint ($ZHUB_BROKER when NULL) with those keys, or
//  NULL with the reason on stderr and *exit_code set (ZHUB_EXIT_USAGE).
zhub_client_t *zhub_cli_client (const char *command, const char *endpoint, const char *name,
                                int *exit_code);

//  A SUB socket in ctx connected to the tap with those keys (no
//  subscription yet), or NULL with the reason on stderr.
void *zhub_cli_tap_open (const char *command, void *ctx, const char *endpoint);

//  Makes the key NAME unless OUT/NAME.key_secret exists (cmd_keys.c):
//  the secret certificate in out_dir, the public one with these
//  permissions in keys_dir (NULL: a server key, its public file beside the
//  secret one). secret_path gets the secret file. Returns 0, or -1 with
//  the reason on stderr.
int zhub_cli_key_ensure (const char *name, const char *publish, const char *consume, bool admin,
                         const char *keys_dir, const char *out_dir, char *secret_path,
                         size_t secret_size);

//  Every program's bus key (cmd_keys.c): the program (NULL for the CLI's
//  own key), the key's name (NULL for the broker's), its permissions.
typedef struct {
    const char *program, *key, *publish, *consume;
    bool admin;
} zhub_cli_program_key_t;
extern const zhub_cli_program_key_t zhub_cli_program_keys[];
extern const size_t zhub_cli_program_key_count;

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
int zhub_cmd_backup (int argc, char **argv);
int zhub_cmd_restore (int argc, char **argv);
int zhub_cmd_sync (int argc, char **argv);
int zhub_cmd_keys (int argc, char **argv);

#endif
