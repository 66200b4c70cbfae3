/* bus/disk_buffer: records are framed and checksummed, come back in order,
 * survive a reopen until acknowledged, a torn last record is cut with a log
 * line, a corrupt record in the middle stops the buffer with a clear error,
 * and a full buffer refuses instead of dropping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qtr/plugin.h>

#include "bus/crc32c.h"
#include "bus_tmpdir.h"
#include "bus/disk_buffer.h"
#include "core/log.h"

static char g_dir[64], g_path[96];
static char g_log[4096];

static int setup(void **state)
{
    (void)state;
    if (bus_tmpdir(g_dir, sizeof g_dir, "dbuf") != 0) return -1;
    snprintf(g_path, sizeof g_path, "%s/bus.buf", g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_path);
    return rmdir(g_dir);
}

static qh_dbuf *open_ok(size_t cap)
{
    char err[512] = "";
    qh_dbuf *b = qh_dbuf_open(g_path, cap, err, sizeof err);
    if (!b) fail_msg("open: %s", err);
    return b;
}

static void append_n(qh_dbuf *b, int from, int to)
{
    char rec[64], err[256];
    for (int i = from; i < to; i++) {
        int n = snprintf(rec, sizeof rec, "event-%06d", i);
        assert_int_equal(qh_dbuf_append(b, rec, (size_t)n, false, err, sizeof err), QTR_OK);
    }
}

/* Reads every unsent record and checks it is event-<from>..event-<to-1>. */
static uint64_t expect_records(qh_dbuf *b, int from, int to)
{
    char err[256], want[64];
    const void *data;
    size_t len;
    uint64_t end = 0;
    for (int i = from; i < to; i++) {
        assert_int_equal(qh_dbuf_next(b, &data, &len, &end, err, sizeof err), 1);
        int n = snprintf(want, sizeof want, "event-%06d", i);
        assert_int_equal(len, (size_t)n);
        assert_memory_equal(data, want, len);
    }
    assert_int_equal(qh_dbuf_next(b, &data, &len, &end, err, sizeof err), 0);
    return end;
}

static long file_size(void)
{
    struct stat st;
    assert_int_equal(stat(g_path, &st), 0);
    return (long)st.st_size;
}

static void framing_and_checksum(void **state)
{
    (void)state;
    /* CRC-32C check value of "123456789" */
    assert_int_equal(qh_crc32c("123456789", 9), 0xE3069283u);
    qh_dbuf *b = open_ok(10);
    char err[256];
    assert_int_equal(qh_dbuf_append(b, "hello", 5, false, err, sizeof err), QTR_OK);
    assert_int_equal(qh_dbuf_sync(b, err, sizeof err), QTR_OK);
    qh_dbuf_close(b);
    unsigned char raw[64];
    int fd = open(g_path, O_RDONLY);
    assert_int_equal(read(fd, raw, sizeof raw), QH_DBUF_HEADER + QH_DBUF_FRAME + 5);
    close(fd);
    assert_memory_equal(raw, "QTRBUF1", 8);
    assert_int_equal(raw[8], QH_DBUF_HEADER);     /* head: the first record */
    const unsigned char *fr = raw + QH_DBUF_HEADER;
    assert_int_equal(fr[0] | fr[1] << 8 | fr[2] << 16 | (uint32_t)fr[3] << 24, 5);
    uint32_t crc = fr[4] | fr[5] << 8 | fr[6] << 16 | (uint32_t)fr[7] << 24;
    assert_int_equal(crc, qh_crc32c("hello", 5));
    assert_memory_equal(fr + 8, "hello", 5);
    /* empty and oversized records are refused */
    b = open_ok(10);
    assert_int_equal(qh_dbuf_append(b, "", 0, false, err, sizeof err), QTR_EINVAL);
    static char big[QH_DBUF_RECORD_MAX + 1];
    assert_int_equal(qh_dbuf_append(b, big, sizeof big, false, err, sizeof err), QTR_EINVAL);
    assert_int_equal(qh_dbuf_count(b), 1);
    qh_dbuf_close(b);
    unlink(g_path);
}

