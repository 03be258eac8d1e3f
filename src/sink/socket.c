/* SPDX-License-Identifier: MIT */
/*
 * The --socket sink: a listening Unix stream socket (mode 0660: owner and group), any number of
 * readers up to SINK_SOCKET_READERS_MAX, each with a ring buffer of SINK_SOCKET_BUFFER_BYTES.
 * Everything is non-blocking: an alert that does not fit a reader's buffer is dropped for that
 * reader and counted; detection never waits for a reader. What readers send is read and ignored.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sink-internal.h"

static int make_addr(const char *path, struct sockaddr_un *ret, socklen_t *ret_len) {
        size_t l = strlen(path);

        if (l == 0 || l >= sizeof(ret->sun_path))
                return -ENAMETOOLONG;
        *ret = (struct sockaddr_un){ .sun_family = AF_UNIX };
        memcpy(ret->sun_path, path, l + 1);
        *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + l + 1);
        return 0;
}

/* A socket file left by a previous run is removed; one another process listens on is not. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, socklen_t sl) {
        struct stat st;
        int fd, r;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        r = connect(fd, (const struct sockaddr *) sa, sl);
        (void) close(fd);
        if (r >= 0)
                return -EADDRINUSE;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int sink_socket_open(struct sink *k) {
        struct sockaddr_un sa;
        socklen_t sl;
        struct stat st;
        mode_t old;
        int fd, r;

        r = make_addr(k->path, &sa, &sl);
        if (r < 0)
                return r;
        r = clear_stale(k->path, &sa, sl);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        old = umask(0117);
        r = bind(fd, (const struct sockaddr *) &sa, sl);
        umask(old);
        if (r < 0 || listen(fd, 16) < 0 || stat(k->path, &st) < 0) {
                r = -errno;
                (void) close(fd);
                return r;
        }
        k->fd = fd;
        k->dev = st.st_dev;
        k->ino = st.st_ino;
        return 0;
}

static void reader_close(struct socket_reader *x) {
        if (x->fd >= 0)
                (void) close(x->fd);
        free(x->buf);
        *x = (struct socket_reader){ .fd = -1 };
}

void sink_socket_close(struct sink *k) {
        struct stat st;

        for (size_t i = 0; i < SINK_SOCKET_READERS_MAX; i++)
                reader_close(&k->readers[i]);
        if (k->fd >= 0) {
                (void) close(k->fd);
                /* Remove the socket file only if it is still the one we bound. */
                if (k->path && lstat(k->path, &st) >= 0 && st.st_dev == k->dev &&
                    st.st_ino == k->ino)
                        (void) unlink(k->path);
        }
        k->fd = -1;
}

/* Write what the reader's ring holds, as far as the socket takes it. */
static void reader_flush(struct socket_reader *x) {
        while (x->len > 0) {
                size_t chunk = MIN(x->len, SINK_SOCKET_BUFFER_BYTES - x->head);
                ssize_t n = send(x->fd, x->buf + x->head, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return;
                if (n <= 0) {
                        reader_close(x);
                        return;
                }
                x->head = (x->head + (size_t) n) % SINK_SOCKET_BUFFER_BYTES;
                x->len -= (size_t) n;
        }
        x->head = 0;
}

void sink_socket_write(struct sink *k, struct sink_stats *st, const char *line, size_t len) {
        for (size_t i = 0; i < SINK_SOCKET_READERS_MAX; i++) {
                struct socket_reader *x = &k->readers[i];
                size_t tail, first;

                if (x->fd < 0)
                        continue;
                if (len > SINK_SOCKET_BUFFER_BYTES - x->len) {
                        x->dropped++;
                        st->socket_dropped++;
                        continue;
                }
                tail = (x->head + x->len) % SINK_SOCKET_BUFFER_BYTES;
                first = MIN(len, SINK_SOCKET_BUFFER_BYTES - tail);
                memcpy(x->buf + tail, line, first);
                memcpy(x->buf, line + first, len - first);
                x->len += len;
                reader_flush(x);
        }
}

size_t sink_socket_poll_fill(struct sink *k, struct pollfd *fds, size_t max) {
        size_t n = 0;

        if (max == 0 || k->fd < 0)
                return 0;
        fds[n++] = (struct pollfd){ .fd = k->fd, .events = POLLIN };
        for (size_t i = 0; i < SINK_SOCKET_READERS_MAX && n < max; i++)
                if (k->readers[i].fd >= 0)
                        fds[n++] = (struct pollfd){
                                .fd = k->readers[i].fd,
                                .events = (k->readers[i].eof ? 0 : POLLIN) |
                                          (k->readers[i].len > 0 ? POLLOUT : 0),
                        };
        return n;
}

static void accept_readers(struct sink *k, struct sink_stats *st) {
        for (;;) {
                struct socket_reader *free_slot = NULL;
                int fd = accept4(k->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (fd < 0)
                        return; /* EAGAIN, or a transient error: the next poll tries again */
                for (size_t i = 0; i < SINK_SOCKET_READERS_MAX && !free_slot; i++)
                        if (k->readers[i].fd < 0)
                                free_slot = &k->readers[i];
                if (free_slot)
                        free_slot->buf = malloc(SINK_SOCKET_BUFFER_BYTES);
                if (!free_slot || !free_slot->buf) {
                        (void) close(fd);
                        st->socket_refused++;
                        continue;
                }
                free_slot->fd = fd;
                free_slot->head = free_slot->len = 0;
                free_slot->eof = false;
        }
}

void sink_socket_poll_dispatch(struct sink *k, struct sink_stats *st, const struct pollfd *fds,
                               size_t n) {
        for (size_t j = 0; j < n; j++) {
                if (!fds[j].revents)
                        continue;
                if (fds[j].fd == k->fd) {
                        accept_readers(k, st);
                        continue;
                }
                for (size_t i = 0; i < SINK_SOCKET_READERS_MAX; i++) {
                        struct socket_reader *x = &k->readers[i];
                        char sink_buf[512];

                        if (x->fd != fds[j].fd)
                                continue;
                        if (fds[j].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                                reader_close(x);
                                break;
                        }
                        if (fds[j].revents & POLLIN) {
                                ssize_t m = recv(x->fd, sink_buf, sizeof(sink_buf), MSG_DONTWAIT);

                                /* The reader shut its side down (socat -u does): it may
                                 * still read. A reader gone for good shows as POLLHUP or as
                                 * EPIPE on the next send. */
                                if (m == 0)
                                        x->eof = true;
                                else if (m < 0 && errno != EAGAIN && errno != EINTR) {
                                        reader_close(x);
                                        break;
                                }
                        }
                        if (fds[j].revents & POLLOUT)
                                reader_flush(x);
                        break;
                }
        }
        st->socket_readers = 0;
        for (size_t i = 0; i < SINK_SOCKET_READERS_MAX; i++)
                if (k->readers[i].fd >= 0)
                        st->socket_readers++;
}
