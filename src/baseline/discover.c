/* SPDX-License-Identifier: MIT */
/*
 * Baseline discovery (discover.h). Walks each account's home with openat(): the home and every
 * directory below it with O_NOFOLLOW|O_DIRECTORY, the file with O_NOFOLLOW|O_NONBLOCK, so that a
 * name swapped for a symbolic link between a check and the open is refused, not followed, and a
 * FIFO never blocks. The checks on what was opened (fstat on the descriptor) are sshd's StrictModes
 * checks (auth.c: auth_secure_path(), safe_path()): owner the account or root, no group or other
 * write bit, for the file and each directory from it up to the home. The file is read through the
 * same descriptor, at most DISCOVER_FILE_MAX bytes.
 */

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "discover.h"
#include "io-util.h"
#include "string-table.h"

#define FUSE_MAGIC 0x65735546 /* linux/magic.h FUSE_SUPER_MAGIC */

static const char *const default_names[] = { ".ssh/authorized_keys", ".ssh/authorized_keys2", NULL };

static const char *const verdict_table[_DISCOVER_VERDICT_MAX] = {
        [DISCOVER_READ] = "read",
        [DISCOVER_SYMLINK] = "a symbolic link",
        [DISCOVER_NOT_REGULAR] = "not a regular file or directory",
        [DISCOVER_HARD_LINK] = "a hard link (more than one name)",
        [DISCOVER_OWNER] = "owned by neither the account nor root",
        [DISCOVER_WRITABLE] = "writable by group or others",
        [DISCOVER_TOO_BIG] = "longer than 8 MiB",
        [DISCOVER_FUSE] = "on a FUSE file system",
        [DISCOVER_DENIED] = "permission denied",
        [DISCOVER_ERROR] = "cannot be read",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(discover_verdict, enum discover_verdict, verdict_table)

void discover_result_done(struct discover_result *r) {
        for (size_t i = 0; i < r->n; i++) {
                free(r->files[i].user);
                free(r->files[i].path);
                free(r->files[i].offender);
        }
        free(r->files);
        *r = (struct discover_result){};
}

/* What sshd's safe_path() asks of the file and each directory up to the home. */
static enum discover_verdict judge(const struct stat *st, uid_t uid, bool dir) {
        if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
                return DISCOVER_NOT_REGULAR;
        if (st->st_uid != 0 && st->st_uid != uid)
                return DISCOVER_OWNER;
        if (st->st_mode & (S_IWGRP | S_IWOTH))
                return DISCOVER_WRITABLE;
        if (!dir && st->st_nlink > 1)
                return DISCOVER_HARD_LINK;
        return DISCOVER_READ;
}

/* Why openat(dirfd, name, O_NOFOLLOW...) failed with err: a symbolic link is named as one. */
static enum discover_verdict open_failure(int dirfd, const char *name, int err) {
        struct stat st;

        if (IN_SET(err, ELOOP, ENOTDIR, EMLINK) &&
            fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISLNK(st.st_mode))
                return DISCOVER_SYMLINK;
        if (err == ENOTDIR)
                return DISCOVER_NOT_REGULAR;
        if (IN_SET(err, EACCES, EPERM))
                return DISCOVER_DENIED;
        return DISCOVER_ERROR;
}

static bool on_fuse(int fd) {
        struct statfs sfs;

        return fstatfs(fd, &sfs) >= 0 && (unsigned long) sfs.f_type == FUSE_MAGIC;
}

struct found {
        enum discover_verdict verdict;
        int error;
        size_t offender_len;    /* the offender is the first offender_len bytes of the path */
        char *data;             /* DISCOVER_READ: owned */
        size_t len;
};

/* Whether something is at path (not following a final link). A home or .ssh that sshd would
 * refuse matters only when there is a file behind it: /bin (a link on merged-/usr systems) as the
 * home of 'bin' or a group-writable /var/mail hold no authorized_keys. */
static bool exists(const char *path) {
        struct stat st;

        return fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) >= 0 || !IN_SET(errno, ENOENT, ENOTDIR);
}

/*
 * Open home/name (path) as sshd would accept it. Returns 0 with *f filled (verdict DISCOVER_READ
 * and the data, or why not), 1 when there is nothing (home, a directory or the file absent),
 * -ENOMEM.
 */