static void replay_order_and_ack(void **state)
{
    (void)state;
    qh_dbuf *b = open_ok(1000);
    append_n(b, 0, 300);
    assert_int_equal(qh_dbuf_count(b), 300);
    /* hand out 100, acknowledge them: they are gone after a reopen */
    char err[256];
    const void *data;
    size_t len;
    uint64_t end = 0, end100 = 0;
    for (int i = 0; i < 100; i++) assert_int_equal(qh_dbuf_next(b, &data, &len, &end100, err, sizeof err), 1);
    assert_int_equal(qh_dbuf_ack(b, end100, err, sizeof err), QTR_OK);
    assert_int_equal(qh_dbuf_count(b), 200);
    /* hand out 50 more, lose the connection: they come again */
    for (int i = 0; i < 50; i++) assert_int_equal(qh_dbuf_next(b, &data, &len, &end, err, sizeof err), 1);
    qh_dbuf_rewind(b);
    assert_int_equal(qh_dbuf_unsent(b), 200);
    /* an ack of an offset never handed out is refused */
    assert_int_equal(qh_dbuf_ack(b, end + 1, err, sizeof err), QTR_EINVAL);
    qh_dbuf_close(b);   /* not acknowledged: kept */
    b = open_ok(1000);
    assert_int_equal(qh_dbuf_count(b), 200);
    append_n(b, 300, 310);  /* appended after a reopen: after the old ones */
    end = expect_records(b, 100, 310);
    long before = file_size();
    assert_true(before > QH_DBUF_HEADER);
    assert_int_equal(qh_dbuf_ack(b, end, err, sizeof err), QTR_OK);
    /* all acknowledged: truncated */
    assert_int_equal(qh_dbuf_count(b), 0);
    assert_int_equal(file_size(), QH_DBUF_HEADER);
    append_n(b, 400, 402);
    expect_records(b, 400, 402);
    qh_dbuf_close(b);
    unlink(g_path);
}

static void capture_log(void)
{
    g_log[0] = 0;
    FILE *f = fmemopen(g_log, sizeof g_log, "w");
    setvbuf(f, NULL, _IONBF, 0);
    qh_log_init(f, QH_LOG_INFO, false);
}

static void torn_tail_is_dropped_with_a_log_line(void **state)
{
    (void)state;
    /* a short write: the frame says 11 bytes, fewer made it */
    qh_dbuf *b = open_ok(100);
    append_n(b, 0, 5);
    qh_dbuf_close(b);
    long full = file_size();
    assert_int_equal(truncate(g_path, full - 4), 0);
    capture_log();
    b = open_ok(100);
    assert_non_null(strstr(g_log, "torn last record"));
    assert_int_equal(qh_dbuf_count(b), 4);
    assert_int_equal(file_size(), full - (QH_DBUF_FRAME + 12));
    append_n(b, 5, 6);      /* the next record goes where the torn one was */
    qh_dbuf_close(b);
    b = open_ok(100);
    char err[256];
    const void *data;
    size_t len;
    uint64_t end;
    for (int i = 0; i < 4; i++) assert_int_equal(qh_dbuf_next(b, &data, &len, &end, err, sizeof err), 1);
    assert_int_equal(qh_dbuf_next(b, &data, &len, &end, err, sizeof err), 1);
    assert_memory_equal(data, "event-000005", 12);
    qh_dbuf_close(b);

    /* a whole-length record whose bytes are wrong, last in the file: torn too */
    int fd = open(g_path, O_RDWR);
    unsigned char x = 'Z';
    assert_int_equal(pwrite(fd, &x, 1, file_size() - 1), 1);
    close(fd);
    capture_log();
    b = open_ok(100);
    assert_non_null(strstr(g_log, "torn last record"));
    assert_int_equal(qh_dbuf_count(b), 4);
    /* half a frame left at the end */
    qh_dbuf_close(b);
    fd = open(g_path, O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, "\x0c\x00", 2), 2);
    close(fd);
    b = open_ok(100);
    assert_int_equal(qh_dbuf_count(b), 4);
    qh_dbuf_close(b);
    qh_log_init(stderr, QH_LOG_INFO, false);
    unlink(g_path);
}

