/* SPDX-License-Identifier: MIT */
/* Borrowed byte views: copy-out and bounded integer parsing. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strview.h"

size_t strview_dup_size(struct strview v) {
        size_t n_nul = 0;

        if (!v.ptr)
                return 0;
        if (memchr(v.ptr, 0, v.len))
                for (size_t i = 0; i < v.len; i++)
                        n_nul += v.ptr[i] == '\0';
        if (v.len > SIZE_MAX - 1 - n_nul)
                return SIZE_MAX;
        return v.len + n_nul + 1;
}

char *strview_copy(char *dst, struct strview v) {
        char *o = dst;

        if (!memchr(v.ptr, 0, v.len)) {
                /* the common case, copied at memcpy's speed (the correlator's strings) */
                memcpy(dst, v.ptr, v.len);
                dst[v.len] = 0;
                return dst;
        }
        for (size_t i = 0; i < v.len; i++)
                if (v.ptr[i] == '\0') {
                        *o++ = (char) 0xc0;
                        *o++ = (char) 0x80;
                } else
                        *o++ = v.ptr[i];
        *o = 0;
        return dst;
}

char *strview_dup(struct strview v) {
        size_t n = strview_dup_size(v);
        char *out;

        if (!v.ptr || n == SIZE_MAX)
                return NULL;
        out = malloc(n);
        if (!out)
                return NULL;
        return strview_copy(out, v);
}

int strview_to_u64(struct strview v, uint64_t max, uint64_t *ret) {
        uint64_t n = 0;

        if (!v.ptr || v.len == 0 || v.len > 20)
                return -EBADMSG;
        if (v.len < 20) {
                /* At most 19 digits cannot overflow 64 bits: no check per digit (PIDs, ports and
                 * uids of every entry come through here). */
                for (size_t i = 0; i < v.len; i++) {
                        if (v.ptr[i] < '0' || v.ptr[i] > '9')
                                return -EBADMSG;
                        n = n * 10 + (unsigned) (v.ptr[i] - '0');
                }
                if (n > max)
                        return -ERANGE;
                *ret = n;
                return 0;
        }
        for (size_t i = 0; i < v.len; i++) {
                unsigned d;

                if (v.ptr[i] < '0' || v.ptr[i] > '9')
                        return -EBADMSG;
                d = (unsigned) (v.ptr[i] - '0');
                if (n > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                n = n * 10 + d;
        }
        if (n > max)
                return -ERANGE;
        *ret = n;
        return 0;
}
