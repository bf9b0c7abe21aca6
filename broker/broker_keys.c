//  The allow-list (see broker_keys.h). A change is noticed by a signature
//  over the directory: each *.key file's name, size and modification time.
//  Reading it costs one stat per file, so it is done once a heartbeat by the
//  broker and on each connection attempt by zauth.
#include "broker_keys.h"
#include "zhub_common.h"
#include "zhub_log.h"

#include <czmq.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct broker_keys_t {
    char *dir;
    bool verbose;
    zhub_key_t *keys;
    size_t count;
    uint64_t signature; //  of the directory as last read
    bool read_once;
    uint64_t generation;
};

static bool
s_is_key_file (const char *name)
{
    size_t len = strlen (name);
    return len > 4 && name[0] != '.' && !strcmp (name + len - 4, ".key");
}

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

//  The *.key files of dir, sorted, and the directory's signature (FNV-1a
//  over name, size, mtime of each). Returns the count; *names is owned.
static size_t
s_list (const char *dir, char ***names, uint64_t *signature)
{
    *names = NULL;
    *signature = 1469598103934665603ULL;
    DIR *d = opendir (dir);
    if (!d)
        return 0;
    size_t count = 0, cap = 0;
    struct dirent *entry;
    while ((entry = readdir (d))) {
        if (!s_is_key_file (entry->d_name))
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            *names = zhub_realloc (*names, cap * sizeof (char *));
        }
        (*names)[count++] = zhub_strdup (entry->d_name);
    }
    closedir (d);
    if (count)
        qsort (*names, count, sizeof (char *), s_compare_names);
    for (size_t i = 0; i < count; i++) {
        char *path = zhub_sprintf ("%s/%s", dir, (*names)[i]);
        struct stat st;
        int64_t facts[3] = {-1, -1, -1};
        if (stat (path, &st) == 0 && S_ISREG (st.st_mode)) {
            facts[0] = (int64_t)st.st_size;
            facts[1] = (int64_t)st.st_mtim.tv_sec;
            facts[2] = (int64_t)st.st_mtim.tv_nsec;
        }
        free (path);
        const uint8_t *parts[2] = {(const uint8_t *)(*names)[i], (const uint8_t *)facts};
        size_t sizes[2] = {strlen ((*names)[i]) + 1, sizeof facts};
        for (int p = 0; p < 2; p++)
            for (size_t b = 0; b < sizes[p]; b++)
                *signature = (*signature ^ parts[p][b]) * 1099511628211ULL;
    }
    return count;
}

static void
s_clear (broker_keys_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        zhub_key_clear (&self->keys[i]);
    free (self->keys);
    self->keys = NULL;
    self->count = 0;
}

static void
s_read (broker_keys_t *self, char **names, size_t count)
{
    s_clear (self);
    self->keys = zhub_calloc (count ? count : 1, sizeof (zhub_key_t));
    for (size_t i = 0; i < count; i++) {
        char *path = zhub_sprintf ("%s/%s", self->dir, names[i]);
        char err[400];
        zhub_key_t *key = &self->keys[self->count];
        if (zhub_key_load (path, key, err, sizeof err)) {
            if (self->verbose)
                zhub_warn ("key_skipped", "reason=\"%s\"", err);
        } else if (broker_keys_find (self, key->public_key)) {
            if (self->verbose)
                zhub_warn ("key_skipped",
                           "file=%s reason=\"the same public key as an earlier file\"", names[i]);
            zhub_key_clear (key);
        } else
            self->count++;
        free (path);
    }
    self->generation++;
}

int
broker_keys_refresh (broker_keys_t *self)
{
    char **names;
    uint64_t signature;
    size_t count = s_list (self->dir, &names, &signature);
    int changed = !self->read_once || signature != self->signature;
    if (changed) {
        s_read (self, names, count);
        self->signature = signature;
        self->read_once = true;
    }
    for (size_t i = 0; i < count; i++)
        free (names[i]);
    free (names);
    return changed;
}

broker_keys_t *
broker_keys_new (const char *dir, bool verbose)
{
    broker_keys_t *self = zhub_calloc (1, sizeof *self);
    self->dir = zhub_strdup (dir);
    self->verbose = verbose;
    broker_keys_refresh (self);
    return self;
}

void
broker_keys_destroy (broker_keys_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_keys_t *self = *self_p;
    s_clear (self);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

const zhub_key_t *
broker_keys_find (const broker_keys_t *self, const char *public_key)
{
    if (!public_key)
        return NULL;
    for (size_t i = 0; i < self->count; i++)
        if (!strcmp (self->keys[i].public_key, public_key))
            return &self->keys[i];
    return NULL;
}

size_t
broker_keys_count (const broker_keys_t *self)
{
    return self->count;
}

const zhub_key_t *
broker_keys_at (const broker_keys_t *self, size_t i)
{
    return i < self->count ? &self->keys[i] : NULL;
}

uint64_t
broker_keys_generation (const broker_keys_t *self)
{
    return self->generation;
}

//  -------------------------------------------------------------------
//  zauth's copy

static void
s_hex_name (const char *public_key, char *out)
{
    uint8_t bytes[32];
    zmq_z85_decode (bytes, public_key);
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf (out + 2 * i, 3, "%02x", bytes[i]);
}

int
broker_keys_mirror (const broker_keys_t *self, const char *dir)
{
    if (zsys_dir_create ("%s", dir))
        return -1;
    int rc = 0;
    bool changed = false;
    //  drop what is no longer allowed (and anything else)
    DIR *d = opendir (dir);
    struct dirent *entry;
    while (d && (entry = readdir (d))) {
        if (entry->d_name[0] == '.')
            continue;
        bool keep = false;
        keep = !strcmp (entry->d_name, "stamp");
        for (size_t i = 0; i < self->count && !keep; i++) {
            char name[65];
            s_hex_name (self->keys[i].public_key, name);
            keep = !strcmp (entry->d_name, name);
        }
        if (!keep) {
            char *path = zhub_sprintf ("%s/%s", dir, entry->d_name);
            if (unlink (path))
                rc = -1;
            free (path);
            changed = true;
        }
    }
    if (d)
        closedir (d);
    //  add what is new: written aside under a name zauth skips
    //  ("_secret"), then renamed, so zauth never reads half a file
    for (size_t i = 0; i < self->count; i++) {
        char name[65];
        s_hex_name (self->keys[i].public_key, name);
        char *path = zhub_sprintf ("%s/%s", dir, name);
        char *aside = zhub_sprintf ("%s/%s.new_secret", dir, name);
        struct stat st;
        if (stat (path, &st)) {
            uint8_t public_key[32], secret_key[32] = {0};
            zmq_z85_decode (public_key, self->keys[i].public_key);
            zcert_t *cert = zcert_new_from (public_key, secret_key);
            if (zcert_save_public (cert, aside) || rename (aside, path))
                rc = -1;
            zcert_destroy (&cert);
            changed = true;
        }
        free (aside);
        free (path);
    }
    //  zauth notices a change by the files' count, total size and newest
    //  time (in seconds): a key swapped for another within one second
    //  keeps all three, so a stamp whose size alternates moves the total
    if (changed) {
        char *path = zhub_sprintf ("%s/stamp", dir);
        struct stat st;
        bool two = stat (path, &st) == 0 && st.st_size == 1;
        FILE *file = fopen (path, "w");
        if (!file || fputs (two ? "zz" : "z", file) < 0)
            rc = -1;
        if (file)
            fclose (file);
        free (path);
    }
    return rc;
}
