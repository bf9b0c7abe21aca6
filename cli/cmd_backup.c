//  `zhub backup DEST`: a consistent copy of every LMDB environment under
//  $ZHUB_DATA_DIR (the broker's log, the gateway's spool, each actor's
//  store) taken while the processes run. Each environment is copied by
//  LMDB itself in one read transaction, compacted (zhub_store_copy_compact:
//  only live pages, so it is also no bigger than what is in use); writers
//  go on meanwhile. The environments are copied one after the other in the
//  order backup.h explains, which is what makes the set restorable as a
//  whole. DEST is a new folder, a .tar file, or - for a tar stream on
//  stdout (`kubectl exec … zhub backup - > broker.tar`).
#include "backup.h"
#include "backup_tar.h"
#include "cli.h"
#include "zhub_env.h"
#include "zhub_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *s_usage =
    "usage: zhub backup DEST [--data-dir DIR] [--process NAME]... [--json]\n"
    "\n"
    "Copies every LMDB environment under the data dir ($ZHUB_DATA_DIR, default\n"
    "./.zhub-data: broker/, gateway/, contact-sync/ ...) while the processes run:\n"
    "LMDB's own compacting copy, one environment at a time (the gateway's spool,\n"
    "then the broker, then the actors), so that everything acknowledged before\n"
    "the backup started is in it.\n"
    "  DEST             a folder that does not exist yet, FILE.tar, or - (a tar\n"
    "                   stream on stdout)\n"
    "  --data-dir DIR   instead of $ZHUB_DATA_DIR\n"
    "  --process NAME   only this environment (repeatable)\n"
    "  --json           print the manifest as JSON when done\n"
    "\n"
    "Restore with `zhub restore` into an empty data folder.\n"
    "Exit codes: 0 done, 1 failed (nothing is left at DEST), 2 bad arguments.\n";

bool
zhub_backup_name_valid (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > ZHUB_BACKUP_NAME_MAX || name[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')
              || name[i] == '-'))
            return false;
    return true;
}

static int
s_rank (const char *name)
{
    return !strcmp (name, "gateway") ? 0 : !strcmp (name, "broker") ? 1 : 2;
}

int
zhub_backup_order (const char *a, const char *b)
{
    int ra = s_rank (a), rb = s_rank (b);
    return ra != rb ? ra - rb : strcmp (a, b);
}

static int
s_order_qsort (const void *a, const void *b)
{
    return zhub_backup_order (*(char *const *) a, *(char *const *) b);
}

//  The environments under data_dir: subfolders with a data.mdb, in backup
//  order. Returns the count, or -1 when the folder cannot be read.
static int
s_list (const char *data_dir, char **names, int max)
{
    DIR *dir = opendir (data_dir);
    if (!dir)
        return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir)) && count < max) {
        if (!zhub_backup_name_valid (entry->d_name))
            continue;
        char *file = zhub_sprintf ("%s/%s/data.mdb", data_dir, entry->d_name);
        struct stat st;
        if (stat (file, &st) == 0 && S_ISREG (st.st_mode))
            names[count++] = zhub_strdup (entry->d_name);
        free (file);
    }
    closedir (dir);
    qsort (names, (size_t) count, sizeof *names, s_order_qsort);
    return count;
}

static void
s_remove_tree (const char *path)
{
    DIR *dir = opendir (path);
    if (dir) {
        struct dirent *entry;
        while ((entry = readdir (dir))) {
            if (!strcmp (entry->d_name, ".") || !strcmp (entry->d_name, ".."))
                continue;
            char *child = zhub_sprintf ("%s/%s", path, entry->d_name);
            s_remove_tree (child);
            free (child);
        }
        closedir (dir);
        rmdir (path);
    } else
        unlink (path);
}

