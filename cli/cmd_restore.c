//  `zhub restore SOURCE`: brings a `zhub backup` back into an empty data
//  folder, before the processes start on it. An empty target is the rule
//  because a restore that merged into live stores would mix two points in
//  time inside one environment; empty subfolders (the image's mount
//  points) are allowed. Each file is written beside its place and renamed
//  once complete, the manifest is checked against what arrived, and every
//  environment is opened by LMDB before the command says it is done; on
//  any failure what was written is removed again.
#include "backup.h"
#include "backup_tar.h"
#include "cli.h"
#include "zhub_env.h"
#include "zhub_store.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MANIFEST_MAX (1 << 20)

static const char *s_usage =
    "usage: zhub restore SOURCE [--data-dir DIR] [--process NAME]... [--json]\n"
    "\n"
    "Brings a backup made by `zhub backup` back into an empty data folder\n"
    "($ZHUB_DATA_DIR, default ./.zhub-data; empty subfolders are fine). Start\n"
    "the processes on it afterwards.\n"
    "  SOURCE           a backup folder, FILE.tar, or - (a tar stream on stdin)\n"
    "  --data-dir DIR   instead of $ZHUB_DATA_DIR\n"
    "  --process NAME   only this environment of the backup (repeatable): one\n"
    "                   volume per process in containers\n"
    "  --json           print what was restored as JSON\n"
    "\n"
    "Exit codes: 0 done, 1 refused or failed (a target that holds files, an\n"
    "incomplete or damaged backup; nothing is left behind), 2 bad arguments.\n";

typedef struct {
    const char *data_dir;
    const char **only;
    int only_count;
    char *names[ZHUB_BACKUP_MAX_PROCESSES]; //  restored, in arrival order
    long long bytes[ZHUB_BACKUP_MAX_PROCESSES];
    int count;
    json_t *manifest;
} s_restore_t;

static bool
s_wanted (const s_restore_t *self, const char *name)
{
    if (self->only_count == 0)
        return true;
    for (int i = 0; i < self->only_count; i++)
        if (!strcmp (self->only[i], name))
            return true;
    return false;
}

//  The first file found under path (a regular file, a link, anything but a
//  folder), into found; 1 when there is one, 0 when none, -1 when path
//  cannot be read.
static int
s_first_file (const char *path, char *found, size_t size)
{
    DIR *dir = opendir (path);
    if (!dir)
        return errno == ENOENT ? 0 : -1;
    int result = 0;
    struct dirent *entry;
    while (result == 0 && (entry = readdir (dir))) {
        if (!strcmp (entry->d_name, ".") || !strcmp (entry->d_name, ".."))
            continue;
        char *child = zhub_sprintf ("%s/%s", path, entry->d_name);
        struct stat st;
        if (lstat (child, &st))
            result = -1;
        else if (S_ISDIR (st.st_mode))
            result = s_first_file (child, found, size);
        else {
            snprintf (found, size, "%s", child);
            result = 1;
        }
        free (child);
    }
    closedir (dir);
    return result;
}

