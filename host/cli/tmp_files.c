/* tmp_files.c — temporary files removed when a signal ends the command
 * (see cli.h). The handler only reads names prepared here in advance,
 * unlinks them and dies of the same signal: nothing in it allocates,
 * formats or locks. */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal handler reads lock-free atomics only");

#define TMP_SLOTS 16
#define TMP_NAMES 6   /* a database, its -journal, -wal, -shm, and a backup's .partial and .partial-journal */

static char names[TMP_SLOTS][TMP_NAMES][PATH_MAX];
static char folders[TMP_SLOTS][PATH_MAX];   /* removed after the slot's names; "" for none */
/* How many names of a slot the handler removes: 0 while the slot is being
 * filled and once it is forgotten. A slot is never filled twice, so a
 * handler running on another thread never reads a name being rewritten. */
static atomic_int ready[TMP_SLOTS];
static atomic_int used;

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void on_stop_signal(int sig)
{
    for (int i = 0; i < TMP_SLOTS; i++) {
        int n = atomic_load(&ready[i]);
        for (int k = 0; k < n && k < TMP_NAMES; k++) unlink(names[i][k]);
        if (n > 0 && folders[i][0]) rmdir(folders[i]);
    }
    /* die of the signal itself, as without the handler: the shell's 130 or 143 */
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);   /* blocked until this handler returns, then the default action */
}

void qh_cli_tmp_on_signals(void)
{
    static bool installed;
    if (installed) return;
    installed = true;
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) sigaddset(&sa.sa_mask, stop_signals[i]);
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) {
        struct sigaction old;
        /* ignored by whoever started us (nohup, a background job): stays ignored */
        if (sigaction(stop_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(stop_signals[i], &sa, NULL);
    }
}

void qh_cli_tmp_hold(sigset_t *saved)
{
    sigset_t block;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) sigaddset(&block, stop_signals[i]);
    pthread_sigmask(SIG_BLOCK, &block, saved);
}

void qh_cli_tmp_release(const sigset_t *saved) { pthread_sigmask(SIG_SETMASK, saved, NULL); }

int qh_cli_tmp_add(const char *path, unsigned what)
{
    static const struct { unsigned what; const char *suffix; } kinds[TMP_NAMES] = {
        { QH_TMP_FILE | QH_TMP_DB, "" },
        { QH_TMP_DB, "-journal" },
        { QH_TMP_DB, "-wal" },
        { QH_TMP_DB, "-shm" },
        { QH_TMP_BACKUP, QH_STORE_BACKUP_SUFFIX },
        { QH_TMP_BACKUP, QH_STORE_BACKUP_SUFFIX "-journal" },
    };
    if (!path || !*path) return 0;
    int slot = atomic_fetch_add(&used, 1);
    if (slot >= TMP_SLOTS) return 0;   /* not removed on a signal; every other path still removes it */
    int n = 0;
    for (int k = 0; k < TMP_NAMES; k++) {
        if (!(kinds[k].what & what)) continue;
        int w = snprintf(names[slot][n], PATH_MAX, "%s%s", path, kinds[k].suffix);
        if (w < 0 || w >= PATH_MAX) return 0;   /* a cut name could be another file: none at all */
        n++;
    }
    const char *slash = strrchr(path, '/');
    if ((what & QH_TMP_FOLDER) && slash && slash > path)
        snprintf(folders[slot], PATH_MAX, "%.*s", (int)(slash - path), path);   /* shorter than path: fits */
    atomic_store(&ready[slot], n);
    return slot + 1;
}

void qh_cli_tmp_forget(int id)
{
    if (id > 0 && id <= TMP_SLOTS) atomic_store(&ready[id - 1], 0);
}
