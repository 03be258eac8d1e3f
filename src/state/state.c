/* SPDX-License-Identifier: MIT */
/*
 * The state file: a strict line parser (every line known, every number checked, the "end" count
 * agreeing), an atomic writer, and a background thread that runs that writer so the follower never
 * waits for the disk. See state.h for the format.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io-util.h"
#include "state.h"
#include "strview.h"

#define STATE_MAGIC "keytrail-follow-state 1"

int state_new(struct state **ret) {
        _cleanup_(state_freep) struct state *s = NULL;
        uint8_t r[16];
        ssize_t n;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->ids = idset_new(0);
        if (!s->ids)
                return -ENOMEM;
        n = getrandom(r, sizeof(r), 0);
        if (n < 0)
                return -errno;
        if ((size_t) n != sizeof(r))
                return -EIO;
        for (size_t i = 0; i < sizeof(r); i++)
                (void) snprintf(s->instance + 2 * i, 3, "%02x", r[i]);
        *ret = TAKE_PTR(s);
        return 0;
}

struct state *state_free(struct state *s) {
        if (!s)
                return NULL;
        free(s->cursor);
        for (unsigned i = 0; i < s->n_hosts; i++)
                free(s->hosts[i].cursor);
        for (unsigned i = 0; i < s->n_sinks; i++) {
                free(s->sinks[i].name);
                free(s->sinks[i].mark);
        }
        idset_free(s->ids);
        free(s);
        return NULL;
}

/* A token for the file: printable ASCII, no space. */
static bool token_ok(const char *t) {
        if (!t || !*t)
                return false;
        for (; *t; t++)
                if ((unsigned char) *t <= ' ' || (unsigned char) *t >= 0x7f)
                        return false;
        return true;
}

const char *state_sink_mark(const struct state *s, const char *name) {
        for (unsigned i = 0; i < s->n_sinks; i++)
                if (streq(s->sinks[i].name, name))
                        return s->sinks[i].mark;
        return NULL;
}

int state_set_sink_mark(struct state *s, const char *name, const char *mark) {
        struct state_sink *k = NULL;
        char *m;

        if (!token_ok(name) || !token_ok(mark))
                return -EINVAL;
        for (unsigned i = 0; i < s->n_sinks; i++)
                if (streq(s->sinks[i].name, name))
                        k = &s->sinks[i];
        if (!k) {
                if (s->n_sinks >= STATE_SINKS_MAX)
                        return -ENOSPC;
                k = &s->sinks[s->n_sinks];
                k->name = strdup(name);
                if (!k->name)
                        return -ENOMEM;
                s->n_sinks++;
        }
        m = strdup(mark);
        if (!m)
                return -ENOMEM;
        free(k->mark);
        k->mark = m;
        return 0;
}

int state_set_cursor(struct state *s, const char *cursor) {
        char *c;

        if (!token_ok(cursor))
                return -EINVAL;
        c = strdup(cursor);
        if (!c)
                return -ENOMEM;
        free(s->cursor);
        s->cursor = c;
        return 0;
}

int state_set_host(struct state *s, const char *machine_id, const char *cursor, uint64_t usec) {
        struct state_host *h = NULL;
        char *c;

        if (!strview_is_id128(strview_from(machine_id)) || !token_ok(cursor))
                return -EINVAL;
        for (unsigned i = 0; i < s->n_hosts && !h; i++)
                if (streq(s->hosts[i].machine_id, machine_id))
                        h = &s->hosts[i];
        if (!h && s->n_hosts >= STATE_HOSTS_MAX)
                return -ENOSPC;
        c = strdup(cursor);
        if (!c)
                return -ENOMEM;
        if (!h) {
                h = &s->hosts[s->n_hosts++];
                memcpy(h->machine_id, machine_id, 33);
                h->cursor = NULL;
        }
        free(h->cursor);
        h->cursor = c;
        h->cursor_usec = usec;
        return 0;
}

void state_clear_hosts(struct state *s) {
        for (unsigned i = 0; i < s->n_hosts; i++)
                free(s->hosts[i].cursor);
        s->n_hosts = 0;
}

const struct state_host *state_host(const struct state *s, const char *machine_id) {
        for (unsigned i = 0; i < s->n_hosts; i++)
                if (streq(s->hosts[i].machine_id, machine_id))
                        return &s->hosts[i];
        return NULL;
}

static int parse_u64(const char *t, uint64_t *ret) {
        return strview_to_u64(strview_from(t), UINT64_MAX, ret) < 0 ? -EBADMSG : 0;
}

/* One line, split in place at spaces into at most 4 words. Returns the number of words, 5 for
 * more. */
