/* SPDX-License-Identifier: MIT */
/* Log bytes to unambiguous text (escape.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

size_t utf8_char(const char *s, size_t n, uint32_t *ret_cp) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t cp, min;
        size_t len;

        if (n == 0)
                return 0;
        if (p[0] < 0x80) {
                *ret_cp = p[0];
                return 1;
        }
        if ((p[0] & 0xe0) == 0xc0) {
                len = 2;
                cp = p[0] & 0x1f;
                min = 0x80;
        } else if ((p[0] & 0xf0) == 0xe0) {
                len = 3;
                cp = p[0] & 0x0f;
                min = 0x800;
        } else if ((p[0] & 0xf8) == 0xf0) {
                len = 4;
                cp = p[0] & 0x07;
                min = 0x10000;
        } else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return len;
}

int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

bool unicode_is_unsafe(uint32_t cp) {
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xad || cp == 0x061c ||
               cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
               (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb);
}

/* strview_dup()'s NUL: the pair C0 80 */
static bool is_nul_pair(const char *s, size_t n, size_t i) {
        return i + 1 < n && (unsigned char) s[i] == 0xc0 && (unsigned char) s[i + 1] == 0x80;
}

/* Worst case per input byte: "\u0000" (6) for a NUL pair's 2 bytes, "\xNN" (4) per byte, "\uXXXX"
 * (6) per 2-byte character; 6 bytes per input byte always suffice, plus quotes and the NUL. */
static int escape_common(const char *s, size_t n, bool quote, char **ret) {
        char *out, *o;

        if (n > (SIZE_MAX - 3) / 6)
                return -ENOMEM;
        out = malloc(n * 6 + 3);
        if (!out)
                return -ENOMEM;
        o = out;
        if (quote)
                *o++ = '"';
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t l;

                if (is_nul_pair(s, n, i)) {
                        o += snprintf(o, 7, "\\u0000");
                        i += 2;
                        continue;
                }
                l = utf8_char(s + i, n - i, &cp);
                if (l == 0) {
                        o += snprintf(o, 5, "\\x%02x", (unsigned char) s[i]);
                        i++;
                        continue;
                }
                if (quote && (cp == '"' || cp == '\\')) {
                        *o++ = '\\';
                        *o++ = (char) cp;
                } else if (quote && cp == '\n') {
                        *o++ = '\\';
                        *o++ = 'n';
                } else if (quote && cp == '\r') {
                        *o++ = '\\';
                        *o++ = 'r';
                } else if (quote && cp == '\t') {
                        *o++ = '\\';
                        *o++ = 't';
                } else if (unicode_is_unsafe(cp))
                        o += snprintf(o, 7, "\\u%04x", (unsigned) cp);
                else {
                        memcpy(o, s + i, l);
                        o += l;
                }
                i += l;
        }
        if (quote)
                *o++ = '"';
        *o = 0;
        *ret = out;
        return 0;
}

bool escape_is_token(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || strchr("+/=:._@-", *s)))
                        return false;
        return true;
}

int escape_quote(const char *s, size_t n, char **ret) {
        return escape_common(s, n, true, ret);
}

int escape_terminal(const char *s, size_t n, char **ret) {
        return escape_common(s, n, false, ret);
}

int escape_utf8(const char *s, size_t n, char **ret, size_t *ret_len, bool *ret_changed) {
        bool changed = false;
        char *out, *o;

        if (n > (SIZE_MAX - 1) / 3)
                return -ENOMEM;
        out = malloc(n * 3 + 1); /* U+FFFD is 3 bytes, for 1 input byte */
        if (!out)
                return -ENOMEM;
        o = out;
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t l;

                if (is_nul_pair(s, n, i)) {
                        *o++ = 0;
                        i += 2;
                        changed = true;
                        continue;
                }
                l = utf8_char(s + i, n - i, &cp);
                if (l == 0) {
                        memcpy(o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                        changed = true;
                        continue;
                }
                memcpy(o, s + i, l);
                o += l;
                i += l;
        }
        *o = 0;
        *ret = out;
        *ret_len = (size_t) (o - out);
        *ret_changed = changed;
        return 0;
}

int escape_hex(const char *s, size_t n, char **ret) {
        char *out, *o;

        if (n > (SIZE_MAX - 1) / 2)
                return -ENOMEM;
        out = malloc(n * 2 + 1);
        if (!out)
                return -ENOMEM;
        o = out;
        for (size_t i = 0; i < n; i++) {
                if (is_nul_pair(s, n, i)) {
                        *o++ = '0';
                        *o++ = '0';
                        i++;
                        continue;
                }
                o += snprintf(o, 3, "%02x", (unsigned char) s[i]);
        }
        *o = 0;
        *ret = out;
        return 0;
}
