/* SPDX-License-Identifier: MIT */
/*
 * keytrail-gate: resolve a DIR-relative path beneath DIR without following any symlink
 * (include/gate-path.h). Owns only the descriptors it opens, closed before returning.
 */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif

#include "gate-path.h"

static int openat2_nofollow(int dirfd, const char *rel) {
#if defined(SYS_openat2) && defined(RESOLVE_BENEATH)
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC, /* no O_NOFOLLOW: a trailing symlink is ELOOP */
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

        if (fd < 0)
                return -errno;
        (void) close((int) fd);
        return 0;
#else
        (void) dirfd;
        (void) rel;
        return -ENOSYS;
#endif
}

/* The walk: one component at a time from a held directory fd, never following a symlink. */
static int walk(int dirfd, const char *rel, char **ret_symlink) {
        _cleanup_close_ int fd = -1;
        const char *s = rel;

        fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (*s) {
                _cleanup_free_ char *comp = NULL;
                struct stat st;
                size_t n = strcspn(s, "/");
                bool last;
                int nfd;

                if (n == 0 || (n == 1 && s[0] == '.')) {
                        s += n;
                        s += strspn(s, "/");
                        continue;
                }
                comp = strndup(s, n);
                if (!comp)
                        return -ENOMEM;
                last = s[n + strspn(s + n, "/")] == '\0';
                if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                return 0; /* the rest does not exist yet */
                        return -errno;
                }
                if (S_ISLNK(st.st_mode))
                        goto symlink;
                if (last)
                        return 0;
                if (!S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0) {
                        /* swapped for a symlink since the fstatat(): O_NOFOLLOW|O_DIRECTORY
                         * gives ENOTDIR (or ELOOP) */
                        if (errno == ENOTDIR || errno == ELOOP)
                                goto symlink;
                        return -errno;
                }
                (void) close(fd);
                fd = nfd;
                s += n;
                s += strspn(s, "/");
                continue;
        symlink:
                if (ret_symlink) {
                        *ret_symlink = strndup(rel, (size_t) (s + n - rel));
                        if (!*ret_symlink)
                                return -ENOMEM;
                }
                return -ELOOP;
        }
        return 0;
}

int gate_path_resolve(int dirfd, const char *rel, enum gate_path_method method,
                      char **ret_symlink) {
        int r;

        assert(dirfd >= 0);
        assert(rel);

        if (rel[0] == '/')
                return -EINVAL;
        if (method == GATE_PATH_AUTO) {
                r = openat2_nofollow(dirfd, rel);
                if (r == 0)
                        return 0;
                /* ENOSYS, EPERM (seccomp), E2BIG (old struct): no openat2, walk instead.
                 * ELOOP, ENOENT, ENOTDIR, EXDEV: the walk says which component. */
        }
        r = walk(dirfd, rel, ret_symlink);
        if (r == 0 && method == GATE_PATH_AUTO && openat2_nofollow(dirfd, rel) == -ELOOP) {
                /* openat2 saw a symlink the walk did not: it appeared in between. Refuse. */
                if (ret_symlink) {
                        *ret_symlink = strdup(rel);
                        if (!*ret_symlink)
                                return -ENOMEM;
                }
                return -ELOOP;
        }
        return r;
}