static int
s_fsync_path (const char *path, int flags)
{
    int fd = open (path, flags);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

//  Copies one environment, compacted, into dest_dir/data.mdb. Returns the
//  copy's size, or -1 with a reason in err.
static long long
s_copy_env (const char *data_dir, const char *name, const char *dest_dir, char *err,
            size_t err_size)
{
    zhub_store_t *store = zhub_store_open_readonly (data_dir, name, err, err_size);
    if (!store)
        return -1;
    int rc = zhub_store_copy_compact (store, dest_dir, err, err_size);
    zhub_store_destroy (&store);
    if (rc)
        return -1;
    char *file = zhub_sprintf ("%s/data.mdb", dest_dir);
    struct stat st;
    long long size = -1;
    if (stat (file, &st) == 0 && s_fsync_path (file, O_RDONLY) == 0)
        size = (long long) st.st_size;
    else
        snprintf (err, err_size, "%s: %s", file, strerror (errno));
    free (file);
    return size;
}

static char *
s_now_text (void)
{
    char buf[40];
    zhub_time_format (zhub_now_ms (), buf, sizeof buf);
    return zhub_strdup (buf);
}

//  A folder for one environment's copy before it goes into a tar stream:
//  beside the environment (same volume, writable by its owner), else in
//  $TMPDIR. Returns the path (the caller removes the tree) or NULL.
static char *
s_staging (const char *data_dir, const char *name)
{
    char *path = zhub_sprintf ("%s/%s/backup.tmp.%ld", data_dir, name, (long) getpid ());
    s_remove_tree (path);
    if (mkdir (path, 0700) == 0)
        return path;
    free (path);
    path = zhub_sprintf ("%s/zhub-backup.%ld.%s", zhub_env_str ("TMPDIR", "/tmp"),
                         (long) getpid (), name);
    s_remove_tree (path);
    if (mkdir (path, 0700) == 0)
        return path;
    free (path);
    return NULL;
}

typedef struct {
    const char *data_dir;
    const char *dest;
    bool to_tar;
    FILE *tar;          //  the stream when to_tar
    char *work;         //  the folder being filled (not tar): renamed to dest at the end
    json_t *processes;  //  [{"name", "bytes"}]
} s_job_t;

static int
s_backup_one (s_job_t *job, const char *name, char *err, size_t err_size)
{
    if (!job->to_tar) {
        char *dest_dir = zhub_sprintf ("%s/%s", job->work, name);
        long long size = s_copy_env (job->data_dir, name, dest_dir, err, err_size);
        free (dest_dir);
        if (size < 0)
            return -1;
        json_array_append_new (job->processes,
                               json_pack ("{s:s, s:I}", "name", name, "bytes", (json_int_t) size));
        return 0;
    }
    char *staging = s_staging (job->data_dir, name);
    if (!staging) {
        snprintf (err, err_size, "no writable folder for the copy of %s", name);
        return -1;
    }
    int result = -1;
    long long size = s_copy_env (job->data_dir, name, staging, err, err_size);
    if (size >= 0) {
        char *file = zhub_sprintf ("%s/data.mdb", staging);
        char *entry = zhub_sprintf ("%s/data.mdb", name);
        FILE *in = fopen (file, "rb");
        int64_t now_s = zhub_now_ms () / 1000;
        if (in && zhub_tar_write_header (job->tar, name, 0, true, now_s) == 0
            && zhub_tar_write_header (job->tar, entry, (uint64_t) size, false, now_s) == 0
            && zhub_tar_write_body (job->tar, in, (uint64_t) size) == 0) {
            json_array_append_new (job->processes, json_pack ("{s:s, s:I}", "name", name,
                                                              "bytes", (json_int_t) size));
            result = 0;
        } else
            snprintf (err, err_size, "writing %s into the archive: %s", name, strerror (errno));
        if (in)
            fclose (in);
        free (file);
        free (entry);
    }
    s_remove_tree (staging);
    free (staging);
    return result;
}

static int
s_write_manifest (s_job_t *job, json_t *manifest, char *err, size_t err_size)
{
    char *dumped = json_dumps (manifest, JSON_INDENT (2) | JSON_SORT_KEYS);
    char *text = zhub_sprintf ("%s\n", dumped);
    free (dumped);
    size_t len = strlen (text);
    int rc = -1;
    if (job->to_tar) {
        FILE *mem = fmemopen (text, len, "rb");
        if (mem && zhub_tar_write_header (job->tar, ZHUB_BACKUP_MANIFEST, len, false,
                                          zhub_now_ms () / 1000) == 0
            && zhub_tar_write_body (job->tar, mem, len) == 0 && zhub_tar_write_end (job->tar) == 0)
            rc = 0;
        if (mem)
            fclose (mem);
    } else {
        char *path = zhub_sprintf ("%s/%s", job->work, ZHUB_BACKUP_MANIFEST);
        FILE *f = fopen (path, "wb");
        if (f && fwrite (text, 1, len, f) == len && fflush (f) == 0 && fsync (fileno (f)) == 0)
            rc = 0;
        if (f)
            fclose (f);
        free (path);
    }
    if (rc)
        snprintf (err, err_size, "writing the manifest: %s", strerror (errno));
    free (text);
    return rc;
}

static int
s_usage_error (const char *what)
{
    fprintf (stderr, "zhub backup: %s\n\n%s", what, s_usage);
    return ZHUB_EXIT_USAGE;
}

static bool
s_ends_with (const char *text, const char *tail)
{
    size_t a = strlen (text), b = strlen (tail);
    return a >= b && !strcmp (text + a - b, tail);
}

int
zhub_cmd_backup (int argc, char **argv)
{
    const char *dest = NULL, *data_dir = zhub_env_str ("ZHUB_DATA_DIR", "./.zhub-data");
    const char *only[ZHUB_BACKUP_MAX_PROCESSES];
    int only_count = 0;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (s_usage, stdout);
            return ZHUB_EXIT_OK;
        }
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--data-dir") && i + 1 < argc)
            data_dir = argv[++i];
        else if (!strcmp (argv[i], "--process") && i + 1 < argc) {
            if (!zhub_backup_name_valid (argv[i + 1]))
                return s_usage_error ("--process takes a process name, e.g. broker");
            if (only_count == ZHUB_BACKUP_MAX_PROCESSES)
                return s_usage_error ("too many --process");
            only[only_count++] = argv[++i];
        } else if (!dest && (argv[i][0] != '-' || !strcmp (argv[i], "-")))
            dest = argv[i];
        else
            return s_usage_error ("unexpected argument");
    }
    if (!dest)
        return s_usage_error ("expected DEST (a new folder, FILE.tar, or -)");
    bool to_stdout = !strcmp (dest, "-");
    bool to_tar = to_stdout || s_ends_with (dest, ".tar");
    if (to_stdout && json)
        return s_usage_error ("--json and - both want stdout");
    struct stat st;
    if (!to_stdout && lstat (dest, &st) == 0) {
        fprintf (stderr, "zhub backup: %s exists: give a new name\n", dest);
        return ZHUB_EXIT_FAILURE;
    }

    char *names[ZHUB_BACKUP_MAX_PROCESSES];
    int count = s_list (data_dir, names, ZHUB_BACKUP_MAX_PROCESSES);
    if (count < 0) {
        fprintf (stderr, "zhub backup: cannot read the data dir %s: %s\n", data_dir,
                 strerror (errno));
        return ZHUB_EXIT_FAILURE;
    }
    for (int j = 0; j < only_count; j++) {
        bool found = false;
        for (int k = 0; k < count && !found; k++)
            found = !strcmp (names[k], only[j]);
        if (!found) {
            fprintf (stderr, "zhub backup: no environment %s/%s (no data.mdb there)\n", data_dir,
                     only[j]);
            for (int k = 0; k < count; k++)
                free (names[k]);
            return ZHUB_EXIT_FAILURE;
        }
    }
    int status = ZHUB_EXIT_FAILURE;
    char err[512] = "";
    s_job_t job = {.data_dir = data_dir, .dest = dest, .to_tar = to_tar,
                   .processes = json_array ()};
    char *partial = to_stdout ? NULL : zhub_sprintf ("%s.part-%ld", dest, (long) getpid ());
    char *started = s_now_text ();
    if (to_stdout)
        job.tar = stdout;
    else if (to_tar) {
        job.tar = fopen (partial, "wbx");
        if (!job.tar) {
            snprintf (err, sizeof err, "%s: %s", partial, strerror (errno));
            goto done;
        }
    } else {
        if (mkdir (partial, 0700)) {
            snprintf (err, sizeof err, "%s: %s", partial, strerror (errno));
            goto done;
        }
        job.work = partial;
    }
    int copied = 0;
    for (int k = 0; k < count; k++) {
        bool wanted = only_count == 0;
        for (int j = 0; j < only_count && !wanted; j++)
            wanted = !strcmp (names[k], only[j]);
        if (!wanted)
            continue;
        if (s_backup_one (&job, names[k], err, sizeof err))
            goto done;
        copied++;
        if (!to_stdout)
            fprintf (stderr, "zhub backup: %s copied\n", names[k]);
    }
    if (copied == 0) {
        snprintf (err, sizeof err, "no environment under %s (nothing has run there yet?)",
                  data_dir);
        goto done;
    }
    char *finished = s_now_text ();
    json_t *manifest = json_pack ("{s:s, s:s, s:s, s:s, s:O}", "format", ZHUB_BACKUP_FORMAT,
                                  "zhub", ZHUB_VERSION, "started", started, "finished", finished,
                                  "processes", job.processes);
    free (finished);
    int rc = s_write_manifest (&job, manifest, err, sizeof err);
    if (rc == 0 && job.tar && !to_stdout) {
        if (fflush (job.tar) || fsync (fileno (job.tar))) {
            snprintf (err, sizeof err, "%s: %s", partial, strerror (errno));
            rc = -1;
        }
    }
    if (rc == 0 && to_stdout && fflush (stdout)) {
        snprintf (err, sizeof err, "writing to stdout: %s", strerror (errno));
        rc = -1;
    }
    if (rc == 0 && !to_stdout) {
        if (job.tar) {
            fclose (job.tar);
            job.tar = NULL;
        }
        //  complete only once renamed: a crash leaves a .part-<pid>, never a
        //  DEST that looks whole
        if (rename (partial, dest)) {
            snprintf (err, sizeof err, "rename to %s: %s", dest, strerror (errno));
            rc = -1;
        } else {
            char *parent = zhub_strdup (dest);
            char *slash = strrchr (parent, '/');
            const char *folder = ".";
            if (slash == parent)
                folder = "/";
            else if (slash) {
                *slash = 0;
                folder = parent;
            }
            s_fsync_path (folder, O_RDONLY | O_DIRECTORY);
            free (parent);
        }
    }
    if (rc == 0) {
        status = ZHUB_EXIT_OK;
        if (json) {
            char *text = json_dumps (manifest, JSON_COMPACT | JSON_SORT_KEYS);
            puts (text);
            free (text);
        } else if (!to_stdout)
            fprintf (stderr, "zhub backup: %d environment%s in %s\n", copied,
                     copied == 1 ? "" : "s", dest);
    }
    json_decref (manifest);
done:
    if (job.tar && !to_stdout)
        fclose (job.tar);
    if (status != ZHUB_EXIT_OK) {
        fprintf (stderr, "zhub backup: %s\n", err);
        if (partial)
            s_remove_tree (partial);
    }
    json_decref (job.processes);
    for (int k = 0; k < count; k++)
        free (names[k]);
    free (partial);
    free (started);
    return status;
}
