/* crc32c.c — see crc32c.h. Slicing-by-one over a table built once. */
#include "bus/crc32c.h"

#include <pthread.h>

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
}

uint32_t qh_crc32c(const void *data, size_t len)
{
    pthread_once(&table_once, build_table);
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    while (len--) c = table[(c ^ *p++) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}
