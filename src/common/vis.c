/* SPDX-License-Identifier: MIT */
/* sshd's log escaping (openbsd-compat/vis.c with VIS_CSTYLE|VIS_NL|VIS_TAB|VIS_OCTAL). */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "vis.h"

char *sshd_vis_to(const char *in, size_t len, char *out) {
        char *o = out;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) in[i];
                char esc = 0;

                switch (c) {
                case '\\':
                        esc = '\\';
                        break;
                case '\n':
                        esc = 'n';
                        break;
                case '\t':
                        esc = 't';
                        break;
                case '\r':
                        esc = 'r';
                        break;
                case '\a':
                        esc = 'a';
                        break;
                case '\b':
                        esc = 'b';
                        break;
                case '\v':
                        esc = 'v';
                        break;
                case '\f':
                        esc = 'f';
                        break;
                case '\0':
                        *o++ = '\\';
                        *o++ = '0';
                        /* vis.c writes \000 when an octal digit follows, so it reads back right */
                        if (i + 1 < len && in[i + 1] >= '0' && in[i + 1] <= '7') {
                                *o++ = '0';
                                *o++ = '0';
                        }
                        continue;
                default:
                        break;
                }
                if (esc) {
                        *o++ = '\\';
                        *o++ = esc;
                } else if (c < 0x20 || c >= 0x7f) {
                        *o++ = '\\';
                        *o++ = (char) ('0' + ((c >> 6) & 07));
                        *o++ = (char) ('0' + ((c >> 3) & 07));
                        *o++ = (char) ('0' + (c & 07));
                } else
                        *o++ = (char) c;
        }
        *o = 0;
        return out;
}

bool sshd_vis_is_identity(const char *in, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) in[i];

                if (c < 0x20 || c >= 0x7f || c == '\\')
                        return false;
        }
        return true;
}

int sshd_vis(const char *in, size_t len, char **ret) {
        char *out;

        if (len > (SIZE_MAX - 1) / 4)
                return -ENOMEM;
        out = malloc(len * 4 + 1);
        if (!out)
                return -ENOMEM;
        *ret = sshd_vis_to(in, len, out);
        return 0;
}
