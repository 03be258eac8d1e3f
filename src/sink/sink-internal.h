/* SPDX-License-Identifier: MIT */
#pragma once

/* Private to src/sink/: one struct sink per configured sink, and each kind's functions. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-journal.h>

#include "idset.h"
#include "sink.h"

struct pending {
        char *line; /* owned: the NDJSON line, with its newline */
        size_t len;
        char id[33];
};

struct socket_reader {
        int fd;         /* -1: free slot */
        char *buf;      /* owned: SINK_SOCKET_BUFFER_BYTES ring */
        size_t head, len;
        uint64_t dropped;
        bool eof;       /* the reader shut down its writing side */
};

/* The journal sink's read-back after a restart, while journald has not shown the marker. */
struct sink_sync {
        bool waiting;              /* the read-back is not done: alerts are held in the queue */
        sd_journal *j;             /* owned while waiting */
        char nonce[17];            /* KEYTRAIL_SYNC= of the marker */
        uint64_t since;            /* the state's mark: read back from here (less the slack) */
        uint64_t start_usec, sent_usec, probe_usec; /* monotonic */
        dev_t dev;                 /* the journal socket the marker was sent to */
        ino_t ino;
};

struct sink {
        enum sink_kind kind;
        const char *name;          /* static */
        bool exactly_once;
        bool json;                 /* stdout: NDJSON, else text */
        struct idset *recovered;   /* owned: ids found in this sink after a crash, or NULL */

        struct pending *queue;     /* owned ring of SINK_PENDING_MAX, allocated on first failure */
        size_t q_head, q_n;

        int fd;                    /* file: the output; socket: the listener */
        char *path;                /* owned: file or socket path */
        dev_t dev;                 /* socket: the socket file we bound, to remove only ours */
        ino_t ino;
        char instance[33];         /* journal */
        struct sink_sync sync;     /* journal */
        struct socket_reader readers[SINK_SOCKET_READERS_MAX];
};

int sink_file_open(struct sink *k);
int sink_file_write(struct sink *k, const char *line, size_t len);
int sink_file_mark(struct sink *k, bool sync, char **ret);
int sink_file_recover(struct sink *k, const char *mark, const char **ret_note);

int sink_journal_write(struct sink *k, const char *line, size_t len);
/* Start reading back (send the marker): -EAGAIN while journald has not shown it, then call
 * sink_journal_recover_step() until it returns something else; >= 0: done, the number of alerts
 * found, and how in *ret_how; < 0: an error (the read-back is abandoned). */
int sink_journal_recover(struct sink *k, const char *mark, enum sink_sync_how *ret_how);
int sink_journal_recover_step(struct sink *k, enum sink_sync_how *ret_how);

int sink_socket_open(struct sink *k);
void sink_socket_write(struct sink *k, struct sink_stats *st, const char *line, size_t len);
size_t sink_socket_poll_fill(struct sink *k, struct pollfd *fds, size_t max);
void sink_socket_poll_dispatch(struct sink *k, struct sink_stats *st, const struct pollfd *fds,
                               size_t n);
void sink_socket_close(struct sink *k);