static unsigned split(char *line, char *w[static 4]) {
        unsigned n = 0;

        for (char *p = line; *p;) {
                if (n == 4)
                        return 5; /* more words than any line has */
                w[n++] = p;
                p = strchr(p, ' ');
                if (!p)
                        break;
                *p++ = 0;
        }
        return n;
}

static int parse_line(struct state *s, char *line, bool *ended, uint64_t *ids) {
        char *w[4] = {};
        unsigned n = split(line, w);
        uint64_t v, e;
        int r;

        if (*ended)
                return -EBADMSG;
        if (n == 2 && streq(w[0], "instance") && strview_is_id128(strview_from(w[1]))) {
                memcpy(s->instance, w[1], 33);
                return 0;
        }
        if (n == 2 && streq(w[0], "cursor")) {
                r = state_set_cursor(s, w[1]);
                return r == -EINVAL ? -EBADMSG : r;
        }
        if (n == 2 && (streq(w[0], "cursor_usec") || streq(w[0], "replay_usec") ||
                       streq(w[0], "commit_usec"))) {
                r = parse_u64(w[1], &v);
                if (r < 0)
                        return r;
                *(streq(w[0], "cursor_usec")   ? &s->cursor_usec
                  : streq(w[0], "replay_usec") ? &s->replay_usec
                                               : &s->commit_usec) = v;
                return 0;
        }
        if (n == 4 && streq(w[0], "host")) {
                /* one line per host, never twice the same */
                if (!strview_is_id128(strview_from(w[1])) || state_host(s, w[1]))
                        return -EBADMSG;
                r = parse_u64(w[3], &v);
                if (r < 0)
                        return r;
                r = state_set_host(s, w[1], w[2], v);
                return r == -EINVAL || r == -ENOSPC ? -EBADMSG : r;
        }
        if (n == 3 && streq(w[0], "sink")) {
                r = state_set_sink_mark(s, w[1], w[2]);
                return r == -EINVAL || r == -ENOSPC ? -EBADMSG : r;
        }
        if (n == 3 && streq(w[0], "id")) {
                r = parse_u64(w[2], &v);
                if (r < 0)
                        return r;
                r = idset_add(s->ids, w[1], v);
                if (r < 0)
                        return r;
                (*ids)++;
                return 0;
        }
        if (n == 2 && streq(w[0], "end")) {
                r = parse_u64(w[1], &e);
                if (r < 0 || e != *ids)
                        return -EBADMSG;
                *ended = true;
                return 0;
        }
        return -EBADMSG;
}

