/* SPDX-License-Identifier: MIT */
/* Whole-buffer write and capped whole-file read on a descriptor (io-util.h). Owns nothing. */

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "io-util.h"

#define READ_FIRST_ALLOC 4096

int loop_write(int fd, const void *buf, size_t n) {
        const char *p = buf;

        assert(fd >= 0);
        assert(p || n == 0);

        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0;

        assert(fd >= 0);
        assert(max < SIZE_MAX / 2);
        assert(ret);
        assert(ret_len);

        /* The buffer grows to max + 1 bytes at the most (plus the NUL): one byte past the cap is
         * enough to tell a file of exactly max bytes from a longer one. The first pass always
         * allocates (alloc == 0 < max + 1), so buf is never NULL after the loop. */
        for (;;) {
                ssize_t n;

                if (len == alloc) {
                        size_t a = alloc == 0 ? MIN((size_t) READ_FIRST_ALLOC, max + 1)
                                              : MIN(alloc * 2, max + 1);
                        char *p;

                        if (a == alloc)
                                return -EFBIG;
                        p = realloc(buf, a + 1);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        alloc = a;
                }
                n = read(fd, buf + len, alloc - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}
