//  The console's page (gateway/console/: HTML, CSS, JS), compiled into the
//  gateway at build time by console_embed.py so that the page needs
//  nothing but the gateway: no CDN, no file beside the binary, no
//  internet access. The generated console_assets.c defines what this
//  header declares.
#ifndef ZHUB_GATEWAY_CONSOLE_ASSETS_H
#define ZHUB_GATEWAY_CONSOLE_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *name;         //  file name under gateway/console/ ("console.js")
    const char *content_type; //  from its extension
    const unsigned char *data;
    size_t size;
} zhub_console_asset_t;

//  The asset named name (a bare file name), or NULL.
const zhub_console_asset_t *zhub_console_asset (const char *name);

#endif
