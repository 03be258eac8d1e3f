/* SPDX-License-Identifier: MIT */
/*
 * The sink set: encodes each alert once, skips on each sink what sinks_recover() found there, and
 * queues what an exactly-once sink could not take; stdout is here too. See sink.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io-util.h"
#include "sink-internal.h"
#include "timeutil.h"

struct sinks {
        struct sink *sink[_SINK_KIND_MAX]; /* owned; indexed by kind, NULL when not configured */
        struct sink_stats stats;
};

static const char *const sink_names[_SINK_KIND_MAX] = {
        [SINK_STDOUT] = "stdout",
        [SINK_FILE] = "file",
        [SINK_JOURNAL] = "journal",
        [SINK_SOCKET] = "socket",
};

struct sinks *sinks_new(void) {
        return calloc(1, sizeof(struct sinks));
}

static void sink_free(struct sink *k) {
        if (!k)
                return;
        if (k->kind == SINK_SOCKET)
                sink_socket_close(k);
        else if (k->kind == SINK_FILE && k->fd >= 0)
                (void) close(k->fd);
        for (size_t i = 0; k->queue && i < k->q_n; i++)
                free(k->queue[(k->q_head + i) % SINK_PENDING_MAX].line);
        free(k->queue);
        sd_journal_close(k->sync.j);
        idset_free(k->recovered);
        free(k->path);
        free(k);
}

struct sinks *sinks_free(struct sinks *s) {
        if (!s)
                return NULL;
        for (int i = 0; i < _SINK_KIND_MAX; i++)
                sink_free(s->sink[i]);
        free(s);
        return NULL;
}

static int sink_add(struct sinks *s, enum sink_kind kind, const char *path, struct sink **ret) {
        struct sink *k;

        if (s->sink[kind])
                return -EEXIST;
        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        k->kind = kind;
        k->name = sink_names[kind];
        k->exactly_once = kind == SINK_FILE || kind == SINK_JOURNAL;
        k->fd = -1;
        for (size_t i = 0; i < SINK_SOCKET_READERS_MAX; i++)
                k->readers[i].fd = -1;
        if (path) {
                k->path = strdup(path);
                if (!k->path) {
                        free(k);
                        return -ENOMEM;
                }
        }
        *ret = k;
        return 0;
}

int sinks_add_stdout(struct sinks *s, bool json) {
        struct sink *k;
        int r;

        r = sink_add(s, SINK_STDOUT, NULL, &k);
        if (r < 0)
                return r;
        k->json = json;
        s->sink[SINK_STDOUT] = k;
        return 0;
}

int sinks_add_file(struct sinks *s, const char *path) {
        struct sink *k;
        int r;

        r = sink_add(s, SINK_FILE, path, &k);
        if (r < 0)
                return r;
        r = sink_file_open(k);
        if (r < 0) {
                sink_free(k);
                return r;
        }
        s->sink[SINK_FILE] = k;
        return 0;
}

int sinks_add_journal(struct sinks *s, const char *instance) {
        struct sink *k;
        int r;

        if (!instance || strlen(instance) != 32)
                return -EINVAL;
        r = sink_add(s, SINK_JOURNAL, NULL, &k);
        if (r < 0)
                return r;
        memcpy(k->instance, instance, 33);
        s->sink[SINK_JOURNAL] = k;
        return 0;
}

int sinks_add_socket(struct sinks *s, const char *path) {
        struct sink *k;
        int r;

        r = sink_add(s, SINK_SOCKET, path, &k);
        if (r < 0)
                return r;
        r = sink_socket_open(k);
        if (r < 0) {
                sink_free(k);
                return r;
        }
        s->sink[SINK_SOCKET] = k;
        return 0;
}

bool sinks_has(const struct sinks *s, enum sink_kind k) {
        return k >= 0 && k < _SINK_KIND_MAX && s->sink[k];
}

static int sink_write(struct sink *k, const char *line, size_t len) {
        switch (k->kind) {
        case SINK_FILE:
                return sink_file_write(k, line, len);
        case SINK_JOURNAL:
                return sink_journal_write(k, line, len);
        default:
                return -EINVAL;
        }
}

static int enqueue(struct sinks *s, struct sink *k, const char *line, size_t len, const char *id) {
        struct pending *p;

        if (!k->queue) {
                k->queue = calloc(SINK_PENDING_MAX, sizeof(*k->queue));
                if (!k->queue)
                        return -ENOMEM;
        }
        if (k->q_n >= SINK_PENDING_MAX)
                return -ENOBUFS;
        p = &k->queue[(k->q_head + k->q_n) % SINK_PENDING_MAX];
        p->line = strndup(line, len);
        if (!p->line)
                return -ENOMEM;
        p->len = len;
        memcpy(p->id, id, 33);
        k->q_n++;
        if (!k->sync.waiting)
                s->stats.retried++;
        return 0;
}

