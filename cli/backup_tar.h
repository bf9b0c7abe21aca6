//  The tar stream of `zhub backup -` / `zhub restore -`: POSIX ustar
//  (regular files and folders only), so that `tar -tf` lists it and
//  `tar -xf` unpacks it by hand. Sizes of 8 GiB and more use the base-256
//  size field GNU tar and bsdtar read. Only what a backup holds is
//  written or accepted: no links, no devices, no absolute paths, no "..".
#ifndef ZHUB_BACKUP_TAR_H
#define ZHUB_BACKUP_TAR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define ZHUB_TAR_BLOCK 512
#define ZHUB_TAR_NAME_MAX 99   //  ustar's name field, without a prefix

//  Writes the header of a regular file (mode 0600) or, with is_dir, a
//  folder (mode 0700, size 0). Returns 0, or -1 on a write error or a name
//  longer than ZHUB_TAR_NAME_MAX.
int zhub_tar_write_header (FILE *out, const char *name, uint64_t size, bool is_dir,
                           int64_t mtime_s);

//  Copies size bytes from in to out and pads to the block size. Returns 0,
//  or -1 when in ends early or a write fails.
int zhub_tar_write_body (FILE *out, FILE *in, uint64_t size);

//  The two zero blocks that end an archive. Returns 0 or -1.
int zhub_tar_write_end (FILE *out);

typedef struct {
    char name[ZHUB_TAR_NAME_MAX + 2];
    uint64_t size;
    bool is_dir;
} zhub_tar_entry_t;

//  Reads the next header. Returns 1 with *entry filled, 0 at the end of the
//  archive, -1 with a reason in err for anything that is not a well-formed
//  ustar header of a regular file or folder with a relative name.
int zhub_tar_read_header (FILE *in, zhub_tar_entry_t *entry, char *err, size_t err_size);

//  Copies the entry's body to out (NULL: skips it) and reads past the
//  padding. Returns 0, or -1 when the stream ends early or a write fails.
int zhub_tar_read_body (FILE *in, FILE *out, uint64_t size);

#endif
