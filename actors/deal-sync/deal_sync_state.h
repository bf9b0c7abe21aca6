//  deal-sync's record of one deal (the value of the `deals` table, see
//  deal_sync_io.h) and the small helpers the I/O files share to read
//  table values. Private to deal-sync's I/O side.
#ifndef DEAL_SYNC_STATE_H
#define DEAL_SYNC_STATE_H

#include "zhub_common.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char *deal_id;
    char *contact_id;
    char *bird_id;
    char *stage;      //  the stage as we last wrote or saw it
    int64_t stage_ms; //  when that stage was set (event time)
    bool associated;
} deal_state_t;

void deal_state_clear (deal_state_t *state);

//  JSON text {v, deal_id?, hubspot_contact_id?, bird_id?, stage?, stage_ms,
//  associated}; the caller frees it.
char *deal_state_encode (const deal_state_t *state);

//  Reads what deal_state_encode wrote. 0, or -1 (not a JSON object; state
//  left empty).
int deal_state_decode (const void *text, size_t size, deal_state_t *state);

//  obj[key] when obj is an object and the value a string, else NULL.
const char *deal_json_str (const json_t *obj, const char *key);

//  A table value (not NUL-terminated) as a fresh C string.
char *deal_dup_value (const void *value, size_t size);

#endif