/* Whether an exactly-once sink already holds the alert (found there after a crash). */
static bool recovered_anywhere(const struct sinks *s, const char *id) {
        for (int i = 0; i < _SINK_KIND_MAX; i++)
                if (s->sink[i] && s->sink[i]->exactly_once && idset_contains(s->sink[i]->recovered, id))
                        return true;
        return false;
}

int sinks_emit(struct sinks *s, const struct alert *a) {
        _cleanup_free_ char *json = NULL, *line = NULL;
        char id[33];
        size_t len;
        int r;

        r = alert_id(a, id);
        if (r < 0)
                return r;
        r = alert_to_json(a, &json);
        if (r < 0)
                return r;
        len = strlen(json);
        line = malloc(len + 2);
        if (!line)
                return -ENOMEM;
        memcpy(line, json, len);
        line[len++] = '\n';
        line[len] = 0;

        /* The exactly-once sinks first: what they hold is what a restart can read back. */
        for (int i = SINK_FILE; i <= SINK_JOURNAL; i++) {
                struct sink *k = s->sink[i];

                if (!k)
                        continue;
                if (idset_contains(k->recovered, id)) {
                        s->stats.recovered++;
                        continue;
                }
                /* Order is kept: while older alerts wait, newer ones wait behind them. While the
                 * journal is not read back yet, its alerts wait until it is. */
                r = k->q_n > 0 || k->sync.waiting ? -EAGAIN : sink_write(k, line, len);
                if (r < 0) {
                        r = enqueue(s, k, line, len, id);
                        if (r < 0)
                                return r;
                        continue;
                }
                s->stats.written++;
        }
        if (recovered_anywhere(s, id))
                return 0;
        if (s->sink[SINK_SOCKET])
                sink_socket_write(s->sink[SINK_SOCKET], &s->stats, line, len);
        if (s->sink[SINK_STDOUT]) {
                _cleanup_free_ char *text = NULL, *text_line = NULL;

                if (!s->sink[SINK_STDOUT]->json) {
                        r = alert_to_text(a, &text);
                        if (r < 0)
                                return r;
                        if (asprintf(&text_line, "%s\n", text) < 0)
                                return -ENOMEM;
                }
                r = text_line ? loop_write(STDOUT_FILENO, text_line, strlen(text_line))
                              : loop_write(STDOUT_FILENO, line, len);
                if (r < 0)
                        return r;
                s->stats.written++;
        }
        return 0;
}

size_t sinks_pending(const struct sinks *s) {
        size_t n = 0;

        for (int i = 0; i < _SINK_KIND_MAX; i++)
                if (s->sink[i])
                        n += s->sink[i]->q_n;
        return n;
}

size_t sinks_failing(const struct sinks *s) {
        size_t n = 0;

        for (int i = 0; i < _SINK_KIND_MAX; i++)
                if (s->sink[i] && !s->sink[i]->sync.waiting)
                        n += s->sink[i]->q_n;
        return n;
}

static int sink_flush(struct sinks *s, struct sink *k) {
        while (k->q_n > 0) {
                struct pending *p = &k->queue[k->q_head];
                int r = sink_write(k, p->line, p->len);

                if (r < 0)
                        return r;
                p->line = (free(p->line), NULL);
                k->q_head = (k->q_head + 1) % SINK_PENDING_MAX;
                k->q_n--;
                s->stats.written++;
        }
        return 0;
}

int sinks_retry(struct sinks *s, const char **ret_sink) {
        for (int i = 0; i < _SINK_KIND_MAX; i++) {
                struct sink *k = s->sink[i];
                int r;

                if (!k || k->sync.waiting)
                        continue;
                r = sink_flush(s, k);
                if (r < 0) {
                        *ret_sink = k->name;
                        return r;
                }
        }
        return 0;
}

/* The read-back is done: the held alerts the sink turned out to have are dropped (in order), the
 * others written; a write that fails leaves them queued, as for any failing sink. */
static void sink_release(struct sinks *s, struct sink *k) {
        size_t n = 0;

        for (size_t i = 0; i < k->q_n; i++) {
                struct pending *p = &k->queue[(k->q_head + i) % SINK_PENDING_MAX];

                if (idset_contains(k->recovered, p->id)) {
                        free(p->line);
                        s->stats.recovered++;
                        continue;
                }
                k->queue[(k->q_head + n++) % SINK_PENDING_MAX] = *p;
        }
        k->q_n = n;
        (void) sink_flush(s, k);
}