static int find(const char *home, const char *name, const char *path, uid_t uid, struct found *f) {
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *rel = strdup(name);
        size_t off = streq(home, "/") ? 0 : strlen(home);
        char *comp, *next;
        struct stat st;
        int fd, r;

        if (!rel)
                return -ENOMEM;
        *f = (struct found){ .verdict = DISCOVER_READ, .offender_len = MAX(off, (size_t) 1) };

        dfd = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) {
                if (errno == ENOENT)
                        return 1;
                f->error = -errno;
                f->verdict = open_failure(AT_FDCWD, home, errno);
                return f->verdict == DISCOVER_DENIED || exists(path) ? 0 : 1;
        }
        for (comp = rel;; comp = next) {
                bool last;

                next = strchr(comp, '/');
                last = !next;
                if (next)
                        *next++ = 0;

                /* the directory reached so far (home, then each below it): sshd's checks */
                if (fstat(dfd, &st) < 0) {
                        f->error = -errno;
                        f->verdict = DISCOVER_ERROR;
                        return 0;
                }
                f->verdict = judge(&st, uid, true);
                if (f->verdict == DISCOVER_READ && on_fuse(dfd))
                        f->verdict = DISCOVER_FUSE;
                if (f->verdict != DISCOVER_READ)
                        return exists(path) ? 0 : 1;

                f->offender_len = off + 1 + strlen(comp);
                off = f->offender_len;
                if (last)
                        break;
                fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                return 1;
                        f->error = -errno;
                        f->verdict = open_failure(dfd, comp, errno);
                        return f->verdict == DISCOVER_DENIED || exists(path) ? 0 : 1;
                }
                (void) close(dfd);
                dfd = fd;
        }

        fd = openat(dfd, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 1;
                f->error = -errno;
                f->verdict = open_failure(dfd, comp, errno);
                return 0;
        }
        r = fstat(fd, &st) < 0 ? -errno : 0;
        if (r < 0) {
                f->error = r;
                f->verdict = DISCOVER_ERROR;
        } else {
                f->verdict = judge(&st, uid, false);
                if (f->verdict == DISCOVER_READ && on_fuse(fd))
                        f->verdict = DISCOVER_FUSE;
                if (f->verdict == DISCOVER_READ && st.st_size > DISCOVER_FILE_MAX)
                        f->verdict = DISCOVER_TOO_BIG;
        }
        if (f->verdict == DISCOVER_READ) {
                r = read_full_fd(fd, DISCOVER_FILE_MAX, &f->data, &f->len);
                if (r == -EFBIG)
                        f->verdict = DISCOVER_TOO_BIG;
                else if (r < 0 && r != -ENOMEM) {
                        f->error = r;
                        f->verdict = DISCOVER_ERROR;
                }
        }
        (void) close(fd);
        return r == -ENOMEM ? r : 0;
}

static int add_file(struct discover_result *res, const char *user, char *path,
                    struct discover_file **ret) {
        struct discover_file *a;

        if (res->n >= DISCOVER_FILES_MAX) {
                res->more++;
                free(path);
                *ret = NULL;
                return 0;
        }
        a = reallocarray(res->files, res->n + 1, sizeof(*a));
        if (!a) {
                free(path);
                return -ENOMEM;
        }
        res->files = a;
        a[res->n] = (struct discover_file){ .user = strdup(user), .path = path };
        if (!a[res->n].user) {
                free(path);
                return -ENOMEM;
        }
        *ret = &a[res->n++];
        return 0;
}

/* One account: each of its files. */
static int discover_account(struct baseline *b, const struct passwd *pw, const char *const *names,
                            struct discover_result *res) {
        int r;

        if (!pw->pw_name || !pw->pw_dir || pw->pw_dir[0] != '/')
                return 0;
        for (const char *const *n = names; *n; n++) {
                _cleanup_free_ char *data = NULL;
                struct discover_file *df;
                struct found f = {};
                char *path;
                size_t hl = strlen(pw->pw_dir);

                /* "/" as a home: "/.ssh/authorized_keys", not "//.ssh/..." */
                if (hl == 1)
                        hl = 0;
                if (asprintf(&path, "%.*s/%s", (int) hl, pw->pw_dir, *n) < 0)
                        return -ENOMEM;
                r = find(hl == 0 ? "/" : pw->pw_dir, *n, path, pw->pw_uid, &f);
                data = f.data;
                if (r < 0) {
                        free(path);
                        return r;
                }
                if (r > 0) {
                        free(path);
                        continue;
                }
                r = add_file(res, pw->pw_name, path, &df);
                if (r < 0)
                        return r;
                if (!df)
                        continue;
                df->verdict = f.verdict;
                df->error = f.error;
                if (f.verdict != DISCOVER_READ) {
                        df->offender = strndup(df->path, MIN(f.offender_len, strlen(df->path)));
                        if (!df->offender)
                                return -ENOMEM;
                        continue;
                }
                /* Lenient: sshd ignores a malformed line, so does the baseline. */
                r = baseline_add_buffer(b, pw->pw_name, df->path, data, f.len, false, &df->keys,
                                        &df->bad_lines, &df->first_bad_line, &df->first_bad_what);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        /* too many keys: those before the limit are in */
                        df->error = r;
                        if (r != -ENOSPC)
                                df->verdict = DISCOVER_ERROR;
                }
        }
        return 0;
}

int baseline_discover(struct baseline *b, const struct discover_options *o,
                      struct discover_result *ret) {
        const char *const *names = o && o->names ? o->names : default_names;
        struct discover_result res = {};
        struct passwd *pw;
        FILE *f = NULL;
        int r = 0;

        for (const char *const *n = names; *n; n++)
                if ((*n)[0] == '/' || strstr(*n, "..") || strstr(*n, "//") || !(*n)[0])
                        return -EINVAL;
        if (o && o->passwd) {
                f = fopen(o->passwd, "re");
                if (!f)
                        return -errno;
        } else
                setpwent();
        for (;;) {
                errno = 0;
                pw = f ? fgetpwent(f) : getpwent();
                if (!pw)
                        break;
                res.accounts++;
                r = discover_account(b, pw, names, &res);
                if (r < 0)
                        break;
        }
        if (f)
                fclose(f);
        else
                endpwent();
        if (r < 0) {
                discover_result_done(&res);
                return r;
        }
        *ret = res;
        return 0;
}
