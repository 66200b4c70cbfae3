/*
 * sized_copy — how the host writes a struct into a plugin's memory (SDK 2.0
 * rule): never more than the caller's size, and what the caller's newer
 * struct has beyond the host's own size is zeroed (the host does not know
 * those fields: 0 is "unknown"). Used by the host's services and by the mock
 * host, so both write the same bytes.
 */
#ifndef QH_SIZED_COPY_H
#define QH_SIZED_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/plugin.h>

/* Copy src (src_size bytes) into dst, which holds dst_size bytes. */
void qh_sized_copy(void *dst, size_t dst_size, const void *src, size_t src_size);

/* For a struct that starts with uint32_t size set by the caller: copy the
 * members after it; out->size stays the caller's. QTR_EINVAL (nothing
 * written) when out is NULL or its size cannot even hold the size. */
int qh_sized_out(void *out, const void *src, size_t src_size);

/* Fill a plugin's list with up to l->cap of n items of item_size bytes each
 * (the host's size), at the plugin's stride l->item_size; sets l->n and
 * returns it. A list that is NULL or malformed (size, item_size 0, no items
 * with cap > 0) gets nothing: 0. */
size_t qh_list_fill(qtr_list *l, const void *items, size_t n, size_t item_size);

/* The same, one item at a time: item i of a list being filled by a loop
 * (i < l->cap). */
void qh_list_put(qtr_list *l, size_t i, const void *item, size_t item_size);

/* For a host function that fills an array of its own items (fill(ud, buf,
 * cap) returns how many): straight into the list when the plugin's item
 * size is the host's, else through a scratch array. */
size_t qh_list_fill_by(qtr_list *l, size_t item_size, size_t (*fill)(void *ud, void *buf, size_t cap), void *ud);

/* An array of n items laid out at from_size bytes each, as an array at
 * to_size each (a plugin's stride to the host's, or the other way): each
 * item cut or zero-extended by qh_sized_copy. The same pointer when the
 * sizes are equal or n is 0 (*owned NULL); else a copy the caller frees
 * through *owned; NULL when out of memory. */
const void *qh_sized_array(const void *items, size_t n, size_t from_size, size_t to_size, void **owned);

/* True if l is a list the host may write to. */
bool qh_list_ok(const qtr_list *l);

#endif
