/* sized_copy.c — see sized_copy.h. */
#include "core/sized_copy.h"

#include <stdlib.h>
#include <string.h>

void qh_sized_copy(void *dst, size_t dst_size, const void *src, size_t src_size)
{
    size_t n = dst_size < src_size ? dst_size : src_size;
    memcpy(dst, src, n);
    if (dst_size > n) memset((char *)dst + n, 0, dst_size - n);
}

int qh_sized_out(void *out, const void *src, size_t src_size)
{
    uint32_t size;
    if (!out) return QTR_EINVAL;
    memcpy(&size, out, sizeof size);
    if (size < sizeof size || src_size < sizeof size) return QTR_EINVAL;
    qh_sized_copy((char *)out + sizeof size, size - sizeof size, (const char *)src + sizeof size,
                  src_size - sizeof size);
    return QTR_OK;
}

bool qh_list_ok(const qtr_list *l)
{
    return l && l->size >= offsetof(qtr_list, n) + sizeof l->n && l->item_size > 0 && (l->items || l->cap == 0);
}

void qh_list_put(qtr_list *l, size_t i, const void *item, size_t item_size)
{
    qh_sized_copy((char *)l->items + i * l->item_size, l->item_size, item, item_size);
}

size_t qh_list_fill(qtr_list *l, const void *items, size_t n, size_t item_size)
{
    if (!qh_list_ok(l)) return 0;
    size_t k = n < l->cap ? n : l->cap;
    for (size_t i = 0; i < k; i++) qh_list_put(l, i, (const char *)items + i * item_size, item_size);
    l->n = k;
    return k;
}

size_t qh_list_fill_by(qtr_list *l, size_t item_size, size_t (*fill)(void *ud, void *buf, size_t cap), void *ud)
{
    if (!qh_list_ok(l)) return 0;
    if (l->item_size == item_size) {
        size_t n = fill(ud, l->items, l->cap);
        l->n = n < l->cap ? n : l->cap;
        return l->n;
    }
    void *tmp = l->cap ? calloc(l->cap, item_size) : NULL;
    if (l->cap && !tmp) {
        l->n = 0;
        return 0;
    }
    size_t n = fill(ud, tmp, l->cap);
    qh_list_fill(l, tmp, n < l->cap ? n : l->cap, item_size);
    free(tmp);
    return l->n;
}

const void *qh_sized_array(const void *items, size_t n, size_t from_size, size_t to_size, void **owned)
{
    *owned = NULL;
    if (n == 0 || from_size == to_size) return items;
    char *copy = calloc(n, to_size);
    if (!copy) return NULL;
    for (size_t i = 0; i < n; i++)
        qh_sized_copy(copy + i * to_size, to_size, (const char *)items + i * from_size, from_size);
    *owned = copy;
    return copy;
}
