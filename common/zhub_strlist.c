//  The string list (zhub_strlist.h).
#include "zhub_strlist.h"
#include "zhub_common.h"

#include <stdlib.h>
#include <string.h>

void
zhub_strlist_take (zhub_strlist_t *self, char *text)
{
    if (!text)
        return;
    self->items = zhub_realloc (self->items, (self->count + 1) * sizeof *self->items);
    self->items[self->count++] = text;
}

void
zhub_strlist_add (zhub_strlist_t *self, const char *text)
{
    if (text && *text)
        zhub_strlist_take (self, zhub_strdup (text));
}

void
zhub_strlist_add_unique (zhub_strlist_t *self, const char *text)
{
    if (!zhub_strlist_has (self, text))
        zhub_strlist_add (self, text);
}

bool
zhub_strlist_has (const zhub_strlist_t *self, const char *text)
{
    return text && zhub_strlist_has_bytes (self, text, strlen (text));
}

bool
zhub_strlist_has_bytes (const zhub_strlist_t *self, const void *bytes, size_t size)
{
    for (size_t i = 0; i < self->count; i++)
        if (strlen (self->items[i]) == size && !memcmp (self->items[i], bytes, size))
            return true;
    return false;
}

void
zhub_strlist_clear (zhub_strlist_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free (self->items[i]);
    free (self->items);
    self->items = NULL;
    self->count = 0;
}
