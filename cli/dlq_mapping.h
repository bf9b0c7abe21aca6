//  The preview of a dead letter under the mapping the actors would read
//  now (dlq_preview.h), with its inputs: the mapping file loaded with the
//  actors' own loader, and what contact-sync and deal-sync stored about
//  the contact or deal, read from their LMDB environments under
//  $ZHUB_DATA_DIR opened read-only (docs/adr/0004). `zhub dlq replay
//  --dry-run`, `zhub dlq edit --dry-run` and the gateway's console
//  (gateway/console_letters.c) show it. A library of its own
//  (zhub_dlq_mapping_dep) so that both link the one implementation.
#ifndef ZHUB_DLQ_MAPPING_H
#define ZHUB_DLQ_MAPPING_H

#include "zhub_msg.h"

#include <jansson.h>

typedef struct zhub_dlq_mapping_t zhub_dlq_mapping_t;

//  Loads the mapping the actors would read now: file, or else
//  $ZHUB_MAPPING_FILE (none: the built-in defaults), with the same loader
//  the actors use. Never NULL: a file that does not load is reported in
//  every preview (the actors would refuse to start with it).
zhub_dlq_mapping_t *zhub_dlq_mapping_new (const char *file);
void zhub_dlq_mapping_destroy (zhub_dlq_mapping_t **self_p);

//  What the letter's group would do with msg under the mapping (see
//  zhub_dlq_preview), reading what contact-sync and deal-sync stored under
//  $ZHUB_DATA_DIR read-only; with "mapping": the file, or null for the
//  built-in defaults. A new object.
json_t *zhub_dlq_mapping_preview (zhub_dlq_mapping_t *self, const char *group,
                                  const zhub_msg_t *msg);

#endif