//  mkdir -p
static int
s_mkdir (const char *path)
{
    char *copy = zhub_strdup (path);
    for (char *p = copy + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir (copy, 0700) && errno != EEXIST) {
                free (copy);
                return -1;
            }
            *p = '/';
        }
    free (copy);
    return mkdir (path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static int
s_copy (FILE *in, FILE *out, uint64_t size)
{
    char buf[65536];
    while (size > 0) {
        size_t want = size < sizeof buf ? (size_t) size : sizeof buf;
        if (fread (buf, 1, want, in) != want || fwrite (buf, 1, want, out) != want)
            return -1;
        size -= want;
    }
    return 0;
}

//  Writes one environment's data.mdb from in (size bytes; a tar body when
//  from_tar). Returns 0, or -1 with a reason in err.
static int
s_put (s_restore_t *self, const char *name, FILE *in, uint64_t size, bool from_tar, char *err,
       size_t err_size)
{
    for (int i = 0; i < self->count; i++)
        if (!strcmp (self->names[i], name)) {
            snprintf (err, err_size, "%s appears twice in the backup", name);
            return -1;
        }
    if (self->count == ZHUB_BACKUP_MAX_PROCESSES) {
        snprintf (err, err_size, "more environments than a backup holds");
        return -1;
    }
    char *folder = zhub_sprintf ("%s/%s", self->data_dir, name);
    char *part = zhub_sprintf ("%s/data.mdb.part", folder);
    char *file = zhub_sprintf ("%s/data.mdb", folder);
    int rc = -1;
    FILE *out = NULL;
    if (s_mkdir (self->data_dir) || s_mkdir (folder) || !(out = fopen (part, "wbx")))
        snprintf (err, err_size, "%s: %s", part, strerror (errno));
    else {
        int copied = from_tar ? zhub_tar_read_body (in, out, size) : s_copy (in, out, size);
        if (copied || fflush (out) || fsync (fileno (out)))
            snprintf (err, err_size, "%s: %s", name,
                      copied ? "the backup ends inside this file" : strerror (errno));
        else
            rc = 0;
        fclose (out);
        if (rc == 0 && rename (part, file)) {
            snprintf (err, err_size, "%s: %s", file, strerror (errno));
            rc = -1;
        }
        if (rc)
            unlink (part);
    }
    if (rc)
        rmdir (folder); //  only when this call made it and it is empty
    if (rc == 0) {
        self->names[self->count] = zhub_strdup (name);
        self->bytes[self->count++] = (long long) size;
    }
    free (folder);
    free (part);
    free (file);
    return rc;
}

static int
s_read_tar (s_restore_t *self, FILE *in, char *err, size_t err_size)
{
    zhub_tar_entry_t entry;
    int rc;
    while ((rc = zhub_tar_read_header (in, &entry, err, err_size)) == 1) {
        if (entry.is_dir)
            continue; //  folders are made as their files arrive
        if (!strcmp (entry.name, ZHUB_BACKUP_MANIFEST)) {
            if (self->manifest || entry.size > S_MANIFEST_MAX) {
                snprintf (err, err_size, "a second or oversized manifest");
                return -1;
            }
            char *text = zhub_malloc ((size_t) entry.size + 1);
            FILE *mem = fmemopen (text, (size_t) entry.size + 1, "wb");
            int body = zhub_tar_read_body (in, mem, entry.size);
            fclose (mem);
            text[entry.size] = 0;
            json_error_t jerr;
            self->manifest = body ? NULL : json_loads (text, 0, &jerr);
            free (text);
            if (!self->manifest) {
                snprintf (err, err_size, "the manifest does not read as JSON");
                return -1;
            }
            continue;
        }
        char name[ZHUB_TAR_NAME_MAX + 2];
        snprintf (name, sizeof name, "%s", entry.name);
        char *slash = strchr (name, '/');
        if (!slash || strcmp (slash, "/data.mdb")) {
            snprintf (err, err_size, "%s is not part of a zhub backup", entry.name);
            return -1;
        }
        *slash = 0;
        if (!zhub_backup_name_valid (name)) {
            snprintf (err, err_size, "%s is not part of a zhub backup", entry.name);
            return -1;
        }
        if (!s_wanted (self, name)) {
            if (zhub_tar_read_body (in, NULL, entry.size)) {
                snprintf (err, err_size, "the backup ends inside %s", entry.name);
                return -1;
            }
            continue;
        }
        if (s_put (self, name, in, entry.size, true, err, err_size))
            return -1;
    }
    return rc;
}

static int
s_read_folder (s_restore_t *self, const char *source, char *err, size_t err_size)
{
    char *path = zhub_sprintf ("%s/%s", source, ZHUB_BACKUP_MANIFEST);
    json_error_t jerr;
    self->manifest = json_load_file (path, 0, &jerr);
    free (path);
    if (!self->manifest) {
        snprintf (err, err_size, "%s has no readable %s: not a complete zhub backup", source,
                  ZHUB_BACKUP_MANIFEST);
        return -1;
    }
    size_t i;
    json_t *process;
    json_array_foreach (json_object_get (self->manifest, "processes"), i, process) {
        const char *name = json_string_value (json_object_get (process, "name"));
        if (!name || !zhub_backup_name_valid (name)) {
            snprintf (err, err_size, "the manifest names an invalid process");
            return -1;
        }
        if (!s_wanted (self, name))
            continue;
        char *file = zhub_sprintf ("%s/%s/data.mdb", source, name);
        FILE *in = fopen (file, "rb");
        struct stat st;
        int rc = -1;
        if (!in || fstat (fileno (in), &st))
            snprintf (err, err_size, "%s: %s", file, strerror (errno));
        else
            rc = s_put (self, name, in, (uint64_t) st.st_size, false, err, err_size);
        if (in)
            fclose (in);
        free (file);
        if (rc)
            return -1;
    }
    return 0;
}

//  The manifest against what arrived: the format, and every wanted process
//  it lists restored with its size.
static int
s_check (s_restore_t *self, char *err, size_t err_size)
{
    if (!self->manifest) {
        snprintf (err, err_size, "the backup has no manifest: incomplete (cut short?)");
        return -1;
    }
    const char *format = json_string_value (json_object_get (self->manifest, "format"));
    if (!format || strcmp (format, ZHUB_BACKUP_FORMAT)) {
        snprintf (err, err_size, "not a %s manifest", ZHUB_BACKUP_FORMAT);
        return -1;
    }
    size_t i;
    json_t *process;
    int listed = 0;
    json_array_foreach (json_object_get (self->manifest, "processes"), i, process) {
        const char *name = json_string_value (json_object_get (process, "name"));
        json_int_t bytes = json_integer_value (json_object_get (process, "bytes"));
        if (!name || !s_wanted (self, name))
            continue;
        listed++;
        bool found = false;
        for (int k = 0; k < self->count && !found; k++)
            found = !strcmp (self->names[k], name) && self->bytes[k] == (long long) bytes;
        if (!found) {
            snprintf (err, err_size, "%s is missing or of the wrong size", name);
            return -1;
        }
    }
    if (listed != self->count) {
        snprintf (err, err_size, "the backup holds environments its manifest does not list");
        return -1;
    }
    for (int j = 0; j < self->only_count; j++) {
        bool found = false;
        for (int k = 0; k < self->count && !found; k++)
            found = !strcmp (self->names[k], self->only[j]);
        if (!found) {
            snprintf (err, err_size, "the backup has no %s", self->only[j]);
            return -1;
        }
    }
    //  LMDB must take every file as an environment
    for (int k = 0; k < self->count; k++) {
        zhub_store_t *store = zhub_store_open_readonly (self->data_dir, self->names[k], err,
                                                        err_size);
        if (!store)
            return -1;
        zhub_store_destroy (&store);
    }
    return 0;
}

static void
s_undo (s_restore_t *self)
{
    for (int k = 0; k < self->count; k++) {
        char *folder = zhub_sprintf ("%s/%s", self->data_dir, self->names[k]);
        char *file = zhub_sprintf ("%s/data.mdb", folder);
        char *lock = zhub_sprintf ("%s/lock.mdb", folder);
        unlink (file);
        unlink (lock);
        rmdir (folder); //  only when we made it empty
        free (folder);
        free (file);
        free (lock);
    }
}

static int
s_usage_error (const char *what)
{
    fprintf (stderr, "zhub restore: %s\n\n%s", what, s_usage);
    return ZHUB_EXIT_USAGE;
}

int
zhub_cmd_restore (int argc, char **argv)
{
    const char *source = NULL;
    const char *only[ZHUB_BACKUP_MAX_PROCESSES];
    s_restore_t self = {.data_dir = zhub_env_str ("ZHUB_DATA_DIR", "./.zhub-data"),
                        .only = only};
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        }
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--data-dir") && i + 1 < argc)
            self.data_dir = argv[++i];
        else if (!strcmp (argv[i], "--process") && i + 1 < argc) {
            if (!zhub_backup_name_valid (argv[i + 1]))
                return s_usage_error ("--process takes a process name, e.g. broker");
            if (self.only_count == ZHUB_BACKUP_MAX_PROCESSES)
                return s_usage_error ("too many --process");
            only[self.only_count++] = argv[++i];
        } else if (!source && (argv[i][0] != '-' || !strcmp (argv[i], "-")))
            source = argv[i];
        else
            return s_usage_error ("unexpected argument");
    }
    if (!source)
        return s_usage_error ("expected SOURCE (a backup folder, FILE.tar, or -)");

    char found[4096];
    int any = s_first_file (self.data_dir, found, sizeof found);
    if (any) {
        if (any > 0)
            fprintf (stderr,
                     "zhub restore: %s is not empty (%s): restore only into an empty data "
                     "folder\n",
                     self.data_dir, found);
        else
            fprintf (stderr, "zhub restore: cannot read %s: %s\n", self.data_dir,
                     strerror (errno));
        return ZHUB_EXIT_FAILURE;
    }

    char err[512] = "";
    int rc;
    struct stat st;
    bool had_dir = stat (self.data_dir, &st) == 0;
    if (strcmp (source, "-") && stat (source, &st) == 0 && S_ISDIR (st.st_mode))
        rc = s_read_folder (&self, source, err, sizeof err);
    else {
        FILE *in = strcmp (source, "-") ? fopen (source, "rb") : stdin;
        if (!in) {
            fprintf (stderr, "zhub restore: %s: %s\n", source, strerror (errno));
            return ZHUB_EXIT_FAILURE;
        }
        rc = s_read_tar (&self, in, err, sizeof err);
        if (in != stdin)
            fclose (in);
    }
    if (rc == 0)
        rc = s_check (&self, err, sizeof err);
    int status = ZHUB_EXIT_OK;
    if (rc) {
        fprintf (stderr, "zhub restore: %s; nothing restored\n", err);
        s_undo (&self);
        if (!had_dir)
            rmdir (self.data_dir);
        status = ZHUB_EXIT_FAILURE;
    } else if (json) {
        json_t *out = json_pack ("{s:b, s:s, s:O?, s:[]}", "ok", 1, "data_dir", self.data_dir,
                                 "backup_started", json_object_get (self.manifest, "started"),
                                 "processes");
        for (int k = 0; k < self.count; k++)
            json_array_append_new (json_object_get (out, "processes"),
                                   json_pack ("{s:s, s:I}", "name", self.names[k], "bytes",
                                              (json_int_t) self.bytes[k]));
        char *text = json_dumps (out, JSON_COMPACT);
        puts (text);
        free (text);
        json_decref (out);
    } else
        for (int k = 0; k < self.count; k++)
            printf ("restored %s (%lld bytes) into %s/%s\n", self.names[k], self.bytes[k],
                    self.data_dir, self.names[k]);
    for (int k = 0; k < self.count; k++)
        free (self.names[k]);
    json_decref (self.manifest);
    return status;
}
