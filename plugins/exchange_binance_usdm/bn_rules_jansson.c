/* bn_rules_jansson.c — bn_exchange_info_parse: exchangeInfo from a jansson
 * tree, for the paper exchange's symbols_file loader (plugins/exchange_paper
 * loads the file with jansson). In binance_usdm_core only, never in the
 * plugin: the tree is written back to text and read by bn_exchange_info_read,
 * so there is still one reader of the format. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bn_rules.h"

int bn_exchange_info_parse(const struct json_t *root, bn_exchange_info *out, char *err, size_t errlen)
{
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    if (!text) {
        memset(out, 0, sizeof *out);
        snprintf(err, errlen, "field 'symbols' missing or not an array");
        return -1;
    }
    int rc = bn_exchange_info_read(text, strlen(text), out, err, errlen);
    free(text);
    return rc;
}
