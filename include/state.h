/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * keytrail follow's state file (STATE_DIR/follow.state): where to resume, and what was already
 * emitted. Written only when every alert decided up to the cursor has left through every
 * exactly-once sink: to a temporary file, fsync'ed, renamed over the old one, and the directory
 * fsync'ed, so a reader finds either the old state or the new one, never a mix.
 *
 * Text, one item a line, ends with "end N" (N: the number of id lines), so a cut file is corrupt:
 *
 *     keytrail-follow-state 1
 *     instance HEX32          this follower's identity: its journal alerts carry it
 *     cursor CURSOR           the last entry fully processed (absent before the first entry)
 *     cursor_usec USEC        its realtime
 *     host MACHINE CURSOR USEC   per host (_MACHINE_ID, 32 hex digits, at most STATE_HOSTS_MAX,
 *                             each once): the last entry of that host fully processed, and its
 *                             realtime. Follow reads each host through a handle of its own and
 *                             goes on from these; a state without host lines (written before
 *                             they existed) has only the cursor above, where every host goes on.
 *     replay_usec USEC        first entry of the oldest connection open then (0: none open)
 *     commit_usec USEC        the wall clock at the commit
 *     sink NAME MARK          each exactly-once sink's position at the commit (sink.h)
 *     id HEX32 USEC           alerts emitted since the replay point, with their time
 *     end N
 *
 * The struct owns everything in it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idset.h"
#include "macro.h"

#define STATE_FILE_NAME "follow.state"
#define STATE_LOCK_NAME "follow.lock"
#define STATE_SINKS_MAX 8
#define STATE_HOSTS_MAX 64
#define STATE_FILE_MAX_BYTES (16u * 1024 * 1024)
#define STATE_LINE_MAX 4096

struct state_sink {
        char *name, *mark; /* owned */
};

struct state_host {
        char machine_id[33];
        char *cursor; /* owned */
        uint64_t cursor_usec;
};

struct state {
        char instance[33];
        char *cursor; /* owned; NULL before the first commit */
        uint64_t cursor_usec, replay_usec, commit_usec;
        struct state_host hosts[STATE_HOSTS_MAX];
        unsigned n_hosts;
        struct state_sink sinks[STATE_SINKS_MAX];
        unsigned n_sinks;
        struct idset *ids; /* owned */
};

/* An empty state with a new random instance id. Returns 0, -ENOMEM, or -errno of getrandom. */
_warn_unused_ int state_new(struct state **ret);
struct state *state_free(struct state *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct state *, state_free);

/*
 * Read dir/follow.state. Returns 0 and *ret; -ENOENT when there is none; -EBADMSG when it is
 * corrupt (*reterr_line: the first bad line, 0 for the file as a whole); -E2BIG when it is larger
 * than STATE_FILE_MAX_BYTES; other -errno when it cannot be read.
 */
_warn_unused_ int state_load(const char *dir, struct state **ret, unsigned *reterr_line);

/* Write s to dir/follow.state atomically and durably (temporary file, fsync, rename, fsync of the
 * directory). Returns 0 or -errno; on failure the previous file is untouched. */
_warn_unused_ int state_save(const char *dir, const struct state *s);

/* The text state_save() writes, in *ret (owned by the caller) of *ret_len bytes. 0 or -ENOMEM. */
_warn_unused_ int state_format(const struct state *s, char **ret, size_t *ret_len);

/* Write text (from state_format()) as state_save() does; when sync_fd >= 0, fsync it first (the
 * output file whose marks the text holds). Returns 0 or -errno; the previous file is untouched on
 * failure. */
_warn_unused_ int state_write(const char *dir, const char *text, size_t len, int sync_fd);

/*
 * A background writer: one thread that runs state_write(), so that a follower never waits for the
 * disk (an fsync takes from a millisecond to hundreds of them on a busy disk) between reading an
 * entry and writing its alert. At most one state is in flight; commits are written in the order
 * submitted, each whole. The thread touches nothing but its own job.
 */
struct state_writer;

/* Start the thread for dir (copied). 0 and *ret, -ENOMEM, or -errno of pthread_create. */
_warn_unused_ int state_writer_new(const char *dir, struct state_writer **ret);
/* Finish the state in flight (it is written), stop the thread, free. NULL-safe; returns NULL. */
struct state_writer *state_writer_free(struct state_writer *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct state_writer *, state_writer_free);
/* Hand over text (taken: freed by the writer) and sync_fd (taken: closed by the writer, -1 for
 * none) to be written. 0, or -EBUSY when a state is still in flight (then nothing is taken). */
_warn_unused_ int state_writer_submit(struct state_writer *w, char *text, size_t len, int sync_fd);
/* Whether a state is in flight. */
bool state_writer_busy(struct state_writer *w);
/* The outcome of the state written since the last call, waiting for the one in flight when wait:
 * 1 written, 0 none finished since the last call, -errno of state_write(). */
int state_writer_collect(struct state_writer *w, bool wait);

/* The mark of sink name, or NULL (borrowed from s). */
const char *state_sink_mark(const struct state *s, const char *name);

/* Set the mark of sink name (copied). Returns 0, -ENOMEM, -ENOSPC, -EINVAL (space or newline). */
_warn_unused_ int state_set_sink_mark(struct state *s, const char *name, const char *mark);

/* Set the position of host machine_id (32 hex digits) to cursor (copied) at usec. Returns 0,
 * -ENOMEM, -ENOSPC (STATE_HOSTS_MAX hosts already), -EINVAL (not hex, space or newline). */
_warn_unused_ int state_set_host(struct state *s, const char *machine_id, const char *cursor,
                                 uint64_t usec);

/* Forget every host's position. */
void state_clear_hosts(struct state *s);

/* The position of host machine_id, or NULL (borrowed from s). */
const struct state_host *state_host(const struct state *s, const char *machine_id);

/* Set the cursor (copied). Returns 0, -ENOMEM, -EINVAL (space or newline). */
_warn_unused_ int state_set_cursor(struct state *s, const char *cursor);

/*
 * Take dir/follow.lock (created 0600) with an exclusive, non-blocking flock, so that two followers
 * never share a state. Returns the locked fd (close it to release), -EBUSY when another process
 * holds it, -errno otherwise.
 */
_warn_unused_ int state_lock(const char *dir);