static void inspect_counts_without_changing(void **state)
{
    (void)state;
    qh_dbuf *b = open_ok(100);
    append_n(b, 0, 7);
    char err[256];
    const void *data;
    size_t len;
    uint64_t end;
    assert_int_equal(qh_dbuf_next(b, &data, &len, &end, err, sizeof err), 1);
    assert_int_equal(qh_dbuf_ack(b, end, err, sizeof err), QTR_OK);   /* 6 left */
    size_t n = 0;
    bool bad = true;
    assert_int_equal(qh_dbuf_inspect(g_path, &n, &bad, err, sizeof err), 0);
    assert_int_equal(n, 6);
    assert_false(bad);
    qh_dbuf_close(b);
    /* a torn tail is reported, and the file is left as it was */
    long full = file_size();
    assert_int_equal(truncate(g_path, full - 3), 0);
    assert_int_equal(qh_dbuf_inspect(g_path, &n, &bad, err, sizeof err), 0);
    assert_int_equal(n, 5);
    assert_true(bad);
    assert_int_equal(file_size(), full - 3);
    assert_int_equal(qh_dbuf_inspect("/nonexistent-qtr/bus.buf", &n, &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
    unlink(g_path);
}

static void corrupt_middle_stops_replay(void **state)
{
    (void)state;
    qh_dbuf *b = open_ok(100);
    append_n(b, 0, 5);
    qh_dbuf_close(b);
    /* flip one payload byte of the third record */
    long off = QH_DBUF_HEADER + 2 * (QH_DBUF_FRAME + 12) + QH_DBUF_FRAME + 3;
    int fd = open(g_path, O_RDWR);
    unsigned char x = '#';
    assert_int_equal(pwrite(fd, &x, 1, off), 1);
    close(fd);
    long size = file_size();
    char err[512] = "";
    assert_null(qh_dbuf_open(g_path, 100, err, sizeof err));
    assert_non_null(strstr(err, g_path));
    assert_non_null(strstr(err, "corrupt record (checksum mismatch)"));
    assert_non_null(strstr(err, "replay stopped (2 good records before it)"));
    /* nothing was cut */
    assert_int_equal(file_size(), size);
    /* an impossible length in the middle is corruption as well */
    fd = open(g_path, O_RDWR);
    x = 'e';
    assert_int_equal(pwrite(fd, &x, 1, off), 1);   /* repaired */
    unsigned char len[4] = { 0, 0, 0, 0 };
    assert_int_equal(pwrite(fd, len, 4, QH_DBUF_HEADER + (QH_DBUF_FRAME + 12)), 4);
    close(fd);
    assert_null(qh_dbuf_open(g_path, 100, err, sizeof err));
    assert_non_null(strstr(err, "impossible length"));
    unlink(g_path);
}

static void full_buffer_refuses(void **state)
{
    (void)state;
    qh_dbuf *b = open_ok(3);
    append_n(b, 0, 3);
    char err[256] = "";
    assert_int_equal(qh_dbuf_append(b, "x", 1, false, err, sizeof err), QTR_EFULL);
    assert_non_null(strstr(err, "full (3 events)"));
    assert_int_equal(qh_dbuf_count(b), 3);
    const void *data;
    size_t len;
    uint64_t end;
    assert_int_equal(qh_dbuf_next(b, &data, &len, &end, err, sizeof err), 1);
    assert_int_equal(qh_dbuf_ack(b, end, err, sizeof err), QTR_OK);
    assert_int_equal(qh_dbuf_append(b, "x", 1, false, err, sizeof err), QTR_OK);
    qh_dbuf_close(b);
    unlink(g_path);
}

/* Full, an urgent record (the ESS trip, the alert saying the buffer is
 * full) still goes in, up to the reserve; every record is handed out and
 * acknowledged in order after it. */
static void urgent_records_use_the_reserve(void **state)
{
    (void)state;
    qh_dbuf *b = open_ok(3);
    append_n(b, 0, 3);
    char err[256] = "";
    assert_int_equal(qh_dbuf_append(b, "x", 1, false, err, sizeof err), QTR_EFULL);
    for (unsigned i = 0; i < QH_DBUF_URGENT_RESERVE; i++)
        assert_int_equal(qh_dbuf_append(b, "u", 1, true, err, sizeof err), QTR_OK);
    assert_int_equal(qh_dbuf_append(b, "u", 1, true, err, sizeof err), QTR_EFULL);
    assert_non_null(strstr(err, "full (3 events and its reserve)"));
    assert_int_equal(qh_dbuf_count(b), 3 + QH_DBUF_URGENT_RESERVE);
    const void *data;
    size_t len;
    uint64_t end = 0;
    size_t n = 0;
    while (qh_dbuf_next(b, &data, &len, &end, err, sizeof err) == 1) {
        if (n >= 3) {   /* the urgent ones, after the three before them */
            assert_int_equal(len, 1);
            assert_memory_equal(data, "u", 1);
        }
        n++;
    }
    assert_int_equal(n, 3 + QH_DBUF_URGENT_RESERVE);
    assert_int_equal(qh_dbuf_ack(b, end, err, sizeof err), QTR_OK);
    assert_int_equal(qh_dbuf_count(b), 0);
    qh_dbuf_close(b);
    unlink(g_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(framing_and_checksum),
        cmocka_unit_test(replay_order_and_ack),
        cmocka_unit_test(torn_tail_is_dropped_with_a_log_line),
        cmocka_unit_test(corrupt_middle_stops_replay),
        cmocka_unit_test(full_buffer_refuses),
        cmocka_unit_test(urgent_records_use_the_reserve),
        cmocka_unit_test(inspect_counts_without_changing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