int state_load(const char *dir, struct state **ret, unsigned *reterr_line) {
        _cleanup_(state_freep) struct state *s = NULL;
        _cleanup_free_ char *path = NULL, *buf = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t len = 0;
        unsigned lineno = 0;
        uint64_t ids = 0;
        bool ended = false;
        char *p;
        int r;

        if (asprintf(&path, "%s/%s", dir, STATE_FILE_NAME) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode)) {
                *reterr_line = 0;
                return -EBADMSG;
        }
        r = read_full_fd(fd, STATE_FILE_MAX_BYTES, &buf, &len);
        if (r == -EFBIG)
                return -E2BIG;
        if (r < 0)
                return r;

        r = state_new(&s);
        if (r < 0)
                return r;
        s->instance[0] = 0;
        for (p = buf; p < buf + len;) {
                char *nl = memchr(p, '\n', (size_t) (buf + len - p));

                lineno++;
                if (!nl || (size_t) (nl - p) > STATE_LINE_MAX || memchr(p, 0, (size_t) (nl - p))) {
                        *reterr_line = lineno;
                        return -EBADMSG;
                }
                *nl = 0;
                if (lineno == 1)
                        r = streq(p, STATE_MAGIC) ? 0 : -EBADMSG;
                else
                        r = parse_line(s, p, &ended, &ids);
                if (r == -EBADMSG) {
                        *reterr_line = lineno;
                        return r;
                }
                if (r < 0)
                        return r;
                p = nl + 1;
        }
        if (!ended || !s->instance[0]) {
                *reterr_line = 0;
                return -EBADMSG;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int state_format(const struct state *s, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, pos = 0;
        const char *id;
        uint64_t usec, n_ids = 0;
        FILE *f;
        int r = 0;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s\ninstance %s\n", STATE_MAGIC, s->instance);
        if (s->cursor)
                fprintf(f, "cursor %s\n", s->cursor);
        fprintf(f, "cursor_usec %" PRIu64 "\nreplay_usec %" PRIu64 "\ncommit_usec %" PRIu64 "\n",
                s->cursor_usec, s->replay_usec, s->commit_usec);
        for (unsigned i = 0; i < s->n_hosts; i++)
                fprintf(f, "host %s %s %" PRIu64 "\n", s->hosts[i].machine_id, s->hosts[i].cursor,
                        s->hosts[i].cursor_usec);
        for (unsigned i = 0; i < s->n_sinks; i++)
                fprintf(f, "sink %s %s\n", s->sinks[i].name, s->sinks[i].mark);
        while (idset_next(s->ids, &pos, &id, &usec)) {
                fprintf(f, "id %s %" PRIu64 "\n", id, usec);
                n_ids++;
        }
        fprintf(f, "end %" PRIu64 "\n", n_ids);
        if (ferror(f))
                r = -ENOMEM;
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int state_write(const char *dir, const char *text, size_t len, int sync_fd) {
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1, dfd = -1;
        int r;

        /* What the state is about to say the output file holds must be on disk first. */
        if (sync_fd >= 0 && fsync(sync_fd) < 0 && errno != EINVAL)
                return -errno;
        if (asprintf(&path, "%s/%s", dir, STATE_FILE_NAME) < 0 ||
            asprintf(&tmp, "%s/.%s.tmp", dir, STATE_FILE_NAME) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, text, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

int state_save(const char *dir, const struct state *s) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        r = state_format(s, &buf, &len);
        if (r < 0)
                return r;
        return state_write(dir, buf, len, -1);
}

/* ---- the background writer ------------------------------------------------------------------ */

struct state_writer {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        char *dir; /* owned */
        /* Under lock. A job: text (owned) and sync_fd (owned), handed over by submit. */
        char *text;
        size_t len;
        int sync_fd;
        bool busy;  /* a job is waiting or being written */
        bool done;  /* a job finished since the last collect; result in result */
        bool quit;
        int result;
};

static void *writer_main(void *userdata) {
        struct state_writer *w = userdata;

        pthread_mutex_lock(&w->lock);
        for (;;) {
                char *text;
                size_t len;
                int fd, r;

                while (!w->quit && !(w->busy && w->text))
                        pthread_cond_wait(&w->cond, &w->lock);
                if (!w->text)
                        break; /* quit with nothing left to write */
                text = w->text;
                len = w->len;
                fd = w->sync_fd;
                pthread_mutex_unlock(&w->lock);

                r = state_write(w->dir, text, len, fd);
                free(text);
                if (fd >= 0)
                        (void) close(fd);

                pthread_mutex_lock(&w->lock);
                w->text = NULL;
                w->sync_fd = -1;
                w->busy = false;
                w->done = true;
                w->result = r;
                pthread_cond_broadcast(&w->cond);
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

int state_writer_new(const char *dir, struct state_writer **ret) {
        struct state_writer *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        w->sync_fd = -1;
        w->dir = strdup(dir);
        if (!w->dir) {
                free(w);
                return -ENOMEM;
        }
        (void) pthread_mutex_init(&w->lock, NULL);
        (void) pthread_cond_init(&w->cond, NULL);
        r = -pthread_create(&w->thread, NULL, writer_main, w);
        if (r < 0) {
                pthread_cond_destroy(&w->cond);
                pthread_mutex_destroy(&w->lock);
                free(w->dir);
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

struct state_writer *state_writer_free(struct state_writer *w) {
        if (!w)
                return NULL;
        pthread_mutex_lock(&w->lock);
        w->quit = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        (void) pthread_join(w->thread, NULL);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w->text);
        if (w->sync_fd >= 0)
                (void) close(w->sync_fd);
        free(w->dir);
        free(w);
        return NULL;
}

int state_writer_submit(struct state_writer *w, char *text, size_t len, int sync_fd) {
        int r = 0;

        pthread_mutex_lock(&w->lock);
        if (w->busy)
                r = -EBUSY;
        else {
                w->text = text;
                w->len = len;
                w->sync_fd = sync_fd;
                w->busy = true;
                pthread_cond_broadcast(&w->cond);
        }
        pthread_mutex_unlock(&w->lock);
        return r;
}

bool state_writer_busy(struct state_writer *w) {
        bool busy;

        pthread_mutex_lock(&w->lock);
        busy = w->busy;
        pthread_mutex_unlock(&w->lock);
        return busy;
}

int state_writer_collect(struct state_writer *w, bool wait) {
        int r = 0;

        pthread_mutex_lock(&w->lock);
        while (wait && w->busy)
                pthread_cond_wait(&w->cond, &w->lock);
        if (w->done) {
                r = w->result < 0 ? w->result : 1;
                w->done = false;
        }
        pthread_mutex_unlock(&w->lock);
        return r;
}

int state_lock(const char *dir) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;

        if (asprintf(&path, "%s/%s", dir, STATE_LOCK_NAME) < 0)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        return TAKE_FD(fd);
}
