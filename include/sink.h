/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Where keytrail follow's alerts go: several sinks at once, each alert encoded once (alert.h's
 * NDJSON and id) and handed to every sink in turn.
 *
 *   stdout   NDJSON (or text), one write per alert.
 *   file     --output FILE: appended (O_APPEND), one write per line; reopened on SIGHUP.
 *   journal  --journal: one journal entry per alert, MESSAGE_ID=SINK_JOURNAL_MESSAGE_ID, the
 *            alert's fields as KEYTRAIL_<FIELD> (upper case), KEYTRAIL_JSON the whole line,
 *            KEYTRAIL_INSTANCE the follower's instance, SYSLOG_IDENTIFIER=keytrail.
 *   socket   --socket PATH: a Unix stream socket; every connected reader gets the NDJSON stream
 *            from the moment it connects. A live feed: each reader has a bounded buffer, and an
 *            alert that does not fit is dropped for that reader (counted), never waited for.
 *
 * The file and journal sinks are exactly-once: an alert that could not be written is kept (in a
 * bounded queue) and retried, and after a crash sinks_recover() reads back what they hold beyond
 * the marks of the last commit, so an alert decided again is not written twice. stdout cannot be
 * read back (a crash right after a write may repeat that alert there); the socket is live only.
 *
 * Ownership: struct sinks owns its sinks, fds and buffers. Alerts are borrowed for the call.
 */

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "macro.h"
#include "state.h"

#define SINK_JOURNAL_MESSAGE_ID "bcd06bf9b7284bb295fc006f9981a5fd" /* an alert */
#define SINK_JOURNAL_START_MESSAGE_ID "14bc85bc729b49e688fde0ef5cd49135" /* follow started */
#define SINK_JOURNAL_IDENTIFIER "keytrail"
#define SINK_PENDING_MAX 4096     /* alerts kept per exactly-once sink while it fails */
#define SINK_SOCKET_READERS_MAX 64
#define SINK_SOCKET_BUFFER_BYTES (256 * 1024) /* per reader */

enum sink_kind { SINK_STDOUT, SINK_FILE, SINK_JOURNAL, SINK_SOCKET, _SINK_KIND_MAX };

struct sink_stats {
        uint64_t written;        /* alerts written (per sink, added up) */
        uint64_t retried;        /* writes that failed and were queued */
        uint64_t recovered;      /* alerts found in a sink after a crash, not written again */
        uint64_t socket_dropped; /* alerts not given to a slow socket reader */
        uint64_t socket_refused; /* readers refused: SINK_SOCKET_READERS_MAX reached */
        unsigned socket_readers; /* connected now */
};

struct sinks;

struct sinks *sinks_new(void);
struct sinks *sinks_free(struct sinks *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sinks *, sinks_free);

/* Add a sink. Return 0 or -errno (the file cannot be opened, the socket cannot be bound; -EEXIST:
 * PATH exists and is not a socket; -EADDRINUSE: another process listens on it). */
_warn_unused_ int sinks_add_stdout(struct sinks *s, bool json);
_warn_unused_ int sinks_add_file(struct sinks *s, const char *path);
_warn_unused_ int sinks_add_journal(struct sinks *s, const char *instance);
_warn_unused_ int sinks_add_socket(struct sinks *s, const char *path);

bool sinks_has(const struct sinks *s, enum sink_kind k);

/*
 * Hand an alert to every sink. Returns 0; -ENOBUFS when an exactly-once sink's queue is full (the
 * alert is then not kept: the caller must stop without committing); -EPIPE/-errno when stdout
 * failed; -ENOMEM.
 */
_warn_unused_ int sinks_emit(struct sinks *s, const struct alert *a);

/* Alerts waiting in the queues of the exactly-once sinks: failing, or held while the journal's
 * read-back waits (sinks_recovering()). */
size_t sinks_pending(const struct sinks *s);

/* Alerts waiting in the queues of failing sinks (not those held while reading back). */
size_t sinks_failing(const struct sinks *s);

/* Retry the queued alerts of failing sinks. Returns 0 when every such queue is empty, else the
 * -errno of the first sink that still fails and in *ret_sink its name (borrowed, static). */
_warn_unused_ int sinks_retry(struct sinks *s, const char **ret_sink);

/* Record each exactly-once sink's mark in st. Call only when sinks_pending() is 0 and
 * sinks_recovering() false. With
 * ret_sync_fd NULL, what was written is made durable first (fsync of the file); otherwise that is
 * left to the caller, who gets in *ret_sync_fd a descriptor of the output file to fsync (owned by
 * the caller) or -1 when there is none, and must fsync it before the state that holds these marks
 * is written. Returns 0 or -errno (then *ret_sync_fd is untouched). */
_warn_unused_ int sinks_save_marks(struct sinks *s, struct state *st, int *ret_sync_fd);

/*
 * After a restart: read what the exactly-once sinks hold beyond the marks in st (the file from its
 * offset, also when it was renamed since; the journal from the commit time), so that sinks_emit()
 * skips those alerts on the sinks that have them. The file's cut last line, if any, is removed.
 * The file is read at once. The journal is read only once journald has shown a marker sent now
 * (journald may not yet have taken in what the previous process sent): until then
 * sinks_recovering() is true, the journal sink holds its alerts in its queue (the others go on),
 * and sinks_recover_poll() looks again. Returns the number of alerts found so far (>= 0), or
 * -errno. *ret_note (may be NULL) says, when not NULL, what could not be checked (static string).
 */
_warn_unused_ int sinks_recover(struct sinks *s, const struct state *st, const char **ret_note);

/* How the journal's read-back ended. */
enum sink_sync_how {
        SINK_SYNC_MARKER,   /* journald showed the marker: everything sent before was read back */
        SINK_SYNC_GONE,     /* journald is not running (its queue went with it): read as it is */
        SINK_SYNC_GAVE_UP,  /* no marker after SINK_SYNC_GIVE_UP_SEC: read as it is */
        SINK_SYNC_BAD_MARK, /* the state's mark is unreadable: nothing read back */
};
#define SINK_SYNC_GIVE_UP_SEC 300

/* Whether the journal's read-back waits for journald (no commit may move the marks meanwhile). */
bool sinks_recovering(const struct sinks *s);

/* Look again whether journald shows the marker, without blocking (a look every second at most
 * probes journald's socket). -EAGAIN: still waiting. >= 0: done, the number of alerts found, and
 * how in *ret_how; the held alerts the journal turned out to have are dropped, the others written
 * (or left queued, as any failing sink's). Other -errno: reading back failed. */
_warn_unused_ int sinks_recover_poll(struct sinks *s, enum sink_sync_how *ret_how);

/*
 * Before a commit moves the marks past them: the ids found in every exactly-once sink by
 * sinks_recover() go into ids (with time usec), so that an alert not decided again yet (a
 * timeout waits for time to pass) is still known after a second crash. Returns 0, -ENOMEM.
 */
_warn_unused_ int sinks_keep_recovered(struct sinks *s, struct idset *ids, uint64_t usec);

/* Reopen the output file (SIGHUP, after logrotate renamed it). Returns 0 or -errno. */
_warn_unused_ int sinks_reopen(struct sinks *s);

/* The socket sink's fds to poll, and handling of their events. sinks_poll_fill() writes at most
 * max pollfds and returns how many; sinks_poll_dispatch() takes the same array back after poll(). */
struct pollfd;
size_t sinks_poll_fill(struct sinks *s, struct pollfd *fds, size_t max);
void sinks_poll_dispatch(struct sinks *s, const struct pollfd *fds, size_t n);

const struct sink_stats *sinks_stats(const struct sinks *s);
