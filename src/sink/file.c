/* SPDX-License-Identifier: MIT */
/*
 * The --output sink: one write(2) per NDJSON line on an O_APPEND descriptor, so that lines of
 * several writers never interleave. Its mark is "DEV:INO:OFFSET" of the file after fsync; after a
 * crash the lines past OFFSET are read back (in the file that has that inode, also when logrotate
 * renamed it since), and a line the crash cut is removed.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io-util.h"
#include "sink-internal.h"
#include "strview.h"

#define RECOVER_MAX_BYTES (256u * 1024 * 1024) /* read back at most this much past the mark */
#define RECOVER_LINE_MAX (4u * 1024 * 1024)

int sink_file_open(struct sink *k) {
        struct stat st;
        int fd;

        fd = open(k->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                (void) close(fd);
                return S_ISREG(st.st_mode) ? -errno : -EISDIR;
        }
        k->fd = fd;
        return 0;
}

int sink_file_write(struct sink *k, const char *line, size_t len) {
        struct stat st;
        off_t before;
        int r;

        before = lseek(k->fd, 0, SEEK_END);
        r = loop_write(k->fd, line, len);
        if (r < 0 && before >= 0 && fstat(k->fd, &st) >= 0 && st.st_size > before)
                /* A short write (disk full): take the cut line back, the retry writes it whole. */
                (void) ftruncate(k->fd, before);
        return r;
}

int sink_file_mark(struct sink *k, bool sync, char **ret) {
        struct stat st;

        if (sync && fsync(k->fd) < 0 && errno != EINVAL)
                return -errno;
        if (fstat(k->fd, &st) < 0)
                return -errno;
        if (asprintf(ret, "%" PRIu64 ":%" PRIu64 ":%" PRIu64, (uint64_t) st.st_dev,
                     (uint64_t) st.st_ino, (uint64_t) st.st_size) < 0)
                return -ENOMEM;
        return 0;
}

static int parse_mark(const char *mark, uint64_t v[static 3]) {
        const char *p = mark;

        for (int i = 0; i < 3; i++) {
                size_t l = strcspn(p, ":");

                if (strview_to_u64((struct strview){ p, l }, UINT64_MAX, &v[i]) < 0)
                        return -EBADMSG;
                p += l;
                if (i < 2) {
                        if (*p != ':')
                                return -EBADMSG;
                        p++;
                }
        }
        return *p ? -EBADMSG : 0;
}

/* The file with this inode: the output path, or a file beside it (renamed by logrotate). */
static int open_inode(const char *path, dev_t dev, ino_t ino) {
        _cleanup_free_ char *copy = strdup(path);
        struct stat st;
        DIR *d;
        int fd = -ENOENT;

        if (!copy)
                return -ENOMEM;
        if (stat(path, &st) >= 0 && st.st_dev == dev && st.st_ino == ino) {
                fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
                return fd < 0 ? -errno : fd;
        }
        d = opendir(dirname(copy));
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode) || st.st_dev != dev || st.st_ino != ino)
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                if (fd < 0)
                        fd = -errno;
                break;
        }
        closedir(d);
        return fd;
}

/* A line that is not one of our alerts (someone else's, or garbled) is skipped. */
static int take_id(struct sink *k, const char *line, size_t len) {
        json_t *o = json_loadb(line, len, 0, NULL);
        const char *id = json_string_value(json_object_get(o, "id"));
        int r = 0;

        if (id)
                r = idset_add(k->recovered, id, 0);
        json_decref(o);
        return r == -EBADMSG ? 0 : r;
}

int sink_file_recover(struct sink *k, const char *mark, const char **ret_note) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        uint64_t v[3];
        struct stat st;
        size_t len = 0, start = 0, n_before;
        int r;

        if (parse_mark(mark, v) < 0) {
                *ret_note = "the output file's mark in the state is unreadable";
                return 0;
        }
        fd = open_inode(k->path, (dev_t) v[0], (ino_t) v[1]);
        if (fd == -ENOENT) {
                *ret_note = "the output file of the last commit is gone: the alerts written just "
                            "before the stop may appear twice in the new one";
                return 0;
        }
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((uint64_t) st.st_size < v[2]) {
                *ret_note = "the output file was truncated since the last commit";
                return 0;
        }
        if ((uint64_t) st.st_size - v[2] > RECOVER_MAX_BYTES) {
                *ret_note = "the output file grew too much since the last commit to be read back";
                return 0;
        }
        len = (size_t) ((uint64_t) st.st_size - v[2]);
        buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t got = 0; got < len;) {
                ssize_t m = pread(fd, buf + got, len - got, (off_t) (v[2] + got));

                if (m < 0 && errno == EINTR)
                        continue;
                if (m < 0)
                        return -errno;
                if (m == 0) {
                        len = got;
                        break;
                }
                got += (size_t) m;
        }
        n_before = idset_size(k->recovered);
        while (start < len) {
                char *nl = memchr(buf + start, '\n', len - start);

                if (!nl) {
                        /* A line the stop cut: never delivered whole, so it goes; the alert is
                         * decided again and written whole. */
                        r = ftruncate(fd, (off_t) (v[2] + start));
                        if (r < 0)
                                return -errno;
                        break;
                }
                if ((size_t) (nl - (buf + start)) <= RECOVER_LINE_MAX) {
                        r = take_id(k, buf + start, (size_t) (nl - (buf + start)));
                        if (r < 0)
                                return r;
                }
                start = (size_t) (nl - buf) + 1;
        }
        return (int) (idset_size(k->recovered) - n_before);
}
