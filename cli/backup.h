//  What `zhub backup` and `zhub restore` agree on: the layout of a backup
//  and which folders of a data dir are environments.
//
//  A backup is a folder (or the same as a ustar archive):
//      <process>/data.mdb    a compacted LMDB copy of $ZHUB_DATA_DIR/<process>/
//      zhub-backup.json      the manifest, written last: {"format":
//                            "zhub-backup/1", "zhub", "started", "finished",
//                            "processes": [{"name", "bytes"}]}
//  A backup without its manifest is incomplete and restore refuses it.
#ifndef ZHUB_BACKUP_H
#define ZHUB_BACKUP_H

#include <stdbool.h>
#include <stddef.h>

#define ZHUB_BACKUP_FORMAT "zhub-backup/1"
#define ZHUB_BACKUP_MANIFEST "zhub-backup.json"
#define ZHUB_BACKUP_MAX_PROCESSES 64
#define ZHUB_BACKUP_NAME_MAX 48

//  A process name as a data dir's subfolder may be: [a-z0-9][a-z0-9-]*,
//  at most ZHUB_BACKUP_NAME_MAX characters (no dots: staging folders and
//  compaction leftovers have one).
bool zhub_backup_name_valid (const char *name);

//  The order in which environments are copied: the gateway's spool first,
//  then the broker, then the actors by name. Copied in that order, every
//  event acknowledged before the backup started is in it (in the spool
//  copy or, drained before the broker's copy, in the broker's), and every
//  ack the broker's copy holds was stored by its actor before that actor's
//  later copy. strcmp-like.
int zhub_backup_order (const char *a, const char *b);

#endif
