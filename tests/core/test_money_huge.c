/*
 * qtr_dec_parse() on numbers with more than 2^31 digits: digit counts are
 * size_t, so a fraction or a whole part longer than INT_MAX is counted, not
 * overflowed (issue 10: an int count overflowed at money.h:249,252).
 *
 * The text is 2 GiB and more of address space but costs little memory: the
 * long run of zeros is one small memfd mapped again and again, between a
 * private first page (sign, leading digits) and a private last page (the
 * exponent).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <qtr/money.h>

#define PAGE  ((size_t)4096)
#define CHUNK ((size_t)16 << 20)            /* one memfd of '0's, mapped CHUNKS times */
#define CHUNKS ((size_t)129)                /* 129 * 16 MiB > 2^31 */

typedef struct huge_text {
    char *base;
    size_t total;
    char *head, *tail;                      /* the private first and last pages */
} huge_text;

static void map_huge(huge_text *h)
{
    h->total = PAGE + CHUNKS * CHUNK + PAGE;
    h->base = mmap(NULL, h->total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(h->base != MAP_FAILED);
    int fd = memfd_create("qtr-zeros", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)CHUNK), 0);
    char *zeros = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(zeros != MAP_FAILED);
    memset(zeros, '0', CHUNK);
    munmap(zeros, CHUNK);
    for (size_t k = 0; k < CHUNKS; k++) {
        void *at = h->base + PAGE + k * CHUNK;
        assert_true(mmap(at, CHUNK, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == at);
    }
    close(fd);
    h->head = h->base;
    h->tail = h->base + PAGE + CHUNKS * CHUNK;
    assert_true(mmap(h->head, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == h->head);
    assert_true(mmap(h->tail, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == h->tail);
}

static void unmap_huge(huge_text *h) { munmap(h->base, h->total); }

/* head ("0." or "1" then zeros to the end of the page), CHUNKS * CHUNK
 * zeros, then tail: parsed as one number of `len` bytes. */
static qtr_dec_status parse_huge(huge_text *h, const char *head, const char *tail, qtr_dec *v, size_t *zeros)
{
    memset(h->head, '0', PAGE);
    memcpy(h->head, head, strlen(head));
    size_t tl = strlen(tail);
    memcpy(h->tail, tail, tl);
    *zeros = PAGE - strlen(head) + CHUNKS * CHUNK;
    return qtr_dec_parse(h->base, PAGE + CHUNKS * CHUNK + tl, v);
}

/* "0.000…0001e+N": a fraction of more than 2^31 digits, scaled back to one unit. */
static void fraction_longer_than_int_max(void **state)
{
    (void)state;
    huge_text h;
    map_huge(&h);
    size_t zeros = PAGE - 2 + CHUNKS * CHUNK;
    assert_true(zeros > (size_t)INT32_MAX);
    char tail[64];
    /* 0.(zeros)1 = 10^-(zeros+1); times 10^(zeros+1-8) is 10^-8 */
    snprintf(tail, sizeof tail, "1e%zu", zeros + 1 - 8);
    qtr_dec v = 77;
    size_t z;
    assert_int_equal(parse_huge(&h, "0.", tail, &v, &z), QTR_DEC_OK);
    assert_int_equal(z, zeros);
    assert_int_equal(v, 1);
    unmap_huge(&h);
}

/* "15000…000e-N": a whole part of more than 2^31 digits, scaled back to 1.5. */
static void whole_part_longer_than_int_max(void **state)
{
    (void)state;
    huge_text h;
    map_huge(&h);
    size_t zeros = PAGE - 2 + CHUNKS * CHUNK;
    char tail[64];
    /* 15 * 10^zeros * 10^-(zeros+1) = 1.5 */
    snprintf(tail, sizeof tail, "e-%zu", zeros + 1);
    qtr_dec v = 77;
    size_t z;
    assert_int_equal(parse_huge(&h, "15", tail, &v, &z), QTR_DEC_OK);
    assert_int_equal(z, zeros);
    assert_int_equal(v, 150000000);
    unmap_huge(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fraction_longer_than_int_max),
        cmocka_unit_test(whole_part_longer_than_int_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
