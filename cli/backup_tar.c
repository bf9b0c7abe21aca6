//  A ustar writer and reader for backups (backup_tar.h). Small on purpose:
//  a backup holds folders, LMDB files and one manifest, nothing else, and
//  the reader refuses whatever a backup never holds instead of guessing.
#include "backup_tar.h"

#include <stdlib.h>
#include <string.h>

static void
s_octal (char *field, size_t width, uint64_t value)
{
    //  width - 1 digits, zero-padded, then NUL (callers keep value in range)
    field[width - 1] = 0;
    for (size_t i = width - 1; i > 0; i--) {
        field[i - 1] = (char) ('0' + (value & 7));
        value >>= 3;
    }
}

static uint64_t
s_checksum (const unsigned char *block)
{
    uint64_t sum = 0;
    for (int i = 0; i < ZHUB_TAR_BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : block[i];
    return sum;
}

int
zhub_tar_write_header (FILE *out, const char *name, uint64_t size, bool is_dir, int64_t mtime_s)
{
    size_t len = strlen (name);
    if (len == 0 || len > ZHUB_TAR_NAME_MAX)
        return -1;
    unsigned char block[ZHUB_TAR_BLOCK] = {0};
    memcpy (block, name, len);
    if (is_dir && name[len - 1] != '/') {
        if (len + 1 > ZHUB_TAR_NAME_MAX)
            return -1;
        block[len] = '/';
    }
    s_octal ((char *) block + 100, 8, is_dir ? 0700 : 0600);
    s_octal ((char *) block + 108, 8, 0);
    s_octal ((char *) block + 116, 8, 0);
    if (is_dir)
        size = 0;
    if (size < 077777777777ULL)
        s_octal ((char *) block + 124, 12, size);
    else {
        //  base-256: the high bit of the first byte set, big-endian below
        block[124] = 0x80;
        for (int i = 0; i < 8; i++)
            block[135 - i] = (unsigned char) (size >> (8 * i));
    }
    s_octal ((char *) block + 136, 12, mtime_s > 0 ? (uint64_t) mtime_s : 0);
    block[156] = is_dir ? '5' : '0';
    memcpy (block + 257, "ustar", 6);
    memcpy (block + 263, "00", 2);
    s_octal ((char *) block + 148, 7, s_checksum (block));
    block[155] = ' ';
    return fwrite (block, 1, sizeof block, out) == sizeof block ? 0 : -1;
}

int
zhub_tar_write_body (FILE *out, FILE *in, uint64_t size)
{
    char buf[65536];
    uint64_t left = size;
    while (left > 0) {
        size_t want = left < sizeof buf ? (size_t) left : sizeof buf;
        size_t got = fread (buf, 1, want, in);
        if (got != want || fwrite (buf, 1, got, out) != got)
            return -1;
        left -= got;
    }
    static const char zeros[ZHUB_TAR_BLOCK];
    size_t pad = (size_t) ((ZHUB_TAR_BLOCK - size % ZHUB_TAR_BLOCK) % ZHUB_TAR_BLOCK);
    return fwrite (zeros, 1, pad, out) == pad ? 0 : -1;
}

int
zhub_tar_write_end (FILE *out)
{
    static const char zeros[2 * ZHUB_TAR_BLOCK];
    return fwrite (zeros, 1, sizeof zeros, out) == sizeof zeros ? 0 : -1;
}

static int
s_fail (char *err, size_t err_size, const char *what)
{
    snprintf (err, err_size, "%s", what);
    return -1;
}

static int
s_parse_octal (const unsigned char *field, size_t width, uint64_t *out)
{
    uint64_t value = 0;
    size_t i = 0;
    while (i < width && field[i] == ' ')
        i++;
    size_t digits = 0;
    for (; i < width && field[i] >= '0' && field[i] <= '7'; i++, digits++)
        value = value * 8 + (uint64_t) (field[i] - '0');
    for (; i < width; i++)
        if (field[i] != 0 && field[i] != ' ')
            return -1;
    if (!digits)
        return -1;
    *out = value;
    return 0;
}

int
zhub_tar_read_header (FILE *in, zhub_tar_entry_t *entry, char *err, size_t err_size)
{
    unsigned char block[ZHUB_TAR_BLOCK];
    size_t got = fread (block, 1, sizeof block, in);
    if (got == 0)
        return s_fail (err, err_size, "the archive ends without its end marker");
    if (got != sizeof block)
        return s_fail (err, err_size, "the archive is cut short");
    bool zero = true;
    for (size_t i = 0; i < sizeof block && zero; i++)
        zero = block[i] == 0;
    if (zero)
        return 0;
    if (memcmp (block + 257, "ustar", 5))
        return s_fail (err, err_size, "not a ustar archive");
    uint64_t sum;
    if (s_parse_octal (block + 148, 8, &sum) || sum != s_checksum (block))
        return s_fail (err, err_size, "a header's checksum does not match");
    if (block[345] != 0)
        return s_fail (err, err_size, "a name longer than a backup's");
    memset (entry, 0, sizeof *entry);
    memcpy (entry->name, block, 100);
    entry->name[100] = 0;
    size_t len = strlen (entry->name);
    if (len == 0 || entry->name[0] == '/' || strstr (entry->name, ".."))
        return s_fail (err, err_size, "an entry with an absolute or parent path");
    char type = (char) block[156];
    if (type == '5')
        entry->is_dir = true;
    else if (type != '0' && type != 0)
        return s_fail (err, err_size, "an entry that is neither a file nor a folder");
    if (block[124] & 0x80) {
        uint64_t size = 0;
        for (int i = 128; i < 136; i++)
            size = (size << 8) | block[i];
        entry->size = size;
    } else if (s_parse_octal (block + 124, 12, &entry->size))
        return s_fail (err, err_size, "a header with an unreadable size");
    if (entry->is_dir) {
        entry->size = 0;
        if (entry->name[len - 1] == '/')
            entry->name[len - 1] = 0;
    }
    return 1;
}

int
zhub_tar_read_body (FILE *in, FILE *out, uint64_t size)
{
    char buf[65536];
    uint64_t padded = size + (ZHUB_TAR_BLOCK - size % ZHUB_TAR_BLOCK) % ZHUB_TAR_BLOCK;
    uint64_t left = padded;
    while (left > 0) {
        size_t want = left < sizeof buf ? (size_t) left : sizeof buf;
        size_t got = fread (buf, 1, want, in);
        if (got != want)
            return -1;
        uint64_t done = padded - left;
        if (out && done < size) {
            size_t keep = size - done < got ? (size_t) (size - done) : got;
            if (fwrite (buf, 1, keep, out) != keep)
                return -1;
        }
        left -= got;
    }
    return 0;
}
