/*
 * Where a command's output goes, and writing it without ever leaving a
 * half-written file (--json, --trades, --out, backup DEST, ...).
 *
 *   "-", /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N
 *                      the open descriptor itself (as the shell does)
 *   a character device or a FIFO (also through a symlink)
 *                      written straight to it; a FIFO without a reader is
 *                      refused rather than waited for
 *   a regular file or a new path
 *                      a temporary file in the same folder, fsync, rename
 *                      over the target, fsync of the folder; an existing
 *                      file keeps its mode (and, for root, its owner)
 *   a symlink to a regular file
 *                      the link is resolved and its target is replaced the
 *                      same way: the link stays a link
 *   anything else      refused with the reason: a missing folder, a folder,
 *                      a dangling symlink, a block device, a socket
 */
#ifndef QH_CLI_OUTPUT_H
#define QH_CLI_OUTPUT_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct qh_out_dest {
    int stream_fd;            /* >= 0: write straight to this descriptor (ours to close) */
    char path[PATH_MAX];      /* stream_fd < 0: the file to replace, symlinks resolved;
                               * a stream: its name for messages */
} qh_out_dest;

/* Decide where `path` goes. 0, or -1 with the reason in err ("folder x
 * does not exist"): bad input, exit status 2. A stream is opened here. */
int qh_out_resolve(const char *path, qh_out_dest *d, char *err, size_t errlen);

typedef struct qh_out {
    FILE *f;                  /* write the output here */
    qh_out_dest dest;
    char tmp[PATH_MAX];       /* the temporary beside dest.path, or "" */
    int tmp_id;               /* tmp's qh_cli_tmp_add id (removed on a signal), or 0 */
    FILE *held_for;           /* qh_out_open_held on a stream: f is a temporary copied here at commit */
} qh_out;

/* Resolve and open. 0, or -1 with the reason in err (bad input: exit 2). */
int qh_out_open(qh_out *o, const char *path, char *err, size_t errlen);
/* The same, but what goes to a stream ("-", a FIFO, a device) is held in a
 * temporary file until qh_out_commit: an output written as a run goes
 * (--trades) shows nothing of a run that later turns out void. */
int qh_out_open_held(qh_out *o, const char *path, char *err, size_t errlen);
/* Finish: flush, fsync, rename into place. 0, or -1 with the reason in err
 * and nothing left behind but what the target held before (exit 1). */
int qh_out_commit(qh_out *o, char *err, size_t errlen);
/* Give up: the target keeps what it held, the temporary is removed. Safe
 * on an unopened or committed qh_out (zero it first). */
void qh_out_abort(qh_out *o);
/* Whether the output goes to this process's standard output. */
bool qh_out_is_stdout(const qh_out *o);

/* A path given to an option, for qh_out_refuse_same_file. */
typedef struct qh_opt_path {
    const char *opt;          /* "--json" */
    const char *path;         /* NULL or "": not given */
} qh_opt_path;

/* Refuse an output that would replace one of the inputs (`--data x.csv
 * --json x.csv` destroys the data) or another output's file: the same file
 * by identity (device and inode, through symlinks and hard links; a new
 * path by its folder's identity and its name). Streams ("-", /dev/fd/N,
 * devices, FIFOs) are never the same file: two outputs may share one. 0,
 * or -1 with one line naming both options in err (bad input, exit 2). */
int qh_out_refuse_same_file(const qh_opt_path *outs, size_t nout, const qh_opt_path *ins, size_t nin, char *err,
                            size_t errlen);

#endif
