//  A growable list of owned strings, for the small sets of ids a step
//  gathers and then looks up (a person's Bird ids, the bookings or deals
//  an erase found). Linear lookups: meant for a handful of entries.
#ifndef ZHUB_STRLIST_H
#define ZHUB_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **items;
    size_t count;
} zhub_strlist_t;

//  Appends a copy of text (NULL or "" is skipped).
void zhub_strlist_add (zhub_strlist_t *self, const char *text);

//  Appends a copy unless an equal string is there already.
void zhub_strlist_add_unique (zhub_strlist_t *self, const char *text);

//  Appends text itself, which the list now owns (NULL is skipped).
void zhub_strlist_take (zhub_strlist_t *self, char *text);

//  Whether an entry equals text (NULL: false).
bool zhub_strlist_has (const zhub_strlist_t *self, const char *text);

//  Whether an entry equals the size bytes at bytes (not NUL-terminated).
bool zhub_strlist_has_bytes (const zhub_strlist_t *self, const void *bytes, size_t size);

//  Frees every entry; the list is empty and reusable afterwards.
void zhub_strlist_clear (zhub_strlist_t *self);

#endif
