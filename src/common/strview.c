/* SPDX-License-Identifier: MIT */
/* Borrowed byte views: copy-out and bounded integer parsing. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strview.h"

char *strview_dup(struct strview v) {
        if (!v.ptr)
                return NULL;
        return strndup(v.ptr, v.len);
}

int strview_to_u64(struct strview v, uint64_t max, uint64_t *ret) {
        uint64_t n = 0;

        if (!v.ptr || v.len == 0 || v.len > 20)
                return -EBADMSG;
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