bool sinks_recovering(const struct sinks *s) {
        return s->sink[SINK_JOURNAL] && s->sink[SINK_JOURNAL]->sync.waiting;
}

int sinks_recover_poll(struct sinks *s, enum sink_sync_how *ret_how) {
        struct sink *k = s->sink[SINK_JOURNAL];
        int r;

        if (!k || !k->sync.waiting)
                return -EINVAL;
        r = sink_journal_recover_step(k, ret_how);
        if (r < 0)
                return r; /* waiting still; or failed: the held alerts stay held, the caller stops */
        sink_release(s, k);
        return r;
}

int sinks_save_marks(struct sinks *s, struct state *st, int *ret_sync_fd) {
        _cleanup_close_ int sync_fd = -1;
        int r;

        if (s->sink[SINK_FILE]) {
                _cleanup_free_ char *mark = NULL;

                r = sink_file_mark(s->sink[SINK_FILE], !ret_sync_fd, &mark);
                if (r < 0)
                        return r;
                if (ret_sync_fd) {
                        sync_fd = fcntl(s->sink[SINK_FILE]->fd, F_DUPFD_CLOEXEC, 3);
                        if (sync_fd < 0)
                                return -errno;
                }
                r = state_set_sink_mark(st, "file", mark);
                if (r < 0)
                        return r;
        }
        if (s->sink[SINK_JOURNAL]) {
                char mark[32];

                /* Entries sent so far are in journald's socket queue, taken in in order. */
                (void) snprintf(mark, sizeof(mark), "%" PRIu64, timeutil_now_usec());
                r = state_set_sink_mark(st, "journal", mark);
                if (r < 0)
                        return r;
        }
        if (ret_sync_fd)
                *ret_sync_fd = TAKE_FD(sync_fd);
        return 0;
}

int sinks_recover(struct sinks *s, const struct state *st, const char **ret_note) {
        const char *note = NULL, *n = NULL;
        int found = 0, r;

        for (int i = SINK_FILE; i <= SINK_JOURNAL; i++) {
                struct sink *k = s->sink[i];
                const char *mark = k ? state_sink_mark(st, k->name) : NULL;

                if (!k)
                        continue;
                if (!mark) {
                        /* Not configured at the last commit: everything after it is new to it. */
                        continue;
                }
                k->recovered = idset_new(SINK_PENDING_MAX * 4);
                if (!k->recovered)
                        return -ENOMEM;
                n = NULL;
                if (i == SINK_FILE)
                        r = sink_file_recover(k, mark, &n);
                else {
                        enum sink_sync_how how = SINK_SYNC_MARKER;

                        r = sink_journal_recover(k, mark, &how);
                        if (r == -EAGAIN)
                                continue; /* sinks_recover_poll() goes on */
                        if (r >= 0 && how == SINK_SYNC_BAD_MARK)
                                n = "the journal sink's mark in the state is unreadable";
                }
                if (r < 0)
                        return r;
                found += r;
                if (n && !note)
                        note = n;
        }
        if (ret_note)
                *ret_note = note;
        return found;
}

int sinks_keep_recovered(struct sinks *s, struct idset *ids, uint64_t usec) {
        struct sink *first = NULL;
        const char *id;
        uint64_t t;
        size_t pos = 0;
        int r;

        for (int i = SINK_FILE; i <= SINK_JOURNAL && !first; i++)
                if (s->sink[i] && s->sink[i]->recovered)
                        first = s->sink[i];
        while (first && idset_next(first->recovered, &pos, &id, &t)) {
                bool everywhere = true;

                for (int i = SINK_FILE; i <= SINK_JOURNAL; i++)
                        if (s->sink[i] && !idset_contains(s->sink[i]->recovered, id))
                                everywhere = false;
                if (!everywhere)
                        continue;
                r = idset_add(ids, id, usec);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sinks_reopen(struct sinks *s) {
        struct sink *k = s->sink[SINK_FILE];
        int old, r;

        if (!k)
                return 0;
        old = k->fd;
        r = sink_file_open(k);
        if (r < 0)
                return r; /* keeps writing to the old one */
        if (old >= 0)
                (void) close(old);
        return 0;
}

size_t sinks_poll_fill(struct sinks *s, struct pollfd *fds, size_t max) {
        if (!s->sink[SINK_SOCKET])
                return 0;
        return sink_socket_poll_fill(s->sink[SINK_SOCKET], fds, max);
}

void sinks_poll_dispatch(struct sinks *s, const struct pollfd *fds, size_t n) {
        if (s->sink[SINK_SOCKET])
                sink_socket_poll_dispatch(s->sink[SINK_SOCKET], &s->stats, fds, n);
}

const struct sink_stats *sinks_stats(const struct sinks *s) {
        return &s->stats;
}
