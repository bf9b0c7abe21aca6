//  A minimal test harness: each unit test is one executable with named
//  cases; a failed CHECK prints file:line and the expression and marks the
//  case failed. main() runs the cases and exits non-zero on any failure,
//  which is what meson test reads.
#ifndef ZHUB_TEST_H
#define ZHUB_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int zhub_test_failures = 0;
static int zhub_test_case_failed = 0;

#define CHECK(expr)                                                                   \
    do {                                                                              \
        if (!(expr)) {                                                                \
            fprintf (stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
            zhub_test_case_failed = 1;                                                \
        }                                                                             \
    } while (0)

#define CHECK_STR(a, b)                                                                        \
    do {                                                                                       \
        const char *_a = (a), *_b = (b);                                                       \
        if (!_a || !_b || strcmp (_a, _b)) {                                                   \
            fprintf (stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, _a ? _a : "(null)", \
                     _b ? _b : "(null)");                                                      \
            zhub_test_case_failed = 1;                                                         \
        }                                                                                      \
    } while (0)

#define RUN(test)                                                        \
    do {                                                                 \
        zhub_test_case_failed = 0;                                       \
        test ();                                                         \
        printf ("%s %s\n", zhub_test_case_failed ? "FAIL" : "ok  ", #test); \
        zhub_test_failures += zhub_test_case_failed;                     \
    } while (0)

#define TEST_EXIT() return zhub_test_failures ? 1 : 0

//  The folder of the providers' vectors and samples: tests/fixtures of this
//  checkout (set by meson), never anything outside it.
static inline const char *
zhub_test_fixtures_dir (void)
{
    return ZHUB_FIXTURES_DIR;
}

//  True when the file at path holds the bytes of needle anywhere (erase
//  tests: personal data must be gone from a store file, freed pages too).
static inline int
zhub_test_file_contains (const char *path, const char *needle)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return 0;
    size_t size = 0, cap = 1 << 16, got;
    char *bytes = malloc (cap);
    while ((got = fread (bytes + size, 1, cap - size, file)) > 0) {
        size += got;
        if (size == cap)
            bytes = realloc (bytes, cap *= 2);
    }
    fclose (file);
    size_t len = strlen (needle);
    int found = 0;
    for (size_t i = 0; !found && len && i + len <= size; i++)
        found = !memcmp (bytes + i, needle, len);
    free (bytes);
    return found;
}

#endif
