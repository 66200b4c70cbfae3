/*
 * pgo_candles DIR: the candles the profile-guided build (QTR_PGO) trains on.
 *
 * Three symbols of 1m candles (a seeded random walk in whole ticks, so every
 * machine writes the same bytes) and a funding file for the first, in the
 * formats `qtr backtest` reads. The build runs an instrumented qtr over them
 * and compiles the real one with that profile; the data only needs to take
 * the paths a backtest takes (reading, merging, the strategy, the risk
 * policy, fills, funding, the report), not to look like any real market.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#define ROWS 30000
#define START_MS INT64_C(1600000000000)
#define MINUTE_MS INT64_C(60000)
#define FUNDING_EVERY_MS (8 * 60 * MINUTE_MS)

static uint64_t next(uint64_t *s)   /* xorshift64 */
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A step in [-span, span]. */
static int64_t step(uint64_t *s, int64_t span) { return (int64_t)(next(s) % (uint64_t)(2 * span + 1)) - span; }

/* DIR/NAME opened for writing with its header line; NULL (said) on failure. */
static FILE *create(char *path, size_t cap, const char *dir, const char *name, const char *header)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) perror(path);
    else fputs(header, f);
    return f;
}

static int finish(FILE *f, const char *path)
{
    if (fclose(f) == 0) return 0;
    perror(path);
    return -1;
}

static int write_candles(const char *dir, const char *symbol, uint64_t seed, int64_t price)
{
    char name[64], path[4096];
    snprintf(name, sizeof name, "%s-1m.csv", symbol);
    FILE *f = create(path, sizeof path, dir, name, "open_time_ms,open,high,low,close,volume\n");
    if (!f) return -1;
    uint64_t s = seed;
    /* prices in ticks of 0.0001, volumes in lots of 0.001 */
    for (int i = 0; i < ROWS; i++) {
        int64_t open = price, close = open + step(&s, open / 400 + 1);
        if (close < 100) close = 100;
        int64_t high = (open > close ? open : close) + (int64_t)(next(&s) % (uint64_t)(open / 800 + 1));
        int64_t low = (open < close ? open : close) - (int64_t)(next(&s) % (uint64_t)(open / 800 + 1));
        if (low < 50) low = 50;
        int64_t volume = 100000 + (int64_t)(next(&s) % 10000000);
        fprintf(f, "%" PRId64 ",%" PRId64 ".%04" PRId64 ",%" PRId64 ".%04" PRId64 ",%" PRId64 ".%04" PRId64
                   ",%" PRId64 ".%04" PRId64 ",%" PRId64 ".%03" PRId64 "\n",
                START_MS + i * MINUTE_MS, open / 10000, open % 10000, high / 10000, high % 10000, low / 10000,
                low % 10000, close / 10000, close % 10000, volume / 1000, volume % 1000);
        price = close;
    }
    return finish(f, path);
}

static int write_funding(const char *dir, const char *symbol)
{
    char name[64], path[4096];
    snprintf(name, sizeof name, "%s-funding.csv", symbol);
    FILE *f = create(path, sizeof path, dir, name, "funding_time_ms,funding_rate\n");
    if (!f) return -1;
    uint64_t s = 99;
    for (int64_t t = START_MS + FUNDING_EVERY_MS; t < START_MS + ROWS * MINUTE_MS; t += FUNDING_EVERY_MS)
        fprintf(f, "%" PRId64 ",0.000%03" PRId64 "\n", t, (int64_t)(next(&s) % 200));
    return finish(f, path);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    if (write_candles(argv[1], "AAAUSDT", 1, 1000000) != 0 || write_candles(argv[1], "BBBUSDT", 2, 25000) != 0 ||
        write_candles(argv[1], "CCCUSDT", 3, 4000000) != 0 || write_funding(argv[1], "AAAUSDT") != 0)
        return 1;
    return 0;
}
