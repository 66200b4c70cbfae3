/* page_assets — the operator's page (HTML, CSS, JS from page/), compiled
 * into the plugin at build time by embed_page.cmake: nothing to find on disk
 * at run time and nothing fetched from outside. */
#ifndef DASH_PAGE_ASSETS_H
#define DASH_PAGE_ASSETS_H

#include <stddef.h>

typedef struct page_asset {
    const char *path;              /* "/" for index.html, else "/<file>" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} page_asset;

extern const page_asset dash_page_assets[];
extern const size_t dash_page_asset_count;

#endif
