/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The alert contract as properties, for the fuzz targets that make alerts out of hostile bytes:
 * the JSON parses, every string field is valid UTF-8 and, with raw, gives back the exact bytes;
 * every quoted value in the message reads back to its bytes; the message and the text line carry
 * no control or direction-changing character.
 */

#include <jansson.h>
#include <string.h>

#include "alert.h"
#include "escape.h"
#include "fuzz.h"

/* No invalid UTF-8, no unsafe code point (escape.h) anywhere in s. */
static inline void fuzz_check_terminal_safe(const char *s) {
        size_t n = strlen(s);

        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t l = utf8_char(s + i, n - i, &cp);

                FUZZ_ASSERT(l > 0);
                FUZZ_ASSERT(!unicode_is_unsafe(cp));
                i += l;
        }
}

/* The bytes a field is meant to show: the C string, with strview_dup()'s C0 80 read as NUL. */
static inline size_t fuzz_expected_bytes(const char *s, char *out) {
        size_t o = 0, n = strlen(s);

        for (size_t i = 0; i < n; i++) {
                if ((unsigned char) s[i] == 0xc0 && i + 1 < n && (unsigned char) s[i + 1] == 0x80) {
                        out[o++] = 0;
                        i++;
                } else
                        out[o++] = s[i];
        }
        return o;
}

static inline int fuzz_hexval(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Check one field of the parsed JSON against the C string it was made from. */
static inline void fuzz_check_field(json_t *j, const char *name, const char *s) {
        json_t *v = json_object_get(j, name), *raw = json_object_get(j, "raw");
        json_t *rv = json_is_object(raw) ? json_object_get(raw, name) : NULL;
        size_t n = s ? strlen(s) : 0, en;
        char *want;

        if (!s) {
                FUZZ_ASSERT(json_is_null(v));
                return;
        }
        FUZZ_ASSERT(json_is_string(v));
        want = malloc(n + 1);
        FUZZ_ASSERT(want);
        en = fuzz_expected_bytes(s, want);
        if (!rv) {
                /* as is: the exact bytes */
                FUZZ_ASSERT(json_string_length(v) == en && memcmp(json_string_value(v), want, en) == 0);
        } else {
                const char *h = json_string_value(rv);

                FUZZ_ASSERT(h && strlen(h) == 2 * en);
                for (size_t i = 0; i < en; i++)
                        FUZZ_ASSERT(fuzz_hexval(h[2 * i]) * 16 + fuzz_hexval(h[2 * i + 1]) ==
                                    (unsigned char) want[i]);
        }
        free(want);
}

/*
 * Read one JSON-style quoted value at *p (escape_quote()'s format, \xNN included) into out;
 * returns its length and advances *p past the closing quote.
 */
static inline size_t fuzz_unquote(const char **p, char *out) {
        const char *c = *p;
        size_t o = 0;

        FUZZ_ASSERT(*c == '"');
        for (c++; *c != '"'; c++) {
                FUZZ_ASSERT(*c);
                if (*c != '\\') {
                        out[o++] = *c;
                        continue;
                }
                c++;
                switch (*c) {
                case '"':
                case '\\':
                        out[o++] = *c;
                        break;
                case 'n':
                        out[o++] = '\n';
                        break;
                case 'r':
                        out[o++] = '\r';
                        break;
                case 't':
                        out[o++] = '\t';
                        break;
                case 'x':
                        FUZZ_ASSERT(fuzz_hexval(c[1]) >= 0 && fuzz_hexval(c[2]) >= 0);
                        out[o++] = (char) (fuzz_hexval(c[1]) * 16 + fuzz_hexval(c[2]));
                        c += 2;
                        break;
                case 'u': {
                        unsigned cp = 0;

                        for (int i = 1; i <= 4; i++) {
                                FUZZ_ASSERT(fuzz_hexval(c[i]) >= 0);
                                cp = cp * 16 + (unsigned) fuzz_hexval(c[i]);
                        }
                        c += 4;
                        if (cp < 0x80)
                                out[o++] = (char) cp;
                        else if (cp < 0x800) {
                                out[o++] = (char) (0xc0 | (cp >> 6));
                                out[o++] = (char) (0x80 | (cp & 0x3f));
                        } else {
                                out[o++] = (char) (0xe0 | (cp >> 12));
                                out[o++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                                out[o++] = (char) (0x80 | (cp & 0x3f));
                        }
                        break;
                }
                default:
                        FUZZ_ASSERT(!"unknown escape in a quoted value");
                }
        }
        *p = c + 1;
        return o;
}
